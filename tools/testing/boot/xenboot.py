#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot Xen + a Linux dom0 in QEMU (TCG) and collect what the guest printed.

The guest's /init (tools/testing/boot/init) frames its output in blocks:

    @@@XENMM-BEGIN name@@@
    ...
    @@@XENMM-END name@@@

and ends with @@@XENMM-DONE@@@ before powering off.  This module runs QEMU
with a deadline, keeps the whole serial log, stops early on a panic, and
returns the blocks.  A failed boot is reported with the log's last lines.
"""

import argparse
import json
import os
import re
import selectors
import shutil
import struct
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LAYOUTS = os.path.join(HERE, "layouts.conf")

# A marker after "domu| " is a domU's, relayed by dom0 inside its own block.
BEGIN = re.compile(r"(?<!\| )@@@XENMM-BEGIN (\S+)@@@")
END = re.compile(r"(?<!\| )@@@XENMM-END (\S+)@@@")
DONE = re.compile(r"(?<!\| )@@@XENMM-DONE@@@")

# Lines after which the run cannot succeed: stop soon, keep what follows.
# A domU's console relayed by dom0 ("domu| ", "pvh| ") does not count: its
# crash fails the domU's checks, not dom0's boot.
FATAL = [
    re.compile(r"^(?!\w+\| ).*Kernel panic - not syncing"),
    re.compile(r"\(XEN\) Panic on CPU"),
    re.compile(r"\(XEN\) Domain 0 crashed"),
    re.compile(r"\(XEN\) Hardware Dom0 crashed"),
    re.compile(r"\(XEN\) Reboot in"),
    re.compile(r"\(XEN\) Hardware Dom0 halted"),
    re.compile(r"PANIC: early exception"),
    re.compile(r"^(?!\w+\| ).*kernel BUG at "),
]
FATAL_GRACE = 3.0
HALT_AFTER_DONE = re.compile(r"\(XEN\) Hardware Dom0 halted")


class Layout:
    def __init__(self, name, machine, ram_mib, cpus, dom0_opt, desc):
        self.name = name
        self.machine = machine
        self.ram_mib = int(ram_mib)
        self.cpus = int(cpus)
        if self.cpus < 1:
            raise SystemExit(f"layout {name}: cpus must be at least 1")
        # dom0 gets a vCPU per CPU on both architectures (Arm's default
        # would be one).
        self.dom0_opt = (dom0_opt.replace(";", " ") +
                         f" dom0_max_vcpus={self.cpus}")
        self.desc = desc
        self.arch = "arm64" if machine.startswith("virt") else "x86_64"


def load_layouts(path=LAYOUTS):
    layouts = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 5)
            if len(parts) != 6:
                raise SystemExit(f"{path}: malformed line: {line}")
            layouts[parts[0]] = Layout(*parts)
    return layouts


def get_layout(name):
    layouts = load_layouts()
    if name not in layouts:
        raise SystemExit(
            f"xenboot: unknown layout '{name}'; known layouts: "
            + ", ".join(layouts))
    return layouts[name]


# TCG with one host thread for all vCPUs unless XENMM_TCG_THREAD=multi
# (Documentation/xen/testing.rst, "TCG threads", says why).
TCG_THREAD = os.environ.get("XENMM_TCG_THREAD", "single")
if TCG_THREAD not in ("single", "multi"):
    raise SystemExit(f"XENMM_TCG_THREAD={TCG_THREAD}: want single or multi")
TCG = f"tcg,thread={TCG_THREAD}"
# The x86 CPU.  qemu64 has no nested paging, so Xen runs HVM and PVH
# guests on shadow paging; XENMM_X86_CPU=qemu64,+npt gives it HAP (the
# PVH domU's intermittent panic happened on both; see
# Documentation/xen/testing.rst).
X86_CPU = os.environ.get("XENMM_X86_CPU", "qemu64")
# The x86 QEMU: Debian's, or for the domU test the one that
# tools/testing/build/qemu.sh patches (its PVH domU needs it).
X86_QEMU = os.environ.get("XENMM_QEMU_X86", "qemu-system-x86_64")

# arm64: where QEMU's guest-loader puts dom0's kernel and initramfs.
ARM64_KERNEL_ADDR = 0x49000000
ARM64_INITRD_ADDR = 0x4d000000
# The static-memory domU (--static-domu): its kernel and initramfs, and
# the host range Xen gives it ("xen,static-mem"), high in the first bank,
# clear of the modules above and of Xen, which moves itself to the top.
STATIC_DOMU_KERNEL_ADDR = 0x52000000
STATIC_DOMU_INITRD_ADDR = 0x58000000
STATIC_DOMU_MEM = (0xa0000000, 0x10000000)
# Its Linux arguments: Xen's console through console_io (a debug Xen lets
# any domain write there), no KUnit run, and the marker of tools/testing/
# boot/init.
STATIC_DOMU_ARGS = ("earlycon=xenboot keep_bootcon rdinit=/init "
                    "kunit.filter_glob=xenmm-none xenmm.staticdomu")


def static_domu_dtb(cmd, kernel, initrd, out):
    """Write to OUT the device tree of the machine CMD boots, with a
    dom0less domU on static memory added to /chosen: QEMU dumps its tree
    (with the guest-loader modules of dom0 in it), dtc adds the domU."""
    base = out + ".base"
    machine = cmd.index("-machine") + 1
    dump = list(cmd)
    dump[machine] += f",dumpdtb={base}"
    subprocess.run(dump, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", base],
                         check=True, capture_output=True, text=True).stdout
    mem_kib = STATIC_DOMU_MEM[1] >> 10

    def cells(v):
        return f"0x{v >> 32:x} 0x{v & 0xffffffff:x}"

    # dtc merges a node defined twice: amend /chosen after QEMU's tree.
    domu = f"""
