/*
 * rt.h - what the runtime's files share. Everything here lives inside the
 * profiled program, so each declaration says from which contexts it may be
 * called: "any" (including signal handlers), "thread" (ordinary code, not a
 * signal handler), or "init" (the load-time constructor).
 */
#ifndef CPROF_RUNTIME_RT_H
#define CPROF_RUNTIME_RT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CPROF_API __attribute__((visibility("default")))
#define CPROF_TLS __thread __attribute__((tls_model("initial-exec")))

#define CPROF_MAX_DEPTH_LIMIT 256
#define CPROF_DEFAULT_DEPTH 128
#define CPROF_DEFAULT_HZ 100
#define CPROF_MAX_HZ 10000
#define CPROF_DEFAULT_WALL_HZ 100
#define CPROF_MAX_WALL_HZ 1000

/* ---- log.c: messages on stderr without stdio ---- */

/* Print "cprof: <msg>\n" on stderr unless CPROF_QUIET. Thread; uses vsnprintf. */
void cprof__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool cprof__quiet;

/* ---- sig.c: the one owner of the profiling signal ---- */

/* The profiling signal (SIGPROF). */
#define CPROF_SIGNAL SIGPROF

/*
 * Install the runtime's SIGPROF handler, remembering the program's handler
 * to chain to (handler NULL: install, keep the current sampler). Samples
 * from our timers go to handler; stack requests to capture.c; every other SIGPROF
 * goes to the program's handler (or its default action). Thread.
 */
int cprof__sig_install(void (*handler)(siginfo_t *si, void *uc));
/* The real sigaction, bypassing our interposer. Thread. */
int cprof__sig_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* True while the program's own handler for SIGPROF was replaced over ours outside our interposer. Thread. */
bool cprof__sig_handler_lost(void);
/*
 * sigev_value of our timers points into this array, one byte per timer
 * slot: it marks a signal as ours and says which timer sent it.
 */
extern char cprof__sig_cookies[];

/* ---- unwind_*.c: stack walkers, all signal-safe ---- */

enum cprof_unwinder { CPROF_UNWIND_DWARF, CPROF_UNWIND_FP };

/*
 * Walk the stack of the interrupted context uc into pcs (leaf first, as
 * return addresses for callers). Returns the number of frames. Any (signal
 * handler of the interrupted thread).
 */
int cprof__unwind_dwarf(void *uc, uintptr_t *pcs, int max);
int cprof__unwind_fp(void *uc, uintptr_t *pcs, int max, uintptr_t stack_lo, uintptr_t stack_hi);
/*
 * Walk the calling thread's own stack into pcs (return addresses, the
 * caller of cprof__unwind_self first after skipping `skip` more frames),
 * with the configured unwinder. Returns the number of frames. Thread (and
 * interposed functions such as malloc: it does not allocate or lock, apart
 * from what libgcc's unwinder does on its first use, see warmup).
 */
int cprof__unwind_self(uintptr_t *pcs, int max, int skip);
/*
 * The same, with at[i] the stack address pcs[i] was read from (0 when the
 * frame is not a plain call's, a signal frame's): a caller can tell later
 * that the same frames are still there. Thread.
 */
int cprof__unwind_self_at(uintptr_t *pcs, uintptr_t *at, int max, int skip);
/* Resolve lazily bound symbols the DWARF unwinder needs, outside signal context. Thread. */
void cprof__unwind_warmup(void);

/* ---- stacktab.c: lock-free table of sampled stacks ---- */

struct stacktab;
/* Counters per entry: the CPU profile's weight; the wait profiles' contentions and delay. */
#define STACKTAB_VALUES 2

/* Map a table with room for nentries stacks and nframes frames in all. Thread. */
struct stacktab *cprof__stacktab_new(size_t nentries, size_t nframes);
void cprof__stacktab_free(struct stacktab *t);
/*
 * Add weight to the stack pcs[0..n). Never blocks, never allocates.
 * Returns 0, or -ENOSPC when the table is full (the caller counts a loss). Any.
 */
int cprof__stacktab_add(struct stacktab *t, const uintptr_t *pcs, int n, uint64_t weight);
/* Same, keyed by (stack, tag): tag is opaque (a label set, NULL for none). Any. */
int cprof__stacktab_add_tagged(struct stacktab *t, const uintptr_t *pcs, int n, const void *tag,
			       uint64_t weight);
/*
 * Add v[0..nv) (nv from 1 to STACKTAB_VALUES) to the key (pcs[0..n), tag,
 * tag2); both tags opaque (the wait profiles: labels and reason). 0,
 * -ENOSPC when full, -EINVAL for a bad nv. Never blocks, never allocates. Any.
 */
