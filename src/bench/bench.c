/*
 * bench.c - the benchmark runner of libcprof-bench: registration, the
 * per-benchmark state behind struct cprof_b, the timer, and the order in
 * which things run and print. It follows Go's testing.B: run1 calls the
 * function once with n = 1; a benchmark that called cprof_b_run (or whose
 * name matched only part of a longer -bench pattern) is a group and stops
 * there; otherwise each -cpu value and each -count repetition ramps n with
 * Go's predictN (+20%, at most 100x the last n, at least last + 1, at most
 * 1e9) until one call lasts -benchtime, and the last call is reported.
 * cprof_b_loop's own ramp is Go 1.24's B.Loop. Flags and matching are in
 * flags.c, result formatting in output.c.
 *
 * The benchmark runs on the thread that called cprof_bench_main. Fatal and
 * skip leave the benchmark function with longjmp, from that thread only.
 * The environment variable CPROF_BENCH_DEBUG=1 prints every call's n and
 * measured nanoseconds on stderr (how the tests check the ramp).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

/*
 * libcprof's exact allocation counts (include/cprof.h). Declared here, weak,
 * rather than taken from cprof.h: a libcprof without them (one built before
 * its heap profiler) leaves them NULL, and the harness then says that it
 * cannot count instead of failing to load. This file does not include
 * cprof.h, so the two declarations never meet.
 */
struct cprof_mem_counts {
	uint64_t mallocs, frees, total_alloc;
};
extern int cprof_mem_counting(int on) __attribute__((weak));
extern void cprof_mem_counts(struct cprof_mem_counts *out) __attribute__((weak));

#define MAX_ITERS 1000000000L
#define LOOP_POISON (1ull << 63)

struct cprof__bench {
	struct cprof_b pub;
	char *name; /* full name, without the -N suffix */
	int level;
	cprof_bench_fn fn;
	void *arg;

	int timer_on;
	int64_t start_ns, duration_ns;
	uint64_t start_allocs, start_bytes, net_allocs, net_bytes;
	int64_t bytes;
	int show_allocs;
	int has_sub, failed, skipped, finished;
	int loop_done;
	struct bench_metric *extra;
	size_t nextra, capextra;
	char *log;
	size_t loglen, logcap;
	jmp_buf *jump; /* set while the function runs */
	struct bench_result result;
};

/* ---- the run (one per cprof_bench_main) ---- */

static struct cprof_bench_reg *reg_head, **reg_tail = &reg_head;
static const char *pkg_name;

static struct {
	struct bench_opts o;
	struct bench_matcher *match;
	FILE *out;
	int max_len, ext_len;
	int labels_done;
	int any_failed;
	int debug;
	cpu_set_t orig_cpus;
	int orig_ok, navail;
	int avail[CPU_SETSIZE];
	int mem_on;
	int affinity_warned;
	int default_procs;
} R;

CPROF_API void cprof_bench_register(struct cprof_bench_reg *reg)
{
	reg->next_ = NULL;
	*reg_tail = reg;
	reg_tail = &reg->next_;
}

