/*
 * unwind_fp.c - the frame-pointer walker (CPROF_UNWIND=fp).
 *
 * Follows the rbp chain of the interrupted context. Every read is checked
 * against the thread's stack bounds before it is made, so a frame pointer
 * that is really a general register (code built without frame pointers)
 * ends the walk instead of faulting. When the bounds of a thread are not
 * known (a thread that existed before profiling started and was not created
 * through our pthread_create), only the interrupted PC is recorded.
 *
 * The caller of a function interrupted before it set up its frame is
 * skipped; that is the price of this walker, and why dwarf is the default.
 */
#include <stdint.h>
#include <ucontext.h>

#include "runtime/rt.h"

int cprof__unwind_fp(void *ucv, uintptr_t *pcs, int max, uintptr_t lo, uintptr_t hi)
{
	ucontext_t *uc = ucv;
	int n = 0;
	pcs[n++] = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	uintptr_t fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
	if (hi == 0 || sp < lo || sp >= hi)
		return n;
	lo = sp;
	while (n < max) {
		if (fp < lo || fp > hi - 2 * sizeof(uintptr_t) || (fp & (sizeof(uintptr_t) - 1)))
			break;
		uintptr_t next = ((uintptr_t *)fp)[0];
		uintptr_t ret = ((uintptr_t *)fp)[1];
		if (ret < 4096)
			break;
		pcs[n++] = ret;
		if (next <= fp)
			break;
		lo = fp + 2 * sizeof(uintptr_t);
		fp = next;
	}
	return n;
}
