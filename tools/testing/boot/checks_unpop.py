# SPDX-License-Identifier: GPL-2.0
"""Checks of unpopulated-alloc (drivers/xen/unpopulated-alloc.c and
drivers/xen/scratch_pool.c) and what uses its pages: the balloon, grant
mapping, the in-guest provider test, a PVH dom0's unused space.
"""

import re

from parse import (
    E820_LINE, SECTION, block, dmesg, fmt_incl, guest_e820, guest_ext_regions,
    overlapping, parse_iomem, tagged, xen_ext_regions, xen_machine_map,
)


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


UNPOPULATED_SIZES = (1, 64, 1024)


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
