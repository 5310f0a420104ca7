// SPDX-License-Identifier: GPL-2.0
/*
 * What a real machine's memory map costs the tree at boot.  For each E820
 * map given (tools/testing/p2m/e820/, taken from public dmesg output),
 * replay on the tree what the kernel does for a dom0 Xen gave every RAM
 * page of it: adopt Xen's list, let arch/x86/xen/setup.c mark the map's
 * holes identity and remap their RAM above (xen_set_identity_and_remap():
 * pieces of at most 509 pfns below nr_pages, one call per hole above),
 * fold as xen_p2m_switch_to_direct_map() does, then populate the remapped
 * pfns as xen_remap_memory() does.  Every answer is checked against the
 * map, and the leaves against what the answers need, which is what
 * upstream's list holds (it shares its identity and missing pages); the
 * leaves the pieces would have kept without the fold are printed.
 *
 *   p2m_test e820 FILE...
 *
 * FILE: one "START END TYPE" line per entry, END inclusive as dmesg
 * prints it; lines starting with '#' are comments ("# machine: ..." is
 * printed).
 *
 * Xen's list is an anonymous mapping never written but where setup.c
 * writes: its populated entries read 0 (a frame, as good as any here), so
 * a 4 TiB map costs page tables, not 8 GiB.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/align.h>
#include "harness.h"

#define E820_MAX	512
/* setup.c's REMAP_SIZE: the pieces it marks identity in. */
#define REMAP_PIECE	(P2M_LEAF_PFNS - 3)
#define PFN_SHIFT	12

struct e820_map {
	unsigned long start[E820_MAX], end[E820_MAX];	/* pfns, [start, end) */
	int ram[E820_MAX];
	unsigned int nr;
	char machine[256];
};

static int e820_load(const char *path, struct e820_map *map)
{
	unsigned long long s, e, prev = 0;
	char line[256], type[64];
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		return -1;
	}
	memset(map, 0, sizeof(*map));
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "# machine: ", 11)) {
			snprintf(map->machine, sizeof(map->machine), "%s", line + 11);
			map->machine[strcspn(map->machine, "\n")] = 0;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%llx %llx %63s", &s, &e, type) != 3 || e < s ||
		    map->nr == E820_MAX || s < prev) {
			fprintf(stderr, "%s: bad or unsorted entry: %s", path, line);
			fclose(f);
			return -1;
		}
		map->ram[map->nr] = !strcmp(type, "usable");
		/* As setup.c rounds: RAM inwards, everything else outwards. */
		if (map->ram[map->nr]) {
			map->start[map->nr] = (s + (1 << PFN_SHIFT) - 1) >> PFN_SHIFT;
			map->end[map->nr] = (e + 1) >> PFN_SHIFT;
		} else {
			map->start[map->nr] = s >> PFN_SHIFT;
			map->end[map->nr] = (e >> PFN_SHIFT) + 1;
		}
		map->nr++;
		prev = e + 1;
	}
	fclose(f);
	return map->nr ? 0 : -1;
}

/*
 * The next RAM pfns at or above *@pfn, as setup.c's xen_find_pfn_range():
 * moves *@pfn to their start and returns how many there are (0: none).
 */
static unsigned long e820_ram_from(const struct e820_map *map, unsigned long *pfn)
{
	unsigned int i;

	for (i = 0; i < map->nr; i++) {
		if (!map->ram[i] || map->end[i] <= *pfn)
			continue;
		if (map->start[i] > *pfn)
			*pfn = map->start[i];
		return map->end[i] - *pfn;
	}
	return 0;
}

/* What one replay did, and what the tree held at each step. */
struct e820_replay {
	unsigned long nr_pages, max_pfn, ram, hole_below, calls;
	unsigned long leaves_unfolded, leaves, mids, need_leaves, need_mids;
};

/* The remapped spans, to populate after the fold as xen_remap_memory(). */
struct remap_span {
	unsigned long to, nr;
};

static struct remap_span *remaps;
static unsigned long nr_remaps, remaps_cap;

static void remap_add(unsigned long to, unsigned long nr)
{
	if (nr_remaps == remaps_cap) {
		remaps_cap = remaps_cap * 2 + 64;
		remaps = realloc(remaps, remaps_cap * sizeof(*remaps));
		if (!remaps)
			abort();
	}
	remaps[nr_remaps].to = to;
	remaps[nr_remaps++].nr = nr;
}

static void identity(struct p2m_tree *tree, unsigned long s, unsigned long e,
		     struct e820_replay *r)
{
	long ret = p2m_tree_set_identity(tree, s, e);

	CHECK(ret >= 0, "identity [%#lx, %#lx): %ld", s, e, ret);
	r->calls++;
}

/*
 * setup.c's xen_set_identity_and_remap_chunk() for the hole [s, e): below
 * nr_pages the hole's RAM pages move to the next RAM above, and the hole
 * is marked in pieces; above, in one call.
 */
