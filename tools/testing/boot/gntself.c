// SPDX-License-Identifier: GPL-2.0
/*
 * gntself: grant a page to ourselves and map it back, inside dom0; or,
 * with arguments, one side of a grant between two domains:
 *
 *   gntself                      self test in dom0 (below)
 *   gntself offer DOMID N        grant N pages holding a known pattern to
 *                                DOMID, print their refs, keep them until
 *                                SIGTERM
 *   gntself map DOMID REF...     map DOMID's grants, check the pattern,
 *                                unmap
 *   gntself hold DOMID REF...    the same, but keep the mapping until
 *                                SIGTERM, then unmap
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
#include <signal.h>
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

#define MAX_REFS	16

/* The pattern word @i of the page granted as @ref. */
static uint32_t pattern(uint32_t ref, int i)
{
	return 0x9e3779b9u * (i + 1) ^ ref;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

static void wait_for_term(void)
{
	signal(SIGTERM, on_term);
	while (!stop)
		pause();
}

static int offer(int domid, int n)
{
	struct ioctl_gntalloc_alloc_gref *alloc;
	uint32_t *src;
	int ga, p, i;

	if (n < 1 || n > MAX_REFS)
		return printf("error: offer 1 to %d pages\n", MAX_REFS), 1;
	alloc = calloc(1, sizeof(*alloc) + n * sizeof(alloc->gref_ids[0]));
	ga = open("/dev/xen/gntalloc", O_RDWR);
	if (!alloc || ga < 0)
		return fail("open /dev/xen/gntalloc");
	alloc->domid = domid;
	alloc->flags = GNTALLOC_FLAG_WRITABLE;
	alloc->count = n;
	if (ioctl(ga, IOCTL_GNTALLOC_ALLOC_GREF, alloc))
		return fail("IOCTL_GNTALLOC_ALLOC_GREF");
	src = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ga,
		   alloc->index);
	if (src == MAP_FAILED)
		return fail("mmap gntalloc");
	printf("offer_refs:");
	for (p = 0; p < n; p++) {
		for (i = 0; i < PAGE / 4; i++)
			src[p * PAGE / 4 + i] = pattern(alloc->gref_ids[p], i);
		printf(" %u", alloc->gref_ids[p]);
	}
	printf("\n");
	fflush(stdout);
	wait_for_term();
	munmap(src, n * PAGE);
	close(ga);
	printf("offer_released: %d\n", n);
	return 0;
}

static int map_refs(int domid, int n, char **refs, int hold)
{
	struct ioctl_gntdev_map_grant_ref *map;
	struct ioctl_gntdev_unmap_grant_ref unmap = { .count = n };
	int gd, p, i, bad = 0;
	uint32_t *dst;

	if (n < 1 || n > MAX_REFS)
		return printf("error: map 1 to %d refs\n", MAX_REFS), 1;
	map = calloc(1, sizeof(*map) + n * sizeof(map->refs[0]));
	gd = open("/dev/xen/gntdev", O_RDWR);
	if (!map || gd < 0)
		return fail("open /dev/xen/gntdev");
	map->count = n;
	for (p = 0; p < n; p++) {
		map->refs[p].domid = domid;
		map->refs[p].ref = strtoul(refs[p], NULL, 0);
	}
	if (ioctl(gd, IOCTL_GNTDEV_MAP_GRANT_REF, map))
		return fail("IOCTL_GNTDEV_MAP_GRANT_REF");
	dst = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, gd, map->index);
	if (dst == MAP_FAILED)
		return fail("mmap gntdev");
	for (p = 0; p < n; p++)
		for (i = 0; i < PAGE / 4; i++)
			bad += dst[p * PAGE / 4 + i] != pattern(map->refs[p].ref, i);
	printf("map_pattern: %s (%d of %d words differ)\n", bad ? "bad" : "ok",
	       bad, n * PAGE / 4);
	show_iomem("mapped");
	if (hold) {
		printf("map_held: %d\n", n);
		fflush(stdout);
		wait_for_term();
	}
	munmap(dst, n * PAGE);
	unmap.index = map->index;
	if (ioctl(gd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &unmap))
		return fail("IOCTL_GNTDEV_UNMAP_GRANT_REF");
	close(gd);
	printf("map_unmapped: %d\n", n);
	return bad ? 1 : 0;
}

static int self_test(void);

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 1)
		return self_test();
	if (argc == 4 && !strcmp(argv[1], "offer"))
		return offer(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 4 && (!strcmp(argv[1], "map") || !strcmp(argv[1], "hold")))
		return map_refs(atoi(argv[2]), argc - 3, argv + 3,
				!strcmp(argv[1], "hold"));
	fprintf(stderr, "usage: gntself [offer DOMID N | map|hold DOMID REF...]\n");
	return 2;
}

static int self_test(void)
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
