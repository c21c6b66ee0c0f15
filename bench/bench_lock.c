/*
 * bench_lock - pthread mutex lock/unlock pairs, timed by the program itself
 * around its loop only (so start-up and profile writing are not counted),
 * for the cost the block and mutex profilers add to every lock operation.
 *
 *   bench_lock -u N        one thread, N pairs on a mutex nobody else wants;
 *                          a second thread sleeps throughout, so that the
 *                          process is multi-threaded as the programs whose
 *                          locks one profiles are (glibc skips the atomic
 *                          instructions of lock and unlock while a process
 *                          has one thread, which would make the baseline
 *                          a case no profiled program is in)
 *   bench_lock -c N -t T   T threads, N pairs each on one shared mutex, with
 *                          a short critical section and a little work
 *                          outside it, so that threads often find it taken
 *
 * Prints "ns_per_op=<ns per lock/unlock pair> ops=<pairs in all>".
 * The calls sit a few frames deep (lock_site, in a loop) like real code.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t start; /* the contenders begin together */
static volatile uint64_t counter;
static long per_thread;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

__attribute__((noinline)) static void lock_site(pthread_mutex_t *m, int work)
{
	pthread_mutex_lock(m);
	for (int i = 0; i < work; i++)
		counter++;
	pthread_mutex_unlock(m);
}

__attribute__((noinline)) static void uncontended(long n)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	for (long i = 0; i < n; i++)
		lock_site(&m, 1);
}

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

static void *contender(void *arg)
{
	uint64_t x = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
	pthread_barrier_wait(&start);
	for (long i = 0; i < per_thread; i++) {
		lock_site(&shared, 20);
		for (int k = 0; k < 40; k++) { /* work outside the lock */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
	}
	return (void *)(uintptr_t)(x & 1);
}

int main(int argc, char **argv)
{
	long n = 0;
	int threads = 4, mode = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-u") == 0) {
			mode = 'u';
			n = atol(argv[i + 1]);
		} else if (strcmp(argv[i], "-c") == 0) {
			mode = 'c';
			n = atol(argv[i + 1]);
		} else if (strcmp(argv[i], "-t") == 0) {
			threads = atoi(argv[i + 1]);
		}
	}
	if (!mode || n <= 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: bench_lock -u N | -c N [-t T]\n");
		return 2;
	}
	int64_t t0 = now_ns();
	long ops;
	if (mode == 'u') {
		pthread_t s;
		pthread_create(&s, NULL, sleeper, NULL);
		t0 = now_ns();
		uncontended(n);
		ops = n;
	} else {
		per_thread = n;
		pthread_t th[64];
		pthread_barrier_init(&start, NULL, (unsigned)threads);
		for (int i = 0; i < threads; i++)
			pthread_create(&th[i], NULL, contender, (void *)(uintptr_t)i);
		for (int i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
		ops = n * threads;
	}
	int64_t dt = now_ns() - t0;
	printf("ns_per_op=%.2f ops=%ld\n", (double)dt / (double)ops, ops);
	return 0;
}
