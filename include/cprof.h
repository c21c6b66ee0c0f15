/*
 * cprof.h - the cprof runtime API (libcprof).
 *
 * The runtime profiles the process it is loaded into. It works two ways:
 *
 *   - preloaded into an unmodified program (LD_PRELOAD=libcprof.so, which
 *     "cprof run" does for you), configured by environment variables;
 *   - linked in (-lcprof, or pkg-config cprof) and driven by this API, which
 *     mirrors Go's runtime/pprof in C terms.
 *
 * Environment variables, read once when the library loads:
 *
 *   CPROF_CPUPROFILE=path   start a CPU profile at load, written to path when
 *                           the program exits (or on SIGINT/SIGTERM/SIGHUP
 *                           when the program left those at their default)
 *   CPROF_CPU_HZ=N          sampling rate in Hz, 1..10000 (default 100)
 *   CPROF_UNWIND=dwarf|fp   stack unwinder (default dwarf; fp is faster and
 *                           needs code built with frame pointers)
 *   CPROF_MAX_DEPTH=N       deepest stack recorded, 1..256 (default 128)
 *   CPROF_DEBUGINFO=all|none  all: also read DWARF from separate debug files
 *                           (/usr/lib/debug); none: not even their symbol
 *                           tables. Default: DWARF from modules that carry it
 *                           in their own file, function names for the rest
 *   CPROF_WALLPROFILE=path  start a wall-clock profile at load, written to
 *                           path when the program exits
 *   CPROF_WALL_HZ=N         wall-clock samples per second per thread,
 *                           1..1000 (default 100)
 *   CPROF_THREADSPROFILE=path  write the threads profile (every thread's
 *                           stack and state) to path when the program exits
 *   CPROF_QUIET=1           no messages on stderr
 *   CPROF_HTTP=ADDR         serve /debug/pprof/ on ADDR (cprof_http_start)
 *   CPROF_HTTP_TOKEN=T      required for a non-loopback ADDR; requests must
 *                           send "Authorization: Bearer T" or "token=T"
 *   CPROF_HTTP_MAX_SECONDS=N  longest capture a request may ask (default 300)
 *   CPROF_MEMPROFILE=path   sample allocations from load on and write a heap
 *                           profile (gzipped pprof) to path at exit
 *   CPROF_MEM_RATE=N        one sample per N allocated bytes on average
 *                           (default 524288, as Go; 1 records every allocation)
 *   CPROF_PEAKPROFILE=path  also write the in-use heap of the moment the heap
 *                           was largest to path at exit
 *   CPROF_MEMLEAKS=1        at exit, report on stderr what is still allocated,
 *                           grouped by stack
 *   CPROF_BLOCKPROFILE=path write the block profile to path at exit
 *                           (recording from load, at CPROF_BLOCK_RATE)
 *   CPROF_BLOCK_RATE=NS     block profile rate in ns (default 1 when
 *                           CPROF_BLOCKPROFILE is set: every wait; 0 off)
 *   CPROF_BLOCK_SYSCALLS=1  blocking system calls go to the block profile
 *   CPROF_MUTEXPROFILE=path write the mutex profile to path at exit
 *   CPROF_MUTEX_FRACTION=N  record 1 in N lock contentions (default 1 when
 *                           CPROF_MUTEXPROFILE is set; 0 off)
 *
 * Programs running with elevated privileges (setuid/setgid, AT_SECURE) ignore
 * the environment: the runtime says so once on stderr and stays off.
 *
 * All functions return 0 on success or a negative errno value. None of them
 * may be called from a signal handler unless its comment says so.
 */
#ifndef CPROF_H
#define CPROF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CPROF_VERSION_STRING "0.1.0"

/* The runtime's version, "MAJOR.MINOR.PATCH". Any context, including signal handlers. */
const char *cprof_version(void);

/*
 * Set the CPU sampling rate for the next cprof_cpu_profile_start*() call, in
 * samples per second of CPU time per thread (Go's SetCPUProfileRate).
 * 1..10000; default 100. -EINVAL outside that range, -EBUSY while a profile
 * runs. Any thread.
 *
 * The kernel delivers CPU-time timer signals at most once per scheduler tick
 * (CONFIG_HZ, often 250). Above that rate each sample is weighted by the
 * timer overruns the kernel reports, so CPU totals stay correct; the runtime
 * says once on stderr when this happens.
 */
int cprof_cpu_profile_set_rate(int hz);

