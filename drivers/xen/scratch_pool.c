// SPDX-License-Identifier: GPL-2.0
/*
 * Pools of unpopulated guest-physical ranges, and the "Xen unused space"
 * they come from.
 *
 * A pool hands out struct pages that have no memory behind them, for
 * grant and foreign mappings.  It gets them a range at a time: a span of
 * guest-physical space, a whole number of granules (memory sections), is
 * allocated from the pool's target resource; if the target is not the
 * tree the span is shown in (normally iomem_resource), a copy named
 * "Xen scratch" is requested there too.  The backing then gives the span
 * struct pages.
 *
 * The "Xen unused space" is a tree of its own, never requested anywhere:
 * only the spans in use are, one at a time, when they are filled.  So
 * the rest of the space stays free for whoever claims it later (a BAR
 * placed by pcifront or hotplug, the balloon's hotplug region), and each
 * fill sees what was claimed since the last one.
 *
 * Every range keeps a bitmap of the pages it has handed out, so a free
 * can tell a page it owns from a stranger and a second free from the
 * first; a maple tree over the addresses of the ranges' struct pages
 * finds a page's range without looking at the page.  When all pages of a
 * range are free the range becomes idle; xen_scratch_reclaim() gives back
 * ranges idle for long enough, so a burst does not pin its address space
 * and struct pages forever while alloc/free loops keep reusing the same
 * range.  Allocation prefers ranges in use over idle ones so that the
 * latter can drain.  A range whose page something still refers to is not
 * given back.
 *
 * A span found in use by someone else when a range is shown has the
 * granules it overlaps blocked, as far as it reaches into the unused
 * region, and the fill goes on with the rest.  Blocked spans are tried
 * again once the space has no other room: what was claimed may have gone.
 * The fallback resource is tried only once the target has no room left,
 * not even granule by granule.
 *
 * The verbs, in pairs: a span is claimed from a resource and unclaimed; a
 * range is filled (a claimed span given struct pages) and torn down;
 * pages are got from ranges and put back.
 *
 * One mutex serialises a pool, except the teardown of ranges given back,
 * which runs after it is dropped; nothing here runs in atomic context.
 */

#define pr_fmt(fmt) "xen_scratch: " fmt

#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/wait.h>

#include <xen/scratch_pool.h>

/*
 * Internal to the fill path: the resource has no room for the span asked
 * for.  Positive, so that it is never mistaken for an error of the
 * allocator or the backing, which do not make a fallback worth trying.
 */
#define XEN_SCRATCH_NO_ROOM	1

static bool xen_scratch_range_idle(const struct xen_scratch_range *range)
{
	return range->nr_free == range->nr_pages;
}

/*
 * A span of a pool's target found in use by someone else: it stays
 * allocated there, so that no fill chooses it again until the target has
 * no other room (xen_scratch_unblock()).
 */
struct xen_scratch_blocked {
	struct list_head link;
	struct resource res;
};

/* Whether @src is @pool's unused space, rather than iomem_resource. */
static bool xen_scratch_vouched(const struct xen_scratch_pool *pool,
				const struct resource *src)
{
	return pool->space && src == &pool->space->root;
}

/* The region of @pool's unused space holding @res, if @src is that space. */
static const struct resource *xen_scratch_region(struct xen_scratch_pool *pool,
						 const struct resource *src,
						 const struct resource *res)
{
	unsigned int i;

	if (!xen_scratch_vouched(pool, src))
		return NULL;
	for (i = 0; i < pool->space->nr; i++)
		if (pool->space->regions[i].start <= res->start &&
		    res->end <= pool->space->regions[i].end)
			return &pool->space->regions[i];
	return NULL;
}

static int xen_scratch_block_span(struct xen_scratch_pool *pool,
				  struct resource *src,
				  resource_size_t start, resource_size_t end)
{
	struct xen_scratch_blocked *blocked;
	int ret;

	blocked = kzalloc(sizeof(*blocked), GFP_KERNEL);
	if (!blocked)
		return -ENOMEM;
	blocked->res.name = "in use elsewhere";
	blocked->res.flags = IORESOURCE_MEM | IORESOURCE_BUSY;
	blocked->res.start = start;
	blocked->res.end = end;
	ret = request_resource(src, &blocked->res);
	if (ret) {
		kfree(blocked);
		return ret;
	}
	list_add(&blocked->link, &pool->blocked);
	return 0;
}

