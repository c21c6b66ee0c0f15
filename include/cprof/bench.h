/*
 * cprof/bench.h - Go-style benchmarks for C (libcprof-bench).
 *
 *   #include <cprof/bench.h>
 *
 *   static void BenchmarkParse(struct cprof_b *b)
 *   {
 *           for (long i = 0; i < b->n; i++)
 *                   parse(input);
 *   }
 *   CPROF_BENCH(BenchmarkParse);
 *
 * Link with libcprof-bench (pkg-config cprof-bench), which provides main():
 * the program is then a benchmark binary that takes go test's flags
 * (-bench, -benchtime, -count, -cpu, -benchmem, -cpuprofile, ...) and prints
 * results in the Go benchmark format, so that `cprof benchstat` and Go's
 * benchstat read them. `prog -h` lists the flags; docs/USAGE.md explains them.
 *
 * The semantics are those of Go's testing.B: the harness calls each
 * benchmark function with b->n = 1, then with growing b->n until one call
 * takes at least -benchtime, and reports that last call. A benchmark that
 * calls cprof_b_run() is a group of sub-benchmarks and is not measured itself.
 *
 * Benchmark names must start with "Benchmark" followed by anything but a
 * lowercase letter (Go's rule); the runner refuses other names.
 *
 * Every function here must be called from the thread running the benchmark
 * function, while it runs, unless its comment says otherwise. None may be
 * called from a signal handler.
 */
#ifndef CPROF_BENCH_H
#define CPROF_BENCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cprof__bench; /* the harness's state for one benchmark */

struct cprof_b {
	/* Iterations to run in this call: for (long i = 0; i < b->n; i++).
	 * With cprof_b_loop() it is 0 during the loop and the total number of
	 * iterations once the loop has ended. */
	long n;
	/* The -cpu value of this run: the process's CPUs are limited to this
	 * many while the benchmark runs (see docs/USAGE.md). Benchmarks that
	 * start threads can size their pool by it. */
	int procs;
	/* The argument given to cprof_b_run() for a sub-benchmark; NULL for a
	 * top-level benchmark. */
	void *arg;

	/* Private to the harness: cprof_b_loop()'s counters and the state. */
	uint64_t loop_i_, loop_n_;
	struct cprof__bench *priv_;
};

typedef void (*cprof_bench_fn)(struct cprof_b *b);

/* One benchmark's registration record (filled in by CPROF_BENCH). */
struct cprof_bench_reg {
	const char *name;
	cprof_bench_fn fn;
	struct cprof_bench_reg *next_;
};

/*
 * Register a benchmark. Called by CPROF_BENCH's constructor before main;
 * benchmarks run in the order they were registered (link order of the
 * object files, then order in each file). The record must live as long as
 * the program.
 */
void cprof_bench_register(struct cprof_bench_reg *reg);

