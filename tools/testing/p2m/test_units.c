// SPDX-License-Identifier: GPL-2.0
/*
 * Table-driven unit tests of the P2M tree.  Every test builds a fresh tree
 * and a flat-array model, applies operations to both and compares every
 * pfn plus the tree's invariants.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define LEAF	P2M_LEAF_PFNS
#define MID	P2M_MID_PFNS

/* A tree of four mids, and the pfns one past its end. */
#define SMALL_MAX	(4 * MID)

static unsigned long nodes(const struct p2m_tree *tree)
{
	return atomic_long_read(&tree->nr_mids) + atomic_long_read(&tree->nr_leaves);
}

static void test_empty(void)
{
	struct harness_mem mem;
	struct p2m_tree tree;
	struct p2m_tree_stats st;
	struct model m;

	CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX - 1), "init");
	CHECK(tree.max_pfn == SMALL_MAX, "max_pfn %#lx rounds up to a mid", tree.max_pfn);
	model_init(&m, tree.max_pfn);
	CHECK(!compare_all(&tree, &m), "empty tree reads missing, identity above");
	p2m_tree_get_stats(&tree, &st);
	CHECK(st.top_to_missing == 4 && st.mids == 0 && st.leaves == 0,
	      "stats %lu %lu %lu", st.top_to_missing, st.mids, st.leaves);
	CHECK(st.pfns[P2M_KIND_MISSING] == SMALL_MAX, "missing %lu",
	      st.pfns[P2M_KIND_MISSING]);
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	model_free(&m);
}

/*
 * Ranges whose edges sit on and around every level boundary.  For each:
 * identity over a missing tree, then missing over an identity tree, then
 * identity over a tree with every leaf populated.
 */
static const struct {
	unsigned long s, e;
} edge_ranges[] = {
	{ 0, 1 }, { 0, LEAF }, { 1, LEAF - 1 }, { LEAF - 1, LEAF + 1 },
	{ LEAF, 2 * LEAF }, { 0, MID }, { 1, MID }, { 0, MID - 1 },
	{ MID - 1, MID + 1 }, { MID - LEAF, MID + LEAF }, { MID, 2 * MID },
	{ MID + 1, 3 * MID - 1 }, { LEAF + 1, 3 * MID + LEAF - 1 },
	{ 0, SMALL_MAX }, { SMALL_MAX - 1, SMALL_MAX },
	{ 2 * MID - 1, SMALL_MAX }, { 3, SMALL_MAX + 5 * MID },
	{ MID + 3, ~0UL },
};

static void fill_edge_case(unsigned long s, unsigned long e,
			   enum p2m_kind base, enum p2m_kind kind, bool populated)
{
	unsigned long before, pfn, expect = e < SMALL_MAX ? e - s :
					    (s < SMALL_MAX ? SMALL_MAX - s : 0);
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;
	long ret;

	CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX), "init");
	model_init(&m, tree.max_pfn);
	if (base == P2M_KIND_IDENTITY) {
		CHECK(p2m_tree_set_identity(&tree, 0, SMALL_MAX) == SMALL_MAX, "base");
		model_fill(&m, 0, SMALL_MAX, P2M_KIND_IDENTITY);
	}
	if (populated) {
		for (pfn = 0; pfn < SMALL_MAX; pfn++) {
			CHECK(!p2m_tree_populate(&tree, pfn), "populate");
			CHECK(p2m_tree_set(&tree, pfn, 0x1000 + pfn), "set");
			m.v[pfn] = 0x1000 + pfn;
		}
	}
	before = nodes(&tree);
	if (kind == P2M_KIND_IDENTITY)
		ret = p2m_tree_set_identity(&tree, s, e);
	else
		ret = p2m_tree_set_missing(&tree, s, e < SMALL_MAX ? e : SMALL_MAX);
	if (kind == P2M_KIND_MISSING && e > SMALL_MAX)
		expect = SMALL_MAX - s;
	CHECK(ret == (long)expect, "[%#lx, %#lx) %s: returned %ld, want %lu", s, e,
	      p2m_kind_names[kind], ret, expect);
	model_fill(&m, s, e, kind);
	CHECK(!compare_all(&tree, &m), "[%#lx, %#lx) %s over %s%s", s, e,
	      p2m_kind_names[kind], p2m_kind_names[base],
	      populated ? " (populated)" : "");
	CHECK(nodes(&tree) <= before + 4, "[%#lx, %#lx): %lu new nodes", s, e,
	      nodes(&tree) - before);
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	model_free(&m);
}

static void test_edges(void)
{
	unsigned long i;

	for (i = 0; i < sizeof(edge_ranges) / sizeof(edge_ranges[0]); i++) {
		unsigned long s = edge_ranges[i].s, e = edge_ranges[i].e;

		fill_edge_case(s, e, P2M_KIND_MISSING, P2M_KIND_IDENTITY, false);
		fill_edge_case(s, e, P2M_KIND_IDENTITY, P2M_KIND_MISSING, false);
		fill_edge_case(s, e, P2M_KIND_MISSING, P2M_KIND_IDENTITY, true);
		fill_edge_case(s, e, P2M_KIND_IDENTITY, P2M_KIND_MISSING, true);
	}
}

