// SPDX-License-Identifier: GPL-2.0
/*
 * Xen PV physical-to-machine (P2M) map.
 *
 * A PV guest runs on machine frames Xen chose, and Linux must know, for
 * every pseudo-physical frame (pfn), which machine frame (MFN) backs it.
 * That map lives in the three-level tree of drivers/xen/p2m_tree.c; this
 * file is the x86 PV side of it:
 *
 * - at boot it sizes the tree from the largest pfn the guest may need,
 *   and adopts Xen's initial flat list (xen_start_info->mfn_list) as the
 *   tree's first leaves, without copying it;
 * - it supplies the tree's nodes: from brk before the memory map is known,
 *   from memblock until the page allocator runs, then from the page
 *   allocator;
 * - it keeps the three-level MFN frame list that the toolstack walks to
 *   save and migrate the guest in step with the tree;
 * - it implements what the rest of Linux calls: get_phys_to_machine(),
 *   __set_phys_to_machine(), set_phys_to_machine(), xen_alloc_p2m_entry(),
 *   set_phys_range_identity(), the grant foreign-mapping helpers, and the
 *   debugfs dump.
 *
 * Lookups (__pfn_to_mfn() in asm/xen/page.h) walk the tree without a lock.
 * Documentation/xen/p2m.rst describes the design and how to inspect it.
 */

#include <linux/debugfs.h>
#include <linux/export.h>
#include <linux/init.h>
#include <linux/io.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include <asm/e820/types.h>
#include <asm/sections.h>
#include <asm/set_memory.h>
#include <asm/setup.h>
#include <asm/tlbflush.h>
#include <asm/xen/hypercall.h>
#include <asm/xen/hypervisor.h>
#include <asm/xen/page.h>

#include <xen/features.h>
#include <xen/grant_table.h>
#include <xen/interface/memory.h>
#include <xen/p2m_tree.h>
#include <xen/xen.h>

#include "debugfs.h"
#include "xen-ops.h"

/*
 * The encodings are fixed by the Xen ABI and the toolstack; the tree
 * spells them its own way.
 */
static_assert(P2M_ENTRY_INVALID == INVALID_P2M_ENTRY);
static_assert(P2M_IDENTITY_BIT == IDENTITY_FRAME_BIT);
static_assert(P2M_FOREIGN_BIT == FOREIGN_FRAME_BIT);
static_assert(P2M_LEAF_PFNS == P2M_PER_PAGE);
static_assert(P2M_TREE_NODE_SIZE == PAGE_SIZE);

struct p2m_tree xen_p2m_tree __read_mostly;
EXPORT_SYMBOL_GPL(xen_p2m_tree);

/* Highest pfn + 1 setup.c may hand out as extra memory. */
unsigned long xen_max_p2m_pfn __read_mostly;
EXPORT_SYMBOL_GPL(xen_max_p2m_pfn);

#ifdef CONFIG_XEN_MEMORY_HOTPLUG_LIMIT
#define P2M_HOTPLUG_PFNS	\
	((unsigned long)CONFIG_XEN_MEMORY_HOTPLUG_LIMIT << (30 - PAGE_SHIFT))
#else
#define P2M_HOTPLUG_PFNS	0UL
#endif

/*
 * brk holds every node needed before memblock works: the four sentinels,
 * the top array (a page per 512 GiB of pfns, up to 64 TiB), a mid per GiB
 * of Xen's initial list (up to 512 GiB) and the edges of the identity
 * ranges setup.c marks from the E820 (at most four nodes per range).
 * What is left unused goes back to memblock at reserve_brk().
 */
#define P2M_BRK_TOP_PAGES	(P2M_TREE_MAX_PFN / P2M_MID_PFNS / P2M_TREE_ENTRIES)
#define P2M_BRK_MID_PAGES	512
#define P2M_BRK_EDGE_PAGES	(4 * 64)
RESERVE_BRK(xen_p2m_tree, PAGE_SIZE * (4 + P2M_BRK_TOP_PAGES +
				       P2M_BRK_MID_PAGES + P2M_BRK_EDGE_PAGES));

/* Where the tree's nodes came from, for the debugfs statistics. */
static struct {
	unsigned long brk, memblock, buddy;
	unsigned long brk_unreturnable;	/* brk nodes freed or retired */
	unsigned long retired_kept;	/* retired after boot: readers may hold them */
	unsigned long frame_pages;
} p2m_mem;

/* Highest populated pfn + 1, for shared_info->arch.max_pfn. */
static unsigned long p2m_tools_max_pfn;

/*
 * With CONFIG_XEN_P2M_TREE_DEBUG, check the whole tree once a step of its
 * construction is over; each step runs with only the boot CPU changing the
 * tree.  The boot checks of the debug kernel read these lines.
 */
static void __init p2m_debug_verify(const char *step)
{
	char why[128];

	if (!IS_ENABLED(CONFIG_XEN_P2M_TREE_DEBUG))
		return;
	if (p2m_tree_verify(&xen_p2m_tree, why, sizeof(why)))
		pr_err("P2M: inconsistent after %s: %s\n", step, why);
	else
		pr_info("P2M: verified after %s\n", step);
}

static bool p2m_in_brk(const void *node)
{
	return node >= (void *)__brk_base && node < (void *)__brk_limit;
}

static void *__ref p2m_alloc_node(struct p2m_tree *tree,
				  enum p2m_tree_level level, size_t size)
{
	void *node;

