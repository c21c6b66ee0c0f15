/*
 * malloc.c - the allocation family, interposed: malloc, free, calloc,
 * realloc, reallocarray, posix_memalign, aligned_alloc, memalign, valloc,
 * pvalloc and malloc_usable_size; and C++'s operator new and delete, for
 * allocators that define their own (libstdc++'s call malloc).
 *
 * Every call is forwarded to the allocator the program would use without us
 * (the next definition in the search order, RTLD_NEXT: glibc, or jemalloc,
 * tcmalloc or mimalloc when the program links or preloads one).
 *
 * The two hot wrappers read nothing of ours but one cache line (and, while
 * sampling, the thread's countdown), and end in one jump to the allocator,
 * the only jump they take on their fast paths: malloc tests a mode byte
 * (retarget) and, while only sampling is on, counts the thread's bytes
 * down before it. free tests whether blocks may be sampled: until the heap
 * profiler first samples in the process it reads nothing outside the block
 * (the runtime's own blocks are told by address), so memory checkers such
 * as valgrind see plain frees; from then on (sampled blocks may be live)
 * it reads the word before the block (in glibc, the chunk header free
 * reads anyway) and sends a block marked there (heap.h: a sampled block's
 * header, or a block of the runtime's own arenas) to its slow path, every
 * other straight to the allocator. Sampled blocks are therefore allocated
 * with room for the header before them, and realloc, malloc_usable_size and C++'s sized and
 * aligned delete account for it. A consequence: a sampled block handed to
 * an allocator's own non-standard entry points (jemalloc's sdallocx or
 * rallocx, mimalloc's mi_free, tcmalloc's tc_free) instead of the standard
 * ones would reach it at a pointer it did not return.
 *
 * While a thread is inside the runtime's private arena (arena.c), its
 * allocations are served there; the arena's blocks carry the same mark, so
 * free, realloc and malloc_usable_size find them from any thread, later.
 *
 * Bootstrap: the forwarding pointers start out pointing at stubs that
 * resolve every real function on first use. dlsym itself may allocate
 * (calloc for its error state); those calls, made by the thread that is
 * resolving, are served from a small static arena whose blocks are never
 * freed (free ignores them, realloc moves them to the real allocator,
 * malloc_usable_size knows their size); they carry free's mark too.
 *
 * What a sampled allocation records, and everything about the registry of
 * sampled blocks, lives in prof_heap.c; this file only decides when to call
 * it (heap.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "runtime/arena.h"
#include "runtime/heap.h"
#include "runtime/rt.h"

typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void *(*reallocarray_fn)(void *, size_t, size_t);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef void *(*aligned_fn)(size_t, size_t);
typedef size_t (*usable_fn)(void *);

/* glibc's own entry points: used only when dlsym cannot find a next definition. */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

unsigned cprof__heap_hooks;

/*
 * The interposers are weak definitions: the dynamic loader does not tell
 * weak from strong, so they interpose as well; but a program linked fully
 * statically with libcprof.a gets the C library's own malloc.o too, whose
 * strong definitions then win instead of clashing (heap profiling then
 * sees nothing; the rest of the runtime works).
 */
#define INTERPOSER CPROF_API __attribute__((weak))

/* ---- bootstrap arena ---- */

#define BOOT_SIZE (128 * 1024)
static char boot_arena[BOOT_SIZE] __attribute__((aligned(64)));
static _Atomic size_t boot_used;

static inline int is_boot(const void *p)
{
	return (uintptr_t)p - (uintptr_t)boot_arena < BOOT_SIZE;
}

/* A zeroed block with free's mark and its size in the 16 bytes before it. */
static void *boot_alloc(size_t n, size_t align)
{
	if (align < 16)
		align = 16;
	if (n > BOOT_SIZE || align > 4096) {
		errno = ENOMEM;
		return NULL;
	}
	size_t need = n + align + 16;
	size_t off = atomic_fetch_add(&boot_used, need);
	if (off + need > BOOT_SIZE) {
		errno = ENOMEM;
		return NULL;
	}
	uintptr_t p = ((uintptr_t)boot_arena + off + 16 + align - 1) & ~(uintptr_t)(align - 1);
	((uint64_t *)p)[-2] = cprof__heap_hdr_word((void *)p); /* free's mark: not the allocator's block (heap.h) */
	((size_t *)p)[-1] = n;
	return (void *)p;
}