/* A whole aligned mid of identity costs no node: one top pointer flips. */
static void test_identity_mid_is_free(void)
{
	struct harness_mem mem;
	struct p2m_tree tree;
	struct p2m_tree_stats st;

	CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX), "init");
	CHECK(p2m_tree_set_identity(&tree, MID, 3 * MID) == 2 * MID, "set");
	p2m_tree_get_stats(&tree, &st);
	CHECK(nodes(&tree) == 0, "%lu nodes", nodes(&tree));
	CHECK(st.top_to_identity == 2 && st.pfns[P2M_KIND_IDENTITY] == 2 * MID,
	      "top->identity %lu, identity pfns %lu", st.top_to_identity,
	      st.pfns[P2M_KIND_IDENTITY]);
	CHECK(mem.allocs == 5, "only the 4 sentinels and the top: %lu", mem.allocs);
	harness_tree_destroy(&tree, &mem);
}

/* Giving one pfn of an identity span an MFN leaves the others' answers. */
static void test_split_sentinel(void)
{
	static const unsigned long splits[] = { MID, MID + 1, 2 * MID - 1,
						MID + LEAF, MID + LEAF - 1 };
	unsigned long i;

	for (i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		struct harness_mem mem;
		struct p2m_tree tree;
		struct model m;

		CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX), "init");
		model_init(&m, tree.max_pfn);
		p2m_tree_set_identity(&tree, MID, 2 * MID);
		model_fill(&m, MID, 2 * MID, P2M_KIND_IDENTITY);
		CHECK(!p2m_tree_set(&tree, splits[i], 0x42),
		      "a sentinel cannot take an MFN without populate");
		CHECK(p2m_tree_set(&tree, splits[i], P2M_IDENTITY(splits[i])),
		      "but already reads identity");
		CHECK(!p2m_tree_populate(&tree, splits[i]), "populate");
		CHECK(p2m_tree_set(&tree, splits[i], 0x42), "set");
		m.v[splits[i]] = 0x42;
		CHECK(!compare_all(&tree, &m), "split at %#lx", splits[i]);
		CHECK(nodes(&tree) == 2, "one mid and one leaf: %lu", nodes(&tree));
		CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
		model_free(&m);
	}
}

/* Bad input: a warning, an error, and no change. */
static void test_bad_input(void)
{
	unsigned long warnings = p2m_harness_warnings;
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;

	p2m_harness_quiet = 1;
	CHECK(harness_tree_init(&tree, &mem, 0) == -EINVAL, "max_pfn 0");
	CHECK(harness_tree_init(&tree, &mem, P2M_TREE_MAX_PFN + 1) == -EINVAL,
	      "max_pfn too large");
	CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX), "init");
	model_init(&m, tree.max_pfn);
	p2m_tree_set_identity(&tree, 5, 3 * LEAF);
	model_fill(&m, 5, 3 * LEAF, P2M_KIND_IDENTITY);

	CHECK(p2m_tree_set_identity(&tree, 10, 4) == -EINVAL, "reversed");
	CHECK(p2m_tree_set_identity(&tree, 7, 7) == -EINVAL, "empty");
	CHECK(p2m_tree_set_missing(&tree, 9, 2) == -EINVAL, "reversed missing");
	CHECK(p2m_tree_set_missing(&tree, 0, SMALL_MAX + 1) == -EINVAL,
	      "missing beyond the tree");
	CHECK(!p2m_tree_set(&tree, SMALL_MAX, 0x10), "set beyond the tree");
	CHECK(!p2m_tree_set(&tree, SMALL_MAX, P2M_ENTRY_INVALID),
	      "missing beyond the tree");
	CHECK(p2m_tree_set(&tree, SMALL_MAX + 3, P2M_IDENTITY(SMALL_MAX + 3)),
	      "identity beyond the tree is already true");
	CHECK(!p2m_tree_set(&tree, 6, P2M_IDENTITY(7)), "identity of another pfn");
	CHECK(p2m_tree_populate(&tree, SMALL_MAX) == -EINVAL, "populate beyond");
	CHECK(p2m_tree_set_identity(&tree, SMALL_MAX + 1, ~0UL) == 0,
	      "identity wholly beyond the tree changes nothing");
	CHECK(p2m_harness_warnings - warnings == 10, "%lu warnings",
	      p2m_harness_warnings - warnings);
	CHECK(!compare_all(&tree, &m), "tree unchanged by bad input");
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	model_free(&m);
	p2m_harness_quiet = 0;
}

/*
 * A mover that gives each leaf "another mapping" of it: a copy made on
 * the first ask and the same one on every later ask (the glue's movers
 * only translate addresses).  It fails for the leaf asked for as the
 * mover_fail_at'th distinct one.  A copy the tree takes is the tree's to
 * free; the test frees the others.
 */
#define MOVER_MAX	1024
static unsigned long *mover_list;
static unsigned long *mover_copy[MOVER_MAX];
static unsigned long mover_made, mover_fail_at, mover_fail_again_at;

