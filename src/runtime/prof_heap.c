/*
 * prof_heap.c - the heap profiler: which allocations are sampled, what a
 * sample records, the registry that finds a sampled block again when it is
 * freed, the per-site totals, the peak snapshot, and the profile's life
 * across exit, fork, exec and fatal signals. It also keeps the exact
 * allocation counts of cprof_mem_counts.
 *
 * Sampling is a Poisson process over allocated bytes, per thread (as Go,
 * tcmalloc and jemalloc do): each thread counts down a byte budget drawn
 * from an exponential distribution of mean `rate`, and the allocation that
 * crosses zero is sampled. An allocation of S bytes is then sampled with
 * probability 1 - exp(-S/rate), and each sample carries the weight
 * 1 / that probability, so the totals are unbiased. Rate 1 records every
 * allocation with weight 1.
 *
 * The registry finds a sampled block's node again when it is freed. Free
 * of an unsampled block never reaches it: sampled blocks carry a header
 * the free wrapper recognises (heap.h), and the header names the block's
 * node, which is claimed with one compare-and-swap of its pointer: no hash
 * table, lock or shared line is touched (a sample used to cost a lock on a
 * random bucket of a 2 MiB table: a cache and TLB miss, a page fault the
 * first time, and contention between threads at rate 1). The few blocks
 * that cannot have a header in the zone free reads (those at the start of
 * a page) and blocks noted with cprof_heap_note_alloc go into a hash table
 * of chained nodes with a lock bit in each bucket head, keyed by the
 * pointer the program got; a bitmap of its non-empty groups of 8 buckets
 * (4 KiB) answers "certainly not sampled" with one load. The registry has
 * the last word: a header that only looks right costs a lookup, never a
 * wrong free. Per-site totals are sharded by thread over cache lines. Every table lives in one mapping made when
 * profiling starts; each has a ceiling, and what does not fit is counted
 * and reported, never grown.
 *
 * The interposers are in malloc.c; turning sites into a pprof profile is in
 * heap_write.c.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cprof.h"
#include "runtime/heap.h"
#include "runtime/heap_int.h"
#include "runtime/rt.h"

CPROF_TLS struct heap_thread cprof__heap_self;
uint64_t *cprof__heap_filter;
struct heap_state cprof__heap = {.peak_lock = PTHREAD_MUTEX_INITIALIZER};

static struct heap_tslot tslots[HEAP_NSLOTS];
/* Counters of threads that have no slot (too many threads, or after their exit). */
static struct heap_tslot shared_slot;
static pthread_mutex_t overflow_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(_Atomic uintptr_t *) overflow_held;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_flag node_lock = ATOMIC_FLAG_INIT;

/* ---- per-thread slots ---- */

static void thread_exit(void *v);

static void make_key(void)
{
	if (pthread_key_create(&exit_key, thread_exit) != 0)
		exit_key = (pthread_key_t)-1;
}

/* The calling thread's slot, claiming one on first use; NULL when none is free. */
static struct heap_tslot *self_slot(struct heap_thread *t)
{
	if (t->slot)
		return t->slot;
	if (t->exited)
		return NULL;
	for (int i = 0; i < HEAP_NSLOTS; i++) {
		int expect = 0;
		if (atomic_load_explicit(&tslots[i].owner, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&tslots[i].owner, &expect, 1)) {
			tslots[i].index = (uint16_t)i;
			t->slot = &tslots[i];
			cprof__heap_busy_enter(t); /* setspecific may allocate */
			pthread_once(&key_once, make_key);
			if (exit_key != (pthread_key_t)-1)
				pthread_setspecific(exit_key, (void *)1);
			cprof__heap_busy_exit(t);
			return t->slot;
		}
	}
	return NULL;
}

static void nodes_give_back(struct heap_thread *t);

static void thread_exit(void *v)
{
	(void)v;
	struct heap_thread *t = &cprof__heap_self;
	cprof__heap_busy_enter(t);
	nodes_give_back(t);
	cprof__heap_stack_release();
	if (t->delta) {
		atomic_fetch_add(&cprof__heap.inuse_est, t->delta);
		t->delta = 0;
	}
	struct heap_tslot *s = t->slot;
	t->exited = 1;
	t->slot = NULL;
	if (s) {
		/* Its counters stay: the next thread to claim the slot adds to them. */
		atomic_store(&s->owner, 0);
	}
	cprof__heap_busy_exit(t);
}

/* ---- exact counts ---- */

static inline void slot_add(_Atomic uint64_t *c, uint64_t v, bool shared)
{
	if (shared)
		atomic_fetch_add_explicit(c, v, memory_order_relaxed);
	else /* only the owner writes: no locked instruction needed */
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

void cprof__heap_count_alloc(size_t n)
{
	struct heap_thread *t = &cprof__heap_self;
	struct heap_tslot *s = self_slot(t);
	bool shared = !s;
	if (shared)
		s = &shared_slot;
	slot_add(&s->mallocs, 1, shared);
	slot_add(&s->bytes, n, shared);
}

void cprof__heap_count_free(void)
{
	struct heap_thread *t = &cprof__heap_self;
	struct heap_tslot *s = self_slot(t);
	bool shared = !s;
	if (shared)
		s = &shared_slot;
	slot_add(&s->frees, 1, shared);
}

CPROF_API int cprof_mem_counting(int on)
{
	unsigned old = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);
	if (on)
		cprof__heap_hooks_change(HEAP_HOOK_COUNT, 1);
	else
		cprof__heap_hooks_change(HEAP_HOOK_COUNT, 0);
	return (old & HEAP_HOOK_COUNT) != 0;
}

