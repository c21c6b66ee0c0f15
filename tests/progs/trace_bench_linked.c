/*
 * trace_bench_linked.c - workloads for the execution tracer's benchmark
 * (bench/trace_run.sh).
 *
 *   trace_bench_linked annot N FILE  N region begin+end pairs on one thread,
 *                                    with no trace, then with a trace to FILE;
 *                                    prints ns per pair for each and the
 *                                    trace's bytes per event
 *   trace_bench_linked locks M       4 threads take one mutex M million times
 *                                    in all, a region around each critical
 *                                    section (the lock-heavy program run with
 *                                    and without CPROF_TRACE)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cprof.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double pairs(long n)
{
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		cprof_region_begin(0, "bench");
		__asm__ volatile("" ::: "memory");
		cprof_region_end();
	}
	return (now_s() - t0) / (double)n * 1e9;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile long shared;
static long per_thread;

static void *locker(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_thread; i++) {
		CPROF_REGION(0, "critical");
		pthread_mutex_lock(&mu);
		shared++;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "annot") == 0) {
		long n = atol(argv[2]);
		double off = pairs(n);
		if (cprof_trace_start_path(argv[3]) != 0) {
			fprintf(stderr, "cannot start a trace to %s\n", argv[3]);
			return 1;
		}
		pairs(n / 10); /* warm: buffers taken, name interned */
		double on = pairs(n);
		struct cprof_trace_stats st;
		cprof_trace_stop();
		cprof_trace_stats(&st);
		printf("off_ns=%.2f on_ns=%.2f bytes=%llu events=%ld dropped=%llu\n", off, on,
		       (unsigned long long)st.bytes, 2 * (n + n / 10), (unsigned long long)st.dropped);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "locks") == 0) {
		per_thread = atol(argv[2]) * 1000000 / 4;
		pthread_t th[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, locker, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		printf("shared=%ld\n", shared);
		return 0;
	}
	fprintf(stderr, "usage: trace_bench_linked annot N FILE | locks MILLIONS\n");
	return 2;
}