static void mover_init(unsigned long *list, unsigned long fail_at)
{
	mover_list = list;
	memset(mover_copy, 0, sizeof(mover_copy));
	mover_made = 0;
	mover_fail_at = fail_at;
	mover_fail_again_at = 0;
}

static unsigned long *move_leaf(struct p2m_tree *tree, unsigned long *leaf)
{
	struct harness_mem *mem = tree->priv;
	unsigned long i = (leaf - mover_list) / LEAF;

	if (i >= MOVER_MAX)
		return NULL;
	/* A mover breaking its contract: another answer on the second ask. */
	if (mover_copy[i] && i + 1 == mover_fail_again_at)
		return NULL;
	if (!mover_copy[i]) {
		if (++mover_made == mover_fail_at)
			return NULL;
		mover_copy[i] = aligned_alloc(P2M_TREE_NODE_SIZE, P2M_TREE_NODE_SIZE);
		memcpy(mover_copy[i], leaf, P2M_TREE_NODE_SIZE);
		mem->allocs++;
	}
	return mover_copy[i];
}

/* Free the mover's copies of leaves @first on, which no tree holds. */
static void mover_free_copies(unsigned long first, struct harness_mem *mem)
{
	unsigned long i;

	for (i = first; i < MOVER_MAX; i++) {
		if (mover_copy[i]) {
			free(mover_copy[i]);
			mem->frees++;
		}
	}
}

/* The take tests' list: this many pfns, in a buffer of TAKE_WORDS. */
#define TAKE_PFNS	(MID + 2 * LEAF + 3)
#define TAKE_WORDS	(2 * MID)
#define TAKE_LEAVES	((TAKE_PFNS + LEAF - 1) / LEAF)

/* A tree with a list of TAKE_PFNS adopted, and the model agreeing. */
static unsigned long *adopted_tree(struct p2m_tree *tree,
				   struct harness_mem *mem, struct model *m)
{
	unsigned long *list = aligned_alloc(P2M_TREE_NODE_SIZE,
					    TAKE_WORDS * sizeof(long));
	unsigned long pfn;

	CHECK(!harness_tree_init(tree, mem, SMALL_MAX), "init");
	model_init(m, tree->max_pfn);
	for (pfn = 0; pfn < TAKE_PFNS; pfn++)
		m->v[pfn] = list[pfn] = 0x1000000 + pfn;
	CHECK(!p2m_tree_adopt(tree, list, TAKE_PFNS), "adopt");
	return list;
}

/* Adopted leaves re-pointed one by one become the tree's own. */
static void test_take_adopted(void)
{
	struct harness_mem mem;
	struct p2m_tree tree;
	struct p2m_tree_stats st;
	struct model m;
	unsigned long *list = adopted_tree(&tree, &mem, &m);

	mover_init(list, 0);
	CHECK(!p2m_tree_take_adopted(&tree, move_leaf), "take");
	memset(list, 0x5a, TAKE_WORDS * sizeof(long));
	CHECK(!compare_all(&tree, &m), "answers after the move");
	p2m_tree_get_stats(&tree, &st);
	CHECK(st.adopted_leaves == 0 && st.leaves == TAKE_LEAVES,
	      "adopted %lu, own %lu", st.adopted_leaves, st.leaves);
	/* Now ordinary leaves: identity over one retires it. */
	CHECK(p2m_tree_set_identity(&tree, LEAF, 2 * LEAF) == LEAF, "identity");
	model_fill(&m, LEAF, 2 * LEAF, P2M_KIND_IDENTITY);
	CHECK(!compare_all(&tree, &m), "answers after identity");
	CHECK(mem.retired == 1, "the moved leaf was retired: %lu", mem.retired);
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	free(list);
	model_free(&m);
}

/*
 * A mover failing part-way changes nothing: the glue then copies the
 * leaves and frees the list, whose memory the moved addresses were
 * another mapping of.  No leaf may still point there.
 */
static void test_take_adopted_fails(void)
{
	unsigned long leaves = TAKE_LEAVES, fail_at, i, c;
	/* The first leaf, the second, one inside, the last two. */
	const unsigned long cases[] = { 1, 2, leaves / 2, leaves - 1, leaves };
	struct p2m_tree_stats st;
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned long *list = adopted_tree(&tree, &mem, &m);

		fail_at = cases[c];
		mover_init(list, fail_at);
		CHECK(p2m_tree_take_adopted(&tree, move_leaf) == -ENOMEM,
		      "mover failing on leaf %lu of %lu", fail_at, leaves);
		p2m_tree_get_stats(&tree, &st);
		CHECK(st.adopted_leaves == leaves && st.leaves == 0,
		      "failing on leaf %lu: %lu adopted, %lu moved: not all or nothing",
		      fail_at, st.adopted_leaves, st.leaves);

		/* The glue's fallback: copy, then the list's memory goes. */
		CHECK(!p2m_tree_copy_adopted(&tree), "copy");
		memset(list, 0x5a, TAKE_WORDS * sizeof(long));
		for (i = 0; i < MOVER_MAX; i++)
			if (mover_copy[i])
				memset(mover_copy[i], 0x5a, P2M_TREE_NODE_SIZE);
		CHECK(!compare_all(&tree, &m),
		      "failing on leaf %lu: answers read freed memory", fail_at);

		/* Copies the tree did not take are ours (none, if it took none). */
		if (!st.leaves)
			mover_free_copies(0, &mem);
		CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
		free(list);
		model_free(&m);
	}
}

