/*
 * popcount_bench.c - benchmarks of count_bits(), linked with either version.
 * Sub-benchmarks per input size; MB/s from cprof_b_set_bytes.
 */
#include <cprof/bench.h>
#include <stdio.h>
#include <stdlib.h>

#include "popcount.h"

/* The "pkg:" line: both versions must print the same one, or benchstat
 * puts their results in separate tables (by default it is the program's name). */
CPROF_BENCH_PKG("example/popcount");

static void bench_size(struct cprof_b *b)
{
	size_t n = (size_t)(uintptr_t)b->arg;
	uint64_t *words = malloc(n * sizeof *words);
	if (!words)
		cprof_b_fatalf(b, "out of memory");
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < n; i++) { /* xorshift: about half the bits set */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		words[i] = x;
	}
	cprof_b_set_bytes(b, (int64_t)(n * sizeof *words));
	cprof_b_reset_timer(b); /* the setup above is not measured */
	for (long i = 0; i < b->n; i++)
		cprof_b_keep(count_bits(words, n));
	cprof_b_stop_timer(b);
	free(words);
}

static void BenchmarkCountBits(struct cprof_b *b)
{
	static const size_t sizes[] = {16, 1024};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, "words=%zu", sizes[i]);
		cprof_b_run(b, name, bench_size, (void *)(uintptr_t)sizes[i]);
	}
}
CPROF_BENCH(BenchmarkCountBits);
