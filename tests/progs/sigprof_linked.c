/*
 * sigprof_linked - a program that uses SIGPROF and SIGALRM itself: it
 * installs a SIGPROF handler that counts, arms setitimer(ITIMER_PROF) every
 * 10 ms of process CPU time and alarm(1), then runs work_a and work_b (the
 * same work, 50% each), waits for the alarm if it has not fired yet, and
 * reports on stdout:
 *
 *   handler_calls=N expected=M alarm=K query_ok=Q start_rc=R stop_rc=S
 *
 * expected is the process's user+system time at the end divided by 10 ms:
 * the program's handler must receive about that many signals while a
 * profiler samples the same process with SIGPROF. query_ok says that
 * sigaction(SIGPROF, NULL, &old) returns the handler the program set.
 *
 * Modes (argv[1]):
 *   sigaction  handler set with sigaction(); profiling started by the
 *              environment before main (cprof run), so after it
 *   signal     the same with signal()
 *   before     handler and timer set first, then profiling started with
 *              cprof_cpu_profile_start_path(argv[2]) and stopped at the end
 *
 * True answer: handler_calls close to expected, alarm=1, and the profile
 * splits about 50/50 between work_a and work_b.
 *
 * Usage: sigprof_linked sigaction|signal|before [profile] [units]
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "cprof.h"

static volatile uint64_t sink;
static volatile sig_atomic_t prof_calls, alarm_calls;

#include "work_unit.h"

__attribute__((noinline)) void work_a(long units)
{
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

__attribute__((noinline)) void work_b(long units)
{
	uint64_t x = 2463534242ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

static void on_prof(int sig)
{
	(void)sig;
	prof_calls++;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarm_calls++;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "sigaction";
	const char *path = argc > 2 ? argv[2] : "";
	long units = argc > 3 ? atol(argv[3]) : 6000;
	int start_rc = 0, stop_rc = 0, query_ok = 0;

	if (strcmp(mode, "signal") == 0) {
		if (signal(SIGPROF, on_prof) == SIG_ERR)
			perror("signal");
	} else {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_prof;
		sa.sa_flags = SA_RESTART;
		if (sigaction(SIGPROF, &sa, NULL) != 0)
			perror("sigaction");
	}
	struct sigaction q;
	if (sigaction(SIGPROF, NULL, &q) == 0 && !(q.sa_flags & SA_SIGINFO) && q.sa_handler == on_prof)
		query_ok = 1;
	signal(SIGALRM, on_alarm);

	struct itimerval it = {{0, 10000}, {0, 10000}};
	if (setitimer(ITIMER_PROF, &it, NULL) != 0)
		perror("setitimer");
	alarm(1);
	if (strcmp(mode, "before") == 0)
		start_rc = cprof_cpu_profile_start_path(path);

	/* Interleaved, so drift in CPU speed affects both alike. */
	for (int round = 0; round < 10; round++) {
		work_a(units / 20);
		work_b(units / 20);
	}
	/* The timer goes off before the CPU time is read, and before the
	 * profile is written, so the count and the time cover the same span. */
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_PROF, &off, NULL);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (strcmp(mode, "before") == 0)
		stop_rc = cprof_cpu_profile_stop();
	for (int i = 0; i < 300 && !alarm_calls; i++)
		usleep(100000);
	printf("handler_calls=%d expected=%.0f alarm=%d query_ok=%d start_rc=%d stop_rc=%d\n", (int)prof_calls,
	       cpu / 0.010, (int)alarm_calls, query_ok, start_rc, stop_rc);
	return 0;
}
