# SPDX-License-Identifier: GPL-2.0
# domU boot test, sourced by dom0's /init from /etc/xenmm.d/ when dom0's
# command line has xenmm.domu.  Starts the toolstack, creates the PV domU
# of /etc/xen/xenmm-domu.cfg (our kernel, the same test initramfs); once
# the domU has granted dom0 pages and written its pattern, maps the grants
# (gntdev, on unpopulated pages), saves and restores the domU, balloons it
# down and up with xl mem-set, migrates it live to this host (the domU
# writing all along); last maps the domU's second grants, holds them while
# destroying the domU, and shows the provider's counters after.
# The domU's console follows, each line prefixed "domu| ".
# tools/testing/boot/checks_domu.py checks both sides (domain_side, domu_side).

XL=/usr/lib/xen-4.17/bin/xl
DOMU_NAME=xenmm-domu
DOMU_LOG=/var/log/xen/console/guest-$DOMU_NAME.log
# After a live migration xenconsoled logs the domain under the name it
# arrived with.
DOMU_LOG_MIGRATED=/var/log/xen/console/guest-$DOMU_NAME--incoming.log

# domu_console: everything the domU printed, in order.
domu_console()
{
	cat "$DOMU_LOG" "$DOMU_LOG_MIGRATED" 2>/dev/null | tr -d '\r'
}

# xenmm.slow=N on dom0's command line multiplies every wait for the domU:
# a debug-kernel domU (KASAN, lockdep) under TCG on a loaded host took
# more than 180 s to get ready.
DOMU_SLOW=$(sed -n 's/.*xenmm\.slow=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
DOMU_SLOW=${DOMU_SLOW:-1}

# domu_wait PATTERN SECONDS: wait until the domU's console shows PATTERN,
# SECONDS times DOMU_SLOW at most; says when (dom0's uptime), for the log.
domu_wait()
{
	local end=$(($(cut -d. -f1 /proc/uptime) + $2 * DOMU_SLOW))

	# By the clock: under TCG one round of this loop may take far longer
	# than its sleep.
	while [ "$(cut -d. -f1 /proc/uptime)" -lt "$end" ]; do
		if domu_console | grep -q "$1"; then
			# Not the marker itself: the harness would take it for dom0's.
			echo "seen_at_s: $(cut -d' ' -f1 /proc/uptime) $(echo "$1" | tr -d @)"
			return 0
		fi
		usleep 200000
	done
	echo "timeout: no '$(echo "$1" | tr -d @)' from the domU after $(($2 * DOMU_SLOW)) s"
	return 1
}

# uptime_cs: the time since boot in centiseconds.
uptime_cs()
{
	local up

	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}"
}

# domu_refs: the grant refs of the domU's latest offer.
domu_refs()
{
	domu_console | sed -n 's/^offer_refs: *//p' | tail -n 1
}

# domu_time NAME CMD...: run CMD, print its exit code and wall time in ms.
domu_time()
{
	local name=$1 t0 rc

	shift
	t0=$(uptime_cs)
	"$@"
	rc=$?
	echo "${name}_rc: $rc"
	echo "${name}_ms: $((($(uptime_cs) - t0) * 10))"
	return $rc
}

domu_toolstack()
{
	local i

	export PATH=$PATH:/usr/lib/xen-4.17/bin
	mkdir -p /dev/pts /var/run/xen /var/lib/xen /var/log/xen/console
	mount -t devpts devpts /dev/pts 2>/dev/null
	# xl waits for entropy on its first call otherwise.
	head -c 1 /dev/urandom >/dev/null
	timeout 10 xenstored --pid-file /var/run/xen/xenstored.pid || return 1
	for i in $(seq 50); do
		timeout 2 xenstore-read -s / >/dev/null 2>&1 && break
		usleep 100000
	done
	timeout 30 xen-init-dom0 >/dev/null || { echo "xen-init-dom0 failed"; return 1; }
	xenconsoled --log=all --log-dir=/var/log/xen/console || return 1
}

