#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test modules against a built kernel and lay them out as an
# initramfs overlay (for initramfs.sh --extra).
#
#   modules.sh OUT
#
# OUT is the kernel's O= directory (what kernel.sh prints).  The overlay
# holds lib/xenmm/*.ko and the /etc/xenmm.d/ snippets that drive them.
# Prints the overlay's directory on stdout.

source "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: modules.sh KERNEL_OUT_DIR"
out=$1
[ -f "$out/Module.symvers" ] ||
	die "$out: not a kernel build with modules (no Module.symvers)"
grep -q '^CONFIG_MODULES=y' "$out/.config" ||
	die "$out: kernel built without CONFIG_MODULES"

kmake=(make -C "$out")
grep -q '^CONFIG_ARM64=y' "$out/.config" &&
	kmake+=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)

# The test modules' sources: the unpopulated-alloc and stress tests
# everywhere; on x86 the initrd test of our Xen series (it needs a PV
# dom0) and the check of Xen's initial P2M mapping (PV guests).
srcs=("$XENMM_TOP/tools/testing/unpopulated" "$XENMM_TOP/tools/testing/stress")
grep -q '^CONFIG_X86_64=y' "$out/.config" &&
	srcs+=("$XENMM_TOP/tools/testing/xen-initrd" "$XENMM_TOP/tools/testing/p2m-initmap"
	       "$XENMM_TOP/tools/testing/p2m-notowned")
files=()
for d in "${srcs[@]}"; do
	files+=("$d"/Kbuild "$d"/*.c "$d"/*.sh)
done
key=$(hash_of "${files[@]}" "$out/Module.symvers" "$out/include/generated/utsrelease.h")
overlay=$XENMM_CACHE/modules/overlay-$key
if [ ! -d "$overlay" ]; then
	build=$XENMM_CACHE/modules/build
	rm -rf "$build" "$overlay.tmp"
	mkdir -p "$build" "$overlay.tmp/lib/xenmm" "$overlay.tmp/etc/xenmm.d"
	for d in "${srcs[@]}"; do
		cat "$d"/Kbuild >>"$build"/Kbuild
		cp "$d"/*.c "$build"/
		cp "$d"/*.sh "$overlay.tmp/etc/xenmm.d/"
	done
	progress "building test modules against $out"
	run_logged "$XENMM_LOGS/modules.log" \
		"${kmake[@]}" M="$build" -j"$XENMM_JOBS" modules ||
		die "test modules did not build (log: $XENMM_LOGS/modules.log)"
	cp "$build"/*.ko "$overlay.tmp/lib/xenmm/"
	mv "$overlay.tmp" "$overlay"
fi
echo "$overlay"
