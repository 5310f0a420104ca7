#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make run: build what is needed, boot Xen + our kernel as dom0 in QEMU and
# print a short summary of what the guest reported.
#
# Environment: LAYOUT (default pc-1g), KDIR (build the user's tree instead),
# XEN_FLAVOUR (default debian).

source "$(dirname "$0")/build/common.sh"

LAYOUT=${LAYOUT:-pc-1g}
B=$XENMM_TOP/tools/testing

python3 "$B/boot/xenboot.py" --list-layouts | grep -q "^  $LAYOUT " ||
	die "unknown layout '$LAYOUT'; known layouts:
$(python3 "$B/boot/xenboot.py" --list-layouts)"

out=$("$B/build/kernel.sh" ${KDIR:+--kdir "$KDIR"}) || exit 1
xen=$("$B/build/xen.sh" --flavour "${XEN_FLAVOUR:-debian}") || exit 1
mods=$("$B/build/modules.sh" "$out") || exit 1
initrd=$("$B/build/initramfs.sh" --extra "$mods") || exit 1

progress "booting Xen + dom0 in QEMU (layout $LAYOUT, TCG; ~15-60 s)"
python3 "$B/boot/boottest.py" show --layout "$LAYOUT" --xen "$xen" \
	--kernel "$out/arch/x86/boot/bzImage" --initrd "$initrd"
