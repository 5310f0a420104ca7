# SPDX-License-Identifier: GPL-2.0
"""Checks of a booted guest, computed from what the guest itself printed.

Each check takes the result of xenboot.boot() and returns (ok, detail).
Expectations are derived from the guest's own output (its E820, its
memory map), never from a recorded run.
"""

from checks_guest import (
    check_arm_dom0, check_boot, check_clean_log, check_iomem_ram, check_kunit,
    check_pv_dom0, check_smp,
)
from checks_p2m import (
    check_p2m_dump, check_p2m_identity, check_p2m_initmap,
    check_p2m_list_moved, check_p2m_memory, check_p2m_notowned,
    check_p2m_populated, check_p2m_verified,
)
from checks_unpop import (
    check_balloon, check_grant, check_pvh_dom0, check_pvh_dom0_unused,
    check_unpopulated,
)
from checks_domu import (
    DOMU_VCPUS, PVH_VCPUS, check_domu_balloon, check_domu_boot,
    check_domu_destroy_mapped, check_domu_grant, check_domu_migrate,
    check_domu_p2m_populated, check_domu_save_restore, check_pvh_boot,
    check_pvh_dom0_grant, check_pvh_user_busy, domu_check, pvh_check,
)
from checks_xen import (
    check_static_domu, check_unpatched_node_heap_fault, check_xen_banks,
    check_xen_image, check_xen_initrd, check_xen_initrd_free,
    check_xen_node_heaps,
)

# Used by boottest.py and stress_checks.py through this module.
from parse import block, dmesg, parse_kunit  # noqa: F401
from checks_guest import XEN_BAD  # noqa: F401
from checks_domu import dom0_side, domu_res  # noqa: F401
from checks_xen import XEN_INITRD_ADOPTED  # noqa: F401


# A PVH dom0 (machine q35pvh): no P2M of its own, so not DOM0_CHECKS.
PVH_DOM0_CHECKS = [
    ("boot", check_boot),
    ("pvh-dom0", check_pvh_dom0),
    ("smp", check_smp),
    ("clean-log", check_clean_log),
    ("kunit", check_kunit),
    ("pvh-dom0-unused", check_pvh_dom0_unused),
]


# The debug kernel's extra checks (boottest.py adds them for a PV dom0
# booted with a --tag naming the debug variant).
DEBUG_CHECKS = [
    ("p2m-verified", check_p2m_verified),
]


DOM0_CHECKS = [
    ("boot", check_boot),
    ("pv-dom0", check_pv_dom0),
    ("smp", check_smp),
    ("clean-log", check_clean_log),
    ("kunit", check_kunit),
    ("iomem-ram", check_iomem_ram),
    ("p2m-dump", check_p2m_dump),
    ("p2m-memory", check_p2m_memory),
    ("p2m-identity", check_p2m_identity),
    ("p2m-populated", check_p2m_populated),
    ("balloon", check_balloon),
    ("grant", check_grant),
    ("unpopulated", check_unpopulated),
    ("p2m-initmap", check_p2m_initmap),
    ("p2m-notowned", check_p2m_notowned),
]


DOMU_CHECKS = [
    ("domu-dom0-boot", check_boot),
    ("domu-boot", check_domu_boot),
    ("domu-smp", domu_check(lambda d: check_smp(d, DOMU_VCPUS))),
    ("domu-clean-log", domu_check(check_clean_log)),
    ("domu-kunit", domu_check(check_kunit)),
    ("domu-iomem-ram", domu_check(check_iomem_ram)),
    ("domu-p2m-dump", domu_check(check_p2m_dump)),
    ("domu-p2m-memory", domu_check(check_p2m_memory)),
    ("domu-p2m-initmap", domu_check(check_p2m_initmap)),
    ("domu-p2m-populated", check_domu_p2m_populated),
    ("domu-grant", check_domu_grant),
    ("domu-save-restore", check_domu_save_restore),
    ("domu-balloon", check_domu_balloon),
    ("domu-migrate", check_domu_migrate),
    ("domu-destroy-mapped", check_domu_destroy_mapped),
]


PVH_CHECKS = [
    ("pvh-boot", check_pvh_boot),
    ("pvh-smp", pvh_check(lambda d: check_smp(d, PVH_VCPUS))),
    ("pvh-clean-log", pvh_check(check_clean_log)),
    ("pvh-kunit", pvh_check(check_kunit)),
    ("pvh-user-busy", pvh_check(check_pvh_user_busy)),
    ("pvh-dom0-grant", pvh_check(check_pvh_dom0_grant)),
    ("pvh-unpopulated", pvh_check(check_unpopulated)),
]


STATIC_DOMU_CHECKS = [
    ("static-domu", check_static_domu),
]


# Machine pclow (any Xen): the list in the machine map's hole.
PCLOW_CHECKS = [
    ("p2m-list-moved", check_p2m_list_moved),
]


X86_SERIES_CHECKS = [
    ("xen-initrd", check_xen_initrd),
    ("xen-initrd-free", check_xen_initrd_free),
    ("xen-image", check_xen_image),
]


# The series' reproducer, layout pc-1g-3node: ours, then unpatched 4.17.
PC3NODE_SERIES_CHECKS = [
    ("xen-node-heaps", check_xen_node_heaps),
]


UNPATCHED_CHECKS = [
    ("unpatched-node-heap-fault", check_unpatched_node_heap_fault),
]


# Patch 1 alone on the same layout: dom0's whole suite (as under Debian's
# baseline), the give-back, and the heap created at boot.
PATCH1_ONLY_CHECKS = DOM0_CHECKS + [
    ("xen-initrd-free", check_xen_initrd_free),
    ("xen-node-heaps", check_xen_node_heaps),
]


ARM64_SERIES_CHECKS = [
    ("xen-banks", check_xen_banks),
]


ARM64_CHECKS = [
    ("boot", check_boot),
    ("dom0", check_arm_dom0),
    ("smp", check_smp),
    ("clean-log", check_clean_log),
    ("kunit", check_kunit),
    ("grant", check_grant),
    ("unpopulated", check_unpopulated),
]


def run_checks(res, checks=None):
    if checks is None:
        checks = ARM64_CHECKS if res.get("arch") == "arm64" else DOM0_CHECKS
    out = []
    for name, fn in checks:
        if (name != "boot" and res["status"] != "done" and
                (name, fn) not in UNPATCHED_CHECKS):
            out.append((name, False, "not run: the boot failed"))
            continue
        try:
            ok, detail = fn(res)
        except Exception as e:     # a parser bug must fail, not pass
            ok, detail = False, f"check raised {type(e).__name__}: {e}"
        out.append((name, ok, detail))
    return out