CPROF_API void cprof_bench_set_pkg(const char *pkg)
{
	pkg_name = pkg;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Allocation totals of the whole process: exact counts from the runtime's
 * malloc interposition. Zero where counting is unavailable. */
static void read_mem(uint64_t *allocs, uint64_t *bytes)
{
	if (!R.mem_on) {
		*allocs = 0;
		*bytes = 0;
		return;
	}
	struct cprof_mem_counts c;
	cprof_mem_counts(&c);
	*allocs = c.mallocs;
	*bytes = c.total_alloc;
}

/* Turn exact counting on and check that it sees an allocation: it does not
 * when libcprof's malloc interposition is not in place (libcprof loaded
 * after libc, or a static malloc). */
static void *(*volatile probe_malloc)(size_t) = malloc;
static int mem_counting_start(void)
{
	if (!cprof_mem_counting || !cprof_mem_counts)
		return 0;
	cprof_mem_counting(1);
	struct cprof_mem_counts a, b;
	cprof_mem_counts(&a);
	void *p = probe_malloc(24);
	cprof_mem_counts(&b);
	free(p);
	return p && b.mallocs > a.mallocs && b.total_alloc >= a.total_alloc + 24;
}

static struct cprof__bench *st(struct cprof_b *b)
{
	return b->priv_;
}

static void fail_internal(struct cprof__bench *s, const char *msg, int now);

/* ---- timer ---- */

CPROF_API void cprof_b_start_timer(struct cprof_b *b)
{
	struct cprof__bench *s = st(b);
	if (!s->timer_on) {
		read_mem(&s->start_allocs, &s->start_bytes);
		s->start_ns = now_ns();
		s->timer_on = 1;
		b->loop_i_ &= ~LOOP_POISON;
	}
}

CPROF_API void cprof_b_stop_timer(struct cprof_b *b)
{
	struct cprof__bench *s = st(b);
	if (s->timer_on) {
		s->duration_ns += now_ns() - s->start_ns;
		uint64_t a, by;
		read_mem(&a, &by);
		s->net_allocs += a - s->start_allocs;
		s->net_bytes += by - s->start_bytes;
		s->timer_on = 0;
		b->loop_i_ |= LOOP_POISON; /* cprof_b_loop takes its slow path and fails */
	}
}

static void clear_extra(struct cprof__bench *s)
{
	for (size_t i = 0; i < s->nextra; i++)
		free(s->extra[i].unit);
	s->nextra = 0;
}

CPROF_API void cprof_b_reset_timer(struct cprof_b *b)
{
	struct cprof__bench *s = st(b);
	clear_extra(s);
	if (s->timer_on) {
		read_mem(&s->start_allocs, &s->start_bytes);
		s->start_ns = now_ns();
	}
	s->duration_ns = 0;
	s->net_allocs = 0;
	s->net_bytes = 0;
}

CPROF_API int64_t cprof_b_elapsed(struct cprof_b *b)
{
	struct cprof__bench *s = st(b);
	int64_t d = s->duration_ns;
	if (s->timer_on)
		d += now_ns() - s->start_ns;
	return d;
}

CPROF_API void cprof_b_set_bytes(struct cprof_b *b, int64_t n)
{
	st(b)->bytes = n;
}

CPROF_API void cprof_b_report_allocs(struct cprof_b *b)
{
	struct cprof__bench *s = st(b);
	if (!R.mem_on && !s->failed) {
		fail_internal(s, !cprof_mem_counts ? "cprof_b_report_allocs: this libcprof cannot count allocations"
						   : "cprof_b_report_allocs: allocations are not counted in this program "
						     "(libcprof must be loaded before libc: link with pkg-config --libs cprof-bench)",
			      0);
		return;
	}
	s->show_allocs = 1;
}

CPROF_API int cprof_b_failed(struct cprof_b *b)
{
	return st(b)->failed;
}

/* ---- log, fail, skip ---- */

static void log_append(struct cprof__bench *s, const char *p, size_t n)
{
	if (s->loglen + n + 1 > s->logcap) {
		size_t cap = s->logcap ? s->logcap : 256;
		while (cap < s->loglen + n + 1)
			cap *= 2;
		char *l = realloc(s->log, cap);
		if (!l)
			return;
		s->log = l;
		s->logcap = cap;
	}
	memcpy(s->log + s->loglen, p, n);
	s->loglen += n;
	s->log[s->loglen] = 0;
}

/* Go's decorate: "    file:line: msg", continuation lines indented 8. */
static void log_line(struct cprof__bench *s, const char *file, int line, const char *msg)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	char head[512];
	int k = snprintf(head, sizeof head, "    %s:%d: ", base, line);
	log_append(s, head, (size_t)(k < (int)sizeof head ? k : (int)sizeof head - 1));
	size_t n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (msg[i] == '\n')
			log_append(s, "\n        ", 9);
		else
			log_append(s, &msg[i], 1);
	}
	log_append(s, "\n", 1);
}

