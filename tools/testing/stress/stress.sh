# SPDX-License-Identifier: GPL-2.0
# Stress test in dom0, sourced by the test initramfs's /init from
# /etc/xenmm.d/ when dom0's command line has xenmm.stress=SEED
# (tools/testing/check.sh boots it under the debug kernel, on several
# vCPUs).  For STRESS_SECONDS, all at once:
#
# - xen_stress_test.ko: an allocation worker per CPU taking and freeing
#   unpopulated pages of mixed sizes, and on x86 PV a P2M checker looking
#   up every pfn against what the workers hold and Xen's M2P;
# - STRESS_GNT_LOOPS "gntself loop" processes: grant pages to dom0, map
#   them through gntdev (on unpopulated pages), check, unmap;
# - the balloon, moved down by 4 to 16 MiB and back up, over and over;
# - the provider giving idle ranges back after 1 ms instead of 1 s, so
#   the range each of the module's bursts needs on top goes back while
#   the workers go on allocating.
#
# The provider's counters are sampled 3 s into the run and then every
# second while all of the module's threads still run (its debugfs
# "running"); the last such sample ends the window that counts fills and
# give-backs under load.  Then everything must be back where it started.
# Prints "key: value"
# lines; tools/testing/boot/stress_checks.py (check_stress) decides.

STRESS_SECONDS=30
STRESS_GNT_LOOPS=2
STRESS_STATS=/sys/kernel/debug/xen/unpopulated
STRESS_DELAY=/sys/module/unpopulated_alloc/parameters/reclaim_delay_ms
STRESS_BALLOON=/sys/devices/system/xen_memory/xen_memory0
STRESS_RUNNING=/sys/kernel/debug/xen_stress_test/running

# stress_next: the next value of the shell's own seeded generator.
stress_next()
{
	STRESS_RNG=$(((STRESS_RNG * 1103515245 + 12345) & 0x7fffffff))
}

# stress_provider: "in_use fills returns bad_frees" of the provider.
stress_provider()
{
	local used fills returns bad

	used=$(sed -n 's/^pages: [0-9]* free, \([0-9]*\) in use$/\1/p' "$STRESS_STATS")
	fills=$(sed -n 's/^fills: \([0-9]*\),.*/\1/p' "$STRESS_STATS")
	returns=$(sed -n 's/^fills: .*, returns \([0-9]*\).*$/\1/p' "$STRESS_STATS")
	bad=$(sed -n 's/^bad frees: \([0-9]*\)$/\1/p' "$STRESS_STATS")
	echo "$used $fills $returns $bad"
}

# stress_balloon_wait OP KB: wait up to 20 s until current_kb OP KB.
stress_balloon_wait()
{
	local i

	for i in $(seq 200); do
		[ "$(cat "$STRESS_BALLOON/info/current_kb")" "$1" "$2" ] && return 0
		usleep 100000
	done
	return 1
}

# stress_balloon END_UPTIME: move the balloon until then; print counts.
stress_balloon()
{
	local start moves=0 timeouts=0 down

	start=$(cat "$STRESS_BALLOON/target_kb")
	while [ "$(cut -d. -f1 /proc/uptime)" -lt "$1" ]; do
		stress_next
		down=$((start - 4096 - (STRESS_RNG % 12288)))
		echo "$down" >"$STRESS_BALLOON/target_kb"
		if stress_balloon_wait -le "$down"; then
			moves=$((moves + 1))
		else
			timeouts=$((timeouts + 1))
		fi
		echo "$start" >"$STRESS_BALLOON/target_kb"
		if stress_balloon_wait -ge "$start"; then
			moves=$((moves + 1))
		else
			timeouts=$((timeouts + 1))
		fi
	done
	echo "balloon_moves: $moves"
	echo "balloon_timeouts: $timeouts"
	echo "balloon_start_kb: $start"
	echo "balloon_end_kb: $(cat "$STRESS_BALLOON/info/current_kb")"
}

stress_test()
{
	local seed before after delay end i pids= rc=0 threads sample last

	seed=$(sed -n 's/.*xenmm\.stress=\([0-9]*\).*/\1/p' /proc/cmdline)
	[ -n "$seed" ] || { echo "no seed: want xenmm.stress=SEED"; return 1; }
	[ -r "$STRESS_STATS" ] && [ -w "$STRESS_DELAY" ] && [ -w "$STRESS_BALLOON/target_kb" ] ||
		{ echo "missing $STRESS_STATS, $STRESS_DELAY or the balloon"; return 1; }
	STRESS_RNG=$seed
	echo "seed: $seed"
	echo "vcpus: $(grep -c '^processor' /proc/cpuinfo)"
	before=$(stress_provider)
	echo "provider_before: $before"
	delay=$(cat "$STRESS_DELAY")
	echo 1 >"$STRESS_DELAY"

	end=$(($(cut -d. -f1 /proc/uptime) + STRESS_SECONDS))
	insmod /lib/xenmm/xen_stress_test.ko seed="$seed" seconds="$STRESS_SECONDS" ||
		{ echo "$delay" >"$STRESS_DELAY"; return 1; }
	# No self-grant on an auto-translated dom0: see the grant section of
	# /init (tools/testing/boot/init).
	gnt_loops=$STRESS_GNT_LOOPS
	grep -qx PVH /sys/hypervisor/guest_type 2>/dev/null && gnt_loops=0
	for i in $(seq "$gnt_loops"); do
		/bin/gntself loop "$STRESS_SECONDS" $((seed + i)) >/tmp/stress-gnt-$i.log 2>&1 &
		pids="$pids $!"
	done
	stress_balloon "$end" >/tmp/stress-balloon.log 2>&1 &
	pids="$pids $!"

	threads=$(cat "$STRESS_RUNNING")
	sleep 3
	last=$(stress_provider)
	echo "provider_during_first: $last"
	echo "running_at_first: $(cat "$STRESS_RUNNING") of $threads"
	# A sample counts only if every thread still ran after it was taken;
	# the first one does (running_at_first says), so the window may be
	# empty but is never undefined.
	while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
		sample=$(stress_provider)
		[ "$(cat "$STRESS_RUNNING")" = "$threads" ] || break
		last=$sample
		sleep 1
	done
	echo "provider_during_last: $last"
	cat /sys/kernel/debug/xen_stress_test/result || rc=1
	for i in $pids; do
		wait "$i" || rc=1
	done
	for i in $(seq "$STRESS_GNT_LOOPS"); do
		sed "s/^/gnt$i /" /tmp/stress-gnt-$i.log
	done
	cat /tmp/stress-balloon.log
	rmmod xen_stress_test || rc=1

	# Back where it started: every page returned, every idle range given back.
	echo "$delay" >"$STRESS_DELAY"
	for i in $(seq 100); do
		after=$(stress_provider)
		[ "${after%% *}" = "${before%% *}" ] &&
			grep -q '^ranges: [0-9]* (0 idle)$' "$STRESS_STATS" && break
		usleep 100000
	done
	echo "provider_after: $after"
	echo "stress_elapsed_s: $(($(cut -d. -f1 /proc/uptime) - end + STRESS_SECONDS))"
	return $rc
}

if grep -q 'xenmm\.stress=' /proc/cmdline; then
	section stress stress_test
fi
