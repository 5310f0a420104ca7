/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: a seq_file that collects output in a growing buffer. */
#ifndef _SHIM_LINUX_SEQ_FILE_H
#define _SHIM_LINUX_SEQ_FILE_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seq_file {
	char *buf;
	size_t count;
	size_t size;
};

static inline void seq_printf(struct seq_file *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void seq_printf(struct seq_file *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (m->count + n + 1 > m->size) {
		m->size = (m->count + n + 1) * 2;
		m->buf = realloc(m->buf, m->size);
		if (!m->buf)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(m->buf + m->count, n + 1, fmt, ap);
	va_end(ap);
	m->count += n;
}

static inline void seq_puts(struct seq_file *m, const char *s)
{
	seq_printf(m, "%s", s);
}
#endif
