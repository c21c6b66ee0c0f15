/*
 * prof_wall.c - the wall-clock profiler: every thread sampled at a
 * wall-clock rate whether it runs or waits, each sample labelled with the
 * thread's state (running, the wait wrapper it is in, or the system call it
 * is blocked in) and its name, so on-CPU and off-CPU time show together.
 *
 * One runtime thread ("cprof-wall", every signal blocked) wakes hz times a
 * second and looks at each thread in /proc/self/task. The wall time since
 * the thread's last look is split by the kernel's scheduler accounting
 * (schedstat): time on a CPU or waiting for one is running time, the rest
 * was spent blocked. Then:
 *
 *   - blocked time goes to the thread's blocked stack, walked from the sp
 *     and pc the kernel reports (capture.c) without a signal, so no
 *     nanosleep, poll or sem_wait of the program ever returns EINTR because
 *     of us; walked again only when sp, pc or the CPU time changed;
 *   - running time goes to the thread's latest running stack. Threads that
 *     were on a CPU a tenth of the time since the last look are asked for a
 *     fresh one with a signal, at most MAX_SIGNALS per tick, in turn; the
 *     signal goes out only once the thread uses more CPU (a timer on its
 *     CPU clock, capture.c), so it never lands in a sleep the thread
 *     entered meanwhile; the answer is collected at a later tick and the
 *     running time in between waits for it. Threads that merely woke up
 *     are not asked at all.
 *
 * Weights are wall nanoseconds, so the total is the threads' lifetimes
 * added up (threads x duration). Samples are aggregated in the sampler
 * thread by (stack, state, thread name, labels); the table has a ceiling,
 * past which time is counted as lost and shown as such. The sampler's tables
 * and the profile live in the runtime's private arena (arena.c), not in the
 * program's heap.
 *
 * The profile is written by cprof_wall_profile_stop() or at exit
 * (CPROF_WALLPROFILE), or returned to the HTTP endpoint's timed capture. A
 * profile written to a file lives on as the CPU profile's does: written on
 * SIGINT/SIGTERM/SIGHUP by prof_cpu.c's writer thread, continued by a fork
 * child in FILE.<pid> (with a sampler of its own: the parent's did not come
 * along), and written before exec to FILE.preexec.<pid> (the new image
 * writes FILE), resumed if exec fails.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"
#include "proto/profile.h"
#include "runtime/rt.h"

#define MAX_SIGNALS 8          /* threads signalled per tick, at most */
#define SAMPLE_SLOTS (1u << 16) /* aggregated samples: power of two */
#define MAX_SAMPLES (SAMPLE_SLOTS / 4 * 3)
#define THREAD_SLOTS (1u << 14)
#define STILL_NS 10000          /* CPU time under which a blocked thread has not moved */

struct wthread {
	pid_t tid;
	uint32_t gen;
	bool ignore;             /* the runtime's own threads */
	char name[16];
	int64_t last_ns;         /* wall time of its previous tick */
	int64_t last_cpu;        /* scheduler accounting then: on a CPU, */
	int64_t last_runnable;   /* and on a CPU or waiting for one, */
	int64_t last_slices;     /* and times it got a CPU */
	const char *blocked_in;  /* from the registry, this tick */
	uintptr_t blocked_fp;    /* and the frame of the wrapper it is in */
	const struct rt_labels *labels;
	/* Its latest stack while running (from a signal)... */
	int run_n;
	const struct rt_labels *run_labels; /* as it was when that stack was taken */
	uintptr_t run_pcs[CPROF_MAX_DEPTH_LIMIT];
	/* ...and while blocked (walked from the kernel's sp and pc). */
	int blk_n;
	uintptr_t blk_sp, blk_pc;
	const char *blk_state; /* interned */
	uintptr_t blk_pcs[CPROF_MAX_DEPTH_LIMIT];
	int ticket;              /* an unanswered stack request, or -1 */
	int64_t pend_ns;         /* running time waiting for that answer */
	uint64_t pend_count;
	const char *pend_state;
	int pend_ticks;
	bool masked;             /* blocks SIGPROF (checked every 64 ticks) */
	int64_t masked_tick;
	bool prev_blocked;       /* seen blocked at its last tick */
	unsigned looks;          /* ticks it was looked at */
	int64_t carry_ns;        /* runnable time reported late (see sample_thread) */
};