CPROF_API void cprof_mem_counts(struct cprof_mem_counts *out)
{
	if (!out)
		return;
	uint64_t m = atomic_load(&shared_slot.mallocs), f = atomic_load(&shared_slot.frees),
		 b = atomic_load(&shared_slot.bytes);
	for (int i = 0; i < HEAP_NSLOTS; i++) {
		m += atomic_load_explicit(&tslots[i].mallocs, memory_order_relaxed);
		f += atomic_load_explicit(&tslots[i].frees, memory_order_relaxed);
		b += atomic_load_explicit(&tslots[i].bytes, memory_order_relaxed);
	}
	out->mallocs = m;
	out->frees = f;
	out->total_alloc = b;
}

/* ---- the tables ---- */

static int map_tables(void)
{
	struct heap_state *h = &cprof__heap;
	size_t off = 0;
	size_t o_sites = off;
	off += (size_t)HEAP_SITE_ENTRIES * sizeof(struct heap_site);
	size_t o_list = off;
	off += (size_t)HEAP_SITE_ENTRIES * sizeof(uint32_t);
	size_t o_frames = off;
	off += (size_t)HEAP_SITE_FRAMES * sizeof(uintptr_t);
	size_t o_buckets = off;
	off += ((size_t)1 << HEAP_BUCKET_BITS) * sizeof(uintptr_t);
	size_t o_filter = off;
	off += ((size_t)1 << (HEAP_FILTER_BITS - HEAP_GROUP_SHIFT)) / 8;
	off = (off + 63) & ~(size_t)63;
	size_t o_nodes = off;
	off += (size_t)HEAP_MAX_NODES * sizeof(struct heap_node);
	off = (off + 4095) & ~(size_t)4095;
	char *m = mmap(NULL, off, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	h->map = m;
	h->map_len = off;
	h->sites = (struct heap_site *)(m + o_sites);
	h->site_list = (uint32_t *)(m + o_list);
	h->frames = (uintptr_t *)(m + o_frames);
	h->buckets = (_Atomic uintptr_t *)(m + o_buckets);
	cprof__heap_filter = (uint64_t *)(m + o_filter);
	h->nodes = (struct heap_node *)(m + o_nodes);
	/* Site 0 stands for samples whose stack did not fit: "[cprof: lost samples]". */
	atomic_store(&h->sites[0].hash, 2);
	h->site_list[0] = 0;
	atomic_store(&h->nsite_list, 1);
	return 0;
}

static uint64_t hash_site(const uintptr_t *pcs, int n, const void *labels, unsigned kind)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)n ^ ((uint64_t)kind << 56) ^ (uintptr_t)labels;
	for (int i = 0; i < n; i++) {
		x ^= pcs[i];
		x *= 0xff51afd7ed558ccdull;
		x ^= x >> 32;
	}
	x ^= (uintptr_t)labels * 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 29;
	return x < 3 ? x + 3 : x;
}

/* The site of (stack, labels, kind), created on first use; the lost site when the table is full. */
static struct heap_site *site_get(const uintptr_t *pcs, int n, const void *labels, unsigned kind)
{
	struct heap_state *h = &cprof__heap;
	uint64_t hv = hash_site(pcs, n, labels, kind);
	size_t mask = HEAP_SITE_ENTRIES - 1;
	size_t i = (size_t)hv & mask;
	for (int probe = 0; probe < 64; probe++, i = (i + 1) & mask) {
		if (i == 0)
			continue; /* the lost site */
		struct heap_site *s = &h->sites[i];
		uint64_t cur = atomic_load_explicit(&s->hash, memory_order_acquire);
		if (cur == hv) {
			if (s->depth == (uint32_t)n && s->labels == labels && s->kind == kind &&
			    memcmp(&h->frames[s->off], pcs, (size_t)n * sizeof(uintptr_t)) == 0)
				return s;
			continue;
		}
		if (cur != 0)
			continue;
		uint64_t expect = 0;
		if (!atomic_compare_exchange_strong(&s->hash, &expect, 1))
			continue;
		size_t off = atomic_fetch_add(&h->frames_used, (size_t)n);
		uint32_t li = atomic_fetch_add(&h->nsite_list, 1);
		if (off + (size_t)n > HEAP_SITE_FRAMES || li >= HEAP_SITE_ENTRIES * 3 / 4) {
			atomic_fetch_sub(&h->nsite_list, 1);
			atomic_store(&s->hash, 0);
			break;
		}
		memcpy(&h->frames[off], pcs, (size_t)n * sizeof(uintptr_t));
		s->depth = (uint32_t)n;
		s->off = (uint32_t)off;
		s->labels = labels;
		s->kind = kind;
		h->site_list[li] = (uint32_t)i;
		atomic_store_explicit(&s->hash, hv, memory_order_release);
		return s;
	}
	atomic_fetch_add(&h->lost_samples, 1);
	return &h->sites[0];
}

/* ---- registry nodes ---- */