	size = PAGE_ALIGN(size);
	if (_brk_start) {
		if (_brk_end + size > (unsigned long)__brk_limit) {
			pr_err_once("P2M: out of brk for early P2M nodes\n");
			return NULL;
		}
		p2m_mem.brk += size >> PAGE_SHIFT;
		return extend_brk(size, PAGE_SIZE);
	}
	if (!slab_is_available()) {
		node = memblock_alloc(size, PAGE_SIZE);
		if (node)
			p2m_mem.memblock += size >> PAGE_SHIFT;
		return node;
	}
	node = (void *)__get_free_pages(GFP_KERNEL, get_order(size));
	if (node)
		p2m_mem.buddy += 1UL << get_order(size);
	return node;
}

static void __ref p2m_free_node(struct p2m_tree *tree, void *node,
				enum p2m_tree_level level)
{
	if (p2m_in_brk(node)) {
		p2m_mem.brk_unreturnable++;
	} else if (!slab_is_available()) {
		memblock_free(node, PAGE_SIZE);
		p2m_mem.memblock--;
	} else {
		free_page((unsigned long)node);
		p2m_mem.buddy--;
	}
}

/*
 * A node the tree no longer points at.  While only the boot CPU runs, no
 * reader can still hold it; afterwards one might, and as the tree has no
 * grace periods the node is kept.  Only set_phys_range_identity(), an
 * __init function, retires nodes, so in practice the second case does not
 * arise.
 */
static void p2m_retire_node(struct p2m_tree *tree, void *node,
			    enum p2m_tree_level level)
{
	if (system_state == SYSTEM_BOOTING)
		p2m_free_node(tree, node, level);
	else
		p2m_mem.retired_kept++;
}

static const struct p2m_tree_ops xen_p2m_ops = {
	.alloc = p2m_alloc_node,
	.free = p2m_free_node,
	.retire = p2m_retire_node,
};

/* As large as setup.c's, which Xen must be able to fill the same way. */
static struct e820_entry p2m_boot_map[E820_MAX_ENTRIES] __initdata;

/* setup.c's slack on the map it makes up when Xen has none for a domU. */
#define P2M_NOMAP_SLACK_PFNS	PFN_DOWN(8UL << 20)

/**
 * struct p2m_sizing - what Xen tells a PV domain at boot that sizes its P2M
 * @nr_pages: pages Xen populated (start_info)
 * @max_reservation: the domain's maximum reservation, 0 if unknown
 * @hotplug_pfns: how far memory hotplug may add memory
 * @map: the memory map setup.c will work from: the machine map for dom0,
 *	the domain's own pseudo-physical map otherwise
 * @map_nr: entries in @map; 0 if Xen has none for a domU, in which case
 *	setup.c makes up one RAM region of @nr_pages and some slack
 * @unusable_is_ram: setup.c treats E820_TYPE_UNUSABLE as RAM (dom0's
 *	machine map, xen_ignore_unusable())
 */
struct p2m_sizing {
	unsigned long nr_pages;
	unsigned long max_reservation;
	unsigned long hotplug_pfns;
	const struct e820_entry *map;
	unsigned int map_nr;
	bool unusable_is_ram;
};

/*
 * The pfns the tree must describe: Xen's list, the domain's maximum
 * reservation, memory hotplug up to its limit and every RAM region of the
 * memory map setup.c works from, at most P2M_TREE_MAX_PFN.  setup.c remaps
 * and adds extra memory into that map's RAM past the populated pages,
 * wherever it lies: above the reservation's size if the map has holes
 * below it (dom0 on the machine map, a domU with e820_host=1).  Above the
 * tree every pfn reads as identity, as it should for device memory.
 */
static unsigned long p2m_pfns_needed(const struct p2m_sizing *in)
{
	unsigned long pfns = max(in->nr_pages, in->hotplug_pfns);
	unsigned int i;

	pfns = max(pfns, in->max_reservation);
	if (!in->map_nr)
		pfns = max(pfns, in->nr_pages + P2M_NOMAP_SLACK_PFNS);
	for (i = 0; i < in->map_nr; i++) {
		const struct e820_entry *e = &in->map[i];

		if (e->type == E820_TYPE_RAM ||
		    (in->unusable_is_ram && e->type == E820_TYPE_UNUSABLE))
			pfns = max_t(unsigned long, pfns,
				     PFN_DOWN(e->addr + e->size));
	}
	return min_t(unsigned long, pfns, P2M_TREE_MAX_PFN);
}

static unsigned long __init xen_p2m_pfns_needed(void)
{
	struct p2m_sizing in = {
		.nr_pages = xen_start_info->nr_pages,
		.hotplug_pfns = P2M_HOTPLUG_PFNS,
		.map = p2m_boot_map,
	};
	struct xen_memory_map memmap;
	domid_t self = DOMID_SELF;
	unsigned long pfns;
	unsigned int op;
	long ret;

	ret = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
	if (ret > 0)
		in.max_reservation = ret;

	memmap.nr_entries = ARRAY_SIZE(p2m_boot_map);
	set_xen_guest_handle(memmap.buffer, p2m_boot_map);
	/* The map setup.c will read: the machine's for dom0. */
	op = xen_initial_domain() ? XENMEM_machine_memory_map : XENMEM_memory_map;
	in.unusable_is_ram = xen_initial_domain();
	ret = HYPERVISOR_memory_op(op, &memmap);
	if (!ret && memmap.nr_entries < ARRAY_SIZE(p2m_boot_map)) {
		in.map_nr = memmap.nr_entries;
	} else if (!ret || xen_initial_domain()) {
		/* Xen may have cut the map short: cover all there can be. */
		pr_warn("P2M: no full memory map from Xen (%ld, %u entries), sizing to the limit\n",
			ret, memmap.nr_entries);
		return P2M_TREE_MAX_PFN;
	}
	/* Otherwise a domU Xen keeps no map for: setup.c makes one up. */

	pfns = p2m_pfns_needed(&in);
	if (pfns == P2M_TREE_MAX_PFN)
		pr_warn("P2M: sized to its limit, %#lx pfns\n", pfns);
	return pfns;
}

