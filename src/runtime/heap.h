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
#define HEAP_HOOK_ARENA 8u  /* a thread is inside the private arena (arena.c): wrappers ask which */

/* Zero while the heap profiler, the counters and the arena are off. Read with __atomic_load_n. */
extern unsigned cprof__heap_hooks;
/*
 * Turn bits of cprof__heap_hooks on or off, and point malloc and free at
 * the paths the new word needs (malloc.c). The only way to change the
 * word. Thread (and a fork child).
 */
void cprof__heap_hooks_change(unsigned bits, int on);

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
 * How a free recognises a sampled block without touching memory of ours.
 *
 * A sampled block is allocated HEAP_HDR bytes larger (or, when aligned to
 * A > 16, A bytes larger) and handed out that far into the allocator's
 * block; the 16 bytes before the pointer q hold the mark (a 32-bit
 * constant, and 32 bits of q for the slow path's stricter test), the
 * distance back to the allocator's block (low half of the second word)
 * and the index + 1 of the block's registry node (high half), so the slow
 * path finds the node without a hash table (prof_heap.c). Blocks that are not the
 * allocator's (the bootstrap arena's, the private arena's) carry the same
 * mark. Once the heap profiler has been on in the process (never before:
 * memory checkers must see plain frees while it is off; malloc.c), a free
 * of a pointer at least 16 bytes into its page reads the word at p - 16: in glibc that is the chunk header free reads anyway (same 16
 * bytes, same cache line); in any allocator it is on p's page, so it is
 * mapped. Only a match goes on to the slow path, where the registry has
 * the last word: a block is sampled only if it is there, so program data
 * that happens to match costs a lookup, never a wrong free: the node a
 * header names must hold that very pointer. Pointers in
 * the first 16 bytes of a page (large blocks, memalign(4096)) have no safe
 * word before them: for those, and for blocks noted with
 * cprof_heap_note_alloc (no header), the registry's occupancy bitmap
 * answers: bit g is set while a bucket of group g (HEAP_GROUP consecutive
 * buckets) holds a block.
 */
#define HEAP_HDR 16
#define HEAP_HDR_MARK 0x6b72616du /* the low half of the mark word: one compare in free */
#define HEAP_PAGE_MASK 4095u /* the smallest page: any larger page contains these */

extern uint64_t *cprof__heap_filter;
#define HEAP_FILTER_BITS 18 /* registry buckets: 2^18 */
#define HEAP_GROUP_SHIFT 3  /* 8 buckets per bit */

static inline size_t cprof__heap_filter_index(const void *p)
{
	return (size_t)(((uintptr_t)p * 0x9e3779b97f4a7c15ull) >> (64 - HEAP_FILTER_BITS));
}

/* Whether block p may be in the registry, by the bitmap alone. Any. */
static inline int cprof__heap_maybe_registered(const void *p)
{
	size_t g = cprof__heap_filter_index(p) >> HEAP_GROUP_SHIFT;
	return (int)((__atomic_load_n(&cprof__heap_filter[g >> 6], __ATOMIC_RELAXED) >> (g & 63)) & 1);
}

/*
 * Whether the 16 bytes before p are on p's page (p is at least 16 bytes
 * into it), so they may be read whatever the allocator. Any.
 */
static inline int cprof__heap_hdr_zone(const void *p)
{
	return ((uintptr_t)p & (HEAP_PAGE_MASK & ~(uintptr_t)15)) != 0;
}

/* The mark word of block p: the constant, and bits of p above it. Any. */
static inline uint64_t cprof__heap_hdr_word(const void *p)
{
	return ((uint64_t)(uint32_t)((uintptr_t)p >> 4) << 32) | HEAP_HDR_MARK;
}

/* free's test (p in the header zone): the constant half only. Any. */
static inline int cprof__heap_hdr_marked(const void *p)
{
	return ((const uint32_t *)p)[-4] == HEAP_HDR_MARK;
}

/* The slow path's test: the whole mark word. Any. */
static inline int cprof__heap_hdr_valid(const void *p)
{
	return ((const uint64_t *)p)[-2] == cprof__heap_hdr_word(p);
}

/* Whether p, a block the program is freeing (not NULL), may be sampled. Thread. */
static inline int cprof__heap_maybe_sampled(const void *p)
{
	if (cprof__heap_hdr_zone(p))
		return cprof__heap_hdr_valid(p);
	return cprof__heap_maybe_registered(p);
}

/* Write the header of sampled block q, off bytes into its allocator block (the node's index comes at commit). Thread. */
static inline void cprof__heap_hdr_set(void *q, size_t off)
{
	((uint64_t *)q)[-2] = cprof__heap_hdr_word(q);
	((uint64_t *)q)[-1] = off;
}

/*
 * A sample in the making: the wrapper calls cprof__heap_sample_pre before
 * allocating; when it returns with node set, the wrapper allocates with a
 * header (or page-aligned) and calls cprof__heap_sample_commit with the
 * pointer it hands out (NULL when the allocation failed) and the header's
 * distance.
 */
struct heap_pending {
	struct heap_node *node; /* set: allocate with a header */
	struct heap_site *site;
	int64_t wobj, wbytes;
	uint64_t clock;
	size_t n;
	uint8_t kind;
	uint8_t record; /* a sample is due (node may still be NULL: the registry is full) */
};

/*
 * An allocation of n bytes, made through a wrapper whose caller returns to
 * ret and whose caller's stack pointer (at the call) was sp, crossed the
 * thread's sampling point (n is already subtracted from left, which is now
 * negative): decide, draw the next point, and prepare pd. Thread (inside an
 * allocation wrapper, before the real allocation).
 */
void cprof__heap_sample_pre(struct heap_pending *pd, size_t n, enum heap_kind kind, void *ret, void *sp);
/*
 * Finish what sample_pre started: q is the block handed out (NULL: the
 * allocation failed), off the distance from the allocator's block to q
 * (0: no header, allowed only for q outside the header zone and noted blocks; any
 * other is then counted as allocated and freed at once). Thread.
 */
void cprof__heap_sample_commit(struct heap_pending *pd, void *q, size_t off);
/*
 * A block that may be sampled is about to be freed: drop it from the
 * registry. Returns the pointer to hand the allocator (p, or its block
 * before the header). Thread.
 */
void *cprof__heap_forget(void *p);
/* The header distance of sampled block p (0: not sampled). Thread. */
size_t cprof__heap_offset(const void *p);

/*
 * realloc (p not NULL) with the registry and the headers kept right: the
 * old block's sample is removed only when the call succeeds, the new block
 * is sampled like any allocation, labelled grow or shrink, and the data
 * moves when a header appears or goes. Thread (the realloc wrapper).
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
