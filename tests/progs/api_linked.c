/*
 * api_linked - drives the CPU profiler through the C API of cprof.h and
 * checks every return code. Prints one line per check:
 *
 *   ok|bad <check> got=<rc> want=<rc>
 *
 * then writes two profiles: argv[1] by cprof_cpu_profile_start_path (500 Hz,
 * api_work_a only) and argv[2] through a file descriptor given to
 * cprof_cpu_profile_start (api_work_b only; the rate set earlier still
 * holds).
 *
 * True answer: every line says ok; profile 1 holds api_work_a and not
 * api_work_b, profile 2 the reverse, both with a 2 ms sampling period.
 *
 * Usage: api_linked path1 path2 [units]   (default 1000 each, about 0.5 s)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cprof.h"

static volatile uint64_t sink;
static int bad;

#include "work_unit.h"

__attribute__((noinline)) void api_work_a(long units)
{
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

__attribute__((noinline)) void api_work_b(long units)
{
	uint64_t x = 2463534242ull;
	for (long i = 0; i < units; i++)
		x = work_unit(x);
	sink += x;
}

static void check(const char *what, long long got, long long want)
{
	printf("%s %s got=%lld want=%lld\n", got == want ? "ok" : "bad", what, got, want);
	if (got != want)
		bad = 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: api_linked path1 path2 [units]\n");
		return 2;
	}
	long units = argc > 3 ? atol(argv[3]) : 1000;

	check("version", cprof_version()[0] != 0, 1);
	check("stop_without_start", cprof_cpu_profile_stop(), -ESRCH);
	check("set_rate_0", cprof_cpu_profile_set_rate(0), -EINVAL);
	check("set_rate_negative", cprof_cpu_profile_set_rate(-5), -EINVAL);
	check("set_rate_10001", cprof_cpu_profile_set_rate(10001), -EINVAL);
	check("set_rate_500", cprof_cpu_profile_set_rate(500), 0);
	check("start_bad_fd", cprof_cpu_profile_start(-1), -EBADF);
	check("start_path_null", cprof_cpu_profile_start_path(NULL), -EINVAL);
	check("start_path_empty", cprof_cpu_profile_start_path(""), -EINVAL);

	check("start_path", cprof_cpu_profile_start_path(argv[1]), 0);
	check("start_path_twice", cprof_cpu_profile_start_path(argv[2]), -EBUSY);
	check("start_fd_while_running", cprof_cpu_profile_start(1), -EBUSY);
	check("set_rate_while_running", cprof_cpu_profile_set_rate(100), -EBUSY);
	api_work_a(units);
	struct cprof_cpu_stats st;
	check("stats", cprof_cpu_profile_stats(&st), 0);
	check("stats_hz", st.hz, 500);
	check("stats_samples_nonzero", st.samples > 0, 1);
	check("stop", cprof_cpu_profile_stop(), 0);
	check("stop_twice", cprof_cpu_profile_stop(), -ESRCH);
	check("file1_exists", access(argv[1], F_OK), 0);

	int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	check("open_path2", fd >= 0, 1);
	check("start_fd", cprof_cpu_profile_start(fd), 0);
	check("start_fd_twice", cprof_cpu_profile_start(fd), -EBUSY);
	api_work_b(units);
	check("stop_fd", cprof_cpu_profile_stop(), 0);
	/* The runtime does not close the descriptor it was given. */
	check("fd_still_open", fcntl(fd, F_GETFD) >= 0, 1);
	check("close_fd", close(fd), 0);
	check("stop_after_fd", cprof_cpu_profile_stop(), -ESRCH);
	check("stats_after_stop", cprof_cpu_profile_stats(&st), 0);
	check("stats_after_stop_hz", st.hz, 500);
	return bad;
}
