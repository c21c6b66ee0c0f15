/*
 * test_benchstat.c - unit tests of `cprof benchstat`'s pieces
 * (src/cli/benchstat): the Mann-Whitney U test against go-moremath's test
 * vectors (exact without ties, with ties, the normal approximation on 500
 * and 600 samples), the median confidence interval's order statistics
 * against the reference's table at 0.95 and 0.99 for n = 1..60, the R8
 * median, the sample-size footnotes, number scaling and Go's %v, unit
 * tidying, cell texts, and the reader's handling of configuration lines,
 * unit metadata and malformed results.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/benchstat/benchstat.h"

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-12 * fmax(1, fabs(b));
}

static double p_of(const double *x, int n1, const double *y, int n2, double *umin)
{
	double p, u1;
	if (cprof__bs_utest(x, n1, y, n2, &p, &u1) < 0)
		return -1;
	double u2 = (double)n1 * n2 - u1;
	*umin = u1 < u2 ? u1 : u2;
	return p;
}

static void utest_small(void)
{
	static const double s1[] = {2, 1, 3, 5}, s2[] = {12, 11, 13, 15}, s3[] = {0, 4, 6, 7},
			    s4[] = {2, 2, 2, 2}, s5[] = {1, 1, 1, 1, 1};
	double u, p;
	p = p_of(s1, 4, s2, 4, &u);
	CHECK(near(p, 0.028571428571428577) && u == 0);
	p = p_of(s2, 4, s1, 4, &u);
	CHECK(near(p, 0.028571428571428577) && u == 0);
	p = p_of(s1, 4, s3, 4, &u);
	CHECK(near(p, 0.485714285714285770) && u == 5);
	/* ties: the distribution is conditioned on them */
	p = p_of(s1, 4, s1, 4, &u);
	CHECK(p == 1 && u == 8);
	p = p_of(s1, 4, s4, 4, &u);
	CHECK(near(p, 0.7142857142857143) && u == 6);
	/* heavy ties can give p = 0: the reference's quirk, kept */
	p = p_of(s1, 4, s5, 5, &u);
	CHECK(p == 0 && u == 2.5);
	double uu;
	CHECK(cprof__bs_utest(s4, 4, s4, 4, &p, &uu) == -1);
}

static void utest_large(void)
{
	double *l1 = malloc(500 * sizeof(double)), *l2 = malloc(600 * sizeof(double)),
	       *l3 = malloc(600 * sizeof(double));
	for (int i = 0; i < 500; i++)
		l1[i] = i * 2;
	for (int i = 0; i < 600; i++)
		l2[i] = l3[i] = i * 2 - 41;
	for (int i = 0; i < 30; i++)
		l3[i] = l1[i];
	double u, p;
	p = p_of(l1, 500, l2, 600, &u);
	CHECK(near(p, 0.0049335360814172224) && u == 135250);
	p = p_of(l1, 500, l1, 500, &u);
	CHECK(p == 1 && u == 125000);
	p = p_of(l1, 500, l3, 600, &u);
	CHECK(near(p, 0.0038703814239617884) && u == 134845);
	free(l1);
	free(l2);
	free(l3);
}

/* The example of the reference's documentation: gob, U1 = 39.5 with ties, p = 0.446. */
static void utest_doc_example(void)
{
	static const double gold[] = {3069, 3075, 3069, 3067, 3207, 3064, 3064, 3058, 3059, 3062};
	static const double gnew[] = {3075, 3065, 3059, 3065, 3060, 3081, 3186, 3135, 3087, 3062};
	double p, u1;
	CHECK(cprof__bs_utest(gold, 10, gnew, 10, &p, &u1) == 0);
	CHECK(u1 == 39.5);
	CHECK(fabs(p - 0.44610) < 5e-6);
	char s[64];
	struct bs_cmp c = {p, 0.05, 10, 10, NULL};
	cprof__bs_cmp_string(s, sizeof(s), &c);
	CHECK_EQ_STR(s, "p=0.446 n=10");
}

