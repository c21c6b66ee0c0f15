/*
 * bench_heap.c - the allocation workload of the heap profiler benchmark
 * (bench/heap_run.sh).
 *
 * Each thread keeps a working set of live blocks (-w slots, filled before
 * the timed part) and then does -n malloc+free pairs: it picks a slot,
 * frees the block there and puts a new one of 16 to 512 bytes in its
 * place. So every free is of a block allocated a while ago (on average
 * -w pairs earlier), which is what in-use tracking has to follow. Sizes,
 * slots and call depths come from a xorshift generator seeded with -s and
 * the thread's index, so every run allocates the same bytes in the same
 * order, and the program prints the exact totals a profile should show.
 *
 * The pairs are done in batches of 8 at the bottom of a recursion 2 to 17
 * frames deep (a new depth per batch), through one of two leaf functions,
 * so a profiler that walks stacks sees varied depths and several distinct
 * stacks while the recursion costs little per pair.
 *
 * It owns the timing of its loop only: CLOCK_MONOTONIC from the moment all
 * threads are released to the moment the last one ends, and each thread's
 * CLOCK_THREAD_CPUTIME_ID. bench_runner times the whole process. One line
 * on stdout, key=value:
 *   threads pairs (per thread) allocs bytes (all mallocs of the program's
 *   workload, working-set fill included) wall_ns cpu_ns (timed part)
 *   ns_per_pair (wall / pairs per thread) cpu_ns_per_pair
 *   mpairs_per_s (pairs of all threads per wall second, in millions)
 *
 * Usage: bench_heap [-t threads] [-n pairs per thread] [-w live slots per
 *        thread] [-s seed]   (defaults: 1 thread, 10 M pairs, 4096, 1)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 8
#define MAX_THREADS 64

struct worker {
	pthread_t tid;
	int index;
	uint64_t rng;
	void **slots;
	long nslots;
	uint64_t allocs, bytes, cpu_ns;
	int failed;
};

static long pairs = 10000000;
static long nslots = 4096;
static uint64_t seed = 1;
static pthread_barrier_t start;

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static size_t size_of(uint64_t r)
{
	return 16 + (size_t)(r % 497); /* 16 to 512 bytes */
}

/* Both leaves replace BATCH blocks; two of them so profiles show two sites. */
__attribute__((noinline)) static int replace_even(struct worker *w)
{
	for (int i = 0; i < BATCH; i++) {
		uint64_t r = next(&w->rng);
		long k = (long)((r >> 20) % (uint64_t)w->nslots);
		size_t n = size_of(r);
		free(w->slots[k]);
		char *p = malloc(n);
		if (!p)
			return -1;
		p[0] = (char)r; /* touched, so the pair cannot be optimized away */
		w->slots[k] = p;
		w->allocs++;
		w->bytes += n;
	}
	return 0;
}

__attribute__((noinline)) static int replace_odd(struct worker *w)
{
	for (int i = 0; i < BATCH; i++) {
		uint64_t r = next(&w->rng);
		long k = (long)((r >> 20) % (uint64_t)w->nslots);
		size_t n = size_of(r);
		free(w->slots[k]);
		char *p = malloc(n);
		if (!p)
			return -1;
		p[n - 1] = (char)r;
		w->slots[k] = p;
		w->allocs++;
		w->bytes += n;
	}
	return 0;
}

/* d frames above a leaf; the asm keeps the recursion from becoming a loop. */
__attribute__((noinline)) static int descend(struct worker *w, int d, int odd)
{
	int r = d <= 1 ? (odd ? replace_odd(w) : replace_even(w)) : descend(w, d - 1, odd);
	__asm__ volatile("" : "+r"(r));
	return r;
}

__attribute__((noinline)) static void fill(struct worker *w)
{
	for (long k = 0; k < w->nslots; k++) {
		size_t n = size_of(next(&w->rng));
		w->slots[k] = malloc(n);
		if (!w->slots[k]) {
			w->failed = 1;
			return;
		}
		memset(w->slots[k], 0, n);
		w->allocs++;
		w->bytes += n;
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	fill(w);
	pthread_barrier_wait(&start);
	int64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (long done = 0; done < pairs && !w->failed; done += BATCH) {
		int d = 2 + (int)(next(&w->rng) % 16); /* recursion 2 to 17 deep */
		if (descend(w, d, d & 1) != 0)
			w->failed = 1;
	}
	w->cpu_ns = (uint64_t)(clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_heap [-t threads] [-n pairs per thread] [-w live slots per thread] [-s seed]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int threads = 1, c;
	while ((c = getopt(argc, argv, "t:n:w:s:")) != -1) {
		switch (c) {
		case 't':
			threads = atoi(optarg);
			break;
		case 'n':
			pairs = atol(optarg);
			break;
		case 'w':
			nslots = atol(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || threads < 1 || threads > MAX_THREADS || pairs < BATCH || nslots < 1 || seed == 0)
		usage();
	pairs -= pairs % BATCH;

	static struct worker ws[MAX_THREADS];
	pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
	for (int i = 0; i < threads; i++) {
		struct worker *w = &ws[i];
		w->index = i;
		w->rng = seed * 0x9e3779b97f4a7c15ull + (uint64_t)i * 0xbf58476d1ce4e5b9ull;
		if (w->rng == 0)
			w->rng = 1;
		w->nslots = nslots;
		w->slots = calloc((size_t)nslots, sizeof *w->slots);
		if (!w->slots || pthread_create(&w->tid, NULL, run, w) != 0) {
			fprintf(stderr, "bench_heap: cannot start thread %d\n", i);
			return 1;
		}
	}
	pthread_barrier_wait(&start);
	int64_t t0 = clock_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < threads; i++)
		pthread_join(ws[i].tid, NULL);
	int64_t wall = clock_ns(CLOCK_MONOTONIC) - t0;

	uint64_t allocs = 0, bytes = 0, cpu = 0;
	int failed = 0;
	for (int i = 0; i < threads; i++) {
		allocs += ws[i].allocs;
		bytes += ws[i].bytes;
		cpu += ws[i].cpu_ns;
		failed |= ws[i].failed;
		for (long k = 0; k < nslots; k++)
			free(ws[i].slots[k]);
		free(ws[i].slots);
	}
	if (failed) {
		fprintf(stderr, "bench_heap: malloc failed\n");
		return 1;
	}
	printf("threads=%d pairs=%ld allocs=%llu bytes=%llu wall_ns=%lld cpu_ns=%llu ns_per_pair=%.1f "
	       "cpu_ns_per_pair=%.1f mpairs_per_s=%.2f\n",
	       threads, pairs, (unsigned long long)allocs, (unsigned long long)bytes, (long long)wall,
	       (unsigned long long)cpu, (double)wall / (double)pairs, (double)cpu / (double)pairs / threads,
	       (double)pairs * threads / ((double)wall / 1e9) / 1e6);
	return 0;
}
