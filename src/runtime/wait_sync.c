/*
 * wait_sync.c - the interposed pthread synchronisation calls that feed the
 * block and mutex profiles: mutexes (lock, timedlock, clocklock, unlock),
 * read-write locks, condition variables, semaphores, join and barriers;
 * and, while an execution trace runs, the blocking episodes it records,
 * with the thread that released each (pthread_cond_signal, _broadcast and
 * sem_post are interposed for that, and only stamp who called them).
 *
 * Each wrapper goes straight to the C library's function when no wait
 * profile is on, or when the thread is already inside the profilers' own
 * code (cprof__wait_guard: an allocator that locks while we record, a
 * signal handler that locks while we hold the side table). Otherwise a lock
 * is first tried: when the try succeeds, that is all (no clock read, no
 * table, nothing shared written). Only when it fails does the wrapper read
 * the clock, register as a waiter with the mutex profiler, mark the thread
 * as blocked (cprof__self.blocked_in, which the wall-clock profiler reads),
 * block in the real call, and record. Unlock reads one counter and goes
 * straight to the real unlock unless some lock has waiters registered; then
 * it takes what this lock's waiters are owed while still holding it (a
 * waiter it wakes could otherwise unlock first and be charged for its own
 * wait), unlocks, and records.
 *
 * Results and errno pass through unchanged (EBUSY, ETIMEDOUT, EDEADLK,
 * EOWNERDEAD...). Calls that are cancellation points stay so; the file is
 * built with -fexceptions so that a cancelled wait still restores the
 * thread's state on its way out.
 *
 * Sampling and recording are prof_block.c's.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <time.h>

#include "runtime/rt.h"
#include "runtime/trace.h"

/* ---- the real functions ---- */

/*
 * Resolved with dlsym(RTLD_NEXT) on first use. dlsym may allocate, and an
 * allocator may lock: while a thread resolves, its lock calls go to the C
 * library's own entry points, bound by version below.
 */
extern int fb_mutex_lock(pthread_mutex_t *);
extern int fb_mutex_unlock(pthread_mutex_t *);
extern int fb_rwlock_rdlock(pthread_rwlock_t *);
extern int fb_rwlock_wrlock(pthread_rwlock_t *);
extern int fb_rwlock_unlock(pthread_rwlock_t *);
__asm__(".symver fb_mutex_lock, __pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver fb_mutex_unlock, __pthread_mutex_unlock@GLIBC_2.2.5");
__asm__(".symver fb_rwlock_rdlock, __pthread_rwlock_rdlock@GLIBC_2.2.5");
__asm__(".symver fb_rwlock_wrlock, __pthread_rwlock_wrlock@GLIBC_2.2.5");
__asm__(".symver fb_rwlock_unlock, __pthread_rwlock_unlock@GLIBC_2.2.5");

static CPROF_TLS int resolving;

static void *resolve(const char *name, const char *version)
{
	resolving++;
	void *f = version ? dlvsym(RTLD_NEXT, name, version) : NULL;
	if (!f)
		f = dlsym(RTLD_NEXT, name);
	resolving--;
	return f;
}

