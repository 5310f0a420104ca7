// SPDX-License-Identifier: GPL-2.0
/*
 * Unpopulated pages: struct pages with no memory behind them, into which
 * gntdev, privcmd and the backends map other domains' memory.
 *
 * Where their guest-physical addresses come from is decided once, at
 * boot, in this order:
 *
 *  1. arch_xen_unpopulated_init() offers a resource.  An architecture
 *     that knows what the hypervisor left unused (Arm: the extended
 *     regions in the device tree; x86: the gaps of the Xen memory map)
 *     builds "Xen unused space" from it; the default offers
 *     iomem_resource.
 *  2. If the architecture offers nothing - it cannot vouch for any
 *     space, e.g. Arm without extended regions or booted with ACPI -
 *     ballooned pages are used, as without CONFIG_XEN_UNPOPULATED_ALLOC.  Guessing from
 *     iomem_resource there could hand out addresses of devices that are
 *     not described yet.
 *
 * Ranges are taken a memory section at a time by the pool in
 * drivers/xen/scratch_pool.c and requested in iomem_resource as "Xen
 * scratch" when they are filled; the rest of the unused space is
 * requested nowhere, so that it stays free for whoever claims it later,
 * and a fill never takes what was claimed before it.  When every
 * page of a range has been free for reclaim_delay_ms the range is given
 * back.  Once the unused space is exhausted, iomem_resource is tried only
 * if booted with unpopulated_alloc.iomem_fallback=1.
 *
 * On x86 PV the P2M entries of a new range are made INVALID before its
 * struct pages and direct map exist, so that no page table ever points at
 * a machine frame through them, and those that read identity (a gap of
 * the memory map) do again once the range is torn down; each page's P2M
 * leaf is allocated before the page is handed out, so that a grant map
 * never needs memory.
 */

#define pr_fmt(fmt) "xen:unpopulated: " fmt

#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/memory_hotplug.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <asm/page.h>

#include <xen/balloon.h>
#include <xen/features.h>
#include <xen/page.h>
#include <xen/scratch_pool.h>
#include <xen/xen.h>

/* The most pages one call may ask for: 4 GiB worth. */
#define XEN_UNPOPULATED_MAX_REQUEST	(SZ_4G >> PAGE_SHIFT)

static bool iomem_fallback;
module_param(iomem_fallback, bool, 0444);
MODULE_PARM_DESC(iomem_fallback,
		 "Take ranges from iomem_resource once the Xen unused space is exhausted");

static unsigned int reclaim_delay_ms = 1000;
module_param(reclaim_delay_ms, uint, 0644);
MODULE_PARM_DESC(reclaim_delay_ms,
		 "How long a range must have been entirely free before it is given back");

static struct xen_scratch_pool xen_unpopulated_pool;
static struct delayed_work xen_unpopulated_reclaim_work;

enum xen_unpopulated_source {
	XEN_UNPOPULATED_NOT_READY,
	XEN_UNPOPULATED_POOL,
	XEN_UNPOPULATED_BALLOON,
};

static enum xen_unpopulated_source xen_unpopulated_source;

/**
 * arch_xen_unpopulated_init() - offer the space unpopulated pages may use
 * @res: set to &iomem_resource, or to a resource whose free space is
 *       unused (best, the @root of a struct xen_unused_space made by
 *       xen_unused_space_build(), which the provider's debugfs file
 *       lists)
 *
 * The default offers iomem_resource.  An architecture overrides this when
 * it knows better, and returns an error when it cannot vouch for any
 * space, in which case ballooned pages are used.
 *
 * Return: 0 or a negative error.
 */
int __weak __init arch_xen_unpopulated_init(struct resource **res)
{
	*res = &iomem_resource;
	return 0;
}

#ifdef CONFIG_XEN_HAVE_PVMMU
/* An x86 PV guest: its P2M must know about unpopulated pages. */
static bool xen_unpopulated_pv(void)
{
	return !xen_feature(XENFEAT_auto_translated_physmap);
}
#endif

/*
 * What a range's backing keeps: its dev_pagemap and, on x86 PV, which of
 * its pfns read identity before they were made INVALID, so that they do
 * again once the range goes.
 */
struct xen_unpopulated_range {
	struct dev_pagemap pgmap;
	unsigned long *was_identity;
};

