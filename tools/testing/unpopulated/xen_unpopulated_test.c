// SPDX-License-Identifier: GPL-2.0
/*
 * Boot-test module for unpopulated-alloc, built against the booted kernel
 * (tools/testing/build/modules.sh) and driven by
 * tools/testing/unpopulated/unpopulated.sh in the test initramfs.
 *
 * Writing N to /sys/kernel/debug/xen_unpopulated_test/hold takes N
 * unpopulated pages and keeps them; writing 0 gives them back.  Reading
 * the file reports what the held pages are, as the kernel sees them, for
 * the harness to check against /proc/iomem:
 *
 *   held: N            pages held (or "alloc: <errno>" if the last take failed)
 *   pfns: a-b c-d ...  their pfns, as inclusive hex ranges
 *   zone_device: N     how many are ZONE_DEVICE pages
 *   ram: N             how many have System RAM behind them
 *   p2m_invalid: N     x86 PV: how many read INVALID_P2M_ENTRY
 *   p2m_leaf: N        x86 PV: how many have a P2M leaf of their own
 *
 * Reading /sys/kernel/debug/xen_unpopulated_test/released (x86 PV) reads
 * the P2M of the pfns the last release gave back, once the provider has
 * given their ranges back too: "released: N pfns, I identity, V invalid,
 * O other".  They are in gaps of the memory map, which read identity.
 *
 * Writing 1 to /sys/kernel/debug/xen_unpopulated_test/pin takes one
 * unpopulated page, takes a reference of its own on it and frees it: the
 * reference a buggy mapping would leave behind.  Reading the file prints
 * "pinned: pfn P, R references" (reading the struct page: if its range
 * was given back under the reference, this is the use-after-free).
 * Writing 0 drops the reference.
 *
 * Writing an address to /sys/kernel/debug/xen_unpopulated_test/claim
 * requests the page there in iomem_resource, as a device placed late (a
 * BAR from pcifront or hotplug) would, and lets it go again; reading the
 * file prints "claim: ADDR rc R".  In unused space no range of the
 * provider holds, R must be 0.
 *
 * Reading /sys/kernel/debug/xen_unpopulated_test/bench times alloc+free
 * pairs of 1, 64 and 1024 pages, then takes a burst of BENCH_BURST pages
 * at once and frees them (tools/testing/bench.sh measures what the
 * provider still holds afterwards, from /proc/iomem).
 */

#include <linux/debugfs.h>
#include <linux/ioport.h>
#include <linux/kstrtox.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include <xen/features.h>
#include <xen/page.h>
#include <xen/xen.h>

/* Upper bound on one request, well above what the boot test asks for. */
#define TEST_MAX_PAGES	4096

static DEFINE_MUTEX(test_lock);
static struct page **held;
static unsigned int nr_held;
static int last_error;
static struct dentry *test_dir;
static struct page *pinned;
static u64 claim_addr;
static int claim_rc = 1;	/* > 0: nothing claimed yet */
/* The pfns of the last release, as runs. */
#define TEST_MAX_RUNS	64
static struct { unsigned long first, last; } released[TEST_MAX_RUNS];
static unsigned int nr_released;

static bool test_pv(void)
{
	return IS_ENABLED(CONFIG_XEN_HAVE_PVMMU) &&
	       !xen_feature(XENFEAT_auto_translated_physmap);
}

/* Whether @pfn has a P2M leaf of its own, so a grant map needs no memory. */
static unsigned int test_has_leaf(unsigned long pfn)
{
#if defined(CONFIG_XEN_HAVE_PVMMU) && defined(CONFIG_XEN_P2M_TREE)
	unsigned long *node = p2m_tree_leaf(&xen_p2m_tree, pfn);

	return node != xen_p2m_tree.missing_leaf &&
	       node != xen_p2m_tree.identity_leaf;
#else
	return 0;	/* upstream's list: not asked (benchmark peer only) */
#endif
}

static int test_cmp_pfn(const void *a, const void *b)
{
	unsigned long x = page_to_pfn(*(struct page * const *)a);
	unsigned long y = page_to_pfn(*(struct page * const *)b);

	return x < y ? -1 : x > y;
}

