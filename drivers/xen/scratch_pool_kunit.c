// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the unpopulated-page pool (drivers/xen/scratch_pool.c).
 *
 * The pool runs on fake resource trees standing in for iomem_resource
 * and on a backing that gives each range a plain array of struct pages,
 * with failures that can be injected.  No hypervisor is needed: the suite
 * runs on UML (tools/testing/kunit/kunit.py) and inside the booted guests.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/completion.h>

#include <xen/scratch_pool.h>

#define G		((resource_size_t)16 * PAGE_SIZE)	/* test granule */
#define G_PAGES		(G / PAGE_SIZE)
/*
 * The fake address space: far above the RAM of the guests we boot, since
 * x86 clips every candidate range against the real E820 whatever the
 * resource tree (arch_remove_reservations()).
 */
#define SPACE_START	((resource_size_t)64 << 30)
#define SPACE_END	(SPACE_START + 0xffffffff)
#define A(n)		(SPACE_START + (n) * G)

/* The backing: plain page arrays, with failures on request. */
struct fake_backing {
	int fail_map_in;	/* fail the nth map from now (1 = next); 0: never */
	int fail_map_err;	/* with this error; 0: -EIO */
	int fail_prepare_in;	/* likewise for prepare */
	atomic_t mapped;	/* ranges currently mapped */
	bool referenced;	/* busy(): a page is still referenced */
	unsigned int maps_elsewhere;	/* maps of ranges not from the target */
	unsigned int busy_calls;
	bool block_unmap;	/* unmap waits for @unmap_go */
	struct completion in_unmap;	/* an unmap has started to wait */
	struct completion unmap_go;
};

static struct page *fake_map(struct xen_scratch_pool *pool,
			     struct xen_scratch_range *range)
{
	struct fake_backing *fb = pool->backing_data;
	struct page *pages;

	if (range->res.parent != pool->target)
		fb->maps_elsewhere++;
	if (fb->fail_map_in && --fb->fail_map_in == 0)
		return ERR_PTR(fb->fail_map_err ?: -EIO);
	pages = kcalloc(range->nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	atomic_inc(&fb->mapped);
	return pages;
}

static void fake_unmap(struct xen_scratch_pool *pool,
		       struct xen_scratch_range *range)
{
	struct fake_backing *fb = pool->backing_data;

	if (fb->block_unmap) {
		complete(&fb->in_unmap);
		wait_for_completion(&fb->unmap_go);
	}
	kfree(range->first);
	atomic_dec(&fb->mapped);
}

static int fake_prepare(struct xen_scratch_pool *pool, struct page *page)
{
	struct fake_backing *fb = pool->backing_data;

	if (fb->fail_prepare_in && --fb->fail_prepare_in == 0)
		return -ENOSPC;
	return 0;
}

static bool fake_busy(struct xen_scratch_pool *pool,
		      const struct xen_scratch_range *range)
{
	struct fake_backing *fb = pool->backing_data;

	fb->busy_calls++;
	return fb->referenced;
}

static const struct xen_scratch_backing fake_backing_ops = {
	.map = fake_map,
	.unmap = fake_unmap,
	.prepare = fake_prepare,
	.busy = fake_busy,
};

struct scratch_ctx {
	struct resource iomem;		/* stands in for iomem_resource */
	struct resource busy[4];	/* things already in "iomem" */
	struct xen_unused_space space;
	struct xen_scratch_pool pool;
	struct fake_backing fb;
	bool pool_ready;
};

static int scratch_test_init(struct kunit *test)
{
	struct scratch_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	ctx->iomem.name = "fake iomem";
	ctx->iomem.start = SPACE_START;
	ctx->iomem.end = SPACE_END;
	ctx->iomem.flags = IORESOURCE_MEM;
	init_completion(&ctx->fb.in_unmap);
	init_completion(&ctx->fb.unmap_go);
	test->priv = ctx;
	return 0;
}

static void scratch_test_exit(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	unsigned int i;

	if (ctx->pool_ready)
		KUNIT_EXPECT_EQ(test, xen_scratch_pool_destroy(&ctx->pool), 0);
	/* The devices, then the space they were placed in. */
	for (i = 0; i < ARRAY_SIZE(ctx->busy); i++)
		if (ctx->busy[i].parent)
			release_resource(&ctx->busy[i]);
	xen_unused_space_destroy(&ctx->space);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->fb.mapped), 0);
	KUNIT_EXPECT_PTR_EQ_MSG(test, ctx->iomem.child, NULL,
				"resources left behind in the fake iomem");
}

/* Put something busy at [@start, @end] in the fake iomem. */
static void add_busy(struct kunit *test, unsigned int i, resource_size_t start,
		     resource_size_t end)
{
	struct scratch_ctx *ctx = test->priv;
	struct resource *res = &ctx->busy[i];

	res->name = "fake device";
	res->start = start;
	res->end = end;
	res->flags = IORESOURCE_MEM | IORESOURCE_BUSY;
	KUNIT_ASSERT_EQ(test, request_resource(&ctx->iomem, res), 0);
}

/* A one-page device at @start, appearing in @parent after the space. */
static void add_late_device(struct kunit *test, struct resource *res,
			    struct resource *parent, resource_size_t start)
{
	*res = (struct resource) {
		.name = "late device", .start = start,
		.end = start + PAGE_SIZE - 1,
		.flags = IORESOURCE_MEM | IORESOURCE_BUSY,
	};
	KUNIT_ASSERT_EQ(test, request_resource(parent, res), 0);
}

/* Destroy the pool, then release the @nr late devices in its space. */
static void destroy_pool_and_devices(struct kunit *test, struct resource *dev,
				     int nr)
{
	struct scratch_ctx *ctx = test->priv;

	KUNIT_EXPECT_EQ(test, xen_scratch_pool_destroy(&ctx->pool), 0);
	ctx->pool_ready = false;
	while (nr--)
		release_resource(&dev[nr]);
}

/* A pool over @target (the fake iomem itself if NULL). */
static struct xen_scratch_pool *make_pool(struct kunit *test,
					  struct resource *target,
					  unsigned long max_request)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool = &ctx->pool;

	pool->target = target ? target : &ctx->iomem;
	pool->shown_in = &ctx->iomem;
	pool->space = target ? xen_unused_space_of(target) : NULL;
	pool->min_addr = SPACE_START;
	pool->max_addr = SPACE_END;
	pool->granule = G;
	pool->max_request = max_request;
	pool->backing = &fake_backing_ops;
	pool->backing_data = &ctx->fb;
	KUNIT_ASSERT_EQ(test, xen_scratch_pool_init(pool), 0);
	ctx->pool_ready = true;
	return pool;
}

/* The "Xen unused space" built from @regions, as the pool's target. */
static struct resource *make_space(struct kunit *test,
				   const struct range *regions,
				   unsigned int nr)
{
	struct scratch_ctx *ctx = test->priv;

	KUNIT_ASSERT_GT(test, xen_unused_space_build(&ctx->space, regions, nr,
						     G), 0);
	return &ctx->space.root;
}

static struct xen_scratch_stats stats_of(struct xen_scratch_pool *pool)
{
	struct xen_scratch_stats s;

	xen_scratch_stats(pool, &s);
	return s;
}

/* Number of direct children of @parent, and the one at @index. */
static unsigned int children(struct resource *parent, unsigned int index,
			     struct resource **nth)
{
	struct resource *r;
	unsigned int n = 0;

