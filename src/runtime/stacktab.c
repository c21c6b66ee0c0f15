/*
 * stacktab.c - the lock-free table of stacks that every recording path
 * adds to from any context: the CPU profiler's signal handler (a stack and
 * its label set, one weight) and the block and mutex profilers' wrappers
 * (a stack, its label set and a reason, a contention count and a delay).
 *
 * Open addressing over memory mapped once when profiling starts; entries
 * are claimed with compare-and-swap and frames come from a bump allocator,
 * so recording never blocks, never allocates and never takes a lock. Two
 * threads inserting the same new key at the same moment may each create
 * an entry; the profile writer merges equal stacks (pprof adds up equal
 * samples), so that costs a little space and nothing else. When the table
 * or the frame area is full the sample is refused and the caller counts it
 * as lost.
 *
 * A key is a stack and up to two tags, opaque pointers (a label set from
 * labels.c, a reason string): one stack under two label sets is two
 * entries. Each entry holds STACKTAB_VALUES counters, of which a caller
 * adds to as many as its values count says.
 *
 * It knows nothing of signals, timers, locks, labels or symbols.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime/rt.h"

#define HASH_EMPTY 0
#define HASH_BUSY 1
#define MAX_PROBE 64

struct entry {
	_Atomic uint64_t hash; /* HASH_EMPTY, HASH_BUSY, or the key's hash (>= 2) */
	uint32_t depth;
	uint32_t off;          /* first frame in frames[] */
	const void *tag, *tag2;
	_Atomic uint64_t v[STACKTAB_VALUES];
};

struct stacktab {
	struct entry *entries;
	size_t mask;
	uintptr_t *frames;
	size_t nframes;
	_Atomic size_t used;
	size_t map_len;
};

static inline __attribute__((always_inline)) uint64_t hash_key(const uintptr_t *pcs, int n, const void *tag,
							      const void *tag2)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n ^ ((uint64_t)(uintptr_t)tag * 0xc2b2ae3d27d4eb4full) ^
		     ((uint64_t)(uintptr_t)tag2 * 0x165667b19e3779f9ull);
	for (int i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h < 2 ? h + 2 : h;
}

struct stacktab *cprof__stacktab_new(size_t nentries, size_t nframes)
{
	size_t n = 1;
	while (n < nentries)
		n <<= 1;
	size_t len = sizeof(struct stacktab) + n * sizeof(struct entry) + nframes * sizeof(uintptr_t);
	len = (len + 4095) & ~(size_t)4095;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct stacktab *t = m;
	t->entries = (struct entry *)(t + 1);
	t->mask = n - 1;
	t->frames = (uintptr_t *)(t->entries + n);
	t->nframes = nframes;
	atomic_init(&t->used, 0);
	t->map_len = len;
	return t;
}

void cprof__stacktab_free(struct stacktab *t)
{
	if (t)
		munmap(t, t->map_len);
}

/*
 * The one insert, inlined into each entry point so that the CPU profiler's
 * (one value, no second tag) compiles to no more than it needs.
 */
