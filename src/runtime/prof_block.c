/*
 * prof_block.c - the block and mutex profilers (Go's block and mutex
 * profiles in C terms): their rates, the sampling decisions, the bookkeeping
 * that charges a waiter's delay to the critical section that made it wait,
 * the profiles built from what was recorded, and their life across exit,
 * fork and exec.
 *
 * Block profile: where threads waited, and for how long. A wait of d
 * nanoseconds is recorded when d >= the rate; a shorter one with
 * probability d/rate, and then weighted as rate/d contentions and rate
 * nanoseconds, so totals stay unbiased (Go's SetBlockProfileRate).
 *
 * Mutex profile: the critical sections that made others wait, at the stack
 * that unlocked. A waiter that finds a lock taken registers in a small side
 * table keyed by the lock's address (only then: an uncontended unlock reads
 * one global counter and writes nothing); every unlock of a registered lock
 * takes the waiting time accumulated since the previous accounting, summed
 * over the waiters, and charges it to its own stack, 1 in N of those
 * charges being recorded and weighted by N (Go's SetMutexProfileFraction).
 *
 * The interposed functions themselves live in wait_sync.c (pthread locks,
 * condition variables, semaphores, join, barriers) and wait_syscall.c
 * (blocking system calls); recording goes into stacktab.c's tables, keyed
 * by stack, labels and reason, with a count and a delay.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cprof.h"
#include "proto/profile.h"
#include "runtime/rt.h"

#define WAIT_ONE 1024 /* fixed-point unit of a contention count */
#define TABLE_ENTRIES (1u << 14)
#define TABLE_FRAMES (1u << 20)

struct wait_prof {
	const char *name;   /* "block" or "mutex" */
	struct stacktab *tab; /* created when first enabled, never freed */
	atomic_ullong lost_count, lost_delay, events;
	char base[PATH_MAX]; /* the path the environment asked for */
	char path[PATH_MAX]; /* where this process writes at exit ("" for none) */
};

static struct wait_prof blockp = {.name = "block"}, mutexp = {.name = "mutex"};
static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t start_wall;

_Atomic unsigned cprof__wait_flags __attribute__((aligned(64)));
_Atomic unsigned cprof__mutex_live __attribute__((aligned(64)));
CPROF_TLS int cprof__wait_guard;
static _Atomic int64_t block_rate;   /* ns; 0: off */
static _Atomic int64_t mutex_frac;   /* 1 in N; 0: off */
static _Atomic unsigned state_users; /* cprof__wait_states(true) minus (false) */
static _Atomic bool tracing;         /* cprof__wait_trace */

static void update_flags(void)
{
	unsigned f = 0;
	if (atomic_load(&block_rate) > 0)
		f |= CPROF_WAIT_BLOCK;
	if (atomic_load(&mutex_frac) > 0)
		f |= CPROF_WAIT_MUTEX;
	if (atomic_load(&cprof__wait_flags) & CPROF_WAIT_SYSCALLS)
		f |= CPROF_WAIT_SYSCALLS;
	if (atomic_load(&state_users) > 0)
		f |= CPROF_WAIT_STATES;
	if (atomic_load(&tracing))
		f |= CPROF_WAIT_TRACE;
	atomic_store(&cprof__wait_flags, f);
}

/* ---- per-thread random numbers for the sampling decisions ---- */

static CPROF_TLS uint64_t rng;