	for (r = parent->child; r; r = r->sibling, n++)
		if (n == index && nth)
			*nth = r;
	return n;
}

/* ---- xen_unused_space_build(): trimming, ordering, overlaps ---- */

struct space_case {
	const char *name;
	struct range in[4];
	unsigned int nr_in;
	bool busy;			/* a device at [7G, 8G - 1] */
	int ret;
	struct range out[4];		/* kept regions, ascending */
};

static const struct space_case space_cases[] = {
	{ .name = "none", .nr_in = 0, .ret = -ENOENT },
	{ .name = "one aligned", .nr_in = 1, .ret = 1,
	  .in = { { A(2), A(6) - 1 } }, .out = { { A(2), A(6) - 1 } } },
	{ .name = "unaligned is trimmed", .nr_in = 1, .ret = 1,
	  .in = { { A(2) - 5, A(6) + 7 } }, .out = { { A(2), A(6) - 1 } } },
	{ .name = "smaller than a granule once aligned", .nr_in = 1,
	  .ret = -ENOENT, .in = { { A(1) + 1, A(3) - 2 } } },
	{ .name = "reversed", .nr_in = 1, .ret = -ENOENT,
	  .in = { { A(6), A(2) } } },
	{ .name = "unordered are sorted", .nr_in = 3, .ret = 3,
	  .in = { { A(20), A(21) - 1 }, { A(2), A(3) - 1 },
		  { A(10), A(12) - 1 } },
	  .out = { { A(2), A(3) - 1 }, { A(10), A(12) - 1 },
		   { A(20), A(21) - 1 } } },
	{ .name = "overlap is skipped", .nr_in = 2, .ret = 1,
	  .in = { { A(2), A(6) - 1 }, { A(4), A(9) - 1 } },
	  .out = { { A(2), A(6) - 1 } } },
	{ .name = "a device in a region keeps it: fills go around",
	  .nr_in = 2, .ret = 2, .busy = true,
	  .in = { { A(2), A(4) - 1 }, { A(6), A(9) - 1 } },
	  .out = { { A(2), A(4) - 1 }, { A(6), A(9) - 1 } } },
};

static void space_case_desc(const struct space_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(space, space_cases, space_case_desc);

static void scratch_test_space_build(struct kunit *test)
{
	const struct space_case *c = test->param_value;
	struct scratch_ctx *ctx = test->priv;
	struct resource *r = NULL;
	int ret, i;

	if (c->busy)
		add_busy(test, 0, A(7), A(8) - 1);
	ret = xen_unused_space_build(&ctx->space, c->in, c->nr_in, G);
	KUNIT_ASSERT_EQ(test, ret, c->ret);
	if (ret < 0)
		return;

	KUNIT_EXPECT_EQ(test, ctx->space.nr, (unsigned int)ret);
	KUNIT_EXPECT_PTR_EQ(test, xen_unused_space_of(&ctx->space.root),
			    &ctx->space);
	KUNIT_EXPECT_PTR_EQ(test, xen_unused_space_of(&ctx->iomem), NULL);
	for (i = 0; i < ret; i++) {
		KUNIT_EXPECT_EQ_MSG(test, ctx->space.regions[i].start,
				    c->out[i].start, "region %d", i);
		KUNIT_EXPECT_EQ_MSG(test, ctx->space.regions[i].end,
				    c->out[i].end, "region %d", i);
		KUNIT_EXPECT_PTR_EQ_MSG(test, ctx->space.regions[i].parent,
					NULL, "region %d left in a tree", i);
	}
	/* Nothing of the space is requested in iomem until a range is. */
	KUNIT_EXPECT_EQ(test, children(&ctx->iomem, 0, NULL), c->busy ? 1U : 0U);
	KUNIT_EXPECT_EQ(test, ctx->space.root.start, c->out[0].start);
	KUNIT_EXPECT_EQ(test, ctx->space.root.end, c->out[ret - 1].end);
	/* Between regions the root is busy, so nothing is taken there. */
	KUNIT_EXPECT_EQ(test, children(&ctx->space.root, 0, &r),
			(unsigned int)ret - 1);
	if (ret > 1) {
		KUNIT_EXPECT_EQ(test, r->start, c->out[0].end + 1);
		KUNIT_EXPECT_EQ(test, r->end, c->out[1].start - 1);
	}
}

/* ---- range selection ---- */

static void scratch_test_takes_lowest_fit(struct kunit *test)
{
	struct xen_scratch_pool *pool;
	struct page *pages[3];

	add_busy(test, 0, A(0), A(2) - 1);
	add_busy(test, 1, A(3), A(4) - 1);
	pool = make_pool(test, NULL, 64);

	/* A granule fits in the hole at 2G. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 3, pages), 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 1UL);
	KUNIT_EXPECT_EQ(test, list_first_entry(&pool->ranges,
					       struct xen_scratch_range,
					       link)->res.start, A(2));
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 3, pages), 0);
}

static void scratch_test_fragmented(struct kunit *test)
{
	static const struct range holes[] = {
		{ A(2), A(3) - 1 }, { A(5), A(6) - 1 }, { A(9), A(10) - 1 },
	};
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page **pages;
	unsigned int i = 0;

	pool = make_pool(test, make_space(test, holes, 3), 4 * G_PAGES);
	pages = kunit_kcalloc(test, 3 * G_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);

	/* No hole holds three granules: the pool takes them one by one. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 3 * G_PAGES, pages), 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 3UL);
	list_for_each_entry(range, &pool->ranges, link) {
		KUNIT_EXPECT_EQ_MSG(test, range->res.start, holes[i].start,
				    "range %u", i);
		KUNIT_EXPECT_EQ(test, range->res.end, holes[i].end);
		i++;
	}
	/* And now the space is exhausted. */
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 1, pages), -ENOMEM);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fill_failures, 1UL);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 3 * G_PAGES, pages), 0);
}

static void scratch_test_exhausted(struct kunit *test)
{
	static const struct range one[] = { { A(2), A(3) - 1 } };
	struct xen_scratch_pool *pool;
	struct page **pages;

	pool = make_pool(test, make_space(test, one, 1), 4 * G_PAGES);
	pages = kunit_kcalloc(test, 2 * G_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);

	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 2 * G_PAGES, pages),
			-ENOMEM);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, pages), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 1, pages + G_PAGES),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, G_PAGES);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fallbacks, 0UL);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, G_PAGES, pages), 0);
}

/*
 * A call that fails once it has filled ranges (privcmd asking for more
 * than the space holds) gives back what it filled: nothing of it was
 * handed out, and no free will come to start a reclaim.  A range that
 * was idle before the call is the hysteresis's to keep.
 */
static void scratch_test_failed_alloc_gives_back(struct kunit *test)
{
	static const struct range two[] = { { A(4), A(6) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool;
	struct page **pages;

	pool = make_pool(test, make_space(test, two, 1), 4 * G_PAGES);
	pages = kunit_kcalloc(test, 3 * G_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, 1, pages), 0);

	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 3 * G_PAGES, pages),
			-ENOMEM);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fills, 2UL);
	KUNIT_EXPECT_EQ_MSG(test, stats_of(pool).ranges, 1UL,
			    "the failed call left the range it filled");
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->fb.mapped), 1);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_free, G_PAGES);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, 0UL);
}

/*
 * What is free in iomem_resource need not be unused (x86's PCI hole): a
 * range taken from it, as fallback or as the target itself, starts at or
 * above the pool's floor for such space, while Xen's own unused space
 * may lie below it.
 */
