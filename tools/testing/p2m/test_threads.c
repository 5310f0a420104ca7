// SPDX-License-Identifier: GPL-2.0
/*
 * Lockless lookups against concurrent writers, for ThreadSanitizer.
 *
 * Readers look up random pfns and check every answer is one a pfn may
 * legally have at some moment: missing, identity, or the one MFN the
 * writers ever store for it (value_of()).  Two writers populate leaves and
 * set entries in the lower half of the tree, racing each other for the
 * same mids and leaves, so cmpxchg() losers free their copies.  A third
 * marks identity and missing ranges in the upper half: the tree's contract
 * is that writers of the same pfn are serialised, so ranges and single
 * entries do not overlap.  Readers also step range by range over the
 * upper half as the debugfs dump does: every range must hold at least
 * one pfn however the tree changes meanwhile.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <linux/minmax.h>
#include "harness.h"

#define NR_READERS	2
#define NR_WRITERS	3

static struct p2m_tree tree;
static struct harness_mem mem;
static int stop;
static unsigned long bad_answers, lookups, empty_runs;

static unsigned long value_of(unsigned long pfn)
{
	return (pfn * 2654435761UL) & 0xffffffffUL;
}

/* Steps through [start, limit) run by run: 1 if a run is empty or overruns. */
static unsigned long walk_runs(unsigned long start, unsigned long limit)
{
	unsigned long pfn = start, end, empty = 0;
	enum p2m_kind kind;

	while (pfn < limit) {
		end = p2m_tree_next_range(&tree, pfn, limit, &kind);
		if (end <= pfn || end > limit) {
			empty++;
			break;
		}
		pfn = end;
	}
	return empty;
}

static void *reader(void *arg)
{
	unsigned long seed = (unsigned long)arg, n = 0, bad = 0, empty = 0;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned long pfn, got;

		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		pfn = (seed >> 17) % (tree.max_pfn + P2M_LEAF_PFNS);
		if (n % 2 && pfn >= tree.max_pfn / 2)
			empty += walk_runs(pfn, min(pfn + 64,
						    tree.max_pfn + P2M_LEAF_PFNS));
		got = p2m_tree_lookup(&tree, pfn);
		if (got != P2M_ENTRY_INVALID && got != P2M_IDENTITY(pfn) &&
		    (got != value_of(pfn) || pfn >= tree.max_pfn / 2))
			bad++;
		n++;
	}
	__atomic_fetch_add(&lookups, n, __ATOMIC_RELAXED);
	__atomic_fetch_add(&bad_answers, bad, __ATOMIC_RELAXED);
	__atomic_fetch_add(&empty_runs, empty, __ATOMIC_RELAXED);
	return NULL;
}

static unsigned long next(unsigned long *seed)
{
	*seed = *seed * 6364136223846793005UL + 1442695040888963407UL;
	return *seed >> 17;
}

static void *entry_writer(void *arg)
{
	unsigned long seed = (unsigned long)arg;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned long pfn = next(&seed) % (tree.max_pfn / 2);

		if (!p2m_tree_populate(&tree, pfn))
			p2m_tree_set(&tree, pfn, value_of(pfn));
	}
	return NULL;
}

static void *range_writer(void *arg)
{
	unsigned long seed = (unsigned long)arg, half = tree.max_pfn / 2;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		unsigned long pfn = half + next(&seed) % half;
		unsigned long end = min(pfn + 1 + next(&seed) % (3 * P2M_LEAF_PFNS),
					tree.max_pfn);

		if (next(&seed) % 2)
			p2m_tree_set_identity(&tree, pfn, end);
		else
			p2m_tree_set_missing(&tree, pfn, end);
	}
	return NULL;
}

int run_threads(unsigned long seconds)
{
	pthread_t r[NR_READERS], w[NR_WRITERS];
	struct timespec ts = { .tv_sec = seconds };
	unsigned long i;

	CHECK(!harness_tree_init(&tree, &mem, 8 * P2M_MID_PFNS), "init");
	for (i = 0; i < NR_READERS; i++)
		pthread_create(&r[i], NULL, reader, (void *)(i + 1));
	for (i = 0; i < NR_WRITERS; i++)
		pthread_create(&w[i], NULL, i ? entry_writer : range_writer,
			       (void *)(i + 100));
	nanosleep(&ts, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NR_READERS; i++)
		pthread_join(r[i], NULL);
	for (i = 0; i < NR_WRITERS; i++)
		pthread_join(w[i], NULL);

	printf("  threads: %lu lookups against %d writers, %lu bad answers, %lu empty runs, %lu nodes allocated, %lu lost races freed\n",
	       lookups, NR_WRITERS, bad_answers, empty_runs, mem.allocs, mem.frees);
	CHECK(lookups > 0 && bad_answers == 0, "%lu bad answers", bad_answers);
	CHECK(empty_runs == 0, "%lu range walks stalled on an empty run", empty_runs);
	{
		char why[160];

		CHECK(!p2m_tree_verify(&tree, why, sizeof(why)), "%s", why);
	}
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "leak");
	return bad_answers || empty_runs;
}
