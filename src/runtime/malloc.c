/*
 * malloc.c - the allocation family, interposed: malloc, free, calloc,
 * realloc, reallocarray, posix_memalign, aligned_alloc, memalign, valloc,
 * pvalloc and malloc_usable_size; and C++'s operator new and delete, for
 * allocators that define their own (libstdc++'s call malloc).
 *
 * Every call is forwarded to the allocator the program would use without us
 * (the next definition in the search order, RTLD_NEXT: glibc, or jemalloc,
 * tcmalloc or mimalloc when the program links or preloads one). With the heap
 * profiler and the counters off, a wrapper costs one load and one predictable
 * branch on top of the forwarded call.
 *
 * Bootstrap: the forwarding pointers start out pointing at stubs that
 * resolve every real function on first use. dlsym itself may allocate
 * (calloc for its error state); those calls, made by the thread that is
 * resolving, are served from a small static arena whose blocks are never
 * freed (free ignores them, realloc moves them to the real allocator,
 * malloc_usable_size knows their size).
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

/* A zeroed block with its size stored in the 8 bytes before it. */
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

struct real {
	malloc_fn malloc;
	free_fn free;
	calloc_fn calloc;
	realloc_fn realloc;
	aligned_fn memalign;
	/* Optional in the next allocator: emulated through the ones above when absent. */
	reallocarray_fn reallocarray;
	posix_memalign_fn posix_memalign;
	aligned_fn aligned_alloc;
	malloc_fn valloc, pvalloc;
	usable_fn usable;
};

static struct real real = {stub_malloc, stub_free, stub_calloc, stub_realloc, stub_memalign,
			   NULL, NULL, NULL, NULL, NULL, NULL};
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

/* ---- the hooks ---- */

/*
 * The wrapper's frame (the runtime keeps frame pointers): its caller's
 * return address is at fp[1], and the caller's stack pointer at the call
 * was fp + 2 words.
 */
#define FRAME() __builtin_frame_address(0)
#define FRAME_RET(fp) (((void **)(fp))[1])
#define FRAME_SP(fp) ((void *)((char *)(fp) + 2 * sizeof(void *)))
#define CALLER_RET() FRAME_RET(FRAME())
#define CALLER_SP() FRAME_SP(FRAME())

/* Counting, or a sample due: out of line, so the wrappers' fast path stays small. */
static void on_alloc_slow(void *p, size_t n, enum heap_kind kind, void *ret, void *sp, bool counted_down)
{
	unsigned h = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);
	if (h & HEAP_HOOK_COUNT)
		cprof__heap_count_alloc(n);
	if (h & HEAP_HOOK_SAMPLE) {
		struct heap_thread *t = &cprof__heap_self;
		if (!counted_down)
			t->left -= (int64_t)n;
		if (t->left < 0)
			cprof__heap_sample(p, n, kind, ret, sp);
	}
}

/*
 * The common case while sampling (no counting) is one subtraction from the
 * thread's countdown; everything else goes out of line.
 */
#define on_alloc(p, n, kind)                                                                        \
	do {                                                                                        \
		unsigned h_ = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);                \
		if (__builtin_expect(h_ != 0, 0) && (p)) {                                          \
			if (h_ != (HEAP_HOOK_SAMPLE | HEAP_HOOK_FREE))                              \
				on_alloc_slow((p), (n), (kind), CALLER_RET(), CALLER_SP(), false);  \
			else if ((cprof__heap_self.left -= (int64_t)(n)) < 0)                       \
				on_alloc_slow((p), (n), (kind), CALLER_RET(), CALLER_SP(), true);   \
		}                                                                                   \
	} while (0)

static __attribute__((noinline)) void on_free_slow(void *p)
{
	unsigned h = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);
	if (h & HEAP_HOOK_COUNT)
		cprof__heap_count_free();
	if ((h & HEAP_HOOK_FREE) && cprof__heap_maybe_sampled(p))
		cprof__heap_forget(p);
}

