/* popcount_v2.c - the new version: eight bits at a time through a table. */
#include "popcount.h"

static uint8_t table[256];

static void fill(void)
{
	for (int i = 1; i < 256; i++)
		table[i] = (uint8_t)((i & 1) + table[i / 2]);
}

uint64_t count_bits(const uint64_t *words, size_t n)
{
	if (!table[255])
		fill();
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		for (uint64_t w = words[i]; w; w >>= 8)
			total += table[w & 0xff];
	return total;
}
