/*
 * labels_block_linked - labels on block samples, with known truth. Linked
 * with -lcprof; the block profile comes from CPROF_BLOCKPROFILE.
 *
 *   a thread created under tenant=acme (inherited) waits in
 *   pthread_cond_wait, in block_waiter, about 200 ms;
 *   main, under phase=join, waits for it in pthread_join, in block_join;
 *   then main, under phase=hold, holds a lock about 150 ms in mutex_holder
 *   while an unlabelled thread waits for it in mutex_waiter: the mutex
 *   profile (CPROF_MUTEXPROFILE) charges that wait to mutex_holder, whose
 *   unlock is labelled phase=hold.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "cprof.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;

__attribute__((noinline)) void block_waiter(void)
{
	pthread_mutex_lock(&mu);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void *child(void *arg)
{
	(void)arg;
	block_waiter();
	struct timespec ts = {0, 100000000};
	nanosleep(&ts, NULL);
	return NULL;
}

__attribute__((noinline)) void block_join(pthread_t th)
{
	CPROF_LABELS_SCOPE("phase", "join");
	pthread_join(th, NULL);
}

static pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;
static atomic_int holding;

__attribute__((noinline)) void mutex_waiter(void)
{
	pthread_mutex_lock(&m2);
	pthread_mutex_unlock(&m2);
}

static void *contender(void *arg)
{
	(void)arg;
	struct timespec ms = {0, 1000000};
	while (!atomic_load(&holding))
		nanosleep(&ms, NULL);
	mutex_waiter();
	return NULL;
}

__attribute__((noinline)) void mutex_holder(void)
{
	CPROF_LABELS_SCOPE("phase", "hold");
	pthread_mutex_lock(&m2);
	atomic_store(&holding, 1);
	struct timespec ts = {0, 150000000};
	nanosleep(&ts, NULL);
	pthread_mutex_unlock(&m2);
}

int main(void)
{
	pthread_t th;
	{
		CPROF_LABELS_SCOPE("tenant", "acme");
		pthread_create(&th, NULL, child, NULL);
	}
	struct timespec ts = {0, 200000000};
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	block_join(th);

	pthread_t ct;
	pthread_create(&ct, NULL, contender, NULL);
	mutex_holder();
	pthread_join(ct, NULL);
	return 0;
}
