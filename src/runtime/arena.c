/*
 * arena.c - the runtime's private allocation arena: where the runtime's own
 * writing (building a profile, symbolizing, compressing) gets its memory,
 * so that it neither grows the program's heap nor triggers the program's
 * allocator into work the program would not have done (glibc consolidates
 * every freed chunk of the heap on the first large request after many
 * frees: 45 ms at exit for a program that had just freed a 600,000-node
 * tree).
 *
 * A thread enters the arena with cprof__arena_begin (rt.h). While any
 * thread is inside, the allocation wrappers (malloc.c) leave their fast
 * path and ask whether the calling thread is inside; if it is, its malloc
 * family, and that of the libraries it calls (zlib, libdw, stdio), is
 * served here. Arena blocks are recognised by address (one reserved
 * mapping), so they may be freed or reallocated later, outside, by any
 * thread.
 *
 * The allocator is simple, as the runtime's writing needs: power-of-two
 * size classes from 32 bytes, carved from the mapping by a bump pointer
 * and kept on one free list per class; blocks of 1 MiB and more give their
 * pages back (MADV_DONTNEED) when freed. One mutex: writers are few. When
 * the mapping is full (or could not be made) the wrappers fall back to the
 * program's allocator.
 *
 * Runtime threads that keep tables between writes (the wall sampler, the
 * trace's writer) take blocks here by explicit call (cprof__arena_malloc
 * and friends) instead of entering the arena: entering switches every
 * thread's malloc off its fast path while anyone is inside, which a
 * sampler that wakes 100 times a second would make the program pay for.
 *
 * It does not own the wrappers (malloc.c) nor decide what is written.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime/arena.h"
#include "runtime/heap.h"
#include "runtime/rt.h"

#define ARENA_HDR 16
#define ARENA_MIN_CLASS 5   /* 32-byte blocks */
#define ARENA_BIG_CLASS 20  /* from 1 MiB, freed blocks give their pages back */
#define ARENA_NCLASSES 40
#define ARENA_COMMIT_STEP ((size_t)4 << 20)
#define ARENA_PAGE 4096

/*
 * The 16 bytes before every pointer p the arena hands out: the mark free
 * tests (heap.h: cprof__heap_hdr_word(p), so the wrappers send it to their slow
 * path, which tells the arena's blocks by address), then what the arena
 * needs: a block's class and whether its pages past the first are known
 * zero, or, for an aligned pointer inside a block, the distance back to
 * the block's own pointer.
 */
struct ahdr {
	uint64_t mark;
	uint64_t info;
};
#define INFO_ALIGNED (1ull << 63)
#define INFO_CLEAN (1ull << 62)
#define INFO_BLOCK (1ull << 61)
#define INFO_CLASS(i) ((unsigned)((i) & 0xff))

CPROF_TLS unsigned cprof__arena_depth;

static struct {
	pthread_mutex_t lock;
	char *lo, *bump, *committed;
	size_t len;
	int state; /* 0 not mapped yet, 1 mapped, -1 could not be mapped */
	unsigned users; /* threads inside */
	void *free_list[ARENA_NCLASSES];
	uint64_t carved;
} A = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A symbolization session takes our lock inside its own: its lock first (symbolize.c). */
static void atfork_prepare(void)
{
	cprof__sym_fork_prepare();
	pthread_mutex_lock(&A.lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&A.lock);
	cprof__sym_fork_parent();
}

static void atfork_child(void)
{
	cprof__sym_fork_child();
	pthread_mutex_init(&A.lock, NULL);
	/* Only this thread followed: it is the only one that can be inside. */
	A.users = cprof__arena_depth > 0 && A.state == 1;
	if (A.users)
		cprof__heap_hooks_change(HEAP_HOOK_ARENA, 1);
	else
		cprof__heap_hooks_change(HEAP_HOOK_ARENA, 0);
}

/*
 * Registered at load, before any profiler's own hooks (init.c starts them
 * later): child hooks run in the order they were registered, so our lock is
 * usable again before a profiler's child hook allocates here (the wall
 * sampler restarting in the child).
 */