/*
 * Narrow [*@start, *@end] to the free span of @src around @res, one of
 * its children.  Only for the pool's own space, which nothing but the
 * pool (under its mutex) changes, so its children can be walked.
 */
static void xen_scratch_free_around(const struct resource *src,
				    const struct resource *res,
				    resource_size_t *start, resource_size_t *end)
{
	const struct resource *sib;

	for (sib = src->child; sib; sib = sib->sibling) {
		if (sib == res)
			continue;
		if (sib->end < res->start) {
			*start = max(*start, sib->end + 1);
		} else {
			*end = min(*end, sib->start - 1);
			break;
		}
	}
}

/*
 * Keep the granules that @conflict overlaps out of @src, and give the
 * rest of @range back to @src.  As much of @conflict as lies in the
 * unused region of @range and is free there (the pool's own ranges may
 * sit inside a window that appeared around them) is blocked in one go;
 * failing that, what lies in @range.
 */
static int xen_scratch_block(struct xen_scratch_pool *pool,
			     struct resource *src,
			     struct xen_scratch_range *range,
			     const struct resource *conflict)
{
	resource_size_t start = ALIGN_DOWN(conflict->start, pool->granule);
	resource_size_t end = ALIGN(conflict->end + 1, pool->granule) - 1;
	const struct resource *region;
	int ret = -EBUSY;

	/* ALIGN() wraps to 0 for a conflict reaching the top: end is ~0. */
	region = xen_scratch_region(pool, src, &range->res);
	if (region) {
		start = max(start, region->start);
		end = min(end, region->end);
		xen_scratch_free_around(src, &range->res, &start, &end);
	}
	release_resource(&range->res);

	if (region)
		ret = xen_scratch_block_span(pool, src, start, end);
	/* Only what @src just handed out is sure not to clash. */
	if (ret)
		ret = xen_scratch_block_span(pool, src,
					     max(start, range->res.start),
					     min(end, range->res.end));
	if (ret == -ENOMEM)
		return ret;
	if (WARN_ON_ONCE(ret))
		return -EIO;
	pool->stats.conflicts++;
	return 0;
}

/*
 * Free the spans blocked in @src (in every resource if NULL), so that the
 * next fill tries them again.
 */
static unsigned int xen_scratch_unblock(struct xen_scratch_pool *pool,
					struct resource *src)
{
	struct xen_scratch_blocked *blocked, *next;
	unsigned int n = 0;

	list_for_each_entry_safe(blocked, next, &pool->blocked, link) {
		if (src && blocked->res.parent != src)
			continue;
		list_del(&blocked->link);
		release_resource(&blocked->res);
		kfree(blocked);
		n++;
	}
	return n;
}

/*
 * Allocate @size bytes for @range from @src and show it.  Returns -EBUSY
 * when @src has no room, -EAGAIN when part of the span it chose is in use
 * in the tree it is shown in (the granules in use are then blocked, the
 * rest is free again for the next try).
 */
static int xen_scratch_claim(struct xen_scratch_pool *pool,
			     struct resource *src,
			     struct xen_scratch_range *range,
			     resource_size_t size)
{
	struct resource *conflict;
	resource_size_t min;
	int ret;

	range->res.name = XEN_SCRATCH_NAME;
	/*
	 * Not IORESOURCE_MEM while taken from a space that lies inside the
	 * hypervisor's own records (a PVH dom0's E820 "Unusable memory"):
	 * x86's arch_remove_reservations() would clip those very entries
	 * out of the span.  Every other space keeps that clipping.
	 */
	range->res.flags = IORESOURCE_BUSY;
	if (!pool->space || !pool->space->shown_within || src != pool->target)
		range->res.flags |= IORESOURCE_MEM;
	min = pool->min_addr;
	if (!xen_scratch_vouched(pool, src))
		min = max(min, pool->unvouched_min_addr);
	ret = allocate_resource(src, &range->res, size, min, pool->max_addr,
				pool->granule, NULL, NULL);
	if (ret)
		return ret;
	range->res.flags |= IORESOURCE_MEM;

	if (!pool->shown_in || src == pool->shown_in)
		return 0;

	range->shown.name = XEN_SCRATCH_NAME;
	range->shown.flags = range->res.flags;
	range->shown.start = range->res.start;
	range->shown.end = range->res.end;
	conflict = request_resource_conflict(pool->shown_in, &range->shown);
	/* Inside the hypervisor's own record of the space, as its child. */
	while (conflict && pool->space && pool->space->shown_within &&
	       conflict->start <= range->shown.start &&
	       range->shown.end <= conflict->end &&
	       pool->space->shown_within(conflict))
		conflict = request_resource_conflict(conflict, &range->shown);
	if (!conflict)
		return 0;

	/* Ratelimited: a caller looping on a full pool meets them again. */
	pr_info_ratelimited("%pR is in use by %s %pR, not taking its sections\n",
			    &range->shown, conflict->name, conflict);
	memset(&range->shown, 0, sizeof(range->shown));
	ret = xen_scratch_block(pool, src, range, conflict);
	return ret ?: -EAGAIN;
}

