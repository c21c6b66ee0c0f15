/* popcount_v1.c - the old version: clear the lowest set bit until none is left. */
#include "popcount.h"

uint64_t count_bits(const uint64_t *words, size_t n)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		for (uint64_t w = words[i]; w; w &= w - 1)
			total++;
	return total;
}
