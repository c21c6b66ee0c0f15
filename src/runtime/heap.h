/*
 * heap.h - what the allocation interposers (malloc.c) and the heap
 * profiler (prof_heap.c) share, and nothing else does: the hook word the
 * wrappers test, the per-thread sampling state, and the calls from the
 * wrappers into the profiler. Each declaration says from which contexts it
 * may be called, as in rt.h.
 */
#ifndef CPROF_RUNTIME_HEAP_H
#define CPROF_RUNTIME_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/rt.h"

/* Bits of cprof__heap_hooks: what the wrappers must do besides forwarding. */
#define HEAP_HOOK_SAMPLE 1u /* sample allocations */
#define HEAP_HOOK_COUNT 2u  /* exact counts (cprof_mem_counting) */
#define HEAP_HOOK_FREE 4u   /* sampled blocks may be live: frees look them up */

/* Zero while the heap profiler and the counters are off: the wrappers' one branch. */
extern unsigned cprof__heap_hooks;

/* How an allocation was made, kept with its sample (a label of the profile). */
enum heap_kind {
	HEAP_KIND_MALLOC = 0,
	HEAP_KIND_REALLOC_GROW,
	HEAP_KIND_REALLOC_SHRINK,
	HEAP_KIND_NOTED, /* reported by cprof_heap_note_alloc */
	HEAP_NKINDS
};

struct heap_tslot;
struct heap_node;

/* Per-thread state, in TLS: zero until the thread's first sampled allocation. */
struct heap_thread {
	int64_t left;          /* bytes until the next sample (huge while busy) */
	int64_t saved_left;    /* left, while busy */
	uint64_t mark;         /* bytes this thread allocated up to its last draw */
	int64_t drawn;         /* that draw: allocated bytes now = mark + drawn - left */
	uint32_t busy;         /* inside the profiler (or its writer): record nothing */
	struct heap_tslot *slot; /* this thread's slot (counters, fork state), or NULL */
	uint64_t rng;
	struct heap_node *cache; /* free registry nodes kept by this thread */
	uint32_t ncache;
	uint32_t gen;          /* sampling generation the draw of `left` belongs to */
	int64_t delta;         /* in-use bytes not yet added to the global estimate */
	uint8_t exited;        /* after the thread's destructor: use shared state only */
	uint8_t inited;
};
extern CPROF_TLS struct heap_thread cprof__heap_self;

/*
 * Enter / leave the profiler's own code on this thread: nothing allocated
 * inside is sampled. The countdown is parked at a value no allocation
 * reaches, so the wrappers' fast path needs no test of busy. Thread.
 */
static inline void cprof__heap_busy_enter(struct heap_thread *t)
{
	if (t->busy++ == 0) {
		t->saved_left = t->left;
		t->left = INT64_MAX / 2;
	}
}

static inline void cprof__heap_busy_exit(struct heap_thread *t)
{
	if (--t->busy == 0)
		t->left = t->saved_left;
}

/*
 * The registry's occupancy bitmap: bit g is set while a bucket of group g
 * (HEAP_GROUP consecutive buckets of the registry) holds a sampled block. A
 * free whose group's bit is clear is certainly not of a sampled block: one
 * load from 4 KiB, which stays in the L1 cache.
 */
extern uint64_t *cprof__heap_filter;
#define HEAP_FILTER_BITS 18 /* registry buckets: 2^18 */
#define HEAP_GROUP_SHIFT 3  /* 8 buckets per bit */

static inline size_t cprof__heap_filter_index(const void *p)
{
	return (size_t)(((uintptr_t)p * 0x9e3779b97f4a7c15ull) >> (64 - HEAP_FILTER_BITS));
}

/* Whether block p may be sampled. Any. */
static inline int cprof__heap_maybe_sampled(const void *p)
{
	size_t g = cprof__heap_filter_index(p) >> HEAP_GROUP_SHIFT;
	return (int)((__atomic_load_n(&cprof__heap_filter[g >> 6], __ATOMIC_RELAXED) >> (g & 63)) & 1);
}

/*
 * An allocation of n bytes at p, made through a wrapper whose caller returns
 * to ret and whose caller's stack pointer (at the call) was sp, crossed the
 * thread's sampling point (n is already subtracted from left, which is now
 * negative). Thread (inside an allocation wrapper).
 */
void cprof__heap_sample(void *p, size_t n, enum heap_kind kind, void *ret, void *sp);
/* A block that may be sampled is about to be freed: drop it from the registry. Thread. */
void cprof__heap_forget(void *p);
/*
 * realloc with the registry kept right: the old block's sample is removed
 * only when the call succeeds, and the new block is sampled like any
 * allocation, labelled grow or shrink. Thread (the realloc wrapper).
 */
void *cprof__heap_realloc(void *p, size_t n, void *(*real)(void *, size_t), size_t (*usable)(void *),
			  void *ret, void *sp);
/* Count one allocation of n bytes / one free for cprof_mem_counts. Thread. */
void cprof__heap_count_alloc(size_t n);
void cprof__heap_count_free(void);

/* The allocator the wrappers forward to; for the profiler's own blocks. Thread. */
void *cprof__real_malloc(size_t n);
void cprof__real_free(void *p);
/* Which library the process's malloc resolves to before ours, for the profile's comments. */
const char *cprof__malloc_next_name(void);
/* True when malloc calls reach our wrappers (false: another malloc comes first in the search order). */
int cprof__malloc_interposed(void);

#endif
