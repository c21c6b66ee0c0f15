/*
 * test_report.c - the report engine on synthetic profiles built in memory
 * (tests/unit/report_profiles.h). Every expected text below was produced by
 * `go tool pprof` (Go 1.19) on the same profile written to a file; the
 * end-to-end test tests/e2e/pprof_top.sh repeats that comparison live.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "cli/report/keys.h"
#include "cli/report/report.h"
#include "report_profiles.h"

/* Run the text report on p with options tweaked by the caller; returns malloc'd text. */
static char *top(struct profile *p, const struct report_options *o)
{
	struct report r;
	char err[256], *out = NULL;
	size_t len = 0;
	if (!p || cprof__report_init(&r, p, o, err, sizeof(err)) < 0) {
		cprof__profile_free(p);
		return NULL;
	}
	FILE *f = open_memstream(&out, &len);
	if (f) {
		if (cprof__report_text(&r, f) < 0) {
			fclose(f);
			free(out);
			out = NULL;
		} else {
			fclose(f);
		}
	}
	cprof__report_release(&r);
	cprof__profile_free(p);
	return out;
}

static void check_top(struct profile *p, const struct report_options *o, const char *want)
{
	char *got = top(p, o);
	CHECK_EQ_STR(got, want);
	free(got);
}

/* keys.c: equal keys share one id, ids are dense in order of first add. */
static void test_keyset(void)
{
	struct report_keyset ks = {0};
	struct buf k;
	bool added;
	cprof__buf_init(&k, 0);
	const char *words[] = {"a", "b", "a", "", "b", "c"};
	const size_t want[] = {0, 1, 0, 2, 1, 3};
	const bool want_added[] = {true, true, false, true, false, true};
	for (size_t i = 0; i < 6; i++) {
		k.len = 0;
		cprof__report_key_str(&k, words[i]);
		cprof__report_key_u64(&k, 7);
		CHECK_EQ_INT(cprof__report_keyset_add(&ks, &k, &added), want[i]);
		CHECK(added == want_added[i]);
	}
	/* Past the first table size: every key still found again. */
	for (uint64_t v = 0; v < 1000; v++) {
		k.len = 0;
		cprof__report_key_u64(&k, v);
		CHECK_EQ_INT(cprof__report_keyset_add(&ks, &k, NULL), 4 + v);
	}
	for (uint64_t v = 0; v < 1000; v++) {
		k.len = 0;
		cprof__report_key_u64(&k, v);
		CHECK_EQ_INT(cprof__report_keyset_add(&ks, &k, &added), 4 + v);
		CHECK(!added);
	}
	CHECK_EQ_INT(ks.n, 1004);
	k.err = -ENOMEM; /* a key that could not be built is no key */
	CHECK(cprof__report_keyset_add(&ks, &k, NULL) == SIZE_MAX);
	cprof__buf_release(&k);
	cprof__report_keyset_release(&ks);
}

static void test_units(void)
{
	char b[64];
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 1120000000, "nanoseconds", "s"), "1.12s");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 10000000, "nanoseconds", "s"), "0.01s");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 100000000, "nanoseconds", "auto"), "100ms");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 7200000000000LL, "nanoseconds", "auto"), "2hrs");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 1500, "nanoseconds", "auto"), "1.50us");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 4155000, "bytes", "minimum"), "3.96MB");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 1024000, "bytes", "kB"), "1000kB");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 3LL << 40, "bytes", "auto"), "3TB");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), -(5LL << 20), "bytes", "auto"), "-5MB");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 80, "count", "count"), "80");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 0, "nanoseconds", "ms"), "0");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 12, "widget", "widget"), "12widget");
	CHECK_EQ_STR(cprof__units_label(b, sizeof(b), 1, "milliseconds", "auto"), "1ms");
	CHECK_EQ_STR(cprof__units_percentage(b, sizeof(b), 1, 1), "  100%");
	CHECK_EQ_STR(cprof__units_percentage(b, sizeof(b), 11, 1120), " 0.98%");
	CHECK_EQ_STR(cprof__units_percentage(b, sizeof(b), 1, 1010), "0.099%");
	CHECK_EQ_STR(cprof__units_percentage(b, sizeof(b), 9009, 1000000), "  0.9%");
	CHECK_EQ_STR(cprof__units_percentage(b, sizeof(b), 1100, 1120), "98.21%");
	CHECK_EQ_STR(cprof__units_percentage(b, sizeof(b), -3, 7), "42.86%");
	CHECK_EQ_STR(cprof__units_percentage(b, sizeof(b), 0, 0), "    0%");
	CHECK_EQ_STR(cprof__units_percentage(b, sizeof(b), 5, 100000000), "5e-06%");
}

