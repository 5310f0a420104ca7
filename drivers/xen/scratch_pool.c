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
 * "Xen scratch" is inserted there too, where it nests under the
 * "Xen unused space" region that holds it.  The backing then gives the
 * span struct pages.
 *
 * Every range keeps a bitmap of the pages it has handed out, so a free
 * can tell a page it owns from a stranger and a second free from the
 * first.  When all pages of a range are free the range becomes idle;
 * xen_scratch_reclaim() gives back ranges idle for long enough, so a
 * burst does not pin its address space and struct pages forever while
 * alloc/free loops keep reusing the same range.  Allocation prefers
 * ranges in use over idle ones so that the latter can drain.
 *
 * One mutex serialises a pool; nothing here runs in atomic context.
 */

#define pr_fmt(fmt) "xen_scratch: " fmt

#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include <xen/scratch_pool.h>

/* Spans found in use by someone else before a fill gives up. */
#define XEN_SCRATCH_MAX_CONFLICTS	8

static bool xen_scratch_range_idle(const struct xen_scratch_range *range)
{
	return range->nr_free == range->nr_pages;
}

/* The region of @space holding [@start, @end], if any. */
static struct resource *xen_unused_region(const struct xen_unused_space *space,
					  resource_size_t start,
					  resource_size_t end)
{
	unsigned int i;

	for (i = 0; i < space->nr; i++)
		if (space->regions[i].start <= start &&
		    end <= space->regions[i].end)
			return &space->regions[i];
	return NULL;
}

/*
 * Allocate @size bytes for @range from @src and show it.  Returns -EBUSY
 * when @src has no room, -EAGAIN when the span it chose is in use in the
 * tree it is shown in (the span then stays allocated in @src so it is not
 * chosen again).
 */
static int xen_scratch_take(struct xen_scratch_pool *pool,
			    struct resource *src,
			    struct xen_scratch_range *range,
			    resource_size_t size)
{
	struct resource *parent, *conflict;
	int ret;

	range->res.name = XEN_SCRATCH_NAME;
	range->res.flags = IORESOURCE_MEM | IORESOURCE_BUSY;
	ret = allocate_resource(src, &range->res, size, pool->min_addr,
				pool->max_addr, pool->granule, NULL, NULL);
	if (ret)
		return ret;

	if (!pool->shown_in || src == pool->shown_in)
		return 0;

	parent = pool->shown_in;
	if (pool->space && src == &pool->space->root)
		parent = xen_unused_region(pool->space, range->res.start,
					   range->res.end) ?: parent;

	range->shown.name = XEN_SCRATCH_NAME;
	range->shown.flags = range->res.flags;
	range->shown.start = range->res.start;
	range->shown.end = range->res.end;
	conflict = request_resource_conflict(parent, &range->shown);
	if (conflict) {
		pr_info("%pR is in use by %s, not taking it\n", &range->shown,
			conflict->name);
		memset(&range->shown, 0, sizeof(range->shown));
		return -EAGAIN;
	}
	return 0;
}

static void xen_scratch_untake(struct xen_scratch_range *range)
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

/* Add one range of @size bytes to @pool. */
static int xen_scratch_fill_one(struct xen_scratch_pool *pool,
				resource_size_t size)
{
	unsigned long nr_pages = size >> PAGE_SHIFT;
	struct resource *src = pool->target;
	struct xen_scratch_range *range;
	unsigned int conflicts = 0;
	struct page *first;
	int ret;

	for (;;) {
		range = xen_scratch_new_range(nr_pages);
		if (!range)
			return -ENOMEM;

		ret = xen_scratch_take(pool, src, range, size);
		if (!ret)
			break;

		if (ret == -EAGAIN) {
			list_add(&range->link, &pool->blocked);
			pool->stats.conflicts++;
			if (++conflicts < XEN_SCRATCH_MAX_CONFLICTS)
				continue;
			return -ENOMEM;
		}

		kvfree(range);
		if (ret == -EBUSY && pool->fallback && src != pool->fallback) {
			src = pool->fallback;
			continue;
		}
		return ret == -EBUSY ? -ENOMEM : ret;
	}

	first = pool->backing->map(pool, range);
	if (IS_ERR_OR_NULL(first)) {
		xen_scratch_untake(range);
		kvfree(range);
		return first ? PTR_ERR(first) : -ENOMEM;
	}

	range->first = first;
	range->nr_free = nr_pages;
	range->idle_since = jiffies;
	list_add_tail(&range->link, &pool->ranges);
	pool->stats.pages_free += nr_pages;
	pool->stats.fills++;
	if (src != pool->target)
		pool->stats.fallbacks++;
	return 0;
}