/* Declares real_<name> of type <name>_fn, resolved; evaluates fallback when it cannot be. */
#define REAL(name, version, fallback)                                                  \
	static name##_fn real_##name;                                                  \
	name##_fn f_##name = __atomic_load_n(&real_##name, __ATOMIC_RELAXED);          \
	if (__builtin_expect(!f_##name, 0)) {                                          \
		if (resolving)                                                         \
			fallback;                                                      \
		f_##name = (name##_fn)resolve(#name, version);                         \
		if (!f_##name)                                                         \
			fallback;                                                      \
		__atomic_store_n(&real_##name, f_##name, __ATOMIC_RELAXED);            \
	}

typedef int (*pthread_mutex_lock_fn)(pthread_mutex_t *);
typedef int (*pthread_mutex_trylock_fn)(pthread_mutex_t *);
typedef int (*pthread_mutex_unlock_fn)(pthread_mutex_t *);
typedef int (*pthread_mutex_timedlock_fn)(pthread_mutex_t *, const struct timespec *);
typedef int (*pthread_mutex_clocklock_fn)(pthread_mutex_t *, clockid_t, const struct timespec *);
typedef int (*pthread_rwlock_rdlock_fn)(pthread_rwlock_t *);
typedef int (*pthread_rwlock_wrlock_fn)(pthread_rwlock_t *);
typedef int (*pthread_rwlock_tryrdlock_fn)(pthread_rwlock_t *);
typedef int (*pthread_rwlock_trywrlock_fn)(pthread_rwlock_t *);
typedef int (*pthread_rwlock_timedrdlock_fn)(pthread_rwlock_t *, const struct timespec *);
typedef int (*pthread_rwlock_timedwrlock_fn)(pthread_rwlock_t *, const struct timespec *);
typedef int (*pthread_rwlock_unlock_fn)(pthread_rwlock_t *);
typedef int (*pthread_cond_wait_fn)(pthread_cond_t *, pthread_mutex_t *);
typedef int (*pthread_cond_timedwait_fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
typedef int (*pthread_cond_clockwait_fn)(pthread_cond_t *, pthread_mutex_t *, clockid_t,
					 const struct timespec *);
typedef int (*pthread_cond_signal_fn)(pthread_cond_t *);
typedef int (*pthread_cond_broadcast_fn)(pthread_cond_t *);
typedef int (*sem_post_fn)(sem_t *);
typedef int (*sem_wait_fn)(sem_t *);
typedef int (*sem_trywait_fn)(sem_t *);
typedef int (*sem_timedwait_fn)(sem_t *, const struct timespec *);
typedef int (*sem_clockwait_fn)(sem_t *, clockid_t, const struct timespec *);
typedef int (*pthread_join_fn)(pthread_t, void **);
typedef int (*pthread_tryjoin_np_fn)(pthread_t, void **);
typedef int (*pthread_barrier_wait_fn)(pthread_barrier_t *);

/* ---- the waiting part, shared by every wrapper ---- */


/* Where the wrapper's return address lies (its caller's frames start above): in the wrapper itself. */
#define CALLER_BASE ((uintptr_t)__builtin_dwarf_cfa() - sizeof(uintptr_t))

struct wait {
	int64_t t0;
	const char *prev; /* blocked_in before this call (a signal handler may nest) */
	int slot;         /* mutex side-table slot, or -1 */
	int reason;       /* enum cprof_trace_block_reason */
	const void *obj;  /* what a release is stamped on (condition, semaphore, thread), or NULL */
	bool active;
	uintptr_t prev_fp; /* blocked_fp before this call */
	uint64_t stack;    /* cprof__trace_block_stack's, or 0 */
	pid_t holder;      /* a mutex's owner when its try failed, or 0 */
};

static inline bool on(unsigned mask)
{
	return (atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed) & mask) && !cprof__wait_guard;
}

#define LOCKS (CPROF_WAIT_BLOCK | CPROF_WAIT_MUTEX | CPROF_WAIT_STATES | CPROF_WAIT_TRACE)
#define TIMED (CPROF_WAIT_BLOCK | CPROF_WAIT_MUTEX | CPROF_WAIT_TRACE)

/*
 * lock: a mutex or rwlock (its unlocker is known through the side table);
 * obj: a condition, semaphore or thread whose release is stamped.
 */
static inline __attribute__((always_inline)) void wait_begin(struct wait *w, const char *what, const void *lock,
							  int reason, const void *obj, const void *ra, uintptr_t base)
{
	unsigned f = atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed);
	/* The stack now: once a lock is ours, the walk would lengthen the critical section. */
	if (f & CPROF_WAIT_TRACE)
		w->stack = cprof__trace_block_stack(ra, base);
	w->t0 = (f & TIMED) ? cprof__now_ns() : 0;
	/* Mutexes' releasers come from the unlock's stamp (mutex_unlock_full); read-write locks' from the side table. */
	bool side = (f & CPROF_WAIT_MUTEX) || ((f & CPROF_WAIT_TRACE) && reason != CPROF_TBR_MUTEX);
	w->slot = lock && side ? cprof__mutex_wait_begin(lock, w->t0) : -1;
	w->reason = reason;
	w->obj = reason == CPROF_TBR_MUTEX ? lock : obj;
	w->prev = cprof__self.blocked_in;
	w->prev_fp = cprof__self.blocked_fp;
	cprof__self.blocked_fp = (uintptr_t)__builtin_frame_address(0); /* inlined: the wrapper's frame */
	cprof__self.blocked_in = what;
	w->active = true;
}

/*
 * The wait ended; record it when recorded is true (the call did wait), with
 * its releaser when woken is true (the call returned what it waited for).
 */
static inline void wait_end(struct wait *w, const char *what, const void *ra, bool recorded, bool woken)
{
	cprof__self.blocked_in = w->prev;
	cprof__self.blocked_fp = w->prev_fp;
	w->active = false;
	if (!w->t0)
		return;
	int64_t t1 = cprof__now_ns();
	pid_t peer = 0;
	int64_t rel = -1;
	if (w->slot >= 0)
		cprof__mutex_wait_end(w->slot, t1, &peer, &rel);
	if (!recorded)
		return;
	if (atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed) & CPROF_WAIT_TRACE) {
		if (w->slot >= 0 && !rel)
			rel = -1;
		if (w->obj)
			peer = 0; /* a mutex's side-table slot (the mutex profile's) is not where its releaser is */
		/* A release before the wait began is an earlier waiter's. */
		if (!woken || (w->slot >= 0 && rel >= 0 && rel < w->t0))
			peer = 0;
		else if (w->obj && w->reason == CPROF_TBR_MUTEX) {
			/*
			 * No stamp: the unlock did not wake a sleeper (this wait
			 * got the lock before it slept, a sub-microsecond wait) or
			 * came before the waiter registered. The thread that held
			 * the mutex when the wait began released it; when, is not
			 * known.
			 */
			if (!cprof__trace_unlocker(w->obj, w->t0, t1, &peer, &rel)) {
				peer = w->holder;
				rel = -1;
			}
		} else if (w->obj && !cprof__trace_waker(w->obj, w->reason == CPROF_TBR_JOIN ? 0 : w->t0, &peer, &rel))
			peer = 0;
		cprof__trace_block(w->reason, what, w->t0, t1, peer, peer ? rel : -1, ra, w->stack);
	}
	cprof__block_event(what, t1 - w->t0, ra);
}

/* Unwinding after cancellation: restore the thread's state, withdraw the waiter. */
static void wait_cancelled(struct wait *w)
{
	if (!w->active)
		return;
	cprof__self.blocked_in = w->prev;
	cprof__self.blocked_fp = w->prev_fp;
	if (w->slot >= 0)
		cprof__mutex_wait_end(w->slot, cprof__now_ns(), NULL, NULL);
}
#define WAIT struct wait w __attribute__((cleanup(wait_cancelled))) = {0, NULL, -1, 0, NULL, false, 0, 0, 0}

/* ---- mutexes ---- */

/*
 * pthread_mutex_lock and _unlock are the hot ones: their own code is a flag
 * test and a jump to the C library's function (no frame of their own, so
 * no frame pointer either); everything else is out of line.
 */
#define FAST __attribute__((optimize("omit-frame-pointer")))

/* Resolve var (a file-scope pointer) once; evaluate fallback when it cannot be. */
#define RESOLVE(var, name, fallback)                                                   \
	if (__builtin_expect(!__atomic_load_n(&var, __ATOMIC_RELAXED), 0)) {           \
		if (resolving)                                                         \
			fallback;                                                      \
		void *f_ = resolve(name, NULL);                                        \
		if (!f_)                                                               \
			fallback;                                                      \
		__atomic_store_n(&var, (__typeof__(var))f_, __ATOMIC_RELAXED);          \
	}

static pthread_mutex_lock_fn mutex_lock_real, mutex_trylock_real, mutex_unlock_real;

/* The thread holding m, as the C library records it (the try that failed just read its line). */
static inline pid_t mutex_holder(const pthread_mutex_t *m)
{
	pid_t t = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
	return t > 0 && t != cprof__trace_tid() ? t : 0;
}

static __attribute__((noinline)) int mutex_lock_wait(pthread_mutex_t *m, const void *ra, uintptr_t base)
{
	WAIT;
	w.holder = mutex_holder(m);
	wait_begin(&w, "pthread_mutex_lock", m, CPROF_TBR_MUTEX, NULL, ra, base);
	int slot = -1;
	if (atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed) & CPROF_WAIT_TRACE) {
		slot = cprof__trace_mslot(m);
		atomic_fetch_add_explicit(&cprof__trace_msleepers[slot], 1, memory_order_seq_cst);
	}
	int rc = mutex_lock_real(m);
	if (slot >= 0)
		atomic_fetch_sub_explicit(&cprof__trace_msleepers[slot], 1, memory_order_relaxed);
	wait_end(&w, "pthread_mutex_lock", ra, rc == 0 || rc == EOWNERDEAD, rc == 0 || rc == EOWNERDEAD);
	return rc;
}