int cprof__stacktab_add_key(struct stacktab *t, const uintptr_t *pcs, int n, const void *tag, const void *tag2,
			    const uint64_t *v, int nv);
/*
 * Visit every entry with its index (kept for the table's life: the key of
 * the continuous collector's per-entry baselines) and all its values.
 * Writers may run (their new entries may be missed). Thread.
 */
void cprof__stacktab_foreach_key(struct stacktab *t,
				 void (*fn)(size_t id, const uintptr_t *pcs, int n, const void *tag,
					    const void *tag2, const uint64_t *v, void *arg),
				 void *arg);
/* Visit every recorded stack (the first value). Only when no writer runs. Thread. */
void cprof__stacktab_foreach(struct stacktab *t,
			     void (*fn)(const uintptr_t *pcs, int n, uint64_t weight, void *arg),
			     void *arg);
void cprof__stacktab_foreach_tagged(struct stacktab *t,
				    void (*fn)(const uintptr_t *pcs, int n, const void *tag, uint64_t weight,
					       void *arg),
				    void *arg);
/* Empty the table for reuse, touching only the pages in use. Only when no writer runs. Thread. */
void cprof__stacktab_clear(struct stacktab *t);
/* Rewrite frames in [lo, hi) with f(pc, arg). Thread; racing writers are tolerated. */
void cprof__stacktab_rewrite(struct stacktab *t, uintptr_t lo, uintptr_t hi,
			     uintptr_t (*f)(uintptr_t pc, void *arg), void *arg);

/* ---- threads.c: every thread gets a timer ---- */

/* Per-thread state, kept in TLS. */
struct rt_thread {
	uintptr_t stack_lo, stack_hi; /* 0 when unknown */
	int busy;                     /* in a sample: guards reentry */
	void *start_fn;               /* the thread's start routine, when created through ours */
	/*
	 * The blocking call this thread is in ("pthread_mutex_lock", "read", ...)
	 * or NULL: set by the wait profilers' wrappers before they block and
	 * cleared after, read by the wall-clock profiler. Any.
	 */
	const char *volatile blocked_in;
	/*
	 * The frame address (rbp) of the wrapper that set blocked_in, 0 outside
	 * one: a thread blocked in a system call is walked from the sp and pc
	 * the kernel reports, and a frame whose CFA is rbp-based (the wrapper's,
	 * a caller's built with frame pointers) needs rbp to go on. Any.
	 */
	volatile uintptr_t blocked_fp;
	/* The thread's labels (labels.c), NULL when none. */
	const struct rt_labels *volatile labels;
};

#define CPROF_MAX_THREADS 8192

/* A frame address that stands for "the end of a thread, after its last signal". */
#define CPROF_PC_THREAD_TAIL ((uintptr_t)1)
extern CPROF_TLS struct rt_thread cprof__self;

/* Arm a timer on every existing thread and on every thread created later. Thread. */
int cprof__threads_start(int hz);
/*
 * A timer (not armed) on thread tid's CPU clock that sends CPROF_SIGNAL to
 * that thread only, carrying cookie: 0 or -errno. Thread.
 */
int cprof__thread_timer(pid_t tid, void *cookie, timer_t *out);
/* Disarm and delete every timer; no new thread gets one. Thread. */
void cprof__threads_stop(void);
/* Account a delivered signal's periods to the timer that sent it. Any (signal handler). */
void cprof__threads_on_sample(void *cookie, uint64_t weight);
/* Number of threads that got / failed to get a timer since start. Any. */
uint64_t cprof__threads_armed(void);
uint64_t cprof__threads_failed(void);
/* Fill the calling thread's stack bounds in cprof__self. Thread. */
void cprof__threads_self_bounds(void);
/* After fork in the child: forget the parent's timers. Thread (atfork child). */
void cprof__threads_after_fork(void);

/* ---- labels.c: key/value labels of the calling thread ---- */

struct rt_labels; /* immutable and interned: the pointer identifies the set */
struct pp_label;
struct profile;
/* The calling thread's labels, NULL when none. Any (a TLS load). */
const struct rt_labels *cprof__labels_current(void);
/*
 * Intern ls's pairs into p and write them to out (room for max), returning
 * how many. Thread (allocates through p).
 */
size_t cprof__labels_to_pp(struct profile *p, const struct rt_labels *ls, struct pp_label *out, size_t max);
/* Number of pairs in ls (0 for NULL). Any. */
size_t cprof__labels_count(const struct rt_labels *ls);
/* Start the calling thread with ls, which pops never go below. Thread (new thread). */
void cprof__labels_inherit(const struct rt_labels *ls);
/* Pushes refused because the label sets were full. Any. */
uint64_t cprof__labels_failed(void);