/*
 * Bring @pool to at least @nr_pages free pages: one range if the space
 * allows, otherwise granule by granule.
 */
static int xen_scratch_fill(struct xen_scratch_pool *pool,
			    unsigned long nr_pages)
{
	unsigned long need = nr_pages - pool->stats.pages_free;
	resource_size_t size = ALIGN((resource_size_t)need << PAGE_SHIFT,
				     pool->granule);
	int ret;

	ret = xen_scratch_fill_one(pool, size);
	if (ret == -ENOMEM && size > pool->granule) {
		do {
			ret = xen_scratch_fill_one(pool, pool->granule);
		} while (!ret && pool->stats.pages_free < nr_pages);
	}
	if (ret)
		pool->stats.fill_failures++;
	return ret;
}

static void xen_scratch_put(struct xen_scratch_pool *pool,
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

static struct xen_scratch_range *
xen_scratch_find(struct xen_scratch_pool *pool, struct page *page)
{
	struct xen_scratch_range *range;
	unsigned long p = (unsigned long)page;

	list_for_each_entry(range, &pool->ranges, link) {
		unsigned long first = (unsigned long)range->first;

		if (p >= first &&
		    p < first + range->nr_pages * sizeof(struct page) &&
		    (p - first) % sizeof(struct page) == 0)
			return range;
	}
	return NULL;
}

/* Give back @nr pages this pool has just handed out. */
static void xen_scratch_untake_pages(struct xen_scratch_pool *pool,
				     struct page **pages, unsigned long nr)
{
	struct xen_scratch_range *range;

	while (nr--) {
		range = xen_scratch_find(pool, pages[nr]);
		xen_scratch_put(pool, range, pages[nr] - range->first);
	}
}

/*
 * Take up to @nr pages into @pages from ranges in use (@idle false) or
 * from idle ones.  Returns the number taken or a negative error, in which
 * case the pages this call took are back.
 */
static long xen_scratch_take_pages(struct xen_scratch_pool *pool,
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
	xen_scratch_untake_pages(pool, pages, got);
	return ret;
}

/**
 * xen_scratch_alloc() - take unpopulated pages from a pool
 * @pool:     the pool
 * @nr_pages: how many, 1 to @pool->max_request
 * @pages:    receives them
 *
 * Context: process context; takes the pool's mutex.
 * Return: 0; -EINVAL (and a warning) for a bad @nr_pages; -ENOMEM when no
 * range can be taken; or the backing's error.  On failure no page is
 * taken.
 */
int xen_scratch_alloc(struct xen_scratch_pool *pool, unsigned int nr_pages,
		      struct page **pages)
{
	long got, more;
	int ret = 0;

	if (WARN_ONCE(!nr_pages || nr_pages > pool->max_request,
		      "xen_scratch: %u pages asked for (1 to %lu allowed)\n",
		      nr_pages, pool->max_request))
		return -EINVAL;

	mutex_lock(&pool->lock);
	if (pool->stats.pages_free < nr_pages) {
		ret = xen_scratch_fill(pool, nr_pages);
		if (ret)
			goto out;
	}

	got = xen_scratch_take_pages(pool, nr_pages, pages, false);
	if (got < 0) {
		ret = got;
		goto out;
	}
	more = xen_scratch_take_pages(pool, nr_pages - got, pages + got, true);
	if (more < 0) {
		/* Give back what the first pass took. */
		xen_scratch_untake_pages(pool, pages, got);
		ret = more;
		goto out;
	}
	WARN_ON(got + more != nr_pages);
out:
	mutex_unlock(&pool->lock);
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
 * Return: 0, or -EINVAL if any page was refused.
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
		xen_scratch_put(pool, range, bit);
	}
	pool->stats.bad_frees += bad;
	mutex_unlock(&pool->lock);

	WARN_ONCE(bad, "xen_scratch: %u of %u freed pages were not in use from this pool\n",
		  bad, nr_pages);
	return bad ? -EINVAL : 0;
}

