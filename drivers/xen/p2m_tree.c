// SPDX-License-Identifier: GPL-2.0
/*
 * The three-level P2M tree: walk, install, identity and missing ranges,
 * range iteration, statistics, self-check and the debugfs dump.
 *
 * See include/xen/p2m_tree.h for the shape of the tree and
 * Documentation/xen/p2m.rst for the design.  Nothing here knows about Xen
 * hypercalls or x86: node memory comes from struct p2m_tree_ops, so this
 * file is compiled unchanged into the kernel, into KUnit and into the host
 * harness in tools/testing/p2m/.
 *
 * Concurrency: lookups take no lock.  A node is published with cmpxchg()
 * only once fully initialised, so a reader that loads a pointer sees either
 * the sentinel it replaced or the complete node.  Entry writes are single
 * word WRITE_ONCE() stores.  Operations that replace whole spans by a
 * sentinel (p2m_tree_set_identity() and p2m_tree_set_missing()) hand the
 * replaced nodes to ops->retire(), never straight back to the allocator,
 * because a reader may still be looking at them.  Callers serialise
 * writers of the same pfn; writers of different pfns may run concurrently.
 */

#include <linux/align.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <xen/p2m_tree.h>

const char *const p2m_kind_names[P2M_NR_KINDS] = {
	[P2M_KIND_IDENTITY] = "identity",
	[P2M_KIND_MISSING] = "missing",
	[P2M_KIND_PFN] = "pfn",
	[P2M_KIND_ABNORMAL] = "abnormal",
};
EXPORT_SYMBOL_GPL(p2m_kind_names);

static bool p2m_is_sentinel_mid(const struct p2m_tree *tree,
				unsigned long **mid)
{
	return mid == tree->missing_mid || mid == tree->identity_mid;
}

static bool p2m_is_sentinel_leaf(const struct p2m_tree *tree,
				 const unsigned long *leaf)
{
	return leaf == tree->missing_leaf || leaf == tree->identity_leaf;
}

static bool p2m_is_adopted(const struct p2m_tree *tree,
			   const unsigned long *leaf)
{
	return leaf >= tree->adopted && leaf < tree->adopted_end;
}

/* The value a pfn holds when a span of @kind is written entry by entry. */
static unsigned long p2m_kind_value(enum p2m_kind kind, unsigned long pfn)
{
	return kind == P2M_KIND_IDENTITY ? P2M_IDENTITY(pfn) : P2M_ENTRY_INVALID;
}

/**
 * p2m_entry_kind() - classify a leaf entry
 * @pfn:   the pfn the entry belongs to
 * @entry: its value
 *
 * Return: the enum p2m_kind the entry encodes for @pfn.
 */
enum p2m_kind p2m_entry_kind(unsigned long pfn, unsigned long entry)
{
	if (entry == P2M_ENTRY_INVALID)
		return P2M_KIND_MISSING;
	if (entry & P2M_IDENTITY_BIT)
		return entry == P2M_IDENTITY(pfn) ? P2M_KIND_IDENTITY :
						    P2M_KIND_ABNORMAL;
	return P2M_KIND_PFN;
}
EXPORT_SYMBOL_GPL(p2m_entry_kind);

/**
 * p2m_tree_init() - build an empty tree: every pfn below @max_pfn missing
 * @tree:    the tree to initialise
 * @ops:     where nodes come from
 * @priv:    stored in @tree for @ops
 * @max_pfn: pfns to describe; rounded up to a whole mid (P2M_MID_PFNS)
 *
 * Return: 0, -EINVAL for a @max_pfn of 0 or above P2M_TREE_MAX_PFN, or
 * -ENOMEM (nothing is left allocated).
 */
int p2m_tree_init(struct p2m_tree *tree, const struct p2m_tree_ops *ops,
		  void *priv, unsigned long max_pfn)
{
	unsigned long i;

	if (WARN_ONCE(!max_pfn || max_pfn > P2M_TREE_MAX_PFN,
		      "p2m: cannot build a tree for %#lx pfns\n", max_pfn))
		return -EINVAL;

	memset(tree, 0, sizeof(*tree));
	tree->ops = ops;
	tree->priv = priv;
	tree->nr_top = DIV_ROUND_UP(max_pfn, P2M_MID_PFNS);
	tree->max_pfn = tree->nr_top * P2M_MID_PFNS;

	tree->missing_leaf = ops->alloc(tree, P2M_LEVEL_LEAF, P2M_TREE_NODE_SIZE);
	tree->identity_leaf = ops->alloc(tree, P2M_LEVEL_LEAF, P2M_TREE_NODE_SIZE);
	tree->missing_mid = ops->alloc(tree, P2M_LEVEL_MID, P2M_TREE_NODE_SIZE);
	tree->identity_mid = ops->alloc(tree, P2M_LEVEL_MID, P2M_TREE_NODE_SIZE);
	tree->top = ops->alloc(tree, P2M_LEVEL_TOP,
			       tree->nr_top * sizeof(*tree->top));
	if (!tree->missing_leaf || !tree->identity_leaf || !tree->missing_mid ||
	    !tree->identity_mid || !tree->top) {
		tree->nr_top = 0;	/* nothing to walk in @top yet */
		p2m_tree_destroy(tree);
		return -ENOMEM;
	}

	for (i = 0; i < P2M_TREE_ENTRIES; i++) {
		tree->missing_leaf[i] = P2M_ENTRY_INVALID;
		tree->identity_leaf[i] = P2M_ENTRY_INVALID;
		tree->missing_mid[i] = tree->missing_leaf;
		tree->identity_mid[i] = tree->identity_leaf;
	}
	for (i = 0; i < tree->nr_top; i++)
		tree->top[i] = tree->missing_mid;
	atomic_long_set(&tree->nr_mids, 0);
	atomic_long_set(&tree->nr_leaves, 0);
	return 0;
}
EXPORT_SYMBOL_GPL(p2m_tree_init);

