/*
 * test_bench_harness.c - exact tests of libcprof-bench's pure parts: the
 * result line against strings printed by Go's own
 * testing.BenchmarkResult.String/MemString (go1.19, generated once for the
 * cases below), Go durations, the -bench matcher's splitting and partial
 * matches, and unique sub-benchmark names.
 */
#include <stdint.h>
#include <stdlib.h>

#include "bench/bench.h"
#include "check.h"

struct fcase {
	long n;
	int64_t t;
	int64_t bytes;
	uint64_t ma, mb;
	int mem;
	const char *units[4];
	double values[4];
	const char *want;
};

/* want: Go's r.String() (+ "\t" + r.MemString() when mem). */
static const struct fcase fcases[] = {
	{1, 0, 0, 0, 0, 0, {0}, {0}, "       1"},
	{100000, 99995000, 0, 0, 0, 0, {0}, {0}, "  100000\t      1000 ns/op"},
	{100000, 99994999, 0, 0, 0, 0, {0}, {0}, "  100000\t       999.9 ns/op"},
	{100000, 9999500, 0, 0, 0, 0, {0}, {0}, "  100000\t       100.0 ns/op"},
	{100000, 9999499, 0, 0, 0, 0, {0}, {0}, "  100000\t        99.99 ns/op"},
	{100000, 999950, 0, 0, 0, 0, {0}, {0}, "  100000\t        10.00 ns/op"},
	{100000, 999949, 0, 0, 0, 0, {0}, {0}, "  100000\t         9.999 ns/op"},
	{100000, 99995, 0, 0, 0, 0, {0}, {0}, "  100000\t         1.000 ns/op"},
	{100000, 99994, 0, 0, 0, 0, {0}, {0}, "  100000\t         0.9999 ns/op"},
	{1000000, 99995, 0, 0, 0, 0, {0}, {0}, " 1000000\t         0.1000 ns/op"},
	{1000000, 9999, 0, 0, 0, 0, {0}, {0}, " 1000000\t         0.009999 ns/op"},
	{10000000, 9999, 0, 0, 0, 0, {0}, {0}, "10000000\t         0.0009999 ns/op"},
	{100000000, 9999, 0, 0, 0, 0, {0}, {0}, "100000000\t         0.0001000 ns/op"},
	{1000000000, 9999, 0, 0, 0, 0, {0}, {0}, "1000000000\t         0.0000100 ns/op"},
	{1000000000, 1, 0, 0, 0, 0, {0}, {0}, "1000000000\t         0.0000000 ns/op"},
	{3, 1000000007, 0, 0, 0, 0, {0}, {0}, "       3\t 333333336 ns/op"},
	{123456789, 987654321012, 0, 0, 0, 0, {0}, {0}, "123456789\t      8000 ns/op"},
	{1000, 2568, 64, 0, 0, 0, {0}, {0}, "    1000\t         2.568 ns/op\t24922.12 MB/s"},
	{1000, 2568, 64, 0, 0, 1, {"widgets/op"}, {3.5},
	 "    1000\t         2.568 ns/op\t24922.12 MB/s\t         3.500 widgets/op\t       0 B/op\t       0 allocs/op"},
	{1000, 2568, 0, 3001, 330999, 1, {0}, {0}, "    1000\t         2.568 ns/op\t     330 B/op\t       3 allocs/op"},
	{7, 7000, 0, 20, 6, 1, {0}, {0}, "       7\t      1000 ns/op\t       0 B/op\t       2 allocs/op"},
	{1000, 5000, 1, 0, 0, 0, {"zeta/op", "alpha", "Mid/op"}, {1e-9, 12345.678, -2.5},
	 "    1000\t         5.000 ns/op\t 200.00 MB/s\t        -2.500 Mid/op\t     12346 alpha\t         0.0000000 zeta/op"},
	{1000, 5000, 0, 0, 0, 0, {"ns/op", "x/op"}, {0, 1}, "    1000\t         1.000 x/op"},
	{1000, 5000, 100, 0, 0, 1, {"ns/op", "MB/s", "B/op", "allocs/op"}, {42.5, 7, 9, 2},
	 "    1000\t        42.50 ns/op\t   7.00 MB/s\t       9 B/op\t       2 allocs/op"},
	{50, 1000000000, 1 << 20, 0, 0, 0, {0}, {0}, "      50\t  20000000 ns/op\t  52.43 MB/s"},
};

static void format_as_go(void)
{
	for (size_t i = 0; i < sizeof fcases / sizeof fcases[0]; i++) {
		const struct fcase *c = &fcases[i];
		struct bench_metric m[4];
		size_t k = 0;
		for (; k < 4 && c->units[k]; k++) {
			m[k].unit = (char *)c->units[k];
			m[k].value = c->values[k];
		}
		struct bench_result r = {c->n, c->t, c->bytes, c->ma, c->mb, m, k, c->mem};
		char out[1024];
		cprof__bench_format_result(&r, out, sizeof out);
		CHECK_EQ_STR(out, c->want);
	}
}

