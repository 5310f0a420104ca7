// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit model of how the x86 PV glue sizes the P2M tree at boot, before
 * setup.c has placed extra memory: p2m_pfns_needed() on the inputs Xen
 * gives dom0 and domUs of various shapes.  Included by arch/x86/xen/p2m.c,
 * whose static function it calls.
 *
 * What the tree must cover is what setup.c may use: xen_memory_setup()
 * puts extra memory (for dom0 up to its maximum reservation, for a domU as
 * much as its map and setup.c's ratio allow) into the RAM regions of its
 * memory map past the populated pages, wherever they lie, so a map with
 * holes below the reservation's size (a domU with e820_host=1, dom0 on
 * the machine map) places it above the reservation.  For dom0 the rule
 * covers all of the machine's RAM, which also keeps RAM dom0 does not own
 * inside the tree, answering missing (Documentation/xen/p2m.rst).
 */

#include <kunit/test.h>

/* A RAM region of @n pfns from pfn @s. */
#define P2M_RAM(s, n)							\
	{ .addr = PFN_PHYS(s), .size = PFN_PHYS(n), .type = E820_TYPE_RAM }
/* A region of another type, which the tree need not cover. */
#define P2M_RESERVED(s, n)						\
	{ .addr = PFN_PHYS(s), .size = PFN_PHYS(n), .type = E820_TYPE_RESERVED }

struct p2m_sizing_case {
	const char *name;
	unsigned long nr_pages, max_reservation, hotplug_pfns;
	struct e820_entry map[6];
	unsigned int map_nr;
	bool unusable_is_ram;
	/*
	 * What the rule must return: the highest pfn + 1 setup.c may use and,
	 * for dom0, the end of the machine's RAM, whichever is higher.
	 */
	unsigned long want;
};

static const struct p2m_sizing_case p2m_sizing_cases[] = {
	{
		.name = "domU, one RAM region as big as its reservation",
		.nr_pages = 0x8000, .max_reservation = 0x10000,
		.map = { P2M_RAM(0, 0x10000) }, .map_nr = 1,
		.want = 0x10000,
	}, {
		/* libxl's map for e820_host=1 on a host with RAM split at 3 GiB. */
		.name = "domU with e820_host: RAM above its reservation, no hotplug",
		.nr_pages = 0x40000, .max_reservation = 0xe0000,
		.map = { P2M_RAM(0, 0xa0), P2M_RESERVED(0xa0, 0x60),
			 P2M_RAM(0x100, 0xbff00), P2M_RESERVED(0xc0000, 0x40000),
			 P2M_RAM(0x100000, 0x20000) },
		.map_nr = 5,
		.want = 0x120000,
	}, {
		.name = "domU with e820_host: the low hole alone pushes RAM up",
		.nr_pages = 0x8000, .max_reservation = 0x10000,
		.map = { P2M_RAM(0, 0xa0), P2M_RESERVED(0xa0, 0x60),
			 P2M_RAM(0x100, 0xff60) },
		.map_nr = 3,
		.want = 0x10060,
	}, {
		.name = "domU whose hotplug limit covers everything",
		.nr_pages = 0x40000, .max_reservation = 0xe0000,
		.hotplug_pfns = 0x8000000,
		.map = { P2M_RAM(0, 0xc0000), P2M_RAM(0x100000, 0x20000) },
		.map_nr = 2,
		.want = 0x8000000,
	}, {
		.name = "dom0: machine RAM above its allocation",
		.nr_pages = 0x20000, .max_reservation = 0x20000,
		.map = { P2M_RAM(0, 0x9f), P2M_RAM(0x100, 0x3fee0),
			 P2M_RESERVED(0x3ffe0, 0x20) },
		.map_nr = 3,
		.want = 0x3ffe0,
	}, {
		.name = "dom0 on a machine past the tree's limit",
		.nr_pages = 0x100000, .max_reservation = 0x100000,
		.map = { P2M_RAM(0, 0xc0000),
			 P2M_RAM(0x100000, P2M_TREE_MAX_PFN + 0x1000 - 0x100000) },
		.map_nr = 2,
		.want = P2M_TREE_MAX_PFN,
	}, {
		/* xen_ignore_unusable(): Xen clipped RAM (mem=) to UNUSABLE. */
		.name = "dom0: extra memory runs into RAM Xen marked unusable",
		.nr_pages = 0x80000, .max_reservation = 0x400000,
		.unusable_is_ram = true,
		.map = { P2M_RAM(0, 0xc0000), P2M_RESERVED(0xc0000, 0x40000),
			 P2M_RAM(0x100000, 0x100000),
			 { .addr = PFN_PHYS(0x200000), .size = PFN_PHYS(0x600000),
			   .type = E820_TYPE_UNUSABLE } },
		.map_nr = 4,
		.want = 0x800000,
	}, {
		.name = "domU for which Xen has no memory map",
		.nr_pages = 0x8000, .max_reservation = 0x8000,
		.want = 0x8000 + P2M_NOMAP_SLACK_PFNS,
	}, {
		.name = "domU whose reservation Xen did not report",
		.nr_pages = 0x8000,
		.map = { P2M_RAM(0, 0x8000) }, .map_nr = 1,
		.want = 0x8000,
	},
};

static void p2m_sizing_case_desc(const struct p2m_sizing_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(p2m_sizing, p2m_sizing_cases, p2m_sizing_case_desc);

/* The tree covers every pfn it must, and no more. */
static void p2m_sizing_covers_setup(struct kunit *test)
{
	const struct p2m_sizing_case *c = test->param_value;
	struct p2m_sizing in = {
		.nr_pages = c->nr_pages,
		.max_reservation = c->max_reservation,
		.hotplug_pfns = c->hotplug_pfns,
		.map = c->map,
		.map_nr = c->map_nr,
		.unusable_is_ram = c->unusable_is_ram,
	};
	unsigned long got = p2m_pfns_needed(&in);

	KUNIT_EXPECT_GE_MSG(test, got, c->want,
			    "tree sized to %#lx pfns, it must cover %#lx",
			    got, c->want);
	KUNIT_EXPECT_LE_MSG(test, got, c->want,
			    "tree sized to %#lx pfns, %#lx are all it needs",
			    got, c->want);
}

static struct kunit_case p2m_sizing_test_cases[] = {
	KUNIT_CASE_PARAM(p2m_sizing_covers_setup, p2m_sizing_gen_params),
	{}
};

static struct kunit_suite p2m_sizing_suite = {
	.name = "xen_p2m_sizing",
	.test_cases = p2m_sizing_test_cases,
};

kunit_test_suite(p2m_sizing_suite);