/* While sampling, a free whose block the bitmap rules out costs a hash and one load. */
#define on_free(p)                                                                                    \
	do {                                                                                          \
		unsigned h_ = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);                  \
		if (__builtin_expect(h_ != 0, 0) && (p)) {                                            \
			if (h_ != (HEAP_HOOK_SAMPLE | HEAP_HOOK_FREE))                                \
				on_free_slow(p);                                                      \
			else if (cprof__heap_maybe_sampled(p))                    \
				cprof__heap_forget(p);                                                \
		}                                                                                     \
	} while (0)

/* ---- the wrappers ---- */

#define HOOKS_OFF() __builtin_expect(__atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED) == 0, 1)

/* Counting, or a sample due, or the heap profiler in a state other than sampling: the rest of malloc. */
static __attribute__((noinline)) void *malloc_slow(size_t n, bool counted_down, void *ret, void *sp)
{
	void *p = real.malloc(n);
	if (p)
		on_alloc_slow(p, n, HEAP_KIND_MALLOC, ret, sp, counted_down);
	return p;
}

/*
 * The countdown is taken before the call, so that while no sample is due
 * malloc ends in a tail call to the real one (a failed allocation then
 * counts toward the next sample: harmless).
 */
INTERPOSER void *malloc(size_t n)
{
	unsigned h = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);
	if (__builtin_expect(h == 0, 1))
		return real.malloc(n); /* a tail call: no frame of ours */
	if (h == (HEAP_HOOK_SAMPLE | HEAP_HOOK_FREE)) {
		if ((cprof__heap_self.left -= (int64_t)n) >= 0)
			return real.malloc(n);
		return malloc_slow(n, true, CALLER_RET(), CALLER_SP());
	}
	return malloc_slow(n, false, CALLER_RET(), CALLER_SP());
}

/* A block the bitmap does not rule out, or counting: the rest of free. */
static __attribute__((noinline)) void free_slow(void *p)
{
	on_free_slow(p);
	real.free(p);
}

INTERPOSER void free(void *p)
{
	if (__builtin_expect(is_boot(p), 0))
		return;
	unsigned h = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);
	if (__builtin_expect(h == 0, 1) || !p)
		return real.free(p);
	/* While sampling, a block the bitmap rules out costs a hash and one load. */
	if (h == (HEAP_HOOK_SAMPLE | HEAP_HOOK_FREE) && !cprof__heap_maybe_sampled(p))
		return real.free(p);
	free_slow(p);
}

INTERPOSER void *calloc(size_t n, size_t m)
{
	if (HOOKS_OFF())
		return real.calloc(n, m);
	void *p = real.calloc(n, m);
	on_alloc(p, n * m, HEAP_KIND_MALLOC);
	return p;
}

static void *boot_realloc(void *p, size_t n)
{
	size_t old = boot_size(p);
	void *q = malloc(n);
	if (q)
		memcpy(q, p, old < n ? old : n);
	return q;
}

INTERPOSER void *realloc(void *p, size_t n)
{
	if (__builtin_expect(is_boot(p), 0))
		return boot_realloc(p, n);
	unsigned h = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);
	if (__builtin_expect(h == 0, 1))
		return real.realloc(p, n);
	return cprof__heap_realloc(p, n, real.realloc, real.usable, CALLER_RET(), CALLER_SP());
}

INTERPOSER void *reallocarray(void *p, size_t n, size_t m)
{
	size_t t;
	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	if (__builtin_expect(is_boot(p), 0))
		return boot_realloc(p, t);
	unsigned h = __atomic_load_n(&cprof__heap_hooks, __ATOMIC_RELAXED);
	if (__builtin_expect(h == 0, 1))
		return real.reallocarray ? real.reallocarray(p, n, m) : real.realloc(p, t);
	return cprof__heap_realloc(p, t, real.realloc, real.usable, CALLER_RET(), CALLER_SP());
}

INTERPOSER int posix_memalign(void **out, size_t align, size_t n)
{
	int rc;
	if (real.posix_memalign) {
		rc = real.posix_memalign(out, align, n);
	} else {
		if (align < sizeof(void *) || (align & (align - 1)))
			return EINVAL;
		void *p = real.memalign(align, n);
		if (!p)
			return ENOMEM;
		*out = p;
		rc = 0;
	}
	if (rc == 0)
		on_alloc(*out, n, HEAP_KIND_MALLOC);
	return rc;
}

