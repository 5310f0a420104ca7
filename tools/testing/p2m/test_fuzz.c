// SPDX-License-Identifier: GPL-2.0
/*
 * Randomised differential test against the flat-array model, and
 * allocation-failure injection.
 *
 * The fuzzer is seeded and prints its seed, so any failure replays with
 * "p2m_test fuzz SEED OPS".  Ranges are biased towards level boundaries,
 * and a share of operations is bad input, which must change nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/minmax.h>
#include "harness.h"

#define LEAF	P2M_LEAF_PFNS
#define MID	P2M_MID_PFNS

/* xorshift64*: small, fast and reproducible everywhere. */
static unsigned long rnd_state;

static unsigned long rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545F4914F6CDD1DUL;
}

/* A pfn below @max, often on or next to a leaf or mid boundary. */
static unsigned long rnd_pfn(unsigned long max)
{
	unsigned long pfn = rnd() % max;

	switch (rnd() % 4) {
	case 0:
		pfn -= pfn % LEAF;
		break;
	case 1:
		pfn -= pfn % MID;
		break;
	default:
		return pfn;
	}
	pfn += (rnd() % 3) - 1;		/* one before, on, one after */
	return pfn < max ? pfn : max - 1;
}

enum fuzz_op { OP_SET, OP_SET_NOALLOC, OP_IDENTITY, OP_MISSING, OP_POPULATE,
	       OP_BAD, NR_OPS };

/*
 * One random operation on tree and model.  With @may_fail (allocation
 * failures injected) an operation may report -ENOMEM; the model then stays
 * as it was, which is exactly the claim being tested.
 */
static int fuzz_step(struct p2m_tree *tree, struct model *m, bool may_fail,
		     unsigned long *lo, unsigned long *hi)
{
	unsigned long max = tree->max_pfn, s = rnd_pfn(max), e, v;
	enum fuzz_op op;
	long ret;
	bool ok;

	*lo = s;
	*hi = s + 1;
	op = rnd() % NR_OPS;
	switch (op) {
	case OP_SET:
		v = rnd() % 4 ? rnd() & 0xffffffffffUL : P2M_ENTRY_INVALID;
		if (rnd() % 8 == 0)
			v = P2M_IDENTITY(s);
		if (rnd() % 8 == 0 && p2m_entry_kind(s, v) == P2M_KIND_PFN)
			v |= P2M_FOREIGN_BIT;
		ok = p2m_tree_set(tree, s, v) ||
		     (!p2m_tree_populate(tree, s) && p2m_tree_set(tree, s, v));
		if (ok)
			m->v[s] = v;
		else if (!may_fail)
			return -1;
		break;
	case OP_SET_NOALLOC:
		/* Must succeed when the answer would not change. */
		v = rnd() % 2 ? m->v[s] : rnd() & 0xfffff;
		ok = p2m_tree_set(tree, s, v);
		if (ok)
			m->v[s] = v;
		else if (v == m->v[s])
			return -1;
		break;
	case OP_IDENTITY:
	case OP_MISSING:
		e = s + 1 + rnd_pfn(rnd() % 8 ? 2 * LEAF : max);
		if (e > max && rnd() % 2)
			e = max;
		if (rnd() % 16 == 0)
			e = ~0UL;
		if (rnd() % NR_OPS == OP_IDENTITY || e > max) {
			ret = p2m_tree_set_identity(tree, s, e);
			if (ret >= 0)
				model_fill(m, s, e, P2M_KIND_IDENTITY);
			if (ret >= 0 && ret != (long)(min(e, max) - s))
				return -1;
		} else {
			ret = p2m_tree_set_missing(tree, s, e);
			if (ret >= 0)
				model_fill(m, s, e, P2M_KIND_MISSING);
			if (ret >= 0 && ret != (long)(e - s))
				return -1;
		}
		if (ret < 0 && !(may_fail && ret == -ENOMEM))
			return -1;
		*hi = min(e, max + LEAF);
		break;
	case OP_POPULATE:
		ret = p2m_tree_populate(tree, s);
		if (ret && !(may_fail && ret == -ENOMEM))
			return -1;
		break;
	case OP_BAD:
	default:
		switch (rnd() % 5) {
		case 0:
			ret = p2m_tree_set_identity(tree, s + 1, s);
			break;
		case 1:
			ret = p2m_tree_set_missing(tree, s, s);
			break;
		case 2:
			ret = p2m_tree_set(tree, max + s, rnd() & 0xfffff) ? 0 : -EINVAL;
			break;
		case 3:
			ret = p2m_tree_set(tree, s, P2M_IDENTITY(s + 1)) ? 0 : -EINVAL;
			break;
		default:
			ret = p2m_tree_populate(tree, max + s);
			break;
		}
		if (ret != -EINVAL)
			return -1;
		break;
	}
	return 0;
}