static void leave(struct cprof__bench *s) __attribute__((noreturn));
static void leave(struct cprof__bench *s)
{
	s->finished = 1;
	if (s->jump)
		longjmp(*s->jump, 1);
	fprintf(stderr, "cprof: %s: fatal or skip outside the benchmark function\n", s->name);
	_exit(1);
}

CPROF_API void cprof_b_log_at_(struct cprof_b *b, const char *file, int line, int kind, const char *fmt, ...)
{
	struct cprof__bench *s = st(b);
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_line(s, file, line, buf);
	if (kind == 1 || kind == 2)
		s->failed = 1;
	if (kind == 3)
		s->skipped = 1;
	if (kind >= 2) {
		cprof_b_stop_timer(b);
		leave(s);
	}
}

static void fail_internal(struct cprof__bench *s, const char *msg, int now)
{
	log_append(s, "    ", 4);
	log_append(s, msg, strlen(msg));
	log_append(s, "\n", 1);
	s->failed = 1;
	if (now) {
		cprof_b_stop_timer(&s->pub);
		leave(s);
	}
}

CPROF_API int cprof_b_report_metric(struct cprof_b *b, double value, const char *unit)
{
	struct cprof__bench *s = st(b);
	if (!unit || !*unit || strpbrk(unit, " \t\n\v\f\r")) {
		fail_internal(s, unit && *unit ? "cprof_b_report_metric: metric unit must not contain whitespace"
					       : "cprof_b_report_metric: metric unit must not be empty",
			      0);
		return -EINVAL;
	}
	for (size_t i = 0; i < s->nextra; i++)
		if (!strcmp(s->extra[i].unit, unit)) {
			s->extra[i].value = value;
			return 0;
		}
	if (s->nextra == s->capextra) {
		size_t cap = s->capextra ? 2 * s->capextra : 8;
		struct bench_metric *e = realloc(s->extra, cap * sizeof *e);
		if (!e)
			return -ENOMEM;
		s->extra = e;
		s->capextra = cap;
	}
	char *u = strdup(unit);
	if (!u)
		return -ENOMEM;
	s->extra[s->nextra].unit = u;
	s->extra[s->nextra].value = value;
	s->nextra++;
	return 0;
}

/* ---- predictN and the loop form ---- */

static long predict_n(int64_t goal_ns, long prev_iters, int64_t prev_ns, long last)
{
	if (prev_ns <= 0)
		prev_ns = 1;
	/* multiply first: for fast benchmarks prev_iters is about prev_ns */
	__int128 n = (__int128)goal_ns * prev_iters / prev_ns;
	n += n / 5;
	if (n > (__int128)100 * last)
		n = (__int128)100 * last;
	if (n < (__int128)last + 1)
		n = (__int128)last + 1;
	if (n > MAX_ITERS)
		n = MAX_ITERS;
	return (long)n;
}

CPROF_API int cprof__b_loop_next(struct cprof_b *b)
{
	struct cprof__bench *s = st(b);
	if (!s->timer_on)
		fail_internal(s, "cprof_b_loop called with timer stopped", 1);
	if (b->loop_n_ == 0) {
		b->loop_n_ = R.o.benchtime_n > 0 ? (uint64_t)R.o.benchtime_n : 1;
		b->n = 0;
		cprof_b_reset_timer(b);
		b->loop_i_++;
		return 1;
	}
	int more = 0;
	if (R.o.benchtime_n <= 0) {
		int64_t t = cprof_b_elapsed(b);
		if (t < R.o.benchtime_ns) {
			long prev = (long)b->loop_n_;
			b->loop_n_ = (uint64_t)predict_n(R.o.benchtime_ns, prev, t, prev);
			more = (uint64_t)prev < b->loop_n_;
			if (R.debug)
				fprintf(stderr, "cprof-bench: %s loop n=%ld ns=%lld next=%llu\n", s->name, prev,
					(long long)t, (unsigned long long)b->loop_n_);
		}
	}
	if (!more) {
		cprof_b_stop_timer(b);
		b->n = (long)b->loop_n_;
		s->loop_done = 1;
		return 0;
	}
	b->loop_i_++;
	return 1;
}

