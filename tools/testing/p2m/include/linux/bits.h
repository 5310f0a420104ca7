/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_LINUX_BITS_H
#define _SHIM_LINUX_BITS_H
#define BITS_PER_LONG	(__SIZEOF_LONG__ * 8)
#define BIT(nr)		(1UL << (nr))
#endif