/*
 * Start profiling every thread of the process, those running now and those
 * created later, each on a timer of its own CPU clock. When stopped, the
 * profile is written as gzipped profile.proto to the file descriptor, which
 * the runtime does not close (Go's StartCPUProfile). -EBUSY if a CPU profile
 * is already running. Any thread; not from a signal handler.
 */
int cprof_cpu_profile_start(int fd);

/*
 * Same, written to a file: to a temporary file beside it, then renamed, so
 * that path never holds half a profile. The path is copied.
 */
int cprof_cpu_profile_start_path(const char *path);

/*
 * Stop the CPU profile and write it (Go's StopCPUProfile). Returns the
 * result of the write; -ESRCH when no profile was running. Any thread; not
 * from a signal handler. Blocks until in-flight samples are recorded and the
 * profile is symbolized and written.
 */
int cprof_cpu_profile_stop(void);

/* Counters of the current (or last) CPU profile. */
struct cprof_cpu_stats {
	uint64_t samples;   /* signals handled and recorded */
	uint64_t weight;    /* samples plus timer overruns: periods of CPU time */
	uint64_t overruns;  /* expirations the kernel merged into one signal */
	uint64_t lost;      /* samples that could not be recorded (table full, ...) */
	uint64_t threads;   /* threads that had a timer during the profile */
	uint64_t thread_fail; /* threads that could not get a timer */
	int hz;             /* requested rate */
	uint64_t handler_p50_ns; /* time in the signal handler per sample: median */
	uint64_t handler_p99_ns; /* and 99th percentile (log buckets: within 25%) */
};

/* Fill *st. Any context, including signal handlers. */
int cprof_cpu_profile_stats(struct cprof_cpu_stats *st);

/*
 * Write the profile called name as it is now (Go's pprof.Lookup(name).WriteTo):
 * "heap", "allocs", "peak", "block", "mutex", "threads", "threadcreate", as
 * far as those profilers are part of this runtime. debug 0: gzipped
 * profile.proto; 1: Go's legacy text format; 2: for "threads", a dump of
 * every thread's stack. -ENOENT for a name this runtime does not know,
 * -ENODATA when that profiler is off, -EINVAL for profiles that are a
 * capture over a duration (cpu, wall: use their own start/stop). The file
 * descriptor is not closed. Any thread; not from a signal handler.
 */
int cprof_profile_write(const char *name, int fd, int debug);

/* Same, to a file: written beside it and renamed, so path never holds half a profile. */
int cprof_profile_write_path(const char *name, const char *path, int debug);

/*
 * Wall-clock profile: every thread sampled hz times per second of wall time,
 * running or waiting, each sample labelled state=running or state=<the call
 * it waits in> (pthread_cond_wait, nanosleep, read, ...) and thread=<name>;
 * sample types samples/count and wall/nanoseconds, whose total is the sum of
 * the threads' lifetimes during the profile. Threads blocked in a system
 * call are never signalled (their stacks are walked from outside), so the
 * profile causes no EINTR in the program's sleeps and polls. Written as
 * gzipped profile.proto when stopped (or at exit when started from
 * CPROF_WALLPROFILE). Same return codes as the CPU profile's calls; rate
 * 1..1000 Hz (default 100). Any thread; not from a signal handler.
 */
int cprof_wall_profile_set_rate(int hz);
int cprof_wall_profile_start(int fd);
int cprof_wall_profile_start_path(const char *path);
int cprof_wall_profile_stop(void);

/*
 * Continuous profiling: every period (period_ms, at least 100; 0 for
 * CPROF_CONTINUOUS_PERIOD or 60 s) a thread of the runtime takes the CPU
 * profile of that period, the heap in use, and the period's allocations,
 * block and mutex waits (as far as those profilers run), and sends them to
 * destination: "dir:PATH" (files, kept by age and total size),
 * "pyroscope:URL" (Grafana Pyroscope's /ingest) or "datadog:URL" (the
 * Datadog agent, such as http://localhost:8126). What CPROF_CONTINUOUS does
 * at load, from the program; labels and limits come from the environment
 * (docs/USAGE.md). The program never waits for the network. Returns 0,
 * -EINVAL (bad destination or period), -EBUSY (already running), or -errno.
 * cprof_continuous_stop takes the last, partial period, sends it (waiting
 * at most 2 s for uploads), and stops; -ESRCH when not running. Thread.
 */
int cprof_continuous_start(const char *destination, int period_ms);
int cprof_continuous_stop(void);