static int test_show(struct seq_file *m, void *v)
{
	unsigned int i, zone_device = 0, ram = 0, invalid = 0, leaf = 0;
	struct page **sorted;
	unsigned long pfn;

	mutex_lock(&test_lock);
	if (last_error) {
		seq_printf(m, "alloc: %d\n", last_error);
		goto out;
	}
	seq_printf(m, "held: %u\n", nr_held);
	if (!nr_held)
		goto out;

	sorted = kmemdup(held, nr_held * sizeof(*held), GFP_KERNEL);
	if (!sorted) {
		mutex_unlock(&test_lock);
		return -ENOMEM;
	}
	sort(sorted, nr_held, sizeof(*sorted), test_cmp_pfn, NULL);
	seq_puts(m, "pfns:");
	for (i = 0; i < nr_held; i++) {
		pfn = page_to_pfn(sorted[i]);
		if (i && pfn == page_to_pfn(sorted[i - 1]) + 1)
			continue;
		seq_printf(m, " %#lx", pfn);
		while (i + 1 < nr_held &&
		       page_to_pfn(sorted[i + 1]) == page_to_pfn(sorted[i]) + 1)
			i++;
		seq_printf(m, "-%#lx", page_to_pfn(sorted[i]));
	}
	seq_putc(m, '\n');
	kfree(sorted);

	for (i = 0; i < nr_held; i++) {
		pfn = page_to_pfn(held[i]);
		zone_device += is_zone_device_page(held[i]);
		ram += page_is_ram(pfn);
		if (test_pv()) {
			invalid += __pfn_to_mfn(pfn) == INVALID_P2M_ENTRY;
			leaf += test_has_leaf(pfn);
		}
	}
	seq_printf(m, "zone_device: %u\nram: %u\n", zone_device, ram);
	if (test_pv())
		seq_printf(m, "p2m_invalid: %u\np2m_leaf: %u\n", invalid, leaf);
out:
	mutex_unlock(&test_lock);
	return 0;
}

static int test_open(struct inode *inode, struct file *file)
{
	return single_open(file, test_show, NULL);
}

/* Remember @held's pfns as runs, for the "released" file. */
static void test_note_released(void)
{
	unsigned int i;
	unsigned long pfn;

	nr_released = 0;
	for (i = 0; i < nr_held; i++) {
		pfn = page_to_pfn(held[i]);
		if (nr_released && released[nr_released - 1].last + 1 == pfn) {
			released[nr_released - 1].last = pfn;
			continue;
		}
		if (nr_released == TEST_MAX_RUNS)
			break;
		released[nr_released].first = pfn;
		released[nr_released].last = pfn;
		nr_released++;
	}
}

static void test_release_held(void)
{
	if (nr_held) {
		test_note_released();
		xen_free_unpopulated_pages(nr_held, held);
	}
	kfree(held);
	held = NULL;
	nr_held = 0;
}

static ssize_t test_write(struct file *file, const char __user *buf,
			  size_t len, loff_t *ppos)
{
	unsigned int n;
	int ret;

	ret = kstrtouint_from_user(buf, len, 0, &n);
	if (ret)
		return ret;
	if (n > TEST_MAX_PAGES)
		return -E2BIG;

	mutex_lock(&test_lock);
	test_release_held();
	last_error = 0;
	if (n) {
		held = kcalloc(n, sizeof(*held), GFP_KERNEL);
		ret = held ? xen_alloc_unpopulated_pages(n, held) : -ENOMEM;
		if (ret) {
			kfree(held);
			held = NULL;
			last_error = ret;
		} else {
			nr_held = n;
		}
	}
	mutex_unlock(&test_lock);
	return ret ?: len;
}

static const struct file_operations test_fops = {
	.owner = THIS_MODULE,
	.open = test_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = test_write,
};

/* Whether @mfn is @pfn's identity entry; IDENTITY_FRAME() is x86's. */
static bool test_is_identity(unsigned long pfn, unsigned long mfn)
{
#ifdef CONFIG_XEN_HAVE_PVMMU
	return mfn == IDENTITY_FRAME(pfn);
#else
	return false;
#endif
}

static int released_show(struct seq_file *m, void *v)
{
	unsigned long pfn, mfn, n = 0, identity = 0, invalid = 0;
	unsigned int i;

	if (!test_pv())
		return -ENODEV;
	mutex_lock(&test_lock);
	for (i = 0; i < nr_released; i++) {
		for (pfn = released[i].first; pfn <= released[i].last; pfn++) {
			mfn = __pfn_to_mfn(pfn);
			n++;
			identity += test_is_identity(pfn, mfn);
			invalid += mfn == INVALID_P2M_ENTRY;
		}
	}
	mutex_unlock(&test_lock);
	seq_printf(m, "released: %lu pfns, %lu identity, %lu invalid, %lu other\n",
		   n, identity, invalid, n - identity - invalid);
	return 0;
}

static int released_open(struct inode *inode, struct file *file)
{
	return single_open(file, released_show, NULL);
}