/* ---- running ---- */

static struct cprof__bench *bench_new(const char *name, int level, cprof_bench_fn fn, void *arg, int procs)
{
	struct cprof__bench *s = calloc(1, sizeof *s);
	if (!s || !(s->name = strdup(name))) {
		free(s);
		fprintf(stderr, "cprof: out of memory\n");
		exit(2);
	}
	s->level = level;
	s->fn = fn;
	s->arg = arg;
	s->pub.priv_ = s;
	s->pub.arg = arg;
	s->pub.procs = procs;
	return s;
}

static void bench_free(struct cprof__bench *s)
{
	clear_extra(s);
	free(s->extra);
	free(s->log);
	free(s->name);
	free(s);
}

static int g_cur_procs;
/* The name of the benchmark running, for the -timeout watchdog's message: a
 * copy, so that the watchdog never reads a name being freed (at worst it
 * reads one being overwritten). */
static char g_running[512];

static void set_running(const char *name)
{
	snprintf(g_running, sizeof g_running, "%s", name ? name : "");
}

/* Go's runN: one call of the function with b->n = n, timed. */
static void run_n(struct cprof__bench *s, long n)
{
	struct cprof_b *b = &s->pub;
	b->n = n;
	b->procs = g_cur_procs;
	b->loop_n_ = 0;
	b->loop_i_ = 0;
	s->loop_done = 0;
	cprof_b_reset_timer(b);
	cprof_b_start_timer(b);
	jmp_buf jb;
	jmp_buf *volatile saved = s->jump;
	s->jump = &jb;
	set_running(s->name);
	if (setjmp(jb) == 0)
		s->fn(b);
	s->jump = saved;
	cprof_b_stop_timer(b);
	if (b->loop_n_ > 0 && !s->loop_done && !s->failed && !s->finished)
		fail_internal(s, "benchmark function returned without cprof_b_loop() returning 0 (break or return in the loop?)",
			      0);
	if (R.debug)
		fprintf(stderr, "cprof-bench: %s run n=%ld ns=%lld\n", s->name, b->n, (long long)s->duration_ns);
}

static void print_log(struct cprof__bench *s, const char *tag, const char *name, int trim)
{
	if (R.o.json) {
		cprof__bench_json_event(R.out, !strcmp(tag, "FAIL") ? "fail" : !strcmp(tag, "SKIP") ? "skip" : "log",
					name, s->log, s->loglen);
		return;
	}
	fprintf(R.out, "--- %s: %s\n", tag, name);
	if (s->loglen) {
		if (trim) { /* Go's trimOutput: at most 10 lines */
			size_t nl = 0;
			for (size_t j = 0; j < s->loglen; j++)
				if (s->log[j] == '\n' && ++nl >= 10) {
					fwrite(s->log, 1, j, R.out);
					fputs("\n\t... [output truncated]\n", R.out);
					return;
				}
		}
		fwrite(s->log, 1, s->loglen, R.out);
	}
}

/* Go's run1: the first call, n = 1. Returns 1 when the benchmark is to be
 * measured. */
