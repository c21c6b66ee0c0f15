/*
 * bench_overhead.c - what `make bench` measures of the harness itself
 * (bench/harness_bench.sh): the cost per iteration of an empty loop in both
 * loop forms, of a stop/start timer pair, and a stable compute-bound
 * benchmark for run-to-run spread. The same benchmarks are written in Go by
 * the script, as the anchor.
 */
#include <cprof/bench.h>
#include <stdint.h>

CPROF_BENCH_PKG("cprof/overhead");

static void BenchmarkEmptyFor(struct cprof_b *b)
{
	for (long i = 0; i < b->n; i++)
		cprof_b_keep(i);
}
CPROF_BENCH(BenchmarkEmptyFor);

static void BenchmarkEmptyLoop(struct cprof_b *b)
{
	while (cprof_b_loop(b))
		;
}
CPROF_BENCH(BenchmarkEmptyLoop);

static void BenchmarkTimerStopStart(struct cprof_b *b)
{
	for (long i = 0; i < b->n; i++) {
		cprof_b_stop_timer(b);
		cprof_b_start_timer(b);
	}
}
CPROF_BENCH(BenchmarkTimerStopStart);

/* 1000 dependent xorshift steps: a fixed amount of work, no memory traffic. */
static void BenchmarkStable(struct cprof_b *b)
{
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < b->n; i++) {
		for (int k = 0; k < 1000; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		cprof_b_keep(x);
	}
}
CPROF_BENCH(BenchmarkStable);
