#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make series: export the overlay as a git format-patch series against
# pristine Linux 6.1, one logical change per patch: each patch of
# patches/linux/ together with the files of ours that
# patches/linux/series-files assigns to it, plus a cover letter.
#
#   series.sh [--check]
#
# Writes $XENMM_CACHE/series/*.patch.  With --check, also applies the
# series with git am to a fresh copy of the pristine files and compares
# the result with the tree make kernel builds; prints PASS/FAIL lines.

source "$(dirname "$0")/common.sh"

need_pkgs git patch
CHECK=
[ "${1:-}" = --check ] && CHECK=1

src=$("$XENMM_TOP/tools/testing/build/kernel.sh" --prepare-only | tail -n 1) || exit 1
pristine=$(cat "$src/.xenmm-pristine")
map=$XENMM_TOP/patches/linux/series-files
out=$XENMM_CACHE/series
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git_c() { git -c user.name="xenmm developers" -c user.email=xenmm@localhost "$@"; }

# Every file of ours is assigned to exactly one patch.
ours=$(cd "$XENMM_TOP" && find arch drivers include -type f | LC_ALL=C sort)
listed=$(sed -n 's/^[^#][^:]*: //p' "$map" | tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort)
missing=$(comm -23 <(echo "$ours") <(echo "$listed"))
extra=$(comm -13 <(echo "$ours") <(echo "$listed" | uniq))
dups=$(echo "$listed" | uniq -d)
[ -z "$missing$extra$dups" ] ||
	die "patches/linux/series-files does not match our files: unlisted: ${missing:-none}; not ours: ${extra:-none}; listed twice: ${dups:-none}"

# A repository holding the pristine version of every file we touch.
touched=$( { echo "$ours"; sed -n 's#^+++ b/##p' "$XENMM_TOP"/patches/linux/*.patch; } | LC_ALL=C sort -u)
repo=$work/linux
copy_tree_files "$pristine" "$repo" $touched
(cd "$repo" && git init -q && git add -A && git_c commit -qm "Linux 6.1 (pristine files)") || die "git init failed"
base=$(git -C "$repo" rev-parse HEAD)

while IFS=: read -r patch files; do
	case $patch in ''|'#'*) continue ;; esac
	(cd "$repo" && git_c am -q "$XENMM_TOP/patches/linux/$patch") ||
		die "git am failed on patches/linux/$patch"
	for f in $files; do
		mkdir -p "$repo/$(dirname "$f")"
		cp "$XENMM_TOP/$f" "$repo/$f"
	done
	(cd "$repo" && git add -A && git_c commit -q --amend --no-edit) || die "commit failed"
done <"$map"

rm -rf "$out"
mkdir -p "$out"
git -C "$repo" format-patch -q --cover-letter -o "$out" "$base" || die "format-patch failed"
python3 - "$out"/0000-cover-letter.patch <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("*** SUBJECT HERE ***", "xen: a three-level P2M tree for x86 PV, and unpopulated pages from unused space")
s = s.replace("*** BLURB HERE ***", """This series replaces the x86 PV P2M's virtually mapped linear list by a
three-level tree (top -> mid -> leaf pages) with shared missing and
identity sentinels at the leaf and mid level, so that wholly missing or
identity 2 MiB and 1 GiB spans cost no memory.  Lookups stay lockless;
nodes are installed with cmpxchg().  Xen's initial list is adopted as
the first leaves without a copy.  The tree itself (drivers/xen/p2m_tree.c)
knows nothing of Xen and is tested on UML with KUnit and on the host.

Patch 1 adds a KUnit suite that checks a running PV guest's P2M against
Xen's memory map and M2P, passing with the current code first.
Patch 2 adds the tree, patch 3 moves x86 PV onto it, patch 4 adds a
lookup benchmark to debugfs.

Patches 5-7 rewrite unpopulated-alloc on a pool
(drivers/xen/scratch_pool.c) that takes section-sized ranges from the
"Xen unused space" the architecture finds, requests in /proc/iomem only
the ranges in use, as "Xen scratch", refuses strangers and double frees,
and gives a range back once it has been idle.  On x86 the unused space is
the gaps of the Xen memory map above 4 GiB (upstream took dom0's ranges
from machine RAM it does not own).  Patch 6 fixes x86 hot-remove on Xen
PV, which freed page-table pages the hypervisor still held read-only.""")
open(p, "w").write(s)
PY
echo "series: $(ls "$out" | wc -l) files in $out" >&2

[ -n "$CHECK" ] || exit 0

# Apply to fresh pristine files with git am; compare with the tree we build.
fresh=$work/fresh
copy_tree_files "$pristine" "$fresh" $touched
(cd "$fresh" && git init -q && git add -A && git_c commit -qm pristine &&
	for p in "$out"/0*.patch; do
		case $p in *0000-cover-letter.patch) continue ;; esac
		git_c am -q "$p" || exit 1
	done) >"$work/am.log" 2>&1
rc=$?
n=$(ls "$out" | grep -vc cover-letter)
if [ $rc -eq 0 ]; then echo "PASS series/git-am: $n patches apply with git am"; else echo "FAIL series/git-am: $(tail -n 2 "$work/am.log")"; fi
diffs=0
for f in $touched; do
	cmp -s "$fresh/$f" "$src/$f" || { diffs=$((diffs + 1)); echo "  differs: $f" >&2; }
done
if [ $diffs -eq 0 ]; then
	echo "PASS series/same-as-built: the series gives exactly the $(echo "$touched" | wc -l) files make kernel builds"
else
	echo "FAIL series/same-as-built: $diffs files differ from the built tree"
fi
