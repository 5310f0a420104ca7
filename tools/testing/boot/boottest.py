#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot dom0 under a layout and either summarise it or test it.

  boottest.py show --layout L --xen X --kernel K --initrd I
      boot once and print a short human summary (make run)
  boottest.py test --layouts L1,L2 --xen X --kernel K --initrd I [--results F]
      boot each layout, run every check, print PASS/FAIL lines (make check)
"""

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks      # noqa: E402
import stress_checks  # noqa: E402
import xenboot     # noqa: E402

CACHE = os.environ.get("XENMM_CACHE",
                       os.path.expanduser("~/.cache/xenmm"))


def log_path(layout, tag):
    d = os.path.join(CACHE, "logs", "boot")
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, f"{tag}-{layout}.log")


def print_tail(res, out=sys.stdout):
    print(f"  last lines of {res['log']}:", file=out)
    for line in res["tail"]:
        print("  | " + line, file=out)


def print_xen_series(res):
    """What Xen's own log says about it and our series (xen/patches/)."""
    banner = next((m for m in map(XEN_BANNER.search, res["lines"]) if m), None)
    if banner:
        print(f"xen:      {banner.group(1)}, debug={banner.group(2)}")
    bad = [line for line in res["lines"] if any(p.search(line) for p in checks.XEN_BAD)]
    series = [line.split(") ", 1)[1] for line in res["lines"]
              if checks.XEN_INITRD_ADOPTED.match(line)]
    for line in series:
        print(f"  {line}  (xen/patches/, PGC_state_uninitialised)")
    if banner and banner.group(2) == "y":
        print(f"  Xen assertions: {len(bad)} ({'; '.join(bad[:2]) if bad else 'none'})")


XEN_BANNER = re.compile(r"\(XEN\) Xen version (\S+) .* debug=([yn])")


def show(args):
    res = xenboot.boot(args.layout, args.xen, args.kernel, args.initrd,
                       log_path(args.layout, "run"), args.timeout,
                       args.xen_extra, args.linux_extra)
    print(f"layout:   {res['layout']} ({res['layout_desc']})")
    print(f"boot:     {res['status']} in {res['seconds']} s "
          f"(full log: {res['log']})")
    if res["status"] != "done":
        print_tail(res)
        return 1
    info = dict(line.split(": ", 1)
                for line in checks.block(res, "guest") or [] if ": " in line)
    print(f"guest:    Linux {info.get('kernel')}, {info.get('guest_type')} "
          f"{'dom0' if 'control_d' in info.get('capabilities', '') else 'domU'}"
          f" on Xen {info.get('xen_version')}, {info.get('MemTotal', '?')}")
    print_xen_series(res)

    print("/proc/iomem (Xen lines):")
    xen_lines = [line for line in checks.block(res, "iomem") or []
                 if "Xen" in line]
    for line in xen_lines or ["  (none: nothing has allocated unpopulated "
                              "pages yet)"]:
        print("  " + line)

    held = [line.split(": ", 1)[1] for line in
            checks.block(res, "unpopulated") or []
            if line.startswith("iomem_64: ")]
    if held:
        print("/proc/iomem while 64 unpopulated pages are held:")
        for line in held:
            print("  " + line)

    p2m = checks.block(res, "p2m") or []
    if res.get("arch") == "arm64":
        p2m = []        # Arm's P2M lives in Xen, not in the guest
    else:
        print("P2M (/sys/kernel/debug/xen/mmu/p2m):")
    for line in p2m[:40]:
        print("  " + line)
    if len(p2m) > 40:
        print(f"  ... {len(p2m) - 40} more lines in {res['log']}")

    if res["blocks"].get("domu"):
        show_domu(res)

    info_smp = checks.check_smp(res)[1]
    clean = checks.check_clean_log(res)
    print(f"kernel:   {info_smp}")
    print(f"log:      {'clean' if clean[0] else 'NOT CLEAN'}: {clean[1]}")
    if res["blocks"].get("stress"):
        ok, detail = stress_checks.check_stress(res)
        print(f"stress:   {'ok' if ok else 'FAILED'}: {detail}")

    suites = checks.parse_kunit(checks.dmesg(res))
    npass = sum(1 for _, c in suites.values() for x in c if x[1] and not x[2])
    nskip = sum(1 for _, c in suites.values() for x in c if x[2])
    nfail = sum(1 for _, c in suites.values() for x in c if not x[1])
    print(f"KUnit:    {len(suites)} suites: {npass} passed, {nfail} failed, "
          f"{nskip} skipped")
    for name, (ok, cases) in suites.items():
        print(f"  {'ok    ' if ok else 'FAILED'} {name} ({len(cases)} cases)")
    return 0 if nfail == 0 else 1


