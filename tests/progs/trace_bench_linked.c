/*
 * trace_bench_linked.c - workloads for the execution tracer's benchmark
 * (bench/trace_run.sh).
 *
 *   trace_bench_linked annot N FILE  N region begin+end pairs on one thread,
 *                                    with no trace, then with a trace to FILE;
 *                                    prints ns per pair for each and the
 *                                    trace's bytes per event, and the cost
 *                                    of two TSC reads alone (a pair's two
 *                                    timestamps)
 *   trace_bench_linked locks M       4 threads take one mutex M million times
 *                                    in all, a region around each critical
 *                                    section (the lock-heavy program run with
 *                                    and without CPROF_TRACE)
 *   trace_bench_linked plain M       the same without the regions: the
 *                                    tracer's cost to a lock-heavy program
 *                                    (its blocking episodes)
 */
#include <pthread.h>
#include <stdint.h>
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

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ns per region begin+end pair: wall time, and this thread's CPU time in *cpu (a loaded machine's preemptions left out). */
static double pairs(long n, double *cpu)
{
	double t0 = now_s(), c0 = cpu_s();
	for (long i = 0; i < n; i++) {
		cprof_region_begin(0, "bench");
		__asm__ volatile("" ::: "memory");
		cprof_region_end();
	}
	*cpu = (cpu_s() - c0) / (double)n * 1e9;
	return (now_s() - t0) / (double)n * 1e9;
}

/* Two TSC reads per iteration: what a region begin+end pays for its timestamps alone. */
static double tsc_pairs(long n, double *cpu)
{
	double t0 = now_s(), c0 = cpu_s();
	uint64_t sum = 0;
	for (long i = 0; i < n; i++) {
		sum += __builtin_ia32_rdtsc();
		__asm__ volatile("" ::: "memory");
		sum += __builtin_ia32_rdtsc();
	}
	double d = (now_s() - t0) / (double)n * 1e9;
	*cpu = (cpu_s() - c0) / (double)n * 1e9;
	__asm__ volatile("" ::"r"(sum));
	return d;
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

/* The same without annotations: what tracing costs a lock-heavy program that has none. */
static void *plain_locker(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_thread; i++) {
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
		double off_cpu, on_cpu, tsc_cpu, warm_cpu;
		double off = pairs(n, &off_cpu);
		if (cprof_trace_start_path(argv[3]) != 0) {
			fprintf(stderr, "cannot start a trace to %s\n", argv[3]);
			return 1;
		}
		pairs(n / 10, &warm_cpu); /* warm: buffers taken, name interned */
		double on = pairs(n, &on_cpu);
		struct cprof_trace_stats st;
		cprof_trace_stop();
		cprof_trace_stats(&st);
		double tsc = tsc_pairs(n, &tsc_cpu);
		printf("off_ns=%.2f on_ns=%.2f tsc2_ns=%.2f off_cpu_ns=%.2f on_cpu_ns=%.2f tsc2_cpu_ns=%.2f bytes=%llu "
		       "events=%ld dropped=%llu\n",
		       off, on, tsc, off_cpu, on_cpu, tsc_cpu, (unsigned long long)st.bytes, 2 * (n + n / 10),
		       (unsigned long long)st.dropped);
		return 0;
	}
	if (argc == 3 && (strcmp(argv[1], "locks") == 0 || strcmp(argv[1], "plain") == 0)) {
		per_thread = atol(argv[2]) * 1000000 / 4;
		pthread_t th[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, argv[1][0] == 'l' ? locker : plain_locker, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		printf("shared=%ld\n", shared);
		return 0;
	}
	fprintf(stderr, "usage: trace_bench_linked annot N FILE | locks MILLIONS | plain MILLIONS\n");
	return 2;
}