/**
 * xen_build_dynamic_phys_to_machine() - set up the P2M at boot
 *
 * Called from xen_start_kernel() before anything looks a pfn up.  Builds
 * the tree and makes Xen's flat list its first leaves.
 */
void __init xen_build_dynamic_phys_to_machine(void)
{
	unsigned long nr = xen_start_info->nr_pages;
	unsigned long *list = (unsigned long *)xen_start_info->mfn_list;
	int ret;

	ret = p2m_tree_init(&xen_p2m_tree, &xen_p2m_ops, NULL,
			    xen_p2m_pfns_needed());
	if (ret)
		panic("P2M: cannot build the tree: %d\n", ret);
	ret = p2m_tree_adopt(&xen_p2m_tree, list, nr);
	if (ret)
		panic("P2M: cannot adopt Xen's list of %lu pfns: %d (brk holds mids for %d GiB)\n",
		      nr, ret, P2M_BRK_MID_PAGES);

	xen_max_p2m_pfn = ALIGN(nr, P2M_LEAF_PFNS);
	p2m_tools_max_pfn = xen_max_p2m_pfn;
	p2m_debug_verify("adopting Xen's list");
}

/*
 * Where xen_relocate_p2m() maps the list's new home: a slot of the user
 * half of the kernel's page tables that nothing uses at boot.  Xen's
 * XEN_ELFNOTE_INIT_P2M area is slot 1, and mmu_pv.c unpins the tables it
 * finds in slot 2 (upstream's own relocation); ours are never pinned.
 */
#define P2M_RELOCATED_VA	(3 * PGDIR_SIZE)

/*
 * Write @nr table pages from @table on, mapping @nr_entries consecutive
 * frames from @pfn, PTRS_PER_PTE to a page, with protection @prot.  A
 * page table must be read-only everywhere before Xen accepts it: the
 * temporary mapping goes, and so does the direct map's, if it has one yet.
 */
static void __init p2m_write_tables(phys_addr_t table, unsigned long nr,
				    unsigned long pfn, unsigned long nr_entries,
				    pgprot_t prot)
{
	unsigned long i, n;
	pte_t *e;

	for (; nr; nr--, table += PAGE_SIZE) {
		e = early_memremap(table, PAGE_SIZE);
		clear_page(e);
		n = min_t(unsigned long, nr_entries, PTRS_PER_PTE);
		for (i = 0; i < n; i++)
			e[i] = pfn_pte(pfn++, prot);
		nr_entries -= n;
		early_memunmap(e, PAGE_SIZE);
		make_lowmem_page_readonly(__va(table));
	}
}

/**
 * xen_relocate_p2m() - move Xen's list out of an E820 hole
 *
 * setup.c calls this when the frames of Xen's list lie where the machine
 * map has no RAM.  It is about to give such frames' memory to other pfns,
 * and its first step writes the chain of what moves where into the first
 * frame of each hole, so the list has to go before: into free RAM that
 * Xen populated, mapped with page tables built here in a top-level slot
 * of its own, laid out as Xen lays out an XEN_ELFNOTE_INIT_P2M area (the
 * pud, the pmds, the ptes, then the list).  The tree follows the copy,
 * which stays adopted, and xen_start_info describes the new area from now
 * on, so that xen_p2m_switch_to_direct_map() treats it as it would Xen's.
 * Xen's old mapping is torn down; setup.c releases the old frames.
 */
void __init xen_relocate_p2m(void)
{
	unsigned long nr = xen_start_info->nr_pages;
	unsigned long old = xen_start_info->mfn_list;
	unsigned long leaves = DIV_ROUND_UP(nr, P2M_LEAF_PFNS);
	unsigned long ptes = DIV_ROUND_UP(leaves, PTRS_PER_PTE);
	unsigned long pmds = DIV_ROUND_UP(ptes, PTRS_PER_PMD);
	unsigned long frames = 1 + pmds + ptes + leaves, first, nr_mapped = nr;
	unsigned long old_first = xen_start_info->first_p2m_pfn;
	unsigned long old_frames = xen_start_info->nr_p2m_frames;
	p4d_t *p4d = p4d_offset(pgd_offset_k(P2M_RELOCATED_VA),
				P2M_RELOCATED_VA);
	phys_addr_t area;

	if (!p4d_none(*p4d) || pmds > PTRS_PER_PUD)
		panic("P2M: no page-table slot at %#lx for Xen's list of %lu pfns\n",
		      P2M_RELOCATED_VA, nr);
	area = xen_find_free_area(PFN_PHYS(frames));
	first = PFN_DOWN(area);
	/*
	 * Beyond what Xen populated there is no memory to write to, and a
	 * domU's setup.c may map no more than 512 GiB of it.
	 */
	if (!xen_initial_domain())
		nr_mapped = min_t(unsigned long, nr, PFN_DOWN(SZ_1T / 2));
	if (!area || first + frames > nr_mapped)
		panic("P2M: Xen's list of %lu pfns lies in an E820 hole, and no populated RAM is free for its %lu frames\n",
		      nr, frames);

	p2m_write_tables(area + PFN_PHYS(1 + pmds), ptes, first + 1 + pmds + ptes,
			 leaves, PAGE_KERNEL);
	p2m_write_tables(area + PAGE_SIZE, pmds, first + 1 + pmds, ptes,
			 __pgprot(_PAGE_TABLE));
	p2m_write_tables(area, 1, first + 1, pmds, __pgprot(_PAGE_TABLE));
	set_p4d(p4d, __p4d(area | _PAGE_TABLE));

	if (p2m_tree_move_adopted(&xen_p2m_tree,
				  (unsigned long *)P2M_RELOCATED_VA))
		panic("P2M: cannot move Xen's list\n");

	/*
	 * Xen's mapping of the old frames goes if it is a slot of its own.
	 * A list in the kernel image range stays mapped there and in the
	 * direct map, as upstream leaves it: nothing cleans that alias up
	 * later, as setup.c's page-table checks usually stop such a boot
	 * first.
	 */
	if (old >= __START_KERNEL_map) {
		old_first = PFN_DOWN(__pa(old));
		old_frames = leaves;
	} else if (pgd_index(old) == pgd_index(old + nr * sizeof(long) - 1)) {
		set_p4d(p4d_offset(pgd_offset_k(old), old), __p4d(0));
		__flush_tlb_all();
	}

	pr_info("P2M: Xen's list at pfns %#lx-%#lx lies in an E820 hole; moved to pfns %#lx-%#lx\n",
		old_first, old_first + old_frames - 1, first, first + frames - 1);
	xen_start_info->mfn_list = P2M_RELOCATED_VA;
	xen_start_info->first_p2m_pfn = first;
	xen_start_info->nr_p2m_frames = frames;
	p2m_debug_verify("moving Xen's list");
}

