/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A three-level physical-to-machine (P2M) tree: top -> mid -> leaf.
 *
 * Each level is one node of P2M_TREE_ENTRIES words.  A leaf holds the
 * machine frame (or an encoded special value) of P2M_LEAF_PFNS consecutive
 * pfns; a mid holds P2M_TREE_ENTRIES leaf pointers and so spans
 * P2M_MID_PFNS pfns; the top is an array of mid pointers sized from the
 * highest pfn the tree must describe.
 *
 * Spans that are wholly missing or wholly identity cost no memory: they
 * point at four shared read-only sentinel nodes (a missing and an identity
 * leaf, a missing and an identity mid).  Lookups never lock; writers
 * install new nodes with cmpxchg() so a reader sees either the old node or
 * a completely initialised new one.
 *
 * The tree knows nothing about hypercalls or where its nodes come from:
 * struct p2m_tree_ops supplies memory.  The same source is built into the
 * kernel (arch/x86/xen/p2m.c is its x86 PV user), into KUnit and into the
 * host harness under tools/testing/p2m/.
 */
#ifndef _XEN_P2M_TREE_H
#define _XEN_P2M_TREE_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/page.h>

/*
 * Entries per node.  One page of unsigned long in the kernel; the host
 * harness overrides it to build small trees whose level boundaries tests
 * can reach cheaply.
 */
#ifndef P2M_TREE_SHIFT
#define P2M_TREE_SHIFT		(PAGE_SHIFT - (BITS_PER_LONG == 64 ? 3 : 2))
#endif
#define P2M_TREE_ENTRIES	BIT(P2M_TREE_SHIFT)
#define P2M_TREE_NODE_SIZE	(P2M_TREE_ENTRIES * sizeof(unsigned long))
#define P2M_LEAF_PFNS		P2M_TREE_ENTRIES
#define P2M_MID_PFNS		(P2M_TREE_ENTRIES * P2M_TREE_ENTRIES)

/* Entry encoding: the values Linux and the Xen toolstack agree on. */
#define P2M_ENTRY_INVALID	(~0UL)
#define P2M_FOREIGN_BIT		BIT(BITS_PER_LONG - 1)
#define P2M_IDENTITY_BIT	BIT(BITS_PER_LONG - 2)
#define P2M_IDENTITY(pfn)	((pfn) | P2M_IDENTITY_BIT)

/* The highest pfn count a tree may be built for: 64 TiB of 4 KiB pages. */
#define P2M_TREE_MAX_PFN	BIT(34)

enum p2m_tree_level {
	P2M_LEVEL_LEAF,
	P2M_LEVEL_MID,
	P2M_LEVEL_TOP,
};

/* What a pfn reads as; the names are those of the debugfs dump. */
enum p2m_kind {
	P2M_KIND_IDENTITY,
	P2M_KIND_MISSING,
	P2M_KIND_PFN,
	P2M_KIND_ABNORMAL,	/* identity bit set for another pfn */
	P2M_NR_KINDS,
};

struct p2m_tree;

/**
 * struct p2m_tree_ops - where a tree's nodes come from and go to
 * @alloc:  return @size bytes aligned to P2M_TREE_NODE_SIZE (@size is
 *          P2M_TREE_NODE_SIZE except for the top array), or NULL.
 *          Contents need not be initialised.
 * @free:   give back a node that was never reachable from the tree (a
 *          cmpxchg() race lost, an operation unwound).
 * @retire: a node that was reachable has been replaced by a sentinel.
 *          Lockless readers may still hold it, so only the owner knows
 *          when (or whether) it may be reused.  Adopted leaves are never
 *          passed here.
 */
struct p2m_tree_ops {
	void *(*alloc)(struct p2m_tree *tree, enum p2m_tree_level level,
		       size_t size);
	void (*free)(struct p2m_tree *tree, void *node,
		     enum p2m_tree_level level);
	void (*retire)(struct p2m_tree *tree, void *node,
		       enum p2m_tree_level level);
};

/**
 * struct p2m_tree - a P2M tree
 * @top:           @nr_top mid pointers
 * @nr_top:        entries in @top
 * @max_pfn:       pfns the tree describes; every pfn at or above it reads
 *                 as identity and cannot be changed
 * @missing_leaf:  sentinel leaf: every entry P2M_ENTRY_INVALID
 * @identity_leaf: sentinel leaf, also all P2M_ENTRY_INVALID (what the
 *                 toolstack reads through the frame list); a lookup that
 *                 reaches it answers P2M_IDENTITY(pfn)
 * @missing_mid:   sentinel mid: every entry @missing_leaf
 * @identity_mid:  sentinel mid: every entry @identity_leaf
 * @adopted:       first word of a caller-owned array adopted as leaves
 * @adopted_end:   one past its last word
 * @ops:           node memory
 * @priv:          for @ops
 * @nr_mids:       private mids installed and not retired
 * @nr_leaves:     private leaves installed and not retired (not adopted)
 */
