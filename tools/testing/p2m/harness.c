// SPDX-License-Identifier: GPL-2.0
/*
 * Accounting allocator, reference model and command line of the P2M host
 * harness.
 *
 *   p2m_test units|fuzz [SEED [OPS]]|faults|threads [SECONDS]|bench|all
 *   p2m_test e820 FILE...
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness.h"

unsigned long p2m_harness_warnings;
int p2m_harness_quiet;
unsigned long p2m_harness_failures;

static void *harness_alloc(struct p2m_tree *tree, enum p2m_tree_level level,
			   size_t size)
{
	struct harness_mem *mem = tree->priv;
	unsigned long calls;
	void *p;

	__atomic_fetch_add(&mem->calls, 1, __ATOMIC_RELAXED);
	calls = __atomic_load_n(&mem->calls, __ATOMIC_RELAXED);
	if (mem->fail_at && (calls == mem->fail_at ||
			     (mem->fail_all && calls > mem->fail_at)))
		return NULL;
	size = (size + P2M_TREE_NODE_SIZE - 1) & ~(P2M_TREE_NODE_SIZE - 1);
	p = aligned_alloc(P2M_TREE_NODE_SIZE, size);
	if (!p)
		abort();
	memset(p, 0xa5, size);	/* the tree must initialise what it uses */
	__atomic_fetch_add(&mem->allocs, 1, __ATOMIC_RELAXED);
	return p;
}

static void harness_free(struct p2m_tree *tree, void *node,
			 enum p2m_tree_level level)
{
	struct harness_mem *mem = tree->priv;

	__atomic_fetch_add(&mem->frees, 1, __ATOMIC_RELAXED);
	free(node);
}

/*
 * Readers may still see a retired node: keep it until the tree goes.
 * Writers of different pfns may retire at once, hence the lock.
 */
static pthread_mutex_t harness_retire_lock = PTHREAD_MUTEX_INITIALIZER;

static void harness_retire(struct p2m_tree *tree, void *node,
			   enum p2m_tree_level level)
{
	struct harness_mem *mem = tree->priv;

	pthread_mutex_lock(&harness_retire_lock);
	if (mem->retired == mem->retired_cap) {
		mem->retired_cap = mem->retired_cap * 2 + 16;
		mem->retired_list = realloc(mem->retired_list,
					    mem->retired_cap * sizeof(void *));
		if (!mem->retired_list)
			abort();
	}
	mem->retired_list[mem->retired++] = node;
	pthread_mutex_unlock(&harness_retire_lock);
}

const struct p2m_tree_ops harness_ops = {
	.alloc = harness_alloc,
	.free = harness_free,
	.retire = harness_retire,
};

int harness_tree_init(struct p2m_tree *tree, struct harness_mem *mem,
		      unsigned long max_pfn)
{
	memset(mem, 0, sizeof(*mem));
	return p2m_tree_init(tree, &harness_ops, mem, max_pfn);
}

long harness_tree_destroy(struct p2m_tree *tree, struct harness_mem *mem)
{
	unsigned long i;

	if (tree->ops)
		p2m_tree_destroy(tree);
	for (i = 0; i < mem->retired; i++) {
		free(mem->retired_list[i]);
		mem->frees++;
	}
	free(mem->retired_list);
	mem->retired_list = NULL;
	mem->retired = mem->retired_cap = 0;
	return (long)(mem->allocs - mem->frees);
}

void model_init(struct model *m, unsigned long max_pfn)
{
	unsigned long i;

	m->max_pfn = max_pfn;
	m->v = malloc(max_pfn * sizeof(*m->v));
	if (!m->v)
		abort();
	for (i = 0; i < max_pfn; i++)
		m->v[i] = P2M_ENTRY_INVALID;
}

void model_free(struct model *m)
{
	free(m->v);
	m->v = NULL;
}

unsigned long model_get(const struct model *m, unsigned long pfn)
{
	return pfn < m->max_pfn ? m->v[pfn] : P2M_IDENTITY(pfn);
}

void model_fill(struct model *m, unsigned long s, unsigned long e,
		enum p2m_kind kind)
{
	unsigned long pfn;

	for (pfn = s; pfn < e && pfn < m->max_pfn; pfn++)
		m->v[pfn] = kind == P2M_KIND_IDENTITY ? P2M_IDENTITY(pfn) :
							P2M_ENTRY_INVALID;
}

int compare_range(const struct p2m_tree *tree, const struct model *m,
		  unsigned long s, unsigned long e)
{
	unsigned long pfn;

	for (pfn = s; pfn < e; pfn++) {
		unsigned long got = p2m_tree_lookup(tree, pfn);

		if (got != model_get(m, pfn)) {
			fprintf(stderr, "pfn %#lx: tree %#lx, model %#lx\n",
				pfn, got, model_get(m, pfn));
			return -1;
		}
	}
	return 0;
}

int compare_all(const struct p2m_tree *tree, const struct model *m)
{
	char why[160];

	if (p2m_tree_verify(tree, why, sizeof(why))) {
		fprintf(stderr, "invariant: %s\n", why);
		return -1;
	}
	return compare_range(tree, m, 0, m->max_pfn + P2M_MID_PFNS);
}

static void usage(void)
{
	fprintf(stderr, "usage: p2m_test units|fuzz [SEED [OPS]]|faults|threads [SECONDS]|bench|counts|all\n"
			"       p2m_test e820 FILE...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "all";
	unsigned long seed, ops;

	printf("p2m harness: %lu entries per node, %lu pfns per mid\n",
	       P2M_TREE_ENTRIES, P2M_MID_PFNS);
	if (!strcmp(what, "units")) {
		run_unit_tests();
	} else if (!strcmp(what, "fuzz")) {
		seed = argc > 2 ? strtoul(argv[2], NULL, 0) : (unsigned long)time(NULL);
		ops = argc > 3 ? strtoul(argv[3], NULL, 0) : 1000000;
		run_fuzz(seed, ops);
	} else if (!strcmp(what, "faults")) {
		run_fault_injection();
	} else if (!strcmp(what, "threads")) {
		run_threads(argc > 2 ? strtoul(argv[2], NULL, 0) : 3);
	} else if (!strcmp(what, "e820")) {
		if (argc < 3)
			usage();
		run_e820(argc - 2, argv + 2);
	} else if (!strcmp(what, "bench")) {
		run_bench();
	} else if (!strcmp(what, "counts")) {
		run_counts();
	} else if (!strcmp(what, "all")) {
		run_unit_tests();
		run_fault_injection();
		run_fuzz(1, 100000);
	} else {
		usage();
	}
	if (p2m_harness_failures) {
		printf("p2m harness [shift %d]: %s: FAILED (%lu checks)\n",
		       P2M_TREE_SHIFT, what, p2m_harness_failures);
		return 1;
	}
	printf("p2m harness [shift %d]: %s: ok\n", P2M_TREE_SHIFT, what);
	return 0;
}
