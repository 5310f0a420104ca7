# SPDX-License-Identifier: GPL-2.0
# Boot test of what the P2M answers for machine RAM a PV dom0 does not own
# (Documentation/xen/p2m.rst, "Machine RAM dom0 does not own"), sourced by
# the test initramfs's /init from /etc/xenmm.d/ in a PV dom0:
# p2m_notowned_test.ko looks such a pfn up, ioremap()s it and reads it;
# checks_p2m.py reads its "xenmm-p2m-notowned:" lines, and the clean-log check
# the warning a failed page-table hypercall would print.

p2m_notowned_test()
{
	insmod /lib/xenmm/p2m_notowned_test.ko
	echo "insmod: $? (-EAGAIN by design)"
	dmesg | grep 'xenmm-p2m-notowned: '
	return 0
}

if grep -q '^xen$' /sys/hypervisor/type 2>/dev/null &&
   [ "$(cat /sys/hypervisor/guest_type 2>/dev/null)" = PV ] &&
   grep -q control_d /proc/xen/capabilities 2>/dev/null; then
	section p2m_notowned p2m_notowned_test
fi