static struct heap_node *node_get(struct heap_thread *t)
{
	struct heap_state *h = &cprof__heap;
	if (!t->cache) {
		/* A batch from the shared free list, else fresh ones from the array. */
		while (atomic_flag_test_and_set_explicit(&node_lock, memory_order_acquire))
			__builtin_ia32_pause();
		struct heap_node *got = h->free_nodes, *last = NULL;
		uint32_t k = 0;
		for (struct heap_node *n = got; n && k < HEAP_NODE_BATCH; n = n->next, k++)
			last = n;
		if (last) {
			h->free_nodes = last->next;
			h->nfree_nodes -= k;
			last->next = NULL;
		}
		atomic_flag_clear_explicit(&node_lock, memory_order_release);
		if (!got) {
			size_t first = atomic_fetch_add(&h->nodes_used, HEAP_NODE_BATCH);
			if (first + HEAP_NODE_BATCH > HEAP_MAX_NODES) {
				atomic_fetch_sub(&h->nodes_used, HEAP_NODE_BATCH);
				return NULL;
			}
			for (k = 0; k < HEAP_NODE_BATCH; k++)
				h->nodes[first + k].next = k + 1 < HEAP_NODE_BATCH ? &h->nodes[first + k + 1] : NULL;
			got = &h->nodes[first];
			k = HEAP_NODE_BATCH;
		}
		t->cache = got;
		t->ncache = k;
	}
	struct heap_node *n = t->cache;
	t->cache = n->next;
	t->ncache--;
	return n;
}

static void nodes_push_shared(struct heap_node *first, struct heap_node *last, uint32_t k)
{
	struct heap_state *h = &cprof__heap;
	while (atomic_flag_test_and_set_explicit(&node_lock, memory_order_acquire))
		__builtin_ia32_pause();
	last->next = h->free_nodes;
	h->free_nodes = first;
	h->nfree_nodes += k;
	atomic_flag_clear_explicit(&node_lock, memory_order_release);
}

static void node_put(struct heap_thread *t, struct heap_node *n)
{
	__atomic_store_n(&n->ptr, 0, __ATOMIC_RELAXED); /* no header can name a free node */
	if (t->exited) {
		nodes_push_shared(n, n, 1);
		return;
	}
	n->next = t->cache;
	t->cache = n;
	if (++t->ncache >= 2 * HEAP_NODE_BATCH) {
		/* Keep one batch, give the other back. */
		struct heap_node *last = t->cache;
		for (uint32_t k = 1; k < HEAP_NODE_BATCH; k++)
			last = last->next;
		struct heap_node *rest = last->next;
		last->next = NULL;
		struct heap_node *first = t->cache;
		t->cache = rest;
		t->ncache -= HEAP_NODE_BATCH;
		nodes_push_shared(first, last, HEAP_NODE_BATCH);
	}
}

static void nodes_give_back(struct heap_thread *t)
{
	if (!t->cache)
		return;
	struct heap_node *last = t->cache;
	while (last->next)
		last = last->next;
	nodes_push_shared(t->cache, last, t->ncache);
	t->cache = NULL;
	t->ncache = 0;
}

/* ---- the registry ---- */

static inline _Atomic uintptr_t *bucket_of(const void *p)
{
	return &cprof__heap.buckets[cprof__heap_filter_index(p)];
}

/*
 * Lock a bucket: set bit 0 of its head. Which bucket a thread holds is kept
 * in its slot, so that a fork child can release locks of threads that did
 * not follow it. Threads without a slot serialize on overflow_lock.
 */
static uintptr_t bucket_lock(struct heap_thread *t, _Atomic uintptr_t *b)
{
	struct heap_tslot *s = self_slot(t);
	if (s) {
		atomic_store_explicit(&s->held, b, memory_order_relaxed);
	} else {
		pthread_mutex_lock(&overflow_lock);
		atomic_store_explicit(&overflow_held, b, memory_order_relaxed);
	}
	for (;;) {
		uintptr_t v = atomic_load_explicit(b, memory_order_relaxed);
		if (!(v & 1) && atomic_compare_exchange_weak_explicit(b, &v, v | 1, memory_order_acquire,
								      memory_order_relaxed))
			return v;
		__builtin_ia32_pause();
	}
}

static void bucket_unlock(struct heap_thread *t, _Atomic uintptr_t *b, uintptr_t head)
{
	atomic_store_explicit(b, head, memory_order_release);
	if (t->slot) {
		atomic_store_explicit(&t->slot->held, NULL, memory_order_relaxed);
	} else {
		atomic_store_explicit(&overflow_held, NULL, memory_order_relaxed);
		pthread_mutex_unlock(&overflow_lock);
	}
}

/*
 * Mark bucket b's group as holding a block; the caller holds b's lock, and
 * does this before the block can be freed (before malloc returns). The bit
 * is read first: a group that fills and empties on every allocation, as at
 * rate 1, costs no locked instruction on the shared word.
 */
static void occupied(_Atomic uintptr_t *b)
{
	size_t g = (size_t)(b - cprof__heap.buckets) >> HEAP_GROUP_SHIFT;
	_Atomic uint64_t *w = (_Atomic uint64_t *)&cprof__heap_filter[g >> 6];
	uint64_t bit = 1ull << (g & 63);
	if (!(atomic_load_explicit(w, memory_order_relaxed) & bit))
		atomic_fetch_or(w, bit);
}

/*
 * A free found bucket b (locked by the caller) empty although its group's
 * bit is set: clear the bit if the whole group is empty. Every bucket of
 * the group must be locked for that (an insertion sets the bit under its
 * bucket's lock); the others are only tried, never waited for, so two
 * threads doing this cannot deadlock, and a busy group keeps its bit.
 * Threads without a slot (no record of what they hold for a fork child)
 * leave it.
 */