static void replay_hole(struct p2m_tree *tree, const struct e820_map *map,
			unsigned long s, unsigned long e, unsigned long *remap_pfn,
			struct e820_replay *r)
{
	unsigned long pfn = s, size, room, piece;

	while (pfn < e) {
		if (pfn >= r->nr_pages) {
			identity(tree, pfn, e, r);
			return;
		}
		size = min(e, r->nr_pages) - pfn;
		room = e820_ram_from(map, remap_pfn);
		if (!room) {
			/* No room above: released, marked in one call. */
			identity(tree, pfn, e, r);
			return;
		}
		size = min(size, room);
		r->hole_below += size;
		remap_add(*remap_pfn, size);
		for (piece = pfn; piece < pfn + size; piece += REMAP_PIECE)
			identity(tree, piece, min(piece + REMAP_PIECE, pfn + size), r);
		*remap_pfn += size;
		pfn += size;
	}
}

/* The kind setup.c leaves @pfn with, from the map alone. */
static enum p2m_kind expected_kind(const struct e820_map *map,
				   const struct e820_replay *r, unsigned long pfn)
{
	unsigned long i;
	unsigned int k;

	for (k = 0; k < map->nr; k++)
		if (map->ram[k] && pfn >= map->start[k] && pfn < map->end[k])
			break;
	/* Past the map's end nothing is marked: the tree's own missing. */
	if (k == map->nr)
		return pfn < map->end[map->nr - 1] ? P2M_KIND_IDENTITY :
						     P2M_KIND_MISSING;
	if (pfn < r->nr_pages)
		return P2M_KIND_PFN;
	for (i = 0; i < nr_remaps; i++)
		if (pfn >= remaps[i].to && pfn < remaps[i].to + remaps[i].nr)
			return P2M_KIND_PFN;
	return P2M_KIND_MISSING;
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Every answer as the map says: between two consecutive points where the
 * map's kinds may change (entry edges, nr_pages, remapped spans' edges)
 * every run of the tree must read as the kind the map gives there.
 */
static void check_answers(const struct p2m_tree *tree, const struct e820_map *map,
			  const struct e820_replay *r)
{
	unsigned long nr = 0, i, p, end, wrong = 0;
	unsigned long *at = malloc((2 * map->nr + 2 * nr_remaps + 3) * sizeof(*at));
	enum p2m_kind kind, want;

	if (!at)
		abort();
	at[nr++] = 0;
	at[nr++] = tree->max_pfn;
	at[nr++] = min(r->nr_pages, tree->max_pfn);
	for (i = 0; i < map->nr; i++) {
		at[nr++] = min(map->start[i], tree->max_pfn);
		at[nr++] = min(map->end[i], tree->max_pfn);
	}
	for (i = 0; i < nr_remaps; i++) {
		at[nr++] = remaps[i].to;
		at[nr++] = remaps[i].to + remaps[i].nr;
	}
	qsort(at, nr, sizeof(*at), cmp_ulong);
	for (i = 0; i + 1 < nr; i++) {
		if (at[i] == at[i + 1])
			continue;
		want = expected_kind(map, r, at[i]);
		for (p = at[i]; p < at[i + 1]; p = end) {
			end = p2m_tree_next_range(tree, p, at[i + 1], &kind);
			if (kind != want && wrong++ < 4)
				fprintf(stderr, "[%#lx, %#lx) reads %s, the map says %s\n",
					p, end, p2m_kind_names[kind], p2m_kind_names[want]);
		}
	}
	CHECK(!wrong, "%lu runs read other than the map says", wrong);
	free(at);
}

/*
 * The WINDOW-aligned spans of the tree's answers that do not read as one
 * sentinel kind throughout: the leaves (LEAF) or mids (MID) the answers
 * need.  From the answers alone, whatever nodes serve them.
 */
static unsigned long nodes_needed(const struct p2m_tree *tree, unsigned long window)
{
	unsigned long pfn, end, first, last, cur = ~0UL, needed = 0;
	enum p2m_kind kind, cur_kind = P2M_KIND_MISSING;
	bool mixed = false, shared;

	for (pfn = 0; pfn < tree->max_pfn; pfn = end) {
		end = p2m_tree_next_range(tree, pfn, tree->max_pfn, &kind);
		shared = kind == P2M_KIND_IDENTITY || kind == P2M_KIND_MISSING;
		first = pfn / window;
		last = (end - 1) / window;
		if (first != cur) {
			needed += cur != ~0UL && mixed;
			cur = first;
			cur_kind = kind;
			mixed = !shared;
		} else if (kind != cur_kind || !shared) {
			mixed = true;
		}
		if (last == first)
			continue;
		/* The run covers the windows between whole. */
		needed += mixed + (shared ? 0 : last - first - 1);
		cur = last;
		cur_kind = kind;
		mixed = !shared;
	}
	return needed + (cur != ~0UL && mixed);
}