domu_test()
{
	local rc=0 id1 id2 hold i

	domu_toolstack || { echo "toolstack did not start"; return 1; }
	domu_time create timeout 120 "$XL" create /etc/xen/xenmm-domu.cfg || return 1
	id1=$(timeout 10 "$XL" domid "$DOMU_NAME")
	echo "domid_created: $id1"
	echo "wait_factor: $DOMU_SLOW"
	domu_wait '@@@XENMM-DOMU-READY@@@' 180 || rc=1

	if [ $rc -eq 0 ]; then
		echo "map_refs: $(domu_refs)"
		timeout 30 /bin/gntself map "$id1" $(domu_refs) || rc=1
		domu_time save timeout 120 "$XL" save "$DOMU_NAME" /tmp/domu.save || rc=1
		echo "save_bytes: $(stat -c %s /tmp/domu.save 2>/dev/null)"
		domu_time restore timeout 120 "$XL" restore /tmp/domu.save || rc=1
		rm -f /tmp/domu.save
		id2=$(timeout 10 "$XL" domid "$DOMU_NAME")
		echo "domid_restored: $id2"
	fi
	# Each marker needs dom0's step before it: once one is missing, the
	# domU waits for a step that never comes, so do not wait for the next.
	[ $rc -eq 0 ] && { domu_wait '@@@XENMM-DOMU-RESTORED@@@' 120 || rc=1; }
	if [ $rc -eq 0 ]; then
		domu_time mem_down timeout 30 "$XL" mem-set "$DOMU_NAME" 96m || rc=1
		domu_wait '@@@XENMM-DOMU-DOWN@@@' 120 || rc=1
		domu_time mem_up timeout 30 "$XL" mem-set "$DOMU_NAME" 128m || rc=1
	fi
	# Live migration to this host while the domU's scribble writes:
	# a PV domU's log-dirty mode is shadow paging's (HAP, which Xen may
	# list too, is for HVM and PVH guests only), and only the Xen make
	# xen builds has it here; without it, a second save and restore.
	if [ $rc -eq 0 ] && domu_wait '@@@XENMM-DOMU-UP@@@' 120; then
		case " $(timeout 10 "$XL" info | sed -n 's/^virt_caps *: *//p') " in
		*" shadow "*)
			domu_time migrate timeout 180 "$XL" migrate -s "" "$DOMU_NAME" \
				"exec $XL migrate-receive" || rc=1
			;;
		*)
			echo "migrate: not run, this Xen has no shadow paging; saving again"
			timeout 120 "$XL" save "$DOMU_NAME" /tmp/domu.save &&
				timeout 120 "$XL" restore /tmp/domu.save || rc=1
			rm -f /tmp/domu.save
			;;
		esac
		id2=$(timeout 10 "$XL" domid "$DOMU_NAME")
		echo "domid_migrated: $id2"
	else
		rc=1
	fi
	[ $rc -eq 0 ] && { domu_wait '@@@XENMM-DONE@@@' 180 || rc=1; }

	# Destroy the domU while dom0 still maps two of its pages.
	if [ $rc -eq 0 ]; then
		echo "hold_refs: $(domu_refs)"
		: >/tmp/hold.log
		/bin/gntself hold "$id2" $(domu_refs) >/tmp/hold.log 2>&1 &
		hold=$!
		for i in $(seq 100); do
			grep -q '^map_held:' /tmp/hold.log && break
			usleep 100000
		done
		echo "while_held: $(grep '^pages:' /sys/kernel/debug/xen/unpopulated)"
		domu_time destroy timeout 30 "$XL" destroy "$DOMU_NAME" || rc=1
		kill "$hold"
		wait "$hold" || rc=1
		sed 's/^/hold: /' /tmp/hold.log
	fi
	timeout 10 "$XL" destroy "$DOMU_NAME" 2>/dev/null
	for i in $(seq 50); do
		grep -q '^ranges: 0 ' /sys/kernel/debug/xen/unpopulated && break
		usleep 100000
	done
	sed 's/^/unpopulated_after: /' /sys/kernel/debug/xen/unpopulated
	echo "console_logs: $(ls /var/log/xen/console)"
	domu_console | sed 's/^/domu| /'
	return $rc
}