static size_t boot_size(const void *p)
{
	return ((const size_t *)p)[-1];
}

/* ---- forwarding ---- */

static void *stub_malloc(size_t n);
static void stub_free(void *p);
static void *stub_calloc(size_t n, size_t m);
static void *stub_realloc(void *p, size_t n);
static void *stub_memalign(size_t a, size_t n);

/* What malloc does besides forwarding (real.malloc_mode), from the hook word. */
enum {
	MALLOC_COUNTDOWN = 0, /* sampling and nothing else: count the thread's bytes down */
	MALLOC_FORWARD = 1,   /* no hook: straight to the allocator (and, before resolving, to the stubs) */
	MALLOC_GENERAL = 2,   /* counting, the arena, or sampled blocks live with sampling stopped */
};

/*
 * What every wrapper reads, in one cache line: the forwarding pointers and
 * the private arena's range (arena.c), which free tests on every call while
 * the heap profiler has never been on.
 */
struct real {
	uint8_t malloc_mode; /* what malloc does besides forwarding: MALLOC_FORWARD, _COUNTDOWN or _GENERAL (retarget) */
	bool marks;          /* free looks for marks: set for good once blocks may be sampled */
	free_fn free_fast;   /* where free sends the allocator's unsampled blocks: the allocator's free, or counting */
	malloc_fn malloc;
	uintptr_t arena_lo;
	size_t arena_len;
	calloc_fn calloc;
	realloc_fn realloc;
	free_fn free; /* the allocator's, reached through free_fast */
	aligned_fn memalign;
	/* Optional in the next allocator: emulated through the ones above when absent. */
	reallocarray_fn reallocarray;
	posix_memalign_fn posix_memalign;
	aligned_fn aligned_alloc;
	malloc_fn valloc, pvalloc;
	usable_fn usable;
};

static struct real real __attribute__((aligned(64))) = {
	.malloc_mode = MALLOC_FORWARD, .free_fast = stub_free,
	.free = stub_free, .malloc = stub_malloc, .calloc = stub_calloc, .realloc = stub_realloc,
	.memalign = stub_memalign,
};
static void retarget(void);
static CPROF_TLS int resolving;
static const char *next_name = "?";
static const void *self_base;     /* where this object is loaded */
static const void *provider_base; /* where the allocator's malloc is loaded */
static bool provider_interposed;  /* and whether our malloc comes before it */
static posix_memalign_fn real_posix_memalign;

static void *memalign_by_posix(size_t align, size_t n)
{
	void *p;
	if (align < sizeof(void *))
		align = sizeof(void *);
	int rc = real_posix_memalign(&p, align, n);
	if (rc != 0) {
		errno = rc;
		return NULL;
	}
	return p;
}

/* fn when it is defined in the object loaded at base, else NULL. */
static void *in_object(void *fn, const void *base)
{
	Dl_info d;
	if (!fn || !dladdr(fn, &d) || d.dli_fbase != base)
		return NULL;
	return fn;
}

/*
 * The allocator's own definition of name: the next one after us when our
 * malloc is the process's, else the process's (an allocator preloaded
 * before us: its malloc hides ours, but what it lacks still comes here).
 * Only a definition from the object that provides malloc is taken; the
 * rest is emulated through that allocator's malloc family, so blocks of two
 * allocators never meet.
 */
static void *family(const char *name, bool interposed, const void *base)
{
	void *fn = dlsym(interposed ? RTLD_NEXT : RTLD_DEFAULT, name);
	if (!interposed && fn && in_object(fn, self_base))
		fn = dlsym(RTLD_NEXT, name);
	return in_object(fn, base);
}