/*
 * p2m_tree_next_range() over a tree of every shape: each run reads as one
 * kind in the model, and the pfn after it (below the limit) as another.
 */
static void test_next_range(void)
{
	unsigned long pfn, end, p, runs = 0, starts[] = { 0, 1, LEAF - 1, MID + 3 };
	struct harness_mem mem;
	struct p2m_tree tree;
	enum p2m_kind kind;
	struct model m;
	unsigned int s;

	CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX), "init");
	model_init(&m, tree.max_pfn);
	/* Private leaves with runs of each kind, and sentinel spans between. */
	CHECK(p2m_tree_set_identity(&tree, LEAF + 5, 3 * LEAF) > 0, "identity");
	model_fill(&m, LEAF + 5, 3 * LEAF, P2M_KIND_IDENTITY);
	CHECK(p2m_tree_set_identity(&tree, 2 * MID, 3 * MID + 7) > 0, "identity");
	model_fill(&m, 2 * MID, 3 * MID + 7, P2M_KIND_IDENTITY);
	for (pfn = 0; pfn < SMALL_MAX; pfn += 1 + pfn % 7) {
		if (pfn % 3 || (pfn >= 4 * LEAF && pfn < MID))
			continue;
		CHECK(!p2m_tree_populate(&tree, pfn), "populate");
		CHECK(p2m_tree_set(&tree, pfn, 0x4000 + pfn), "set");
		m.v[pfn] = 0x4000 + pfn;
	}
	for (s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		for (pfn = starts[s]; pfn < SMALL_MAX; pfn = end, runs++) {
			end = p2m_tree_next_range(&tree, pfn, SMALL_MAX, &kind);
			CHECK(end > pfn, "empty run at %#lx", pfn);
			if (end <= pfn)
				break;
			for (p = pfn; p < end; p++)
				if (p2m_entry_kind(p, model_get(&m, p)) != kind)
					break;
			CHECK(p == end, "run [%#lx, %#lx) of %s: pfn %#lx is %s",
			      pfn, end, p2m_kind_names[kind], p,
			      p2m_kind_names[p2m_entry_kind(p, model_get(&m, p))]);
			CHECK(end == SMALL_MAX || p2m_entry_kind(end, model_get(&m, end)) != kind,
			      "run [%#lx, %#lx) of %s stops short", pfn, end,
			      p2m_kind_names[kind]);
		}
	}
	CHECK(runs > 8, "only %lu runs", runs);
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	model_free(&m);
}

/*
 * A mover that answers the first ask and fails the second breaks the
 * contract: the take warns and says -EIO; what moved still reads right,
 * and the glue's fallback (copy the rest, keep the list) answers right.
 */
static void test_take_adopted_breaks(void)
{
	unsigned long leaves = TAKE_LEAVES, warnings;
	struct p2m_tree_stats st;
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;
	unsigned long *list = adopted_tree(&tree, &mem, &m);

	mover_init(list, 0);
	mover_fail_again_at = leaves / 2 + 1;
	warnings = p2m_harness_warnings;
	p2m_harness_quiet = 1;
	CHECK(p2m_tree_take_adopted(&tree, move_leaf) == -EIO, "broken mover");
	p2m_harness_quiet = 0;
	CHECK(p2m_harness_warnings == warnings + 1, "warned %lu times",
	      p2m_harness_warnings - warnings);
	p2m_tree_get_stats(&tree, &st);
	CHECK(st.leaves == leaves / 2 && st.adopted_leaves == leaves - leaves / 2,
	      "%lu moved, %lu adopted", st.leaves, st.adopted_leaves);
	CHECK(!compare_all(&tree, &m), "answers after a broken take");
	CHECK(!p2m_tree_copy_adopted(&tree), "copy the rest");
	CHECK(!compare_all(&tree, &m), "answers after the copy");
	/* The copies the tree did not take are the test's. */
	mover_free_copies(leaves / 2, &mem);
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	free(list);
	model_free(&m);
}

/*
 * How many WINDOW-aligned spans of the model do not read as identity or
 * as missing throughout: the leaves (LEAF) or mids (MID) a tree needs
 * that shares its sentinels wherever it can.
 */
static unsigned long model_nodes_needed(const struct model *m,
					unsigned long window)
{
	unsigned long w, pfn, needed = 0;

	for (w = 0; w < m->max_pfn; w += window) {
		enum p2m_kind first = p2m_entry_kind(w, model_get(m, w)), kind;

		for (pfn = w; pfn < w + window; pfn++) {
			kind = p2m_entry_kind(pfn, model_get(m, pfn));
			if (kind != first || kind == P2M_KIND_PFN ||
			    kind == P2M_KIND_ABNORMAL)
				break;
		}
		needed += pfn < w + window;
	}
	return needed;
}

