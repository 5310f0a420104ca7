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
 *   gntself xsread PATH SECONDS  print xenstore's PATH (relative to our own
 *                                domain's directory), waiting up to
 *                                SECONDS for it to exist (a domU has no
 *                                xenstore tools of its own)
 *   gntself loop SECONDS SEED    the self test over and over for SECONDS,
 *                                1 to MAX_REFS pages at a time, chosen
 *                                from SEED; prints how many rounds, pages
 *                                and wrong words (the stress test runs
 *                                several at once)
 *
 * gntalloc allocates a page and grants it to domain 0; gntdev maps that
 * grant.  The self test also asks gntdev for a map whose result it cannot
 * write back (the ioctl's argument is read-only): gntdev must fail it with
 * EFAULT and drop the map, giving its unpopulated page back at once.  The mapping exercises set_foreign_p2m_mapping() and
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
#include <time.h>
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

/* The xenstore wire protocol (xen/include/public/io/xs_wire.h). */
#define XS_READ		2
#define XS_ERROR	16

struct xs_msg {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;
};

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t got = read(fd, p, len);

		if (got <= 0)
			return -1;
		p += got;
		len -= got;
	}
	return 0;
}

/* One XS_READ of @path through /dev/xen/xenbus; 1 and @val if it exists. */
static int xs_read_once(const char *path, char *val, size_t size)
{
	struct xs_msg req = { .type = XS_READ, .req_id = 1 }, rsp;
	char buf[sizeof(req) + 256];
	int fd, ret = -1;

	req.len = strlen(path) + 1;
	if (req.len > sizeof(buf) - sizeof(req) || size == 0)
		return -1;
	memcpy(buf, &req, sizeof(req));
	memcpy(buf + sizeof(req), path, req.len);
	fd = open("/dev/xen/xenbus", O_RDWR);
	if (fd < 0)
		return fail("open /dev/xen/xenbus"), -1;
	if (write(fd, buf, sizeof(req) + req.len) != (ssize_t)(sizeof(req) + req.len) ||
	    read_all(fd, &rsp, sizeof(rsp)) || rsp.len >= size ||
	    read_all(fd, val, rsp.len))
		goto out;
	val[rsp.len] = '\0';
	ret = rsp.type == XS_READ;
out:
	close(fd);
	return ret;
}

static int xs_read(const char *path, unsigned int seconds)
{
	time_t end = time(NULL) + seconds;
	char val[1024];
	int ret;

	for (;;) {
		ret = xs_read_once(path, val, sizeof(val));
		if (ret < 0)
			return printf("error: xenstore read of %s failed\n", path), 1;
		if (ret == 1) {
			printf("%s\n", val);
			return 0;
		}
		if (time(NULL) >= end)
			return printf("error: xenstore %s: %s after %u s\n", path, val,
				      seconds), 1;
		usleep(200000);
	}
}

static int self_test(void);
static int loop(unsigned int seconds, unsigned long seed);

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
	if (argc == 4 && !strcmp(argv[1], "loop"))
		return loop(atoi(argv[2]), strtoul(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "xsread"))
		return xs_read(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: gntself [offer DOMID N | map|hold DOMID REF... | loop SECONDS SEED | xsread PATH SECONDS]\n");
	return 2;
}

/*
 * One round of the self test on fds @ga (gntalloc) and @gd (gntdev):
 * grant @n pages to dom0, map them back, compare, unmap, ungrant.
 * Returns the number of words that differ, or -1 on an error.
 */
static int self_round(int ga, int gd, int n, const char *show)
{
	struct ioctl_gntalloc_alloc_gref *alloc;
	struct ioctl_gntalloc_dealloc_gref dealloc = { .count = n };
	struct ioctl_gntdev_map_grant_ref *map;
	struct ioctl_gntdev_unmap_grant_ref unmap = { .count = n };
	int bad = 0, i, p;
	uint32_t *src, *dst;

	alloc = calloc(1, sizeof(*alloc) + n * sizeof(alloc->gref_ids[0]));
	map = calloc(1, sizeof(*map) + n * sizeof(map->refs[0]));
	if (!alloc || !map)
		return fail("calloc"), -1;
	alloc->domid = 0;
	alloc->flags = GNTALLOC_FLAG_WRITABLE;
	alloc->count = n;
	if (ioctl(ga, IOCTL_GNTALLOC_ALLOC_GREF, alloc))
		return fail("IOCTL_GNTALLOC_ALLOC_GREF"), -1;
	src = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ga,
		   alloc->index);
	if (src == MAP_FAILED)
		return fail("mmap gntalloc"), -1;
	map->count = n;
	for (p = 0; p < n; p++) {
		for (i = 0; i < PAGE / 4; i++)
			src[p * PAGE / 4 + i] = pattern(alloc->gref_ids[p], i);
		map->refs[p].domid = 0;
		map->refs[p].ref = alloc->gref_ids[p];
	}
	if (show)
		printf("gref: %u\n", alloc->gref_ids[0]);

	if (ioctl(gd, IOCTL_GNTDEV_MAP_GRANT_REF, map))
		return fail("IOCTL_GNTDEV_MAP_GRANT_REF"), -1;
	dst = mmap(NULL, n * PAGE, PROT_READ, MAP_SHARED, gd, map->index);
	if (dst == MAP_FAILED)
		return fail("mmap gntdev"), -1;
	for (p = 0; p < n; p++)
		for (i = 0; i < PAGE / 4; i++)
			bad += dst[p * PAGE / 4 + i] != pattern(alloc->gref_ids[p], i);
	if (show)
		show_iomem(show);

	munmap(dst, n * PAGE);
	unmap.index = map->index;
	if (ioctl(gd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &unmap))
		return fail("IOCTL_GNTDEV_UNMAP_GRANT_REF"), -1;
	munmap(src, n * PAGE);
	dealloc.index = alloc->index;
	if (ioctl(ga, IOCTL_GNTALLOC_DEALLOC_GREF, &dealloc))
		return fail("IOCTL_GNTALLOC_DEALLOC_GREF"), -1;
	free(alloc);
	free(map);
	return bad;
}

