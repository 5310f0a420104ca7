#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: run every test and end with one line "N passed, N failed".
# Exits non-zero if anything failed.
#
# Environment: LAYOUTS (comma-separated, default: every layout), KDIR,
# STRESS_SEED (the stress test's seed; default: a new one, printed).

source "$(dirname "$0")/build/common.sh"

B=$XENMM_TOP/tools/testing
RESULTS=$XENMM_LOGS/check-results.txt
: >"$RESULTS"
LAYOUTS=${LAYOUTS:-$(python3 "$B/boot/xenboot.py" --list-layouts | awk '{print $1}' | paste -sd,)}
X86_LAYOUTS= ARM64_LAYOUTS=
for layout in ${LAYOUTS//,/ }; do
	arch=$(python3 "$B/boot/xenboot.py" --layout-arch "$layout") || exit 1
	case $arch in
	arm64) ARM64_LAYOUTS+=" $layout" ;;
	*) X86_LAYOUTS+=" $layout" ;;
	esac
done

# The debug kernel (tools/testing/build/variants/debug) boots these
# layouts, each with the stress test; the first x86 one also runs the domU
# test.  With LAYOUTS narrowed, those of them selected, else the first of
# each arch.
DEBUG_LAYOUTS="pc-1g pc-6g-dom0-5g virt-2g"
STRESS_SEED=${STRESS_SEED:-$(date +%s)}

# debug_layouts LAYOUT...: the debug kernel's share of LAYOUT...
debug_layouts()
{
	local l want=

	for l in "$@"; do
		case " $DEBUG_LAYOUTS " in *" $l "*) want+=" $l" ;; esac
	done
	echo "${want:-$1}"
}

# record NAME OK DETAIL: one result line.
record()
{
	local line

	if [ "$2" = 0 ]; then line="PASS $1: $3"; else line="FAIL $1: $3"; fi
	echo "$line" | tee -a "$RESULTS"
}

# step NAME CMD...: a build step; its failure is a test failure, and the
# steps that need it are not run.
step()
{
	local name=$1 log=$XENMM_LOGS/check-$1.log

	shift
	if "$@" >"$log.out" 2>"$log"; then
		return 0
	fi
	record "build/$name" 1 "see $log"
	tail -n 20 "$log" >&2
	return 1
}

# boot_layouts XEN KERNEL INITRD TAG LAYOUT...: the boot tests, one layout
# at a time; boottest options in the array BOOT_OPTS.
BOOT_OPTS=()
boot_layouts()
{
	local xen=$1 kernel=$2 initrd=$3 tag=$4 layout fails

	shift 4
	for layout in "$@"; do
		progress "boot test: layout $layout${tag:+ ($tag)}"
		fails=$(grep -c '^FAIL ' "$RESULTS" || true)
		python3 "$B/boot/boottest.py" test --layouts "$layout" --tag "${tag:-test}" \
			--xen "$xen" --kernel "$kernel" --initrd "$initrd" \
			--results "$RESULTS" ${BOOT_OPTS[@]+"${BOOT_OPTS[@]}"} && continue
		# Failed checks are on record; a harness that died is not.
		[ "$(grep -c '^FAIL ' "$RESULTS" || true)" -gt "$fails" ] ||
			record "boot/$layout${tag:+-$tag}/harness" 1 "boottest.py died without a result (output above)"
	done
}

# The boots run QEMU on one host thread, so while the x86 layouts boot the
# other kernels and the domU test's QEMU build beside them, one at a time:
# prebuild NAME SCRIPT ARGS... queues tools/testing/build/SCRIPT ARGS in
# the background, and step then waits for it (prebuilt NAME) before
# running SCRIPT again, which finds nothing left to do.  They build with
# every job but at the lowest priority: the boot keeps its core, and a
# core the foreground leaves idle (waiting for one of them, or between
# boots) goes to the build.
PREBUILDS=()
prebuild()
{
	PREBUILDS+=("$1:${*:2}")
}