struct wsample {
	uint64_t hash;
	const char *state, *name; /* interned */
	const struct rt_labels *labels;
	bool leaf_is_pc;
	int n;
	uint64_t count, wall_ns;
	uintptr_t pcs[];
};

struct wall_state {
	pthread_mutex_t lock; /* start/stop */
	atomic_bool active;
	atomic_bool stop_req;
	pthread_t sampler;
	int fd;
	char path[PATH_MAX];
	pid_t pid;
	int hz;
	int64_t period_ns, start_mono, start_wall;
	struct wthread **threads; /* THREAD_SLOTS, by tid */
	struct wsample **samples; /* SAMPLE_SLOTS */
	size_t nsamples, nthreads;
	uint64_t threads_seen;
	uint64_t ticks, lost, signals, timeouts, unwinds, reused;
	uint32_t gen;
	unsigned rr;
	char **strs; /* interned strings */
	size_t nstrs, cap_strs;
};

static struct wall_state wall = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .hz = CPROF_DEFAULT_HZ};
static int next_hz = CPROF_DEFAULT_HZ;

/* ---- the sampler's tables (sampler thread only) ---- */

static const char *intern(const char *s)
{
	for (size_t i = 0; i < wall.nstrs; i++)
		if (strcmp(wall.strs[i], s) == 0)
			return wall.strs[i];
	if (wall.nstrs == wall.cap_strs) {
		if (wall.cap_strs >= 65536)
			return "?";
		size_t cap = wall.cap_strs ? wall.cap_strs * 2 : 64;
		char **v = cprof__arena_resize(wall.strs, cap * sizeof *v);
		if (!v)
			return "?";
		wall.strs = v;
		wall.cap_strs = cap;
	}
	char *d = cprof__arena_strdup(s);
	if (!d)
		return "?";
	wall.strs[wall.nstrs++] = d;
	return d;
}

static struct wthread *thread_get(pid_t tid, bool create)
{
	size_t i = ((size_t)tid * 0x9e3779b1u) & (THREAD_SLOTS - 1);
	for (size_t probe = 0; probe < THREAD_SLOTS; probe++, i = (i + 1) & (THREAD_SLOTS - 1)) {
		struct wthread *w = wall.threads[i];
		if (w && w->tid == tid)
			return w;
		if (!w) {
			if (!create)
				return NULL;
			w = cprof__arena_calloc(1, sizeof *w);
			if (!w)
				return NULL;
			w->tid = tid;
			wall.threads[i] = w;
			wall.nthreads++;
			wall.threads_seen++;
			return w;
		}
	}
	return NULL;
}

static void settle(struct wthread *w, bool give_up);

/* Drop threads not seen this tick; re-insert the rest so probing stays correct. */
static void threads_sweep(void)
{
	struct wthread **old = wall.threads;
	struct wthread **neu = cprof__arena_calloc(THREAD_SLOTS, sizeof *neu);
	if (!neu)
		return;
	wall.threads = neu;
	for (size_t i = 0; i < THREAD_SLOTS; i++) {
		struct wthread *w = old[i];
		if (!w)
			continue;
		if (w->gen != wall.gen) {
			settle(w, true); /* a request to a thread that ended */
			cprof__arena_dispose(w);
			wall.nthreads--;
			continue;
		}
		size_t j = ((size_t)w->tid * 0x9e3779b1u) & (THREAD_SLOTS - 1);
		while (neu[j])
			j = (j + 1) & (THREAD_SLOTS - 1);
		neu[j] = w;
	}
	cprof__arena_dispose(old);
}

