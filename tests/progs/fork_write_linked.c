/*
 * fork_write_linked - fork while another thread writes profiles.
 *
 * usage: fork_write_linked DIR N [heap|cpu]
 *
 * Starts the heap profiler, then a thread that writes the heap profile to
 * /dev/null in a loop, as profile.proto and as text (every write is a
 * symbolization session, in the runtime's private arena). The main thread
 * forks N times; each child allocates a little, writes its heap profile to
 * DIR/child.<i>.prof and exits. With "cpu", continuous profiling also runs
 * (into DIR/cont, every 100 ms: its collector symbolizes with the kept
 * state), and each child instead profiles 20 ms of its own CPU into
 * DIR/child.<i>.prof. A child that has not exited within 10 s is killed and
 * counted as hung, and no more children are made (a deadlocked child never
 * exits). Prints "forks=N hung=H failed=F writes=W" and exits 0 only when
 * no child hung or failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"

static atomic_int stop;
static atomic_long writes;

static void *writer(void *arg)
{
	int fd = *(int *)arg;
	while (!atomic_load(&stop)) {
		/* Both formats: the legacy text one sorts with its own state. */
		if (cprof_profile_write("heap", fd, (int)(atomic_load(&writes) & 1)) == 0)
			atomic_fetch_add(&writes, 1);
	}
	return NULL;
}

__attribute__((noinline)) static void *child_alloc(size_t n)
{
	void *p = malloc(n);
	if (p)
		memset(p, 1, n);
	return p;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "heap") != 0 && strcmp(argv[3], "cpu") != 0)) {
		fprintf(stderr, "usage: fork_write_linked DIR N [heap|cpu]\n");
		return 2;
	}
	const char *dir = argv[1];
	int n = atoi(argv[2]);
	bool cpu = argc == 4 && strcmp(argv[3], "cpu") == 0;
	if (cpu) {
		char dest[4096];
		snprintf(dest, sizeof dest, "dir:%s/cont", dir);
		int rc = cprof_continuous_start(dest, 100);
		if (rc != 0) {
			fprintf(stderr, "fork_write_linked: cannot start continuous profiling: %s\n", strerror(-rc));
			return 1;
		}
	}
	if (cprof_heap_profile_start(4096) != 0) {
		fprintf(stderr, "fork_write_linked: cannot start the heap profiler\n");
		return 1;
	}
	void *keep[64];
	for (int i = 0; i < 64; i++)
		keep[i] = child_alloc(1000 + (size_t)i * 100);
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		perror("fork_write_linked: /dev/null");
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, writer, &fd);
	while (atomic_load(&writes) == 0)
		usleep(1000);
	int hung = 0, failed = 0;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork_write_linked: fork");
			failed++;
			break;
		}
		if (pid == 0) {
			void *p[16];
			for (int k = 0; k < 16; k++)
				p[k] = child_alloc(50000);
			char path[4096];
			snprintf(path, sizeof path, "%s/child.%d.prof", dir, i);
			int rc;
			if (cpu) {
				rc = cprof_cpu_profile_start_path(path);
				double until = now() + 0.02;
				volatile unsigned x = 0;
				while (rc == 0 && now() < until)
					x = x * 33 + 1;
				if (rc == 0)
					rc = cprof_cpu_profile_stop();
			} else {
				rc = cprof_profile_write_path("heap", path, 0);
			}
			for (int k = 0; k < 16; k++)
				free(p[k]);
			_exit(rc == 0 ? 0 : 3);
		}
		double deadline = now() + 10;
		int st = 0;
		pid_t w;
		while ((w = waitpid(pid, &st, WNOHANG)) == 0 && now() < deadline)
			usleep(1000);
		if (w == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			hung++;
			fprintf(stderr, "fork_write_linked: child %d (pid %d) did not exit within 10 s\n", i, (int)pid);
			break; /* one is enough to know; do not make the run last */
		} else if (w < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			failed++;
			fprintf(stderr, "fork_write_linked: child %d ended with status %#x\n", i, st);
		}
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	if (cpu)
		cprof_continuous_stop();
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	printf("forks=%d hung=%d failed=%d writes=%ld\n", n, hung, failed, atomic_load(&writes));
	return hung || failed ? 1 : 0;
}
