/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: the kernel's basic types from libc. */
#ifndef _SHIM_LINUX_TYPES_H
#define _SHIM_LINUX_TYPES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif
