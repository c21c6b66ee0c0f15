/*
 * threads.c - a CPU-time timer for every thread, without the program's help.
 *
 * Each thread gets its own POSIX timer on its own CPU clock, delivering
 * SIGPROF to that thread only (SIGEV_THREAD_ID). Unlike one process-wide
 * setitimer, whose signal the kernel hands to whichever thread it likes,
 * this samples every thread in proportion to the CPU it uses.
 *
 * Threads that exist when profiling starts are found in /proc/self/task;
 * threads created later are caught by interposing pthread_create, whose
 * trampoline arms the new thread's timer before the start routine runs and
 * whose thread-specific destructor deletes it when the thread ends. The
 * registry of timers is a fixed array: it never grows, and a thread that
 * finds it full goes unsampled and is counted.
 *
 * Signals are delivered elsewhere (sig.c); samples are recorded elsewhere
 * (prof_cpu.c).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/rt.h"

#define MAX_THREADS CPROF_MAX_THREADS

struct slot {
	pid_t tid; /* 0 when free */
	timer_t timer;
	/*
	 * The thread CPU time at which the timer fires next, as the kernel
	 * schedules it: the first expiry, plus one period for every period a
	 * delivered signal accounted for (1 + overruns). Written by the
	 * thread's own signal handler; read by the thread when it ends.
	 */
	int64_t next_expiry;
};

CPROF_TLS struct rt_thread cprof__self;
char cprof__sig_cookies[CPROF_MAX_THREADS];

static struct slot slots[MAX_THREADS];
static int nslots_used; /* high-water mark */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool running;
static atomic_ullong armed_count, failed_count;
static int64_t period_ns;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* The CPU clock of any thread of this process, as the kernel encodes it. */
static clockid_t thread_cpu_clock(pid_t tid)
{
	return (clockid_t)((~(unsigned)tid << 3) | 4 /* per-thread */ | 2 /* sched */);
}

int cprof__thread_timer(pid_t tid, void *cookie, timer_t *out)
{
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = CPROF_SIGNAL;
	sev.sigev_value.sival_ptr = cookie;
	sev._sigev_un._tid = tid;
	return timer_create(thread_cpu_clock(tid), &sev, out) == 0 ? 0 : -errno;
}

static int64_t thread_cpu_ns(pid_t tid)
{
	struct timespec ts;
	if (clock_gettime(thread_cpu_clock(tid), &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * A first expiry drawn uniformly from (0, period]: with a fixed first
 * period, a thread that ends within one period of CPU would never be
 * sampled, and every thread would lose its first period on average.
 */
static int64_t random_phase(pid_t tid)
{
	static _Atomic uint64_t state = 0x9e3779b97f4a7c15ull;
	uint64_t x = atomic_fetch_add(&state, 0x9e3779b97f4a7c15ull) ^ ((uint64_t)tid << 32) ^
		     (uint64_t)cprof__now_ns();
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return 1 + (int64_t)(x % (uint64_t)period_ns);
}

/* Create and arm the timer of thread tid. Called with reg_lock held. */
static int arm_locked(pid_t tid)
{
	int free_i = -1;
	for (int i = 0; i < nslots_used; i++) {
		if (slots[i].tid == tid) {
			/* Armed already (found in /proc and by its trampoline), or a
			 * stale timer from a thread that ended with this tid. */
			timer_delete(slots[i].timer);
			slots[i].tid = 0;
			atomic_fetch_sub(&armed_count, 1);
		}
		if (slots[i].tid == 0 && free_i < 0)
			free_i = i;
	}
	if (free_i < 0) {
		if (nslots_used == MAX_THREADS) {
			atomic_fetch_add(&failed_count, 1);
			return -ENOSPC;
		}
		free_i = nslots_used++;
	}
	timer_t t;
	int rc = cprof__thread_timer(tid, &cprof__sig_cookies[free_i], &t);
	if (rc != 0) {
		int e = -rc;
		if (e != ESRCH && e != EINVAL) /* a thread that just ended is not a failure */
			atomic_fetch_add(&failed_count, 1);
		return -e;
	}
	int64_t phase = random_phase(tid);
	struct itimerspec its = {{period_ns / 1000000000, period_ns % 1000000000},
				 {phase / 1000000000, phase % 1000000000}};
	int64_t now = thread_cpu_ns(tid);
	slots[free_i].next_expiry = now >= 0 ? now + phase : -1;
	if (timer_settime(t, 0, &its, NULL) != 0) {
		int e = errno;
		timer_delete(t);
		atomic_fetch_add(&failed_count, 1);
		return -e;
	}
	slots[free_i].tid = tid;
	slots[free_i].timer = t;
	atomic_fetch_add(&armed_count, 1);
	return 0;
}

void cprof__threads_on_sample(void *cookie, uint64_t weight)
{
	size_t i = (size_t)((char *)cookie - cprof__sig_cookies);
	if (i < MAX_THREADS && slots[i].next_expiry >= 0)
		slots[i].next_expiry += (int64_t)weight * period_ns;
}

/*
 * As the calling thread ends: delete its timer, if it has one, and return
 * the periods that expired since the last signal it handled. The kernel
 * checks CPU timers only at scheduler ticks, so the expirations of a
 * thread's last moments are never delivered.
 *
 * SIGPROF stays blocked for the rest of the thread's life: a signal of the
 * deleted timer may still be queued (the kernel delivers it after the timer
 * is gone), and its periods are already in the count returned here.
 */
static uint64_t disarm_self(void)
{
	pid_t tid = gettid_();
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, CPROF_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	uint64_t pending = 0;
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < nslots_used; i++) {
		if (slots[i].tid != tid)
			continue;
		/* Deleting the timer discards a signal still queued for it, whose
		 * periods the computation below then counts. */
		timer_delete(slots[i].timer);
		slots[i].tid = 0;
		int64_t now = thread_cpu_ns(tid);
		if (slots[i].next_expiry >= 0 && now >= slots[i].next_expiry)
			pending = (uint64_t)((now - slots[i].next_expiry) / period_ns) + 1;
	}
	pthread_mutex_unlock(&reg_lock);
	return pending;
}

static void on_thread_exit(void *v)
{
	(void)v;
	if (!atomic_load(&running))
		return;
	uint64_t pending = disarm_self();
	if (pending > 0)
		cprof__cpu_thread_tail(pending, cprof__self.start_fn);
}

static void make_key(void)
{
	if (pthread_key_create(&exit_key, on_thread_exit) != 0)
		cprof__log("cannot create a thread key: timers of ending threads are kept until profiling stops");
}

void cprof__threads_self_bounds(void)
{
	pthread_attr_t a;
	/* glibc allocates here (a CPU set; the main thread's reads maps): ours, not the program's. */
	cprof__heap_ignore_begin();
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		void *addr;
		size_t size;
		if (pthread_attr_getstack(&a, &addr, &size) == 0) {
			cprof__self.stack_lo = (uintptr_t)addr;
			cprof__self.stack_hi = (uintptr_t)addr + size;
		}
		pthread_attr_destroy(&a);
	}
	cprof__heap_ignore_end();
}

int cprof__threads_start(int hz)
{
	pthread_once(&key_once, make_key);
	period_ns = 1000000000LL / hz;
	atomic_store(&armed_count, 0);
	atomic_store(&failed_count, 0);
	pthread_mutex_lock(&reg_lock);
	atomic_store(&running, true);
	/* Every thread that exists now; threads created from here on arm
	 * themselves in the trampoline (they wait for reg_lock). */
	DIR *d = opendir("/proc/self/task");
	int rc = 0;
	if (!d) {
		rc = -errno;
		arm_locked(gettid_());
	} else {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			arm_locked((pid_t)atoi(de->d_name));
		}
		closedir(d);
	}
	pthread_mutex_unlock(&reg_lock);
	if (rc)
		cprof__log("cannot list threads (/proc/self/task: %s); sampling the calling thread and new threads only",
			   strerror(-rc));
	return 0;
}

