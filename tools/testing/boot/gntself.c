// SPDX-License-Identifier: GPL-2.0
/*
 * gntself: grant a page to ourselves and map it back, inside dom0.
 *
 * gntalloc allocates a page and grants it to domain 0; gntdev maps that
 * grant.  The mapping exercises set_foreign_p2m_mapping() and
 * clear_foreign_p2m_mapping() in the P2M, and gntdev takes the pages it
 * maps into from unpopulated-alloc (xen_alloc_p2m_entry()), so
 * /proc/iomem shows "Xen scratch" while the mapping exists.
 *
 * Prints "key: value" lines for the boot checks; exit status 0 only if
 * the data written through the grant reads back through the mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
/* The uapi header uses these Xen types without defining them. */
typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;

#include <xen/gntalloc.h>
#include <xen/gntdev.h>

#define PAGE	4096

static int fail(const char *what)
{
	printf("error: %s: %s\n", what, strerror(errno));
	return 1;
}

static void show_iomem(const char *when)
{
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");
	int n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "Xen")) {
			printf("iomem_%s: %s", when, line);
			n++;
		}
	}
	if (!n)
		printf("iomem_%s: none\n", when);
	fclose(f);
}

int main(void)
{
	struct ioctl_gntalloc_alloc_gref alloc = {
		.domid = 0, .flags = GNTALLOC_FLAG_WRITABLE, .count = 1,
	};
	struct ioctl_gntalloc_dealloc_gref dealloc = { .count = 1 };
	struct ioctl_gntdev_map_grant_ref map = { .count = 1 };
	struct ioctl_gntdev_unmap_grant_ref unmap = { .count = 1 };
	int ga, gd, bad = 0, i;
	uint32_t *src, *dst;

	ga = open("/dev/xen/gntalloc", O_RDWR);
	gd = open("/dev/xen/gntdev", O_RDWR);
	if (ga < 0 || gd < 0)
		return fail("open /dev/xen/gntalloc or gntdev");
	show_iomem("before");

	if (ioctl(ga, IOCTL_GNTALLOC_ALLOC_GREF, &alloc))
		return fail("IOCTL_GNTALLOC_ALLOC_GREF");
	src = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ga, alloc.index);
	if (src == MAP_FAILED)
		return fail("mmap gntalloc");
	for (i = 0; i < PAGE / 4; i++)
		src[i] = 0x9e3779b9u * (i + 1);
	printf("gref: %u\n", alloc.gref_ids[0]);

	map.refs[0].domid = 0;
	map.refs[0].ref = alloc.gref_ids[0];
	if (ioctl(gd, IOCTL_GNTDEV_MAP_GRANT_REF, &map))
		return fail("IOCTL_GNTDEV_MAP_GRANT_REF");
	dst = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, gd, map.index);
	if (dst == MAP_FAILED)
		return fail("mmap gntdev");
	for (i = 0; i < PAGE / 4; i++)
		bad += dst[i] != 0x9e3779b9u * (i + 1);
	printf("pattern: %s (%d words differ)\n", bad ? "bad" : "ok", bad);
	show_iomem("mapped");

	munmap(dst, PAGE);
	unmap.index = map.index;
	if (ioctl(gd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &unmap))
		return fail("IOCTL_GNTDEV_UNMAP_GRANT_REF");
	munmap(src, PAGE);
	dealloc.index = alloc.index;
	if (ioctl(ga, IOCTL_GNTALLOC_DEALLOC_GREF, &dealloc))
		return fail("IOCTL_GNTALLOC_DEALLOC_GREF");
	close(gd);
	close(ga);
	show_iomem("after");
	printf("unmapped: ok\n");
	return bad ? 1 : 0;
}