static __attribute__((noinline)) int mutex_lock_full(pthread_mutex_t *m, const void *ra, uintptr_t base)
{
	RESOLVE(mutex_lock_real, "pthread_mutex_lock", return fb_mutex_lock(m));
	RESOLVE(mutex_trylock_real, "pthread_mutex_trylock", return fb_mutex_lock(m));
	if (!on(LOCKS))
		return mutex_lock_real(m);
	int rc = mutex_trylock_real(m);
	if (rc != EBUSY)
		return rc;
	return mutex_lock_wait(m, ra, base);
}

CPROF_API FAST int pthread_mutex_lock(pthread_mutex_t *m)
{
	pthread_mutex_lock_fn f = __atomic_load_n(&mutex_lock_real, __ATOMIC_RELAXED);
	pthread_mutex_lock_fn t = __atomic_load_n(&mutex_trylock_real, __ATOMIC_RELAXED);
	if (__builtin_expect(f && t && !cprof__wait_guard, 1)) {
		if (!(atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed) & LOCKS))
			return f(m);
		/* A wait profile is on: an uncontended lock is one try. */
		int rc = t(m);
		if (__builtin_expect(rc != EBUSY, 1))
			return rc;
		return mutex_lock_wait(m, __builtin_return_address(0), CALLER_BASE);
	}
	return mutex_lock_full(m, __builtin_return_address(0), CALLER_BASE);
}

