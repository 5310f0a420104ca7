// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit checks of a running PV guest's P2M against the memory map Xen gave
 * it.  These hold for any correct P2M implementation, so they guard the
 * rewrite: they passed first against upstream 6.1's linear list.
 *
 * The rules come from arch/x86/xen/setup.c: every page that is not RAM in
 * the Xen memory map (the machine map for dom0, the pseudo-physical map for
 * a domU) is identity mapped, and so is everything above the map's end;
 * every RAM pfn is either populated with an MFN that Xen's M2P says is ours
 * or is not populated at all; and the populated pfns are exactly the pages
 * Xen has accounted to the domain.
 */

#include <kunit/test.h>
#include <linux/pfn.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <asm/e820/types.h>
#include <asm/pgtable_types.h>
#include <asm/sections.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/hypervisor.h>
#include <asm/xen/page.h>
#include <xen/interface/memory.h>
#include <xen/xen.h>
#ifdef CONFIG_XEN_P2M_TREE
#include <xen/p2m_tree.h>
#endif

#define P2M_KUNIT_MAX_ENTRIES	128

/* How far past the end of the map every pfn is checked, then sampled. */
#define P2M_KUNIT_TAIL_PFNS	BIT(18)
#define P2M_KUNIT_SAMPLE_MAX	BIT(40)

struct p2m_kunit_map {
	struct e820_entry *entry;
	unsigned int nr;
};