struct p2m_tree {
	unsigned long ***top;
	unsigned long nr_top;
	unsigned long max_pfn;
	unsigned long *missing_leaf;
	unsigned long *identity_leaf;
	unsigned long **missing_mid;
	unsigned long **identity_mid;
	unsigned long *adopted;
	unsigned long *adopted_end;
	const struct p2m_tree_ops *ops;
	void *priv;
	atomic_long_t nr_mids;
	atomic_long_t nr_leaves;
};

/**
 * struct p2m_tree_stats - what a tree holds, from p2m_tree_get_stats()
 * @top_entries:    entries in the top array
 * @mids:           private mid nodes
 * @leaves:         private leaf nodes the tree allocated
 * @adopted_leaves: leaves that are slices of the adopted array
 * @top_to_missing: top entries pointing at the missing mid
 * @top_to_identity: top entries pointing at the identity mid
 * @mid_to_missing: entries of private mids pointing at the missing leaf
 * @mid_to_identity: entries of private mids pointing at the identity leaf
 * @pfns:           pfns below max_pfn of each enum p2m_kind
 * @foldable_leaves: private or adopted leaves that read as one sentinel
 *                  throughout, which p2m_tree_fold() would let go
 * @foldable_mids:  private mids whose leaves all read as one sentinel
 */
struct p2m_tree_stats {
	unsigned long top_entries;
	unsigned long mids;
	unsigned long leaves;
	unsigned long adopted_leaves;
	unsigned long top_to_missing;
	unsigned long top_to_identity;
	unsigned long mid_to_missing;
	unsigned long mid_to_identity;
	unsigned long pfns[P2M_NR_KINDS];
	unsigned long foldable_leaves;
	unsigned long foldable_mids;
};

static inline unsigned long p2m_top_index(unsigned long pfn)
{
	return pfn / P2M_MID_PFNS;
}

static inline unsigned long p2m_mid_index(unsigned long pfn)
{
	return (pfn / P2M_LEAF_PFNS) % P2M_TREE_ENTRIES;
}

static inline unsigned long p2m_leaf_index(unsigned long pfn)
{
	return pfn % P2M_LEAF_PFNS;
}

/*
 * __p2m_tree_leaf() - the leaf (private or sentinel) holding @pfn, which
 * must be below max_pfn; lockless, as every lookup walks it.
 */
static inline unsigned long *__p2m_tree_leaf(const struct p2m_tree *tree,
					     unsigned long pfn)
{
	unsigned long **mid = READ_ONCE(tree->top[p2m_top_index(pfn)]);

	return READ_ONCE(mid[p2m_mid_index(pfn)]);
}

/**
 * p2m_tree_lookup() - what @pfn maps to
 * @tree: the tree
 * @pfn:  any pfn
 *
 * Lockless; safe against concurrent installs.
 *
 * Return: the MFN with any FOREIGN bit, P2M_IDENTITY(@pfn) for identity
 * pfns (including all at or above max_pfn), or P2M_ENTRY_INVALID.
 */
static inline unsigned long p2m_tree_lookup(const struct p2m_tree *tree,
					    unsigned long pfn)
{
	const unsigned long *leaf;
	unsigned long entry;

	if (unlikely(pfn >= tree->max_pfn))
		return P2M_IDENTITY(pfn);
	leaf = __p2m_tree_leaf(tree, pfn);
	entry = READ_ONCE(leaf[p2m_leaf_index(pfn)]);
	/*
	 * The identity sentinel reads as P2M_ENTRY_INVALID throughout, so
	 * only an invalid entry needs the second look: the common path has
	 * one test fewer, which is most of what a lookup costs once the
	 * entry itself is a cache miss.
	 */
	if (unlikely(entry == P2M_ENTRY_INVALID) && leaf == tree->identity_leaf)
		return P2M_IDENTITY(pfn);
	return entry;
}

/**
 * struct p2m_tree_cursor - a cached leaf for runs of nearby lookups
 * @tree: the tree
 * @base: first pfn of the cached leaf
 * @leaf: the cached leaf, or NULL
 *
 * The cursor holds a leaf pointer across lookups; the leaf's contents are
 * read afresh each time, so it sees entry updates, but a leaf replaced
 * after the cursor cached it is not noticed until the cursor leaves it.
 * Leaves are replaced by p2m_tree_set_identity() and p2m_tree_set_missing()
 * and, when a sentinel gives way to a leaf of its own, by
 * p2m_tree_populate() (xen_alloc_p2m_entry(): ballooning, grant maps,
 * unpopulated pages) at any time: a cursor parked on a sentinel then keeps
 * answering from the sentinel.  Use one only for a pass that can take
 * such answers (a dump, a benchmark), never to decide what a pfn holds.
 */
struct p2m_tree_cursor {
	const struct p2m_tree *tree;
	unsigned long base;
	const unsigned long *leaf;
};