CPROF_API int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
	REAL(pthread_mutex_timedlock, NULL, return fb_mutex_lock(m));
	REAL(pthread_mutex_trylock, NULL, return fb_mutex_lock(m));
	if (!on(LOCKS))
		return f_pthread_mutex_timedlock(m, abstime);
	int rc = f_pthread_mutex_trylock(m);
	if (rc != EBUSY)
		return rc;
	WAIT;
	w.holder = mutex_holder(m);
	wait_begin(&w, "pthread_mutex_timedlock", m, CPROF_TBR_MUTEX, NULL, __builtin_return_address(0), CALLER_BASE);
	rc = f_pthread_mutex_timedlock(m, abstime);
	wait_end(&w, "pthread_mutex_timedlock", __builtin_return_address(0),
		 rc == 0 || rc == ETIMEDOUT || rc == EOWNERDEAD, rc == 0 || rc == EOWNERDEAD);
	return rc;
}

CPROF_API int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock, const struct timespec *abstime)
{
	REAL(pthread_mutex_clocklock, NULL, return fb_mutex_lock(m));
	REAL(pthread_mutex_trylock, NULL, return fb_mutex_lock(m));
	if (!on(LOCKS))
		return f_pthread_mutex_clocklock(m, clock, abstime);
	int rc = f_pthread_mutex_trylock(m);
	if (rc != EBUSY)
		return rc;
	WAIT;
	w.holder = mutex_holder(m);
	wait_begin(&w, "pthread_mutex_clocklock", m, CPROF_TBR_MUTEX, NULL, __builtin_return_address(0), CALLER_BASE);
	rc = f_pthread_mutex_clocklock(m, clock, abstime);
	wait_end(&w, "pthread_mutex_clocklock", __builtin_return_address(0),
		 rc == 0 || rc == ETIMEDOUT || rc == EOWNERDEAD, rc == 0 || rc == EOWNERDEAD);
	return rc;
}

