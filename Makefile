# SPDX-License-Identifier: GPL-2.0
#
# xenmm: a three-level P2M and an unpopulated-alloc provider for Xen PV
# Linux 6.1 guests, plus companion Xen 4.17 patches.  See README.md.
#
# The two commands a user needs:
#   make run     build everything needed, boot it as dom0, print a summary
#   make check   run every test; ends with "N passed, N failed"
# Everything else: make help.

SHELL := /bin/bash
T := tools/testing

LAYOUT ?= pc-1g
export LAYOUT LAYOUTS KDIR XENMM_CACHE XEN_FLAVOUR GUEST DEBUG STRESS STRESS_SEED

.PHONY: help run check kernel xen xen-series xen-series-export xen-test initramfs layouts host-test kunit bench soak \
	lint series docs \
	clean-cache

help:
	@echo 'xenmm targets:'
	@echo '  run          build kernel, Xen and initramfs; boot dom0 in QEMU; summarise'
	@echo '               (LAYOUT=name, default pc-1g; virt-* layouts are arm64;'
	@echo '               GUEST=domu also runs a PV and a PVH domU: create, save/restore,'
	@echo '               mem-set (on a patched QEMU, tools/testing/qemu, built once);'
	@echo '               DEBUG=1 boots the debug kernel: lockdep, KFENCE, SLUB and VM checks;'
	@echo '               STRESS=seed also runs the dom0 stress test)'
	@echo '  check        every test: boot tests on every layout (LAYOUTS=a,b to narrow;'
	@echo '               STRESS_SEED=n replays the stress test)'
	@echo '  kernel       build Linux 6.1 + overlay into ~/.cache/xenmm (KDIR=tree: your tree)'
	@echo '  xen          build Xen 4.17.5 from Debian source + xen/patches/ (our series),'
	@echo '               CONFIG_DEBUG=y, x86_64 and arm64; make run boots it (XEN_FLAVOUR=debian:'
	@echo '               Debian'"'"'s binary instead)'
	@echo '  xen-series   git am xen/patches/ on a pristine Xen 4.17.5 and check each patch'"'"'s form'
	@echo '  xen-series-export XEN_TREE=dir'
	@echo '               rewrite xen/patches/ from your Xen git tree (commits after xen.sh'"'"'s base)'
	@echo '  xen-test     host test of the series'"'"' page states (x86 and Arm layouts, ASan/UBSan)'
	@echo '  initramfs    build the busybox test initramfs'
	@echo '  layouts      list the QEMU memory layouts'
	@echo '  host-test    P2M tree host harness only (ASan/UBSan, fuzz, faults, TSan)'
	@echo '  kunit        our KUnit suites on UML via kunit.py'
	@echo '  lint         checkpatch --strict, kernel-doc, sparse and W=1 on our files;'
	@echo '               the Xen series'"'"' git am and CODING_STYLE form checks'
	@echo '  series       export the overlay as a git format-patch series against 6.1'
	@echo '               (with a cover letter) into ~/.cache/xenmm/series'
	@echo '  docs         build Documentation/ as HTML with Sphinx (warnings are errors)'
	@echo '  bench        P2M and unpopulated-alloc benchmarks as ratios: host model,'
	@echo '               and in dom0 against upstream 6.1 (builds a second kernel)'
	@echo '  soak         1e9-operation fuzz of the P2M tree (FUZZ_SEED=n)'
	@echo '  clean-cache  remove ~/.cache/xenmm (XENMM_CACHE)'
	@echo 'Logs of every step are kept in ~/.cache/xenmm/logs.'

run:
	@$(T)/run.sh

check:
	@$(T)/check.sh

kernel:
	@$(T)/build/kernel.sh $(if $(KDIR),--kdir "$(KDIR)")

xen:
	@$(T)/build/xen.sh --arch x86_64 --flavour source
	@$(T)/build/xen.sh --arch arm64 --flavour source

xen-series:
	@$(T)/build/xen-series.sh --check

xen-series-export:
	@test -n "$(XEN_TREE)" || { echo "usage: make xen-series-export XEN_TREE=/path/to/xen/git/tree" >&2; exit 2; }
	@$(T)/build/xen-series.sh --export "$(XEN_TREE)"

xen-test:
	@$(T)/xen-page-state/run.sh

initramfs:
	@$(T)/build/initramfs.sh

layouts:
	@python3 $(T)/boot/xenboot.py --list-layouts

P2M_HARNESS_OUT = $${XENMM_CACHE:-$$HOME/.cache/xenmm}/p2m-harness

host-test:
	@$(MAKE) -s -C $(T)/p2m O=$(P2M_HARNESS_OUT) test

kunit:
	@$(T)/kunit-uml.sh

lint:
	@$(T)/lint.sh
	@$(T)/build/xen-series.sh --check

series:
	@$(T)/build/series.sh

docs:
	@$(T)/docs.sh

bench:
	@$(T)/bench.sh

soak:
	@$(MAKE) -s -C $(T)/p2m O=$(P2M_HARNESS_OUT) soak

clean-cache:
	rm -rf "$${XENMM_CACHE:-$$HOME/.cache/xenmm}"