static uint64_t hash_sample(const uintptr_t *pcs, int n, const char *state, const char *name,
			    const void *labels)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)state ^ ((uint64_t)(uintptr_t)name << 7) ^
		     ((uint64_t)(uintptr_t)labels << 13) ^ (uint64_t)n;
	for (int i = 0; i < n; i++) {
		h ^= pcs[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static void record(const uintptr_t *pcs, int n, bool leaf_is_pc, const char *state, const char *name,
		   const struct rt_labels *labels, uint64_t count, int64_t weight)
{
	if (count == 0 && weight <= 0)
		return;
	uint64_t h = hash_sample(pcs, n, state, name, labels);
	size_t i = (size_t)h & (SAMPLE_SLOTS - 1);
	for (;; i = (i + 1) & (SAMPLE_SLOTS - 1)) {
		struct wsample *s = wall.samples[i];
		if (!s)
			break;
		if (s->hash == h && s->n == n && s->state == state && s->name == name && s->labels == labels &&
		    s->leaf_is_pc == leaf_is_pc && memcmp(s->pcs, pcs, (size_t)n * sizeof pcs[0]) == 0) {
			s->count += count;
			s->wall_ns += (uint64_t)weight;
			return;
		}
	}
	struct wsample *s = NULL;
	if (wall.nsamples < MAX_SAMPLES)
		s = cprof__arena_malloc(sizeof *s + (size_t)n * sizeof pcs[0]);
	if (!s) {
		wall.lost += (uint64_t)weight;
		return;
	}
	s->hash = h;
	s->state = state;
	s->name = name;
	s->labels = labels;
	s->leaf_is_pc = leaf_is_pc;
	s->n = n;
	s->count = count;
	s->wall_ns = (uint64_t)weight;
	memcpy(s->pcs, pcs, (size_t)n * sizeof pcs[0]);
	wall.samples[i] = s;
	wall.nsamples++;
}

/*
 * Running time at the thread's latest running stack. A thread never seen
 * running by a signal (it only wakes briefly) gets a pseudo-frame over its
 * latest blocked stack: it ran near there, exactly where is not known.
 */
static void record_running(struct wthread *w, const char *state, uint64_t count, int64_t weight)
{
	if (w->run_n > 0) {
		record(w->run_pcs, w->run_n, true, state, intern(w->name), w->run_labels, count, weight);
		return;
	}
	/* Address 2 stands for "not sampled" (see build_profile). */
	uintptr_t pcs[CPROF_MAX_DEPTH_LIMIT + 1];
	pcs[0] = 2;
	int n = w->blk_n < CPROF_MAX_DEPTH_LIMIT ? w->blk_n : CPROF_MAX_DEPTH_LIMIT;
	memcpy(pcs + 1, w->blk_pcs, (size_t)n * sizeof pcs[0]);
	record(pcs, n + 1, true, state, intern(w->name), w->labels, count, weight);
}

/* ---- one tick ---- */

static void from_registry(pid_t tid, const struct rt_thread *self, const uintptr_t *create, int ncreate,
			  void *arg)
{
	struct wthread *w = thread_get(tid, false);
	if (w) {
		w->blocked_in = self->blocked_in;
		w->blocked_fp = self->blocked_in ? self->blocked_fp : 0;
		w->labels = self->labels;
	}
}

/* The answer to a stack request made at an earlier tick, if any. */
static void settle(struct wthread *w, bool give_up)
{
	if (w->ticket < 0)
		return;
	int n = cprof__capture_poll(w->ticket, w->run_pcs, cprof__config.max_depth, &w->run_labels);
	if (n == -EINPROGRESS && !give_up)
		return;
	if (n == -EINPROGRESS) {
		cprof__capture_cancel(w->ticket);
		wall.timeouts++;
	} else if (n > 0) {
		w->run_n = n;
	}
	w->ticket = -1;
	record_running(w, w->pend_state, w->pend_count, w->pend_ns);
}

/*
 * One thread at one tick. The wall time since its last tick is split by the
 * kernel's own accounting (schedstat): time on a CPU or waiting for one is
 * "running", the rest was spent blocked. Running time goes to the thread's
 * latest running stack (asked for with a signal when it computed enough to
 * be worth one), blocked time to its latest blocked stack and state.
 */
static void sample_thread(struct wthread *w, int64_t now, size_t *asked)
{
	struct rt_thread_state st;
	int64_t cpu, waiting, slices;
	if (cprof__capture_schedstat(w->tid, &cpu, &waiting, &slices) != 0)
		return; /* ended just now */
	if (cprof__capture_state(w->tid, &st) != 0)
		return;
	/* The clock read with the accounting, not at the tick's start: the
	 * sampler itself may wait for a CPU between threads. */
	now = cprof__now_ns();
	w->looks++;
	int64_t gap = now - w->last_ns;
	w->last_ns = now;
	int64_t runnable = cpu + waiting;
	int64_t used = w->last_cpu >= 0 ? cpu - w->last_cpu : -1;
	int64_t run_ns = w->last_runnable >= 0 ? runnable - w->last_runnable : (st.running ? gap : 0);
	int64_t arrivals = w->last_runnable >= 0 ? slices - w->last_slices : 0;
	w->last_slices = slices;
	w->last_cpu = cpu;
	w->last_runnable = runnable;
	/*
	 * The kernel adds a wait for a CPU to the accounting when the wait
	 * ends, so a wait under way is missing now and shows up in a later
	 * gap, where it can exceed the gap: the excess is carried over, so
	 * that the running total stays the kernel's.
	 */
	if (run_ns < 0)
		run_ns = 0;
	run_ns += w->carry_ns;
	w->carry_ns = 0;
	if (run_ns > gap) {
		w->carry_ns = run_ns - gap;
		run_ns = gap;
	}
	int64_t blk_ns = gap - run_ns;
	const char *name = intern(w->name);
	const char *run_state = intern(w->blocked_in ? w->blocked_in : "running");

	settle(w, false);
	if (!st.running) {
		const char *state = w->blocked_in;
		char buf[32];
		if (!state) {
			state = cprof__capture_syscall_name(st.nr);
			if (!state) {
				snprintf(buf, sizeof buf, st.nr < 0 ? "blocked" : "syscall %ld", st.nr);
				state = buf;
			}
		}
		state = intern(state);
		if (!(w->blk_n > 0 && w->blk_sp == st.sp && w->blk_pc == st.pc && used >= 0 && used < STILL_NS)) {
			w->blk_n = cprof__capture_blocked(w->tid, st.sp, st.pc, w->blocked_fp, w->blk_pcs,
						    cprof__config.max_depth);
			w->blk_sp = st.sp;
			w->blk_pc = st.pc;
			wall.unwinds++;
		} else {
			wall.reused++;
		}
		w->blk_state = state;
		w->prev_blocked = true;
		record(w->blk_pcs, w->blk_n, true, state, name, w->labels, 1, blk_ns);
		/* It ran during the gap, then blocked: a request still open now
		 * will not be answered (the thread blocks SIGPROF). */
		if (w->ticket >= 0) {
			w->pend_ns += run_ns;
			settle(w, true);
		} else {
			record_running(w, run_state, 0, run_ns);
		}
		return;
	}
	/*
	 * Running now; blocked for part of the gap, where it last blocked. A
	 * thread seen blocked at its last tick spent its wait for a CPU in the
	 * gap returning from that call (a wakeup waits for a CPU): that wait
	 * goes with the blocked stack too.
	 */
	if (w->blk_n > 0) {
		if (w->prev_blocked && used >= 0 && run_ns > used) {
			/* Of the waits for a CPU in the gap, the first came with
			 * the wakeup; the others were preemptions while it ran.
			 * The kernel counts the waits, not each one's length:
			 * take the first as their mean. */
			int64_t wake_wait = (run_ns - used) / (arrivals > 1 ? arrivals : 1);
			blk_ns += wake_wait;
			run_ns -= wake_wait;
		}
		record(w->blk_pcs, w->blk_n, true, w->blk_state, name, w->labels, 0, blk_ns);
	} else {
		run_ns += blk_ns;
	}
	w->prev_blocked = false;
	if (w->ticket >= 0) {
		/* Asked earlier: a runnable thread answers when it gets a CPU. */
		w->pend_ns += run_ns;
		w->pend_count++;
		if (++w->pend_ticks >= 16)
			settle(w, true);
		return;
	}
	/*
	 * Signal only threads that are computing: that were on a CPU for a
	 * tenth of the wall time since the last look (a look, not a period:
	 * on a loaded machine the sampler's own ticks come late; never less
	 * than a period). A thread
	 * that merely wakes up now and then may be entering its next sleep,
	 * which a signal would cut short.
	 */
	int64_t span = gap > wall.period_ns ? gap : wall.period_ns;
	/* Not in its first looks: a new thread's start-up work would pass
	 * for computing just as it enters its first wait. */
	bool busy = used >= span / 10 && w->looks > 2;
	if (busy && *asked < MAX_SIGNALS) {
		if ((int64_t)wall.ticks - w->masked_tick >= 64) {
			w->masked = cprof__capture_blocks_sigprof(w->tid);
			w->masked_tick = (int64_t)wall.ticks;
		}
		/* Still running? The first look may be a while ago on a busy machine. */
		struct rt_thread_state again;
		if (!w->masked && cprof__capture_state(w->tid, &again) == 0 && again.running) {
			w->ticket = cprof__capture_ask(w->tid);
			if (w->ticket >= 0) {
				(*asked)++;
				wall.signals++;
				w->pend_ns = run_ns;
				w->pend_count = 1;
				w->pend_state = run_state;
				w->pend_ticks = 0;
				return;
			}
		}
	}
	record_running(w, run_state, 1, run_ns);
}

struct tick_arg {
	int64_t now;
	pid_t me;
};

/* A thread listed at this tick: known from now on, named once. */
static void tick_thread(pid_t tid, void *arg)
{
	const struct tick_arg *a = arg;
	struct wthread *w = thread_get(tid, true);
	if (!w)
		return;
	bool fresh = w->gen == 0;
	w->gen = wall.gen;
	if (fresh) {
		if (cprof__capture_name(tid, w->name, sizeof w->name) != 0)
			snprintf(w->name, sizeof w->name, "?");
		w->ignore = tid == a->me || strncmp(w->name, "cprof-", 6) == 0;
		if (w->ignore)
			wall.threads_seen--;
		w->last_ns = a->now - wall.period_ns;
		w->last_cpu = w->last_runnable = -1;
		w->ticket = -1;
		w->masked_tick = -1000;
	}
	w->blocked_in = NULL;
	w->blocked_fp = 0;
	w->labels = NULL;
}

static void tick(int64_t now, pid_t me)
{
	wall.gen++;
	wall.ticks++;
	struct tick_arg a = {now, me};
	if (cprof__capture_tasks(tick_thread, &a) < 0)
		return;
	cprof__capture_foreach(from_registry, NULL);

	size_t seen = 0, asked = 0;
	size_t start = (size_t)(wall.ticks * 7919u) & (THREAD_SLOTS - 1);
	for (size_t k = 0; k < THREAD_SLOTS; k++) {
		struct wthread *w = wall.threads[(start + k) & (THREAD_SLOTS - 1)];
		if (!w || w->gen != wall.gen)
			continue;
		seen++;
		if (!w->ignore)
			sample_thread(w, now, &asked);
	}
	if (seen != wall.nthreads)
		threads_sweep();
}

/* At stop: requests still unanswered are counted at the threads' last stacks. */
static void settle_all(void)
{
	int64_t deadline = cprof__now_ns() + wall.period_ns;
	for (size_t i = 0; wall.threads && i < THREAD_SLOTS; i++) {
		struct wthread *w = wall.threads[i];
		if (!w || w->ticket < 0)
			continue;
		while (cprof__now_ns() < deadline) {
			settle(w, false);
			if (w->ticket < 0)
				break;
			struct timespec ts = {0, 100000};
			nanosleep(&ts, NULL);
		}
		settle(w, true);
	}
}

static void *sampler_main(void *arg)
{
	(void)arg;
	cprof__wait_guard++; /* the runtime's own waits stay out of the block profile */
	pid_t me = (pid_t)syscall(SYS_gettid);
	int64_t next = cprof__now_ns() + wall.period_ns;
	while (!atomic_load(&wall.stop_req)) {
		struct timespec ts = {next / 1000000000, next % 1000000000};
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if (atomic_load(&wall.stop_req))
			break;
		int64_t now = cprof__now_ns();
		tick(now, me);
		next += wall.period_ns;
		if (next < now) /* fell behind (a stopped process, a slow tick): skip, do not burst */
			next = now + wall.period_ns;
	}
	settle_all();
	return NULL;
}

/* ---- the profile ---- */

static struct profile *build_profile(void)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "samples", "count");
	cprof__profile_add_sample_type(p, "wall", "nanoseconds");
	p->period_type.type = cprof__profile_intern(p, "wall", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "nanoseconds", (size_t)-1);
	p->period = wall.period_ns;
	p->default_sample_type = cprof__profile_intern(p, "wall", (size_t)-1);
	p->time_nanos = wall.start_wall;
	p->duration_nanos = cprof__now_ns() - wall.start_mono;
	char c[300];
	snprintf(c, sizeof c,
		 "cprof %s: wall-clock profile, %d Hz per thread, %llu ticks; %llu stacks by signal "
		 "(%llu unanswered), %llu walked without a signal, %llu counted again unchanged",
		 CPROF_VERSION_STRING, wall.hz, (unsigned long long)wall.ticks, (unsigned long long)wall.signals,
		 (unsigned long long)wall.timeouts, (unsigned long long)wall.unwinds,
		 (unsigned long long)wall.reused);
	cprof__profile_add_comment(p, c);
	struct rt_sym *s = cprof__sym_begin(p);
	if (!s) {
		cprof__profile_free(p);
		return NULL;
	}
	bool ok = true;
	int64_t k_state = cprof__profile_intern(p, "state", (size_t)-1);
	int64_t k_thread = cprof__profile_intern(p, "thread", (size_t)-1);
	for (size_t i = 0; ok && i < SAMPLE_SLOTS; i++) {
		struct wsample *sm = wall.samples[i];
		if (!sm)
			continue;
		uint64_t ids[CPROF_MAX_DEPTH_LIMIT + 1];
		int k;
		if (sm->n >= 1 && sm->pcs[0] == 2) {
			ids[0] = cprof__sym_special(s, "[cprof: running, stack not sampled]");
			k = ids[0] ? 1 : 0;
			if (k && sm->n > 1)
				k += cprof__sym_stack(s, sm->pcs + 1, sm->n - 1, true, ids + 1);
		} else {
			k = cprof__sym_stack(s, sm->pcs, sm->n, sm->leaf_is_pc, ids);
		}
		struct pp_label lb[2 + CPROF_LABELS_MAX];
		size_t nl = 0;
		lb[nl++] = (struct pp_label){k_state, cprof__profile_intern(p, sm->state, (size_t)-1), 0, 0};
		lb[nl++] = (struct pp_label){k_thread, cprof__profile_intern(p, sm->name, (size_t)-1), 0, 0};
		nl += cprof__labels_to_pp(p, sm->labels, lb + nl, CPROF_LABELS_MAX);
		int64_t v[2] = {(int64_t)sm->count, (int64_t)sm->wall_ns};
		ok = cprof__profile_add_sample(p, ids, (size_t)k, v, 2, lb, nl) != NULL;
	}
	if (ok && wall.lost > 0) {
		uint64_t id = cprof__sym_special(s, "[cprof: lost samples]");
		int64_t v[2] = {(int64_t)(wall.lost / (uint64_t)wall.period_ns), (int64_t)wall.lost};
		ok = id && cprof__profile_add_sample(p, &id, 1, v, 2, NULL, 0);
	}
	if (cprof__sym_end(s) != 0 || !ok) {
		cprof__profile_free(p);
		return NULL;
	}
	return p;
}