/**
 * p2m_tree_destroy() - free every node of a tree
 * @tree: a tree from p2m_tree_init(), with no concurrent users
 *
 * Adopted leaves are left to their owner.  Also undoes a partly failed
 * p2m_tree_init().
 */
void p2m_tree_destroy(struct p2m_tree *tree)
{
	const struct p2m_tree_ops *ops = tree->ops;
	unsigned long t, m;

	for (t = 0; t < tree->nr_top; t++) {
		unsigned long **mid = tree->top[t];

		if (p2m_is_sentinel_mid(tree, mid))
			continue;
		for (m = 0; m < P2M_TREE_ENTRIES; m++) {
			unsigned long *leaf = mid[m];

			if (!p2m_is_sentinel_leaf(tree, leaf) &&
			    !p2m_is_adopted(tree, leaf))
				ops->free(tree, leaf, P2M_LEVEL_LEAF);
		}
		ops->free(tree, mid, P2M_LEVEL_MID);
	}
	if (tree->top)
		ops->free(tree, tree->top, P2M_LEVEL_TOP);
	if (tree->identity_mid)
		ops->free(tree, tree->identity_mid, P2M_LEVEL_MID);
	if (tree->missing_mid)
		ops->free(tree, tree->missing_mid, P2M_LEVEL_MID);
	if (tree->identity_leaf)
		ops->free(tree, tree->identity_leaf, P2M_LEVEL_LEAF);
	if (tree->missing_leaf)
		ops->free(tree, tree->missing_leaf, P2M_LEVEL_LEAF);
	memset(tree, 0, sizeof(*tree));
}
EXPORT_SYMBOL_GPL(p2m_tree_destroy);

/*
 * Make top entry @t a private mid, copying the sentinel it replaces so no
 * answer changes.  Returns the mid, or NULL if no memory.
 */
static unsigned long **p2m_mid_for_write(struct p2m_tree *tree,
					 unsigned long t)
{
	unsigned long **mid, **new;
	unsigned long *fill, i;

	for (;;) {
		mid = READ_ONCE(tree->top[t]);
		if (!p2m_is_sentinel_mid(tree, mid))
			return mid;

		new = tree->ops->alloc(tree, P2M_LEVEL_MID, P2M_TREE_NODE_SIZE);
		if (!new)
			return NULL;
		fill = mid == tree->identity_mid ? tree->identity_leaf :
						   tree->missing_leaf;
		for (i = 0; i < P2M_TREE_ENTRIES; i++)
			new[i] = fill;

		if (cmpxchg(&tree->top[t], mid, new) == mid) {
			atomic_long_inc(&tree->nr_mids);
			return new;
		}
		/* Lost a race: use the winner's node (loop to re-check it). */
		tree->ops->free(tree, new, P2M_LEVEL_MID);
	}
}

/* Likewise for the leaf of @pfn under the private mid @mid. */
static unsigned long *p2m_leaf_for_write(struct p2m_tree *tree,
					 unsigned long **mid, unsigned long pfn)
{
	unsigned long m = p2m_mid_index(pfn);
	unsigned long base = pfn - p2m_leaf_index(pfn);
	unsigned long *leaf, *new, i;
	enum p2m_kind kind;

	for (;;) {
		leaf = READ_ONCE(mid[m]);
		if (!p2m_is_sentinel_leaf(tree, leaf))
			return leaf;

		new = tree->ops->alloc(tree, P2M_LEVEL_LEAF, P2M_TREE_NODE_SIZE);
		if (!new)
			return NULL;
		kind = leaf == tree->identity_leaf ? P2M_KIND_IDENTITY :
						     P2M_KIND_MISSING;
		for (i = 0; i < P2M_LEAF_PFNS; i++)
			new[i] = p2m_kind_value(kind, base + i);

		if (cmpxchg(&mid[m], leaf, new) == leaf) {
			atomic_long_inc(&tree->nr_leaves);
			return new;
		}
		tree->ops->free(tree, new, P2M_LEVEL_LEAF);
	}
}

/**
 * p2m_tree_leaf() - the leaf node currently serving @pfn
 * @tree: the tree
 * @pfn:  a pfn below max_pfn
 *
 * Return: a private or adopted leaf, or one of the sentinel leaves.
 */
unsigned long *p2m_tree_leaf(const struct p2m_tree *tree, unsigned long pfn)
{
	return __p2m_tree_leaf(tree, pfn);
}
EXPORT_SYMBOL_GPL(p2m_tree_leaf);

