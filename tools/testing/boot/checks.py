# SPDX-License-Identifier: GPL-2.0
"""Checks of a booted guest, computed from what the guest itself printed.

Each check takes the result of xenboot.boot() and returns (ok, detail).
Expectations are derived from the guest's own output (its E820, its
memory map), never from a recorded run.
"""

import os
import re
import subprocess

E820_LINE = re.compile(
    r"(?:Xen|BIOS-e820): \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (.+?)\s*$")
E820_UPDATE = re.compile(
    r"e820: update \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (.+?) ==> (.+?)\s*$")
E820_REMOVE = re.compile(
    r"e820: remove \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (.+?)\s*$")
IOMEM_LINE = re.compile(r"^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$")
P2M_LINE = re.compile(r"^ \[0x([0-9a-f]+)->0x([0-9a-f]+)\] (\S+)$")
KUNIT_CASE = re.compile(r"^\s*(not ok|ok) \d+ (\S+)(.*)$")
XEN_EXT_REGION = re.compile(
    r"\(XEN\) d0: extended region \d+: (0x[0-9a-f]+)->(0x[0-9a-f]+)")
XEN_E820 = re.compile(r"^\(XEN\)\s+\[([0-9a-f]+), ([0-9a-f]+)\] \((\w+)\)")

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


def block(res, name):
    lines = res["blocks"].get(name)
    if lines is None:
        return None
    return [line for line in lines if not line.startswith("@@@XENMM-RC ")]


def dmesg(res):
    lines = block(res, "dmesg")
    if lines is None:
        return []
    # Drop the "[    0.000000] " timestamp.
    return [re.sub(r"^\[\s*\d+\.\d+\] ", "", line) for line in lines]


# ---------------------------------------------------------------------------
# Parsers

def parse_iomem(lines):
    """Top-level and nested /proc/iomem entries: (depth, start, end, name)."""
    out = []
    for line in lines:
        m = IOMEM_LINE.match(line)
        if m:
            out.append((len(m.group(1)) // 2, int(m.group(2), 16),
                        int(m.group(3), 16), m.group(4)))
    return out


def parse_p2m(lines):
    """The debugfs dump: list of (start_pfn, end_pfn_exclusive, kind)."""
    out = []
    for line in lines:
        m = P2M_LINE.match(line)
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
        elif line.strip() and not line.startswith(" ") and out:
            break       # the stats block after the ranges
    return out


KUNIT_SUITE_COUNTS = re.compile(
    r"^# (\S+): pass:(\d+) fail:(\d+) skip:(\d+) total:(\d+)")
KUNIT_TOP = re.compile(r"^(not ok|ok) \d+ (\S+)")


def parse_kunit(lines):
    """KUnit results from the TAP the kernel logged.

    Returns {suite: (ok, [(case, ok, skipped)])} with the cases at the
    first level (parameterised cases count once, as KUnit reports them).
    Read from dmesg, not from debugfs: the per-suite debugfs log is a
    fixed-size buffer and long suites come out truncated.
    """
    suites = {}
    cases = []
    for line in lines:
        m = re.match(r"^    (not ok|ok) \d+ (\S+)(.*)$", line)
        if m:
            cases.append((m.group(2), m.group(1) == "ok", "# SKIP" in m.group(3)))
            continue
        m = KUNIT_TOP.match(line)
        if m and cases:
            suites[m.group(2)] = (m.group(1) == "ok", cases)
            cases = []
    return suites


def guest_e820(res, updates=True):
    """The E820 the guest printed, after the updates it printed, merged.

    With updates=False, the map as setup.c built it, before the kernel's
    own changes (such as reserving page 0).  Returns sorted
    [start, end_exclusive, type] lists.
    """
    table = []
    for line in dmesg(res):
        m = E820_LINE.search(line)
        if m:
            table.append([int(m.group(1), 16), int(m.group(2), 16) + 1,
                          m.group(3)])
            continue
        m = E820_UPDATE.search(line)
        if m and updates:
            table = e820_retype(table, int(m.group(1), 16),
                                int(m.group(2), 16) + 1, m.group(3),
                                m.group(4))
            continue
        m = E820_REMOVE.search(line)
        if m and updates:
            table = e820_retype(table, int(m.group(1), 16),
                                int(m.group(2), 16) + 1, m.group(3), None)
    return e820_merge(table)


def e820_retype(table, start, end, old, new):
    """Change [start, end) of type old to type new (None: remove)."""
    out = []
    for s, e, t in table:
        if t != old or e <= start or s >= end:
            out.append([s, e, t])
            continue
        if s < start:
            out.append([s, start, t])
        if new is not None:
            out.append([max(s, start), min(e, end), new])
        if e > end:
            out.append([end, e, t])
    return out


def e820_merge(table):
    table = sorted(table)
    out = []
    for s, e, t in table:
        if out and out[-1][2] == t and out[-1][1] == s:
            out[-1][1] = e
        else:
            out.append([s, e, t])
    return out


def fmt_ranges(ranges):
    return ", ".join(f"[{s:#x}-{e:#x})" for s, e in ranges) or "none"


# ---------------------------------------------------------------------------
# Checks

# A dom0 vCPU's instruction pointer in Xen's dump of it (debug key 0):
# x86 "RIP:    e033:[<...>]", Arm "PC:     ...".
XEN_DUMP_IP = re.compile(r"^\(XEN\)\s+(?:RIP:\s+[0-9a-f]{4}:\[<([0-9a-f]+)>\]|PC:\s+([0-9a-f]+)\b)")


def where_stopped(res):
    """Where a boot that did not finish was: the sections still open when
    it stopped, when each began, and the guest's last line."""
    open_at, dump = {}, None
    for secs, kind, name in res.get("marks", []):
        if kind == "begin":
            open_at[name] = secs
        elif kind == "end":
            open_at.pop(name, None)
        elif kind == "dump":
            dump = int(name)
    where = ", ".join(f"in section {n} since {t} s" for n, t in open_at.items())
    lines = res.get("lines", [])
    # The last line before Xen's dump (xenboot.dump_on_timeout), and the
    # dom0 vCPUs' instruction pointers from the dump alone.
    before, after = (lines, []) if dump is None else (lines[:dump], lines[dump:])
    last = next((x.strip() for x in reversed(before) if x.strip()), "")
    ips = [m.group(1) or m.group(2) for m in map(XEN_DUMP_IP.search, after) if m]
    at = f"; Xen's dump has dom0's vCPUs at {', '.join(ips[:4])}" if ips else ""
    return f"{where or 'in no section'}; last line: {last[:160]!r}{at}"


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


def iomem_system_ram(lines):
    """Top-level System RAM of /proc/iomem as [start, end), touching
    ranges merged."""
    return merged([(s, e + 1) for depth, s, e, name in parse_iomem(lines)
                   if depth == 0 and name == "System RAM"])


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


def check_p2m_dump(res):
    """The debugfs dump is well-formed and covers pfn 0 up without gaps."""
    lines = block(res, "p2m")
    if lines is None:
        return False, "no p2m block"
    ranges = parse_p2m(lines)
    if not ranges:
        return False, "p2m dump has no ranges"
    if ranges[0][0] != 0:
        return False, f"dump starts at pfn {ranges[0][0]:#x}, not 0"
    kinds = {"identity", "missing", "pfn", "abnormal"}
    for (s0, e0, k0), (s1, e1, k1) in zip(ranges, ranges[1:]):
        if e0 != s1:
            return False, f"gap or overlap between {e0:#x} and {s1:#x}"
    for s, e, k in ranges:
        if k not in kinds or s >= e:
            return False, f"bad range [{s:#x}->{e:#x}] {k}"
    e820 = guest_e820(res)
    top_ram = max((e for s, e, t in e820 if t == "usable"), default=0) >> 12
    if ranges[-1][1] < top_ram:
        return False, f"dump ends at {ranges[-1][1]:#x}, below RAM end {top_ram:#x}"
    return True, f"{len(ranges)} ranges covering [0, {ranges[-1][1]:#x})"


P2M_LEAF_PFNS = 512
P2M_MID_PFNS = 512 * 512
P2M_NODES = re.compile(r"^\s*nodes: (\d+) mid, (\d+) leaf, (\d+) adopted leaf")


def p2m_nodes_needed(ranges, window):
    """How many WINDOW-aligned spans of pfns the dump RANGES show not
    reading as one sentinel kind throughout: the leaves (window 512) or
    mids (512 * 512) a tree needs that shares its identity and missing
    nodes wherever it can."""
    kinds = {}
    for s, e, k in ranges:
        first, last = s // window, (e - 1) // window
        if k not in ("identity", "missing"):
            # Every window it touches needs a node of its own.
            for w in range(first, last + 1):
                kinds.setdefault(w, set()).add(k)
            continue
        # The windows between its first and last read as K alone.
        kinds.setdefault(first, set()).add(k)
        kinds.setdefault(last, set()).add(k)
    return sum(1 for ks in kinds.values()
               if not ks <= {"identity"} and not ks <= {"missing"})


