// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side test of Xen's page states (xen/include/xen/page-state.h from
 * our series) under the count_info layout of one architecture.
 *
 * run.sh extracts the PG_shift/PG_mask and PGC_* definitions of the patched
 * tree's asm/mm.h into pgc-layout.h and builds this file once per
 * architecture, with PGC_ARCH_X86 or PGC_ARCH_ARM defined.  The expected
 * results below are written from the rules the series states (cover
 * letter), not from the helpers, and every state value the field can hold
 * is walked, the six defined ones and the two that must never be seen.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* run.sh builds the arm32 layout with -m32. */
#define BITS_PER_LONG (__SIZEOF_LONG__ * 8)
/* The bit @n places from the top of count_info, as PG_shift() counts. */
#define TOP_BIT(n) (1UL << (BITS_PER_LONG - (n)))

#include "pgc-layout.h"

/* page-state.h gives PGC_static its 0 where the layout has none (x86). */
#include <xen/page-state.h>

static unsigned int failures, checks;

#define CHECK(cond, fmt, ...)						\
	do {								\
		checks++;						\
		if (!(cond)) {						\
			failures++;					\
			printf("  FAIL %s:%d: " fmt "\n", __func__,	\
			       __LINE__, ##__VA_ARGS__);		\
		}							\
	} while (0)

/* The field's values, lowest bit of the field first. */
static unsigned long state_value(unsigned int v)
{
	return (unsigned long)v << __builtin_ctzl(PGC_state);
}

enum st { UNINIT, INUSE, OFFLINING, OFFLINED, FREE, UNINIT_OFFLINING,
	  UNDEFINED };

static enum st classify(unsigned long pgc)
{
	unsigned long s = pgc & PGC_state;

	if (s == PGC_state_uninitialised)
		return UNINIT;
	if (s == PGC_state_inuse)
		return INUSE;
	if (s == PGC_state_offlining)
		return OFFLINING;
	if (s == PGC_state_offlined)
		return OFFLINED;
	if (s == PGC_state_free)
		return FREE;
	if (s == PGC_state_offlining_uninitialised)
		return UNINIT_OFFLINING;
	return UNDEFINED;
}

static const char *const st_name[] = {
	"uninitialised", "inuse", "offlining", "offlined", "free",
	"offlining_uninitialised", "undefined"
};

/* The page has not been through init_heap_pages(). */
static bool is_uninit(enum st s)
{
	return s == UNINIT || s == UNINIT_OFFLINING;
}

static void test_layout(void)
{
	unsigned long flags = PGC_allocated | PGC_xen_heap | PGC_broken |
			      PGC_extra | PGC_static;
	unsigned int v, w;

#ifdef PGC_ARCH_X86
	flags |= PGC_page_table;
#endif
	CHECK(__builtin_popcountl(PGC_state) == 3,
	      "PGC_state %#lx is not three bits", PGC_state);
	CHECK(((PGC_state >> __builtin_ctzl(PGC_state)) & 7) == 7,
	      "PGC_state %#lx is not contiguous", PGC_state);
	CHECK(!(PGC_state & flags), "PGC_state overlaps flags %#lx",
	      PGC_state & flags);
	CHECK(!(PGC_state & PGC_count_mask), "PGC_state overlaps the count");
	CHECK(!(flags & PGC_count_mask), "a flag overlaps the count");
	CHECK(PGC_state_uninitialised == 0,
	      "uninitialised is %#lx, not the zeroed frame table's 0",
	      PGC_state_uninitialised);
	/* 64-bit builds promise 32 bits of count (page_alloc.c asserts it). */
	CHECK(BITS_PER_LONG == 32 || PGC_count_width >= 32, "count width %d",
	      (int)PGC_count_width);

	/* The six defined states are distinct values of the field. */
	for (v = UNINIT; v <= UNINIT_OFFLINING; v++)
		for (w = UNINIT; w <= UNINIT_OFFLINING; w++) {
			unsigned long a[] = { PGC_state_uninitialised,
					      PGC_state_inuse,
					      PGC_state_offlining,
					      PGC_state_offlined,
					      PGC_state_free,
					      PGC_state_offlining_uninitialised };

			CHECK((a[v] & ~PGC_state) == 0, "%s outside the field",
			      st_name[v]);
			CHECK(v == w || a[v] != a[w], "%s == %s", st_name[v],
			      st_name[w]);
		}

	/*
	 * The flags that did not move: on Arm nothing but the state moved;
	 * on x86 PGC_extra and the count gave up one bit.
	 */
	CHECK(PGC_allocated == TOP_BIT(1), "allocated moved");
	CHECK(PGC_xen_heap == TOP_BIT(2), "xen_heap moved");
#ifdef PGC_ARCH_X86
	CHECK(PGC_page_table == TOP_BIT(3), "page_table moved");
	CHECK(PGC_broken == TOP_BIT(4), "broken moved");
	CHECK(PGC_extra == TOP_BIT(8), "extra is %#lx", PGC_extra);
	CHECK(PGC_count_width == BITS_PER_LONG - 8, "count width %d",
	      (int)PGC_count_width);
#else
	CHECK(PGC_static == TOP_BIT(3), "static is %#lx", PGC_static);
	CHECK(PGC_broken == TOP_BIT(7), "broken moved");
	CHECK(PGC_extra == TOP_BIT(10), "extra moved");
	CHECK(PGC_count_width == BITS_PER_LONG - 10, "count width %d",
	      (int)PGC_count_width);
#endif
}

/* Bits besides the state a page may carry while it has a user. */
static const unsigned long others[] = {
	0, 1, 7, PGC_allocated | 1, PGC_extra, PGC_xen_heap | 2,
};
#define N_OTHERS (sizeof(others) / sizeof(others[0]))

/* Every value of the field, with and without PGC_broken, with others[]. */
static unsigned long all_pgc[8 * 2 * N_OTHERS];
static unsigned int n_pgc;

static void fill_all_pgc(void)
{
	unsigned int v, b, o;

	for (v = 0; v < 8; v++)
		for (b = 0; b < 2; b++)
			for (o = 0; o < N_OTHERS; o++)
				all_pgc[n_pgc++] = state_value(v) | others[o] |
						   (b ? PGC_broken : 0);
}

static void test_uninitialised(void)
{
	unsigned int i;

	for (i = 0; i < n_pgc; i++) {
		unsigned long pgc = all_pgc[i];
		enum st s = classify(pgc);

		CHECK(pgc_uninitialised(pgc) == is_uninit(s), "%s %#lx: %d",
		      st_name[s], pgc, pgc_uninitialised(pgc));
	}
}

static void test_adopt(void)
{
	unsigned int i;

	for (i = 0; i < n_pgc; i++) {
		unsigned long pgc = all_pgc[i], next = 0x5a5a;
		enum st s = classify(pgc);
		bool want = is_uninit(s);
		bool got = pgc_adopt(pgc, &next);
		unsigned long want_st = s == UNINIT ? PGC_state_inuse
						    : PGC_state_offlining;

		CHECK(got == want, "%#lx: %d, want %d", pgc, got, want);
		if (want)
			CHECK(next == ((pgc & ~PGC_state) | want_st),
			      "%s %#lx: next %#lx", st_name[s], pgc, next);
		else
			CHECK(next == 0x5a5a, "%#lx: refused but wrote", pgc);
	}
}

static void test_free(void)
{
	unsigned int i, first;

	for (i = 0; i < n_pgc; i++)
		for (first = 0; first < 2; first++) {
			unsigned long pgc = all_pgc[i], next = 0x5a5a;
			unsigned long broken = pgc & PGC_broken;
			enum st s = classify(pgc);
			bool off = false, got, want, to_free;

			/*
			 * init_heap_pages() frees only uninitialised pages,
			 * every other free only initialised ones.
			 */
			to_free = s == (first ? UNINIT : INUSE) && !broken;
			want = to_free ||
			       s == (first ? UNINIT_OFFLINING : OFFLINING);
			got = pgc_free(pgc, first, &next, &off);
			CHECK(got == want, "%s%s %#lx first=%u: %d, want %d",
			      st_name[s], broken ? "+broken" : "", pgc, first,
			      got, want);
			if (!got || !want) {
				CHECK(next == 0x5a5a, "%#lx: refused but wrote",
				      pgc);
				continue;
			}
			if (to_free)
				CHECK(next == PGC_state_free && !off,
				      "%#lx: next %#lx off %d", pgc, next, off);
			else
				CHECK(next == (PGC_state_offlined | broken) &&
				      off, "%#lx: next %#lx off %d", pgc, next,
				      off);
		}
}

static void test_offline(void)
{
	unsigned int i, b;

	for (i = 0; i < n_pgc; i++) {
		unsigned long pgc = all_pgc[i] & ~PGC_broken;
		unsigned long want_st, next;

		switch (classify(pgc)) {
		case UNDEFINED:		/* never offlined: no such page */
			continue;
		case FREE:
			want_st = PGC_state_offlined;
			break;
		case OFFLINING:
		case OFFLINED:
		case UNINIT_OFFLINING:
			want_st = pgc & PGC_state;
			break;
		case UNINIT:		/* a user, and not yet initialised */
			want_st = PGC_state_offlining_uninitialised;
			break;
		default:		/* a page with a user */
			want_st = PGC_state_offlining;
		}
		for (b = 0; b < 2; b++) {
			next = pgc_offline(pgc, b);
			CHECK(next == ((pgc & ~PGC_state) | want_st |
				       (b ? PGC_broken : 0)),
			      "%s broken=%u %#lx: %#lx", st_name[classify(pgc)],
			      b, pgc, next);
		}
	}
}

static void test_online(void)
{
	unsigned int i;

	for (i = 0; i < n_pgc; i++) {
		unsigned long pgc = all_pgc[i], next = 0x5a5a;
		enum st s = classify(pgc);
		bool want = !(pgc & PGC_broken) &&
			    (s == OFFLINING || s == OFFLINED ||
			     s == UNINIT_OFFLINING);
		bool got = pgc_online(pgc, &next);
		unsigned long want_st = s == UNINIT_OFFLINING ?
					PGC_state_uninitialised :
					PGC_state_inuse;

		CHECK(got == want, "%s %#lx: %d, want %d", st_name[s], pgc,
		      got, want);
		if (want)
			CHECK(next == ((pgc & ~PGC_state) | want_st),
			      "%s %#lx: next %#lx", st_name[s], pgc, next);
		else
			CHECK(next == 0x5a5a, "%#lx: refused but wrote", pgc);
	}
}

static void test_ready_for_owner(void)
{
	unsigned int i;

	for (i = 0; i < n_pgc; i++) {
		unsigned long pgc = all_pgc[i];
		unsigned long rest = pgc & ~PGC_state;
		enum st s = classify(pgc);
		bool state_ok = s == INUSE || s == UNINIT;

		CHECK(pgc_ready_for_owner(pgc, 0) == (state_ok && !rest),
		      "%#lx ignore 0", pgc);
		/* Ignoring a flag the page carries. */
		CHECK(pgc_ready_for_owner(pgc | PGC_extra, PGC_extra) ==
		      (state_ok && !(rest & ~PGC_extra)),
		      "%#lx ignore extra", pgc);
	}
	CHECK(!pgc_ready_for_owner(PGC_state_inuse | PGC_broken, 0),
	      "a broken page is not ready");
}

/*
 * assign_pages(): allocated with one reference, the state and the flags of
 * the allocation (PGC_extra, PGC_static) kept, nothing else.  The original
 * series once dropped PGC_extra here.
 */
static void test_assigned(void)
{
	unsigned int i;

	for (i = 0; i < n_pgc; i++) {
		unsigned long pgc = all_pgc[i] | PGC_extra | PGC_static | 0x3;
		unsigned long got = pgc_assigned(pgc);

		CHECK((got & PGC_state) == (pgc & PGC_state),
		      "%#lx: state changed to %#lx", pgc, got & PGC_state);
		CHECK(got & PGC_extra, "%#lx: PGC_extra dropped (%#lx)", pgc, got);
		CHECK((got & PGC_static) == PGC_static,
		      "%#lx: PGC_static dropped (%#lx)", pgc, got);
		CHECK(got & PGC_allocated, "%#lx: not allocated (%#lx)", pgc, got);
		CHECK((got & PGC_count_mask) == 1, "%#lx: %lu references", pgc,
		      got & PGC_count_mask);
		CHECK(!(got & ~(PGC_state | PGC_extra | PGC_static |
				PGC_allocated | PGC_count_mask)),
		      "%#lx: kept %#lx", pgc, got & ~(PGC_state | PGC_extra |
						       PGC_static | PGC_allocated |
						       PGC_count_mask));
	}
	CHECK(!(pgc_assigned(PGC_state_inuse) & PGC_extra),
	      "PGC_extra appears from nowhere");
}

/* Whole lives of a page, each step through the helpers. */
static void test_lifecycles(void)
{
	unsigned long pgc = 0, next;
	bool off;

	/* A boot-allocator page freed: only through init_heap_pages(). */
	CHECK(!pgc_free(pgc, false, &next, &off),
	      "uninitialised freed without init_heap_pages()");
	CHECK(pgc_free(pgc, true, &pgc, &off) && !off && classify(pgc) == FREE,
	      "first free: %#lx", pgc);
	CHECK(!pgc_free(pgc, false, &next, &off), "double free accepted");
	CHECK(!pgc_free(pgc, true, &next, &off), "free page freed as new");

	/* A boot module adopted in place, owned, released, freed. */
	pgc = PGC_state_uninitialised | PGC_allocated | 1;
	CHECK(pgc_adopt(pgc, &pgc), "adopt an owned page");
	CHECK(pgc == (PGC_state_inuse | PGC_allocated | 1),
	      "adopt kept the references: %#lx", pgc);
	CHECK(!pgc_adopt(pgc, &next), "adopted twice");
	pgc &= ~(PGC_allocated | PGC_count_mask);
	CHECK(pgc_free(pgc, false, &pgc, &off) && classify(pgc) == FREE,
	      "free the adopted page: %#lx", pgc);

	/* Offline a free page and bring it back. */
	pgc = pgc_offline(pgc, false);
	CHECK(classify(pgc) == OFFLINED, "free -> offlined: %#lx", pgc);
	CHECK(pgc_online(pgc, &pgc) && classify(pgc) == INUSE,
	      "offlined -> inuse: %#lx", pgc);

	/* A page broken while in use is parked and never comes back. */
	pgc = pgc_offline(PGC_state_inuse | PGC_allocated | 1, true);
	CHECK(classify(pgc) == OFFLINING && (pgc & PGC_broken),
	      "inuse -> offlining+broken: %#lx", pgc);
	CHECK(!pgc_online(pgc, &next), "broken page onlined");
	pgc &= ~(PGC_allocated | PGC_count_mask);
	CHECK(pgc_free(pgc, false, &pgc, &off) && off && classify(pgc) == OFFLINED &&
	      (pgc & PGC_broken), "broken page freed: %#lx", pgc);
	CHECK(!pgc_online(pgc, &next), "broken offlined page onlined");

	/*
	 * A boot-allocator page with a user, offlined before the heap has
	 * seen it: it must stay recognisably uninitialised, so that freeing
	 * it goes through init_heap_pages() (node heap, MFN 0) and onlining
	 * it does not declare it initialised.
	 */
	pgc = pgc_offline(PGC_state_uninitialised | 1, false);
	next = pgc & ~PGC_count_mask;
	CHECK(!pgc_free(next, false, &next, &off),
	      "offlined uninitialised page %#lx freed as %#lx without init_heap_pages()",
	      pgc & ~PGC_count_mask, next);
	next = 0;
	CHECK(!pgc_online(pgc, &next) || classify(next) == UNINIT,
	      "offlined uninitialised page %#lx onlined as %s %#lx", pgc,
	      st_name[classify(next)], next);
	CHECK(next == (PGC_state_uninitialised | 1),
	      "onlined back to %#lx", next);
	/* Offlined again, its user gone: init_heap_pages() parks it. */
	pgc = pgc_offline(next & ~PGC_count_mask, true);
	CHECK(pgc_uninitialised(pgc), "offline lost uninitialised: %#lx", pgc);
	CHECK(pgc_free(pgc, true, &pgc, &off) && off &&
	      classify(pgc) == OFFLINED && (pgc & PGC_broken),
	      "first free of an offlined page: %#lx", pgc);
	/* Adopted while offlining: the offline is still pending. */
	pgc = pgc_offline(PGC_state_uninitialised | PGC_allocated | 1, false);
	CHECK(pgc_adopt(pgc, &pgc) && classify(pgc) == OFFLINING &&
	      (pgc & ~PGC_state) == (PGC_allocated | 1),
	      "adopted offlining page: %#lx", pgc);
}

/*
 * An offline (machine check, or the offline sysctl) and a boot page's
 * first free.  mark_page_offline() and mark_page_free() both run under
 * heap_lock, so one sees the other's result: replay both orders on the
 * page's count_info.  The broken bit must survive either way, and the page
 * must end up offlined, never in the heap.  This checks the helpers'
 * rules for both orders; that page_alloc.c applies them under the lock is
 * not something a host test of the header can see (the previous version
 * of this test replayed the old code's unlocked store instead, and
 * failed).
 */
static void test_offline_during_init(void)
{
	unsigned long word;
	bool off = false;

	/* The offline first, then init_heap_pages() frees the page. */
	word = pgc_offline(PGC_state_uninitialised, true);
	CHECK(pgc_free(word, true, &word, &off) && off,
	      "offlined, then first free: %#lx", word);
	CHECK(classify(word) == OFFLINED && (word & PGC_broken),
	      "page broken before entering the heap ends as %#lx", word);

	/* The free first: the page is free, and offlined at once. */
	word = PGC_state_uninitialised;
	CHECK(pgc_free(word, true, &word, &off) && !off,
	      "first free: %#lx", word);
	word = pgc_offline(word, true);
	CHECK(classify(word) == OFFLINED && (word & PGC_broken),
	      "page broken after entering the heap ends as %#lx", word);
}

int main(void)
{
	fill_all_pgc();
	test_layout();
	test_uninitialised();
	test_adopt();
	test_free();
	test_offline();
	test_online();
	test_ready_for_owner();
	test_assigned();
	test_lifecycles();
	test_offline_during_init();
	printf("%s: %u checks, %u failed\n", PGC_ARCH_NAME, checks, failures);
	return failures ? 1 : 0;
}
