/*
 * wall_split - one thread that computes half the time and sleeps the other
 * half, in alternating slices of 20 ms, for a known wall-clock split:
 * wall_compute 50%, wall_sleep 50% (in nanosleep). The slices are timed
 * with CLOCK_MONOTONIC, so the split holds however fast the machine is.
 * On a loaded machine the split drifts (a wakeup waits for a CPU inside
 * wall_sleep), so the program also measures it: the wall time from entry
 * to return of each function, printed as compute_ns and sleep_ns. It also
 * counts nanosleep calls that returned EINTR (there must be none).
 *
 * Usage: wall_split [seconds]   (default 2)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile uint64_t sink;
static int eintr;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

__attribute__((noinline)) void wall_compute(int64_t until)
{
	uint64_t x = 88172645463325252ull;
	while (now_ns() < until)
		for (int i = 0; i < 1000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
	sink += x;
}

__attribute__((noinline)) void wall_sleep(int64_t until)
{
	for (int64_t t; (t = now_ns()) < until;) {
		struct timespec ts = {(until - t) / 1000000000, (until - t) % 1000000000};
		if (nanosleep(&ts, NULL) != 0 && errno == EINTR)
			eintr++;
	}
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	int64_t slice = 20000000, t = now_ns(), end = t + (int64_t)(secs * 1e9);
	int64_t in_compute = 0, in_sleep = 0;
	while (t < end) {
		int64_t a = now_ns();
		wall_compute(t + slice);
		int64_t b = now_ns();
		wall_sleep(t + 2 * slice);
		int64_t c = now_ns();
		in_compute += b - a;
		in_sleep += c - b;
		t += 2 * slice;
	}
	printf("eintr=%d compute_ns=%lld sleep_ns=%lld\n", eintr, (long long)in_compute, (long long)in_sleep);
	return 0;
}
