/*
 * exec_work - does pre_exec_work, then replaces itself with another
 * program (execv, same pid).
 *
 * True answer: under "cprof run -cpuprofile=FILE", FILE holds the exec'd
 * program's samples and none of pre_exec_work; FILE.preexec.<pid> holds
 * pre_exec_work.
 *
 * Usage: exec_work units program [args...]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile uint64_t sink;

#include "work_unit.h"

__attribute__((noinline)) void pre_exec_work(long units)
{
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: exec_work units program [args...]\n");
		return 2;
	}
	pre_exec_work(atol(argv[1]));
	printf("pid %d\n", (int)getpid());
	fflush(stdout);
	execv(argv[2], &argv[2]);
	fprintf(stderr, "exec_work: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
