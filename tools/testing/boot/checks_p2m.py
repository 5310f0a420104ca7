# SPDX-License-Identifier: GPL-2.0
"""Checks of the x86 PV P2M (arch/x86/xen/p2m.c, drivers/xen/p2m_tree.c):
the debugfs dump, its memory, identity and populated pfns, Xen's initial
list mapping, RAM dom0 does not own, the list moved out of a hole, the
debug kernel's verification.
"""

import re

from parse import (
    block, dmesg, e820_covers, fmt_ranges, guest_e820, merged, parse_p2m,
    xen_machine_map,
)


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


P2M_MOVED = re.compile(
    r"P2M: Xen's list at pfns (0x[0-9a-f]+)-(0x[0-9a-f]+) lies in an E820 "
    r"hole; moved to pfns (0x[0-9a-f]+)-(0x[0-9a-f]+)")


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
