/*
 * trace_known_linked.c - a program of known structure for the execution
 * trace tests: a producer and a consumer thread pass N items over a
 * condition variable (each item logged on both sides); a task begins on the
 * main thread and ends on the consumer; the main thread opens nested
 * regions "outer" > "inner" and sleeps 100 ms inside a region "sleep".
 * With an argument "api" it starts and stops the trace itself (path in
 * argv[2]); with "many N", four threads each record N regions and nothing else.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cprof.h"

#define N 5

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int queue[N], head, tail;
static uint64_t task;

static void *producer(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "producer");
	for (int i = 0; i < N; i++) {
		char m[32];
		snprintf(m, sizeof m, "put %d", i);
		cprof_region_begin(task, "produce");
		cprof_trace_log("queue", m);
		pthread_mutex_lock(&mu);
		queue[tail++] = i;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
		cprof_region_end();
	}
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "consumer");
	for (int i = 0; i < N; i++) {
		pthread_mutex_lock(&mu);
		while (head == tail)
			pthread_cond_wait(&cv, &mu);
		int v = queue[head++];
		pthread_mutex_unlock(&mu);
		char m[32];
		snprintf(m, sizeof m, "got %d", v);
		cprof_task_log(task, "queue", m);
	}
	cprof_task_end(task);
	return NULL;
}

static long many_n;

static void *many(void *arg)
{
	(void)arg;
	for (long i = 0; i < many_n; i++) {
		cprof_region_begin(0, "r");
		cprof_region_end();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "many") == 0) {
		many_n = atol(argv[2]);
		pthread_t th[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, many, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		return 0;
	}
	int api = argc > 2 && strcmp(argv[1], "api") == 0;
	if (api && cprof_trace_start_path(argv[2]) != 0) {
		fprintf(stderr, "cannot start the trace\n");
		return 1;
	}
	task = cprof_task_begin(0, "transfer");
	{
		CPROF_REGION(task, "outer");
		CPROF_REGION(task, "inner");
		cprof_trace_log("phase", "nested");
	}
	pthread_t p, c;
	pthread_create(&c, NULL, consumer, NULL);
	pthread_create(&p, NULL, producer, NULL);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	cprof_region_begin(0, "sleep");
	struct timespec ts = {0, 100 * 1000 * 1000};
	while (nanosleep(&ts, &ts) != 0)
		;
	cprof_region_end();
	if (api) {
		struct cprof_trace_stats st;
		cprof_trace_stats(&st);
		if (cprof_trace_stop() != 0 || !st.running) {
			fprintf(stderr, "cannot stop the trace\n");
			return 1;
		}
		/* After stop the annotations are off again. */
		cprof_region_begin(0, "after-stop");
		cprof_region_end();
	}
	return 0;
}
