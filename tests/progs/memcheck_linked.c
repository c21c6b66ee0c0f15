/*
 * memcheck_linked - the allocation family exercised in a program linked
 * with -lcprof, for running under valgrind's memcheck while the heap
 * profiler is off: malloc, calloc, realloc, reallocarray, the aligned
 * calls at alignments 16..8192, malloc_usable_size, blocks freed by
 * another thread, and sizes from 0 to 1 MiB (blocks at the start of a
 * page too). Every block is written in full and freed; the program prints
 * a checksum so nothing is optimised away.
 *
 * Usage: memcheck_linked plain|counting|cpu DIR
 *   plain     the calls alone
 *   counting  with exact counting on (cprof_mem_counting), checked at the end
 *   cpu       with a CPU profile started and written to DIR/mid.prof in the
 *             middle of the run (its writer allocates from the runtime's
 *             private arena), then the calls go on
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cprof.h"

static const size_t sizes[] = {0, 1, 7, 8, 15, 16, 17, 24, 31, 32, 48, 64, 100, 128, 255, 256, 1000,
			       4080, 4096, 4097, 8192, 65536, 131072, 200000, 1 << 20};
static const size_t aligns[] = {16, 32, 64, 128, 256, 512, 1024, 4096, 8192};
#define NS (sizeof sizes / sizeof sizes[0])
#define NA (sizeof aligns / sizeof aligns[0])

static unsigned long sum;

static void touch(void *p, size_t n)
{
	if (!p || !n)
		return;
	memset(p, (int)(n & 0x7f) | 1, n);
	sum += ((unsigned char *)p)[0] + ((unsigned char *)p)[n - 1];
}

static void *freer(void *arg)
{
	void **v = arg;
	for (size_t i = 0; i < NS; i++)
		free(v[i]);
	return NULL;
}

static void round_of_calls(void)
{
	void *v[NS];
	for (size_t i = 0; i < NS; i++) {
		v[i] = malloc(sizes[i]);
		touch(v[i], sizes[i]);
		size_t u = malloc_usable_size(v[i]);
		if (v[i] && u < sizes[i])
			printf("short usable size %zu < %zu\n", u, sizes[i]);
	}
	for (size_t i = 0; i < NS; i++)
		free(v[NS - 1 - i]);
	for (size_t i = 0; i < NS; i++) {
		v[i] = calloc(1, sizes[i]);
		touch(v[i], sizes[i]);
	}
	for (size_t i = 0; i < NS; i++) {
		size_t n = sizes[(i * 7 + 3) % NS];
		v[i] = realloc(v[i], n);
		touch(v[i], n);
		v[i] = reallocarray(v[i], 2, n / 2 + 1);
		touch(v[i], 2 * (n / 2 + 1));
	}
	for (size_t i = 0; i < NS; i++)
		free(v[i]);
	for (size_t a = 0; a < NA; a++) {
		for (size_t i = 0; i < NS; i += 3) {
			void *p = NULL;
			if (posix_memalign(&p, aligns[a], sizes[i]) == 0) {
				touch(p, sizes[i]);
				free(p);
			}
			size_t n = (sizes[i] + aligns[a] - 1) / aligns[a] * aligns[a];
			p = aligned_alloc(aligns[a], n);
			touch(p, n);
			free(p);
			p = memalign(aligns[a], sizes[i]);
			touch(p, sizes[i]);
			p = realloc(p, sizes[i] + 40);
			touch(p, sizes[i] + 40);
			free(p);
		}
	}
	void *p = valloc(100);
	touch(p, 100);
	free(p);
	free(realloc(NULL, 33));
	free(NULL);
	/* Blocks allocated here, freed by another thread. */
	for (size_t i = 0; i < NS; i++) {
		v[i] = malloc(sizes[i]);
		touch(v[i], sizes[i]);
	}
	pthread_t th;
	if (pthread_create(&th, NULL, freer, v) == 0)
		pthread_join(th, NULL);
	else
		freer(v);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1];
	char path[4096];
	struct cprof_mem_counts c0, c1;
	if (strcmp(mode, "counting") == 0) {
		cprof_mem_counting(1);
		cprof_mem_counts(&c0);
	} else if (strcmp(mode, "cpu") == 0) {
		snprintf(path, sizeof path, "%s/mid.prof", argv[2]);
		if (cprof_cpu_profile_start_path(path) != 0) {
			fprintf(stderr, "memcheck_linked: cannot start a CPU profile\n");
			return 1;
		}
	} else if (strcmp(mode, "plain") != 0) {
		return 2;
	}
	for (int r = 0; r < 3; r++)
		round_of_calls();
	if (strcmp(mode, "cpu") == 0) {
		if (cprof_cpu_profile_stop() != 0) {
			fprintf(stderr, "memcheck_linked: cannot write the CPU profile\n");
			return 1;
		}
		for (int r = 0; r < 2; r++)
			round_of_calls();
	}
	if (strcmp(mode, "counting") == 0) {
		cprof_mem_counts(&c1);
		printf("mallocs %llu frees %llu\n", (unsigned long long)(c1.mallocs - c0.mallocs),
		       (unsigned long long)(c1.frees - c0.frees));
	}
	printf("sum %lu\n", sum);
	return 0;
}