/*
 * Some lock has waiters registered: if this one has, take what its waiters
 * are owed while still holding it, unlock, then record.
 */
static __attribute__((noinline)) int unlock_slow(void *l, int (*unlock)(void *), const void *ra)
{
	int64_t d = cprof__wait_guard ? 0 : cprof__mutex_release(l);
	int rc = unlock(l);
	if (d > 0)
		cprof__mutex_charge(d, ra);
	return rc;
}

/*
 * While a trace runs, an unlock that will wake a waiter stamps who
 * unlocked and when, before the real unlock (the waiter names its releaser
 * from it). The C library's lock word says so: 2 for a plain mutex with sleepers, the
 * FUTEX_WAITERS bit for a robust or priority-inheriting one; 1 (locked, no
 * one waits) needs nothing. Read before the real unlock, while we own it.
 */
static inline bool wakes_waiter(const pthread_mutex_t *m)
{
	int w = __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
	return w != 1 && (w == 2 || (w & (int)0x80000000u));
}

static __attribute__((noinline)) int mutex_unlock_full(pthread_mutex_t *m, const void *ra)
{
	RESOLVE(mutex_unlock_real, "pthread_mutex_unlock", return fb_mutex_unlock(m));
	bool stamp = (atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed) & CPROF_WAIT_TRACE) &&
		     !cprof__wait_guard && wakes_waiter(m);
	if (stamp)
		cprof__trace_unlocking(m);
	int rc;
	if (atomic_load_explicit(&cprof__mutex_live, memory_order_relaxed) == 0)
		rc = mutex_unlock_real(m);
	else
		rc = unlock_slow(m, (int (*)(void *))mutex_unlock_real, ra);
	return rc;
}

/*
 * While tracing, the lock word is read only when a waiter of a mutex of
 * m's slot is registered (cprof__trace_msleepers, a line only waiters
 * write, so it stays cached): reading a contended lock's word fetches its
 * line shared, and the real unlock's atomic exchange then fetches it again,
 * exclusive (that read took most of the traced lock-heavy program's extra
 * time).
 */
static inline bool maybe_sleeper(const pthread_mutex_t *m)
{
	return atomic_load_explicit(&cprof__trace_msleepers[cprof__trace_mslot(m)], memory_order_relaxed) != 0 &&
	       m->__data.__lock != 1;
}

CPROF_API FAST int pthread_mutex_unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock_fn f = __atomic_load_n(&mutex_unlock_real, __ATOMIC_RELAXED);
	if (__builtin_expect(f && atomic_load_explicit(&cprof__mutex_live, memory_order_relaxed) == 0 &&
				     (!(atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed) & CPROF_WAIT_TRACE) ||
				      !maybe_sleeper(m)),
			     1))
		return f(m);
	return mutex_unlock_full(m, __builtin_return_address(0));
}

/* ---- read-write locks ---- */