/* Resolve every real function. 0 when this thread is already inside (dlsym allocating). */
static int resolve(void)
{
	if (resolving)
		return 0;
	resolving = 1;
	Dl_info di;
	if (!self_base && dladdr((void *)resolve, &di))
		self_base = di.dli_fbase;
	void *def = dlsym(RTLD_DEFAULT, "malloc");
	bool interposed = !def || in_object(def, self_base);
	void *m = interposed ? dlsym(RTLD_NEXT, "malloc") : def;
	const void *base = m && dladdr(m, &di) ? di.dli_fbase : NULL;
	if (m && di.dli_fname)
		next_name = di.dli_fname;
	struct real r;
	r.malloc = (malloc_fn)m;
	r.free = (free_fn)family("free", interposed, base);
	r.calloc = (calloc_fn)family("calloc", interposed, base);
	r.realloc = (realloc_fn)family("realloc", interposed, base);
	r.memalign = (aligned_fn)family("memalign", interposed, base);
	if (!r.malloc || !r.free || !r.calloc || !r.realloc) {
		/* No usable next definition (a strange link order): glibc's own. */
		r.malloc = __libc_malloc;
		r.free = __libc_free;
		r.calloc = __libc_calloc;
		r.realloc = __libc_realloc;
		r.memalign = __libc_memalign;
		interposed = true;
		base = NULL;
		next_name = "glibc";
	}
	r.reallocarray = (reallocarray_fn)family("reallocarray", interposed, base);
	r.posix_memalign = (posix_memalign_fn)family("posix_memalign", interposed, base);
	r.aligned_alloc = (aligned_fn)family("aligned_alloc", interposed, base);
	r.valloc = (malloc_fn)family("valloc", interposed, base);
	r.pvalloc = (malloc_fn)family("pvalloc", interposed, base);
	r.usable = (usable_fn)family("malloc_usable_size", interposed, base);
	if (!base) {
		r.reallocarray = NULL;
		r.posix_memalign = NULL;
		r.aligned_alloc = NULL;
		r.valloc = r.pvalloc = NULL;
		r.usable = (usable_fn)dlsym(RTLD_NEXT, "malloc_usable_size");
	}
	if (!r.memalign && r.posix_memalign)
		r.memalign = memalign_by_posix;
	if (!r.memalign)
		r.memalign = __libc_memalign;
	real_posix_memalign = r.posix_memalign;
	provider_base = base;
	provider_interposed = interposed;
	/* The optional ones first: a thread that sees the new malloc sees them too. */
	real.reallocarray = r.reallocarray;
	real.posix_memalign = r.posix_memalign;
	real.aligned_alloc = r.aligned_alloc;
	real.valloc = r.valloc;
	real.pvalloc = r.pvalloc;
	real.usable = r.usable;
	__atomic_store_n(&real.memalign, r.memalign, __ATOMIC_RELEASE);
	__atomic_store_n(&real.free, r.free, __ATOMIC_RELEASE);
	__atomic_store_n(&real.calloc, r.calloc, __ATOMIC_RELEASE);
	__atomic_store_n(&real.realloc, r.realloc, __ATOMIC_RELEASE);
	__atomic_store_n(&real.malloc, r.malloc, __ATOMIC_RELEASE);
	retarget();
	resolving = 0;
	return 1;
}

static void *stub_malloc(size_t n)
{
	return resolve() ? real.malloc(n) : boot_alloc(n, 16);
}

static void stub_free(void *p)
{
	if (resolve())
		real.free(p);
}

static void *stub_calloc(size_t n, size_t m)
{
	size_t t;
	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	return resolve() ? real.calloc(n, m) : boot_alloc(t, 16); /* the arena is zeroed */
}

static void *stub_realloc(void *p, size_t n)
{
	if (resolve())
		return real.realloc(p, n);
	void *q = boot_alloc(n, 16);
	if (q && p) {
		/* p is a boot block too: nothing else exists yet. */
		size_t old = is_boot(p) ? boot_size(p) : 0;
		memcpy(q, p, old < n ? old : n);
	}
	return q;
}

static void *stub_memalign(size_t a, size_t n)
{
	return resolve() ? real.memalign(a, n) : boot_alloc(n, a);
}

__attribute__((constructor(101))) static void malloc_init(void)
{
	if (real.malloc == stub_malloc)
		resolve();
}

void *cprof__real_malloc(size_t n)
{
	return real.malloc(n);
}

void cprof__real_free(void *p)
{
	if (!is_boot(p))
		real.free(p);
}


const char *cprof__malloc_next_name(void)
{
	return next_name;
}

int cprof__malloc_interposed(void)
{
	/* The process's malloc is ours when it lives in this object. */
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	return !m || !self_base || in_object(m, self_base) != NULL;
}

/* ---- the private arena and the bootstrap arena: blocks that are not the allocator's ---- */