static void scratch_test_unvouched_floor(struct kunit *test)
{
	static const struct range one[] = { { A(2), A(3) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page **pages;

	pages = kunit_kcalloc(test, G_PAGES + 1, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	ctx->pool.fallback = &ctx->iomem;
	ctx->pool.unvouched_min_addr = A(16);
	pool = make_pool(test, make_space(test, one, 1), 2 * G_PAGES);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, pages), 0);
	range = list_last_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ(test, range->res.start, A(2));

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages + G_PAGES), 0);
	range = list_last_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_PTR_EQ(test, range->res.parent, &ctx->iomem);
	KUNIT_EXPECT_EQ_MSG(test, range->res.start, A(16),
			    "a range from iomem started at %#llx, below the floor",
			    (unsigned long long)range->res.start);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, G_PAGES + 1, pages), 0);
}

/* The same floor with iomem itself the target: no space vouched for. */
static void scratch_test_unvouched_floor_target(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page *pages[1];

	ctx->pool.unvouched_min_addr = A(16);
	pool = make_pool(test, NULL, 1);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages), 0);
	range = list_last_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ_MSG(test, range->res.start, A(16),
			    "a range from iomem started at %#llx, below the floor",
			    (unsigned long long)range->res.start);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages), 0);
}

/* Xen unused space first; iomem only once it is exhausted, if allowed. */
static void scratch_test_fallback_order(struct kunit *test)
{
	static const struct range one[] = { { A(8), A(9) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page *a[1], *b[1], **rest;

	rest = kunit_kcalloc(test, G_PAGES, sizeof(*rest), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rest);
	pool = make_pool(test, make_space(test, one, 1), 4 * G_PAGES);
	pool->fallback = &ctx->iomem;

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, a), 0);
	range = list_last_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_PTR_EQ(test, range->res.parent, &ctx->space.root);
	KUNIT_EXPECT_PTR_EQ(test, range->shown.parent, &ctx->iomem);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fallbacks, 0UL);

	/* Fill the only range, then one more page must come from iomem. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES - 1, rest), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, b), 0);
	range = list_last_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_PTR_EQ(test, range->res.parent, &ctx->iomem);
	KUNIT_EXPECT_EQ(test, range->res.start, A(0));
	KUNIT_EXPECT_PTR_EQ(test, range->shown.parent, NULL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fallbacks, 1UL);

	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, b), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, G_PAGES - 1, rest), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, a), 0);
}

/*
 * "Xen scratch" is requested in iomem for the range in use, and only for
 * it; it goes with the range.
 */
static void scratch_test_shown_in_use(struct kunit *test)
{
	static const struct range regions[] = {
		{ A(4), A(6) - 1 }, { A(10), A(12) - 1 },
	};
	struct scratch_ctx *ctx = test->priv;
	struct resource *scratch = NULL;
	struct xen_scratch_pool *pool;
	struct page *pages[2];

	pool = make_pool(test, make_space(test, regions, 2), 64);
	KUNIT_EXPECT_PTR_EQ(test, ctx->iomem.child, NULL);

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 2, pages), 0);
	KUNIT_ASSERT_EQ(test, children(&ctx->iomem, 0, &scratch), 1U);
	KUNIT_EXPECT_STREQ(test, scratch->name, XEN_SCRATCH_NAME);
	KUNIT_EXPECT_EQ(test, scratch->start, A(4));
	KUNIT_EXPECT_EQ(test, scratch->end, A(5) - 1);

	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 2, pages), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_reclaim(pool, 0), 1U);
	KUNIT_EXPECT_PTR_EQ(test, ctx->iomem.child, NULL);
	KUNIT_EXPECT_PTR_EQ(test, ctx->space.root.child->sibling, NULL);
}

/* A span that turned out to be in use is skipped for good. */
static void scratch_test_conflict_skipped(struct kunit *test)
{
	static const struct range regions[] = { { A(4), A(8) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page *pages[1];

	pool = make_pool(test, make_space(test, regions, 1), 64);
	/* A device appears in the region after it was built. */
	add_late_device(test, &ctx->busy[0], &ctx->iomem, A(4) + PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages), 0);
	range = list_first_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ(test, range->res.start, A(5));
	KUNIT_EXPECT_EQ(test, stats_of(pool).conflicts, 1UL);
	/* The device kept its place and parent. */
	KUNIT_EXPECT_PTR_EQ(test, ctx->busy[0].parent, &ctx->iomem);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages), 0);
	destroy_pool_and_devices(test, &ctx->busy[0], 1);
}

/*
 * A conflict blocks only the granules it overlaps: the rest of the span
 * it was found in is still taken, by the same fill.
 */
static void scratch_test_conflict_blocks_granules(struct kunit *test)
{
	static const struct range regions[] = { { A(4), A(8) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page **pages;

	pages = kunit_kcalloc(test, 3 * G_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	pool = make_pool(test, make_space(test, regions, 1), 4 * G_PAGES);
	/* One page of a late device, in the first granule of the region. */
	add_late_device(test, &ctx->busy[0], &ctx->iomem, A(4) + PAGE_SIZE);

	/* Three granules are left beside it, in one piece. */
	KUNIT_ASSERT_EQ_MSG(test, xen_scratch_alloc(pool, 3 * G_PAGES, pages), 0,
			    "a one-page device blocked more than its granule");
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 1UL);
	range = list_first_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ(test, range->res.start, A(5));
	KUNIT_EXPECT_EQ(test, range->res.end, A(8) - 1);
	KUNIT_EXPECT_EQ(test, stats_of(pool).conflicts, 1UL);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 3 * G_PAGES, pages), 0);
	destroy_pool_and_devices(test, &ctx->busy[0], 1);
}

/* Any number of conflicts: a fill goes on while the space has room. */
static void scratch_test_many_conflicts(struct kunit *test)
{
	static const struct range regions[] = { { A(2), A(12) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct resource *dev;
	struct page *pages[1];
	int i, nr = 9;

	dev = kunit_kcalloc(test, nr, sizeof(*dev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dev);
	pool = make_pool(test, make_space(test, regions, 1), 64);
	/* A one-page device in each of the first nine granules. */
	for (i = 0; i < nr; i++)
		add_late_device(test, &dev[i], &ctx->iomem,
				A(2 + i) + PAGE_SIZE);

	KUNIT_EXPECT_EQ_MSG(test, xen_scratch_alloc(pool, 1, pages), 0,
			    "gave up with a free granule left at %#llx",
			    (unsigned long long)A(11));
	if (stats_of(pool).ranges) {
		range = list_first_entry(&pool->ranges,
					 struct xen_scratch_range, link);
		KUNIT_EXPECT_EQ(test, range->res.start, A(11));
		KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages), 0);
	}
	KUNIT_EXPECT_EQ(test, stats_of(pool).conflicts, (unsigned long)nr);
	destroy_pool_and_devices(test, dev, nr);
}

/*
 * Only the ranges in use are requested in iomem: a BAR claimed later in
 * the middle of the unused space, beside a range the pool holds, gets its
 * addresses, and the pool's next fill goes around it.
 */
static void scratch_test_late_claim(struct kunit *test)
{
	static const struct range regions[] = { { A(4), A(8) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct resource *bar = &ctx->busy[0];
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page **pages;

	pages = kunit_kcalloc(test, G_PAGES + 1, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	pool = make_pool(test, make_space(test, regions, 1), 4 * G_PAGES);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, pages), 0);

	*bar = (struct resource) {
		.name = "late BAR", .start = A(5) + PAGE_SIZE,
		.end = A(5) + 2 * PAGE_SIZE - 1,
		.flags = IORESOURCE_MEM | IORESOURCE_BUSY,
	};
	KUNIT_EXPECT_EQ_MSG(test, request_resource(&ctx->iomem, bar), 0,
			    "a claim beside the range in use was refused: the pool holds more than it uses");

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages + G_PAGES), 0);
	range = list_last_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ_MSG(test, range->res.start, A(6),
			    "the next range is not beside the BAR's granule");
	KUNIT_EXPECT_EQ(test, stats_of(pool).conflicts,
			bar->parent ? 1UL : 0UL);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, G_PAGES + 1, pages), 0);
	destroy_pool_and_devices(test, bar, bar->parent ? 1 : 0);
}

