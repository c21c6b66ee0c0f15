/*
 * legacy_text_linked - writes every profile the runtime has in Go's legacy
 * text form (debug=1), for tests/e2e/pprof_legacy_text.sh to read back
 * with go tool pprof and cprof pprof: the heap profiler at rate 1 (exact
 * counts) under two known call sites, four threads fighting over one
 * mutex, a thread that waits on a condition variable, and the threads and
 * threadcreate profiles of the threads still running. Linked with -lcprof;
 * run with CPROF_BLOCK_RATE=1 CPROF_MUTEX_FRACTION=1.
 *
 * Usage: legacy_text_linked DIR   (writes DIR/<name>.txt for heap, allocs,
 *        block, mutex, threads, threadcreate; prints "wrote N")
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cprof.h"

#define NOINLINE __attribute__((noipa))

static void *volatile sink;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready, done;

NOINLINE static void **lt_keep(int n, size_t size)
{
	void **v = malloc((size_t)n * sizeof *v);
	for (int i = 0; i < n; i++)
		v[i] = malloc(size);
	return v;
}

NOINLINE static void lt_churn(int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		sink = malloc(size);
		free(sink);
	}
}

static void pause_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

NOINLINE static void *lt_fight(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&mu);
		pause_us(50);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

NOINLINE static void *lt_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cmu);
	while (!ready)
		pthread_cond_wait(&cond, &cmu);
	pthread_mutex_unlock(&cmu);
	return NULL;
}

NOINLINE static void *lt_idle(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cmu);
	while (!done)
		pthread_cond_wait(&cond, &cmu);
	pthread_mutex_unlock(&cmu);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	cprof_heap_profile_start(1);
	void **kept = lt_keep(40, 4096);
	lt_churn(300, 100);

	pthread_t f[4], w, idle;
	pthread_create(&w, NULL, lt_waiter, NULL);
	pthread_create(&idle, NULL, lt_idle, NULL);
	for (int i = 0; i < 4; i++)
		pthread_create(&f[i], NULL, lt_fight, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(f[i], NULL);
	pause_us(20000);
	pthread_mutex_lock(&cmu);
	ready = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&cmu);
	pthread_join(w, NULL);

	static const char *const names[] = {"heap", "allocs", "block", "mutex", "threads", "threadcreate"};
	int wrote = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s.txt", argv[1], names[i]);
		int rc = cprof_profile_write_path(names[i], path, 1);
		if (rc == 0)
			wrote++;
		else
			fprintf(stderr, "legacy_text_linked: %s: %d\n", names[i], rc);
	}
	pthread_mutex_lock(&cmu);
	done = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&cmu);
	pthread_join(idle, NULL);
	for (int i = 0; i < 40; i++)
		free(kept[i]);
	free(kept);
	printf("wrote %d\n", wrote);
	return 0;
}