void cprof__malloc_set_arena(uintptr_t lo, size_t len)
{
	__atomic_store_n(&real.arena_lo, lo, __ATOMIC_RELEASE);
	__atomic_store_n(&real.arena_len, len, __ATOMIC_RELEASE);
}

static inline bool in_arena(const void *p)
{
	return (uintptr_t)p - real.arena_lo < real.arena_len;
}

static inline bool is_own(const void *p)
{
	return is_boot(p) || in_arena(p);
}

static void own_free(void *p)
{
	if (!is_boot(p))
		cprof__arena_free(p); /* bootstrap blocks are never freed */
}

/* Whether this allocation is the runtime's own, to be served by the arena. */
static inline bool arena_mode(unsigned h)
{
	return (h & HEAP_HOOK_ARENA) && cprof__arena_depth;
}

/* ---- the hooks ---- */

/*
 * The wrapper's caller: the address it returns to, and its stack pointer
 * at the call (the wrapper's canonical frame address). Neither needs a
 * frame of the wrapper's own, so malloc's fast path sets none up.
 */
#define CALLER_RET() __builtin_return_address(0)
#define CALLER_SP() __builtin_dwarf_cfa()

#define HOOKS() __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED)
#define SAMPLING (HEAP_HOOK_SAMPLE | HEAP_HOOK_FREE)

/* What an allocation needs besides the real call: exact counts, and a sample when one is due. */
struct pend {
	struct heap_pending hp;
	unsigned h;
	size_t n;
};

/* Before the real call: when pe->hp.node is set, allocate with a header. */
static inline void begin(struct pend *pe, unsigned h, size_t n, void *ret, void *sp, bool counted_down)
{
	pe->h = h;
	pe->n = n;
	pe->hp.node = NULL;
	pe->hp.record = 0;
	if (h & HEAP_HOOK_SAMPLE) {
		struct heap_thread *t = &cprof__heap_self;
		if (!counted_down)
			t->left -= (int64_t)n;
		if (t->left < 0)
			cprof__heap_sample_pre(&pe->hp, n, HEAP_KIND_MALLOC, ret, sp);
	}
}

/* After it: p is what the wrapper returns, off its header's distance. */
static inline void *end(struct pend *pe, void *p, size_t off)
{
	if (p && (pe->h & HEAP_HOOK_COUNT))
		cprof__heap_count_alloc(pe->n);
	if (pe->hp.record)
		cprof__heap_sample_commit(&pe->hp, p, off);
	return p;
}

/*
 * A block to be sampled: n bytes aligned to align (a power of two), with
 * its header before it (heap.h); *off is the header's distance. Blocks
 * aligned to a page or more get no header: they are page-aligned, and
 * free finds them through the registry's bitmap.
 */
static void *hdr_alloc(size_t n, size_t align, bool zero, size_t *off)
{
	size_t o = align <= HEAP_HDR ? HEAP_HDR : align <= HEAP_PAGE_MASK ? align : 0;
	size_t total = n + o;
	*off = 0;
	if (total < n) {
		errno = ENOMEM;
		return NULL;
	}
	char *b;
	if (align <= HEAP_HDR) {
		b = zero ? real.calloc(1, total) : real.malloc(total);
	} else {
		b = real.memalign(align, total);
		if (b && zero)
			memset(b + o, 0, n);
	}
	if (!b)
		return NULL;
	if (o)
		cprof__heap_hdr_set(b + o, o);
	*off = o;
	return b + o;
}

/* ---- the wrappers ---- */

/* Counting, a sample due, the arena, or the heap profiler in a state other than sampling: the rest of malloc. */
static __attribute__((noinline)) void *malloc_slow(unsigned h, size_t n, bool counted_down, void *ret, void *sp)
{
	if (arena_mode(h)) {
		void *p = cprof__arena_alloc(n, 16, 0);
		return p ? p : real.malloc(n);
	}
	struct pend pe;
	size_t off = 0;
	begin(&pe, h, n, ret, sp, counted_down);
	void *p = pe.hp.node ? hdr_alloc(n, 16, false, &off) : real.malloc(n);
	return end(&pe, p, off);
}

/* free's fast path while counting. */
static void free_counting(void *p)
{
	if (p)
		cprof__heap_count_free();
	real.free(p);
}

