/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host harness for the P2M tree (drivers/xen/p2m_tree.c, compiled
 * unchanged against the shims in include/).  Node memory comes from an
 * accounting allocator that can be told to fail; a flat array is the
 * reference model every answer is compared against.
 */
#ifndef P2M_HARNESS_H
#define P2M_HARNESS_H

#include <stdio.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/seq_file.h>
#include <xen/p2m_tree.h>

/* --- failures ------------------------------------------------------------ */

extern unsigned long p2m_harness_failures;

#define CHECK(cond, fmt, ...) do {					\
	if (!(cond)) {							\
		p2m_harness_failures++;					\
		fprintf(stderr, "%s:%d: %s: CHECK(%s) failed: " fmt "\n", \
			__FILE__, __LINE__, __func__, #cond, ##__VA_ARGS__); \
	}								\
} while (0)

/* --- node memory ------------------------------------------------------------ */

/**
 * struct harness_mem - the allocator behind a test tree
 * @allocs:   successful allocations
 * @frees:    nodes given back with ops->free
 * @retired:  nodes handed to ops->retire (held until harness_tree_destroy)
 * @calls:    allocation attempts
 * @fail_at:  fail the attempt with this number (1-based); 0: never
 * @fail_all: once @fail_at is reached, fail every later attempt too
 * @retired_list: the retired nodes
 */
struct harness_mem {
	unsigned long allocs, frees, retired, calls;
	unsigned long fail_at;
	int fail_all;
	void **retired_list;
	unsigned long retired_cap;
};

extern const struct p2m_tree_ops harness_ops;

int harness_tree_init(struct p2m_tree *tree, struct harness_mem *mem,
		      unsigned long max_pfn);
/* Destroys the tree; returns nodes leaked (allocated, never given back). */
long harness_tree_destroy(struct p2m_tree *tree, struct harness_mem *mem);

/* --- the reference model ------------------------------------------------------ */

struct model {
	unsigned long max_pfn;
	unsigned long *v;
};

void model_init(struct model *m, unsigned long max_pfn);
void model_free(struct model *m);
unsigned long model_get(const struct model *m, unsigned long pfn);
void model_fill(struct model *m, unsigned long s, unsigned long e,
		enum p2m_kind kind);

/* Compare every pfn of [s, e) (and the tree's invariants); 0 if equal. */
int compare_range(const struct p2m_tree *tree, const struct model *m,
		  unsigned long s, unsigned long e);
int compare_all(const struct p2m_tree *tree, const struct model *m);

/* --- test registry --------------------------------------------------------- */

struct harness_test {
	const char *name;
	void (*fn)(void);
};

void run_unit_tests(void);
int run_fuzz(unsigned long seed, unsigned long ops);
void run_fault_injection(void);
int run_threads(unsigned long seconds);
void run_bench(void);
void run_counts(void);
int run_e820(int nr, char **paths);

#endif
