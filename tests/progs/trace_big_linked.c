/*
 * trace_big_linked.c - a big execution trace of known shape, for the trace
 * viewer's benchmark (bench/trace_viewer_bench.sh) and pictures:
 *
 *   trace_big_linked MILLIONS
 *
 * Four threads named "worker-N" handle requests until about MILLIONS
 * million annotation events are recorded in all: each request is a region
 * "request" holding a region "parse" and a region "work" (a little
 * arithmetic under a shared mutex), 6 events; every 1000th request of a
 * thread ends its task "batch" and begins the next one, with a log
 * message. Blocking episodes on the mutex
 * come on top when the recorder records them. Prints the number of
 * requests.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "cprof.h"

#define THREADS 4

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long shared;
static long per_thread;

static void *worker(void *arg)
{
	long id = (long)arg;
	char name[16];
	snprintf(name, sizeof name, "worker-%ld", id);
	pthread_setname_np(pthread_self(), name);
	uint64_t batch = 0;
	for (long i = 0; i < per_thread; i++) {
		if (i % 1000 == 0) {
			if (batch)
				cprof_task_end(batch);
			batch = cprof_task_begin(0, "batch");
			cprof_task_log(batch, "batch", name);
		}
		cprof_region_begin(batch, "request");
		cprof_region_begin(batch, "parse");
		unsigned long x = (unsigned long)i * 2654435761u;
		for (int k = 0; k < 20; k++)
			x = x * 6364136223846793005u + 1442695040888963407u;
		cprof_region_end();
		cprof_region_begin(batch, "work");
		pthread_mutex_lock(&mu);
		shared += x;
		pthread_mutex_unlock(&mu);
		cprof_region_end();
		cprof_region_end();
	}
	if (batch)
		cprof_task_end(batch);
	return NULL;
}

int main(int argc, char **argv)
{
	double m = argc == 2 ? atof(argv[1]) : 0;
	if (!(m > 0 && m <= 1000)) {
		fprintf(stderr, "usage: trace_big_linked MILLIONS (of events, e.g. 10)\n");
		return 2;
	}
	per_thread = (long)(m * 1e6 / 6 / THREADS);
	pthread_t th[THREADS];
	for (long t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	printf("requests=%ld\n", per_thread * THREADS);
	return 0;
}
