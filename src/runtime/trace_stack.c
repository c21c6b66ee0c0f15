/*
 * trace_stack.c - the execution trace's stacks: interning a stack into a
 * stack id from any context (the blocking wrappers, the CPU profiler's
 * signal handler), and, on the trace's writer thread, turning new stacks
 * into the file's symbol, location and stack records (docs/FORMAT.md,
 * "Execution trace": Y, L, K) with function, file, line and inlined frames.
 * It does not decide when stacks are taken (trace.c, prof_block.c,
 * prof_cpu.c) and does not write files (trace.c writes what it returns).
 *
 * Interning is lock-free over memory mapped once: a hash slot is claimed
 * with compare-and-swap, the stack's id and frames come from atomic
 * counters, and the entry is published with a release store, so a signal
 * handler that interrupts an insert never waits for it (a slot still being
 * filled is passed over; at worst one stack gets two ids). Ids are dense
 * and live as long as the process, like the trace's strings.
 *
 * The writer keeps every definition it made in one buffer (records ready
 * to write), so that a new trace file or a flight recorder snapshot starts
 * with all of them; symbolization happens once per stack per process.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "proto/profile.h"
#include "runtime/rt.h"
#include "runtime/trace_int.h"

#define SLOTS (1u << 16)      /* hash slots (power of two) */
#define STACKS (1u << 15)     /* stack ids */
#define FRAMES (1u << 20)     /* frames of all stacks */
#define MAX_PROBE 64
#define SLOT_BUSY UINT32_MAX
#define DEFS_CAP (64u << 20)  /* bytes of definitions kept */
#define SESSION_MAX_NS 1000000000LL /* a symbolization session holds dlclose's bookkeeping: not longer */

enum { E_EMPTY = 0, E_READY = 1, E_DEAD = 2 };

struct entry {
	uint64_t hash;
	uint32_t off;
	uint16_t n;
	uint8_t leaf_is_pc;
	_Atomic uint8_t state;
};

static struct {
	_Atomic uint32_t *slot;
	struct entry *ent;    /* [STACKS + 1], index = id */
	uintptr_t *frames;
	_Atomic uint32_t next_id;
	_Atomic uint32_t frames_used;
	_Atomic uint64_t lost;
} K;

