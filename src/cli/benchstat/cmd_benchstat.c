/*
 * cmd_benchstat.c - "cprof benchstat": Go's benchstat (golang.org/x/perf,
 * v2) for benchmark results in the Go benchmark format. It owns the command
 * line (Go flag syntax), reading the inputs ("path", "label=path" or "-")
 * and wiring the pieces: parse.c reads, filter.c selects, proj.c keys,
 * table.c summarizes and prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/benchstat/benchstat.h"
#include "cli/cli.h"

const char cmd_benchstat_usage[] =
	"Usage: cprof benchstat [flags] inputs...\n"
	"\n"
	"Computes statistical summaries and A/B comparisons of benchmark results in\n"
	"the Go benchmark format (what `go test -bench` and cprof's harness print),\n"
	"as Go's benchstat does: medians with confidence intervals in a table with a\n"
	"row per benchmark and a column per input, and, with more than one column,\n"
	"the change against the first column (Mann-Whitney U test; \"~\" when the\n"
	"difference is likely noise).\n"
	"\n"
	"Inputs: FILE, LABEL=FILE (LABEL names the column instead of FILE), or - for\n"
	"standard input.\n"
	"\n"
	"Flags:\n"
	"  -alpha α            consider a change significant if p < α (default 0.05)\n"
	"  -confidence level   confidence level of the ± ranges (default 0.95)\n"
	"  -format text|csv    output format (default text); csv writes warnings to stderr\n"
	"  -table projection   split results into tables by these keys (default .config)\n"
	"  -row projection     split results into rows by these keys (default .fullname)\n"
	"  -col projection     split results into columns by these keys (default .file)\n"
	"  -ignore keys        ignore variations in these keys\n"
	"  -filter query       use only the results matching query (default *)\n"
	"\n"
	"Keys: .name (base name), .fullname (full name), .file (input label),\n"
	"/key (a name key, e.g. /size of BenchmarkX/size=4k; /gomaxprocs reads -N),\n"
	"key (a file configuration key, e.g. goos), .config (all file keys; projections\n"
	"only), .unit (filters only). A projection lists keys separated by commas or\n"
	"spaces; key@alpha and key@num sort alphabetically or numerically (2k, 1Mi),\n"
	"key@(a b c) fixes the order and drops other values; the default order is the\n"
	"order of first appearance.\n"
	"\n"
	"Filters: key:value, key:\"quoted value\", key:/regexp/, key:(a OR b), *;\n"
	"combined by juxtaposition or AND, OR, -x (not) and parentheses.\n"
	"\n"
	"Examples:\n"
	"  cprof benchstat old.txt new.txt\n"
	"  cprof benchstat -col /format -row .name new.txt\n"
	"  cprof benchstat -filter '.unit:(ns/op OR B/op)' -format csv old.txt new.txt\n";

struct flags {
	const char *table, *row, *col, *ignore, *filter, *format;
	double alpha, confidence;
};

static int usage_error(const char *fmt, const char *arg)
{
	fflush(stdout);
	fputs("cprof: benchstat: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	fputs(cmd_benchstat_usage, stderr);
	return 2;
}

static int parse_float_flag(const char *name, const char *v, double *out)
{
	double d;
	if (cprof__bs_parse_float(v, &d)) {
		fflush(stdout);
		fprintf(stderr, "cprof: benchstat: invalid value \"%s\" for flag -%s: parse error\n", v, name);
		fputs(cmd_benchstat_usage, stderr);
		return -1;
	}
	*out = d;
	return 0;
}

/* Go's flag package: -name value, -name=value, --name; stops at the first non-flag or "--". */
static int parse_flags(int argc, char **argv, struct flags *f, int *first)
{
	int i = 1;
	while (i < argc) {
		const char *s = argv[i];
		if (s[0] != '-' || s[1] == 0)
			break;
		if (strcmp(s, "--") == 0) {
			i++;
			break;
		}
		s += s[1] == '-' ? 2 : 1;
		if (!*s || *s == '-' || *s == '=')
			return usage_error("bad flag syntax: %s", argv[i]);
		char name[64];
		const char *eq = strchr(s, '='), *val = NULL;
		size_t nl = eq ? (size_t)(eq - s) : strlen(s);
		if (nl >= sizeof(name))
			nl = sizeof(name) - 1;
		memcpy(name, s, nl);
		name[nl] = 0;
		if (strcmp(name, "h") == 0 || strcmp(name, "help") == 0) {
			fputs(cmd_benchstat_usage, stdout);
			exit(0);
		}
		const char **sp = NULL;
		double *dp = NULL;
		if (strcmp(name, "table") == 0)
			sp = &f->table;
		else if (strcmp(name, "row") == 0)
			sp = &f->row;
		else if (strcmp(name, "col") == 0)
			sp = &f->col;
		else if (strcmp(name, "ignore") == 0)
			sp = &f->ignore;
		else if (strcmp(name, "filter") == 0)
			sp = &f->filter;
		else if (strcmp(name, "format") == 0)
			sp = &f->format;
		else if (strcmp(name, "alpha") == 0)
			dp = &f->alpha;
		else if (strcmp(name, "confidence") == 0)
			dp = &f->confidence;
		else
			return usage_error("flag provided but not defined: -%s", name);
		if (eq) {
			val = eq + 1;
		} else {
			if (i + 1 >= argc)
				return usage_error("flag needs an argument: -%s", name);
			val = argv[++i];
		}
		if (sp)
			*sp = val;
		else if (parse_float_flag(name, val, dp) < 0)
			return 2;
		i++;
	}
	*first = i;
	return 0;
}

