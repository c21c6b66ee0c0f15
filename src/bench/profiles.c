/*
 * profiles.c - the profiles a benchmark run writes, as go test's flags ask
 * for them: started before the first benchmark, written after the last
 * (so they cover the whole run, the harness included, as Go's do). The
 * profilers themselves are libcprof's; this file only turns them on and
 * writes their files. Called from cprof_bench_main's thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cprof.h"

/* The profilers that not every libcprof has: weak, NULL when absent, so that
 * the harness loads with any libcprof and says which flag it cannot serve. */
extern int cprof_heap_profile_start(long rate) __attribute__((weak));
extern int cprof_heap_profile_write_path(const char *name, const char *path) __attribute__((weak));
extern int cprof_block_profile_set_rate(int64_t rate_ns) __attribute__((weak));
extern int cprof_mutex_profile_set_fraction(int64_t n) __attribute__((weak));
extern int cprof_trace_start_path(const char *path) __attribute__((weak));
extern int cprof_trace_stop(void) __attribute__((weak));

static int missing(const char *flag, const char *what)
{
	fprintf(stderr, "cprof: -%s: this libcprof has no %s\n", flag, what);
	return -1;
}

int cprof__bench_profiles_start(const struct bench_opts *o)
{
	/* every profiler asked for must exist before any starts */
	if (o->memprofile && (!cprof_heap_profile_start || !cprof_heap_profile_write_path))
		return missing("memprofile", "heap profiler");
	if (o->blockprofile && !cprof_block_profile_set_rate)
		return missing("blockprofile", "block profiler");
	if (o->mutexprofile && !cprof_mutex_profile_set_fraction)
		return missing("mutexprofile", "mutex profiler");
	if (o->trace && (!cprof_trace_start_path || !cprof_trace_stop))
		return missing("trace", "execution tracer");
	if (o->trace) {
		int e = cprof_trace_start_path(o->trace);
		if (e) {
			fprintf(stderr, "cprof: -trace=%s: %s\n", o->trace,
				e == -EBUSY ? "a trace is already running (is CPROF_TRACE set?)" : strerror(-e));
			return -1;
		}
	}
	if (o->cpuprofile) {
		int e = cprof_cpu_profile_start_path(o->cpuprofile);
		if (e) {
			fprintf(stderr, "cprof: -cpuprofile=%s: %s\n", o->cpuprofile,
				e == -EBUSY ? "a CPU profile is already running (is CPROF_CPUPROFILE set?)" : strerror(-e));
			return -1;
		}
	}
	if (o->memprofile) {
		int e = cprof_heap_profile_start(o->memprofilerate);
		if (e) {
			fprintf(stderr, "cprof: -memprofile=%s: cannot start the heap profiler: %s\n", o->memprofile,
				strerror(-e));
			return -1;
		}
	}
	/* go test turns these on only with their profile's flag */
	if (o->blockprofile) {
		int e = cprof_block_profile_set_rate(o->blockprofilerate);
		if (e) {
			fprintf(stderr, "cprof: -blockprofile=%s: %s\n", o->blockprofile, strerror(-e));
			return -1;
		}
	}
	if (o->mutexprofile) {
		int e = cprof_mutex_profile_set_fraction(o->mutexprofilefraction);
		if (e) {
			fprintf(stderr, "cprof: -mutexprofile=%s: %s\n", o->mutexprofile, strerror(-e));
			return -1;
		}
	}
	return 0;
}

static int write_named(const char *flag, const char *name, const char *path)
{
	int e = cprof_profile_write_path(name, path, 0);
	if (e) {
		fprintf(stderr, "cprof: -%s=%s: writing the profile: %s\n", flag, path, strerror(-e));
		return -1;
	}
	return 0;
}

int cprof__bench_profiles_write(const struct bench_opts *o)
{
	int bad = 0;
	if (o->cpuprofile) {
		int e = cprof_cpu_profile_stop();
		if (e) {
			fprintf(stderr, "cprof: -cpuprofile=%s: writing the profile: %s\n", o->cpuprofile, strerror(-e));
			bad = 1;
		}
	}
	if (o->memprofile) {
		/* go test -memprofile writes the allocs profile: everything
		 * allocated during the run, alloc_space shown by default */
		int e = cprof_heap_profile_write_path("allocs", o->memprofile);
		if (e) {
			fprintf(stderr, "cprof: -memprofile=%s: writing the profile: %s\n", o->memprofile, strerror(-e));
			bad = 1;
		}
	}
	if (o->blockprofile && write_named("blockprofile", "block", o->blockprofile))
		bad = 1;
	if (o->mutexprofile && write_named("mutexprofile", "mutex", o->mutexprofile))
		bad = 1;
	if (o->trace) {
		int e = cprof_trace_stop();
		if (e) {
			fprintf(stderr, "cprof: -trace=%s: writing the trace: %s\n", o->trace, strerror(-e));
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}
