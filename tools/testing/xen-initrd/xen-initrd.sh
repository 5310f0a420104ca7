# SPDX-License-Identifier: GPL-2.0
# Boot test of our Xen series, sourced by the test initramfs's /init from
# /etc/xenmm.d/: with "xenmm.initrd_free retain_initrd" on the command line
# (boottest.py --series on x86), a PV dom0 gives its initrd's pages back to
# Xen and repopulates them (xen_initrd_free_test.ko).  checks_xen.py reads the
# "xenmm-initrd:" lines.

initrd_free_test()
{
	insmod /lib/xenmm/xen_initrd_free_test.ko
	echo "insmod: $? (-EAGAIN by design when all went well)"
	dmesg | grep 'xenmm-initrd: '
	return 0
}

if grep -q xenmm.initrd_free /proc/cmdline; then
	section initrd_free initrd_free_test
fi