def show_domu(res):
    """The domU test's summary: dom0's side, then what the domU printed."""
    kv = checks.dom0_side(res)
    d = checks.domu_res(res)
    info = dict(x.split(": ", 1) for x in checks.block(d, "guest") or []
                if ": " in x)
    side = dict(x.split(": ", 1) for x in checks.block(d, "domu_side") or []
                if ": " in x)
    print(f"domU:     Linux {info.get('kernel')}, {info.get('guest_type')} domU, "
          f"{info.get('MemTotal')}; xl create {kv.get('create_ms')} ms")
    print(f"  grants: dom0 mapped refs {kv.get('map_refs')}: {kv.get('map_pattern')}")
    print(f"  xl save {kv.get('save_ms')} ms, xl restore {kv.get('restore_ms')} ms, "
          f"domid {kv.get('domid_created')} -> {kv.get('domid_restored')}")
    print(f"  pattern before save {side.get('pattern_before')}")
    print(f"  pattern after restore {side.get('pattern_after')}")
    print(f"  xl mem-set: {side.get('start_kb')} kB -> {side.get('down_kb')} kB "
          f"-> {side.get('up_kb')} kB")
    print("  domU /proc/iomem (Xen lines) and P2M:")
    for line in checks.block(d, "iomem") or []:
        if "Xen" in line:
            print("    " + line)
    for line in [x for x in checks.block(d, "p2m") or [] if x.startswith(" [")]:
        print("    " + line)


