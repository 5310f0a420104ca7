// SPDX-License-Identifier: GPL-2.0
/*
 * In-guest P2M lookup benchmark: /sys/kernel/debug/xen/p2m_bench.
 *
 * Reading the file times __pfn_to_mfn() over every pfn up to the end of
 * the guest's RAM (sequentially, then in a fixed pseudo-random order) and
 * prints nanoseconds per lookup.  It uses only __pfn_to_mfn(), so the same
 * file builds against upstream 6.1's P2M and against ours: make bench
 * boots both kernels under the same layout and prints the ratio.
 */

#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/memblock.h>
#include <linux/seq_file.h>
#include <asm/xen/page.h>
#include <xen/xen.h>

#include "debugfs.h"

#define P2M_BENCH_ROUNDS	5

static unsigned long p2m_bench_sink;

static u64 p2m_bench_seq(unsigned long end)
{
	unsigned long pfn, sum = 0;
	u64 t0 = ktime_get_ns();

	for (pfn = 0; pfn < end; pfn++)
		sum += __pfn_to_mfn(pfn);
	p2m_bench_sink += sum;
	return ktime_get_ns() - t0;
}

static u64 p2m_bench_random(unsigned long end)
{
	unsigned long i, x = 88172645463325252UL, sum = 0;
	u64 t0 = ktime_get_ns();

	for (i = 0; i < end; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += __pfn_to_mfn(x % end);
	}
	p2m_bench_sink += sum;
	return ktime_get_ns() - t0;
}

static int p2m_bench_show(struct seq_file *m, void *v)
{
	unsigned long end = max_pfn;
	u64 seq = U64_MAX, rnd = U64_MAX;
	int r;

	for (r = 0; r < P2M_BENCH_ROUNDS; r++) {
		seq = min(seq, p2m_bench_seq(end));
		rnd = min(rnd, p2m_bench_random(end));
	}
	seq_printf(m, "pfns: %lu\n", end);
	seq_printf(m, "sequential_ps: %llu\n", div64_u64(seq * 1000, end));
	seq_printf(m, "random_ps: %llu\n", div64_u64(rnd * 1000, end));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2m_bench);

static int __init p2m_bench_init(void)
{
	if (xen_pv_domain())
		debugfs_create_file("p2m_bench", 0400, xen_init_debugfs(), NULL,
				    &p2m_bench_fops);
	return 0;
}
late_initcall(p2m_bench_init);