/* ---- capture.c: any thread's stack now; the registry of threads ---- */

#define CPROF_CREATE_DEPTH 32  /* frames kept of a thread's creation stack */
#define CPROF_CAPTURE_SLOTS 64 /* stack requests in flight */
extern char cprof__sig_capture_cookies[CPROF_CAPTURE_SLOTS];

/*
 * Register the calling thread (its cprof__self, and the stack that created
 * it, return addresses) until it ends. Thread (the new thread itself).
 */
void cprof__capture_register(const uintptr_t *create, int n);
/*
 * Visit every registered thread under the registry's lock (fn must not
 * create or end threads). self stays valid during the call. Thread.
 */
void cprof__capture_foreach(void (*fn)(pid_t tid, const struct rt_thread *self, const uintptr_t *create,
				       int ncreate, void *arg),
			    void *arg);
/* Threads left out of a full registry. Any. */
uint64_t cprof__capture_registry_full(void);

/* What a thread is doing, from /proc/self/task/TID/syscall. */
struct rt_thread_state {
	bool running; /* on a CPU or runnable: no sp/pc */
	long nr;      /* the system call it is blocked in; -1 when blocked outside one */
	uintptr_t sp, pc;
};
/*
 * Call fn with the id of every thread of the process (/proc/self/task),
 * allocating nothing: the number of threads, or -errno when the list cannot
 * be read. Thread.
 */
int cprof__capture_tasks(void (*fn)(pid_t tid, void *arg), void *arg);
/* 0 or -errno (-ENOENT: the thread is gone). Thread. */
int cprof__capture_state(pid_t tid, struct rt_thread_state *st);
/* A blocking system call's name ("nanosleep", "futex"...), NULL when not known. Any. */
const char *cprof__capture_syscall_name(long nr);
/* The thread's name (/proc/self/task/TID/comm). 0 or -errno. Thread. */
int cprof__capture_name(pid_t tid, char *name, size_t len);
/* Whether the thread blocks SIGPROF now. Thread. */
bool cprof__capture_blocks_sigprof(pid_t tid);
/*
 * The kernel's scheduler accounting of a thread: ns on a CPU, ns runnable
 * but waiting for one, and how many times it got a CPU
 * (/proc/self/task/TID/schedstat). 0 or -errno. Thread.
 */
int cprof__capture_schedstat(pid_t tid, int64_t *on_cpu, int64_t *waiting, int64_t *slices);
/* The thread's CPU time in ns, -1 when gone. Any. */
int64_t cprof__capture_cpu_ns(pid_t tid);
/*
 * Stack of a thread blocked in a system call, walked from the sp and pc the
 * kernel reports (no signal sent): pcs[0] is that pc, the rest return
 * addresses. fp: the thread's blocked_fp (0 when unknown), taken as rbp
 * when it lies on the stack above sp. At least 1 frame (the pc). Thread;
 * serialized internally.
 */
int cprof__capture_blocked(pid_t tid, uintptr_t sp, uintptr_t pc, uintptr_t fp, uintptr_t *pcs, int max);
/*
 * Ask a running thread for its stack: returns a ticket >= 0, or -errno
 * (-EAGAIN: all request slots busy; -ESRCH: gone). Every ticket must be
 * passed to cprof__capture_wait, _poll or _cancel. The signal goes out
 * only once the thread has used more CPU, so it never cuts a sleep short:
 * a thread that sleeps instead never answers. Thread.
 */
int cprof__capture_ask(pid_t tid);
/*
 * Wait for the answer until deadline_ns (cprof__now_ns clock): the number
 * of frames written to pcs (pcs[0] the interrupted pc), or -ETIMEDOUT.
 * Thread.
 */
int cprof__capture_wait(int ticket, int64_t deadline_ns, uintptr_t *pcs, int max);
/*
 * Without waiting: frames (and the thread's labels as it answered), or
 * -EINPROGRESS while unanswered (the ticket stays valid). Thread.
 */
int cprof__capture_poll(int ticket, uintptr_t *pcs, int max, const struct rt_labels **labels);
/* Give a ticket up without its answer. Thread. */
void cprof__capture_cancel(int ticket);
/* The stack-request path, called by sig.c. Any (signal handler). */
void cprof__capture_on_signal(siginfo_t *si, void *uc);

/* ---- prof_threads.c: threads and threadcreate profiles ---- */

struct buf;
/* Builders for lookup.c: NULL with errno ENOMEM on failure. Thread. */
struct profile *cprof__threads_build(void);
struct profile *cprof__threadcreate_build(void);
/*
 * The threads profile as text: debug 1 counts by stack (Go's format, with
 * the memory map pprof's parser reads), 2 a dump per thread; threadcreate
 * in the count format. Thread.
 */
