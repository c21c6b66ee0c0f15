/*
 * trace_blocking_linked.c - a program whose blocking episodes are known
 * exactly, for the execution trace's blocking and CPU sample events
 * (tests/e2e/trace_blocking.sh). Run under cprof run -trace -blocksyscalls
 * -cpuprofile.
 *
 *   - consumer waits on a condition variable N times, each time woken by
 *     producer's signal (producer signals only once consumer is waiting);
 *     a task "transfer" begins on main and ends on consumer; producer opens
 *     a region "produce" per item;
 *   - main opens regions outer > inner;
 *   - main waits in sem_wait until holder posts (holder posts only once main
 *     is asleep in it), then blocks in lock_contended() on a mutex holder
 *     holds (holder unlocks only once main is asleep in it);
 *   - main sleeps 100 ms in sleep_100ms() (a nanosleep);
 *   - main joins holder, then spinner; each ends only once main is asleep
 *     in the join; spinner burns SPIN_MS of CPU in spin_work() first.
 *
 * "Once main is asleep" is read from /proc (its state S) after main has
 * said which wait it is about to enter, so each wait does block. Prints the
 * threads' ids and main's own timing of the sleep and the mutex wait.
 */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"

#define N 5
#define SPIN_MS 200

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int queue[N], head, tail, waiting;
static uint64_t task;

static pthread_mutex_t contended = PTHREAD_MUTEX_INITIALIZER;
static sem_t sem;
static volatile int phase;
static pid_t main_tid, producer_tid, consumer_tid, holder_tid, spinner_tid;
static volatile long sink;

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait until main has announced wait p and is asleep in it. */
static void wait_main_asleep(int p)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)main_tid);
	for (;;) {
		if (phase == p) {
			FILE *f = fopen(path, "r");
			char st = 0;
			if (f) {
				/* pid (comm) state: comm has no ')' here */
				if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
					st = 0;
				fclose(f);
			}
			if (st == 'S')
				return;
		}
		sched_yield();
	}
}

static void *producer(void *arg)
{
	(void)arg;
	producer_tid = tid();
	pthread_setname_np(pthread_self(), "producer");
	for (int i = 0; i < N; i++) {
		cprof_region_begin(task, "produce");
		pthread_mutex_lock(&mu);
		while (!waiting) {
			pthread_mutex_unlock(&mu);
			sched_yield();
			pthread_mutex_lock(&mu);
		}
		queue[tail++] = i;
		waiting = 0;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
		cprof_region_end();
	}
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	consumer_tid = tid();
	pthread_setname_np(pthread_self(), "consumer");
	pthread_mutex_lock(&mu);
	for (int i = 0; i < N; i++) {
		waiting = 1;
		while (head == tail)
			pthread_cond_wait(&cv, &mu);
		head++;
	}
	pthread_mutex_unlock(&mu);
	cprof_task_end(task);
	return NULL;
}

static void *holder(void *arg)
{
	(void)arg;
	holder_tid = tid();
	pthread_setname_np(pthread_self(), "holder");
	pthread_mutex_lock(&contended);
	wait_main_asleep(1); /* in sem_wait */
	sem_post(&sem);
	wait_main_asleep(2); /* in lock_contended */
	pthread_mutex_unlock(&contended);
	wait_main_asleep(3); /* in the join of this thread */
	return NULL;
}

__attribute__((noinline)) static void spin_work(void)
{
	struct timespec ts;
	do {
		for (int i = 0; i < 100000; i++)
			sink += i;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	} while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < SPIN_MS);
}

static void *spinner(void *arg)
{
	(void)arg;
	spinner_tid = tid();
	pthread_setname_np(pthread_self(), "spinner");
	spin_work();
	wait_main_asleep(4); /* in the join of this thread */
	return NULL;
}

__attribute__((noinline)) static int64_t lock_contended(void)
{
	phase = 2;
	int64_t t0 = now_ns();
	pthread_mutex_lock(&contended);
	int64_t d = now_ns() - t0;
	pthread_mutex_unlock(&contended);
	return d;
}

__attribute__((noinline)) static int64_t sleep_100ms(void)
{
	struct timespec ts = {0, 100000000};
	int64_t t0 = now_ns();
	nanosleep(&ts, NULL);
	return now_ns() - t0;
}

int main(void)
{
	main_tid = tid();
	sem_init(&sem, 0, 0);
	task = cprof_task_begin(0, "transfer");
	pthread_t pc[2], h, s;
	pthread_create(&pc[0], NULL, consumer, NULL);
	pthread_create(&pc[1], NULL, producer, NULL);
	pthread_create(&s, NULL, spinner, NULL);

	cprof_region_begin(task, "outer");
	cprof_region_begin(task, "inner");
	cprof_region_end();
	cprof_region_end();

	pthread_create(&h, NULL, holder, NULL);
	phase = 1;
	sem_wait(&sem);
	int64_t lock_ns = lock_contended();

	cprof_region_begin(0, "sleep");
	int64_t sleep_ns = sleep_100ms();
	cprof_region_end();

	phase = 3;
	pthread_join(h, NULL);
	phase = 4;
	pthread_join(s, NULL);
	pthread_join(pc[0], NULL);
	pthread_join(pc[1], NULL);
	printf("main=%d producer=%d consumer=%d holder=%d spinner=%d sleep_ns=%lld lock_ns=%lld\n", (int)main_tid,
	       (int)producer_tid, (int)consumer_tid, (int)holder_tid, (int)spinner_tid, (long long)sleep_ns,
	       (long long)lock_ns);
	return 0;
}
