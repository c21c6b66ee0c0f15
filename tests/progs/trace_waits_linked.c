/*
 * trace_waits_linked.c - known waits for the trace export tests. A thread
 * "holder" takes a mutex, tells the main thread so, holds the mutex for
 * 100 ms inside a region "hold" and lets it go: the main thread waits for
 * it in lock_slowly, inside a region "contend", about 100 ms, released by
 * the holder. A thread "writer" sleeps 50 ms and writes a byte into a pipe
 * the main thread waits on in read_slowly (a blocking read: a syscall
 * episode when blocking system calls are traced). Then main joins both.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static sem_t held;
static int pipefd[2];

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *holder(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "holder");
	pthread_mutex_lock(&mu);
	sem_post(&held);
	cprof_region_begin(0, "hold");
	sleep_ms(100);
	cprof_region_end();
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "writer");
	sleep_ms(50);
	if (write(pipefd[1], "x", 1) != 1)
		perror("write");
	return NULL;
}

__attribute__((noinline)) static void lock_slowly(void)
{
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static int read_slowly(void)
{
	char c;
	int n = (int)read(pipefd[0], &c, 1);
	__asm__ volatile("" ::: "memory");
	return n;
}

int main(void)
{
	pthread_setname_np(pthread_self(), "waiter");
	if (sem_init(&held, 0, 0) != 0 || pipe(pipefd) != 0) {
		perror("setup");
		return 1;
	}
	pthread_t h, w;
	pthread_create(&h, NULL, holder, NULL);
	while (sem_wait(&held) != 0)
		;
	cprof_region_begin(0, "contend");
	lock_slowly();
	cprof_region_end();
	pthread_join(h, NULL);

	pthread_create(&w, NULL, writer, NULL);
	if (read_slowly() != 1) {
		fprintf(stderr, "read failed\n");
		return 1;
	}
	pthread_join(w, NULL);
	return 0;
}