/**
 * p2m_tree_adopt() - use a caller's flat array as the first leaves
 * @tree:    a tree whose pfns below @nr_pfns are all still missing
 * @list:    the array: entry i is the value of pfn i, aligned to
 *           P2M_TREE_NODE_SIZE, with room for a whole number of leaves
 * @nr_pfns: valid entries; the rest of the last leaf is set to
 *           P2M_ENTRY_INVALID
 *
 * No entry is copied: the leaves are slices of @list, which must outlive
 * the tree (or be handed over with p2m_tree_take_adopted() or copied with
 * p2m_tree_copy_adopted()).  Only one
 * array can be adopted.
 *
 * Return: 0; -EINVAL if @nr_pfns is 0 or beyond the tree; -EBUSY if an
 * array was already adopted or a leaf is in use; -ENOMEM if a mid could
 * not be allocated (a prefix of @list is then adopted).
 */
int p2m_tree_adopt(struct p2m_tree *tree, unsigned long *list,
		   unsigned long nr_pfns)
{
	unsigned long pfn, end = ALIGN(nr_pfns, P2M_LEAF_PFNS);

	if (WARN_ONCE(!nr_pfns || nr_pfns > tree->max_pfn,
		      "p2m: cannot adopt %#lx pfns into a tree of %#lx\n",
		      nr_pfns, tree->max_pfn))
		return -EINVAL;
	if (WARN_ONCE(tree->adopted, "p2m: a list is already adopted\n"))
		return -EBUSY;
	for (pfn = 0; pfn < end; pfn += P2M_LEAF_PFNS)
		if (p2m_tree_leaf(tree, pfn) != tree->missing_leaf)
			return -EBUSY;

	for (pfn = nr_pfns; pfn < end; pfn++)
		list[pfn] = P2M_ENTRY_INVALID;
	tree->adopted = list;
	tree->adopted_end = list + end;
	for (pfn = 0; pfn < end; pfn += P2M_LEAF_PFNS) {
		unsigned long **mid = p2m_mid_for_write(tree, p2m_top_index(pfn));

		if (!mid) {
			tree->adopted_end = list + pfn;
			return -ENOMEM;
		}
		WRITE_ONCE(mid[p2m_mid_index(pfn)], list + pfn);
	}
	return 0;
}
EXPORT_SYMBOL_GPL(p2m_tree_adopt);

/**
 * p2m_tree_take_adopted() - make the adopted leaves the tree's own
 * @tree:  the tree; nobody may write entries meanwhile
 * @moved: gives the address at which an adopted leaf is to be reached from
 *         now on (the same memory, another mapping), or NULL if it cannot;
 *         asked twice per leaf, it must give the same answer both times
 *
 * For an adopted array whose early mapping goes away while no other
 * mapping shows it contiguously: each leaf is re-pointed on its own.  The
 * memory passes to the tree, which from then on treats those leaves like
 * the ones it allocated (ops->retire() when replaced, ops->free() on
 * destroy).
 *
 * All or nothing: every leaf is asked for before any is re-pointed, so a
 * caller falling back to p2m_tree_copy_adopted() on failure leaves no
 * leaf pointing into the mapping it then frees.
 *
 * Return: 0; -ENOMEM if @moved had no place for a leaf (nothing changed);
 * -EIO (warned once) if @moved failed on the second ask, when some leaves
 * may have moved and the memory @moved gave must be kept.
 */
int p2m_tree_take_adopted(struct p2m_tree *tree,
			  unsigned long *(*moved)(struct p2m_tree *tree,
						  unsigned long *leaf))
{
	unsigned long t, m;
	bool publish;

	if (!tree->adopted)
		return 0;
	for (publish = false; ; publish = true) {
		for (t = 0; t < tree->nr_top; t++) {
			unsigned long **mid = tree->top[t];

			if (p2m_is_sentinel_mid(tree, mid))
				continue;
			for (m = 0; m < P2M_TREE_ENTRIES; m++) {
				unsigned long *old = mid[m], *new;

				if (!p2m_is_adopted(tree, old))
					continue;
				new = moved(tree, old);
				if (!new && !publish)
					return -ENOMEM;
				if (WARN_ONCE(!new, "p2m: leaf at %p could be moved only once\n",
					      old))
					return -EIO;
				if (!publish)
					continue;
				WRITE_ONCE(mid[m], new);
				atomic_long_inc(&tree->nr_leaves);
			}
		}
		if (publish)
			break;
	}
	tree->adopted = NULL;
	tree->adopted_end = NULL;
	return 0;
}
EXPORT_SYMBOL_GPL(p2m_tree_take_adopted);

/**
 * p2m_tree_move_adopted() - follow the adopted array to a new address
 * @tree: the tree; nobody may write entries meanwhile, readers may run
 * @to:   where the array's contents go: as many words as were adopted
 *        (a whole number of leaves)
 *
 * For an array whose memory is about to be reused: the array is copied
 * to @to, then every adopted leaf is re-pointed into the copy, which stays
 * adopted (p2m_tree_take_adopted() and p2m_tree_copy_adopted() then work
 * on it).  A reader sees either the old leaf or its copy, never a mix of
 * the two.
 *
 * Return: 0, or -EINVAL (warned once) if nothing is adopted or @to
 * overlaps the array.
 */
