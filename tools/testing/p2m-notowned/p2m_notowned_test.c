// SPDX-License-Identifier: GPL-2.0
/*
 * Boot test of what a PV dom0's P2M answers for machine RAM dom0 does not
 * own, and what that answer does to an ioremap() of it.
 *
 * The machine map lists RAM that Xen kept or gave to other domains.  Past
 * the pfns setup.c may hand out as extra memory (xen_max_p2m_pfn), such a
 * pfn is neither dom0's nor ever will be.  Upstream 6.1 answers identity
 * there, so an ioremap() asks Xen to map another owner's frame, which Xen
 * refuses with a failed mmu_update and the kernel's multicall warning; our
 * P2M answers missing, so the mapping is not present and a read faults
 * inside dom0.  The results are "xenmm-p2m-notowned:" lines that
 * tools/testing/boot/checks_p2m.py reads; its clean-log check sees any warning.
 */

#define pr_fmt(fmt) "xenmm-p2m-notowned: " fmt

#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/e820/types.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/hypervisor.h>
#include <asm/xen/page.h>
#include <xen/interface/memory.h>
#include <xen/xen.h>

/* Look at this pfn instead (for comparing kernels whose limits differ). */
static unsigned long pfn_param;
module_param_named(pfn, pfn_param, ulong, 0444);
MODULE_PARM_DESC(pfn, "the pfn to look up and map, instead of finding one");

/* The last pfn of the highest machine RAM region that dom0 cannot own. */
static unsigned long __init notowned_pfn(const struct e820_entry *map,
					 unsigned int nr)
{
	unsigned long pfn;
	unsigned int i;

	for (i = nr; i--; ) {
		if (map[i].type != E820_TYPE_RAM)
			continue;
		pfn = PFN_DOWN(map[i].addr + map[i].size) - 1;
		if (pfn >= xen_max_p2m_pfn && !page_is_ram(pfn))
			return pfn;
	}
	return 0;
}

static int __init p2m_notowned_init(void)
{
	struct xen_memory_map memmap;
	struct e820_entry *map;
	unsigned long pfn, raw, val;
	void __iomem *va;
	int ret;

	if (!xen_pv_domain() || !xen_initial_domain()) {
		pr_info("skipped: not a PV dom0\n");
		return -ENODEV;
	}
	map = kcalloc(E820_MAX_ENTRIES_ZEROPAGE, sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	memmap.nr_entries = E820_MAX_ENTRIES_ZEROPAGE;
	set_xen_guest_handle(memmap.buffer, map);
	ret = HYPERVISOR_memory_op(XENMEM_machine_memory_map, &memmap);
	if (ret) {
		pr_err("no machine memory map: %d\n", ret);
		goto out;
	}
	pfn = pfn_param ?: notowned_pfn(map, memmap.nr_entries);
	if (!pfn) {
		pr_err("none: no machine RAM past pfn %#lx that dom0 does not own\n",
		       xen_max_p2m_pfn);
		ret = -ENOENT;
		goto out;
	}

	raw = __pfn_to_mfn(pfn);
	pr_info("lookup: pfn %#lx (machine RAM, not dom0's, extra memory ends at %#lx): %s\n",
		pfn, xen_max_p2m_pfn,
		raw == INVALID_P2M_ENTRY ? "missing" :
		(raw & IDENTITY_FRAME_BIT) ? "identity" : "an mfn");

	va = ioremap(PFN_PHYS(pfn), PAGE_SIZE);
	if (!va) {
		pr_info("ioremap: refused\n");
		goto out;
	}
	ret = copy_from_kernel_nofault(&val, (const void __force *)va,
				       sizeof(val));
	pr_info("read: %d\n", ret);
	iounmap(va);
	ret = 0;
out:
	kfree(map);
	/* Nothing to keep loaded: report through the load's result. */
	return ret ? ret : -EAGAIN;
}
module_init(p2m_notowned_init);

MODULE_DESCRIPTION("xenmm boot test: P2M answer for machine RAM dom0 does not own");
MODULE_LICENSE("GPL");