/ {{
	chosen {{
		#address-cells = <0x02>;
		#size-cells = <0x02>;

		domU1 {{
			compatible = "xen,domain";
			#address-cells = <0x02>;
			#size-cells = <0x02>;
			cpus = <0x01>;
			xen,enhanced = "no-xenstore";
			memory = <0x00 {mem_kib:#x}>;
			xen,static-mem = <{cells(STATIC_DOMU_MEM[0])} {cells(STATIC_DOMU_MEM[1])}>;

			module@{STATIC_DOMU_KERNEL_ADDR:x} {{
				compatible = "multiboot,kernel", "multiboot,module";
				reg = <{cells(STATIC_DOMU_KERNEL_ADDR)} {cells(os.path.getsize(kernel))}>;
				bootargs = "{STATIC_DOMU_ARGS}";
			}};

			module@{STATIC_DOMU_INITRD_ADDR:x} {{
				compatible = "multiboot,ramdisk", "multiboot,module";
				reg = <{cells(STATIC_DOMU_INITRD_ADDR)} {cells(os.path.getsize(initrd))}>;
			}};
		}};
	}};
}};
"""
    if "\n\tchosen {\n" not in dts:
        raise SystemExit("xenboot: no /chosen in QEMU's device tree")
    dts += domu
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, "-"],
                   input=dts, check=True, text=True)
    os.unlink(base)


def add_static_domu(cmd, kernel, initrd, dtb):
    """CMD booting the same machine with the static-memory domU."""
    if os.path.getsize(kernel) > STATIC_DOMU_INITRD_ADDR - STATIC_DOMU_KERNEL_ADDR:
        raise SystemExit(f"xenboot: {kernel} too big for the static domU's slot")
    static_domu_dtb(cmd, kernel, initrd, dtb)
    return cmd + [
        "-dtb", dtb,
        "-device", f"loader,file={kernel},addr={STATIC_DOMU_KERNEL_ADDR:#x},force-raw=on",
        "-device", f"loader,file={initrd},addr={STATIC_DOMU_INITRD_ADDR:#x},force-raw=on",
    ]


def qemu_cmdline_arm64(layout, xen, kernel, initrd, xen_extra, linux_extra):
    # No noreboot: Xen then powers the machine off after dom0 does, and
    # QEMU exits.
    xen_args = (f"console=dtuart dtuart=/pl011@9000000 {layout.dom0_opt} "
                "loglvl=all guest_loglvl=all bootscrub=false "
                f"{xen_extra}").strip()
    linux_args = f"console=hvc0 earlycon=xenboot rdinit=/init {linux_extra}".strip()
    if "," in linux_args:
        raise SystemExit("xenboot: arm64 Linux arguments cannot hold commas")
    mem = []
    if layout.machine == "virt2bank":
        # Two RAM banks: one memory backend per NUMA node.
        half = layout.ram_mib // 2
        mem = ["-object", f"memory-backend-ram,id=m0,size={half}M",
               "-object", f"memory-backend-ram,id=m1,size={half}M",
               "-numa", f"node,nodeid=0,cpus=0-{layout.cpus - 1},memdev=m0",
               "-numa", "node,nodeid=1,memdev=m1"]
    return [
        "qemu-system-aarch64",
        "-machine", "virt,virtualization=on,gic-version=3",
        "-cpu", "cortex-a57", "-smp", str(layout.cpus),
        "-m", str(layout.ram_mib), *mem,
        "-accel", TCG, "-nographic", "-no-reboot",
        "-monitor", "none", "-serial", "stdio",
        "-kernel", xen, "-append", xen_args,
        "-device", f"guest-loader,addr={ARM64_KERNEL_ADDR:#x},kernel={kernel},"
                   f"bootargs={linux_args}",
        "-device", f"guest-loader,addr={ARM64_INITRD_ADDR:#x},initrd={initrd}",
    ]


# Machine pc3node: i440fx RAM in three NUMA nodes, the middle one
# PC3NODE_MID_MIB ending PC3NODE_TOP_MIB below the top of RAM, with the
# initramfs zero-padded to PC3NODE_INITRD_MIB.  Xen puts its own image
# at the top of RAM and the boot modules just below it, so the in-place
# initrd then covers all of node 1, which gives the boot allocator
# nothing: the Xen series' reproducer (tools/testing/boot/checks_xen.py,
# check_xen_node_heaps()).  Trailing zeros are skipped by the kernel's
# initramfs unpacker.
PC3NODE_MID_MIB = 48
PC3NODE_TOP_MIB = 16
PC3NODE_INITRD_MIB = 64


def pc3node_numa(layout):
    low = layout.ram_mib - PC3NODE_MID_MIB - PC3NODE_TOP_MIB
    if low <= 0:
        raise SystemExit(f"layout {layout.name}: too little RAM for pc3node")
    args = []
    for node, mib in enumerate((low, PC3NODE_MID_MIB, PC3NODE_TOP_MIB)):
        cpus = f"cpus=0-{layout.cpus - 1}," if node == 0 else ""
        args += ["-object", f"memory-backend-ram,id=m{node},size={mib}M",
                 "-numa", f"node,nodeid={node},{cpus}memdev=m{node}"]
    return args


# Machine pclow: i440fx whose RAM below 4 GiB ends PCLOW_SLACK past the
# end of dom0's kernel image (QEMU's max-ram-below-4g), the rest above
# 4 GiB.  Xen gives dom0 its pfns from 0 in order: the kernel image, the
# start info and page tables, then the P2M list and the initrd, so the
# last two fall into the machine map's hole, which setup.c must move them
# out of before it remaps the hole (check_p2m_list_moved() in checks_p2m.py).
PCLOW_SLACK = 1 << 20


def kernel_phys_end(kernel):
    """The physical end of the vmlinux beside bzImage KERNEL: the highest
    p_paddr + p_memsz of its PT_LOAD program headers."""
    vmlinux = os.path.join(os.path.dirname(kernel), "..", "..", "..", "vmlinux")
    try:
        with open(vmlinux, "rb") as f:
            elf = f.read(64)
            if elf[:5] != b"\x7fELF\x02":
                raise SystemExit(f"xenboot: {vmlinux} is not a 64-bit ELF")
            phoff, = struct.unpack_from("<Q", elf, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
            end = 0
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                ptype, _, _, _, paddr, _, memsz = struct.unpack(
                    "<IIQQQQQ", f.read(48))
                if ptype == 1:
                    end = max(end, paddr + memsz)
    except OSError as e:
        raise SystemExit(f"xenboot: machine pclow needs the kernel's vmlinux: {e}")
    return end


def pclow_low_mib(kernel):
    return -(-(kernel_phys_end(kernel) + PCLOW_SLACK) >> 20)


def padded_initrd(initrd, out, mib):
    """A sparse copy of INITRD at OUT, zero-extended to MIB MiB."""
    size = os.path.getsize(initrd)
    if size > mib << 20:
        raise SystemExit(f"xenboot: {initrd} is larger than {mib} MiB")
    shutil.copyfile(initrd, out)
    os.truncate(out, mib << 20)
    return out


def qemu_cmdline(layout, xen, kernel, initrd, xen_extra="", linux_extra=""):
    if layout.arch == "arm64":
        return qemu_cmdline_arm64(layout, xen, kernel, initrd, xen_extra,
                                  linux_extra)
    machine, numa = layout.machine, []
    if machine == "pc3node":
        machine, numa = "pc", pc3node_numa(layout)
    elif machine == "pclow":
        machine = f"pc,max-ram-below-4g={pclow_low_mib(kernel)}M"
    cpu, iommu = X86_CPU, []
    if machine == "q35pvh":
        # Xen 4.17 builds a PVH dom0 only with an IOMMU; HAP wants NPT.
        machine, iommu = "q35", ["-device", "amd-iommu"]
        if "+npt" not in cpu:
            cpu += ",+npt"
    xen_args = (f"console=com1 com1=115200,8n1 {layout.dom0_opt} "
                "loglvl=all guest_loglvl=all noreboot bootscrub=false "
                f"{xen_extra}").strip()
    linux_args = f"console=hvc0 earlyprintk=xen {linux_extra}".strip()
    return [
        X86_QEMU, "-machine", machine, "-cpu", cpu,
        "-smp", str(layout.cpus), "-m", str(layout.ram_mib), *numa,
        "-accel", TCG, "-nographic", "-no-reboot",
        "-monitor", "none", "-serial", "stdio",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-kernel", xen, "-append", xen_args,
        "-initrd", f"{kernel} {linux_args},{initrd}", *iommu,
    ]


# How long a guest that timed out may still print Xen's dump of it.
DUMP_GRACE = 15


def dump_on_timeout(proc, log):
    """A guest that hangs says nothing of where: before it is killed, have
    Xen print its vCPUs' registers and stacks (three Ctrl-A switch Xen's
    console input to Xen; debug key '0' dumps dom0's vCPUs).  Addresses
    resolve with the kernel's System.map."""
    log.write("# timeout: asking Xen to dump dom0's vCPUs (debug key 0)\n")
    try:
        proc.stdin.write(b"\x01\x01\x01")
        proc.stdin.flush()
        time.sleep(1)
        proc.stdin.write(b"0")
        proc.stdin.flush()
    except OSError:
        pass


def run(cmd, log_path, timeout):
    """Run cmd, tee its output to log_path; returns (status, lines, secs,
    marks), marks being (seconds, "begin"/"end", name) of each section and
    (seconds, "dump", index of the first line after it) of a dump asked
    for on timeout."""
    t0 = time.monotonic()
    lines = []
    marks = []
    status = None
    fatal_at = None
    done_at = None
    dump_at = None
    with open(log_path, "w") as log:
        log.write("# " + " ".join(cmd) + "\n")
        # Input is the serial console's (Xen's): see dump_on_timeout.
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        buf = b""
        while True:
            now = time.monotonic()
            if now - t0 > timeout:
                if status:
                    break
                if dump_at is None:
                    dump_at = now
                    marks.append((round(now - t0, 1), "dump", str(len(lines))))
                    dump_on_timeout(proc, log)
                elif now - dump_at > DUMP_GRACE:
                    # Whatever came during the dump: it timed out.
                    status = "timeout"
                    break
            if fatal_at and now - fatal_at > FATAL_GRACE:
                break
            if done_at and now - done_at > 30:
                break   # guest said done but QEMU did not exit: fine
            if not sel.select(timeout=0.5):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            *complete, buf = buf.split(b"\n")
            for raw in complete:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                lines.append(line)
                log.write(line + "\n")
                for kind, pat in (("begin", BEGIN), ("end", END)):
                    m = pat.search(line)
                    if m:
                        marks.append((round(time.monotonic() - t0, 1), kind,
                                      m.group(1)))
                if dump_at is not None:
                    continue    # Xen's dump, and a guest past its time
                if not done_at and DONE.search(line):
                    done_at = time.monotonic()
                    status = status or "done"
                if not fatal_at and any(p.search(line) for p in FATAL):
                    fatal_at = time.monotonic()
                    # Xen on Arm reports dom0's own poweroff as a halt.
                    if not (done_at and HALT_AFTER_DONE.search(line)):
                        status = "crashed"
            log.flush()
        if buf:
            line = buf.decode("utf-8", "replace").rstrip("\r")
            lines.append(line)
            log.write(line + "\n")
        if dump_at is not None:
            status = "timeout"
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        secs = time.monotonic() - t0
        log.write(f"# status={status or 'exited'} after {secs:.1f}s, "
                  f"qemu rc={proc.returncode}\n")
    return status or "exited early", lines, secs, marks


def parse_blocks(lines):
    """Blocks the guest framed, name -> list of lines (and its rc)."""
    blocks = {}
    cur = None
    for line in lines:
        m = BEGIN.search(line)
        if m:
            cur = m.group(1)
            blocks[cur] = []
            continue
        m = END.search(line)
        if m and cur == m.group(1):
            cur = None
            continue
        if cur is not None:
            blocks[cur].append(line)
    return blocks


def boot(layout_name, xen, kernel, initrd, log_path, timeout,
         xen_extra="", linux_extra="", static_domu=False):
    layout = get_layout(layout_name)
    for path in (xen, kernel, initrd):
        if not os.path.isfile(path):
            raise SystemExit(f"xenboot: {path}: no such file")
    if layout.machine == "pc3node":
        initrd = padded_initrd(initrd, log_path + ".initrd",
                               PC3NODE_INITRD_MIB)
    cmd = qemu_cmdline(layout, xen, kernel, initrd, xen_extra, linux_extra)
    if static_domu:
        if layout.arch != "arm64":
            raise SystemExit("xenboot: --static-domu is for arm64 layouts")
        cmd = add_static_domu(cmd, kernel, initrd, log_path + ".dtb")
    status, lines, secs, marks = run(cmd, log_path, timeout)
    return {
        "layout": layout.name,
        "layout_desc": layout.desc,
        "arch": layout.arch,
        "machine": layout.machine,
        "xen": xen,
        "ram_mib": layout.ram_mib,
        "cpus": layout.cpus,
        "status": status,
        # The static domU's host range, [start, size].
        "static_domu": list(STATIC_DOMU_MEM) if static_domu else None,
        "seconds": round(secs, 1),
        "log": log_path,
        "tail": lines[-40:],
        "blocks": parse_blocks(lines),
        "lines": lines,
        "marks": marks,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", default="pc-1g")
    ap.add_argument("--xen", required=True)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--json", required=True, help="write the result here")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--xen-extra", default="")
    ap.add_argument("--linux-extra", default="")
    ap.add_argument("--static-domu", action="store_true",
                    help="arm64: also start a dom0less domU on static memory "
                         "(the same kernel and initramfs)")
    args = ap.parse_args()

    res = boot(args.layout, args.xen, args.kernel, args.initrd, args.log,
               args.timeout, args.xen_extra, args.linux_extra,
               args.static_domu)
    with open(args.json, "w") as f:
        json.dump(res, f)
    if res["status"] != "done":
        print(f"xenboot: layout {args.layout}: guest {res['status']} after "
              f"{res['seconds']} s; last lines of {args.log}:",
              file=sys.stderr)
        for line in res["tail"]:
            print("  | " + line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--layout-arch":
        print(get_layout(sys.argv[2]).arch)
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--layout-machine":
        print(get_layout(sys.argv[2]).machine)
        sys.exit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "--list-layouts":
        for lay in load_layouts().values():
            print(f"  {lay.name:14s} {lay.desc} ({lay.cpus} vCPUs)")
        sys.exit(0)
    sys.exit(main())
