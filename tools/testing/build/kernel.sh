#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build Linux 6.1 with the xenmm overlay.
#
#   kernel.sh [--arch x86_64] [--kdir DIR] [--config NAME,...] [--variant NAME]
#             [--prepare-only]
#
# Without --kdir: extract Debian's linux-source-6.1 once into the cache, keep
# a work tree that is the pristine tree plus our overlay plus patches/linux,
# and build it out of tree (O=).  Only files whose content changed are
# rewritten, so a second run with nothing changed only re-runs make.
#
# With --kdir DIR: lay the same overlay and patches onto the user's own
# 6.1-based tree DIR (refusing if it is not one, or if a patch does not
# apply), then build it with O= in the cache.
#
# --variant NAME builds another flavour in its own tree and build directory,
# as tools/testing/build/variants/NAME says: which of our files and patches
# to leave out ("exclude PATH"), which config fragments to use instead of
# the arch's ("configs a,b") or on top of them ("add-configs a,b", or
# "add-configs-ARCH a,b" for one architecture only).
#
# Prints the path of the build directory on stdout when done.

source "$(dirname "$0")/common.sh"

ARCH=x86_64
KDIR=
CONFIGS=
PREPARE_ONLY=
TARGETS=
VARIANT=
EXCLUDES=

while [ $# -gt 0 ]; do
	case $1 in
	--arch) ARCH=$2; shift 2 ;;
	--kdir) KDIR=$2; shift 2 ;;
	--config) IFS=, read -r -a CONFIGS <<<"$2"; shift 2 ;;
	--targets) TARGETS=$2; shift 2 ;;
	--prepare-only) PREPARE_ONLY=1; shift ;;
	--variant) VARIANT=$2; shift 2 ;;
	*) die "kernel.sh: unknown argument '$1'" ;;
	esac
done

case $ARCH in
x86_64) KARCH=x86; CROSS=; IMAGE=arch/x86/boot/bzImage ;;
arm64) KARCH=arm64; CROSS=aarch64-linux-gnu-; IMAGE=arch/arm64/boot/Image ;;
*) die "unsupported --arch '$ARCH' (x86_64 or arm64)" ;;
esac
[ -n "$TARGETS" ] || TARGETS="${IMAGE#arch/*/boot/} modules"
if [ -z "$CONFIGS" ]; then
	case $ARCH in
	x86_64) CONFIGS=(xen-dom0 xenmm-tests) ;;
	arm64) CONFIGS=(arm64-dom0 arm64-tests) ;;
	esac
fi

OVERLAY_DIRS="arch drivers include"

if [ -n "$VARIANT" ]; then
	vfile=$XENMM_TOP/tools/testing/build/variants/$VARIANT
	[ -f "$vfile" ] || die "unknown variant '$VARIANT' (see tools/testing/build/variants/)"
	EXCLUDES=$(sed -n 's/^exclude //p' "$vfile")
	vconf=$(sed -n 's/^configs //p' "$vfile")
	[ -n "$vconf" ] && IFS=, read -r -a CONFIGS <<<"$vconf"
	for c in $(sed -n -e 's/^add-configs //p' -e "s/^add-configs-$ARCH //p" "$vfile" | tr , ' '); do
		CONFIGS+=("$c")
	done
fi
SUFFIX=$ARCH${VARIANT:+-$VARIANT}

# not_excluded: filter out the paths the variant leaves out.
not_excluded()
{
	if [ -n "$EXCLUDES" ]; then
		grep -vxF -f <(printf '%s\n' $EXCLUDES)
	else
		cat
	fi
}
CONFIG_DIR=$XENMM_TOP/tools/testing/configs

need_pkgs $KERNEL_BUILD_PKGS
[ "$ARCH" = arm64 ] && need_pkgs gcc-aarch64-linux-gnu

# ---------------------------------------------------------------------------
# The tree: a pristine extraction (read-only reference) and a work tree.

overlay_files()
{
	(cd "$XENMM_TOP" && find $OVERLAY_DIRS -type f 2>/dev/null | LC_ALL=C sort) |
		not_excluded
}

patch_files()
{
	(cd "$XENMM_TOP" && find patches/linux -maxdepth 1 -name '*.patch' 2>/dev/null |
		LC_ALL=C sort | not_excluded | sed "s#^#$XENMM_TOP/#")
}

# Files a patch creates or modifies, from its +++/--- headers.
patch_targets()
{
	sed -n -e 's#^+++ b/##p' -e 's#^--- a/##p' "$1" | sed 's/\t.*//' | sort -u
}

is_kernel_tree()
{
	[ -f "$1/Makefile" ] && [ -f "$1/Kconfig" ] &&
		[ -d "$1/arch/x86/xen" ] && [ -d "$1/drivers/xen" ] &&
		grep -q '^VERSION = 6$' "$1/Makefile" &&
		grep -q '^PATCHLEVEL = 1$' "$1/Makefile"
}

