/*
 * trace.c - the execution tracer's recording side: per-thread event buffers
 * taken from a fixed pool, the compact event encoding (docs/FORMAT.md,
 * "Execution trace"), interned strings, the background writer thread that
 * writes self-contained chunks and samples the process's counters, and the
 * public annotation API (tasks, regions, log messages) with its start/stop.
 * It does not decode traces (src/cli/trace_read.c) and does not decide when a
 * thread starts or ends (threads.c calls the hooks below).
 *
 * A thread writes events into its own 64 KiB buffer with plain stores and
 * timestamps from the TSC. A full buffer goes on a FIFO queue the writer
 * drains; a thread that finds the pool empty drops its events and counts
 * them. Stopping flips a generation number, then waits (an asymmetric fence
 * via membarrier) for every thread to leave the event it may be writing,
 * and takes the partially filled buffers.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"
#include "runtime/rt.h"
#include "runtime/trace.h"
#include "runtime/trace_int.h"

#define TBUF_DATA (64 * 1024 - 64)
#define POOL_BUFS 256          /* 16 MiB of event buffers at most */
#define STR_SLOTS 8192         /* interned strings (power of two) */
#define STR_ARENA (1 << 20)    /* their bytes */
#define DEFS_MAX (256 * 1024)  /* string definitions not yet written */
#define TICK_MS 100            /* counters and clock pairs every 100 ms */
#define EV_MAX 32              /* room an event needs besides its strings */

struct tbuf {
	struct tbuf *next;
	pid_t tid;
	uint32_t len;
	uint64_t base_tick;
	int64_t base_ns;
	uint8_t data[TBUF_DATA];
};

/* One thread's writing state, in its TLS; the registry points at it while the thread lives. */
struct tthread {
	uint8_t *pos, *end;
	struct tbuf *buf;
	uint64_t last_tick;
	unsigned gen;           /* session the buffer belongs to */
	volatile int writing;   /* inside an event: the stopper waits */
	volatile int in_lock;   /* holds T.lock: a signal handler must not take it */
	int slot;               /* registry index + 1, 0 when not registered */
	pid_t tid;
	/* Names this thread used lately: the string's address and its interned record. */
	struct {
		const char *s;
		const char *rec;
	} cache[16];
	/* Region names of up to 15 bytes by address (~address: 0 is no entry),
	 * their bytes with the terminating NUL, for the region fast path. */
	struct {
		uintptr_t key;
		char s[16];
		uint32_t id;
	} names[32];
};

static CPROF_TLS struct tthread me;

CPROF_API volatile int cprof__trace_on;

static struct {
	atomic_flag lock;            /* spinlock: pool, queue, defs, registry (short sections) */
	atomic_int forking;          /* a fork's prepare hook holds or wants the lock */
	struct tbuf *pool;           /* mmapped once, never unmapped */
	struct tbuf *free_list;
	struct tbuf *q_head, *q_tail;
	struct tthread *reg[CPROF_MAX_THREADS];
	int nreg;
	volatile unsigned gen;       /* odd while a session runs */
	int fd;
	pthread_t writer;
	atomic_int wake;             /* futex word */
	atomic_int stopping;
	uint8_t *defs;
	size_t ndefs;
	_Atomic uint64_t dropped;
	_Atomic uint64_t dropped_samples; /* CPU samples not recorded */
	_Atomic uint64_t dropped_weight;  /* the sampling periods they stood for */
	_Atomic uint64_t events_bytes;
	size_t stack_defs_written;   /* bytes of trace_stack.c's definitions in this file */
	bool flight;                 /* the session keeps the last moments in memory (trace_flight.c), no file */
	int64_t flight_window_ns;
	size_t flight_max_bytes;
	bool stack_oom_said;
	bool use_tsc;
	bool membarrier_ok;
	pthread_key_t key;
	bool key_ok;
	pthread_mutex_t api_lock;
} T = {.lock = ATOMIC_FLAG_INIT, .fd = -1, .api_lock = PTHREAD_MUTEX_INITIALIZER};

static struct {
	_Atomic(const char *) slot[STR_SLOTS]; /* points into the arena: u32 id, u32 len, bytes */
	char *arena;
	size_t used;
	uint32_t next_id;
} S;

static _Atomic uint64_t next_task = 1;

static void spin_lock(void)
{
	me.in_lock++;
	__asm__ volatile("" ::: "memory");
	while (atomic_flag_test_and_set_explicit(&T.lock, memory_order_acquire))
		__builtin_ia32_pause();
}

/*
 * The lock for an event's way (a name to intern, a buffer to take), which
 * may be taken while the thread holds other locks (the program's, another
 * module's, a signal handler's): while a fork is under way (its prepare
 * hook holds the lock while the other modules' hooks take theirs) it gives
 * up, and the event is dropped, rather than wait. False then.
 */
static bool spin_lock_event(void)
{
	me.in_lock++;
	__asm__ volatile("" ::: "memory");
	while (atomic_flag_test_and_set_explicit(&T.lock, memory_order_acquire)) {
		if (atomic_load_explicit(&T.forking, memory_order_relaxed)) {
			__asm__ volatile("" ::: "memory");
			me.in_lock--;
			return false;
		}
		__builtin_ia32_pause();
	}
	return true;
}

static void spin_unlock(void)
{
	atomic_flag_clear_explicit(&T.lock, memory_order_release);
	__asm__ volatile("" ::: "memory");
	me.in_lock--;
}

static inline uint64_t ticks(void)
{
#if defined(__x86_64__)
	if (__builtin_expect(T.use_tsc, 1))
		return __builtin_ia32_rdtsc();
#endif
	return (uint64_t)cprof__now_ns();
}

/* The TSC where the region fast path may use it (T.use_tsc is only set on x86_64). */
static inline uint64_t tsc_fast(void)
{
#if defined(__x86_64__)
	return __builtin_ia32_rdtsc();
#else
	return (uint64_t)cprof__now_ns();
#endif
}

