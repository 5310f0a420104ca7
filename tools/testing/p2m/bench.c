// SPDX-License-Identifier: GPL-2.0
/*
 * P2M lookup benchmark.  All figures are ratios against baselines measured
 * in the same run, because these machines are shared and noisy:
 *
 *  - flat:     a plain array of every pfn's value (the physical limit);
 *  - linear:   upstream 6.1's scheme, a virtually contiguous list in which
 *              missing and identity stretches are the same physical page
 *              mapped again and again (rebuilt here with a memfd);
 *  - tree:     p2m_tree_lookup(), and for sequential walks a p2m_tree_cursor
 *              (one lookup per pfn) and p2m_tree_cursor_run() (a leaf's
 *              entries at a time, summed as the flat array is; the two
 *              sums must agree).
 *
 * Random lookups are timed twice: independent (the next pfn known in
 * advance, so the CPU overlaps many cache misses and the instructions per
 * lookup set the pace) and dependent (each pfn waits for the answer
 * before it, as a caller that acts on every answer does, so the time is
 * the latency of one lookup).
 *
 * The guest modelled: 64 GiB of RAM with a realistic E820 (RAM below
 * 640 KiB, the legacy hole, RAM to 3 GiB, the PCI hole to 4 GiB, the rest
 * of the RAM above 4 GiB), its RAM adopted from a flat MFN list as Xen
 * hands it over, the holes identity.  Every array is mapped with 4 KiB
 * pages, as a PV guest's direct map and vmalloc space are, whatever the
 * host's transparent huge page setting.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
/* Without valgrind's headers run_counts() only checks its answers. */
#define CALLGRIND_START_INSTRUMENTATION	do { } while (0)
#define CALLGRIND_STOP_INSTRUMENTATION	do { } while (0)
#define CALLGRIND_ZERO_STATS		do { } while (0)
#define CALLGRIND_DUMP_STATS_AT(name)	do { } while (0)
#endif
#include "harness.h"

#define GIB_PFNS	(1UL << 18)
#define NR_RANDOM	(1UL << 24)
#define NR_DEPENDENT	(NR_RANDOM / 16)	/* each a full miss: 16x slower */
#define ROUNDS		5

static const struct {
	unsigned long s, e;
	bool ram;
} e820[] = {
	{ 0, 0x9f, true }, { 0x9f, 0x100, false }, { 0x100, 0xc0000, true },
	{ 0xc0000, 0x100000, false }, { 0x100000, 0x1040000, true },
};
#define MODEL_PFNS	0x1040000UL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Anonymous memory kept to 4 KiB pages; aborts if there is none. */
static void *small_pages(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		abort();
	madvise(p, bytes, MADV_NOHUGEPAGE);
	return p;
}

static unsigned long mfn_of(unsigned long pfn)
{
	return 0x4000000 - pfn;
}

/*
 * Upstream's linear list: RAM stretches are ordinary memory, whole pages
 * of identity entries are one shared page mapped wherever needed.
 */