/* go-moremath QuantileCI(n, 0.5, c), n = 1..60 (bench.md §2.3), computed without the table. */
static void median_ci_orders(void)
{
	static const int want95[60][2] = {
		{0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 5}, {1, 6}, {1, 7}, {1, 7}, {2, 8}, {2, 9}, {2, 9}, {3, 10},
		{3, 11}, {3, 11}, {4, 12}, {4, 12}, {5, 13}, {5, 14}, {5, 14}, {6, 15}, {6, 16}, {6, 16}, {7, 17},
		{8, 18}, {8, 18}, {8, 19}, {8, 19}, {9, 20}, {9, 20}, {10, 21}, {10, 22}, {10, 22}, {11, 23},
		{11, 23}, {12, 24}, {12, 24}, {13, 25}, {13, 26}, {13, 26}, {14, 27}, {14, 27}, {15, 28},
		{15, 29}, {15, 29}, {16, 30}, {16, 30}, {17, 31}, {17, 31}, {18, 32}, {18, 32}, {19, 33},
		{19, 34}, {19, 34}, {20, 35}, {20, 35}, {21, 36}, {21, 36}, {22, 37}, {22, 38}, {22, 38}};
	static const int want99[60][2] = {
		{0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 6}, {0, 7}, {0, 7}, {1, 8}, {1, 9}, {1, 10}, {1, 10}, {2, 11},
		{2, 12}, {2, 12}, {3, 13}, {3, 14}, {3, 14}, {4, 15}, {4, 16}, {4, 16}, {5, 17}, {5, 18}, {5, 18},
		{6, 19}, {6, 19}, {7, 20}, {7, 21}, {8, 22}, {8, 22}, {8, 23}, {8, 23}, {9, 24}, {9, 25}, {9, 25},
		{10, 26}, {10, 26}, {11, 27}, {11, 28}, {11, 28}, {12, 29}, {12, 29}, {13, 30}, {13, 31},
		{13, 31}, {14, 32}, {14, 32}, {15, 33}, {15, 34}, {15, 34}, {16, 35}, {16, 35}, {17, 36},
		{17, 36}, {18, 37}, {18, 38}, {18, 38}, {19, 39}, {19, 39}, {20, 40}, {20, 41}};
	for (int n = 1; n <= 60; n++) {
		int l, r;
		cprof__bs_median_ci_computed(n, 0.95, &l, &r);
		CHECK_EQ_INT(l * 1000 + r, want95[n - 1][0] * 1000 + want95[n - 1][1]);
		cprof__bs_median_ci(n, 0.95, &l, &r);
		CHECK_EQ_INT(l * 1000 + r, want95[n - 1][0] * 1000 + want95[n - 1][1]);
		cprof__bs_median_ci_computed(n, 0.99, &l, &r);
		CHECK_EQ_INT(l * 1000 + r, want99[n - 1][0] * 1000 + want99[n - 1][1]);
	}
	int l, r;
	cprof__bs_median_ci(10, 1, &l, &r);
	CHECK(l == 0 && r == 11);
}

