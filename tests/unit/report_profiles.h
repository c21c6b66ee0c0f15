/*
 * report_profiles.h - synthetic profiles for the report engine's tests,
 * shared by tests/unit/test_report.c (exact expected text) and
 * tests/e2e/pprof_top_gen.c (which writes them to files so that
 * tests/e2e/pprof_top.sh can compare against `go tool pprof`).
 *
 * Each builder returns a new profile (NULL on out of memory). Names are
 * chosen to exercise one rule each; see the comment on every builder.
 */
#ifndef CPROF_TESTS_REPORT_PROFILES_H
#define CPROF_TESTS_REPORT_PROFILES_H

#include <stdio.h>

#include "proto/profile.h"

static uint64_t rp_fn(struct profile *p, const char *name)
{
	struct pp_function *f = cprof__profile_add_function(p, name, name, "src/file.c", 1);
	return f ? f->id : 0;
}

/* One location per call: lines given innermost first (inlined frames first). */
static uint64_t rp_loc(struct profile *p, uint64_t mapping, uint64_t addr, const uint64_t *fns,
		       size_t n)
{
	struct pp_line line[8] = {{0}};
	for (size_t i = 0; i < n && i < 8; i++) {
		line[i].function_id = fns[i];
		line[i].line = (int64_t)(10 + i);
	}
	struct pp_location *l = cprof__profile_add_location(p, mapping, addr, line, n);
	return l ? l->id : 0;
}

static void rp_sample(struct profile *p, const uint64_t *locs, size_t n, int64_t v0, int64_t v1)
{
	int64_t v[2] = {v0, v1};
	cprof__profile_add_sample(p, locs, n, v, p->nsample_type, NULL, 0);
}

static struct pp_mapping *rp_mapping(struct profile *p, const char *file, const char *build_id)
{
	struct pp_mapping *m = cprof__profile_add_mapping(p);
	if (!m)
		return NULL;
	m->memory_start = 0x400000;
	m->memory_limit = 0x500000;
	m->filename = cprof__profile_intern(p, file, (size_t)-1);
	m->build_id = cprof__profile_intern(p, build_id, (size_t)-1);
	m->has_functions = true;
	return m;
}

/*
 * pprof's own test profile (internal/driver testdata "cpu"): inlined frames,
 * 1s/100ms/10ms/10ms samples so 10ms prints as 0.01s next to 1.12s. With
 * File, Build ID, a visible and a hidden ('#') comment, Time and Duration.
 */
static struct profile *rp_inline(void)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "samples", "count");
	cprof__profile_add_sample_type(p, "cpu", "milliseconds");
	p->period_type.type = cprof__profile_intern(p, "cpu", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "milliseconds", (size_t)-1);
	p->period = 1;
	p->duration_nanos = 10000000000LL;
	p->time_nanos = 1571696220000000000LL; /* Oct 21, 2019 22:17 UTC */
	cprof__profile_add_comment(p, "a comment shown in the header");
	cprof__profile_add_comment(p, "#a comment pprof hides");
	rp_mapping(p, "/usr/local/bin/testbinary", "buildid-abc123");
	uint64_t f1000 = rp_fn(p, "line1000"), f2000 = rp_fn(p, "line2000"),
		 f2001 = rp_fn(p, "line2001"), f3000 = rp_fn(p, "line3000"),
		 f3001 = rp_fn(p, "line3001"), f3002 = rp_fn(p, "line3002");
	uint64_t l1 = rp_loc(p, 1, 0x401000, (uint64_t[]){f1000}, 1);
	uint64_t l2 = rp_loc(p, 1, 0x402000, (uint64_t[]){f2001, f2000}, 2);
	uint64_t l3 = rp_loc(p, 1, 0x403000, (uint64_t[]){f3002, f3001, f3000}, 3);
	uint64_t l4 = rp_loc(p, 1, 0x404000, (uint64_t[]){f3001, f3000}, 2);
	uint64_t l5 = rp_loc(p, 1, 0x405000, (uint64_t[]){f3002, f3000}, 2);
	rp_sample(p, (uint64_t[]){l1, l2, l3}, 3, 1000, 1000);
	rp_sample(p, (uint64_t[]){l1, l4}, 2, 100, 100);
	rp_sample(p, (uint64_t[]){l2, l5}, 2, 10, 10);
	rp_sample(p, (uint64_t[]){l3}, 1, 10, 10);
	return p;
}

/*
 * Negative values (a diff): bytes in the TB range next to small negatives,
 * a function whose values cancel to zero (dropped from the report), equal
 * |flat| values sorted by name, no Time, no Duration, no mapping.
 */
static struct profile *rp_negative(void)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "alloc_objects", "count");
	cprof__profile_add_sample_type(p, "alloc_space", "bytes");
	uint64_t fa = rp_fn(p, "alpha"), fb = rp_fn(p, "beta"), fc = rp_fn(p, "gamma"),
		 fd = rp_fn(p, "delta"), fm = rp_fn(p, "main");
	uint64_t la = rp_loc(p, 0, 0, (uint64_t[]){fa}, 1);
	uint64_t lb = rp_loc(p, 0, 0, (uint64_t[]){fb}, 1);
	uint64_t lc = rp_loc(p, 0, 0, (uint64_t[]){fc}, 1);
	uint64_t ld = rp_loc(p, 0, 0, (uint64_t[]){fd}, 1);
	uint64_t lm = rp_loc(p, 0, 0, (uint64_t[]){fm}, 1);
	rp_sample(p, (uint64_t[]){la, lm}, 2, 3, 3LL << 40);
	rp_sample(p, (uint64_t[]){lb, lm}, 2, -2, -(5LL << 20));
	rp_sample(p, (uint64_t[]){ld, lm}, 2, 2, 5LL << 20);
	rp_sample(p, (uint64_t[]){lc, lm}, 2, 1, 4096);
	rp_sample(p, (uint64_t[]){lc, lm}, 2, -1, -4096);
	return p;
}