int p2m_tree_move_adopted(struct p2m_tree *tree, unsigned long *to)
{
	unsigned long *from = tree->adopted, t, m;
	size_t words = tree->adopted_end - from;

	if (WARN_ONCE(!from || !to || (to < from + words && from < to + words),
		      "p2m: cannot move the adopted array %p to %p\n", from, to))
		return -EINVAL;
	memcpy(to, from, words * sizeof(*to));
	for (t = 0; t < tree->nr_top; t++) {
		unsigned long **mid = tree->top[t];

		if (p2m_is_sentinel_mid(tree, mid))
			continue;
		for (m = 0; m < P2M_TREE_ENTRIES; m++)
			if (p2m_is_adopted(tree, mid[m]))
				WRITE_ONCE(mid[m], to + (mid[m] - from));
	}
	tree->adopted = to;
	tree->adopted_end = to + words;
	return 0;
}
EXPORT_SYMBOL_GPL(p2m_tree_move_adopted);

static unsigned long *p2m_copy_leaf(struct p2m_tree *tree, unsigned long *leaf)
{
	unsigned long *copy = tree->ops->alloc(tree, P2M_LEVEL_LEAF,
					       P2M_TREE_NODE_SIZE);

	if (copy)
		memcpy(copy, leaf, P2M_TREE_NODE_SIZE);
	return copy;
}

/**
 * p2m_tree_copy_adopted() - replace adopted leaves by private copies
 * @tree: the tree; nobody may write entries meanwhile
 *
 * After success the adopted array is no longer used and may be freed.
 *
 * Return: 0 or -ENOMEM; the leaves not yet copied then stay adopted, and
 * the array must be kept.
 */
int p2m_tree_copy_adopted(struct p2m_tree *tree)
{
	unsigned long t, m;

	for (t = 0; t < tree->nr_top && tree->adopted; t++) {
		unsigned long **mid = tree->top[t];

		if (p2m_is_sentinel_mid(tree, mid))
			continue;
		for (m = 0; m < P2M_TREE_ENTRIES; m++) {
			unsigned long *old = mid[m], *copy;

			if (!p2m_is_adopted(tree, old))
				continue;
			copy = p2m_copy_leaf(tree, old);
			if (!copy)
				return -ENOMEM;
			WRITE_ONCE(mid[m], copy);
			atomic_long_inc(&tree->nr_leaves);
		}
	}
	tree->adopted = NULL;
	tree->adopted_end = NULL;
	return 0;
}
EXPORT_SYMBOL_GPL(p2m_tree_copy_adopted);

/**
 * p2m_tree_set() - set one entry without allocating
 * @tree: the tree
 * @pfn:  the pfn
 * @mfn:  an MFN (optionally with the FOREIGN bit), P2M_IDENTITY(@pfn) or
 *        P2M_ENTRY_INVALID
 *
 * Setting a pfn served by a sentinel succeeds only if the sentinel already
 * gives that answer; otherwise call p2m_tree_populate() first.
 *
 * Return: true if @pfn now reads @mfn.  An identity value for another pfn,
 * or a change at or beyond max_pfn, warns once and returns false.
 */
bool p2m_tree_set(struct p2m_tree *tree, unsigned long pfn, unsigned long mfn)
{
	unsigned long *leaf;

	if (unlikely(pfn >= tree->max_pfn)) {
		if (mfn == P2M_IDENTITY(pfn))
			return true;
		WARN_ONCE(1, "p2m: pfn %#lx is beyond the tree (%#lx pfns)\n",
			  pfn, tree->max_pfn);
		return false;
	}
	if (WARN_ONCE(p2m_entry_kind(pfn, mfn) == P2M_KIND_ABNORMAL,
		      "p2m: identity value %#lx set for pfn %#lx\n", mfn, pfn))
		return false;

	leaf = p2m_tree_leaf(tree, pfn);
	if (leaf == tree->missing_leaf)
		return mfn == P2M_ENTRY_INVALID;
	if (leaf == tree->identity_leaf)
		return mfn == P2M_IDENTITY(pfn);
	WRITE_ONCE(leaf[p2m_leaf_index(pfn)], mfn);
	return true;
}
EXPORT_SYMBOL_GPL(p2m_tree_set);

/**
 * p2m_tree_populate() - make sure @pfn has a leaf of its own
 * @tree: the tree
 * @pfn:  a pfn below max_pfn
 *
 * Sentinels on the way are replaced by private copies; no answer changes.
 *
 * Return: 0, -EINVAL (warned once) for @pfn beyond the tree, or -ENOMEM.
 */
int p2m_tree_populate(struct p2m_tree *tree, unsigned long pfn)
{
	unsigned long **mid;

	if (WARN_ONCE(pfn >= tree->max_pfn,
		      "p2m: pfn %#lx is beyond the tree (%#lx pfns)\n",
		      pfn, tree->max_pfn))
		return -EINVAL;
	mid = p2m_mid_for_write(tree, p2m_top_index(pfn));
	if (!mid || !p2m_leaf_for_write(tree, mid, pfn))
		return -ENOMEM;
	return 0;
}
EXPORT_SYMBOL_GPL(p2m_tree_populate);

