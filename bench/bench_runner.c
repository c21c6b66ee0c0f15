/*
 * bench_runner.c - run one command once and print what it cost.
 *
 * bench/run.sh calls it for every run of every configuration. It forks,
 * sets the given environment variables in the child only (so LD_PRELOAD
 * and the profilers' variables never touch the runner), execs the command
 * with stdin and stdout on /dev/null, and waits with wait4(2), which gives
 * the child's own user and system CPU time. Wall time is CLOCK_MONOTONIC
 * from just before fork to just after wait4 returns.
 *
 * It prints one line: "wall_ns user_ns sys_ns", and with -r a fourth
 * number, the largest resident set of the child or of any descendant it
 * waited for (wait4's ru_maxrss, KiB). -o keeps the child's stdout in a
 * file instead of /dev/null (for workloads that print their own figures).
 * Exit status 0 when the command exited 0, else 1 (the line is printed
 * either way). The scheduling of runs (interleaving, repetitions, medians)
 * is run.sh's job.
 *
 * Usage: bench_runner [-e stderr-file] [-o stdout-file] [-r] [VAR=VALUE ...] -- command [args...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t tv_ns(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_runner [-e stderr-file] [-o stdout-file] [-r] [VAR=VALUE ...] -- command [args...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *errfile = NULL, *outfile = NULL;
	int i = 1, maxrss = 0;
	for (;;) {
		if (i + 1 < argc && strcmp(argv[i], "-e") == 0)
			errfile = argv[i + 1];
		else if (i + 1 < argc && strcmp(argv[i], "-o") == 0)
			outfile = argv[i + 1];
		else if (i < argc && strcmp(argv[i], "-r") == 0) {
			maxrss = 1;
			i++;
			continue;
		} else
			break;
		i += 2;
	}
	int env_first = i;
	while (i < argc && strcmp(argv[i], "--") != 0) {
		if (!strchr(argv[i], '='))
			usage();
		i++;
	}
	if (i >= argc - 1)
		usage();
	int env_end = i;
	char **cmd = argv + i + 1;

	int64_t t0 = mono_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench_runner: fork");
		return 1;
	}
	if (pid == 0) {
		for (int k = env_first; k < env_end; k++)
			if (putenv(argv[k]) != 0)
				_exit(127);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		if (outfile) {
			int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0)
				dup2(fd, 1);
		}
		if (errfile) {
			int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0)
				dup2(fd, 2);
		}
		execvp(cmd[0], cmd);
		fprintf(stderr, "bench_runner: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	pid_t w;
	while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
		;
	int64_t t1 = mono_ns();
	if (w < 0) {
		perror("bench_runner: wait4");
		return 1;
	}
	printf("%lld %lld %lld", (long long)(t1 - t0), (long long)tv_ns(ru.ru_utime),
	       (long long)tv_ns(ru.ru_stime));
	if (maxrss)
		printf(" %ld", ru.ru_maxrss);
	printf("\n");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		fprintf(stderr, "bench_runner: %s: killed by signal %d\n", cmd[0], WTERMSIG(status));
	else
		fprintf(stderr, "bench_runner: %s: exit status %d\n", cmd[0], WEXITSTATUS(status));
	return 1;
}