static void xen_scratch_release(struct xen_scratch_pool *pool,
				struct xen_scratch_range *range)
{
	list_del(&range->link);
	pool->stats.pages_free -= range->nr_pages;
	pool->stats.returns++;
	pool->backing->unmap(pool, range);
	xen_scratch_untake(range);
	kvfree(range);
}

/**
 * xen_scratch_reclaim() - give back ranges that have been idle long enough
 * @pool:     the pool
 * @min_idle: jiffies a range must have been all free; 0 for any idle range
 *
 * Context: process context; takes the pool's mutex.
 * Return: the number of ranges given back.
 */
unsigned int xen_scratch_reclaim(struct xen_scratch_pool *pool,
				 unsigned long min_idle)
{
	struct xen_scratch_range *range, *next;
	unsigned int n = 0;

	mutex_lock(&pool->lock);
	list_for_each_entry_safe(range, next, &pool->ranges, link) {
		if (!xen_scratch_range_idle(range) ||
		    time_before(jiffies, range->idle_since + min_idle))
			continue;
		xen_scratch_release(pool, range);
		n++;
	}
	mutex_unlock(&pool->lock);
	return n;
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
	stats->ranges = 0;
	stats->idle_ranges = 0;
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

	mutex_lock(&pool->lock);
	seq_printf(m, "target: %s, fallback: %s\n",
		   pool->target ? pool->target->name : "none",
		   pool->fallback ? pool->fallback->name : "none");
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
	seq_printf(m, "fills: %lu, failed %lu, fallbacks %lu, conflicts %lu, returns %lu\n",
		   s.fills, s.fill_failures, s.fallbacks, s.conflicts,
		   s.returns);
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
	INIT_LIST_HEAD(&pool->ranges);
	INIT_LIST_HEAD(&pool->blocked);
	memset(&pool->stats, 0, sizeof(pool->stats));
	return 0;
}

/**
 * xen_scratch_pool_destroy() - give everything back
 * @pool: the pool
 *
 * Return: 0, or -EBUSY (and a warning) if pages are still in use; the
 * ranges holding them are kept.
 */
int xen_scratch_pool_destroy(struct xen_scratch_pool *pool)
{
	struct xen_scratch_range *range, *next;
	bool busy;

	xen_scratch_reclaim(pool, 0);

	mutex_lock(&pool->lock);
	busy = !list_empty(&pool->ranges);
	list_for_each_entry_safe(range, next, &pool->blocked, link) {
		list_del(&range->link);
		release_resource(&range->res);
		kvfree(range);
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
 * @shown_in: if not NULL, each region is requested there as
 *            "Xen unused space"; a region that conflicts is skipped
 *
 * Regions that hold no whole granule, overlap an earlier one or conflict
 * are skipped, each with a message saying why.
 *
 * Return: the number of regions kept (> 0), -ENOENT if none was, or
 * -ENOMEM.
 */
int xen_unused_space_build(struct xen_unused_space *space,
			   const struct range *regions, unsigned int nr,
			   resource_size_t granule, struct resource *shown_in)
{
	struct resource *res, *conflict;
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
		if (shown_in) {
			conflict = request_resource_conflict(shown_in, res);
			if (conflict) {
				pr_info("unused space %pR overlaps %s %pR, skipped\n",
					res, conflict->name, conflict);
				memset(res, 0, sizeof(*res));
				continue;
			}
		}
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
	for (i = 0; space->regions && i < space->nr; i++)
		if (space->regions[i].parent)
			release_resource(&space->regions[i]);
	for (i = 0; space->holes && i + 1 < space->nr; i++)
		if (space->holes[i].parent)
			release_resource(&space->holes[i]);
	kfree(space->regions);
	kfree(space->holes);
	memset(space, 0, sizeof(*space));
}