static int run1(struct cprof__bench *s)
{
	int n = (int)strlen(s->name) + R.ext_len + 1;
	if (n > R.max_len)
		R.max_len = n + 8; /* slack against many jumps in width */
	run_n(s, 1);
	if (s->failed) {
		print_log(s, "FAIL", s->name, 0);
		fflush(R.out);
		R.any_failed = 1;
		return 0;
	}
	if (s->has_sub || s->finished) {
		if (R.o.verbose && (s->loglen || s->finished))
			print_log(s, s->skipped ? "SKIP" : "BENCH", s->name, 1);
		fflush(R.out);
		return 0;
	}
	return 1;
}

/* Go's launch: ramp n until one call lasts -benchtime. */
static void launch(struct cprof__bench *s)
{
	if (s->pub.loop_n_ == 0) {
		if (R.o.benchtime_n > 0) {
			if (R.o.benchtime_n > 1) /* 1x reuses run1's call */
				run_n(s, R.o.benchtime_n);
		} else {
			int64_t d = R.o.benchtime_ns;
			for (long n = 1; !s->failed && s->duration_ns < d && n < MAX_ITERS;) {
				long last = n;
				n = predict_n(d, s->pub.n, s->duration_ns, last);
				run_n(s, n);
			}
		}
	}
	s->result.n = s->pub.n;
	s->result.t_ns = s->duration_ns;
	s->result.bytes = s->bytes;
	s->result.mem_allocs = s->net_allocs;
	s->result.mem_bytes = s->net_bytes;
	s->result.extra = s->extra;
	s->result.nextra = s->nextra;
	s->result.show_mem = R.o.benchmem || s->show_allocs;
}

static void set_procs(int procs)
{
	g_cur_procs = procs;
	if (!R.orig_ok)
		return;
	cpu_set_t set;
	if (procs >= R.navail) {
		set = R.orig_cpus;
	} else {
		CPU_ZERO(&set);
		for (int i = 0; i < procs; i++)
			CPU_SET(R.avail[i], &set);
	}
	if (sched_setaffinity(0, sizeof set, &set) != 0 && !R.affinity_warned) {
		R.affinity_warned = 1;
		fprintf(stderr, "cprof: -cpu=%d: cannot limit the CPUs (sched_setaffinity: %s); benchmarks run on all %d\n",
			procs, strerror(errno), R.navail);
	}
}

static void bench_name(char *out, size_t size, const char *name, int procs)
{
	if (procs != 1)
		snprintf(out, size, "%s-%d", name, procs);
	else
		snprintf(out, size, "%s", name);
}

/* Go's processBench: every -cpu value, every -count repetition. */
static void process(struct cprof__bench *s)
{
	for (int i = 0; i < R.o.ncpus; i++) {
		for (long j = 0; j < R.o.count; j++) {
			int procs = R.o.cpus[i];
			set_procs(procs);
			size_t nl = strlen(s->name) + 16;
			char *name = malloc(nl);
			if (!name)
				return;
			bench_name(name, nl, s->name, procs);
			if (!R.o.verbose && !R.o.json) {
				fprintf(R.out, "%-*s\t", R.max_len, name);
				fflush(R.out);
			}
			struct cprof__bench *r = s;
			if (i > 0 || j > 0) {
				r = bench_new(s->name, s->level, s->fn, s->arg, procs);
				if (!run1(r)) { /* failed or skipped: run1 said so */
					bench_free(r);
					free(name);
					continue;
				}
			}
			launch(r);
			if (r->failed) {
				print_log(r, "FAIL", name, 0);
				R.any_failed = 1;
			} else {
				char line[4096];
				cprof__bench_format_result(&r->result, line, sizeof line);
				if (R.o.json) {
					cprof__bench_json_result(R.out, name, s->name, procs, j + 1, &r->result, r->log,
								 r->loglen);
				} else {
					if (R.o.verbose)
						fprintf(R.out, "%-*s\t", R.max_len, name);
					fprintf(R.out, "%s\n", line);
					if (r->loglen)
						print_log(r, "BENCH", name, 1);
				}
			}
			fflush(R.out);
			if (r != s)
				bench_free(r);
			free(name);
		}
	}
	/* between benchmarks the process has all its CPUs again */
	g_cur_procs = R.default_procs;
	if (R.orig_ok)
		sched_setaffinity(0, sizeof R.orig_cpus, &R.orig_cpus);
}