int cprof__threads_text(struct buf *out, int debug);
int cprof__threadcreate_text(struct buf *out, int debug);
/* Render a built threads profile as a per-thread dump. Thread. */
int cprof__threads_dump(const struct profile *p, struct buf *b);
/* Threads alive now, and those of them created through pthread_create (lookup.c's count). Thread. */
long cprof__threads_count(void);
long cprof__threadcreate_count(void);
/* CPROF_THREADSPROFILE: write the threads profile at exit (a fork child: FILE.<pid>). Init. */
void cprof__threads_profile_from_env(void);
/* Write it now: a fatal signal (the writer thread), or FILE.preexec.<pid> before exec. Thread. */
void cprof__threads_at_fatal(void);
void cprof__threads_before_exec(void);

/* ---- prof_wall.c: the wall-clock profiler ---- */

/* CPROF_WALLPROFILE: start at load, write at exit. Init. */
void cprof__wall_start_from_env(void);
/*
 * A capture for the endpoint (lookup.c's timed kind): start at hz (0: the
 * default); -EBUSY while any wall profile runs. stop returns the profile,
 * NULL with errno ESRCH (no capture of ours runs) or ENOMEM. Thread.
 */
int cprof__wall_capture_start(int hz);
struct profile *cprof__wall_capture_stop(void);
/* A fatal signal ends the process: write a wall profile started with a file or descriptor. Thread (the writer thread). */
void cprof__wall_at_fatal(void);
/* Around exec: write FILE.preexec.<pid> (FILE is the new image's), and resume to FILE if exec failed. Thread. */
void cprof__wall_before_exec(void);
void cprof__wall_after_failed_exec(void);

/* ---- prof_cpu.c ---- */

/* The sample path, called by sig.c for our timer's signals. Any (signal handler). */
void cprof__cpu_on_signal(siginfo_t *si, void *uc);
/* Whether a CPU profile runs. Any. */
bool cprof__cpu_active(void);
/*
 * Record periods a thread used after its last delivered signal, as the
 * thread ends: attributed to its start routine under a frame that says the
 * exact place is unknown. Thread (the ending thread).
 */
void cprof__cpu_thread_tail(uint64_t weight, void *start_fn);
/* The running profile's table, NULL when none. Thread. */
struct stacktab *cprof__cpu_table(void);
/* Start/stop from the environment, at load and exit. Init / thread. */
void cprof__cpu_start_from_env(void);
void cprof__cpu_stop_at_exit(void);
/*
 * A CPU profile written to fd at hz (0: the rate set for the next start),
 * leaving that rate as it was; and its stop, which stops only the profile
 * writing to fd (-ESRCH when another runs or none). For captures such as
 * the HTTP endpoint's. Thread.
 */
int cprof__cpu_start_fd_hz(int fd, int hz);
int cprof__cpu_stop_fd(int fd);
/*
 * The continuous collector's CPU profile: started with no output (-EBUSY
 * when another CPU profile runs), and taken period by period: rotate swaps
 * the table for a fresh one while sampling goes on and returns the profile
 * of the period since the last rotation (since start for the first); with
 * last, it stops sampling instead. -ESRCH when the collector's profile does
 * not run. Thread.
 */
int cprof__cpu_collector_start(int hz);
int cprof__cpu_rotate(struct profile **out, bool last);
bool cprof__cpu_collector_running(void);
/* Around exec: write what we have, and resume if exec failed. Thread. */
void cprof__cpu_before_exec(void);
void cprof__cpu_after_failed_exec(void);
/*
 * Make SIGINT, SIGTERM and SIGHUP (when the program left them at their
 * default) write the profiles before the process dies, through a writer
 * thread: the threads profile, the CPU profile, the heap profiles, the
 * block and mutex profiles, and the wall-clock profile. Thread.
 */
void cprof__fatal_install(void);

/* ---- prof_heap.c, heap_write.c: the heap profiler (malloc.c interposes) ---- */

/* Start from CPROF_MEMPROFILE, CPROF_MEM_RATE, CPROF_MEMLEAKS, CPROF_PEAKPROFILE. Init. */
void cprof__heap_start_from_env(void);
/* Write what the environment asked for, once: at exit and on fatal signals. Thread. */
void cprof__heap_stop_at_exit(void);
/* Before exec: write this image's heap profile to FILE.preexec.<pid>. Thread. */
void cprof__heap_before_exec(void);
/*
 * Between these, the calling thread's allocations are not recorded by the
 * heap profiler: the runtime's own work (writing profiles, serving them).
 * They nest. Thread.
 */
