/*
 * bench_stacktab.c - the cost of one insert into the stack table
 * (src/runtime/stacktab.c) as the CPU profiler's signal handler makes it:
 * 1000 distinct stacks of 24 frames under 4 label sets, each insert a
 * stack already in the table (the common case: the handler adds weight),
 * with one new stack in 64 until the table holds them all. Reports CPU
 * time and wall time per insert, median of the rounds, with the load
 * average; run it beside another build's binary (make bench-stacktab) to
 * compare two versions of the table.
 *
 * Usage: bench_stacktab [ROUNDS [INSERTS]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/rt.h"

#define NSTACKS 1000
#define DEPTH 24

static uintptr_t stacks[NSTACKS][DEPTH];

static int64_t ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	long inserts = argc > 2 ? atol(argv[2]) : 20000000;
	if (rounds < 1 || rounds > 101 || inserts < 1000) {
		fprintf(stderr, "usage: bench_stacktab [ROUNDS (1-101) [INSERTS (>= 1000)]]\n");
		return 2;
	}
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < NSTACKS; i++)
		for (int d = 0; d < DEPTH; d++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			stacks[i][d] = 0x400000 + (x & 0xfffff);
		}
	static const int tags[4] = {0, 1, 2, 3};
	double cpu[101], wall[101];
	for (int r = 0; r < rounds; r++) {
		struct stacktab *t = cprof__stacktab_new(1u << 14, 1u << 20);
		if (!t) {
			fprintf(stderr, "bench_stacktab: cannot map the table\n");
			return 1;
		}
		/* Warm: every stack in the table, as after the first seconds of a profile. */
		for (int i = 0; i < NSTACKS * 4; i++)
			cprof__stacktab_add_tagged(t, stacks[i % NSTACKS], DEPTH, &tags[i / NSTACKS], 1);
		int64_t c0 = ns(CLOCK_THREAD_CPUTIME_ID), w0 = ns(CLOCK_MONOTONIC);
		uint64_t y = 0x9e3779b97f4a7c15ull;
		for (long i = 0; i < inserts; i++) {
			y ^= y << 13, y ^= y >> 7, y ^= y << 17;
			cprof__stacktab_add_tagged(t, stacks[y % NSTACKS], DEPTH, &tags[(y >> 32) & 3], 1);
		}
		int64_t c1 = ns(CLOCK_THREAD_CPUTIME_ID), w1 = ns(CLOCK_MONOTONIC);
		cpu[r] = (double)(c1 - c0) / (double)inserts;
		wall[r] = (double)(w1 - w0) / (double)inserts;
		cprof__stacktab_free(t);
	}
	qsort(cpu, (size_t)rounds, sizeof cpu[0], cmp);
	qsort(wall, (size_t)rounds, sizeof wall[0], cmp);
	char load[64] = "?";
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (!fgets(load, sizeof load, f))
			strcpy(load, "?");
		fclose(f);
		load[strcspn(load, " ")] = 0;
	}
	printf("stacktab_add %ld inserts x %d rounds: cpu %.2f ns/insert (min %.2f), wall %.2f ns/insert, load %s\n",
	       inserts, rounds, cpu[rounds / 2], cpu[0], wall[rounds / 2], load);
	return 0;
}
