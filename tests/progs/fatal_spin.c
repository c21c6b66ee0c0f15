/*
 * fatal_spin - spins in spin_forever until a signal ends it. Writes its
 * pid to the file argv[1] once it has done argv[2] units of work (so there
 * are samples to write), then keeps spinning. Leaves SIGINT, SIGTERM and
 * SIGHUP at their default action. Gives up after 120 s of wall time (exit 3)
 * so a broken test never hangs.
 *
 * True answer: killed by SIGTERM or SIGINT under a CPU profile, the profile
 * is still written, holds spin_forever, and the exit status is 128+signal.
 * Killed by SIGKILL, nothing is written.
 *
 * Usage: fatal_spin PIDFILE [units before ready]   (default 300, about 0.15 s)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;

#include "work_unit.h"

__attribute__((noinline)) void spin_forever(const char *pidfile, long ready_units)
{
	uint64_t x = 88172645463325252ull;
	time_t t0 = time(NULL);
	for (long i = 0;; i++) {
		x = work_unit(x);
		sink += x;
		if (i + 1 == ready_units) {
			char tmp[4096];
			snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
			FILE *f = fopen(tmp, "w");
			if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, pidfile) != 0) {
				perror(pidfile);
				exit(2);
			}
		}
		if ((i & 63) == 0 && time(NULL) - t0 > 120)
			exit(3);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: fatal_spin PIDFILE [units]\n");
		return 2;
	}
	spin_forever(argv[1], argc > 2 ? atol(argv[2]) : 300);
	return 0;
}
