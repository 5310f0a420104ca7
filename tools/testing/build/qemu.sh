#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build qemu-system-x86_64 from Debian's source of the installed
# qemu-system-x86, with tools/testing/qemu/*.patch on top, and print the
# binary's path.  Only the domU test boots it: its PVH domU needs
# 0001 (Documentation/xen/testing.rst, "QEMU"); every other boot runs
# Debian's binary.  The build is cached under $XENMM_CACHE/qemu, keyed by
# the source version, the patches and the configure options; it looks for
# its firmware where Debian's packages install it, as Debian's binary
# does.
#
#   qemu.sh [--fetch]
#
# --fetch only installs the build's packages and downloads the source, so
# that a caller can do that in the foreground (apt-get allows one at a
# time) and leave the build to the background.

source "$(dirname "$0")/common.sh"

fetch=
case $* in
'') ;;
--fetch) fetch=1 ;;
*) die "usage: qemu.sh [--fetch]" ;;
esac
xenmm_lock

need_pkgs qemu-system-x86 build-essential dpkg-dev patch meson ninja-build \
	pkg-config libglib2.0-dev libpixman-1-dev libfdt-dev zlib1g-dev
version=$(dpkg-query -W -f='${source:Version}' qemu-system-x86) ||
	die "cannot read the version of qemu-system-x86"
srcdir=$XENMM_CACHE/qemu/source-${version//[:~]/_}
patches=("$XENMM_TOP"/tools/testing/qemu/[0-9][0-9][0-9][0-9]-*.patch)
[ -e "${patches[0]}" ] || die "no patches in tools/testing/qemu"
# x86_64 system emulation with TCG and nothing optional: the boots use a
# serial console, -kernel and isa-debug-exit, no display or disk.
configure=(--target-list=x86_64-softmmu --without-default-features
	--enable-tcg --enable-fdt=system --disable-docs --disable-werror
	--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu)
key=$( { hash_of "${patches[@]}"; echo "${configure[*]}"; } | sha256sum | cut -c1-16)
out=$XENMM_CACHE/qemu/x86_64-${version//[:~]/_}-$key
bin=$out/qemu-system-x86_64
if [ -x "$bin" ] && [ -f "$out/done" ]; then
	[ -n "$fetch" ] || echo "$bin"
	exit 0
fi

# The source of the installed binary, so that the firmware it finds is
# the one it was built with.
dl=$(debian_source_download qemu "$version" "$srcdir") ||
	die "no source of the installed qemu-system-x86 $version (apt-get install --only-upgrade qemu-system-x86 may bring one apt knows)"
[ -z "$fetch" ] || exit 0
src=$out/src
rm -rf "$out"
mkdir -p "$out"
# A failed build leaves nothing behind for the next run to trip over.
trap '[ -f "$out/done" ] || rm -rf "$out"' EXIT
progress "qemu: unpacking Debian's source $version and applying tools/testing/qemu"
run_logged "$XENMM_LOGS/qemu-unpack.log" dpkg-source -x "$dl"/*.dsc "$src" ||
	die "dpkg-source failed (log: $XENMM_LOGS/qemu-unpack.log)"
rm -f "$out"/*.tar.*	# dpkg-source leaves a copy of the tarballs beside $src
for p in "${patches[@]}"; do
	run_logged "$XENMM_LOGS/qemu-patch.log" patch -d "$src" -p1 -i "$p" ||
		die "$(basename "$p") does not apply to qemu $version"
done

progress "qemu: building qemu-system-x86_64 (~5 min on 2 cores; log: $XENMM_LOGS/qemu-build.log)"
mkdir -p "$out/build"
(cd "$out/build" &&
	"$src/configure" "${configure[@]}" &&
	ninja -j "$XENMM_JOBS" qemu-system-x86_64) >"$XENMM_LOGS/qemu-build.log" 2>&1 || {
	tail -n 30 "$XENMM_LOGS/qemu-build.log" >&2
	die "the qemu build failed (log: $XENMM_LOGS/qemu-build.log)"
}
cp "$out/build/qemu-system-x86_64" "$bin"
rm -rf "$out/build" "$src"
"$bin" --version >/dev/null || die "$bin does not run"
touch "$out/done"
echo "$bin"
