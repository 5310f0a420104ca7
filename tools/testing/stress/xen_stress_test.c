// SPDX-License-Identifier: GPL-2.0
/*
 * Stress-test module for the P2M and unpopulated-alloc, built against the
 * booted kernel (tools/testing/build/modules.sh) and driven by
 * tools/testing/stress/stress.sh, which runs grant map/unmap loops and
 * balloon moves beside it.
 *
 * Loading it with seed=S seconds=T starts, for T seconds:
 *
 * - one allocation worker per online CPU: each keeps up to WORKER_SLOTS
 *   allocations of mixed sizes outstanding, taking and freeing them at
 *   random.  Worker 0 also takes, every STRESS_BIG_EVERY of its steps,
 *   one page more than a range holds, and lets it go as many steps
 *   later, then pauses STRESS_BIG_PAUSE_MS: that always needs a range
 *   more, which then falls idle and is given back while the other
 *   workers go on allocating, so give-back races allocation however slow
 *   the machine.  Every page handed out is
 *   checked: a ZONE_DEVICE page, no
 *   other holder (an xarray of every pfn the workers hold, naming the
 *   allocation), and on x86 PV a P2M entry of INVALID_P2M_ENTRY from
 *   allocation until it is freed;
 * - on x86 PV, a P2M checker that looks up every RAM pfn and every pfn of
 *   the span the workers' pages came from, over and over: a pfn one
 *   allocation holds throughout the lookup must read INVALID; a foreign
 *   entry (a grant mapping, gntself's grants from dom0 to itself) must
 *   name a frame that Xen's M2P gives to a dom0 RAM pfn mapping it; an
 *   identity entry must name its own pfn; any other MFN must map back to
 *   the pfn through the M2P.  Entries that change during the check (the
 *   balloon, grant maps) are not judged.

 * Reading /sys/kernel/debug/xen_stress_test/result waits for the end and
 * prints "key: value" lines; tools/testing/boot/stress_checks.py checks them.
 */

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/mmzone.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include <xen/features.h>
#include <xen/page.h>
#include <xen/xen.h>

static ulong seed = 1;
module_param(seed, ulong, 0444);
MODULE_PARM_DESC(seed, "Seed of every worker's choices");

static uint seconds = 30;
module_param(seconds, uint, 0444);
MODULE_PARM_DESC(seconds, "How long the workers run");

#define WORKER_SLOTS	8
#define STRESS_MAX_WORKERS	16
/* One page more than a range (a memory section) holds. */
#define STRESS_BIG		(PAGES_PER_SECTION + 1)
#define STRESS_BIG_EVERY	16
#define STRESS_BIG_PAUSE_MS	200
#define STRESS_HOT_PFNS		256

/* Request sizes: single pages, odd sizes, up to one 4 MiB batch. */
static const unsigned int stress_sizes[] = { 1, 1, 2, 3, 7, 16, 64, 300, 1024 };

struct stress_slot {
	unsigned int nr;
	unsigned long seq;	/* which allocation, in the xarray */
	struct page **pages;
};

struct stress_worker {
	struct task_struct *task;
	struct rnd_state rnd;
	unsigned int id;
	struct stress_slot slot[WORKER_SLOTS];
	struct stress_slot big;
};

/* Counters; every wrong answer also prints one line (ratelimited). */
static atomic_long_t nr_allocs, nr_alloc_pages, nr_frees, nr_alloc_errors;
static atomic_long_t nr_wrong, nr_lookups, nr_checked, nr_p2m_passes;
static atomic_long_t nr_held_checked, nr_foreign_checked, nr_bursts;
static atomic_long_t alloc_seq;
/*
 * Threads not yet done (debugfs "running"): a worker counts until it has
 * freed all it held after its deadline.  And threads that did not start.
 */
static atomic_t nr_running, nr_start_errors;

static DEFINE_XARRAY(stress_held);	/* pfn -> sequence number of its allocation */
/* The span of pfns the workers were ever handed, for the P2M checker. */
static DEFINE_SPINLOCK(span_lock);
static unsigned long span_lo = ULONG_MAX, span_hi;
static struct stress_worker *workers;
static unsigned int nr_workers;
static struct task_struct *checker;
static DECLARE_COMPLETION(stress_done);
static unsigned long deadline;
static struct dentry *stress_dir;

#define stress_wrong(fmt, ...) do {					\
	atomic_long_inc(&nr_wrong);					\
	pr_err_ratelimited("xen_stress_test: wrong: " fmt "\n", ##__VA_ARGS__); \
} while (0)

