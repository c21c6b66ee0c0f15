/*
 * svc_work - a service-like workload: threads that each loop over a
 * request: a unit of CPU work, allocations of known sizes freed at once
 * (one in eight kept until exit, so the heap in use grows), and a shared
 * mutex taken around a counter. Runs for a given time and prints how many
 * requests it served, what it allocated, and the CPU time of its workers.
 *
 * Usage: svc_work SECONDS [THREADS] [UNIT_DIVISOR]
 *   UNIT_DIVISOR makes each request's CPU work 1/N of a work unit (default 1).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t served, allocated, kept_bytes, worker_cpu_ns;
static double seconds;
static long divisor = 1;

__attribute__((noinline)) static uint64_t small_work(uint64_t x, long n)
{
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void *handle_alloc(size_t n)
{
	char *p = malloc(n);
	if (p)
		p[0] = 1;
	return p;
}

static void *worker(void *arg)
{
	uint64_t x = (uintptr_t)arg * 2654435761u + 1, mine = 0, bytes = 0, kept = 0;
	double end = now() + seconds;
	void **keep = NULL;
	size_t nkeep = 0, capkeep = 0;
	while (now() < end) {
		for (int r = 0; r < 16; r++) {
			x = small_work(x, 200000 / divisor);
			size_t n = 64 + (x & 1023);
			void *p = handle_alloc(n);
			bytes += n;
			if ((x >> 20 & 7) == 0 && p) {
				if (nkeep == capkeep) {
					capkeep = capkeep ? 2 * capkeep : 64;
					keep = realloc(keep, capkeep * sizeof *keep);
				}
				keep[nkeep++] = p;
				kept += n;
			} else {
				free(p);
			}
			pthread_mutex_lock(&mu);
			served++;
			pthread_mutex_unlock(&mu);
			mine++;
		}
	}
	struct timespec cpu;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	pthread_mutex_lock(&mu);
	worker_cpu_ns += (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec;
	allocated += bytes;
	kept_bytes += kept;
	pthread_mutex_unlock(&mu);
	sink += x;
	return keep;
}

int main(int argc, char **argv)
{
	seconds = argc > 1 ? atof(argv[1]) : 2;
	int nth = argc > 2 ? atoi(argv[2]) : 2;
	if (argc > 3)
		divisor = atol(argv[3]) > 0 ? atol(argv[3]) : 1;
	if (nth < 1 || nth > 64)
		nth = 2;
	pthread_t th[64];
	for (int i = 0; i < nth; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	printf("served %llu allocated %llu kept %llu worker_cpu_ns %llu\n", (unsigned long long)served,
	       (unsigned long long)allocated, (unsigned long long)kept_bytes, (unsigned long long)worker_cpu_ns);
	return 0;
}