/*
 * The frames Xen set aside for its list and the page tables mapping it,
 * which setup.c keeps reserved.
 */
static bool __init p2m_is_list_frame(unsigned long pfn)
{
	return pfn >= xen_start_info->first_p2m_pfn &&
	       pfn - xen_start_info->first_p2m_pfn < xen_start_info->nr_p2m_frames;
}

/*
 * An adopted leaf, reached through Xen's own mapping of its list, found in
 * the direct map: the initial page tables give its machine frame (Xen may
 * map the list with 2 MiB pages), the M2P its pfn.  The pfn must lie in
 * the frames Xen reported for the list, which setup.c keeps reserved.
 */
static unsigned long *__init p2m_leaf_in_direct_map(struct p2m_tree *tree,
						    unsigned long *leaf)
{
	unsigned long addr = (unsigned long)leaf, mfn, pfn;
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	if (!pte || (level != PG_LEVEL_4K && level != PG_LEVEL_2M))
		return NULL;
	if (level == PG_LEVEL_4K)
		mfn = (pte_val_ma(*pte) & PTE_PFN_MASK) >> PAGE_SHIFT;
	else
		mfn = ((pte_val_ma(*pte) & PHYSICAL_PMD_PAGE_MASK) >> PAGE_SHIFT) +
		      ((addr & ~PMD_MASK) >> PAGE_SHIFT);
	pfn = mfn_to_pfn(mfn);
	if (!p2m_is_list_frame(pfn))
		return NULL;
	make_lowmem_page_readwrite(__va(PFN_PHYS(pfn)));
	return __va(PFN_PHYS(pfn));
}

/* A leaf of a list Xen mapped in the kernel image range. */
static unsigned long *__init p2m_image_leaf_in_direct_map(struct p2m_tree *tree,
							  unsigned long *leaf)
{
	return __va(__pa(leaf));
}

/* What p2m_release_init_mapping() gave back, and where the leaves end. */
struct p2m_init_release {
	unsigned long leaves_end;	/* first address past the tree's leaves */
	unsigned long tables;		/* page-table pages freed */
	unsigned long unused;		/* list pages past the leaves freed */
	unsigned long foreign;		/* frames outside the list's, kept */
};

/*
 * Give back one frame of Xen's list area, no longer mapped there.  Only a
 * frame of the range Xen reported is ours to free; any other is counted
 * and left alone.
 */
static void __init p2m_give_back_frame(unsigned long pfn, unsigned long *count,
				       struct p2m_init_release *r)
{
	if (!p2m_is_list_frame(pfn)) {
		r->foreign++;
		return;
	}
	/* Xen no longer counts it as a page table: it may be writable. */
	make_lowmem_page_readwrite(__va(PFN_PHYS(pfn)));
	memblock_phys_free(PFN_PHYS(pfn), PAGE_SIZE);
	(*count)++;
}

/*
 * The frames one pmd entry of the list area mapped (2 MiB of them, or a
 * table of ptes), and the table: list pages past the tree's leaves are
 * nobody's now, the leaves stay.
 */
static void __init p2m_give_back_pmd(pmd_t pmd, unsigned long addr,
				     struct p2m_init_release *r)
{
	unsigned int k;
	pte_t *pte;

	if (pmd_large(pmd)) {
		for (k = 0; k < PTRS_PER_PTE; k++, addr += PAGE_SIZE)
			if (addr >= r->leaves_end)
				p2m_give_back_frame(pmd_pfn(pmd) + k, &r->unused, r);
		return;
	}
	pte = (pte_t *)pmd_page_vaddr(pmd);
	for (k = 0; k < PTRS_PER_PTE; k++, addr += PAGE_SIZE)
		if (pte_present(pte[k]) && addr >= r->leaves_end)
			p2m_give_back_frame(pte_pfn(pte[k]), &r->unused, r);
	p2m_give_back_frame(PFN_DOWN(__pa(pte)), &r->tables, r);
}

/*
 * The list's pages are leaves of the tree now, reached through the direct
 * map: unmap the area XEN_ELFNOTE_INIT_P2M had Xen map them in and give
 * back the page tables of that mapping, and any list pages past the
 * leaves (a domU's list may be longer than nr_pages).  The leaves stay.
 * The area is one top-level slot of its own, in the user half of the
 * kernel's page tables, which no process shares.  The slot is cleared
 * first: Xen then stops counting the tables under it as page tables, and
 * they are freed bottom up.  xen_start_info->mfn_list still holds the
 * area's address afterwards; nothing may dereference it.
 */
