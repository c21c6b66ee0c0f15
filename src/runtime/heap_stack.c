/*
 * heap_stack.c - the stack of a sampled allocation, and a per-thread cache
 * that makes recording every allocation (rate 1) affordable without frame
 * pointers.
 *
 * A DWARF walk costs about a tenth of a microsecond per frame. But an
 * allocation site is usually reached again and again through the same
 * chain of calls, at the same stack depth. So each walk also notes where on
 * the stack every return address it read was stored (the frame's stack
 * pointer after the call, minus 8). The next allocation made from the same call instruction
 * with the same stack pointer looks the stack up in a small direct-mapped
 * per-thread cache (16 sets of 4 ways) and checks that every one of those stack slots still
 * holds the return address recorded: if all match, the walk would read the
 * same frames, and its result is reused. Any mismatch falls back to the
 * walk. Only slots inside the thread's known stack bounds are ever read.
 *
 * With CPROF_UNWIND=fp the frame-pointer walk is cheap already and the
 * cache is not used.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unwind.h>

#include "runtime/heap.h"
#include "runtime/heap_int.h"
#include "runtime/rt.h"

#define CACHE_SETS 16
#define CACHE_WAYS 4
#define CACHE_DEPTH CPROF_DEFAULT_DEPTH /* with a deeper CPROF_MAX_DEPTH, stacks are walked every time */

struct centry {
	uintptr_t sp, ret;
	uint32_t depth;
	uint32_t off[CACHE_DEPTH]; /* slot of pcs[i]: sp - 8 + off[i] */
	uintptr_t pcs[CACHE_DEPTH];
	struct heap_site *site; /* the site last found for this stack, with: */
	const void *labels;
	uint32_t kind;
};

struct scache {
	struct centry e[CACHE_SETS * CACHE_WAYS];
	unsigned victim;
};

static CPROF_TLS struct scache *cache;
static CPROF_TLS uint8_t cache_failed;

struct walk {
	uintptr_t *pcs;
	uint32_t *off;
	int n, max;
	uintptr_t ret, sp, base, hi;
	int started, steps, cacheable;
};

static _Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
	uintptr_t cfa = (uintptr_t)_Unwind_GetCFA(ctx);
	if (ip == 0)
		return _URC_END_OF_STACK;
	/*
	 * In the callback, the CFA is the stack pointer of ip's frame at the
	 * moment the call it returns from was made: ip is stored at cfa - 8.
	 * The first frame kept is the wrapper's caller: ip ret, cfa sp.
	 */
	if (!w->started) {
		if (ip == w->ret && cfa == w->sp)
			w->started = 1;
		else
			return ++w->steps > 16 ? _URC_END_OF_STACK : _URC_NO_REASON;
	}
	uintptr_t slot = cfa - sizeof(uintptr_t);
	if (w->off) {
		if (slot < w->base || slot >= w->hi || slot - w->base > UINT32_MAX)
			w->cacheable = 0;
		else
			w->off[w->n] = (uint32_t)(slot - w->base);
	}
	w->pcs[w->n++] = ip;
	return w->n >= w->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

static struct scache *cache_get(void)
{
	if (cache || cache_failed)
		return cache;
	void *m = mmap(NULL, sizeof(struct scache), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (m == MAP_FAILED) {
		cache_failed = 1;
		return NULL;
	}
	cache = m;
	return cache;
}

void cprof__heap_stack_release(void)
{
	if (cache)
		munmap(cache, sizeof(struct scache));
	cache = NULL;
}

/* Fall back: the configured unwinder, trimmed to start at the wrapper's caller. */
static int walk_plain(uintptr_t *pcs, int max, void *ret)
{
	cprof__heap_count_stack(false);
	uintptr_t buf[CPROF_MAX_DEPTH_LIMIT + 8];
	int n = cprof__unwind_self(buf, max + 8, 0);
	int start = -1;
	for (int i = 0; i < n && i < 8; i++) {
		if (buf[i] == (uintptr_t)ret) {
			start = i;
			break;
		}
	}
	if (start < 0) {
		/* The walk did not pass through the wrapper (no frame pointers on an fp walk). */
		pcs[0] = (uintptr_t)ret;
		return 1;
	}
	n -= start;
	if (n > max)
		n = max;
	memcpy(pcs, buf + start, (size_t)n * sizeof(uintptr_t));
	return n;
}

struct heap_site *cprof__heap_stack_site(void *ret, void *spv, const void *labels, unsigned kind,
					 struct heap_site *(*site_get)(const uintptr_t *, int, const void *, unsigned))
{
	int max = cprof__config.max_depth;
	uintptr_t sp = (uintptr_t)spv, hi = cprof__self.stack_hi;
	uintptr_t pcs[CPROF_MAX_DEPTH_LIMIT];
	bool usable = sp && cprof__config.unwinder == CPROF_UNWIND_DWARF && hi && sp > cprof__self.stack_lo &&
		      sp < hi && max <= CACHE_DEPTH;
	struct scache *c = usable ? cache_get() : NULL;
	if (!c)
		return site_get(pcs, walk_plain(pcs, max, ret), labels, kind);
	uint64_t hx = (sp ^ ((uintptr_t)ret << 7)) * 0x9e3779b97f4a7c15ull;
	struct centry *set = &c->e[(hx >> (64 - 4)) * CACHE_WAYS];
	uintptr_t base = sp - sizeof(uintptr_t);
	/* Ways of one set: the same call reached along different paths at the same depth. */
	for (int way = 0; way < CACHE_WAYS; way++) {
		struct centry *e = &set[way];
		if (e->sp != sp || e->ret != (uintptr_t)ret)
			continue;
		uint32_t i = 0;
		for (; i < e->depth; i++)
			if (*(const uintptr_t *)(base + e->off[i]) != e->pcs[i])
				break;
		if (i < e->depth)
			continue;
		cprof__heap_count_stack(true);
		if (e->site && e->labels == labels && e->kind == kind)
			return e->site;
		struct heap_site *s = site_get(e->pcs, (int)e->depth, labels, kind);
		e->site = s;
		e->labels = labels;
		e->kind = kind;
		return s;
	}
	struct centry *e = &set[c->victim++ % CACHE_WAYS];
	struct walk w = {e->pcs, e->off, 0, max, (uintptr_t)ret, sp, base, hi, 0, 0, 1};
	e->sp = 0; /* invalid while being rewritten */
	cprof__heap_count_stack(false);
	_Unwind_Backtrace(step, &w);
	if (!w.started) {
		int n = walk_plain(pcs, max, ret);
		return site_get(pcs, n, labels, kind);
	}
	struct heap_site *s = site_get(e->pcs, w.n, labels, kind);
	if (w.cacheable && s != &cprof__heap.sites[0]) {
		e->depth = (uint32_t)w.n;
		e->ret = (uintptr_t)ret;
		e->site = s;
		e->labels = labels;
		e->kind = kind;
		e->sp = sp;
	}
	return s;
}
