/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim.  Every warning that fires is counted in p2m_harness_warnings
 * (tests assert on it); the first per site is also printed.
 */
#ifndef _SHIM_LINUX_BUG_H
#define _SHIM_LINUX_BUG_H
#include <stdio.h>
#include <stdlib.h>

extern unsigned long p2m_harness_warnings;
extern int p2m_harness_quiet;

#define WARN_ONCE(cond, fmt...) ({					\
	static int __warned;						\
	int __c = !!(cond);						\
	if (__c) {							\
		__atomic_fetch_add(&p2m_harness_warnings, 1, __ATOMIC_RELAXED); \
		if (!__warned++ && !p2m_harness_quiet)			\
			fprintf(stderr, "WARNING: " fmt);		\
	}								\
	__c;								\
})
#define WARN_ON_ONCE(cond)	WARN_ONCE(cond, "%s:%d\n", __FILE__, __LINE__)
#define BUG_ON(cond)	do { if (cond) { fprintf(stderr, "BUG at %s:%d\n", __FILE__, __LINE__); abort(); } } while (0)
#endif
