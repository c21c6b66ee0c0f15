/*
 * bench_basic.c - benchmarks with known shapes for tests/e2e/bench_harness.sh:
 * the same benchmarks as the Go file the test writes (so the two outputs can
 * be compared line by line), a sleep inside a stopped timer, the loop form,
 * failures, skips and logs.
 */
#include <cprof/bench.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

static long sink;

static void BenchmarkAdd(struct cprof_b *b)
{
	for (long i = 0; i < b->n; i++) {
		sink += i;
		cprof_b_keep(sink);
	}
}
CPROF_BENCH(BenchmarkAdd);

static void sub(struct cprof_b *b)
{
	cprof_b_set_bytes(b, 64);
	for (long i = 0; i < b->n; i++) {
		sink += i;
		cprof_b_keep(sink);
	}
	cprof_b_report_metric(b, 3.5, "widgets/op");
}

static void BenchmarkSub(struct cprof_b *b)
{
	cprof_b_run(b, "a b", sub, NULL);
	cprof_b_run(b, "long-name-here", sub, NULL);
}
CPROF_BENCH(BenchmarkSub);

static void spin_ns(long ns)
{
	struct timespec a, c;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &c);
	while ((c.tv_sec - a.tv_sec) * 1000000000L + (c.tv_nsec - a.tv_nsec) < ns);
}

/* ~10 us of work per iteration, 2 ms of sleep per iteration with the timer stopped. */
static void BenchmarkStopped(struct cprof_b *b)
{
	for (long i = 0; i < b->n; i++) {
		cprof_b_stop_timer(b);
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
		cprof_b_start_timer(b);
		spin_ns(10000);
	}
}
CPROF_BENCH(BenchmarkStopped);

/* ~100 us per iteration: the ramp's sequence is predictable. */
static void BenchmarkSpin100us(struct cprof_b *b)
{
	for (long i = 0; i < b->n; i++)
		spin_ns(100000);
}
CPROF_BENCH(BenchmarkSpin100us);

/* The loop form, 20 ms of setup that must not count. */
static void BenchmarkLoop(struct cprof_b *b)
{
	spin_ns(20000000);
	while (cprof_b_loop(b))
		spin_ns(1000);
	cprof_b_report_metric(b, (double)b->n, "iters");
}
CPROF_BENCH(BenchmarkLoop);

static void BenchmarkLog(struct cprof_b *b)
{
	cprof_b_logf(b, "n=%ld", b->n);
	for (long i = 0; i < b->n; i++)
		cprof_b_keep(i);
}
CPROF_BENCH(BenchmarkLog);

static void BenchmarkFail(struct cprof_b *b)
{
	if (b->n > 1)
		cprof_b_fatalf(b, "failed at n=%ld", b->n);
	for (long i = 0; i < b->n; i++)
		cprof_b_keep(i);
}
CPROF_BENCH(BenchmarkFail);

static void BenchmarkSkip(struct cprof_b *b)
{
	cprof_b_skipf(b, "not today");
}
CPROF_BENCH(BenchmarkSkip);

/* Reports the CPUs it may run on (the -cpu value limits them) and b->procs. */
static void BenchmarkProcs(struct cprof_b *b)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof set, &set);
	for (long i = 0; i < b->n; i++)
		cprof_b_keep(i);
	cprof_b_report_metric(b, CPU_COUNT(&set), "cpus");
	cprof_b_report_metric(b, b->procs, "procs");
}
CPROF_BENCH(BenchmarkProcs);

/* Sub-benchmarks with the same name get #01, #02. */
static void BenchmarkDup(struct cprof_b *b)
{
	cprof_b_run(b, "x", sub, NULL);
	cprof_b_run(b, "x", sub, NULL);
	cprof_b_run(b, "x#01", sub, NULL);
}
CPROF_BENCH(BenchmarkDup);

/* cprof_b_keep on values of every kind (a compile check as much as a benchmark). */
struct pair16 {
	long a[2];
};
static struct pair16 make_pair(long i)
{
	struct pair16 p = {{i, -i}};
	return p;
}
static void BenchmarkKeepKinds(struct cprof_b *b)
{
	const int c = 3;
	char arr[4] = "abc";
	for (long i = 0; i < b->n; i++) {
		cprof_b_keep(make_pair(i));
		cprof_b_keep(c);
		cprof_b_keep(1.5 * (double)i);
		cprof_b_keep((float)i);
		cprof_b_keep(arr);
	}
	cprof_b_clobber();
}
CPROF_BENCH(BenchmarkKeepKinds);
