/*
 * libc_waits_linked - threads blocked in the C library's waits, for the
 * names of libc's frames in a thread dump. Linked with -lcprof.
 *
 *   "reader"   read on a pipe nobody writes to, under reader_fn
 *   "poller"   poll on that pipe, no timeout, under poller_fn
 *   "sleeper"  nanosleep of 60 s, under sleeper_fn
 *   "waiter"   pthread_cond_wait, under waiter_fn
 *
 * Once all four are blocked (each has said so, and 200 ms more have
 * passed), the main thread writes the threads dump (debug=2) to OUT, then
 * ends the process (exit: the sleeping and reading threads go with it).
 *
 * Usage: libc_waits_linked OUT
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"

static int pipefd[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static atomic_int ready;

__attribute__((noinline)) static void *reader_fn(void *a)
{
	char c;
	atomic_fetch_add(&ready, 1);
	ssize_t r = read(pipefd[0], &c, 1);
	return (void *)(intptr_t)r;
}

__attribute__((noinline)) static void *poller_fn(void *a)
{
	struct pollfd p = {pipefd[0], POLLIN, 0};
	atomic_fetch_add(&ready, 1);
	int r = poll(&p, 1, -1);
	return (void *)(intptr_t)r;
}

__attribute__((noinline)) static void *sleeper_fn(void *a)
{
	struct timespec ts = {60, 0};
	atomic_fetch_add(&ready, 1);
	nanosleep(&ts, NULL);
	return NULL;
}

__attribute__((noinline)) static void *waiter_fn(void *a)
{
	pthread_mutex_lock(&mu);
	atomic_fetch_add(&ready, 1);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: libc_waits_linked OUT\n");
		return 2;
	}
	if (pipe(pipefd) != 0) {
		perror("pipe");
		return 1;
	}
	void *(*fns[4])(void *) = {reader_fn, poller_fn, sleeper_fn, waiter_fn};
	const char *names[4] = {"reader", "poller", "sleeper", "waiter"};
	for (int i = 0; i < 4; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, fns[i], NULL) != 0) {
			perror("pthread_create");
			return 1;
		}
		pthread_setname_np(t, names[i]);
	}
	while (atomic_load(&ready) < 4)
		usleep(1000);
	usleep(200000); /* from "about to block" to blocked */
	int rc = cprof_profile_write_path("threads", argv[1], 2);
	if (rc != 0) {
		fprintf(stderr, "libc_waits_linked: cannot write the dump: %d\n", rc);
		return 1;
	}
	exit(0);
}
