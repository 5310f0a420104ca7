/* SPDX-License-Identifier: GPL-2.0 */
/* Shim: the kernel's integer limits are the C library's. */
#ifndef _SHIM_LINUX_LIMITS_H
#define _SHIM_LINUX_LIMITS_H
#include <limits.h>
#endif
