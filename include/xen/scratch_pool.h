/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pools of unpopulated guest-physical ranges ("Xen scratch") and the
 * "Xen unused space" they are taken from.
 *
 * drivers/xen/scratch_pool.c holds the logic: which range to take, where
 * it is shown in the resource tree, which page of it is free, when an
 * all-free range goes back.  It needs no hypervisor: how a range gets its
 * struct pages is a backing supplied by the user (memremap_pages for
 * drivers/xen/unpopulated-alloc.c, plain arrays for the KUnit suite).
 */
#ifndef _XEN_SCRATCH_POOL_H
#define _XEN_SCRATCH_POOL_H

#include <linux/ioport.h>
#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/mutex.h>
#include <linux/range.h>
#include <linux/types.h>
#include <linux/wait.h>

struct page;
struct seq_file;
struct xen_scratch_pool;
struct xen_unused_space;
struct xen_scratch_range;

/* The name every range shows in the resource tree. */
#define XEN_SCRATCH_NAME	"Xen scratch"
/* The name of the space a hypervisor says is unused. */
#define XEN_UNUSED_SPACE_NAME	"Xen unused space"

/**
 * struct xen_scratch_backing - how a range gets struct pages
 * @map:     make struct pages for every page of @range; return the first
 *           (the rest follow it in memory) or an ERR_PTR(), never NULL.
 *           Nothing of the range may stay behind on failure.
 * @unmap:   undo @map once every page of @range is free again.
 * @prepare: optional; called for each page just before it is handed out.
 *           A failure gives the pages taken so far back and fails the call.
 * @busy:    optional; whether anything still refers to a page of an idle
 *           @range (a stale reference), in which case it is not unmapped.
 *           Called with the pool's mutex held.
 *
 * @unmap runs without the pool's mutex, possibly beside @map of another
 * range, except when adding the range fails after @map.
 */
struct xen_scratch_backing {
	struct page *(*map)(struct xen_scratch_pool *pool,
			    struct xen_scratch_range *range);
	void (*unmap)(struct xen_scratch_pool *pool,
		      struct xen_scratch_range *range);
	int (*prepare)(struct xen_scratch_pool *pool, struct page *page);
	bool (*busy)(struct xen_scratch_pool *pool,
		     const struct xen_scratch_range *range);
};

/**
 * struct xen_scratch_stats - what a pool holds and has done
 * @ranges:        ranges held, with pages
 * @idle_ranges:   of those, ranges whose every page is free
 * @pages_free:    pages held and free
 * @pages_used:    pages handed out and not yet freed
 * @fills:         ranges taken
 * @fill_failures: attempts to take a range that failed
 * @conflicts:     spans blocked because something else sat there
 * @returns:       ranges given back
 * @returns_refused: give-backs of an idle range refused because a page was
 *                 still referenced (each reclaim counts it again)
 * @fallbacks:     ranges taken from the fallback resource
 * @bad_frees:     frees of pages the pool had not handed out
 */
struct xen_scratch_stats {
	unsigned long ranges;
	unsigned long idle_ranges;
	unsigned long pages_free;
	unsigned long pages_used;
	unsigned long fills;
	unsigned long fill_failures;
	unsigned long conflicts;
	unsigned long returns;
	unsigned long returns_refused;
	unsigned long fallbacks;
	unsigned long bad_frees;
};

/**
 * struct xen_scratch_pool - unpopulated pages and the ranges behind them
 * @target:       ranges are allocated from this resource
 * @fallback:     tried once @target has no room left; may be NULL
 * @shown_in:     a range not taken from this resource is also requested
 *                in it so that it can be seen there; normally
 *                &iomem_resource
 * @space:        the unused space @target is the root of, listed by
 *                xen_scratch_show(); may be NULL
 * @min_addr:     lowest address a range may start at
 * @unvouched_min_addr: lowest address a range may start at when taken
 *                from a resource other than @space's (iomem_resource as
 *                target or fallback), where what is free need not be
 *                unused; 0 for @min_addr
 * @max_addr:     highest address a range may end at
 * @granule:      ranges are multiples of this size and aligned to it
 *                (a memory section: the unit memremap_pages() maps)
 * @max_request:  the most pages one call may ask for
 * @backing:      gives ranges their struct pages
 * @backing_data: for @backing
 * @lock:         serialises everything below
 * @ranges:       ranges with pages
 * @by_page:      the ranges, indexed by the addresses of their struct pages
 * @blocked:      granules found in use by others, retried once the
 *                target has no other room
 * @nr_tearing_down: ranges taken off @ranges and not yet torn down
 * @room_events:  teardowns ended and frees made so far: room that came back
 * @room_wq:      woken with each of them
 * @nr_allocs:    allocations so far, numbering each
 * @filler:       the number of the allocation filling ranges now
 * @stats:        counters, see struct xen_scratch_stats
 *
 * The fields above @lock are set before xen_scratch_pool_init().
 */