void cprof__heap_ignore_begin(void);
void cprof__heap_ignore_end(void);
/* Whether heap profiling ever started in this process. Any. */
bool cprof__heap_active(void);
/*
 * The heap, allocs and peak profiles as of now (the profiles-by-name
 * builders): NULL with errno ENODATA when heap profiling never ran, ENOMEM.
 * Thread; allocates (not recorded).
 */
struct profile *cprof__heap_build_heap(void);
struct profile *cprof__heap_build_allocs(void);
struct profile *cprof__heap_build_peak(void);

/*
 * The heap profiler's own per-site counters, for the continuous collector:
 * fn gets every site's cumulative counts since heap profiling started (id:
 * the site's index, stable for the process's life; n 0 for the site that
 * holds samples the table could not take; kind NULL for plain malloc).
 * Objects are whole objects, rounded as the heap and allocs profiles round
 * them. 0, or -ENODATA when heap profiling never ran. Thread; calls fn with
 * the thread's allocations unrecorded.
 */
struct rt_heap_counts {
	int64_t alloc_objects, alloc_bytes, inuse_objects, inuse_bytes;
	int64_t sampled, sampled_bytes; /* the sampled blocks themselves, unweighted */
};
int cprof__heap_counters(void (*fn)(size_t id, const uintptr_t *pcs, int n, const void *labels, const char *kind,
				    const struct rt_heap_counts *c, void *arg),
			 void *arg);
/* The heap profiler's sampling rate in bytes (0 before it started). Any. */
int64_t cprof__heap_rate(void);

/*
 * The path a profile asked for by the environment is written to by this
 * process: base in the process that started profiling (CPROF_OWNER_PID),
 * base.<pid> in any other that inherited the environment. Init / thread.
 */
void cprof__env_path(const char *base, char *out, size_t outlen);

/* ---- prof_block.c, wait_sync.c, wait_syscall.c: where threads wait ---- */

/* Bits of cprof__wait_flags: what the interposed wait functions do. */
#define CPROF_WAIT_BLOCK 1u    /* block profile on (rate > 0) */
#define CPROF_WAIT_MUTEX 2u    /* mutex profile on (fraction > 0) */
#define CPROF_WAIT_SYSCALLS 4u /* blocking system calls go to the block profile too */
#define CPROF_WAIT_STATES 8u   /* keep cprof__self.blocked_in up to date */
#define CPROF_WAIT_TRACE 16u   /* an execution trace runs: blocking episodes become its events */
/* 0 when every wrapper goes straight to the real function. Any. */
extern _Atomic unsigned cprof__wait_flags;
/* Locks with waiting time not yet charged: an unlock looks further only when non-zero. Any. */
extern _Atomic unsigned cprof__mutex_live;
/*
 * Non-zero while the thread runs the wait profilers' own code (recording,
 * the side table's spin locks, writing a profile): wrappers entered then go
 * straight to the real function. Any.
 */
extern CPROF_TLS int cprof__wait_guard;
/*
 * Ask the wrappers to set cprof__self.blocked_in around every blocking call
 * even when no wait profile is on (the wall-clock profiler's thread states);
 * calls nest (on, on, off leaves it on). Thread.
 */
void cprof__wait_states(bool on);
/* The execution trace starts or stops recording blocking episodes (CPROF_WAIT_TRACE). Thread. */
void cprof__wait_trace(bool on);
/*
 * The caller's stack from ra (an interposed call's return address) into
 * pcs, at most max frames: what the block profile records. Thread (with
 * cprof__wait_guard held).
 */
int cprof__wait_capture(uintptr_t *pcs, int max, const void *ra);
/*
 * A wait of d ns that returned to ra (the interposed call's return address):
 * sampled by the block rate and recorded under the caller's stack with the
 * label reason=<reason> (a string literal). Thread (wrappers).
 */
void cprof__block_event(const char *reason, int64_t d, const void *ra);
/*
 * A thread starts waiting for lock at now: returns its slot in the side
 * table (-1 when the table is full). wait_end: it stopped waiting.
 * release: lock is about to be unlocked; take the waiting it caused since
 * the last accounting, in ns (before the real unlock, so that a waiter it
 * wakes cannot unlock and take it first). charge: record that delay at the
 * stack returning to ra, sampled by the mutex fraction. Thread (wrappers).
 */
int cprof__mutex_wait_begin(const void *lock, int64_t now);
/*
 * The last unlock before now of the slot's lock, while a trace runs: its
 * thread and time (cprof__now_ns) go to *peer, *rel_ns (when non-NULL; 0
 * for unknown).
 */
void cprof__mutex_wait_end(int slot, int64_t now, pid_t *peer, int64_t *rel_ns);
int64_t cprof__mutex_release(const void *lock);
void cprof__mutex_charge(int64_t d, const void *ra);
/*
 * The block and mutex profiles as of now (empty, with a comment saying so,
 * when never turned on, as Go's are); NULL with errno ENOMEM. Thread.
 */