/* pprof's internal/driver/testdata/pprof.cpu.flat.functions.text, verbatim. */
static void test_inline_compact(void)
{
	struct report_options o;
	cprof__report_options_init(&o);
	o.compact_labels = true;
	check_top(rp_inline(), &o,
		  "Showing nodes accounting for 1.12s, 100% of 1.12s total\n"
		  "      flat  flat%   sum%        cum   cum%\n"
		  "     1.10s 98.21% 98.21%      1.10s 98.21%  line1000\n"
		  "     0.01s  0.89% 99.11%      1.01s 90.18%  line2001 (inline)\n"
		  "     0.01s  0.89%   100%      1.02s 91.07%  line3002 (inline)\n"
		  "         0     0%   100%      1.01s 90.18%  line2000\n"
		  "         0     0%   100%      1.12s   100%  line3000\n"
		  "         0     0%   100%      1.11s 99.11%  line3001 (inline)\n");
}

static void test_inline_headers(void)
{
	struct report_options o;
	cprof__report_options_init(&o);
	check_top(rp_inline(), &o,
		  "File: testbinary\n"
		  "Build ID: buildid-abc123\n"
		  "a comment shown in the header\n"
		  "Type: cpu\n"
		  "Time: Oct 21, 2019 at 10:17pm (UTC)\n"
		  "Duration: 10s, Total samples = 1.12s (11.20%)\n"
		  "Showing nodes accounting for 1.12s, 100% of 1.12s total\n"
		  "      flat  flat%   sum%        cum   cum%\n"
		  "     1.10s 98.21% 98.21%      1.10s 98.21%  line1000\n"
		  "     0.01s  0.89% 99.11%      1.01s 90.18%  line2001 (inline)\n"
		  "     0.01s  0.89%   100%      1.02s 91.07%  line3002 (inline)\n"
		  "         0     0%   100%      1.01s 90.18%  line2000\n"
		  "         0     0%   100%      1.12s   100%  line3000\n"
		  "         0     0%   100%      1.11s 99.11%  line3001 (inline)\n");
}

static void test_negative_cum(void)
{
	struct report_options o;
	cprof__report_options_init(&o);
	o.cum_sort = true;
	check_top(rp_negative(), &o,
		  "Type: alloc_space\n"
		  "Showing nodes accounting for 3TB, 100% of 3TB total\n"
		  "Dropped 2 nodes (cum <= 0.02TB)\n"
		  "      flat  flat%   sum%        cum   cum%\n"
		  "       3TB   100%   100%        3TB   100%  alpha\n"
		  "         0     0%   100%        3TB   100%  main\n");
}

/* Samples with the same stack are merged before |value| is summed: total 7, not 9. */
static void test_negative_counts(void)
{
	struct report_options o;
	cprof__report_options_init(&o);
	o.sample_index = "0";
	check_top(rp_negative(), &o,
		  "Type: alloc_objects\n"
		  "Showing nodes accounting for 3, 42.86% of 7 total\n"
		  "      flat  flat%   sum%        cum   cum%\n"
		  "         3 42.86% 42.86%          3 42.86%  alpha\n"
		  "        -2 28.57% 14.29%         -2 28.57%  beta\n"
		  "         2 28.57% 42.86%          2 28.57%  delta\n"
		  "         0     0% 42.86%          3 42.86%  main\n");
}

static void test_misc_nodecount(void)
{
	struct report_options o;
	cprof__report_options_init(&o);
	o.nodecount = 5;
	check_top(rp_misc(), &o,
		  "File: server\n"
		  "Type: widgets\n"
		  "Time: Nov 14, 2023 at 10:13pm (UTC)\n"
		  "Duration: 2s, Total samples = 16370widget \n"
		  "Showing nodes accounting for 14000widget, 85.52% of 16370widget total\n"
		  "Dropped 60 nodes (cum <= 81widget)\n"
		  "Showing top 5 nodes out of 7\n"
		  "      flat  flat%   sum%        cum   cum%\n"
		  "5000widget 30.54% 30.54% 5000widget 30.54%  [libfoo.so.1]\n"
		  "3000widget 18.33% 48.87% 3000widget 18.33%  <unknown>\n"
		  "3000widget 18.33% 67.20% 3000widget 18.33%  sys_only_name\n"
		  "2000widget 12.22% 79.41% 2000widget 12.22%  ns::Widget::draw const\n"
		  "1000widget  6.11% 85.52% 1000widget  6.11%  [server]\n");
}

