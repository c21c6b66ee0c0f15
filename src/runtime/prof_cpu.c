/*
 * prof_cpu.c - the CPU profiler: its C API (Go's StartCPUProfile and
 * StopCPUProfile in C terms), the sample path run in the signal handler,
 * and the profile's life across exit, fatal signals, fork and exec.
 *
 * Timers are armed by threads.c, signals routed by sig.c, stacks walked by
 * unwind_*.c, recorded by stacktab.c, and turned into a pprof profile by
 * symbolize.c.
 *
 * The continuous collector (continuous.c) runs a profile of its own with no
 * output and takes it period by period with cprof__cpu_rotate(): the table
 * is swapped for a fresh one while sampling goes on, so periods have no gap.
 * Handlers find the table through a generation: each counts itself in its
 * generation's slot, and the rotation waits for the old slot to drain before
 * it reads the old table. The table read is emptied and kept as the next
 * period's, so a rotation maps nothing and the pages sampling touched stay.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"
#include "proto/profile.h"
#include "runtime/rt.h"

/* Table size: enough distinct stacks for long runs of large programs; the
 * memory is reserved, not touched, until stacks arrive. */
#define TABLE_ENTRIES (1u << 16)
#define TABLE_FRAMES (4u << 20)

struct cpu_state {
	pthread_mutex_t lock; /* start/stop; never taken in the signal handler */
	atomic_bool active;
	atomic_int in_flight; /* handlers between their check of active and their return */
	struct stacktab *tab;
	/* The table handlers record into: gtab[gen & 1], entered through gflight. */
	atomic_uint gen;
	atomic_int gflight[2];
	struct stacktab *gtab[2];
	bool collector;       /* owned by continuous.c: no output, taken by rotation */
	struct stacktab *spare; /* the collector's next table, emptied */
	int64_t period_mono, period_wall;
	uint64_t period_weight, period_lost;
	int fd;               /* output when started with an fd, else -1 */
	char path[PATH_MAX];  /* output when started with a path */
	pid_t pid;            /* the process the profile belongs to */
	int hz;
	int64_t start_mono, start_wall;
	atomic_ullong samples, weight, overruns, lost, tails;
	uint64_t threads, thread_fail;
	/* Time spent in the handler per sample: log2 buckets, 4 steps each. */
	atomic_ullong handler_hist[64 * 4];
};

static struct cpu_state cpu = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .hz = CPROF_DEFAULT_HZ};
static int next_hz = CPROF_DEFAULT_HZ;
static bool atexit_done;

/* ---- the sample path: signal handler ---- */

/* The current table, counted in its generation's slot until table_leave. Any. */
static struct stacktab *table_enter(unsigned *slot)
{
	for (;;) {
		unsigned g = atomic_load(&cpu.gen);
		atomic_fetch_add(&cpu.gflight[g & 1], 1);
		if (atomic_load(&cpu.gen) == g) {
			*slot = g & 1;
			return cpu.gtab[g & 1];
		}
		atomic_fetch_sub(&cpu.gflight[g & 1], 1);
	}
}

static void table_leave(unsigned slot)
{
	atomic_fetch_sub(&cpu.gflight[slot], 1);
}

/* Bucket of a duration: 4 buckets per power of two. */
static unsigned hist_bucket(uint64_t ns)
{
	if (ns < 4)
		return (unsigned)ns;
	unsigned lg = 63 - (unsigned)__builtin_clzll(ns);
	unsigned sub = (unsigned)(ns >> (lg - 2)) & 3;
	unsigned b = lg * 4 + sub;
	return b < 256 ? b : 255;
}

/* Lower bound of a bucket, in ns. */
static uint64_t hist_value(unsigned b)
{
	if (b < 4)
		return b;
	unsigned lg = b / 4, sub = b % 4;
	return ((uint64_t)(4 + sub)) << (lg - 2);
}

