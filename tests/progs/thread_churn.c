/*
 * thread_churn - creates thousands of short threads, a few at a time, each
 * running churn_work for a little CPU (about 1 ms), and joins them all.
 *
 * True answer: it exits 0 and prints "threads=N" with N the count asked
 * for; nearly all of its CPU time is in churn_work. (Threads shorter than a
 * sampling period are undersampled by per-thread CPU timers, so the total is
 * not checked against the CPU time here.)
 *
 * Usage: thread_churn [threads] [units per thread]   (default 5000, 2)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WAVE 4

static volatile uint64_t sink;
static long units = 2;

#include "work_unit.h"

__attribute__((noinline)) void *churn_work(void *arg)
{
	uint64_t x = (uint64_t)(uintptr_t)arg + 88172645463325252ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000;
	if (argc > 2)
		units = atol(argv[2]);
	long done = 0;
	while (done < n) {
		pthread_t th[WAVE];
		int k = 0;
		for (; k < WAVE && done + k < n; k++) {
			int rc = pthread_create(&th[k], NULL, churn_work, (void *)(uintptr_t)(done + k));
			if (rc != 0) {
				fprintf(stderr, "thread_churn: pthread_create: error %d after %ld threads\n", rc,
					done + k);
				return 1;
			}
		}
		for (int j = 0; j < k; j++)
			pthread_join(th[j], NULL);
		done += k;
	}
	printf("threads=%ld\n", done);
	return 0;
}