/*
 * A pool over the one region [A(@first), A(@end)) holding one range at
 * A(@first), with @pages room for @nr_pages; then a host-bridge window
 * [A(@w_first), A(@w_end)) inserted in the fake iomem (into ctx->busy[0]),
 * as ACPI inserts one after a PVH guest's grant frames took their pages.
 */
static struct xen_scratch_pool *pool_then_window(struct kunit *test,
						 unsigned int first,
						 unsigned int end,
						 unsigned int w_first,
						 unsigned int w_end,
						 unsigned long nr_pages,
						 struct page ***pages)
{
	struct scratch_ctx *ctx = test->priv;
	struct range region = { A(first), A(end) - 1 };
	struct xen_scratch_pool *pool;

	*pages = kunit_kcalloc(test, nr_pages, sizeof(**pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, *pages);
	pool = make_pool(test, make_space(test, &region, 1), 4 * G_PAGES);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, *pages), 0);

	ctx->busy[0] = (struct resource) {
		.name = "PCI Bus 0000:00", .start = A(w_first),
		.end = A(w_end) - 1, .flags = IORESOURCE_MEM,
	};
	KUNIT_ASSERT_EQ_MSG(test, insert_resource(&ctx->iomem, &ctx->busy[0]), 0,
			    "the window could not be inserted beside the range in use");
	return pool;
}

/*
 * A host-bridge window inserted after the first fill (ACPI adds them at
 * subsys_initcall, after a PVH guest's grant frames took their pages) is
 * never used by a later fill, though the unused space was chosen without
 * it.
 */
static void scratch_test_late_window(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page **pages;

	pool = pool_then_window(test, 4, 10, 5, 8, 2 * G_PAGES, &pages);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, pages + G_PAGES), 0);
	range = list_last_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ_MSG(test, range->res.start, A(8),
			    "a fill after the window took %#llx",
			    (unsigned long long)range->res.start);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 2 * G_PAGES, pages), 0);
	destroy_pool_and_devices(test, ctx->busy, 1);
}

/*
 * A late window that crosses the end of the unused region (firmware's
 * 64-bit window reaching past what Xen's map left free): it must still be
 * insertable, and no fill may take the sections it covers.
 */
static void scratch_test_late_window_across(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page **pages;
	unsigned int i;

	pool = pool_then_window(test, 4, 10, 8, 12, 5 * G_PAGES, &pages);
	/* A(5) to A(7) are left; A(8) and A(9) are the window's. */
	for (i = 1; i < 4; i++)
		KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES,
							pages + i * G_PAGES), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, G_PAGES, pages + 4 * G_PAGES),
			-ENOMEM);
	list_for_each_entry(range, &pool->ranges, link)
		KUNIT_EXPECT_TRUE_MSG(test, range->res.end < A(8) ||
				      range->res.start >= A(12),
				      "range %pR inside the window %pR",
				      &range->res, &ctx->busy[0]);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 4 * G_PAGES, pages), 0);
	destroy_pool_and_devices(test, ctx->busy, 1);
}

/* Which resource the space vouches for, in scratch_test_shown_within(). */
static const struct resource *scratch_test_record;

static bool scratch_test_is_record(const struct resource *res)
{
	return res == scratch_test_record;
}

/*
 * Space the hypervisor also records in iomem itself (a PVH dom0's E820
 * "Unusable memory": host RAM it keeps out of the domain) is shown
 * inside that record.  A container the space does not vouch for, such
 * as a host bridge window, still blocks what it covers.
 */
static void scratch_test_shown_within(struct kunit *test)
{
	static const struct range regions[] = {
		{ A(4), A(6) - 1 }, { A(10), A(12) - 1 },
	};
	struct scratch_ctx *ctx = test->priv;
	struct resource *record = &ctx->busy[0], *window = &ctx->busy[1];
	resource_size_t covered = 0;
	struct resource *shown;
	struct xen_scratch_pool *pool;
	struct page **pages;

	pages = kunit_kcalloc(test, 3 * G_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	*record = (struct resource) {
		.name = "Unusable memory", .start = A(4), .end = A(6) - 1,
		.flags = IORESOURCE_MEM | IORESOURCE_BUSY,
	};
	*window = (struct resource) {
		.name = "PCI Bus 0000:00", .start = A(10), .end = A(12) - 1,
		.flags = IORESOURCE_MEM,
	};
	KUNIT_ASSERT_EQ(test, request_resource(&ctx->iomem, record), 0);
	KUNIT_ASSERT_EQ(test, request_resource(&ctx->iomem, window), 0);
	pool = make_pool(test, make_space(test, regions, 2), 4 * G_PAGES);
	ctx->space.shown_within = scratch_test_is_record;
	scratch_test_record = record;

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 2 * G_PAGES, pages), 0);
	KUNIT_EXPECT_GT_MSG(test, children(record, 0, NULL), 0U,
			    "the ranges in use are not shown inside the record");
	for (shown = record->child; shown; shown = shown->sibling) {
		KUNIT_EXPECT_STREQ(test, shown->name, XEN_SCRATCH_NAME);
		covered += resource_size(shown);
	}
	KUNIT_EXPECT_EQ(test, covered, 2 * G);
	KUNIT_EXPECT_PTR_EQ(test, ctx->iomem.child, record);
	KUNIT_EXPECT_EQ(test, stats_of(pool).conflicts, 0UL);

	/* The window's granules are not the space's to show: none is taken. */
	KUNIT_EXPECT_NE(test, xen_scratch_alloc(pool, G_PAGES, pages + 2 * G_PAGES),
			0);
	KUNIT_EXPECT_PTR_EQ_MSG(test, window->child, NULL,
				"a range shown inside the host bridge window");
	KUNIT_EXPECT_GE(test, stats_of(pool).conflicts, 1UL);

	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 2 * G_PAGES, pages), 0);
	xen_scratch_reclaim(pool, 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 0UL);
	KUNIT_EXPECT_PTR_EQ(test, record->child, NULL);
	destroy_pool_and_devices(test, window, 0);
	scratch_test_record = NULL;
}