CPROF_API int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	REAL(pthread_rwlock_rdlock, NULL, return fb_rwlock_rdlock(l));
	REAL(pthread_rwlock_tryrdlock, NULL, return fb_rwlock_rdlock(l));
	if (!on(LOCKS))
		return f_pthread_rwlock_rdlock(l);
	int rc = f_pthread_rwlock_tryrdlock(l);
	if (rc != EBUSY)
		return rc;
	WAIT;
	wait_begin(&w, "pthread_rwlock_rdlock", l, CPROF_TBR_RWLOCK_READ, NULL,
		   __builtin_return_address(0), CALLER_BASE);
	rc = f_pthread_rwlock_rdlock(l);
	wait_end(&w, "pthread_rwlock_rdlock", __builtin_return_address(0), rc == 0, rc == 0);
	return rc;
}

CPROF_API int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	REAL(pthread_rwlock_wrlock, NULL, return fb_rwlock_wrlock(l));
	REAL(pthread_rwlock_trywrlock, NULL, return fb_rwlock_wrlock(l));
	if (!on(LOCKS))
		return f_pthread_rwlock_wrlock(l);
	int rc = f_pthread_rwlock_trywrlock(l);
	if (rc != EBUSY)
		return rc;
	WAIT;
	wait_begin(&w, "pthread_rwlock_wrlock", l, CPROF_TBR_RWLOCK_WRITE, NULL,
		   __builtin_return_address(0), CALLER_BASE);
	rc = f_pthread_rwlock_wrlock(l);
	wait_end(&w, "pthread_rwlock_wrlock", __builtin_return_address(0), rc == 0, rc == 0);
	return rc;
}

CPROF_API int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *abstime)
{
	REAL(pthread_rwlock_timedrdlock, NULL, return fb_rwlock_rdlock(l));
	REAL(pthread_rwlock_tryrdlock, NULL, return fb_rwlock_rdlock(l));
	if (!on(LOCKS))
		return f_pthread_rwlock_timedrdlock(l, abstime);
	int rc = f_pthread_rwlock_tryrdlock(l);
	if (rc != EBUSY)
		return rc;
	WAIT;
	wait_begin(&w, "pthread_rwlock_timedrdlock", l, CPROF_TBR_RWLOCK_READ, NULL,
		   __builtin_return_address(0), CALLER_BASE);
	rc = f_pthread_rwlock_timedrdlock(l, abstime);
	wait_end(&w, "pthread_rwlock_timedrdlock", __builtin_return_address(0), rc == 0 || rc == ETIMEDOUT, rc == 0);
	return rc;
}

CPROF_API int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *abstime)
{
	REAL(pthread_rwlock_timedwrlock, NULL, return fb_rwlock_wrlock(l));
	REAL(pthread_rwlock_trywrlock, NULL, return fb_rwlock_wrlock(l));
	if (!on(LOCKS))
		return f_pthread_rwlock_timedwrlock(l, abstime);
	int rc = f_pthread_rwlock_trywrlock(l);
	if (rc != EBUSY)
		return rc;
	WAIT;
	wait_begin(&w, "pthread_rwlock_timedwrlock", l, CPROF_TBR_RWLOCK_WRITE, NULL,
		   __builtin_return_address(0), CALLER_BASE);
	rc = f_pthread_rwlock_timedwrlock(l, abstime);
	wait_end(&w, "pthread_rwlock_timedwrlock", __builtin_return_address(0), rc == 0 || rc == ETIMEDOUT, rc == 0);
	return rc;
}

CPROF_API int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	REAL(pthread_rwlock_unlock, NULL, return fb_rwlock_unlock(l));
	if (__builtin_expect(atomic_load_explicit(&cprof__mutex_live, memory_order_relaxed) == 0, 1))
		return f_pthread_rwlock_unlock(l);
	return unlock_slow(l, (int (*)(void *))f_pthread_rwlock_unlock, __builtin_return_address(0));
}

