#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make docs: build Documentation/ as HTML with Debian's Sphinx, every
# warning an error.  Prints a PASS/FAIL line and where the HTML is.

source "$(dirname "$0")/build/common.sh"

need_pkgs python3-sphinx
out=$XENMM_CACHE/docs
log=$XENMM_LOGS/docs.log
if sphinx-build -q -W -b html -c "$XENMM_TOP/tools/testing/docs" \
	"$XENMM_TOP/Documentation" "$out" >"$log" 2>&1; then
	echo "PASS docs/sphinx: Documentation/ builds without warnings: $out/xen/index.html"
else
	echo "FAIL docs/sphinx: $(grep -m1 -i 'warning\|error' "$log")"
	exit 1
fi
