/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim.  Not <errno.h>: glibc's errno.h itself includes
 * <linux/errno.h>, which would find this file again.
 */
#ifndef _SHIM_LINUX_ERRNO_H
#define _SHIM_LINUX_ERRNO_H
#include <asm-generic/errno.h>
#endif
