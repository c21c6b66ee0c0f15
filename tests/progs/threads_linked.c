/*
 * threads_linked - threads in known states for the thread dump and the
 * threads/threadcreate profiles. Linked with -lcprof.
 *
 *   "waiter"   blocked in pthread_cond_wait, under waiter_fn
 *   "sleeper"  in nanosleep, under sleeper_fn, labels job=nightly
 *   "reader"   in read on a pipe, under reader_fn
 *   "spinner"  computing in spinner_fn (running)
 *   "masked"   computing in masked_fn with SIGPROF blocked
 *
 * All are created by spawn_all(). Once they are in place the main thread
 * writes: OUT.txt (debug=2 dump), OUT.pb.gz (threads profile), OUT.tc.pb.gz
 * (threadcreate profile), then lets every thread finish.
 *
 * Usage: threads_linked OUT
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int release;
static atomic_int stop, ready;
static int pipefd[2];
static volatile uint64_t sink;

__attribute__((noinline)) static void *waiter_fn(void *a)
{
	(void)a;
	pthread_mutex_lock(&mu);
	atomic_fetch_add(&ready, 1);
	while (!release)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

__attribute__((noinline)) static void *sleeper_fn(void *a)
{
	(void)a;
	cprof_labels_push("job", "nightly");
	atomic_fetch_add(&ready, 1);
	while (!atomic_load(&stop)) {
		struct timespec ts = {0, 300000000};
		nanosleep(&ts, NULL);
	}
	cprof_labels_pop();
	return NULL;
}

__attribute__((noinline)) static void *reader_fn(void *a)
{
	(void)a;
	char c;
	atomic_fetch_add(&ready, 1);
	while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

__attribute__((noinline)) static void spin(void)
{
	uint64_t x = 1;
	while (!atomic_load(&stop))
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005ull + 1;
	sink = x;
}

__attribute__((noinline)) static void *spinner_fn(void *a)
{
	(void)a;
	atomic_fetch_add(&ready, 1);
	spin();
	return NULL;
}

__attribute__((noinline)) static void *masked_fn(void *a)
{
	(void)a;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGPROF);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	atomic_fetch_add(&ready, 1);
	spin();
	return NULL;
}

static pthread_t th[5];

__attribute__((noinline)) static void spawn_all(void)
{
	void *(*fns[5])(void *) = {waiter_fn, sleeper_fn, reader_fn, spinner_fn, masked_fn};
	const char *names[5] = {"waiter", "sleeper", "reader", "spinner", "masked"};
	for (int i = 0; i < 5; i++) {
		pthread_create(&th[i], NULL, fns[i], NULL);
		pthread_setname_np(th[i], names[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (pipe(pipefd) != 0)
		return 1;
	spawn_all();
	while (atomic_load(&ready) < 5)
		usleep(1000);
	usleep(100000); /* let each reach its wait */
	char path[4096];
	int rc;
	snprintf(path, sizeof path, "%s.txt", argv[1]);
	rc = cprof_profile_write_path("threads", path, 2);
	printf("%s debug2 rc=%d\n", rc == 0 ? "ok" : "bad", rc);
	snprintf(path, sizeof path, "%s.pb.gz", argv[1]);
	rc = cprof_profile_write_path("threads", path, 0);
	printf("%s proto rc=%d\n", rc == 0 ? "ok" : "bad", rc);
	snprintf(path, sizeof path, "%s.d1.txt", argv[1]);
	rc = cprof_profile_write_path("threads", path, 1);
	printf("%s debug1 rc=%d\n", rc == 0 ? "ok" : "bad", rc);
	snprintf(path, sizeof path, "%s.tc.pb.gz", argv[1]);
	rc = cprof_profile_write_path("threadcreate", path, 0);
	printf("%s threadcreate rc=%d\n", rc == 0 ? "ok" : "bad", rc);
	atomic_store(&stop, 1);
	pthread_mutex_lock(&mu);
	release = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	if (write(pipefd[1], "x", 1) != 1)
		return 1;
	for (int i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	return 0;
}