static char *read_input(const char *path, size_t *len, int *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		*err = errno;
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			*err = ENOMEM;
			break;
		}
		if (n == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				*err = ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				*err = errno ? errno : EIO;
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

static int run(struct bs_arena *a, int argc, char **argv)
{
	struct flags f = {".config", ".fullname", ".file", "", "*", "text", 0.05, 0.95};
	int first = argc, rc = parse_flags(argc, argv, &f, &first);
	if (rc)
		return rc;
	if (first >= argc) {
		fputs(cmd_benchstat_usage, stderr);
		return 2;
	}
	char err[4096];
	struct bs_filter *filter = cprof__bs_filter_parse(a, f.filter, err, sizeof(err));
	if (!filter) {
		cli_error("benchstat: parsing -filter: %s", err);
		return 1;
	}
	struct bs_parser parser = {.a = a};
	struct { const char *flag, *val; int unit; struct bs_proj *p; } projs[] = {
		{"-table", f.table, 1, NULL}, {"-row", f.row, 0, NULL}, {"-col", f.col, 0, NULL}, {"-ignore", f.ignore, 0, NULL}};
	for (int i = 0; i < 4; i++) {
		projs[i].p = cprof__bs_proj_parse(&parser, projs[i].val, projs[i].unit, err, sizeof(err));
		if (!projs[i].p) {
			cli_error("benchstat: parsing %s: %s", projs[i].flag, err);
			cprof__bs_filter_free(filter);
			return 1;
		}
	}
	struct bs_proj *residue = cprof__bs_proj_residue(&parser);
	rc = 1;
	if (f.alpha < 0 || f.alpha > 1) {
		cli_error("benchstat: -alpha must be in range [0, 1]");
		goto out;
	}
	if (f.confidence < 0 || f.confidence > 1) {
		cli_error("benchstat: -confidence must be in range [0, 1]");
		goto out;
	}
	struct bs_opts opts = {f.alpha, f.confidence, 0};
	if (strcmp(f.format, "csv") == 0)
		opts.csv = 1;
	else if (strcmp(f.format, "text") != 0) {
		cli_error("benchstat: -format must be text or csv");
		goto out;
	}
	struct bs_builder *b = cprof__bs_builder_new(a, projs[0].p, projs[1].p, projs[2].p, residue);
	struct bs_input in = {0};
	int ninputs = argc - first;
	const char **labels = cprof__bs_alloc(a, sizeof(*labels) * (size_t)ninputs);
	const char **paths = cprof__bs_alloc(a, sizeof(*paths) * (size_t)ninputs);
	for (int i = 0; i < ninputs; i++) {
		const char *arg = argv[first + i], *eq = strchr(arg, '=');
		labels[i] = paths[i] = arg;
		if (eq) {
			labels[i] = cprof__bs_strndup(a, arg, (size_t)(eq - arg));
			paths[i] = eq + 1;
		}
	}
	/* An unlabelled path given more than once becomes path#0, path#1, ... */
	for (int i = 0; i < ninputs; i++) {
		if (strchr(argv[first + i], '=') || labels[i] != paths[i])
			continue;
		int dup = 0, k = 0;
		for (int j = 0; j < ninputs; j++)
			if (!strchr(argv[first + j], '=') && strcmp(paths[j], paths[i]) == 0)
				dup++;
		if (dup < 2)
			continue;
		const char *p = paths[i];
		for (int j = i; j < ninputs; j++)
			if (!strchr(argv[first + j], '=') && strcmp(paths[j], p) == 0)
				labels[j] = cprof__bs_sprintf(a, "%s#%d", p, k++);
	}
	for (int i = 0; i < ninputs; i++) {
		const char *label = labels[i], *path = paths[i];
		size_t len;
		int e = 0;
		char *data = read_input(path, &len, &e);
		if (!data) {
			cli_error("benchstat: %s: %s", path, strerror(e));
			goto out;
		}
		int from = in.nres;
		fflush(stdout);
		int prc = cprof__bs_parse(a, &in, path, label, data, len, stderr, err, sizeof(err));
		free(data);
		if (prc < 0) {
			cli_error("benchstat: %s", err);
			goto out;
		}
		for (int r = from; r < in.nres; r++)
			if (cprof__bs_filter_apply(a, filter, &parser, &in.res[r]) > 0)
				cprof__bs_builder_add(b, &in.res[r]);
	}
	cprof__bs_builder_print(b, &in, &opts, stdout, stderr);
	rc = fflush(stdout) == 0 ? 0 : 1;
	if (rc)
		cli_error("benchstat: writing the output: %s", strerror(errno));
out:
	cprof__bs_filter_free(filter);
	return rc;
}

int cmd_benchstat(int argc, char **argv)
{
	struct bs_arena a = {0};
	int rc = run(&a, argc, argv);
	cprof__bs_arena_release(&a);
	return rc;
}
