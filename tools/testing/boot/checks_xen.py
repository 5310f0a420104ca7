# SPDX-License-Identifier: GPL-2.0
"""Checks of what the Xen series (xen/patches/) promises: the initrd
initialised in place, node heaps, memory banks, the moved image, the
initrd given back, a dom0less domU on static memory.
"""

import os
import re
import subprocess

from parse import block, fmt_ranges, iomem_system_ram


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
