/*
 * wall_idle - 32 mostly idle threads, each waking every millisecond for a
 * few microseconds of work, in nanosleep, poll, sem_timedwait, select and
 * epoll_wait (calls that return EINTR when a signal handler runs, whatever
 * SA_RESTART says), plus a main thread that computes. Every EINTR is
 * counted and printed: a wall-clock profiler must cause none.
 *
 * Usage: wall_idle [seconds] [millions]   (default 2 s; with millions, the
 * main thread does that many million iterations of fixed work instead, so
 * a benchmark can time it)
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 32

static atomic_int stop;
static atomic_long eintr, wakeups;
static volatile uint64_t sink;

__attribute__((noinline)) static void little_work(void)
{
	uint64_t x = 1;
	for (int i = 0; i < 2000; i++)
		x = x * 6364136223846793005ull + 1;
	sink += x;
}

static void *idler(void *arg)
{
	long kind = (long)arg % 5;
	sem_t sem;
	sem_init(&sem, 0, 0);
	int ep = epoll_create1(0);
	while (!atomic_load(&stop)) {
		int rc = 0;
		switch (kind) {
		case 0: {
			struct timespec ts = {0, 1000000};
			rc = nanosleep(&ts, NULL);
			break;
		}
		case 1:
			rc = poll(NULL, 0, 1);
			break;
		case 2: {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			rc = sem_timedwait(&sem, &ts);
			if (rc != 0 && errno == ETIMEDOUT)
				rc = 0;
			break;
		}
		case 3: {
			struct timeval tv = {0, 1000};
			rc = select(0, NULL, NULL, NULL, &tv);
			break;
		}
		case 4: {
			struct epoll_event ev;
			rc = epoll_wait(ep, &ev, 1, 1);
			break;
		}
		}
		if (rc < 0 && errno == EINTR)
			atomic_fetch_add(&eintr, 1);
		atomic_fetch_add(&wakeups, 1);
		little_work();
	}
	close(ep);
	sem_destroy(&sem);
	return NULL;
}

__attribute__((noinline)) static void fixed_work(long millions)
{
	uint64_t x = 1;
	for (long m = 0; m < millions; m++)
		for (int i = 0; i < 1000000; i++)
			x = x * 6364136223846793005ull + 1;
	sink += x;
}

__attribute__((noinline)) static void main_work(double secs)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t x = 1;
	do {
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005ull + 1;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	sink += x;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	pthread_t th[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, idler, (void *)i);
	if (argc > 2)
		fixed_work(atol(argv[2]));
	else
		main_work(secs);
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	printf("eintr=%ld wakeups=%ld\n", atomic_load(&eintr), atomic_load(&wakeups));
	return 0;
}