/* The q-quantile (0..1) of handler time, in ns; 0 when there were no samples. */
static uint64_t handler_quantile(double q)
{
	uint64_t total = 0;
	for (unsigned b = 0; b < 256; b++)
		total += atomic_load(&cpu.handler_hist[b]);
	if (total == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)total), seen = 0;
	for (unsigned b = 0; b < 256; b++) {
		seen += atomic_load(&cpu.handler_hist[b]);
		if (seen > want)
			return hist_value(b);
	}
	return hist_value(255);
}

void cprof__cpu_on_signal(siginfo_t *si, void *uc)
{
	int64_t t0 = cprof__now_ns();
	atomic_fetch_add(&cpu.in_flight, 1);
	if (!atomic_load(&cpu.active)) {
		atomic_fetch_sub(&cpu.in_flight, 1);
		return;
	}
	uint64_t w = 1 + (uint64_t)(si->si_overrun > 0 ? si->si_overrun : 0);
	cprof__threads_on_sample(si->si_value.sival_ptr, w);
	atomic_fetch_add_explicit(&cpu.samples, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&cpu.weight, w, memory_order_relaxed);
	if (w > 1)
		atomic_fetch_add_explicit(&cpu.overruns, w - 1, memory_order_relaxed);
	if (cprof__self.busy) {
		atomic_fetch_add_explicit(&cpu.lost, w, memory_order_relaxed);
		if (cprof__trace_on)
			cprof__trace_cpu_sample(NULL, 0, w); /* counted as not recorded in the trace */
	} else {
		cprof__self.busy = 1;
		unsigned slot;
		struct stacktab *tab = table_enter(&slot);
		uintptr_t pcs[CPROF_MAX_DEPTH_LIMIT];
		int n;
		if (cprof__config.unwinder == CPROF_UNWIND_FP)
			n = cprof__unwind_fp(uc, pcs, cprof__config.max_depth, cprof__self.stack_lo,
					     cprof__self.stack_hi);
		else
			n = cprof__unwind_dwarf(uc, pcs, cprof__config.max_depth);
		if (n <= 0 || cprof__stacktab_add_tagged(tab, pcs, n, cprof__labels_current(), w) != 0)
			atomic_fetch_add_explicit(&cpu.lost, w, memory_order_relaxed);
		table_leave(slot);
		if (cprof__trace_on)
			cprof__trace_cpu_sample(pcs, n, w); /* the execution trace's CPU sample event, with its weight */
		cprof__self.busy = 0;
	}
	int64_t dt = cprof__now_ns() - t0;
	atomic_fetch_add_explicit(&cpu.handler_hist[hist_bucket(dt > 0 ? (uint64_t)dt : 0)], 1,
				  memory_order_relaxed);
	atomic_fetch_sub(&cpu.in_flight, 1);
}

bool cprof__cpu_active(void)
{
	return atomic_load(&cpu.active);
}

void cprof__cpu_thread_tail(uint64_t weight, void *start_fn)
{
	atomic_fetch_add(&cpu.in_flight, 1);
	if (atomic_load(&cpu.active)) {
		uintptr_t pcs[2] = {CPROF_PC_THREAD_TAIL, (uintptr_t)start_fn + 1};
		atomic_fetch_add(&cpu.weight, weight);
		atomic_fetch_add(&cpu.tails, weight);
		unsigned slot;
		struct stacktab *tab = table_enter(&slot);
		if (cprof__stacktab_add_tagged(tab, pcs, start_fn ? 2 : 1, cprof__labels_current(),
					       weight) != 0)
			atomic_fetch_add(&cpu.lost, weight);
		table_leave(slot);
	}
	atomic_fetch_sub(&cpu.in_flight, 1);
}

struct stacktab *cprof__cpu_table(void)
{
	return atomic_load(&cpu.active) ? cpu.tab : NULL;
}

/* ---- fatal signals: write the profile, then die as asked ---- */

static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP};
static int fatal_pipe[2] = {-1, -1};
static pid_t fatal_owner;

static void on_fatal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (fatal_owner == getpid() && write(fatal_pipe[1], &b, 1) == 1) {
		errno = saved;
		return; /* the writer thread stops the profile, then re-raises */
	}
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved;
}