/*
 * Point malloc and free's fast path at what the hook word asks for. Any
 * thread that changes the word calls this after; the loop makes the last
 * one to finish store the targets of the word as it finally is, without a
 * lock (a fork child may call it). Thread.
 */
static void retarget(void)
{
	for (;;) {
		unsigned h = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_SEQ_CST);
		uint8_t m = h == 0 ? MALLOC_FORWARD : h == SAMPLING ? MALLOC_COUNTDOWN : MALLOC_GENERAL;
		free_fn f = h & HEAP_HOOK_COUNT ? free_counting : real.free;
		__atomic_store_n(&real.free_fast, f, __ATOMIC_SEQ_CST);
		__atomic_store_n(&real.malloc_mode, m, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&cprof__heap_hooks, __ATOMIC_SEQ_CST) == h)
			return;
	}
}

void cprof__heap_hooks_change(unsigned bits, int on)
{
	if (on && (bits & HEAP_HOOK_FREE) && !__atomic_load_n(&real.marks, __ATOMIC_SEQ_CST)) {
		/*
		 * free looks for marks before the first sampled block can
		 * exist, and for good: this is the only store of the flag, so
		 * no thread can turn it off.
		 */
		__atomic_store_n(&real.marks, true, __ATOMIC_SEQ_CST);
	}
	if (on)
		__atomic_fetch_or(&cprof__heap_hooks, bits, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&cprof__heap_hooks, ~bits, __ATOMIC_SEQ_CST);
	retarget();
}

/*
 * While only sampling is on: a subtraction from the thread's countdown,
 * taken before the call, so that while no sample is due malloc ends in a
 * jump to the real one (a failed allocation then counts toward the next
 * sample: harmless). That path falls through, with one jump at its end;
 * with no hook on, malloc takes one predicted branch more than the bare
 * jump. No frame is set up on either: the slow path gets the caller's
 * return address and stack pointer from malloc's own canonical frame.
 */
INTERPOSER __attribute__((optimize("omit-frame-pointer", "no-crossjumping"))) void *malloc(size_t n)
{
	unsigned m = __atomic_load_n(&real.malloc_mode, __ATOMIC_RELAXED);
	if (__builtin_expect(m == MALLOC_FORWARD, 0))
		return real.malloc(n);
	if (__builtin_expect(m == MALLOC_COUNTDOWN, 1)) {
		if (__builtin_expect((cprof__heap_self.left -= (int64_t)n) >= 0, 1))
			return real.malloc(n);
		return malloc_slow(HOOKS(), n, true, CALLER_RET(), CALLER_SP());
	}
	return malloc_slow(HOOKS(), n, false, CALLER_RET(), CALLER_SP());
}

/* A marked block, one at the start of a page, NULL, or counting: the rest of free. */
static __attribute__((noinline)) void free_slow(unsigned h, void *p)
{
	if (!p)
		return;
	if (is_own(p)) {
		own_free(p);
		return;
	}
	if (h & HEAP_HOOK_COUNT)
		cprof__heap_count_free();
	if ((h & HEAP_HOOK_FREE) && cprof__heap_maybe_sampled(p))
		p = cprof__heap_forget(p);
	real.free(p);
}

/*
 * Once sampled blocks may be live (real.marks), a pointer at least 16
 * bytes into its page whose preceding word is not the mark (heap.h) goes
 * straight to the allocator (through free_counting while counting): one
 * load of the word before p (glibc's chunk header: free reads that line
 * anyway) and of the target, no memory of ours beyond the line of real.
 * Marked blocks (sampled, or the runtime's own) and the rest take the slow
 * path. Before (the heap profiler has never sampled in this process), free
 * reads nothing outside the block, so memory checkers see a plain free: a
 * block of the runtime's own arenas is told by its address (two range
 * compares against the same line), every other goes to the allocator.
 */
INTERPOSER __attribute__((optimize("no-crossjumping"))) void free(void *p)
{
	if (__builtin_expect(!__atomic_load_n(&real.marks, __ATOMIC_RELAXED), 0)) {
		if (__builtin_expect(!(is_boot(p) | in_arena(p)), 1))
			return real.free_fast(p);
		return own_free(p);
	}
	if (__builtin_expect(cprof__heap_hdr_zone(p) && !cprof__heap_hdr_marked(p), 1))
		return real.free_fast(p);
	free_slow(HOOKS(), p);
}

