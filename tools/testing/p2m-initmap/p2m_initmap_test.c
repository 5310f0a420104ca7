// SPDX-License-Identifier: GPL-2.0
/*
 * Boot test of the P2M: what is left of the mapping Xen set up for its
 * initial list.
 *
 * A PV kernel that declares XEN_ELFNOTE_INIT_P2M gets Xen's list of the
 * guest's frames mapped at that virtual address, outside the kernel image,
 * with page tables of its own.  Once the P2M reaches the list's pages
 * through the direct map (or has copied them), nothing may use that
 * mapping: the kernel should unmap it and give its page tables back.
 * This module looks every page of the list's range up in the kernel's
 * page tables and reports how much is still mapped, and whether page
 * tables are left anywhere in the slot, as "xenmm-p2m-initmap:" lines that
 * tools/testing/boot/checks_p2m.py reads.  Loading always fails (-EAGAIN):
 * the module has done its job once it has printed.
 */

#define pr_fmt(fmt) "xenmm-p2m-initmap: " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <asm/pgtable_types.h>
#include <xen/xen.h>
#include <asm/xen/hypervisor.h>

/* Where arch/x86/xen/xen-head.S asks Xen to map its list. */
#define P2M_INITMAP_NOTE_VA	(PUD_SIZE * PTRS_PER_PUD)

/*
 * lookup_address() finds a pte table (or a large entry) under an address
 * even where nothing is mapped, and gives NULL only where a level above
 * is empty: count the 2 MiB spans of @va's top-level slot it finds one in.
 */
static void __init p2m_initmap_slot(unsigned long va)
{
	unsigned long addr, tables = 0;

	for (addr = va & PGDIR_MASK; addr < (va & PGDIR_MASK) + PGDIR_SIZE;
	     addr += PMD_SIZE) {
		unsigned int level;

		if (lookup_address(addr, &level))
			tables++;
	}
	pr_info("slot %lu: %lu of %lu 2 MiB spans with page tables\n",
		pgd_index(va), tables, PGDIR_SIZE / PMD_SIZE);
}

static int __init p2m_initmap_init(void)
{
	unsigned long va = xen_start_info->mfn_list, end, addr, mapped = 0;
	unsigned long first = 0;

	if (!xen_pv_domain()) {
		pr_info("skipped: not a PV guest\n");
		return -ENODEV;
	}
	end = va + PAGE_ALIGN(xen_start_info->nr_pages * sizeof(unsigned long));
	pr_info("list: va %#lx-%#lx, %lu pfns, frames pfn %#lx+%lu\n", va,
		end - 1, xen_start_info->nr_pages,
		xen_start_info->first_p2m_pfn, xen_start_info->nr_p2m_frames);
	if (va >= __START_KERNEL_map) {
		pr_info("placement: kernel image range\n");
		return -EAGAIN;
	}
	if (pgd_index(va) == pgd_index(P2M_INITMAP_NOTE_VA))
		pr_info("placement: INIT_P2M area, top-level slot %lu\n",
			pgd_index(va));
	else
		pr_info("placement: moved out of the INIT_P2M area, to top-level slot %lu\n",
			pgd_index(va));

	/* lookup_address() walks the kernel's own page tables (init_mm). */
	for (addr = va; addr < end; addr += PAGE_SIZE) {
		unsigned int level;
		pte_t *pte = lookup_address(addr, &level);

		if (pte && pte_present(*pte)) {
			if (!mapped)
				first = addr;
			mapped += PAGE_SIZE;
		}
	}
	if (mapped)
		pr_info("still mapped: %lu of %lu KiB, first at %#lx\n",
			mapped >> 10, (end - va) >> 10, first);
	else
		pr_info("still mapped: 0 of %lu KiB\n", (end - va) >> 10);

	/*
	 * Page tables left anywhere in the slot, and in the one the kernel's
	 * XEN_ELFNOTE_INIT_P2M note names if the list moved out of it
	 * (xen_relocate_p2m()).
	 */
	p2m_initmap_slot(va);
	if (pgd_index(va) != pgd_index(P2M_INITMAP_NOTE_VA))
		p2m_initmap_slot(P2M_INITMAP_NOTE_VA);
	return -EAGAIN;
}
module_init(p2m_initmap_init);

MODULE_DESCRIPTION("xenmm boot test: Xen's initial P2M mapping");
MODULE_LICENSE("GPL");
