/*
 * pprof_reports_gen.c - writes synthetic profiles for tests/e2e/pprof_reports.sh,
 * each aimed at rules of the text reports (-raw, -traces, -tags, -tree) that
 * Go runtime profiles do not exercise: labels of every shape, samples that
 * pprof merges or drops, mapping-less profiles, lineless and folded
 * locations, C++-looking names, and odd times and durations.
 *
 * Usage: pprof_reports_gen DIR (writes DIR/rep-*.pb.gz).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/profile.h"

static int save(const char *dir, const char *name, struct profile *p)
{
	char path[4096];
	uint8_t *data = NULL;
	size_t len = 0;
	if (!p || cprof__profile_encode_gz(p, &data, &len) < 0) {
		fprintf(stderr, "%s: out of memory\n", name);
		cprof__profile_free(p);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s.pb.gz", dir, name);
	FILE *f = fopen(path, "wb");
	int rc = !f || fwrite(data, 1, len, f) != len;
	if (f && fclose(f) != 0)
		rc = 1;
	if (rc)
		perror(path);
	free(data);
	cprof__profile_free(p);
	return rc;
}

static uint64_t fn(struct profile *p, const char *name, const char *sys, const char *file)
{
	struct pp_function *f = cprof__profile_add_function(p, name, sys, file, 7);
	return f ? f->id : 0;
}

static uint64_t loc(struct profile *p, uint64_t m, uint64_t addr, uint64_t f1, uint64_t f2)
{
	struct pp_line line[2] = {{.function_id = f1, .line = 12}, {.function_id = f2, .line = 40}};
	struct pp_location *l = cprof__profile_add_location(p, m, addr, line, f1 ? (f2 ? 2 : 1) : 0);
	return l ? l->id : 0;
}

static int64_t s(struct profile *p, const char *str)
{
	return cprof__profile_intern(p, str, (size_t)-1);
}

static void sample(struct profile *p, const uint64_t *locs, size_t n, int64_t v0, int64_t v1,
		   const struct pp_label *l, size_t nl)
{
	int64_t v[2] = {v0, v1};
	cprof__profile_add_sample(p, locs, n, v, 2, l, nl);
}

/*
 * Labels: several values per key, a key that prefixes another ("a", "a.b"),
 * numeric labels with and without units and the keys pprof gives units
 * ("request", "bytes"), equal samples to merge, a zero sample to drop, a
 * sample without locations, values that cancel out.
 */
static struct profile *labels(void)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "samples", "count");
	cprof__profile_add_sample_type(p, "cpu", "nanoseconds");
	p->period_type.type = s(p, "cpu");
	p->period_type.unit = s(p, "nanoseconds");
	p->period = 10000000;
	p->time_nanos = 1600000000123456789LL;
	p->duration_nanos = 1234567; /* "1.234567ms" truncated to 4 runes */
	cprof__profile_add_comment(p, "first comment");
	cprof__profile_add_comment(p, "#hidden comment");
	struct pp_mapping *m = cprof__profile_add_mapping(p);
	if (!m)
		return p;
	m->memory_start = 0x400000;
	m->memory_limit = 0x401000;
	m->filename = s(p, "/usr/bin/labelled");
	m->build_id = s(p, "abc123");
	m->has_functions = m->has_filenames = m->has_line_numbers = true;
	uint64_t fa = fn(p, "alpha", "alpha", "/src/./a.c");
	uint64_t fb = fn(p, "beta", "beta", "/src/b/../b.c");
	uint64_t fc = fn(p, "gamma", "_Z5gammav", "src/c.c");
	uint64_t l1 = loc(p, 1, 0x400100, fa, fb);
	uint64_t l2 = loc(p, 1, 0x400200, fc, 0);
	uint64_t l3 = loc(p, 1, 0x400300, 0, 0);
	uint64_t st1[] = {l1, l2}, st2[] = {l2}, st3[] = {l3, l2};
	struct pp_label a[] = {
		{.key = s(p, "worker"), .str = s(p, "w1")},
		{.key = s(p, "phase"), .str = s(p, "init")},
		{.key = s(p, "worker"), .str = s(p, "w2")},
		{.key = s(p, "a"), .str = s(p, "x")},
		{.key = s(p, "a.b"), .str = s(p, "y")},
		{.key = s(p, "bytes"), .num = 4096},
		{.key = s(p, "request"), .num = 300},
		{.key = s(p, "wait"), .num = 1500000, .num_unit = s(p, "nanoseconds")},
		{.key = s(p, "count"), .num = 3},
		{.key = s(p, "count"), .num = 5},
	};
	sample(p, st1, 2, 1, 10000000, a, 10);
	sample(p, st1, 2, 2, 20000000, a, 10);  /* merged into the first */
	sample(p, st1, 2, 1, 10000000, a, 3);   /* other labels: its own */
	sample(p, st2, 1, 0, 0, a, 1);          /* zero: dropped */
	sample(p, st3, 2, 4, 40000000, a + 5, 2);
	sample(p, NULL, 0, 2, 20000000, a, 1);  /* no locations */
	sample(p, st2, 1, 3, 30000000, NULL, 0);
	sample(p, st2, 1, -3, -30000000, NULL, 0); /* cancels the previous one */
	sample(p, st2, 1, 1, 5000, a + 1, 1);
	return p;
}

/* No mappings (pprof adds a fake one), folded and lineless locations, C++ names. */
static struct profile *nomap(void)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "alloc_objects", "count");
	cprof__profile_add_sample_type(p, "alloc_space", "bytes");
	p->default_sample_type = s(p, "alloc_objects");
	p->duration_nanos = 3723000000000LL; /* 1h2m3s */
	uint64_t f1 = fn(p, "ns::Klass<int>::method(int) const", "ns::Klass<int>::method(int) const", "k.cc");
	uint64_t f2 = fn(p, "", "std::vector<int>::push_back(int&&)", "/usr/include/vector");
	uint64_t f3 = fn(p, "main", "main", "main.cc");
	uint64_t l1 = loc(p, 0, 0x1000, f1, f2);
	uint64_t l2 = loc(p, 0, 0x2000, f3, 0);
	uint64_t l3 = loc(p, 0, 0x3000, 0, 0);
	struct pp_location *lf = (struct pp_location *)cprof__profile_location(p, l2);
	if (lf)
		lf->is_folded = true;
	uint64_t st1[] = {l1, l2}, st2[] = {l3, l2}, st3[] = {l1, l1, l2};
	struct pp_label b[] = {{.key = s(p, "bytes"), .num = 1 << 20}};
	sample(p, st1, 2, 5, 5 << 20, b, 1);
	sample(p, st2, 2, 1, 100, NULL, 0);
	sample(p, st3, 3, 2, 2048, NULL, 0);
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pprof_reports_gen DIR\n");
		return 2;
	}
	int rc = 0;
	rc |= save(argv[1], "rep-labels", labels());
	rc |= save(argv[1], "rep-nomap", nomap());
	return rc;
}