static uint64_t hash_stack(const uintptr_t *pcs, int n, bool leaf)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n ^ (leaf ? 0x5bd1e995ull : 0);
	for (int i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

int cprof__tstack_setup(void)
{
	if (K.slot)
		return 0;
	size_t sz = SLOTS * sizeof(uint32_t) + (STACKS + 1) * sizeof(struct entry) + FRAMES * sizeof(uintptr_t);
	void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	K.frames = p;
	K.ent = (struct entry *)(K.frames + FRAMES);
	__atomic_store_n(&K.slot, (_Atomic uint32_t *)(K.ent + STACKS + 1), __ATOMIC_RELEASE);
	return 0;
}

/*
 * The stacks of blocking calls, cached per thread. A program waits at the
 * same few call sites again and again, from the same frames: the walk
 * (libgcc's DWARF unwinder, about a microsecond) is done once per site and
 * frame address. An entry keeps the call's return address (ra) and where
 * it was pushed (base), the stack's id, and where each of the stack's
 * return addresses lies above base, with a hash of their values. It
 * serves a later call with the same ra pushed at the same base while the
 * same return addresses are at the same places, which is the same chain of
 * calls: every frame is read again and compared, so a caller that changed
 * below an unchanged base misses. Only frames inside the thread's own stack
 * (cprof__self.stack_lo/hi) are cached: those reads cannot fault.
 *
 * The entries live in pages of their own, mapped on a thread's first
 * blocking call while a trace runs and unmapped when the thread ends.
 */
#define SC_WAYS 8

struct scache {
	uintptr_t ra, base;
	uint64_t sum;
	uint32_t sid;
	uint32_t n;
	uint32_t off[CPROF_TRACE_DEPTH]; /* return address i is at base + off[i] */
};

static CPROF_TLS struct scache *scache;
static CPROF_TLS bool scache_failed;

static uint64_t sc_sum(uintptr_t base, const uint32_t *off, uint32_t n)
{
	uint64_t h = n;
	for (uint32_t i = 0; i < n; i++) {
		h ^= *(const uintptr_t *)(base + off[i]);
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	return h;
}

void cprof__tstack_thread_done(void)
{
	if (scache)
		munmap(scache, SC_WAYS * sizeof *scache);
	scache = NULL;
}

uint32_t cprof__tstack_caller(const void *ra, uintptr_t base)
{
	uintptr_t lo = cprof__self.stack_lo, hi = cprof__self.stack_hi;
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	bool cacheable = base && lo && here >= lo && here < base && base < hi;
	struct scache *e = NULL;
	if (cacheable && !scache && !scache_failed) {
		void *p = mmap(NULL, SC_WAYS * sizeof *scache, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);
		if (p == MAP_FAILED)
			scache_failed = true;
		else
			scache = p;
	}
	if (cacheable && scache) {
		e = &scache[((uintptr_t)ra >> 2 ^ base >> 4) % SC_WAYS];
		if (e->ra == (uintptr_t)ra && e->base == base && e->n && base + e->off[e->n - 1] < hi &&
		    sc_sum(base, e->off, e->n) == e->sum)
			return e->sid;
	}
	enum { EXTRA = 6, CAP = CPROF_TRACE_DEPTH + EXTRA };
	uintptr_t pcs[CAP], at[CAP];
	int n = cprof__unwind_self_at(pcs, at, CAP, 0);
	int start = -1;
	for (int i = 0; i < n && i < EXTRA; i++) {
		if (pcs[i] == (uintptr_t)ra) {
			start = i;
			break;
		}
	}
	if (start < 0)
		return cprof__tstack_intern((const uintptr_t *)&ra, 1, false); /* its site at least */
	int m = n - start < CPROF_TRACE_DEPTH ? n - start : CPROF_TRACE_DEPTH;
	uint32_t sid = cprof__tstack_intern(pcs + start, m, false);
	if (!e || !sid || at[start] != base)
		return sid;
	/* Cached when every frame was a call's, in order, on this stack. */
	e->n = 0;
	for (int i = 0; i < m; i++) {
		uintptr_t a = at[start + i];
		if (!a || a < base || a >= hi - sizeof(uintptr_t) || (i && a <= at[start + i - 1]) ||
		    a - base > UINT32_MAX)
			return sid;
		e->off[i] = (uint32_t)(a - base);
	}
	e->ra = (uintptr_t)ra;
	e->base = base;
	e->n = (uint32_t)m;
	e->sid = sid;
	e->sum = sc_sum(base, e->off, e->n);
	return sid;
}

uint32_t cprof__tstack_intern(const uintptr_t *pcs, int n, bool leaf_is_pc)
{
	_Atomic uint32_t *slots = __atomic_load_n(&K.slot, __ATOMIC_ACQUIRE);
	if (!slots || n <= 0)
		return 0;
	if (n > CPROF_TRACE_DEPTH)
		n = CPROF_TRACE_DEPTH;
	uint64_t h = hash_stack(pcs, n, leaf_is_pc);
	uint32_t i = (uint32_t)(h >> 20) & (SLOTS - 1);
	for (int probe = 0; probe < MAX_PROBE; probe++, i = (i + 1) & (SLOTS - 1)) {
		uint32_t s = atomic_load_explicit(&slots[i], memory_order_acquire);
		if (s == 0) {
			uint32_t zero = 0;
			if (!atomic_compare_exchange_strong_explicit(&slots[i], &zero, SLOT_BUSY, memory_order_acq_rel,
								     memory_order_acquire)) {
				s = zero;
				goto compare;
			}
			uint32_t id = atomic_fetch_add_explicit(&K.next_id, 1, memory_order_relaxed) + 1;
			uint32_t off = id <= STACKS
					       ? atomic_fetch_add_explicit(&K.frames_used, (uint32_t)n, memory_order_relaxed)
					       : FRAMES;
			if (id > STACKS || off + (uint32_t)n > FRAMES) {
				if (id <= STACKS)
					atomic_store_explicit(&K.ent[id].state, E_DEAD, memory_order_release);
				atomic_store_explicit(&slots[i], 0, memory_order_release);
				atomic_fetch_add_explicit(&K.lost, 1, memory_order_relaxed);
				return 0;
			}
			struct entry *e = &K.ent[id];
			memcpy(K.frames + off, pcs, (size_t)n * sizeof *pcs);
			e->hash = h;
			e->off = off;
			e->n = (uint16_t)n;
			e->leaf_is_pc = leaf_is_pc;
			atomic_store_explicit(&e->state, E_READY, memory_order_release);
			atomic_store_explicit(&slots[i], id, memory_order_release);
			return id;
		}
	compare:
		if (s == SLOT_BUSY || s == 0)
			continue; /* being filled: not waited for */
		const struct entry *e = &K.ent[s];
		if (e->hash == h && e->n == (uint16_t)n && e->leaf_is_pc == leaf_is_pc &&
		    memcmp(K.frames + e->off, pcs, (size_t)n * sizeof *pcs) == 0)
			return s;
	}
	atomic_fetch_add_explicit(&K.lost, 1, memory_order_relaxed);
	return 0;
}

uint64_t cprof__tstack_lost(void)
{
	return atomic_load(&K.lost);
}

/* ---- the writer's side: symbols, locations, stacks ---- */

struct bytes {
	uint8_t *p;
	size_t n, cap;
};

static struct {
	struct bytes defs;     /* every record made so far */
	uint32_t done;         /* ids below this are all defined (or dead) */
	uint8_t *defined;      /* [STACKS + 1] */
	/* symbol strings -> ids */
	struct sym { char *s; uint32_t id; } *syms;
	size_t sym_cap, nsym;
	/* (pc, leaf) -> location id */
	struct locmap { uint64_t key; uint32_t id; } *locs;
	size_t loc_cap, nloc;
	struct profile *p;     /* the open symbolization session, or NULL */
	struct rt_sym *s;
	int64_t session_start;
	bool full;             /* DEFS_CAP reached: no more definitions */
} W;

static int grow(struct bytes *b, size_t more)
{
	if (b->n + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->n + more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int put_uv(struct bytes *b, uint64_t v)
{
	if (grow(b, 10))
		return -ENOMEM;
	while (v >= 0x80) {
		b->p[b->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->n++] = (uint8_t)v;
	return 0;
}

static int put_bytes(struct bytes *b, const void *s, size_t n)
{
	if (grow(b, n))
		return -ENOMEM;
	memcpy(b->p + b->n, s, n);
	b->n += n;
	return 0;
}

static uint64_t hash_s(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The symbol id of s, defining it in ys when new; 0 on out of memory. */
static uint32_t sym_id(const char *s, struct bytes *ys)
{
	if (!s || !*s)
		return 0;
	if ((W.nsym + 1) * 2 > W.sym_cap) {
		size_t cap = W.sym_cap ? W.sym_cap * 2 : 1024;
		struct sym *v = calloc(cap, sizeof *v);
		if (!v)
			return 0;
		for (size_t i = 0; i < W.sym_cap; i++) {
			if (!W.syms[i].s)
				continue;
			size_t j = hash_s(W.syms[i].s) & (cap - 1);
			while (v[j].s)
				j = (j + 1) & (cap - 1);
			v[j] = W.syms[i];
		}
		free(W.syms);
		W.syms = v;
		W.sym_cap = cap;
	}
	size_t j = hash_s(s) & (W.sym_cap - 1);
	while (W.syms[j].s) {
		if (strcmp(W.syms[j].s, s) == 0)
			return W.syms[j].id;
		j = (j + 1) & (W.sym_cap - 1);
	}
	char *c = strdup(s);
	size_t len = strlen(s);
	if (!c || put_uv(ys, W.nsym + 1) || put_uv(ys, len) || put_bytes(ys, s, len)) {
		free(c);
		return 0;
	}
	W.syms[j].s = c;
	W.syms[j].id = (uint32_t)++W.nsym;
	return W.syms[j].id;
}

static size_t loc_pos(uint64_t key)
{
	size_t j = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (W.loc_cap - 1);
	while (W.locs[j].id && W.locs[j].key != key)
		j = (j + 1) & (W.loc_cap - 1);
	return j;
}

/* The location id of pc (leaf: an interrupted instruction), named and defined in ls when new; 0 on error. */
static uint32_t loc_id(uintptr_t pc, bool leaf, struct bytes *ys, struct bytes *ls)
{
	if ((W.nloc + 1) * 2 > W.loc_cap) {
		size_t cap = W.loc_cap ? W.loc_cap * 2 : 4096;
		struct locmap *old = W.locs;
		size_t ocap = W.loc_cap;
		W.locs = calloc(cap, sizeof *W.locs);
		if (!W.locs) {
			W.locs = old;
			return 0;
		}
		W.loc_cap = cap;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].id)
				W.locs[loc_pos(old[i].key)] = old[i];
		free(old);
	}
	uint64_t key = ((uint64_t)pc << 1) | (leaf ? 1 : 0);
	size_t j = loc_pos(key);
	if (W.locs[j].id)
		return W.locs[j].id;
	uint64_t pid = 0;
	const struct pp_location *l = NULL;
	if (cprof__sym_stack(W.s, &pc, 1, leaf, &pid) == 1)
		l = cprof__profile_location(W.p, pid);
	uint32_t id = (uint32_t)W.nloc + 1;
	uint32_t fn[64], file[64];
	int64_t line[64];
	size_t n = 0;
	for (size_t k = 0; l && k < l->nline && n < 64; k++) {
		const struct pp_function *f = cprof__profile_function(W.p, l->line[k].function_id);
		if (!f)
			continue;
		fn[n] = sym_id(cprof__profile_str(W.p, f->name), ys);
		file[n] = sym_id(cprof__profile_str(W.p, f->filename), ys);
		line[n] = l->line[k].line > 0 ? l->line[k].line : 0;
		n++;
	}
	if (put_uv(ls, id) || put_uv(ls, pc) || put_uv(ls, n))
		return 0;
	for (size_t k = 0; k < n; k++)
		if (put_uv(ls, fn[k]) || put_uv(ls, file[k]) || put_uv(ls, (uint64_t)line[k]))
			return 0;
	W.locs[j].key = key;
	W.locs[j].id = id;
	W.nloc++;
	return id;
}

static int append_record(int kind, const struct bytes *body)
{
	if (!body->n)
		return 0;
	uint32_t len = (uint32_t)body->n;
	uint8_t h[5] = {(uint8_t)kind};
	memcpy(h + 1, &len, 4);
	if (put_bytes(&W.defs, h, 5) || put_bytes(&W.defs, body->p, body->n))
		return -ENOMEM;
	return 0;
}

/*
 * The session is let go of before it ends: cprof__sym_end releases the
 * session lock, a fork waiting for that lock may then run at once, and its
 * child must not find the ended session still named here (its writer
 * would use it, or end it twice).
 */
static void session_end(void)
{
	struct rt_sym *s = W.s;
	struct profile *p = W.p;
	if (!s)
		return;
	W.s = NULL;
	W.p = NULL;
	cprof__sym_end(s);
	cprof__profile_free(p);
}

static int symbolize(void)
{
	if (!K.slot)
		return 0;
	uint32_t top = atomic_load_explicit(&K.next_id, memory_order_acquire);
	if (top > STACKS)
		top = STACKS;
	if (!W.defined && !(W.defined = calloc(STACKS + 1, 1)))
		return -ENOMEM;
	bool any = false;
	for (uint32_t id = W.done + 1; id <= top && !any; id++)
		any = !W.defined[id] && atomic_load_explicit(&K.ent[id].state, memory_order_acquire) == E_READY;
	if (!any || W.full) {
		/* Nothing new: a session left open is ended once idle. */
		session_end();
		return 0;
	}
	if (!W.s) {
		W.p = cprof__profile_new();
		W.s = W.p ? cprof__sym_begin(W.p) : NULL;
		if (!W.s) {
			cprof__profile_free(W.p);
			W.p = NULL;
			return -ENOMEM;
		}
		W.session_start = cprof__now_ns();
	}
	struct bytes ys = {0}, ls = {0}, ks = {0};
	int rc = 0;
	uint32_t id;
	for (id = W.done + 1; id <= top && !rc; id++) {
		if (W.defined[id])
			continue;
		struct entry *e = &K.ent[id];
		int st = atomic_load_explicit(&e->state, memory_order_acquire);
		if (st == E_DEAD) {
			W.defined[id] = 1;
			continue;
		}
		if (st != E_READY)
			continue; /* still being filled: next time */
		uint32_t lids[CPROF_TRACE_DEPTH];
		int n = 0;
		for (int i = 0; i < e->n; i++) {
			uint32_t l = loc_id(K.frames[e->off + i], e->leaf_is_pc && i == 0, &ys, &ls);
			if (!l) {
				rc = -ENOMEM;
				break;
			}
			lids[n++] = l;
		}
		if (rc)
			break;
		if (put_uv(&ks, id) || put_uv(&ks, (uint64_t)n)) {
			rc = -ENOMEM;
			break;
		}
		for (int i = 0; i < n && !rc; i++)
			rc = put_uv(&ks, lids[i]);
		W.defined[id] = 1;
	}
	/* Symbols before the locations naming them, locations before stacks. */
	if (!rc)
		rc = append_record('Y', &ys);
	if (!rc)
		rc = append_record('L', &ls);
	if (!rc)
		rc = append_record('K', &ks);
	free(ys.p);
	free(ls.p);
	free(ks.p);
	while (W.done < top && W.defined[W.done + 1])
		W.done++;
	if (W.defs.n > DEFS_CAP)
		W.full = true;
	if (cprof__now_ns() - W.session_start > SESSION_MAX_NS)
		session_end();
	return rc;
}

int cprof__tstack_symbolize(void)
{
	if (!K.slot)
		return 0;
	/* The definitions, the writer's tables and the open session's symbols: not the program's heap. */
	cprof__arena_begin();
	int rc = symbolize();
	cprof__arena_end();
	return rc;
}

const uint8_t *cprof__tstack_defs(size_t *len)
{
	*len = W.defs.n;
	return W.defs.p;
}

void cprof__tstack_writer_done(void)
{
	session_end();
}