struct xen_scratch_pool {
	struct resource *target;
	struct resource *fallback;
	struct resource *shown_in;
	const struct xen_unused_space *space;
	resource_size_t min_addr;
	resource_size_t unvouched_min_addr;
	resource_size_t max_addr;
	resource_size_t granule;
	unsigned long max_request;
	const struct xen_scratch_backing *backing;
	void *backing_data;

	struct mutex lock;		/* serialises the fields below */
	struct list_head ranges;
	struct maple_tree by_page;
	struct list_head blocked;
	unsigned int nr_tearing_down;
	unsigned long room_events;
	wait_queue_head_t room_wq;
	unsigned long nr_allocs;
	unsigned long filler;
	struct xen_scratch_stats stats;
};

/**
 * struct xen_scratch_range - one range of a pool
 * @link:         in the pool's @ranges
 * @res:          the range, allocated from the pool's target or fallback
 * @shown:        the copy inserted into the pool's @shown_in, when @res
 *                lives elsewhere
 * @first:        the struct page of the range's first page
 * @backing_data: for the pool's backing
 * @nr_pages:     pages in the range
 * @nr_free:      of those, free
 * @hint:         where to look for the next free page
 * @idle_since:   jiffies when the last page came back
 * @filler:       the number of the allocation that filled it
 * @in_use:       a bit per page, set while it is handed out
 */
struct xen_scratch_range {
	struct list_head link;
	struct resource res;
	struct resource shown;
	struct page *first;
	void *backing_data;
	unsigned long nr_pages;
	unsigned long nr_free;
	unsigned long hint;
	unsigned long idle_since;
	unsigned long filler;
	unsigned long in_use[];
};

int xen_scratch_pool_init(struct xen_scratch_pool *pool);
int xen_scratch_pool_destroy(struct xen_scratch_pool *pool);
int xen_scratch_alloc(struct xen_scratch_pool *pool, unsigned int nr_pages,
		      struct page **pages);
int xen_scratch_free(struct xen_scratch_pool *pool, unsigned int nr_pages,
		     struct page **pages);
unsigned int xen_scratch_reclaim(struct xen_scratch_pool *pool,
				 unsigned long min_idle);
void xen_scratch_stats(struct xen_scratch_pool *pool,
		       struct xen_scratch_stats *stats);
void xen_scratch_show(struct xen_scratch_pool *pool, struct seq_file *m);

/**
 * struct xen_unused_space - guest-physical space a hypervisor left unused
 * @root:     spans every region; its free space is exactly the regions,
 *            so a pool can take ranges from it
 * @regions:  the regions, in no resource tree
 * @holes:    children of @root covering what lies between regions
 * @nr:       regions kept
 * @link:     in the list of spaces built
 * @shown_within: NULL, or whether a resource of a pool's @shown_in tree
 *            that wholly contains a range is the hypervisor's own record
 *            of unused space (an E820 "Unusable memory" entry), which the
 *            range is then shown inside of rather than blocked by; set
 *            after xen_unused_space_build(); it must answer true only
 *            for resources that are never released.  A space that has it
 *            is allocated from without IORESOURCE_MEM (see
 *            xen_scratch_claim())
 */
struct xen_unused_space {
	struct resource root;
	struct resource *regions;
	struct resource *holes;
	unsigned int nr;
	struct list_head link;
	bool (*shown_within)(const struct resource *res);
};

int xen_unused_space_build(struct xen_unused_space *space,
			   const struct range *regions, unsigned int nr,
			   resource_size_t granule);
void xen_unused_space_destroy(struct xen_unused_space *space);
struct xen_unused_space *xen_unused_space_of(struct resource *res);

#endif /* _XEN_SCRATCH_POOL_H */