static unsigned long *build_linear(void)
{
	size_t bytes = MODEL_PFNS * sizeof(long), page = sysconf(_SC_PAGESIZE);
	unsigned long *list, *ident, i, pfn;
	int fd = memfd_create("p2m-identity", 0);

	list = small_pages(bytes);
	if (fd < 0 || ftruncate(fd, page))
		abort();
	ident = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	for (i = 0; i < page / sizeof(long); i++)
		ident[i] = P2M_ENTRY_INVALID;
	for (i = 0; i < sizeof(e820) / sizeof(e820[0]); i++) {
		for (pfn = e820[i].s; pfn < e820[i].e; pfn++) {
			if (!e820[i].ram && !(pfn % (page / sizeof(long))) &&
			    pfn + page / sizeof(long) <= e820[i].e) {
				mmap(list + pfn, page, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
				pfn += page / sizeof(long) - 1;
				continue;
			}
			list[pfn] = e820[i].ram ? mfn_of(pfn) : P2M_IDENTITY(pfn);
		}
	}
	return list;
}

/* As upstream's __pfn_to_mfn(): the list, then the slow path for ~0. */
static inline unsigned long linear_lookup(const unsigned long *list,
					  const unsigned long *ident_pages,
					  unsigned long pfn)
{
	unsigned long v = list[pfn];

	if (__builtin_expect(v == P2M_ENTRY_INVALID, 0))
		return ident_pages ? P2M_IDENTITY(pfn) : v;
	return v;
}

struct result {
	double flat, linear, tree, cursor, run, walk;
};

/* The guest modelled, in each of the three schemes compared. */
struct bench_guest {
	unsigned long *flat;	/* every pfn's answer */
	unsigned long *list;	/* Xen's list as handed over, adopted by @tree */
	unsigned long *linear;	/* upstream's linear list */
	struct harness_mem mem;
	struct p2m_tree tree;
};

/* Build all three and check the tree answers as the flat array does. */
static void build_guest(struct bench_guest *m)
{
	unsigned long i, pfn;

	m->flat = small_pages(MODEL_PFNS * sizeof(long));
	m->list = small_pages(MODEL_PFNS * sizeof(long));
	for (i = 0; i < sizeof(e820) / sizeof(e820[0]); i++)
		for (pfn = e820[i].s; pfn < e820[i].e; pfn++) {
			m->flat[pfn] = e820[i].ram ? mfn_of(pfn) : P2M_IDENTITY(pfn);
			m->list[pfn] = e820[i].ram ? mfn_of(pfn) : P2M_ENTRY_INVALID;
		}
	harness_tree_init(&m->tree, &m->mem, MODEL_PFNS);
	p2m_tree_adopt(&m->tree, m->list, MODEL_PFNS);
	for (i = 0; i < sizeof(e820) / sizeof(e820[0]); i++)
		if (!e820[i].ram)
			p2m_tree_set_identity(&m->tree, e820[i].s, e820[i].e);
	for (pfn = 0; pfn < MODEL_PFNS; pfn++)
		if (p2m_tree_lookup(&m->tree, pfn) != m->flat[pfn])
			abort();
	m->linear = build_linear();
}

static void destroy_guest(struct bench_guest *m)
{
	harness_tree_destroy(&m->tree, &m->mem);
	munmap(m->flat, MODEL_PFNS * sizeof(long));
	munmap(m->list, MODEL_PFNS * sizeof(long));
	munmap(m->linear, MODEL_PFNS * sizeof(long));
}

/* NR_RANDOM pfns from a fixed xorshift sequence, the same every run. */
static unsigned long *random_pfns(void)
{
	unsigned long *idx = malloc(NR_RANDOM * sizeof(long)), i, r;

	if (!idx)
		abort();
	for (i = 0, r = 88172645463325252UL; i < NR_RANDOM; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		idx[i] = r % MODEL_PFNS;
	}
	return idx;
}

/*
 * Zero, read through a volatile so the compiler cannot fold it: pfn ^
 * (answer & chain_mask) makes each lookup wait for the one before, as a
 * caller that acts on every answer does, without changing which pfns
 * are looked up.
 */
static volatile unsigned long chain_zero;

static void bench_lookups(void)
{
	unsigned long *flat, *idx, *linear, i, pfn, sink = 0, r;
	struct bench_guest m;
	struct p2m_tree *tree = &m.tree;
	struct p2m_tree_cursor cur;
	struct result rnd = { 1e9, 1e9, 1e9, 1e9, 1e9, 1e9 };
	struct result seq = { 1e9, 1e9, 1e9, 1e9, 1e9, 1e9 };
	struct result dep = { 1e9, 1e9, 1e9, 1e9, 1e9, 1e9 };
	unsigned long chain_mask = chain_zero, v;
	unsigned long run_sink = 0, flat_sink = 0;
	double t;

	build_guest(&m);
	flat = m.flat;
	linear = m.linear;
	idx = random_pfns();

	for (r = 0; r < ROUNDS; r++) {
		t = now();
		for (i = 0; i < NR_RANDOM; i++)
			sink += flat[idx[i]];
		rnd.flat = min(rnd.flat, now() - t);
		t = now();
		for (i = 0; i < NR_RANDOM; i++)
			sink += linear_lookup(linear, linear, idx[i]);
		rnd.linear = min(rnd.linear, now() - t);
		t = now();
		for (i = 0; i < NR_RANDOM; i++)
			sink += p2m_tree_lookup(tree, idx[i]);
		rnd.tree = min(rnd.tree, now() - t);
		/*
		 * The floor of any three-level lookup: the walk's three loads
		 * and nothing else (every pfn here is below max_pfn; an
		 * identity pfn reads its sentinel's invalid entry).
		 */
		t = now();
		for (i = 0; i < NR_RANDOM; i++)
			sink += READ_ONCE(__p2m_tree_leaf(tree, idx[i])[p2m_leaf_index(idx[i])]);
		rnd.walk = min(rnd.walk, now() - t);

		t = now();
		for (i = 0, v = 0; i < NR_DEPENDENT; i++) {
			v = flat[idx[i] ^ (v & chain_mask)];
			sink += v;
		}
		dep.flat = min(dep.flat, now() - t);
		t = now();
		for (i = 0, v = 0; i < NR_DEPENDENT; i++) {
			v = linear_lookup(linear, linear, idx[i] ^ (v & chain_mask));
			sink += v;
		}
		dep.linear = min(dep.linear, now() - t);
		t = now();
		for (i = 0, v = 0; i < NR_DEPENDENT; i++) {
			v = p2m_tree_lookup(tree, idx[i] ^ (v & chain_mask));
			sink += v;
		}
		dep.tree = min(dep.tree, now() - t);

		t = now();
		for (pfn = 0; pfn < MODEL_PFNS; pfn++)
			sink += flat[pfn];
		seq.flat = min(seq.flat, now() - t);
		t = now();
		for (pfn = 0; pfn < MODEL_PFNS; pfn++)
			sink += linear_lookup(linear, linear, pfn);
		seq.linear = min(seq.linear, now() - t);
		t = now();
		for (pfn = 0; pfn < MODEL_PFNS; pfn++)
			sink += p2m_tree_lookup(tree, pfn);
		seq.tree = min(seq.tree, now() - t);
		p2m_tree_cursor_init(&cur, tree);
		t = now();
		for (pfn = 0; pfn < MODEL_PFNS; pfn++)
			sink += p2m_tree_cursor_lookup(&cur, pfn);
		seq.cursor = min(seq.cursor, now() - t);
		p2m_tree_cursor_init(&cur, tree);
		t = now();
		for (pfn = 0; pfn < MODEL_PFNS; ) {
			const unsigned long *e;
			unsigned long n = p2m_tree_cursor_run(&cur, pfn, &e), j;

			if (n > MODEL_PFNS - pfn)
				n = MODEL_PFNS - pfn;
			if (e)
				for (j = 0; j < n; j++)
					run_sink += e[j];
			else
				for (j = 0; j < n; j++)
					run_sink += P2M_IDENTITY(pfn + j);
			pfn += n;
		}
		seq.run = min(seq.run, now() - t);
		/*
		 * The flat walk again, next to the runs: the one above follows
		 * the random phase and is slower for it; the baseline is the
		 * best of both.  Its sum also checks the runs' answers.
		 */
		t = now();
		for (pfn = 0; pfn < MODEL_PFNS; pfn++)
			flat_sink += flat[pfn];
		seq.flat = min(seq.flat, now() - t);
	}
	if (run_sink != flat_sink)
		abort();	/* the runs must answer as the flat array does */

	/*
	 * Walking the guest kind by kind, as the debugfs dump and the stats
	 * do: the tree's p2m_tree_next_range() against a scan of the flat
	 * array for kind changes.  The run counts must agree.
	 */
	double walk_flat = 1e9, walk_tree = 1e9;
	unsigned long runs_flat = 0, runs_tree = 0;
	enum p2m_kind kind, prev;

	for (r = 0; r < ROUNDS; r++) {
		t = now();
		runs_flat = 0;
		prev = P2M_NR_KINDS;
		for (pfn = 0; pfn < MODEL_PFNS; pfn++) {
			kind = p2m_entry_kind(pfn, flat[pfn]);
			runs_flat += kind != prev;
			prev = kind;
		}
		walk_flat = min(walk_flat, now() - t);
		t = now();
		runs_tree = 0;
		for (pfn = 0; pfn < MODEL_PFNS; runs_tree++)
			pfn = p2m_tree_next_range(tree, pfn, MODEL_PFNS, &kind);
		walk_tree = min(walk_tree, now() - t);
	}
	if (runs_flat != runs_tree)
		abort();
	printf("  lookups over a 64 GiB guest (%lu pfns), best of %d rounds (checksum %lx):\n",
	       MODEL_PFNS, ROUNDS, sink & 0xfff);
	printf("    random %lu, independent: flat %.1f ns, upstream linear %.1f ns (%.2fx flat), tree %.1f ns (%.2fx flat, %.2fx upstream)\n",
	       NR_RANDOM, rnd.flat * 1e9 / NR_RANDOM, rnd.linear * 1e9 / NR_RANDOM,
	       rnd.linear / rnd.flat, rnd.tree * 1e9 / NR_RANDOM,
	       rnd.tree / rnd.flat, rnd.tree / rnd.linear);
	printf("      the walk alone (three loads, no tests; not a lookup): %.1f ns (%.2fx flat)\n",
	       rnd.walk * 1e9 / NR_RANDOM, rnd.walk / rnd.flat);
	printf("    random %lu, dependent: flat %.1f ns, upstream linear %.1f ns (%.2fx flat), tree %.1f ns (%.2fx flat, %.2fx upstream)\n",
	       NR_DEPENDENT, dep.flat * 1e9 / NR_DEPENDENT,
	       dep.linear * 1e9 / NR_DEPENDENT,
	       dep.linear / dep.flat, dep.tree * 1e9 / NR_DEPENDENT,
	       dep.tree / dep.flat, dep.tree / dep.linear);
	printf("    sequential:        flat %.2f ns, upstream linear %.2f ns (%.2fx flat), tree %.2f ns (%.2fx), tree cursor %.2f ns (%.2fx flat, %.2fx upstream)\n",
	       seq.flat * 1e9 / MODEL_PFNS, seq.linear * 1e9 / MODEL_PFNS,
	       seq.linear / seq.flat, seq.tree * 1e9 / MODEL_PFNS,
	       seq.tree / seq.flat, seq.cursor * 1e9 / MODEL_PFNS,
	       seq.cursor / seq.flat, seq.cursor / seq.linear);
	printf("    sequential runs:   flat %.2f ns, tree leaf runs (p2m_tree_cursor_run) %.2f ns (%.2fx flat, %.2fx upstream)\n",
	       seq.flat * 1e9 / MODEL_PFNS, seq.run * 1e9 / MODEL_PFNS,
	       seq.run / seq.flat, seq.run / seq.linear);
	printf("    walk by kind (%lu runs): flat scan %.2f ms, tree p2m_tree_next_range %.2f ms (%.3fx flat)\n",
	       runs_tree, walk_flat * 1e3, walk_tree * 1e3, walk_tree / walk_flat);
	destroy_guest(&m);
	free(idx);
}

static void bench_identity(void)
{
	unsigned long tib = 1UL << 28, before, r;
	struct harness_mem mem;
	struct p2m_tree tree;
	double best = 1e9, best_cut = 1e9, t;
	long cut_nodes = 0, nodes = 0;

	for (r = 0; r < ROUNDS; r++) {
		harness_tree_init(&tree, &mem, 4 * tib);
		before = mem.allocs;
		t = now();
		p2m_tree_set_identity(&tree, tib, 2 * tib);
		best = min(best, now() - t);
		nodes = mem.allocs - before;
		before = mem.allocs;
		t = now();
		p2m_tree_set_identity(&tree, 2 * tib + 1, 3 * tib - 1);
		best_cut = min(best_cut, now() - t);
		cut_nodes = mem.allocs - before;
		harness_tree_destroy(&tree, &mem);
	}
	printf("  identity over a 1 TiB hole: aligned %.1f us, %ld new nodes; unaligned edges %.1f us, %ld new nodes\n",
	       best * 1e6, nodes, best_cut * 1e6, cut_nodes);
}

static void bench_memory(void)
{
	struct harness_mem mem;
	struct p2m_tree tree;
	unsigned long pfn, base;

	harness_tree_init(&tree, &mem, 64 * GIB_PFNS);
	base = mem.allocs;
	for (pfn = GIB_PFNS; pfn < 2 * GIB_PFNS; pfn++) {
		p2m_tree_populate(&tree, pfn);
		p2m_tree_set(&tree, pfn, mfn_of(pfn));
	}
	printf("  memory per populated GiB (not adopted): %lu KiB in %lu nodes (top and sentinels for 64 GiB: %lu KiB more)\n",
	       (mem.allocs - base) * P2M_TREE_NODE_SIZE / 1024, mem.allocs - base,
	       (4 * P2M_TREE_NODE_SIZE + tree.nr_top * sizeof(void *)) / 1024);
	harness_tree_destroy(&tree, &mem);
}

/*
 * The same lookups, to be counted rather than timed: run under callgrind
 * with --instr-atstart=no (tools/testing/p2m/counts.sh), each region is
 * instrumented alone and dumped under its name, so its instructions and
 * simulated cache misses divided by NR_COUNTED are the cost of one
 * lookup, the same on every machine and every run.  Outside valgrind the
 * requests do nothing and this only checks the answers agree.
 */
#define NR_COUNTED	(1UL << 20)

#define COUNTED(name, sum, expr) do {					\
	unsigned long acc = 0;						\
									\
	CALLGRIND_START_INSTRUMENTATION;				\
	CALLGRIND_ZERO_STATS;						\
	for (i = 0; i < NR_COUNTED; i++)				\
		acc += (expr);						\
	CALLGRIND_DUMP_STATS_AT(name);					\
	CALLGRIND_STOP_INSTRUMENTATION;					\
	(sum) = acc;							\
} while (0)