extract_pristine()
{
	local key dir

	[ -r "$LINUX_TARBALL" ] || die "$LINUX_TARBALL not found (package linux-source-6.1)"
	key=$(stat -c '%s-%Y' "$LINUX_TARBALL")
	dir=$XENMM_CACHE/linux/pristine-$key
	if [ ! -f "$dir/.xenmm-complete" ]; then
		progress "extracting $(basename "$LINUX_TARBALL")"
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp"
		tar -xJf "$LINUX_TARBALL" -C "$dir.tmp" --strip-components=1 ||
			die "cannot extract $LINUX_TARBALL"
		chmod -R a-w "$dir.tmp"
		mv "$dir.tmp" "$dir"
		chmod u+w "$dir"
		touch "$dir/.xenmm-complete"
	fi
	PRISTINE=$dir
}

# Build the final content of every file we own or patch in a staging
# directory: pristine copies of patched files, our overlay on top, then the
# patches in order.  Fails naming the patch that does not apply.
stage_overlay()
{
	local base=$1 stage=$2 f p

	rm -rf "$stage"
	mkdir -p "$stage"
	for p in $(patch_files); do
		for f in $(patch_targets "$p"); do
			[ -f "$base/$f" ] || continue
			mkdir -p "$stage/$(dirname "$f")"
			cp "$base/$f" "$stage/$f"
		done
	done
	overlay_files | while read -r f; do
		mkdir -p "$stage/$(dirname "$f")"
		cp "$XENMM_TOP/$f" "$stage/$f"
	done
	for p in $(patch_files); do
		if ! patch -d "$stage" -p1 -s -N -F0 --no-backup-if-mismatch -r - \
			<"$p" >"$XENMM_LOGS/patch.log" 2>&1; then
			cat "$XENMM_LOGS/patch.log" >&2
			die "patch does not apply: ${p#"$XENMM_TOP"/}"
		fi
		chmod -R u+w "$stage"
	done
}

# Make DEST hold exactly the staged files (and pristine content for files
# staged last time but not now), touching only files whose content differs.
sync_tree()
{
	local stage=$1 dest=$2 manifest=$2/.xenmm-manifest f changed=0

	(cd "$stage" && find . -type f | sed 's#^\./##' | LC_ALL=C sort) >"$manifest.new"
	if [ -f "$manifest" ]; then
		comm -23 "$manifest" "$manifest.new" | while read -r f; do
			if [ -f "$PRISTINE/$f" ]; then
				cp "$PRISTINE/$f" "$dest/$f"
			else
				rm -f "$dest/$f"
			fi
			chmod u+w "$dest/$f" 2>/dev/null
			echo "restored $f" >&2
		done
	fi
	while read -r f; do
		if ! cmp -s "$stage/$f" "$dest/$f"; then
			mkdir -p "$dest/$(dirname "$f")"
			cp "$stage/$f" "$dest/$f"
			changed=$((changed + 1))
		fi
	done <"$manifest.new"
	mv "$manifest.new" "$manifest"
	progress "overlay: $(wc -l <"$manifest") files ours or patched, $changed rewritten"
}

prepare_cache_tree()
{
	local tree=$XENMM_CACHE/linux/tree-$SUFFIX

	extract_pristine
	if [ "$(cat "$tree/.xenmm-pristine" 2>/dev/null)" != "$PRISTINE" ]; then
		progress "creating work tree $tree"
		rm -rf "$tree"
		cp -a "$PRISTINE" "$tree"
		chmod -R u+w "$tree"
		rm -f "$tree/.xenmm-complete"
		echo "$PRISTINE" >"$tree/.xenmm-pristine"
	fi
	stage_overlay "$PRISTINE" "$XENMM_CACHE/linux/stage-$SUFFIX"
	sync_tree "$XENMM_CACHE/linux/stage-$SUFFIX" "$tree"
	SRC=$tree
	OUT=$XENMM_CACHE/linux/out-$SUFFIX
}

