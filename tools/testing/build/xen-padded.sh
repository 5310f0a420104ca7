#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A copy of our x86_64 debug Xen whose image is padded so that it ends one
# page past the last 2 MiB boundary its size may reach: the l2_xenmap[]
# mappings of the Xen image used to be a fixed table built at link time,
# and are built at boot from the linked size since 4.14 (52975142d154,
# seed 002), one 2 MiB slot per started 2 MiB.  An image whose last slot
# holds a single page is the edge case of that computation.  (4.17's
# xen.lds.S still refuses images over 16 MiB, "Plenty of boot code assumes
# that Xen isn't larger than 16M", so the image ends at 14 MiB + 4 KiB.)
#
#   xen-padded.sh     prints "PASS|FAIL xen-padded/build: ..." and, on
#                     success, the path of the padded image on the last line
#
# The padding is a page-aligned .bss array in one extra object, added in a
# git worktree of the patched tree (never in the tree make xen builds),
# sized from the unpadded image's _start and _end.  Cached by the tree's
# key and the pad size.

source "$(dirname "$0")/common.sh"

need_pkgs binutils
xen=$("$XENMM_TOP/tools/testing/build/xen.sh" --arch x86_64 --flavour source) ||
	die "cannot build our Xen"
tree=${xen%/xen/xen}
syms=$tree/xen/xen-syms
[ -f "$syms" ] || die "no $syms"

sym() { nm "$1" | awk -v s="$2" '$3 == s { print $1 }'; }
start=$((16#$(sym "$syms" _start)))
end=$((16#$(sym "$syms" _end)))
size=$((end - start))
two=$((2 << 20))
target=$(( (14 << 20) + 4096 ))
[ $size -lt $target ] || die "our Xen image is already $size bytes, past $target"
pad=$(( (target - size + 4095) / 4096 * 4096 ))

ptree=$tree-padded-$pad
if [ ! -f "$ptree/xen/xen" ]; then
	progress "padding our Xen image by $((pad >> 10)) KiB to $((target >> 10)) KiB (worktree $ptree)"
	xen_worktree "$tree" "$ptree"
	cat >"$ptree/xen/arch/x86/xenmm-pad.c" <<-EOC
	/* xenmm test only: make the image $((target >> 10)) KiB long. */
	#include <xen/types.h>
	#include <xen/compiler.h>
	char __section(".bss.page_aligned") __aligned(4096) xenmm_pad[$pad];
	EOC
	echo "obj-y += xenmm-pad.o" >>"$ptree/xen/arch/x86/Makefile"
	cp "$tree/xen/.config" "$ptree/xen/.config"
	# Only the multiboot ELF QEMU boots: xen.efi aligns its sections to
	# 2 MiB and would pass the 16 MiB limit first (XEN_BUILD_PE=n).
	run_logged "$XENMM_LOGS/xen-padded.log" make -C "$ptree/xen" XEN_TARGET_ARCH=x86_64 \
		XEN_BUILD_PE=n -j"$XENMM_JOBS" || die "the padded Xen does not build (log: $XENMM_LOGS/xen-padded.log)"
fi
pstart=$((16#$(sym "$ptree/xen/xen-syms" _start)))
pend=$((16#$(sym "$ptree/xen/xen-syms" _end)))
psize=$((pend - pstart))
slots=$(( (psize + two - 1) / two ))
if [ $psize -le $((16 << 20)) ] && [ $((psize % two)) -gt 0 ] && [ $((psize % two)) -le 8192 ]; then
	echo "PASS xen-padded/build: image $(printf %#x $psize) bytes ($((psize >> 20)) MiB + $(((psize % two) >> 10)) KiB): $slots 2 MiB slots, the last holding $((psize % two)) bytes (unpadded: $(printf %#x $size))"
else
	echo "FAIL xen-padded/build: image $(printf %#x $psize) bytes does not end just past a 2 MiB boundary"
	exit 1
fi
echo "$ptree/xen/xen"