static void __init p2m_release_init_mapping(unsigned long va)
{
	unsigned long nr = xen_start_info->nr_pages;
	unsigned long last = va + nr * sizeof(unsigned long) - 1;
	unsigned long addr = va & PGDIR_MASK;
	struct p2m_init_release r = {
		.leaves_end = va + DIV_ROUND_UP(nr, P2M_LEAF_PFNS) * PAGE_SIZE,
	};
	p4d_t *p4d = p4d_offset(pgd_offset_k(va), va);
	unsigned int i, j;
	pud_t *pud;

	if (WARN_ONCE(pgd_index(last) != pgd_index(va) || !p4d_present(*p4d) ||
		      p4d_large(*p4d),
		      "P2M: Xen's list at %#lx-%#lx is not mapped in a slot of its own; left mapped\n",
		      va, last))
		return;

	pud = pud_offset(p4d, 0);
	set_p4d(p4d, __p4d(0));
	__flush_tlb_all();

	for (i = 0; i < PTRS_PER_PUD; i++, addr += PUD_SIZE) {
		pmd_t *pmd;

		/* A 1 GiB leaf: p2m_leaf_in_direct_map() refuses those. */
		if (!pud_present(pud[i]) || pud_large(pud[i]))
			continue;
		pmd = pmd_offset(&pud[i], 0);
		for (j = 0; j < PTRS_PER_PMD; j++)
			if (pmd_present(pmd[j]))
				p2m_give_back_pmd(pmd[j], addr + j * PMD_SIZE, &r);
		p2m_give_back_frame(PFN_DOWN(__pa(pmd)), &r.tables, &r);
	}
	p2m_give_back_frame(PFN_DOWN(__pa(pud)), &r.tables, &r);

	pr_info("P2M: unmapped Xen's mapping of its list at %#lx: %lu page-table pages and %lu unused list pages freed\n",
		va, r.tables, r.unused);
	WARN_ONCE(r.foreign,
		  "P2M: %lu frames of Xen's list mapping lie outside its frames; not freed\n",
		  r.foreign);
}

/**
 * xen_p2m_switch_to_direct_map() - stop depending on Xen's early mappings
 *
 * Called once the direct map and memblock work, before the kernel tears
 * down the early mappings Xen set up.  Until now the adopted leaves were
 * read through Xen's mapping of its list; from now on they are reached
 * through the direct map, the tree takes the list's pages over as its own
 * leaves, and nothing is copied.  A list Xen mapped in the kernel image
 * range is found there by __pa(); one in the area Linux asks for with
 * XEN_ELFNOTE_INIT_P2M, possibly mapped with machine superpages whose pfns
 * are not in order, page by page through the initial page tables and the
 * M2P; that area (or the one xen_relocate_p2m() moved the list to) is
 * then unmapped and its page tables freed.  First the nodes that read as
 * one sentinel throughout are folded into it (setup.c marks holes in
 * pieces too small to free a leaf).  If that let leaves of the list go,
 * or a leaf cannot be found, the leaves left are copied and the whole
 * list freed.
 *
 * Return: true if the tree still uses the list's memory (it must not be
 * freed), false if the list may be freed.
 */
bool __init xen_p2m_switch_to_direct_map(void)
{
	unsigned long list = xen_start_info->mfn_list, folded, adopted;
	const char *why;
	int ret;

	p2m_tools_max_pfn = max(p2m_tools_max_pfn, xen_max_p2m_pfn);
	if (WARN_ON(xen_max_p2m_pfn > xen_p2m_tree.max_pfn))
		pr_err("P2M: extra memory up to pfn %#lx lies beyond the tree\n",
		       xen_max_p2m_pfn);
	p2m_debug_verify("the memory map's identity and remap pass");

	/*
	 * setup.c is done marking holes (in pieces no leaf fits in), and
	 * only this CPU runs: let the nodes that read as one sentinel go.
	 */
	folded = p2m_tree_fold(&xen_p2m_tree, &adopted);
	if (folded)
		pr_info("P2M: %lu nodes read as one sentinel throughout, now shared (%lu of them leaves of Xen's list)\n",
			folded, adopted);

	if (adopted) {
		/* Keeping the list would keep the pages it no longer uses. */
		ret = -EEXIST;
		why = "some of its leaves are shared sentinels now";
	} else {
		ret = p2m_tree_take_adopted(&xen_p2m_tree,
					    list >= __START_KERNEL_map ?
					    p2m_image_leaf_in_direct_map :
					    p2m_leaf_in_direct_map);
		if (!ret) {
			pr_info("P2M: Xen's list kept in place, %lu leaves now reached through the direct map\n",
				DIV_ROUND_UP(xen_start_info->nr_pages, P2M_LEAF_PFNS));
			if (list < __START_KERNEL_map)
				p2m_release_init_mapping(list);
			p2m_debug_verify("taking Xen's list over");
			return true;
		}
		why = "not all found in the direct map";
	}

	/* -ENOMEM from the take moved nothing: copy all, free the list. */
	if (p2m_tree_copy_adopted(&xen_p2m_tree))
		panic("P2M: cannot copy Xen's list\n");
	pr_info("P2M: copied the leaves of Xen's list (%s)\n", why);
	p2m_debug_verify("copying Xen's list");
	/* Any other error left leaves reached through the list: keep it. */
	return ret != -EEXIST && ret != -ENOMEM;
}

/**
 * get_phys_to_machine() - look up a pfn
 * @pfn: any pfn
 *
 * Return: the entry for @pfn, with any FOREIGN or IDENTITY bit set.
 */
unsigned long get_phys_to_machine(unsigned long pfn)
{
	return p2m_tree_lookup(&xen_p2m_tree, pfn);
}
EXPORT_SYMBOL_GPL(get_phys_to_machine);