static uint64_t rand64(void)
{
	uint64_t x = rng;
	if (!x)
		x = ((uint64_t)cprof__now_ns() ^ ((uint64_t)(uintptr_t)&rng * 0x9e3779b97f4a7c15ull)) | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ---- recording ---- */

static const void *current_labels(void)
{
	return cprof__labels_current();
}

/*
 * The caller's stack, starting at ra (the return address of the interposed
 * call, so the wrapper's own frames are cut whatever the compiler inlined).
 */
int cprof__wait_capture(uintptr_t *pcs, int max, const void *ra)
{
	enum { EXTRA = 6, CAP = CPROF_MAX_DEPTH_LIMIT + EXTRA };
	uintptr_t buf[CAP];
	int n = cprof__unwind_self(buf, max + EXTRA < CAP ? max + EXTRA : CAP, 0);
	int start = -1;
	for (int i = 0; i < n && i < EXTRA; i++) {
		if (buf[i] == (uintptr_t)ra) {
			start = i;
			break;
		}
	}
	if (start < 0) {
		/* The unwinder did not see the call: record its site at least. */
		pcs[0] = (uintptr_t)ra;
		return 1;
	}
	int m = n - start < max ? n - start : max;
	for (int i = 0; i < m; i++)
		pcs[i] = buf[start + i];
	return m;
}

/* Record one event. Called with cprof__wait_guard held. */
static void record(struct wait_prof *w, const char *reason, uint64_t count, uint64_t delay, const void *ra)
{
	struct stacktab *t = w->tab;
	if (!t)
		return;
	uintptr_t pcs[CPROF_MAX_DEPTH_LIMIT];
	int n = cprof__wait_capture(pcs, cprof__config.max_depth, ra);
	atomic_fetch_add_explicit(&w->events, 1, memory_order_relaxed);
	uint64_t v[2] = {count, delay};
	if (n <= 0 || cprof__stacktab_add_key(t, pcs, n, current_labels(), reason, v, 2) != 0) {
		atomic_fetch_add_explicit(&w->lost_count, count, memory_order_relaxed);
		atomic_fetch_add_explicit(&w->lost_delay, delay, memory_order_relaxed);
	}
}

void cprof__block_event(const char *reason, int64_t d, const void *ra)
{
	int64_t rate = atomic_load_explicit(&block_rate, memory_order_relaxed);
	if (rate <= 0 || d <= 0)
		return;
	uint64_t count, delay;
	if (d >= rate) {
		count = WAIT_ONE;
		delay = (uint64_t)d;
	} else {
		/* Sampled with probability d/rate, standing for rate/d such waits. */
		if ((int64_t)(rand64() % (uint64_t)rate) >= d)
			return;
		count = (uint64_t)((double)WAIT_ONE * (double)rate / (double)d + 0.5);
		delay = (uint64_t)rate;
	}
	int saved = errno;
	cprof__wait_guard++;
	record(&blockp, reason, count, delay, ra);
	cprof__wait_guard--;
	errno = saved;
}

/* ---- the mutex side table: waiting time owed by the lock holder ---- */

#define OWE_SETS 512
#define OWE_WAYS 8

/* The keys of one set fill one cache line: an unlock reads that line only. */
struct owe_keys {
	_Atomic uintptr_t key[OWE_WAYS]; /* lock address; 0 = free */
} __attribute__((aligned(64)));

struct owe_set {
	atomic_int lock; /* spin lock, held for a few instructions */
	uint32_t nwait[OWE_WAYS];
	int64_t since[OWE_WAYS]; /* time of the last accounting */
	int64_t owed[OWE_WAYS];  /* waiting time accumulated, not yet charged */
	/* The last unlock while the lock had waiters (the execution trace's release): thread, ns (0: not yet). */
	pid_t rel_tid[OWE_WAYS];
	int64_t rel_ns[OWE_WAYS];
} __attribute__((aligned(64)));

static struct owe_keys owe_keys[OWE_SETS];
static struct owe_set owe_sets[OWE_SETS];
static atomic_ullong owe_full; /* waiters that found their set full */

static unsigned set_of(uintptr_t k)
{
	uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> 55) & (OWE_SETS - 1);
}

static void set_lock(struct owe_set *s)
{
	for (int spins = 0;; spins++) {
		if (!atomic_load_explicit(&s->lock, memory_order_relaxed) &&
		    !atomic_exchange_explicit(&s->lock, 1, memory_order_acquire))
			return;
		if (spins > 64)
			sched_yield(); /* the holder was preempted */
		else
			__builtin_ia32_pause();
	}
}

