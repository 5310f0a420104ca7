// SPDX-License-Identifier: GPL-2.0
/*
 * Boot test of our Xen series: give the pages of a PV dom0's initrd back
 * to Xen, then take as many pages from Xen again.
 *
 * Xen hands a PV dom0 its initrd in place, and before the series those
 * pages reached dom0 without going through Xen's init_heap_pages().  Dom0
 * booted with "retain_initrd" keeps them reserved and unused after
 * unpacking, so this module can return exactly those frames with
 * XENMEM_decrease_reservation, which makes Xen free them into its heap,
 * and then repopulate the same pfns with new frames and check that they
 * hold what is written to them.  Xen's own log shows whether freeing went
 * wrong (its debug build asserts on it); the results are printed as
 * "xenmm-initrd:" lines that tools/testing/boot/checks_xen.py reads.
 */

#define pr_fmt(fmt) "xenmm-initrd: " fmt

#include <linux/module.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <xen/xen.h>
#include <xen/mem-reservation.h>
#include <xen/interface/xen.h>
#include <asm/xen/hypervisor.h>
#include <asm/xen/page.h>

static int __init xen_initrd_free_init(void)
{
	unsigned long pfn0, n, i, bad = 0;
	struct page **pages;
	xen_pfn_t *frames;
	int ret;

	if (!xen_pv_domain() || !xen_initial_domain()) {
		pr_info("skipped: not a PV dom0\n");
		return -ENODEV;
	}
	if (!xen_start_info->mod_start || !xen_start_info->mod_len ||
	    !(xen_start_info->flags & SIF_MOD_START_PFN)) {
		pr_info("skipped: no initrd given by pfn (flags %#x)\n",
			xen_start_info->flags);
		return -ENODEV;
	}
	pfn0 = xen_start_info->mod_start;
	n = PFN_UP(xen_start_info->mod_len);
	pr_info("initrd: pfn %#lx-%#lx, %lu pages\n", pfn0, pfn0 + n - 1, n);

	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	frames = kvcalloc(n, sizeof(*frames), GFP_KERNEL);
	if (!pages || !frames) {
		ret = -ENOMEM;
		goto out;
	}

	/* Only pages dom0 still reserves and never reused are safe to give. */
	for (i = 0; i < n; i++) {
		/* pfn_to_mfn() would strip the bits that say "not RAM". */
		unsigned long mfn = __pfn_to_mfn(pfn0 + i);

		pages[i] = pfn_to_page(pfn0 + i);
		if (mfn & IDENTITY_FRAME_BIT) {
			pr_info("skipped: pfn %#lx is not RAM: setup.c moved the initrd out of an E820 hole\n",
				pfn0 + i);
			ret = -ENODEV;
			goto out;
		}
		if (!PageReserved(pages[i]) || mfn == INVALID_P2M_ENTRY ||
		    (mfn & FOREIGN_FRAME_BIT)) {
			pr_err("pfn %#lx: not a reserved RAM page (mfn %#lx): boot with retain_initrd\n",
			       pfn0 + i, mfn);
			ret = -EBUSY;
			goto out;
		}
		frames[i] = mfn;
	}

	xenmem_reservation_va_mapping_reset(n, pages);
	ret = xenmem_reservation_decrease(n, frames);
	pr_info("returned %d of %lu initrd pages to Xen\n", ret, n);
	if (ret != n) {
		ret = -EIO;
		goto out;
	}

	/* Take the pfns back with whatever frames Xen gives now. */
	for (i = 0; i < n; i++)
		frames[i] = pfn0 + i;
	ret = xenmem_reservation_increase(n, frames);
	if (ret > 0)
		xenmem_reservation_va_mapping_update(ret, pages, frames);
	pr_info("repopulated %d of %lu pfns\n", ret, n);
	if (ret != n) {
		ret = -EIO;
		goto out;
	}

	for (i = 0; i < n; i++) {
		unsigned long *p = page_address(pages[i]);
		unsigned long j;

		for (j = 0; j < PAGE_SIZE / sizeof(*p); j++)
			p[j] = (pfn0 + i) ^ j;
		for (j = 0; j < PAGE_SIZE / sizeof(*p); j++)
			bad += p[j] != ((pfn0 + i) ^ j);
	}
	pr_info("pattern: %s (%lu of %lu words differ)\n", bad ? "FAILED" : "ok",
		bad, n * (PAGE_SIZE / sizeof(unsigned long)));
	ret = bad ? -EIO : 0;
out:
	kvfree(frames);
	kvfree(pages);
	/* Nothing to keep loaded: report through the load's result. */
	return ret ? ret : -EAGAIN;
}
module_init(xen_initrd_free_init);

MODULE_DESCRIPTION("xenmm boot test: return a PV dom0's initrd pages to Xen");
MODULE_LICENSE("GPL");