INTERPOSER void *calloc(size_t n, size_t m)
{
	unsigned h = HOOKS();
	if (__builtin_expect(h == 0, 1))
		return real.calloc(n, m);
	size_t t;
	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	if (arena_mode(h)) {
		void *p = cprof__arena_alloc(t, 16, 1);
		return p ? p : real.calloc(n, m);
	}
	struct pend pe;
	size_t off = 0;
	begin(&pe, h, t, CALLER_RET(), CALLER_SP(), false);
	void *p = pe.hp.node ? hdr_alloc(t, 16, true, &off) : real.calloc(n, m);
	return end(&pe, p, off);
}

static void *boot_realloc(void *p, size_t n)
{
	size_t old = boot_size(p);
	void *q = malloc(n);
	if (q)
		memcpy(q, p, old < n ? old : n);
	return q;
}

/* realloc of a block of the bootstrap arena or of the private arena. */
static void *own_realloc(void *p, size_t n)
{
	if (is_boot(p))
		return boot_realloc(p, n);
	if (n == 0) {
		cprof__arena_free(p);
		return NULL;
	}
	void *q = cprof__arena_realloc(p, n);
	if (q)
		return q;
	/* The arena is full: move the block to the program's allocator. */
	size_t old = cprof__arena_usable(p);
	q = real.malloc(n);
	if (q) {
		memcpy(q, p, old < n ? old : n);
		cprof__arena_free(p);
	}
	return q;
}

static __attribute__((noinline)) void *realloc_slow(unsigned h, void *p, size_t n, void *ret, void *sp)
{
	if (!p)
		return malloc_slow(h, n, false, ret, sp);
	return cprof__heap_realloc(p, n, real.realloc, real.usable, ret, sp);
}

INTERPOSER void *realloc(void *p, size_t n)
{
	if (__builtin_expect(is_own(p), 0))
		return own_realloc(p, n);
	unsigned h = HOOKS();
	if (__builtin_expect(h == 0, 1))
		return real.realloc(p, n);
	return realloc_slow(h, p, n, CALLER_RET(), CALLER_SP());
}

INTERPOSER void *reallocarray(void *p, size_t n, size_t m)
{
	size_t t;
	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	if (__builtin_expect(is_own(p), 0))
		return own_realloc(p, t);
	unsigned h = HOOKS();
	if (__builtin_expect(h == 0, 1))
		return real.reallocarray ? real.reallocarray(p, n, m) : real.realloc(p, t);
	return realloc_slow(h, p, t, CALLER_RET(), CALLER_SP());
}