struct profile *cprof__block_profile(void);
struct profile *cprof__mutex_profile(void);
/*
 * The block (mutex false) or mutex profile's own per-entry counters, for
 * the continuous collector's deltas: fn gets each entry's cumulative
 * contentions (rounded as the profile rounds them) and delay in ns, id
 * stable for the process's life; lost[0..1] the contentions and delay the
 * full table refused. -ENODATA when that profiler never ran. Thread.
 */
int cprof__wait_counters(bool mutex,
			 void (*fn)(size_t id, const uintptr_t *pcs, int n, const void *labels, const char *reason,
				    int64_t contentions, int64_t delay, void *arg),
			 void *arg, int64_t lost[2]);
/* Start from CPROF_BLOCK* / CPROF_MUTEX*; write what we have before exec. Init / thread. */
void cprof__wait_start_from_env(void);
void cprof__wait_before_exec(void);
/* A fatal signal ends the process: write the block and mutex profiles now. Thread (the writer thread). */
void cprof__wait_at_fatal(void);

/* ---- symbolize.c: turn the table into a pprof profile ---- */

struct profile;
struct cpu_meta {
	int64_t period_ns;
	int64_t time_nanos;
	int64_t duration_nanos;
	uint64_t lost;
	const char *const *comments;
	size_t ncomments;
};
/*
 * A symbolization session over the live process, for any profile's stacks:
 * begin reads the process's mappings and modules; stack turns addresses into
 * location ids of p (named with function, file, line and inlined frames);
 * end adds p's Mappings and frees the session. Between begin and end, dlclose
 * of a profiled library waits. Thread; allocates freely.
 */
struct rt_sym;
struct rt_sym *cprof__sym_begin(struct profile *p);
/*
 * Location ids of pcs[0..n) into ids (room for n), returning how many.
 * leaf_is_pc: pcs[0] is an interrupted instruction (a signal's PC); every
 * other entry is a return address and is named by its call instruction.
 */
int cprof__sym_stack(struct rt_sym *s, const uintptr_t *pcs, int n, bool leaf_is_pc, uint64_t *ids);
/* A location for a pseudo-function such as "[cprof: lost samples]"; 0 on error. */
uint64_t cprof__sym_special(struct rt_sym *s, const char *name);
/* Finish: 0, or -ENOMEM when p is incomplete (the caller discards it). */
int cprof__sym_end(struct rt_sym *s);
/*
 * Sessions the calling thread begins from now on (on) keep libdwfl's
 * state, the mappings and every address's names for the next session,
 * read again only after a dlopen or dlclose: each address is named once
 * per process. release frees what is kept; stats says how much is kept
 * (bytes, addresses) and how often it was read afresh. Thread.
 */
void cprof__sym_keep(bool on);
void cprof__sym_keep_release(void);
void cprof__sym_keep_stats(uint64_t *bytes, uint64_t *pcs, uint64_t *reloads);
/*
 * fork: prepare waits until no session runs and holds sessions off; parent
 * and child let them run again (the child with a fresh lock). Calls nest: a
 * module whose lock a session may take inside its own calls prepare before
 * taking that lock in its prepare hook, and parent or child after releasing
 * it. From pthread_atfork hooks only (the forking thread).
 */
void cprof__sym_fork_prepare(void);
void cprof__sym_fork_parent(void);
void cprof__sym_fork_child(void);

/*
 * Build the CPU profile from t: mappings from /proc/self/maps, locations
 * symbolized with libdw (functions, files, lines, inlined frames). Thread;
 * allocates freely. NULL on out of memory.
 */
struct profile *cprof__symbolize_cpu(struct stacktab *t, const struct cpu_meta *m);

/* ---- arena.c: the runtime's private allocation arena ---- */

/*
 * Between these, the calling thread's malloc family (its own calls and
 * those of the libraries it calls: zlib, libdw, stdio) is served from a
 * private mapping instead of the program's allocator, so that writing a
 * profile neither grows the program's heap nor makes its allocator do work
 * (glibc consolidating a heap full of freed chunks took 45 ms at exit).
 * Every profile writer brackets building, symbolizing and encoding with
 * them (writeout.c, symbolize.c, heap_write.c, prof_block.c, prof_wall.c,
 * prof_threads.c, lookup.c, http.c, capture.c, trace_stack.c). Blocks from the arena
 * may be freed anywhere later, by any thread. They nest; allocations inside
 * are not recorded by the heap profiler. Thread.
 */
