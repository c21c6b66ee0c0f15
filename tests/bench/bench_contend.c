/*
 * bench_contend.c - a benchmark whose threads wait, for the -blockprofile
 * and -mutexprofile checks of tests/e2e/bench_harness.sh: each iteration
 * holds a mutex for ~300 us while a new thread waits for it (block profile:
 * the waiter's pthread_mutex_lock, the benchmark's pthread_join; mutex
 * profile: the benchmark's unlock). The hold's 300 us count from when the
 * waiter has started, so a slow thread start (a loaded machine, a
 * sanitized build) still finds the mutex held.
 */
#include <cprof/bench.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

CPROF_BENCH_PKG("cprof/contend");

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int started;

static void *waiter(void *arg)
{
	(void)arg;
	atomic_store(&started, 1);
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void spin_us(long us)
{
	struct timespec a, c;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &c);
	while ((c.tv_sec - a.tv_sec) * 1000000L + (c.tv_nsec - a.tv_nsec) / 1000 < us);
}

static void BenchmarkContend(struct cprof_b *b)
{
	for (long i = 0; i < b->n; i++) {
		pthread_t t;
		pthread_mutex_lock(&mu);
		atomic_store(&started, 0);
		if (pthread_create(&t, NULL, waiter, NULL) != 0) {
			pthread_mutex_unlock(&mu);
			cprof_b_fatalf(b, "pthread_create failed");
		}
		while (!atomic_load(&started))
			sched_yield();
		spin_us(300);
		pthread_mutex_unlock(&mu);
		pthread_join(t, NULL);
	}
}
CPROF_BENCH(BenchmarkContend);
