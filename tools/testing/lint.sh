#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: the kernel's own checkers on our files, each a PASS/FAIL line.
#  - scripts/checkpatch.pl --strict on our C sources and headers, and on
#    patches/linux/;
#  - sparse (C=2) and W=1 builds of our objects (needs a built kernel);
#  - scripts/kernel-doc -none on our sources.
# Exits non-zero if any finds something.

source "$(dirname "$0")/build/common.sh"

need_pkgs sparse
src=$("$XENMM_TOP/tools/testing/build/kernel.sh" --prepare-only | tail -n 1) || exit 1
out=$XENMM_CACHE/linux/out-x86_64
log=$XENMM_LOGS/lint.log
: >"$log"
fail=0

result()
{
	if [ "$2" = 0 ]; then echo "PASS lint/$1: $3"; else echo "FAIL lint/$1: $3"; fail=1; fi
}

cd "$XENMM_TOP" || exit 1
sources=$(find arch drivers include -name '*.[ch]' | LC_ALL=C sort)
# The test modules are kernel code too (checkpatch and kernel-doc only:
# sparse would need them built as part of the tree).
modsrc=$(find tools/testing/unpopulated tools/testing/xen-initrd tools/testing/stress \
	tools/testing/p2m-initmap tools/testing/p2m-notowned -name '*.[ch]' | LC_ALL=C sort)

n=0
for f in $sources $modsrc; do
	"$src/scripts/checkpatch.pl" --strict --no-tree --terse -f "$f" >>"$log" 2>&1 || n=$((n + 1))
done
result checkpatch $n "checkpatch --strict: $n of $(echo $sources $modsrc | wc -w) files with findings"

# From outside our git checkout: inside it checkpatch misreads the blank
# context lines of the patches as added trailing whitespace.
n=0
for p in patches/linux/*.patch; do
	(cd "$src" && ./scripts/checkpatch.pl --strict --no-tree --terse "$XENMM_TOP/$p") >>"$log" 2>&1 ||
		n=$((n + 1))
done
result checkpatch-patches $n "checkpatch --strict: $n of $(ls patches/linux/*.patch | wc -l) patches with findings"

# A hunk shorter than its lines is applied without a word, less its tail.
n=$(python3 "$XENMM_TOP/tools/testing/build/patch-hunks.py" patches/linux/*.patch \
	xen/patches/*.patch 2>&1 | tee "$XENMM_LOGS/lint-hunks.log" | wc -l)
result patch-hunks $n "hunk line counts: $n hunks of patches/linux and xen/patches wrong"

"$src/scripts/kernel-doc" -none $sources $modsrc >"$XENMM_LOGS/lint-kdoc.log" 2>&1
n=$(grep -c -i "warning\|error" "$XENMM_LOGS/lint-kdoc.log")
result kernel-doc $n "kernel-doc -none: $n warnings"

if [ -f "$out/.config" ]; then
	objs=$(for f in $sources; do
		case $f in *.c) [ -f "$out/${f%.c}.o" ] && echo "${f%.c}.o" ;; esac
	done)
	make -C "$src" O="$out" C=2 W=1 $objs >"$XENMM_LOGS/lint-sparse.log" 2>&1
	rc=$?
	n=$(grep -c "warning:\|error:" "$XENMM_LOGS/lint-sparse.log")
	result sparse-w1 $((rc || n)) "sparse and W=1 on $(echo $objs | wc -w) objects: $n findings"
else
	result sparse-w1 1 "no built kernel in $out"
fi
[ $fail -eq 0 ] || { echo "lint findings: $log $XENMM_LOGS/lint-*.log" >&2; grep -v "^total" "$log" | head -n 20 >&2; }
exit $fail
