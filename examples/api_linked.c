/*
 * api_linked.c - profiling a chosen part of a program with the C API,
 * as runtime/pprof does in Go. Link with -lcprof (pkg-config cprof):
 *
 *   cc -O2 -o api_linked api_linked.c $(pkg-config --cflags --libs cprof)
 *   ./api_linked phase.prof && cprof pprof -top phase.prof
 */
#include <cprof.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile uint64_t sink;

__attribute__((noinline)) static void warm_up(void)
{
	for (uint64_t i = 0; i < 100000000; i++)
		sink += i;
}

__attribute__((noinline)) static void interesting_phase(void)
{
	uint64_t x = 1;
	for (uint64_t i = 0; i < 300000000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	sink += x;
}

int main(int argc, char **argv)
{
	const char *out = argc > 1 ? argv[1] : "phase.prof";
	warm_up(); /* not profiled */
	int rc = cprof_cpu_profile_set_rate(250);
	if (rc == 0)
		rc = cprof_cpu_profile_start_path(out);
	if (rc != 0) {
		fprintf(stderr, "cannot start profiling: %s\n", strerror(-rc));
		return 1;
	}
	interesting_phase();
	struct cprof_cpu_stats st;
	cprof_cpu_profile_stats(&st);
	rc = cprof_cpu_profile_stop();
	if (rc != 0) {
		fprintf(stderr, "cannot write %s: %s\n", out, strerror(-rc));
		return 1;
	}
	printf("wrote %s: %llu samples on %llu threads, %llu lost\n", out, (unsigned long long)st.samples,
	       (unsigned long long)st.threads, (unsigned long long)st.lost);
	return 0;
}