static void labels(void)
{
	if (R.labels_done)
		return;
	R.labels_done = 1;
	if (R.o.json)
		cprof__bench_json_config(R.out, pkg_name);
	else
		cprof__bench_print_labels(R.out, pkg_name);
}

/* Go's B.Run, for top-level benchmarks (parent NULL) and sub-benchmarks. */
static int run_sub(struct cprof__bench *parent, const char *name, cprof_bench_fn fn, void *arg)
{
	char *full = parent && parent->level > 0 ? cprof__bench_unique_name(parent->name, name) : strdup(name);
	if (!full)
		return 0;
	int partial;
	if (!cprof__bench_matcher_match(R.match, full, &partial)) {
		free(full);
		return 1;
	}
	struct cprof__bench *s = bench_new(full, parent ? parent->level + 1 : 1, fn, arg, g_cur_procs);
	free(full);
	if (partial)
		s->has_sub = 1;
	if (R.o.verbose && !R.o.json) {
		labels();
		fprintf(R.out, "%s\n", s->name);
		fflush(R.out);
	}
	if (run1(s)) {
		labels();
		process(s);
	}
	int ok = !s->failed;
	bench_free(s);
	return ok;
}

CPROF_API int cprof_b_run(struct cprof_b *b, const char *name, cprof_bench_fn fn, void *arg)
{
	struct cprof__bench *s = st(b);
	s->has_sub = 1;
	/* the parent is not measured; its timer does not run during children */
	int was_on = s->timer_on;
	cprof_b_stop_timer(b);
	int ok = run_sub(s, name ? name : "", fn, arg);
	if (was_on)
		cprof_b_start_timer(b);
	set_running(s->name);
	return ok;
}

/* ---- -timeout ---- */