void cprof__arena_begin(void);
void cprof__arena_end(void);
/* Bytes the arena has carved out of its mapping so far. Thread. */
uint64_t cprof__arena_bytes(void);
/*
 * The arena's blocks by explicit call, without entering it: for tables a
 * runtime thread keeps between writes (the wall sampler's, the trace
 * writer's buffers), so the program's allocations on other threads keep
 * their fast path meanwhile. When the arena is full or could not be mapped
 * the block comes from the program's allocator instead; dispose frees
 * either kind, resize keeps the contents as realloc does. Blocks made
 * between cprof__arena_begin and _end may be given to them too. Thread
 * (not a signal handler, not a malloc wrapper).
 */
void *cprof__arena_malloc(size_t n);
void *cprof__arena_calloc(size_t n, size_t size);
void *cprof__arena_resize(void *p, size_t n);
char *cprof__arena_strdup(const char *s);
void cprof__arena_dispose(void *p);

/* ---- writeout.c ---- */

/* Write all n bytes to fd, retrying on EINTR and short writes: 0 or -errno. Thread. */
int cprof__write_all(int fd, const void *buf, size_t n);
/* Encode p gzipped and write it to fd. Thread. */
int cprof__write_fd(const struct profile *p, int fd);
/* Same, to path through a temporary file and rename(2); in place when path is special. Thread. */
int cprof__write_path(const struct profile *p, const char *path);
/*
 * Whether path exists and is not a regular file (/dev/null, a FIFO, a
 * terminal): written in place, never renamed over or away. Thread.
 */
bool cprof__path_special(const char *path);
/* Open such a path for writing without waiting for a FIFO's reader: fd, or -errno. Thread. */
int cprof__open_special(const char *path);
/*
 * Append one line describing a written profile to the file named by
 * CPROF_REPORT (how "cprof run" learns what was written). Thread.
 */