static void replay_one(const char *path)
{
	struct e820_replay r = { 0 };
	struct p2m_tree_stats st;
	struct harness_mem mem;
	struct p2m_tree tree;
	struct e820_map *map = malloc(sizeof(*map));
	unsigned long *list, remap_pfn, prev_end, i, len, before, folded;
	char why[128];

	if (!map || e820_load(path, map)) {
		CHECK(0, "cannot read %s", path);
		free(map);
		return;
	}
	for (i = 0; i < map->nr; i++) {
		if (!map->ram[i] || map->end[i] <= map->start[i])
			continue;
		r.ram += map->end[i] - map->start[i];
		r.max_pfn = max(r.max_pfn, map->end[i]);
	}
	/* Xen hands dom0 every RAM page, as pfns 0 up. */
	r.nr_pages = r.ram;
	CHECK(!harness_tree_init(&tree, &mem, r.max_pfn), "init %#lx", r.max_pfn);
	len = ALIGN(r.nr_pages, P2M_LEAF_PFNS) * sizeof(long);
	list = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(list != MAP_FAILED, "cannot map a list of %lu pfns", r.nr_pages);
	if (list == MAP_FAILED)
		goto out;
	CHECK(!p2m_tree_adopt(&tree, list, r.nr_pages), "adopt");

	/* xen_foreach_remap_area(): from each RAM entry's end to the next's start. */
	nr_remaps = 0;
	remap_pfn = r.nr_pages;
	prev_end = 0;
	for (i = 0; i < map->nr; i++) {
		unsigned long end = map->ram[i] ? map->start[i] : map->end[i];

		if (map->ram[i] || i == map->nr - 1) {
			if (prev_end < end)
				replay_hole(&tree, map, prev_end, end, &remap_pfn, &r);
			prev_end = max(prev_end, map->ram[i] ? map->end[i] : end);
		}
	}

	/*
	 * Without the fold the pieces' leaves would stay, beside those the
	 * remapped pfns get either way.
	 */
	p2m_tree_get_stats(&tree, &st);
	before = st.leaves + st.adopted_leaves;
	p2m_tree_fold(&tree, NULL);
	p2m_tree_get_stats(&tree, &st);
	folded = st.leaves + st.adopted_leaves;
	for (i = 0; i < nr_remaps; i++) {
		unsigned long pfn;

		for (pfn = remaps[i].to; pfn < remaps[i].to + remaps[i].nr; pfn++)
			CHECK(!p2m_tree_populate(&tree, pfn) && p2m_tree_set(&tree, pfn, 0x1000),
			      "populate remapped pfn %#lx", pfn);
	}
	p2m_tree_get_stats(&tree, &st);
	r.leaves = st.leaves + st.adopted_leaves;
	r.leaves_unfolded = before + r.leaves - folded;
	r.mids = st.mids;
	check_answers(&tree, map, &r);
	r.need_leaves = nodes_needed(&tree, P2M_LEAF_PFNS);
	r.need_mids = nodes_needed(&tree, P2M_MID_PFNS);
	CHECK(!p2m_tree_verify(&tree, why, sizeof(why)), "%s: %s", path, why);
	CHECK(r.leaves == r.need_leaves && r.mids == r.need_mids && !st.foldable_leaves,
	      "%s: %lu leaves, %lu mids; the answers need %lu and %lu", path,
	      r.leaves, r.mids, r.need_leaves, r.need_mids);

	printf("  %s\n    %lu MiB RAM to pfn %#lx, %u entries; %lu MiB of holes below nr_pages in %lu identity calls\n"
	       "    leaves: %lu needed (%lu KiB); without the fold %lu (+%lu KiB, +%.1f%%); with it %lu\n",
	       map->machine[0] ? map->machine : path, r.ram >> (20 - PFN_SHIFT),
	       r.max_pfn, map->nr, r.hole_below >> (20 - PFN_SHIFT), r.calls,
	       r.need_leaves, r.need_leaves * (P2M_TREE_NODE_SIZE >> 10),
	       r.leaves_unfolded, (r.leaves_unfolded - r.need_leaves) * (P2M_TREE_NODE_SIZE >> 10),
	       r.need_leaves ? 100.0 * (r.leaves_unfolded - r.need_leaves) / r.need_leaves : 0.0,
	       r.leaves);
	munmap(list, len);
out:
	CHECK(harness_tree_destroy(&tree, &mem) == 0, "no leak");
	free(map);
}

int run_e820(int nr, char **paths)
{
	int i;

	for (i = 0; i < nr; i++)
		replay_one(paths[i]);
	return p2m_harness_failures ? 1 : 0;
}