/* ------------------------------------------------------------------------
 * The MFN frame list for the toolstack.
 *
 * Save and migration read the P2M through three pages of MFNs: the "list
 * list" (shared_info->arch.pfn_to_mfn_frame_list_list) holds the MFN of a
 * frame page per GiB of pfns, and each frame page holds the MFNs of that
 * GiB's 512 leaves.  That is the tree's own shape, so frame page t mirrors
 * tree mid t.  Identity leaves read as all INVALID_P2M_ENTRY through it,
 * which is what the toolstack must see for non-RAM.  One list-list page
 * describes 512 GiB; pfns above that are not visible to the toolstack.
 */
#define P2M_FRAME_TOPS	(PAGE_SIZE / sizeof(unsigned long))

static unsigned long *p2m_frame_top;		/* MFNs of frame pages */
static unsigned long **p2m_frame_pages;		/* the frame pages */
static unsigned long *p2m_frame_missing;	/* shared: all leaves missing */

static unsigned long *__ref p2m_alloc_frame_page(void)
{
	unsigned long *page = p2m_alloc_node(NULL, P2M_LEVEL_LEAF, PAGE_SIZE);

	if (page)
		p2m_mem.frame_pages++;
	return page;
}

static void p2m_fill_frame_page(unsigned long *frame, unsigned long **mid)
{
	unsigned long m;

	for (m = 0; m < P2M_TREE_ENTRIES; m++)
		frame[m] = virt_to_mfn(READ_ONCE(mid[m]));
}

/* The frame page for tree mid @t, allocated on first use. */
static unsigned long *p2m_frame_page(unsigned long t)
{
	unsigned long *frame = READ_ONCE(p2m_frame_pages[t]), *new;

	if (frame != p2m_frame_missing)
		return frame;
	new = p2m_alloc_frame_page();
	if (!new)
		return NULL;
	p2m_fill_frame_page(new, READ_ONCE(xen_p2m_tree.top[t]));
	frame = cmpxchg(&p2m_frame_pages[t], p2m_frame_missing, new);
	if (frame != p2m_frame_missing) {
		p2m_free_node(NULL, new, P2M_LEVEL_LEAF);
		p2m_mem.frame_pages--;
		return frame;
	}
	WRITE_ONCE(p2m_frame_top[t], virt_to_mfn(new));
	return new;
}

/**
 * xen_build_mfn_list_list() - (re)build the MFN frame list
 *
 * At boot, and after resume when every MFN may have changed.  Frame pages
 * for mids installed after boot were added by xen_alloc_p2m_entry().  A
 * rebuild after resume runs inside stop_machine() and must not allocate:
 * a mid whose frame page xen_alloc_p2m_entry() could not allocate stays
 * invisible to the toolstack, as it was before the suspend.
 */
void __ref xen_build_mfn_list_list(void)
{
	unsigned long t, nr = min(xen_p2m_tree.nr_top, P2M_FRAME_TOPS);
	bool boot = !p2m_frame_top;

	if (boot) {
		p2m_frame_top = p2m_alloc_frame_page();
		p2m_frame_pages = (unsigned long **)p2m_alloc_frame_page();
		p2m_frame_missing = p2m_alloc_frame_page();
		if (!p2m_frame_top || !p2m_frame_pages || !p2m_frame_missing)
			panic("P2M: no memory for the toolstack's frame list\n");
		for (t = 0; t < P2M_FRAME_TOPS; t++)
			p2m_frame_pages[t] = p2m_frame_missing;
		if (xen_p2m_tree.nr_top > P2M_FRAME_TOPS)
			pr_warn("P2M: the toolstack's frame list describes only the first %lu GiB of %lu\n",
				P2M_FRAME_TOPS, xen_p2m_tree.nr_top);
	}

	for (t = 0; t < P2M_TREE_ENTRIES; t++)
		p2m_frame_missing[t] = virt_to_mfn(xen_p2m_tree.missing_leaf);
	for (t = 0; t < P2M_FRAME_TOPS; t++) {
		unsigned long **mid = t < nr ? xen_p2m_tree.top[t] :
					       xen_p2m_tree.missing_mid;
		unsigned long *frame;

		if (mid == xen_p2m_tree.missing_mid ||
		    mid == xen_p2m_tree.identity_mid) {
			p2m_frame_top[t] = virt_to_mfn(p2m_frame_missing);
			continue;
		}
		frame = boot ? p2m_frame_page(t) : READ_ONCE(p2m_frame_pages[t]);
		if (!frame || frame == p2m_frame_missing) {
			pr_err_once("P2M: no memory for frame pages: the toolstack cannot see pfns from %#lx\n",
				    t * P2M_MID_PFNS);
			p2m_frame_top[t] = virt_to_mfn(p2m_frame_missing);
			continue;
		}
		p2m_fill_frame_page(frame, mid);
		p2m_frame_top[t] = virt_to_mfn(frame);
	}
}

/**
 * xen_setup_mfn_list_list() - tell Xen where the frame list is
 *
 * There is no virtually mapped linear list: p2m_cr3 and p2m_vaddr stay 0,
 * which makes Xen 4.17's save code (tools/libs/guest/xg_sr_save_x86_pv.c)
 * walk the frame list instead of a linear list.
 */
void xen_setup_mfn_list_list(void)
{
	if (WARN_ON_ONCE(HYPERVISOR_shared_info == &xen_dummy_shared_info))
		return;

	HYPERVISOR_shared_info->arch.pfn_to_mfn_frame_list_list =
		virt_to_mfn(p2m_frame_top);
	HYPERVISOR_shared_info->arch.max_pfn = p2m_tools_max_pfn;
	HYPERVISOR_shared_info->arch.p2m_generation = 0;
	HYPERVISOR_shared_info->arch.p2m_vaddr = 0;
	HYPERVISOR_shared_info->arch.p2m_cr3 = 0;
}