static int p2m_kunit_cmp_entry(const void *a, const void *b)
{
	const struct e820_entry *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/* Fetch the map setup.c worked from, sorted by address. */
static void p2m_kunit_get_map(struct kunit *test, struct p2m_kunit_map *map)
{
	struct xen_memory_map memmap;
	unsigned int i;
	int rc;

	if (!xen_pv_domain())
		kunit_skip(test, "not a Xen PV guest");

	map->entry = kunit_kcalloc(test, P2M_KUNIT_MAX_ENTRIES,
				   sizeof(*map->entry), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, map->entry);
	memmap.nr_entries = P2M_KUNIT_MAX_ENTRIES;
	set_xen_guest_handle(memmap.buffer, map->entry);
	rc = HYPERVISOR_memory_op(xen_initial_domain() ?
				  XENMEM_machine_memory_map : XENMEM_memory_map,
				  &memmap);
	KUNIT_ASSERT_EQ_MSG(test, rc, 0, "memory_map hypercall failed");
	KUNIT_ASSERT_GT(test, memmap.nr_entries, 0U);
	map->nr = memmap.nr_entries;
	sort(map->entry, map->nr, sizeof(*map->entry), p2m_kunit_cmp_entry,
	     NULL);
	for (i = 1; i < map->nr; i++)
		KUNIT_ASSERT_LE_MSG(test,
				    map->entry[i - 1].addr + map->entry[i - 1].size,
				    map->entry[i].addr,
				    "memory map entries %u and %u overlap", i - 1, i);
}

/*
 * Dom0 treats UNUSABLE machine-map entries as RAM (Xen refuses identity
 * mappings of them), as setup.c's xen_ignore_unusable() does.
 */
static bool p2m_kunit_is_ram(const struct e820_entry *e)
{
	return e->type == E820_TYPE_RAM ||
	       (xen_initial_domain() && e->type == E820_TYPE_UNUSABLE);
}

/* Holes up to this many pfns are checked pfn by pfn. */
#define P2M_KUNIT_FULL_SCAN	BIT(14)

struct p2m_kunit_miss {
	unsigned long nr, first, got;
};

static void p2m_kunit_check_one(unsigned long pfn, struct p2m_kunit_miss *miss)
{
	unsigned long mfn = __pfn_to_mfn(pfn);

	if (mfn == IDENTITY_FRAME(pfn))
		return;
	if (!miss->nr++) {
		miss->first = pfn;
		miss->got = mfn;
	}
}

/*
 * Check that [start, end) reads back as identity.  Small holes are checked
 * whole; in large ones (a PCI hole is a million pfns, and a lookup under
 * TCG is slow) the first and last P2M_KUNIT_FULL_SCAN pfns are checked,
 * and in between the pfns either side of every 512-pfn leaf boundary plus
 * one pfn inside each leaf, so a wrong leaf anywhere is caught.
 */
static void p2m_kunit_expect_identity(struct kunit *test, unsigned long start,
				      unsigned long end)
{
	struct p2m_kunit_miss miss = {};
	unsigned long pfn, step = PAGE_SIZE / sizeof(unsigned long);

	if (end - start <= 2 * P2M_KUNIT_FULL_SCAN) {
		for (pfn = start; pfn < end; pfn++)
			p2m_kunit_check_one(pfn, &miss);
	} else {
		for (pfn = start; pfn < start + P2M_KUNIT_FULL_SCAN; pfn++)
			p2m_kunit_check_one(pfn, &miss);
		for (pfn = ALIGN(pfn, step); pfn < end - P2M_KUNIT_FULL_SCAN;
		     pfn += step) {
			p2m_kunit_check_one(pfn - 1, &miss);
			p2m_kunit_check_one(pfn, &miss);
			p2m_kunit_check_one(pfn + (pfn / step * 37) % step, &miss);
		}
		for (pfn = end - P2M_KUNIT_FULL_SCAN; pfn < end; pfn++)
			p2m_kunit_check_one(pfn, &miss);
	}
	KUNIT_EXPECT_EQ_MSG(test, miss.nr, 0UL,
			    "hole [%#lx, %#lx): %lu pfns not identity, first %#lx -> %#lx",
			    start, end, miss.nr, miss.first, miss.got);
}

/* Every page that is not RAM below the map's end is identity mapped. */
static void p2m_kunit_holes_are_identity(struct kunit *test)
{
	const struct e820_entry *last;
	struct p2m_kunit_map map;
	unsigned long hole_start = 0;
	unsigned int i;

	p2m_kunit_get_map(test, &map);
	for (i = 0; i < map.nr; i++) {
		const struct e820_entry *e = &map.entry[i];

		if (!p2m_kunit_is_ram(e))
			continue;
		/* A RAM entry starting mid-page leaves that page to the hole. */
		p2m_kunit_expect_identity(test, hole_start, PFN_UP(e->addr));
		hole_start = PFN_DOWN(e->addr + e->size);
	}
	/*
	 * Non-RAM entries at the end of the map are rounded outwards; RAM at
	 * the end leaves its partial last page out of the identity range.
	 */
	last = &map.entry[map.nr - 1];
	if (!p2m_kunit_is_ram(last))
		p2m_kunit_expect_identity(test, hole_start,
					  PFN_UP(last->addr + last->size));
}

/* Above the map, everything is identity (PCI BARs may live there). */
static void p2m_kunit_above_map_is_identity(struct kunit *test)
{
	struct p2m_kunit_map map;
	const struct e820_entry *last;
	unsigned long end, pfn;

	p2m_kunit_get_map(test, &map);
	last = &map.entry[map.nr - 1];
	end = PFN_UP(last->addr + last->size);
	p2m_kunit_expect_identity(test, end, end + P2M_KUNIT_TAIL_PFNS);
	for (pfn = roundup_pow_of_two(end + P2M_KUNIT_TAIL_PFNS);
	     pfn <= P2M_KUNIT_SAMPLE_MAX; pfn <<= 1)
		p2m_kunit_expect_identity(test, pfn - 1, pfn + 1);
}

/*
 * Every RAM pfn is either populated with an MFN whose M2P entry points back
 * at it, or not populated (INVALID_P2M_ENTRY, or identity: upstream 6.1
 * answers identity for machine RAM beyond dom0's allocation, which Xen
 * will not let dom0 map anyway).  The populated count is exactly what Xen
 * accounts to the domain.
 */
static void p2m_kunit_ram_matches_xen(struct kunit *test)
{
	struct p2m_kunit_map map;
	unsigned long populated = 0, unpopulated = 0, bad = 0;
	unsigned long first_bad = 0, got = 0;
	domid_t self = DOMID_SELF;
	unsigned int i;
	long reservation;

	p2m_kunit_get_map(test, &map);
	for (i = 0; i < map.nr; i++) {
		const struct e820_entry *e = &map.entry[i];
		unsigned long pfn;

		if (!p2m_kunit_is_ram(e))
			continue;
		for (pfn = PFN_UP(e->addr); pfn < PFN_DOWN(e->addr + e->size);
		     pfn++) {
			unsigned long mfn = __pfn_to_mfn(pfn);

			if (mfn == INVALID_P2M_ENTRY ||
			    mfn == IDENTITY_FRAME(pfn)) {
				unpopulated++;
				continue;
			}
			if (!(mfn & (IDENTITY_FRAME_BIT | FOREIGN_FRAME_BIT)) &&
			    mfn_to_pfn_no_overrides(mfn) == pfn) {
				populated++;
				continue;
			}
			if (!bad++) {
				first_bad = pfn;
				got = mfn;
			}
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0UL,
			    "%lu RAM pfns map to an MFN Xen's M2P disowns, first %#lx -> %#lx",
			    bad, first_bad, got);

	reservation = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
	KUNIT_ASSERT_GT(test, reservation, 0L);
	KUNIT_EXPECT_EQ_MSG(test, populated, (unsigned long)reservation,
			    "populated RAM pfns %lu (unpopulated %lu), Xen accounts %ld pages to us",
			    populated, unpopulated, reservation);
}

/*
 * Walk the P2M the way the toolstack does for save and migration: from
 * shared_info's frame-list-list MFN, through the frame pages, to the
 * leaves, up to shared_info's max_pfn.  Every entry must be what a lookup
 * returns, except that identity pfns may read INVALID_P2M_ENTRY (the
 * identity sentinel holds that, so the toolstack skips them).
 */
static void p2m_kunit_frame_list_matches(struct kunit *test)
{
	const unsigned long per = PAGE_SIZE / sizeof(unsigned long);
	unsigned long fll, max, pfn, i, bad = 0, first = 0, got = 0;
	unsigned long *top, *frame, *leaf;

	if (!xen_pv_domain())
		kunit_skip(test, "not a Xen PV guest");
	fll = HYPERVISOR_shared_info->arch.pfn_to_mfn_frame_list_list;
	max = HYPERVISOR_shared_info->arch.max_pfn;
	if (fll == ~0UL)
		kunit_skip(test, "the guest publishes a virtual P2M list instead");
	KUNIT_ASSERT_NE(test, fll, 0UL);
	KUNIT_ASSERT_GE_MSG(test, max, max_pfn & ~(per - 1),
			    "shared_info max_pfn below the guest's RAM");

	top = mfn_to_virt(fll);
	for (pfn = 0; pfn < max && pfn < per * per * per; pfn += per) {
		frame = mfn_to_virt(top[pfn / (per * per)]);
		leaf = mfn_to_virt(frame[(pfn / per) % per]);
		for (i = 0; i < per; i++) {
			unsigned long want = __pfn_to_mfn(pfn + i);

			if (leaf[i] == want ||
			    (want == IDENTITY_FRAME(pfn + i) &&
			     leaf[i] == INVALID_P2M_ENTRY))
				continue;
			if (!bad++) {
				first = pfn + i;
				got = leaf[i];
			}
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0UL,
			    "%lu entries differ through the frame list, first pfn %#lx reads %#lx, lookup %#lx",
			    bad, first, got, __pfn_to_mfn(first));
}

/* set_phys_to_machine() is not exported: built in only. */
#if defined(CONFIG_XEN_P2M_TREE) && IS_BUILTIN(CONFIG_XEN_P2M_E820_KUNIT_TEST)
/*
 * Our tree's glue only: a value set_phys_to_machine() refuses must not
 * cost a leaf first.  The identity value of another pfn is never valid,
 * so setting it where a sentinel leaf answers must leave the sentinel.
 */
static void p2m_kunit_refused_allocates_nothing(struct kunit *test)
{
	unsigned long pfn, *leaf = NULL;

	if (!xen_pv_domain())
		kunit_skip(test, "not a Xen PV guest");
	for (pfn = 0; pfn < xen_p2m_tree.max_pfn; pfn += P2M_LEAF_PFNS) {
		leaf = p2m_tree_leaf(&xen_p2m_tree, pfn);
		if (leaf == xen_p2m_tree.identity_leaf ||
		    leaf == xen_p2m_tree.missing_leaf)
			break;
	}
	KUNIT_ASSERT_LT_MSG(test, pfn, xen_p2m_tree.max_pfn,
			    "no sentinel leaf below max_pfn %#lx",
			    xen_p2m_tree.max_pfn);

	KUNIT_EXPECT_FALSE(test, set_phys_to_machine(pfn, IDENTITY_FRAME(pfn + 1)));
	KUNIT_EXPECT_PTR_EQ_MSG(test, p2m_tree_leaf(&xen_p2m_tree, pfn), leaf,
				"pfn %#lx got a leaf for a value it refused", pfn);
	KUNIT_EXPECT_EQ(test, __pfn_to_mfn(pfn),
			leaf == xen_p2m_tree.identity_leaf ?
			IDENTITY_FRAME(pfn) : INVALID_P2M_ENTRY);
}

/* Whether the kernel maps @va writable; @what names it in the message. */
static void p2m_kunit_expect_ro(struct kunit *test, unsigned long va,
				const char *what)
{
	unsigned int level;
	pte_t *pte = lookup_address(va, &level);

	KUNIT_ASSERT_NOT_NULL_MSG(test, pte, "%s at %#lx is not mapped", what, va);
	KUNIT_EXPECT_TRUE_MSG(test, pte_present(*pte), "%s at %#lx is not present",
			      what, va);
	KUNIT_EXPECT_FALSE_MSG(test, pte_write(*pte),
			       "%s at %#lx is writable: a stray write would change every pfn it answers for",
			       what, va);
}

/*
 * The four sentinel nodes answer for every missing and identity span and
 * are never written once built: they must be mapped read-only, through
 * the direct map and, for those in the kernel image (brk), through the
 * kernel's own mapping too (on Xen PV both reach the same L1 entry, so
 * the second look guards the day they stop sharing it).
 */
static void p2m_kunit_sentinels_read_only(struct kunit *test)
{
	const struct {
		const void *node;
		const char *name;
	} sentinel[] = {
		{ xen_p2m_tree.missing_leaf, "missing leaf" },
		{ xen_p2m_tree.identity_leaf, "identity leaf" },
		{ xen_p2m_tree.missing_mid, "missing mid" },
		{ xen_p2m_tree.identity_mid, "identity mid" },
	};
	unsigned long pa;
	unsigned int i;

	if (!xen_pv_domain())
		kunit_skip(test, "not a Xen PV guest");
	for (i = 0; i < ARRAY_SIZE(sentinel); i++) {
		pa = __pa(sentinel[i].node);
		p2m_kunit_expect_ro(test, (unsigned long)__va(pa), sentinel[i].name);
		if (pa >= __pa_symbol(_text) && pa < __pa_symbol(_brk_end))
			p2m_kunit_expect_ro(test, pa - phys_base + __START_KERNEL_map,
					    sentinel[i].name);
	}
}
#endif

static struct kunit_case p2m_e820_cases[] = {
	KUNIT_CASE(p2m_kunit_holes_are_identity),
	KUNIT_CASE(p2m_kunit_above_map_is_identity),
	KUNIT_CASE(p2m_kunit_ram_matches_xen),
	KUNIT_CASE(p2m_kunit_frame_list_matches),
#if defined(CONFIG_XEN_P2M_TREE) && IS_BUILTIN(CONFIG_XEN_P2M_E820_KUNIT_TEST)
	KUNIT_CASE(p2m_kunit_refused_allocates_nothing),
	KUNIT_CASE(p2m_kunit_sentinels_read_only),
#endif
	{}
};

static struct kunit_suite p2m_e820_suite = {
	.name = "xen_p2m_e820",
	.test_cases = p2m_e820_cases,
};

kunit_test_suite(p2m_e820_suite);

MODULE_DESCRIPTION("KUnit: a PV guest's P2M agrees with its Xen memory map");
MODULE_LICENSE("GPL");
