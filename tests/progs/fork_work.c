/*
 * fork_work - the parent forks; the child runs child_work, the parent runs
 * parent_work at the same time, then waits for the child. Prints the
 * child's pid on stdout.
 *
 * True answer: the child's profile (FILE.<childpid>) holds child_work and
 * no parent_work; the parent's (FILE) holds parent_work and no child_work.
 *
 * Usage: fork_work [units]   (default 2000 each, about 1 s)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile uint64_t sink;

#include "work_unit.h"

__attribute__((noinline)) void child_work(long units)
{
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

__attribute__((noinline)) void parent_work(long units)
{
	uint64_t x = 2463534242ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

int main(int argc, char **argv)
{
	long units = argc > 1 ? atol(argv[1]) : 2000;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork_work: fork");
		return 1;
	}
	if (pid == 0) {
		child_work(units);
		return 0; /* a normal exit: atexit handlers run */
	}
	parent_work(units);
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "fork_work: child %d failed (status %d)\n", (int)pid, status);
		return 1;
	}
	printf("%d\n", (int)pid);
	return 0;
}