/* ------------------------------------------------------------------------
 * Updates.
 */

/**
 * xen_alloc_p2m_entry() - make sure @pfn can hold any MFN
 * @pfn: the pfn
 *
 * Gives @pfn a leaf of its own (no answer changes) and records that leaf
 * in the toolstack's frame list.
 *
 * Return: 0, -EINVAL for a pfn beyond the P2M, or -ENOMEM.
 */
int xen_alloc_p2m_entry(unsigned long pfn)
{
	unsigned long t = p2m_top_index(pfn);
	unsigned long *frame;
	int ret;

	ret = p2m_tree_populate(&xen_p2m_tree, pfn);
	if (ret)
		return ret;

	if (p2m_frame_top && t < P2M_FRAME_TOPS) {
		frame = p2m_frame_page(t);
		if (!frame)
			return -ENOMEM;
		WRITE_ONCE(frame[p2m_mid_index(pfn)],
			   virt_to_mfn(p2m_tree_leaf(&xen_p2m_tree, pfn)));
	}

	if (pfn >= p2m_tools_max_pfn) {
		p2m_tools_max_pfn = ALIGN(pfn + 1, P2M_LEAF_PFNS);
		HYPERVISOR_shared_info->arch.max_pfn = p2m_tools_max_pfn;
	}
	return 0;
}
EXPORT_SYMBOL(xen_alloc_p2m_entry);

/**
 * __set_phys_to_machine() - set a pfn's entry if it has a leaf
 * @pfn: the pfn
 * @mfn: the new entry
 *
 * Return: true if @pfn now reads @mfn; false if that needs a leaf first
 * (see set_phys_to_machine()) or the request is invalid.
 */
bool __set_phys_to_machine(unsigned long pfn, unsigned long mfn)
{
	return p2m_tree_set(&xen_p2m_tree, pfn, mfn);
}

/**
 * set_phys_to_machine() - set a pfn's entry, allocating a leaf if needed
 * @pfn: the pfn
 * @mfn: the new entry
 *
 * Return: true on success.
 */
bool set_phys_to_machine(unsigned long pfn, unsigned long mfn)
{
	if (likely(__set_phys_to_machine(pfn, mfn)))
		return true;
	/* Refused (and warned about): not worth a leaf. */
	if (pfn >= xen_p2m_tree.max_pfn ||
	    p2m_entry_kind(pfn, mfn) == P2M_KIND_ABNORMAL)
		return false;
	if (xen_alloc_p2m_entry(pfn))
		return false;
	return __set_phys_to_machine(pfn, mfn);
}

/**
 * set_phys_range_identity() - mark [@pfn_s, @pfn_e) as identity
 * @pfn_s: first pfn
 * @pfn_e: one past the last; may be ~0UL for "everything above"
 *
 * Used by setup.c for the holes of the memory map.  Whole leaves and GiB
 * spans become the shared identity sentinels; at most four nodes are
 * allocated per call.
 *
 * Return: the number of pfns below the P2M's end now identity (all above
 * are identity anyway), or 0 on failure.
 */
unsigned long __init set_phys_range_identity(unsigned long pfn_s,
					     unsigned long pfn_e)
{
	long done = p2m_tree_set_identity(&xen_p2m_tree, pfn_s, pfn_e);

	if (done == -ENOMEM)
		WARN(1, "P2M: no memory to mark [%#lx, %#lx) identity\n",
		     pfn_s, pfn_e);
	return done < 0 ? 0 : done;
}

/* Undo one grant mapping whose P2M update failed. */
static void p2m_unmap_failed_grant(struct gnttab_map_grant_ref *map,
				   struct gnttab_map_grant_ref *kmap)
{
	struct gnttab_unmap_grant_ref undo[2] = {};
	unsigned int n = 1;
	int rc;

	undo[0].host_addr = map->host_addr;
	undo[0].handle = map->handle;
	if (map->flags & GNTMAP_device_map)
		undo[0].dev_bus_addr = map->dev_bus_addr;
	undo[0].status = 1;	/* distinguishable from GNTST_okay */
	map->status = GNTST_general_error;
	map->handle = INVALID_GRANT_HANDLE;
	undo[1].status = GNTST_okay;

	if (kmap) {
		undo[1].host_addr = kmap->host_addr;
		undo[1].handle = kmap->handle;
		if (kmap->flags & GNTMAP_device_map)
			undo[1].dev_bus_addr = kmap->dev_bus_addr;
		undo[1].status = 1;
		kmap->status = GNTST_general_error;
		kmap->handle = INVALID_GRANT_HANDLE;
		n = 2;
	}

	rc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, undo, n);
	if (rc || undo[0].status != GNTST_okay || undo[1].status != GNTST_okay)
		pr_err_once("P2M: cannot undo grant map: rc=%d status %d/%d\n", rc,
			    undo[0].status, undo[1].status);
}

/**
 * set_foreign_p2m_mapping() - record grant mappings in the P2M
 * @map_ops:  the grant map operations, already performed
 * @kmap_ops: kernel mappings to perform as well, or NULL
 * @pages:    the (ballooned or unpopulated) pages mapped
 * @count:    number of operations
 *
 * Each successfully mapped page's pfn gets FOREIGN_FRAME(mfn).  If the P2M
 * cannot take it, the mapping is undone and its status set to an error.
 * An auto-translated guest (PVH, HVM) has no P2M of ours: Xen keeps its
 * physmap, and there is nothing to record.
 *
 * Return: 0, or the grant table hypercall's error for @kmap_ops.
 */