static inline __attribute__((always_inline)) int insert(struct stacktab *t, const uintptr_t *pcs, int n,
							const void *tag, const void *tag2, const uint64_t *v, int nv)
{
	uint64_t h = hash_key(pcs, n, tag, tag2);
	size_t i = (size_t)h & t->mask;
	for (int probe = 0; probe < MAX_PROBE; probe++, i = (i + 1) & t->mask) {
		struct entry *e = &t->entries[i];
		uint64_t cur = atomic_load_explicit(&e->hash, memory_order_acquire);
		if (cur == h) {
			if (e->depth == (uint32_t)n && e->tag == tag && e->tag2 == tag2 &&
			    memcmp(&t->frames[e->off], pcs, n * sizeof(uintptr_t)) == 0) {
				for (int k = 0; k < nv; k++)
					atomic_fetch_add_explicit(&e->v[k], v[k], memory_order_relaxed);
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
		e->tag = tag;
		e->tag2 = tag2;
		for (int k = 0; k < STACKTAB_VALUES; k++)
			atomic_store_explicit(&e->v[k], k < nv ? v[k] : 0, memory_order_relaxed);
		atomic_store_explicit(&e->hash, h, memory_order_release);
		return 0;
	}
	return -ENOSPC;
}

int cprof__stacktab_add(struct stacktab *t, const uintptr_t *pcs, int n, uint64_t weight)
{
	return insert(t, pcs, n, NULL, NULL, &weight, 1);
}

int cprof__stacktab_add_tagged(struct stacktab *t, const uintptr_t *pcs, int n, const void *tag,
			       uint64_t weight)
{
	return insert(t, pcs, n, tag, NULL, &weight, 1);
}

int cprof__stacktab_add_key(struct stacktab *t, const uintptr_t *pcs, int n, const void *tag, const void *tag2,
			    const uint64_t *v, int nv)
{
	if (nv < 1 || nv > STACKTAB_VALUES)
		return -EINVAL;
	return insert(t, pcs, n, tag, tag2, v, nv);
}

void cprof__stacktab_foreach_key(struct stacktab *t,
				 void (*fn)(size_t id, const uintptr_t *pcs, int n, const void *tag,
					    const void *tag2, const uint64_t *v, void *arg),
				 void *arg)
{
	for (size_t i = 0; i <= t->mask; i++) {
		struct entry *e = &t->entries[i];
		uint64_t h = atomic_load_explicit(&e->hash, memory_order_acquire);
		if (h < 2)
			continue;
		uint64_t v[STACKTAB_VALUES];
		for (int k = 0; k < STACKTAB_VALUES; k++)
			v[k] = atomic_load_explicit(&e->v[k], memory_order_relaxed);
		fn(i, &t->frames[e->off], (int)e->depth, e->tag, e->tag2, v, arg);
	}
}

struct tagged {
	void (*fn)(const uintptr_t *pcs, int n, const void *tag, uint64_t weight, void *arg);
	void *arg;
};

static void call_tagged(size_t id, const uintptr_t *pcs, int n, const void *tag, const void *tag2,
			const uint64_t *v, void *arg)
{
	(void)id;
	(void)tag2;
	struct tagged *x = arg;
	x->fn(pcs, n, tag, v[0], x->arg);
}

void cprof__stacktab_foreach_tagged(struct stacktab *t,
				    void (*fn)(const uintptr_t *pcs, int n, const void *tag, uint64_t weight,
					       void *arg),
				    void *arg)
{
	struct tagged x = {fn, arg};
	cprof__stacktab_foreach_key(t, call_tagged, &x);
}

struct untagged {
	void (*fn)(const uintptr_t *pcs, int n, uint64_t weight, void *arg);
	void *arg;
};

static void call_untagged(const uintptr_t *pcs, int n, const void *tag, uint64_t weight, void *arg)
{
	(void)tag;
	struct untagged *u = arg;
	u->fn(pcs, n, weight, u->arg);
}

void cprof__stacktab_foreach(struct stacktab *t,
			     void (*fn)(const uintptr_t *pcs, int n, uint64_t weight, void *arg),
			     void *arg)
{
	struct untagged u = {fn, arg};
	cprof__stacktab_foreach_tagged(t, call_untagged, &u);
}

void cprof__stacktab_clear(struct stacktab *t)
{
	for (size_t i = 0; i <= t->mask; i++)
		if (atomic_load_explicit(&t->entries[i].hash, memory_order_relaxed) != HASH_EMPTY)
			memset(&t->entries[i], 0, sizeof t->entries[i]);
	atomic_store(&t->used, 0);
}

void cprof__stacktab_rewrite(struct stacktab *t, uintptr_t lo, uintptr_t hi,
			     uintptr_t (*f)(uintptr_t pc, void *arg), void *arg)
{
	size_t used = atomic_load(&t->used);
	if (used > t->nframes)
		used = t->nframes;
	for (size_t i = 0; i < used; i++) {
		uintptr_t pc = t->frames[i];
		if (pc >= lo && pc < hi)
			t->frames[i] = f(pc, arg);
	}
}
