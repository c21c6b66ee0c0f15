/*
 * bench.h - what the files of libcprof-bench share: the run's options
 * (flags.c), the name matcher (flags.c), the result writer (output.c) and the
 * per-benchmark state (bench.c). Everything here runs on the thread that
 * called cprof_bench_main().
 */
#ifndef CPROF_SRC_BENCH_H
#define CPROF_SRC_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cprof/bench.h"

#define CPROF_API __attribute__((visibility("default")))

/* The run's options, from the command line (flags.c). */
struct bench_opts {
	const char *bench;       /* -bench regexp; NULL when not given */
	int64_t benchtime_ns;    /* -benchtime as a duration, or */
	long benchtime_n;        /* -benchtime=Nx (> 0 when given so) */
	const char *benchtime_s; /* as written, for messages */
	long count;              /* -count */
	int *cpus;               /* -cpu list */
	int ncpus;
	int benchmem;            /* -benchmem */
	int verbose;             /* -v */
	int json;                /* -json */
	int64_t timeout_ns;      /* -timeout, 0 = none */
	const char *timeout_s;
	const char *list;        /* -list regexp */
	const char *cpuprofile;  /* -cpuprofile */
	const char *memprofile;  /* -memprofile */
	long memprofilerate;     /* -memprofilerate (0: the runtime's default) */
	const char *blockprofile; /* -blockprofile */
	long blockprofilerate;    /* -blockprofilerate (ns; default 1: every wait) */
	const char *mutexprofile; /* -mutexprofile */
	long mutexprofilefraction; /* -mutexprofilefraction (default 1: every contention) */
	const char *trace;        /* -trace: an execution trace of the run */
};

/* Parse argv into *o. Returns 0, 1 after printing the help (-h), or 2
 * after printing an error on stderr. */
int cprof__bench_flags_parse(struct bench_opts *o, int argc, char **argv, int default_procs);
/* Parse a Go duration ("1.5s", "300ms", "1m30s"). 0 or -1. */
int cprof__bench_parse_duration(const char *s, int64_t *ns);

/* Turn on the profilers the flags ask for (0, or -1 after an error on
 * stderr), and write their files at the end (profiles.c). */
int cprof__bench_profiles_start(const struct bench_opts *o);
int cprof__bench_profiles_write(const struct bench_opts *o);

/* The -bench matcher: Go's splitting at '/' and '|' outside brackets and
 * parentheses, one POSIX extended regexp per name level. */
struct bench_matcher;
/* NULL (and an error printed) when a part does not compile. */
struct bench_matcher *cprof__bench_matcher_new(const char *pattern, const char *flag);
void cprof__bench_matcher_free(struct bench_matcher *m);
/* Does the full name (levels separated by '/') match? *partial: the pattern
 * has more levels than the name. A NULL matcher matches everything. */
int cprof__bench_matcher_match(struct bench_matcher *m, const char *name, int *partial);
/* "parent/rewritten-sub", made unique with #01, #02, ... as Go does. The
 * result is malloc'd. */
char *cprof__bench_unique_name(const char *parent, const char *sub);
void cprof__bench_unique_reset(void);

/* One measured result, as Go's BenchmarkResult. */
struct bench_metric {
	char *unit;
	double value;
};
struct bench_result {
	long n;
	int64_t t_ns;
	int64_t bytes;
	uint64_t mem_allocs, mem_bytes;
	struct bench_metric *extra;
	size_t nextra;
	int show_mem;      /* B/op and allocs/op are printed */
};

/* The result line's fields after the name, Go's BenchmarkResult.String()
 * plus MemString() when r->show_mem: written into out (NUL-terminated). */
void cprof__bench_format_result(const struct bench_result *r, char *out, size_t size);
/* "goos:", "goarch:", "pkg:", "cpu:" lines. */
void cprof__bench_print_labels(FILE *f, const char *pkg);
/* The -json records (docs/USAGE.md, "Benchmarks"). */
void cprof__bench_json_config(FILE *f, const char *pkg);
void cprof__bench_json_result(FILE *f, const char *name, const char *base, int procs, long run,
			      const struct bench_result *r, const char *log, size_t loglen);
void cprof__bench_json_event(FILE *f, const char *type, const char *name, const char *log, size_t loglen);
void cprof__bench_json_end(FILE *f, int pass, double seconds);

/* ns/op, MB/s, B/op, allocs/op as Go computes them (overridden by metrics). */
double cprof__bench_ns_per_op(const struct bench_result *r);
double cprof__bench_mb_per_s(const struct bench_result *r);
int64_t cprof__bench_allocs_per_op(const struct bench_result *r);
int64_t cprof__bench_bytes_per_op(const struct bench_result *r);

#endif
