/*
 * waittab.c - the table the wait profilers (block and mutex) record into:
 * one entry per distinct (stack, labels, reason), holding a contention count
 * and a delay in nanoseconds.
 *
 * Recording happens inside interposed lock and system-call wrappers, which
 * may run inside the program's allocator or a signal handler's lock call,
 * so, like stacktab.c's table for CPU samples, this one lives in memory
 * mapped once, claims entries with compare-and-swap, takes frames from a
 * bump allocator, and never blocks, allocates or locks. Two threads adding
 * the same new key at once may create two entries; the profile builder
 * emits both, which pprof adds up. A full table refuses the event, and the
 * caller counts it as lost.
 *
 * It knows nothing about locks, clocks or sampling rates (prof_block.c).
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime/rt.h"

#define HASH_EMPTY 0
#define HASH_BUSY 1
#define MAX_PROBE 64

struct wentry {
	_Atomic uint64_t hash; /* HASH_EMPTY, HASH_BUSY, or the key's hash (>= 2) */
	uint32_t depth;
	uint32_t off; /* first frame in frames[] */
	const void *labels;
	const char *reason;
	_Atomic uint64_t count; /* fixed point: CPROF_WAIT_ONE per contention */
	_Atomic uint64_t delay; /* nanoseconds */
};

struct waittab {
	struct wentry *entries;
	size_t mask;
	uintptr_t *frames;
	size_t nframes;
	_Atomic size_t used;
	size_t map_len;
};

static uint64_t hash_key(const uintptr_t *pcs, int n, const void *labels, const char *reason)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
	h ^= (uint64_t)(uintptr_t)labels * 0xc2b2ae3d27d4eb4full;
	h ^= (uint64_t)(uintptr_t)reason * 0x165667b19e3779f9ull;
	for (int i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h < 2 ? h + 2 : h;
}

struct waittab *cprof__waittab_new(size_t nentries, size_t nframes)
{
	size_t n = 1;
	while (n < nentries)
		n <<= 1;
	size_t len = sizeof(struct waittab) + n * sizeof(struct wentry) + nframes * sizeof(uintptr_t);
	len = (len + 4095) & ~(size_t)4095;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct waittab *t = m;
	t->entries = (struct wentry *)(t + 1);
	t->mask = n - 1;
	t->frames = (uintptr_t *)(t->entries + n);
	t->nframes = nframes;
	atomic_init(&t->used, 0);
	t->map_len = len;
	return t;
}

void cprof__waittab_reset(struct waittab *t)
{
	memset(t->entries, 0, (t->mask + 1) * sizeof(struct wentry));
	atomic_store(&t->used, 0);
}

int cprof__waittab_add(struct waittab *t, const uintptr_t *pcs, int n, const void *labels,
		       const char *reason, uint64_t count, uint64_t delay)
{
	uint64_t h = hash_key(pcs, n, labels, reason);
	size_t i = (size_t)h & t->mask;
	for (int probe = 0; probe < MAX_PROBE; probe++, i = (i + 1) & t->mask) {
		struct wentry *e = &t->entries[i];
		uint64_t cur = atomic_load_explicit(&e->hash, memory_order_acquire);
		if (cur == h) {
			if (e->depth == (uint32_t)n && e->labels == labels && e->reason == reason &&
			    memcmp(&t->frames[e->off], pcs, n * sizeof(uintptr_t)) == 0) {
				atomic_fetch_add_explicit(&e->count, count, memory_order_relaxed);
				atomic_fetch_add_explicit(&e->delay, delay, memory_order_relaxed);
				return 0;
			}
			continue;
		}
		if (cur != HASH_EMPTY)
			continue; /* another key, or one being written: probe on */
		uint64_t expect = HASH_EMPTY;
		if (!atomic_compare_exchange_strong(&e->hash, &expect, HASH_BUSY))
			continue;
		size_t off = atomic_fetch_add(&t->used, (size_t)n);
		if (off + n > t->nframes) {
			atomic_store(&e->hash, HASH_EMPTY);
			return -ENOSPC;
		}
		memcpy(&t->frames[off], pcs, n * sizeof(uintptr_t));
		e->depth = (uint32_t)n;
		e->off = (uint32_t)off;
		e->labels = labels;
		e->reason = reason;
		atomic_store_explicit(&e->count, count, memory_order_relaxed);
		atomic_store_explicit(&e->delay, delay, memory_order_relaxed);
		atomic_store_explicit(&e->hash, h, memory_order_release);
		return 0;
	}
	return -ENOSPC;
}

void cprof__waittab_foreach_id(struct waittab *t,
			       void (*fn)(size_t id, const uintptr_t *pcs, int n, const void *labels,
					  const char *reason, uint64_t count, uint64_t delay, void *arg),
			       void *arg)
{
	for (size_t i = 0; i <= t->mask; i++) {
		struct wentry *e = &t->entries[i];
		uint64_t h = atomic_load_explicit(&e->hash, memory_order_acquire);
		if (h < 2)
			continue;
		fn(i, &t->frames[e->off], (int)e->depth, e->labels, e->reason, atomic_load(&e->count),
		   atomic_load(&e->delay), arg);
	}
}

void cprof__waittab_foreach(struct waittab *t,
			    void (*fn)(const uintptr_t *pcs, int n, const void *labels, const char *reason,
				       uint64_t count, uint64_t delay, void *arg),
			    void *arg)
{
	for (size_t i = 0; i <= t->mask; i++) {
		struct wentry *e = &t->entries[i];
		uint64_t h = atomic_load_explicit(&e->hash, memory_order_acquire);
		if (h < 2)
			continue;
		fn(&t->frames[e->off], (int)e->depth, e->labels, e->reason, atomic_load(&e->count),
		   atomic_load(&e->delay), arg);
	}
}
