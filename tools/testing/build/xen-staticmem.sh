#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Our arm64 debug Xen built once more with static allocation on
# (CONFIG_UNSUPPORTED=y, CONFIG_STATIC_MEMORY=y), which Debian's build and
# xen.sh's defconfig leave off.  With it, init_staticmem_pages() hands the
# static-memory banks of dom0less domUs ("xen,static-mem") to
# unprepare_staticmem_pages() at boot, a free of pages the heap has never
# seen, which the series must allow (issue 17 item 1).
#
#   xen-staticmem.sh [XEN_TREE]
#                     prints "PASS|FAIL xen-staticmem/build: ..." and, on
#                     success, the path of the image on the last line
#
# Built in a git worktree of the patched arm64 tree xen.sh prepares (or of
# XEN_TREE), never in the tree make xen builds; cached by that tree's key.

source "$(dirname "$0")/common.sh"

need_pkgs gcc-aarch64-linux-gnu
if [ -n "${1:-}" ]; then
	tree=$1
else
	tree=$("$XENMM_TOP/tools/testing/build/xen.sh" --arch arm64 --flavour source --tree-only) ||
		die "cannot prepare the arm64 Xen tree"
fi
[ -d "$tree/.git" ] || die "$tree is not a git tree"

stree=$tree-staticmem
xmake=(make -C "$stree/xen" XEN_TARGET_ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
if [ ! -f "$stree/xen/xen" ]; then
	progress "building Xen (arm64, debug, CONFIG_STATIC_MEMORY=y; worktree $stree)"
	xen_worktree "$tree" "$stree"
	log=$XENMM_LOGS/xen-staticmem.log
	run_logged "$log" "${xmake[@]}" defconfig || die "xen defconfig failed (log: $log)"
	# Early printk on QEMU virt's PL011: static memory is set up before
	# Xen's console, and a BUG() there would otherwise print nothing.
	cat >>"$stree/xen/.config" <<-EOC
	CONFIG_DEBUG=y
	CONFIG_UNSUPPORTED=y
	CONFIG_STATIC_MEMORY=y
	CONFIG_EARLY_UART_CHOICE_PL011=y
	CONFIG_EARLY_UART_BASE_ADDRESS=0x9000000
	EOC
	run_logged "$log" "${xmake[@]}" olddefconfig || die "xen olddefconfig failed (log: $log)"
	for opt in CONFIG_DEBUG CONFIG_STATIC_MEMORY CONFIG_EARLY_PRINTK; do
		grep -qx "$opt=y" "$stree/xen/.config" || die "$opt=y did not stick"
	done
	if ! run_logged "$log" "${xmake[@]}" -j"$XENMM_JOBS"; then
		echo "FAIL xen-staticmem/build: the arm64 Xen with CONFIG_STATIC_MEMORY=y does not build: $(grep -m 1 'error:' "$log")"
		exit 1
	fi
fi
[ -f "$stree/xen/xen" ] || die "no $stree/xen/xen after the build"
echo "PASS xen-staticmem/build: arm64 debug Xen with CONFIG_STATIC_MEMORY=y built"
echo "$stree/xen/xen"