#ifdef CONFIG_XEN_HAVE_PVMMU
/* Make the first @nr pfns of @range INVALID, noting which were identity. */
static int xen_unpopulated_p2m_take(struct xen_scratch_range *range,
				    struct xen_unpopulated_range *ur,
				    unsigned long *nr)
{
	unsigned long pfn = PFN_DOWN(range->res.start);

	for (*nr = 0; *nr < range->nr_pages; (*nr)++) {
		if (__pfn_to_mfn(pfn + *nr) == IDENTITY_FRAME(pfn + *nr))
			__set_bit(*nr, ur->was_identity);
		if (!set_phys_to_machine(pfn + *nr, INVALID_P2M_ENTRY)) {
			pr_warn("no P2M entry for pfn %#lx, range %pR not added\n",
				pfn + *nr, &range->res);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Give the first @nr pfns of @range back what they read before. */
static void xen_unpopulated_p2m_restore(struct xen_scratch_range *range,
					struct xen_unpopulated_range *ur,
					unsigned long nr)
{
	unsigned long pfn = PFN_DOWN(range->res.start), i;

	for_each_set_bit(i, ur->was_identity, nr)
		if (!set_phys_to_machine(pfn + i, IDENTITY_FRAME(pfn + i)))
			pr_warn_once("pfn %#lx not identity again\n", pfn + i);
}
#endif

static void xen_unpopulated_range_free(struct xen_unpopulated_range *ur)
{
	bitmap_free(ur->was_identity);
	kfree(ur);
}

static struct page *xen_unpopulated_map(struct xen_scratch_pool *pool,
					struct xen_scratch_range *range)
{
	struct xen_unpopulated_range *ur;
	unsigned long taken __maybe_unused = 0;
	void *vaddr;
	int ret;

	ur = kzalloc(sizeof(*ur), GFP_KERNEL);
	if (!ur)
		return ERR_PTR(-ENOMEM);

	ur->pgmap.type = MEMORY_DEVICE_GENERIC;
	ur->pgmap.range.start = range->res.start;
	ur->pgmap.range.end = range->res.end;
	ur->pgmap.nr_range = 1;

#ifdef CONFIG_XEN_HAVE_PVMMU
	if (xen_unpopulated_pv()) {
		ur->was_identity = bitmap_zalloc(range->nr_pages, GFP_KERNEL);
		ret = ur->was_identity ? xen_unpopulated_p2m_take(range, ur, &taken) :
					 -ENOMEM;
		if (ret)
			goto fail;
	}
#endif

	vaddr = memremap_pages(&ur->pgmap, NUMA_NO_NODE);
	if (IS_ERR(vaddr)) {
		ret = PTR_ERR(vaddr);
		pr_err("cannot map %pR: %d\n", &range->res, ret);
		goto fail;
	}
	range->backing_data = ur;
	return virt_to_page(vaddr);

fail:
#ifdef CONFIG_XEN_HAVE_PVMMU
	if (ur->was_identity)
		xen_unpopulated_p2m_restore(range, ur, taken);
#endif
	xen_unpopulated_range_free(ur);
	return ERR_PTR(ret);
}

static void xen_unpopulated_unmap(struct xen_scratch_pool *pool,
				  struct xen_scratch_range *range)
{
	struct xen_unpopulated_range *ur = range->backing_data;

	memunmap_pages(&ur->pgmap);
#ifdef CONFIG_XEN_HAVE_PVMMU
	/* No struct page and no mapping are left: the span is a gap again. */
	if (ur->was_identity)
		xen_unpopulated_p2m_restore(range, ur, range->nr_pages);
#endif
	xen_unpopulated_range_free(ur);
	range->backing_data = NULL;
}

/*
 * memremap_pages() leaves every page of a MEMORY_DEVICE_GENERIC map with
 * one reference, and the pool's pages keep it while they are handed out.
 * More on a page nobody holds means someone kept a reference past the free
 * (a gntdev or privcmd mapping not torn down): freeing its struct page
 * would turn that into a use-after-free of the vmemmap, so keep the range.
 */
static bool xen_unpopulated_busy(struct xen_scratch_pool *pool,
				 const struct xen_scratch_range *range)
{
	unsigned long i;

	for (i = 0; i < range->nr_pages; i++) {
		if (page_ref_count(range->first + i) != 1) {
			pr_warn_once("pfn %#lx has %d references while free: keeping %pR\n",
				     page_to_pfn(range->first + i),
				     page_ref_count(range->first + i),
				     &range->res);
			return true;
		}
	}
	return false;
}

static int xen_unpopulated_prepare(struct xen_scratch_pool *pool,
				   struct page *page)
{
#ifdef CONFIG_XEN_HAVE_PVMMU
	if (xen_unpopulated_pv())
		return xen_alloc_p2m_entry(page_to_pfn(page));
#endif
	return 0;
}

static const struct xen_scratch_backing xen_unpopulated_backing = {
	.map = xen_unpopulated_map,
	.unmap = xen_unpopulated_unmap,
	.prepare = xen_unpopulated_prepare,
	.busy = xen_unpopulated_busy,
};

static void xen_unpopulated_reclaim(struct work_struct *work)
{
	unsigned long delay = msecs_to_jiffies(reclaim_delay_ms);
	struct xen_scratch_stats stats;

	xen_scratch_reclaim(&xen_unpopulated_pool, delay);
	xen_scratch_stats(&xen_unpopulated_pool, &stats);
	if (stats.idle_ranges)
		schedule_delayed_work(&xen_unpopulated_reclaim_work, delay);
}

/*
 * Where pages come from.  Set once by xen_unpopulated_setup(), with
 * release semantics so that whoever reads the source also sees the pool
 * ready.
 */
static enum xen_unpopulated_source xen_unpopulated_source_get(void)
{
	/* Pairs with xen_unpopulated_source_set(). */
	return smp_load_acquire(&xen_unpopulated_source);
}

static void __init xen_unpopulated_source_set(enum xen_unpopulated_source src)
{
	/* Pairs with xen_unpopulated_source_get(). */
	smp_store_release(&xen_unpopulated_source, src);
}

/* Whether the pool may be used; warns when nothing was ever chosen. */
static bool xen_unpopulated_use_pool(void)
{
	enum xen_unpopulated_source src = xen_unpopulated_source_get();

	WARN_ONCE(src == XEN_UNPOPULATED_NOT_READY,
		  "xen:unpopulated: used outside a Xen guest\n");
	return src == XEN_UNPOPULATED_POOL;
}

/* Whether a range may be taken from iomem_resource at all. */
static bool __init xen_unpopulated_iomem_room(const struct xen_scratch_pool *pool)
{
	resource_size_t floor = max(pool->min_addr, pool->unvouched_min_addr);

	return floor < pool->max_addr &&
	       pool->max_addr - floor + 1 >= pool->granule;
}

static int __init xen_unpopulated_limits(struct xen_scratch_pool *pool)
{
	struct range mhp = mhp_get_pluggable_range(true);

	pool->min_addr = mhp.start;
	pool->max_addr = mhp.end;
	/*
	 * x86: below 4 GiB chipsets decode MMIO that neither the memory map
	 * nor ACPI describes, and the PCI hole is there: free in
	 * iomem_resource does not mean unused.  Xen's own unused space may
	 * still lie lower (a PVH dom0's unusable RAM).
	 */
	if (IS_ENABLED(CONFIG_X86))
		pool->unvouched_min_addr = SZ_4G;
#ifdef CONFIG_XEN_HAVE_PVMMU
	/* A pfn the P2M cannot describe cannot be grant mapped. */
	if (xen_unpopulated_pv())
		pool->max_addr = min_t(u64, pool->max_addr,
				       PFN_PHYS(xen_p2m_tree.max_pfn) - 1);
#endif
	if (pool->max_addr <= pool->min_addr)
		return -ENOSPC;
	/* Only iomem_resource offered, and not a section of it may be used. */
	if (!pool->space && !xen_unpopulated_iomem_room(pool))
		return -ENOSPC;
	return 0;
}

/* Choose where pages come from; see the top of this file. */
static void __init xen_unpopulated_setup(void)
{
	struct xen_scratch_pool *pool = &xen_unpopulated_pool;
	struct resource *res = NULL;
	int ret;

	INIT_DELAYED_WORK(&xen_unpopulated_reclaim_work, xen_unpopulated_reclaim);

	ret = arch_xen_unpopulated_init(&res);
	if (!ret && !res)
		ret = -ENOENT;
	if (!ret) {
		pool->target = res;
		pool->space = xen_unused_space_of(res);
		pool->fallback = res != &iomem_resource && iomem_fallback ?
				 &iomem_resource : NULL;
		pool->shown_in = &iomem_resource;
		pool->granule = PAGES_PER_SECTION << PAGE_SHIFT;
		pool->max_request = XEN_UNPOPULATED_MAX_REQUEST;
		pool->backing = &xen_unpopulated_backing;
		ret = xen_unpopulated_limits(pool);
	}
	if (!ret)
		ret = xen_scratch_pool_init(pool);

	if (ret) {
		pr_info("no address space to use (%d): using ballooned pages\n",
			ret);
		xen_unpopulated_source_set(XEN_UNPOPULATED_BALLOON);
	} else {
		resource_size_t floor = max(pool->min_addr,
					    pool->unvouched_min_addr);

		pr_info("ranges come from %s%s, below %pa\n", res->name,
			pool->fallback ? ", then iomem_resource" : "",
			&pool->max_addr);
		if ((!pool->space || pool->fallback) &&
		    xen_unpopulated_iomem_room(pool))
			pr_info("ranges from iomem_resource start at or above %pa\n",
				&floor);
		xen_unpopulated_source_set(XEN_UNPOPULATED_POOL);
	}
}

static DEFINE_MUTEX(xen_unpopulated_setup_lock);

/*
 * The source is chosen at late_initcall, so that on x86 every built-in
 * driver and the PCI host bridges have claimed their windows before the
 * architecture looks for unused space - or at the first use if that comes
 * earlier: a PVH or HVM guest maps its grant frames into unpopulated pages
 * at core_initcall (xen_xlate_map_ballooned_pages()).  Either way it
 * happens during boot, before init memory is freed, hence __ref.
 */
static void __ref xen_unpopulated_choose(void)
{
	mutex_lock(&xen_unpopulated_setup_lock);
	if (xen_domain() &&
	    xen_unpopulated_source_get() == XEN_UNPOPULATED_NOT_READY)
		xen_unpopulated_setup();
	mutex_unlock(&xen_unpopulated_setup_lock);
}

/**
 * xen_alloc_unpopulated_pages() - take unpopulated pages
 * @nr_pages: how many
 * @pages:    receives them
 *
 * Context: process context.
 * Return: 0; -EINVAL for no pages, or (with a warning) for a call outside
 * a Xen guest; -E2BIG for more than 4 GiB worth; or -ENOMEM.
 */
int xen_alloc_unpopulated_pages(unsigned int nr_pages, struct page **pages)
{
	if (unlikely(xen_unpopulated_source_get() == XEN_UNPOPULATED_NOT_READY))
		xen_unpopulated_choose();

	switch (xen_unpopulated_source_get()) {
	case XEN_UNPOPULATED_BALLOON:
		return xen_alloc_ballooned_pages(nr_pages, pages);
	case XEN_UNPOPULATED_POOL:
		return xen_scratch_alloc(&xen_unpopulated_pool, nr_pages, pages);
	default:
		xen_unpopulated_use_pool();
		return -EINVAL;
	}
}
EXPORT_SYMBOL(xen_alloc_unpopulated_pages);

/**
 * xen_free_unpopulated_pages() - give unpopulated pages back
 * @nr_pages: how many
 * @pages:    the pages, from xen_alloc_unpopulated_pages()
 *
 * A page that was not handed out, or is freed twice, is refused with a
 * warning and left alone.
 *
 * Context: process context.
 */
void xen_free_unpopulated_pages(unsigned int nr_pages, struct page **pages)
{
	if (xen_unpopulated_source_get() == XEN_UNPOPULATED_BALLOON) {
		xen_free_ballooned_pages(nr_pages, pages);
		return;
	}
	if (!xen_unpopulated_use_pool())
		return;

	xen_scratch_free(&xen_unpopulated_pool, nr_pages, pages);
	schedule_delayed_work(&xen_unpopulated_reclaim_work,
			      msecs_to_jiffies(reclaim_delay_ms));
}
EXPORT_SYMBOL(xen_free_unpopulated_pages);

static int xen_unpopulated_show(struct seq_file *m, void *v)
{
	if (xen_unpopulated_source == XEN_UNPOPULATED_BALLOON) {
		seq_puts(m, "source: ballooned pages\n");
		return 0;
	}
	seq_printf(m, "reclaim delay: %u ms\n", reclaim_delay_ms);
	xen_scratch_show(&xen_unpopulated_pool, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xen_unpopulated);

static void __init xen_unpopulated_debugfs(void)
{
	struct dentry *dir = debugfs_lookup("xen", NULL);

	/* Only the lookup takes a reference; creating pins the directory. */
	if (dir) {
		debugfs_create_file("unpopulated", 0444, dir, NULL,
				    &xen_unpopulated_fops);
		dput(dir);
		return;
	}
	dir = debugfs_create_dir("xen", NULL);
	debugfs_create_file("unpopulated", 0444, dir, NULL,
			    &xen_unpopulated_fops);
}

static int __init xen_unpopulated_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	xen_unpopulated_choose();
	xen_unpopulated_debugfs();
	return 0;
}
late_initcall(xen_unpopulated_init);
