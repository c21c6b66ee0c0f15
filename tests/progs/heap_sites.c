/*
 * heap_sites - allocation sites with known totals, for the heap profiler's
 * accuracy tests. Each site is its own function (never inlined) and makes
 * a known number of allocations of a known size through one allocation
 * call; it prints "site NAME COUNT BYTES INUSE_COUNT INUSE_BYTES" with the
 * truth. Blocks are freed at once unless the site keeps them (in use at
 * exit: the leak report's truth).
 *
 * Usage: heap_sites DIVISOR [threads]
 *   DIVISOR divides every count (1 for the accuracy run at the default
 *   rate; larger for the exact run at rate 1).
 *   threads: also run two threads that free each other's blocks.
 */
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noipa))

static long divisor = 1;
static void *volatile sink;

static void report(const char *name, long count, long size, long inuse_count)
{
	printf("site %s %ld %ld %ld %ld\n", name, count, count * size, inuse_count, inuse_count * size);
}

static long scaled(long n)
{
	long v = n / divisor;
	return v > 0 ? v : 1;
}

NOINLINE static void site_small(void)
{
	long n = scaled(1 << 20);
	for (long i = 0; i < n; i++) {
		sink = malloc(512);
		free(sink);
	}
	report("site_small", n, 512, 0);
}

NOINLINE static void site_pages(void)
{
	long n = scaled(1 << 17);
	for (long i = 0; i < n; i++) {
		sink = malloc(4096);
		free(sink);
	}
	report("site_pages", n, 4096, 0);
}

NOINLINE static void site_calloc(void)
{
	long n = scaled(1 << 19);
	for (long i = 0; i < n; i++) {
		sink = calloc(10, 100);
		free(sink);
	}
	report("site_calloc", n, 1000, 0);
}

NOINLINE static void site_memalign(void)
{
	long n = scaled(1 << 18);
	for (long i = 0; i < n; i++) {
		void *p;
		if (posix_memalign(&p, 64, 2048) != 0 || ((unsigned long)p & 63))
			abort();
		sink = p;
		free(p);
	}
	report("site_memalign", n, 2048, 0);
}

NOINLINE static void site_big(void)
{
	long n = 32;
	for (long i = 0; i < n; i++) {
		sink = malloc(4 << 20);
		free(sink);
	}
	report("site_big", n, 4 << 20, 0);
}

/* A buffer grown by doubling from 16 bytes to 1 MiB, n times: every step one realloc. */
NOINLINE static void site_realloc(void)
{
	long n = scaled(256);
	long count = 0, bytes = 0;
	for (long i = 0; i < n; i++) {
		char *p = NULL;
		for (size_t sz = 16; sz <= (1 << 20); sz *= 2) {
			p = realloc(p, sz);
			p[sz - 1] = 1;
			count++;
			bytes += (long)sz;
		}
		free(p);
	}
	printf("site site_realloc %ld %ld 0 0\n", count, bytes);
}

/* Kept until exit: the leak. */
NOINLINE static void site_keep(void)
{
	long n = 10;
	for (long i = 0; i < n; i++) {
		char *p = malloc(100000);
		memset(p, 1, 100000);
		sink = p; /* never freed */
	}
	report("site_keep", n, 100000, n);
}

/* The rest of the family, exercised once each, for crashes and counts at rate 1. */
NOINLINE static void site_family(void)
{
	long n = scaled(1 << 12);
	for (long i = 0; i < n; i++) {
		void *a = aligned_alloc(256, 4096);
		void *b = memalign(128, 1024);
		void *c = valloc(8192);
		int *d = reallocarray(NULL, 100, sizeof(int));
		if (!a || !b || !c || !d || ((unsigned long)a & 255) || ((unsigned long)b & 127) ||
		    ((unsigned long)c & 4095))
			abort();
		d = reallocarray(d, 200, sizeof(int));
		if (malloc_usable_size(d) < 800)
			abort();
		free(a);
		free(b);
		free(c);
		free(d);
		/* realloc to 0 frees (glibc returns NULL); free(NULL) is nothing. */
		void *z = malloc(64);
		z = realloc(z, 0);
		free(z);
		free(NULL);
	}
	printf("family %ld\n", n);
}

/* Blocks allocated inside libc, freed by the program. */
NOINLINE static void site_libc(void)
{
	long n = scaled(1 << 10);
	for (long i = 0; i < n; i++) {
		char *s = strdup("hello, heap");
		char *q = NULL;
		if (asprintf(&q, "%ld %s", i, s) < 0)
			abort();
		char *r = realpath("/", NULL);
		FILE *f = fmemopen((void *)"line one\nline two\n", 18, "r");
		char *line = NULL;
		size_t cap = 0;
		while (f && getline(&line, &cap, f) > 0)
			;
		if (f)
			fclose(f);
		free(line);
		free(r);
		free(q);
		free(s);
	}
	printf("libc %ld\n", n);
}

/* Two threads, each freeing the blocks the other allocated. */
#define XBLOCKS 4096
static void *xbuf[2][XBLOCKS];
static pthread_barrier_t bar;

NOINLINE static void *xthread(void *arg)
{
	long me = (long)arg;
	long rounds = scaled(256);
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < XBLOCKS; i++)
			xbuf[me][i] = malloc(256);
		pthread_barrier_wait(&bar);
		for (int i = 0; i < XBLOCKS; i++)
			free(xbuf[1 - me][i]);
		pthread_barrier_wait(&bar);
	}
	if (me == 0)
		printf("site xthread %ld %ld 0 0\n", rounds * XBLOCKS * 2, rounds * XBLOCKS * 2 * 256);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		divisor = atol(argv[1]);
	if (divisor < 1)
		divisor = 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	site_small();
	site_pages();
	site_calloc();
	site_memalign();
	site_big();
	site_realloc();
	site_keep();
	site_family();
	site_libc();
	if (argc > 2) {
		pthread_t t[2];
		pthread_barrier_init(&bar, NULL, 2);
		for (long i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, xthread, (void *)i);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
	}
	return 0;
}
