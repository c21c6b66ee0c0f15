/*
 * trace_flight_linked.c - activity in two phases for the flight recorder's
 * tests (tests/e2e/trace_flight.sh): OLD_MS of regions "old" on main while
 * a worker thread waits on a condition in wait_old(), then RECENT_MS of
 * regions "recent" while it waits in wait_recent(), each wait ended by
 * main's signal. Then the flight recorder's window (1 s, shorter than
 * RECENT_MS) is written:
 *
 *   trace_flight_linked api FILE   starts the flight recorder itself and
 *                                  writes FILE with cprof_trace_flight_write
 *   trace_flight_linked signal FILE  (under cprof run -trace-flight=FILE
 *                                  -trace-flight-window=1s) raises SIGUSR2
 *                                  and waits until FILE appears
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "cprof.h"

#define OLD_MS 1500
#define RECENT_MS 1300

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ticket, waiting, done;
static volatile int recent;
static volatile long old_waits, recent_waits; /* also keeps the two wait functions apart */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the next ticket. mu held. */
__attribute__((noinline)) static void wait_old(int t)
{
	old_waits++;
	while (ticket == t && !done)
		pthread_cond_wait(&cv, &mu);
}

__attribute__((noinline)) static void wait_recent(int t)
{
	recent_waits += 2;
	while (ticket == t && !done)
		pthread_cond_wait(&cv, &mu);
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "worker");
	pthread_mutex_lock(&mu);
	while (!done) {
		int t = ticket;
		waiting = 1;
		if (recent)
			wait_recent(t);
		else
			wait_old(t);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void phase(const char *name, int ms)
{
	int64_t end = now_ms() + ms;
	while (now_ms() < end) {
		cprof_region_begin(0, name);
		pthread_mutex_lock(&mu);
		if (waiting) {
			waiting = 0;
			ticket++;
			pthread_cond_signal(&cv);
		}
		pthread_mutex_unlock(&mu);
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
		cprof_region_end();
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "api") && strcmp(argv[1], "signal"))) {
		fprintf(stderr, "usage: trace_flight_linked api|signal FILE\n");
		return 2;
	}
	bool api = strcmp(argv[1], "api") == 0;
	if (api) {
		int rc = cprof_trace_flight_start(1000000000LL, 0);
		if (rc) {
			fprintf(stderr, "cprof_trace_flight_start: %s\n", strerror(-rc));
			return 1;
		}
	}
	pthread_t w;
	pthread_create(&w, NULL, worker, NULL);
	phase("old", OLD_MS);
	recent = 1;
	phase("recent", RECENT_MS);
	int rc = 0;
	if (api) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		rc = fd < 0 ? -1 : cprof_trace_flight_write(fd);
		if (fd >= 0)
			close(fd);
		if (rc)
			fprintf(stderr, "cprof_trace_flight_write: %s\n", strerror(rc < 0 ? -rc : 5));
	} else {
		raise(SIGUSR2);
		struct stat st;
		for (int i = 0; i < 1000 && stat(argv[2], &st) != 0; i++)
			usleep(10000);
	}
	pthread_mutex_lock(&mu);
	done = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(w, NULL);
	if (api && cprof_trace_flight_stop() != 0)
		rc = 1;
	printf("flight %s written\n", argv[1]);
	return rc ? 1 : 0;
}
