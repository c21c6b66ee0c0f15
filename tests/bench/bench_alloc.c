/*
 * bench_alloc.c - benchmarks with known allocations per iteration, for the
 * exact B/op and allocs/op checks of tests/e2e/bench_harness.sh, and a
 * function whose allocations the -memprofile check looks for.
 */
#include <cprof/bench.h>
#include <stdlib.h>

CPROF_BENCH_PKG("cprof/alloc");

/* Called through a volatile pointer: the compiler may not pair and delete
 * a malloc whose result it can see is freed unused. */
static void *(*volatile do_malloc)(size_t) = malloc;
static void *(*volatile do_calloc)(size_t, size_t) = calloc;
static void *(*volatile do_realloc)(void *, size_t) = realloc;

static void BenchmarkAlloc0(struct cprof_b *b)
{
	for (long i = 0; i < b->n; i++)
		cprof_b_keep(i);
}
CPROF_BENCH(BenchmarkAlloc0);

/* 1 allocation of 100 bytes per iteration. */
static void BenchmarkAlloc1(struct cprof_b *b)
{
	for (long i = 0; i < b->n; i++) {
		char *p = do_malloc(100);
		cprof_b_escape(p);
		free(p);
	}
}
CPROF_BENCH(BenchmarkAlloc1);

/* 3 allocations per iteration: calloc 80 bytes, realloc to 200, malloc 50:
 * 330 bytes. */
static void BenchmarkAlloc3(struct cprof_b *b)
{
	for (long i = 0; i < b->n; i++) {
		char *p = do_calloc(10, 8);
		p = do_realloc(p, 200);
		char *q = do_malloc(50);
		cprof_b_escape(p);
		cprof_b_escape(q);
		free(p);
		free(q);
	}
}
CPROF_BENCH(BenchmarkAlloc3);

/* Allocations only under a stopped timer: 0 allocs/op; reported through
 * cprof_b_report_allocs without -benchmem. */
static void BenchmarkAllocStopped(struct cprof_b *b)
{
	cprof_b_report_allocs(b);
	for (long i = 0; i < b->n; i++) {
		cprof_b_stop_timer(b);
		char *p = do_malloc(4096);
		cprof_b_escape(p);
		free(p);
		cprof_b_start_timer(b);
	}
}
CPROF_BENCH(BenchmarkAllocStopped);

/* 64 KiB per iteration, kept until the end of the call, and the array of
 * pointers (8 bytes per iteration): 65544 bytes per iteration, all
 * allocated in this function, for the -memprofile check. */
static void BenchmarkAllocBig(struct cprof_b *b)
{
	void **keep = do_calloc((size_t)b->n, sizeof *keep);
	for (long i = 0; i < b->n; i++)
		keep[i] = do_malloc(65536);
	cprof_b_stop_timer(b);
	for (long i = 0; i < b->n; i++)
		free(keep[i]);
	free(keep);
}
CPROF_BENCH(BenchmarkAllocBig);