static void *fatal_writer(void *arg)
{
	(void)arg;
	/* The runtime's own thread: its waits are not the program's. */
	cprof__wait_guard++;
	unsigned char b;
	for (;;) {
		ssize_t r = read(fatal_pipe[0], &b, 1);
		if (r == 1)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		return NULL;
	}
	int sig = b;
	cprof__threads_at_fatal(); /* first: the threads as the signal found them */
	cprof_cpu_profile_stop();
	cprof__heap_stop_at_exit();
	cprof__wait_at_fatal();
	cprof__wall_at_fatal();
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	cprof__sig_real_sigaction(sig, &dfl, NULL);
	kill(getpid(), sig);
	return NULL;
}

/* Install the fatal-signal path for signals the program left at their default. */
void cprof__fatal_install(void)
{
	if (fatal_owner == getpid())
		return;
	if (fatal_pipe[0] >= 0) {
		close(fatal_pipe[0]);
		close(fatal_pipe[1]);
	}
	if (pipe2(fatal_pipe, O_CLOEXEC) != 0) {
		fatal_pipe[0] = fatal_pipe[1] = -1;
		return;
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t th;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	int rc = pthread_create(&th, &a, fatal_writer, NULL);
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return;
	pthread_setname_np(th, "cprof-writer");
	fatal_owner = getpid();
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
		struct sigaction cur;
		if (cprof__sig_real_sigaction(fatal_signals[i], NULL, &cur) != 0)
			continue;
		if ((cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL)
			continue; /* the program handles it: it may exit(), which we catch */
		struct sigaction act;
		memset(&act, 0, sizeof act);
		act.sa_handler = on_fatal;
		act.sa_flags = SA_RESTART;
		cprof__sig_real_sigaction(fatal_signals[i], &act, NULL);
	}
}

/* ---- start and stop ---- */

static int start_locked(int fd, const char *path)
{
	if (atomic_load(&cpu.active))
		return -EBUSY;
	struct stacktab *t = cprof__stacktab_new(TABLE_ENTRIES, TABLE_FRAMES);
	if (!t)
		return -ENOMEM;
	if (cprof__config.unwinder == CPROF_UNWIND_DWARF)
		cprof__unwind_warmup();
	if (!cprof__self.stack_hi)
		cprof__threads_self_bounds();
	int rc = cprof__sig_install(cprof__cpu_on_signal);
	if (rc != 0) {
		cprof__stacktab_free(t);
		return rc;
	}
	cpu.tab = t;
	cpu.gtab[atomic_load(&cpu.gen) & 1] = t;
	cpu.collector = false;
	cpu.fd = fd;
	if (path)
		snprintf(cpu.path, sizeof cpu.path, "%s", path);
	else
		cpu.path[0] = 0;
	cpu.hz = next_hz;
	cpu.pid = getpid();
	atomic_store(&cpu.samples, 0);
	atomic_store(&cpu.weight, 0);
	atomic_store(&cpu.overruns, 0);
	atomic_store(&cpu.lost, 0);
	atomic_store(&cpu.tails, 0);
	for (unsigned b = 0; b < 256; b++)
		atomic_store(&cpu.handler_hist[b], 0);
	cpu.start_mono = cprof__now_ns();
	cpu.start_wall = cprof__wall_ns();
	atomic_store(&cpu.active, true);
	if (path)
		cprof__fatal_install();
	cprof__threads_start(cpu.hz);
	return 0;
}

/* Stop sampling and wait until no handler still touches the table. */
static void quiesce(void)
{
	atomic_store(&cpu.active, false);
	cprof__threads_stop();
	for (int i = 0; i < 2000 && atomic_load(&cpu.in_flight) > 0; i++) {
		struct timespec ts = {0, 500000};
		nanosleep(&ts, NULL);
	}
	cpu.threads = cprof__threads_armed();
	cpu.thread_fail = cprof__threads_failed();
}

/* Write the stopped profile to where it was asked to go (or to alt_path). */
static int write_locked(const char *alt_path)
{
	cprof__heap_ignore_begin(); /* symbolizing allocates: not the program's */
	int64_t dur = cprof__now_ns() - cpu.start_mono;
	uint64_t samples = atomic_load(&cpu.samples), weight = atomic_load(&cpu.weight);
	uint64_t overruns = atomic_load(&cpu.overruns), lost = atomic_load(&cpu.lost);
	uint64_t tails = atomic_load(&cpu.tails);
	char c[5][256];
	const char *comments[5];
	size_t nc = 0;
	snprintf(c[nc], sizeof c[nc], "cprof %s: cpu profile, %d Hz per thread, %s unwinder, %llu threads",
		 CPROF_VERSION_STRING, cpu.hz, cprof__config.unwinder == CPROF_UNWIND_FP ? "fp" : "dwarf",
		 (unsigned long long)cpu.threads);
	comments[nc] = c[nc];
	nc++;
	if (samples > 0 && overruns > samples / 2) {
		/* Deliveries per CPU-second versus requested rate. */
		double cpu_secs = (double)weight / cpu.hz;
		int delivered = cpu_secs > 0 ? (int)(samples / cpu_secs + 0.5) : 0;
		snprintf(c[nc], sizeof c[nc],
			 "the kernel delivered about %d of the %d timer signals per CPU-second asked for "
			 "(scheduler tick); %llu overruns were added to sample weights",
			 delivered, cpu.hz, (unsigned long long)overruns);
		comments[nc] = c[nc];
		nc++;
		static bool told;
		if (!told) {
			told = true;
			cprof__log("the kernel caps CPU timers at its scheduler tick: about %d Hz delivered of %d Hz "
				   "asked; samples are weighted by timer overruns, so CPU time stays right",
				   delivered, cpu.hz);
		}
	}
	if (lost > 0) {
		snprintf(c[nc], sizeof c[nc], "%llu of %llu sample periods could not be recorded (lost)",
			 (unsigned long long)lost, (unsigned long long)weight);
		comments[nc] = c[nc];
		nc++;
	}
	if (tails > 0) {
		snprintf(c[nc], sizeof c[nc],
			 "%llu sample periods were used by threads after their last timer signal, as they ended; "
			 "they are shown under each thread's start routine as [cprof: unsampled end of thread]",
			 (unsigned long long)tails);
		comments[nc] = c[nc];
		nc++;
	}
	if (cpu.thread_fail > 0) {
		snprintf(c[nc], sizeof c[nc], "%llu threads could not get a CPU timer and were not sampled",
			 (unsigned long long)cpu.thread_fail);
		comments[nc] = c[nc];
		nc++;
	}
	struct cpu_meta m = {1000000000LL / cpu.hz, cpu.start_wall, dur, lost, comments, nc};
	struct profile *p = cprof__symbolize_cpu(cpu.tab, &m);
	int rc;
	const char *dest = alt_path ? alt_path : cpu.path;
	if (!p)
		rc = -ENOMEM;
	else if (dest[0])
		rc = cprof__write_path(p, dest);
	else
		rc = cprof__write_fd(p, cpu.fd);
	cprof__profile_free(p);
	if (rc != 0)
		cprof__log("cannot write the CPU profile to %s: %s", dest[0] ? dest : "its file descriptor",
			   strerror(-rc));
	else if (dest[0])
		cprof__report("cpu", dest,
			      "samples=%llu lost=%llu overruns=%llu threads=%llu duration_ns=%lld hz=%d "
			      "handler_p50_ns=%llu handler_p99_ns=%llu",
			      (unsigned long long)samples, (unsigned long long)lost,
			      (unsigned long long)overruns, (unsigned long long)cpu.threads, (long long)dur,
			      cpu.hz, (unsigned long long)handler_quantile(0.5),
			      (unsigned long long)handler_quantile(0.99));
	cprof__stacktab_free(cpu.tab);
	cpu.tab = NULL;
	cprof__heap_ignore_end();
	return rc;
}

CPROF_API int cprof_cpu_profile_set_rate(int hz)
{
	if (hz < 1 || hz > CPROF_MAX_HZ)
		return -EINVAL;
	pthread_mutex_lock(&cpu.lock);
	int rc = 0;
	if (atomic_load(&cpu.active))
		rc = -EBUSY;
	else
		next_hz = hz;
	pthread_mutex_unlock(&cpu.lock);
	return rc;
}

CPROF_API int cprof_cpu_profile_start(int fd)
{
	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&cpu.lock);
	int rc = start_locked(fd, NULL);
	pthread_mutex_unlock(&cpu.lock);
	return rc;
}

