/*
 * fuzz_benchfmt.c - libFuzzer target for `cprof benchstat`'s reader of the
 * Go benchmark format (src/cli/benchstat/parse.c) and everything behind it:
 * the input is read as one file, its results go through a filter, the
 * default projections and the statistics, and both the text and the CSV
 * tables are printed (to /dev/null). The input's first line is also tried
 * as a -filter query and as a -row projection. Any input must be read
 * without a crash; a rejected file must come with a one-line reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/benchstat/benchstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_benchfmt: %s: %s\n", what, err);
	abort();
}

static void run(const char *text, size_t size, const char *filter_q, const char *row_q)
{
	struct bs_arena a = {0};
	char err[1024] = "";
	struct bs_filter *filter = cprof__bs_filter_parse(&a, filter_q, err, sizeof(err));
	if (!filter) {
		if (!err[0])
			broken("filter rejected without a reason", filter_q);
		filter = cprof__bs_filter_parse(&a, "*", err, sizeof(err));
	}
	struct bs_parser parser = {.a = &a};
	struct bs_proj *tp = cprof__bs_proj_parse(&parser, ".config", 1, err, sizeof(err));
	struct bs_proj *rp = cprof__bs_proj_parse(&parser, row_q, 0, err, sizeof(err));
	if (!rp) {
		if (!err[0])
			broken("projection rejected without a reason", row_q);
		rp = cprof__bs_proj_parse(&parser, ".fullname", 0, err, sizeof(err));
	}
	struct bs_proj *cp = cprof__bs_proj_parse(&parser, ".file", 0, err, sizeof(err));
	struct bs_proj *res = cprof__bs_proj_residue(&parser);
	struct bs_builder *b = cprof__bs_builder_new(&a, tp, rp, cp, res);
	struct bs_input in = {0};
	FILE *null = fopen("/dev/null", "w");
	if (!null)
		goto out;
	for (int f = 0; f < 2; f++) {
		int from = in.nres;
		err[0] = 0;
		if (cprof__bs_parse(&a, &in, f ? "new" : "old", f ? "new" : "old", text, size, null, err, sizeof(err)) < 0) {
			if (!err[0] || strchr(err, '\n'))
				broken("rejected without a one-line reason", err);
			break;
		}
		for (int r = from; r < in.nres; r++)
			if (cprof__bs_filter_apply(&a, filter, &parser, &in.res[r]) > 0)
				cprof__bs_builder_add(b, &in.res[r]);
	}
	for (int csv = 0; csv < 2; csv++) {
		struct bs_opts o = {0.05, 0.95, csv};
		cprof__bs_builder_print(b, &in, &o, null, null);
	}
	fclose(null);
out:
	cprof__bs_filter_free(filter);
	cprof__bs_arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	char first[256];
	size_t n = strcspn(text, "\n");
	if (n >= sizeof(first))
		n = sizeof(first) - 1;
	memcpy(first, text, n);
	first[n] = 0;
	run(text, size, "*", ".fullname");
	if (memchr(first, 0, n) == NULL && n > 0)
		run(text, size, first, first);
	free(text);
	return 0;
}