__attribute__((constructor(101))) static void arena_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* Reserve the address range (not memory: pages are made usable as the bump pointer reaches them). Locked. */
static void map_arena(void)
{
	static const size_t sizes[] = {(size_t)16 << 30, (size_t)1 << 30, (size_t)256 << 20};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		void *m = mmap(NULL, sizes[i], PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED)
			continue;
		A.lo = A.bump = A.committed = m;
		A.len = sizes[i];
		cprof__malloc_set_arena((uintptr_t)m, sizes[i]);
		__atomic_store_n(&A.state, 1, __ATOMIC_RELEASE);
		return;
	}
	A.state = -1;
}

void cprof__arena_begin(void)
{
	if (cprof__arena_depth++ > 0)
		return;
	pthread_mutex_lock(&A.lock);
	if (A.state == 0)
		map_arena();
	if (A.state == 1 && A.users++ == 0)
		cprof__heap_hooks_change(HEAP_HOOK_ARENA, 1);
	pthread_mutex_unlock(&A.lock);
}

void cprof__arena_end(void)
{
	if (cprof__arena_depth == 0 || --cprof__arena_depth > 0)
		return;
	pthread_mutex_lock(&A.lock);
	if (A.state == 1 && A.users > 0 && --A.users == 0)
		cprof__heap_hooks_change(HEAP_HOOK_ARENA, 0);
	pthread_mutex_unlock(&A.lock);
}

uint64_t cprof__arena_bytes(void)
{
	pthread_mutex_lock(&A.lock);
	uint64_t n = A.carved;
	pthread_mutex_unlock(&A.lock);
	return n;
}

static unsigned class_of(size_t total)
{
	unsigned k = ARENA_MIN_CLASS;
	while (k < ARENA_NCLASSES && ((size_t)1 << k) < total)
		k++;
	return k;
}

/* A block of class k (its header included), zeroed when fresh; NULL when full. *clean: pages after the first are zero. Locked. */
static char *carve(unsigned k, bool *clean)
{
	size_t size = (size_t)1 << k;
	char *b = A.free_list[k];
	if (b) {
		A.free_list[k] = *(void **)(b + ARENA_HDR);
		*clean = (((struct ahdr *)b)->info & INFO_CLEAN) != 0;
		return b;
	}
	size_t align = size < ARENA_PAGE ? size : ARENA_PAGE;
	uintptr_t at = ((uintptr_t)A.bump + align - 1) & ~(uintptr_t)(align - 1);
	if (at + size > (uintptr_t)A.lo + A.len || at + size < at)
		return NULL;
	if (at + size > (uintptr_t)A.committed) {
		uintptr_t to = (at + size + ARENA_COMMIT_STEP - 1) & ~(uintptr_t)(ARENA_COMMIT_STEP - 1);
		if (to > (uintptr_t)A.lo + A.len)
			to = (uintptr_t)A.lo + A.len;
		if (mprotect(A.committed, to - (uintptr_t)A.committed, PROT_READ | PROT_WRITE) != 0)
			return NULL;
		A.committed = (char *)to;
	}
	A.bump = (char *)(at + size);
	A.carved += size;
	*clean = true;
	return (char *)at;
}

void *cprof__arena_alloc(size_t n, size_t align, int zero)
{
	if (A.state != 1)
		return NULL;
	if (align < ARENA_HDR)
		align = ARENA_HDR;
	size_t total = n + ARENA_HDR + (align > ARENA_HDR ? align : 0);
	if (total < n || (align & (align - 1)))
		return NULL;
	unsigned k = class_of(total);
	if (k >= ARENA_NCLASSES)
		return NULL;
	int saved = errno;
	bool clean;
	pthread_mutex_lock(&A.lock);
	char *b = carve(k, &clean);
	pthread_mutex_unlock(&A.lock);
	errno = saved;
	if (!b)
		return NULL;
	struct ahdr *h = (struct ahdr *)b;
	char *p = b + ARENA_HDR;
	h->mark = cprof__heap_hdr_word(p);
	h->info = INFO_BLOCK | k;
	if (zero) {
		/* A reused block is zero past its first page when it gave its pages back. */
		size_t dirty = clean ? (size_t)(b + ARENA_PAGE - p) : ((size_t)1 << k) - ARENA_HDR;
		if (k < 12)
			dirty = ((size_t)1 << k) - ARENA_HDR;
		memset(p, 0, dirty < n + align ? dirty : n + align);
	}
	if (align > ARENA_HDR) {
		char *q = (char *)(((uintptr_t)p + ARENA_HDR + align - 1) & ~(uintptr_t)(align - 1));
		struct ahdr *qh = (struct ahdr *)(q - ARENA_HDR);
		qh->mark = cprof__heap_hdr_word(q);
		qh->info = INFO_ALIGNED | (uint64_t)(q - p);
		return q;
	}
	return p;
}