/*
 * Labels: key/value pairs attached to the calling thread and recorded with
 * every sample the profilers take on it (CPU, heap, block, mutex, wall), so
 * that `cprof pprof -tagfocus=key=value` (or -tags, -tagignore, -tagshow)
 * slices a profile by request type, tenant or phase. Go's pprof.Do in C.
 *
 * cprof_labels_push sets key to value on top of the thread's current labels
 * (a key already set takes the new value); cprof_labels_pop restores the
 * labels as they were before the matching push. Every push, whether it
 * succeeded or not, is balanced by exactly one pop. A thread created with
 * pthread_create starts with its creator's labels at that moment.
 *
 * Each distinct label set is kept for the life of the process, and their
 * number is bounded (about 49,000 sets, 16 MiB): label by bounded values
 * (endpoint, tenant, phase), not by unique ids. When the sets are full a
 * push returns -ENOSPC, the thread keeps its labels, and the runtime says
 * so once on stderr. Keys are non-empty; keys and values are copied.
 *
 * Thread context (not from signal handlers); push returns 0, -EINVAL (NULL
 * or empty key, NULL value, a string over CPROF_LABEL_MAX_LEN), -E2BIG (more
 * than CPROF_LABELS_MAX keys) or -ENOSPC; pop returns 0 or -ENOENT when
 * nothing was pushed.
 */
#define CPROF_LABELS_MAX 16
#define CPROF_LABEL_MAX_LEN 1024
int cprof_labels_push(const char *key, const char *value);
/* Push npairs pairs at once: kv = {key0, value0, key1, value1, ...}. One pop undoes it. */
int cprof_labels_pushv(const char *const *kv, size_t npairs);
int cprof_labels_pop(void);
/* The calling thread's value for key, or NULL. The string stays valid for the process's life. */
const char *cprof_labels_get(const char *key);

/*
 * Scoped labels: push at the declaration, pop when the enclosing block is
 * left by any path (GCC/Clang cleanup attribute):
 *
 *     {
 *         CPROF_LABELS_SCOPE("endpoint", "/search");
 *         handle(req);
 *     }
 */
static inline void cprof__labels_scope_end(int *rc)
{
	(void)rc;
	cprof_labels_pop();
}
#define CPROF__CAT2(a, b) a##b
#define CPROF__CAT(a, b) CPROF__CAT2(a, b)
#define CPROF_LABELS_SCOPE(key, value)                                                     \
	int CPROF__CAT(cprof__labels_scope_, __COUNTER__)                                  \
		__attribute__((cleanup(cprof__labels_scope_end), unused)) =                \
			cprof_labels_push((key), (value))
/* Same with several pairs: kv as for cprof_labels_pushv. */
#define CPROF_LABELS_SCOPEV(kv, npairs)                                                    \
	int CPROF__CAT(cprof__labels_scope_, __COUNTER__)                                  \
		__attribute__((cleanup(cprof__labels_scope_end), unused)) =                \
			cprof_labels_pushv((kv), (npairs))

/*
 * Serve Go's /debug/pprof/ endpoints over HTTP on addr ("127.0.0.1:6060",
 * "[::1]:0", "localhost:6060"; port 0 picks a free one), from threads of
 * its own that block every signal. The address actually bound is printed on
 * stderr ("cprof: serving /debug/pprof/ on http://127.0.0.1:NNNN/debug/pprof/")
 * and returned by cprof_http_port(). Any address other than loopback needs
 * CPROF_HTTP_TOKEN in the environment (-EACCES without it); requests must
 * then carry "Authorization: Bearer <token>" or "token=<token>". -EBUSY if
 * already serving, -EINVAL for a bad address, -ENOSYS when libmicrohttpd
 * cannot be loaded. Any thread; not from a signal handler.
 */
int cprof_http_start(const char *addr);

/* The port being served, or -ESRCH when not serving. Any thread. */
int cprof_http_port(void);

/*
 * Stop serving: running requests are cut short (a CPU profile in progress is
 * stopped and discarded). -ESRCH when not serving. Any thread but the
 * endpoint's own; not from a signal handler.
 */
int cprof_http_stop(void);
/* ---- heap profile ---- */

/* Go's default MemProfileRate: one sample per 512 KiB allocated, on average. */
#define CPROF_HEAP_DEFAULT_RATE 524288

/*
 * Start sampling allocations: one sample per `rate` allocated bytes on
 * average, each weighted so the totals are unbiased (Go's MemProfileRate);
 * 1 records every allocation; 0 means the default. Called while sampling
 * runs, it changes the rate (each thread switches at its next sample).
 * -ENOTSUP in a program linked fully statically (malloc cannot be
 * interposed there). Any thread.
 */
int cprof_heap_profile_start(long rate);

/*
 * Stop sampling new allocations. What was recorded stays, blocks already
 * sampled still leave the in-use totals when freed, and the profiles can
 * still be written. -ESRCH when not sampling.
 */