static void xen_scratch_unclaim(struct xen_scratch_range *range)
{
	if (range->shown.parent)
		release_resource(&range->shown);
	release_resource(&range->res);
}

static struct xen_scratch_range *xen_scratch_new_range(unsigned long nr_pages)
{
	struct xen_scratch_range *range;

	range = kvzalloc(struct_size(range, in_use, BITS_TO_LONGS(nr_pages)),
			 GFP_KERNEL);
	if (range)
		range->nr_pages = nr_pages;
	return range;
}

/*
 * Add one range of @size bytes from @src to @pool.  Spans found in use
 * elsewhere are skipped: each try blocks at least one granule of @src,
 * so this ends.  Returns 0, XEN_SCRATCH_NO_ROOM, or an error.
 */
static int xen_scratch_fill_one(struct xen_scratch_pool *pool,
				struct resource *src, resource_size_t size)
{
	unsigned long nr_pages = size >> PAGE_SHIFT;
	struct xen_scratch_range *range;
	struct page *first;
	int ret;

	range = xen_scratch_new_range(nr_pages);
	if (!range)
		return -ENOMEM;

	do {
		ret = xen_scratch_claim(pool, src, range, size);
	} while (ret == -EAGAIN);
	if (ret) {
		kvfree(range);
		return ret == -EBUSY ? XEN_SCRATCH_NO_ROOM : ret;
	}

	first = pool->backing->map(pool, range);
	if (WARN_ON_ONCE(!first))
		first = ERR_PTR(-EINVAL);
	if (IS_ERR(first)) {
		xen_scratch_unclaim(range);
		kvfree(range);
		return PTR_ERR(first);
	}

	/* Index the struct pages, for xen_scratch_find(). */
	range->first = first;
	ret = mtree_store_range(&pool->by_page, (unsigned long)first,
				(unsigned long)(first + nr_pages) - 1, range,
				GFP_KERNEL);
	if (ret) {
		pool->backing->unmap(pool, range);
		xen_scratch_unclaim(range);
		kvfree(range);
		return ret;
	}

	range->nr_free = nr_pages;
	range->idle_since = jiffies;
	range->filler = pool->filler;
	list_add_tail(&range->link, &pool->ranges);
	pool->stats.pages_free += nr_pages;
	pool->stats.fills++;
	if (src != pool->target)
		pool->stats.fallbacks++;
	return 0;
}

/*
 * Bring @pool to at least @nr_pages free pages from @src: one range if a
 * span of it allows, otherwise granule by granule.  Returns 0,
 * XEN_SCRATCH_NO_ROOM, or an error.
 */
static int xen_scratch_fill_from(struct xen_scratch_pool *pool,
				 struct resource *src, unsigned long nr_pages)
{
	unsigned long need = nr_pages - pool->stats.pages_free;
	resource_size_t size = ALIGN((resource_size_t)need << PAGE_SHIFT,
				     pool->granule);
	int ret;

	ret = xen_scratch_fill_one(pool, src, size);
	/* Smaller pieces may fit, or need less memory to map. */
	if ((ret == XEN_SCRATCH_NO_ROOM || ret == -ENOMEM) &&
	    size > pool->granule) {
		do {
			ret = xen_scratch_fill_one(pool, src, pool->granule);
		} while (!ret && pool->stats.pages_free < nr_pages);
	}
	return ret;
}

