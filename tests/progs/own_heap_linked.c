/*
 * own_heap_linked - a program whose every profile but the CPU one is
 * written while it runs, for a heap profile (rate 1, from the environment)
 * that must show none of the runtime's own writing: the block, mutex,
 * threads and threadcreate profiles (proto and text), a thread dump, a
 * wall-clock profile with threads blocked in system calls (walked without
 * a signal), and an execution trace with stacks. Linked with -lcprof.
 *
 * Four workers take turns on a contended mutex and sleep in between; the
 * main thread allocates at a site of its own (main_alloc, 1000 x 100
 * bytes, kept), so the heap profile has a known program site beside
 * whatever the runtime might leak into it.
 *
 * Usage: own_heap_linked OUTDIR
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"

#define NWORKERS 4

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stop;
static volatile unsigned long sink;
static void *kept[1000];

static void nap_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void *worker(void *a)
{
	(void)a;
	while (!atomic_load(&stop)) {
		pthread_mutex_lock(&mu);
		for (int i = 0; i < 20000; i++)
			sink += (unsigned long)i;
		pthread_mutex_unlock(&mu);
		nap_us(2000);
	}
	return NULL;
}

__attribute__((noinline)) static void main_alloc(void)
{
	for (int i = 0; i < 1000; i++) {
		kept[i] = malloc(100);
		sink += (unsigned long)(uintptr_t)kept[i];
	}
}

static int write_named(const char *dir, const char *name, int debug)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.%d", dir, name, debug);
	int rc = cprof_profile_write_path(name, path, debug);
	if (rc != 0)
		fprintf(stderr, "own_heap_linked: %s debug=%d: error %d\n", name, debug, rc);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: own_heap_linked OUTDIR\n");
		return 2;
	}
	const char *dir = argv[1];
	char path[4096];
	int bad = 0;
	bad |= cprof_block_profile_set_rate(1) != 0;
	bad |= cprof_mutex_profile_set_fraction(1) != 0;
	snprintf(path, sizeof path, "%s/wall.pb.gz", dir);
	bad |= cprof_wall_profile_start_path(path) != 0;
	snprintf(path, sizeof path, "%s/trace.bin", dir);
	bad |= cprof_trace_start_path(path) != 0;
	pthread_t t[NWORKERS];
	for (int i = 0; i < NWORKERS; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	main_alloc();
	nap_us(400000);
	for (int round = 0; round < 2; round++) {
		bad |= write_named(dir, "block", 0) != 0;
		bad |= write_named(dir, "mutex", round) != 0;
		bad |= write_named(dir, "threads", 0) != 0;
		bad |= write_named(dir, "threads", 2) != 0;
		bad |= write_named(dir, "threadcreate", 1) != 0;
		nap_us(100000);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(t[i], NULL);
	bad |= cprof_trace_stop() != 0;
	bad |= cprof_wall_profile_stop() != 0;
	printf("done\n");
	return bad ? 1 : 0;
}
