/*
 * vdso_loop - spends nearly all its time reading the clock, which glibc
 * serves from the vDSO (the kernel's code mapped into the process, with no
 * file on disk).
 *
 * True answer: most samples have their leaf in the vDSO's clock_gettime
 * (named __vdso_clock_gettime or clock_gettime), called from read_clock.
 *
 * Usage: vdso_loop [million calls]   (default 20)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) static uint64_t read_clock(long n)
{
	uint64_t sum = 0;
	struct timespec ts;
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sum += (uint64_t)ts.tv_nsec;
	}
	return sum;
}

int main(int argc, char **argv)
{
	long millions = argc > 1 ? atol(argv[1]) : 20;
	printf("%llu\n", (unsigned long long)(read_clock(millions * 1000000) & 1));
	return 0;
}
