#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Provide the Xen hypervisor the boot harness loads.
#
#   xen.sh [--arch x86_64|arm64] [--flavour debian|source] [--tree-only]
#
# debian, x86_64: Debian's xen-hypervisor-4.17-amd64, gunzipped (QEMU's
# -kernel takes the multiboot ELF, not the .gz).
# debian, arm64: Debian's xen-hypervisor-4.17-arm64, downloaded and
# unpacked (not installed); QEMU boots its image directly.
# source: Debian's Xen 4.17.5 source package (DESIGN.md section 5), with
# Debian's own patches and then our series from xen/patches/ (git am),
# built with CONFIG_DEBUG=y for x86_64 or (cross) arm64, cached and
# incremental.  Adds a deb-src entry for Debian's archive if apt has none.
# Prints the path of what QEMU's -kernel takes; with --tree-only (source
# flavour), prepares the patched tree and prints its path without building.

source "$(dirname "$0")/common.sh"

FLAVOUR=debian
ARCH=x86_64
TREE_ONLY=
while [ $# -gt 0 ]; do
	case $1 in
	--tree-only) TREE_ONLY=1; shift ;;
	--flavour) FLAVOUR=$2; shift 2 ;;
	--arch) ARCH=$2; shift 2 ;;
	*) die "xen.sh: unknown argument '$1'" ;;
	esac
done

# xen_source_tree: Debian's source with its patches and ours, as a git
# tree under the cache; prints its path.
xen_source_tree()
{
	local dl tree series=() key p

	dl=$(xen_source_download) || exit 1
	mapfile -t series < <(xen_series_patches)
	key=$(hash_of "$dl"/*.dsc ${series[@]+"${series[@]}"})
	tree=$XENMM_CACHE/xen/tree-$ARCH-$key
	if [ ! -f "$tree/.xenmm-ready" ]; then
		progress "unpacking xen $XEN_SRC_VERSION, Debian's patches${series[*]:+ and xen/patches/ (${#series[@]})}"
		xen_unpack_debian "$dl" "$tree" || exit 1
		for p in ${series[@]+"${series[@]}"}; do
			(cd "$tree" && git -c user.name=xenmm -c user.email=xenmm@localhost \
				am -q -3 "$p") >>"$XENMM_LOGS/xen-unpack.log" 2>&1 ||
				die "xen/patches/$(basename "$p") does not apply (log: $XENMM_LOGS/xen-unpack.log)"
		done
		touch "$tree/.xenmm-ready"
	fi
	echo "$tree"
}

# xen_source_build TREE: configure (defconfig + CONFIG_DEBUG=y) and build
# the hypervisor; prints the image.
xen_source_build()
{
	local tree=$1 xmake

	xmake=(make -C "$tree/xen" XEN_TARGET_ARCH="$ARCH")
	[ "$ARCH" = arm64 ] && xmake+=(CROSS_COMPILE=aarch64-linux-gnu-)
	if [ ! -f "$tree/xen/.config" ]; then
		run_logged "$XENMM_LOGS/xen-build-$ARCH.log" "${xmake[@]}" defconfig ||
			die "xen defconfig failed"
		echo "CONFIG_DEBUG=y" >>"$tree/xen/.config"
		run_logged "$XENMM_LOGS/xen-build-$ARCH.log" "${xmake[@]}" olddefconfig ||
			die "xen olddefconfig failed"
		grep -qx "CONFIG_DEBUG=y" "$tree/xen/.config" || die "CONFIG_DEBUG=y did not stick"
	fi
	progress "building Xen ($ARCH, debug; log: $XENMM_LOGS/xen-build-$ARCH.log)"
	run_logged "$XENMM_LOGS/xen-build-$ARCH.log" "${xmake[@]}" -j"$XENMM_JOBS" ||
		die "the Xen build failed (log: $XENMM_LOGS/xen-build-$ARCH.log)"
	[ -f "$tree/xen/xen" ] || die "no $tree/xen/xen after the build"
	echo "$tree/xen/xen"
}

case $FLAVOUR-$ARCH in
source-x86_64|source-arm64)
	need_pkgs dpkg-dev quilt git build-essential bison flex python3 xz-utils
	[ "$ARCH" = arm64 ] && need_pkgs gcc-aarch64-linux-gnu qemu-system-arm
	[ "$ARCH" = x86_64 ] && need_pkgs qemu-system-x86
	tree=$(xen_source_tree) || exit 1
	if [ -n "$TREE_ONLY" ]; then
		echo "$tree"
		exit 0
	fi
	out=$(xen_source_build "$tree") || exit 1
	;;
debian-*)
	[ -z "$TREE_ONLY" ] || die "--tree-only needs --flavour source"
	;;&
debian-arm64)
	need_pkgs qemu-system-arm
	dir=$(foreign_deb xen-hypervisor-4.17-arm64:arm64) || exit 1
	out=$dir/boot/xen-4.17-arm64
	[ -r "$out" ] || die "$out missing from xen-hypervisor-4.17-arm64"
	;;
debian-x86_64)
	need_pkgs xen-hypervisor-4.17-amd64 qemu-system-x86
	[ -r "$XEN_DEBIAN_GZ" ] || die "$XEN_DEBIAN_GZ missing (package xen-hypervisor-4.17-amd64)"
	out=$XENMM_CACHE/xen/debian-$(stat -c '%s-%Y' "$XEN_DEBIAN_GZ").elf
	if [ ! -f "$out" ]; then
		mkdir -p "$(dirname "$out")"
		gunzip -c "$XEN_DEBIAN_GZ" >"$out.tmp" && mv "$out.tmp" "$out" ||
			die "cannot gunzip $XEN_DEBIAN_GZ"
	fi
	;;
*)
	die "unknown Xen flavour '$FLAVOUR' for '$ARCH' (known: debian, source; x86_64, arm64)"
	;;
esac
echo "$out"
