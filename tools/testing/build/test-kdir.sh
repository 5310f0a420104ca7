#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of "make kernel KDIR=...": the overlay applied to someone else's
# tree.  Builds small stand-in trees from the pristine 6.1 source (only the
# files a kernel tree is recognised by and the files our patches touch),
# runs kernel.sh --kdir --prepare-only on them and prints PASS/FAIL lines.

source "$(dirname "$0")/common.sh"

need_pkgs git patch

K=$XENMM_TOP/tools/testing/build/kernel.sh
pristine=$(ls -d "$XENMM_CACHE"/linux/pristine-* 2>/dev/null | head -n 1)
[ -d "$pristine" ] || die "no pristine tree in the cache yet (run make kernel)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

result()
{
	if [ "$2" = 0 ]; then echo "PASS kdir/$1: $3"; else echo "FAIL kdir/$1: $3"; fi
}

# A stand-in tree: Makefile, Kconfig, and every file a patch touches.
mktree()
{
	mkdir -p "$1/arch/x86/xen" "$1/drivers/xen"
	copy_tree_files "$pristine" "$1" Makefile Kconfig \
		$(sed -n 's#^+++ b/##p' "$XENMM_TOP"/patches/linux/*.patch | sort -u)
}

mktree "$work/ok"
"$K" --kdir "$work/ok" --prepare-only >"$work/log1" 2>&1
rc=$?
cmp -s "$XENMM_TOP/arch/x86/xen/p2m.c" "$work/ok/arch/x86/xen/p2m.c" &&
	grep -q "config XEN_P2M_TREE$" "$work/ok/drivers/xen/Kconfig" &&
	grep -q "config XEN_P2M_BENCH" "$work/ok/arch/x86/xen/Kconfig" &&
	grep -q p2m_tree_lookup "$work/ok/arch/x86/include/asm/xen/page.h"
result applies $((rc || $?)) "rc $rc, $(grep -o 'overlay: .*' "$work/log1")"

cp -r "$work/ok" "$work/ok-first"
"$K" --kdir "$work/ok" --prepare-only >"$work/log2" 2>&1
rc=$?
diff -r -x .xenmm-orig -x .xenmm-manifest "$work/ok-first" "$work/ok" >/dev/null
result idempotent $((rc || $?)) "second run: rc $rc, $(grep -o 'overlay: .*' "$work/log2"), tree unchanged"

mktree "$work/bad"
sed -i 's/\txen_vmalloc_p2m_tree();/\txen_build_p2m_list();/' \
	"$work/bad/arch/x86/xen/mmu_pv.c"
"$K" --kdir "$work/bad" --prepare-only >"$work/log3" 2>&1
rc=$?
grep -q "patch does not apply to .*: patches/linux/0003" "$work/log3"
found=$?
untouched=0
[ -f "$work/bad/arch/x86/xen/p2m_tree.c" ] || [ -f "$work/bad/drivers/xen/p2m_tree.c" ] && untouched=1
result refuses-conflict $((rc == 0 || found || untouched)) \
	"rc $rc, $(grep -o 'patch does not apply.*' "$work/log3" | head -n 1), tree untouched: $((!untouched))"

"$K" --kdir "$work" --prepare-only >"$work/log4" 2>&1
rc=$?
grep -q "is not a Linux 6.1 source tree" "$work/log4"
result refuses-non-tree $((rc == 0 || $?)) "$(grep -o 'error: .*' "$work/log4" | head -n 1 | cut -c1-80)"


# Two checkouts sharing one cache at once (a user's two clones, or a run
# beside CI): each lays the overlay onto a tree of its own, through the
# same staging directories in the cache.  The second must wait for the
# first (XENMM_TEST_HOLD_LOCK keeps the lock long enough to overlap) and
# both trees must come out right.
cache=$work/shared-cache
for c in one two; do
	mkdir -p "$work/checkout-$c"
	(cd "$XENMM_TOP" && git ls-files -z | xargs -0 cp --parents -t "$work/checkout-$c") ||
		die "cannot copy this checkout's files"
	mktree "$work/tree-$c"
done
for c in one two; do
	env -u XENMM_LOCK_HELD XENMM_CACHE="$cache" XENMM_TEST_HOLD_LOCK=3 \
		"$work/checkout-$c/tools/testing/build/kernel.sh" \
		--kdir "$work/tree-$c" --prepare-only >"$work/log-$c" 2>&1 &
	eval "pid_$c=$!"
	sleep 0.5
done
wait "$pid_one"; rc_one=$?
wait "$pid_two"; rc_two=$?
ok=$((rc_one || rc_two))
for c in one two; do
	cmp -s "$XENMM_TOP/arch/x86/xen/p2m.c" "$work/tree-$c/arch/x86/xen/p2m.c" || ok=1
done
waited=$(grep -l "waiting for the cache" "$work/log-one" "$work/log-two" | wc -l)
[ "$waited" -eq 1 ] || ok=1
result concurrent-checkouts $ok \
	"rc $rc_one and $rc_two, $waited of 2 waited for the other, both trees carry the overlay"
