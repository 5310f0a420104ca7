// SPDX-License-Identifier: GPL-2.0
/*
 * scribble: keep memory busy and prove it kept its contents.
 *
 *   scribble MIB
 *
 * Maps MIB MiB of anonymous memory and, round after round, passes over
 * every word: checks it still holds the value the last round wrote there
 * (a function of round and index), then writes this round's.  So every
 * word is always checked against its last write, whenever that was.  Prints "round: N" as each round ends, and on SIGTERM the
 * totals ("scribble_rounds", "scribble_wrong").  The domU test runs it
 * while dom0 saves and restores the domU: a page the toolstack failed to
 * carry across comes back wrong in the next read.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

static uint64_t value(uint64_t round, uint64_t i)
{
	uint64_t x = round * 0x9e3779b97f4a7c15ull ^ i;

	x ^= x >> 31;
	return x * 0xbf58476d1ce4e5b9ull;
}

int main(int argc, char **argv)
{
	uint64_t round = 0, wrong = 0, i, words;
	uint64_t *buf;
	size_t len;

	if (argc != 2 || atoi(argv[1]) < 1) {
		fprintf(stderr, "usage: scribble MIB\n");
		return 2;
	}
	len = (size_t)atoi(argv[1]) << 20;
	words = len / sizeof(*buf);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	while (!stop) {
		round++;
		for (i = 0; i < words; i++) {
			if (round > 1)
				wrong += buf[i] != value(round - 1, i);
			buf[i] = value(round, i);
		}
		printf("round: %llu\n", (unsigned long long)round);
	}
	printf("scribble_rounds: %llu\nscribble_wrong: %llu\nscribble_mib: %s\n",
	       (unsigned long long)round, (unsigned long long)wrong, argv[1]);
	return wrong != 0;
}
