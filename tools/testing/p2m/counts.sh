#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# counts.sh P2M_BENCH: instructions and simulated cache misses per P2M
# lookup for the flat array, upstream's linear list and the tree, counted
# by callgrind over bench.c's run_counts() regions.  Unlike times, the
# counts are the same on every run and machine: they say why a lookup
# costs what it does.  The cache geometry is fixed, not the host's.
set -euo pipefail

bench=${1:?usage: counts.sh P2M_BENCH}
command -v valgrind >/dev/null || { echo "counts.sh: valgrind not installed" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
CACHES="--I1=32768,8,64 --D1=32768,8,64 --LL=8388608,16,64"
# shellcheck disable=SC2086
valgrind --tool=callgrind --instr-atstart=no --cache-sim=yes $CACHES \
	--callgrind-out-file="$dir/cg.out" "$bench" counts >"$dir/log" 2>&1 ||
	{ cat "$dir/log" >&2; echo "counts.sh: callgrind failed" >&2; exit 1; }
n=$(sed -n 's/^  counted \([0-9]*\) lookups per region.*/\1/p' "$dir/log")
[ -n "$n" ] || { cat "$dir/log" >&2; exit 1; }
# events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
cat "$dir"/cg.out.* | awk -v n="$n" '
/^desc: Trigger: Client Request: / { name = $5 }
/^totals:/ && name != "" {
	ir[name] = $2 / n; d1[name] = ($6 + $7) / n; ll[name] = ($9 + $10) / n
	name = ""
}
function row(p, k) {
	return sprintf("%-16s %5.2f instr, %.3f D1 misses, %.3f LL misses",
		       label[k] ":", ir[p "/" k], d1[p "/" k], ll[p "/" k])
}
function ratio(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "-" }
function vs(p, k, base) {
	return sprintf("%s upstream instr, %s D1 misses, %s LL misses",
		       ratio(ir[p "/" k], ir[p "/" base]),
		       ratio(d1[p "/" k], d1[p "/" base]),
		       ratio(ll[p "/" k], ll[p "/" base]))
}
END {
	label["flat"] = "flat"; label["linear"] = "upstream linear"
	label["tree"] = "tree"; label["cursor"] = "tree cursor"
	printf "  per lookup, counted by callgrind (%d lookups each; simulated D1 32 KiB 8-way, LL 8 MiB 16-way, 64 B lines):\n", n
	for (i = 1; i <= 2; i++) {
		p = i == 1 ? "random" : "sequential"
		printf "    %s:\n", p
		printf "      %s\n", row(p, "flat")
		printf "      %s\n", row(p, "linear")
		printf "      %s (%s)\n", row(p, "tree"), vs(p, "tree", "linear")
		if (p "/cursor" in ir)
			printf "      %s (%s)\n", row(p, "cursor"), vs(p, "cursor", "linear")
	}
}'