static void maybe_unoccupied(struct heap_thread *t, _Atomic uintptr_t *b)
{
	size_t i = (size_t)(b - cprof__heap.buckets), g = i >> HEAP_GROUP_SHIFT;
	_Atomic uint64_t *w = (_Atomic uint64_t *)&cprof__heap_filter[g >> 6];
	uint64_t bit = 1ull << (g & 63);
	if (!t->slot || !(atomic_load_explicit(w, memory_order_relaxed) & bit))
		return;
	_Atomic uintptr_t *first = &cprof__heap.buckets[g << HEAP_GROUP_SHIFT];
	atomic_store(&t->slot->held_group, first);
	int n = 1 << HEAP_GROUP_SHIFT, k = 0;
	bool empty = true;
	for (; k < n; k++) {
		if (&first[k] == b)
			continue;
		uintptr_t expect = 0;
		if (!atomic_compare_exchange_strong(&first[k], &expect, 1)) {
			empty = false; /* locked by another thread, or not empty */
			break;
		}
	}
	if (empty)
		atomic_fetch_and(w, ~bit);
	for (int j = 0; j < k; j++)
		if (&first[j] != b)
			atomic_store(&first[j], 0);
	atomic_store(&t->slot->held_group, NULL);
}

/*
 * Make node n findable as the one of block p. A block with a header in the
 * header zone (the common case) is found through its header, which names
 * the node: only its pointer is published, no bucket is touched. The rest
 * (no header, or a pointer at the start of a page) goes into its bucket.
 */
static void registry_insert(struct heap_thread *t, struct heap_node *n, const void *p)
{
	if (n->off && cprof__heap_hdr_zone(p)) {
		__atomic_store_n(&n->ptr, (uintptr_t)p, __ATOMIC_RELEASE);
		return;
	}
	n->ptr = (uintptr_t)p;
	_Atomic uintptr_t *b = bucket_of(p);
	uintptr_t head = bucket_lock(t, b);
	n->next = (struct heap_node *)head;
	occupied(b);
	bucket_unlock(t, b, (uintptr_t)n);
}

/*
 * The node of block p whose header (p in the header zone, its mark word
 * valid) names it, or NULL: the index must be in range and the node must
 * hold p now, with the same distance. A stale header (of a block moved by
 * realloc, or program data that looks like one) names a node that holds
 * another pointer or none.
 */
static struct heap_node *hdr_node(const void *p)
{
	uint64_t w = ((const uint64_t *)p)[-1];
	uint64_t idx = w >> 32;
	if (idx == 0 || idx > HEAP_MAX_NODES)
		return NULL;
	struct heap_node *n = &cprof__heap.nodes[idx - 1];
	if (__atomic_load_n(&n->ptr, __ATOMIC_ACQUIRE) != (uintptr_t)p || n->off != (uint32_t)w ||
	    n->kind == HEAP_KIND_NOTED)
		return NULL;
	return n;
}

/* Remove and return the node of block p (a noted block when noted), or NULL. */
static struct heap_node *registry_remove(struct heap_thread *t, const void *p, bool noted)
{
	if (!noted && cprof__heap_hdr_zone(p)) {
		/*
		 * A block with a header is not in the buckets: its header
		 * names its node, which is claimed by clearing its pointer
		 * (two threads freeing one block: only one gets it).
		 */
		struct heap_node *n = cprof__heap_hdr_valid(p) ? hdr_node(p) : NULL;
		uintptr_t expect = (uintptr_t)p;
		if (n && __atomic_compare_exchange_n(&n->ptr, &expect, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return n;
		return NULL;
	}
	_Atomic uintptr_t *b = bucket_of(p);
	uintptr_t head = bucket_lock(t, b);
	struct heap_node *prev = NULL, *n = (struct heap_node *)head;
	while (n && !(n->ptr == (uintptr_t)p && (n->kind == HEAP_KIND_NOTED) == noted)) {
		prev = n;
		n = n->next;
	}
	if (n) {
		if (prev)
			prev->next = n->next;
		else
			head = (uintptr_t)n->next;
	} else if (!head) {
		maybe_unoccupied(t, b); /* a stale bit */
	}
	bucket_unlock(t, b, head);
	return n;
}

/* ---- sampling ---- */

static uint64_t rng_next(struct heap_thread *t)
{
	uint64_t x = t->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Bytes until the next sample: exponential with mean rate; -1 at rate 1 (every allocation). */
static int64_t draw(struct heap_thread *t, int64_t rate)
{
	if (rate <= 1)
		return -1;
	double u = (double)((rng_next(t) >> 11) + 1) * (1.0 / 9007199254740992.0);
	double v = -log(u) * (double)rate;
	return v > 9e18 ? INT64_MAX : (int64_t)v;
}

static void thread_init(struct heap_thread *t)
{
	t->rng = ((uint64_t)syscall(SYS_gettid) << 32) ^ (uint64_t)cprof__now_ns() ^ (uintptr_t)t;
	if (!t->rng)
		t->rng = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 4; i++)
		rng_next(t);
	t->inited = 1;
}

/* Bytes the thread has allocated so far (while not busy). */
static inline uint64_t thread_clock(struct heap_thread *t)
{
	int64_t left = t->busy ? t->saved_left : t->left;
	return t->mark + (uint64_t)(t->drawn - left);
}

/*
 * The shard a thread adds to: its own when its slot is one of the first
 * HEAP_NSHARDS (one writer: plain loads and stores), else the shared one
 * (atomic adds).
 */
static inline unsigned shard_of(struct heap_thread *t)
{
	return t->slot && t->slot->index < HEAP_NSHARDS ? t->slot->index : HEAP_NSHARDS;
}

static inline void sadd(_Atomic int64_t *c, int64_t v, bool shared)
{
	if (shared)
		atomic_fetch_add_explicit(c, v, memory_order_relaxed);
	else
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

/* Per thread: a shared counter written on every stack of every thread would bounce between their caches. */
void cprof__heap_count_stack(bool hit)
{
	struct heap_tslot *s = cprof__heap_self.slot;
	_Atomic uint64_t *c = s ? (hit ? &s->stack_hits : &s->stack_walks)
				: (hit ? &shared_slot.stack_hits : &shared_slot.stack_walks);
	slot_add(c, 1, !s);
}

void cprof__heap_stack_counts(uint64_t *walks, uint64_t *hits)
{
	uint64_t w = atomic_load(&shared_slot.stack_walks), h = atomic_load(&shared_slot.stack_hits);
	for (int i = 0; i < HEAP_NSLOTS; i++) {
		w += atomic_load_explicit(&tslots[i].stack_walks, memory_order_relaxed);
		h += atomic_load_explicit(&tslots[i].stack_hits, memory_order_relaxed);
	}
	*walks = w;
	*hits = h;
}

uint64_t cprof__heap_samples(void)
{
	uint64_t n = atomic_load(&shared_slot.samples);
	for (int i = 0; i < HEAP_NSLOTS; i++)
		n += atomic_load_explicit(&tslots[i].samples, memory_order_relaxed);
	return n;
}

static void peak_snapshot(void);

/*
 * Add d weighted bytes to the thread's in-use delta; flush to the estimate
 * and check the peak. The slack is HEAP_FLUSH_BYTES, or twice the rate
 * when that is more: at the default rate every sample weighs about the
 * rate, so a fixed 256 KiB flushed on every sample and every sampled free,
 * an atomic add on a line all threads write; the estimate is no finer than
 * a few samples' weight anyway.
 */
static void peak_note(struct heap_thread *t, int64_t d)
{
	int64_t rate = atomic_load_explicit(&cprof__heap.rate, memory_order_relaxed);
	int64_t slack = 2 * rate > HEAP_FLUSH_BYTES ? 2 * rate : HEAP_FLUSH_BYTES;
	t->delta += d;
	if (!t->exited && t->delta < slack && t->delta > -slack)
		return;
	int64_t v = atomic_fetch_add(&cprof__heap.inuse_est, t->delta) + t->delta;
	t->delta = 0;
	if (v > atomic_load_explicit(&cprof__heap.peak_trigger, memory_order_relaxed))
		peak_snapshot();
}

/* The weights of a sample of n bytes at this rate. */
static void weigh(size_t n, int64_t rate, int64_t *wobj, int64_t *wbytes)
{
	if (rate <= 1 || n == 0) {
		*wobj = HEAP_ONE;
		*wbytes = (int64_t)n;
	} else {
		double prob = -expm1(-(double)n / (double)rate);
		*wobj = llround((double)HEAP_ONE / prob);
		*wbytes = llround((double)n / prob);
	}
}

/* Walk the stack to its site and take a registry node (NULL: the registry is full). Busy. */
static void prepare(struct heap_thread *t, struct heap_pending *pd, size_t n, enum heap_kind kind, void *ret,
		    void *sp, int64_t rate, uint64_t clock)
{
	weigh(n, rate, &pd->wobj, &pd->wbytes);
	self_slot(t);
	pd->site = cprof__heap_stack_site(ret, t->exited ? NULL : sp, cprof__labels_current(), kind, site_get);
	pd->node = node_get(t);
	pd->clock = clock;
	pd->n = n;
	pd->kind = (uint8_t)kind;
	pd->record = 1;
}

void cprof__heap_sample_pre(struct heap_pending *pd, size_t n, enum heap_kind kind, void *ret, void *sp)
{
	struct heap_thread *t = &cprof__heap_self;
	pd->node = NULL;
	pd->record = 0;
	if (t->busy)
		return;
	int saved = errno;
	int64_t left = t->left;
	uint64_t now = t->mark + (uint64_t)(t->drawn - left); /* bytes allocated, this block included */
	cprof__heap_busy_enter(t);
	int64_t rate = atomic_load_explicit(&cprof__heap.rate, memory_order_relaxed);
	uint32_t gen = atomic_load_explicit(&cprof__heap.gen, memory_order_relaxed);
	if (!t->inited || t->gen != gen) {
		/* A fresh draw (new thread or new rate) decides this allocation too. */
		if (!t->inited)
			thread_init(t);
		t->gen = gen;
		t->mark = now - n;
		t->drawn = draw(t, rate);
		left = t->drawn - (int64_t)n;
		if (left >= 0)
			goto out;
	}
	t->mark = now;
	t->drawn = left = draw(t, rate);
	if (__atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED) & HEAP_HOOK_SAMPLE)
		prepare(t, pd, n, kind, ret, sp, rate, now);
out:
	cprof__heap_busy_exit(t);
	t->left = left;
	errno = saved;
}

void cprof__heap_sample_commit(struct heap_pending *pd, void *q, size_t off)
{
	if (!pd->record)
		return;
	struct heap_thread *t = &cprof__heap_self;
	struct heap_state *h = &cprof__heap;
	int saved = errno;
	cprof__heap_busy_enter(t);
	struct heap_node *nd = pd->node;
	if (!q) {
		/* The allocation failed: nothing was allocated, nothing is counted. */
		if (nd)
			node_put(t, nd);
		goto out;
	}
	/* A block without a header that free could not find again: keep its allocation, not its life. */
	if (nd && off == 0 && cprof__heap_hdr_zone(q) && pd->kind != HEAP_KIND_NOTED) {
		node_put(t, nd);
		nd = NULL;
	}
	struct heap_site *s = pd->site;
	unsigned si = shard_of(t);
	bool shared = si == HEAP_NSHARDS;
	struct heap_site_shard *sh = &s->shard[si];
	sadd(&sh->alloc_obj, pd->wobj, shared);
	sadd(&sh->alloc_bytes, pd->wbytes, shared);
	sadd(&sh->raw_obj, 1, shared);
	sadd(&sh->raw_bytes, (int64_t)pd->n, shared);
	slot_add(t->slot ? &t->slot->samples : &shared_slot.samples, 1, !t->slot);
	if (!nd) {
		/* No room to remember it: counted as allocated and freed at once. */
		sadd(&sh->free_obj, pd->wobj, shared);
		sadd(&sh->free_bytes, pd->wbytes, shared);
		atomic_fetch_add_explicit(&h->untracked, 1, memory_order_relaxed);
		goto out;
	}
	nd->site = s;
	nd->size = pd->n;
	nd->wobj = pd->wobj;
	nd->wbytes = pd->wbytes;
	nd->clock = pd->clock;
	nd->off = (uint32_t)off;
	nd->tslot = t->slot ? t->slot->index : 0xffff;
	nd->kind = pd->kind;
	if (off && cprof__heap_hdr_zone(q))
		((uint64_t *)q)[-1] = off | (uint64_t)(nd - h->nodes + 1) << 32; /* the header names its node */
	registry_insert(t, nd, q);
	peak_note(t, pd->wbytes);
out:
	cprof__heap_busy_exit(t);
	errno = saved;
}

/*
 * Account the end of a sampled block; freed: by free (not moved by
 * realloc), when the thread had allocated `now` bytes.
 */
static void release(struct heap_thread *t, struct heap_node *nd, bool freed, uint64_t now)
{
	struct heap_site *s = nd->site;
	unsigned si = shard_of(t);
	bool shared = si == HEAP_NSHARDS;
	struct heap_site_shard *sh = &s->shard[si];
	sadd(&sh->free_obj, nd->wobj, shared);
	sadd(&sh->free_bytes, nd->wbytes, shared);
	if (freed && t->slot && nd->tslot == t->slot->index && now - nd->clock <= HEAP_SHORT_BYTES) {
		sadd(&sh->short_obj, nd->wobj, shared);
		sadd(&sh->short_bytes, nd->wbytes, shared);
	}
	peak_note(t, -nd->wbytes);
	node_put(t, nd);
}

void *cprof__heap_forget(void *p)
{
	struct heap_thread *t = &cprof__heap_self;
	int saved = errno;
	uint64_t now = thread_clock(t);
	cprof__heap_busy_enter(t);
	struct heap_node *nd = registry_remove(t, p, false);
	void *base = p;
	if (nd) {
		if (nd->off) {
			((uint64_t *)p)[-2] = 0; /* a later block at this address must not look sampled */
			base = (char *)p - nd->off;
		}
		release(t, nd, true, now);
	}
	cprof__heap_busy_exit(t);
	errno = saved;
	return base;
}

size_t cprof__heap_offset(const void *p)
{
	struct heap_thread *t = &cprof__heap_self;
	if (!(__atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED) & HEAP_HOOK_FREE) || !cprof__heap_maybe_sampled(p))
		return 0;
	if (cprof__heap_hdr_zone(p)) {
		struct heap_node *n = hdr_node(p);
		return n ? n->off : 0;
	}
	cprof__heap_busy_enter(t);
	_Atomic uintptr_t *b = bucket_of(p);
	uintptr_t head = bucket_lock(t, b);
	size_t off = 0;
	for (struct heap_node *n = (struct heap_node *)head; n; n = n->next)
		if (n->ptr == (uintptr_t)p && n->kind != HEAP_KIND_NOTED) {
			off = n->off;
			break;
		}
	bucket_unlock(t, b, head);
	cprof__heap_busy_exit(t);
	return off;
}

/*
 * realloc of a block that may be sampled, or whose result may be: the
 * allocator's block is resized with room for the header at the old and the
 * new distance, and the data moved when the distance changes (a block
 * that stops or starts being sampled), so the allocator can still grow it
 * in place. The old block's sample is removed only when the call succeeds.
 */
void *cprof__heap_realloc(void *p, size_t n, void *(*real)(void *, size_t), size_t (*usable)(void *),
			  void *ret, void *sp)
{
	struct heap_thread *t = &cprof__heap_self;
	unsigned hk = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);
	struct heap_node *nd = NULL;
	if ((hk & HEAP_HOOK_FREE) && cprof__heap_maybe_sampled(p)) {
		cprof__heap_busy_enter(t);
		nd = registry_remove(t, p, false);
		cprof__heap_busy_exit(t);
	}
	size_t off = nd ? nd->off : 0;
	struct heap_pending pd = {.record = 0};
	if ((hk & HEAP_HOOK_SAMPLE) && n > 0 && (t->left -= (int64_t)n) < 0) {
		/* Grow or shrink is part of the sample's key: the old size is needed before the call. */
		size_t old = nd ? nd->size : usable ? usable(p) - off : 0;
		cprof__heap_sample_pre(&pd, n, n >= old ? HEAP_KIND_REALLOC_GROW : HEAP_KIND_REALLOC_SHRINK, ret, sp);
	}
	size_t noff = pd.node ? (off ? off : HEAP_HDR) : 0;
	size_t room = off > noff ? off : noff, total = n + room;
	char *base = (char *)p - off, *q;
	if (total < n) {
		errno = ENOMEM;
		q = NULL;
	} else {
		q = real(base, n == 0 ? 0 : total);
	}
	if (!q && n > 0) {
		/* Failed: the old block is still there, and still sampled. */
		if (nd) {
			cprof__heap_busy_enter(t);
			registry_insert(t, nd, p);
			cprof__heap_busy_exit(t);
		}
		cprof__heap_sample_commit(&pd, NULL, 0);
		return NULL;
	}
	if (q && n > 0 && off != noff)
		memmove(q + noff, q + off, n);
	if (q && n > 0) {
		q += noff;
		if (noff)
			cprof__heap_hdr_set(q, noff);
	}
	if (hk & HEAP_HOOK_COUNT) {
		cprof__heap_count_free();
		if (q)
			cprof__heap_count_alloc(n);
	}
	if (nd) {
		int saved = errno;
		uint64_t now = thread_clock(t);
		cprof__heap_busy_enter(t);
		release(t, nd, !q, now);
		cprof__heap_busy_exit(t);
		errno = saved;
	}
	cprof__heap_sample_commit(&pd, n > 0 ? q : NULL, noff);
	return q;
}

