/*
 * trace_fork_linked.c - fork while other threads trace (tests/e2e/trace_fork.sh).
 *
 *   trace_fork_linked FORKS DIR
 *
 * Traces to DIR/parent.trace while 3 threads keep the recorder's lock
 * busy: each starts and joins short-lived threads (registered and
 * unregistered under the lock), fills buffers with regions (a full buffer
 * is handed over under it) and interns a name it has not used before (the
 * lock again), every 300 us or so. The
 * main thread forks FORKS times meanwhile; each child traces on its own
 * to DIR/child.N (a thread of its own, regions, a mutex wait), stops, and
 * exits 0, or is killed by an alarm after 10 s if the recorder's state it
 * inherited is locked or broken. Prints "forks=N failed=F" and exits
 * non-zero when a child failed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cprof.h"

static atomic_int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *short_lived(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		cprof_region_begin(0, "short");
		cprof_region_end();
	}
	return NULL;
}

static void *busy(void *arg)
{
	long id = (long)arg;
	char name[32];
	for (long round = 0; !atomic_load(&stop); round++) {
		pthread_t t;
		if (pthread_create(&t, NULL, short_lived, NULL) == 0)
			pthread_join(t, NULL);
		for (int i = 0; i < 200; i++) {
			cprof_region_begin(0, "fill");
			cprof_region_end();
		}
		/* A name not seen before: interned under the lock (until the table is full). */
		snprintf(name, sizeof name, "n%ld.%ld", id, round);
		cprof_region_begin(0, name);
		pthread_mutex_lock(&mu);
		pthread_mutex_unlock(&mu);
		cprof_region_end();
		usleep(300);
	}
	return NULL;
}

static void *child_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	usleep(2000);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static int child(const char *dir, int n)
{
	alarm(10);
	char path[4096];
	snprintf(path, sizeof path, "%s/child.%d", dir, n);
	if (cprof_trace_start_path(path) != 0)
		return 2;
	pthread_t t;
	if (pthread_create(&t, NULL, child_thread, NULL) != 0)
		return 3;
	for (int i = 0; i < 1000; i++) {
		cprof_region_begin(0, "child");
		cprof_region_end();
	}
	usleep(500);
	pthread_mutex_lock(&mu); /* waits for child_thread, most often */
	pthread_mutex_unlock(&mu);
	pthread_join(t, NULL);
	return cprof_trace_stop() == 0 ? 0 : 4;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: trace_fork_linked FORKS DIR\n");
		return 2;
	}
	int forks = atoi(argv[1]);
	char path[4096];
	snprintf(path, sizeof path, "%s/parent.trace", argv[2]);
	if (cprof_trace_start_path(path) != 0) {
		fprintf(stderr, "cannot start a trace to %s\n", path);
		return 1;
	}
	pthread_t th[3];
	for (long i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, busy, (void *)i);
	int failed = 0;
	for (int i = 0; i < forks; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(child(argv[2], i));
		int st = 0;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			failed++;
			fprintf(stderr, "child %d: %s %d\n", i, pid < 0 ? "fork failed" : WIFSIGNALED(st) ? "signal" : "exit",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	cprof_trace_stop();
	printf("forks=%d failed=%d\n", forks, failed);
	return failed ? 1 : 0;
}
