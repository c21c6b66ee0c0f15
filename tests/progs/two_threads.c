/*
 * two_threads - two pthreads run the same busy loop for the same number of
 * units; only the name of the function each thread enters differs
 * (thread_a, thread_b, kept out of line). Built -O2 without frame pointers.
 *
 * True answer: thread_a and thread_b each hold 50% of the samples, and the
 * samples of the whole process add up to its user+system CPU time (the main
 * thread only waits in pthread_join).
 *
 * Usage: two_threads [units per thread]   (default 2000, about 1 s each)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile uint64_t sink;

#include "work_unit.h"

__attribute__((noinline)) static uint64_t spin(uint64_t x, long units)
{
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	return x;
}

__attribute__((noinline)) void *thread_a(void *arg)
{
	sink += spin(88172645463325252ull, *(long *)arg);
	return NULL;
}

__attribute__((noinline)) void *thread_b(void *arg)
{
	sink += spin(2463534242ull, *(long *)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	long units = argc > 1 ? atol(argv[1]) : 2000;
	pthread_t a, b;
	if (pthread_create(&a, NULL, thread_a, &units) != 0 || pthread_create(&b, NULL, thread_b, &units) != 0) {
		fprintf(stderr, "two_threads: pthread_create failed\n");
		return 1;
	}
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("%llu\n", (unsigned long long)(sink & 1));
	return 0;
}