CPROF_API void cprof_heap_note_alloc(const void *p, size_t size)
{
	struct heap_thread *t = &cprof__heap_self;
	if (!p || !(__atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED) & HEAP_HOOK_SAMPLE))
		return;
	if ((t->left -= (int64_t)size) < 0) {
		struct heap_pending pd;
		cprof__heap_sample_pre(&pd, size, HEAP_KIND_NOTED, __builtin_return_address(0), NULL);
		cprof__heap_sample_commit(&pd, (void *)p, 0);
	}
}

CPROF_API void cprof_heap_note_free(const void *p)
{
	if (!p || !(__atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED) & HEAP_HOOK_FREE) ||
	    !cprof__heap_maybe_registered(p))
		return;
	struct heap_thread *t = &cprof__heap_self;
	int saved = errno;
	uint64_t now = thread_clock(t);
	cprof__heap_busy_enter(t);
	struct heap_node *nd = registry_remove(t, p, true);
	if (nd)
		release(t, nd, true, now);
	cprof__heap_busy_exit(t);
	errno = saved;
}

/* ---- peak ---- */

/* The in-use values of site s now, summed over its shards. */
void cprof__heap_site_sums(const struct heap_site *s, struct heap_sums *out)
{
	memset(out, 0, sizeof *out);
	for (int i = 0; i <= HEAP_NSHARDS; i++) {
		const struct heap_site_shard *sh = &s->shard[i];
		out->alloc_obj += atomic_load_explicit(&sh->alloc_obj, memory_order_relaxed);
		out->alloc_bytes += atomic_load_explicit(&sh->alloc_bytes, memory_order_relaxed);
		out->free_obj += atomic_load_explicit(&sh->free_obj, memory_order_relaxed);
		out->free_bytes += atomic_load_explicit(&sh->free_bytes, memory_order_relaxed);
		out->short_obj += atomic_load_explicit(&sh->short_obj, memory_order_relaxed);
		out->short_bytes += atomic_load_explicit(&sh->short_bytes, memory_order_relaxed);
		out->raw_obj += atomic_load_explicit(&sh->raw_obj, memory_order_relaxed);
		out->raw_bytes += atomic_load_explicit(&sh->raw_bytes, memory_order_relaxed);
	}
}

