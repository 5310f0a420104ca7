#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Our Xen series, xen/patches/: git format-patch output against Debian's
# Xen 4.17.5 source with Debian's own patches applied.
#
#   xen-series.sh --check         apply it with git am (no 3-way fallback)
#                                 to a freshly unpacked pristine tree and
#                                 check each patch's form; PASS/FAIL lines
#   xen-series.sh --export TREE   rewrite xen/patches/ from the commits of
#                                 git tree TREE after its base commit (the
#                                 one xen.sh creates), keeping the cover
#                                 letter's subject and text
#
# Xen 4.17 ships no style checker; the form checks are those of Xen's
# CODING_STYLE a script can decide: no whitespace errors, no tab and no
# line over 80 columns in added C lines, a Signed-off-by, a subject of at
# most 75 characters.

source "$(dirname "$0")/common.sh"

PATCHES=$XENMM_TOP/xen/patches
need_pkgs git dpkg-dev quilt

export_series()
{
	local tree=$1 base tmp cover

	git -C "$tree" rev-parse --git-dir >/dev/null 2>&1 || die "$tree is not a git tree"
	base=$(git -C "$tree" log --format=%H --grep="with Debian's patches" -n 1)
	[ -n "$base" ] || die "$tree has no base commit \"... with Debian's patches\""
	tmp=$(mktemp -d)
	git -C "$tree" format-patch -q --cover-letter --subject-prefix="PATCH xenmm" \
		-o "$tmp" "$base..HEAD" || die "git format-patch failed"
	cover=$PATCHES/0000-cover-letter.patch
	if [ -f "$cover" ]; then
		# Keep our subject and text; take the new shortlog and diffstat.
		python3 - "$cover" "$tmp/0000-cover-letter.patch" <<-'PY' || die "cannot carry the cover letter over"
		import re, sys
		old = open(sys.argv[1]).read()
		new = open(sys.argv[2]).read()
		subj = re.search(r"^Subject: \[PATCH xenmm 0/\d+\] (.*)$", old, re.M).group(1)
		blurb = old.split("\n\n", 1)[1]
		blurb = blurb[:re.search(r"^xenmm developers \(\d+\):$", blurb, re.M).start()]
		new = re.sub(r"\*\*\* SUBJECT HERE \*\*\*", lambda m: subj, new)
		new = new.replace("*** BLURB HERE ***\n\n", blurb)
		open(sys.argv[2], "w").write(new)
		PY
	fi
	rm -f "$PATCHES"/*.patch
	mkdir -p "$PATCHES"
	cp "$tmp"/*.patch "$PATCHES"/
	rm -rf "$tmp"
	ls "$PATCHES"
}

# form_check PATCH: prints what is wrong with it, nothing if all is well.
form_check()
{
	local p=$1

	grep -q '^Signed-off-by: ' "$p" || echo "no Signed-off-by"
	sed -n 's/^Subject: \[PATCH[^]]*\] //p' "$p" | awk 'length($0) > 75 { print "subject over 75 characters" }'
	awk '
		/^\+\+\+ / { c = ($2 ~ /\.[ch]$/) ; next }
		/^\+/ && c {
			line = substr($0, 2)
			if (line ~ /\t/) print "tab: " line
			if (length(line) > 80) print "over 80 columns: " line
		}' "$p"
	awk '/^\+/ && /[ \t]$/ && !/^\+\+\+/ { print "trailing whitespace: " $0 }' "$p"
}

check_series()
{
	local dl work p name problems n=0 rc=0

	mapfile -t series < <(xen_series_patches)
	[ ${#series[@]} -gt 0 ] || die "no patches in xen/patches/"
	[ -f "$PATCHES/0000-cover-letter.patch" ] ||
		echo "FAIL xen-series/cover-letter: xen/patches/0000-cover-letter.patch missing"
	dl=$(xen_source_download) || exit 1
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	progress "xen series: unpacking a pristine xen $XEN_SRC_VERSION to apply ${#series[@]} patches"
	xen_unpack_debian "$dl" "$work/xen" || exit 1
	for p in "${series[@]}"; do
		name=$(basename "$p" .patch)
		if (cd "$work/xen" && git -c user.name=xenmm -c user.email=xenmm@localhost \
			am -q "$p") >"$work/am.log" 2>&1; then
			echo "PASS xen-series/am/$name: applies with git am"
			n=$((n + 1))
		else
			echo "FAIL xen-series/am/$name: git am: $(head -n 2 "$work/am.log" | tr '\n' ' ')"
			rc=1
			break
		fi
		problems=$(form_check "$p")
		if [ -z "$problems" ]; then
			echo "PASS xen-series/form/$name: CODING_STYLE checks clean"
		else
			echo "FAIL xen-series/form/$name: $(echo "$problems" | head -n 3 | tr '\n' ';')"
			rc=1
		fi
	done
	[ $rc -eq 0 ] && echo "PASS xen-series/all: $n patches apply in order to pristine xen $XEN_SRC_VERSION"
	return $rc
}

case ${1:-} in
--export) [ -n "${2:-}" ] || die "usage: xen-series.sh --export TREE"; export_series "$2" ;;
--check) check_series ;;
*) die "usage: xen-series.sh --check | --export TREE" ;;
esac
