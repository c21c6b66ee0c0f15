/*
 * trace_waits_linked.c - known waits for the trace export tests. A thread
 * "holder" takes a mutex and tells the main thread so; once the main thread
 * is asleep waiting for the mutex (in lock_slowly, inside a region
 * "contend"), the holder holds it 100 ms more, inside a region "hold", and
 * lets it go: the main thread's wait lasts at least 100 ms and the holder
 * released it. A thread "writer" waits until the main thread sleeps in a
 * blocking read of a pipe (read_slowly: a syscall episode when blocking
 * system calls are traced), sleeps 50 ms and writes a byte. Then main joins
 * both.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static sem_t held;
static int pipefd[2];
static pid_t main_tid;
static atomic_int main_waiting; /* set just before the main thread's wait */

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Returns once the main thread has said it is about to wait and sleeps (state S). */
static void until_main_sleeps(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)main_tid);
	for (;;) {
		if (atomic_load(&main_waiting)) {
			FILE *f = fopen(path, "r");
			char buf[256];
			size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
			if (f)
				fclose(f);
			buf[n] = 0;
			char *rp = strrchr(buf, ')'); /* "pid (comm) S ..." */
			if (rp && rp[1] == ' ' && rp[2] == 'S')
				return;
		}
		sleep_ms(1);
	}
}

static void *holder(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "holder");
	pthread_mutex_lock(&mu);
	sem_post(&held);
	until_main_sleeps();
	cprof_region_begin(0, "hold");
	sleep_ms(100);
	cprof_region_end();
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "writer");
	until_main_sleeps();
	sleep_ms(50);
	if (write(pipefd[1], "x", 1) != 1)
		perror("write");
	return NULL;
}

__attribute__((noinline)) static void lock_slowly(void)
{
	pthread_mutex_lock(&mu);
	pthread_mutex_unlock(&mu);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static int read_slowly(void)
{
	char c;
	int n = (int)read(pipefd[0], &c, 1);
	__asm__ volatile("" ::: "memory");
	return n;
}

int main(void)
{
	pthread_setname_np(pthread_self(), "waiter");
	main_tid = (pid_t)syscall(SYS_gettid);
	if (sem_init(&held, 0, 0) != 0 || pipe(pipefd) != 0) {
		perror("setup");
		return 1;
	}
	pthread_t h, w;
	pthread_create(&h, NULL, holder, NULL);
	while (sem_wait(&held) != 0)
		;
	cprof_region_begin(0, "contend");
	atomic_store(&main_waiting, 1);
	lock_slowly();
	atomic_store(&main_waiting, 0);
	cprof_region_end();
	pthread_join(h, NULL);

	pthread_create(&w, NULL, writer, NULL);
	atomic_store(&main_waiting, 1);
	if (read_slowly() != 1) {
		fprintf(stderr, "read failed\n");
		return 1;
	}
	pthread_join(w, NULL);
	return 0;
}