static void p2m_retire_leaf(struct p2m_tree *tree, unsigned long *leaf)
{
	if (p2m_is_sentinel_leaf(tree, leaf) || p2m_is_adopted(tree, leaf))
		return;
	atomic_long_dec(&tree->nr_leaves);
	tree->ops->retire(tree, leaf, P2M_LEVEL_LEAF);
}

static void p2m_retire_mid(struct p2m_tree *tree, unsigned long **mid)
{
	unsigned long m;

	if (p2m_is_sentinel_mid(tree, mid))
		return;
	for (m = 0; m < P2M_TREE_ENTRIES; m++)
		p2m_retire_leaf(tree, mid[m]);
	atomic_long_dec(&tree->nr_mids);
	tree->ops->retire(tree, mid, P2M_LEVEL_MID);
}

/*
 * A range edge at @pfn cuts the mid and possibly the leaf holding it: make
 * them private unless they already read as @kind throughout.
 */
static int p2m_prepare_edge(struct p2m_tree *tree, unsigned long pfn,
			    enum p2m_kind kind)
{
	unsigned long **target_mid = kind == P2M_KIND_IDENTITY ?
				     tree->identity_mid : tree->missing_mid;
	unsigned long *target_leaf = target_mid[0];
	unsigned long **mid;

	if (!p2m_mid_index(pfn) && !p2m_leaf_index(pfn))
		return 0;
	if (READ_ONCE(tree->top[p2m_top_index(pfn)]) == target_mid)
		return 0;
	mid = p2m_mid_for_write(tree, p2m_top_index(pfn));
	if (!mid)
		return -ENOMEM;
	if (!p2m_leaf_index(pfn) || READ_ONCE(mid[p2m_mid_index(pfn)]) == target_leaf)
		return 0;
	return p2m_leaf_for_write(tree, mid, pfn) ? 0 : -ENOMEM;
}

/* Fill [start, end), all within the private mid @mid, with @kind. */
static void p2m_fill_in_mid(struct p2m_tree *tree, unsigned long **mid,
			    unsigned long start, unsigned long end,
			    enum p2m_kind kind)
{
	unsigned long *target_leaf = kind == P2M_KIND_IDENTITY ?
				     tree->identity_leaf : tree->missing_leaf;
	unsigned long pfn, next;

	for (pfn = start; pfn < end; pfn = next) {
		unsigned long m = p2m_mid_index(pfn);
		unsigned long *leaf;

		next = min(pfn - p2m_leaf_index(pfn) + P2M_LEAF_PFNS, end);
		if (!p2m_leaf_index(pfn) && next - pfn == P2M_LEAF_PFNS) {
			p2m_retire_leaf(tree, xchg(&mid[m], target_leaf));
			continue;
		}
		leaf = READ_ONCE(mid[m]);
		if (leaf == target_leaf)
			continue;
		for (; pfn < next; pfn++)
			WRITE_ONCE(leaf[p2m_leaf_index(pfn)],
				   p2m_kind_value(kind, pfn));
	}
}

/*
 * Make [start, end) read as @kind.  Whole mids and leaves become sentinels;
 * only the (at most two) cut mids and leaves at the edges need nodes of
 * their own, and those are allocated before anything changes.
 */
static long p2m_tree_fill(struct p2m_tree *tree, unsigned long start,
			  unsigned long end, enum p2m_kind kind)
{
	unsigned long **target_mid = kind == P2M_KIND_IDENTITY ?
				     tree->identity_mid : tree->missing_mid;
	unsigned long pfn, next, stop = min(end, tree->max_pfn);
	int err;

	if (WARN_ONCE(start >= end, "p2m: empty or reversed range [%#lx, %#lx)\n",
		      start, end))
		return -EINVAL;
	if (start >= stop)
		return 0;

	err = p2m_prepare_edge(tree, start, kind);
	if (!err && stop < tree->max_pfn)
		err = p2m_prepare_edge(tree, stop, kind);
	if (err)
		return err;

	for (pfn = start; pfn < stop; pfn = next) {
		unsigned long t = p2m_top_index(pfn);
		unsigned long **mid;

		next = min((t + 1) * P2M_MID_PFNS, stop);
		if (pfn == t * P2M_MID_PFNS && next - pfn == P2M_MID_PFNS) {
			p2m_retire_mid(tree, xchg(&tree->top[t], target_mid));
			continue;
		}
		mid = READ_ONCE(tree->top[t]);
		if (mid != target_mid)
			p2m_fill_in_mid(tree, mid, pfn, next, kind);
	}
	return stop - start;
}

/**
 * p2m_tree_set_identity() - make [@start, @end) identity
 * @tree:  the tree
 * @start: first pfn
 * @end:   one past the last pfn; may exceed max_pfn (those pfns are
 *         identity already)
 *
 * Costs O(leaves touched) and at most four new nodes; wholly covered
 * leaves and mids become the identity sentinels.
 *
 * Return: pfns changed below max_pfn, -EINVAL (warned once) for an empty
 * or reversed range, or -ENOMEM with no answer changed.
 */