/* Every value zero (total 0), a duration, count units: "Total samples = 0 ". */
static struct profile *rp_zero(void)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "events", "count");
	p->duration_nanos = 1500000000;
	rp_mapping(p, "prog", "");
	uint64_t f = rp_fn(p, "work");
	uint64_t l = rp_loc(p, 1, 0x401000, &f, 1);
	rp_sample(p, &l, 1, 0, 0);
	return p;
}

/*
 * Frames without names: a location without lines in a mapped library
 * ("[libfoo.so]"), one without mapping ("<unknown>"), a function known only
 * by its system name, C++ names pprof simplifies, an unknown unit printed
 * as is, default_sample_type picking the first value, and 60 small
 * functions so that nodefraction drops some.
 */
static struct profile *rp_misc(void)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "widgets", "widget");
	cprof__profile_add_sample_type(p, "gadgets", "count");
	p->default_sample_type = cprof__profile_intern(p, "widgets", (size_t)-1);
	p->duration_nanos = 2000000000;
	p->time_nanos = 1700000000123456789LL;
	rp_mapping(p, "/opt/app/server", "");
	rp_mapping(p, "/usr/lib/libfoo.so.1", "");
	p->mapping[1].memory_start = 0x7f0000000000;
	p->mapping[1].memory_limit = 0x7f0000100000;
	uint64_t fm = rp_fn(p, "main");
	struct pp_function *fs = cprof__profile_add_function(p, "", "sys_only_name", "", 0);
	uint64_t fsys = fs ? fs->id : 0;
	uint64_t fcpp = rp_fn(p, "ns::Widget<int>::draw(int) const");
	uint64_t fcpp2 = rp_fn(p, "std::vector<ns::Widget<int> >::push_back(ns::Widget<int> const&)");
	struct pp_function *fn = cprof__profile_add_function(p, "", "", "", 42);
	uint64_t fnameless = fn ? fn->id : 0;
	uint64_t lm = rp_loc(p, 1, 0x401000, &fm, 1);
	uint64_t llib = rp_loc(p, 2, 0x7f0000001000, NULL, 0);
	uint64_t lunk = rp_loc(p, 0, 0x1234, NULL, 0);
	uint64_t lsys = rp_loc(p, 1, 0x402000, &fsys, 1);
	uint64_t lcpp = rp_loc(p, 1, 0x403000, &fcpp, 1);
	uint64_t lcpp2 = rp_loc(p, 1, 0x404000, &fcpp2, 1);
	uint64_t lnl = rp_loc(p, 1, 0x405000, &fnameless, 1);
	rp_sample(p, (uint64_t[]){llib, lm}, 2, 5000, 1);
	rp_sample(p, (uint64_t[]){lunk, lm}, 2, 3000, 2);
	rp_sample(p, (uint64_t[]){lsys, lm}, 2, 3000, 3);
	rp_sample(p, (uint64_t[]){lcpp, lcpp2, lm}, 2 + 1, 2000, 4);
	rp_sample(p, (uint64_t[]){lnl, lm}, 2, 1000, 5);
	for (int i = 0; i < 60; i++) {
		char name[32];
		snprintf(name, sizeof(name), "small_%02d", i);
		uint64_t f = rp_fn(p, name);
		uint64_t l = rp_loc(p, 1, 0x410000 + (uint64_t)i * 16, &f, 1);
		rp_sample(p, (uint64_t[]){l, lm}, 2, 10 + i, 1);
	}
	return p;
}

/* Nanosecond values in the hours, no mapping, a profile with samples of one type. */
static struct profile *rp_hours(void)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "delay", "nanoseconds");
	p->duration_nanos = 60000000000LL;
	uint64_t fa = rp_fn(p, "waiter"), fb = rp_fn(p, "sleeper"), fm = rp_fn(p, "main");
	uint64_t la = rp_loc(p, 0, 0, &fa, 1), lb = rp_loc(p, 0, 0, &fb, 1),
		 lm = rp_loc(p, 0, 0, &fm, 1);
	rp_sample(p, (uint64_t[]){la, lm}, 2, 7200000000000LL, 0);
	rp_sample(p, (uint64_t[]){lb, lm}, 2, 1500, 0);
	rp_sample(p, (uint64_t[]){lm}, 1, 250000, 0);
	return p;
}

/* No samples at all. */
static struct profile *rp_empty(void)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "samples", "count");
	cprof__profile_add_sample_type(p, "cpu", "nanoseconds");
	p->period_type.type = cprof__profile_intern(p, "cpu", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "nanoseconds", (size_t)-1);
	p->period = 10000000;
	p->duration_nanos = 5000000000LL;
	return p;
}

#endif
