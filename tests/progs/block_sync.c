/*
 * block_sync - waits of known length on every kind of pthread
 * synchronisation, each in a function of its own (kept out of line), run one
 * after the other in one process. Built -O2 without frame pointers.
 *
 * True answers (block profile: the waiting function; mutex profile: the
 * function whose unlock ended the wait):
 *   cond_waiter         waits ~300 ms in pthread_cond_wait
 *   fight_critical      4 threads fight over one mutex; the program measures
 *                       the time spent in its own lock calls and prints it
 *                       (fight_measured_ns=): block delay under
 *                       fight_critical ~ that, mutex delay under
 *                       fight_critical ~ that too (it is the only holder)
 *   uncontended_loop    100,000 lock/unlock pairs nobody else wants: nowhere
 *   hold_long/wait_short hold_long holds a mutex 200 ms while wait_short
 *                       waits for it: block 200 ms under wait_short, mutex
 *                       200 ms under hold_long, ~nothing under wait_short
 *   rw_reader/rw_writer rw_writer holds the write lock 150 ms; rw_reader
 *                       waits in pthread_rwlock_rdlock
 *   sem_waiter          waits ~150 ms in sem_wait
 *   join_waiter         waits ~150 ms in pthread_join
 *   barrier_early       waits ~150 ms in pthread_barrier_wait
 *
 * Labels: when the cprof runtime is loaded, cond_waiter runs with the label
 * phase=cond and the fight threads with phase=fight (cprof_labels_push,
 * found with dlsym so the program runs without the runtime too).
 *
 * Usage: block_sync [fight iterations per thread]   (default 3000)
 */
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static volatile uint64_t sink;

static void label(const char *key, const char *value)
{
	int (*push)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_DEFAULT,
											    "cprof_labels_push");
	if (push)
		push(key, value);
}

__attribute__((noinline)) static void spin_ns(int64_t ns)
{
	int64_t end = now_ns() + ns;
	uint64_t x = 88172645463325252ull;
	while (now_ns() < end) {
		for (int i = 0; i < 100; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
	}
	sink += x;
}

/* ---- condition variable ---- */

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cond_flag;

__attribute__((noinline)) void *cond_waiter(void *arg)
{
	label("phase", "cond");
	pthread_mutex_lock(&cond_lock);
	while (!cond_flag)
		pthread_cond_wait(&cond, &cond_lock);
	pthread_mutex_unlock(&cond_lock);
	return arg;
}

/* ---- a lock four threads fight over ---- */

static pthread_mutex_t fight_lock = PTHREAD_MUTEX_INITIALIZER;
static long fight_iters;
static int64_t fight_measured[4];

__attribute__((noinline)) int64_t fight_critical(void)
{
	int64_t t0 = now_ns();
	pthread_mutex_lock(&fight_lock);
	int64_t d = now_ns() - t0;
	spin_ns(20000);
	pthread_mutex_unlock(&fight_lock);
	return d;
}

static void *fight_thread(void *arg)
{
	int64_t *m = arg;
	label("phase", "fight");
	for (long i = 0; i < fight_iters; i++) {
		*m += fight_critical();
		spin_ns(5000);
	}
	return NULL;
}

/* ---- nobody else wants this one ---- */

__attribute__((noinline)) void uncontended_loop(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	for (int i = 0; i < 100000; i++) {
		pthread_mutex_lock(&m);
		sink++;
		pthread_mutex_unlock(&m);
	}
}

/* ---- who made whom wait ---- */

static pthread_mutex_t attr_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t attr_held;

__attribute__((noinline)) void *hold_long(void *arg)
{
	pthread_mutex_lock(&attr_lock);
	sem_post(&attr_held);
	sleep_ms(200);
	pthread_mutex_unlock(&attr_lock);
	return arg;
}

__attribute__((noinline)) void *wait_short(void *arg)
{
	pthread_mutex_lock(&attr_lock);
	sink++;
	pthread_mutex_unlock(&attr_lock);
	return arg;
}

/* ---- read-write lock ---- */

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t rw_held;

__attribute__((noinline)) void *rw_writer(void *arg)
{
	pthread_rwlock_wrlock(&rw);
	sem_post(&rw_held);
	sleep_ms(150);
	pthread_rwlock_unlock(&rw);
	return arg;
}

__attribute__((noinline)) void *rw_reader(void *arg)
{
	pthread_rwlock_rdlock(&rw);
	sink++;
	pthread_rwlock_unlock(&rw);
	return arg;
}

/* ---- semaphore, join, barrier ---- */

static sem_t sem;

__attribute__((noinline)) void *sem_waiter(void *arg)
{
	sem_wait(&sem);
	return arg;
}

static void *sleeper(void *arg)
{
	sleep_ms(150);
	return arg;
}

__attribute__((noinline)) void join_waiter(void)
{
	pthread_t t;
	pthread_create(&t, NULL, sleeper, NULL);
	pthread_join(t, NULL);
}

static pthread_barrier_t barrier;

__attribute__((noinline)) void *barrier_early(void *arg)
{
	pthread_barrier_wait(&barrier);
	return arg;
}

static void barrier_late(void)
{
	sleep_ms(150);
	pthread_barrier_wait(&barrier);
}

int main(int argc, char **argv)
{
	fight_iters = argc > 1 ? atol(argv[1]) : 3000;
	pthread_t t[4];

	pthread_create(&t[0], NULL, cond_waiter, NULL);
	sleep_ms(300);
	pthread_mutex_lock(&cond_lock);
	cond_flag = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&cond_lock);
	pthread_join(t[0], NULL);

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, fight_thread, &fight_measured[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	int64_t fight_ns = 0;
	for (int i = 0; i < 4; i++)
		fight_ns += fight_measured[i];

	uncontended_loop();

	sem_init(&attr_held, 0, 0);
	sem_init(&rw_held, 0, 0);
	pthread_t th;
	/* hold_long takes the lock first; then wait_short starts waiting. */
	pthread_create(&th, NULL, hold_long, NULL);
	sem_wait(&attr_held);
	pthread_t tw;
	pthread_create(&tw, NULL, wait_short, NULL);
	pthread_join(th, NULL);
	pthread_join(tw, NULL);

	pthread_create(&th, NULL, rw_writer, NULL);
	sem_wait(&rw_held);
	pthread_create(&tw, NULL, rw_reader, NULL);
	pthread_join(th, NULL);
	pthread_join(tw, NULL);

	sem_init(&sem, 0, 0);
	pthread_create(&th, NULL, sem_waiter, NULL);
	sleep_ms(150);
	sem_post(&sem);
	pthread_join(th, NULL);

	join_waiter();

	pthread_barrier_init(&barrier, NULL, 2);
	pthread_create(&th, NULL, barrier_early, NULL);
	barrier_late();
	pthread_join(th, NULL);

	printf("fight_measured_ns=%lld\n", (long long)fight_ns);
	return 0;
}