/*
 * [s, e) made @kind in pieces of LEAF - 3 pfns, so that no piece covers a
 * leaf: setup.c marks holes in pieces of at most 509 pfns.
 */
static void fill_in_pieces(struct p2m_tree *tree, struct model *m,
			   unsigned long s, unsigned long e, enum p2m_kind kind)
{
	unsigned long pfn, next;
	long ret;

	for (pfn = s; pfn < e; pfn = next) {
		next = pfn + LEAF - 3 < e ? pfn + LEAF - 3 : e;
		ret = kind == P2M_KIND_IDENTITY ?
		      p2m_tree_set_identity(tree, pfn, next) :
		      p2m_tree_set_missing(tree, pfn, next);
		CHECK(ret == (long)(next - pfn), "[%#lx, %#lx): %ld", pfn, next, ret);
	}
	model_fill(m, s, e, kind);
}

/*
 * Nodes that range calls covered only between them read as one sentinel
 * until p2m_tree_fold() lets them go: then the tree holds the nodes its
 * answers need and no more, adopted leaves included, with every answer
 * unchanged and the tree still writable where it folded.
 */
static void test_fold(void)
{
	unsigned long folded, adopted, need_leaves, need_mids, pfn = 2 * MID + LEAF + 9;
	struct p2m_tree_stats st;
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;
	unsigned long *list = adopted_tree(&tree, &mem, &m);

	/* Adopted leaf 2 wholly identity, leaf 1 in part. */
	fill_in_pieces(&tree, &m, LEAF + 5, 3 * LEAF, P2M_KIND_IDENTITY);
	/* Adopted leaves 3 and 4 identity but for their last or first pfn. */
	fill_in_pieces(&tree, &m, 3 * LEAF, 4 * LEAF - 1, P2M_KIND_IDENTITY);
	fill_in_pieces(&tree, &m, 4 * LEAF + 1, 5 * LEAF, P2M_KIND_IDENTITY);
	/* Mid 1, adopted leaves, own edge leaves and sentinels, all identity. */
	fill_in_pieces(&tree, &m, MID, 2 * MID, P2M_KIND_IDENTITY);
	/* An own leaf and mid that read missing again after one set. */
	CHECK(!p2m_tree_populate(&tree, pfn), "populate");
	CHECK(p2m_tree_set(&tree, pfn, 0x77), "set");
	CHECK(p2m_tree_set(&tree, pfn, P2M_ENTRY_INVALID), "set missing again");
	/* Missing over missing in pieces, across a populated leaf's edge. */
	fill_in_pieces(&tree, &m, 3 * MID - 2 * LEAF + 1, 3 * MID + 3, P2M_KIND_MISSING);
	CHECK(!compare_all(&tree, &m), "answers before the fold");

	need_leaves = model_nodes_needed(&m, LEAF);
	need_mids = model_nodes_needed(&m, MID);
	p2m_tree_get_stats(&tree, &st);
	CHECK(st.leaves + st.adopted_leaves - st.foldable_leaves == need_leaves,
	      "before: %lu + %lu leaves, %lu foldable, %lu needed", st.leaves,
	      st.adopted_leaves, st.foldable_leaves, need_leaves);
	CHECK(st.mids - st.foldable_mids == need_mids,
	      "before: %lu mids, %lu foldable, %lu needed", st.mids,
	      st.foldable_mids, need_mids);
	CHECK(st.foldable_leaves >= 3 && st.foldable_mids == 2,
	      "the cases above leave %lu leaves, %lu mids foldable",
	      st.foldable_leaves, st.foldable_mids);

	folded = p2m_tree_fold(&tree, &adopted);
	CHECK(folded == st.foldable_leaves + st.foldable_mids,
	      "folded %lu, stats said %lu + %lu", folded, st.foldable_leaves,
	      st.foldable_mids);
	CHECK(adopted >= 1 && adopted < st.foldable_leaves,
	      "%lu adopted leaves folded of %lu", adopted, st.foldable_leaves);
	CHECK(!compare_all(&tree, &m), "answers after the fold");
	p2m_tree_get_stats(&tree, &st);
	CHECK(st.leaves + st.adopted_leaves == need_leaves && st.mids == need_mids,
	      "after: %lu + %lu leaves, %lu mids; %lu and %lu needed", st.leaves,
	      st.adopted_leaves, st.mids, need_leaves, need_mids);
	CHECK(!st.foldable_leaves && !st.foldable_mids, "still foldable: %lu, %lu",
	      st.foldable_leaves, st.foldable_mids);
	CHECK(p2m_tree_fold(&tree, NULL) == 0, "a second fold finds nothing");

	/* As at boot: the adopted leaves left are copied, the list freed. */
	CHECK(!p2m_tree_copy_adopted(&tree), "copy after the fold");
	memset(list, 0x5a, TAKE_WORDS * sizeof(long));
	CHECK(!compare_all(&tree, &m), "answers once the list is gone");
	p2m_tree_get_stats(&tree, &st);
	CHECK(!st.adopted_leaves && st.leaves == need_leaves,
	      "after the copy: %lu adopted, %lu own leaves, %lu needed",
	      st.adopted_leaves, st.leaves, need_leaves);

	/* Folded spans take writes again, through a leaf of their own. */
	CHECK(!p2m_tree_populate(&tree, 2 * LEAF + 1), "populate folded leaf");
	CHECK(p2m_tree_set(&tree, 2 * LEAF + 1, 0x99), "set in folded leaf");
	m.v[2 * LEAF + 1] = 0x99;
	CHECK(!p2m_tree_populate(&tree, MID + 7), "populate folded mid");
	CHECK(p2m_tree_set(&tree, MID + 7, 0x98), "set in folded mid");
	m.v[MID + 7] = 0x98;
	CHECK(!compare_all(&tree, &m), "answers after writes into folded spans");
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	free(list);
	model_free(&m);
}

