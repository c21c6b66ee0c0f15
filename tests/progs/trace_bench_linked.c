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
 *   trace_bench_linked work M        a lock-heavy program with real work:
 *                                    one producer feeds M million jobs
 *                                    through a bounded queue (a mutex, two
 *                                    condition variables) to 4 workers;
 *                                    each job hashes 256 bytes outside any
 *                                    lock, then updates an entry of a
 *                                    shared chained hash table (one mutex,
 *                                    16384 keys, an entry allocated on a
 *                                    key's first use); no annotations
 */
#include <pthread.h>
#include <stdbool.h>
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

/* ---- work: a job queue and a shared table ---- */

#define QCAP 64
#define WORKERS 4
#define KEYS 16384
#define BUCKETS 4096

struct job {
	uint32_t key;
	uint64_t seed;
};

struct entry {
	struct entry *next;
	uint32_t key;
	uint64_t count, sum;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct job q[QCAP];
	unsigned head, len;
	bool done;
} Q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0, 0}}, 0, 0, false};

static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table[BUCKETS];
static long jobs;

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void *producer(void *arg)
{
	(void)arg;
	uint64_t s = 88172645463325252ull;
	for (long i = 0; i < jobs; i++) {
		uint64_t r = xorshift(&s);
		pthread_mutex_lock(&Q.mu);
		while (Q.len == QCAP)
			pthread_cond_wait(&Q.not_full, &Q.mu);
		Q.q[(Q.head + Q.len) % QCAP] = (struct job){(uint32_t)(r % KEYS), r};
		Q.len++;
		pthread_cond_signal(&Q.not_empty);
		pthread_mutex_unlock(&Q.mu);
	}
	pthread_mutex_lock(&Q.mu);
	Q.done = true;
	pthread_cond_broadcast(&Q.not_empty);
	pthread_mutex_unlock(&Q.mu);
	return NULL;
}

/* The job's work outside any lock: 256 bytes made from its seed, hashed (FNV-1a). */
static uint64_t job_hash(uint64_t seed)
{
	uint8_t buf[256];
	for (int i = 0; i < 256; i += 8) {
		uint64_t v = xorshift(&seed);
		memcpy(buf + i, &v, 8);
	}
	uint64_t h = 14695981039346656037ull;
	for (int i = 0; i < 256; i++)
		h = (h ^ buf[i]) * 1099511628211ull;
	return h;
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&Q.mu);
		while (Q.len == 0 && !Q.done)
			pthread_cond_wait(&Q.not_empty, &Q.mu);
		if (Q.len == 0) {
			pthread_mutex_unlock(&Q.mu);
			return NULL;
		}
		struct job j = Q.q[Q.head];
		Q.head = (Q.head + 1) % QCAP;
		Q.len--;
		pthread_cond_signal(&Q.not_full);
		pthread_mutex_unlock(&Q.mu);

		uint64_t h = job_hash(j.seed);

		pthread_mutex_lock(&table_mu);
		struct entry **pe = &table[j.key % BUCKETS];
		while (*pe && (*pe)->key != j.key)
			pe = &(*pe)->next;
		if (!*pe) {
			struct entry *e = calloc(1, sizeof *e);
			if (e) {
				e->key = j.key;
				*pe = e;
			}
		}
		if (*pe) {
			(*pe)->count++;
			(*pe)->sum += h;
		}
		pthread_mutex_unlock(&table_mu);
	}
}

static int work(long m)
{
	jobs = m * 1000000;
	pthread_t p, w[WORKERS];
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&w[i], NULL, worker, NULL);
	pthread_create(&p, NULL, producer, NULL);
	pthread_join(p, NULL);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(w[i], NULL);
	uint64_t n = 0, sum = 0, used = 0;
	for (int b = 0; b < BUCKETS; b++)
		for (struct entry *e = table[b]; e; e = e->next) {
			n += e->count;
			sum += e->sum;
			used++;
		}
	printf("jobs=%llu keys=%llu sum=%016llx\n", (unsigned long long)n, (unsigned long long)used,
	       (unsigned long long)sum);
	return n == (uint64_t)jobs ? 0 : 1;
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
	if (argc == 3 && strcmp(argv[1], "work") == 0)
		return work(atol(argv[2]));
	fprintf(stderr, "usage: trace_bench_linked annot N FILE | locks MILLIONS | plain MILLIONS | work MILLIONS\n");
	return 2;
}
