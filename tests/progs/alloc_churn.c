/*
 * alloc_churn - two threads allocating and freeing blocks of 16 bytes to
 * 64 KiB as fast as they can, each block freed by the other thread half of
 * the time, so that samples land inside the allocator, whichever it is.
 *
 * True answer: it exits 0 and prints "blocks=N"; nearly all CPU time is
 * under churn_thread (allocator frames included).
 *
 * Usage: alloc_churn [million blocks per thread]   (default 4)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 1024

static void *_Atomic handoff[2][RING];
static long per_thread;

__attribute__((noinline)) void *churn_thread(void *arg)
{
	int me = (int)(intptr_t)arg;
	uint64_t x = 88172645463325252ull + (uint64_t)me;
	for (long i = 0; i < per_thread; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t size = 16u << (x % 13);
		char *p = malloc(size);
		if (!p)
			return (void *)1;
		memset(p, (int)i, size < 64 ? size : 64);
		/* Half the blocks go to the other thread to free. */
		void *old = atomic_exchange(&handoff[(x >> 20) & 1 ? !me : me][i % RING], p);
		free(old);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	per_thread = (argc > 1 ? atol(argv[1]) : 4) * 1000000;
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, churn_thread, (void *)(intptr_t)i) != 0)
			return 1;
	int bad = 0;
	for (int i = 0; i < 2; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad |= r != NULL;
	}
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < RING; i++)
			free(handoff[t][i]);
	printf("blocks=%ld\n", 2 * per_thread);
	return bad;
}