/* Copy every site's in-use values into its peak fields, when the heap is at a new high. */
static void peak_take(void)
{
	struct heap_state *h = &cprof__heap;
	uint32_t n = atomic_load(&h->nsite_list);
	int64_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct heap_site *s = &h->sites[h->site_list[i]];
		struct heap_sums v;
		cprof__heap_site_sums(s, &v);
		total += v.alloc_bytes - v.free_bytes;
	}
	if (total <= h->peak_bytes)
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct heap_site *s = &h->sites[h->site_list[i]];
		struct heap_sums v;
		cprof__heap_site_sums(s, &v);
		s->peak_obj = v.alloc_obj - v.free_obj;
		s->peak_bytes = v.alloc_bytes - v.free_bytes;
	}
	h->peak_bytes = total;
	h->peak_time = cprof__wall_ns();
	int64_t step = total / 64 > HEAP_FLUSH_BYTES ? total / 64 : HEAP_FLUSH_BYTES;
	atomic_store(&h->peak_trigger, total + step);
}

static void peak_snapshot(void)
{
	if (pthread_mutex_trylock(&cprof__heap.peak_lock) != 0)
		return;
	peak_take();
	pthread_mutex_unlock(&cprof__heap.peak_lock);
}

void cprof__heap_peak_update(void)
{
	pthread_mutex_lock(&cprof__heap.peak_lock);
	peak_take();
	pthread_mutex_unlock(&cprof__heap.peak_lock);
}

/* ---- start, stop, fork ---- */

static void atfork_prepare(void)
{
	cprof__sym_fork_prepare(); /* a session may take overflow_lock inside its own (symbolize.c) */
	pthread_mutex_lock(&start_lock);
	pthread_mutex_lock(&overflow_lock);
	pthread_mutex_lock(&cprof__heap.peak_lock);
	while (atomic_flag_test_and_set_explicit(&node_lock, memory_order_acquire))
		__builtin_ia32_pause();
}

static void atfork_parent(void)
{
	atomic_flag_clear_explicit(&node_lock, memory_order_release);
	pthread_mutex_unlock(&cprof__heap.peak_lock);
	pthread_mutex_unlock(&overflow_lock);
	pthread_mutex_unlock(&start_lock);
	cprof__sym_fork_parent();
}

