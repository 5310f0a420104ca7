#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Provide the Xen hypervisor the boot harness loads.
#
#   xen.sh [--flavour debian]
#
# debian: Debian's xen-hypervisor-4.17-amd64, gunzipped (QEMU's -kernel
# takes the multiboot ELF, not the .gz).  Prints the ELF's path.

source "$(dirname "$0")/common.sh"

FLAVOUR=debian
while [ $# -gt 0 ]; do
	case $1 in
	--flavour) FLAVOUR=$2; shift 2 ;;
	*) die "xen.sh: unknown argument '$1'" ;;
	esac
done

case $FLAVOUR in
debian)
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
	die "unknown Xen flavour '$FLAVOUR' (known: debian)"
	;;
esac
echo "$out"