static void *watchdog(void *arg)
{
	(void)arg;
	struct timespec ts = {(time_t)(R.o.timeout_ns / 1000000000), (long)(R.o.timeout_ns % 1000000000)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	char n[sizeof g_running];
	memcpy(n, g_running, sizeof n);
	n[sizeof n - 1] = 0;
	char msg[1024];
	int k = snprintf(msg, sizeof msg, "cprof: benchmarks timed out after %s%s%s%s\n", R.o.timeout_s,
			 n[0] ? " (running " : "", n, n[0] ? ")" : "");
	if (k > 0 && write(2, msg, (size_t)(k < (int)sizeof msg ? k : (int)sizeof msg - 1)) < 0)
		_exit(2);
	_exit(2);
}

/* ---- main ---- */

static int valid_name(const char *n)
{
	if (strncmp(n, "Benchmark", 9) != 0)
		return 0;
	return !(n[9] >= 'a' && n[9] <= 'z');
}

static void default_pkg(const char *argv0)
{
	if (pkg_name)
		return;
	static char exe[512];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (k > 0)
		exe[k] = 0;
	else
		snprintf(exe, sizeof exe, "%s", argv0 ? argv0 : "bench");
	const char *b = strrchr(exe, '/');
	pkg_name = b ? b + 1 : exe;
}

CPROF_API int cprof_bench_main(int argc, char **argv)
{
	int64_t t0 = now_ns();
	memset(&R, 0, sizeof R);
	R.out = stdout;
	const char *dbg = getenv("CPROF_BENCH_DEBUG");
	R.debug = dbg && *dbg && strcmp(dbg, "0") != 0;
	default_pkg(argc > 0 ? argv[0] : NULL);

	CPU_ZERO(&R.orig_cpus);
	if (sched_getaffinity(0, sizeof R.orig_cpus, &R.orig_cpus) == 0) {
		R.orig_ok = 1;
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &R.orig_cpus))
				R.avail[R.navail++] = c;
	}
	int ncpu = R.navail > 0 ? R.navail : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;

	int rc = cprof__bench_flags_parse(&R.o, argc, argv, ncpu);
	if (rc == 1)
		return 0;
	if (rc)
		return 2;

	for (struct cprof_bench_reg *r = reg_head; r; r = r->next_)
		if (!r->name || !r->fn || !valid_name(r->name)) {
			fprintf(stderr,
				"cprof: benchmark %s: a benchmark's name starts with \"Benchmark\" followed by anything but a lowercase letter\n",
				r->name ? r->name : "(null)");
			return 2;
		}

	if (R.o.list) {
		struct bench_matcher *lm = cprof__bench_matcher_new(R.o.list, "list");
		if (!lm)
			return 2;
		for (struct cprof_bench_reg *r = reg_head; r; r = r->next_) {
			int partial;
			if (cprof__bench_matcher_match(lm, r->name, &partial))
				printf("%s\n", r->name);
		}
		cprof__bench_matcher_free(lm);
		return 0;
	}

	const char *pattern = R.o.bench ? R.o.bench : ".";
	if (*pattern) {
		R.match = cprof__bench_matcher_new(pattern, "bench");
		if (!R.match)
			return 2;
	}

	R.mem_on = mem_counting_start();
	if (R.o.benchmem && !R.mem_on) {
		if (!cprof_mem_counts)
			fprintf(stderr, "cprof: -benchmem: this libcprof cannot count allocations (it has no heap profiler)\n");
		else
			fprintf(stderr, "cprof: -benchmem: allocations are not counted in this program (libcprof must be "
					"loaded before libc: link with pkg-config --libs cprof-bench)\n");
		return 2;
	}
	if (cprof__bench_profiles_start(&R.o))
		return 2;
	if (R.o.timeout_ns > 0) {
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, watchdog, NULL) != 0) {
			fprintf(stderr, "cprof: -timeout: cannot start the watchdog thread\n");
			return 2;
		}
		pthread_attr_destroy(&at);
	}

	int matched = 0;
	if (*pattern) {
		int maxprocs = 1;
		for (int i = 0; i < R.o.ncpus; i++)
			if (R.o.cpus[i] > maxprocs)
				maxprocs = R.o.cpus[i];
		char ext[32];
		bench_name(ext, sizeof ext, "", maxprocs);
		R.ext_len = (int)strlen(ext);
		for (struct cprof_bench_reg *r = reg_head; r; r = r->next_) {
			int partial;
			if (!cprof__bench_matcher_match(R.match, r->name, &partial))
				continue;
			matched++;
			char nm[1024];
			bench_name(nm, sizeof nm, r->name, maxprocs);
			int l = (int)strlen(nm) + R.ext_len + 1;
			if (l > R.max_len)
				R.max_len = l;
		}
		g_cur_procs = R.default_procs = ncpu;
		for (struct cprof_bench_reg *r = reg_head; r; r = r->next_)
			run_sub(NULL, r->name, r->fn, NULL);
	}
	set_running(NULL);
	if (!matched)
		fprintf(stderr, "cprof: warning: no benchmarks to run (-bench=%s matches none)\n", pattern);

	if (cprof__bench_profiles_write(&R.o))
		R.any_failed = 1;

	double secs = (double)(now_ns() - t0) / 1e9;
	if (R.o.json) {
		cprof__bench_json_end(R.out, !R.any_failed, secs);
	} else if (R.any_failed) {
		fprintf(R.out, "FAIL\nFAIL\t%s\t%.3fs\n", pkg_name, secs);
	} else {
		fprintf(R.out, "PASS\nok  \t%s\t%.3fs\n", pkg_name, secs);
	}
	fflush(R.out);
	cprof__bench_matcher_free(R.match);
	cprof__bench_unique_reset();
	free(R.o.cpus);
	return R.any_failed ? 1 : 0;
}