static bool stress_pv(void)
{
	return IS_ENABLED(CONFIG_XEN_PV) &&
	       !xen_feature(XENFEAT_auto_translated_physmap);
}

static void stress_note_span(unsigned long pfn)
{
	if (pfn >= READ_ONCE(span_lo) && pfn <= READ_ONCE(span_hi))
		return;
	spin_lock(&span_lock);
	WRITE_ONCE(span_lo, min(span_lo, pfn));
	WRITE_ONCE(span_hi, max(span_hi, pfn));
	spin_unlock(&span_lock);
}

/* Forget the first @nr pages of @s in the xarray; complain if not ours. */
static void stress_unrecord(struct stress_slot *s, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		unsigned long pfn = page_to_pfn(s->pages[i]);
		void *old = xa_erase(&stress_held, pfn);

		if (old != xa_mk_value(s->seq))
			stress_wrong("pfn %#lx of allocation %lu was not recorded as its own",
				     pfn, s->seq);
	}
}

/* Take and check one allocation of @nr pages into @s. */
static void stress_alloc(struct stress_worker *w, struct stress_slot *s,
			 unsigned int nr)
{
	unsigned int i;
	int ret;

	s->pages = kvcalloc(nr, sizeof(*s->pages), GFP_KERNEL);
	if (!s->pages) {
		atomic_long_inc(&nr_alloc_errors);
		return;
	}
	ret = xen_alloc_unpopulated_pages(nr, s->pages);
	if (ret) {
		pr_err_ratelimited("xen_stress_test: %u pages: error %d\n", nr, ret);
		atomic_long_inc(&nr_alloc_errors);
		kvfree(s->pages);
		s->pages = NULL;
		return;
	}
	s->seq = atomic_long_inc_return(&alloc_seq);
	for (i = 0; i < nr; i++) {
		unsigned long pfn = page_to_pfn(s->pages[i]);
		void *old;

		if (!is_zone_device_page(s->pages[i]))
			stress_wrong("pfn %#lx handed out is not ZONE_DEVICE", pfn);
		if (stress_pv() && __pfn_to_mfn(pfn) != INVALID_P2M_ENTRY)
			stress_wrong("pfn %#lx handed out reads %#lx, not INVALID",
				     pfn, __pfn_to_mfn(pfn));
		stress_note_span(pfn);
		old = xa_store(&stress_held, pfn, xa_mk_value(s->seq), GFP_KERNEL);
		if (xa_is_err(old)) {
			/* No record, no test: give it all back as it came. */
			atomic_long_inc(&nr_alloc_errors);
			stress_unrecord(s, i);
			xen_free_unpopulated_pages(nr, s->pages);
			kvfree(s->pages);
			s->pages = NULL;
			return;
		}
		if (old)
			stress_wrong("pfn %#lx handed to allocation %lu is held by allocation %lu",
				     pfn, s->seq, xa_to_value(old));
	}
	s->nr = nr;
	atomic_long_inc(&nr_allocs);
	atomic_long_add(nr, &nr_alloc_pages);
}

static void stress_free(struct stress_worker *w, struct stress_slot *s)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		unsigned long pfn = page_to_pfn(s->pages[i]);

		if (stress_pv() && __pfn_to_mfn(pfn) != INVALID_P2M_ENTRY)
			stress_wrong("held pfn %#lx reads %#lx, not INVALID",
				     pfn, __pfn_to_mfn(pfn));
	}
	stress_unrecord(s, s->nr);
	xen_free_unpopulated_pages(s->nr, s->pages);
	kvfree(s->pages);
	s->pages = NULL;
	s->nr = 0;
	atomic_long_inc(&nr_frees);
}

static void stress_finish_thread(void)
{
	if (atomic_dec_and_test(&nr_running))
		complete(&stress_done);
}

