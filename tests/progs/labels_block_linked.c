/*
 * labels_block_linked - labels on block samples, with known truth. Linked
 * with -lcprof; the block profile comes from CPROF_BLOCKPROFILE.
 *
 *   a thread created under tenant=acme (inherited) waits in
 *   pthread_cond_wait, in block_waiter, about 200 ms;
 *   main, under phase=join, waits for it in pthread_join, in block_join.
 */
#include <pthread.h>
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
	return 0;
}
