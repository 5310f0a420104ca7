#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run our KUnit suites on UML, with KASAN, using the kernel's own
# kunit.py, against the cached work tree (pristine 6.1 + overlay +
# patches/linux), built with O= in the cache.  Prints kunit.py's summary; exits non-zero on failure.
#
#   kunit-uml.sh [KUNITCONFIG]   (default: drivers/xen/.kunitconfig)

source "$(dirname "$0")/build/common.sh"

KUNITCONFIG=${1:-$XENMM_TOP/drivers/xen/.kunitconfig}
[ -f "$KUNITCONFIG" ] || die "no kunitconfig $KUNITCONFIG"

src=$("$XENMM_TOP/tools/testing/build/kernel.sh" --prepare-only | tail -n 1) || exit 1
log=$XENMM_LOGS/kunit-uml.log
progress "kunit.py run (UML, $(basename "$(dirname "$KUNITCONFIG")")/.kunitconfig; ~4 min cold; log: $log)"
cd "$src" || exit 1
# With KASAN: UML supports it (x86 Xen guests do not; see
# Documentation/xen/testing.rst).
# kunit.py keeps the kernel's own output here: read for KASAN below.
raw=$XENMM_CACHE/linux/out-um-kasan/test.log
rm -f "$raw"
python3 tools/testing/kunit/kunit.py run --build_dir="$XENMM_CACHE/linux/out-um-kasan" \
	--kunitconfig="$KUNITCONFIG" --kconfig_add CONFIG_KASAN=y \
	--kconfig_add CONFIG_KASAN_VMALLOC=y --jobs="$XENMM_JOBS" --timeout=300 >"$log" 2>&1
rc=$?
grep -E "^\[[0-9:]+\] (=+|Testing complete|(\[PASSED\]|\[FAILED\]|\[SKIPPED\])|.*Ran [0-9]+ tests)" "$log" |
	sed 's/^\[[0-9:]*\] //' | grep -E "PASSED|FAILED|SKIPPED|Testing complete|Ran" | tail -n 40
# 6.1's KASAN fails the KUnit case it reports in only when the KASAN
# test suite is built; kunit.py then counts the case as passed.  Any
# report in the kernel's output fails the run here.
if grep -q "BUG: KASAN: " "$raw" 2>/dev/null; then
	echo "[FAILED] kasan-reports"
	grep -B2 -A12 "BUG: KASAN: " "$raw" | head -n 60 >&2
	rc=1
elif [ -s "$raw" ]; then
	echo "[PASSED] kasan-reports"
fi
[ $rc -eq 0 ] || { tail -n 30 "$log" >&2; echo "KUnit on UML failed (rc $rc), log: $log, kernel output: $raw" >&2; }
exit $rc
