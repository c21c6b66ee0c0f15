/*
 * bench_cpu.c - the CPU workload of the profiler benchmarks (bench/run.sh).
 *
 * A xorshift loop under a recursion of configurable depth, run by one
 * thread or by two identical threads. The work is fixed (a count of loop
 * iterations), so run time and CPU time are what the profiler changes, and
 * every stack the profiler records has depth+3 frames or so. The two
 * threads run distinct entry functions, thread_a and thread_b, so a
 * profile shows how it split the samples between two threads that used
 * the same CPU time.
 *
 * It owns no measurement: bench_runner times it, the profilers sample it.
 *
 * Usage: bench_cpu [-t 1|2] [-d depth] [-m millions of iterations per thread]
 *        (defaults: 1 thread, depth 32, 400 M iterations)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile uint64_t sink;
static int depth = 32;
static long iters = 400; /* millions, per thread */

/* The leaf: all the CPU time is here. */
__attribute__((noinline)) static uint64_t spin(uint64_t x, long n)
{
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

/* depth frames of recursion above spin; the asm keeps it from becoming a loop. */
__attribute__((noinline)) static uint64_t recurse(int d, uint64_t x, long n)
{
	uint64_t r = d <= 1 ? spin(x, n) : recurse(d - 1, x, n);
	__asm__ volatile("" : "+r"(r));
	return r + 1;
}

/* 1000 chunks, each a full descent, so the stack is rebuilt while sampled. */
__attribute__((noinline)) static uint64_t work(uint64_t x)
{
	long chunk = iters * 1000; /* iters millions / 1000 chunks */
	for (int i = 0; i < 1000; i++)
		x = recurse(depth, x, chunk);
	return x;
}

__attribute__((noinline)) static void *thread_a(void *arg)
{
	sink += work(88172645463325252ull);
	return arg;
}

__attribute__((noinline)) static void *thread_b(void *arg)
{
	sink += work(2463534242ull);
	return arg;
}

int main(int argc, char **argv)
{
	int threads = 1, c;
	while ((c = getopt(argc, argv, "t:d:m:")) != -1) {
		switch (c) {
		case 't':
			threads = atoi(optarg);
			break;
		case 'd':
			depth = atoi(optarg);
			break;
		case 'm':
			iters = atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_cpu [-t 1|2] [-d depth] [-m millions]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > 2 || depth < 1 || depth > 200 || iters < 1) {
		fprintf(stderr, "bench_cpu: -t 1|2, -d 1..200, -m >= 1\n");
		return 2;
	}
	if (threads == 1) {
		thread_a(NULL);
		return 0;
	}
	pthread_t ta, tb;
	if (pthread_create(&ta, NULL, thread_a, NULL) != 0 || pthread_create(&tb, NULL, thread_b, NULL) != 0) {
		perror("bench_cpu: pthread_create");
		return 1;
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	return 0;
}