/*
 * Bring @pool to at least @nr_pages free pages: from the target while it
 * has room, in pieces if need be, and only then from the fallback.  Room
 * a give-back is about to return counts as room: -EAGAIN says to wait
 * for it (xen_scratch_wait_teardowns()) and try again.
 */
static int xen_scratch_fill(struct xen_scratch_pool *pool,
			    unsigned long nr_pages)
{
	int ret;

	ret = xen_scratch_fill_from(pool, pool->target, nr_pages);
	if (ret == XEN_SCRATCH_NO_ROOM && pool->nr_tearing_down)
		return -EAGAIN;
	/* What was claimed when a span was blocked may have gone since. */
	if (ret == XEN_SCRATCH_NO_ROOM && xen_scratch_unblock(pool, pool->target))
		ret = xen_scratch_fill_from(pool, pool->target, nr_pages);
	if (ret == XEN_SCRATCH_NO_ROOM && pool->fallback &&
	    pool->fallback != pool->target)
		ret = xen_scratch_fill_from(pool, pool->fallback, nr_pages);
	if (ret == XEN_SCRATCH_NO_ROOM)
		ret = -ENOMEM;
	if (ret)
		pool->stats.fill_failures++;
	return ret;
}

/*
 * Drop @pool's mutex until room came back - one more range torn down, or
 * pages freed - or no teardown is left, and retake it.  One is enough to
 * try again: waiting for a whole batch would hold a privcmd caller (under
 * mmap_lock) for all of it.
 */
static void xen_scratch_wait_teardowns(struct xen_scratch_pool *pool)
{
	unsigned long done = pool->room_events;

	mutex_unlock(&pool->lock);
	wait_event(pool->room_wq,
		   READ_ONCE(pool->room_events) != done ||
		   !READ_ONCE(pool->nr_tearing_down));
	mutex_lock(&pool->lock);
}

static void xen_scratch_put_page(struct xen_scratch_pool *pool,
				 struct xen_scratch_range *range, unsigned long bit)
{
	__clear_bit(bit, range->in_use);
	/* Reuse the lowest free page next: no scan past the in-use ones. */
	if (bit < range->hint)
		range->hint = bit;
	range->nr_free++;
	pool->stats.pages_free++;
	pool->stats.pages_used--;
	if (xen_scratch_range_idle(range))
		range->idle_since = jiffies;
}

/* The range whose struct page @page is, or NULL for a stranger. */
static struct xen_scratch_range *
xen_scratch_find(struct xen_scratch_pool *pool, struct page *page)
{
	struct xen_scratch_range *range;
	unsigned long p = (unsigned long)page;

	/* Looks at no struct page: @page may be anything a caller passed. */
	range = mtree_load(&pool->by_page, p);
	if (!range || (p - (unsigned long)range->first) % sizeof(struct page))
		return NULL;
	return range;
}

/* Give back @nr pages this pool has just handed out. */
static void xen_scratch_put_pages(struct xen_scratch_pool *pool,
				  struct page **pages, unsigned long nr)
{
	struct xen_scratch_range *range;

	while (nr--) {
		range = xen_scratch_find(pool, pages[nr]);
		xen_scratch_put_page(pool, range, pages[nr] - range->first);
	}
}

/*
 * Take up to @nr pages into @pages from ranges in use (@idle false) or
 * from idle ones.  Returns the number taken or a negative error, in which
 * case the pages this call took are back.
 */
static long xen_scratch_get_pages(struct xen_scratch_pool *pool,
				  unsigned long nr, struct page **pages,
				  bool idle)
{
	struct xen_scratch_range *range;
	unsigned long got = 0, bit;
	int ret;

	list_for_each_entry(range, &pool->ranges, link) {
		if (!range->nr_free || xen_scratch_range_idle(range) != idle)
			continue;

		while (range->nr_free && got < nr) {
			bit = find_next_zero_bit(range->in_use, range->nr_pages,
						 range->hint);
			if (bit >= range->nr_pages)
				bit = find_first_zero_bit(range->in_use,
							  range->nr_pages);

			if (pool->backing->prepare) {
				ret = pool->backing->prepare(pool,
							     range->first + bit);
				if (ret)
					goto undo;
			}

			__set_bit(bit, range->in_use);
			range->nr_free--;
			range->hint = bit + 1;
			pool->stats.pages_free--;
			pool->stats.pages_used++;
			pages[got++] = range->first + bit;
		}
		if (got == nr)
			break;
	}
	return got;

undo:
	xen_scratch_put_pages(pool, pages, got);
	return ret;
}

