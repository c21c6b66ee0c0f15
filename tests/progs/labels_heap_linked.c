/*
 * labels_heap_linked - labels on heap samples, with known truth. Linked
 * with -lcprof; the heap profile comes from CPROF_MEMPROFILE.
 *
 *   main, phase=load:                       heap_load   allocates 200 x 64 KiB
 *   main, phase=serve tenant=acme:
 *     a thread created there (inherits):    heap_child  allocates 100 x 64 KiB
 *       and with worker=w1 on top:          heap_worker allocates  50 x 64 KiB
 *   main, no labels:                        heap_none   allocates  50 x 64 KiB
 *
 * Every block stays live until exit, so in-use and allocated space agree.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cprof.h"

#define BLOCK (64 * 1024)

static void *keep[400];
static int nkeep;

#define ALLOC_FN(name)                                        \
	__attribute__((noinline)) void name(int n)            \
	{                                                     \
		for (int i = 0; i < n; i++) {                 \
			void *p = malloc(BLOCK);              \
			memset(p, 1, 64);                     \
			keep[__atomic_fetch_add(&nkeep, 1, __ATOMIC_RELAXED)] = p; \
		}                                             \
	}
ALLOC_FN(heap_load)
ALLOC_FN(heap_child)
ALLOC_FN(heap_worker)
ALLOC_FN(heap_none)

static void *child(void *arg)
{
	(void)arg;
	heap_child(100);
	CPROF_LABELS_SCOPE("worker", "w1");
	heap_worker(50);
	return NULL;
}

int main(void)
{
	{
		CPROF_LABELS_SCOPE("phase", "load");
		heap_load(200);
	}
	{
		const char *kv[] = {"phase", "serve", "tenant", "acme"};
		CPROF_LABELS_SCOPEV(kv, 2);
		pthread_t th;
		pthread_create(&th, NULL, child, NULL);
		pthread_join(th, NULL);
	}
	heap_none(50);
	return 0;
}