void run_counts(void)
{
	unsigned long *idx, i, flat, linear, tree, cursor;
	struct p2m_tree_cursor cur;
	struct bench_guest m;

	build_guest(&m);
	idx = random_pfns();
	COUNTED("random/flat", flat, READ_ONCE(m.flat[idx[i]]));
	COUNTED("random/linear", linear, linear_lookup(m.linear, m.linear, idx[i]));
	COUNTED("random/tree", tree, p2m_tree_lookup(&m.tree, idx[i]));
	if (linear != flat || tree != flat)
		abort();
	COUNTED("sequential/flat", flat, READ_ONCE(m.flat[i]));
	COUNTED("sequential/linear", linear, linear_lookup(m.linear, m.linear, i));
	COUNTED("sequential/tree", tree, p2m_tree_lookup(&m.tree, i));
	p2m_tree_cursor_init(&cur, &m.tree);
	COUNTED("sequential/cursor", cursor, p2m_tree_cursor_lookup(&cur, i));
	if (linear != flat || tree != flat || cursor != flat)
		abort();
	printf("  counted %lu lookups per region (checksum %lx)\n", NR_COUNTED,
	       flat & 0xfff);
	destroy_guest(&m);
	free(idx);
}

void run_bench(void)
{
	bench_lookups();
	bench_identity();
	bench_memory();
}
