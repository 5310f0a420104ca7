# SPDX-License-Identifier: GPL-2.0
# Boot test of unpopulated-alloc, sourced by the test initramfs's /init
# from /etc/xenmm.d/.  Takes 1, 64 and 1024 unpopulated pages through
# xen_unpopulated_test.ko and prints, for each, what the module saw and
# the Xen lines of /proc/iomem while they were held; then waits for the
# provider to give its ranges back.  tools/testing/boot/checks_unpop.py checks it.

UNPOP_STATS=/sys/kernel/debug/xen/unpopulated
UNPOP_HOLD=/sys/kernel/debug/xen_unpopulated_test/hold
UNPOP_PIN=/sys/kernel/debug/xen_unpopulated_test/pin
UNPOP_CLAIM=/sys/kernel/debug/xen_unpopulated_test/claim

# unpop_iomem TAG: the Xen lines of /proc/iomem, each prefixed with TAG.
unpop_iomem()
{
	grep -E ': Xen (scratch|unused space)$' /proc/iomem | sed "s/^/$1: /"
	return 0
}

# unpop_balloon: whether the provider hands out ballooned pages (it had
# no space it could vouch for).
unpop_balloon()
{
	grep -q '^source: ballooned pages$' "$UNPOP_STATS"
}

# unpop_in_use: pages the provider has handed out (0: ballooned pages,
# which it does not count).
unpop_in_use()
{
	unpop_balloon && { echo 0; return 0; }
	sed -n 's/^pages: [0-9]* free, \([0-9]*\) in use$/\1/p' "$UNPOP_STATS"
}

# unpop_wait_settled N: wait up to 10 s until the provider has N pages
# out and no idle range left (a PVH or HVM guest keeps its grant frames).
unpop_wait_settled()
{
	local i

	unpop_balloon && return 0
	for i in $(seq 100); do
		[ "$(unpop_in_use)" = "$1" ] &&
			grep -q '^ranges: [0-9]* (0 idle)$' "$UNPOP_STATS" && return 0
		usleep 100000
	done
	echo "provider not back to $1 pages in use without idle ranges after 10 s"
	return 1
}

# unpop_late_claim: while the provider holds its ranges, claim one page
# of the unused space in iomem_resource, as a device placed late would
# (the module's "claim"): the page just above the highest "Xen scratch"
# if that is still unused space, else the last page of the unused space.
unpop_late_claim()
{
	local end addr= last= r s e

	end=$(sed -n 's/^ *\([0-9a-f]*\)-\([0-9a-f]*\) : Xen scratch$/\2/p' /proc/iomem | tail -n 1)
	for r in $(sed -n 's/^unused: \(0x[0-9a-f]*-0x[0-9a-f]*\)$/\1/p' "$UNPOP_STATS"); do
		s=$((${r%-*})) e=$((${r#*-}))
		last=$((e - 0xfff))
		[ -n "$end" ] && [ $((0x$end + 1 >= s && 0x$end + 1 < e)) = 1 ] &&
			addr=$((0x$end + 1))
	done
	if [ -z "$last" ]; then
		echo "late_claim: none, no unused space listed"
		return 0
	fi
	printf '%#x\n' "${addr:-$last}" >"$UNPOP_CLAIM" || return 1
	sed 's/^/late_/' "$UNPOP_CLAIM"
}

unpopulated_test()
{
	local n base rc=0

	[ -r "$UNPOP_STATS" ] || { echo "no $UNPOP_STATS"; return 1; }
	insmod /lib/xenmm/xen_unpopulated_test.ko || return 1
	base=$(unpop_in_use)
	echo "in_use_before: $base"
	unpop_wait_settled "$base" || rc=1
	unpop_iomem iomem_before
	for n in 1 64 1024; do
		echo "$n" >"$UNPOP_HOLD" || rc=1
		sed "s/^/hold_$n: /" "$UNPOP_HOLD"
		unpop_iomem "iomem_$n"
		sed "s/^/stats_$n: /" "$UNPOP_STATS"
		[ "$n" = 1024 ] && { unpop_late_claim || rc=1; }
		echo 0 >"$UNPOP_HOLD" || rc=1
	done
	unpop_wait_settled "$base" || rc=1
	unpop_iomem iomem_after
	sed 's/^/stats: /' "$UNPOP_STATS"
	# x86 PV: what the P2M says of the pfns given back (ENODEV elsewhere).
	cat /sys/kernel/debug/xen_unpopulated_test/released 2>/dev/null
	unpop_pin_test "$base" || rc=1
	rmmod xen_unpopulated_test || rc=1
	return $rc
}

# unpop_pin_test BASE: free a page that still has a reference (a mapping
# left behind) and see the provider keep its range, for longer than the
# reclaim delay, until the reference goes.  Needs the page's range to go
# idle: not with ballooned pages, nor where the guest holds pages of its
# own (a PVH guest's grant frames keep their range busy).
unpop_pin_test()
{
	if unpop_balloon || [ "$1" != 0 ]; then
		echo "pin_skipped: $(unpop_balloon && echo ballooned pages ||
			echo "$1 pages held by the guest")"
		return 0
	fi
	echo 1 >"$UNPOP_PIN" || return 1
	sed 's/^/pin_before: /' "$UNPOP_PIN"
	# The reclaim worker runs every reclaim_delay_ms (1 s) while a range
	# is idle: give it three chances to do the wrong thing.
	sleep 3
	sed 's/^/pin_after: /' "$UNPOP_PIN"
	sed 's/^/pin_stats: /' "$UNPOP_STATS"
	echo 0 >"$UNPOP_PIN" || return 1
	unpop_wait_settled 0 || return 1
	sed 's/^/pin_released: /' "$UNPOP_STATS"
	return 0
}

# unpop_scratch_kib: KiB of "Xen scratch" in /proc/iomem.
unpop_scratch_kib()
{
	local kib=0 range

	for range in $(grep ': Xen scratch$' /proc/iomem | cut -d' ' -f1 | tr -d ' '); do
		kib=$((kib + ((0x${range#*-} - 0x${range%-*} + 1) >> 10)))
	done
	echo "$kib"
}

# With xenmm.bench on the command line: time the provider instead.
unpopulated_bench()
{
	insmod /lib/xenmm/xen_unpopulated_test.ko || return 1
	cat /sys/kernel/debug/xen_unpopulated_test/bench
	echo "held_after_burst_kib: $(unpop_scratch_kib)"
	sleep 3
	echo "held_3s_later_kib: $(unpop_scratch_kib)"
	rmmod xen_unpopulated_test
}

if grep -q xenmm.bench /proc/cmdline; then
	section unpopulated_bench unpopulated_bench
else
	section unpopulated unpopulated_test
fi