int cprof_heap_profile_stop(void);

/*
 * Write a profile as of now, gzipped profile.proto: name is "heap" (Go's
 * heap profile: alloc_objects, alloc_space, inuse_objects, inuse_space;
 * pprof shows inuse_space by default), "allocs" (the same, alloc_space by
 * default) or "peak" (inuse_objects and inuse_space when the heap was
 * largest). -ENODATA when heap profiling never started, -EINVAL for another
 * name. The fd is not closed. The runtime's own allocations while writing
 * are not recorded. Any thread; not from a signal handler.
 */
int cprof_heap_profile_write(const char *name, int fd);
/* Same, to a file (through a temporary file and rename). */
int cprof_heap_profile_write_path(const char *name, const char *path);

/*
 * Annotations for pool and arena allocators, whose objects malloc never
 * sees: report an object of size bytes at p handed out / taken back. They
 * are sampled like malloc'd blocks and labelled kind=annotated (the pool's
 * own malloc'd memory is profiled as well, separately). Any thread.
 */
void cprof_heap_note_alloc(const void *p, size_t size);
void cprof_heap_note_free(const void *p);

/* Counters of the heap profiler. */
struct cprof_heap_stats {
	int64_t rate;          /* current sampling rate in bytes (1: every allocation) */
	uint64_t samples;      /* allocations sampled */
	uint64_t lost;         /* samples whose stack did not fit the site table */
	uint64_t untracked;    /* sampled blocks the registry had no room for */
	uint64_t sites;        /* distinct (stack, labels, kind) recorded */
	uint64_t inuse_bytes;  /* estimated bytes in use now */
	uint64_t alloc_bytes;  /* estimated bytes allocated since start */
	uint64_t peak_bytes;   /* estimated bytes in use at the largest heap so far */
	uint64_t own_bytes;    /* memory the profiler's tables use (resident) */
};
int cprof_heap_profile_stats(struct cprof_heap_stats *st);

/*
 * Exact allocation counts over all threads while counting is on (for
 * benchmarks' allocs/op and B/op). Counting costs a few ns per call and is
 * independent of heap sampling. cprof_mem_counting returns whether counting
 * was on before; the counts are cumulative, take differences. Any thread.
 */
struct cprof_mem_counts {
	uint64_t mallocs;     /* successful allocations (realloc counts one) */
	uint64_t frees;       /* frees of non-NULL pointers (realloc of a block counts one) */
	uint64_t total_alloc; /* bytes requested */
};
int cprof_mem_counting(int on);
void cprof_mem_counts(struct cprof_mem_counts *out);

/*
 * Block profile (Go's SetBlockProfileRate): where threads waited, and for
 * how long: contended pthread mutexes and read-write locks, condition
 * variables, semaphores, pthread_join, barriers; and, when asked for with
 * cprof_block_profile_syscalls(), blocking system calls (read, write,
 * recv*, poll, ppoll, epoll_wait, select, accept, connect, nanosleep,
 * usleep, sleep...), labelled reason=<call>. Every sample carries the label
 * reason=<the function that waited>.
 *
 * rate_ns: a wait of rate_ns nanoseconds or more is always recorded; a
 * shorter one of d ns with probability d/rate_ns, counted as rate_ns/d
 * waits of rate_ns ns in all, so totals stay unbiased. 1 records every
 * wait; 0 turns recording off (what was recorded stays). -EINVAL when
 * negative, -ENOMEM when the table cannot be mapped. Any thread.
 *
 * The profile is read with cprof_profile_write("block", ...), or written
 * at exit to CPROF_BLOCKPROFILE.
 */
int cprof_block_profile_set_rate(int64_t rate_ns);
/* The current block profile rate in ns (0: off). Any context. */
int64_t cprof_block_profile_rate(void);
/* Record blocking system calls in the block profile too (on != 0), or stop. Any thread. */
int cprof_block_profile_syscalls(int on);

/*
 * Mutex profile (Go's SetMutexProfileFraction): the critical sections that
 * made other threads wait on a pthread mutex or read-write lock, each
 * charged, at the stack that unlocked, with the time the waiters spent
 * waiting during it. 1 in n such charges is recorded, weighted by n; 1
 * records all; 0 turns recording off. -EINVAL when negative, -ENOMEM when
 * the table cannot be mapped. Any thread.
 */
int cprof_mutex_profile_set_fraction(int64_t n);
/* The current mutex profile fraction (0: off). Any context. */
int64_t cprof_mutex_profile_fraction(void);