def test(args):
    results = open(args.results, "a") if args.results else None
    failed = 0
    for layout in args.layouts.split(","):
        xenboot.get_layout(layout)      # unknown names fail before booting
        linux_extra = args.linux_extra
        if ((args.series or args.checks in ("unpatched", "patch1-only")) and
                xenboot.get_layout(layout).arch != "arm64"):
            # dom0 keeps its initrd to give it back to Xen (xen-initrd-free,
            # and what unpatched Xen is expected to crash on).
            linux_extra = f"{linux_extra} retain_initrd xenmm.initrd_free".strip()
        if args.stress is not None:
            linux_extra = f"{linux_extra} xenmm.stress={args.stress}".strip()
            print(f"boot/{layout}-{args.tag}: stress test, seed {args.stress} "
                  f"(replay: --stress {args.stress})", flush=True)
        where = layout if args.tag == "test" else f"{layout}-{args.tag}"
        try:
            res = xenboot.boot(layout, args.xen, args.kernel, args.initrd,
                               log_path(layout, args.tag), args.timeout,
                               args.xen_extra, linux_extra, args.static_domu)
        except (SystemExit, OSError, subprocess.SubprocessError) as e:
            # A boot that cannot even start (a missing file or tool, an
            # initramfs too big to pad) is a failure on record.
            line = f"FAIL boot/{where}/boot: not started: {e}"
            print(line, flush=True)
            if results:
                results.write(line + "\n")
            failed += 1
            continue
        chosen = {"default": None, "domu": checks.DOMU_CHECKS,
                  "dom0-domu": checks.DOM0_CHECKS + checks.DOMU_CHECKS,
                  "all": checks.DOM0_CHECKS + checks.DOMU_CHECKS +
                  checks.PVH_CHECKS,
                  "unpatched": checks.UNPATCHED_CHECKS,
                  "patch1-only": checks.PATCH1_ONLY_CHECKS}[args.checks]
        if res["machine"] == "q35pvh" and chosen is None:
            # A PVH dom0 has no P2M of its own; the Xen series' checks
            # are about a PV dom0's initrd.
            chosen = checks.PVH_DOM0_CHECKS
        elif args.series:
            arm = res["arch"] == "arm64"
            if chosen is None:
                chosen = checks.ARM64_CHECKS if arm else checks.DOM0_CHECKS
            chosen = chosen + (checks.ARM64_SERIES_CHECKS if arm
                               else checks.X86_SERIES_CHECKS)
            if res["machine"] == "pc3node":
                chosen = chosen + checks.PC3NODE_SERIES_CHECKS
        if res["machine"] == "pclow":
            # setup.c moves the initrd out of the E820 hole there, so the
            # frames Xen initialised in place become RAM at other pfns
            # and the initrd's give-back test has nothing to give back.
            chosen = [c for c in (chosen or checks.DOM0_CHECKS)
                      if c[0] != "xen-initrd-free"] + checks.PCLOW_CHECKS
        if args.static_domu:
            if chosen is None:
                chosen = checks.ARM64_CHECKS
            chosen = chosen + checks.STATIC_DOMU_CHECKS
        if args.stress is not None:
            if chosen is None:
                chosen = (checks.ARM64_CHECKS if res["arch"] == "arm64"
                          else checks.DOM0_CHECKS)
            chosen = chosen + stress_checks.STRESS_CHECKS
        if ("debug" in args.tag.split("-") and res["arch"] != "arm64" and
                res["machine"] != "q35pvh"):
            chosen = (chosen or checks.DOM0_CHECKS) + checks.DEBUG_CHECKS
        layout_failed = 0
        for name, ok, detail in checks.run_checks(res, chosen):
            line = f"{'PASS' if ok else 'FAIL'} boot/{where}/{name}: {detail}"
            print(line, flush=True)
            if results:
                results.write(line + "\n")
            layout_failed += not ok
        failed += layout_failed
        if res["status"] != "done" and (layout_failed or
                                        args.checks != "unpatched"):
            print_tail(res)
    return 1 if failed else 0


def expect_crash(args):
    """The harness self-test: a guest that panics is reported as crashed."""
    with open(args.json) as f:
        res = json.load(f)
    seen = any("Kernel panic" in line for line in res["tail"])
    ok = res["status"] == "crashed" and seen
    print(f"{'PASS' if ok else 'FAIL'} boot/selftest/panic-detected: status "
          f"{res['status']} after {res['seconds']} s, "
          f"panic {'in' if seen else 'not in'} the last lines shown")
    return 0 if ok else 1


UNPOP_KEYS = ("alloc_free_1_ns", "alloc_free_64_ns", "alloc_free_1024_ns",
              "burst_pages", "held_after_burst_kib", "held_3s_later_kib")