/* Xen's flat list becomes the first leaves, without a copy. */
static void test_adopt(void)
{
	unsigned long nr = 2 * MID + 3 * LEAF + 7, pfn, words = 3 * MID;
	unsigned long *list = aligned_alloc(P2M_TREE_NODE_SIZE, words * sizeof(long));
	struct harness_mem mem;
	struct p2m_tree tree;
	struct p2m_tree_stats st;
	struct model m;

	CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX), "init");
	model_init(&m, tree.max_pfn);
	for (pfn = 0; pfn < nr; pfn++)
		m.v[pfn] = list[pfn] = 0x10000000 - pfn;
	CHECK(!p2m_tree_adopt(&tree, list, nr), "adopt");
	CHECK(p2m_tree_leaf(&tree, LEAF) == list + LEAF, "leaf is a slice of the list");
	CHECK(!compare_all(&tree, &m), "adopted answers");
	p2m_tree_get_stats(&tree, &st);
	CHECK(st.adopted_leaves == (nr + LEAF - 1) / LEAF && st.leaves == 0,
	      "adopted %lu, own %lu", st.adopted_leaves, st.leaves);

	/* Writes go to the list itself. */
	CHECK(p2m_tree_set(&tree, 3, 0x1234) && list[3] == 0x1234, "write-through");
	m.v[3] = 0x1234;
	/* Identity over part of it, as dom0 does for RAM in holes. */
	CHECK(p2m_tree_set_identity(&tree, MID - 2, 2 * MID + 1) == MID + 3, "identity");
	model_fill(&m, MID - 2, 2 * MID + 1, P2M_KIND_IDENTITY);
	CHECK(!compare_all(&tree, &m), "identity over adopted leaves");

	CHECK(!p2m_tree_copy_adopted(&tree), "copy");
	memset(list, 0x5a, words * sizeof(long));
	CHECK(!compare_all(&tree, &m), "after copy");
	CHECK(p2m_tree_adopt(&tree, list, nr) == -EBUSY, "leaves in use");
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	free(list);
	model_free(&m);
}

static void test_cursor(void)
{
	struct harness_mem mem;
	struct p2m_tree tree;
	struct p2m_tree_cursor cur;
	unsigned long pfn;

	CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX), "init");
	p2m_tree_set_identity(&tree, LEAF + 3, 2 * MID + 5);
	for (pfn = 0; pfn < MID; pfn += 3) {
		p2m_tree_populate(&tree, pfn);
		p2m_tree_set(&tree, pfn, pfn * 7);
	}
	p2m_tree_cursor_init(&cur, &tree);
	for (pfn = 0; pfn < SMALL_MAX + MID; pfn++)
		if (p2m_tree_cursor_lookup(&cur, pfn) != p2m_tree_lookup(&tree, pfn))
			break;
	CHECK(pfn == SMALL_MAX + MID, "cursor differs at %#lx", pfn);
	for (pfn = SMALL_MAX + MID; pfn-- > 0;)
		if (p2m_tree_cursor_lookup(&cur, pfn) != p2m_tree_lookup(&tree, pfn))
			break;
	CHECK(pfn == ~0UL, "backwards cursor differs at %#lx", pfn);
	harness_tree_destroy(&tree, &mem);
}

/* run_differs: first pfn in [start, end) whose run entry is not lookup's. */
static unsigned long run_differs(struct p2m_tree *tree, unsigned long start,
				 unsigned long end, unsigned long *runs)
{
	struct p2m_tree_cursor cur;
	unsigned long pfn = start, i, n, want;
	const unsigned long *e;

	p2m_tree_cursor_init(&cur, tree);
	*runs = 0;
	while (pfn < end) {
		n = p2m_tree_cursor_run(&cur, pfn, &e);
		(*runs)++;
		if (n == 0 || n > P2M_LEAF_PFNS ||
		    p2m_leaf_index(pfn + n - 1) != P2M_LEAF_PFNS - 1)
			return pfn;	/* a run ends at its leaf's end */
		for (i = 0; i < n && pfn + i < end; i++) {
			want = p2m_tree_lookup(tree, pfn + i);
			if ((e ? e[i] : P2M_IDENTITY(pfn + i)) != want)
				return pfn + i;
		}
		pfn += n;
	}
	return end;
}