/*
 * Give back the ranges idle for @min_idle jiffies, whose pages nothing
 * else refers to, and, if @filler is not 0, that the allocation numbered
 * @filler filled; see xen_scratch_reclaim().  Only the unmap runs without
 * the mutex: the resources are released under it, as the space's tree is
 * walked under it (xen_scratch_free_around()).
 */
static unsigned int xen_scratch_give_back(struct xen_scratch_pool *pool,
					  unsigned long min_idle,
					  unsigned long filler)
{
	struct xen_scratch_range *range, *next;
	LIST_HEAD(going);
	unsigned int n = 0;

	mutex_lock(&pool->lock);
	list_for_each_entry_safe(range, next, &pool->ranges, link) {
		if (!xen_scratch_range_idle(range) ||
		    (filler && range->filler != filler) ||
		    time_before(jiffies, range->idle_since + min_idle))
			continue;
		if (pool->backing->busy && pool->backing->busy(pool, range)) {
			pool->stats.returns_refused++;
			continue;
		}
		list_move_tail(&range->link, &going);
		mtree_erase(&pool->by_page, (unsigned long)range->first);
		pool->stats.pages_free -= range->nr_pages;
		pool->stats.returns++;
		pool->nr_tearing_down++;
		n++;
	}
	mutex_unlock(&pool->lock);

	list_for_each_entry_safe(range, next, &going, link) {
		list_del(&range->link);
		pool->backing->unmap(pool, range);
		mutex_lock(&pool->lock);
		xen_scratch_unclaim(range);
		pool->nr_tearing_down--;
		pool->room_events++;
		wake_up_all(&pool->room_wq);
		mutex_unlock(&pool->lock);
		kvfree(range);
	}
	return n;
}

/**
 * xen_scratch_alloc() - take unpopulated pages from a pool
 * @pool:     the pool
 * @nr_pages: how many, 1 to @pool->max_request
 * @pages:    receives them
 *
 * @nr_pages may come from user space (privcmd), so a bad one is an error
 * to return, not a reason to warn.
 *
 * Context: process context; takes the pool's mutex.
 * Return: 0; -EINVAL for no pages; -E2BIG for more than @pool->max_request;
 * -ENOMEM when no range can be taken; or the backing's error.  On failure
 * no page is taken, and the ranges this call filled are given back.
 */
int xen_scratch_alloc(struct xen_scratch_pool *pool, unsigned int nr_pages,
		      struct page **pages)
{
	unsigned long filler;
	long got, more;
	int ret = 0;

	if (!nr_pages)
		return -EINVAL;
	if (nr_pages > pool->max_request)
		return -E2BIG;

	mutex_lock(&pool->lock);
	/* Number this call, for the ranges it fills (never 0). */
	filler = ++pool->nr_allocs ?: ++pool->nr_allocs;
	while (pool->stats.pages_free < nr_pages) {
		pool->filler = filler;
		ret = xen_scratch_fill(pool, nr_pages);
		if (ret != -EAGAIN)
			break;
		/* Frees while we wait may make room too: look again. */
		ret = 0;
		xen_scratch_wait_teardowns(pool);
	}
	if (ret)
		goto out;

	got = xen_scratch_get_pages(pool, nr_pages, pages, false);
	if (got < 0) {
		ret = got;
		goto out;
	}
	more = xen_scratch_get_pages(pool, nr_pages - got, pages + got, true);
	if (more < 0) {
		/* Give back what the first pass took. */
		xen_scratch_put_pages(pool, pages, got);
		ret = more;
		goto out;
	}
	if (WARN_ON_ONCE(got + more != nr_pages)) {
		/* The free count lied: hand out nothing rather than holes. */
		xen_scratch_put_pages(pool, pages, got + more);
		ret = -ENOMEM;
	}
out:
	mutex_unlock(&pool->lock);
	/* Nothing else would give back what this call filled for nothing. */
	if (ret)
		xen_scratch_give_back(pool, 0, filler);
	return ret;
}