static size_t page_size(void)
{
	static size_t ps;
	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

/* The unsampled calls of the aligned family, with one signature. */
static void *do_memalign(size_t a, size_t n)
{
	return real.memalign(a, n);
}

static void *do_aligned_alloc(size_t a, size_t n)
{
	return real.aligned_alloc ? real.aligned_alloc(a, n) : real.memalign(a, n);
}

static void *do_valloc(size_t a, size_t n)
{
	(void)a;
	return real.valloc ? real.valloc(n) : real.memalign(page_size(), n);
}

static void *do_pvalloc(size_t a, size_t n)
{
	size_t r = (n + a - 1) & ~(a - 1);
	return real.pvalloc ? real.pvalloc(n) : real.memalign(a, r ? r : a);
}

/* errno carries the error code out. */
static void *do_posix_memalign(size_t a, size_t n)
{
	void *p = NULL;
	int rc;
	if (real.posix_memalign) {
		rc = real.posix_memalign(&p, a, n);
	} else {
		p = real.memalign(a, n);
		rc = p ? 0 : ENOMEM;
	}
	if (rc != 0) {
		errno = rc;
		return NULL;
	}
	return p;
}

/*
 * An allocation aligned to align of n bytes (size: what is recorded, which
 * pvalloc rounds up), when any hook is on. unsampled is the real call.
 */
static void *aligned_slow(unsigned h, size_t align, size_t n, size_t size, void *(*unsampled)(size_t, size_t),
			  void *ret, void *sp)
{
	bool pow2 = align && !(align & (align - 1));
	if (arena_mode(h)) {
		void *p = pow2 ? cprof__arena_alloc(size, align, 0) : NULL;
		return p ? p : unsampled(align, n);
	}
	struct pend pe;
	size_t off = 0;
	begin(&pe, h, size, ret, sp, false);
	void *p = pe.hp.node && pow2 ? hdr_alloc(size, align, false, &off) : unsampled(align, n);
	return end(&pe, p, off);
}

INTERPOSER int posix_memalign(void **out, size_t align, size_t n)
{
	unsigned h = HOOKS();
	int saved = errno;
	void *p;
	if (__builtin_expect(h == 0, 1)) {
		if (real.posix_memalign)
			return real.posix_memalign(out, align, n);
		p = do_posix_memalign(align, n);
	} else {
		if (align < sizeof(void *) || (align & (align - 1)))
			return EINVAL;
		p = aligned_slow(h, align, n, n, do_posix_memalign, CALLER_RET(), CALLER_SP());
	}
	if (!p) {
		int rc = errno ? errno : ENOMEM;
		errno = saved;
		return rc;
	}
	*out = p;
	errno = saved;
	return 0;
}

INTERPOSER void *aligned_alloc(size_t align, size_t n)
{
	unsigned h = HOOKS();
	if (__builtin_expect(h == 0, 1))
		return do_aligned_alloc(align, n);
	return aligned_slow(h, align, n, n, do_aligned_alloc, CALLER_RET(), CALLER_SP());
}

INTERPOSER void *memalign(size_t align, size_t n)
{
	unsigned h = HOOKS();
	if (__builtin_expect(h == 0, 1))
		return real.memalign(align, n);
	return aligned_slow(h, align, n, n, do_memalign, CALLER_RET(), CALLER_SP());
}

INTERPOSER void *valloc(size_t n)
{
	unsigned h = HOOKS();
	if (__builtin_expect(h == 0, 1))
		return do_valloc(page_size(), n);
	return aligned_slow(h, page_size(), n, n, do_valloc, CALLER_RET(), CALLER_SP());
}

INTERPOSER void *pvalloc(size_t n)
{
	size_t ps = page_size();
	size_t r = (n + ps - 1) & ~(ps - 1);
	if (r < n) {
		errno = ENOMEM;
		return NULL;
	}
	unsigned h = HOOKS();
	if (__builtin_expect(h == 0, 1))
		return do_pvalloc(ps, n);
	return aligned_slow(h, ps, n, r ? r : ps, do_pvalloc, CALLER_RET(), CALLER_SP());
}

INTERPOSER size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (is_boot(p))
		return boot_size(p);
	if (in_arena(p))
		return cprof__arena_usable(p);
	if (real.malloc == stub_malloc)
		resolve();
	size_t off = HOOKS() & HEAP_HOOK_FREE ? cprof__heap_offset(p) : 0;
	size_t u = real.usable ? real.usable((char *)p - off) : 0;
	return u > off ? u - off : 0;
}

/*
 * ---- C++ operator new and delete ----
 *
 * libstdc++'s operators call malloc and free, so they reach the wrappers
 * above by themselves. jemalloc, tcmalloc and mimalloc define their own,
 * which do not: those are interposed here, forwarded to the allocator's, and
 * recorded. When the operators come from anywhere else (libstdc++) they are
 * only forwarded, so a block is never recorded twice.
 */
struct cxx_fn {
	const char *name;
	void *fn;
	bool records;
};

static void cxx_resolve(struct cxx_fn *f)
{
	if (real.malloc == stub_malloc)
		resolve();
	void *fn = provider_base ? family(f->name, provider_interposed, provider_base) : NULL;
	f->records = fn != NULL;
	if (!fn)
		fn = dlsym(RTLD_NEXT, f->name);
	__atomic_store_n(&f->fn, fn, __ATOMIC_RELEASE);
}

/*
 * A sampled block from the allocator's operator new gets its header as
 * malloc's do: the size asked of the operator (N) grows by the header's
 * distance, and the matching delete is handed the allocator's block (B)
 * and, when sized, the size it was asked for (n + D).
 */
