#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the P2M benchmarks, every figure a ratio against a baseline
# measured in the same run.
#  1. host: tools/testing/p2m/bench.c (flat array, upstream-style linear
#     list, the tree) on a 64 GiB guest model, timed, then counted
#     (instructions and simulated cache misses per lookup, callgrind);
#  2. in dom0: __pfn_to_mfn() over all of dom0's pfns, our kernel against
#     the same kernel with upstream 6.1's P2M (variant "upstream"), both
#     booted under LAYOUT (default pc-1g);
#  3. in dom0: unpopulated-alloc, alloc+free of 1, 64 and 1024 pages and
#     the address space held after a burst, ours against upstream 6.1's
#     provider (also in variant "upstream"), same boots as 2.

source "$(dirname "$0")/build/common.sh"

B=$XENMM_TOP/tools/testing
LAYOUT=${LAYOUT:-pc-1g}
need_pkgs $HOST_TEST_PKGS
[ "$(python3 "$B/boot/xenboot.py" --layout-machine "$LAYOUT")" != q35pvh ] ||
	die "layout $LAYOUT is a PVH dom0, which has no P2M to measure: use a PV dom0 layout"

progress "host benchmark (tools/testing/p2m)"
make -s -C "$B/p2m" O="$XENMM_CACHE/p2m-harness" bench || exit 1
progress "host lookup counts (callgrind; the same every run)"
need_pkgs valgrind
make -s -C "$B/p2m" O="$XENMM_CACHE/p2m-harness" counts || exit 1

ours=$("$B/build/kernel.sh" | tail -n 1) || exit 1
upstream=$("$B/build/kernel.sh" --variant upstream | tail -n 1) || exit 1
xen=$("$B/build/xen.sh") || exit 1
mods=$("$B/build/modules.sh" "$ours") || exit 1
initrd=$("$B/build/initramfs.sh" --extra "$mods") || exit 1
mods_up=$("$B/build/modules.sh" "$upstream") || exit 1
initrd_up=$("$B/build/initramfs.sh" --extra "$mods_up") || exit 1
progress "in-dom0 benchmark: booting upstream and our kernel (layout $LAYOUT)"
python3 "$B/boot/boottest.py" bench --layout "$LAYOUT" --xen "$xen" \
	--kernel "$ours/arch/x86/boot/bzImage" \
	--kernel-upstream "$upstream/arch/x86/boot/bzImage" --initrd "$initrd" \
	--initrd-upstream "$initrd_up"
