# SPDX-License-Identifier: GPL-2.0
# Boot test of unpopulated-alloc, sourced by the test initramfs's /init
# from /etc/xenmm.d/.  Takes 1, 64 and 1024 unpopulated pages through
# xen_unpopulated_test.ko and prints, for each, what the module saw and
# the Xen lines of /proc/iomem while they were held; then waits for the
# provider to give its ranges back.  tools/testing/boot/checks.py checks it.

UNPOP_STATS=/sys/kernel/debug/xen/unpopulated
UNPOP_HOLD=/sys/kernel/debug/xen_unpopulated_test/hold

# unpop_iomem TAG: the Xen lines of /proc/iomem, each prefixed with TAG.
unpop_iomem()
{
	grep -E ': Xen (scratch|unused space)$' /proc/iomem | sed "s/^/$1: /"
	return 0
}

# unpop_in_use: pages the provider has handed out.
unpop_in_use()
{
	sed -n 's/^pages: [0-9]* free, \([0-9]*\) in use$/\1/p' "$UNPOP_STATS"
}

# unpop_wait_settled N: wait up to 10 s until the provider has N pages
# out and no idle range left (a PVH or HVM guest keeps its grant frames).
unpop_wait_settled()
{
	local i

	for i in $(seq 100); do
		[ "$(unpop_in_use)" = "$1" ] &&
			grep -q '^ranges: [0-9]* (0 idle)$' "$UNPOP_STATS" && return 0
		usleep 100000
	done
	echo "provider not back to $1 pages in use without idle ranges after 10 s"
	return 1
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
		echo 0 >"$UNPOP_HOLD" || rc=1
	done
	unpop_wait_settled "$base" || rc=1
	unpop_iomem iomem_after
	sed 's/^/stats: /' "$UNPOP_STATS"
	rmmod xen_unpopulated_test || rc=1
	return $rc
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