start_prebuilds()
{
	local p

	[ ${#PREBUILDS[@]} -gt 0 ] || return 0
	progress "building ${#PREBUILDS[@]} more kernels and tools in the background, beside the boots"
	# In a process group of their own (job control on for this one job),
	# so that stop_prebuilds can end all of them at once; input from
	# /dev/null, as without job control, so that nothing in them can
	# stop the group waiting for the terminal.
	set -m
	(
		for p in "${PREBUILDS[@]}"; do
			nice -n 19 "$B/build/"${p#*:} \
				>"$XENMM_LOGS/prebuild-${p%%:*}.log" 2>&1
			echo $? >"$XENMM_LOGS/prebuild-${p%%:*}.rc"
		done
	) </dev/null &
	PREBUILD_PID=$!
	set +m
	# A run that dies must not leave them building (and holding the
	# cache's lock, which they inherited) behind it.
	trap stop_prebuilds EXIT
}

stop_prebuilds()
{
	[ -n "$PREBUILD_PID" ] && kill -0 "$PREBUILD_PID" 2>/dev/null || return 0
	echo "xenmm: stopping the background builds" >&2
	kill -TERM -- "-$PREBUILD_PID" 2>/dev/null
}

# prebuilt NAME: wait until the background build NAME is done, if queued.
prebuilt()
{
	local p

	for p in "${PREBUILDS[@]}"; do
		[ "${p%%:*}" = "$1" ] || continue
		[ -f "$XENMM_LOGS/prebuild-$1.rc" ] ||
			progress "waiting for the background build of $1"
		while [ ! -f "$XENMM_LOGS/prebuild-$1.rc" ]; do
			sleep 5
		done
	done
	return 0
}

# result_lines NAME CMD...: CMD prints PASS/FAIL lines itself; if it fails
# without printing a FAIL line (it died early), that is a failure too.
result_lines()
{
	local name=$1 out=$XENMM_LOGS/check-$1.out

	shift
	"$@" >"$out" 2>"$out.err"
	local rc=$?
	grep -E '^(PASS|FAIL) ' "$out" | tee -a "$RESULTS"
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
		record "$name/run" 1 "exited $rc: $(tail -n 1 "$out.err")"
	fi
}

progress "make check: results in $RESULTS"

# Host harness of the P2M tree: ASan+UBSan in two geometries, TSan.
need_pkgs $HOST_TEST_PKGS
progress "host harness: tools/testing/p2m (unit, fault injection, 1e7-op fuzz, TSan, real E820 maps)"
host_log=$XENMM_LOGS/check-host-p2m.log
make -k -C "$B/p2m" O="$XENMM_CACHE/p2m-harness" test >"$host_log" 2>&1
host_rc=$?
sed -n 's/^p2m harness \[shift \([0-9]*\)\]: \([a-z0-9]*\): \(.*\)$/\1 \2 \3/p' "$host_log" |
	while read -r shift what verdict; do
		[ "$verdict" = ok ]
		record "host/p2m/shift$shift/$what" $? "$verdict"
	done
grep -E "fuzz: seed|faults:|threads:" "$host_log" | sed 's/^ */  /'
if [ $host_rc -ne 0 ]; then
	record host/p2m/make 1 "make test failed, see $host_log"
	grep -E "ERROR|WARNING: ThreadSanitizer|CHECK|runtime error" "$host_log" | head -n 10
fi

# KUnit on UML with the kernel's kunit.py: our suites that need no Xen.
if "$B/kunit-uml.sh" >"$XENMM_LOGS/check-kunit-uml.out" 2>&1; then
	kunit_rc=0
else
	kunit_rc=1
fi
sed -n 's/^\[\(PASSED\|FAILED\|SKIPPED\)\] \(.*\)$/\1 \2/p' "$XENMM_LOGS/check-kunit-uml.out" |
	while read -r verdict name; do
		[ "$verdict" != FAILED ]
		record "kunit-uml/$name" $? "$verdict"
	done
summary=$(grep -E "Testing complete" "$XENMM_LOGS/check-kunit-uml.out")
record kunit-uml/run $kunit_rc "${summary:-kunit.py failed, see $XENMM_LOGS/kunit-uml.log}"

# Our Xen series: git am on a pristine Xen, its form, and the host test of
# its page states.
progress "Xen series: git am on pristine Xen $XEN_SRC_VERSION, form, page-state host test"
result_lines xen-series "$B/build/xen-series.sh" --check
result_lines xen-page-state "$B/xen-page-state/run.sh"

rm -f "$XENMM_LOGS"/prebuild-*.rc
if step kernel "$B/build/kernel.sh" ${KDIR:+--kdir "$KDIR"}; then
	kout=$(tail -n 1 "$XENMM_LOGS/check-kernel.log.out")
	record build/kernel 0 "$kout/arch/x86/boot/bzImage"
	if [ -n "$X86_LAYOUTS" ]; then
		# Its packages and source in the foreground: one apt-get at a time.
		"$B/build/qemu.sh" --fetch || record build/qemu-x86-fetch 1 "see above"
		prebuild qemu-x86 qemu.sh
		prebuild kernel-debug kernel.sh --variant debug
	fi
	if [ -n "$ARM64_LAYOUTS" ]; then
		need_pkgs gcc-aarch64-linux-gnu
		prebuild kernel-arm64 kernel.sh --arch arm64
		prebuild kernel-arm64-debug kernel.sh --arch arm64 --variant debug
	fi
	start_prebuilds
	progress "KDIR, patch series and lint checks"
	result_lines kdir "$B/build/test-kdir.sh"
	result_lines series "$B/build/series.sh" --check
	result_lines lint "$B/lint.sh"
	result_lines docs "$B/docs.sh"
	xen=$("$B/build/xen.sh") || die "cannot provide Xen"
	mods=$("$B/build/modules.sh" "$kout") || die "cannot build the test modules"
	initrd=$("$B/build/initramfs.sh" --extra "$mods") ||
		die "cannot build the initramfs"

	# The harness must notice a guest that dies: boot one that panics
	# (no /init to run, no root to mount) and expect "crashed", fast.
	progress "boot harness self-test: a panicking guest is reported as crashed"
	mkdir -p "$XENMM_LOGS/boot"
	python3 "$B/boot/xenboot.py" --layout pc-1g --xen "$xen" \
		--kernel "$kout/arch/x86/boot/bzImage" --initrd "$initrd" \
		--linux-extra "rdinit=/no-such-init" --timeout 120 \
		--log "$XENMM_LOGS/boot/selftest-panic.log" \
		--json "$XENMM_LOGS/selftest-panic.json" >/dev/null 2>&1
	python3 "$B/boot/boottest.py" expect-crash \
		--json "$XENMM_LOGS/selftest-panic.json" | tee -a "$RESULTS"

	# The domU test, the padded Xen and the baseline go on the first x86
	# layout that is not the series' reproducer: dom0 freeing memory there
	# crashes unpatched Xen by design.
	# A PVH dom0 (machine q35pvh) boots on the QEMU of tools/testing/qemu,
	# once that is built, and only under our Xen.
	REPRO= first= PVH0= PV0=
	for l in $X86_LAYOUTS; do
		case $(python3 "$B/boot/xenboot.py" --layout-machine "$l") in
		pc3node) REPRO=${REPRO:-$l} PV0+=" $l" ;;
		q35pvh) PVH0+=" $l" ;;
		*) first=${first:-$l} PV0+=" $l" ;;
		esac
	done
	# Our Xen: Debian's source with xen/patches/, CONFIG_DEBUG=y (ASSERTs
	# on), on every layout, with the series' own checks.  The first
	# layout also runs the domU test (xl create, grants, save/restore,
	# mem-set, live migration, which needs the shadow paging Debian's
	# binary lacks, destroy while mapped) and a PVH domU.
	if [ -n "$X86_LAYOUTS" ] &&
	   step xen-debug-x86_64 "$B/build/xen.sh" --arch x86_64 --flavour source; then
		oxen=$(tail -n 1 "$XENMM_LOGS/check-xen-debug-x86_64.log.out")
		record build/xen-debug-x86_64 0 "$oxen"
		BOOT_OPTS=(--series)
		boot_layouts "$oxen" "$kout/arch/x86/boot/bzImage" "$initrd" "" $PV0
		dqemu=
		if [ -n "$first" ]; then
			progress "domU test: layout $first (xl create, grants, save/restore, mem-set, PVH)"
			domu=$("$B/build/domu.sh" "$kout") || die "cannot lay out the domU test"
			dinitrd=$("$B/build/initramfs.sh" --extra "$mods" --extra "$domu") ||
				die "cannot build the domU test's initramfs"
			# On the QEMU of tools/testing/qemu, which its PVH domU needs;
			# without it, the PV domU on Debian's.
			prebuilt qemu-x86
			if step qemu-x86 "$B/build/qemu.sh"; then
				dqemu=$(tail -n 1 "$XENMM_LOGS/check-qemu-x86.log.out")
				record build/qemu-x86 0 "$dqemu"
				# Waits twice as long (xenmm.slow): on a cold run the
				# background builds share the two cores with it, and the
				# PVH domU was once still booting after 236 s of its 300.
				BOOT_OPTS=(--series --checks all --linux-extra "xenmm.domu xenmm.slow=2"
					   --timeout 1200)
				XENMM_QEMU_X86=$dqemu boot_layouts "$oxen" \
					"$kout/arch/x86/boot/bzImage" "$dinitrd" domu "$first"
			else
				BOOT_OPTS=(--series --checks dom0-domu
					   --linux-extra "xenmm.domu xenmm.nopvh" --timeout 600)
				boot_layouts "$oxen" "$kout/arch/x86/boot/bzImage" "$dinitrd" domu "$first"
			fi
			# The same Xen padded to end one page past a 2 MiB boundary.
			pout=$("$B/build/xen-padded.sh" 2>"$XENMM_LOGS/check-xen-padded.err")
			echo "$pout" | grep -E '^(PASS|FAIL) ' | tee -a "$RESULTS"
			pxen=$(echo "$pout" | tail -n 1)
			if [ -f "$pxen" ]; then
				BOOT_OPTS=(--series)
				boot_layouts "$pxen" "$kout/arch/x86/boot/bzImage" "$initrd" xen-padded "$first"
			elif ! echo "$pout" | grep -q '^FAIL '; then
				record xen-padded/build 1 "$(tail -n 1 "$XENMM_LOGS/check-xen-padded.err")"
			fi
		fi
		if [ -n "$PVH0" ]; then
			# Built (or failed) for the domU test already if it ran.
			if [ -z "$dqemu" ] && [ -z "$first" ]; then
				prebuilt qemu-x86
				if step qemu-x86 "$B/build/qemu.sh"; then
					dqemu=$(tail -n 1 "$XENMM_LOGS/check-qemu-x86.log.out")
					record build/qemu-x86 0 "$dqemu"
				fi
			fi
			if [ -n "$dqemu" ]; then
				BOOT_OPTS=()
				XENMM_QEMU_X86=$dqemu boot_layouts "$oxen" \
					"$kout/arch/x86/boot/bzImage" "$initrd" "" $PVH0
			else
				# build/qemu-x86 failed already: one cause, one FAIL.
				progress "not booting$PVH0: a PVH dom0 needs the QEMU of tools/testing/qemu"
			fi
		fi
	fi
	# Debian's Xen binary stays the baseline: the first layout under it.
	BOOT_OPTS=()
	[ -n "$first" ] &&
		boot_layouts "$xen" "$kout/arch/x86/boot/bzImage" "$initrd" debian-xen "$first"
	# The bug the series fixes: on the reproducer layout (pc-1g-3node),
	# which our Xen boots above with every check, the same tree and
	# .config without the series must fault in free_heap_pages() when dom0
	# gives its initrd back, and with patch 1 alone must not.
	if [ -n "$oxen" ] && [ -n "$REPRO" ]; then
		progress "the Xen series' reproducer: layout $REPRO under Xen without the series, then with patch 1 only"
		if step xen-base-0 "$B/build/xen-base.sh" 0; then
			bxen=$(tail -n 1 "$XENMM_LOGS/check-xen-base-0.log.out")
			BOOT_OPTS=(--checks unpatched --timeout 240)
			boot_layouts "$bxen" "$kout/arch/x86/boot/bzImage" "$initrd" unpatched "$REPRO"
		fi
		if step xen-base-1 "$B/build/xen-base.sh" 1; then
			bxen=$(tail -n 1 "$XENMM_LOGS/check-xen-base-1.log.out")
			BOOT_OPTS=(--checks patch1-only)
			boot_layouts "$bxen" "$kout/arch/x86/boot/bzImage" "$initrd" patch1-only "$REPRO"
		fi
	fi

	# The debug kernel under our debug Xen: lockdep, atomic-sleep, list,
	# VM, SLUB and KFENCE checks on, any report fails the boot; each boot
	# runs the stress test, and the first also the domU test.
	if [ -n "$oxen" ] && prebuilt kernel-debug &&
	   step kernel-debug "$B/build/kernel.sh" --variant debug; then
		dout=$(tail -n 1 "$XENMM_LOGS/check-kernel-debug.log.out")
		record build/kernel-debug 0 "$dout/arch/x86/boot/bzImage"
		dmods=$("$B/build/modules.sh" "$dout") || die "cannot build the debug test modules"
		dinit=$("$B/build/initramfs.sh" --extra "$dmods") ||
			die "cannot build the debug initramfs"
		progress "debug kernel: stress test seed $STRESS_SEED"
		BOOT_OPTS=(--series --stress "$STRESS_SEED" --timeout 400)
		boot_layouts "$oxen" "$dout/arch/x86/boot/bzImage" "$dinit" debug \
			$(debug_layouts $PV0)
		if [ -n "$first" ]; then
			progress "domU test under the debug kernel: layout $first"
			ddomu=$("$B/build/domu.sh" "$dout") || die "cannot lay out the debug domU test"
			ddinit=$("$B/build/initramfs.sh" --extra "$dmods" --extra "$ddomu") ||
				die "cannot build the debug domU test's initramfs"
			# The PV domU only: under the debug kernel a PVH domU took
			# minutes more than the 15 a run may (on shadow paging; not
			# measured on HAP yet).  Its waits three times as long
			# (xenmm.slow, tools/testing/domu/domu.sh): with the arm64
			# kernels building beside it, the debug domU once took more
			# than 180 s to get ready, where it takes about 100 s alone.
			BOOT_OPTS=(--series --checks dom0-domu
				   --linux-extra "xenmm.domu xenmm.nopvh xenmm.slow=3" --timeout 1500)
			boot_layouts "$oxen" "$dout/arch/x86/boot/bzImage" "$ddinit" domu-debug "$first"
		fi
	fi