def check_p2m_memory(res):
    """The tree holds only the nodes its answers need: a leaf per 2 MiB
    window with populated (or abnormal) pfns or both kinds of sentinel
    answer, a mid per 1 GiB window likewise, none for a window that reads
    as identity or missing throughout (upstream shares its identity and
    missing pages there).  Counted from the dump's own ranges, against its
    node count, as the dump stands after boot."""
    lines = block(res, "p2m")
    if lines is None:
        return False, "no p2m block"
    ranges = parse_p2m(lines)
    counts = next((P2M_NODES.match(x) for x in lines if P2M_NODES.match(x)), None)
    if not ranges or not counts:
        return False, "no ranges or no node count in the p2m dump"
    mids, leaves = int(counts.group(1)), int(counts.group(2)) + int(counts.group(3))
    want_leaves = p2m_nodes_needed(ranges, P2M_LEAF_PFNS)
    want_mids = p2m_nodes_needed(ranges, P2M_MID_PFNS)
    if leaves != want_leaves or mids != want_mids:
        return False, (f"{leaves} leaves and {mids} mids, where the answers "
                       f"need {want_leaves} and {want_mids}: "
                       f"{leaves - want_leaves} leaves "
                       f"({(leaves - want_leaves) * 4} KiB) and "
                       f"{mids - want_mids} mids read as one sentinel")
    return True, (f"{leaves} leaves and {mids} mids, as the answers need: "
                  f"none for a window of one sentinel kind")


def xen_machine_map(res):
    """The machine E820 Xen printed at boot: [start, end_exclusive, type]."""
    out, on = [], False
    for line in res["lines"]:
        if "Xen-e820 RAM map:" in line:
            on = True
            continue
        m = XEN_E820.match(line)
        if on and m:
            out.append([int(m.group(1), 16), int(m.group(2), 16) + 1, m.group(3)])
        elif on and out:
            break
    return out