static void set_unlock(struct owe_set *s)
{
	atomic_store_explicit(&s->lock, 0, memory_order_release);
}

/* Bring way i's account up to now. Set lock held. */
static void accrue(struct owe_set *s, int i, int64_t now)
{
	if (now > s->since[i]) {
		s->owed[i] += (int64_t)s->nwait[i] * (now - s->since[i]);
		s->since[i] = now;
	}
}

int cprof__mutex_wait_begin(const void *lock, int64_t now)
{
	uintptr_t k = (uintptr_t)lock;
	unsigned si = set_of(k);
	struct owe_keys *ks = &owe_keys[si];
	struct owe_set *s = &owe_sets[si];
	cprof__wait_guard++;
	set_lock(s);
	int way = -1, empty = -1;
	for (int i = 0; i < OWE_WAYS; i++) {
		uintptr_t cur = atomic_load_explicit(&ks->key[i], memory_order_relaxed);
		if (cur == k) {
			way = i;
			break;
		}
		if (cur == 0 && empty < 0)
			empty = i;
	}
	if (way < 0) {
		if (empty < 0) {
			set_unlock(s);
			cprof__wait_guard--;
			atomic_fetch_add_explicit(&owe_full, 1, memory_order_relaxed);
			return -1;
		}
		way = empty;
		s->nwait[way] = 0;
		s->since[way] = now;
		s->owed[way] = 0;
		s->rel_tid[way] = 0;
		s->rel_ns[way] = 0;
		atomic_store(&ks->key[way], k);
		atomic_fetch_add(&cprof__mutex_live, 1);
	}
	accrue(s, way, now);
	s->nwait[way]++;
	set_unlock(s);
	cprof__wait_guard--;
	return (int)(si * OWE_WAYS + (unsigned)way);
}

void cprof__mutex_wait_end(int slot, int64_t now, pid_t *peer, int64_t *rel_ns)
{
	if (slot < 0)
		return;
	struct owe_set *s = &owe_sets[slot / OWE_WAYS];
	int way = slot % OWE_WAYS;
	cprof__wait_guard++;
	set_lock(s);
	accrue(s, way, now);
	if (s->nwait[way] > 0)
		s->nwait[way]--;
	if (peer) {
		*peer = __atomic_load_n(&s->rel_tid[way], __ATOMIC_RELAXED);
		*rel_ns = __atomic_load_n(&s->rel_ns[way], __ATOMIC_ACQUIRE);
	}
	/* What is owed stays until the next unlock of this lock charges it. */
	set_unlock(s);
	cprof__wait_guard--;
}

int64_t cprof__mutex_release(const void *lock)
{
	uintptr_t k = (uintptr_t)lock;
	unsigned si = set_of(k);
	struct owe_keys *ks = &owe_keys[si];
	int way = -1;
	for (int i = 0; i < OWE_WAYS; i++)
		if (atomic_load_explicit(&ks->key[i], memory_order_relaxed) == k)
			way = i;
	if (way < 0)
		return 0;
	struct owe_set *s = &owe_sets[si];
	bool trace = atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed) & CPROF_WAIT_TRACE;
	if (trace && atomic_load_explicit(&mutex_frac, memory_order_relaxed) <= 0 &&
	    __atomic_load_n(&s->nwait[way], __ATOMIC_RELAXED) > 0) {
		/*
		 * Only the trace asks, and the lock has waiters: who unlocks and
		 * when, in two plain stores inside the critical section (a waiter
		 * it wakes must find them), without the set's lock. A waiter
		 * reads them under the lock; a pair torn by a racing unlock of a
		 * read lock is two unlockers'.
		 */
		__atomic_store_n(&s->rel_tid[way], cprof__trace_tid(), __ATOMIC_RELAXED);
		__atomic_store_n(&s->rel_ns[way], cprof__now_ns(), __ATOMIC_RELAXED);
		return 0;
	}
	int64_t now = cprof__now_ns();
	int64_t d = 0;
	cprof__wait_guard++;
	set_lock(s);
	if (atomic_load_explicit(&ks->key[way], memory_order_relaxed) == k) {
		accrue(s, way, now);
		d = s->owed[way];
		s->owed[way] = 0;
		if (s->nwait[way] > 0 && trace) {
			s->rel_tid[way] = cprof__trace_tid();
			s->rel_ns[way] = now;
		}
		if (s->nwait[way] == 0) {
			atomic_store(&ks->key[way], 0);
			atomic_fetch_sub(&cprof__mutex_live, 1);
		}
	}
	set_unlock(s);
	cprof__wait_guard--;
	return d;
}