# A PVH domU (no P2M in the guest) takes unpopulated pages from its own
# memory map's gaps.  Xen runs PVH only with HAP or shadow paging: QEMU's
# qemu64 CPU has no NPT (XENMM_X86_CPU can add it) and Debian's Xen is
# built without shadow paging, so only the Xen make xen builds can here.
# Its console is relayed prefixed "pvh| ".  It needs the QEMU that
# tools/testing/build/qemu.sh builds: Debian's delivers an interrupt
# Xen injects twice now and then (tools/testing/qemu/0001), which kills
# a PVH guest.
# pvh_run LOG: create the PVH domU paused, grant it two pages and leave
# their refs in its xenstore directory for it to map
# (tools/testing/boot/init, pvh_map_dom0_grant), let it run until DONE or
# a panic, 300 s at most by the clock, and destroy it.  Returns 0 for
# DONE, 1 otherwise.
pvh_run()
{
	local log=$1 i id offer refs rc=0

	domu_time pvh_create timeout 120 "$XL" create -p /etc/xen/xenmm-pvh.cfg || return 1
	id=$(timeout 10 "$XL" domid xenmm-pvh)
	/bin/gntself offer "$id" 2 >/tmp/pvh-offer.log 2>&1 &
	offer=$!
	for i in $(seq 100); do
		grep -q '^offer_refs:' /tmp/pvh-offer.log && break
		usleep 100000
	done
	refs=$(sed -n 's/^offer_refs: *//p' /tmp/pvh-offer.log)
	echo "pvh_offer_refs: $refs"
	[ -n "$refs" ] && timeout 10 xenstore-write "/local/domain/$id/data/xenmm-grant" "$refs" ||
		{ echo "pvh: cannot offer it dom0's grant"; rc=1; }
	timeout 10 "$XL" unpause xenmm-pvh || rc=1
	# By the clock: a PVH domU that hangs must fail its own checks, not
	# take dom0's past the harness's deadline.
	i=$(($(cut -d. -f1 /proc/uptime) + 300 * DOMU_SLOW))
	while [ "$(cut -d. -f1 /proc/uptime)" -lt "$i" ]; do
		grep -q -e '@@@XENMM-DONE@@@' -e 'Kernel panic' "$log" 2>/dev/null && break
		usleep 200000
	done
	timeout 10 "$XL" destroy xenmm-pvh 2>/dev/null
	kill "$offer"
	wait "$offer"
	sed 's/^/pvh_offer: /' /tmp/pvh-offer.log
	grep -q '@@@XENMM-DONE@@@' "$log" && return $rc
	grep -q 'Kernel panic' "$log" && echo "pvh: the PVH domU panicked" ||
		echo "timeout: no DONE from the PVH domU"
	return 1
}

pvh_test()
{
	local log=/var/log/xen/console/guest-xenmm-pvh.log caps rc

	caps=$(timeout 10 "$XL" info | sed -n 's/^virt_caps *: *//p')
	echo "virt_caps: $caps"
	case " $caps " in
	*" hap "*|*" shadow "*) ;;
	*) echo "pvh: not run, this Xen has neither hap nor shadow paging"; return 0 ;;
	esac
	pvh_run "$log"
	rc=$?
	tr -d '\r' <"$log" | sed 's/^/pvh| /'
	[ $rc -eq 0 ]
}

if grep -q xenmm.domu /proc/cmdline; then
	section domu domu_test
	# xenmm.nopvh: the PV domU only (make check's debug-kernel run, where
	# a PVH domU took minutes more: measured on shadow paging, not yet
	# on HAP).
	grep -q xenmm.nopvh /proc/cmdline || section pvh pvh_test
fi