def merged(ranges):
    out = []
    for s, e in sorted(ranges):
        if out and out[-1][1] >= s:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def check_p2m_identity(res):
    """Identity in the dump is exactly the non-RAM of the machine map.

    setup.c marks every page that is not RAM in the machine map identity,
    rounding holes outwards to whole pages (a RAM entry starts at its first
    whole page), and everything above the map.  The expectation is
    computed from the map Xen printed, not from a recorded dump.
    """
    ranges = parse_p2m(block(res, "p2m") or [])
    mmap = xen_machine_map(res)
    if not ranges or not mmap:
        return False, "no P2M dump or no Xen E820 in the log"
    end = ranges[-1][1]
    ram = merged((-(-s // 4096), e // 4096) for s, e, t in mmap
                 if t in ("usable", "unusable"))
    above = [(max(s, end), e) for s, e in ram if e > end]
    if above:
        return False, (f"machine RAM {fmt_ranges(above)} lies at or above the tree's end "
                       f"{end:#x}, where every lookup answers identity")
    want, pos = [], 0
    for s, e in ram:
        if s > pos:
            want.append((pos, min(s, end)))
        pos = max(pos, e)
    if pos < end:
        want.append((pos, end))
    want = [(s, e) for s, e in want if s < e]
    got = merged((s, e) for s, e, k in ranges if k == "identity")
    if got != want:
        return False, f"identity {fmt_ranges(got)}, machine map implies {fmt_ranges(want)}"
    # Machine RAM the guest does not own reads missing, never identity
    # (Documentation/xen/p2m.rst, "Machine RAM dom0 does not own").
    unowned = sum(min(e, re_) - max(s, rs) for s, e, k in ranges if k == "missing"
                  for rs, re_ in ram if s < re_ and rs < e)
    return True, (f"{len(got)} identity ranges are exactly the machine map's non-RAM; "
                  f"{unowned} pfns of machine RAM not populated (not ours, or extra "
                  "memory) read missing")


def check_p2m_populated(res):
    """Populated pfns lie in RAM the guest's own E820 gives it."""
    ranges = parse_p2m(block(res, "p2m") or [])
    usable = merged((-(-s // 4096), e // 4096) for s, e, t in guest_e820(res, updates=False)
                    if t == "usable")
    if not ranges or not usable:
        return False, f"no P2M dump ({len(ranges)} ranges) or no usable E820"
    bad = [(s, e) for s, e, k in ranges if k == "pfn" and
           not any(us <= s and e <= ue for us, ue in usable)]
    abnormal = [(s, e) for s, e, k in ranges if k == "abnormal"]
    if bad or abnormal:
        return False, f"populated outside usable RAM: {fmt_ranges(bad)}; abnormal: {fmt_ranges(abnormal)}"
    n = sum(e - s for s, e, k in ranges if k == "pfn")
    return True, f"{n} populated pfns, all inside the guest's usable E820"


def check_balloon(res, name="balloon", min_pages=4096):
    """Ballooning 16 MiB down and up moves exactly that many P2M pfns."""
    lines = block(res, name) or []
    kv, pfns = {}, {}
    for line in lines:
        m = re.match(r"^(\w+): pfns: identity (\d+), missing (\d+), pfn (\d+)", line)
        if m:
            pfns[m.group(1)] = (int(m.group(2)), int(m.group(3)), int(m.group(4)))
        elif ": " in line:
            k, v = line.split(": ", 1)
            kv[k] = v
    if set(pfns) != {"before", "down", "up"} or not all(
            k in kv for k in ("start_kb", "down_kb", "up_kb")):
        return False, "balloon block incomplete: " + "; ".join(lines[-3:])
    gone = (int(kv["start_kb"]) - int(kv["down_kb"])) // 4
    back = (int(kv["up_kb"]) - int(kv["down_kb"])) // 4
    b, d, u = pfns["before"], pfns["down"], pfns["up"]
    if gone < min_pages or b[2] - d[2] != gone or d[1] - b[1] != gone:
        return False, (f"ballooned out {gone} pages, P2M pfn {b[2]}->{d[2]}, "
                       f"missing {b[1]}->{d[1]}")
    if u[2] - d[2] != back or u[0] != b[0]:
        return False, f"ballooned in {back} pages, P2M pfn {d[2]}->{u[2]}"
    return True, f"{gone} pages out and {back} back, P2M populated count followed"


def check_grant(res):
    """dom0 maps a page it granted itself; gntdev's page is unpopulated."""
    lines = block(res, "grant") or []
    rc = [x for x in res["blocks"].get("grant", []) if x.startswith("@@@XENMM-RC ")]
    # patches/linux/0009's error path: a map whose index cannot be copied
    # back fails with EFAULT and is freed at once.  Said first when that
    # round ran and failed; wanted after the rest.
    efault = [x for x in lines if x.startswith("efault")]
    balloon = arm_without_ext_regions(res)
    efault_ok = "efault: ok (ballooned pages)" if balloon else "efault: ok"
    if efault and efault_ok not in lines:
        return False, "map with a read-only argument: " + "; ".join(efault)
    if "pattern: ok (0 words differ)" not in " ".join(lines) or \
            rc != ["@@@XENMM-RC 0@@@"]:
        return False, "; ".join(lines[-4:]) or "no grant block"
    if efault_ok not in lines:
        return False, "no map with a read-only argument was tried"
    mapped = [x for x in lines
              if x.startswith("iomem_mapped:") and "Xen scratch" in x]
    if balloon:
        if mapped:
            return False, (f"no extended region, yet gntdev's page lies in "
                           f"{mapped[0].split(': ', 1)[1].strip()}")
        return True, ("grant mapped and read back through a ballooned page "
                      "(no extended region); a map that cannot be copied back "
                      "fails with EFAULT")
    if not mapped:
        return False, "no Xen scratch in /proc/iomem while mapped"
    scratch = mapped[0].split(": ", 1)[1].strip()
    return True, (f"grant mapped and read back through unpopulated page ({scratch}); "
                  "a map that cannot be copied back fails with EFAULT and frees its page")


def fmt_incl(ranges):
    return "[" + ", ".join(f"{s:#x}-{e:#x}" for s, e in ranges) + "]"


def tagged(lines):
    """"tag: rest" lines as {tag: [rest, ...]}, rest keeping its indent."""
    out = {}
    for line in lines:
        tag, sep, rest = line.partition(": ")
        if sep:
            out.setdefault(tag, []).append(rest)
    return out


def overlapping(a, b):
    """Inclusive [s, e] pairs of a that overlap one of b's."""
    return [(s, e) for s, e in a for bs, be in b if s <= be and bs <= e]


UNPOPULATED_SIZES = (1, 64, 1024)
SECTION = 1 << 27      # x86-64 and arm64 with 4 KiB pages


def xen_ext_regions(res):
    """dom0's extended regions as Xen printed them: [(start, end_incl)]."""
    out = []
    for line in res["lines"]:
        m = XEN_EXT_REGION.search(line)
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16) - 1))
    return out


GUEST_EXT_REGION = re.compile(
    r"xen:unpopulated: extended region \d+: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)")


def guest_ext_regions(res):
    """The extended regions dom0 read from its device tree: [(s, e_incl)]."""
    return [(int(m.group(1), 16), int(m.group(2), 16))
            for m in (GUEST_EXT_REGION.search(line) for line in dmesg(res)) if m]


def expected_unused(res):
    """What "Xen unused space" must be, derived from Xen's log, or None if
    only constraints can be checked (x86); returns (want, why)."""
    if res.get("arch") != "arm64":
        return None, "x86: the gaps of the machine map"
    want = []
    for s, e in xen_ext_regions(res):
        s2 = (s + SECTION - 1) // SECTION * SECTION
        e2 = (e + 1) // SECTION * SECTION - 1
        if e2 > s2:
            want.append((s2, e2))
    return want, "the extended regions Xen gave dom0, trimmed to sections"


def arm_without_ext_regions(res):
    """An arm64 dom0 that Xen gave no usable extended region: it cannot
    know which space is free, so unpopulated pages must be ballooned."""
    return res.get("arch") == "arm64" and not expected_unused(res)[0]


def check_unpopulated(res):
    """Unpopulated pages: 1, 64 and 1024 pages taken through the test module
    are ZONE_DEVICE, not RAM, P2M INVALID with leaves of their own, and lie
    in top-level "Xen scratch" ranges of /proc/iomem inside the "Xen unused
    space" the provider lists (when the guest has one), which avoids every
    entry of the machine memory map Xen printed; nothing else of that space
    is requested in /proc/iomem, so a late claim at its top succeeds; the
    ranges are gone from /proc/iomem once freed."""
    lines = block(res, "unpopulated")
    if lines is None:
        return False, "no unpopulated block"
    rc = [x for x in res["blocks"]["unpopulated"] if x.startswith("@@@XENMM-RC ")]
    t = tagged(lines)
    if rc != ["@@@XENMM-RC 0@@@"]:
        return False, "; ".join(lines[-4:])

    def scratch_and_unused(tag, stats_tag):
        entries = parse_iomem(t.get(tag, []))
        listed = [UNUSED_LINE.match(x) for x in t.get(stats_tag, [])]
        return ([(d, s, e) for d, s, e, n in entries if n == "Xen scratch"],
                [(int(m.group(1), 16), int(m.group(2), 16)) for m in listed if m],
                [(s, e) for d, s, e, n in entries if n == "Xen unused space"])

    # A PVH or HVM guest holds its grant frames in unpopulated pages for
    # good: what was there before the test must be there after, no more.
    scratch_before, unused, requested = scratch_and_unused("iomem_before", "stats_1")
    if requested:
        return False, (f"Xen unused space {fmt_incl(requested)} requested in /proc/iomem: "
                       "nothing but the ranges in use may be")
    in_use_before = int(t.get("in_use_before", ["-1"])[0])
    if scratch_before and in_use_before <= 0:
        return False, "Xen scratch in /proc/iomem before any allocation"
    if res.get("arch") == "arm64" and \
            xen_ext_regions(res) != guest_ext_regions(res):
        return False, (f"dom0 read extended regions {fmt_incl(guest_ext_regions(res))}"
                       f" from its device tree, Xen gave {fmt_incl(xen_ext_regions(res))}")
    want, why = expected_unused(res)
    balloon = "source: ballooned pages" in t.get("stats", [])
    if any(x.startswith("target: Xen unused space,") for x in t.get("stats_1", [])) \
            and not unused:
        return False, "the provider takes from Xen unused space but lists none in debugfs"
    # Arm cannot know which of its space is free unless Xen says so: with
    # no extended region the balloon must be used, never iomem_resource.
    if arm_without_ext_regions(res):
        if not balloon:
            got = [f"{s:x}-{e:x}" for _, s, e in
                   scratch_and_unused("iomem_1", "stats_1")[0]]
            return False, ("no usable extended region, yet pages came from "
                           f"address space Xen never listed: Xen scratch "
                           f"{', '.join(got) or 'none'}; want ballooned pages")
        return check_unpopulated_balloon(res, t)
    if balloon:
        return False, f"ballooned pages although {why} were offered"
    if want is not None:
        if unused != want:
            return False, (f"Xen unused space {fmt_incl(unused)} is not {why}: "
                           f"{fmt_incl(want)}")
    else:
        # dom0: the machine map Xen printed; a domU: its own memory map.
        if res.get("domu"):
            machine = [(s, e - 1) for s, e, _ in guest_e820(res, updates=False)]
        else:
            machine = [(s, e - 1) for s, e, _ in xen_machine_map(res)]
        if unused and not machine:
            return False, "no memory map in the log to compare with"
        bad = overlapping(unused, machine)
        if bad:
            return False, f"Xen unused space overlaps the machine map: {bad}"
        if any(s < 1 << 32 for s, _ in unused):
            return False, f"Xen unused space below 4 GiB: {unused}"

    shown = []
    pv = "guest_type: PV" in (block(res, "guest") or [])
    for n in UNPOPULATED_SIZES:
        h = dict(x.split(": ", 1) for x in t.get(f"hold_{n}", []) if ": " in x)
        expect = {"held": n, "zone_device": n, "ram": 0, "p2m_invalid": n,
                  "p2m_leaf": n}
        for key, value in expect.items():
            if key.startswith("p2m") and not pv:
                if key in h:
                    return False, f"{n} pages: {key} reported on a non-PV guest"
                continue
            if h.get(key) != str(value):
                return False, f"{n} pages: {key} is {h.get(key)}, want {value}"
        pfns = [tuple(int(x, 16) for x in r.split("-"))
                for r in h.get("pfns", "").split()]
        if sum(b - a + 1 for a, b in pfns) != n:
            return False, f"{n} pages: pfn ranges {h.get('pfns')} do not add up"
        in_use = [x for x in t.get(f"stats_{n}", []) if x.startswith("pages: ")]
        if not in_use or not in_use[0].endswith(f", {n + max(in_use_before, 0)} in use"):
            return False, f"{n} pages: provider debugfs says {in_use}"
        scratch, unused_now, requested = scratch_and_unused(f"iomem_{n}", f"stats_{n}")
        if not scratch:
            return False, f"{n} pages: no Xen scratch in /proc/iomem"
        for a, b in pfns:
            lo, hi = a << 12, ((b + 1) << 12) - 1
            if not any(s <= lo and hi <= e for _, s, e in scratch):
                return False, f"{n} pages: pfns {a:#x}-{b:#x} outside Xen scratch"
        if requested:
            return False, f"{n} pages: Xen unused space in /proc/iomem: {fmt_incl(requested)}"
        for d, s, e in scratch:
            if d != 0:
                return False, f"{n} pages: Xen scratch {s:#x}-{e:#x} nested"
            if unused and not any(us <= s and e <= ue for us, ue in unused_now):
                return False, (f"{n} pages: Xen scratch {s:#x}-{e:#x} outside "
                               f"the Xen unused space {fmt_incl(unused_now)}")
            shown.append(f"{s:x}-{e:x}")

    late = ""
    if unused:
        # unpopulated.sh's choice: the page above the highest Xen scratch
        # if still unused space, else the last page of the space.
        top = max(e for _, _, e in scratch) + 1
        want_addr = (top if any(s <= top < e for s, e in unused_now)
                     else unused_now[-1][1] - 0xfff)
        said = (t.get("late_claim") or ["none"])[0]
        m = LATE_CLAIM.match(said)
        if not m or int(m.group(1), 16) != want_addr:
            return False, f"late claim: {said}; want one of {want_addr:#x}"
        if m.group(2) != "0":
            return False, (f"a late claim of unused space at {m.group(1)}, beside the "
                           f"ranges in use, failed: rc {m.group(2)}; the provider holds "
                           "unused space it does not use")
        late = f"; a late claim of {m.group(1)} beside them succeeded"

    scratch, _, _ = scratch_and_unused("iomem_after", "stats")
    if scratch != scratch_before:
        return False, (f"Xen scratch after freeing {scratch}, "
                       f"before the test {scratch_before}")
    stats = dict(x.split(": ", 1) for x in t.get("stats", []) if ": " in x)
    if stats.get("bad frees") != "0":
        return False, f"provider reports bad frees: {stats.get('bad frees')}"
    ok, pin = check_unpopulated_pin(t, in_use_before)
    if not ok:
        return False, pin
    # x86 PV: the pfns of a range given back are a gap of the memory map
    # again, which reads identity (unless the guest still holds the range).
    rel = [RELEASED.match(x) for x in t.get("released", [])]
    rel = [m for m in rel if m]
    if pv and in_use_before <= 0:
        if not rel:
            return False, "no P2M report of the released pfns"
        n, ident = int(rel[0].group(1)), int(rel[0].group(2))
        if n != UNPOPULATED_SIZES[-1] or ident != n:
            return False, (f"P2M after the give-back: {rel[0].group(0)}; "
                           "want every pfn identity, as before the range was taken")
    where = "in Xen unused space" if unused else "from iomem_resource"
    kept = f" ({in_use_before} pages held by the guest throughout)" if in_use_before > 0 else ""
    return True, (f"1/64/1024 pages unbacked in Xen scratch "
                  f"{', '.join(sorted(set(shown)))} {where}{late}; returned after{kept}; {pin}")


UNUSED_LINE = re.compile(r"^unused: (0x[0-9a-f]+)-(0x[0-9a-f]+)$")
LATE_CLAIM = re.compile(r"^(0x[0-9a-f]+) rc (-?\d+)$")
RELEASED = re.compile(r"^(\d+) pfns, (\d+) identity, (\d+) invalid, (\d+) other$")
PIN_LINE = re.compile(r"^pinned: pfn (0x[0-9a-f]+), (\d+) references$")
REFUSED = re.compile(r"^fills: .*, returns (\d+), refused (\d+)$")
RANGES = re.compile(r"^ranges: (\d+) \((\d+) idle\)$")


def check_unpopulated_pin(t, in_use_before):
    """A page freed while something still holds a reference to it keeps
    its range: the provider refuses to give it back (and counts that) for
    the 3 s the test waits, reads the page fine afterwards, and gives the
    range back once the reference is dropped."""
    if "pin_skipped" in t:
        if in_use_before > 0:
            return True, f"stale-reference test not run ({t['pin_skipped'][0]})"
        return False, f"stale-reference test skipped: {t['pin_skipped'][0]}"
    before = [PIN_LINE.match(x) for x in t.get("pin_before", [])]
    after = [PIN_LINE.match(x) for x in t.get("pin_after", [])]
    if not before or not before[0] or before[0].group(2) != "2":
        return False, f"pinned page: {t.get('pin_before')}, want 2 references"
    if not after or not after[0] or after[0].groups() != before[0].groups():
        return False, (f"pinned page after 3 s: {t.get('pin_after')}, "
                       f"want {before[0].group(0)}")
    refused = [REFUSED.match(x) for x in t.get("pin_stats", [])]
    idle = [RANGES.match(x) for x in t.get("pin_stats", [])]
    refused = [m for m in refused if m]
    idle = [m for m in idle if m]
    if not refused or int(refused[0].group(2)) < 1:
        return False, f"provider never refused to give back the pinned range: {t.get('pin_stats')}"
    if not idle or int(idle[0].group(2)) < 1:
        return False, f"no idle range kept for the pinned page: {t.get('pin_stats')}"
    released = [REFUSED.match(x) for x in t.get("pin_released", [])]
    released = [m for m in released if m]
    if not released or int(released[0].group(1)) <= int(refused[0].group(1)):
        return False, f"range not given back once unpinned: {t.get('pin_released')}"
    return True, (f"a page freed with a reference left kept its range "
                  f"(refused {refused[0].group(2)} times in 3 s), given back once released")


def check_unpopulated_balloon(res, t):
    """The provider fell back to ballooned pages: every page handed out is
    ordinary RAM, nothing shows as Xen scratch, and the guest said why."""
    why = [x for x in dmesg(res) if "xen:unpopulated: " in x and
           "using ballooned pages" in x]
    if not why:
        return False, "ballooned pages, but the log does not say why"
    for tag in ("iomem_before", "iomem_after") + tuple(
            f"iomem_{n}" for n in UNPOPULATED_SIZES):
        if any(n == "Xen scratch" for *_, n in parse_iomem(t.get(tag, []))):
            return False, f"Xen scratch in /proc/iomem ({tag}) with ballooned pages"
    for n in UNPOPULATED_SIZES:
        h = dict(x.split(": ", 1) for x in t.get(f"hold_{n}", []) if ": " in x)
        for key, value in {"held": n, "zone_device": 0, "ram": n}.items():
            if h.get(key) != str(value):
                return False, f"{n} ballooned pages: {key} is {h.get(key)}, want {value}"
    return True, (f"1/64/1024 ballooned pages, all RAM, none in Xen scratch "
                  f"({why[0].split('xen:unpopulated: ', 1)[1].strip()})")


P2M_NOTOWNED = re.compile(r"xenmm-p2m-notowned: (.*)$")


def check_p2m_notowned(res):
    """Machine RAM dom0 does not own reads missing, and an ioremap() of it
    is a mapping that is not present: a read faults inside dom0, and no
    page-table hypercall fails (which the clean-log check would also see as
    the multicall warning) (tools/testing/p2m-notowned/,
    Documentation/xen/p2m.rst)."""
    lines = block(res, "p2m_notowned")
    if lines is None:
        return False, "no p2m_notowned block: test module not run"
    msgs = [m.group(1) for m in map(P2M_NOTOWNED.search, lines) if m]
    look = next((x for x in msgs if x.startswith("lookup: ")), None)
    if not look:
        return False, msgs[0] if msgs else "no \"lookup:\" line"
    if not look.endswith(": missing"):
        return False, f"not missing: {look}"
    read = next((x for x in msgs if x.startswith("read: ") or x.startswith("ioremap: ")), None)
    if read != "read: -14":
        return False, f"{look}; then {read or 'no read line'}, expected a read that faults (-14)"
    if any("multicall(s) failed" in x for x in dmesg(res)):
        return False, f"{look}; a page-table hypercall failed"
    # What Xen's debug build says when asked to map that frame (as it is
    # with upstream's identity answer).
    pfn = int(re.match(r"lookup: pfn (0x[0-9a-f]+)", look).group(1), 16)
    refused = f"Error getting mfn {pfn:x} "
    if any(x.startswith("(XEN)") and refused in x for x in res["lines"]):
        return False, f"{look}; but Xen was asked to map the frame and refused"
    return True, (f"{look[len('lookup: '):]}; ioremap() of it not present, a read "
                  "faults (-EFAULT), no page-table update of it reached Xen")


P2M_INITMAP = re.compile(r"xenmm-p2m-initmap: (.*)$")
P2M_UNMAPPED = re.compile(
    r"P2M: unmapped Xen's mapping of its list at (0x[0-9a-f]+): (\d+) "
    r"page-table pages and (\d+) unused list pages freed")


def check_p2m_initmap(res):
    """Nothing is left of the area Xen mapped its initial list in
    (XEN_ELFNOTE_INIT_P2M): no page of the list mapped there, no page table
    left in its slot, and every frame Xen reported for the list either one
    of the tree's leaves or given back (tools/testing/p2m-initmap/)."""
    lines = block(res, "p2m_initmap")
    if lines is None:
        return False, "no p2m_initmap block: test module not run"
    msgs = [m.group(1) for m in map(P2M_INITMAP.search, lines) if m]
    skipped = [x for x in msgs if x.startswith("skipped")]
    if skipped:
        return False, skipped[0]
    listed = next((re.match(r"list: va (0x[0-9a-f]+)-\S+, (\d+) pfns, "
                            r"frames pfn \S+\+(\d+)$", x) for x in msgs
                   if x.startswith("list: ")), None)
    place = next((x for x in msgs if x.startswith("placement: ")), None)
    if not listed:
        return False, "no \"list:\" line"
    if not place or "INIT_P2M" not in place:
        # The kernel declares the note and Xen 4.17 honours it: anything
        # else means this test did not see the case it is for.
        return False, f"Xen's list not in the INIT_P2M area: {place or 'no placement line'}"
    m = next((re.match(r"still mapped: (\d+) of (\d+) KiB", x) for x in msgs
              if x.startswith("still mapped: ")), None)
    slots = [t for t in (re.match(r"slot (\d+): (\d+) of (\d+) 2 MiB spans", x)
                         for x in msgs) if t]
    if not m or not slots:
        return False, "no \"still mapped\" or \"slot\" line"
    if int(m.group(1)):
        return False, (f"{m.group(1)} of {m.group(2)} KiB of Xen's initial list "
                       f"mapping still mapped ({listed.group(0)})")
    for t in slots:
        if int(t.group(2)):
            return False, (f"page tables left under {t.group(2)} 2 MiB spans of "
                           f"top-level slot {t.group(1)}")
    empty = ", ".join(dict.fromkeys(t.group(1) for t in slots))
    va, pfns, frames = int(listed.group(1), 16), int(listed.group(2)), int(listed.group(3))
    log = dmesg(res)
    if any("P2M: copied the leaves of Xen's list" in x for x in log):
        # mmu_pv.c frees the list and its mapping, as upstream does.
        return True, (f"list copied; its mapping at {va:#x} ({m.group(2)} KiB) is gone, "
                      f"top-level slot(s) {empty} empty")
    un = next((u for u in map(P2M_UNMAPPED.search, log) if u), None)
    if not un or int(un.group(1), 16) != va:
        return False, f"no \"P2M: unmapped Xen's mapping of its list at {va:#x}\" line"
    leaves = -(-pfns // 512)
    tables, unused = int(un.group(2)), int(un.group(3))
    if leaves + tables + unused != frames:
        return False, (f"Xen gave {frames} frames for the list; {leaves} are leaves, "
                       f"{tables} page tables and {unused} unused pages were freed: "
                       f"{frames - leaves - tables - unused} unaccounted for")
    return True, (f"Xen's list mapping at {va:#x} ({m.group(2)} KiB) gone, no page "
                  f"table left in top-level slot(s) {empty}; its {frames} frames: {leaves} leaves, "
                  f"{tables} page tables and {unused} unused pages freed")


# ---------------------------------------------------------------------------
# A PVH dom0 (machine q35pvh): no P2M of its own, so not DOM0_CHECKS.

SCRATCH_LINE = re.compile(r"([0-9a-f]+)-([0-9a-f]+) : Xen scratch$")
UNUSED_SPACE = re.compile(
    r"xen:unpopulated: unused space \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]")


def check_pvh_dom0(res):
    """Xen built a PVH dom0 and Linux booted as one."""
    if not any("*** Building a PVH Dom0 ***" in x for x in res["lines"]):
        return False, "Xen did not build a PVH dom0"
    info = dict(x.split(": ", 1) for x in block(res, "guest") or [] if ": " in x)
    if info.get("guest_type") != "PVH":
        return False, f"guest_type {info.get('guest_type')!r}, want PVH"
    m = next((re.search(r"Linux version (\S+)", x) for x in dmesg(res)
              if "Linux version" in x), None)
    return True, f"Linux {m.group(1) if m else '?'} PVH dom0 on Xen"


def check_pvh_dom0_unused(res):
    """A PVH dom0's unpopulated pages (its grant frames first) lie in the
    host RAM Xen keeps out of it, shown inside the E820's "Unusable memory"
    entries, and in no PCI host bridge window: that is the one space no
    window inserted after the first fill can cover."""
    # The console has the kernel's lines too, if the dmesg block is lost.
    log = dmesg(res) or [re.sub(r"^\[\s*\d+\.\d+\] ", "", x) for x in res["lines"]]
    unusable = [(int(m.group(1), 16), int(m.group(2), 16))
                for m in map(E820_LINE.search, log)
                if m and m.group(3) == "unusable" and "BIOS-e820" in m.group(0)]
    if not unusable:
        return False, "the PVH dom0's E820 has no unusable RAM: nothing to check"
    iomem = parse_iomem(block(res, "iomem") or [])
    shown = [(i, s, e) for i, (d, s, e, n) in enumerate(iomem) if n == "Xen scratch"]
    if not shown:
        return False, "no Xen scratch in /proc/iomem: the grant frames took none"
    windows = [(s, e) for d, s, e, n in iomem if n.startswith("PCI Bus")]
    for i, s, e in shown:
        parent = next((iomem[j] for j in range(i - 1, -1, -1)
                       if iomem[j][0] < iomem[i][0]), None)
        if overlapping([(s, e)], windows):
            return False, (f"Xen scratch {s:#x}-{e:#x} in a PCI host bridge window "
                           f"{fmt_incl(overlapping(windows, [(s, e)]))}")
        if not parent or parent[3] != "Unusable memory":
            return False, (f"Xen scratch {s:#x}-{e:#x} not inside \"Unusable memory\" "
                           f"(under {parent[3] if parent else 'nothing'})")
    space = [(int(a, 16), int(b, 16)) for a, b in
             (m.groups() for m in map(UNUSED_SPACE.search, log) if m)]
    if not space:
        return False, "the provider listed no unused space"
    bad = [r for r in space if not any(s <= r[0] and r[1] <= e for s, e in unusable)]
    if bad:
        return False, f"unused space {fmt_incl(bad)} outside the unusable RAM {fmt_incl(unusable)}"
    unpop = res["blocks"].get("unpopulated")
    if unpop is None:
        return False, "no unpopulated block: the provider's test did not run"
    if "@@@XENMM-RC 0@@@" not in unpop:
        return False, "the provider's test failed: " + "; ".join(block(res, "unpopulated")[-3:])
    later = [(int(a, 16), int(b, 16)) for a, b in
             (SCRATCH_LINE.search(x).groups() for x in block(res, "unpopulated")
              if SCRATCH_LINE.search(x))]
    if not later:
        return False, "the provider's test showed no Xen scratch while it held pages"
    bad = [r for r in later if not any(s <= r[0] and r[1] <= e for s, e in unusable)]
    if bad:
        return False, f"the unpopulated test's ranges {fmt_incl(bad)} outside the unusable RAM"
    return True, (f"Xen scratch {fmt_incl([(s, e) for _, s, e in shown])} inside "
                  f"\"Unusable memory\", in no host bridge window "
                  f"{fmt_incl(windows)}; unused space {fmt_incl(space)}; the "
                  f"provider's test passed, its {len(later)} ranges shown there too")


PVH_DOM0_CHECKS = [
    ("boot", check_boot),
    ("pvh-dom0", check_pvh_dom0),
    ("smp", check_smp),
    ("clean-log", check_clean_log),
    ("kunit", check_kunit),
    ("pvh-dom0-unused", check_pvh_dom0_unused),
]


P2M_MOVED = re.compile(
    r"P2M: Xen's list at pfns (0x[0-9a-f]+)-(0x[0-9a-f]+) lies in an E820 "
    r"hole; moved to pfns (0x[0-9a-f]+)-(0x[0-9a-f]+)")


def e820_covers(table, start, end, kind):
    """Whether [start, end) lies wholly in one KIND entry of TABLE."""
    return any(s <= start and end <= e and t == kind for s, e, t in table)


def check_p2m_list_moved(res):
    """Machine pclow: Xen's list lay where setup.c's map has no RAM, and
    xen_relocate_p2m() moved it into RAM before setup.c remapped the hole
    (that the tree still answers right is what the other checks show)."""
    log = dmesg(res)
    m = next((x for x in map(P2M_MOVED.search, log) if x), None)
    if not m:
        said = next((x.strip() for x in log if "P2M: Xen's list" in x), None)
        return False, ("no \"P2M: Xen's list ... lies in an E820 hole; moved\" "
                       f"line{'; the kernel said: ' + said if said else ''}")
    old_s, old_e, new_s, new_e = (int(g, 16) << 12 for g in m.groups())
    table = guest_e820(res, updates=False)
    if not table:
        return False, "no E820 map in the log"
    if e820_covers(table, old_s, old_e + 4096, "usable"):
        return False, (f"the list's old frames {old_s:#x}-{old_e + 4095:#x} are "
                       "RAM: the layout did not put the list in a hole")
    if not e820_covers(table, new_s, new_e + 4096, "usable"):
        return False, f"the list moved to {new_s:#x}-{new_e + 4095:#x}, not all RAM"
    return True, (f"Xen's list at {old_s:#x}-{old_e + 4095:#x} (in the E820 hole) "
                  f"moved to RAM at {new_s:#x}-{new_e + 4095:#x} before the remap")


P2M_VERIFIED = re.compile(r"P2M: verified after (.+)$")
P2M_INCONSISTENT = re.compile(r"P2M: inconsistent after (.+)$")
# The steps of the P2M's construction arch/x86/xen/p2m.c verifies with
# CONFIG_XEN_P2M_TREE_DEBUG, in order; one of the two ways the list is
# taken over; the move only where the list lay in an E820 hole.
P2M_VERIFY_STEPS = ("adopting Xen's list", "the memory map's identity and remap pass",
                    ("taking Xen's list over", "copying Xen's list"),
                    "early boot (arch_initcall)")


def check_p2m_verified(res):
    """The debug kernel (CONFIG_XEN_P2M_TREE_DEBUG) checked the whole tree
    after each step of its construction, and found it consistent."""
    log = dmesg(res)
    bad = [m.group(0) for m in map(P2M_INCONSISTENT.search, log) if m]
    if bad:
        return False, "; ".join(bad[:3])
    seen = [m.group(1).strip() for m in map(P2M_VERIFIED.search, log) if m]
    if not seen:
        return False, "no \"P2M: verified after\" line: not built with CONFIG_XEN_P2M_TREE_DEBUG?"
    want = list(P2M_VERIFY_STEPS)
    if res.get("machine") == "pclow":
        want.insert(1, "moving Xen's list")
    got = list(seen)
    for step in want:
        names = step if isinstance(step, tuple) else (step,)
        if not got or got[0] not in names:
            return False, (f"steps verified: {seen}; expected {' or '.join(names)} "
                           f"{'next' if got else 'as well'}")
        got.pop(0)
    if got:
        return False, f"steps verified: {seen}; unexpected {got}"
    return True, f"{len(seen)} steps verified, in order: {'; '.join(seen)}"


# The debug kernel's extra checks (boottest.py adds them for a PV dom0
# booted with a --tag naming the debug variant).
DEBUG_CHECKS = [
    ("p2m-verified", check_p2m_verified),
]


DOM0_CHECKS = [
    ("boot", check_boot),
    ("pv-dom0", check_pv_dom0),
    ("smp", check_smp),
    ("clean-log", check_clean_log),
    ("kunit", check_kunit),
    ("iomem-ram", check_iomem_ram),
    ("p2m-dump", check_p2m_dump),
    ("p2m-memory", check_p2m_memory),
    ("p2m-identity", check_p2m_identity),
    ("p2m-populated", check_p2m_populated),
    ("balloon", check_balloon),
    ("grant", check_grant),
    ("unpopulated", check_unpopulated),
    ("p2m-initmap", check_p2m_initmap),
    ("p2m-notowned", check_p2m_notowned),
]


# ---------------------------------------------------------------------------
# The domU test (tools/testing/domu/domu.sh in dom0, domu_test_side in the
# domU's /init): dom0's "domu" block holds its own "key: value" lines and
# the domU's console, each line prefixed "domu| ".

# vcpus of tools/testing/domu/xenmm-domu.cfg and xenmm-pvh.cfg.
DOMU_VCPUS = 2
PVH_VCPUS = 2


def domu_res(res, name="domu"):
    """A domU's console, relayed in dom0's block NAME with a "NAME| "
    prefix, as a result of its own, like boot()'s."""
    import xenboot
    prefix = name + "| "
    lines = [x[len(prefix):] for x in res["blocks"].get(name) or []
             if x.startswith(prefix)]
    return {"status": "done" if "@@@XENMM-DONE@@@" in lines else "no DONE",
            "seconds": "?", "lines": lines, "arch": "x86_64", "domu": True,
            "blocks": xenboot.parse_blocks(lines)}


def dom0_side(res):
    """dom0's "key: value" lines; xl's progress output may precede a key."""
    return dict((k.split("\r")[-1].strip(), v) for k, v in (
        x.split(": ", 1) for x in res["blocks"].get("domu") or []
        if ": " in x and not x.startswith("domu| ")))


def check_domu_boot(res):
    d = domu_res(res)
    if not res["blocks"].get("domu"):
        return False, "no domu block from dom0"
    kv = dom0_side(res)
    if kv.get("create_rc") != "0":
        return False, f"xl create failed: rc {kv.get('create_rc')}"
    if d["status"] != "done":
        # What dom0 waited for in vain, and the domU's last word.
        waits = [x for x in res["blocks"].get("domu") or []
                 if x.startswith("timeout: ")]
        failed = [f"{k[:-3]} rc {v}" for k, v in kv.items()
                  if k.endswith("_rc") and v != "0"]
        last = next((x.strip() for x in reversed(d["lines"]) if x.strip()), "")
        return False, (f"the domU never printed its DONE marker; "
                       f"{'; '.join(waits + failed) or 'no wait timed out, no step failed'}; "
                       f"the domU's last line: {last[:160]!r}")
    info = dict(x.split(": ", 1) for x in block(d, "guest") or [] if ": " in x)
    if info.get("guest_type") != "PV" or "control_d" in info.get("capabilities", ""):
        return False, f"domU is {info.get('guest_type')}, caps {info.get('capabilities')!r}"
    return True, (f"PV domU (Linux {info.get('kernel')}, {info.get('MemTotal')}) "
                  f"created by xl in {kv.get('create_ms')} ms")


def domu_check(fn):
    """Run a dom0 check on the domU's own output."""
    def check(res):
        d = domu_res(res)
        if d["status"] != "done":
            return False, "the domU did not finish"
        return fn(d)
    return check


def check_domu_p2m_populated(res):
    """A PV domU's memory is pfns 0 up to its size, all populated: Xen
    builds it that way (Linux only marks the ISA range reserved on top)."""
    d = domu_res(res)
    ranges = parse_p2m(block(d, "p2m") or [])
    side = dict(x.split(": ", 1) for x in block(d, "domu_side") or [] if ": " in x)
    if not ranges or "start_kb" not in side:
        return False, "no P2M dump or no memory size from the domU"
    want = [(0, int(side["start_kb"]) // 4)]
    got = [(s, e) for s, e, k in ranges if k == "pfn"]
    if got != want or any(k == "abnormal" for _, _, k in ranges):
        return False, f"populated pfns {fmt_ranges(got)}, want {fmt_ranges(want)}"
    return True, f"pfns {fmt_ranges(got)} populated: the domU's {side['start_kb']} kB"


def check_domu_grant(res):
    kv = dom0_side(res)
    lines = res["blocks"].get("domu") or []
    scratch = [x for x in lines if x.startswith("iomem_mapped:") and "Xen scratch" in x]
    if kv.get("map_pattern", "").split(" ")[0] != "ok" or kv.get("map_unmapped") != "4":
        return False, f"map: {kv.get('map_pattern')}, unmapped {kv.get('map_unmapped')}"
    if not scratch:
        return False, "no Xen scratch in dom0's /proc/iomem while mapped"
    return True, (f"dom0 mapped the domU's grants {kv.get('map_refs')}, pattern ok, "
                  f"on {scratch[0].split(': ', 1)[1].strip()}")


def check_domu_save_restore(res):
    kv = dom0_side(res)
    side = dict(x.split(": ", 1) for x in block(domu_res(res), "domu_side") or []
                if ": " in x)
    for k in ("save_rc", "restore_rc"):
        if kv.get(k) != "0":
            return False, f"xl {k[:-3]} failed: rc {kv.get(k)}"
    if kv.get("domid_created") == kv.get("domid_restored"):
        return False, f"same domid after restore: {kv.get('domid_restored')}"
    before, after = side.get("pattern_before"), side.get("pattern_after")
    if not before or before != after:
        return False, f"pattern before save {before}, after restore {after}"
    p2m_before = parse_p2m(block(domu_res(res), "p2m") or [])
    p2m_after = parse_p2m([x[len("p2m_after_restore:"):] for x in
                           block(domu_res(res), "domu_side") or []
                           if x.startswith("p2m_after_restore:")])
    if not p2m_before or p2m_before != p2m_after:
        return False, f"P2M dump before save {p2m_before}, after restore {p2m_after}"
    # scribble wrote 8 MiB throughout; two whole rounds after the
    # restore read back every word it wrote before.
    at, rounds = side.get("scribble_round_at_restore"), side.get("scribble_rounds")
    if not at or not at.isdigit() or not rounds or int(rounds) < int(at) + 2 or \
            side.get("scribble_wrong") != "0":
        return False, (f"memory written across save/restore: rounds {rounds} "
                       f"(restored after {at}), wrong words {side.get('scribble_wrong')}")
    return True, (f"save {kv.get('save_ms')} ms ({int(kv.get('save_bytes', 0)) >> 20} MiB), "
                  f"restore {kv.get('restore_ms')} ms, domid {kv.get('domid_created')}"
                  f"->{kv.get('domid_restored')}, 8 MiB pattern and P2M dump intact, "
                  f"{side['scribble_mib']} MiB written through it: {rounds} rounds "
                  f"({at} before the restore), 0 wrong words")


def check_domu_migrate(res):
    """Live migration to this host while the domU's scribble writes:
    every word it wrote before must read back after it (log-dirty)."""
    kv = dom0_side(res)
    side = dict(x.split(": ", 1) for x in block(domu_res(res), "domu_side") or []
                if ": " in x)
    if kv.get("migrate_rc") != "0":
        return False, f"xl migrate: rc {kv.get('migrate_rc')} ({kv.get('migrate')})"
    if kv.get("domid_migrated") in (None, "", kv.get("domid_restored")):
        return False, (f"domid {kv.get('domid_restored')} before the migration, "
                       f"{kv.get('domid_migrated')} after")
    at, rounds = side.get("scribble_round_at_migrate"), side.get("scribble_rounds")
    if not at or not at.isdigit() or not rounds or not rounds.isdigit() or \
            int(rounds) < int(at) + 2 or side.get("scribble_wrong") != "0":
        return False, (f"memory written across the migration: rounds {rounds} "
                       f"(migrated after {at}), wrong words {side.get('scribble_wrong')}")
    return True, (f"live migration in {kv.get('migrate_ms')} ms, domid "
                  f"{kv.get('domid_restored')}->{kv.get('domid_migrated')}, scribble "
                  f"wrote through it: {rounds} rounds of {side['scribble_mib']} MiB "
                  f"({at} before it), 0 wrong words")


def check_domu_balloon(res):
    kv = dom0_side(res)
    if kv.get("mem_down_rc") != "0" or kv.get("mem_up_rc") != "0":
        return False, f"xl mem-set failed: {kv.get('mem_down_rc')}, {kv.get('mem_up_rc')}"
    return check_balloon(domu_res(res), "domu_side", 8192)


def check_domu_destroy_mapped(res):
    kv = dom0_side(res)
    lines = res["blocks"].get("domu") or []
    hold = dict(x[len("hold: "):].split(": ", 1) for x in lines
                if x.startswith("hold: ") and ": " in x[len("hold: "):])
    after = dict(x[len("unpopulated_after: "):].split(": ", 1) for x in lines
                 if x.startswith("unpopulated_after: ") and
                 ": " in x[len("unpopulated_after: "):])
    if hold.get("map_held") != "2" or kv.get("destroy_rc") != "0":
        return False, f"held {hold.get('map_held')}, destroy rc {kv.get('destroy_rc')}"
    if hold.get("map_unmapped") != "2":
        return False, "the held mapping was not unmapped after the destroy"
    if after.get("pages") != "0 free, 0 in use" or \
            not after.get("ranges", "").startswith("0 ") or after.get("bad frees") != "0":
        return False, (f"provider after: ranges {after.get('ranges')}, "
                       f"pages {after.get('pages')}, bad frees {after.get('bad frees')}")
    return True, (f"domU destroyed while dom0 mapped 2 of its pages ({kv.get('while_held')}); "
                  "after unmapping the provider holds no range and no page")


DOMU_CHECKS = [
    ("domu-dom0-boot", check_boot),
    ("domu-boot", check_domu_boot),
    ("domu-smp", domu_check(lambda d: check_smp(d, DOMU_VCPUS))),
    ("domu-clean-log", domu_check(check_clean_log)),
    ("domu-kunit", domu_check(check_kunit)),
    ("domu-iomem-ram", domu_check(check_iomem_ram)),
    ("domu-p2m-dump", domu_check(check_p2m_dump)),
    ("domu-p2m-memory", domu_check(check_p2m_memory)),
    ("domu-p2m-initmap", domu_check(check_p2m_initmap)),
    ("domu-p2m-populated", check_domu_p2m_populated),
    ("domu-grant", check_domu_grant),
    ("domu-save-restore", check_domu_save_restore),
    ("domu-balloon", check_domu_balloon),
    ("domu-migrate", check_domu_migrate),
    ("domu-destroy-mapped", check_domu_destroy_mapped),
]

def check_pvh_boot(res):
    d = domu_res(res, "pvh")
    kv = dict(x.split(": ", 1) for x in res["blocks"].get("pvh") or []
              if ": " in x and not x.startswith("pvh| "))
    if kv.get("pvh_create_rc") != "0":
        return False, f"xl create of the PVH domU: rc {kv.get('pvh_create_rc')} (virt_caps {kv.get('virt_caps')})"
    info = dict(x.split(": ", 1) for x in block(d, "guest") or [] if ": " in x)
    if d["status"] != "done" or info.get("guest_type") != "PVH":
        return False, f"PVH domU: {d['status']}, guest_type {info.get('guest_type')}"
    return True, (f"PVH domU (Linux {info.get('kernel')}, {info.get('MemTotal')}) "
                  f"created in {kv.get('pvh_create_ms')} ms on virt_caps {kv.get('virt_caps')}")

def check_pvh_dom0_grant(d):
    """The PVH domU mapped dom0's grant through gntdev and read it back."""
    lines = block(d, "dom0_grant") or []
    rc = [x for x in d["blocks"].get("dom0_grant", []) if x.startswith("@@@XENMM-RC ")]
    said = dict(x.split(": ", 1) for x in lines if ": " in x)
    if rc != ["@@@XENMM-RC 0@@@"] or not said.get("map_pattern", "").startswith("ok ") or \
            "map_unmapped" not in said:
        return False, "; ".join(lines[-4:]) or "no dom0_grant block"
    return True, (f"dom0's grant refs {said.get('dom0_refs')} mapped through gntdev, "
                  f"pattern {said['map_pattern']}, unmapped")


def check_pvh_user_busy(d):
    """The PVH domU spent its 15 s busy in user mode and lost no word.

    Its timer interrupts then arrive from user mode, where one delivered
    twice (tools/testing/qemu/0001) kills the guest; the boot's status
    says whether it lived.  At least 1 s of user time (100 USER_HZ
    ticks, 250 timer interrupts at HZ=250) says the interrupts did arrive
    there."""
    said = dict(x.split(": ", 1) for x in block(d, "user_busy") or [] if ": " in x)
    try:
        utime = int(said.get("busy_utime_ticks", ""))
        rounds = int(said.get("scribble_rounds", ""))
        wrong = int(said.get("scribble_wrong", ""))
    except ValueError:
        return False, f"no scribble totals in the user_busy block: {said}"
    if said.get("busy_rc") != "0" or wrong or utime < 100:
        return False, (f"scribble: rc {said.get('busy_rc')}, {rounds} rounds, {wrong} wrong "
                       f"words, {utime} user ticks (want rc 0, 0 wrong, >= 100 ticks)")
    return True, (f"{utime / 100:.1f} s in user mode on a busy vCPU, timer interrupts "
                  f"taken there: scribble {rounds} rounds of {said.get('scribble_mib')} MiB, "
                  "0 wrong words")


def pvh_check(fn):
    """Run a check on the PVH domU's own output."""
    def check(res):
        d = domu_res(res, "pvh")
        if d["status"] != "done":
            return False, "the PVH domU did not finish"
        return fn(d)
    return check


PVH_CHECKS = [
    ("pvh-boot", check_pvh_boot),
    ("pvh-smp", pvh_check(lambda d: check_smp(d, PVH_VCPUS))),
    ("pvh-clean-log", pvh_check(check_clean_log)),
    ("pvh-kunit", pvh_check(check_kunit)),
    ("pvh-user-busy", pvh_check(check_pvh_user_busy)),
    ("pvh-dom0-grant", pvh_check(check_pvh_dom0_grant)),
    ("pvh-unpopulated", pvh_check(check_unpopulated)),
]

# ---------------------------------------------------------------------------
# Our Xen series (xen/patches/), from the hypervisor's own log.

XEN_INITRD_PHYS = re.compile(
    r"^\(XEN\)\s+Init\. ramdisk: ([0-9a-f]{16})->([0-9a-f]{16})\s*$")
XEN_INITRD_ADOPTED = re.compile(
    r"^\(XEN\) Dom0 initrd in place: (\d+) of (\d+) pages initialised")
XEN_DOM0_BANK = re.compile(
    r"^\(XEN\) BANK\[\d+\] (0x[0-9a-f]+)-(0x[0-9a-f]+) \(\d+MB\)")
QEMU_VIRT_RAM_BASE = 0x40000000


def xen_initrd_range(res):
    """(start, end, pages) of dom0's ramdisk as Xen printed it, or None."""
    for m in map(XEN_INITRD_PHYS.match, res["lines"]):
        if m:
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            return start, end, (end - start + 4095) // 4096
    return None


def check_xen_initrd(res):
    """PV dom0's in-place initrd reaches dom0 initialised (patch 7)."""
    initrd = xen_initrd_range(res)
    adopted = [m for m in map(XEN_INITRD_ADOPTED.match, res["lines"]) if m]
    if not initrd:
        return False, "Xen printed no physical \"Init. ramdisk\" range"
    start, end, want = initrd
    if not adopted:
        return False, (f"no \"Dom0 initrd in place\" line for the initrd at "
                       f"{start:#x}-{end:#x}: series not applied, or copied")
    done, total = int(adopted[0].group(1)), int(adopted[0].group(2))
    if total != want:
        return False, f"{total} initrd pages handed over, Xen's range holds {want}"
    if done != total:
        return False, f"only {done} of {total} initrd pages initialised in place"
    return True, (f"{done} of {total} initrd pages at {start:#x}-{end:#x} "
                  "initialised before dom0 got them")


XEN_SRAT = re.compile(
    r"^\(XEN\) SRAT: Node (\d+) PXM \d+ \[([0-9a-f]{16}), ([0-9a-f]{16})\]")
XEN_EMPTY_HEAP = re.compile(
    r"^\(XEN\) NUMA node (\d+): no free memory at boot, empty heap created")
XEN_FAULT_RIP = re.compile(r"^\(XEN\) RIP:\s+e008:\[<[0-9a-f]+>\] (\S+)")
XEN_FAULT_ADDR = re.compile(r"^\(XEN\) Faulting linear address: ([0-9a-f]+)")
INITRD_GIVING = re.compile(r"xenmm-initrd: initrd: pfn ")
INITRD_RETURNED = re.compile(r"xenmm-initrd: returned ")


def xen_numa_spans(res):
    """{node: [(start, end)...]} of RAM, as Xen read it from the SRAT."""
    spans = {}
    for m in map(XEN_SRAT.match, res["lines"]):
        if m:
            node, lo, hi = int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16)
            spans.setdefault(node, []).append((lo, hi + 1))
    return spans


def xen_nodes_under_initrd(res):
    """(nodes, detail): the NUMA nodes whose memory, as Xen read it from
    the SRAT, lies wholly inside dom0's initrd, which leaves them nothing
    for the boot allocator; nodes is None if the layout did not work."""
    initrd = xen_initrd_range(res)
    if not initrd:
        return None, "Xen printed no physical \"Init. ramdisk\" range"
    spans = xen_numa_spans(res)
    start, end = initrd[0], initrd[1]
    under = sorted(n for n, rs in spans.items()
                   if all(start <= lo and hi <= end for lo, hi in rs))
    if not under:
        return None, (f"no NUMA node lies inside the initrd at {start:#x}-"
                      f"{end:#x} (SRAT nodes: {sorted(spans) or 'none'}): "
                      "the layout no longer does what it is for")
    return under, f"node {', '.join(map(str, under))} inside the initrd at {start:#x}-{end:#x}"


def check_xen_node_heaps(res):
    """Layout pc3node: a node whose memory is all under the initrd gets its
    heap at boot (patch 1), so the whole initrd is initialised in place
    and dom0 can give it back; the other series checks see the rest."""
    under, detail = xen_nodes_under_initrd(res)
    if under is None:
        return False, detail
    empty = {int(m.group(1)) for m in map(XEN_EMPTY_HEAP.match, res["lines"]) if m}
    missing = [n for n in under if n not in empty]
    if missing:
        return False, (f"{detail}, but Xen did not create the heap of node "
                       f"{', '.join(map(str, missing))} at boot")
    return True, f"{detail}: its heap created empty at boot"


def check_unpatched_node_heap_fault(res):
    """Xen without the series on layout pc3node: dom0 giving back its
    initrd makes free_heap_pages() fault on the missing heap of the node
    under it.  The layout must have worked and the fault be that one:
    in free_heap_pages(), from dom0's give-back (tools/testing/xen-initrd/),
    at avail[node][zone] of a NULL avail[node], zone being the bit length
    of a frame of that node (page_to_zone())."""
    under, detail = xen_nodes_under_initrd(res)
    if under is None:
        return False, detail
    lines = res["lines"]
    if res["status"] != "crashed":
        return False, f"{detail}; the boot {res['status']}, expected Xen to crash"
    if not any("FATAL PAGE FAULT" in line for line in lines):
        return False, f"{detail}; Xen crashed, but not with a page fault"
    rips = [m.group(1) for m in map(XEN_FAULT_RIP.match, lines) if m]
    if not rips or "free_heap_pages" not in rips[0]:
        return False, f"{detail}; the fault is at {rips[0] if rips else '?'}, not in free_heap_pages()"
    spans = xen_numa_spans(res)
    want = {z * 8 for n in under for lo, hi in spans[n]
            for z in range((lo >> 12).bit_length(), ((hi - 1) >> 12).bit_length() + 1)}
    addrs = [int(m.group(1), 16) for m in map(XEN_FAULT_ADDR.match, lines) if m]
    if not addrs or addrs[0] not in want:
        got = f"{addrs[0]:#x}" if addrs else "none printed"
        return False, (f"{detail}; faulting address {got}, not avail[zone] of a "
                       f"NULL avail[] for the node ({', '.join(f'{w:#x}' for w in sorted(want))})")
    if not any("guest_remove_page" in line for line in lines):
        return False, f"{detail}; fault not reached from a guest's decrease_reservation"
    if not any(INITRD_GIVING.search(line) for line in lines):
        return False, f"{detail}; dom0 never started giving its initrd back"
    if any(INITRD_RETURNED.search(line) for line in lines):
        return False, f"{detail}; dom0's give-back returned before the fault"
    return True, (f"{detail}: Xen faulted in {rips[0]} at {addrs[0]:#x}, "
                  "a NULL avail[] of that node, while dom0 gave it back")


def host_banks(res):
    """RAM banks of the QEMU machine, from the layout (virt: RAM at 1 GiB;
    virt2bank: two equal banks, one per NUMA node)."""
    size = res["ram_mib"] << 20
    if res.get("machine") == "virt2bank":
        half = size // 2
        return [(QEMU_VIRT_RAM_BASE, QEMU_VIRT_RAM_BASE + half),
                (QEMU_VIRT_RAM_BASE + half, QEMU_VIRT_RAM_BASE + size)]
    return [(QEMU_VIRT_RAM_BASE, QEMU_VIRT_RAM_BASE + size)]


def check_xen_banks(res):
    """Every RAM bank reached Xen's heap: dom0 got memory from each."""
    banks = host_banks(res)
    d0 = [(int(m.group(1), 16), int(m.group(2), 16))
          for m in map(XEN_DOM0_BANK.match, res["lines"]) if m]
    if not d0:
        return False, "Xen printed no BANK[] lines for dom0"
    got = []
    for lo, hi in banks:
        n = sum(min(hi, e) - max(lo, s) for s, e in d0 if s < hi and e > lo)
        got.append(n)
    ram = iomem_system_ram(block(res, "iomem") or [])
    outside = [(s, e) for s, e in d0
               if not any(a <= s and e <= b for a, b in ram)]
    if outside:
        return False, (f"dom0's banks {fmt_ranges(outside)} are not System "
                       "RAM in its /proc/iomem")
    empty = [f"{lo:#x}-{hi - 1:#x}" for (lo, hi), n in zip(banks, got) if not n]
    if empty:
        return False, (f"dom0 got nothing from host bank(s) {', '.join(empty)}; "
                       f"its banks: {fmt_ranges(d0)}")
    return True, ("dom0 memory from every host bank: " + ", ".join(
        f"{n >> 20} MiB of {lo:#x}-{hi - 1:#x}" for (lo, hi), n in zip(banks, got)))


XEN_NEW_BASE = re.compile(r"^\(XEN\) New Xen image base address: (0x[0-9a-f]+)")
TWO_MIB = 2 << 20


def xen_image_span(xen):
    """(_start, _end) of the Xen image booted from path xen, read from the
    xen-syms the build leaves next to it."""
    syms = os.path.join(os.path.dirname(xen), "xen-syms")
    if not os.path.isfile(syms):
        return None
    out = subprocess.run(["nm", syms], capture_output=True, text=True,
                         check=True).stdout
    addr = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[2] in ("_start", "_end"):
            addr[f[2]] = int(f[0], 16)
    return addr.get("_start"), addr.get("_end")


def check_xen_image(res):
    """The x86 Xen image is mapped whole after Xen moves itself (the
    l2_xenmap[] entries built at boot from the linked size, seed 002)."""
    span = xen_image_span(res["xen"])
    if not span or None in span:
        return False, f"no _start/_end in the xen-syms next to {res['xen']}"
    start, end = span
    slots = (end - (start & ~(TWO_MIB - 1)) + TWO_MIB - 1) // TWO_MIB
    moved = [m for m in map(XEN_NEW_BASE.match, res["lines"]) if m]
    if not moved:
        return False, "Xen did not report moving its image (New Xen image base address)"
    base = int(moved[0].group(1), 16)
    if base % TWO_MIB:
        return False, f"new image base {base:#x} is not 2 MiB aligned"
    ram = res["ram_mib"] << 20
    if base + (end - start) > ram:
        return False, f"image of {end - start:#x} bytes at {base:#x} exceeds RAM"
    return True, (f"image {end - start:#x} bytes ({slots} 2 MiB mappings) moved to "
                  f"{base:#x} and ran there to the end of the boot")


INITRD_FREE = re.compile(r"xenmm-initrd: (.*)$")


def check_xen_initrd_free(res):
    """dom0 gives its initrd's pages back to Xen, which frees them into its
    heap, and takes as many pfns back (tools/testing/xen-initrd/)."""
    lines = block(res, "initrd_free")
    if lines is None:
        return False, "no initrd_free block: test module not run"
    msgs = [m.group(1) for m in map(INITRD_FREE.search, lines) if m]
    initrd = xen_initrd_range(res)
    if not initrd:
        return False, "Xen printed no physical \"Init. ramdisk\" range"
    want = initrd[2]

    def find(pattern):
        for msg in msgs:
            m = re.match(pattern, msg)
            if m:
                return m
        return None

    errors = [x for x in msgs if x.startswith(("pfn ", "skipped"))]
    if errors:
        return False, errors[0]
    info = find(r"initrd: pfn (0x[0-9a-f]+)-(0x[0-9a-f]+), (\d+) pages$")
    if not info or int(info.group(3)) != want:
        return False, (f"dom0's initrd is {info.group(3) if info else 'unknown'} "
                       f"pages, Xen's ramdisk {want}")
    back = find(r"returned (-?\d+) of (\d+) initrd pages to Xen$")
    if not back or int(back.group(1)) != want:
        return False, f"Xen took back {back.group(1) if back else 'no'} of {want} pages"
    again = find(r"repopulated (-?\d+) of (\d+) pfns$")
    if not again or int(again.group(1)) != want:
        return False, f"repopulated {again.group(1) if again else 'no'} of {want} pfns"
    pattern = find(r"pattern: (\S+) ")
    if not pattern or pattern.group(1) != "ok":
        return False, f"pattern after repopulating: {pattern.group(0) if pattern else 'missing'}"
    return True, (f"dom0 returned its {want} initrd pages (pfn {info.group(1)}-"
                  f"{info.group(2)}) to Xen and repopulated them, pattern intact")


XEN_STATIC_BANK = re.compile(
    r"^\(XEN\) d1: STATIC BANK\[(\d+)\] (0x[0-9a-f]+)-(0x[0-9a-f]+)$")
STATIC_DOMU_UP = re.compile(
    r"^\(d1\) .*xenmm-staticdomu: up, MemTotal: (\d+) kB, (\d+) vCPU")


def check_static_domu(res):
    """A dom0less domU on "xen,static-mem" (xenboot.py --static-domu) got
    exactly its static range from Xen and its Linux reached /init: Xen with
    CONFIG_STATIC_MEMORY=y set the bank up at boot without BUG()ing."""
    if not res.get("static_domu"):
        return False, "not booted with --static-domu"
    lo, size = res["static_domu"]
    banks = [(int(m.group(2), 16), int(m.group(3), 16))
             for m in map(XEN_STATIC_BANK.match, res["lines"]) if m]
    if banks != [(lo, lo + size)]:
        return False, (f"Xen's static banks for d1: {fmt_ranges(banks) or 'none'}, "
                       f"want {lo:#x}-{lo + size - 1:#x}")
    up = [m for m in map(STATIC_DOMU_UP.match, res["lines"]) if m]
    if not up:
        return False, "the static domU's Linux did not report from its /init"
    kib, cpus = int(up[0].group(1)), int(up[0].group(2))
    # Linux keeps its own image and reserved memory out of MemTotal.
    if not (size >> 10) // 2 < kib <= size >> 10 or cpus != 1:
        return False, (f"the static domU has {kib} kB and {cpus} vCPU, "
                       f"want at most {size >> 10} kB and 1")
    return True, (f"d1 on static memory {lo:#x}-{lo + size - 1:#x}: its Linux "
                  f"reached /init with MemTotal {kib} kB, {cpus} vCPU")


STATIC_DOMU_CHECKS = [
    ("static-domu", check_static_domu),
]


# Machine pclow (any Xen): the list in the machine map's hole.
PCLOW_CHECKS = [
    ("p2m-list-moved", check_p2m_list_moved),
]
X86_SERIES_CHECKS = [
    ("xen-initrd", check_xen_initrd),
    ("xen-initrd-free", check_xen_initrd_free),
    ("xen-image", check_xen_image),
]
# The series' reproducer, layout pc-1g-3node: ours, then unpatched 4.17.
PC3NODE_SERIES_CHECKS = [
    ("xen-node-heaps", check_xen_node_heaps),
]
UNPATCHED_CHECKS = [
    ("unpatched-node-heap-fault", check_unpatched_node_heap_fault),
]
# Patch 1 alone on the same layout: dom0's whole suite (as under Debian's
# baseline), the give-back, and the heap created at boot.
PATCH1_ONLY_CHECKS = DOM0_CHECKS + [
    ("xen-initrd-free", check_xen_initrd_free),
    ("xen-node-heaps", check_xen_node_heaps),
]
ARM64_SERIES_CHECKS = [
    ("xen-banks", check_xen_banks),
]


ARM64_CHECKS = [
    ("boot", check_boot),
    ("dom0", check_arm_dom0),
    ("smp", check_smp),
    ("clean-log", check_clean_log),
    ("kunit", check_kunit),
    ("grant", check_grant),
    ("unpopulated", check_unpopulated),
]


def run_checks(res, checks=None):
    if checks is None:
        checks = ARM64_CHECKS if res.get("arch") == "arm64" else DOM0_CHECKS
    out = []
    for name, fn in checks:
        if (name != "boot" and res["status"] != "done" and
                (name, fn) not in UNPATCHED_CHECKS):
            out.append((name, False, "not run: the boot failed"))
            continue
        try:
            ok, detail = fn(res)
        except Exception as e:     # a parser bug must fail, not pass
            ok, detail = False, f"check raised {type(e).__name__}: {e}"
        out.append((name, ok, detail))
    return out