long p2m_tree_set_identity(struct p2m_tree *tree, unsigned long start,
			   unsigned long end)
{
	return p2m_tree_fill(tree, start, end, P2M_KIND_IDENTITY);
}
EXPORT_SYMBOL_GPL(p2m_tree_set_identity);

/**
 * p2m_tree_set_missing() - make [@start, @end) missing
 * @tree:  the tree
 * @start: first pfn
 * @end:   one past the last pfn, at most max_pfn
 *
 * As p2m_tree_set_identity(), with the missing sentinels.
 *
 * Return: pfns changed, -EINVAL (warned once) for an empty or reversed
 * range or one reaching beyond max_pfn, or -ENOMEM with no answer changed.
 */
long p2m_tree_set_missing(struct p2m_tree *tree, unsigned long start,
			  unsigned long end)
{
	if (WARN_ONCE(end > tree->max_pfn,
		      "p2m: pfns from %#lx are identity and cannot be missing\n",
		      tree->max_pfn))
		return -EINVAL;
	return p2m_tree_fill(tree, start, end, P2M_KIND_MISSING);
}
EXPORT_SYMBOL_GPL(p2m_tree_set_missing);

/*
 * The kind of @pfn in its private leaf @leaf, and in *@end one past the
 * last entry of the leaf from @pfn on with the same kind: one walk, then
 * entry by entry.
 */
static enum p2m_kind p2m_leaf_run(const unsigned long *leaf, unsigned long pfn,
				  unsigned long *end)
{
	unsigned long base = pfn - p2m_leaf_index(pfn), i;
	enum p2m_kind kind = p2m_entry_kind(pfn, READ_ONCE(leaf[pfn - base]));

	for (i = pfn - base + 1; i < P2M_LEAF_PFNS; i++)
		if (p2m_entry_kind(base + i, READ_ONCE(leaf[i])) != kind)
			break;
	*end = base + i;
	return kind;
}

/*
 * The kind of @pfn, and in *@end one past the last pfn known from the same
 * look to share it: the rest of a sentinel's span, everything from max_pfn
 * on, or the entries of a private leaf from @pfn on that read alike.
 * Always more than @pfn.
 */
static enum p2m_kind p2m_span_at(const struct p2m_tree *tree,
				 unsigned long pfn, unsigned long *end)
{
	unsigned long **mid;
	unsigned long *leaf;

	if (pfn >= tree->max_pfn) {
		*end = ULONG_MAX;
		return P2M_KIND_IDENTITY;
	}
	mid = READ_ONCE(tree->top[p2m_top_index(pfn)]);
	if (p2m_is_sentinel_mid(tree, mid)) {
		*end = (p2m_top_index(pfn) + 1) * P2M_MID_PFNS;
		return mid == tree->identity_mid ? P2M_KIND_IDENTITY :
						   P2M_KIND_MISSING;
	}
	leaf = READ_ONCE(mid[p2m_mid_index(pfn)]);
	if (p2m_is_sentinel_leaf(tree, leaf)) {
		*end = pfn - p2m_leaf_index(pfn) + P2M_LEAF_PFNS;
		return leaf == tree->identity_leaf ? P2M_KIND_IDENTITY :
						     P2M_KIND_MISSING;
	}
	return p2m_leaf_run(leaf, pfn, end);
}

/*
 * The sentinel leaf that the private leaf @leaf, serving the pfns from
 * @base on, reads as throughout; NULL if it holds anything else.
 */
static unsigned long *p2m_leaf_folds_to(const struct p2m_tree *tree,
					const unsigned long *leaf,
					unsigned long base)
{
	unsigned long end;
	enum p2m_kind kind = p2m_leaf_run(leaf, base, &end);

	if (end != base + P2M_LEAF_PFNS)
		return NULL;
	if (kind == P2M_KIND_IDENTITY)
		return tree->identity_leaf;
	return kind == P2M_KIND_MISSING ? tree->missing_leaf : NULL;
}

/* The pfn slot @m of the mid at top index @t starts at. */
static unsigned long p2m_slot_base(unsigned long t, unsigned long m)
{
	return t * P2M_MID_PFNS + m * P2M_LEAF_PFNS;
}

/**
 * p2m_tree_fold() - share the sentinels wherever a node reads as one
 * @tree:    the tree; nobody may write entries meanwhile
 * @adopted: if not NULL, set to how many of the leaves folded were slices
 *           of the adopted array
 *
 * A range call makes the leaves and mids it covers whole into sentinels,
 * but a node that several calls cover between them, none of them whole,
 * stays private: setup.c marks a hole identity in pieces of at most 509
 * pfns, so none of its calls ever covers a leaf.  This points every
 * private leaf that reads as identity or as missing throughout at that
 * sentinel, then every mid whose leaves all became one sentinel at the
 * sentinel mid, and retires them (an adopted leaf, the adopter's memory,
 * is only let go).  Answers do not change, so lookups may run meanwhile.
 *
 * Writers may not: one writing another pfn of a leaf that a range call
 * has cut may run beside the call (writers of different pfns need no
 * lock), and its store would land in a leaf already folded.  That is why
 * the range calls do not fold; call this where no entry can be written,
 * as at boot before other CPUs run.
 *
 * Return: the number of nodes folded.
 */