void cprof__mutex_charge(int64_t d, const void *ra)
{
	int64_t frac = atomic_load_explicit(&mutex_frac, memory_order_relaxed);
	if (d <= 0 || frac <= 0 || (frac > 1 && rand64() % (uint64_t)frac != 0))
		return;
	int saved = errno;
	cprof__wait_guard++;
	record(&mutexp, NULL, WAIT_ONE * (uint64_t)frac, (uint64_t)d * (uint64_t)frac, ra);
	cprof__wait_guard--;
	errno = saved;
}

static void owe_reset(void)
{
	memset(owe_keys, 0, sizeof owe_keys);
	memset(owe_sets, 0, sizeof owe_sets);
	atomic_store(&cprof__mutex_live, 0);
}

/* ---- configuration ---- */

/* Create w's table if it has none. cfg_lock held. */
static int ensure_table(struct wait_prof *w)
{
	if (w->tab)
		return 0;
	if (cprof__config.unwinder == CPROF_UNWIND_DWARF)
		cprof__unwind_warmup();
	if (!start_wall)
		start_wall = cprof__wall_ns();
	struct stacktab *t = cprof__stacktab_new(TABLE_ENTRIES, TABLE_FRAMES);
	if (!t)
		return -ENOMEM;
	w->tab = t;
	return 0;
}

CPROF_API int cprof_block_profile_set_rate(int64_t rate_ns)
{
	if (rate_ns < 0)
		return -EINVAL;
	pthread_mutex_lock(&cfg_lock);
	int rc = rate_ns > 0 ? ensure_table(&blockp) : 0;
	if (rc == 0) {
		atomic_store(&block_rate, rate_ns);
		update_flags();
	}
	pthread_mutex_unlock(&cfg_lock);
	return rc;
}

CPROF_API int64_t cprof_block_profile_rate(void)
{
	return atomic_load(&block_rate);
}

CPROF_API int cprof_mutex_profile_set_fraction(int64_t n)
{
	if (n < 0)
		return -EINVAL;
	pthread_mutex_lock(&cfg_lock);
	int rc = n > 0 ? ensure_table(&mutexp) : 0;
	if (rc == 0) {
		atomic_store(&mutex_frac, n);
		update_flags();
	}
	pthread_mutex_unlock(&cfg_lock);
	return rc;
}

CPROF_API int64_t cprof_mutex_profile_fraction(void)
{
	return atomic_load(&mutex_frac);
}

CPROF_API int cprof_block_profile_syscalls(int on)
{
	pthread_mutex_lock(&cfg_lock);
	if (on)
		atomic_fetch_or(&cprof__wait_flags, CPROF_WAIT_SYSCALLS);
	else
		atomic_fetch_and(&cprof__wait_flags, ~(unsigned)CPROF_WAIT_SYSCALLS);
	update_flags();
	pthread_mutex_unlock(&cfg_lock);
	return 0;
}

