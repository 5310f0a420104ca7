// SPDX-License-Identifier: GPL-2.0
/*
 * Where unpopulated pages may live on an x86 Xen guest.
 *
 * The hypervisor does not hand x86 guests a list of unused space as it
 * does on Arm, but it does tell them the memory map: the machine's (for
 * the hardware domain) or the guest's own.  Any address that map does
 * not mention is neither RAM nor reserved, so nothing there needs a
 * struct page of its own; what devices use must still be kept out.  Hence
 * "Xen unused space" is:
 *
 *   the gaps of the Xen memory map,
 *   at or above 4 GiB - below it chipsets decode MMIO that neither the
 *     memory map nor ACPI describes, and the PCI hole lives there,
 *   below what the P2M, memory hotplug and iomem_resource can reach,
 *   minus everything already claimed in iomem_resource (PCI host bridge
 *     windows, device BARs, ACPI's reservations), which is why this runs
 *     from a late initcall (earlier only if a PVH or HVM guest needs
 *     pages for its grant frames first),
 *   trimmed to whole memory sections.
 *
 * If that leaves nothing, iomem_resource is offered, as upstream does.
 *
 * A PVH (or HVM) hardware domain is different.  Its grant table needs
 * pages at core_initcall, before ACPI has inserted the host bridges'
 * windows (subsys_initcall), so a gap of the map can still become a
 * window where firmware or Linux places BARs, and iomem_resource cannot
 * be vouched for either.  What Xen does vouch for is the RAM of the host
 * it keeps out of the domain: the E820_TYPE_UNUSABLE entries of the map
 * it hands the domain.  No device decodes there, whatever ACPI says
 * later.  That is this domain's unused space (shown in /proc/iomem inside
 * the "Unusable memory" entries); without it, ballooned pages are used.
 */

#define pr_fmt(fmt) "xen:unpopulated: " fmt

#include <linux/init.h>
#include <linux/ioport.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include <asm/e820/api.h>
#include <asm/e820/types.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/page.h>

#include <xen/interface/memory.h>
#include <xen/scratch_pool.h>
#include <xen/xen.h>

#define XEN_UNUSED_FLOOR	SZ_4G
/* Regions kept at most; gaps beyond that are not used. */
#define XEN_UNUSED_MAX_REGIONS	32

static struct xen_unused_space xen_unused_space;

struct xen_unused_gaps {
	struct range *regions;
	unsigned int nr;
	u64 cursor;
};

static void __init xen_unused_add(struct xen_unused_gaps *g, u64 start, u64 end)
{
	if (start > end)
		return;
	if (g->nr == XEN_UNUSED_MAX_REGIONS) {
		pr_info("more than %u gaps, [%#llx-%#llx] not used\n",
			XEN_UNUSED_MAX_REGIONS, start, end);
		return;
	}
	g->regions[g->nr].start = start;
	g->regions[g->nr].end = end;
	g->nr++;
}

/* walk_iomem_res_desc() callback: a claimed span inside the current gap. */
static int __init xen_unused_claimed(struct resource *res, void *arg)
{
	struct xen_unused_gaps *g = arg;

	if (res->start > g->cursor)
		xen_unused_add(g, g->cursor, res->start - 1);
	if (res->end + 1 > g->cursor)
		g->cursor = res->end + 1;
	return 0;
}

/* Add [@start, @end] minus what iomem_resource already holds. */
static void __init xen_unused_gap(struct xen_unused_gaps *g, u64 start, u64 end)
{
	g->cursor = start;
	/* Flags 0: whatever sits there, e.g. a PVH guest's flagless "PCI mem". */
	walk_iomem_res_desc(IORES_DESC_NONE, 0, start, end, g,
			    xen_unused_claimed);
	if (g->cursor && g->cursor <= end)
		xen_unused_add(g, g->cursor, end);
}

