/*
 * setuid_linked - linked with -lcprof, so the runtime loads with it even
 * when the dynamic loader ignores LD_PRELOAD (it calls cprof_version(), so
 * the linker's --as-needed keeps the library). Prints one line saying it ran,
 * with its real and effective user ids and whether the kernel marked it
 * AT_SECURE, then does a little work.
 *
 * True answer, when made setuid to another user and run with
 * CPROF_CPUPROFILE set: AT_SECURE is 1, the runtime says once on stderr
 * that it does not profile privileged programs, and no profile is written.
 *
 * Usage: setuid_linked [units]   (default 200, about 0.1 s)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "cprof.h"

static volatile uint64_t sink;

#include "work_unit.h"

int main(int argc, char **argv)
{
	long units = argc > 1 ? atol(argv[1]) : 200;
	printf("ran ruid=%d euid=%d secure=%lu cprof=%s\n", (int)getuid(), (int)geteuid(), getauxval(AT_SECURE),
	       cprof_version());
	fflush(stdout);
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
	return 0;
}