/* CPROF_BENCH(fn): register fn, defined or declared above, under its name. */
#define CPROF_BENCH(fn)                                                                    \
	static struct cprof_bench_reg cprof_bench_reg_##fn = {#fn, fn, 0};                   \
	__attribute__((constructor)) static void cprof_bench_ctor_##fn(void)                 \
	{                                                                                  \
		cprof_bench_register(&cprof_bench_reg_##fn);                                 \
	}                                                                                  \
	struct cprof_bench_reg_semicolon_##fn

/*
 * The "pkg:" line of the output (Go prints the package's import path).
 * Default: the program's file name. CPROF_BENCH_PKG("myproj/parser") at file
 * scope sets it.
 */
void cprof_bench_set_pkg(const char *pkg);
#define CPROF_BENCH_PKG(p)                                                                 \
	__attribute__((constructor)) static void cprof_bench_pkg_ctor(void)                  \
	{                                                                                  \
		cprof_bench_set_pkg(p);                                                      \
	}                                                                                  \
	struct cprof_bench_pkg_semicolon

/*
 * The benchmark runner: parses argv as go test's flags, runs the matching
 * benchmarks, prints the results, and returns the exit status (0 PASS,
 * 1 FAIL, 2 bad flags). libcprof-bench's main() calls it; a program with a
 * main of its own calls it from there.
 */
int cprof_bench_main(int argc, char **argv);

/* ---- timer (Go's StartTimer, StopTimer, ResetTimer, Elapsed) ---- */

/* Resume timing (and allocation counting) after cprof_b_stop_timer(). The
 * timer is already running when the benchmark function is called. */
void cprof_b_start_timer(struct cprof_b *b);
/* Pause timing and allocation counting, e.g. around per-iteration setup. */
void cprof_b_stop_timer(struct cprof_b *b);
/* Zero the elapsed time, the allocation counts and the reported metrics,
 * without starting or stopping the timer (e.g. after expensive setup). */
void cprof_b_reset_timer(struct cprof_b *b);
/* Nanoseconds measured so far in this call (Go's B.Elapsed). */
int64_t cprof_b_elapsed(struct cprof_b *b);

/* ---- what is reported ---- */

/* Report B/op and allocs/op for this benchmark even without -benchmem. */
void cprof_b_report_allocs(struct cprof_b *b);
/* Bytes processed per iteration: the result gets an MB/s column. */
void cprof_b_set_bytes(struct cprof_b *b, int64_t n);
/*
 * Add "value unit" to the result line (Go's ReportMetric). Per-iteration
 * values should be divided by b->n and named "<x>/op". Reporting a built-in
 * unit (ns/op, MB/s, B/op, allocs/op) overrides it; ns/op = 0 hides it.
 * Cleared by cprof_b_reset_timer(). An empty unit or one with whitespace
 * fails the benchmark and returns -EINVAL; otherwise 0.
 */
int cprof_b_report_metric(struct cprof_b *b, double value, const char *unit);

/* ---- sub-benchmarks (Go's B.Run) ---- */

/*
 * Run fn as the sub-benchmark "<parent>/<name>" (spaces become '_',
 * repeated names get #01, #02, ...), with b->arg = arg. It is ramped and
 * reported like a top-level benchmark; the parent is not measured. Returns
 * 1 unless the sub-benchmark failed.
 */
int cprof_b_run(struct cprof_b *b, const char *name, cprof_bench_fn fn, void *arg);

/* ---- log and failure (Go's Logf, Errorf, Fatalf, Skipf) ---- */

/* Add a line to the benchmark's log, printed after its result ("--- BENCH:"). */
#define cprof_b_logf(b, ...) cprof_b_log_at_((b), __FILE__, __LINE__, 0, __VA_ARGS__)
/* Log and mark the benchmark failed; it goes on running. */
#define cprof_b_errorf(b, ...) cprof_b_log_at_((b), __FILE__, __LINE__, 1, __VA_ARGS__)
/* Log, mark failed, and leave the benchmark function at once (longjmp: only
 * from the benchmark function's own thread; code that must clean up should
 * use cprof_b_errorf and return). */
#define cprof_b_fatalf(b, ...) cprof_b_log_at_((b), __FILE__, __LINE__, 2, __VA_ARGS__)
/* Log and skip the benchmark: it leaves the function at once, as fatalf. */
#define cprof_b_skipf(b, ...) cprof_b_log_at_((b), __FILE__, __LINE__, 3, __VA_ARGS__)
/* 1 once the benchmark has failed. */
int cprof_b_failed(struct cprof_b *b);

void cprof_b_log_at_(struct cprof_b *b, const char *file, int line, int kind, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ---- the loop form (Go 1.24's B.Loop) ---- */

/*
 *   setup();
 *   while (cprof_b_loop(b))
 *           work();
 *   cleanup();
 *
 * The first call resets the timer, so setup is not measured; the call that
 * returns 0 stops it, so cleanup is not either. The function is called only
 * once per measurement: the loop grows its own target until -benchtime is
 * reached. Afterwards b->n holds the number of iterations. Calling it with
 * the timer stopped fails the benchmark.
 */
int cprof__b_loop_next(struct cprof_b *b);
static inline __attribute__((always_inline)) int cprof_b_loop(struct cprof_b *b)
{
	if (__builtin_expect(b->loop_i_ < b->loop_n_, 1)) {
		b->loop_i_++;
		return 1;
	}
	return cprof__b_loop_next(b);
}

/* ---- keeping the compiler from deleting measured work ---- */

/* cprof_b_keep(x): the value of x is computed and "used", whatever its type
 * (an opaque asm reads and may change a copy of it). */
#ifdef __cplusplus
#define cprof_keep_type_ auto
#else
#define cprof_keep_type_ __auto_type
#endif
#define cprof_b_keep(x)                                                                    \
	do {                                                                               \
		cprof_keep_type_ cprof_keep_v_ = (x);                                        \
		__asm__ __volatile__("" : "+g"(cprof_keep_v_) : : "memory");               \
	} while (0)
/* cprof_b_escape(p): the memory p points to may be read and written by
 * unknown code, so stores into it are kept. */
#define cprof_b_escape(p) __asm__ __volatile__("" : : "r"(p) : "memory")
/* cprof_b_clobber(): all memory may have been read and written. */
#define cprof_b_clobber() __asm__ __volatile__("" : : : "memory")

#ifdef __cplusplus
}
#endif

#endif
