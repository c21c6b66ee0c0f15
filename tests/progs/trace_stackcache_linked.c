/*
 * trace_stackcache_linked.c - mutex waits at one call site reached from
 * two callers whose frames lie at the same addresses
 * (tests/e2e/trace_stackcache.sh).
 *
 *   trace_stackcache_linked FILE
 *
 * Traces to FILE. A holder thread takes the mutex and keeps it until the
 * main thread sleeps on it, 20 times; each time the main thread waits for
 * it in wait_here, called by
 * caller_a on even rounds and caller_b on odd ones. The two callers have
 * frames of the same size at the same depth, so wait_here's call to
 * pthread_mutex_lock returns to the same address from the same stack
 * address both times: only the return address into caller_a or caller_b,
 * one frame up, tells the stacks apart (the tracer caches a wait's stack
 * by call site and stack address). Every wait sleeps and is released by
 * the holder. Prints "holder=TID".
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cprof.h"

#define ROUNDS 20

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t b1, b2;
static volatile int sink;

static __attribute__((noinline)) void wait_here(int tag)
{
	pthread_mutex_lock(&mu);
	sink += tag;
	pthread_mutex_unlock(&mu);
}

static __attribute__((noinline)) void caller_a(void)
{
	volatile char pad[64];
	pad[0] = 1;
	wait_here(1);
	sink += pad[0];
}

static __attribute__((noinline)) void caller_b(void)
{
	volatile char pad[64];
	pad[0] = 2;
	wait_here(2);
	sink += pad[0];
}

static void *holder(void *arg)
{
	(void)arg;
	printf("holder=%ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	for (int i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&b1);
		pthread_mutex_lock(&mu);
		pthread_barrier_wait(&b2);
		/* Until the main thread sleeps on the mutex (the C library marks its lock word 2), 2 s at most. */
		for (int k = 0; k < 2000 && __atomic_load_n(&mu.__data.__lock, __ATOMIC_RELAXED) != 2; k++)
			usleep(1000);
		usleep(1000);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: trace_stackcache_linked FILE\n");
		return 2;
	}
	pthread_barrier_init(&b1, NULL, 2);
	pthread_barrier_init(&b2, NULL, 2);
	if (cprof_trace_start_path(argv[1]) != 0) {
		fprintf(stderr, "cannot start a trace to %s\n", argv[1]);
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, holder, NULL);
	for (int i = 0; i < ROUNDS; i++) {
		pthread_barrier_wait(&b1);
		pthread_barrier_wait(&b2); /* the holder has the mutex now */
		if (i % 2 == 0)
			caller_a();
		else
			caller_b();
	}
	pthread_join(t, NULL);
	return cprof_trace_stop() == 0 ? 0 : 1;
}
