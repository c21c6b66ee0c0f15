/*
 * inline_work - nearly all CPU time is in mix_inline, a static inline
 * function that the compiler inlines into outer_work (always_inline), so
 * at -O2 there is no frame for it on the stack: only the debug info knows.
 *
 * True answer: the profile names mix_inline, as an inlined frame of
 * outer_work (pprof -top shows "mix_inline (inline)"; -raw shows two lines
 * at its locations), with this file's name and line numbers; main and
 * outer_work are at 100% cumulative.
 *
 * Usage: inline_work [units]   (default 1000, about 0.5 s)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile uint64_t sink;

static inline __attribute__((always_inline)) uint64_t mix_inline(uint64_t x)
{
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

__attribute__((noinline)) uint64_t outer_work(long units)
{
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < units; i++)
		x = mix_inline(x);
	return x;
}

int main(int argc, char **argv)
{
	sink += outer_work(argc > 1 ? atol(argv[1]) : 1000);
	printf("%llu\n", (unsigned long long)(sink & 1));
	return 0;
}