/* ---- condition variables ---- */

/*
 * Waiting on a condition releases the mutex: that ends the caller's critical
 * section, so threads waiting for the mutex are charged to it here.
 */
static inline void cond_releases(pthread_mutex_t *m, const void *ra)
{
	if (atomic_load_explicit(&cprof__mutex_live, memory_order_relaxed) != 0)
		cprof__mutex_charge(cprof__mutex_release(m), ra);
}

CPROF_API int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	REAL(pthread_cond_wait, "GLIBC_2.3.2", return EINVAL);
	if (!on(LOCKS))
		return f_pthread_cond_wait(c, m);
	const void *ra = __builtin_return_address(0);
	cond_releases(m, ra);
	WAIT;
	wait_begin(&w, "pthread_cond_wait", NULL, CPROF_TBR_COND, c, __builtin_return_address(0), CALLER_BASE);
	int rc = f_pthread_cond_wait(c, m);
	wait_end(&w, "pthread_cond_wait", ra, rc == 0, rc == 0);
	return rc;
}

CPROF_API int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime)
{
	REAL(pthread_cond_timedwait, "GLIBC_2.3.2", return EINVAL);
	if (!on(LOCKS))
		return f_pthread_cond_timedwait(c, m, abstime);
	const void *ra = __builtin_return_address(0);
	cond_releases(m, ra);
	WAIT;
	wait_begin(&w, "pthread_cond_timedwait", NULL, CPROF_TBR_COND, c, __builtin_return_address(0), CALLER_BASE);
	int rc = f_pthread_cond_timedwait(c, m, abstime);
	wait_end(&w, "pthread_cond_timedwait", ra, rc == 0 || rc == ETIMEDOUT, rc == 0);
	return rc;
}

CPROF_API int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
				     const struct timespec *abstime)
{
	REAL(pthread_cond_clockwait, NULL, return EINVAL);
	if (!on(LOCKS))
		return f_pthread_cond_clockwait(c, m, clock, abstime);
	const void *ra = __builtin_return_address(0);
	cond_releases(m, ra);
	WAIT;
	wait_begin(&w, "pthread_cond_clockwait", NULL, CPROF_TBR_COND, c, __builtin_return_address(0), CALLER_BASE);
	int rc = f_pthread_cond_clockwait(c, m, clock, abstime);
	wait_end(&w, "pthread_cond_clockwait", ra, rc == 0 || rc == ETIMEDOUT, rc == 0);
	return rc;
}

/*
 * Signalling: while a trace runs, who signalled a condition last (and
 * when) is stamped before the real call, so the waiter it wakes can name
 * its releaser. A condition no thread waits on wakes no one and is not
 * stamped: the C library's waiter count (__wrefs >> 3, which its own
 * signal reads first and returns on when 0) says so, read from the line
 * the real call reads anyway. A waiter that arrives after this read is not
 * woken by this call either, unless the library's own read sees it: that
 * rare wake-up goes without a releaser.
 */
static inline bool cond_waited(const pthread_cond_t *c)
{
	return (__atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) >> 3) != 0;
}

CPROF_API int pthread_cond_signal(pthread_cond_t *c)
{
	REAL(pthread_cond_signal, "GLIBC_2.3.2", return EINVAL);
	if (on(CPROF_WAIT_TRACE) && cond_waited(c))
		cprof__trace_wake(c);
	return f_pthread_cond_signal(c);
}

CPROF_API int pthread_cond_broadcast(pthread_cond_t *c)
{
	REAL(pthread_cond_broadcast, "GLIBC_2.3.2", return EINVAL);
	if (on(CPROF_WAIT_TRACE) && cond_waited(c))
		cprof__trace_wake(c);
	return f_pthread_cond_broadcast(c);
}

/* ---- semaphores ---- */

