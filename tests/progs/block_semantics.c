/*
 * block_semantics - what the wait wrappers must leave exactly as the C
 * library does, checked by the program itself under the block and mutex
 * profilers: error codes (EBUSY, ETIMEDOUT, EDEADLK, EOWNERDEAD, EBADF),
 * errno, recursive and robust mutexes, and cancellation of threads blocked
 * in pthread_cond_wait, sem_wait and read (the cleanup handlers run and the
 * join reports PTHREAD_CANCELED). Prints "ok <what>" or "BAD <what>" per
 * check and exits 1 when any is bad.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int bad;

static void check(int ok, const char *what)
{
	printf("%s %s\n", ok ? "ok" : "BAD", what);
	if (!ok)
		bad = 1;
}

static struct timespec in_ms(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static sem_t go, done;

static void *holder(void *arg)
{
	pthread_mutex_lock(&held);
	sem_post(&go);
	sem_wait(&done);
	pthread_mutex_unlock(&held);
	return arg;
}

static pthread_mutex_t robust;

static void *die_holding(void *arg)
{
	pthread_mutex_lock(&robust);
	return arg; /* ends without unlocking */
}

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t never;
static int pfd[2];
static volatile int cleaned[3];

static void cleanup(void *arg)
{
	cleaned[*(int *)arg] = 1;
}

static void unlock_cm(void *arg)
{
	(void)arg;
	pthread_mutex_unlock(&cm);
}

static int ids[3] = {0, 1, 2};

static void *cond_forever(void *arg)
{
	pthread_cleanup_push(cleanup, &ids[0]);
	pthread_mutex_lock(&cm);
	pthread_cleanup_push(unlock_cm, NULL);
	for (;;)
		pthread_cond_wait(&cv, &cm);
	pthread_cleanup_pop(1);
	pthread_cleanup_pop(1);
	return arg;
}

static void *sem_forever(void *arg)
{
	pthread_cleanup_push(cleanup, &ids[1]);
	for (;;)
		sem_wait(&never);
	pthread_cleanup_pop(1);
	return arg;
}

static void *read_forever(void *arg)
{
	pthread_cleanup_push(cleanup, &ids[2]);
	char c;
	for (;;)
		if (read(pfd[0], &c, 1) <= 0)
			break;
	pthread_cleanup_pop(1);
	return arg;
}

int main(void)
{
	sem_init(&go, 0, 0);
	sem_init(&done, 0, 0);
	sem_init(&never, 0, 0);
	pthread_t t;

	/* A mutex another thread holds. */
	pthread_create(&t, NULL, holder, NULL);
	sem_wait(&go);
	check(pthread_mutex_trylock(&held) == EBUSY, "trylock on a held mutex is EBUSY");
	struct timespec ts = in_ms(50);
	errno = 4321;
	check(pthread_mutex_timedlock(&held, &ts) == ETIMEDOUT, "timedlock on a held mutex is ETIMEDOUT");
	check(errno == 4321, "errno untouched by a timed-out timedlock");
	sem_post(&done);
	errno = 1234;
	check(pthread_mutex_lock(&held) == 0, "lock after the holder lets go");
	check(errno == 1234, "errno untouched by a contended lock");
	pthread_mutex_unlock(&held);
	pthread_join(t, NULL);

	/* Error-checking and recursive mutexes. */
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_t ec;
	pthread_mutex_init(&ec, &a);
	pthread_mutex_lock(&ec);
	check(pthread_mutex_lock(&ec) == EDEADLK, "relocking an error-checking mutex is EDEADLK");
	pthread_mutex_unlock(&ec);
	check(pthread_mutex_unlock(&ec) == EPERM, "unlocking an unowned error-checking mutex is EPERM");
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_t rec;
	pthread_mutex_init(&rec, &a);
	check(pthread_mutex_lock(&rec) == 0 && pthread_mutex_lock(&rec) == 0 && pthread_mutex_unlock(&rec) == 0 &&
		      pthread_mutex_unlock(&rec) == 0,
	      "a recursive mutex locks twice and unlocks twice");

	/* A robust mutex whose owner died. */
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &a);
	pthread_create(&t, NULL, die_holding, NULL);
	pthread_join(t, NULL);
	int rc = pthread_mutex_lock(&robust);
	check(rc == EOWNERDEAD, "locking a robust mutex whose owner died is EOWNERDEAD");
	if (rc == EOWNERDEAD) {
		pthread_mutex_consistent(&robust);
		pthread_mutex_unlock(&robust);
	}

	/* Semaphores and condition variables that time out. */
	ts = in_ms(30);
	errno = 0;
	check(sem_timedwait(&never, &ts) == -1 && errno == ETIMEDOUT, "sem_timedwait times out with ETIMEDOUT");
	pthread_mutex_lock(&cm);
	ts = in_ms(30);
	check(pthread_cond_timedwait(&cv, &cm, &ts) == ETIMEDOUT, "cond_timedwait times out with ETIMEDOUT");
	pthread_mutex_unlock(&cm);
	errno = 0;
	char c;
	check(read(-1, &c, 1) == -1 && errno == EBADF, "read(-1) fails with EBADF");

	/* Cancellation points stay cancellation points. */
	if (pipe(pfd) != 0)
		return 1;
	void *(*fns[3])(void *) = {cond_forever, sem_forever, read_forever};
	const char *names[3] = {"pthread_cond_wait", "sem_wait", "read"};
	for (int i = 0; i < 3; i++) {
		pthread_create(&t, NULL, fns[i], NULL);
		usleep(50000);
		pthread_cancel(t);
		void *ret = NULL;
		pthread_join(t, &ret);
		char what[96];
		snprintf(what, sizeof what, "a thread blocked in %s is cancelled and its cleanup runs", names[i]);
		check(ret == PTHREAD_CANCELED && cleaned[i], what);
	}
	check(pthread_mutex_trylock(&cm) == 0, "the cancelled condition wait's mutex was released");
	pthread_mutex_unlock(&cm);
	return bad;
}
