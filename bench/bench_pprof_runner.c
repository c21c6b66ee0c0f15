/*
 * bench_pprof_runner.c - run one command once and print its wall time, CPU
 * time and peak memory, for bench/pprof_bench.sh (cprof pprof against go
 * tool pprof on the same profile).
 *
 * It forks, execs the command with stdin and stdout on /dev/null (stderr
 * to the given file, or kept), and waits with wait4(2): user and system
 * time and ru_maxrss come from the child's rusage, which on Linux covers
 * the child and every descendant it waited for (go tool pprof's pprof
 * binary, dot started by -svg). Wall time is CLOCK_MONOTONIC from just
 * before fork to just after wait4.
 *
 * It prints one line: "wall_ns user_ns sys_ns maxrss_kb". Exit status 0
 * when the command exited 0, else 1 (the line is printed either way).
 * bench/bench_runner.c is the same without the memory column; this one
 * exists so that file and its users stay unchanged.
 *
 * Usage: bench_pprof_runner [-e stderr-file] -- command [args...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
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

int main(int argc, char **argv)
{
	const char *errfile = NULL;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "-e") == 0) {
		errfile = argv[i + 1];
		i += 2;
	}
	if (i >= argc - 1 || strcmp(argv[i], "--") != 0) {
		fprintf(stderr, "usage: bench_pprof_runner [-e stderr-file] -- command [args...]\n");
		return 2;
	}
	char **cmd = &argv[i + 1];
	int64_t t0 = mono_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("bench_pprof_runner: fork");
		return 1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		if (errfile) {
			int e = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (e >= 0)
				dup2(e, 2);
		}
		execvp(cmd[0], cmd);
		fprintf(stderr, "bench_pprof_runner: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("bench_pprof_runner: wait4");
			return 1;
		}
	}
	int64_t wall = mono_ns() - t0;
	printf("%lld %lld %lld %ld\n", (long long)wall, (long long)tv_ns(ru.ru_utime),
	       (long long)tv_ns(ru.ru_stime), ru.ru_maxrss);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