def bench(args):
    """Boot each kernel under one layout; compare its in-guest figures:
    P2M lookups and the unpopulated-page provider."""
    results, unpop = {}, {}
    for name, kernel, initrd in (
            ("upstream", args.kernel_upstream, args.initrd_upstream or args.initrd),
            ("ours", args.kernel, args.initrd)):
        res = xenboot.boot(args.layout, args.xen, kernel, initrd,
                           log_path(args.layout, f"bench-{name}"), args.timeout,
                           "", "xenmm.bench")
        # Kernel messages can interleave with the block: take only our keys.
        kv = dict(m.groups() for m in (
            re.match(r"^(pfns|sequential_ps|random_ps): (\d+)$", line)
            for line in checks.block(res, "p2m_bench") or []) if m)
        if res["status"] != "done" or "random_ps" not in kv:
            print(f"bench: {name} kernel gave no figures ({res['status']})")
            print_tail(res)
            return 1
        results[name] = {k: int(v) for k, v in kv.items()}
        unpop[name] = {k: int(v) for k, v in (
            m.groups() for m in (re.match(r"^(\w+): (\d+)$", line) for line in
                                 checks.block(res, "unpopulated_bench") or [])
            if m) if k in UNPOP_KEYS}
    up, ours = results["upstream"], results["ours"]
    print(f"in-dom0 __pfn_to_mfn() over {ours['pfns']} pfns, layout {args.layout}, "
          "QEMU TCG, best of 5 rounds in the guest:")
    for kind in ("sequential", "random"):
        u, o = up[f"{kind}_ps"], ours[f"{kind}_ps"]
        print(f"  {kind:10s}: upstream 6.1 {u / 1000:.1f} ns, ours {o / 1000:.1f} ns "
              f"({o / u:.2f}x upstream)")

    up, ours = unpop["upstream"], unpop["ours"]
    if any(k not in d for k in UNPOP_KEYS for d in (up, ours)):
        print(f"bench: unpopulated-alloc figures missing: upstream {up}, ours {ours}")
        return 1
    print(f"in-dom0 unpopulated-alloc, layout {args.layout}, best of 3 runs:")
    for n in (1, 64, 1024):
        u, o = up[f"alloc_free_{n}_ns"], ours[f"alloc_free_{n}_ns"]
        print(f"  alloc+free {n:4d} pages: upstream 6.1 {u / 1000:.1f} us, "
              f"ours {o / 1000:.1f} us ({o / max(u, 1):.2f}x upstream)")
    for key, when in (("held_after_burst_kib", "just after"),
                      ("held_3s_later_kib", "3 s after")):
        u, o = up[key], ours[key]
        print(f"  Xen scratch held {when} a {ours['burst_pages']}-page burst: "
              f"upstream 6.1 {u >> 10} MiB, ours {o >> 10} MiB "
              f"({o / max(u, 1):.2f}x upstream)")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("show", "test"):
        p = sub.add_parser(name)
        p.add_argument("--xen", required=True)
        p.add_argument("--kernel", required=True)
        p.add_argument("--initrd", required=True)
        p.add_argument("--timeout", type=float, default=180)
        p.add_argument("--xen-extra", default="")
        p.add_argument("--linux-extra", default="")
        if name == "show":
            p.add_argument("--layout", default="pc-1g")
        else:
            p.add_argument("--layouts", required=True)
            p.add_argument("--results")
            p.add_argument("--tag", default="test")
            p.add_argument("--checks", choices=("default", "domu", "dom0-domu", "all",
                                                "unpatched", "patch1-only"),
                           default="default")
            p.add_argument("--series", action="store_true",
                           help="also check what our Xen series promises "
                                "(Xen must be built with xen/patches/)")
            p.add_argument("--stress", type=int, metavar="SEED",
                           help="also run the dom0 stress test "
                                "(tools/testing/stress/) with this seed")
            p.add_argument("--static-domu", action="store_true",
                           help="arm64: also start a dom0less domU on static "
                                "memory and check it (Xen built with "
                                "CONFIG_STATIC_MEMORY=y)")
    p = sub.add_parser("bench")
    p.add_argument("--xen", required=True)
    p.add_argument("--kernel", required=True)
    p.add_argument("--kernel-upstream", required=True)
    p.add_argument("--initrd-upstream", default="")
    p.add_argument("--initrd", required=True)
    p.add_argument("--layout", default="pc-1g")
    p.add_argument("--timeout", type=float, default=180)
    p = sub.add_parser("expect-crash")
    p.add_argument("--json", required=True)
    args = ap.parse_args()
    return {"show": show, "test": test, "bench": bench,
            "expect-crash": expect_crash}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