fi

# arm64: our cross-built kernel as dom0 of our debug Xen on every arm64
# layout, and of Debian's arm64 Xen on the first.
if [ -n "$ARM64_LAYOUTS" ] &&
   prebuilt kernel-arm64 && step kernel-arm64 "$B/build/kernel.sh" --arch arm64; then
	aout=$(tail -n 1 "$XENMM_LOGS/check-kernel-arm64.log.out")
	record build/kernel-arm64 0 "$aout/$(kernel_image arm64)"
	amods=$("$B/build/modules.sh" "$aout") || die "cannot build the arm64 test modules"
	ainitrd=$("$B/build/initramfs.sh" --arch arm64 --extra "$amods") ||
		die "cannot build the arm64 initramfs"
	if step xen-debug-arm64 "$B/build/xen.sh" --arch arm64 --flavour source; then
		oaxen=$(tail -n 1 "$XENMM_LOGS/check-xen-debug-arm64.log.out")
		record build/xen-debug-arm64 0 "$oaxen"
		BOOT_OPTS=(--series)
		boot_layouts "$oaxen" "$aout/$(kernel_image arm64)" "$ainitrd" "" $ARM64_LAYOUTS
		# The same Xen with static allocation on (Debian's build has it
		# off): the first layout with a dom0less domU on "xen,static-mem"
		# beside dom0, set up at boot by init_staticmem_pages().
		progress "static memory: arm64 Xen with CONFIG_STATIC_MEMORY=y, a dom0less domU"
		sout=$("$B/build/xen-staticmem.sh" 2>"$XENMM_LOGS/check-xen-staticmem.err")
		echo "$sout" | grep -E '^(PASS|FAIL) ' | tee -a "$RESULTS"
		sxen=$(echo "$sout" | tail -n 1)
		if [ -f "$sxen" ]; then
			# xenboot.py adds the domU to QEMU's device tree with dtc.
			need_pkgs device-tree-compiler
			BOOT_OPTS=(--series --static-domu)
			boot_layouts "$sxen" "$aout/$(kernel_image arm64)" "$ainitrd" staticmem \
				"$(echo $ARM64_LAYOUTS | cut -d' ' -f1)"
		elif ! echo "$sout" | grep -q '^FAIL '; then
			record xen-staticmem/build 1 "$(tail -n 1 "$XENMM_LOGS/check-xen-staticmem.err")"
		fi
	fi
	axen=$("$B/build/xen.sh" --arch arm64) || die "cannot provide arm64 Xen"
	BOOT_OPTS=()
	boot_layouts "$axen" "$aout/$(kernel_image arm64)" "$ainitrd" debian-xen \
		"$(echo $ARM64_LAYOUTS | cut -d' ' -f1)"
	if [ -n "$oaxen" ] &&
	   prebuilt kernel-arm64-debug &&
	   step kernel-arm64-debug "$B/build/kernel.sh" --arch arm64 --variant debug; then
		adout=$(tail -n 1 "$XENMM_LOGS/check-kernel-arm64-debug.log.out")
		record build/kernel-arm64-debug 0 "$adout/$(kernel_image arm64)"
		admods=$("$B/build/modules.sh" "$adout") ||
			die "cannot build the arm64 debug test modules"
		adinit=$("$B/build/initramfs.sh" --arch arm64 --extra "$admods") ||
			die "cannot build the arm64 debug initramfs"
		BOOT_OPTS=(--series --stress "$STRESS_SEED" --timeout 400)
		boot_layouts "$oaxen" "$adout/$(kernel_image arm64)" "$adinit" debug \
			$(debug_layouts $ARM64_LAYOUTS)
	fi
fi

for p in "${PREBUILDS[@]}"; do
	prebuilt "${p%%:*}"	# never leave a build running behind us
done
echo "stress test seed: $STRESS_SEED (replay: make check STRESS_SEED=$STRESS_SEED)"
pass=$(grep -c '^PASS' "$RESULTS")
fail=$(grep -c '^FAIL' "$RESULTS")
if [ "$fail" -gt 0 ]; then
	echo "failed:"
	grep '^FAIL' "$RESULTS" | sed 's/^/  /'
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