CPROF_API int sem_post(sem_t *s)
{
	REAL(sem_post, NULL, { errno = ENOSYS; return -1; });
	if (on(CPROF_WAIT_TRACE))
		cprof__trace_wake(s);
	return f_sem_post(s);
}


/* A semaphore that can be taken at once is not a wait: try first, errno untouched. */
static inline bool sem_taken(sem_t *s)
{
	REAL(sem_trywait, NULL, return false);
	int saved = errno;
	if (f_sem_trywait(s) == 0)
		return true;
	errno = saved; /* any failure: the real call below decides */
	return false;
}

CPROF_API int sem_wait(sem_t *s)
{
	REAL(sem_wait, NULL, { errno = ENOSYS; return -1; });
	if (!on(LOCKS))
		return f_sem_wait(s);
	if (sem_taken(s))
		return 0;
	WAIT;
	wait_begin(&w, "sem_wait", NULL, CPROF_TBR_SEM, s, __builtin_return_address(0), CALLER_BASE);
	int rc = f_sem_wait(s);
	int e = errno;
	wait_end(&w, "sem_wait", __builtin_return_address(0), rc == 0, rc == 0);
	errno = e;
	return rc;
}

CPROF_API int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
	REAL(sem_timedwait, NULL, { errno = ENOSYS; return -1; });
	if (!on(LOCKS))
		return f_sem_timedwait(s, abstime);
	if (sem_taken(s))
		return 0;
	WAIT;
	wait_begin(&w, "sem_timedwait", NULL, CPROF_TBR_SEM, s, __builtin_return_address(0), CALLER_BASE);
	int rc = f_sem_timedwait(s, abstime);
	int e = errno;
	wait_end(&w, "sem_timedwait", __builtin_return_address(0), rc == 0 || e == ETIMEDOUT, rc == 0);
	errno = e;
	return rc;
}

CPROF_API int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abstime)
{
	REAL(sem_clockwait, NULL, { errno = ENOSYS; return -1; });
	if (!on(LOCKS))
		return f_sem_clockwait(s, clock, abstime);
	if (sem_taken(s))
		return 0;
	WAIT;
	wait_begin(&w, "sem_clockwait", NULL, CPROF_TBR_SEM, s, __builtin_return_address(0), CALLER_BASE);
	int rc = f_sem_clockwait(s, clock, abstime);
	int e = errno;
	wait_end(&w, "sem_clockwait", __builtin_return_address(0), rc == 0 || e == ETIMEDOUT, rc == 0);
	errno = e;
	return rc;
}

/* ---- join and barriers ---- */

CPROF_API int pthread_join(pthread_t th, void **ret)
{
	REAL(pthread_join, NULL, return EINVAL);
	REAL(pthread_tryjoin_np, NULL, return f_pthread_join(th, ret));
	if (!on(LOCKS))
		return f_pthread_join(th, ret);
	/* A thread that has already ended is not a wait. */
	int rc = f_pthread_tryjoin_np(th, ret);
	if (rc != EBUSY)
		return rc;
	WAIT;
	wait_begin(&w, "pthread_join", NULL, CPROF_TBR_JOIN, (const void *)th,
		   __builtin_return_address(0), CALLER_BASE);
	rc = f_pthread_join(th, ret);
	wait_end(&w, "pthread_join", __builtin_return_address(0), rc == 0, rc == 0);
	return rc;
}

CPROF_API int pthread_barrier_wait(pthread_barrier_t *b)
{
	REAL(pthread_barrier_wait, NULL, return EINVAL);
	if (!on(LOCKS))
		return f_pthread_barrier_wait(b);
	WAIT;
	wait_begin(&w, "pthread_barrier_wait", NULL, CPROF_TBR_BARRIER, NULL, __builtin_return_address(0), CALLER_BASE);
	int rc = f_pthread_barrier_wait(b);
	wait_end(&w, "pthread_barrier_wait", __builtin_return_address(0),
		 rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD, false);
	return rc;
}