/**
 * xen_scratch_free() - give pages back to the pool they came from
 * @pool:     the pool
 * @nr_pages: how many
 * @pages:    the pages
 *
 * A page the pool did not hand out, or already has back, is left alone
 * and reported once.
 *
 * Context: process context; takes the pool's mutex.
 * Return: 0, or -EINVAL if any page was refused or (with a warning: no
 * caller can have been handed so many) @nr_pages is above
 * @pool->max_request, when none is freed.
 */
int xen_scratch_free(struct xen_scratch_pool *pool, unsigned int nr_pages,
		     struct page **pages)
{
	struct xen_scratch_range *range;
	unsigned int i, bad = 0;
	unsigned long bit;

	if (WARN_ONCE(nr_pages > pool->max_request,
		      "xen_scratch: freeing %u pages (at most %lu)\n",
		      nr_pages, pool->max_request))
		return -EINVAL;

	mutex_lock(&pool->lock);
	for (i = 0; i < nr_pages; i++) {
		range = xen_scratch_find(pool, pages[i]);
		if (!range) {
			bad++;
			continue;
		}
		bit = pages[i] - range->first;
		if (!test_bit(bit, range->in_use)) {
			bad++;
			continue;
		}
		xen_scratch_put_page(pool, range, bit);
	}
	pool->stats.bad_frees += bad;
	/* An allocation waiting for a give-back may take these instead. */
	if (bad < nr_pages) {
		pool->room_events++;
		wake_up_all(&pool->room_wq);
	}
	mutex_unlock(&pool->lock);

	WARN_ONCE(bad, "xen_scratch: %u of %u freed pages were not in use from this pool\n",
		  bad, nr_pages);
	return bad ? -EINVAL : 0;
}

/**
 * xen_scratch_reclaim() - give back ranges that have been idle long enough
 * @pool:     the pool
 * @min_idle: jiffies a range must have been all free; 0 for any idle range
 *
 * A range goes only if the backing's @busy, if any, says nothing else
 * still refers to its pages; otherwise it is kept and counted in
 * @returns_refused.  The ranges are taken off the pool under its mutex and
 * torn down after it is dropped, so alloc and free go on meanwhile.  The
 * span stays allocated until its teardown is over, so no fill reuses it
 * early; a fill that finds no room but a teardown in progress waits for it
 * rather than fail or fall back.  Until then the range still counts in
 * xen_scratch_stats() as held and idle.
 *
 * Context: process context; takes the pool's mutex.
 * Return: the number of ranges given back.
 */
unsigned int xen_scratch_reclaim(struct xen_scratch_pool *pool,
				 unsigned long min_idle)
{
	return xen_scratch_give_back(pool, min_idle, 0);
}

/**
 * xen_scratch_stats() - read a pool's counters
 * @pool:  the pool
 * @stats: receives them
 */
void xen_scratch_stats(struct xen_scratch_pool *pool,
		       struct xen_scratch_stats *stats)
{
	struct xen_scratch_range *range;

	mutex_lock(&pool->lock);
	*stats = pool->stats;
	/* Being torn down: still held, and idle. */
	stats->ranges = pool->nr_tearing_down;
	stats->idle_ranges = pool->nr_tearing_down;
	list_for_each_entry(range, &pool->ranges, link) {
		stats->ranges++;
		if (xen_scratch_range_idle(range))
			stats->idle_ranges++;
	}
	mutex_unlock(&pool->lock);
}

/**
 * xen_scratch_show() - print a pool's ranges and counters
 * @pool: the pool
 * @m:    where to
 */