int set_foreign_p2m_mapping(struct gnttab_map_grant_ref *map_ops,
			    struct gnttab_map_grant_ref *kmap_ops,
			    struct page **pages, unsigned int count)
{
	unsigned int i;
	int ret;

	if (xen_feature(XENFEAT_auto_translated_physmap))
		return 0;

	if (kmap_ops) {
		ret = HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref,
						kmap_ops, count);
		if (ret)
			return ret;
	}

	for (i = 0; i < count; i++) {
		struct gnttab_map_grant_ref *map = &map_ops[i];
		struct gnttab_map_grant_ref *kmap = kmap_ops ? &kmap_ops[i] : NULL;
		unsigned long pfn = page_to_pfn(pages[i]), mfn;

		if (map->status != GNTST_okay ||
		    (kmap && kmap->status != GNTST_okay))
			continue;

		if (map->flags & GNTMAP_contains_pte) {
			pte_t *pte = (pte_t *)(mfn_to_virt(PFN_DOWN(map->host_addr)) +
					       (map->host_addr & ~PAGE_MASK));

			mfn = pte_mfn(*pte);
		} else {
			mfn = PFN_DOWN(map->dev_bus_addr);
		}

		WARN(pfn_to_mfn(pfn) != INVALID_P2M_ENTRY,
		     "P2M: grant mapped over populated pfn %#lx\n", pfn);
		if (!set_phys_to_machine(pfn, FOREIGN_FRAME(mfn)))
			p2m_unmap_failed_grant(map, kmap);
	}
	return 0;
}

/**
 * clear_foreign_p2m_mapping() - forget grant mappings
 * @unmap_ops:  the grant unmap operations (performed by the caller)
 * @kunmap_ops: kernel unmaps to perform, or NULL
 * @pages:      the pages
 * @count:      number of operations
 *
 * Nothing to do on an auto-translated guest, as for set_foreign_p2m_mapping().
 *
 * Return: 0; -EINVAL if a page held no foreign mapping; or the grant
 * table hypercall's error.
 */
int clear_foreign_p2m_mapping(struct gnttab_unmap_grant_ref *unmap_ops,
			      struct gnttab_unmap_grant_ref *kunmap_ops,
			      struct page **pages, unsigned int count)
{
	unsigned int i;
	int ret = 0;

	if (xen_feature(XENFEAT_auto_translated_physmap))
		return 0;

	for (i = 0; i < count; i++) {
		unsigned long pfn = page_to_pfn(pages[i]);
		unsigned long mfn = __pfn_to_mfn(pfn);

		/* Only a pfn holding a foreign frame is ours to clear. */
		if (p2m_entry_kind(pfn, mfn) != P2M_KIND_PFN ||
		    !(mfn & FOREIGN_FRAME_BIT)) {
			ret = -EINVAL;
			continue;
		}
		set_phys_to_machine(pfn, INVALID_P2M_ENTRY);
	}
	if (kunmap_ops) {
		int rc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref,
						   kunmap_ops, count);

		if (rc)
			ret = rc;
	}
	return ret;
}

/*
 * The sentinel nodes answer for every missing and identity span and are
 * never written once built (a set allocates a leaf of its own instead).
 * Map them read-only (upstream maps its p2m_missing and p2m_identity
 * pages read-only in its linear list), so that a stray write faults
 * rather than changing what every such pfn reads.  set_memory_ro() also
 * changes the other mapping of a node in the kernel image (brk): the
 * direct map's, or the image's own (on PV both share their L1 tables).
 * From an initcall: set_memory_ro() may need the page allocator.
 */
static int __init xen_p2m_protect_sentinels(void)
{
	static const char * const name[] = {
		"missing leaf", "identity leaf", "missing mid", "identity mid",
	};
	void *node[] = {
		xen_p2m_tree.missing_leaf, xen_p2m_tree.identity_leaf,
		xen_p2m_tree.missing_mid, xen_p2m_tree.identity_mid,
	};
	unsigned int i;
	int ret;

	if (!xen_pv_domain())
		return 0;
	for (i = 0; i < ARRAY_SIZE(node); i++) {
		ret = set_memory_ro((unsigned long)node[i], 1);
		if (WARN_ONCE(ret, "P2M: cannot map the %s read-only: %d\n",
			      name[i], ret))
			return ret;
	}
	p2m_debug_verify("early boot (arch_initcall)");
	return 0;
}
arch_initcall(xen_p2m_protect_sentinels);

#ifdef CONFIG_XEN_DEBUG_FS
static int p2m_dump_show(struct seq_file *m, void *v)
{
	p2m_tree_dump(&xen_p2m_tree, m);
	seq_printf(m, "  node memory: brk %lu pages, memblock %lu, page allocator %lu; %lu brk pages unreturnable, %lu retired nodes kept\n",
		   p2m_mem.brk, p2m_mem.memblock, p2m_mem.buddy,
		   p2m_mem.brk_unreturnable, p2m_mem.retired_kept);
	seq_printf(m, "  toolstack frame list: %lu pages, max_pfn %#lx\n",
		   p2m_mem.frame_pages, p2m_tools_max_pfn);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2m_dump);

static int __init xen_p2m_debugfs(void)
{
	struct dentry *mmu = debugfs_create_dir("mmu", xen_init_debugfs());

	debugfs_create_file("p2m", 0400, mmu, NULL, &p2m_dump_fops);
	return 0;
}
fs_initcall(xen_p2m_debugfs);
#endif /* CONFIG_XEN_DEBUG_FS */

#if IS_BUILTIN(CONFIG_XEN_P2M_E820_KUNIT_TEST)
#include "p2m_sizing_kunit.c"
#endif
