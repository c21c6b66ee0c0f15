/*
 * fork_exec_wait - waits of known length on both sides of a fork and of an
 * exec, for the profiles that see waiting (wall-clock, block with system
 * calls) as the CPU tests use fork_work and exec_work for computing.
 *
 *   fork_exec_wait fork
 *       forks; the child sleeps in child_wait, the parent in parent_wait
 *       (3 x 100 ms each, at the same time), then waits for the child.
 *       Prints the child's pid.
 *   fork_exec_wait exec PROGRAM [ARGS...]
 *       starts a thread that sleeps in helper_wait until the exec ends it,
 *       sleeps in pre_exec_wait (3 x 100 ms), prints "pid N", then execv's
 *       PROGRAM (same pid).
 *
 * True answer: each process's profile holds its own function and not the
 * other's: the parent's file parent_wait, FILE.<childpid> child_wait;
 * FILE.preexec.<pid> pre_exec_wait and FILE the exec'd program.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap_100ms(void)
{
	struct timespec ts = {0, 100000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

__attribute__((noinline)) void child_wait(void)
{
	for (int i = 0; i < 3; i++)
		nap_100ms();
}

__attribute__((noinline)) void parent_wait(void)
{
	for (int i = 0; i < 3; i++)
		nap_100ms();
}

__attribute__((noinline)) void *helper_wait(void *arg)
{
	for (;;)
		nap_100ms();
	return arg;
}

__attribute__((noinline)) void pre_exec_wait(void)
{
	for (int i = 0; i < 3; i++)
		nap_100ms();
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "fork") == 0) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork_exec_wait: fork");
			return 1;
		}
		if (pid == 0) {
			child_wait();
			return 0; /* a normal exit: atexit handlers run */
		}
		parent_wait();
		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "fork_exec_wait: child %d failed (status %d)\n", (int)pid, status);
			return 1;
		}
		printf("%d\n", (int)pid);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, helper_wait, NULL) != 0) {
			fprintf(stderr, "fork_exec_wait: pthread_create failed\n");
			return 1;
		}
		pre_exec_wait();
		printf("pid %d\n", (int)getpid());
		fflush(stdout);
		execv(argv[2], &argv[2]);
		fprintf(stderr, "fork_exec_wait: %s: %s\n", argv[2], strerror(errno));
		return 127;
	}
	fprintf(stderr, "usage: fork_exec_wait fork | exec PROGRAM [ARGS...]\n");
	return 2;
}
