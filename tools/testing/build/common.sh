# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the xenmm build and test scripts.  Sourced, not run.
#
# Everything built or unpacked lives under $XENMM_CACHE (default
# ~/.cache/xenmm), never inside the repository, so a clean clone stays clean
# and a second run is incremental.

set -o pipefail

XENMM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
XENMM_CACHE=${XENMM_CACHE:-$HOME/.cache/xenmm}
XENMM_LOGS=$XENMM_CACHE/logs
XENMM_JOBS=${XENMM_JOBS:-$(nproc)}
mkdir -p "$XENMM_CACHE" "$XENMM_LOGS"

# Base packages (DESIGN.md section 1): Debian's, nothing downloaded elsewhere.
LINUX_TARBALL=${LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
XEN_DEBIAN_GZ=${XEN_DEBIAN_GZ:-/boot/xen-4.17-amd64.gz}

_xenmm_t0=${_xenmm_t0:-$(date +%s)}
export _xenmm_t0

# progress MSG: one line on stderr, prefixed with the time since start.
progress()
{
	local now=$(($(date +%s) - _xenmm_t0))

	printf '[%3d:%02d] %s\n' $((now / 60)) $((now % 60)) "$*" >&2
}

die()
{
	printf 'xenmm: error: %s\n' "$*" >&2
	exit 1
}

# run_logged LOG CMD...: run CMD with all output to LOG; on failure show the
# tail of LOG and where the whole of it is.
run_logged()
{
	local log=$1

	shift
	if ! "$@" >"$log" 2>&1; then
		printf 'xenmm: command failed: %s\n' "$*" >&2
		printf -- '--- last 30 lines of %s ---\n' "$log" >&2
		tail -n 30 "$log" >&2
		return 1
	fi
}

# hash_of FILE...: a short content hash over files (names and contents).
hash_of()
{
	local f

	for f in "$@"; do
		printf '%s\n' "${f#"$XENMM_TOP"/}"
		cat "$f"
	done | sha256sum | cut -c1-16
}

# need_pkgs PKG...: install whatever of PKG is missing, quietly when nothing
# is.  apt-get update runs at most once per day of cache.
need_pkgs()
{
	local missing=() p stamp=$XENMM_CACHE/apt-updated

	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0

	[ "$(id -u)" -eq 0 ] ||
		die "missing packages: ${missing[*]}; run as root (or install them)"
	progress "apt: installing ${missing[*]}"
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		run_logged "$XENMM_LOGS/apt-update.log" apt-get update -q ||
			die "apt-get update failed (log: $XENMM_LOGS/apt-update.log)"
		touch "$stamp"
	fi
	for p in "${missing[@]}"; do
		apt-cache show "$p" >/dev/null 2>&1 ||
			die "package '$p' is not known to apt (check /etc/apt/sources.list)"
	done
	DEBIAN_FRONTEND=noninteractive run_logged "$XENMM_LOGS/apt-install.log" \
		apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed (log: $XENMM_LOGS/apt-install.log)"
}

# foreign_deb PKG:ARCH: download a package meant for a guest (not to be
# installed on this host), unpack it once under the cache and print the
# directory it was unpacked into.  Adds ARCH to dpkg's architectures the
# first time (DESIGN.md section 6).
foreign_deb()
{
	local pkg=${1%%:*} arch=${1#*:} dir deb

	# Unpacked since apt's package lists last changed: no need to ask apt.
	dir=$(ls -d "$XENMM_CACHE/debs/$pkg-$arch-"* 2>/dev/null | tail -n 1)
	if [ -n "$dir" ] && [ "$dir" -nt /var/cache/apt/pkgcache.bin ]; then
		echo "$dir"
		return 0
	fi
	dpkg --print-foreign-architectures | grep -qx "$arch" ||
		[ "$arch" = "$(dpkg --print-architecture)" ] || {
		[ "$(id -u)" -eq 0 ] || die "need root to add dpkg architecture $arch"
		progress "apt: adding architecture $arch"
		dpkg --add-architecture "$arch" || die "dpkg --add-architecture $arch failed"
		rm -f "$XENMM_CACHE/apt-updated"
	}
	if [ -z "$(find "$XENMM_CACHE/apt-updated" -mmin -1440 2>/dev/null)" ] ||
	   ! apt-cache show "$pkg:$arch" >/dev/null 2>&1; then
		run_logged "$XENMM_LOGS/apt-update.log" apt-get update -q ||
			die "apt-get update failed (log: $XENMM_LOGS/apt-update.log)"
		touch "$XENMM_CACHE/apt-updated"
	fi
	apt-cache show "$pkg:$arch" >/dev/null 2>&1 ||
		die "package '$pkg:$arch' is not known to apt"
	dir=$XENMM_CACHE/debs/$pkg-$arch-$(apt-cache policy "$pkg:$arch" |
		sed -n 's/^ *Candidate: //p' | tr ':~' '__')
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir.dl"
		(cd "$dir.dl" && run_logged "$XENMM_LOGS/apt-download.log" \
			apt-get download "$pkg:$arch") ||
			die "apt-get download $pkg:$arch failed (log: $XENMM_LOGS/apt-download.log)"
		deb=$(ls "$dir.dl"/*.deb)
		mkdir -p "$dir.tmp" && dpkg-deb -x "$deb" "$dir.tmp" ||
			die "cannot unpack $deb"
		rm -rf "$dir.dl"
		mv "$dir.tmp" "$dir"
	fi
	touch "$dir"
	echo "$dir"
}

# kernel_image ARCH: the image a kernel build's O= directory holds.
kernel_image()
{
	case $1 in
	arm64) echo arch/arm64/boot/Image ;;
	*) echo arch/x86/boot/bzImage ;;
	esac
}

# Packages every kernel build needs.
KERNEL_BUILD_PKGS="linux-source-6.1 build-essential bc bison flex libelf-dev
libssl-dev cpio xz-utils kmod rsync python3 patch"

# Packages the host harnesses need (gcc brings ASan, UBSan and TSan).
HOST_TEST_PKGS="build-essential make"

# copy_tree_files FROM TO FILE...: copy the FILEs that exist under FROM to
# the same paths under TO, writable (for stand-in trees of a few files).
copy_tree_files()
{
	local from=$1 to=$2 f

	shift 2
	for f in "$@"; do
		[ -f "$from/$f" ] || continue
		mkdir -p "$to/$(dirname "$f")"
		cp "$from/$f" "$to/$f"
	done
	chmod -R u+w "$to"
}

# Xen from Debian's source (DESIGN.md section 5), shared by xen.sh and
# xen-series.sh.
XEN_SRC_VERSION=${XEN_SRC_VERSION:-4.17.5+72-g01140da4e8-1}

# debian_source_download PKG VERSION DIR: Debian's source package PKG at
# VERSION, downloaded once into DIR (adds deb-src entries for Debian's
# archive if apt knows no such source); prints DIR.
debian_source_download()
{
	local pkg=$1 version=$2 dl=$3

	if ! apt-cache showsrc "$pkg" 2>/dev/null | grep -x "Version: $version" >/dev/null; then
		[ "$(id -u)" -eq 0 ] || die "need root to add Debian's deb-src entry"
		progress "apt: adding deb-src for Debian's archive (/etc/apt/sources.list.d/xenmm-src.sources)"
		cat >/etc/apt/sources.list.d/xenmm-src.sources <<-EOS
		Types: deb-src
		URIs: http://deb.debian.org/debian
		Suites: bookworm bookworm-updates
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

		Types: deb-src
		URIs: http://deb.debian.org/debian-security
		Suites: bookworm-security
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOS
		run_logged "$XENMM_LOGS/apt-update.log" apt-get update -q ||
			die "apt-get update failed (log: $XENMM_LOGS/apt-update.log)"
		apt-cache showsrc "$pkg" | grep -x "Version: $version" >/dev/null ||
			die "apt knows no source of $pkg $version"
	fi
	if [ ! -f "$dl/done" ]; then
		progress "downloading Debian's $pkg $version source"
		rm -rf "$dl"
		mkdir -p "$dl"
		(cd "$dl" && run_logged "$XENMM_LOGS/$pkg-source.log" \
			apt-get source --download-only "$pkg=$version") ||
			die "cannot download the $pkg source (log: $XENMM_LOGS/$pkg-source.log)"
		touch "$dl/done"
	fi
	echo "$dl"
}

# xen_source_download: Debian's xen source package in the cache; prints its
# directory.
xen_source_download()
{
	debian_source_download xen "$XEN_SRC_VERSION" "$XENMM_CACHE/xen/source-$XEN_SRC_VERSION"
}

# xen_unpack_debian DL DEST: unpack the source in DL into DEST, apply
# Debian's quilt series and commit the result as the base of a git tree.
xen_unpack_debian()
{
	local dl=$1 dest=$2

	rm -rf "$dest"
	dpkg-source -x --skip-patches "$dl"/*.dsc "$dest" >"$XENMM_LOGS/xen-unpack.log" 2>&1 ||
		die "dpkg-source failed (log: $XENMM_LOGS/xen-unpack.log)"
	(cd "$dest" && QUILT_PATCHES=debian/patches quilt push -a -q) \
		>>"$XENMM_LOGS/xen-unpack.log" 2>&1 ||
		die "Debian's quilt series did not apply (log: $XENMM_LOGS/xen-unpack.log)"
	(cd "$dest" && rm -rf .pc && git init -q && git add -A &&
		git -c user.name=xenmm -c user.email=xenmm@localhost \
			commit -qm "xen $XEN_SRC_VERSION with Debian's patches") ||
		die "git init of the xen tree failed"
}

# xen_series_patches: the patches of our Xen series, in order, without the
# cover letter.
xen_series_patches()
{
	local p

	for p in "$XENMM_TOP"/xen/patches/[0-9][0-9][0-9][0-9]-*.patch; do
		[ -e "$p" ] || continue
		case $(basename "$p") in 0000-cover-letter.patch) continue ;; esac
		echo "$p"
	done
}

# xen_worktree TREE DIR [COMMIT]: a fresh git worktree of TREE at COMMIT
# (default HEAD) at DIR, for a variant build of a patched Xen tree that
# leaves the tree alone.
xen_worktree()
{
	rm -rf "$2"
	git -C "$1" worktree prune
	git -C "$1" worktree add -q --detach "$2" "${3:-HEAD}" ||
		die "cannot add a worktree of $1"
}

# The cache is shared by every checkout of a user (clones, worktrees, a CI
# run beside an interactive one): work trees, staging directories and
# build outputs in it are rewritten in place.  The first xenmm script of a
# run takes an exclusive lock on it; scripts it starts inherit the lock
# (XENMM_LOCK_HELD), and a second run waits, saying whose run it waits for.
xenmm_lock()
{
	local lock=$XENMM_CACHE/.lock

	[ -n "$XENMM_LOCK_HELD" ] && return 0
	exec {_xenmm_lock_fd}>>"$lock" || die "cannot open $lock"
	if ! flock -n "$_xenmm_lock_fd"; then
		progress "waiting for the cache: in use by $(cat "$lock.owner" 2>/dev/null || echo 'another run')"
		flock "$_xenmm_lock_fd" || die "cannot lock $lock"
		progress "cache free, going on"
	fi
	echo "pid $$ ($(basename "$0")) of $XENMM_TOP, since $(date +%T)" >"$lock.owner"
	export XENMM_LOCK_HELD=$$
	# Test hook (the concurrent-checkouts case of test-kdir.sh): hold the lock a
	# while, so that two runs surely overlap.
	[ -n "$XENMM_TEST_HOLD_LOCK" ] && sleep "$XENMM_TEST_HOLD_LOCK"
	return 0
}
xenmm_lock