static void free_tables(void)
{
	for (size_t i = 0; wall.samples && i < SAMPLE_SLOTS; i++)
		cprof__arena_dispose(wall.samples[i]);
	for (size_t i = 0; wall.threads && i < THREAD_SLOTS; i++)
		cprof__arena_dispose(wall.threads[i]);
	cprof__arena_dispose(wall.samples);
	cprof__arena_dispose(wall.threads);
	wall.samples = NULL;
	wall.threads = NULL;
	wall.nsamples = wall.nthreads = 0;
	for (size_t i = 0; i < wall.nstrs; i++)
		cprof__arena_dispose(wall.strs[i]);
	cprof__arena_dispose(wall.strs);
	wall.strs = NULL;
	wall.nstrs = wall.cap_strs = 0;
}

/* ---- start and stop ---- */

static int start_locked(int fd, const char *path)
{
	if (atomic_load(&wall.active))
		return -EBUSY;
	wall.threads = cprof__arena_calloc(THREAD_SLOTS, sizeof *wall.threads);
	wall.samples = cprof__arena_calloc(SAMPLE_SLOTS, sizeof *wall.samples);
	if (!wall.threads || !wall.samples) {
		free_tables();
		return -ENOMEM;
	}
	wall.fd = fd;
	snprintf(wall.path, sizeof wall.path, "%s", path ? path : "");
	wall.hz = next_hz;
	wall.period_ns = 1000000000LL / wall.hz;
	wall.pid = getpid();
	wall.ticks = wall.lost = wall.signals = wall.timeouts = wall.unwinds = wall.reused = 0;
	wall.gen = 0;
	wall.threads_seen = 0;
	wall.start_mono = cprof__now_ns();
	wall.start_wall = cprof__wall_ns();
	atomic_store(&wall.stop_req, false);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 1024 * 1024);
	int rc = pthread_create(&wall.sampler, &a, sampler_main, NULL);
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		free_tables();
		return -rc;
	}
	pthread_setname_np(wall.sampler, "cprof-wall");
	atomic_store(&wall.active, true);
	return 0;
}