/*
 * After each operation: the pfns around both ends of what it touched, and
 * a few anywhere.  Everything is compared every 1% of the run.
 */
static int compare_edges(const struct p2m_tree *tree, const struct model *m,
			 unsigned long lo, unsigned long hi)
{
	unsigned long i, pfn;

	if (compare_range(tree, m, lo > LEAF ? lo - LEAF : 0, lo + LEAF) ||
	    compare_range(tree, m, hi > LEAF ? hi - LEAF : 0, hi + LEAF))
		return -1;
	for (i = 0; i < 8; i++) {
		pfn = rnd() % (tree->max_pfn + LEAF);
		if (compare_range(tree, m, pfn, pfn + 1))
			return -1;
	}
	return 0;
}

static unsigned long fuzz_tree_size(void)
{
	/* Five mids: every level boundary is reached often. */
	return 5 * MID;
}

int run_fuzz(unsigned long seed, unsigned long ops)
{
	unsigned long i, lo, hi, full_every = ops / 100 + 1;
	unsigned long failures = p2m_harness_failures;
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;

	printf("  fuzz: seed %lu, %lu operations (replay: p2m_test fuzz %lu %lu)\n",
	       seed, ops, seed, ops);
	rnd_state = seed * 2 + 1;
	p2m_harness_quiet = 1;
	CHECK(!harness_tree_init(&tree, &mem, fuzz_tree_size()), "init");
	model_init(&m, tree.max_pfn);
	for (i = 0; i < ops; i++) {
		if (fuzz_step(&tree, &m, false, &lo, &hi)) {
			CHECK(0, "operation %lu (seed %lu) on [%#lx, %#lx) returned a wrong result",
			      i, seed, lo, hi);
			break;
		}
		if (compare_edges(&tree, &m, lo, hi)) {
			CHECK(0, "operation %lu (seed %lu) left wrong answers", i, seed);
			break;
		}
		if (i % full_every == 0 && compare_all(&tree, &m)) {
			CHECK(0, "after operation %lu (seed %lu)", i, seed);
			break;
		}
	}
	CHECK(!compare_all(&tree, &m), "final state (seed %lu)", seed);
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "leak");
	model_free(&m);
	p2m_harness_quiet = 0;
	return p2m_harness_failures != failures;
}

/*
 * Run a fixed pseudo-random script of @nr operations, failing allocation
 * attempt @fail_at (and, with @fail_all, all later ones).  Returns how
 * many allocation attempts the script made.
 */
static unsigned long faulty_run(unsigned long fail_at, bool fail_all,
				unsigned long nr)
{
	unsigned long i, lo, hi;
	struct harness_mem mem;
	struct p2m_tree tree;
	struct model m;
	long leaked;
	int ret;

	rnd_state = 12345;
	ret = harness_tree_init(&tree, &mem, fuzz_tree_size());
	/* init's own 5 allocations are failed separately, below */
	mem.fail_at = fail_at ? fail_at + 5 : 0;
	mem.fail_all = fail_all;
	if (ret)
		return 0;
	model_init(&m, tree.max_pfn);
	for (i = 0; i < nr; i++) {
		if (fuzz_step(&tree, &m, true, &lo, &hi)) {
			CHECK(0, "failing alloc %lu: wrong result at op %lu", fail_at, i);
			break;
		}
	}
	CHECK(!compare_all(&tree, &m), "failing alloc %lu%s: answers", fail_at,
	      fail_all ? " onwards" : "");
	leaked = harness_tree_destroy(&tree, &mem);
	CHECK(leaked == 0, "failing alloc %lu: %ld nodes leaked", fail_at, leaked);
	model_free(&m);
	return mem.calls - 5;
}

void run_fault_injection(void)
{
	unsigned long n, calls, runs = 0, before = p2m_harness_failures;
	struct harness_mem mem;
	struct p2m_tree tree;

	p2m_harness_quiet = 1;
	/* Each of init's five allocations failing leaves nothing behind. */
	for (n = 1; n <= 5; n++) {
		memset(&mem, 0, sizeof(mem));
		mem.fail_at = n;
		CHECK(p2m_tree_init(&tree, &harness_ops, &mem, 5 * MID) == -ENOMEM,
		      "init with alloc %lu failing", n);
		CHECK(mem.allocs == mem.frees, "init failure %lu leaks %lu", n,
		      mem.allocs - mem.frees);
	}
	calls = faulty_run(0, false, 3000);
	for (n = 1; n <= calls; n++, runs += 2) {
		faulty_run(n, false, 3000);
		faulty_run(n, true, 3000);
	}
	printf("  faults: %lu allocation points failed in turn (%lu runs)\n",
	       calls, runs);
	p2m_harness_quiet = 0;
	CHECK(p2m_harness_failures == before, "fault injection");
}
