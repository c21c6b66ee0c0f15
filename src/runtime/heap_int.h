/*
 * heap_int.h - the heap profiler's tables, shared by prof_heap.c (which
 * fills them) and heap_write.c (which turns them into profiles). Nothing
 * outside those two files includes it.
 */
#ifndef CPROF_RUNTIME_HEAP_INT_H
#define CPROF_RUNTIME_HEAP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/heap.h"

#define HEAP_NSHARDS 4 /* exclusive shards of threads in slots 0..3; one more, shared, for the rest */
#define HEAP_SITE_ENTRIES (1u << 15)  /* distinct (stack, labels, kind); 3/4 may be used */
#define HEAP_SITE_FRAMES (2u << 20)   /* frames of all sites' stacks */
#define HEAP_BUCKET_BITS HEAP_FILTER_BITS
#define HEAP_MAX_NODES (4u << 20)     /* sampled blocks live at once */
#define HEAP_NODE_BATCH 64
#define HEAP_NSLOTS CPROF_MAX_THREADS
#define HEAP_FLUSH_BYTES (256 * 1024) /* per-thread slack of the in-use estimate (at least; twice the rate above 128 KiB) */
#define HEAP_SHORT_BYTES (64 * 1024)  /* "short-lived": freed by its thread before it allocated this much more */
#define HEAP_ONE 65536                /* fixed-point unit of object weights */
#define HEAP_MAX_RATE (1LL << 31)

/* Per-thread slot: exact counters, and the bucket lock it holds (for fork). */
struct heap_tslot {
	_Atomic int owner;
	uint16_t index;
	_Atomic uint64_t mallocs, frees, bytes;
	_Atomic uint64_t samples;
	_Atomic uint64_t stack_hits, stack_walks; /* heap_stack.c's cache: stacks found there, stacks walked */
	_Atomic(_Atomic uintptr_t *) held;
	_Atomic(_Atomic uintptr_t *) held_group; /* first bucket of a group locked whole */
} __attribute__((aligned(64)));

/* A site's totals as seen by one shard of threads. Objects in HEAP_ONE units, bytes weighted. */
struct heap_site_shard {
	_Atomic int64_t alloc_obj, alloc_bytes, free_obj, free_bytes, short_obj, short_bytes;
	_Atomic int64_t raw_obj, raw_bytes; /* unweighted: the sampled blocks themselves */
} __attribute__((aligned(64)));

struct heap_site {
	_Atomic uint64_t hash; /* 0 empty, 1 being written, else the key's hash */
	const void *labels;
	uint32_t depth, off;   /* frames[off..off+depth) */
	uint32_t kind;
	int64_t peak_obj, peak_bytes; /* in use when the heap was largest */
	struct heap_site_shard shard[HEAP_NSHARDS + 1];
} __attribute__((aligned(64)));

struct heap_sums {
	int64_t alloc_obj, alloc_bytes, free_obj, free_bytes, short_obj, short_bytes, raw_obj, raw_bytes;
};

struct heap_node {
	uintptr_t ptr;
	struct heap_node *next;
	struct heap_site *site;
	uint64_t size;
	int64_t wobj, wbytes;
	uint64_t clock; /* bytes the allocating thread had allocated, this block included */
	uint32_t off;   /* distance from the allocator's block to ptr (its header), 0: none */
	uint16_t tslot; /* the allocating thread's slot */
	uint8_t kind;
};

/*
 * What every sample reads (the tables' addresses, the rate) shares no
 * cache line with what samples write now and then (counters, the free
 * list, the in-use estimate): a write by one thread would make the next
 * sample of every other thread miss.
 */
struct heap_state {
	void *map;
	size_t map_len;
	struct heap_site *sites;
	uint32_t *site_list; /* indices of used sites, in creation order */
	uintptr_t *frames;
	_Atomic uintptr_t *buckets;
	struct heap_node *nodes;
	_Atomic int64_t rate;
	_Atomic uint32_t gen;
	_Atomic int64_t started_ns;
	_Atomic uint32_t nsite_list __attribute__((aligned(64)));
	_Atomic size_t frames_used;
	_Atomic uint64_t lost_samples, untracked;
	_Atomic size_t nodes_used __attribute__((aligned(64)));
	struct heap_node *free_nodes; /* under node_lock */
	size_t nfree_nodes;
	/* peak */
	_Atomic int64_t inuse_est __attribute__((aligned(64)));
	_Atomic int64_t peak_trigger;
	pthread_mutex_t peak_lock;
	int64_t peak_bytes, peak_time;
};
extern struct heap_state cprof__heap;

/* Allocations sampled, over all threads. Any. */
uint64_t cprof__heap_samples(void);
/* Sum a site's shards. Thread. */
void cprof__heap_site_sums(const struct heap_site *s, struct heap_sums *out);
/* Take a peak snapshot now if the heap is larger than at the last one. Thread. */
void cprof__heap_peak_update(void);
/* Resident bytes of the profiler's own tables. Thread. */
uint64_t cprof__heap_own_bytes(void);
/* Start sampling at rate bytes (0: the default). Thread. */
int cprof__heap_start(int64_t rate);
/*
 * The site of an allocation whose wrapper's caller returns to ret, with
 * stack pointer sp at the call (NULL: unknown), through the stack cache of
 * heap_stack.c; site_get interns a walked stack. Thread (sampling path).
 */
struct heap_site *cprof__heap_stack_site(void *ret, void *sp, const void *labels, unsigned kind,
					 struct heap_site *(*site_get)(const uintptr_t *, int, const void *, unsigned));
/* Unmap the calling thread's stack cache (as it ends). Thread. */
void cprof__heap_stack_release(void);
/* Count one stack found in the stack cache (hit) or walked, in the thread's slot. Thread. */
void cprof__heap_count_stack(bool hit);
/* Stacks walked and found in the cache, over all threads. Any. */
void cprof__heap_stack_counts(uint64_t *walks, uint64_t *hits);
/* heap_write.c's part of a fork child's reset. Thread (atfork child). */
void cprof__heap_after_fork_child(void);

#endif