/* Stop the sampler and build the profile (NULL on out of memory). */
static struct profile *stop_collect(void)
{
	atomic_store(&wall.stop_req, true);
	pthread_join(wall.sampler, NULL);
	atomic_store(&wall.active, false);
	cprof__arena_begin(); /* the profile and its symbols: not the program's heap */
	struct profile *p = build_profile();
	cprof__arena_end();
	free_tables();
	return p;
}

static int stop_locked(void)
{
	if (!atomic_load(&wall.active))
		return -ESRCH;
	uint64_t signals = wall.signals, timeouts = wall.timeouts, unwinds = wall.unwinds;
	uint64_t nthreads = wall.threads_seen;
	struct profile *p = stop_collect();
	int rc;
	if (!p)
		rc = -ENOMEM;
	else if (wall.path[0])
		rc = cprof__write_path(p, wall.path);
	else
		rc = cprof__write_fd(p, wall.fd);
	if (rc != 0)
		cprof__log("cannot write the wall-clock profile to %s: %s",
			   wall.path[0] ? wall.path : "its file descriptor", strerror(-rc));
	else if (wall.path[0])
		cprof__report("wall", wall.path,
			      "samples=%llu threads=%llu signals=%llu timeouts=%llu unwinds=%llu duration_ns=%lld hz=%d",
			      (unsigned long long)(p ? p->nsample : 0), (unsigned long long)nthreads,
			      (unsigned long long)signals, (unsigned long long)timeouts, (unsigned long long)unwinds,
			      (long long)(p ? p->duration_nanos : 0), wall.hz);
	cprof__profile_free(p);
	return rc;
}