INTERPOSER void *aligned_alloc(size_t align, size_t n)
{
	void *p = real.aligned_alloc ? real.aligned_alloc(align, n) : real.memalign(align, n);
	on_alloc(p, n, HEAP_KIND_MALLOC);
	return p;
}

INTERPOSER void *memalign(size_t align, size_t n)
{
	if (HOOKS_OFF())
		return real.memalign(align, n);
	void *p = real.memalign(align, n);
	on_alloc(p, n, HEAP_KIND_MALLOC);
	return p;
}

static size_t page_size(void)
{
	static size_t ps;
	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

INTERPOSER void *valloc(size_t n)
{
	void *p = real.valloc ? real.valloc(n) : real.memalign(page_size(), n);
	on_alloc(p, n, HEAP_KIND_MALLOC);
	return p;
}

INTERPOSER void *pvalloc(size_t n)
{
	size_t ps = page_size();
	size_t r = (n + ps - 1) & ~(ps - 1);
	if (r < n) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = real.pvalloc ? real.pvalloc(n) : real.memalign(ps, r ? r : ps);
	on_alloc(p, r ? r : ps, HEAP_KIND_MALLOC);
	return p;
}

INTERPOSER size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (is_boot(p))
		return boot_size(p);
	if (real.malloc == stub_malloc)
		resolve();
	return real.usable ? real.usable(p) : 0;
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

#define CXX_NEW(sym, params, args, size)                                                \
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
		void *p = fn args;                                                      \
		if (f.records)                                                          \
			on_alloc(p, size, HEAP_KIND_MALLOC);                            \
		return p;                                                               \
	}

#define CXX_DELETE(sym, params, args, ptr)                                              \
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
		if (f.records)                                                          \
			on_free(ptr);                                                   \
		fn args;                                                                \
	}

/* size_t align_val_t and const std::nothrow_t & are a size_t and a pointer in the ABI. */
CXX_NEW(_Znwm, (size_t n), (n), n)
CXX_NEW(_Znam, (size_t n), (n), n)
CXX_NEW(_ZnwmRKSt9nothrow_t, (size_t n, const void *nt), (n, nt), n)
CXX_NEW(_ZnamRKSt9nothrow_t, (size_t n, const void *nt), (n, nt), n)
CXX_NEW(_ZnwmSt11align_val_t, (size_t n, size_t al), (n, al), n)
CXX_NEW(_ZnamSt11align_val_t, (size_t n, size_t al), (n, al), n)
CXX_NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, (size_t n, size_t al, const void *nt), (n, al, nt), n)
CXX_NEW(_ZnamSt11align_val_tRKSt9nothrow_t, (size_t n, size_t al, const void *nt), (n, al, nt), n)
CXX_DELETE(_ZdlPv, (void *p), (p), p)
CXX_DELETE(_ZdaPv, (void *p), (p), p)
CXX_DELETE(_ZdlPvm, (void *p, size_t n), (p, n), p)
CXX_DELETE(_ZdaPvm, (void *p, size_t n), (p, n), p)
CXX_DELETE(_ZdlPvRKSt9nothrow_t, (void *p, const void *nt), (p, nt), p)
CXX_DELETE(_ZdaPvRKSt9nothrow_t, (void *p, const void *nt), (p, nt), p)
CXX_DELETE(_ZdlPvSt11align_val_t, (void *p, size_t al), (p, al), p)
CXX_DELETE(_ZdaPvSt11align_val_t, (void *p, size_t al), (p, al), p)
CXX_DELETE(_ZdlPvmSt11align_val_t, (void *p, size_t n, size_t al), (p, n, al), p)
CXX_DELETE(_ZdaPvmSt11align_val_t, (void *p, size_t n, size_t al), (p, n, al), p)
CXX_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, (void *p, size_t al, const void *nt), (p, al, nt), p)
CXX_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, (void *p, size_t al, const void *nt), (p, al, nt), p)