/* Something already inside the record blocks the granule it is in. */
static void scratch_test_shown_within_busy(struct kunit *test)
{
	static const struct range regions[] = { { A(4), A(7) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct resource *record = &ctx->busy[0], *dev = &ctx->busy[1];
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page *pages[1];

	*record = (struct resource) {
		.name = "Unusable memory", .start = A(4), .end = A(7) - 1,
		.flags = IORESOURCE_MEM | IORESOURCE_BUSY,
	};
	KUNIT_ASSERT_EQ(test, request_resource(&ctx->iomem, record), 0);
	add_late_device(test, dev, record, A(4) + PAGE_SIZE);
	pool = make_pool(test, make_space(test, regions, 1), 4 * G_PAGES);
	ctx->space.shown_within = scratch_test_is_record;
	scratch_test_record = record;

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages), 0);
	range = list_first_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ(test, range->res.start, A(5));
	KUNIT_EXPECT_PTR_EQ(test, range->shown.parent, record);
	KUNIT_EXPECT_EQ(test, stats_of(pool).conflicts, 1UL);
	KUNIT_EXPECT_PTR_EQ(test, dev->parent, record);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages), 0);
	destroy_pool_and_devices(test, dev, 1);
	scratch_test_record = NULL;
}

/*
 * A window spanning several granules of the space costs one conflict:
 * everything of it in the region is blocked at once, not a granule per
 * try (a 64-bit window of terabytes would take tens of thousands).
 */
static void scratch_test_wide_conflict(struct kunit *test)
{
	static const struct range regions[] = { { A(4), A(12) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page *pages[1];

	pool = make_pool(test, make_space(test, regions, 1), 64);
	*ctx->busy = (struct resource) {
		.name = "PCI Bus 0000:00", .start = A(2), .end = A(9) - 1,
		.flags = IORESOURCE_MEM,
	};
	KUNIT_ASSERT_EQ(test, request_resource(&ctx->iomem, ctx->busy), 0);

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages), 0);
	range = list_first_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ(test, range->res.start, A(9));
	KUNIT_EXPECT_EQ_MSG(test, stats_of(pool).conflicts, 1UL,
			    "the window was blocked a granule at a time");
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages), 0);
	destroy_pool_and_devices(test, ctx->busy, 1);
}

/*
 * The same, for a window that appears around a range the pool already
 * holds (a PVH guest's grant frames, taken at core_initcall, when ACPI
 * inserts the host bridge later): the range is in the way of blocking the
 * whole window in the space, but what is free beside it is still blocked
 * in one go, not a granule per try with the pool's mutex held.
 */
static void scratch_test_window_around_range(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page **pages;

	pool = pool_then_window(test, 4, 12, 4, 10, 2 * G_PAGES, &pages);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, pages + G_PAGES), 0);
	range = list_last_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ_MSG(test, range->res.start, A(10),
			    "a fill inside the window took %#llx",
			    (unsigned long long)range->res.start);
	KUNIT_EXPECT_EQ_MSG(test, stats_of(pool).conflicts, 1UL,
			    "the window was blocked a granule at a time");
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 2 * G_PAGES, pages), 0);
	destroy_pool_and_devices(test, ctx->busy, 1);
}

/*
 * A span blocked for a claim that has gone since (a BAR released on
 * unplug, a region dropped on -EPROBE_DEFER) is tried again once the
 * space has no other room, rather than lost for good.
 */
static void scratch_test_blocked_retried(struct kunit *test)
{
	static const struct range regions[] = { { A(4), A(6) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool;
	struct page **pages;

	pages = kunit_kcalloc(test, 2 * G_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	pool = make_pool(test, make_space(test, regions, 1), 4 * G_PAGES);
	add_late_device(test, &ctx->busy[0], &ctx->iomem, A(4) + PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, pages), 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).conflicts, 1UL);
	release_resource(&ctx->busy[0]);

	KUNIT_EXPECT_EQ_MSG(test, xen_scratch_alloc(pool, G_PAGES, pages + G_PAGES), 0,
			    "a granule blocked for a device long gone stayed lost");
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 2UL);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, stats_of(pool).pages_used, pages), 0);
}

/*
 * The fallback is for when the unused space has no room left, not for
 * when no single span of it holds the whole request.
 */
static void scratch_test_fallback_after_split(struct kunit *test)
{
	static const struct range two[] = {
		{ A(2), A(3) - 1 }, { A(5), A(6) - 1 },
	};
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page **pages;
	unsigned int i = 0;

	pages = kunit_kcalloc(test, 3 * G_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	pool = make_pool(test, make_space(test, two, 2), 4 * G_PAGES);
	pool->fallback = &ctx->iomem;

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 2 * G_PAGES, pages), 0);
	KUNIT_EXPECT_EQ_MSG(test, stats_of(pool).fallbacks, 0UL,
			    "fell back with two free granules of unused space");
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 2UL);
	list_for_each_entry(range, &pool->ranges, link) {
		KUNIT_EXPECT_PTR_EQ_MSG(test, range->res.parent,
					&ctx->space.root, "range %u", i);
		i++;
	}

	/* Only now does a further granule come from the fallback. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES,
						pages + 2 * G_PAGES), 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fallbacks, 1UL);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 3 * G_PAGES, pages), 0);
}

/* ---- alloc, free, return ---- */

static void scratch_test_pages_distinct(struct kunit *test)
{
	struct xen_scratch_pool *pool = make_pool(test, NULL, 4 * G_PAGES);
	struct xen_scratch_range *range;
	unsigned int n = 2 * G_PAGES + 3, i;
	struct page **pages;
	unsigned long *seen;

	pages = kunit_kcalloc(test, n, sizeof(*pages), GFP_KERNEL);
	seen = kunit_kcalloc(test, BITS_TO_LONGS(3 * G_PAGES), sizeof(long),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_NOT_NULL(test, seen);

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, n, pages), 0);
	range = list_first_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_ASSERT_EQ(test, range->nr_pages, 3 * G_PAGES);
	for (i = 0; i < n; i++) {
		long idx = pages[i] - range->first;

		KUNIT_ASSERT_TRUE_MSG(test, idx >= 0 && idx < 3 * G_PAGES,
				      "page %u outside its range", i);
		KUNIT_EXPECT_FALSE_MSG(test, __test_and_set_bit(idx, seen),
				       "page %ld handed out twice", idx);
	}
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, (unsigned long)n);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_free, 3 * G_PAGES - n);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, n, pages), 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, 0UL);
}

/* Alloc/free loops reuse one range; it goes back only once idle enough. */
static void scratch_test_return_hysteresis(struct kunit *test)
{
	struct xen_scratch_pool *pool = make_pool(test, NULL, 64);
	struct page *pages[8];
	int i;

	for (i = 0; i < 100; i++) {
		KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1 + i % 8, pages),
				0);
		KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, 1 + i % 8, pages),
				0);
		/* Freed just now: not idle for a whole minute yet. */
		KUNIT_ASSERT_EQ(test, xen_scratch_reclaim(pool, 60 * HZ), 0U);
	}
	KUNIT_EXPECT_EQ(test, stats_of(pool).fills, 1UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).idle_ranges, 1UL);

	/* A range with a page in use never goes. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_reclaim(pool, 0), 0U);
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, 1, pages), 0);

	KUNIT_EXPECT_EQ(test, xen_scratch_reclaim(pool, 0), 1U);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 0UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_free, 0UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).returns, 1UL);
	KUNIT_EXPECT_PTR_EQ(test, ((struct scratch_ctx *)test->priv)->iomem.child,
			    NULL);

	/* And the next allocation takes a new one. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages), 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fills, 2UL);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages), 0);
}

/*
 * The idle time of a range counts from its last free, not from its fill:
 * a range that was busy for longer than the delay is not given back the
 * moment its last page comes home.
 */
