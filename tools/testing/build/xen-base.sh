#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Our x86_64 debug Xen without the series, or with only its first N
# patches: the baselines of the series' reproducer (layout pc-1g-3node,
# Documentation/xen/xen-series.rst).  Built in a git worktree of the tree
# make xen builds, at the commit N patches past its base (Debian's source
# with Debian's patches), with the same .config, so that a boot under it
# differs from one under our Xen by the patches alone.
#
#   xen-base.sh [N]   N patches of xen/patches/ (default 0); prints the
#                     image QEMU's -kernel takes
#
# Cached by the tree's key and N.

source "$(dirname "$0")/common.sh"

n=${1:-0}
case $n in
'' | *[!0-9]*) die "xen-base.sh: N must be a number of patches, not '$n'" ;;
esac
xen=$("$XENMM_TOP/tools/testing/build/xen.sh" --arch x86_64 --flavour source) ||
	die "cannot build our Xen"
tree=${xen%/xen/xen}

# The tree's root commit is Debian's source; each patch of the series is
# one commit on it.
base=$(git -C "$tree" rev-list --max-parents=0 HEAD) || die "$tree is not a git tree"
mapfile -t commits < <(git -C "$tree" rev-list --reverse "$base..HEAD")
[ "$n" -le ${#commits[@]} ] ||
	die "xen-base.sh: the series has ${#commits[@]} patches, not $n"
at=$base
[ "$n" -gt 0 ] && at=${commits[n - 1]}

btree=$tree-base-$n
if [ ! -f "$btree/xen/xen" ]; then
	progress "building Xen with $n of the series' ${#commits[@]} patches (worktree $btree)"
	xen_worktree "$tree" "$btree" "$at"
	cp "$tree/xen/.config" "$btree/xen/.config"
	# The multiboot ELF is all QEMU boots (XEN_BUILD_PE=n).
	run_logged "$XENMM_LOGS/xen-base-$n.log" make -C "$btree/xen" XEN_TARGET_ARCH=x86_64 \
		XEN_BUILD_PE=n -j"$XENMM_JOBS" ||
		die "Xen with $n patches does not build (log: $XENMM_LOGS/xen-base-$n.log)"
fi
echo "$btree/xen/xen"