CPROF_API int cprof_cpu_profile_start_path(const char *path)
{
	if (!path || !*path || strlen(path) >= PATH_MAX - 32)
		return -EINVAL;
	pthread_mutex_lock(&cpu.lock);
	int rc = start_locked(-1, path);
	pthread_mutex_unlock(&cpu.lock);
	return rc;
}

CPROF_API int cprof_cpu_profile_stop(void)
{
	pthread_mutex_lock(&cpu.lock);
	if (!atomic_load(&cpu.active) || !cpu.tab || cpu.collector) {
		pthread_mutex_unlock(&cpu.lock);
		return -ESRCH;
	}
	quiesce();
	int rc = write_locked(NULL);
	pthread_mutex_unlock(&cpu.lock);
	return rc;
}

int cprof__cpu_start_fd_hz(int fd, int hz)
{
	if (fd < 0)
		return -EBADF;
	if (hz < 0 || hz > CPROF_MAX_HZ)
		return -EINVAL;
	pthread_mutex_lock(&cpu.lock);
	int saved = next_hz;
	if (hz > 0)
		next_hz = hz;
	int rc = start_locked(fd, NULL);
	next_hz = saved;
	pthread_mutex_unlock(&cpu.lock);
	return rc;
}

int cprof__cpu_stop_fd(int fd)
{
	pthread_mutex_lock(&cpu.lock);
	if (!atomic_load(&cpu.active) || !cpu.tab || cpu.path[0] || cpu.fd != fd || cpu.pid != getpid()) {
		pthread_mutex_unlock(&cpu.lock);
		return -ESRCH;
	}
	quiesce();
	int rc = write_locked(NULL);
	pthread_mutex_unlock(&cpu.lock);
	return rc;
}

