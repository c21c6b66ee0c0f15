/*
 * cpu_split - three functions doing 60%, 30% and 10% of identical work.
 * Built -O2 without frame pointers. The true split is known by
 * construction: each unit of work is the same loop, and the functions are
 * kept out of line and distinct.
 *
 * Usage: cpu_split [units]   (default 600 units, about 1.2 s)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile uint64_t sink;

#include "work_unit.h"

__attribute__((noinline)) void func_sixty(long units)
{
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

__attribute__((noinline)) void func_thirty(long units)
{
	uint64_t x = 2463534242ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

__attribute__((noinline)) void func_ten(long units)
{
	uint64_t x = 1234567ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

int main(int argc, char **argv)
{
	long units = argc > 1 ? atol(argv[1]) : 600;
	/* Interleave so that drift in CPU speed affects all three alike. */
	for (int round = 0; round < 10; round++) {
		func_sixty(units * 6 / 100);
		func_thirty(units * 3 / 100);
		func_ten(units * 1 / 100);
	}
	printf("%llu\n", (unsigned long long)(sink & 1));
	return 0;
}