unsigned long p2m_tree_fold(struct p2m_tree *tree, unsigned long *adopted)
{
	unsigned long t, m, folded = 0, from_list = 0;

	for (t = 0; t < tree->nr_top; t++) {
		unsigned long **mid = tree->top[t];
		unsigned long *leaf, *to;

		if (p2m_is_sentinel_mid(tree, mid))
			continue;
		for (m = 0; m < P2M_TREE_ENTRIES; m++) {
			leaf = mid[m];
			if (p2m_is_sentinel_leaf(tree, leaf))
				continue;
			to = p2m_leaf_folds_to(tree, leaf, p2m_slot_base(t, m));
			if (!to)
				continue;
			from_list += p2m_is_adopted(tree, leaf);
			WRITE_ONCE(mid[m], to);
			p2m_retire_leaf(tree, leaf);
			folded++;
		}
		to = mid[0];
		for (m = 1; m < P2M_TREE_ENTRIES && mid[m] == to; m++)
			;
		if (m < P2M_TREE_ENTRIES || !p2m_is_sentinel_leaf(tree, to))
			continue;
		WRITE_ONCE(tree->top[t], to == tree->identity_leaf ?
			   tree->identity_mid : tree->missing_mid);
		p2m_retire_mid(tree, mid);
		folded++;
	}
	if (adopted)
		*adopted = from_list;
	return folded;
}
EXPORT_SYMBOL_GPL(p2m_tree_fold);

/**
 * p2m_tree_next_range() - the run of pfns that read like @pfn
 * @tree:  the tree
 * @pfn:   first pfn of the run, below @limit
 * @limit: stop here
 * @kind:  set to the kind of the run
 *
 * Sentinel spans are skipped whole and a private leaf is read entry by
 * entry after one walk per run of one kind in it, so walking a tree range
 * by range costs O(nodes + private entries) and a walk per run, not one
 * per pfn.
 * The kind of @pfn comes from the same walk as the rest of the run, so
 * the run is never empty, even while the tree changes underneath: a
 * caller stepping from run to run always gets to @limit.
 *
 * Return: one past the last pfn of the run (at most @limit).
 */
unsigned long p2m_tree_next_range(const struct p2m_tree *tree,
				  unsigned long pfn, unsigned long limit,
				  enum p2m_kind *kind)
{
	enum p2m_kind k = p2m_span_at(tree, pfn, &pfn);
	unsigned long end;

	while (pfn < limit && p2m_span_at(tree, pfn, &end) == k)
		pfn = end;
	*kind = k;
	return min(pfn, limit);
}
EXPORT_SYMBOL_GPL(p2m_tree_next_range);

/**
 * p2m_tree_get_stats() - count nodes, sentinel references and pfn kinds
 * @tree:  the tree
 * @stats: filled in
 */
void p2m_tree_get_stats(const struct p2m_tree *tree,
			struct p2m_tree_stats *stats)
{
	unsigned long t, m, pfn, end, *first;
	enum p2m_kind kind;

	memset(stats, 0, sizeof(*stats));
	stats->top_entries = tree->nr_top;
	for (t = 0; t < tree->nr_top; t++) {
		unsigned long **mid = READ_ONCE(tree->top[t]);

		if (mid == tree->missing_mid) {
			stats->top_to_missing++;
			continue;
		}
		if (mid == tree->identity_mid) {
			stats->top_to_identity++;
			continue;
		}
		stats->mids++;
		first = NULL;
		for (m = 0; m < P2M_TREE_ENTRIES; m++) {
			unsigned long *leaf = READ_ONCE(mid[m]);
			bool sentinel = p2m_is_sentinel_leaf(tree, leaf);
			/* What the slot reads as, if one sentinel leaf. */
			unsigned long *to = sentinel ? leaf :
				p2m_leaf_folds_to(tree, leaf, p2m_slot_base(t, m));

			if (!m)
				first = to;
			else if (to != first)
				first = NULL;
			if (leaf == tree->missing_leaf)
				stats->mid_to_missing++;
			else if (leaf == tree->identity_leaf)
				stats->mid_to_identity++;
			else if (p2m_is_adopted(tree, leaf))
				stats->adopted_leaves++;
			else
				stats->leaves++;
			if (to && !sentinel)
				stats->foldable_leaves++;
		}
		if (first)
			stats->foldable_mids++;
	}
	for (pfn = 0; pfn < tree->max_pfn; pfn = end) {
		end = p2m_tree_next_range(tree, pfn, tree->max_pfn, &kind);
		stats->pfns[kind] += end - pfn;
	}
}
EXPORT_SYMBOL_GPL(p2m_tree_get_stats);

#ifdef CONFIG_XEN_P2M_TREE_DEBUG
/**
 * p2m_tree_verify() - check a tree's invariants
 * @tree: the tree, not being changed meanwhile
 * @why:  receives a description of the first violation
 * @len:  size of @why
 *
 * Checks that the sentinels hold what they should, that every pointer
 * leads to a sentinel or a private node, that adopted leaves sit at their
 * own pfn's offset in the adopted array, that no entry is abnormal and
 * that the node counters match the nodes reachable.
 *
 * Return: 0, or -EUCLEAN with @why filled in.
 */
