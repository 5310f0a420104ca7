# SPDX-License-Identifier: GPL-2.0
"""Parsers of a booted guest's output, shared by every check: the
framed blocks, dmesg, E820 maps, /proc/iomem, the P2M dump, KUnit's TAP,
Xen's memory map and extended regions.
"""

import re


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


def iomem_system_ram(lines):
    """Top-level System RAM of /proc/iomem as [start, end), touching
    ranges merged."""
    return merged([(s, e + 1) for depth, s, e, name in parse_iomem(lines)
                   if depth == 0 and name == "System RAM"])


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


def e820_covers(table, start, end, kind):
    """Whether [start, end) lies wholly in one KIND entry of TABLE."""
    return any(s <= start and end <= e and t == kind for s, e, t in table)
