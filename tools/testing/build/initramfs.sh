#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the busybox-static test initramfs the boot harness hands to dom0.
#
#   initramfs.sh [--arch x86_64|arm64] [--extra DIR]...
#
# Contents: busybox, tools/testing/boot/init as /init, gntself and
# scribble (tools/testing/boot/*.c), and each --extra DIR
# copied over the root (test snippets in etc/xenmm.d/, modules, ...).
# Prints the path of the gzipped cpio on stdout.

source "$(dirname "$0")/common.sh"

EXTRAS=()
ARCH=x86_64
while [ $# -gt 0 ]; do
	case $1 in
	--arch) ARCH=$2; shift 2 ;;
	--extra) [ -d "$2" ] || die "--extra $2: not a directory"
		 EXTRAS+=("$2"); shift 2 ;;
	*) die "initramfs.sh: unknown argument '$1'" ;;
	esac
done

case $ARCH in
x86_64)
	need_pkgs busybox-static cpio gzip build-essential linux-libc-dev
	BUSYBOX=/bin/busybox
	CC=gcc
	;;
arm64)
	need_pkgs cpio gzip gcc-aarch64-linux-gnu libc6-dev-arm64-cross
	BUSYBOX=$(foreign_deb busybox-static:arm64)/bin/busybox || exit 1
	CC=aarch64-linux-gnu-gcc
	;;
*) die "initramfs.sh: unknown --arch '$ARCH' (x86_64 or arm64)" ;;
esac
INIT=$XENMM_TOP/tools/testing/boot/init
GNTSELF=$XENMM_TOP/tools/testing/boot/gntself.c
SCRIBBLE=$XENMM_TOP/tools/testing/boot/scribble.c
files=("$BUSYBOX" "$INIT" "$GNTSELF" "$SCRIBBLE")
for d in "${EXTRAS[@]}"; do
	while read -r f; do files+=("$f"); done < <(find "$d" -type f | LC_ALL=C sort)
done
key=$(hash_of "${files[@]}")
out=$XENMM_CACHE/initramfs/initrd-$ARCH-$key.cpio.gz
if [ ! -f "$out" ]; then
	root=$XENMM_CACHE/initramfs/root-$key
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc/xenmm.d,root}
	cp "$BUSYBOX" "$root/bin/busybox"
	cp "$INIT" "$root/init"
	chmod 755 "$root/init"
	$CC -static -O2 -Wall -o "$root/bin/gntself" "$GNTSELF" ||
		die "cannot build tools/testing/boot/gntself.c"
	$CC -static -O2 -Wall -o "$root/bin/scribble" "$SCRIBBLE" ||
		die "cannot build tools/testing/boot/scribble.c"
	for d in "${EXTRAS[@]}"; do
		cp -a "$d"/. "$root"/
	done
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9) >"$out.tmp" ||
		die "cpio failed"
	mv "$out.tmp" "$out"
	rm -rf "$root"
	progress "initramfs: $(du -h "$out" | cut -f1) $out"
fi
echo "$out"