static void scratch_test_idle_from_last_free(struct kunit *test)
{
	struct xen_scratch_pool *pool = make_pool(test, NULL, 64);
	struct page *pages[1];

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages), 0);
	msleep(1500);
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, 1, pages), 0);
	KUNIT_EXPECT_EQ_MSG(test, xen_scratch_reclaim(pool, HZ), 0U,
			    "given back right after its last free");
	msleep(1100);
	KUNIT_EXPECT_EQ(test, xen_scratch_reclaim(pool, HZ), 1U);
}

/*
 * A range whose page something still refers to is kept (a stale
 * reference must not become a use-after-free of its struct pages), and
 * goes once the reference is dropped.
 */
static void scratch_test_return_refused(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool = make_pool(test, NULL, 64);
	struct page *pages[4];

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 4, pages), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, 4, pages), 0);
	ctx->fb.referenced = true;
	KUNIT_EXPECT_EQ(test, xen_scratch_reclaim(pool, 0), 0U);
	KUNIT_EXPECT_EQ(test, ctx->fb.busy_calls, 1U);
	KUNIT_EXPECT_EQ(test, stats_of(pool).returns_refused, 1UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 1UL);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->fb.mapped), 1);

	/* The range still works, and goes once the reference is gone. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 4, pages), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, 4, pages), 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fills, 1UL);
	ctx->fb.referenced = false;
	KUNIT_EXPECT_EQ(test, xen_scratch_reclaim(pool, 0), 1U);
	KUNIT_EXPECT_EQ(test, stats_of(pool).returns, 1UL);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->fb.mapped), 0);
}

/* Pages come from ranges in use before idle ones, so those can drain. */
static void scratch_test_prefers_busy_range(struct kunit *test)
{
	struct xen_scratch_pool *pool = make_pool(test, NULL, 2 * G_PAGES);
	struct xen_scratch_range *first, *second;
	struct page **pages, *one[1];

	pages = kunit_kcalloc(test, 2 * G_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, pages), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, pages + G_PAGES),
			0);
	first = list_first_entry(&pool->ranges, struct xen_scratch_range, link);
	second = list_next_entry(first, link);
	/* Empty the first range entirely and the second by one page. */
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, G_PAGES + 1, pages), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, one), 0);
	KUNIT_EXPECT_PTR_EQ(test, one[0], pages[G_PAGES]);
	KUNIT_EXPECT_EQ(test, first->nr_free, first->nr_pages);

	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, one), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, G_PAGES - 1,
					       pages + G_PAGES + 1), 0);
	KUNIT_EXPECT_EQ(test, second->nr_free, second->nr_pages);
}

/* ---- failures leave nothing behind ---- */

static void scratch_test_map_failure(struct kunit *test)
{
	static const struct range one[] = { { A(4), A(6) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool;
	struct page *pages[1];

	pool = make_pool(test, make_space(test, one, 1), 64);
	ctx->fb.fail_map_in = 1;
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 1, pages), -EIO);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 0UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fill_failures, 1UL);
	KUNIT_EXPECT_PTR_EQ(test, ctx->iomem.child, NULL);
	KUNIT_EXPECT_PTR_EQ(test, ctx->space.root.child, NULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->fb.mapped), 0);

	/* The same span is taken when mapping works again. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 1, pages), 0);
	KUNIT_ASSERT_NOT_NULL(test, ctx->iomem.child);
	KUNIT_EXPECT_EQ(test, ctx->iomem.child->start, A(4));
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages), 0);
}

static void scratch_test_prepare_failure(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool = make_pool(test, NULL, 64);
	struct page *pages[8], *held[2];

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 2, held), 0);
	/* Fail on the 6th page of 8: the five already taken come back. */
	ctx->fb.fail_prepare_in = 6;
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 8, pages), -ENOSPC);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, 2UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_free, G_PAGES - 2);

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 8, pages), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 8, pages), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 2, held), 0);
}

/* A failure taking from an idle range also gives back the busy ones' pages. */
static void scratch_test_prepare_failure_idle(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool = make_pool(test, NULL, 2 * G_PAGES);
	struct xen_scratch_range *busy, *idle;
	struct page **held, *pages[3];

	held = kunit_kcalloc(test, 2 * G_PAGES, sizeof(*held), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, held), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, G_PAGES, held + G_PAGES),
			0);
	busy = list_first_entry(&pool->ranges, struct xen_scratch_range, link);
	idle = list_next_entry(busy, link);
	/* One page free in the busy range, the other range all free. */
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, G_PAGES + 1,
					       held + G_PAGES - 1), 0);

	/* The busy range gives one page, the idle one fails on its second. */
	ctx->fb.fail_prepare_in = 3;
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 3, pages), -ENOSPC);
	KUNIT_EXPECT_EQ(test, busy->nr_free, 1UL);
	KUNIT_EXPECT_EQ(test, idle->nr_free, idle->nr_pages);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, G_PAGES - 1);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, G_PAGES - 1, held), 0);
}

/* ---- bad input ---- */

static void scratch_test_bad_input(struct kunit *test)
{
	struct xen_scratch_pool *pool = make_pool(test, NULL, 16);
	struct page *pages[2], stranger;
	struct page **many;

	many = kunit_kcalloc(test, 17, sizeof(*many), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, many);
	/* More than any caller was given: a kernel bug, refused with a warning. */
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 17, many), -EINVAL);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 2, pages), 0);

	/* A page the pool never had. */
	many[0] = &stranger;
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, many), -EINVAL);
	/* Inside a range but not on a struct page boundary. */
	many[0] = (struct page *)((char *)pages[0] + 1);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, many), -EINVAL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, 2UL);

	/* A double free, including twice in one call. */
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages), -EINVAL);
	many[0] = pages[1];
	many[1] = pages[1];
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 2, many), -EINVAL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).bad_frees, 4UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, 0UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_free, G_PAGES);

	/* And the pool still works. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 2, pages), 0);
	KUNIT_EXPECT_PTR_NE(test, pages[0], pages[1]);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 2, pages), 0);
}

/*
 * A page freed again after its range went back: the struct pages it
 * points into are gone (the fake backing kfree()s them, as memunmap_pages()
 * frees the vmemmap), so the pool must refuse it without reading it.  This
 * is why a page is looked up by its address and not through its pgmap:
 * under KASAN, reading the page here is a use-after-free report.
 */
static void scratch_test_free_after_giveback(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool = make_pool(test, NULL, 16);
	struct page *pages[2];

	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 2, pages), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, 2, pages), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_reclaim(pool, 0), 1U);
	KUNIT_ASSERT_EQ(test, atomic_read(&ctx->fb.mapped), 0);

	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 1, pages + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).bad_frees, 1UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_free, 0UL);

	/* A new range may sit at the old address: its pages are its own. */
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 2, pages), 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, 2UL);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 2, pages), 0);
}

/*
 * Sizes come from callers such as privcmd's MMAPBATCH, i.e. from user
 * space: too many pages is an error to return, not a kernel bug to warn
 * about (this case must leave no WARN in the log: it is not exempted in
 * tools/testing/boot/checks_guest.py).
 */
static void scratch_test_too_big(struct kunit *test)
{
	struct xen_scratch_pool *pool = make_pool(test, NULL, 16);
	struct page **many;

	many = kunit_kcalloc(test, 17, sizeof(*many), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, many);
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 0, many), -EINVAL);
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 17, many), -E2BIG);
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, UINT_MAX, many), -E2BIG);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 0UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).fill_failures, 0UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).bad_frees, 0UL);
}