void cprof__report(const char *kind, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- lookup.c: profiles by name ---- */

struct buf;
/*
 * One line of the table of profiles by name (Go's pprof.Lookup). Snapshot
 * kinds have build; timed kinds (a capture over a duration, like the wall
 * profile) have start and stop instead. Each profiler's file fills its own
 * line(s) in lookup.c's table.
 */
struct rt_profile_kind {
	const char *name;
	const char *desc; /* one sentence for the endpoint's index page */
	/* The profile as of now; NULL with errno ENODATA (profiler off) or ENOMEM. Thread. */
	struct profile *(*build)(void);
	/*
	 * Optional: own text rendering for debug >= 1 (thread dumps); appends to
	 * out and returns 0, or -errno. When NULL, lookup.c renders Go's legacy
	 * text from the built profile. Thread.
	 */
	int (*text)(struct buf *out, int debug);
	/* Timed kinds: start a capture at hz (0: default), -EBUSY when one runs; stop returns it. Thread. */
	int (*start)(int hz);
	struct profile *(*stop)(void);
	/* Optional: entries in the profile now, cheaply (the index page's Count); -1 unknown. Thread. */
	long (*count)(void);
};
/* The kind called name, or NULL. Any. */
const struct rt_profile_kind *cprof__lookup(const char *name);
/* The table, for listing (n entries). Any. */
const struct rt_profile_kind *cprof__lookup_all(size_t *n);
/*
 * Render p in Go's legacy text format for the kind name (debug >= 1):
 * heap/allocs/peak as a heap profile, block/mutex as contention, any other
 * as a count profile. 0 or -errno (b->err). Thread.
 */
int cprof__lookup_text(const char *name, struct profile *p, struct buf *b);
/* The named snapshot profile into out: proto (debug 0, gzipped) or text. 0 or -errno. Thread. */
int cprof__lookup_render(const char *name, int debug, struct buf *out);
/*
 * What the endpoint serves: as cprof__lookup_render, but a profiler that is
 * off gives the empty profile of cprof__lookup_empty (Go's handler serves
 * block and mutex at rate 0 as empty profiles) instead of -ENODATA. Thread.
 */
int cprof__lookup_serve(const char *name, int debug, struct buf *out);
/*
 * The empty profile of a kind whose profiler is off (heap, allocs, peak):
 * its sample types and period type, no samples, a comment saying why. NULL
 * with errno ENOENT (no such kind off) or ENOMEM. Thread.
 */
struct profile *cprof__lookup_empty(const char *name);
/*
 * The difference p1 - p0 of two profiles of one kind taken at two moments
 * (samples matched by stack addresses and labels; all-zero samples dropped),
 * built into p1 in place. 0 or -ENOMEM. Thread.
 */
int cprof__profile_delta(struct profile *p1, const struct profile *p0);

/* ---- continuous.c: the continuous collector ---- */

/* Start it if CPROF_CONTINUOUS says so. Init. */
void cprof__continuous_start_from_env(void);
/*
 * Around exec: the collector's last period is delivered and its status file
 * moved to STATUS.preexec.<pid> (the new image starts its own); if exec
 * fails, the collector starts again. Thread.
 */
void cprof__continuous_before_exec(void);
void cprof__continuous_after_failed_exec(void);

/* ---- trace.c: the execution tracer ---- */

/* CPROF_TRACE: start at load, stop at exit. Init. */
void cprof__trace_start_from_env(void);
/* A thread created through our pthread_create begins (parent: its creator's tid). Thread (the new thread). */
void cprof__trace_thread_start(pid_t parent);
/* The calling thread's tid, cached. Thread. */
pid_t cprof__trace_tid(void);
/*
 * Around exec: a trace started from CPROF_TRACE is finished and renamed
 * FILE.preexec.<pid> (the new image traces to FILE); resumed to FILE if
 * exec fails. Thread.
 */
void cprof__trace_before_exec(void);
/* Register the calling thread with the tracer, trace or no trace (a new thread, the main thread at load). Thread. */
void cprof__trace_thread_register(void);
/*
 * A blocking episode ended: the calling thread waited from t0 to t1
 * (cprof__now_ns) for reason (enum cprof_trace_block_reason) in call (a
 * string literal); peer released it at wake_ns (0, -1: unknown); ra is the
 * interposed call's return address (the stack is taken from there).
 * Recorded while a trace runs. Thread (the wait wrappers; any guard state).
 */
void cprof__trace_block(int reason, const char *call, int64_t t0, int64_t t1, pid_t peer, int64_t wake_ns,
			const void *ra, uint64_t stack);
/*
 * The stack of a wait about to begin at ra, taken before it (for a mutex,
 * so that the walk is not done inside the critical section the wait ends
 * in): pass it as cprof__trace_block's stack (0: none, the walk is done
 * there). base is where ra was pushed (0: not known): the walk is cached
 * by both. Thread (the wait wrappers).
 */
uint64_t cprof__trace_block_stack(const void *ra, uintptr_t base);
/* The calling thread releases obj now (signals a condition, posts a semaphore, ends). Thread. */
void cprof__trace_wake(const void *obj);
/* Who last released obj, if at or after since (cprof__now_ns): true with *tid and *ns. Thread. */
bool cprof__trace_waker(const void *obj, int64_t since, pid_t *tid, int64_t *ns);
/* A mutex's unlock that wakes a waiter, just before the real unlock: its tid and time (plain stores). Thread. */
void cprof__trace_unlocking(const void *m);
/*
 * Waiters in a contended lock by slot (cprof__trace_mslot(m), 4096 slots,
 * mutexes may share one): a waiter adds itself while a trace runs, so that
 * an unlock reads its mutex's lock word (a second fetch of a contended
 * cache line) only when someone may sleep on it. Thread.
 */
extern _Atomic int cprof__trace_msleepers[];
static inline int cprof__trace_mslot(const void *m)
{
	uint64_t h = (uint64_t)(uintptr_t)m * 0x9e3779b97f4a7c15ull;
	return (int)((h >> 40) & 4095);
}
/*
 * Who released mutex m for a waiter that waited from since to until
 * (cprof__now_ns): true with *tid and *ns, the time of the unlock. Thread.
 */
bool cprof__trace_unlocker(const void *m, int64_t since, int64_t until, pid_t *tid, int64_t *ns);
/*
 * A CPU profiler sample of the calling thread (pcs[0] the interrupted pc),
 * standing for weight sampling periods (1 + the timer's overruns, as the
 * CPU profile counts it): an event while a trace runs, or a counted drop
 * (of one sample and its weight) when the thread is in the middle of
 * writing one, or n <= 0 (the profiler could not take or keep the stack).
 * Any (the SIGPROF handler).
 */
void cprof__trace_cpu_sample(const uintptr_t *pcs, int n, uint64_t weight);
/* Stop the trace only if it is the one writing to fd (a capture's); -ESRCH otherwise. Thread. */
int cprof__trace_stop_fd(int fd);
void cprof__trace_after_failed_exec(void);

/* ---- http.c: the /debug/pprof endpoint ---- */

/* Serve if CPROF_HTTP says so. Init. */
void cprof__http_start_from_env(void);

/* ---- init.c ---- */

struct rt_config {
	int hz;
	int max_depth;
	enum cprof_unwinder unwinder;
	bool secure; /* AT_SECURE: environment ignored */
	int wall_hz; /* CPROF_WALL_HZ */
};
extern struct rt_config cprof__config;

/* Monotonic and wall clocks in ns. Any. */
int64_t cprof__now_ns(void);
int64_t cprof__wall_ns(void);

#endif
