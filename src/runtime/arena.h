/*
 * arena.h - what the allocation interposers (malloc.c) need of the
 * runtime's private arena (arena.c). The rest of the runtime uses only
 * cprof__arena_begin / cprof__arena_end from rt.h.
 */
#ifndef CPROF_RUNTIME_ARENA_H
#define CPROF_RUNTIME_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/rt.h"

/* Nonzero while the calling thread is between cprof__arena_begin and _end. */
extern CPROF_TLS unsigned cprof__arena_depth;

/*
 * Blocks of the arena, for the wrappers. alloc returns NULL when the arena
 * is full or could not be mapped (the wrapper then asks the program's
 * allocator: a block outside the arena is freed there, so both are right).
 * align is a power of two. Thread (a malloc wrapper).
 */
void *cprof__arena_alloc(size_t n, size_t align, int zero);
void cprof__arena_free(void *p);
void *cprof__arena_realloc(void *p, size_t n);
size_t cprof__arena_usable(const void *p);

/*
 * The arena's address range, set once when it is mapped: malloc.c keeps a
 * copy next to its forwarding pointers, so that telling an arena block
 * costs no extra cache line in free. Thread.
 */
void cprof__malloc_set_arena(uintptr_t lo, size_t len);

#endif