CPROF_API int cprof_cpu_profile_stats(struct cprof_cpu_stats *st)
{
	if (!st)
		return -EINVAL;
	st->samples = atomic_load(&cpu.samples);
	st->weight = atomic_load(&cpu.weight);
	st->overruns = atomic_load(&cpu.overruns);
	st->lost = atomic_load(&cpu.lost);
	st->threads = atomic_load(&cpu.active) ? cprof__threads_armed() : cpu.threads;
	st->thread_fail = atomic_load(&cpu.active) ? cprof__threads_failed() : cpu.thread_fail;
	st->hz = cpu.hz;
	st->handler_p50_ns = handler_quantile(0.5);
	st->handler_p99_ns = handler_quantile(0.99);
	return 0;
}

/* ---- environment, exit, fork, exec ---- */

void cprof__cpu_stop_at_exit(void)
{
	if (atexit_done)
		return;
	atexit_done = true;
	cprof_cpu_profile_stop();
}

static void at_exit(void)
{
	cprof__cpu_stop_at_exit();
}

/*
 * Which file this process writes. The process that started profiling (its
 * pid is kept in CPROF_OWNER_PID, which exec preserves) writes the path as
 * given; any other process that inherited the environment (a fork child, a
 * spawned command) writes path.<pid>, so no process overwrites another's.
 */
void cprof__env_path(const char *base, char *out, size_t outlen)
{
	const char *owner = getenv("CPROF_OWNER_PID");
	char me[32];
	snprintf(me, sizeof me, "%d", (int)getpid());
	if (!owner || !*owner) {
		setenv("CPROF_OWNER_PID", me, 1);
		snprintf(out, outlen, "%s", base);
	} else if (strcmp(owner, me) == 0) {
		snprintf(out, outlen, "%s", base);
	} else {
		snprintf(out, outlen, "%s.%s", base, me);
	}
}