static const struct file_operations released_fops = {
	.owner = THIS_MODULE,
	.open = released_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

static int pin_show(struct seq_file *m, void *v)
{
	mutex_lock(&test_lock);
	if (pinned)
		seq_printf(m, "pinned: pfn %#lx, %d references\n",
			   page_to_pfn(pinned), page_ref_count(pinned));
	else
		seq_puts(m, "pinned: none\n");
	mutex_unlock(&test_lock);
	return 0;
}

static int pin_open(struct inode *inode, struct file *file)
{
	return single_open(file, pin_show, NULL);
}

static void test_unpin(void)
{
	if (pinned)
		put_page(pinned);
	pinned = NULL;
}

static ssize_t pin_write(struct file *file, const char __user *buf,
			 size_t len, loff_t *ppos)
{
	struct page *page;
	bool pin;
	int ret;

	ret = kstrtobool_from_user(buf, len, &pin);
	if (ret)
		return ret;

	mutex_lock(&test_lock);
	if (!pin) {
		test_unpin();
	} else if (pinned) {
		ret = -EBUSY;
	} else {
		ret = xen_alloc_unpopulated_pages(1, &page);
		if (!ret) {
			get_page(page);
			xen_free_unpopulated_pages(1, &page);
			pinned = page;
		}
	}
	mutex_unlock(&test_lock);
	return ret ?: len;
}

static const struct file_operations pin_fops = {
	.owner = THIS_MODULE,
	.open = pin_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = pin_write,
};

static int claim_show(struct seq_file *m, void *v)
{
	mutex_lock(&test_lock);
	if (claim_rc > 0)
		seq_puts(m, "claim: none\n");
	else
		seq_printf(m, "claim: %#llx rc %d\n", claim_addr, claim_rc);
	mutex_unlock(&test_lock);
	return 0;
}

static int claim_open(struct inode *inode, struct file *file)
{
	return single_open(file, claim_show, NULL);
}

static ssize_t claim_write(struct file *file, const char __user *buf,
			   size_t len, loff_t *ppos)
{
	struct resource res = {
		.name = "xenmm late claim",
		.flags = IORESOURCE_MEM | IORESOURCE_BUSY,
	};
	u64 addr;
	int ret;

	ret = kstrtou64_from_user(buf, len, 0, &addr);
	if (ret)
		return ret;
	if (!PAGE_ALIGNED(addr) || addr + PAGE_SIZE - 1 < addr)
		return -EINVAL;
	res.start = addr;
	res.end = addr + PAGE_SIZE - 1;

	mutex_lock(&test_lock);
	claim_addr = addr;
	claim_rc = request_resource(&iomem_resource, &res);
	if (!claim_rc)
		release_resource(&res);
	mutex_unlock(&test_lock);
	return len;
}

static const struct file_operations claim_fops = {
	.owner = THIS_MODULE,
	.open = claim_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = claim_write,
};

#define BENCH_BURST	(4 * 16384)

static int bench_show(struct seq_file *m, void *v)
{
	static const unsigned int sizes[] = { 1, 64, 1024 };
	unsigned int i, r, rounds;
	struct page **pages;
	u64 t0, best;
	int ret = 0;

	pages = kvcalloc(BENCH_BURST, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	for (i = 0; i < ARRAY_SIZE(sizes) && !ret; i++) {
		rounds = sizes[i] >= 1024 ? 100 : 1000;
		best = U64_MAX;
		/* Best of three runs; the first pair also fills the provider. */
		for (r = 0; r < 3 * rounds + 1 && !ret; r++) {
			if (r % rounds == 1)
				t0 = ktime_get_ns();
			ret = xen_alloc_unpopulated_pages(sizes[i], pages);
			if (ret)
				break;
			xen_free_unpopulated_pages(sizes[i], pages);
			if (r && r % rounds == 0)
				best = min(best, ktime_get_ns() - t0);
		}
		if (!ret)
			seq_printf(m, "alloc_free_%u_ns: %llu\n", sizes[i],
				   div_u64(best, rounds));
	}

	if (!ret)
		ret = xen_alloc_unpopulated_pages(BENCH_BURST, pages);
	if (!ret) {
		xen_free_unpopulated_pages(BENCH_BURST, pages);
		seq_printf(m, "burst_pages: %u\n", BENCH_BURST);
	}
	kvfree(pages);
	if (ret)
		seq_printf(m, "error: %d\n", ret);
	return 0;
}

static int bench_open(struct inode *inode, struct file *file)
{
	return single_open(file, bench_show, NULL);
}

static const struct file_operations bench_fops = {
	.owner = THIS_MODULE,
	.open = bench_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init test_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	test_dir = debugfs_create_dir("xen_unpopulated_test", NULL);
	debugfs_create_file("hold", 0600, test_dir, NULL, &test_fops);
	debugfs_create_file("bench", 0400, test_dir, NULL, &bench_fops);
	debugfs_create_file("pin", 0600, test_dir, NULL, &pin_fops);
	debugfs_create_file("released", 0400, test_dir, NULL, &released_fops);
	debugfs_create_file("claim", 0600, test_dir, NULL, &claim_fops);
	return 0;
}

static void __exit test_exit(void)
{
	debugfs_remove_recursive(test_dir);
	mutex_lock(&test_lock);
	test_release_held();
	test_unpin();
	mutex_unlock(&test_lock);
}

module_init(test_init);
module_exit(test_exit);
MODULE_DESCRIPTION("Boot test of Xen unpopulated-alloc");
MODULE_LICENSE("GPL");