#define CXX_NEW(sym, params, call, align)                                               \
	INTERPOSER void *sym params                                                     \
	{                                                                               \
		static struct cxx_fn f = {#sym, NULL, false};                           \
		void *(*fn) params = __atomic_load_n((void *(**) params) & f.fn, __ATOMIC_ACQUIRE); \
		if (!fn) {                                                              \
			cxx_resolve(&f);                                                \
			fn = (void *(*) params)f.fn;                                    \
			if (!fn)                                                        \
				return NULL;                                            \
		}                                                                       \
		size_t N = n;                                                           \
		unsigned h = HOOKS();                                                   \
		if (__builtin_expect(h == 0, 1) || !f.records)                          \
			return fn call;                                                 \
		struct pend pe;                                                         \
		size_t off = 0, al_ = (align);                                          \
		begin(&pe, h, n, CALLER_RET(), CALLER_SP(), false);                     \
		if (pe.hp.node) {                                                       \
			off = al_ <= HEAP_HDR ? HEAP_HDR : al_ <= HEAP_PAGE_MASK ? al_ : 0; \
			if (n + off < n)                                                \
				off = 0;                                                \
			N = n + off;                                                    \
		}                                                                       \
		char *p = fn call;                                                      \
		if (p && off) {                                                         \
			p += off;                                                       \
			cprof__heap_hdr_set(p, off);                                    \
		}                                                                       \
		return end(&pe, p, off);                                                \
	}

#define CXX_DELETE(sym, params, call)                                                   \
	INTERPOSER void sym params                                                      \
	{                                                                               \
		static struct cxx_fn f = {#sym, NULL, false};                           \
		void (*fn) params = __atomic_load_n((void (**) params) & f.fn, __ATOMIC_ACQUIRE); \
		if (!fn) {                                                              \
			cxx_resolve(&f);                                                \
			fn = (void (*) params)f.fn;                                     \
			if (!fn)                                                        \
				return;                                                 \
		}                                                                       \
		void *B = p;                                                            \
		unsigned h = HOOKS();                                                   \
		if (f.records && p) {                                                   \
			if (is_own(p)) {                                                \
				own_free(p);                                            \
				return;                                                 \
			}                                                               \
			if (h & HEAP_HOOK_COUNT)                                        \
				cprof__heap_count_free();                               \
			if ((h & HEAP_HOOK_FREE) && cprof__heap_maybe_sampled(p))       \
				B = cprof__heap_forget(p);                              \
		}                                                                       \
		size_t D = (size_t)((char *)p - (char *)B);                             \
		(void)D;                                                                \
		fn call;                                                                \
	}

/* size_t align_val_t and const std::nothrow_t & are a size_t and a pointer in the ABI. */
CXX_NEW(_Znwm, (size_t n), (N), 0)
CXX_NEW(_Znam, (size_t n), (N), 0)
CXX_NEW(_ZnwmRKSt9nothrow_t, (size_t n, const void *nt), (N, nt), 0)
CXX_NEW(_ZnamRKSt9nothrow_t, (size_t n, const void *nt), (N, nt), 0)
CXX_NEW(_ZnwmSt11align_val_t, (size_t n, size_t al), (N, al), al)
CXX_NEW(_ZnamSt11align_val_t, (size_t n, size_t al), (N, al), al)
CXX_NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, (size_t n, size_t al, const void *nt), (N, al, nt), al)
CXX_NEW(_ZnamSt11align_val_tRKSt9nothrow_t, (size_t n, size_t al, const void *nt), (N, al, nt), al)
CXX_DELETE(_ZdlPv, (void *p), (B))
CXX_DELETE(_ZdaPv, (void *p), (B))
CXX_DELETE(_ZdlPvm, (void *p, size_t n), (B, n + D))
CXX_DELETE(_ZdaPvm, (void *p, size_t n), (B, n + D))
CXX_DELETE(_ZdlPvRKSt9nothrow_t, (void *p, const void *nt), (B, nt))
CXX_DELETE(_ZdaPvRKSt9nothrow_t, (void *p, const void *nt), (B, nt))
CXX_DELETE(_ZdlPvSt11align_val_t, (void *p, size_t al), (B, al))
CXX_DELETE(_ZdaPvSt11align_val_t, (void *p, size_t al), (B, al))
CXX_DELETE(_ZdlPvmSt11align_val_t, (void *p, size_t n, size_t al), (B, n + D, al))
CXX_DELETE(_ZdaPvmSt11align_val_t, (void *p, size_t n, size_t al), (B, n + D, al))
CXX_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, (void *p, size_t al, const void *nt), (B, al, nt))
CXX_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, (void *p, size_t al, const void *nt), (B, al, nt))