static void median_and_footnotes(void)
{
	struct bs_arena a = {0};
	static const double odd[] = {1, 2, 10}, even[] = {1, 2, 3, 10};
	CHECK(cprof__bs_quantile(odd, 3, 0.5) == 2);
	CHECK(cprof__bs_quantile(even, 4, 0.5) == 2.5);
	struct bs_summary s;
	cprof__bs_summarize(&a, odd, 3, 0.95, 0, &s);
	CHECK(isinf(s.lo) && isinf(s.hi));
	CHECK_EQ_STR(s.warn, "need >= 6 samples for confidence interval at level 0.95");
	cprof__bs_summarize(&a, odd, 3, 0.99, 0, &s);
	CHECK_EQ_STR(s.warn, "need >= 8 samples for confidence interval at level 0.99");
	cprof__bs_summarize(&a, odd, 3, 1, 0, &s);
	CHECK_EQ_STR(s.warn, "need > 50 samples for confidence interval at level 1");
	char pct[32];
	cprof__bs_pct_range(pct, sizeof(pct), &s);
	CHECK_EQ_STR(pct, "∞");
	/* the doc example's json column: median 1718, CI [x(2), x(9)] = [1707, 1736] */
	double json[] = {1705, 1707, 1707, 1707, 1713, 1723, 1726, 1729, 1736, 1774};
	cprof__bs_summarize(&a, json, 10, 0.95, 0, &s);
	CHECK(s.center == 1718 && s.lo == 1707 && s.hi == 1736 && !s.warn);
	cprof__bs_pct_range(pct, sizeof(pct), &s);
	CHECK_EQ_STR(pct, "1%");
	struct bs_cmp c;
	cprof__bs_compare(&a, odd, 1, odd + 1, 1, 0.05, 0, &c);
	CHECK_EQ_STR(c.warn, "need >= 4 samples to detect a difference at alpha level 0.05");
	cprof__bs_compare(&a, odd, 1, odd + 1, 1, 0.01, 0, &c);
	CHECK_EQ_STR(c.warn, "need >= 5 samples to detect a difference at alpha level 0.01");
	cprof__bs_compare(&a, odd, 1, odd, 1, 0.05, 0, &c);
	CHECK(c.p == 1);
	CHECK_EQ_STR(c.warn, "all samples are equal");
	/* assume=exact: the mode, the full range, a warning when values differ */
	static const double ex[] = {100, 101, 101};
	cprof__bs_summarize(&a, ex, 3, 0.95, 1, &s);
	CHECK(s.center == 101 && s.lo == 100 && s.hi == 101);
	CHECK_EQ_STR(s.warn, "exact distribution expected, but values range from 100 to 101");
	cprof__bs_compare(&a, ex, 3, ex, 3, 0.05, 1, &c);
	char d[32];
	cprof__bs_cmp_string(d, sizeof(d), &c);
	CHECK_EQ_STR(d, "n=3");
	cprof__bs_delta(d, sizeof(d), &c, 100, 105);
	CHECK_EQ_STR(d, "+5.00%");
	cprof__bs_arena_release(&a);
}

static void cell_texts(void)
{
	char s[64];
	struct bs_cmp c = {0.03, 0.05, 10, 12, NULL};
	cprof__bs_delta(s, sizeof(s), &c, 2, 1);
	CHECK_EQ_STR(s, "-50.00%");
	cprof__bs_cmp_string(s, sizeof(s), &c);
	CHECK_EQ_STR(s, "p=0.030 n=10+12");
	c.p = 0.05; /* p == alpha is significant */
	cprof__bs_delta(s, sizeof(s), &c, 2, 2);
	CHECK_EQ_STR(s, "0.00%");
	cprof__bs_delta(s, sizeof(s), &c, 0, 2);
	CHECK_EQ_STR(s, "?");
	c.p = 0.0501;
	cprof__bs_delta(s, sizeof(s), &c, 2, 1);
	CHECK_EQ_STR(s, "~");
	struct bs_summary sm = {-1, -2, 0.5, NULL};
	cprof__bs_pct_range(s, sizeof(s), &sm);
	CHECK_EQ_STR(s, "?");
	sm = (struct bs_summary){0, 0, 0, NULL};
	cprof__bs_pct_range(s, sizeof(s), &sm);
	CHECK_EQ_STR(s, "0%");
	CHECK(isnan(cprof__bs_geomean((double[]){1, 0}, 2)));
	CHECK(fabs(cprof__bs_geomean((double[]){2, 8}, 2) - 4) < 1e-12);
}

/*
 * Geomeans exactly as Go computes them on x86-64 (math.Log, math.Exp): bit
 * patterns printed by a Go program, each one where glibc's log and exp give
 * a different last bit.
 */
static void geomean_bits(void)
{
	static const struct {
		int n;
		unsigned long long x[3], want;
	} cases[] = {
		{2, {0x3d6d7444ece0ad56ull, 0x3e4719b04b8e4ac4ull}, 0x3dda15a27905c1a0ull},
		{3, {0x3db2e2509bfccf56ull, 0x3dda2a70beb55c4eull, 0x40978279b87eab6full}, 0x3eb6a5d2fea69cddull},
		{1, {0x40a8cf859e426921ull}, 0x40a8cf859e426921ull},
		{2, {0x3cd1d14b5c06ce91ull, 0x3eff8be9218bf25eull}, 0x3de7b55116ef372bull},
		{1, {0x3f04f1d490a85af8ull}, 0x3f04f1d490a85af8ull},
		{1, {0x3f51712a24687301ull}, 0x3f51712a24687301ull},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double x[3], g;
		unsigned long long got;
		memcpy(x, cases[i].x, sizeof(x));
		g = cprof__bs_geomean(x, cases[i].n);
		memcpy(&got, &g, sizeof(got));
		CHECK(got == cases[i].want);
	}
}

