# SPDX-License-Identifier: GPL-2.0
# Boot test of the P2M's hand-over from Xen's initial list, sourced by the
# test initramfs's /init from /etc/xenmm.d/ on an x86 PV guest: does the
# kernel still map the area Xen mapped its list in
# (XEN_ELFNOTE_INIT_P2M)?  p2m_initmap_test.ko walks the kernel's page
# tables there; checks_p2m.py reads its "xenmm-p2m-initmap:" lines.

p2m_initmap_test()
{
	insmod /lib/xenmm/p2m_initmap_test.ko
	echo "insmod: $? (-EAGAIN by design)"
	dmesg | grep 'xenmm-p2m-initmap: '
	return 0
}

if grep -q '^xen$' /sys/hypervisor/type 2>/dev/null &&
   [ "$(cat /sys/hypervisor/guest_type 2>/dev/null)" = PV ]; then
	section p2m_initmap p2m_initmap_test
fi