static int __init xen_e820_cmp(const void *a, const void *b)
{
	const struct e820_entry *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/* Highest address unpopulated pages may use here. */
static u64 __init xen_unused_limit(void)
{
	u64 limit = mhp_get_pluggable_range(true).end;

	/* iomem_resource ends at what the CPU can address. */
	limit = min_t(u64, limit, iomem_resource.end);
	if (xen_pv_domain())
		limit = min_t(u64, limit, PFN_PHYS(xen_p2m_tree.max_pfn) - 1);
	return limit;
}

static int __init xen_unused_gaps(struct xen_unused_gaps *g)
{
	struct xen_memory_map memmap = { .nr_entries = E820_MAX_ENTRIES };
	u64 floor = XEN_UNUSED_FLOOR, limit = xen_unused_limit();
	struct e820_entry *map;
	unsigned int i;
	int ret;

	map = kcalloc(E820_MAX_ENTRIES, sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;

	set_xen_guest_handle(memmap.buffer, map);
	ret = HYPERVISOR_memory_op(xen_initial_domain() ?
				   XENMEM_machine_memory_map :
				   XENMEM_memory_map, &memmap);
	if (ret) {
		pr_warn("cannot read the Xen memory map: %d\n", ret);
		goto out;
	}
	sort(map, memmap.nr_entries, sizeof(*map), xen_e820_cmp, NULL);

	for (i = 0; i < memmap.nr_entries && floor <= limit; i++) {
		u64 start = map[i].addr, end = map[i].addr + map[i].size - 1;

		if (!map[i].size || end < floor)
			continue;
		if (start > floor)
			xen_unused_gap(g, floor, min(start - 1, limit));
		floor = end + 1;
		if (!floor)	/* the map reaches the top of the space */
			break;
	}
	if (floor && floor <= limit)
		xen_unused_gap(g, floor, limit);
out:
	kfree(map);
	return ret;
}

/* The E820's records in iomem_resource of the host RAM Xen keeps out. */
static struct resource *xen_unusable_records[XEN_UNUSED_MAX_REGIONS];
static unsigned int xen_unusable_nr;

/*
 * xen_unused_space.shown_within: @res is one of those records, which
 * e820__reserve_resources() inserted and nothing releases.
 */
static bool xen_unusable_record(const struct resource *res)
{
	unsigned int i;

	for (i = 0; i < xen_unusable_nr; i++)
		if (res == xen_unusable_records[i])
			return true;
	return false;
}

/*
 * A PVH hardware domain's unused space: the host RAM Xen keeps out.  What
 * iomem_resource holds inside it is met when a range is shown there.
 */
static int __init xen_unused_unusable(struct xen_unused_gaps *g)
{
	u64 limit = xen_unused_limit();
	struct resource *rec;
	u32 i;

	for (i = 0; i < e820_table->nr_entries; i++) {
		const struct e820_entry *e = &e820_table->entries[i];
		u64 end = e->addr + e->size - 1;

		if (e->type != E820_TYPE_UNUSABLE || !e->size || e->addr > limit)
			continue;
		/*
		 * Only an entry whose own record is found: a range is shown
		 * inside that record, and any other resource there blocks it.
		 */
		rec = lookup_resource(&iomem_resource, e->addr);
		if (!rec || rec->end != end || !(rec->flags & IORESOURCE_BUSY)) {
			pr_info("no record of unusable RAM %#llx-%#llx in iomem_resource: not used\n",
				e->addr, end);
			continue;
		}
		if (xen_unusable_nr == ARRAY_SIZE(xen_unusable_records)) {
			pr_info("more than %u unusable RAM ranges, %#llx-%#llx and above not used\n",
				xen_unusable_nr, e->addr, end);
			break;
		}
		xen_unusable_records[xen_unusable_nr++] = rec;
		xen_unused_add(g, e->addr, min(end, limit));
	}
	return 0;
}

/**
 * arch_xen_unpopulated_init() - offer the gaps of the Xen memory map
 * @res: set to the "Xen unused space" resource, or to iomem_resource
 *
 * Return: 0, or -ENOMEM.
 */
int __init arch_xen_unpopulated_init(struct resource **res)
{
	struct xen_unused_gaps g = { };
	bool hwdom_hvm;
	unsigned int i;
	int ret;

	g.regions = kcalloc(XEN_UNUSED_MAX_REGIONS, sizeof(*g.regions),
			    GFP_KERNEL);
	if (!g.regions)
		return -ENOMEM;

	hwdom_hvm = xen_initial_domain() && !xen_pv_domain();
	ret = hwdom_hvm ? xen_unused_unusable(&g) : xen_unused_gaps(&g);
	if (!ret)
		ret = xen_unused_space_build(&xen_unused_space, g.regions, g.nr,
					     PAGES_PER_SECTION << PAGE_SHIFT);
	kfree(g.regions);

	if (ret == -ENOMEM)
		return ret;
	if (ret <= 0 && hwdom_hvm) {
		pr_info("no unusable host RAM holds a whole section: Xen vouches for no free space\n");
		return -ENOENT;
	}
	if (hwdom_hvm)
		xen_unused_space.shown_within = xen_unusable_record;
	if (ret <= 0) {
		pr_info("no gap of the Xen memory map is usable: offering iomem_resource\n");
		*res = &iomem_resource;
		return 0;
	}

	for (i = 0; i < xen_unused_space.nr; i++)
		pr_info("unused space %pR\n", &xen_unused_space.regions[i]);
	*res = &xen_unused_space.root;
	return 0;
}
