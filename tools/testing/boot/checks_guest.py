# SPDX-License-Identifier: GPL-2.0
"""Checks of the booted guest itself: that it booted, as what, on how
many CPUs, with a clean log and its KUnit suites passing.
"""

import re

from parse import (
    block, dmesg, fmt_ranges, guest_e820, iomem_system_ram, parse_kunit,
    where_stopped,
)


# Kernel messages that mean something went wrong even if the boot finished,
# including the reports of the debug kernel's checkers (lockdep, atomic
# sleep, KFENCE, KASAN, SLUB debugging, list debugging, RCU).
KERNEL_BAD = [re.compile(p) for p in (
    r"WARNING: CPU: \d+ PID: \d+ at ",
    r"^WARNING: ",                      # lockdep, RCU lockdep headers
    r"\bBUG: ",                         # atomic sleep, KFENCE, KASAN, ...
    r"^BUG \S+ \((Not tainted|Tainted: [^)]*)\): ",  # SLUB debugging
    r"^INFO: (task .* blocked|lockdep is turned off)",
    r"list_(add|del) corruption",
    r"rcu: INFO: .*stall",
    r"UBSAN: ",
    r"\bOops\b",
    r"Call [Tt]race:",                   # x86, arm64
    r"Kernel panic",
    r"general protection fault",
)]


XEN_BAD = [re.compile(p) for p in (
    r"\(XEN\) Assertion '",
    r"\(XEN\) Xen BUG at",
    r"\(XEN\) FATAL TRAP",
    r"\(XEN\) Panic on CPU",
)]


def check_boot(res):
    if res["status"] != "done":
        return False, (f"guest {res['status']} after {res['seconds']} s, "
                       f"{where_stopped(res)}")
    return True, f"booted and powered off in {res['seconds']} s"


def check_arm_dom0(res):
    info = block(res, "guest") or []
    kv = dict(line.split(": ", 1) for line in info if ": " in line)
    if kv.get("hypervisor") != "xen":
        return False, f"hypervisor is {kv.get('hypervisor')!r}, want 'xen'"
    if "control_d" not in kv.get("capabilities", ""):
        return False, f"not the control domain: capabilities {kv.get('capabilities')!r}"
    return True, (f"Linux {kv.get('kernel')} arm64 dom0 "
                  f"({kv.get('guest_type')}) on Xen {kv.get('xen_version')}")


def check_pv_dom0(res):
    info = block(res, "guest") or []
    kv = dict(line.split(": ", 1) for line in info if ": " in line)
    want = {"hypervisor": "xen", "guest_type": "PV"}
    for k, v in want.items():
        if kv.get(k) != v:
            return False, f"{k} is {kv.get(k)!r}, want {v!r}"
    if "control_d" not in kv.get("capabilities", ""):
        return False, f"not the control domain: capabilities {kv.get('capabilities')!r}"
    return True, f"Linux {kv.get('kernel')} PV dom0 on Xen {kv.get('xen_version')}"


def check_smp(res, want_cpus=None):
    """The guest runs on every vCPU it was given, with full preemption."""
    info = dict(x.split(": ", 1) for x in block(res, "guest") or [] if ": " in x)
    want = want_cpus or res.get("cpus")
    got = info.get("cpus_online")
    version = info.get("version", "")
    if not want or got != str(want):
        return False, f"{got} CPUs online, want {want}"
    if not re.search(r"\bSMP PREEMPT\b", version):
        return False, f"kernel is not SMP with full preemption: {version!r}"
    return True, f"{got} vCPUs online, kernel {version.split(' ')[0]} SMP PREEMPT"


# Our files whose WARN_ONCE()s the KUnit suites' bad-input cases raise.
OUR_WARN_SITES = ("drivers/xen/p2m_tree.c", "drivers/xen/scratch_pool.c",
                  "drivers/xen/unpopulated-alloc.c", "arch/x86/xen/p2m.c")


WARN_SITE = re.compile(r"WARNING: CPU: \d+ PID: \d+ at (\S+):\d+ ")


# The KUnit cases that feed them bad input on purpose: a WARN counts as
# theirs only with one of them in its call trace.
KUNIT_BAD_INPUT_CASE = re.compile(
    r"\b(p2m_test_bad_input|scratch_test_bad_input|scratch_test_bad_pool|"
    r"scratch_test_free_after_giveback|"
    r"p2m_kunit_refused_allocates_nothing)\+0x")


def kernel_splats(lines):
    """Split dmesg splats into (unexpected, from_kunit).

    A splat runs from its first line to "---[ end trace".  KUnit cases that
    feed bad input on purpose trigger WARN_ONCE()s of our own code; those
    splats do not count: a WARNING raised in one of OUR_WARN_SITES with
    one of those cases (KUNIT_BAD_INPUT_CASE) in its call trace.  Anything
    else a KUnit case trips (a WARN of ours in another case, list
    corruption, lockdep, a refcount) counts.
    """
    bad, kunit = [], []
    i = 0
    while i < len(lines):
        if not any(p.search(lines[i]) for p in KERNEL_BAD):
            i += 1
            continue
        j = i
        while j < len(lines) and "---[ end trace" not in lines[j]:
            j += 1
        splat = lines[i:j + 1]
        site = WARN_SITE.search(lines[i])
        if site and site.group(1) in OUR_WARN_SITES and \
                any(KUNIT_BAD_INPUT_CASE.search(x) for x in splat):
            kunit.append(lines[i])
        else:
            bad.append(lines[i])
        i = j + 1
    return bad, kunit


def check_clean_log(res):
    bad, kunit = kernel_splats(dmesg(res))
    bad += [line for line in res["lines"] if any(p.search(line) for p in XEN_BAD)]
    if bad:
        return False, "; ".join(bad[:3])
    return True, (f"no WARN/BUG/Oops in dmesg, no Xen assertion "
                  f"({len(kunit)} warnings from KUnit bad-input cases)")


def check_kunit(res):
    suites = parse_kunit(dmesg(res))
    if not suites:
        return False, "no KUnit suite ran"
    failed = [f"{s}.{c}" for s, (_, cases) in suites.items()
              for c, ok, _ in cases if not ok]
    failed += [s for s, (ok, cases) in suites.items()
               if not ok and all(c[1] for c in cases)]
    ncases = sum(len(c) for _, c in suites.values())
    skipped = sum(1 for _, c in suites.values() for x in c if x[2])
    if failed:
        return False, f"failed: {', '.join(failed)}"
    return True, f"{len(suites)} suites, {ncases} cases passed ({skipped} skipped)"


def check_iomem_ram(res):
    """Top-level System RAM in /proc/iomem is exactly the E820 usable RAM."""
    e820 = guest_e820(res)
    if not e820:
        return False, "no E820 in dmesg"
    want = [(s, e) for s, e, t in e820 if t == "usable"]
    iomem = block(res, "iomem")
    if not iomem:
        return False, "no /proc/iomem block"
    got = iomem_system_ram(iomem)
    if got != want:
        return False, f"iomem System RAM {fmt_ranges(got)} != E820 usable {fmt_ranges(want)}"
    return True, f"{len(got)} System RAM ranges match the E820"