static inline void p2m_tree_cursor_init(struct p2m_tree_cursor *cur,
					const struct p2m_tree *tree)
{
	cur->tree = tree;
	cur->base = 0;
	cur->leaf = NULL;
}

/**
 * p2m_tree_cursor_lookup() - p2m_tree_lookup() through a cursor
 * @cur: the cursor
 * @pfn: any pfn
 *
 * Return: as p2m_tree_lookup().
 */
static inline unsigned long p2m_tree_cursor_lookup(struct p2m_tree_cursor *cur,
						   unsigned long pfn)
{
	const struct p2m_tree *tree = cur->tree;
	unsigned long entry;

	if (unlikely(pfn - cur->base >= P2M_LEAF_PFNS || !cur->leaf)) {
		if (pfn >= tree->max_pfn)
			return P2M_IDENTITY(pfn);
		cur->base = pfn - p2m_leaf_index(pfn);
		cur->leaf = __p2m_tree_leaf(tree, pfn);
	}
	entry = READ_ONCE(cur->leaf[pfn - cur->base]);
	if (unlikely(entry == P2M_ENTRY_INVALID) &&
	    cur->leaf == tree->identity_leaf)
		return P2M_IDENTITY(pfn);
	return entry;
}

/**
 * p2m_tree_cursor_run() - the entries of @pfn's leaf from @pfn on
 * @cur:     the cursor
 * @pfn:     any pfn
 * @entries: set to the entries of the run, or to NULL if every pfn of the
 *           run is identity
 *
 * For walks over many pfns: entry i of the run answers for @pfn + i as
 * p2m_tree_lookup() would, or, with *@entries NULL, P2M_IDENTITY(@pfn + i)
 * does.  The caller's loop over a run is a plain array walk.  Entries may
 * change under a concurrent p2m_tree_set(); each aligned word read sees
 * the old or the new value.
 *
 * Return: the length of the run, at least 1: up to the end of @pfn's leaf.
 */
static inline unsigned long p2m_tree_cursor_run(struct p2m_tree_cursor *cur,
						unsigned long pfn,
						const unsigned long **entries)
{
	const struct p2m_tree *tree = cur->tree;
	unsigned long n = P2M_LEAF_PFNS - p2m_leaf_index(pfn);

	if (unlikely(pfn >= tree->max_pfn)) {
		*entries = NULL;
		return n;
	}
	if (pfn - cur->base >= P2M_LEAF_PFNS || !cur->leaf) {
		cur->base = pfn - p2m_leaf_index(pfn);
		cur->leaf = __p2m_tree_leaf(tree, pfn);
	}
	if (unlikely(cur->leaf == tree->identity_leaf)) {
		*entries = NULL;
		return n;
	}
	*entries = cur->leaf + (pfn - cur->base);
	return n;
}

int p2m_tree_init(struct p2m_tree *tree, const struct p2m_tree_ops *ops,
		  void *priv, unsigned long max_pfn);
void p2m_tree_destroy(struct p2m_tree *tree);
int p2m_tree_adopt(struct p2m_tree *tree, unsigned long *list,
		   unsigned long nr_pfns);
int p2m_tree_copy_adopted(struct p2m_tree *tree);
int p2m_tree_move_adopted(struct p2m_tree *tree, unsigned long *to);
unsigned long p2m_tree_fold(struct p2m_tree *tree, unsigned long *adopted);
int p2m_tree_take_adopted(struct p2m_tree *tree,
			  unsigned long *(*moved)(struct p2m_tree *tree,
						  unsigned long *leaf));
bool p2m_tree_set(struct p2m_tree *tree, unsigned long pfn, unsigned long mfn);
int p2m_tree_populate(struct p2m_tree *tree, unsigned long pfn);
unsigned long *p2m_tree_leaf(const struct p2m_tree *tree, unsigned long pfn);
long p2m_tree_set_identity(struct p2m_tree *tree, unsigned long start,
			   unsigned long end);
long p2m_tree_set_missing(struct p2m_tree *tree, unsigned long start,
			  unsigned long end);
enum p2m_kind p2m_entry_kind(unsigned long pfn, unsigned long entry);
unsigned long p2m_tree_next_range(const struct p2m_tree *tree,
				  unsigned long pfn, unsigned long limit,
				  enum p2m_kind *kind);
void p2m_tree_get_stats(const struct p2m_tree *tree,
			struct p2m_tree_stats *stats);
/* A whole-tree walk for tests and debug kernels: CONFIG_XEN_P2M_TREE_DEBUG. */
int p2m_tree_verify(const struct p2m_tree *tree, char *why, size_t len);

struct seq_file;
void p2m_tree_dump(const struct p2m_tree *tree, struct seq_file *m);

extern const char *const p2m_kind_names[P2M_NR_KINDS];

#endif /* _XEN_P2M_TREE_H */