static int stress_worker_fn(void *data)
{
	struct stress_worker *w = data;
	unsigned long step = 0;
	unsigned int i;

	while (time_before(jiffies, deadline) && !kthread_should_stop()) {
		u32 r = prandom_u32_state(&w->rnd);
		struct stress_slot *s = &w->slot[r % WORKER_SLOTS];

		if (w->id == 0 && ++step % STRESS_BIG_EVERY == 0) {
			if (w->big.nr) {
				stress_free(w, &w->big);
				/*
				 * Pause well past the provider's 1 ms reclaim
				 * delay, long enough for its worker to run
				 * even on a slow debug kernel under TCG: the
				 * range the burst needed goes back while the
				 * other workers allocate.
				 */
				msleep(STRESS_BIG_PAUSE_MS);
			} else {
				stress_alloc(w, &w->big, STRESS_BIG);
				atomic_long_inc(&nr_bursts);
			}
		}
		if (s->nr)
			stress_free(w, s);
		else
			stress_alloc(w, s, stress_sizes[(r >> 8) %
							ARRAY_SIZE(stress_sizes)]);
		/* Now and then go quiet, so ranges idle and are given back. */
		if ((r >> 16) % 64 == 0)
			msleep((r >> 22) % 8);
		cond_resched();
	}
	for (i = 0; i < WORKER_SLOTS; i++)
		if (w->slot[i].nr)
			stress_free(w, &w->slot[i]);
	if (w->big.nr)
		stress_free(w, &w->big);
	stress_finish_thread();
	return 0;
}

#ifdef CONFIG_XEN_PV
/* Check one pfn's P2M entry against what the workers and Xen say. */
static void stress_check_pfn(unsigned long pfn, unsigned long ram_end)
{
	unsigned long mfn, frame, back;
	void *held;

	held = xa_load(&stress_held, pfn);
	mfn = __pfn_to_mfn(pfn);
	atomic_long_inc(&nr_lookups);
	if (held && xa_load(&stress_held, pfn) == held) {
		/* One allocation held it throughout: nobody may map it. */
		if (mfn != INVALID_P2M_ENTRY)
			stress_wrong("pfn %#lx held by allocation %lu reads %#lx",
				     pfn, xa_to_value(held), mfn);
		atomic_long_inc(&nr_checked);
		atomic_long_inc(&nr_held_checked);
		return;
	}
	if (mfn == INVALID_P2M_ENTRY)
		return;		/* ballooned, a hole, or free in the provider */
	if (mfn & IDENTITY_FRAME_BIT) {
		atomic_long_inc(&nr_checked);
		if ((mfn & ~IDENTITY_FRAME_BIT) != pfn)
			stress_wrong("identity pfn %#lx reads %#lx", pfn, mfn);
		return;
	}
	frame = mfn & ~FOREIGN_FRAME_BIT;
	back = mfn_to_pfn_no_overrides(frame);
	if (mfn & FOREIGN_FRAME_BIT) {
		/* dom0's own frame, granted to itself: its pfn maps it. */
		if ((back >= ram_end || __pfn_to_mfn(back) != frame) &&
		    __pfn_to_mfn(pfn) == mfn)
			stress_wrong("foreign pfn %#lx maps %#lx, not dom0's (M2P: %#lx)",
				     pfn, frame, back);
		atomic_long_inc(&nr_checked);
		atomic_long_inc(&nr_foreign_checked);
		return;
	}
	/* The balloon may have changed the entry while the M2P was read. */
	if (back != pfn && __pfn_to_mfn(pfn) == mfn)
		stress_wrong("pfn %#lx reads mfn %#lx, whose M2P entry is %#lx",
			     pfn, mfn, back);
	atomic_long_inc(&nr_checked);
}

static int stress_checker_fn(void *data)
{
	/* max_pfn is not exported; high_memory is, and ends at it on x86-64. */
	unsigned long ram_end = PFN_DOWN(__pa(high_memory - 1)) + 1;
	unsigned long pfn, lo, hi, step;

	while (time_before(jiffies, deadline) && !kthread_should_stop()) {
		for (pfn = 0; pfn < ram_end && time_before(jiffies, deadline); pfn++) {
			stress_check_pfn(pfn, ram_end);
			/*
			 * The pool hands out its lowest free pages first, so
			 * the grant loops' pages, mapped for a moment at a
			 * time, are near the start of the span: look there
			 * often, or the foreign case is never seen.
			 */
			if (pfn % 16 == 0 && READ_ONCE(span_lo) <= READ_ONCE(span_hi))
				stress_check_pfn(READ_ONCE(span_lo) + pfn / 16 % STRESS_HOT_PFNS,
						 ram_end);
			if (pfn % 1024 == 0)
				cond_resched();
		}
		/* Every pfn the workers' pages came from (a sample if huge). */
		spin_lock(&span_lock);
		lo = span_lo;
		hi = span_hi;
		spin_unlock(&span_lock);
		step = lo > hi ? 1 : max(1UL, (hi - lo) >> 20);
		for (pfn = lo; pfn <= hi && time_before(jiffies, deadline); pfn += step) {
			stress_check_pfn(pfn, ram_end);
			if (pfn % 1024 == 0)
				cond_resched();
		}
		atomic_long_inc(&nr_p2m_passes);
	}
	stress_finish_thread();
	return 0;
}
#else
static int stress_checker_fn(void *data)
{
	return 0;	/* Arm's P2M lives in Xen: nothing to look up */
}
#endif