static void scaling(void)
{
	char s[64];
	double row[] = {237.5e-9, 56.75e-9};
	cprof__bs_scale_format(s, sizeof(s), cprof__bs_common_scale(row, 2, 0), row[0]);
	CHECK_EQ_STR(s, "237.50n");
	double one = 1.718e-6;
	cprof__bs_scale_format(s, sizeof(s), cprof__bs_common_scale(&one, 1, 0), one);
	CHECK_EQ_STR(s, "1.718µ");
	double gi[] = {10.048 * 1073741824.0, 2.105 * 1073741824.0};
	cprof__bs_scale_format(s, sizeof(s), cprof__bs_common_scale(gi, 2, 1), gi[0]);
	CHECK_EQ_STR(s, "10.048Gi");
	double hundred = 100;
	cprof__bs_scale_format(s, sizeof(s), cprof__bs_common_scale(&hundred, 1, 0), hundred);
	CHECK_EQ_STR(s, "100.0");
	double zero = 0;
	cprof__bs_scale_format(s, sizeof(s), cprof__bs_common_scale(&zero, 1, 1), zero);
	CHECK_EQ_STR(s, "0.000");
	double tiny = 1.5e-12;
	cprof__bs_scale_format(s, sizeof(s), cprof__bs_common_scale(&tiny, 1, 0), tiny);
	CHECK_EQ_STR(s, "0.001500n"); /* three significant digits, past the smallest prefix */
	CHECK(cprof__bs_unit_binary("B/op") && cprof__bs_unit_binary("text-bytes") && !cprof__bs_unit_binary("sec/B") &&
	      !cprof__bs_unit_binary("allocs/op"));
}

static void go_float_text(void)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {{1.7180000000000001e-06, "1.7180000000000001e-06"}, {0.95, "0.95"}, {100, "100"},
		     {1e6, "1e+06"}, {123456789.0, "1.23456789e+08"}, {0.0001, "0.0001"}, {1e-05, "1e-05"},
		     {-2.5, "-2.5"}, {0, "0"}, {3.0655e-06, "3.0655e-06"}, {123456, "123456"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char s[64];
		cprof__bs_fmt_g(s, sizeof(s), cases[i].v);
		CHECK_EQ_STR(s, cases[i].s);
	}
}

static void tidy(void)
{
	struct bs_arena a = {0};
	double f;
	CHECK_EQ_STR(cprof__bs_tidy_unit(&a, "ns/op", &f), "sec/op");
	CHECK(f == 1e-9);
	CHECK_EQ_STR(cprof__bs_tidy_unit(&a, "MB/s", &f), "B/s");
	CHECK(f == 1e6);
	CHECK_EQ_STR(cprof__bs_tidy_unit(&a, "L1-miss-ns/op", &f), "L1-miss-sec/op");
	CHECK(f == 1e-9);
	CHECK_EQ_STR(cprof__bs_tidy_unit(&a, "ns/MB", &f), "sec/MB");
	CHECK(f == 1e-9);
	CHECK_EQ_STR(cprof__bs_tidy_unit(&a, "MB*ns/op", &f), "B*sec/op");
	CHECK_EQ_STR(cprof__bs_tidy_unit(&a, "nsec/op", &f), "nsec/op");
	CHECK(f == 1);
	cprof__bs_arena_release(&a);
}