#define UNPOP_STATS "/sys/kernel/debug/xen/unpopulated"

/*
 * The provider's pages in use; UNPOP_BALLOON if it hands out ballooned
 * pages, which it does not count; or -1.
 */
#define UNPOP_BALLOON	(-2L)
static long unpop_in_use(void)
{
	char line[256];
	FILE *f = fopen(UNPOP_STATS, "r");
	long free_pages, used = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strcmp(line, "source: ballooned pages\n")) {
			used = UNPOP_BALLOON;
			break;
		}
		if (sscanf(line, "pages: %ld free, %ld in use", &free_pages, &used) == 2)
			break;
	}
	fclose(f);
	return used;
}

/*
 * Map a grant with the ioctl's argument in a read-only page: gntdev reads
 * the request, builds the map, and then cannot copy the map's index back.
 * It must return EFAULT and free the map there and then (with gntdev
 * still open, so a map left on its list would still hold its page).
 * Returns 0 if so.
 */
static int efault_round(int ga, int gd)
{
	struct ioctl_gntalloc_alloc_gref alloc = {
		.domid = 0, .flags = GNTALLOC_FLAG_WRITABLE, .count = 1,
	};
	struct ioctl_gntalloc_dealloc_gref dealloc = { .count = 1 };
	struct ioctl_gntdev_map_grant_ref *map;
	long before, after;
	int ret, err;

	if (ioctl(ga, IOCTL_GNTALLOC_ALLOC_GREF, &alloc))
		return fail("IOCTL_GNTALLOC_ALLOC_GREF");
	map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return fail("mmap anonymous");
	map->count = 1;
	map->refs[0].domid = 0;
	map->refs[0].ref = alloc.gref_ids[0];
	if (mprotect(map, PAGE, PROT_READ))
		return fail("mprotect");
	before = unpop_in_use();
	ret = ioctl(gd, IOCTL_GNTDEV_MAP_GRANT_REF, map);
	err = errno;
	after = unpop_in_use();
	printf("efault_map: ioctl %d, errno %s, provider pages in use %ld before, %ld after\n",
	       ret, ret ? strerror(err) : "none", before, after);
	munmap(map, PAGE);
	dealloc.index = alloc.index;
	if (ioctl(ga, IOCTL_GNTALLOC_DEALLOC_GREF, &dealloc))
		return fail("IOCTL_GNTALLOC_DEALLOC_GREF");
	if (ret != -1 || err != EFAULT || after != before ||
	    (before < 0 && before != UNPOP_BALLOON)) {
		printf("efault: bad\n");
		return 1;
	}
	/* Ballooned pages are not counted: only the error can be checked. */
	printf(before == UNPOP_BALLOON ? "efault: ok (ballooned pages)\n" :
	       "efault: ok\n");
	return 0;
}

static int open_gnt(int *ga, int *gd)
{
	*ga = open("/dev/xen/gntalloc", O_RDWR);
	*gd = open("/dev/xen/gntdev", O_RDWR);
	if (*ga < 0 || *gd < 0)
		return fail("open /dev/xen/gntalloc or gntdev");
	return 0;
}

static int self_test(void)
{
	int ga, gd, bad;

	if (open_gnt(&ga, &gd))
		return 1;
	show_iomem("before");
	bad = self_round(ga, gd, 1, "mapped");
	if (bad < 0)
		return 1;
	printf("pattern: %s (%d words differ)\n", bad ? "bad" : "ok", bad);
	if (efault_round(ga, gd))
		bad = 1;
	close(gd);
	close(ga);
	show_iomem("after");
	printf("unmapped: ok\n");
	return bad ? 1 : 0;
}

static int loop(unsigned int seconds, unsigned long seed)
{
	unsigned long rounds = 0, pages = 0, wrong = 0;
	time_t end = time(NULL) + seconds;
	int ga, gd, n, bad = 0;

	if (open_gnt(&ga, &gd))
		return 1;
	while (time(NULL) < end) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		n = 1 + (seed >> 33) % MAX_REFS;
		bad = self_round(ga, gd, n, NULL);
		if (bad < 0)
			break;
		wrong += bad;
		rounds++;
		pages += n;
	}
	close(gd);
	close(ga);
	printf("loop_rounds: %lu\nloop_pages: %lu\nloop_wrong: %lu\nloop_error: %s\n",
	       rounds, pages, wrong, bad < 0 ? "yes" : "no");
	return bad < 0 || wrong;
}