/* The endpoint's timed capture (lookup.c): start at hz (0: default), stop returns the profile. */
int cprof__wall_capture_start(int hz)
{
	if (hz < 0 || hz > CPROF_MAX_WALL_HZ)
		return -EINVAL;
	pthread_mutex_lock(&wall.lock);
	int saved = next_hz;
	if (hz > 0)
		next_hz = hz;
	int rc = start_locked(-1, NULL);
	next_hz = saved;
	pthread_mutex_unlock(&wall.lock);
	return rc;
}

struct profile *cprof__wall_capture_stop(void)
{
	pthread_mutex_lock(&wall.lock);
	struct profile *p = NULL;
	errno = ESRCH;
	if (atomic_load(&wall.active) && wall.pid == getpid() && !wall.path[0] && wall.fd < 0) {
		p = stop_collect();
		if (!p)
			errno = ENOMEM;
	}
	pthread_mutex_unlock(&wall.lock);
	return p;
}

CPROF_API int cprof_wall_profile_set_rate(int hz)
{
	if (hz < 1 || hz > CPROF_MAX_WALL_HZ)
		return -EINVAL;
	pthread_mutex_lock(&wall.lock);
	int rc = atomic_load(&wall.active) ? -EBUSY : 0;
	if (rc == 0)
		next_hz = hz;
	pthread_mutex_unlock(&wall.lock);
	return rc;
}

