// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the P2M tree (drivers/xen/p2m_tree.c).
 *
 * They need no hypervisor: on UML (tools/testing/kunit/kunit.py) and
 * inside a booted Xen guest they build private trees from page-allocator
 * memory.  Every operation is followed by p2m_tree_verify(), and answers
 * are checked against what the operation promised.
 */

#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/p2m_tree.h>

#define LEAF	P2M_LEAF_PFNS
#define MID	P2M_MID_PFNS
#define TREE_PFNS	(4 * MID)

struct p2m_test_mem {
	unsigned long allocs, frees, retired;
	unsigned long fail_after;	/* 0: never fail */
};

static void *p2m_test_alloc(struct p2m_tree *tree, enum p2m_tree_level level,
			    size_t size)
{
	struct p2m_test_mem *mem = tree->priv;

	if (mem->fail_after && mem->allocs >= mem->fail_after)
		return NULL;
	mem->allocs++;
	return (void *)__get_free_pages(GFP_KERNEL, get_order(size));
}

static void p2m_test_free(struct p2m_tree *tree, void *node,
			  enum p2m_tree_level level)
{
	struct p2m_test_mem *mem = tree->priv;

	mem->frees++;
	free_pages((unsigned long)node, level == P2M_LEVEL_TOP ?
		   get_order(tree->nr_top * sizeof(*tree->top)) : 0);
}

/* No concurrent readers in these tests: a retired node can go at once. */
static void p2m_test_retire(struct p2m_tree *tree, void *node,
			    enum p2m_tree_level level)
{
	struct p2m_test_mem *mem = tree->priv;

	mem->retired++;
	p2m_test_free(tree, node, level);
}

static const struct p2m_tree_ops p2m_test_ops = {
	.alloc = p2m_test_alloc,
	.free = p2m_test_free,
	.retire = p2m_test_retire,
};

struct p2m_test_ctx {
	struct p2m_tree tree;
	struct p2m_test_mem mem;
};

static int p2m_test_init(struct kunit *test)
{
	struct p2m_test_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	test->priv = ctx;
	return p2m_tree_init(&ctx->tree, &p2m_test_ops, &ctx->mem, TREE_PFNS);
}

static void p2m_test_exit(struct kunit *test)
{
	struct p2m_test_ctx *ctx = test->priv;

	p2m_tree_destroy(&ctx->tree);
	KUNIT_EXPECT_EQ_MSG(test, ctx->mem.allocs, ctx->mem.frees,
			    "tree destroyed with %lu nodes not given back",
			    ctx->mem.allocs - ctx->mem.frees);
}

static void p2m_expect_valid(struct kunit *test, struct p2m_tree *tree)
{
	char why[128];

	KUNIT_EXPECT_EQ_MSG(test, p2m_tree_verify(tree, why, sizeof(why)), 0,
			    "invariant broken: %s", why);
}

static unsigned long p2m_nodes(struct p2m_tree *tree)
{
	return atomic_long_read(&tree->nr_mids) + atomic_long_read(&tree->nr_leaves);
}

/*
 * Count pfns of [s, e) that do not read as @kind; pfns of the whole tree
 * outside [s, e) must still read as @outside.
 */
static void p2m_expect_only(struct kunit *test, struct p2m_tree *tree,
			    unsigned long s, unsigned long e,
			    enum p2m_kind kind, enum p2m_kind outside)
{
	unsigned long pfn, wrong = 0, first = 0;

	for (pfn = 0; pfn < tree->max_pfn; pfn++) {
		enum p2m_kind want = pfn >= s && pfn < e ? kind : outside;

		if (p2m_entry_kind(pfn, p2m_tree_lookup(tree, pfn)) != want &&
		    !wrong++)
			first = pfn;
	}
	KUNIT_EXPECT_EQ_MSG(test, wrong, 0UL,
			    "[%#lx, %#lx) %s: %lu pfns wrong, first %#lx reads %#lx",
			    s, e, p2m_kind_names[kind], wrong, first,
			    p2m_tree_lookup(tree, first));
}