static inline uint8_t *put_uv(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ---- strings ---- */

static uint64_t hash_str(const char *s, size_t *len)
{
	uint64_t h = 1469598103934665603ULL;
	const char *p = s;
	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	*len = (size_t)(p - s);
	return h;
}

static uint32_t intern_slow(const char *s, const char **recp);

/*
 * The id of s (1...), interned; 0 when the table is full. A per-thread
 * cache by address saves hashing the name a loop passes again; the bytes
 * are still compared, so a buffer reused for another name is right. Thread.
 */
static inline uint32_t intern(const char *s)
{
	if (!s)
		s = "";
	unsigned i = (unsigned)((uintptr_t)s >> 3) & 15;
	const char *rec = me.cache[i].rec;
	if (me.cache[i].s == s && rec) {
		const char *a = s, *b = rec + 8;
		while (*a && *a == *b)
			a++, b++;
		if (*a == *b) {
			uint32_t id;
			memcpy(&id, rec, 4);
			return id;
		}
	}
	const char *r = NULL;
	uint32_t id = intern_slow(s, &r);
	if (r) {
		me.cache[i].s = s;
		me.cache[i].rec = r;
	}
	return id;
}

static uint32_t intern_slow(const char *s, const char **recp)
{
	size_t len;
	uint64_t h = hash_str(s, &len);
	if (len > 4096)
		return 0;
	size_t i = h & (STR_SLOTS - 1);
	for (size_t probe = 0; probe < STR_SLOTS; probe++, i = (i + 1) & (STR_SLOTS - 1)) {
		const char *e = atomic_load_explicit(&S.slot[i], memory_order_acquire);
		if (!e) {
			if (!spin_lock_event())
				return 0;
			e = atomic_load_explicit(&S.slot[i], memory_order_relaxed);
			if (e) {
				spin_unlock();
				probe--;
				i = (i - 1) & (STR_SLOTS - 1);
				continue;
			}
			uint32_t id = 0;
			size_t need = 8 + len + 1;
			if (S.arena && S.used + need <= STR_ARENA && T.ndefs + len + 12 <= DEFS_MAX &&
			    S.next_id < STR_SLOTS * 3 / 4) {
				char *rec = S.arena + S.used;
				id = ++S.next_id;
				uint32_t l32 = (uint32_t)len;
				memcpy(rec, &id, 4);
				memcpy(rec + 4, &l32, 4);
				memcpy(rec + 8, s, len);
				rec[8 + len] = 0;
				S.used += (need + 7) & ~(size_t)7;
				*recp = rec;
				uint8_t *d = put_uv(T.defs + T.ndefs, id);
				d = put_uv(d, len);
				memcpy(d, s, len);
				T.ndefs = (size_t)(d + len - T.defs);
				atomic_store_explicit(&S.slot[i], rec, memory_order_release);
			}
			spin_unlock();
			return id;
		}
		uint32_t elen;
		memcpy(&elen, e + 4, 4);
		if (elen == len && memcmp(e + 8, s, len) == 0) {
			uint32_t id;
			memcpy(&id, e, 4);
			*recp = e;
			return id;
		}
	}
	return 0;
}

/* ---- buffers ---- */

static void enqueue(struct tbuf *b)
{
	b->next = NULL;
	if (T.q_tail)
		T.q_tail->next = b;
	else
		T.q_head = b;
	T.q_tail = b;
}

static void wake_writer(void)
{
	atomic_store(&T.wake, 1);
	syscall(SYS_futex, &T.wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void on_thread_exit(void *v);

static void new_buffer(struct tbuf *b)
{
	b->tid = me.tid;
	b->len = 0;
	b->base_tick = ticks();
	b->base_ns = cprof__now_ns();
	me.buf = b;
	me.pos = b->data;
	me.end = b->data + TBUF_DATA;
	me.last_tick = b->base_tick;
}

static void emit_name(void);
static void wake_forget(const void *obj);

/* Put the calling thread in the registry. Lock held. False when the registry is full. */
static bool register_locked(void)
{
	if (me.slot)
		return true;
	if (T.nreg >= CPROF_MAX_THREADS)
		return false;
	T.reg[T.nreg++] = &me;
	me.slot = T.nreg;
	return true;
}

/* A newly registered thread: its exit hands its buffer over; a join's stamp of an earlier thread is not its. */
static void registered(void)
{
	if (T.key_ok)
		pthread_setspecific(T.key, (void *)1);
	wake_forget((const void *)pthread_self());
}

/*
 * The slow path of reserve: register the thread, hand the full buffer over,
 * take a fresh one; a thread's first buffer of a session starts with its
 * name. NULL when tracing is off or no buffer is free (the event is dropped
 * and counted). Called with me.writing set; from a signal handler only when
 * the thread is registered and did not hold the lock (cprof__trace_cpu_sample).
 */
static uint8_t *reserve_slow(size_t n)
{
	if (!(T.gen & 1))
		return NULL;
	if (!me.tid)
		me.tid = gettid_();
	bool fresh_thread = false, first = false;
	if (!spin_lock_event()) {
		atomic_fetch_add(&T.dropped, 1);
		return NULL;
	}
	/* Read under the lock the stopper flips it under: a thread that registers
	 * in a running session is then found by the stopper's scan. */
	unsigned gen = T.gen;
	if (!(gen & 1)) {
		spin_unlock();
		return NULL;
	}
	if (!me.slot) {
		if (!register_locked()) {
			spin_unlock();
			atomic_fetch_add(&T.dropped, 1);
			return NULL;
		}
		fresh_thread = true;
	}
	if (me.gen == gen && me.buf) {
		me.buf->len = (uint32_t)(me.pos - me.buf->data);
		enqueue(me.buf);
		me.buf = NULL;
	} else if (me.gen != gen) {
		me.buf = NULL; /* belongs to a finished session, already taken by its stopper */
		first = true;
	}
	me.gen = gen;
	struct tbuf *b = T.free_list;
	if (b)
		T.free_list = b->next;
	spin_unlock();
	if (fresh_thread)
		registered();
	if (T.q_head)
		wake_writer();
	if (!b) {
		me.pos = me.end = NULL;
		me.gen = gen - 2; /* the name is still owed */
		atomic_fetch_add(&T.dropped, 1);
		return NULL;
	}
	new_buffer(b);
	if (first || fresh_thread)
		emit_name();
	if (me.pos + n > me.end)
		return NULL;
	return me.pos;
}

void cprof__trace_thread_register(void)
{
	if (me.slot)
		return;
	spin_lock();
	bool ok = !me.slot && register_locked();
	spin_unlock();
	if (ok)
		registered();
}

/*
 * Room for n bytes of an event in the calling thread's buffer, or NULL
 * (dropped). The caller brackets reserve ... commit with me.writing.
 */
static inline uint8_t *reserve(size_t n)
{
	if (__builtin_expect(me.gen != T.gen || me.pos + n > me.end || !me.pos, 0))
		return reserve_slow(n);
	return me.pos;
}

/* Type byte and timestamp delta of an event at p, taken at tick t. */
static inline uint8_t *ev_head_at(uint8_t *p, int type, uint64_t t)
{
	uint64_t d = t > me.last_tick ? t - me.last_tick : 0;
	me.last_tick = t > me.last_tick ? t : me.last_tick;
	*p++ = (uint8_t)type;
	return put_uv(p, d);
}

static inline uint8_t *ev_head(uint8_t *p, int type)
{
	return ev_head_at(p, type, ticks());
}

static inline void begin_write(void)
{
	me.writing = 1;
	__asm__ volatile("" ::: "memory");
}

static inline void end_write(void)
{
	__asm__ volatile("" ::: "memory");
	me.writing = 0;
}

/* Record an event of up to four integer arguments. Thread. */
static void emit(int type, int nargs, uint64_t a, uint64_t b, uint64_t c)
{
	begin_write();
	uint8_t *p = reserve(EV_MAX);
	if (p) {
		p = ev_head(p, type);
		if (nargs > 0)
			p = put_uv(p, a);
		if (nargs > 1)
			p = put_uv(p, b);
		if (nargs > 2)
			p = put_uv(p, c);
		me.pos = p;
	}
	end_write();
}

static void emit_name(void)
{
	char name[32];
	cprof__wait_guard++; /* reading /proc is not the program's I/O */
	int rc = cprof__capture_name(me.tid, name, sizeof name);
	cprof__wait_guard--;
	if (rc != 0)
		return;
	uint32_t id = intern(name);
	/* Called inside reserve_slow with room for EV_MAX: write directly. */
	uint8_t *p = ev_head(me.pos, CPROF_TEV_THREAD_NAME);
	me.pos = put_uv(p, id);
}

/* ---- blocking episodes, who released them, CPU samples ---- */

/*
 * Who last released a condition variable, a semaphore or a thread being
 * joined: a direct-mapped table of stamps by object address, written with
 * two plain stores (the time, then the releaser's tid with the object's
 * low address bits in one word), no compare-and-swap: a signal is usually
 * sent inside the program's critical section, and a locked instruction
 * on a line the waiters read would lengthen it (a traced job queue slept
 * on its mutex twice as often with one). A reader may pair one release's
 * tid with a later release's time of the same object: both released it
 * after the wait began. Nothing blocks.
 */
#define WAKE_SLOTS 4096

struct wake_stamp {
	_Atomic uint64_t who; /* tid << 32 | low 32 bits of the object's address; 0: none */
	_Atomic uint64_t tick; /* ticks(): the TSC is cheaper to read than the clock (tick_to_ns) */
};

/* ns per tick, 32.32 fixed point: 1 without the TSC; measured at setup, refined by the writer's clock pairs. */
static _Atomic uint64_t tick_ns_q32 = 1ull << 32;
static uint64_t clk0_tick; /* the writer's first clock pair */
static int64_t clk0_ns;

static void tick_scale(uint64_t t0, int64_t n0, uint64_t t1, int64_t n1)
{
	if (t1 > t0 && n1 > n0)
		atomic_store_explicit(&tick_ns_q32, (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0)),
				      memory_order_relaxed);
}

/* The cprof__now_ns time of tick, a moment ago (the TSC is invariant: any CPU's). Thread. */
static int64_t tick_to_ns(uint64_t tick)
{
	uint64_t t = ticks();
	int64_t now = cprof__now_ns();
	if (tick >= t)
		return now;
	uint64_t q = atomic_load_explicit(&tick_ns_q32, memory_order_relaxed);
	return now - (int64_t)(((unsigned __int128)(t - tick) * q) >> 32);
}

static struct wake_stamp wakes[WAKE_SLOTS];

static struct wake_stamp *wake_slot(const void *obj)
{
	return &wakes[cprof__trace_mslot(obj)]; /* the same hash for both tables */
}

static inline uint64_t stamp_who(const void *obj, pid_t tid)
{
	return (uint64_t)(uint32_t)tid << 32 | (uint32_t)(uintptr_t)obj;
}

void cprof__trace_wake(const void *obj)
{
	struct wake_stamp *w = wake_slot(obj);
	atomic_store_explicit(&w->tick, ticks(), memory_order_relaxed);
	atomic_store_explicit(&w->who, stamp_who(obj, cprof__trace_tid()), memory_order_release);
}

bool cprof__trace_waker(const void *obj, int64_t since, pid_t *tid, int64_t *ns)
{
	struct wake_stamp *w = wake_slot(obj);
	uint64_t who = atomic_load_explicit(&w->who, memory_order_acquire);
	uint64_t tick = atomic_load_explicit(&w->tick, memory_order_relaxed);
	if ((uint32_t)who != (uint32_t)(uintptr_t)obj || !(who >> 32))
		return false;
	int64_t n = tick_to_ns(tick);
	if (n < since)
		return false;
	*tid = (pid_t)(who >> 32);
	*ns = n;
	return true;
}

/*
 * Mutexes' releasers, apart from the table above: an unlock that wakes a
 * waiter stamps its tid (with the mutex's low address bits, one word) and
 * the time with plain stores, no atomic read-modify-write. Only unlocks
 * that will wake a sleeper stamp (wait_sync.c: a registered waiter and a
 * lock word that says so); those make a futex call anyway.
 */
static struct wake_stamp mstamps[WAKE_SLOTS];

/* Threads waiting in a contended lock of the mutexes of each slot (written only by waiters). */
CPROF_API _Atomic int cprof__trace_msleepers[WAKE_SLOTS];

void cprof__trace_unlocking(const void *m)
{
	struct wake_stamp *w = &mstamps[cprof__trace_mslot(m)];
	atomic_store_explicit(&w->tick, ticks(), memory_order_relaxed);
	atomic_store_explicit(&w->who, stamp_who(m, cprof__trace_tid()), memory_order_release);
}

bool cprof__trace_unlocker(const void *m, int64_t since, int64_t until, pid_t *tid, int64_t *ns)
{
	struct wake_stamp *w = &mstamps[cprof__trace_mslot(m)];
	uint64_t who = atomic_load_explicit(&w->who, memory_order_acquire);
	uint64_t tick = atomic_load_explicit(&w->tick, memory_order_relaxed);
	if ((uint32_t)who != (uint32_t)(uintptr_t)m || !(who >> 32))
		return false;
	int64_t n = tick ? tick_to_ns(tick) : 0;
	/* A later unlock's time with this one's tid (a torn read): the release was before the resume. */
	if (!n || n > until)
		n = until;
	if (n < since)
		return false; /* an earlier unlock's */
	*tid = (pid_t)(who >> 32);
	*ns = n;
	return true;
}

/* Forget obj's stamp (a thread starts: its pthread_t may be an ended thread's). Thread. */
static void wake_forget(const void *obj)
{
	struct wake_stamp *w = wake_slot(obj);
	uint64_t who = atomic_load_explicit(&w->who, memory_order_relaxed);
	if ((uint32_t)who == (uint32_t)(uintptr_t)obj)
		atomic_compare_exchange_strong_explicit(&w->who, &who, 0, memory_order_relaxed, memory_order_relaxed);
}

uint64_t cprof__trace_block_stack(const void *ra, uintptr_t base)
{
	if (!cprof__trace_on)
		return 0;
	int saved = errno;
	cprof__wait_guard++;
	unsigned gen = T.gen;
	uint32_t sid = cprof__tstack_caller(ra, base);
	cprof__wait_guard--;
	errno = saved;
	return sid && (gen & 1) ? (uint64_t)gen << 32 | sid : 0;
}

void cprof__trace_block(int reason, const char *call, int64_t t0, int64_t t1, pid_t peer, int64_t wake_ns,
			const void *ra, uint64_t stack)
{
	if (!cprof__trace_on)
		return;
	uint64_t at = ticks(); /* the wait's end, before the stack walk */
	int saved = errno;
	cprof__wait_guard++;
	uint32_t sid;
	if (stack && (unsigned)(stack >> 32) == T.gen) {
		sid = (uint32_t)stack; /* taken before the wait, in this session */
	} else {
		uintptr_t pcs[CPROF_TRACE_DEPTH];
		int n = cprof__wait_capture(pcs, CPROF_TRACE_DEPTH, ra);
		sid = cprof__tstack_intern(pcs, n, false);
	}
	uint32_t cs = intern(call);
	uint64_t dur = t1 > t0 ? (uint64_t)(t1 - t0) : 0;
	uint64_t wake = 0; /* 0: the release's time is not known (its thread may be) */
	if (peer <= 0)
		peer = 0;
	else if (wake_ns >= 0) {
		int64_t w = wake_ns < t0 ? t0 : wake_ns;
		wake = 1 + (t1 > w ? (uint64_t)(t1 - w) : 0);
	}
	begin_write();
	uint8_t *p = reserve(EV_MAX + 40);
	if (p) {
		p = ev_head_at(p, CPROF_TEV_BLOCK, at);
		p = put_uv(p, (uint64_t)reason);
		p = put_uv(p, cs);
		p = put_uv(p, sid);
		p = put_uv(p, dur);
		p = put_uv(p, (uint64_t)peer);
		me.pos = put_uv(p, wake);
	}
	end_write();
	cprof__wait_guard--;
	errno = saved;
}

/* A CPU sample not recorded: counted with its weight, so the trace accounts for every period. */
static void sample_dropped(uint64_t weight)
{
	atomic_fetch_add_explicit(&T.dropped_samples, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&T.dropped_weight, weight, memory_order_relaxed);
}

void cprof__trace_cpu_sample(const uintptr_t *pcs, int n, uint64_t weight)
{
	/*
	 * The interrupted code may be inside an event of its own, or hold the
	 * recorder's lock (interning a name, taking a buffer): then the sample
	 * is counted, not recorded. Otherwise the thread may take a buffer like
	 * any event does (the lock's other holders never wait inside it).
	 */
	if (n <= 0 || me.writing || me.in_lock || !me.slot || !(T.gen & 1)) {
		sample_dropped(weight);
		return;
	}
	uint64_t at = ticks();
	uint32_t sid = cprof__tstack_intern(pcs, n, true);
	begin_write();
	uint8_t *p = reserve(EV_MAX);
	if (p) {
		p = ev_head_at(p, CPROF_TEV_CPU_SAMPLE, at);
		p = put_uv(p, sid);
		me.pos = put_uv(p, weight);
	} else {
		sample_dropped(weight);
	}
	end_write();
}

/* ---- thread lifecycle hooks (threads.c) ---- */

void cprof__trace_thread_start(pid_t parent)
{
	if (T.key_ok)
		cprof__trace_thread_register();
	if (!cprof__trace_on)
		return;
	emit(CPROF_TEV_THREAD_START, 1, (uint64_t)parent, 0, 0);
}

static void on_thread_exit(void *v)
{
	(void)v;
	cprof__tstack_thread_done();
	if (!me.slot)
		return;
	if (cprof__trace_on)
		cprof__trace_wake((const void *)pthread_self()); /* its joiner learns who released it, and when */
	if (cprof__trace_on && me.gen == T.gen) {
		/* The name may have changed by other means than pthread_setname_np (prctl). */
		char name[32];
		cprof__wait_guard++;
		int rc = cprof__capture_name(me.tid, name, sizeof name);
		cprof__wait_guard--;
		if (rc == 0)
			emit(CPROF_TEV_THREAD_NAME, 1, intern(name), 0, 0);
		emit(CPROF_TEV_THREAD_EXIT, 0, 0, 0, 0);
	}
	begin_write();
	spin_lock();
	if (me.buf && me.gen == T.gen) {
		me.buf->len = (uint32_t)(me.pos - me.buf->data);
		enqueue(me.buf);
	}
	me.buf = NULL;
	me.pos = me.end = NULL;
	/* Leave the registry: move the last entry into our place. */
	int i = me.slot - 1;
	T.reg[i] = T.reg[--T.nreg];
	if (i < T.nreg)
		T.reg[i]->slot = i + 1;
	me.slot = 0;
	spin_unlock();
	end_write();
}

/* Names set with pthread_setname_np reach the trace as they are set. */
typedef int (*setname_fn)(pthread_t, const char *);

CPROF_API int pthread_setname_np(pthread_t th, const char *name)
{
	static setname_fn real;
	if (!real) {
		real = (setname_fn)dlsym(RTLD_NEXT, "pthread_setname_np");
		if (!real)
			return ENOSYS;
	}
	int rc = real(th, name);
	if (rc == 0 && cprof__trace_on && pthread_equal(th, pthread_self())) {
		uint32_t id = intern(name);
		emit(CPROF_TEV_THREAD_NAME, 1, id, 0, 0);
	}
	return rc;
}

pid_t cprof__trace_tid(void)
{
	if (!me.tid)
		me.tid = gettid_();
	return me.tid;
}

/* ---- the writer ---- */

static int write_record_fd(int fd, int kind, const void *hdr, size_t nhdr, const void *body, size_t nbody,
			   uint64_t *bytes)
{
	uint8_t h[5];
	uint32_t len = (uint32_t)(nhdr + nbody);
	h[0] = (uint8_t)kind;
	memcpy(h + 1, &len, 4); /* little-endian hosts only (x86_64, aarch64) */
	int rc = cprof__write_all(fd, h, 5);
	if (!rc && nhdr)
		rc = cprof__write_all(fd, hdr, nhdr);
	if (!rc && nbody)
		rc = cprof__write_all(fd, body, nbody);
	if (!rc)
		*bytes += 5 + len;
	return rc;
}

static int write_record(int kind, const void *hdr, size_t nhdr, const void *body, size_t nbody)
{
	uint64_t n = 0;
	int rc = write_record_fd(T.fd, kind, hdr, nhdr, body, nbody, &n);
	atomic_fetch_add(&T.events_bytes, n);
	return rc;
}

uint8_t *cprof__trace_put_uv(uint8_t *p, uint64_t v)
{
	return put_uv(p, v);
}

/* Clock pairs of the last moments, for a flight recorder snapshot's time base. Writer. */
#define CLOCKS 512
static struct {
	uint64_t tick;
	int64_t ns;
} clk[CLOCKS];
static unsigned clk_next, clk_n;

static void write_clock(void)
{
	uint64_t t = ticks();
	int64_t ns = cprof__now_ns();
	if (!clk0_ns) {
		clk0_tick = t;
		clk0_ns = ns;
	} else if (T.use_tsc && ns - clk0_ns >= 100000000) {
		tick_scale(clk0_tick, clk0_ns, t, ns);
	}
	if (T.flight) {
		clk[clk_next].tick = t;
		clk[clk_next].ns = ns;
		clk_next = (clk_next + 1) % CLOCKS;
		if (clk_n < CLOCKS)
			clk_n++;
		return;
	}
	uint8_t b[32], *p = b;
	p = put_uv(p, t);
	p = put_uv(p, (uint64_t)ns);
	write_record('C', b, (size_t)(p - b), NULL, 0);
}

/* Write pending string definitions, then every queued buffer, and give the buffers back. Writer. */
static int drain(void)
{
	static uint8_t defs[DEFS_MAX];
	spin_lock();
	struct tbuf *q = T.q_head;
	T.q_head = T.q_tail = NULL;
	size_t nd = T.ndefs;
	memcpy(defs, T.defs, nd);
	T.ndefs = 0;
	spin_unlock();
	int rc = 0;
	if (nd && !T.flight) /* a flight snapshot writes every string anew */
		rc = write_record('S', NULL, 0, defs, nd);
	/* Stacks the queued events name were interned before they were queued. */
	if (cprof__tstack_symbolize() != 0 && !T.stack_oom_said) {
		T.stack_oom_said = true;
		cprof__log("trace: out of memory symbolizing stacks; some stacks stay unnamed");
	}
	size_t dlen;
	const uint8_t *d = cprof__tstack_defs(&dlen);
	if (!rc && dlen > T.stack_defs_written && !T.flight) {
		rc = cprof__write_all(T.fd, d + T.stack_defs_written, dlen - T.stack_defs_written);
		if (!rc)
			atomic_fetch_add(&T.events_bytes, dlen - T.stack_defs_written);
		T.stack_defs_written = dlen;
	}
	struct tbuf *done = NULL, *last = NULL;
	while (q) {
		struct tbuf *b = q;
		q = q->next;
		if (T.flight && b->len) {
			if (cprof__tflight_add(b->tid, b->base_tick, b->base_ns, b->data, b->len, cprof__now_ns()) != 0)
				atomic_fetch_add(&T.dropped, 1);
		} else if (!rc && b->len) {
			uint8_t h[40], *p = h;
			p = put_uv(p, (uint64_t)b->tid);
			p = put_uv(p, b->base_tick);
			p = put_uv(p, (uint64_t)b->base_ns);
			rc = write_record('E', h, (size_t)(p - h), b->data, b->len);
		}
		b->next = done;
		done = b;
		if (!last)
			last = b;
	}
	if (done) {
		spin_lock();
		last->next = T.free_list;
		T.free_list = done;
		spin_unlock();
	}
	return rc;
}

/* ---- the flight recorder's snapshot ---- */

/* Requests to the writer: a snapshot to fd (the API, the endpoint) or to the flight path (the signal). */
static struct {
	_Atomic int req;  /* a snapshot to fd is asked for */
	int fd;
	int rc;
	_Atomic int sig;  /* the signal asked for a snapshot to path */
	_Atomic int done; /* futex word, bumped when req is answered */
	char path[4096];  /* CPROF_TRACE_FLIGHT */
	int signo;
} FR;

static void take_partial(unsigned old);

/* Every string interned so far as one S payload (cprof__arena_malloc'd), for a file that starts afresh. Writer. */
static uint8_t *all_strings(size_t *n)
{
	spin_lock();
	size_t used = S.used;
	spin_unlock();
	/* Records below used are complete and never change: read them without the lock. */
	uint8_t *out = cprof__arena_malloc(used + 16 * (used / 8 + 1));
	if (!out)
		return NULL;
	uint8_t *d = out;
	for (size_t off = 0; off < used;) {
		const char *rec = S.arena + off;
		uint32_t id, len;
		memcpy(&id, rec, 4);
		memcpy(&len, rec + 4, 4);
		d = put_uv(d, id);
		d = put_uv(d, len);
		memcpy(d, rec + 8, len);
		d += len;
		off += (8 + len + 1 + 7) & ~(size_t)7;
	}
	*n = (size_t)(d - out);
	return out;
}

/*
 * Write the last window to fd as a complete trace: header (flagged as a
 * flight recorder snapshot), every string and stack, each live thread's
 * name at the window's start, the kept events from then on, a clock pair,
 * the drop counts. The threads' partial buffers are taken first, so the
 * snapshot reaches the moment it was asked for. Writer.
 */
static int flight_dump(int fd, uint64_t *bytes)
{
	spin_lock();
	unsigned old = T.gen;
	T.gen += 2; /* still odd: running; threads move to fresh buffers */
	spin_unlock();
	take_partial(old);
	write_clock();
	int rc = drain();
	if (rc)
		return rc;
	uint64_t tick1 = clk[(clk_next + CLOCKS - 1) % CLOCKS].tick;
	int64_t ns1 = clk[(clk_next + CLOCKS - 1) % CLOCKS].ns;
	/* The window's start: the oldest clock pair inside it. */
	uint64_t tick0 = tick1;
	int64_t ns0 = ns1;
	for (unsigned i = 0; i < clk_n; i++) {
		unsigned k = (clk_next + CLOCKS - clk_n + i) % CLOCKS;
		if (clk[k].ns >= ns1 - T.flight_window_ns) {
			tick0 = clk[k].tick;
			ns0 = clk[k].ns;
			break;
		}
	}
	double rate = T.use_tsc && tick1 > tick0 && ns1 > ns0 ? (double)(ns1 - ns0) / (double)(tick1 - tick0) : 1.0;

	/* Live threads' names, at the window's start (their own name events may be gone). */
	static pid_t tids[CPROF_MAX_THREADS];
	int nt = 0;
	spin_lock();
	for (int i = 0; i < T.nreg; i++)
		if (T.reg[i]->tid)
			tids[nt++] = T.reg[i]->tid;
	spin_unlock();
	size_t nnames = 0;
	uint8_t *names = cprof__arena_malloc((size_t)nt * 48 + 1);
	for (int i = 0; names && i < nt; i++) {
		char name[32];
		if (cprof__capture_name(tids[i], name, sizeof name) != 0)
			continue;
		uint32_t id = intern(name);
		uint8_t *o = names + nnames + 5, *b = o;
		o = put_uv(o, (uint64_t)tids[i]);
		o = put_uv(o, tick0);
		o = put_uv(o, (uint64_t)ns0);
		*o++ = CPROF_TEV_THREAD_NAME;
		o = put_uv(o, 0);
		o = put_uv(o, id);
		uint32_t len = (uint32_t)(o - b);
		names[nnames] = 'E';
		memcpy(names + nnames + 1, &len, 4);
		nnames += 5 + len;
	}
	size_t nstr = 0;
	uint8_t *strs = all_strings(&nstr);
	if (!strs || !names) {
		cprof__arena_dispose(strs);
		cprof__arena_dispose(names);
		return -ENOMEM;
	}
	uint8_t h[80], *p = h;
	p = put_uv(p, CPROF_TRACE_VERSION);
	p = put_uv(p, (uint64_t)getpid());
	p = put_uv(p, T.use_tsc ? 1 : 0);
	p = put_uv(p, tick0);
	p = put_uv(p, (uint64_t)ns0);
	p = put_uv(p, (uint64_t)(cprof__wall_ns() - (cprof__now_ns() - ns0)));
	p = put_uv(p, 1); /* flags: a flight recorder snapshot */
	static const char magic[8] = {'C', 'P', 'R', 'O', 'F', 'T', 'R', 'C'};
	size_t dlen;
	const uint8_t *defs = cprof__tstack_defs(&dlen);
	rc = cprof__write_all(fd, magic, 8);
	*bytes += 8;
	if (!rc)
		rc = write_record_fd(fd, 'H', h, (size_t)(p - h), NULL, 0, bytes);
	if (!rc) {
		/* The clock pair at the end comes first: a cut snapshot still converts its ticks. */
		uint8_t c[32], *q = put_uv(c, tick1);
		q = put_uv(q, (uint64_t)ns1);
		rc = write_record_fd(fd, 'C', c, (size_t)(q - c), NULL, 0, bytes);
	}
	if (!rc && nstr)
		rc = write_record_fd(fd, 'S', NULL, 0, strs, nstr, bytes);
	if (!rc && dlen && !(rc = cprof__write_all(fd, defs, dlen)))
		*bytes += dlen;
	if (!rc && nnames && !(rc = cprof__write_all(fd, names, nnames)))
		*bytes += nnames;
	if (!rc)
		rc = cprof__tflight_write(fd, ns0, rate, bytes);
	cprof__arena_dispose(strs);
	cprof__arena_dispose(names);
	uint64_t dropped = atomic_load(&T.dropped), dsamples = atomic_load(&T.dropped_samples);
	if (!rc && (dropped || dsamples)) {
		uint8_t b[32], *q = put_uv(b, dropped);
		q = put_uv(q, dsamples);
		q = put_uv(q, atomic_load(&T.dropped_weight));
		rc = write_record_fd(fd, 'D', b, (size_t)(q - b), NULL, 0, bytes);
	}
	return rc;
}

/* Answer the requests pending. Writer. */
static void flight_requests(void)
{
	if (atomic_exchange(&FR.req, 0)) {
		uint64_t n = 0;
		FR.rc = T.flight ? flight_dump(FR.fd, &n) : -ESRCH;
		atomic_fetch_add(&FR.done, 1);
		syscall(SYS_futex, &FR.done, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
	}
	if (atomic_exchange(&FR.sig, 0) && T.flight && FR.path[0]) {
		char tmp[sizeof FR.path + 8];
		snprintf(tmp, sizeof tmp, "%s.tmp", FR.path);
		bool special = cprof__path_special(FR.path); /* /dev/null: in place, never renamed over */
		int fd = special ? cprof__open_special(FR.path) : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		uint64_t n = 0;
		int rc = fd < 0 ? (special ? fd : -errno) : flight_dump(fd, &n);
		if (fd >= 0 && close(fd) != 0 && !rc)
			rc = -errno;
		if (!rc && !special && rename(tmp, FR.path) != 0)
			rc = -errno;
		if (rc) {
			unlink(tmp);
			cprof__log("trace: flight recorder snapshot to %s: %s", FR.path, strerror(-rc));
		} else {
			cprof__report("trace", FR.path, "bytes=%llu dropped=%llu", (unsigned long long)n,
				      (unsigned long long)atomic_load(&T.dropped));
		}
	}
}

static long read_rss_bytes(void)
{
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char b[128];
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0)
		return -1;
	b[n] = 0;
	long size, rss;
	if (sscanf(b, "%ld %ld", &size, &rss) != 2)
		return -1;
	return rss * sysconf(_SC_PAGESIZE);
}

static void sample_counters(void)
{
	static uint32_t id_rss, id_cpu, id_inuse, id_alloc;
	if (!id_rss) {
		id_rss = intern("process.rss_bytes");
		id_cpu = intern("process.cpu_ns");
		id_inuse = intern("heap.inuse_bytes");
		id_alloc = intern("heap.alloc_bytes");
	}
	long rss = read_rss_bytes();
	if (rss >= 0)
		emit(CPROF_TEV_COUNTER, 2, id_rss, (uint64_t)rss, 0);
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0)
		emit(CPROF_TEV_COUNTER, 2, id_cpu, (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec, 0);
	struct cprof_heap_stats hs;
	if (cprof__heap_active() && cprof_heap_profile_stats(&hs) == 0) {
		emit(CPROF_TEV_COUNTER, 2, id_inuse, hs.inuse_bytes, 0);
		emit(CPROF_TEV_COUNTER, 2, id_alloc, hs.alloc_bytes, 0);
	}
}

static void *writer_main(void *arg)
{
	(void)arg;
	/* The program's signals are for its own threads. */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_setname_np(pthread_self(), "cprof-trace");
	cprof__heap_ignore_begin();
	cprof__wait_guard++; /* the writer's own waits are not the program's */
	int rc = 0;
	int64_t next_sample = 0;
	while (!atomic_load(&T.stopping)) {
		/* Counters every TICK_MS, however often full buffers wake us. */
		int64_t now = cprof__now_ns();
		if (now >= next_sample) {
			sample_counters();
			next_sample = now + TICK_MS * 1000000LL;
		}
		struct timespec to = {0, TICK_MS * 1000000L};
		syscall(SYS_futex, &T.wake, FUTEX_WAIT_PRIVATE, 0, &to, NULL, 0);
		atomic_store(&T.wake, 0);
		if (!rc) {
			write_clock();
			rc = drain();
			if (rc)
				cprof__log("trace: write: %s; the rest of the trace is dropped", strerror(-rc));
		}
		flight_requests();
	}
	flight_requests();
	sample_counters(); /* the values at the end */
	cprof__tstack_writer_done();
	cprof__wait_guard--;
	cprof__heap_ignore_end();
	return NULL;
}

/* ---- start and stop ---- */

static int setup_once(void)
{
	if (T.pool)
		return 0;
	size_t sz = sizeof(struct tbuf) * POOL_BUFS;
	void *p = mmap(NULL, sz + STR_ARENA + DEFS_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	T.pool = p;
	S.arena = (char *)p + sz;
	T.defs = (uint8_t *)S.arena + STR_ARENA;
	T.free_list = NULL;
	for (int i = POOL_BUFS - 1; i >= 0; i--) {
		T.pool[i].next = T.free_list;
		T.free_list = &T.pool[i];
	}
#if defined(__x86_64__)
	/* The TSC is a usable clock when it is invariant (constant and nonstop). */
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (f) {
		char line[4096];
		while (fgets(line, sizeof line, f)) {
			if (strncmp(line, "flags", 5) == 0) {
				T.use_tsc = strstr(line, " constant_tsc") && strstr(line, " nonstop_tsc");
				break;
			}
		}
		fclose(f);
	}
	if (T.use_tsc) {
		/* The TSC's rate against the clock over a millisecond, until the writer's pairs are farther apart. */
		uint64_t t0 = ticks();
		int64_t n0 = cprof__now_ns(), n1;
		while ((n1 = cprof__now_ns()) - n0 < 1000000)
			__builtin_ia32_pause();
		tick_scale(t0, n0, ticks(), n1);
	}
#endif
	T.membarrier_ok = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	if (!T.key_ok)
		T.key_ok = pthread_key_create(&T.key, on_thread_exit) == 0;
	return cprof__tstack_setup();
}

/* Every thread passes a full barrier, so each one either is seen inside an event or sees the new generation. */
static void fence_all(void)
{
	if (T.membarrier_ok && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	/* No membarrier: give threads inside an event time to leave it. */
	usleep(20000);
}

/*
 * After the generation moved on from old: take every live thread's partial
 * buffer of generation old, once the thread is out of its event. The
 * threads' next events see the new generation and take fresh buffers.
 */
static void take_partial(unsigned old)
{
	fence_all();
	spin_lock();
	for (int i = 0; i < T.nreg; i++) {
		struct tthread *t = T.reg[i];
		while (t->writing) {
			spin_unlock();
			sched_yield();
			spin_lock();
			if (i >= T.nreg || T.reg[i] != t)
				break;
		}
		if (i >= T.nreg || T.reg[i] != t)
			continue;
		if (t->buf && t->gen == old) {
			t->buf->len = (uint32_t)(t->pos - t->buf->data);
			enqueue(t->buf);
			t->buf = NULL;
		}
	}
	spin_unlock();
}

/* Start a session writing to fd, or (fd < 0) the flight recorder's. */
static int start_locked(int fd)
{
	if (T.gen & 1)
		return -EBUSY;
	int rc = setup_once();
	if (rc)
		return rc;
	T.fd = fd;
	T.flight = fd < 0;
	clk_n = clk_next = 0;
	atomic_store(&T.stopping, 0);
	atomic_store(&T.dropped, 0);
	atomic_store(&T.dropped_samples, 0);
	atomic_store(&T.dropped_weight, 0);
	atomic_store(&T.events_bytes, 0);
	T.stack_defs_written = 0;
	uint8_t h[64], *p = h;
	static const char magic[8] = {'C', 'P', 'R', 'O', 'F', 'T', 'R', 'C'};
	p = put_uv(p, CPROF_TRACE_VERSION);
	p = put_uv(p, (uint64_t)getpid());
	p = put_uv(p, T.use_tsc ? 1 : 0);
	p = put_uv(p, ticks());
	p = put_uv(p, (uint64_t)cprof__now_ns());
	p = put_uv(p, (uint64_t)cprof__wall_ns());
	if (T.flight)
		cprof__tflight_init(T.flight_window_ns, T.flight_max_bytes); /* the writer is not running */
	else if ((rc = cprof__write_all(fd, magic, 8)) || (rc = write_record('H', h, (size_t)(p - h), NULL, 0)))
		return rc;
	/* Strings of an earlier session were written to its own file: define them again. */
	spin_lock();
	T.ndefs = 0;
	for (size_t off = 0; off < S.used;) {
		const char *rec = S.arena + off;
		uint32_t id, len;
		memcpy(&id, rec, 4);
		memcpy(&len, rec + 4, 4);
		uint8_t *d = put_uv(T.defs + T.ndefs, id);
		d = put_uv(d, len);
		memcpy(d, rec + 8, len);
		T.ndefs = (size_t)(d + len - T.defs);
		off += (8 + len + 1 + 7) & ~(size_t)7;
	}
	T.gen++; /* odd: running */
	spin_unlock();
	cprof__trace_on = 1;
	cprof__wait_trace(true);
	if ((rc = pthread_create(&T.writer, NULL, writer_main, NULL)) != 0) {
		cprof__trace_on = 0;
		cprof__wait_trace(false);
		T.gen++;
		return -rc;
	}
	return 0;
}

static int stop_locked(void)
{
	if (!(T.gen & 1))
		return -ESRCH;
	cprof__trace_on = 0;
	cprof__wait_trace(false);
	atomic_store(&T.stopping, 1);
	wake_writer();
	pthread_join(T.writer, NULL);
	spin_lock();
	T.gen++; /* even: stopped; events begun from now on see it */
	spin_unlock();
	take_partial(T.gen - 1);
	write_clock();
	cprof__heap_ignore_begin();
	cprof__wait_guard++;
	int rc = drain();
	cprof__tstack_writer_done();
	cprof__wait_guard--;
	cprof__heap_ignore_end();
	uint64_t dropped = atomic_load(&T.dropped), dsamples = atomic_load(&T.dropped_samples);
	if (T.flight) {
		cprof__tflight_reset();
		T.flight = false;
	} else if (dropped || dsamples) {
		uint8_t b[32], *p = put_uv(b, dropped);
		p = put_uv(p, dsamples);
		p = put_uv(p, atomic_load(&T.dropped_weight));
		write_record('D', b, (size_t)(p - b), NULL, 0);
	}
	T.fd = -1;
	return rc;
}

/* ---- public API ---- */

static int owned_fd = -1;
static char env_path[4096];
static char exec_path[4096]; /* the trace stopped before an exec, resumed if it fails */
static bool in_exec;

CPROF_API int cprof_trace_start(int fd)
{
	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&T.api_lock);
	int rc = start_locked(fd);
	pthread_mutex_unlock(&T.api_lock);
	return rc;
}

CPROF_API int cprof_trace_start_path(const char *path)
{
	if (!path || !*path)
		return -EINVAL;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&T.api_lock);
	int rc = start_locked(fd);
	if (rc == 0) {
		owned_fd = fd;
		snprintf(env_path, sizeof env_path, "%s", path);
	} else {
		close(fd);
	}
	pthread_mutex_unlock(&T.api_lock);
	return rc;
}

CPROF_API int cprof_trace_stop(void)
{
	pthread_mutex_lock(&T.api_lock);
	int rc = stop_locked();
	if (rc != -ESRCH && owned_fd >= 0) {
		if (close(owned_fd) != 0 && !rc)
			rc = -errno;
		owned_fd = -1;
		if (env_path[0] && !in_exec)
			cprof__report("trace", env_path, "bytes=%llu dropped=%llu",
				      (unsigned long long)atomic_load(&T.events_bytes),
				      (unsigned long long)atomic_load(&T.dropped));
		env_path[0] = 0;
	}
	pthread_mutex_unlock(&T.api_lock);
	return rc;
}

int cprof__trace_stop_fd(int fd)
{
	pthread_mutex_lock(&T.api_lock);
	int rc = (T.gen & 1) && T.fd == fd && owned_fd < 0 ? stop_locked() : -ESRCH;
	pthread_mutex_unlock(&T.api_lock);
	return rc;
}

#define FLIGHT_WINDOW_NS (10 * 1000000000LL)
#define FLIGHT_MAX_BYTES ((int64_t)32 << 20)

CPROF_API int cprof_trace_flight_start(int64_t window_ns, int64_t max_bytes)
{
	if (window_ns < 0 || max_bytes < 0)
		return -EINVAL;
	pthread_mutex_lock(&T.api_lock);
	int rc = -EBUSY;
	if (!(T.gen & 1)) {
		T.flight_window_ns = window_ns ? window_ns : FLIGHT_WINDOW_NS;
		T.flight_max_bytes = (size_t)(max_bytes ? max_bytes : FLIGHT_MAX_BYTES);
		rc = start_locked(-1);
	}
	pthread_mutex_unlock(&T.api_lock);
	return rc;
}

CPROF_API int cprof_trace_flight_write(int fd)
{
	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&T.api_lock);
	int rc = -ESRCH;
	if ((T.gen & 1) && T.flight) {
		/* The writer thread writes it: it alone touches the kept chunks. */
		int seen = atomic_load(&FR.done);
		FR.fd = fd;
		atomic_store(&FR.req, 1);
		wake_writer();
		while (atomic_load(&FR.done) == seen) {
			struct timespec to = {0, 100000000};
			syscall(SYS_futex, &FR.done, FUTEX_WAIT_PRIVATE, seen, &to, NULL, 0);
		}
		rc = FR.rc;
	}
	pthread_mutex_unlock(&T.api_lock);
	return rc;
}

CPROF_API int cprof_trace_flight_stop(void)
{
	pthread_mutex_lock(&T.api_lock);
	int rc = (T.gen & 1) && T.flight ? stop_locked() : -ESRCH;
	pthread_mutex_unlock(&T.api_lock);
	return rc;
}

CPROF_API int cprof_trace_stats(struct cprof_trace_stats *st)
{
	if (!st)
		return -EINVAL;
	st->running = (T.gen & 1) != 0;
	st->bytes = atomic_load(&T.events_bytes);
	st->dropped = atomic_load(&T.dropped);
	return 0;
}

CPROF_API uint64_t cprof__task_begin(uint64_t parent, const char *name)
{
	uint64_t id = atomic_fetch_add(&next_task, 1);
	uint32_t s = intern(name);
	emit(CPROF_TEV_TASK_BEGIN, 3, id, parent, s);
	return id;
}

CPROF_API void cprof__task_end(uint64_t id)
{
	emit(CPROF_TEV_TASK_END, 1, id, 0, 0);
}

/*
 * The region calls' fast path: a name of up to 15 bytes seen at the same
 * address is found in me.names by one address compare and its bytes
 * compared with the cached name's up to its NUL, never past the string's
 * own end (a buffer rewritten with another name misses and takes the slow
 * path, which interns by content); one TSC read; the event encoded in
 * place, small numbers in one byte. No call, lock or atomic operation.
 * Anything else (a longer name, a full buffer, a new session, no TSC)
 * takes emit's path.
 */
static __attribute__((noinline, cold)) void region_begin_slow(uint64_t task, const char *name)
{
	uint32_t id = intern(name);
	size_t len = name ? strnlen(name, 16) : 16;
	if (id && len < 16) {
		unsigned i = (unsigned)((uintptr_t)name >> 4) & 31;
		memset(me.names[i].s, 0, sizeof me.names[i].s);
		memcpy(me.names[i].s, name, len);
		me.names[i].id = id;
		me.names[i].key = ~(uintptr_t)name;
	}
	emit(CPROF_TEV_REGION_BEGIN, 2, task, id, 0);
}

static inline uint8_t *put_uv_fast(uint8_t *p, uint64_t v)
{
	if (__builtin_expect(v < 0x80, 1)) {
		*p = (uint8_t)v;
		return p + 1;
	}
	return put_uv(p, v);
}

/* The region fast path's tick, as the delta from the thread's last event (never negative). */
static inline uint64_t fast_tick_delta(void)
{
	uint64_t t = tsc_fast(), last = me.last_tick;
	me.last_tick = t > last ? t : last;
	return t > last ? t - last : 0;
}

CPROF_API void cprof__region_begin(uint64_t task, const char *name)
{
	unsigned i = (unsigned)((uintptr_t)name >> 4) & 31;
	uint8_t *p = me.pos;
	if (__builtin_expect(me.names[i].key != ~(uintptr_t)name || p + EV_MAX > me.end || !p || me.gen != T.gen ||
				     !T.use_tsc,
			     0))
		goto slow;
	/*
	 * The bytes are still the name's (a buffer may be rewritten): compared
	 * up to the cached name's NUL, stopping at the first difference, so
	 * nothing past the string's own end is read.
	 */
	const char *c = me.names[i].s;
	for (unsigned k = 0;; k++) {
		if (__builtin_expect(name[k] != c[k], 0))
			goto slow;
		if (!c[k])
			break;
	}
	me.writing = 1;
	__asm__ volatile("" ::: "memory");
	p[0] = CPROF_TEV_REGION_BEGIN;
	p = put_uv_fast(p + 1, fast_tick_delta());
	p = put_uv_fast(p, task);
	me.pos = put_uv_fast(p, me.names[i].id);
	__asm__ volatile("" ::: "memory");
	me.writing = 0;
	return;
slow:
	region_begin_slow(task, name);
}

CPROF_API void cprof__region_end(void)
{
	uint8_t *p = me.pos;
	if (__builtin_expect(p + EV_MAX > me.end || !p || me.gen != T.gen || !T.use_tsc, 0)) {
		emit(CPROF_TEV_REGION_END, 0, 0, 0, 0);
		return;
	}
	me.writing = 1;
	__asm__ volatile("" ::: "memory");
	p[0] = CPROF_TEV_REGION_END;
	me.pos = put_uv_fast(p + 1, fast_tick_delta());
	__asm__ volatile("" ::: "memory");
	me.writing = 0;
}

CPROF_API void cprof__trace_log(uint64_t task, const char *category, const char *message)
{
	uint32_t c = intern(category);
	if (!message)
		message = "";
	size_t len = strnlen(message, CPROF_TRACE_LOG_MAX);
	begin_write();
	uint8_t *p = reserve(EV_MAX + len);
	if (p) {
		p = ev_head(p, CPROF_TEV_LOG);
		p = put_uv(p, task);
		p = put_uv(p, c);
		p = put_uv(p, len);
		memcpy(p, message, len);
		me.pos = p + len;
	}
	end_write();
}

/* ---- environment, exit, fork ---- */

static void at_exit(void)
{
	if (T.gen & 1)
		cprof_trace_stop();
}

void cprof__trace_before_exec(void)
{
	pthread_mutex_lock(&T.api_lock);
	char path[sizeof env_path];
	snprintf(path, sizeof path, "%s", env_path);
	pthread_mutex_unlock(&T.api_lock);
	in_exec = true;
	int rc = path[0] ? cprof_trace_stop() : -ESRCH;
	in_exec = false;
	if (rc != 0)
		return;
	/* The new image traces to the same path: keep this one's beside it. */
	char to[sizeof env_path + 48];
	snprintf(to, sizeof to, "%s.preexec.%d", path, (int)getpid());
	if (!cprof__path_special(path) && rename(path, to) == 0)
		cprof__report("trace", to, "bytes=%llu dropped=%llu", (unsigned long long)atomic_load(&T.events_bytes),
			      (unsigned long long)atomic_load(&T.dropped));
	snprintf(exec_path, sizeof exec_path, "%s", path);
}

void cprof__trace_after_failed_exec(void)
{
	if (!exec_path[0])
		return;
	int rc = cprof_trace_start_path(exec_path);
	if (rc)
		cprof__log("trace: cannot resume after a failed exec: %s", strerror(-rc));
	exec_path[0] = 0;
}

/*
 * fork: the recorder's spinlock guards the buffer pool and queue, the
 * registry and the string definitions. A fork while another thread held
 * it would give the child those half changed; so the forking thread takes
 * it first (after the symbolization session lock, the order a session
 * takes them in: cprof__sym_fork_prepare) and the child starts from a
 * whole state. Its sections are short and never wait for another lock.
 * But an event may need it while its thread holds another lock (a traced
 * wait records once it holds the lock it waited for, a CPU sample's
 * handler interrupts anything), and the fork's other prepare hooks, run
 * after this one or before, take other modules' locks: so while the fork
 * is under way, an event's way to the lock gives up and the event is
 * dropped and counted (spin_lock_event); only the writer, start and stop
 * and a thread's exit, which hold no other lock, wait for it.
 */
static void atfork_prepare(void)
{
	cprof__sym_fork_prepare();
	atomic_store(&T.forking, 1);
	spin_lock();
}

static void atfork_parent(void)
{
	spin_unlock();
	atomic_store(&T.forking, 0);
	cprof__sym_fork_parent();
}

static void atfork_child(void)
{
	spin_unlock();
	atomic_store(&T.forking, 0);
	cprof__sym_fork_child();
	/* The writer thread does not exist in the child: tracing is off there. */
	cprof__trace_on = 0;
	T.flight = false; /* the parent's last moments are the parent's */
	FR.path[0] = 0;
	if (T.gen & 1)
		T.gen++;
	T.nreg = 0;
	me.slot = 0;
	me.buf = NULL;
	me.pos = me.end = NULL;
	me.tid = 0;
	/* Events queued by the parent's threads are the parent's to write. */
	while (T.q_head) {
		struct tbuf *b = T.q_head;
		T.q_head = b->next;
		b->next = T.free_list;
		T.free_list = b;
	}
	T.q_tail = NULL;
	pthread_mutex_init(&T.api_lock, NULL);
	if (owned_fd >= 0)
		close(owned_fd);
	owned_fd = -1;
	T.fd = -1;
	env_path[0] = 0;
}

/*
 * A window "10s", "500ms", "2m", a size "64MiB", "512KiB", "1GiB", or both
 * "10s,64MiB": 0, or -EINVAL.
 */
static int parse_window(const char *v, int64_t *ns, int64_t *bytes)
{
	*ns = *bytes = 0;
	while (*v) {
		char *end;
		double x = strtod(v, &end);
		if (end == v || !(x > 0))
			return -EINVAL;
		size_t n = strcspn(end, ",");
		static const struct {
			const char *unit;
			double mult;
			bool size;
		} units[] = {{"ms", 1e6, false},        {"s", 1e9, false},     {"m", 60e9, false},
			     {"KiB", 1024.0, true},     {"MiB", 1048576.0, true}, {"GiB", 1073741824.0, true},
			     {"B", 1.0, true}};
		bool ok = false;
		for (size_t i = 0; i < sizeof units / sizeof units[0] && !ok; i++) {
			if (strlen(units[i].unit) == n && strncmp(end, units[i].unit, n) == 0) {
				double r = x * units[i].mult;
				if (r > 9e18)
					return -EINVAL;
				*(units[i].size ? bytes : ns) = (int64_t)r;
				ok = true;
			}
		}
		if (!ok)
			return -EINVAL;
		v = end + n;
		if (*v == ',')
			v++;
	}
	return 0;
}

static void flight_signal(int sig)
{
	(void)sig;
	int saved = errno;
	atomic_store(&FR.sig, 1);
	wake_writer();
	errno = saved;
}

/* CPROF_TRACE_FLIGHT=FILE, with CPROF_TRACE_FLIGHT_WINDOW and CPROF_TRACE_FLIGHT_SIGNAL. Init. */
static void flight_from_env(void)
{
	const char *v = getenv("CPROF_TRACE_FLIGHT");
	if (!v || !*v)
		return;
	int64_t ns = 0, bytes = 0;
	const char *w = getenv("CPROF_TRACE_FLIGHT_WINDOW");
	if (w && *w && parse_window(w, &ns, &bytes) != 0) {
		cprof__log("CPROF_TRACE_FLIGHT_WINDOW=%s: want a duration (10s, 500ms, 2m), a size (64MiB, 512KiB) or both "
			   "(10s,64MiB); using 10s,32MiB",
			   w);
		ns = bytes = 0;
	}
	cprof__env_path(v, FR.path, sizeof FR.path);
	int rc = cprof_trace_flight_start(ns, bytes);
	if (rc) {
		cprof__log("CPROF_TRACE_FLIGHT=%s: cannot start the flight recorder: %s", FR.path,
			   rc == -EBUSY ? "a trace is already being recorded (CPROF_TRACE)" : strerror(-rc));
		FR.path[0] = 0;
		return;
	}
	const char *sv = getenv("CPROF_TRACE_FLIGHT_SIGNAL");
	int sig = SIGUSR2;
	if (sv && *sv) {
		if (strcmp(sv, "none") == 0 || strcmp(sv, "0") == 0)
			return;
		const char *name = strncmp(sv, "SIG", 3) == 0 ? sv + 3 : sv;
		char *end;
		long n = strtol(name, &end, 10);
		if (*end == 0 && n > 0 && n < NSIG)
			sig = (int)n;
		else if (strcmp(name, "USR1") == 0)
			sig = SIGUSR1;
		else if (strcmp(name, "USR2") == 0)
			sig = SIGUSR2;
		else if (strcmp(name, "HUP") == 0)
			sig = SIGHUP;
		else if (strcmp(name, "QUIT") == 0)
			sig = SIGQUIT;
		else if (strcmp(name, "URG") == 0)
			sig = SIGURG;
		else if (strcmp(name, "WINCH") == 0)
			sig = SIGWINCH;
		else if (strncmp(name, "RTMIN+", 6) == 0 && (n = strtol(name + 6, &end, 10)) >= 0 && !*end &&
			 SIGRTMIN + n <= SIGRTMAX)
			sig = SIGRTMIN + (int)n;
		else {
			cprof__log("CPROF_TRACE_FLIGHT_SIGNAL=%s: want a signal name (USR1, USR2, HUP, QUIT, URG, WINCH, "
				   "RTMIN+N), a number, or none; no signal writes the flight recorder",
				   sv);
			return;
		}
	}
	if (sig == SIGPROF || sig == SIGKILL || sig == SIGSTOP) {
		cprof__log("CPROF_TRACE_FLIGHT_SIGNAL=%s: that signal cannot be used", sv);
		return;
	}
	struct sigaction old;
	if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
		cprof__log("CPROF_TRACE_FLIGHT_SIGNAL: the program handles signal %d itself; the flight recorder "
			   "is written through the API or the endpoint only",
			   sig);
		return;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = flight_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == 0)
		FR.signo = sig;
}

void cprof__trace_start_from_env(void)
{
	static bool once;
	if (!once) {
		once = true;
		pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
		atexit(at_exit);
	}
	/* Threads register as they start, so that a CPU sample can be recorded on any of them. */
	if (!T.key_ok)
		T.key_ok = pthread_key_create(&T.key, on_thread_exit) == 0;
	if (T.key_ok)
		cprof__trace_thread_register();
	const char *v = getenv("CPROF_TRACE");
	if (v && *v) {
		char path[4096];
		cprof__env_path(v, path, sizeof path);
		int rc = cprof_trace_start_path(path);
		if (rc)
			cprof__log("CPROF_TRACE=%s: cannot start the trace: %s", path, strerror(-rc));
	}
	flight_from_env();
}