static void atfork_child(void)
{
	cprof__sym_fork_child();
	atomic_flag_clear_explicit(&node_lock, memory_order_release);
	pthread_mutex_init(&cprof__heap.peak_lock, NULL);
	pthread_mutex_init(&overflow_lock, NULL);
	pthread_mutex_init(&start_lock, NULL);
	struct heap_thread *t = &cprof__heap_self;
	/* The other threads are gone: release the buckets they held and their slots. */
	for (int i = 0; i < HEAP_NSLOTS; i++) {
		struct heap_tslot *s = &tslots[i];
		if (s == t->slot)
			continue;
		_Atomic uintptr_t *b = atomic_load(&s->held);
		if (b) {
			atomic_fetch_and(b, ~(uintptr_t)1);
			atomic_store(&s->held, NULL);
		}
		_Atomic uintptr_t *g = atomic_load(&s->held_group);
		if (g) {
			/* Its trial locks are on empty buckets: they read 1. */
			for (int k = 0; k < 1 << HEAP_GROUP_SHIFT; k++) {
				uintptr_t one = 1;
				atomic_compare_exchange_strong(&g[k], &one, 0);
			}
			atomic_store(&s->held_group, NULL);
		}
		atomic_store(&s->owner, 0);
	}
	_Atomic uintptr_t *b = atomic_load(&overflow_held);
	if (b) {
		atomic_fetch_and(b, ~(uintptr_t)1);
		atomic_store(&overflow_held, NULL);
	}
	cprof__heap_after_fork_child();
}

static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/*
 * A program linked fully statically has no dynamic loader: its C library's
 * malloc wins over our weak interposers, and libgcc cannot unwind there.
 */
static bool statically_linked(void)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	size_t n = (size_t)getauxval(AT_PHNUM);
	for (size_t i = 0; ph && i < n; i++)
		if (ph[i].p_type == PT_INTERP)
			return false;
	return ph != NULL;
}

int cprof__heap_start(int64_t rate)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (rate < 0 || rate > HEAP_MAX_RATE)
		return -EINVAL;
	if (statically_linked())
		return -ENOTSUP;
	if (rate == 0)
		rate = CPROF_HEAP_DEFAULT_RATE;
	struct heap_thread *t = &cprof__heap_self;
	cprof__heap_busy_enter(t);
	pthread_once(&once, register_atfork);
	pthread_mutex_lock(&start_lock);
	int rc = 0;
	if (!cprof__heap.map)
		rc = map_tables();
	if (rc == 0) {
		if (cprof__config.unwinder == CPROF_UNWIND_DWARF)
			cprof__unwind_warmup();
		if (!cprof__self.stack_hi)
			cprof__threads_self_bounds();
		if (!atomic_load(&cprof__heap.started_ns))
			atomic_store(&cprof__heap.started_ns, cprof__wall_ns());
		atomic_store(&cprof__heap.rate, rate);
		atomic_fetch_add(&cprof__heap.gen, 1);
		cprof__heap_hooks_change(HEAP_HOOK_SAMPLE | HEAP_HOOK_FREE, 1);
	}
	pthread_mutex_unlock(&start_lock);
	cprof__heap_busy_exit(t);
	return rc;
}

CPROF_API int cprof_heap_profile_start(long rate)
{
	return cprof__heap_start(rate);
}

CPROF_API int cprof_heap_profile_stop(void)
{
	if (!(__atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED) & HEAP_HOOK_SAMPLE))
		return -ESRCH;
	/* Frees keep being looked up: blocks sampled so far must leave the in-use totals when freed. */
	cprof__heap_hooks_change(HEAP_HOOK_SAMPLE, 0);
	return 0;
}

void cprof__heap_ignore_begin(void)
{
	cprof__heap_busy_enter(&cprof__heap_self);
}

void cprof__heap_ignore_end(void)
{
	cprof__heap_busy_exit(&cprof__heap_self);
}

bool cprof__heap_active(void)
{
	return cprof__heap.map != NULL;
}

CPROF_API int cprof_heap_profile_stats(struct cprof_heap_stats *st)
{
	if (!st)
		return -EINVAL;
	struct heap_state *h = &cprof__heap;
	memset(st, 0, sizeof *st);
	st->rate = atomic_load(&h->rate);
	st->samples = cprof__heap_samples();
	st->lost = atomic_load(&h->lost_samples);
	st->untracked = atomic_load(&h->untracked);
	st->sites = h->map ? atomic_load(&h->nsite_list) - 1 : 0;
	st->peak_bytes = h->peak_bytes > 0 ? (uint64_t)h->peak_bytes : 0;
	st->own_bytes = cprof__heap_own_bytes();
	if (h->map) {
		uint32_t n = atomic_load(&h->nsite_list);
		int64_t inuse = 0, alloc = 0;
		for (uint32_t i = 0; i < n; i++) {
			struct heap_sums v;
			cprof__heap_site_sums(&h->sites[h->site_list[i]], &v);
			inuse += v.alloc_bytes - v.free_bytes;
			alloc += v.alloc_bytes;
		}
		st->inuse_bytes = inuse > 0 ? (uint64_t)inuse : 0;
		st->alloc_bytes = alloc > 0 ? (uint64_t)alloc : 0;
	}
	return 0;
}

/* Resident bytes of the profiler's tables (mincore over its one mapping). */
uint64_t cprof__heap_own_bytes(void)
{
	struct heap_state *h = &cprof__heap;
	if (!h->map)
		return 0;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	size_t npages = h->map_len / ps;
	unsigned char vec[4096];
	uint64_t resident = 0;
	for (size_t i = 0; i < npages; i += sizeof vec) {
		size_t k = npages - i < sizeof vec ? npages - i : sizeof vec;
		if (mincore((char *)h->map + i * ps, k * ps, vec) != 0)
			return (uint64_t)atomic_load(&h->nodes_used) * sizeof(struct heap_node);
		for (size_t j = 0; j < k; j++)
			resident += vec[j] & 1;
	}
	return resident * ps;
}