/* Ranges around every level boundary, and what each may cost. */
struct p2m_range_case {
	const char *name;
	unsigned long start, end;
	unsigned long max_new_nodes;
};

static const struct p2m_range_case p2m_range_cases[] = {
	{ "one pfn", 7, 8, 2 },
	{ "one whole leaf", LEAF, 2 * LEAF, 1 },
	{ "leaf edge", LEAF - 1, LEAF + 1, 3 },
	{ "one whole mid", MID, 2 * MID, 0 },
	{ "two whole mids", MID, 3 * MID, 0 },
	{ "mid edge", MID - 1, MID + 1, 4 },
	{ "leaf-aligned inside a mid", MID + LEAF, MID + 5 * LEAF, 1 },
	{ "unaligned across mids", MID + 3, 3 * MID - 3, 4 },
	{ "to the end", 2 * MID + 5, TREE_PFNS, 2 },
	{ "past the end", 3 * MID, ~0UL, 0 },
	{ "everything", 0, TREE_PFNS, 0 },
};

static void p2m_range_case_desc(const struct p2m_range_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(p2m_range, p2m_range_cases, p2m_range_case_desc);

static void p2m_test_identity_range(struct kunit *test)
{
	const struct p2m_range_case *c = test->param_value;
	struct p2m_test_ctx *ctx = test->priv;
	struct p2m_tree *tree = &ctx->tree;
	unsigned long end = min(c->end, tree->max_pfn);
	long ret;

	ret = p2m_tree_set_identity(tree, c->start, c->end);
	KUNIT_EXPECT_EQ(test, ret, (long)(end - c->start));
	KUNIT_EXPECT_LE_MSG(test, p2m_nodes(tree), c->max_new_nodes,
			    "identity [%#lx, %#lx) allocated too much",
			    c->start, c->end);
	p2m_expect_only(test, tree, c->start, end, P2M_KIND_IDENTITY,
			P2M_KIND_MISSING);
	p2m_expect_valid(test, tree);

	/* And back: the same range missing again over identity. */
	ret = p2m_tree_set_missing(tree, c->start, end);
	KUNIT_EXPECT_EQ(test, ret, (long)(end - c->start));
	p2m_expect_only(test, tree, 0, 0, P2M_KIND_MISSING, P2M_KIND_MISSING);
	p2m_expect_valid(test, tree);
}

/* The identity range marked over a fully populated tree. */
static void p2m_test_identity_over_populated(struct kunit *test)
{
	const struct p2m_range_case *c = test->param_value;
	struct p2m_test_ctx *ctx = test->priv;
	struct p2m_tree *tree = &ctx->tree;
	unsigned long end = min(c->end, tree->max_pfn), pfn, wrong = 0;

	for (pfn = 0; pfn < tree->max_pfn; pfn++) {
		KUNIT_ASSERT_EQ(test, p2m_tree_populate(tree, pfn), 0);
		KUNIT_ASSERT_TRUE(test, p2m_tree_set(tree, pfn, pfn + 0x100000));
	}
	p2m_tree_set_identity(tree, c->start, c->end);
	for (pfn = 0; pfn < tree->max_pfn; pfn++) {
		unsigned long want = pfn >= c->start && pfn < end ?
				     P2M_IDENTITY(pfn) : pfn + 0x100000;

		wrong += p2m_tree_lookup(tree, pfn) != want;
	}
	KUNIT_EXPECT_EQ_MSG(test, wrong, 0UL, "identity [%#lx, %#lx) over MFNs",
			    c->start, c->end);
	p2m_expect_valid(test, tree);
}

/* One pfn of an identity span gets an MFN: nobody else's answer moves. */
static void p2m_test_split_identity(struct kunit *test)
{
	struct p2m_test_ctx *ctx = test->priv;
	struct p2m_tree *tree = &ctx->tree;
	unsigned long pfn = MID + LEAF + 17;

	p2m_tree_set_identity(tree, MID, 2 * MID);
	KUNIT_EXPECT_EQ(test, p2m_nodes(tree), 0UL);
	KUNIT_EXPECT_FALSE_MSG(test, p2m_tree_set(tree, pfn, 0x1234),
			       "a sentinel took an MFN");
	KUNIT_ASSERT_EQ(test, p2m_tree_populate(tree, pfn), 0);
	KUNIT_EXPECT_EQ(test, p2m_nodes(tree), 2UL);
	KUNIT_EXPECT_TRUE(test, p2m_tree_set(tree, pfn, 0x1234));
	KUNIT_EXPECT_EQ(test, p2m_tree_lookup(tree, pfn), 0x1234UL);
	KUNIT_EXPECT_EQ(test, p2m_tree_lookup(tree, pfn - 1), P2M_IDENTITY(pfn - 1));
	KUNIT_EXPECT_EQ(test, p2m_tree_lookup(tree, pfn + 1), P2M_IDENTITY(pfn + 1));
	p2m_tree_set(tree, pfn, P2M_IDENTITY(pfn));
	p2m_expect_only(test, tree, MID, 2 * MID, P2M_KIND_IDENTITY,
			P2M_KIND_MISSING);
	p2m_expect_valid(test, tree);
}

/*
 * Leaf runs answer as lookups do, over private, identity and missing leaves
 * and beyond max_pfn, whether a run starts at a leaf's start or inside it.
 */
static void p2m_test_cursor_run(struct kunit *test)
{
	struct p2m_test_ctx *ctx = test->priv;
	struct p2m_tree *tree = &ctx->tree;
	unsigned long starts[] = { 0, 1, LEAF - 1, MID + 3 };
	unsigned long pfn, i, n, k, want, got;
	struct p2m_tree_cursor cur;
	const unsigned long *e;

	p2m_tree_set_identity(tree, LEAF + 5, MID + 2 * LEAF);
	KUNIT_ASSERT_EQ(test, p2m_tree_populate(tree, 3 * LEAF), 0);
	for (pfn = 3 * LEAF; pfn < 4 * LEAF; pfn += 2)
		p2m_tree_set(tree, pfn, 0x100000 + pfn);

	for (k = 0; k < ARRAY_SIZE(starts); k++) {
		p2m_tree_cursor_init(&cur, tree);
		for (pfn = starts[k]; pfn < TREE_PFNS + LEAF; pfn += n) {
			n = p2m_tree_cursor_run(&cur, pfn, &e);
			KUNIT_ASSERT_GE(test, n, 1UL);
			KUNIT_ASSERT_EQ_MSG(test, p2m_leaf_index(pfn + n - 1),
					    P2M_LEAF_PFNS - 1,
					    "run from %#lx does not end its leaf", pfn);
			for (i = 0; i < n; i++) {
				want = p2m_tree_lookup(tree, pfn + i);
				got = e ? e[i] : P2M_IDENTITY(pfn + i);
				KUNIT_ASSERT_EQ_MSG(test, got, want,
						    "pfn %#lx (run from %#lx)",
						    pfn + i, starts[k]);
			}
		}
	}
}

/* Bad input gets an error and changes nothing. */
static void p2m_test_bad_input(struct kunit *test)
{
	struct p2m_test_ctx *ctx = test->priv;
	struct p2m_tree *tree = &ctx->tree;

	p2m_tree_set_identity(tree, 10, 3 * LEAF);
	KUNIT_EXPECT_EQ(test, p2m_tree_set_identity(tree, 9, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2m_tree_set_identity(tree, 5, 5), -EINVAL);
	KUNIT_EXPECT_EQ(test, p2m_tree_set_missing(tree, 0, TREE_PFNS + 1), -EINVAL);
	KUNIT_EXPECT_FALSE(test, p2m_tree_set(tree, TREE_PFNS, 0x10));
	KUNIT_EXPECT_FALSE(test, p2m_tree_set(tree, 11, P2M_IDENTITY(12)));
	KUNIT_EXPECT_EQ(test, p2m_tree_populate(tree, TREE_PFNS), -EINVAL);
	p2m_expect_only(test, tree, 10, 3 * LEAF, P2M_KIND_IDENTITY,
			P2M_KIND_MISSING);
	p2m_expect_valid(test, tree);
}

/*
 * Out of memory part way: the range needs four new nodes; with fewer
 * available no answer changes, and the nodes that were installed are
 * reachable (p2m_test_exit() checks nothing leaked).
 */
static void p2m_test_no_memory(struct kunit *test)
{
	struct p2m_test_ctx *ctx = test->priv;
	struct p2m_tree *tree = &ctx->tree;
	unsigned long budget;

	for (budget = 0; budget < 4; budget++) {
		p2m_tree_destroy(tree);
		KUNIT_ASSERT_EQ(test, p2m_tree_init(tree, &p2m_test_ops, &ctx->mem,
						    TREE_PFNS), 0);
		ctx->mem.fail_after = ctx->mem.allocs + budget;
		KUNIT_EXPECT_EQ_MSG(test,
				    p2m_tree_set_identity(tree, MID - 1, 2 * MID + 1),
				    -ENOMEM, "with %lu nodes to spare", budget);
		ctx->mem.fail_after = 0;
		p2m_expect_only(test, tree, 0, 0, P2M_KIND_MISSING, P2M_KIND_MISSING);
		p2m_expect_valid(test, tree);
	}
	KUNIT_EXPECT_EQ(test, p2m_tree_set_identity(tree, MID - 1, 2 * MID + 1),
			(long)(MID + 2));
	KUNIT_EXPECT_EQ(test, p2m_nodes(tree), 4UL);
}

/* Xen's flat list becomes the first leaves in place. */
static void p2m_test_adopt(struct kunit *test)
{
	struct p2m_test_ctx *ctx = test->priv;
	struct p2m_tree *tree = &ctx->tree;
	unsigned long nr = MID + 3 * LEAF + 9, pfn, wrong = 0;
	unsigned long *list;

	list = (unsigned long *)__get_free_pages(GFP_KERNEL,
				get_order((nr + LEAF) * sizeof(long)));
	KUNIT_ASSERT_NOT_NULL(test, list);
	for (pfn = 0; pfn < nr; pfn++)
		list[pfn] = 0x80000 + pfn;
	KUNIT_ASSERT_EQ(test, p2m_tree_adopt(tree, list, nr), 0);
	KUNIT_EXPECT_PTR_EQ(test, p2m_tree_leaf(tree, LEAF), list + LEAF);
	for (pfn = 0; pfn < nr; pfn++)
		wrong += p2m_tree_lookup(tree, pfn) != 0x80000 + pfn;
	KUNIT_EXPECT_EQ(test, wrong, 0UL);
	KUNIT_EXPECT_EQ(test, p2m_tree_lookup(tree, nr), P2M_ENTRY_INVALID);
	KUNIT_EXPECT_TRUE(test, p2m_tree_set(tree, 5, 0x42));
	KUNIT_EXPECT_EQ(test, list[5], 0x42UL);
	p2m_expect_valid(test, tree);

	KUNIT_EXPECT_EQ(test, p2m_tree_copy_adopted(tree), 0);
	memset(list, 0, nr * sizeof(long));
	KUNIT_EXPECT_EQ(test, p2m_tree_lookup(tree, 5), 0x42UL);
	KUNIT_EXPECT_EQ(test, p2m_tree_lookup(tree, nr - 1), 0x80000 + nr - 1);
	p2m_expect_valid(test, tree);
	free_pages((unsigned long)list, get_order((nr + LEAF) * sizeof(long)));
}

/*
 * Identity marked in pieces of LEAF - 3 pfns, as setup.c marks holes,
 * leaves every leaf private; p2m_tree_fold() then shares the sentinels
 * with no answer changed: mid 1 wholly, mid 0's leaves but its first.
 */
static void p2m_test_fold(struct kunit *test)
{
	struct p2m_test_ctx *ctx = test->priv;
	struct p2m_tree *tree = &ctx->tree;
	struct p2m_tree_stats st;
	unsigned long pfn, end, folded, adopted;

	for (pfn = LEAF; pfn < 2 * MID; pfn += LEAF - 3) {
		end = min(pfn + LEAF - 3, 2 * MID);
		KUNIT_ASSERT_EQ(test, p2m_tree_set_identity(tree, pfn, end),
				(long)(end - pfn));
	}
	p2m_tree_get_stats(tree, &st);
	KUNIT_EXPECT_EQ_MSG(test, st.foldable_leaves, 2 * P2M_TREE_ENTRIES - 1,
			    "%lu leaves, %lu foldable", st.leaves, st.foldable_leaves);
	KUNIT_EXPECT_EQ(test, st.foldable_mids, 1UL);

	folded = p2m_tree_fold(tree, &adopted);
	KUNIT_EXPECT_EQ(test, folded, st.foldable_leaves + st.foldable_mids);
	KUNIT_EXPECT_EQ(test, adopted, 0UL);
	p2m_expect_only(test, tree, LEAF, 2 * MID, P2M_KIND_IDENTITY,
			P2M_KIND_MISSING);
	p2m_expect_valid(test, tree);
	KUNIT_EXPECT_EQ_MSG(test, atomic_long_read(&tree->nr_leaves), 0L,
			    "leaves left after the fold");
	KUNIT_EXPECT_EQ_MSG(test, atomic_long_read(&tree->nr_mids), 1L,
			    "mid 0 holds a missing leaf and identity ones");
	KUNIT_EXPECT_PTR_EQ(test, tree->top[1], tree->identity_mid);
	KUNIT_EXPECT_EQ(test, p2m_tree_fold(tree, NULL), 0UL);
}

/* The dump prints the runs lookups see, then statistics. */
static void p2m_test_dump(struct kunit *test)
{
	struct p2m_test_ctx *ctx = test->priv;
	struct p2m_tree *tree = &ctx->tree;
	struct seq_file m = { .size = PAGE_SIZE };
	char want[96];

	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	p2m_tree_set_identity(tree, LEAF / 2, MID + LEAF);
	p2m_tree_populate(tree, MID + LEAF + 4);
	p2m_tree_set(tree, MID + LEAF + 4, 0x77);
	p2m_tree_dump(tree, &m);

	snprintf(want, sizeof(want),
		 " [0x0->0x%lx] missing\n [0x%lx->0x%lx] identity\n [0x%lx->0x%lx] missing\n [0x%lx->0x%lx] pfn\n",
		 LEAF / 2, LEAF / 2, MID + LEAF, MID + LEAF, MID + LEAF + 4,
		 MID + LEAF + 4, MID + LEAF + 5);
	KUNIT_EXPECT_EQ_MSG(test, strncmp(m.buf, want, strlen(want)), 0,
			    "dump starts:\n%.200s", m.buf);
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, "stats:\n"));
}

static struct kunit_case p2m_tree_cases[] = {
	KUNIT_CASE_PARAM(p2m_test_identity_range, p2m_range_gen_params),
	KUNIT_CASE_PARAM(p2m_test_identity_over_populated, p2m_range_gen_params),
	KUNIT_CASE(p2m_test_split_identity),
	KUNIT_CASE(p2m_test_cursor_run),
	KUNIT_CASE(p2m_test_bad_input),
	KUNIT_CASE(p2m_test_no_memory),
	KUNIT_CASE(p2m_test_adopt),
	KUNIT_CASE(p2m_test_fold),
	KUNIT_CASE(p2m_test_dump),
	{}
};

static struct kunit_suite p2m_tree_suite = {
	.name = "xen_p2m_tree",
	.init = p2m_test_init,
	.exit = p2m_test_exit,
	.test_cases = p2m_tree_cases,
};

kunit_test_suite(p2m_tree_suite);

MODULE_DESCRIPTION("KUnit tests for the Xen P2M tree");
MODULE_LICENSE("GPL");