void cprof__wait_trace(bool on)
{
	pthread_mutex_lock(&cfg_lock);
	atomic_store(&tracing, on);
	update_flags();
	pthread_mutex_unlock(&cfg_lock);
}

void cprof__wait_states(bool on)
{
	pthread_mutex_lock(&cfg_lock);
	if (on)
		atomic_fetch_add(&state_users, 1);
	else if (atomic_load(&state_users) > 0)
		atomic_fetch_sub(&state_users, 1);
	update_flags();
	pthread_mutex_unlock(&cfg_lock);
}

/* ---- building the profiles ---- */

struct build {
	struct profile *p;
	struct rt_sym *s;
	int64_t reason_key;
	bool err;
};

static void add_entry(size_t id, const uintptr_t *pcs, int n, const void *labels, const void *why,
		      const uint64_t *vals, void *arg)
{
	struct build *b = arg;
	const char *reason = why;
	uint64_t count = vals[0], delay = vals[1];
	if (b->err || (count == 0 && delay == 0))
		return;
	uint64_t ids[CPROF_MAX_DEPTH_LIMIT];
	int nid = cprof__sym_stack(b->s, pcs, n, false, ids);
	if (nid < 0) {
		b->err = true;
		return;
	}
	struct pp_label lab[1 + CPROF_LABELS_MAX];
	size_t nl = 0;
	if (reason) {
		memset(&lab[0], 0, sizeof lab[0]);
		lab[0].key = b->reason_key;
		lab[0].str = cprof__profile_intern(b->p, reason, (size_t)-1);
		nl = 1;
	}
	size_t nu = cprof__labels_to_pp(b->p, labels, lab + nl, CPROF_LABELS_MAX);
	for (size_t i = 0; nl == 1 && i < nu; i++)
		if (lab[1 + i].key == b->reason_key) { /* the program's own "reason" wins */
			memmove(lab, lab + 1, nu * sizeof lab[0]);
			nl = 0;
		}
	nl += nu;
	int64_t v[2] = {(int64_t)((count + WAIT_ONE / 2) / WAIT_ONE), (int64_t)delay};
	if (v[0] == 0)
		v[0] = 1;
	if (!cprof__profile_add_sample(b->p, ids, (size_t)nid, v, 2, lab, nl))
		b->err = true;
}

static struct profile *build_in_arena(struct wait_prof *w)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		goto oom;
	cprof__profile_add_sample_type(p, "contentions", "count");
	cprof__profile_add_sample_type(p, "delay", "nanoseconds");
	p->period_type.type = cprof__profile_intern(p, "contentions", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "count", (size_t)-1);
	p->period = 1;
	p->time_nanos = cprof__wall_ns();
	p->duration_nanos = start_wall ? p->time_nanos - start_wall : 0;
	char c[256];
	bool is_block = w == &blockp;
	if (is_block)
		snprintf(c, sizeof c,
			 "cprof %s: block profile, rate %lld ns (waits shorter than that are sampled in "
			 "proportion to their length)%s",
			 CPROF_VERSION_STRING, (long long)atomic_load(&block_rate),
			 atomic_load(&cprof__wait_flags) & CPROF_WAIT_SYSCALLS
				 ? "; blocking system calls included, label reason" : "");
	else
		snprintf(c, sizeof c, "cprof %s: mutex profile, 1 in %lld contentions recorded and weighted",
			 CPROF_VERSION_STRING, (long long)atomic_load(&mutex_frac));
	cprof__profile_add_comment(p, c);
	if (!w->tab) {
		/* As Go's: a profile that was never turned on is empty, not missing. */
		snprintf(c, sizeof c, "the %s profile is off: set %s (cprof run %s) to record", w->name,
			 is_block ? "CPROF_BLOCK_RATE" : "CPROF_MUTEX_FRACTION",
			 is_block ? "-blockprofile" : "-mutexprofile");
		cprof__profile_add_comment(p, c);
	}
	uint64_t lost = atomic_load(&w->lost_count);
	if (lost) {
		snprintf(c, sizeof c, "%llu contentions could not be recorded (table full)",
			 (unsigned long long)((lost + WAIT_ONE - 1) / WAIT_ONE));
		cprof__profile_add_comment(p, c);
	}
	if (!is_block && atomic_load(&owe_full)) {
		snprintf(c, sizeof c, "%llu waits on locks could not be charged (too many locks contended at once)",
			 (unsigned long long)atomic_load(&owe_full));
		cprof__profile_add_comment(p, c);
	}
	struct build b = {p, cprof__sym_begin(p), cprof__profile_intern(p, "reason", (size_t)-1), false};
	if (!b.s)
		goto oom;
	if (w->tab)
		cprof__stacktab_foreach_key(w->tab, add_entry, &b);
	if (lost && !b.err) {
		uint64_t id = cprof__sym_special(b.s, "[cprof: lost samples]");
		int64_t v[2] = {(int64_t)((lost + WAIT_ONE - 1) / WAIT_ONE), (int64_t)atomic_load(&w->lost_delay)};
		if (!id || !cprof__profile_add_sample(p, &id, 1, v, 2, NULL, 0))
			b.err = true;
	}
	if (cprof__sym_end(b.s) != 0 || b.err)
		goto oom;
	return p;
