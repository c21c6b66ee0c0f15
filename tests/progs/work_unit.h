/*
 * work_unit.h - the unit of CPU work the test programs share: a fixed
 * xorshift loop, kept out of line so that it is a frame of its own. Every
 * program does its work in units, so a test can time one unit and size a
 * workload in CPU-seconds, and the true share of each caller is known by
 * construction.
 */
#ifndef CPROF_TESTS_WORK_UNIT_H
#define CPROF_TESTS_WORK_UNIT_H

#include <stdint.h>

__attribute__((noinline)) static uint64_t work_unit(uint64_t x)
{
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

#endif
