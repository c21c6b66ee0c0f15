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