oom:
	cprof__profile_free(p);
	errno = ENOMEM;
	return NULL;
}

static struct profile *build(struct wait_prof *w)
{
	cprof__wait_guard++;
	cprof__arena_begin(); /* the profile and its symbols: not the program's heap */
	struct profile *p = build_in_arena(w);
	int e = errno;
	cprof__arena_end();
	cprof__wait_guard--;
	errno = e;
	return p;
}

struct counters {
	void (*fn)(size_t id, const uintptr_t *pcs, int n, const void *labels, const char *reason,
		   int64_t contentions, int64_t delay, void *arg);
	void *arg;
};

static void count_entry(size_t id, const uintptr_t *pcs, int n, const void *labels, const void *reason,
			const uint64_t *v, void *arg)
{
	struct counters *c = arg;
	uint64_t count = v[0], delay = v[1];
	if (count == 0 && delay == 0)
		return;
	int64_t k = (int64_t)((count + WAIT_ONE / 2) / WAIT_ONE); /* as add_entry rounds */
	c->fn(id, pcs, n, labels, reason, k ? k : 1, (int64_t)delay, c->arg);
}

int cprof__wait_counters(bool mutex,
			 void (*fn)(size_t id, const uintptr_t *pcs, int n, const void *labels, const char *reason,
				    int64_t contentions, int64_t delay, void *arg),
			 void *arg, int64_t lost[2])
{
	struct wait_prof *w = mutex ? &mutexp : &blockp;
	if (!w->tab)
		return -ENODATA;
	cprof__wait_guard++;
	struct counters c = {fn, arg};
	cprof__stacktab_foreach_key(w->tab, count_entry, &c);
	uint64_t lc = atomic_load(&w->lost_count);
	lost[0] = (int64_t)((lc + WAIT_ONE - 1) / WAIT_ONE); /* as build() rounds */
	lost[1] = (int64_t)atomic_load(&w->lost_delay);
	cprof__wait_guard--;
	return 0;
}

struct profile *cprof__block_profile(void)
{
	return build(&blockp);
}

struct profile *cprof__mutex_profile(void)
{
	return build(&mutexp);
}

/* ---- exit, fork, exec ---- */

static void write_one(struct wait_prof *w, const char *dest)
{
	if (!dest[0] || !w->tab)
		return;
	struct profile *p = build(w);
	int rc = p ? 0 : -ENOMEM;
	cprof__wait_guard++;
	if (p)
		rc = cprof__write_path(p, dest);
	cprof__profile_free(p);
	if (rc != 0)
		cprof__log("cannot write the %s profile to %s: %s", w->name, dest, strerror(-rc));
	else
		cprof__report(w->name, dest, "events=%llu lost=%llu",
			      (unsigned long long)atomic_load(&w->events),
			      (unsigned long long)((atomic_load(&w->lost_count) + WAIT_ONE - 1) / WAIT_ONE));
	cprof__wait_guard--;
}