void xen_scratch_show(struct xen_scratch_pool *pool, struct seq_file *m)
{
	struct xen_scratch_range *range;
	struct xen_scratch_stats s;
	unsigned int i;

	mutex_lock(&pool->lock);
	seq_printf(m, "target: %s, fallback: %s\n",
		   pool->target ? pool->target->name : "none",
		   pool->fallback ? pool->fallback->name : "none");
	for (i = 0; pool->space && i < pool->space->nr; i++)
		seq_printf(m, "unused: %pa-%pa\n", &pool->space->regions[i].start,
			   &pool->space->regions[i].end);
	list_for_each_entry(range, &pool->ranges, link) {
		seq_printf(m, "range %pa-%pa from %s: %lu pages, %lu free",
			   &range->res.start, &range->res.end,
			   range->res.parent ? range->res.parent->name : "?",
			   range->nr_pages, range->nr_free);
		if (xen_scratch_range_idle(range))
			seq_printf(m, ", idle %u ms",
				   jiffies_to_msecs(jiffies - range->idle_since));
		seq_putc(m, '\n');
	}
	mutex_unlock(&pool->lock);

	xen_scratch_stats(pool, &s);
	seq_printf(m, "ranges: %lu (%lu idle)\n", s.ranges, s.idle_ranges);
	seq_printf(m, "pages: %lu free, %lu in use\n", s.pages_free,
		   s.pages_used);
	seq_printf(m, "fills: %lu, failed %lu, fallbacks %lu, conflicts %lu, returns %lu, refused %lu\n",
		   s.fills, s.fill_failures, s.fallbacks, s.conflicts,
		   s.returns, s.returns_refused);
	seq_printf(m, "bad frees: %lu\n", s.bad_frees);
}

/**
 * xen_scratch_pool_init() - make a pool ready
 * @pool: the pool, with the fields above its lock filled in
 *
 * Return: 0, or -EINVAL if the description is inconsistent.
 */
int xen_scratch_pool_init(struct xen_scratch_pool *pool)
{
	if (WARN_ONCE(!pool->target || !pool->backing ||
		      !pool->backing->map || !pool->backing->unmap ||
		      !pool->max_request ||
		      pool->granule < PAGE_SIZE ||
		      !is_power_of_2(pool->granule) ||
		      pool->max_addr <= pool->min_addr,
		      "xen_scratch: inconsistent pool description\n"))
		return -EINVAL;

	mutex_init(&pool->lock);
	mt_init(&pool->by_page);
	init_waitqueue_head(&pool->room_wq);
	pool->nr_tearing_down = 0;
	pool->room_events = 0;
	pool->nr_allocs = 0;
	pool->filler = 0;
	INIT_LIST_HEAD(&pool->ranges);
	INIT_LIST_HEAD(&pool->blocked);
	memset(&pool->stats, 0, sizeof(pool->stats));
	return 0;
}

/**
 * xen_scratch_pool_destroy() - give everything back
 * @pool: the pool
 *
 * No other call on @pool may run beside or after this one: it waits for
 * the teardowns of a reclaim begun before, not for that reclaim to return.
 *
 * Return: 0, or -EBUSY (and a warning) if pages are still in use; the
 * pool is then left as it was, less its idle ranges.
 */
int xen_scratch_pool_destroy(struct xen_scratch_pool *pool)
{
	bool busy;

	xen_scratch_reclaim(pool, 0);

	mutex_lock(&pool->lock);
	/* A reclaim begun before may still be tearing ranges down. */
	while (pool->nr_tearing_down)
		xen_scratch_wait_teardowns(pool);
	busy = !list_empty(&pool->ranges);
	if (!busy) {
		mtree_destroy(&pool->by_page);
		xen_scratch_unblock(pool, NULL);
	}
	mutex_unlock(&pool->lock);

	WARN_ONCE(busy, "xen_scratch: pool destroyed with pages in use\n");
	return busy ? -EBUSY : 0;
}

/* Every space xen_unused_space_build() made, for xen_unused_space_of(). */
static LIST_HEAD(xen_unused_spaces);
static DEFINE_MUTEX(xen_unused_spaces_lock);

/**
 * xen_unused_space_of() - the unused space a resource is the root of
 * @res: a resource, e.g. what arch_xen_unpopulated_init() offered
 *
 * Return: the space built with xen_unused_space_build() whose root is
 * @res, or NULL if @res is something else (iomem_resource, or a resource
 * an architecture made by other means).
 */
struct xen_unused_space *xen_unused_space_of(struct resource *res)
{
	struct xen_unused_space *space, *found = NULL;

	mutex_lock(&xen_unused_spaces_lock);
	list_for_each_entry(space, &xen_unused_spaces, link)
		if (&space->root == res)
			found = space;
	mutex_unlock(&xen_unused_spaces_lock);
	return found;
}