static void scratch_test_bad_pool(struct kunit *test)
{
	struct xen_scratch_pool pool = {
		.target = &((struct scratch_ctx *)test->priv)->iomem,
		.backing = &fake_backing_ops,
		.granule = 3 * PAGE_SIZE,
		.max_request = 1,
		.max_addr = SPACE_END,
	};

	KUNIT_EXPECT_EQ(test, xen_scratch_pool_init(&pool), -EINVAL);
	pool.granule = G;
	pool.max_addr = 0;
	KUNIT_EXPECT_EQ(test, xen_scratch_pool_init(&pool), -EINVAL);
}

/* ---- concurrency ---- */

#define THREADS		4
#define ROUNDS		300

struct worker {
	struct kunit *test;
	struct xen_scratch_pool *pool;
	struct completion done;
	u32 seed;
	int errors;
};

static int scratch_worker(void *arg)
{
	struct worker *w = arg;
	struct page *pages[40];
	int i, j;

	for (i = 0; i < ROUNDS; i++) {
		unsigned int n = 1 + (w->seed = w->seed * 1103515245 + 12345) % 40;

		if (xen_scratch_alloc(w->pool, n, pages)) {
			w->errors++;
			continue;
		}
		/* Mark the pages: another thread holding one would clash. */
		for (j = 0; j < n; j++) {
			if (pages[j]->private)
				w->errors++;
			pages[j]->private = (unsigned long)w;
		}
		if (i % 16 == 0)
			cond_resched();
		for (j = 0; j < n; j++) {
			if (pages[j]->private != (unsigned long)w)
				w->errors++;
			pages[j]->private = 0;
		}
		if (xen_scratch_free(w->pool, n, pages))
			w->errors++;
		if (i % 50 == 0)
			xen_scratch_reclaim(w->pool, 0);
	}
	complete(&w->done);
	return 0;
}

static void scratch_test_concurrent(struct kunit *test)
{
	struct xen_scratch_pool *pool = make_pool(test, NULL, 64);
	struct worker *w;
	int i, errors = 0;

	w = kunit_kcalloc(test, THREADS, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	for (i = 0; i < THREADS; i++) {
		struct task_struct *t;

		w[i] = (struct worker) { .test = test, .pool = pool,
					 .seed = 7 + i };
		init_completion(&w[i].done);
		t = kthread_run(scratch_worker, &w[i], "scratch-kunit/%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	for (i = 0; i < THREADS; i++) {
		wait_for_completion(&w[i].done);
		errors += w[i].errors;
	}
	KUNIT_EXPECT_EQ(test, errors, 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, 0UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).bad_frees, 0UL);
	xen_scratch_reclaim(pool, 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 0UL);
}

/* Whether an allocation sleeps until a give-back ends. */
static bool teardown_waiter(struct xen_scratch_pool *pool)
{
	/* Unordered (no barrier): the cases only poll it until it holds. */
	return waitqueue_active(&pool->room_wq);
}

struct giveback {
	struct xen_scratch_pool *pool;
	struct completion done;
	unsigned int returned;
	int alloc_ret, free_ret;
};

static int giveback_reclaim(void *arg)
{
	struct giveback *g = arg;

	g->returned = xen_scratch_reclaim(g->pool, 0);
	complete(&g->done);
	return 0;
}

static int giveback_alloc_free(void *arg)
{
	struct giveback *g = arg;
	struct page *pages[4];

	g->alloc_ret = xen_scratch_alloc(g->pool, 4, pages);
	if (!g->alloc_ret)
		g->free_ret = xen_scratch_free(g->pool, 4, pages);
	complete(&g->done);
	return 0;
}

/* Start a reclaim of @r's pool that stops inside unmap until unmap_go. */
static bool start_blocked_reclaim(struct kunit *test, struct giveback *r)
{
	struct scratch_ctx *ctx = test->priv;
	struct task_struct *t;

	ctx->fb.block_unmap = true;
	t = kthread_run(giveback_reclaim, r, "scratch-kunit/reclaim");
	if (IS_ERR(t)) {
		/* The exit's destroy must not block in unmap. */
		ctx->fb.block_unmap = false;
		KUNIT_FAIL(test, "no thread");
		return false;
	}
	wait_for_completion(&ctx->fb.in_unmap);
	return true;
}

/*
 * Tearing a range down (memunmap_pages(): RCU grace periods, the hotplug
 * lock) must not stall the pool: alloc and free go on meanwhile.
 */
static void scratch_test_giveback_unlocked(struct kunit *test)
{
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool = make_pool(test, NULL, 64);
	struct giveback r = { .pool = pool }, w = { .pool = pool };
	struct task_struct *t;
	struct page *pages[4];
	unsigned long left;

	init_completion(&r.done);
	init_completion(&w.done);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 4, pages), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, 4, pages), 0);

	if (!start_blocked_reclaim(test, &r))
		return;

	t = kthread_run(giveback_alloc_free, &w, "scratch-kunit/alloc");
	if (IS_ERR(t)) {
		complete(&ctx->fb.unmap_go);
		wait_for_completion(&r.done);
		KUNIT_FAIL(test, "no thread");
		return;
	}
	left = wait_for_completion_timeout(&w.done, 5 * HZ);
	KUNIT_EXPECT_NE_MSG(test, left, 0UL,
			    "alloc/free waited 5 s for a give-back to finish");

	/* Let the give-back finish, then whatever waited for it. */
	ctx->fb.block_unmap = false;
	complete(&ctx->fb.unmap_go);
	wait_for_completion(&r.done);
	if (!left)
		wait_for_completion(&w.done);
	KUNIT_EXPECT_EQ(test, r.returned, 1U);
	KUNIT_EXPECT_EQ(test, w.alloc_ret, 0);
	KUNIT_EXPECT_EQ(test, w.free_ret, 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).pages_used, 0UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 1UL);
}

/*
 * A give-back in progress is room to come: with a target of one granule
 * whose only range is being torn down, an allocation waits for it and
 * takes the granule again, rather than fail or use the fallback.
 */
static void scratch_test_giveback_tight(struct kunit *test)
{
	static const struct range one[] = { { A(4), A(5) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool;
	struct giveback r, w;
	struct task_struct *t;
	struct xen_scratch_range *range;
	struct page *pages[4];

	pool = make_pool(test, make_space(test, one, 1), 64);
	pool->fallback = &ctx->iomem;
	r = (struct giveback) { .pool = pool };
	w = (struct giveback) { .pool = pool };
	init_completion(&r.done);
	init_completion(&w.done);
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 4, pages), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, 4, pages), 0);

	if (!start_blocked_reclaim(test, &r))
		return;
	/* Still counted while it goes: nothing looks settled too early. */
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 1UL);
	KUNIT_EXPECT_EQ(test, stats_of(pool).idle_ranges, 1UL);

	t = kthread_run(giveback_alloc_free, &w, "scratch-kunit/alloc");
	if (!IS_ERR(t)) {
		int i;

		/* It must wait: its only room is still being given back. */
		for (i = 0; i < 50 && !teardown_waiter(pool); i++)
			msleep(100);
		KUNIT_EXPECT_TRUE_MSG(test, teardown_waiter(pool),
				      "the allocation never waited for the give-back");
		KUNIT_EXPECT_FALSE(test, completion_done(&w.done));
	}
	ctx->fb.block_unmap = false;
	complete(&ctx->fb.unmap_go);
	wait_for_completion(&r.done);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wait_for_completion(&w.done);

	KUNIT_EXPECT_EQ(test, r.returned, 1U);
	KUNIT_EXPECT_EQ_MSG(test, w.alloc_ret, 0,
			    "failed while the space's only range was going back");
	KUNIT_EXPECT_EQ(test, stats_of(pool).fallbacks, 0UL);
	KUNIT_ASSERT_EQ(test, stats_of(pool).ranges, 1UL);
	range = list_first_entry(&pool->ranges, struct xen_scratch_range, link);
	KUNIT_EXPECT_EQ(test, range->res.start, A(4));
}

