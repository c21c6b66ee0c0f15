/*
 * dlopen_loop - repeatedly dlopen()s a library, calls its dlwork_burn for
 * some units of work, dlclose()s it, then does the same units of work in
 * main_burn in this program.
 *
 * True answer: dlwork_burn (in the library, unloaded by the time the
 * profile is written) and main_burn each hold 50% of the samples, less the
 * small cost of dlopen and dlclose.
 *
 * Usage: dlopen_loop path/to/libdlwork.so [iterations] [units]   (default 200, 16)
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile uint64_t sink;

__attribute__((noinline)) uint64_t main_burn(uint64_t x, long units)
{
	for (long u = 0; u < units; u++) {
		for (int i = 0; i < 200000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: dlopen_loop path/to/libdlwork.so [iterations] [units]\n");
		return 2;
	}
	long iters = argc > 2 ? atol(argv[2]) : 200;
	long units = argc > 3 ? atol(argv[3]) : 16;
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < iters; i++) {
		void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			fprintf(stderr, "dlopen_loop: %s\n", dlerror());
			return 1;
		}
		uint64_t (*burn)(uint64_t, long) = (uint64_t(*)(uint64_t, long))dlsym(h, "dlwork_burn");
		if (!burn) {
			fprintf(stderr, "dlopen_loop: %s\n", dlerror());
			return 1;
		}
		x = burn(x, units);
		if (dlclose(h) != 0) {
			fprintf(stderr, "dlopen_loop: dlclose: %s\n", dlerror());
			return 1;
		}
		x = main_burn(x, units);
	}
	sink += x;
	printf("iterations=%ld\n", iters);
	return 0;
}
