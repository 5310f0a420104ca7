#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay out, as an initramfs overlay for dom0 (initramfs.sh --extra), what a
# domU test needs: Debian's Xen toolstack (xl, xenstored, xenconsoled and
# their libraries, downloaded and unpacked, never installed on this host),
# the domU's kernel (OUT's vmlinux, gzipped: xl decompresses a bzImage
# slowly under TCG) and initramfs, its xl config, and the /etc/xenmm.d
# snippet that runs the test (tools/testing/domu/domu.sh).
#
#   domu.sh OUT
#
# Prints the overlay's directory.

source "$(dirname "$0")/common.sh"

[ $# -eq 1 ] || die "usage: domu.sh KERNEL_OUT_DIR"
out=$1
[ -f "$out/vmlinux" ] || die "$out: no vmlinux (not a kernel build directory?)"

B=$XENMM_TOP/tools/testing
PKGS="xen-utils-4.17 xen-utils-common xenstore-utils libxenmisc4.17 libxencall1
libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenstore4 libxentoollog1
libyajl2 libxendevicemodel1 libxenhypfs1 libxentoolcore1"
BINS="usr/lib/xen-4.17/bin/xl usr/lib/xen-4.17/bin/xenstored
usr/lib/xen-4.17/bin/xenconsoled usr/lib/xen-4.17/bin/libxl-save-helper
usr/lib/xen-4.17/bin/xen-init-dom0 usr/bin/xenstore"

need_pkgs gzip libc-bin
dirs=()
for p in $PKGS; do
	dirs+=("$(foreign_deb "$p:$(dpkg --print-architecture)")") || exit 1
done
# The domUs get the test module too: the PVH one takes unpopulated pages.
mods=$("$B/build/modules.sh" "$out") || exit 1
domu_initrd=$("$B/build/initramfs.sh" --extra "$mods") || exit 1

key=$( { hash_of "$out/vmlinux" "$domu_initrd" "$B"/domu/* "$0"
	printf '%s\n' "${dirs[@]}"; } | sha256sum | cut -c1-16)
overlay=$XENMM_CACHE/domu/overlay-$key
if [ ! -d "$overlay" ]; then
	progress "domU overlay: toolstack, domU kernel and initramfs"
	tmp=$overlay.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"/{etc/xen,etc/xenmm.d,var/lib/xen,var/lib/xenmm,var/run/xen,var/log/xen/console,lib64}
	libpath=
	for d in "${dirs[@]}"; do
		[ -d "$d/usr/lib/x86_64-linux-gnu" ] && libpath+=${libpath:+:}$d/usr/lib/x86_64-linux-gnu
		for b in $BINS; do
			[ -e "$d/$b" ] || continue
			mkdir -p "$tmp/$(dirname "$b")"
			cp -a "$d/$b" "$tmp/$b"
		done
		# xenstore-read and friends are links to xenstore.
		[ -d "$d/usr/bin" ] && cp -a "$d"/usr/bin/xenstore-* "$tmp/usr/bin/" 2>/dev/null
	done
	for b in $BINS; do
		[ -e "$tmp/$b" ] || die "toolstack: $b is in none of the packages"
	done
	# Their libraries, from the packages or this host (same Debian).
	mkdir -p "$tmp/lib/x86_64-linux-gnu"
	libs=$(for b in $BINS; do LD_LIBRARY_PATH=$libpath ldd "$tmp/$b"; done |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u)
	for l in $libs /lib/x86_64-linux-gnu/libgcc_s.so.1; do
		cp -L "$l" "$tmp/lib/x86_64-linux-gnu/$(basename "$l")" ||
			die "toolstack: cannot copy library $l"
	done
	cp -L /lib64/ld-linux-x86-64.so.2 "$tmp/lib64/"
	# The domU.
	gzip -1 -c "$out/vmlinux" >"$tmp/var/lib/xenmm/domu-vmlinux.gz"
	cp "$domu_initrd" "$tmp/var/lib/xenmm/domu-initrd.gz"
	cp "$B/domu/xenmm-domu.cfg" "$B/domu/xenmm-pvh.cfg" "$B/domu/xl.conf" "$tmp/etc/xen/"
	cp "$B/domu/domu.sh" "$tmp/etc/xenmm.d/"
	mv "$tmp" "$overlay"
	progress "domU overlay: $(du -sh "$overlay" | cut -f1) in $overlay"
fi
echo "$overlay"