/*
 * While an allocation waits for a give-back, a free may make the room
 * instead: the allocation must then take it and succeed at once, not
 * sleep until the give-back (memunmap_pages(), RCU grace periods) ends.
 */
static void scratch_test_giveback_wait_then_free(struct kunit *test)
{
	static const struct range two[] = { { A(4), A(6) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_pool *pool;
	struct giveback r, w;
	struct task_struct *t;
	unsigned long left;
	struct page **held;
	int i;

	held = kunit_kcalloc(test, 2 * G_PAGES, sizeof(*held), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	pool = make_pool(test, make_space(test, two, 1), 64);
	r = (struct giveback) { .pool = pool };
	w = (struct giveback) { .pool = pool };
	init_completion(&r.done);
	init_completion(&w.done);
	/* Range one held whole; range two all free, to be given back. */
	for (i = 0; i < 2 * G_PAGES; i += 16)
		KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 16, held + i), 0);
	KUNIT_ASSERT_EQ(test, xen_scratch_free(pool, G_PAGES, held + G_PAGES), 0);

	if (!start_blocked_reclaim(test, &r))
		return;
	t = kthread_run(giveback_alloc_free, &w, "scratch-kunit/alloc");
	for (i = 0; !IS_ERR(t) && i < 50 && !teardown_waiter(pool); i++)
		msleep(100);
	KUNIT_EXPECT_TRUE_MSG(test, !IS_ERR(t) && teardown_waiter(pool),
			      "the allocation never waited for the give-back");
	/* Room comes back by a free first, then the give-back ends. */
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 4, held), 0);
	left = IS_ERR(t) ? 0 : wait_for_completion_timeout(&w.done, 5 * HZ);
	KUNIT_EXPECT_NE_MSG(test, left, 0UL,
			    "a free made room, yet the allocation slept on for the give-back");
	ctx->fb.block_unmap = false;
	complete(&ctx->fb.unmap_go);
	wait_for_completion(&r.done);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	if (!left)
		wait_for_completion(&w.done);
	KUNIT_EXPECT_EQ_MSG(test, w.alloc_ret, 0, "woken with free pages, yet failed");
	KUNIT_EXPECT_EQ(test, w.free_ret, 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, G_PAGES - 4, held + 4), 0);
}

/*
 * A failure that is not lack of room (the backing short of memory) does
 * not send a fill to the fallback: smaller pieces of the target are tried
 * instead, and if they fail too, the error is returned.
 */
static void scratch_test_no_fallback_on_error(struct kunit *test)
{
	static const struct range two[] = { { A(4), A(6) - 1 } };
	struct scratch_ctx *ctx = test->priv;
	struct xen_scratch_range *range;
	struct xen_scratch_pool *pool;
	struct page **pages;

	pages = kunit_kcalloc(test, 2 * G_PAGES, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	pool = make_pool(test, make_space(test, two, 1), 4 * G_PAGES);
	pool->fallback = &ctx->iomem;

	/* The whole-size map fails: the two granules are mapped one by one. */
	ctx->fb.fail_map_in = 1;
	ctx->fb.fail_map_err = -ENOMEM;
	KUNIT_ASSERT_EQ(test, xen_scratch_alloc(pool, 2 * G_PAGES, pages), 0);
	KUNIT_EXPECT_EQ(test, stats_of(pool).ranges, 2UL);
	list_for_each_entry(range, &pool->ranges, link)
		KUNIT_EXPECT_PTR_EQ(test, range->res.parent, &ctx->space.root);
	KUNIT_EXPECT_EQ(test, xen_scratch_free(pool, 2 * G_PAGES, pages), 0);
	KUNIT_EXPECT_EQ(test, xen_scratch_reclaim(pool, 0), 2U);

	/* Every map fails: the error comes back, the fallback is never tried. */
	ctx->fb.fail_map_in = 1;
	KUNIT_EXPECT_EQ(test, xen_scratch_alloc(pool, 1, pages), -ENOMEM);
	KUNIT_EXPECT_EQ_MSG(test, ctx->fb.maps_elsewhere, 0U,
			    "fell back on a memory failure with room left");
	KUNIT_EXPECT_EQ(test, stats_of(pool).fallbacks, 0UL);
}

static struct kunit_case scratch_test_cases[] = {
	KUNIT_CASE_PARAM(scratch_test_space_build, space_gen_params),
	KUNIT_CASE(scratch_test_takes_lowest_fit),
	KUNIT_CASE(scratch_test_fragmented),
	KUNIT_CASE(scratch_test_exhausted),
	KUNIT_CASE(scratch_test_failed_alloc_gives_back),
	KUNIT_CASE(scratch_test_fallback_order),
	KUNIT_CASE(scratch_test_unvouched_floor),
	KUNIT_CASE(scratch_test_unvouched_floor_target),
	KUNIT_CASE(scratch_test_shown_in_use),
	KUNIT_CASE(scratch_test_conflict_skipped),
	KUNIT_CASE(scratch_test_conflict_blocks_granules),
	KUNIT_CASE(scratch_test_many_conflicts),
	KUNIT_CASE(scratch_test_late_claim),
	KUNIT_CASE(scratch_test_late_window),
	KUNIT_CASE(scratch_test_late_window_across),
	KUNIT_CASE(scratch_test_shown_within),
	KUNIT_CASE(scratch_test_shown_within_busy),
	KUNIT_CASE(scratch_test_wide_conflict),
	KUNIT_CASE(scratch_test_window_around_range),
	KUNIT_CASE(scratch_test_blocked_retried),
	KUNIT_CASE(scratch_test_fallback_after_split),
	KUNIT_CASE(scratch_test_pages_distinct),
	KUNIT_CASE(scratch_test_return_hysteresis),
	KUNIT_CASE(scratch_test_idle_from_last_free),
	KUNIT_CASE(scratch_test_return_refused),
	KUNIT_CASE(scratch_test_prefers_busy_range),
	KUNIT_CASE(scratch_test_map_failure),
	KUNIT_CASE(scratch_test_no_fallback_on_error),
	KUNIT_CASE(scratch_test_prepare_failure),
	KUNIT_CASE(scratch_test_prepare_failure_idle),
	KUNIT_CASE(scratch_test_bad_input),
	KUNIT_CASE(scratch_test_free_after_giveback),
	KUNIT_CASE(scratch_test_too_big),
	KUNIT_CASE(scratch_test_bad_pool),
	KUNIT_CASE(scratch_test_concurrent),
	KUNIT_CASE(scratch_test_giveback_unlocked),
	KUNIT_CASE(scratch_test_giveback_tight),
	KUNIT_CASE(scratch_test_giveback_wait_then_free),
	{}
};

static struct kunit_suite scratch_test_suite = {
	.name = "xen_scratch_pool",
	.init = scratch_test_init,
	.exit = scratch_test_exit,
	.test_cases = scratch_test_cases,
};

kunit_test_suite(scratch_test_suite);

MODULE_DESCRIPTION("KUnit tests of the Xen unpopulated-page pool");
MODULE_LICENSE("GPL");
