/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim.  READ_ONCE() is an acquire load: the kernel relies on address
 * dependencies to order a pointer load before loads through it, which C11
 * calls consume (compilers promote it to acquire).  That lets TSan see the
 * publication of a node by cmpxchg() as the synchronisation it is.
 */
#ifndef _SHIM_LINUX_COMPILER_H
#define _SHIM_LINUX_COMPILER_H
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_CONSUME)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#endif
