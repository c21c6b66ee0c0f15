/*
 * http_busy - a program that keeps busy while the /debug/pprof endpoint is
 * used against it: its main thread runs http_hot (work units in a chain)
 * (work_unit.h's loop) until a stop file appears or a time limit passes, then checks that it
 * came through unharmed: the chain's result equals a second computation
 * of it, its own signal handlers and file descriptors are as it set them,
 * and none of its signals went astray. Built -O2 without frame pointers.
 *
 * With a third argument "alloc", it also allocates: 2000 blocks of 4 KiB in
 * http_alloc_before at the start (kept until the end) and a 1 KiB block,
 * freed at once, in http_alloc_during for every unit of work, so that a
 * delta of the allocs profile over a window holds the second and not the
 * first.
 *
 * With "spin2" instead, a second thread runs http_hot too, so the program
 * computes on two CPUs (the endpoint's answer time when every CPU is busy).
 *
 * Usage: http_busy SECONDS [STOPFILE [alloc|spin2]]
 * Prints "units=N check=ok cpu_ms=C" (or "check=FAIL <why>"; C is the work
 * loop's CPU time on its thread) and exits 0 when ok.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1_count;
static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

/* work_unit.h's loop, a frame of its own (not a tail call, not folded with a twin). */
__attribute__((noinline)) uint64_t http_hot(uint64_t x)
{
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

static void *volatile keep[2000];
static atomic_int spin_stop;

static void *spinner(void *arg)
{
	uint64_t x = 2463534242ull;
	while (!atomic_load(&spin_stop))
		x = http_hot(x);
	return (void *)(uintptr_t)(x & 1);
}

__attribute__((noinline)) void http_alloc_before(void)
{
	for (int i = 0; i < 2000; i++)
		keep[i] = malloc(4096);
}

__attribute__((noinline)) void http_alloc_during(void)
{
	void *volatile p = malloc(1024);
	free(p);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5;
	const char *stop = argc > 2 && *argv[2] ? argv[2] : NULL;
	int alloc = argc > 3 && strcmp(argv[3], "alloc") == 0;
	int spin2 = argc > 3 && strcmp(argv[3], "spin2") == 0;
	if (alloc)
		http_alloc_before();
	pthread_t spin_th;
	if (spin2 && pthread_create(&spin_th, NULL, spinner, NULL) != 0)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return 2;
	struct timespec c0, c1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	double end = now() + secs;
	uint64_t x = 88172645463325252ull;
	long units = 0;
	while (now() < end) {
		x = http_hot(x);
		if (alloc)
			http_alloc_during();
		units++;
		if (stop && units % 64 == 0 && access(stop, F_OK) == 0)
			break;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	if (spin2) {
		atomic_store(&spin_stop, 1);
		pthread_join(spin_th, NULL);
	}
	long cpu_ms = (long)((c1.tv_sec - c0.tv_sec) * 1000 + (c1.tv_nsec - c0.tv_nsec) / 1000000);
	/* Same chain again: memory the endpoint must not have touched. */
	uint64_t y = 88172645463325252ull;
	for (long i = 0; i < units; i++)
		y = http_hot(y);
	const char *why = NULL;
	struct sigaction cur;
	if (x != y)
		why = "work result differs";
	else if (sigaction(SIGUSR1, NULL, &cur) != 0 || cur.sa_handler != on_usr1)
		why = "SIGUSR1 handler changed";
	else if (sigaction(SIGPIPE, NULL, &cur) != 0 || cur.sa_handler != SIG_DFL)
		why = "SIGPIPE disposition changed";
	else if (fcntl(pipefd[0], F_GETFD) < 0 || fcntl(pipefd[1], F_GETFD) < 0)
		why = "own file descriptors closed";
	else if (usr1_count != 0)
		why = "unexpected SIGUSR1";
	for (int i = 0; i < 2000; i++)
		free(keep[i]);
	printf("units=%ld check=%s%s cpu_ms=%ld\n", units, why ? "FAIL " : "ok", why ? why : "", cpu_ms);
	return why ? 1 : 0;
}