static void atfork_child(void)
{
	cprof__threads_after_fork();
	atexit_done = false;
	pthread_mutex_init(&cpu.lock, NULL);
	atomic_store(&cpu.gflight[0], 0);
	atomic_store(&cpu.gflight[1], 0);
	if (!atomic_load(&cpu.active))
		return;
	/* The child starts its own profile: the parent's samples stay the parent's. */
	atomic_store(&cpu.active, false);
	atomic_store(&cpu.in_flight, 0);
	cprof__stacktab_free(cpu.tab);
	cpu.tab = NULL;
	cpu.collector = false; /* the collector is the parent's; the child has no collector thread */
	cprof__stacktab_free(cpu.spare);
	cpu.spare = NULL;
	if (!cpu.path[0]) {
		/* Started on a file descriptor: never write through an inherited one. */
		return;
	}
	char base[PATH_MAX];
	const char *envp = getenv("CPROF_CPUPROFILE");
	snprintf(base, sizeof base, "%s", envp && *envp ? envp : cpu.path);
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s.%d", base, (int)getpid());
	fatal_owner = 0;
	if (start_locked(-1, path) != 0)
		cprof__log("cannot continue the CPU profile in child %d", (int)getpid());
}

void cprof__cpu_start_from_env(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
	atexit(at_exit);
	const char *base = getenv("CPROF_CPUPROFILE");
	if (!base || !*base)
		return;
	char path[PATH_MAX + 16];
	cprof__env_path(base, path, sizeof path);
	next_hz = cprof__config.hz;
	int rc = cprof_cpu_profile_start_path(path);
	if (rc != 0)
		cprof__log("cannot start the CPU profile: %s", strerror(-rc));
}

/*
 * exec replaces the image: write what this image sampled first. The new
 * image, which inherits the environment, writes the main file; this one's
 * samples go to path.preexec.<pid> (only when it has any).
 */
static bool exec_paused;
static char exec_path[PATH_MAX];

void cprof__cpu_before_exec(void)
{
	/* A vfork child shares our memory: the profile is its parent's, hands off. */
	if (cpu.pid != getpid())
		return;
	pthread_mutex_lock(&cpu.lock);
	exec_paused = false;
	if (atomic_load(&cpu.active) && cpu.tab) {
		quiesce();
		snprintf(exec_path, sizeof exec_path, "%s", cpu.path);
		char alt[PATH_MAX + 64];
		if (cpu.path[0]) {
			snprintf(alt, sizeof alt, "%s.preexec.%d", cpu.path, (int)getpid());
			if (atomic_load(&cpu.weight) > 0)
				write_locked(alt);
			else {
				cprof__stacktab_free(cpu.tab);
				cpu.tab = NULL;
			}
			exec_paused = true;
		} else if (cpu.collector) {
			cprof__stacktab_free(cpu.tab);
			cpu.tab = NULL;
			cprof__stacktab_free(cpu.spare);
			cpu.spare = NULL;
			cpu.collector = false;
		} else {
			write_locked(NULL);
		}
	}
	pthread_mutex_unlock(&cpu.lock);
}

void cprof__cpu_after_failed_exec(void)
{
	if (cpu.pid != getpid())
		return;
	pthread_mutex_lock(&cpu.lock);
	if (exec_paused) {
		exec_paused = false;
		start_locked(-1, exec_path);
	}
	pthread_mutex_unlock(&cpu.lock);
}

/* ---- the continuous collector's profile ---- */

int cprof__cpu_collector_start(int hz)
{
	if (hz < 0 || hz > CPROF_MAX_HZ)
		return -EINVAL;
	pthread_mutex_lock(&cpu.lock);
	int saved = next_hz;
	if (hz > 0)
		next_hz = hz;
	int rc = start_locked(-1, NULL);
	next_hz = saved;
	if (rc == 0) {
		cpu.collector = true;
		cpu.period_mono = cpu.start_mono;
		cpu.period_wall = cpu.start_wall;
		cpu.period_weight = 0;
		cpu.period_lost = 0;
	}
	pthread_mutex_unlock(&cpu.lock);
	return rc;
}