static atomic_bool exited;

static void at_exit(void)
{
	if (atomic_exchange(&exited, true))
		return;
	write_one(&blockp, blockp.path);
	write_one(&mutexp, mutexp.path);
}

void cprof__wait_at_fatal(void)
{
	at_exit();
}

static void atfork_child(void)
{
	/* Another thread may have held a lock of ours at fork; the child has one thread. */
	pthread_mutex_init(&cfg_lock, NULL);
	owe_reset();
	atomic_store(&exited, false);
	/* The trace's writer thread does not exist in the child: it records nothing. */
	atomic_store(&tracing, false);
	update_flags();
	/* The child's profiles are its own: the parent's waits stay the parent's. */
	struct wait_prof *ws[2] = {&blockp, &mutexp};
	for (int i = 0; i < 2; i++) {
		struct wait_prof *w = ws[i];
		if (w->tab)
			cprof__stacktab_clear(w->tab);
		atomic_store(&w->lost_count, 0);
		atomic_store(&w->lost_delay, 0);
		atomic_store(&w->events, 0);
		if (w->path[0])
			snprintf(w->path, sizeof w->path, "%.*s.%d", PATH_MAX - 16, w->base, (int)getpid());
	}
	start_wall = cprof__wall_ns();
	if (blockp.path[0] || mutexp.path[0])
		cprof__fatal_install();
}

void cprof__wait_before_exec(void)
{
	struct wait_prof *ws[2] = {&blockp, &mutexp};
	for (int i = 0; i < 2; i++) {
		struct wait_prof *w = ws[i];
		if (!w->path[0] || !w->tab || atomic_load(&w->events) == 0)
			continue;
		char alt[PATH_MAX + 64];
		snprintf(alt, sizeof alt, "%s.preexec.%d", w->path, (int)getpid());
		write_one(w, alt);
	}
}

static int64_t env_int(const char *name, int64_t dflt)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < 0) {
		cprof__log("%s=%s: want a non-negative integer; using %lld", name, v, (long long)dflt);
		return dflt;
	}
	return n;
}

void cprof__wait_start_from_env(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
	atexit(at_exit);
	const char *bp = getenv("CPROF_BLOCKPROFILE"), *mp = getenv("CPROF_MUTEXPROFILE");
	const char *sys = getenv("CPROF_BLOCK_SYSCALLS");
	/* As go test: asking for the profile records every event unless told otherwise. */
	int64_t rate = env_int("CPROF_BLOCK_RATE", bp && *bp ? 1 : 0);
	int64_t frac = env_int("CPROF_MUTEX_FRACTION", mp && *mp ? 1 : 0);
	if (bp && *bp) {
		snprintf(blockp.base, sizeof blockp.base, "%s", bp);
		cprof__env_path(bp, blockp.path, sizeof blockp.path);
	}
	if (mp && *mp) {
		snprintf(mutexp.base, sizeof mutexp.base, "%s", mp);
		cprof__env_path(mp, mutexp.path, sizeof mutexp.path);
	}
	if (sys && *sys && strcmp(sys, "0") != 0)
		cprof_block_profile_syscalls(1);
	if (blockp.path[0] || mutexp.path[0])
		cprof__fatal_install();
	int rc = 0;
	if (rate > 0 && (rc = cprof_block_profile_set_rate(rate)) != 0)
		cprof__log("cannot start the block profile: %s", strerror(-rc));
	if (frac > 0 && (rc = cprof_mutex_profile_set_fraction(frac)) != 0)
		cprof__log("cannot start the mutex profile: %s", strerror(-rc));
}
