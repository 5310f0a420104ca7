#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Provide the Xen hypervisor the boot harness loads.
#
#   xen.sh [--arch x86_64|arm64] [--flavour debian]
#
# debian, x86_64: Debian's xen-hypervisor-4.17-amd64, gunzipped (QEMU's
# -kernel takes the multiboot ELF, not the .gz).
# debian, arm64: Debian's xen-hypervisor-4.17-arm64, downloaded and
# unpacked (not installed); QEMU boots its image directly.
# Prints the path of what QEMU's -kernel takes.

source "$(dirname "$0")/common.sh"

FLAVOUR=debian
ARCH=x86_64
while [ $# -gt 0 ]; do
	case $1 in
	--flavour) FLAVOUR=$2; shift 2 ;;
	--arch) ARCH=$2; shift 2 ;;
	*) die "xen.sh: unknown argument '$1'" ;;
	esac
done

case $FLAVOUR-$ARCH in
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
	die "unknown Xen flavour '$FLAVOUR' for '$ARCH' (known: debian; x86_64, arm64)"
	;;
esac
echo "$out"
