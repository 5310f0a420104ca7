// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where unpopulated pages may live on an Arm Xen guest.
 *
 * Xen 4.16 and later tell a guest booted with a device tree which parts
 * of its guest-physical space are unused: the "reg" entries after the
 * first (the grant table) of the node compatible with "xen,xen" are the
 * extended regions.  They become the "Xen unused space", each region
 * trimmed to whole memory sections.
 *
 * Nothing else tells an Arm guest which space is free.  iomem_resource
 * does not: Xen's grant-table region (reg 0 of that node) is never
 * requested there, nor is MMIO without a platform device, nor a bridge
 * window not probed yet; and Xen may keep space out of the extended
 * regions for itself.  So without a usable extended region (an older
 * Xen, ext_regions=0, regions too small for a section), or when booted
 * with ACPI, nothing is offered and ballooned pages are used, as they
 * are without CONFIG_XEN_UNPOPULATED_ALLOC.
 */

#define pr_fmt(fmt) "xen:unpopulated: " fmt

#include <linux/acpi.h>
#include <linux/init.h>
#include <linux/ioport.h>
#include <linux/mmzone.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/slab.h>

#include <xen/scratch_pool.h>
#include <xen/xen.h>

/* The first extended region's index among the node's "reg" entries. */
#define XEN_EXT_REGION_FIRST	1
/* Regions read at most. */
#define XEN_EXT_REGION_MAX	32

static struct xen_unused_space xen_unused_space;

/* Read the extended regions into @regions; returns how many. */
static unsigned int __init xen_ext_regions(struct device_node *np,
					   struct range *regions)
{
	struct resource res;
	unsigned int nr;

	for (nr = 0; nr < XEN_EXT_REGION_MAX; nr++) {
		if (of_address_to_resource(np, nr + XEN_EXT_REGION_FIRST, &res))
			break;
		pr_info("extended region %u: %pR\n", nr, &res);
		regions[nr].start = res.start;
		regions[nr].end = res.end;
	}
	if (nr == XEN_EXT_REGION_MAX &&
	    !of_address_to_resource(np, nr + XEN_EXT_REGION_FIRST, &res))
		pr_info("more than %u extended regions, the rest not used\n",
			XEN_EXT_REGION_MAX);
	return nr;
}

/**
 * arch_xen_unpopulated_init() - offer the extended regions
 * @res: set to the "Xen unused space" resource
 *
 * Return: 0; -ENODEV when booted with ACPI or without a "xen,xen" node,
 * -ENOENT when no extended region holds a whole section, so that
 * ballooned pages are used; or -ENOMEM.
 */
int __init arch_xen_unpopulated_init(struct resource **res)
{
	struct device_node *np;
	struct range *regions;
	unsigned int nr;
	int ret;

	if (!acpi_disabled) {
		pr_info("booted with ACPI: no space can be vouched for\n");
		return -ENODEV;
	}
	np = of_find_compatible_node(NULL, NULL, "xen,xen");
	if (!np) {
		pr_warn("no \"xen,xen\" node in the device tree\n");
		return -ENODEV;
	}

	regions = kcalloc(XEN_EXT_REGION_MAX, sizeof(*regions), GFP_KERNEL);
	if (!regions) {
		of_node_put(np);
		return -ENOMEM;
	}
	nr = xen_ext_regions(np, regions);
	of_node_put(np);

	ret = xen_unused_space_build(&xen_unused_space, regions, nr,
				     PAGES_PER_SECTION << PAGE_SHIFT);
	kfree(regions);
	if (ret == -ENOMEM)
		return ret;
	if (ret <= 0) {
		pr_info("no usable extended region: Xen vouches for no free space\n");
		return -ENOENT;
	}
	*res = &xen_unused_space.root;
	return 0;
}