void cprof__threads_stop(void)
{
	pthread_mutex_lock(&reg_lock);
	atomic_store(&running, false);
	for (int i = 0; i < nslots_used; i++) {
		if (slots[i].tid) {
			timer_delete(slots[i].timer);
			slots[i].tid = 0;
		}
	}
	nslots_used = 0;
	pthread_mutex_unlock(&reg_lock);
}

uint64_t cprof__threads_armed(void)
{
	return atomic_load(&armed_count);
}

uint64_t cprof__threads_failed(void)
{
	return atomic_load(&failed_count);
}

void cprof__threads_after_fork(void)
{
	/* POSIX timers are not inherited: the child has none, whatever the table says. */
	pthread_mutex_init(&reg_lock, NULL);
	memset(slots, 0, sizeof slots);
	nslots_used = 0;
	atomic_store(&running, false);
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
}

__attribute__((constructor(101))) static void threads_init(void)
{
	pthread_once(&key_once, make_key);
	/* The child side is handled by prof_cpu.c, which reinitializes us. */
	pthread_atfork(atfork_prepare, atfork_parent, NULL);
}

/* ---- pthread_create interposition ---- */

struct start {
	void *(*fn)(void *);
	void *arg;
	const struct rt_labels *labels; /* the creator's, inherited */
	pid_t parent;                   /* the creator's tid, for the trace */
	int ncreate;                    /* the stack that created the thread */
	uintptr_t create[CPROF_CREATE_DEPTH];
};

/*
 * Without a frame pointer of its own: a blocked thread is walked from the
 * kernel's sp and pc with rbp unknown (outside the wait wrappers), and a
 * frame whose CFA is rbp-based would end the walk here, short of
 * start_thread and clone.
 */
static __attribute__((optimize("omit-frame-pointer"))) void *trampoline(void *v)
{
	struct start s;
	memcpy(&s, v, sizeof s);
	free(v);
	cprof__self.start_fn = (void *)s.fn;
	cprof__labels_inherit(s.labels);
	cprof__threads_self_bounds();
	cprof__capture_register(s.create, s.ncreate);
	cprof__trace_thread_start(s.parent);
	pthread_setspecific(exit_key, (void *)1);
	if (atomic_load(&running)) {
		pthread_mutex_lock(&reg_lock);
		if (atomic_load(&running))
			arm_locked(gettid_());
		pthread_mutex_unlock(&reg_lock);
	}
	return s.fn(s.arg);
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

CPROF_API int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	static pthread_create_fn real;
	if (!real) {
		real = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
		if (!real)
			return EAGAIN;
	}
	struct start *s = malloc(sizeof *s);
	if (!s)
		return real(th, attr, fn, arg);
	s->fn = fn;
	s->arg = arg;
	s->labels = cprof__labels_current();
	s->parent = cprof__trace_tid();
	s->ncreate = cprof__unwind_self(s->create, CPROF_CREATE_DEPTH, 0);
	int rc = real(th, attr, trampoline, s);
	if (rc != 0)
		free(s);
	return rc;
}
