/*
 * unwind_dwarf.c - complete stacks for code built without frame pointers.
 *
 * Uses libgcc's unwinder (_Unwind_Backtrace), which reads the DWARF CFI
 * (.eh_frame) every object carries on x86-64. With glibc 2.35 or later
 * libgcc finds an object's unwind tables through _dl_find_object, which is
 * lock-free and async-signal-safe, instead of dl_iterate_phdr, which takes
 * the loader lock and may allocate. Lazily bound symbols are resolved by
 * cprof__unwind_warmup() before the first signal, so the handler never
 * enters the dynamic linker.
 *
 * The walk starts in our own signal handler, passes through the kernel's
 * signal frame (glibc's __restore_rt has CFI for it) and continues in the
 * interrupted code; frames above the interrupted PC are dropped.
 *
 * Known limit: a program that registers frames at run time
 * (__register_frame, as JITs do) makes libgcc take its object mutex here.
 *
 * cprof__unwind_self walks the calling thread's own stack, for profilers
 * that record where a call was made (allocations, waits), with whichever
 * unwinder is configured.
 */
#include <stdint.h>
#include <ucontext.h>
#include <unwind.h>

#include "runtime/rt.h"

struct walk {
	uintptr_t *pcs;
	int n, max;
	uintptr_t ip0;
	int found;
	int skipped;
};

static _Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	int before = 0;
	uintptr_t ip = (uintptr_t)_Unwind_GetIPInfo(ctx, &before);
	if (!w->found) {
		/* Frames of the handler itself, then the signal frame, whose IP is
		 * the interrupted instruction. */
		if (ip == w->ip0) {
			w->found = 1;
		} else {
			if (++w->skipped > 16)
				return _URC_END_OF_STACK;
			return _URC_NO_REASON;
		}
	}
	if (ip == 0)
		return _URC_END_OF_STACK;
	w->pcs[w->n++] = ip;
	if (w->n >= w->max)
		return _URC_END_OF_STACK;
	return _URC_NO_REASON;
}

int cprof__unwind_dwarf(void *ucv, uintptr_t *pcs, int max)
{
	ucontext_t *uc = ucv;
	struct walk w = {pcs, 0, max, (uintptr_t)uc->uc_mcontext.gregs[REG_RIP], 0, 0};
	_Unwind_Backtrace(step, &w);
	if (!w.found) {
		/* The walk did not reach the interrupted frame: keep at least the PC. */
		pcs[0] = w.ip0;
		return 1;
	}
	return w.n;
}

static _Unwind_Reason_Code count(struct _Unwind_Context *ctx, void *arg)
{
	(void)ctx;
	(*(int *)arg)++;
	return _URC_NO_REASON;
}

void cprof__unwind_warmup(void)
{
	int n = 0;
	_Unwind_Backtrace(count, &n);
}

/* ---- the calling thread's own stack ---- */

struct self_walk {
	uintptr_t *pcs;
	int n, max, skip;
	uintptr_t *at; /* where each return address was read, or NULL */
};

static _Unwind_Reason_Code self_step(struct _Unwind_Context *ctx, void *arg)
{
	struct self_walk *w = arg;
	uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
	if (ip == 0)
		return _URC_END_OF_STACK;
	if (w->skip > 0) {
		w->skip--;
		return _URC_NO_REASON;
	}
	if (w->at) {
		/*
		 * libgcc's context for a frame holds its callee's CFA: a call
		 * pushed ip just under it. Anything else (a signal frame) is not known.
		 */
		uintptr_t cfa = (uintptr_t)_Unwind_GetCFA(ctx);
		uintptr_t a = cfa > sizeof(uintptr_t) ? cfa - sizeof(uintptr_t) : 0;
		w->at[w->n] = a && *(const uintptr_t *)a == ip ? a : 0;
	}
	w->pcs[w->n++] = ip;
	return w->n >= w->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

static __attribute__((noinline)) int self_fp(uintptr_t *pcs, uintptr_t *at, int max, int skip)
{
	uintptr_t lo = (uintptr_t)__builtin_frame_address(0), hi = cprof__self.stack_hi;
	if (hi == 0 || lo >= hi)
		return 0;
	uintptr_t fp = lo;
	int n = 0;
	/* Frames: self_fp's own, then cprof__unwind_self's, then the caller's. */
	skip += 1;
	while (n < max) {
		if (fp < lo || fp > hi - 2 * sizeof(uintptr_t) || (fp & (sizeof(uintptr_t) - 1)))
			break;
		uintptr_t next = ((uintptr_t *)fp)[0];
		uintptr_t ret = ((uintptr_t *)fp)[1];
		if (ret < 4096)
			break;
		if (skip > 0) {
			skip--;
		} else {
			if (at)
				at[n] = fp + sizeof(uintptr_t);
			pcs[n++] = ret;
		}
		if (next <= fp)
			break;
		lo = fp + 2 * sizeof(uintptr_t);
		fp = next;
	}
	return n;
}

static __attribute__((always_inline)) inline int self_walk(uintptr_t *pcs, uintptr_t *at, int max, int skip)
{
	if (max <= 0)
		return 0;
	if (cprof__config.unwinder == CPROF_UNWIND_FP)
		return self_fp(pcs, at, max, skip);
	/* The first frame _Unwind_Backtrace reports is this function's own. */
	struct self_walk w = {pcs, 0, max, skip + 1, at};
	_Unwind_Backtrace(self_step, &w);
	return w.n;
}

__attribute__((noinline)) int cprof__unwind_self(uintptr_t *pcs, int max, int skip)
{
	return self_walk(pcs, NULL, max, skip);
}

__attribute__((noinline)) int cprof__unwind_self_at(uintptr_t *pcs, uintptr_t *at, int max, int skip)
{
	return self_walk(pcs, at, max, skip);
}