static int xen_range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* Trim [@r->start, @r->end] to whole granules; false if nothing is left. */
static bool xen_unused_trim(struct range *r, resource_size_t granule)
{
	u64 start = ALIGN(r->start, granule);
	u64 end = ALIGN_DOWN(r->end + 1, granule);

	if (r->end < r->start || start < r->start || end <= start) {
		pr_info("unused space [%#llx-%#llx] holds no whole section of %pa bytes, skipped\n",
			r->start, r->end, &granule);
		return false;
	}
	if (start != r->start || end - 1 != r->end)
		pr_info("unused space [%#llx-%#llx] trimmed to sections: [%#llx-%#llx]\n",
			r->start, r->end, start, end - 1);
	r->start = start;
	r->end = end - 1;
	return true;
}

/**
 * xen_unused_space_build() - make a resource of the space a hypervisor left
 * @space:    filled in; pass its @root as a pool's target
 * @regions:  the unused regions, inclusive, in any order
 * @nr:       how many
 * @granule:  regions are trimmed to multiples of this (a memory section)
 *
 * Regions that hold no whole granule or overlap an earlier one are
 * skipped, each with a message saying why.  The space is a tree of its
 * own, requested nowhere: a pool requests only the ranges it fills, in
 * the tree it shows them in, and goes around what it meets there then.
 *
 * Return: the number of regions kept (> 0), -ENOENT if none was, or
 * -ENOMEM.
 */
int xen_unused_space_build(struct xen_unused_space *space,
			   const struct range *regions, unsigned int nr,
			   resource_size_t granule)
{
	struct resource *res;
	struct range *sorted;
	unsigned int i, kept = 0;
	u64 last_end = 0;
	int ret = -ENOENT;

	memset(space, 0, sizeof(*space));
	if (!nr)
		return -ENOENT;

	sorted = kmemdup(regions, nr * sizeof(*regions), GFP_KERNEL);
	space->regions = kcalloc(nr, sizeof(*space->regions), GFP_KERNEL);
	space->holes = kcalloc(nr, sizeof(*space->holes), GFP_KERNEL);
	if (!sorted || !space->regions || !space->holes) {
		ret = -ENOMEM;
		goto out;
	}
	sort(sorted, nr, sizeof(*sorted), xen_range_cmp, NULL);

	for (i = 0; i < nr; i++) {
		if (!xen_unused_trim(&sorted[i], granule))
			continue;
		if (kept && sorted[i].start <= last_end) {
			pr_info("unused space [%#llx-%#llx] overlaps the one before, skipped\n",
				sorted[i].start, sorted[i].end);
			continue;
		}

		res = &space->regions[kept];
		res->name = XEN_UNUSED_SPACE_NAME;
		res->flags = IORESOURCE_MEM;
		res->start = sorted[i].start;
		res->end = sorted[i].end;
		last_end = res->end;
		kept++;
	}
	if (!kept)
		goto out;

	space->nr = kept;
	space->root.name = XEN_UNUSED_SPACE_NAME;
	space->root.flags = IORESOURCE_MEM;
	space->root.start = space->regions[0].start;
	space->root.end = space->regions[kept - 1].end;
	for (i = 0; i + 1 < kept; i++) {
		res = &space->holes[i];
		res->name = "not unused";
		res->flags = IORESOURCE_MEM | IORESOURCE_BUSY;
		res->start = space->regions[i].end + 1;
		res->end = space->regions[i + 1].start - 1;
		if (res->start <= res->end)
			request_resource(&space->root, res);
	}
	mutex_lock(&xen_unused_spaces_lock);
	list_add(&space->link, &xen_unused_spaces);
	mutex_unlock(&xen_unused_spaces_lock);
	ret = kept;
out:
	kfree(sorted);
	if (ret < 0)
		xen_unused_space_destroy(space);
	return ret;
}

/**
 * xen_unused_space_destroy() - undo xen_unused_space_build()
 * @space: the space; no pool may still take from it
 */
void xen_unused_space_destroy(struct xen_unused_space *space)
{
	unsigned int i;

	if (space->nr) {
		mutex_lock(&xen_unused_spaces_lock);
		list_del(&space->link);
		mutex_unlock(&xen_unused_spaces_lock);
	}
	for (i = 0; space->holes && i + 1 < space->nr; i++)
		if (space->holes[i].parent)
			release_resource(&space->holes[i]);
	kfree(space->regions);
	kfree(space->holes);
	memset(space, 0, sizeof(*space));
}