int p2m_tree_verify(const struct p2m_tree *tree, char *why, size_t len)
{
	unsigned long i, t, m, mids = 0, leaves = 0;

	for (i = 0; i < P2M_TREE_ENTRIES; i++) {
		if (tree->missing_leaf[i] != P2M_ENTRY_INVALID ||
		    tree->identity_leaf[i] != P2M_ENTRY_INVALID) {
			snprintf(why, len, "sentinel leaf entry %lu changed", i);
			return -EUCLEAN;
		}
		if (tree->missing_mid[i] != tree->missing_leaf ||
		    tree->identity_mid[i] != tree->identity_leaf) {
			snprintf(why, len, "sentinel mid entry %lu changed", i);
			return -EUCLEAN;
		}
	}
	for (t = 0; t < tree->nr_top; t++) {
		unsigned long **mid = tree->top[t];

		if (!mid || mid == (unsigned long **)tree->missing_leaf ||
		    mid == (unsigned long **)tree->identity_leaf) {
			snprintf(why, len, "top[%lu] is %p", t, mid);
			return -EUCLEAN;
		}
		if (p2m_is_sentinel_mid(tree, mid))
			continue;
		mids++;
		for (m = 0; m < P2M_TREE_ENTRIES; m++) {
			unsigned long *leaf = mid[m];
			unsigned long base = t * P2M_MID_PFNS + m * P2M_LEAF_PFNS;

			if (!leaf || leaf == (unsigned long *)tree->missing_mid ||
			    leaf == (unsigned long *)tree->identity_mid ||
			    leaf == (unsigned long *)mid) {
				snprintf(why, len, "top[%lu][%lu] is %p", t, m, leaf);
				return -EUCLEAN;
			}
			if (p2m_is_sentinel_leaf(tree, leaf))
				continue;
			if (p2m_is_adopted(tree, leaf)) {
				if (leaf != tree->adopted + base) {
					snprintf(why, len,
						 "adopted leaf of pfn %#lx at offset %#lx",
						 base, (unsigned long)(leaf - tree->adopted));
					return -EUCLEAN;
				}
			} else {
				leaves++;
			}
			for (i = 0; i < P2M_LEAF_PFNS; i++) {
				if (p2m_entry_kind(base + i, leaf[i]) ==
				    P2M_KIND_ABNORMAL) {
					snprintf(why, len, "pfn %#lx holds %#lx",
						 base + i, leaf[i]);
					return -EUCLEAN;
				}
			}
		}
	}
	if (mids != (unsigned long)atomic_long_read(&tree->nr_mids) ||
	    leaves != (unsigned long)atomic_long_read(&tree->nr_leaves)) {
		snprintf(why, len, "counted %lu mids %lu leaves, counters say %ld %ld",
			 mids, leaves, atomic_long_read(&tree->nr_mids),
			 atomic_long_read(&tree->nr_leaves));
		return -EUCLEAN;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(p2m_tree_verify);
#endif /* CONFIG_XEN_P2M_TREE_DEBUG */

/**
 * p2m_tree_dump() - print the ranges and statistics of a tree
 * @tree: the tree
 * @m:    where to print
 *
 * One line per run of pfns of one kind, " [0x<first>->0x<end>] <kind>"
 * with <end> exclusive, from pfn 0 to max_pfn; then a "stats:" block.
 * Each line says what a lookup of those pfns returns, whatever node
 * serves them.
 */
void p2m_tree_dump(const struct p2m_tree *tree, struct seq_file *m)
{
	struct p2m_tree_stats st;
	unsigned long pfn, end;
	enum p2m_kind kind;

	for (pfn = 0; pfn < tree->max_pfn; pfn = end) {
		end = p2m_tree_next_range(tree, pfn, tree->max_pfn, &kind);
		seq_printf(m, " [0x%lx->0x%lx] %s\n", pfn, end,
			   p2m_kind_names[kind]);
	}

	p2m_tree_get_stats(tree, &st);
	seq_puts(m, "stats:\n");
	seq_printf(m, "  top: %lu entries, %lu bytes\n", st.top_entries,
		   st.top_entries * (unsigned long)sizeof(*tree->top));
	seq_printf(m, "  nodes: %lu mid, %lu leaf, %lu adopted leaf, 4 sentinel\n",
		   st.mids, st.leaves, st.adopted_leaves);
	seq_printf(m, "  sentinel refs: top->missing %lu, top->identity %lu, mid->missing %lu, mid->identity %lu\n",
		   st.top_to_missing, st.top_to_identity, st.mid_to_missing,
		   st.mid_to_identity);
	seq_printf(m, "  pfns: identity %lu, missing %lu, pfn %lu, abnormal %lu\n",
		   st.pfns[P2M_KIND_IDENTITY], st.pfns[P2M_KIND_MISSING],
		   st.pfns[P2M_KIND_PFN], st.pfns[P2M_KIND_ABNORMAL]);
	seq_printf(m, "  foldable: %lu leaf, %lu mid (read as one sentinel throughout)\n",
		   st.foldable_leaves, st.foldable_mids);
}
EXPORT_SYMBOL_GPL(p2m_tree_dump);