static void durations(void)
{
	static const struct {
		const char *s;
		int64_t ns;
	} ok[] = {{"1s", 1000000000},   {"1.5s", 1500000000}, {"300ms", 300000000}, {"1m30s", 90000000000},
		  {"2h45m", 9900000000000}, {"1us", 1000},     {"1\xc2\xb5s", 1000},  {"100ns", 100},
		  {"0", 0},              {"-1s", -1000000000}, {".5s", 500000000},  {"1h", 3600000000000}};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int64_t v = -7;
		CHECK_EQ_INT(cprof__bench_parse_duration(ok[i].s, &v), 0);
		CHECK_EQ_INT(v, ok[i].ns);
	}
	static const char *const bad[] = {"", "1", "s", "1x", "1sec", "1d", "abc", "1s2", "+"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t v;
		CHECK_EQ_INT(cprof__bench_parse_duration(bad[i], &v), -1);
	}
}

static int match(struct bench_matcher *m, const char *name, int *partial)
{
	return cprof__bench_matcher_match(m, name, partial);
}

static void matcher(void)
{
	int p;
	struct bench_matcher *m = cprof__bench_matcher_new("Sub/long", "bench");
	CHECK(m != NULL);
	CHECK(match(m, "BenchmarkSub", &p) && p == 1); /* only a group on the way */
	CHECK(match(m, "BenchmarkSub/long-name-here", &p) && p == 0);
	CHECK(!match(m, "BenchmarkSub/a_b", &p));
	CHECK(!match(m, "BenchmarkAdd", &p));
	cprof__bench_matcher_free(m);

	/* '|' at the top splits alternatives; each has its own levels */
	m = cprof__bench_matcher_new("Foo|Bar/x", "bench");
	CHECK(match(m, "BenchmarkFoo/y", &p) && p == 0);
	CHECK(!match(m, "BenchmarkBar/y", &p));
	CHECK(match(m, "BenchmarkBar/x", &p) && p == 0);
	CHECK(match(m, "BenchmarkBar", &p) && p == 1);
	cprof__bench_matcher_free(m);

	/* inside () and [] neither '|' nor '/' splits */
	m = cprof__bench_matcher_new("(A|B)$/[/]?c", "bench");
	CHECK(match(m, "BenchmarkB/c", &p) && p == 0);
	CHECK(!match(m, "BenchmarkC/c", &p));
	cprof__bench_matcher_free(m);

	/* an empty part matches anything; spaces in a pattern are written as '_' */
	m = cprof__bench_matcher_new("/a b", "bench");
	CHECK(match(m, "BenchmarkAny/xa_by", &p) && p == 0);
	cprof__bench_matcher_free(m);

	CHECK(match(NULL, "BenchmarkAnything", &p) && p == 0);
	CHECK(cprof__bench_matcher_new("(", "bench") == NULL); /* prints the error */
}

static void unique_names(void)
{
	cprof__bench_unique_reset();
	char *a = cprof__bench_unique_name("BenchmarkX", "a b");
	char *b = cprof__bench_unique_name("BenchmarkX", "a b");
	char *c = cprof__bench_unique_name("BenchmarkX", "x");
	char *d = cprof__bench_unique_name("BenchmarkX", "x");
	char *e = cprof__bench_unique_name("BenchmarkX", "x#01");
	char *f = cprof__bench_unique_name("BenchmarkX", "");
	char *g = cprof__bench_unique_name("BenchmarkX", "");
	char *h = cprof__bench_unique_name("BenchmarkX", "tab\there");
	CHECK_EQ_STR(a, "BenchmarkX/a_b");
	CHECK_EQ_STR(b, "BenchmarkX/a_b#01");
	CHECK_EQ_STR(c, "BenchmarkX/x");
	CHECK_EQ_STR(d, "BenchmarkX/x#01");
	CHECK_EQ_STR(e, "BenchmarkX/x#01#01");
	CHECK_EQ_STR(f, "BenchmarkX/#00");
	CHECK_EQ_STR(g, "BenchmarkX/#01");
	CHECK_EQ_STR(h, "BenchmarkX/tab_here");
	free(a), free(b), free(c), free(d), free(e), free(f), free(g), free(h);
	cprof__bench_unique_reset();
}

int main(void)
{
	RUN(format_as_go);
	RUN(durations);
	RUN(matcher);
	RUN(unique_names);
	return check_failed_total ? 1 : 0;
}