CPROF_API int cprof_wall_profile_start(int fd)
{
	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&wall.lock);
	int rc = start_locked(fd, NULL);
	pthread_mutex_unlock(&wall.lock);
	return rc;
}

CPROF_API int cprof_wall_profile_start_path(const char *path)
{
	if (!path || !*path || strlen(path) >= PATH_MAX - 32)
		return -EINVAL;
	pthread_mutex_lock(&wall.lock);
	int rc = start_locked(-1, path);
	pthread_mutex_unlock(&wall.lock);
	if (rc == 0)
		cprof__fatal_install();
	return rc;
}

CPROF_API int cprof_wall_profile_stop(void)
{
	pthread_mutex_lock(&wall.lock);
	int rc = wall.pid == getpid() ? stop_locked() : -ESRCH;
	pthread_mutex_unlock(&wall.lock);
	return rc;
}

/* ---- environment, exit, fatal signals, fork, exec ---- */

static void at_exit(void)
{
	if (atomic_load(&wall.active) && wall.pid == getpid())
		cprof_wall_profile_stop();
}

void cprof__wall_at_fatal(void)
{
	/* Not the endpoint's capture: its request dies with the process. */
	if (atomic_load(&wall.active) && wall.pid == getpid() && (wall.path[0] || wall.fd >= 0))
		cprof_wall_profile_stop();
}

