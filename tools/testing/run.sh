#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: build what is needed, boot Xen + our kernel as dom0 in QEMU and
# print a short summary of what the guest reported.
#
# Environment: LAYOUT (default pc-1g), KDIR (build the user's tree instead),
# XEN_FLAVOUR (source, the default: Xen 4.17.5 with our series, debug
# build; debian: Debian's xen-hypervisor-4.17 binary), GUEST=domu (also run
# a PV and a PVH domU under dom0's toolstack: x86 layouts only; boots the
# QEMU that tools/testing/build/qemu.sh builds), DEBUG=1 (the debug
# kernel, tools/testing/build/variants/debug), STRESS=SEED (also run the
# dom0 stress test, tools/testing/stress/, with that seed).

source "$(dirname "$0")/build/common.sh"

LAYOUT=${LAYOUT:-pc-1g}
B=$XENMM_TOP/tools/testing

# Not piped into grep -q: grep would stop reading at the match, and the
# listing die of SIGPIPE under pipefail.
layouts=$(python3 "$B/boot/xenboot.py" --list-layouts) || exit 1
grep -q "^  $LAYOUT " <<<"$layouts" ||
	die "unknown layout '$LAYOUT'; known layouts:
$layouts"

arch=$(python3 "$B/boot/xenboot.py" --layout-arch "$LAYOUT") || exit 1
[ -z "$KDIR" ] || [ "$arch" = x86_64 ] || die "KDIR= is supported for x86_64 layouts only"
case ${DEBUG:-0} in
0) variant=() ;;
1) variant=(--variant debug) ;;
*) die "DEBUG=$DEBUG: 1 boots the debug kernel, 0 (default) the usual one" ;;
esac
case ${STRESS:-} in
''|*[!0-9]*) [ -z "$STRESS" ] || die "STRESS=$STRESS: want a number, the stress test's seed" ;;
esac
out=$("$B/build/kernel.sh" --arch "$arch" ${KDIR:+--kdir "$KDIR"} ${variant[@]+"${variant[@]}"} |
	tail -n 1) || exit 1
xen=$("$B/build/xen.sh" --arch "$arch" --flavour "${XEN_FLAVOUR:-source}") || exit 1
mods=$("$B/build/modules.sh" "$out") || exit 1
extra=(--extra "$mods")
linux_extra=
case ${GUEST:-dom0} in
dom0) ;;
domu)
	[ "$arch" = x86_64 ] || die "GUEST=domu needs an x86_64 layout"
	extra+=(--extra "$("$B/build/domu.sh" "$out")") || exit 1
	linux_extra=xenmm.domu
	# The domU test's PVH domU needs the QEMU of tools/testing/qemu
	# (Debian's Xen runs no PVH domU here: it has no shadow paging).
	if [ "${XEN_FLAVOUR:-source}" = source ]; then
		XENMM_QEMU_X86=$("$B/build/qemu.sh") || exit 1
		export XENMM_QEMU_X86
	fi
	;;
*) die "GUEST=$GUEST: known guests are dom0 (default) and domu" ;;
esac
# A PVH dom0 runs under SVM: it needs the QEMU of tools/testing/qemu too.
if [ "$(python3 "$B/boot/xenboot.py" --layout-machine "$LAYOUT")" = q35pvh ]; then
	[ "${GUEST:-dom0}" = dom0 ] || die "layout $LAYOUT is a PVH dom0: GUEST=domu runs on a PV dom0 layout"
	XENMM_QEMU_X86=$("$B/build/qemu.sh") || exit 1
	export XENMM_QEMU_X86
fi
initrd=$("$B/build/initramfs.sh" --arch "$arch" "${extra[@]}") || exit 1

progress "booting Xen + dom0 in QEMU (layout $LAYOUT, TCG; ~15-60 s)"
python3 "$B/boot/boottest.py" show --layout "$LAYOUT" --xen "$xen" \
	--kernel "$out/$(kernel_image "$arch")" --initrd "$initrd" \
	--linux-extra "$linux_extra${STRESS:+ xenmm.stress=$STRESS}" \
	${linux_extra:+--timeout 600} ${STRESS:+--timeout 300}