bool cprof__cpu_collector_running(void)
{
	return atomic_load(&cpu.active) && cpu.collector && cpu.pid == getpid();
}

/* Build the profile of table t for the period that ends now. Locked. */
static struct profile *period_profile(struct stacktab *t, int64_t end_mono)
{
	uint64_t weight = atomic_load(&cpu.weight), lost = atomic_load(&cpu.lost);
	uint64_t dl = lost - cpu.period_lost;
	char c[2][256];
	const char *comments[2];
	size_t nc = 0;
	snprintf(c[nc], sizeof c[nc], "cprof %s: cpu profile, %d Hz per thread, %s unwinder (continuous)",
		 CPROF_VERSION_STRING, cpu.hz, cprof__config.unwinder == CPROF_UNWIND_FP ? "fp" : "dwarf");
	comments[nc] = c[nc];
	nc++;
	if (dl > 0) {
		snprintf(c[nc], sizeof c[nc], "%llu of %llu sample periods could not be recorded (lost)",
			 (unsigned long long)dl, (unsigned long long)(weight - cpu.period_weight));
		comments[nc] = c[nc];
		nc++;
	}
	struct cpu_meta m = {1000000000LL / cpu.hz, cpu.period_wall, end_mono - cpu.period_mono, dl,
			     comments, nc};
	struct profile *p = cprof__symbolize_cpu(t, &m);
	cpu.period_weight = weight;
	cpu.period_lost = lost;
	return p;
}

int cprof__cpu_rotate(struct profile **out, bool last)
{
	*out = NULL;
	pthread_mutex_lock(&cpu.lock);
	if (!atomic_load(&cpu.active) || !cpu.collector || cpu.pid != getpid()) {
		pthread_mutex_unlock(&cpu.lock);
		return -ESRCH;
	}
	struct stacktab *old = cpu.tab, *fresh = NULL;
	int64_t end_mono, end_wall;
	if (last) {
		quiesce();
		end_mono = cprof__now_ns();
		end_wall = cprof__wall_ns();
		cpu.collector = false;
		cpu.tab = NULL;
		cprof__stacktab_free(cpu.spare);
		cpu.spare = NULL;
	} else {
		fresh = cpu.spare ? cpu.spare : cprof__stacktab_new(TABLE_ENTRIES, TABLE_FRAMES);
		cpu.spare = NULL;
		if (!fresh) {
			pthread_mutex_unlock(&cpu.lock);
			return -ENOMEM;
		}
		unsigned g = atomic_load(&cpu.gen);
		cpu.gtab[(g + 1) & 1] = fresh;
		atomic_store(&cpu.gen, g + 1);
		end_mono = cprof__now_ns();
		end_wall = cprof__wall_ns();
		/* Handlers that entered the old generation finish within microseconds. */
		int i;
		for (i = 0; i < 4000 && atomic_load(&cpu.gflight[g & 1]) > 0; i++) {
			struct timespec ts = {0, 250000};
			nanosleep(&ts, NULL);
		}
		cpu.tab = fresh;
		if (i == 4000) {
			/* A handler never left (cannot happen short of a stopped thread): leave the old table be. */
			cpu.period_mono = end_mono;
			cpu.period_wall = end_wall;
			pthread_mutex_unlock(&cpu.lock);
			return -EBUSY;
		}
	}
	*out = period_profile(old, end_mono);
	if (last) {
		cprof__stacktab_free(old);
	} else {
		cprof__stacktab_clear(old);
		cpu.spare = old;
	}
	cpu.period_mono = end_mono;
	cpu.period_wall = end_wall;
	pthread_mutex_unlock(&cpu.lock);
	return *out ? 0 : -ENOMEM;
}
