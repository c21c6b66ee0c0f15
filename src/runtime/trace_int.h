/*
 * trace_int.h - what the execution tracer's own files share: trace.c (the
 * recorder, its writer thread and the flight recorder) and trace_stack.c
 * (stack interning and symbolization). Other runtime files reach the
 * tracer through rt.h.
 */
#ifndef CPROF_RUNTIME_TRACE_INT_H
#define CPROF_RUNTIME_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CPROF_TRACE_DEPTH 64 /* frames kept of a trace's stack */

/* Map the stack table once. 0 or -errno. Thread. */
int cprof__tstack_setup(void);
/*
 * The id (1...) of the stack pcs[0..n) (leaf_is_pc: pcs[0] is an
 * interrupted instruction, the rest return addresses), interned; 0 when
 * the table is full or not set up (counted). Never blocks, never
 * allocates. Any (signal handlers too).
 */
uint32_t cprof__tstack_intern(const uintptr_t *pcs, int n, bool leaf_is_pc);
/*
 * The id of the calling thread's stack from ra (a blocking call's return
 * address) on, as cprof__tstack_intern gives it; base is where ra was
 * pushed (0: not known, never cached). The walk is cached per thread by
 * ra and base, checked against the frames' return addresses on every use.
 * Thread (with cprof__wait_guard held).
 */
uint32_t cprof__tstack_caller(const void *ra, uintptr_t base);
/* The calling thread ends: free its cache of stacks. Thread. */
void cprof__tstack_thread_done(void);
/* Stacks that could not be interned. Any. */
uint64_t cprof__tstack_lost(void);
/*
 * Symbolize the stacks interned since the last call and append their
 * symbol, location and stack records to the definitions. 0 or -ENOMEM.
 * Writer thread only (allocates, opens symbolization sessions).
 */
int cprof__tstack_symbolize(void);
/* Every definition record made so far, ready to write (valid until the next symbolize). Writer thread. */
const uint8_t *cprof__tstack_defs(size_t *len);
/* The writer stops: end the symbolization session it holds. Writer thread. */
void cprof__tstack_writer_done(void);

/* trace.c: a uv (LEB128) at p, returning the byte after it. Any. */
uint8_t *cprof__trace_put_uv(uint8_t *p, uint64_t v);

/*
 * trace_flight.c, the flight recorder's chunks; writer thread only. init
 * empties it and sets the window; add keeps a chunk (its events, its
 * thread, its start) received at now_ns and drops the oldest beyond the
 * window or the size; write writes the chunks' events from since_ns on as
 * event records (ns_per_tick converts ticks) and adds their size to
 * *bytes. 0 or -errno.
 */
void cprof__tflight_init(int64_t window_ns, size_t max_bytes);
int cprof__tflight_add(pid_t tid, uint64_t base_tick, int64_t base_ns, const uint8_t *data, size_t len,
		       int64_t now_ns);
int cprof__tflight_write(int fd, int64_t since_ns, double ns_per_tick, uint64_t *bytes);
void cprof__tflight_reset(void);
size_t cprof__tflight_bytes(void);

#endif