static int stress_result_show(struct seq_file *m, void *v)
{
	int ret = wait_for_completion_interruptible(&stress_done);

	if (ret)
		return ret;
	complete(&stress_done);		/* let a second read through */
	seq_printf(m, "seed: %lu\nseconds: %u\nworkers: %u\n", seed, seconds,
		   nr_workers);
	seq_printf(m, "allocs: %ld\nalloc_pages: %ld\nfrees: %ld\nalloc_errors: %ld\n",
		   atomic_long_read(&nr_allocs), atomic_long_read(&nr_alloc_pages),
		   atomic_long_read(&nr_frees), atomic_long_read(&nr_alloc_errors));
	seq_printf(m, "bursts: %ld\n", atomic_long_read(&nr_bursts));
	seq_printf(m, "p2m_checker: %s\n", checker ? "yes" : "no");
	seq_printf(m, "start_errors: %d\n", atomic_read(&nr_start_errors));
	seq_printf(m, "p2m_passes: %ld\nlookups: %ld\nchecked: %ld\n",
		   atomic_long_read(&nr_p2m_passes), atomic_long_read(&nr_lookups),
		   atomic_long_read(&nr_checked));
	seq_printf(m, "held_checked: %ld\nforeign_checked: %ld\n",
		   atomic_long_read(&nr_held_checked),
		   atomic_long_read(&nr_foreign_checked));
	seq_printf(m, "held_at_end: %lu\n", xa_empty(&stress_held) ? 0UL : 1UL);
	seq_printf(m, "wrong: %ld\n", atomic_long_read(&nr_wrong));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stress_result);

/*
 * Start a thread and keep a reference to it: its function returns at the
 * deadline, and stress_exit() must not free the module before the thread
 * has left it, so it waits with kthread_stop().
 */
static struct task_struct *stress_start(int (*fn)(void *), void *data, int id)
{
	struct task_struct *t = id < 0 ? kthread_create(fn, data, "xen_stress/p2m") :
				kthread_create(fn, data, "xen_stress/%d", id);

	if (IS_ERR(t)) {
		atomic_inc(&nr_start_errors);
		stress_finish_thread();
		return NULL;
	}
	get_task_struct(t);
	wake_up_process(t);
	return t;
}

static void stress_stop(struct task_struct *t)
{
	if (!t)
		return;
	kthread_stop(t);
	put_task_struct(t);
}

static int __init stress_init(void)
{
	unsigned int i;

	if (!xen_domain())
		return -ENODEV;
	nr_workers = clamp_t(unsigned int, num_online_cpus(), 2, STRESS_MAX_WORKERS);
	workers = kcalloc(nr_workers, sizeof(*workers), GFP_KERNEL);
	if (!workers)
		return -ENOMEM;
	deadline = jiffies + msecs_to_jiffies(seconds * MSEC_PER_SEC);

	atomic_set(&nr_running, nr_workers + stress_pv());
	for (i = 0; i < nr_workers; i++) {
		workers[i].id = i;
		prandom_seed_state(&workers[i].rnd, seed + i);
		workers[i].task = stress_start(stress_worker_fn, &workers[i], i);
	}
	if (stress_pv())
		checker = stress_start(stress_checker_fn, NULL, -1);
	stress_dir = debugfs_create_dir("xen_stress_test", NULL);
	debugfs_create_file("result", 0400, stress_dir, NULL, &stress_result_fops);
	debugfs_create_atomic_t("running", 0400, stress_dir, &nr_running);
	pr_info("xen_stress_test: seed %lu, %u s, %u workers%s\n", seed, seconds,
		nr_workers, checker ? " and a P2M checker" : "");
	return 0;
}

static void __exit stress_exit(void)
{
	unsigned int i;

	debugfs_remove_recursive(stress_dir);
	/* Threads end by themselves at the deadline; wait until they left. */
	for (i = 0; i < nr_workers; i++)
		stress_stop(workers[i].task);
	stress_stop(checker);
	kfree(workers);
	xa_destroy(&stress_held);
}

module_init(stress_init);
module_exit(stress_exit);
MODULE_DESCRIPTION("Stress test of the Xen P2M and unpopulated-alloc");
MODULE_LICENSE("GPL");