static void test_cursor_run(void)
{
	struct harness_mem mem;
	struct p2m_tree tree;
	unsigned long pfn, runs;

	CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX), "init");
	p2m_tree_set_identity(&tree, LEAF + 3, 2 * MID + 5);
	for (pfn = 0; pfn < MID; pfn += 3) {
		p2m_tree_populate(&tree, pfn);
		p2m_tree_set(&tree, pfn, pfn * 7);
	}
	/* Whole leaves of every kind: private, identity, missing, beyond. */
	pfn = run_differs(&tree, 0, SMALL_MAX + MID, &runs);
	CHECK(pfn == SMALL_MAX + MID, "run differs from lookup at %#lx", pfn);
	CHECK(runs == (SMALL_MAX + MID) / LEAF, "%lu runs for %lu leaves", runs,
	      (SMALL_MAX + MID) / LEAF);
	/* Starting inside a leaf, and inside the identity span's edges. */
	pfn = run_differs(&tree, LEAF + 1, 3 * MID, &runs);
	CHECK(pfn == 3 * MID, "run from mid-leaf differs at %#lx", pfn);
	pfn = run_differs(&tree, 2 * MID + 4, 2 * MID + LEAF, &runs);
	CHECK(pfn == 2 * MID + LEAF, "run at the identity edge differs at %#lx", pfn);
	/* A value set after the cursor cached the leaf shows through the run. */
	p2m_tree_set(&tree, 6, 0x1234);
	pfn = run_differs(&tree, 0, LEAF, &runs);
	CHECK(pfn == LEAF, "run misses an update at %#lx", pfn);
	harness_tree_destroy(&tree, &mem);
}

/* The dump prints the runs a lookup sees; recompute them from the model. */
static void test_dump(void)
{
	struct seq_file sf = { 0 };
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;
	char want[256], *line;
	unsigned long pfn, start = 0;

	CHECK(!harness_tree_init(&tree, &mem, SMALL_MAX), "init");
	model_init(&m, tree.max_pfn);
	p2m_tree_set_identity(&tree, LEAF / 2, MID + LEAF);
	model_fill(&m, LEAF / 2, MID + LEAF, P2M_KIND_IDENTITY);
	for (pfn = MID + 2; pfn < MID + 9; pfn++) {
		p2m_tree_populate(&tree, pfn);
		p2m_tree_set(&tree, pfn, 0x99 + pfn);
		m.v[pfn] = 0x99 + pfn;
	}
	p2m_tree_dump(&tree, &sf);
	line = sf.buf;
	for (pfn = 1; pfn <= m.max_pfn; pfn++) {
		if (pfn < m.max_pfn &&
		    p2m_entry_kind(pfn, m.v[pfn]) == p2m_entry_kind(start, m.v[start]))
			continue;
		snprintf(want, sizeof(want), " [0x%lx->0x%lx] %s\n", start, pfn,
			 p2m_kind_names[p2m_entry_kind(start, m.v[start])]);
		CHECK(!strncmp(line, want, strlen(want)), "want %s got %.60s", want, line);
		line = strchr(line, '\n') + 1;
		start = pfn;
	}
	CHECK(!strncmp(line, "stats:\n", 7), "stats block follows: %.40s", line);
	CHECK(strstr(line, "pfns: identity"), "pfn counts printed");
	free(sf.buf);
	harness_tree_destroy(&tree, &mem);
	model_free(&m);
}

/*
 * The worked example of the seed thread (Linux commit "xen/mmu: Add the
 * notion of identity (1-1) mapping"): dom0 with 1 GiB of RAM from Xen's
 * list, and set_phys_range_identity(263424, 512256) for the E820 hole from
 * 1029 MiB to 2001 MiB.  With 512-entry nodes the identity entries land in
 * p2m[1][2][256..511] and p2m[1][488][0..255], and whole leaves between
 * are the identity sentinel.
 */