/*
 * Execution tracing: a timeline of what every thread did (thread starts
 * and ends, the process's counters, and the annotations below), written as
 * it runs to a file that `cprof trace` reads (docs/FORMAT.md). Started by
 * CPROF_TRACE=FILE (`cprof run -trace=FILE`) or cprof_trace_start; stopped
 * at exit or by cprof_trace_stop. Thread context. start returns 0, -EBUSY
 * (a trace runs), -EBADF/-EINVAL, or -errno of the file; stop returns 0,
 * -ESRCH (none runs) or -errno of the last write. Events that find the
 * trace's 16 MiB of buffers full are dropped and counted in the file.
 */
int cprof_trace_start(int fd);
int cprof_trace_start_path(const char *path);
int cprof_trace_stop(void);
struct cprof_trace_stats {
	int running;      /* a trace is being recorded */
	uint64_t bytes;   /* written to the file so far */
	uint64_t dropped; /* events dropped for want of a free buffer */
};
int cprof_trace_stats(struct cprof_trace_stats *st);

/*
 * The flight recorder: a trace kept in memory, only its last window_ns
 * nanoseconds (and at most max_bytes of events; 0 for either: 10 s, 32
 * MiB), written on demand as a complete trace file (the same format, its
 * header flagged as a snapshot) by cprof_trace_flight_write, by a signal
 * (CPROF_TRACE_FLIGHT_SIGNAL, SIGUSR2 unless told otherwise, when
 * started from CPROF_TRACE_FLIGHT=FILE or `cprof run -trace-flight=FILE`),
 * or by the endpoint (/debug/pprof/trace?flight=1). Recording goes on
 * after a write. Thread context. start returns 0, -EBUSY (a trace or the
 * flight recorder runs), -EINVAL; write returns 0, -ESRCH (the flight
 * recorder does not run), -EBADF or -errno of the write; stop returns 0
 * or -ESRCH. Also stopped by cprof_trace_stop, and at exit.
 */
int cprof_trace_flight_start(int64_t window_ns, int64_t max_bytes);
int cprof_trace_flight_write(int fd);
int cprof_trace_flight_stop(void);

/*
 * Annotations (Go's runtime/trace user API). While no trace runs each is a
 * single predictable branch, so they can stay in release builds.
 *
 * A task is a logical operation that may cross threads: cprof_task_begin
 * returns its id (0 while tracing is off), which any thread may pass to
 * cprof_task_end, to regions and to child tasks (parent 0: none). A region
 * is a stretch of time on one thread, nested in the thread's open regions;
 * cprof_region_end ends the innermost. CPROF_REGION(task, "name") opens a
 * region that ends when the enclosing block is left. cprof_trace_log
 * records a message (first 1024 bytes) under a category. Names and
 * categories are interned (at most ~6,000 distinct strings per process);
 * messages are copied. Thread context.
 */
extern volatile int cprof__trace_on;
uint64_t cprof__task_begin(uint64_t parent, const char *name);
void cprof__task_end(uint64_t id);
void cprof__region_begin(uint64_t task, const char *name);
void cprof__region_end(void);
void cprof__trace_log(uint64_t task, const char *category, const char *message);

static inline uint64_t cprof_task_begin(uint64_t parent, const char *name)
{
	return __builtin_expect(cprof__trace_on, 0) ? cprof__task_begin(parent, name) : 0;
}
static inline void cprof_task_end(uint64_t id)
{
	if (__builtin_expect(cprof__trace_on, 0) && id)
		cprof__task_end(id);
}
static inline void cprof_region_begin(uint64_t task, const char *name)
{
	if (__builtin_expect(cprof__trace_on, 0))
		cprof__region_begin(task, name);
}
static inline void cprof_region_end(void)
{
	if (__builtin_expect(cprof__trace_on, 0))
		cprof__region_end();
}
static inline void cprof_trace_log(const char *category, const char *message)
{
	if (__builtin_expect(cprof__trace_on, 0))
		cprof__trace_log(0, category, message);
}
static inline void cprof_task_log(uint64_t task, const char *category, const char *message)
{
	if (__builtin_expect(cprof__trace_on, 0))
		cprof__trace_log(task, category, message);
}
static inline void cprof__region_scope_end(int *unused)
{
	(void)unused;
	cprof_region_end();
}
#define CPROF_REGION(task, name)                                                           \
	int CPROF__CAT(cprof__region_scope_, __COUNTER__)                                  \
		__attribute__((cleanup(cprof__region_scope_end), unused)) =                \
			(cprof_region_begin((task), (name)), 0)

#ifdef __cplusplus
}
#endif

#endif