# The user's tree: refuse anything that is not a 6.1 tree; stage the
# result of overlay + patches first, so a patch that does not apply stops
# everything before a file is touched.  The originals of the files we
# change are kept in KDIR/.xenmm-orig, so running again (after the overlay
# changed, or not) re-applies to the originals rather than on top.
prepare_user_tree()
{
	local f base stage orig

	[ -d "$KDIR" ] || die "KDIR=$KDIR: no such directory"
	KDIR=$(cd "$KDIR" && pwd)
	is_kernel_tree "$KDIR" ||
		die "KDIR=$KDIR is not a Linux 6.1 source tree (need Makefile with VERSION = 6, PATCHLEVEL = 1, arch/x86/xen, drivers/xen)"
	{ [ -f "$KDIR/.config" ] || [ -d "$KDIR/include/config" ]; } &&
		die "KDIR=$KDIR has been built in-tree; the overlay builds with O=, run 'make mrproper' there first"

	orig=$KDIR/.xenmm-orig
	base=$XENMM_CACHE/linux/kdir-base-$SUFFIX
	stage=$XENMM_CACHE/linux/kdir-stage-$SUFFIX
	rm -rf "$base"
	mkdir -p "$base" "$orig"
	for p in $(patch_files); do
		for f in $(patch_targets "$p"); do
			mkdir -p "$base/$(dirname "$f")"
			if [ -f "$orig/$f" ]; then
				cp "$orig/$f" "$base/$f"
			elif [ -f "$KDIR/$f" ]; then
				cp "$KDIR/$f" "$base/$f"
			fi
		done
	done
	stage_overlay "$base" "$stage" 2>&1 | sed "s#^xenmm: error: patch does not apply: #xenmm: error: patch does not apply to $KDIR: #" >&2
	[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1

	# Keep the originals of files we are about to change for the first time.
	(cd "$stage" && find . -type f | sed 's#^\./##') | while read -r f; do
		if [ -f "$KDIR/$f" ] && [ ! -f "$orig/$f" ] &&
		   ! grep -qxF "$f" "$KDIR/.xenmm-manifest" 2>/dev/null; then
			mkdir -p "$orig/$(dirname "$f")"
			cp "$KDIR/$f" "$orig/$f"
		fi
	done
	PRISTINE=$orig
	sync_tree "$stage" "$KDIR"
	SRC=$KDIR
	OUT=$XENMM_CACHE/linux/out-kdir-$(printf '%s' "$KDIR" | sha256sum | cut -c1-12)-$SUFFIX
}

# ---------------------------------------------------------------------------
# Configuration: tinyconfig plus our fragments; every option a fragment sets
# must survive olddefconfig, or we say which did not.

kmake()
{
	make -C "$SRC" O="$OUT" ARCH=$KARCH ${CROSS:+CROSS_COMPILE=$CROSS} "$@"
}

configure()
{
	local frags=() c key

	for c in "${CONFIGS[@]}"; do
		frags+=("$CONFIG_DIR/$c.config")
		[ -f "$CONFIG_DIR/$c.config" ] || die "no config fragment '$c' in ${CONFIG_DIR#"$XENMM_TOP"/}"
	done
	[ -f "$CONFIG_DIR/$ARCH.config" ] && frags=("$CONFIG_DIR/$ARCH.config" "${frags[@]}")
	key=$(hash_of "${frags[@]}")
	mkdir -p "$OUT"
	[ -f "$OUT/.config" ] && [ "$(cat "$OUT/.xenmm-config" 2>/dev/null)" = "$key" ] &&
		return 0

	progress "configuring ($ARCH: tinyconfig + ${CONFIGS[*]})"
	run_logged "$XENMM_LOGS/kconfig-$SUFFIX.log" kmake tinyconfig || die "tinyconfig failed"
	run_logged "$XENMM_LOGS/kconfig-$SUFFIX.log" \
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "${frags[@]}" ||
		die "merging config fragments failed"
	run_logged "$XENMM_LOGS/kconfig-$SUFFIX.log" kmake olddefconfig || die "olddefconfig failed"
	local bad line opt
	bad=$(cat "${frags[@]}" | while read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF "$line" "$OUT/.config" || echo "  $line" ;;
		"# CONFIG_"*" is not set")
			opt=${line#"# "}; opt=${opt%% *}
			grep -q "^$opt=" "$OUT/.config" && echo "  $line" ;;
		esac
	done)
	if [ -n "$bad" ]; then
		printf 'xenmm: these options from the fragments did not stick (unmet dependencies?):\n%s\n' "$bad" >&2
		die "kernel configuration incomplete"
	fi
	echo "$key" >"$OUT/.xenmm-config"
}

# Run make in the background, printing a progress line every 30 s.
build()
{
	local log=$XENMM_LOGS/kernel-$SUFFIX.log pid t0=$(date +%s) rc

	progress "building $TARGETS ($SUFFIX, -j$XENMM_JOBS, log: $log)"
	kmake -j"$XENMM_JOBS" $TARGETS >"$log" 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		for _ in $(seq 30); do
			kill -0 $pid 2>/dev/null || break
			sleep 1
		done
		kill -0 $pid 2>/dev/null &&
			progress "  still building: $(grep -c '^  CC' "$log") compiled, last: $(grep '^  [A-Z]' "$log" | tail -n 1 | sed 's/^ *//')"
	done
	wait $pid
	rc=$?
	if [ $rc -ne 0 ]; then
		printf -- '--- errors in %s ---\n' "$log" >&2
		grep -E 'error|Error|warning:' "$log" | head -n 30 >&2
		tail -n 10 "$log" >&2
		die "kernel build failed"
	fi
	progress "kernel built in $(($(date +%s) - t0)) s: $OUT/$IMAGE"
}

if [ -n "$KDIR" ]; then
	prepare_user_tree
else
	prepare_cache_tree
fi
[ -n "$PREPARE_ONLY" ] && { echo "$SRC"; exit 0; }
configure
build
echo "$OUT"