static void reader(void)
{
	struct bs_arena a = {0};
	struct bs_input in = {0};
	char err[256] = "";
	const char *text = "goos: linux\n"
			   "pkg: x\n"
			   "note: a\n"
			   "goos:\n" /* deletes goos: note moves into its place */
			   "Unit x-bytes assume=exact\n"
			   "Unit x-bytes assume=nothing\n"
			   "BenchmarkFoo/size=4k-8 \t 100\t 12.5 ns/op\t 3 B/op\r\n"
			   "BenchmarkFoo/size=4k-8\n" /* go test -v's start line: skipped */
			   "BenchmarkFoo/size=4k-8 \n" /* not the whole line: an error */
			   "BenchmarkBar 1 2\n"
			   "Benchmark 1 0 ns/op\n" /* an empty name is valid, 0 is not tidied */
			   "PASS\n";
	FILE *errs = tmpfile();
	CHECK(cprof__bs_parse(&a, &in, "f.txt", "f.txt", text, strlen(text), errs, err, sizeof(err)) == 0);
	CHECK_EQ_INT(in.nres, 2);
	if (in.nres == 2) {
		struct bs_result *r = &in.res[0];
		CHECK_EQ_STR(r->name, "Foo/size=4k-8");
		CHECK_EQ_INT(r->ncfg, 3);
		if (r->ncfg == 3) {
			CHECK_EQ_STR(r->cfg[0].key, ".file");
			CHECK_EQ_STR(r->cfg[1].key, "note");
			CHECK_EQ_STR(r->cfg[2].key, "pkg");
		}
		CHECK_EQ_INT(r->nvals, 2);
		CHECK(r->vals[0].v == 12.5 * 1e-9);
		CHECK_EQ_STR(r->vals[0].unit, "sec/op");
		CHECK_EQ_STR(r->vals[0].orig_unit, "ns/op");
		CHECK_EQ_STR(r->vals[1].unit, "B/op");
		CHECK_EQ_STR(cprof__bs_extract(&a, r, ".name"), "Foo");
		CHECK_EQ_STR(cprof__bs_extract(&a, r, "/size"), "4k");
		CHECK_EQ_STR(cprof__bs_extract(&a, r, "/gomaxprocs"), "8");
		CHECK_EQ_STR(cprof__bs_extract(&a, r, ".file"), "f.txt");
		CHECK(cprof__bs_extract(&a, r, "goos") == NULL);
		CHECK_EQ_STR(in.res[1].name, "");
		CHECK_EQ_STR(in.res[1].vals[0].unit, "ns/op");
	}
	CHECK_EQ_STR(cprof__bs_unit_meta(&in, "x-bytes", "assume"), "exact");
	rewind(errs);
	char got[512] = "";
	size_t n = fread(got, 1, sizeof(got) - 1, errs);
	got[n] = 0;
	fclose(errs);
	CHECK_EQ_STR(got, "f.txt:6: metadata assume of unit x-bytes already set to exact\n"
			  "f.txt:9: missing iteration count\n"
			  "f.txt:10: missing units\n");
	CHECK(cprof__bs_parse(&a, &in, "bad", "B", "ok\n\xff\n", 5, NULL, err, sizeof(err)) == -1);
	CHECK_EQ_STR(err, "bad: invalid encode, only utf-8 encoded files are supported");
	cprof__bs_arena_release(&a);
}

/* Configuration keys: Unicode lower case first, no upper case, no spaces. */
static void reader_unicode_keys(void)
{
	struct bs_arena a = {0};
	struct bs_input in = {0};
	char err[256] = "";
	const char *text = "\xc3\xa9t\xc3\xa9: chaud\n"  /* été: a key */
			   "\xc3\x89t\xc3\xa9: x\n"     /* Été: upper case first, ignored */
			   "k\xc3\x89y: y\n"              /* kÉy: upper case inside, ignored */
			   "k\xe2\x80\x83y: z\n"          /* an em space inside, ignored */
			   "BenchmarkA 1 1 ns/op\n";
	CHECK(cprof__bs_parse(&a, &in, "u", "u", text, strlen(text), NULL, err, sizeof(err)) == 0);
	CHECK_EQ_INT(in.nres, 1);
	if (in.nres == 1) {
		CHECK_EQ_INT(in.res[0].ncfg, 2);
		CHECK_EQ_STR(cprof__bs_extract(&a, &in.res[0], "\xc3\xa9t\xc3\xa9"), "chaud");
	}
	cprof__bs_arena_release(&a);
}

int main(void)
{
	RUN(utest_small);
	RUN(utest_large);
	RUN(utest_doc_example);
	RUN(median_ci_orders);
	RUN(median_and_footnotes);
	RUN(cell_texts);
	RUN(geomean_bits);
	RUN(scaling);
	RUN(go_float_text);
	RUN(tidy);
	RUN(reader);
	RUN(reader_unicode_keys);
	CHECK_EXIT();
}