static void test_zero_total(void)
{
	struct report_options o;
	cprof__report_options_init(&o);
	check_top(rp_zero(), &o,
		  "File: prog\n"
		  "Type: events\n"
		  "Duration: 1.50s, Total samples = 0 \n"
		  "Showing nodes accounting for 0, 0% of 0 total\n"
		  "      flat  flat%   sum%        cum   cum%\n");
	check_top(rp_empty(), &o,
		  "Type: cpu\n"
		  "Duration: 5s, Total samples = 0 \n"
		  "Showing nodes accounting for 0, 0% of 0 total\n"
		  "      flat  flat%   sum%        cum   cum%\n");
}

static void test_hours_cum(void)
{
	struct report_options o;
	cprof__report_options_init(&o);
	o.cum_sort = true;
	check_top(rp_hours(), &o,
		  "Type: delay\n"
		  "Duration: 60s, Total samples = 7200000.25ms (12000.00%)\n"
		  "Showing nodes accounting for 7200000.25ms, 100% of 7200000.25ms total\n"
		  "Dropped 1 node (cum <= 36000ms)\n"
		  "      flat  flat%   sum%        cum   cum%\n"
		  "    0.25ms 3.5e-06% 3.5e-06% 7200000.25ms   100%  main\n"
		  " 7200000ms   100%   100%  7200000ms   100%  waiter\n");
}

static void test_sample_index_errors(void)
{
	struct report_options o;
	struct report r;
	char err[256];
	struct profile *p = rp_inline();
	cprof__report_options_init(&o);
	o.sample_index = "nosuch";
	CHECK_EQ_INT(cprof__report_init(&r, p, &o, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "sample_index \"nosuch\" must be one of: [samples cpu]");
	o.sample_index = "2";
	CHECK_EQ_INT(cprof__report_init(&r, p, &o, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "sample_index 2 is outside the range [0..1]");
	o.sample_index = "samples";
	CHECK_EQ_INT(cprof__report_init(&r, p, &o, err, sizeof(err)), 0);
	CHECK_EQ_INT(r.value_index, 0);
	CHECK_EQ_INT(r.total, 1120);
	cprof__report_release(&r);
	cprof__profile_free(p);
}

static void test_merge(void)
{
	struct profile *a = rp_inline(), *b = rp_inline(), *c = rp_negative();
	char err[512];
	struct profile *in[2] = {a, b};
	struct profile *m = cprof__report_merge(in, 2, err, sizeof(err));
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ_INT(m->duration_nanos, 20000000000LL);
		CHECK_EQ_INT(m->ncomment, 2);
		struct report_options o;
		cprof__report_options_init(&o);
		o.compact_labels = true;
		o.nodecount = 1;
		check_top(m, &o,
			  "Showing nodes accounting for 2.20s, 98.21% of 2.24s total\n"
			  "Showing top 1 nodes out of 6\n"
			  "      flat  flat%   sum%        cum   cum%\n"
			  "     2.20s 98.21% 98.21%      2.20s 98.21%  line1000\n");
	}
	in[1] = c;
	CHECK(cprof__report_merge(in, 2, err, sizeof(err)) == NULL);
	CHECK_EQ_STR(err, "incompatible sample types [samples/count cpu/milliseconds] and "
			  "[alloc_objects/count alloc_space/bytes]");
	cprof__profile_free(a);
	cprof__profile_free(b);
	cprof__profile_free(c);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	RUN(test_units);
	RUN(test_inline_compact);
	RUN(test_inline_headers);
	RUN(test_negative_cum);
	RUN(test_negative_counts);
	RUN(test_misc_nodecount);
	RUN(test_zero_total);
	RUN(test_hours_cum);
	RUN(test_sample_index_errors);
	RUN(test_merge);
	RUN(test_keyset);
	CHECK_EXIT();
}