static void atfork_child(void)
{
	pthread_mutex_init(&wall.lock, NULL);
	if (!atomic_load(&wall.active))
		return;
	/*
	 * The sampler thread did not come along, and it may have been in the
	 * middle of changing its tables: they are left as they are (not freed),
	 * and the child samples its own threads from a fresh start.
	 */
	atomic_store(&wall.active, false);
	wall.threads = NULL;
	wall.samples = NULL;
	wall.strs = NULL;
	wall.nsamples = wall.nthreads = wall.nstrs = wall.cap_strs = 0;
	if (!wall.path[0])
		return; /* a descriptor or the endpoint's capture: never written through by a child */
	char path[PATH_MAX + 16];
	const char *base = getenv("CPROF_WALLPROFILE");
	snprintf(path, sizeof path, "%s.%d", base && *base ? base : wall.path, (int)getpid());
	if (start_locked(-1, path) != 0)
		cprof__log("cannot continue the wall-clock profile in child %d", (int)getpid());
	else
		cprof__fatal_install();
}

static char exec_path[PATH_MAX];

void cprof__wall_before_exec(void)
{
	/* A vfork child shares our memory: the profile is its parent's, hands off. */
	if (wall.pid != getpid())
		return;
	pthread_mutex_lock(&wall.lock);
	exec_path[0] = 0;
	if (atomic_load(&wall.active) && wall.path[0]) {
		snprintf(exec_path, sizeof exec_path, "%s", wall.path);
		uint64_t nthreads = wall.threads_seen;
		struct profile *p = stop_collect();
		char alt[PATH_MAX + 64];
		snprintf(alt, sizeof alt, "%s.preexec.%d", exec_path, (int)getpid());
		int rc = p ? (p->nsample > 0 ? cprof__write_path(p, alt) : 0) : -ENOMEM;
		if (rc != 0)
			cprof__log("cannot write the wall-clock profile to %s: %s", alt, strerror(-rc));
		else if (p && p->nsample > 0)
			cprof__report("wall", alt, "samples=%llu threads=%llu duration_ns=%lld hz=%d",
				      (unsigned long long)p->nsample, (unsigned long long)nthreads,
				      (long long)p->duration_nanos, wall.hz);
		cprof__profile_free(p);
	} else if (atomic_load(&wall.active) && wall.fd >= 0) {
		stop_locked();
	}
	pthread_mutex_unlock(&wall.lock);
}

void cprof__wall_after_failed_exec(void)
{
	if (wall.pid != getpid() || !exec_path[0])
		return;
	pthread_mutex_lock(&wall.lock);
	int rc = start_locked(-1, exec_path);
	if (rc == 0)
		cprof__fatal_install();
	else
		cprof__log("cannot resume the wall-clock profile after a failed exec: %s", strerror(-rc));
	exec_path[0] = 0;
	pthread_mutex_unlock(&wall.lock);
}

void cprof__wall_start_from_env(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
	atexit(at_exit);
	const char *base = getenv("CPROF_WALLPROFILE");
	if (!base || !*base)
		return;
	char path[PATH_MAX + 32];
	cprof__env_path(base, path, sizeof path);
	next_hz = cprof__config.wall_hz;
	int rc = cprof_wall_profile_start_path(path);
	if (rc != 0)
		cprof__log("cannot start the wall-clock profile: %s", strerror(-rc));
}