/* The block's header for pointer p, or NULL when p is not one the arena gave out. */
static struct ahdr *block_of(const void *p, size_t *room)
{
	const struct ahdr *h = (const struct ahdr *)((const char *)p - ARENA_HDR);
	size_t dist = 0;
	if (h->mark != cprof__heap_hdr_word(p))
		return NULL;
	if (h->info & INFO_ALIGNED) {
		dist = (size_t)(h->info & ~INFO_ALIGNED);
		p = (const char *)p - dist;
		h = (const struct ahdr *)((const char *)p - ARENA_HDR);
		if (h->mark != cprof__heap_hdr_word(p))
			return NULL;
	}
	unsigned k = INFO_CLASS(h->info);
	if (!(h->info & INFO_BLOCK) || k < ARENA_MIN_CLASS || k >= ARENA_NCLASSES)
		return NULL;
	if (room)
		*room = ((size_t)1 << k) - ARENA_HDR - dist;
	return (struct ahdr *)h;
}

void cprof__arena_free(void *p)
{
	struct ahdr *h = block_of(p, NULL);
	if (!h)
		return; /* not a block of ours (a double free, or worse): leaking is the safe answer */
	int saved = errno;
	unsigned k = INFO_CLASS(h->info);
	if (p != (char *)h + ARENA_HDR)
		((struct ahdr *)p)[-1].mark = 0;
	h->mark = 0; /* a second free of the same pointer finds no block */
	h->info = 0;
	if (k >= ARENA_BIG_CLASS && madvise((char *)h + ARENA_PAGE, ((size_t)1 << k) - ARENA_PAGE, MADV_DONTNEED) == 0)
		h->info = INFO_CLEAN;
	pthread_mutex_lock(&A.lock);
	*(void **)((char *)h + ARENA_HDR) = A.free_list[k];
	A.free_list[k] = h;
	pthread_mutex_unlock(&A.lock);
	errno = saved;
}

size_t cprof__arena_usable(const void *p)
{
	size_t room = 0;
	return block_of(p, &room) ? room : 0;
}

void *cprof__arena_realloc(void *p, size_t n)
{
	size_t room = 0;
	if (!block_of(p, &room))
		return NULL;
	if (n <= room)
		return p;
	void *q = cprof__arena_alloc(n, ARENA_HDR, 0);
	if (!q)
		return NULL;
	memcpy(q, p, room);
	cprof__arena_free(p);
	return q;
}

/* ---- blocks by explicit call ---- */

static bool mapped(void)
{
	if (__atomic_load_n(&A.state, __ATOMIC_ACQUIRE) == 1)
		return true;
	pthread_mutex_lock(&A.lock);
	if (A.state == 0)
		map_arena();
	bool ok = A.state == 1;
	pthread_mutex_unlock(&A.lock);
	return ok;
}

static bool ours(const void *p)
{
	return p && __atomic_load_n(&A.state, __ATOMIC_ACQUIRE) == 1 && (uintptr_t)p - (uintptr_t)A.lo < A.len;
}

void *cprof__arena_malloc(size_t n)
{
	void *p = mapped() ? cprof__arena_alloc(n, ARENA_HDR, 0) : NULL;
	return p ? p : malloc(n);
}

void *cprof__arena_calloc(size_t n, size_t size)
{
	size_t t;
	if (__builtin_mul_overflow(n, size, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = mapped() ? cprof__arena_alloc(t, ARENA_HDR, 1) : NULL;
	return p ? p : calloc(n, size);
}

void *cprof__arena_resize(void *p, size_t n)
{
	if (!p)
		return cprof__arena_malloc(n);
	if (!ours(p))
		return realloc(p, n);
	void *q = cprof__arena_realloc(p, n);
	if (q)
		return q;
	/* The arena is full: the block moves to the program's allocator. */
	size_t room = cprof__arena_usable(p);
	if ((q = malloc(n)) != NULL) {
		memcpy(q, p, room < n ? room : n);
		cprof__arena_free(p);
	}
	return q;
}

char *cprof__arena_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = cprof__arena_malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

void cprof__arena_dispose(void *p)
{
	if (ours(p))
		cprof__arena_free(p);
	else
		free(p);
}