static void test_seed_example(void)
{
	unsigned long nr = 0x40000, pfn, *list;
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;
	unsigned long before;

	if (P2M_TREE_ENTRIES != 512)
		return;		/* the example's indices assume 512 */
	list = aligned_alloc(P2M_TREE_NODE_SIZE, nr * sizeof(long));
	CHECK(!harness_tree_init(&tree, &mem, 3UL << 18), "init: 3 GiB");
	model_init(&m, tree.max_pfn);
	for (pfn = 0; pfn < nr; pfn++)
		m.v[pfn] = list[pfn] = 0x290f - pfn % 0x290f;
	CHECK(!p2m_tree_adopt(&tree, list, nr), "adopt 1 GiB");
	before = nodes(&tree);
	CHECK(p2m_tree_set_identity(&tree, 263424, 512256) == 512256 - 263424,
	      "identity 1029 MiB..2001 MiB");
	model_fill(&m, 263424, 512256, P2M_KIND_IDENTITY);
	CHECK(!compare_all(&tree, &m), "answers");
	CHECK(nodes(&tree) - before == 3, "one mid and two edge leaves: %lu",
	      nodes(&tree) - before);
	CHECK(tree.top[1][2][255] == P2M_ENTRY_INVALID &&
	      tree.top[1][2][256] == P2M_IDENTITY(263424) &&
	      tree.top[1][2][511] == P2M_IDENTITY(263424 + 255), "p2m[1][2]");
	CHECK(tree.top[1][488][0] == P2M_IDENTITY(512000) &&
	      tree.top[1][488][255] == P2M_IDENTITY(512255) &&
	      tree.top[1][488][256] == P2M_ENTRY_INVALID, "p2m[1][488]");
	CHECK(tree.top[1][3] == tree.identity_leaf &&
	      tree.top[1][487] == tree.identity_leaf, "whole leaves are the sentinel");
	CHECK(tree.top[1][1] == tree.missing_leaf && tree.top[2] == tree.missing_mid,
	      "outside stays missing");
	CHECK(p2m_tree_lookup(&tree, 0x40500) == P2M_IDENTITY(0x40500) &&
	      p2m_tree_lookup(&tree, 0x7d0ff) == P2M_IDENTITY(0x7d0ff) &&
	      p2m_tree_lookup(&tree, 0x7d100) == P2M_ENTRY_INVALID &&
	      p2m_tree_lookup(&tree, 0x404ff) == P2M_ENTRY_INVALID, "the edges");
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	free(list);
	model_free(&m);
}

/*
 * The adopted list moves (setup.c found it in an E820 hole): lookups
 * follow the copy and never read the old memory again, identity and
 * private leaves stay where they were, and the copy is still adopted, so
 * the later take re-points it.
 */
static void test_move_adopted(void)
{
	struct p2m_tree_stats st;
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;
	unsigned long *list = adopted_tree(&tree, &mem, &m);
	unsigned long *to = aligned_alloc(P2M_TREE_NODE_SIZE,
					  TAKE_WORDS * sizeof(long));
	unsigned long warnings;

	/* Leaf 0 of the list turned identity (now the sentinel), one entry set. */
	CHECK(p2m_tree_set_identity(&tree, 0, 3 * LEAF / 2) == 3 * LEAF / 2,
	      "identity");
	model_fill(&m, 0, 3 * LEAF / 2, P2M_KIND_IDENTITY);
	CHECK(p2m_tree_set(&tree, MID + 7, 0x77), "set");
	m.v[MID + 7] = 0x77;

	warnings = p2m_harness_warnings;
	p2m_harness_quiet = 1;
	CHECK(p2m_tree_move_adopted(&tree, list + LEAF) == -EINVAL,
	      "a move onto itself");
	p2m_harness_quiet = 0;
	CHECK(p2m_harness_warnings == warnings + 1, "warned %lu times",
	      p2m_harness_warnings - warnings);

	CHECK(!p2m_tree_move_adopted(&tree, to), "move");
	memset(list, 0x5a, TAKE_WORDS * sizeof(long));
	CHECK(!compare_all(&tree, &m), "answers after the move");
	CHECK(p2m_tree_leaf(&tree, MID) == to + MID, "leaf of mid 1 in the copy");
	p2m_tree_get_stats(&tree, &st);
	CHECK(st.adopted_leaves == TAKE_LEAVES - 1,
	      "%lu leaves still adopted", st.adopted_leaves);
	CHECK(p2m_tree_set(&tree, MID + 8, 0x88) && to[MID + 8] == 0x88,
	      "writes go to the copy");
	m.v[MID + 8] = 0x88;

	mover_init(to, 0);
	CHECK(!p2m_tree_take_adopted(&tree, move_leaf), "take the copy");
	memset(to, 0xa5, TAKE_WORDS * sizeof(long));
	CHECK(!compare_all(&tree, &m), "answers after the take");
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	free(to);
	free(list);
	model_free(&m);
}

static const struct harness_test unit_tests[] = {
	{ "empty", test_empty },
	{ "edges", test_edges },
	{ "identity_mid_is_free", test_identity_mid_is_free },
	{ "split_sentinel", test_split_sentinel },
	{ "bad_input", test_bad_input },
	{ "adopt", test_adopt },
	{ "take_adopted", test_take_adopted },
	{ "take_adopted_fails", test_take_adopted_fails },
	{ "take_adopted_breaks", test_take_adopted_breaks },
	{ "move_adopted", test_move_adopted },
	{ "fold", test_fold },
	{ "next_range", test_next_range },
	{ "cursor", test_cursor },
	{ "cursor-run", test_cursor_run },
	{ "dump", test_dump },
	{ "seed_example", test_seed_example },
};

void run_unit_tests(void)
{
	unsigned long i, before;

	for (i = 0; i < sizeof(unit_tests) / sizeof(unit_tests[0]); i++) {
		before = p2m_harness_failures;
		unit_tests[i].fn();
		printf("  %s %s\n", p2m_harness_failures == before ? "ok  " : "FAIL",
		       unit_tests[i].name);
	}
}
