/*
 * interactive.c - the shell of `cprof pprof` when no output format is given,
 * as go tool pprof's (internal/driver/interactive.go, Go 1.19): greeting,
 * "(pprof) " prompt, name=value options that persist, sample type shortcuts,
 * `cmd [N] [regex]* [-regex]* [-cum] [>file]` command lines, help, options
 * listing. On a terminal the lines come from interactive_edit.c (libedit
 * line editing, history, tab completion); otherwise they are read here.
 *
 * It owns the shell's option table (pprof's config fields) and turns each
 * command into a `cprof pprof` flag list for cmd_pprof.c, so every report
 * the command line has exists here too: a command is offered only when
 * cmd_pprof.c has a flag of that name. It generates no report itself.
 * Texts go where pprof sends them: reports to stdout; greeting, help,
 * options and errors to stderr; the prompt to stdout when stdin is not a
 * terminal (so scripts can drive the shell), through libedit otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/interactive.h"
#include "cli/report/report.h"

/* ---- pprof's options (config.go configFields, in field order) ---- */

static const char *const sort_choices[] = {"cum", "flat", NULL};
static const char *const gran_choices[] = {"functions", "filefunctions", "files", "lines",
					   "addresses", NULL};

#define FILTER_HELP "Matching includes the function name, filename or object name.\n"
#define TAGF_HELP \
	"Use name=value syntax to limit the matching to a specific tag.\n" \
	"Numeric tag filter examples: 1kb, 1kb:10kb, memory=32mb:\n" \
	"String tag filter examples: foo, foo.*bar, mytag=foo.*bar\n"

static const struct opt opts[] = {
	{"output", O_STRING, "", NULL, "Output filename for file-based outputs\n"},
	{"call_tree", O_BOOL, "false", NULL,
	 "Create a context-sensitive call tree\n"
	 "Treat locations reached through different paths as separate.\n"},
	{"relative_percentages", O_BOOL, "false", NULL,
	 "Show percentages relative to focused subgraph\n"
	 "If unset, percentages are relative to full graph before focusing\n"
	 "to facilitate comparison with original graph.\n"},
	{"unit", O_STRING, "minimum", NULL,
	 "Measurement units to display\n"
	 "Scale the sample values to this unit.\n"
	 "For time-based profiles, use seconds, milliseconds, nanoseconds, etc.\n"
	 "For memory profiles, use megabytes, kilobytes, bytes, etc.\n"
	 "Using auto will scale each value independently to the most natural unit.\n"},
	{"compact_labels", O_BOOL, "false", NULL, "Show minimal headers"},
	{"source_path", O_STRING, "", NULL, "Search path for source files"},
	{"trim_path", O_STRING, "", NULL, "Path to trim from source paths before search"},
	{"intel_syntax", O_BOOL, "false", NULL,
	 "Show assembly in Intel syntax\n"
	 "Only applicable to commands `disasm` and `weblist`\n"},
	{"mean", O_BOOL, "false", NULL,
	 "Average sample value over first value (count)\n"
	 "For memory profiles, report average memory per allocation.\n"
	 "For time-based profiles, report average time per event.\n"},
	{"sample_index", O_STRING, "", NULL,
	 "Sample value to report (0-based index or name)\n"
	 "Profiles contain multiple values per sample.\n"
	 "Use sample_index=i to select the ith value (starting at 0).\n"},
	{"divide_by", O_FLOAT, "1", NULL,
	 "Ratio to divide all samples before visualization\n"
	 "Divide all samples values by a constant, eg the number of processors or jobs.\n"},
	{"normalize", O_BOOL, "false", NULL, "Scales profile based on the base profile.\n"},
	{"sort", O_CHOICE, "flat", sort_choices, NULL},
	{"tagroot", O_STRING, "", NULL,
	 "Adds pseudo stack frames for labels key/value pairs at the callstack root.\n"
	 "A comma-separated list of label keys.\n"
	 "The first key creates frames at the new root.\n"},
	{"tagleaf", O_STRING, "", NULL,
	 "Adds pseudo stack frames for labels key/value pairs at the callstack leaf.\n"
	 "A comma-separated list of label keys.\n"
	 "The last key creates frames at the new leaf.\n"},
	{"drop_negative", O_BOOL, "false", NULL,
	 "Ignore negative differences\nDo not show any locations with values <0.\n"},
	{"nodecount", O_INT, "-1", NULL,
	 "Max number of nodes to show\n"
	 "Uses heuristics to limit the number of locations to be displayed.\n"
	 "On graphs, dotted edges represent paths through nodes that have been removed.\n"},
	{"nodefraction", O_FLOAT, "0.005", NULL, "Hide nodes below <f>*total"},
	{"edgefraction", O_FLOAT, "0.001", NULL, "Hide edges below <f>*total"},
	{"trim", O_BOOL, "true", NULL,
	 "Honor nodefraction/edgefraction/nodecount defaults\n"
	 "Set to false to get the full profile, without any trimming.\n"},
	{"focus", O_STRING, "", NULL,
	 "Restricts to samples going through a node matching regexp\n"
	 "Discard samples that do not include a node matching this regexp.\n" FILTER_HELP},
	{"ignore", O_STRING, "", NULL,
	 "Skips paths going through any nodes matching regexp\n"
	 "If set, discard samples that include a node matching this regexp.\n" FILTER_HELP},
	{"prune_from", O_STRING, "", NULL,
	 "Drops any functions below the matched frame.\n"
	 "If set, any frames matching the specified regexp and any frames\n"
	 "below it will be dropped from each sample.\n"},
	{"hide", O_STRING, "", NULL,
	 "Skips nodes matching regexp\n"
	 "Discard nodes that match this location.\n"
	 "Other nodes from samples that include this location will be shown.\n" FILTER_HELP},
	{"show", O_STRING, "", NULL,
	 "Only show nodes matching regexp\n"
	 "If set, only show nodes that match this location.\n" FILTER_HELP},
	{"show_from", O_STRING, "", NULL,
	 "Drops functions above the highest matched frame.\n"
	 "If set, all frames above the highest match are dropped from every sample.\n"
	 FILTER_HELP},
	{"tagfocus", O_STRING, "", NULL,
	 "Restricts to samples with tags in range or matched by regexp\n" TAGF_HELP},
	{"tagignore", O_STRING, "", NULL,
	 "Discard samples with tags in range or matched by regexp\n" TAGF_HELP},
	{"tagshow", O_STRING, "", NULL,
	 "Only consider tags matching this regexp\nDiscard tags that do not match this regexp\n"},
	{"taghide", O_STRING, "", NULL,
	 "Skip tags matching this regexp\nDiscard tags that match this regexp\n"},
	{"noinlines", O_BOOL, "false", NULL,
	 "Ignore inlines.\nAttributes inlined functions to their first out-of-line caller.\n"},
	{"granularity", O_CHOICE, "functions", gran_choices, NULL},
};
#define NOPT SHELL_NOPT
_Static_assert(sizeof(opts) / sizeof(opts[0]) == SHELL_NOPT, "SHELL_NOPT is the size of opts");
const struct opt *const cprof__shell_opts = opts;

/* configHelp of the choices of the groups. */
static const struct {
	const char *name, *help;
} choice_help[] = {
	{"flat", "Sort entries based on own weight\n"},
	{"cum", "Sort entries based on cumulative weight\n"},
	{"functions", "Aggregate at the function level.\n"
		      "Ignores the filename where the function was defined.\n"},
	{"filefunctions", "Aggregate at the function level.\n"
			  "Takes into account the filename where the function was defined.\n"},
	{"files", "Aggregate at the file level."},
	{"lines", "Aggregate at the source code line level."},
	{"addresses", "Aggregate at the address level.\n"
		      "Includes functions' addresses in the output.\n"},
};

/* ---- pprof's commands (commands.go pprofCommands) ---- */

static const struct cmd cmds[] = {
	{"comments", false, NULL, "Output all profile comments", U_NONE, false, false, NULL},
	{"disasm", true, NULL, "Output assembly listings annotated with samples", U_LIST, false,
	 true, NULL},
	{"dot", false, NULL, "Outputs a graph in DOT format", U_REPORT, false, true, NULL},
	{"list", true, NULL, "Output annotated source for functions matching regexp", U_LIST,
	 false, false, NULL},
	{"peek", true, NULL, "Output callers/callees of functions matching regexp", U_TEXT, false,
	 false, "peek func_regex\nDisplay callers and callees of functions matching func_regex."},
	{"raw", false, NULL, "Outputs a text representation of the raw profile", U_NONE, false,
	 false, NULL},
	{"tags", false, NULL, "Outputs all tags in the profile", U_TEXT, false, false,
	 "tags [tag_regex]* [-ignore_regex]* [>file]\n"
	 "List tags with key:value matching tag_regex and exclude ignore_regex."},
	{"text", false, NULL, "Outputs top entries in text form", U_REPORT, true, true, NULL},
	{"top", false, NULL, "Outputs top entries in text form", U_REPORT, true, true, NULL},
	{"traces", false, NULL, "Outputs all profile samples in text form", U_NONE, false, false,
	 NULL},
	{"tree", false, NULL, "Outputs a text rendering of call graph", U_REPORT, true, true, NULL},
	{"callgrind", false, "callgraph.out", "Outputs a graph in callgrind format", U_REPORT,
	 false, true, NULL},
	{"proto", false, "pb.gz", "Outputs the profile in compressed protobuf format", U_NONE,
	 false, false, NULL},
	{"topproto", false, "pb.gz", "Outputs top entries in compressed protobuf format", U_NONE,
	 false, false, NULL},
	{"gif", false, "gif", "Outputs a graph image in GIF format", U_REPORT, false, true, NULL},
	{"pdf", false, "pdf", "Outputs a graph in PDF format", U_REPORT, false, true, NULL},
	{"png", false, "png", "Outputs a graph image in PNG format", U_REPORT, false, true, NULL},
	{"ps", false, "ps", "Outputs a graph in PS format", U_REPORT, false, true, NULL},
	{"svg", false, "svg", "Outputs a graph in SVG format", U_REPORT, false, true, NULL},
	{"eog", false, NULL, "Visualize graph through eog", U_REPORT, false, false, NULL},
	{"evince", false, NULL, "Visualize graph through evince", U_REPORT, false, false, NULL},
	{"gv", false, NULL, "Visualize graph through gv", U_REPORT, false, false, NULL},
	{"web", false, NULL, "Visualize graph through web browser", U_REPORT, false, false, NULL},
	{"kcachegrind", false, NULL, "Visualize report in KCachegrind", U_REPORT, false, false,
	 NULL},
	{"weblist", true, NULL, "Display annotated source in a web browser", U_LIST, false, false,
	 NULL},
};
#define NCMD SHELL_NCMD
_Static_assert(sizeof(cmds) / sizeof(cmds[0]) == SHELL_NCMD, "SHELL_NCMD is the size of cmds");
const struct cmd *const cprof__shell_cmds = cmds;

/* ---- the shell's state ---- */

int cprof__shell_find_opt(const char *name)
{
	for (size_t i = 0; i < NOPT; i++)
		if (strcmp(opts[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The group a choice ("cum", "lines") belongs to, or -1. */
static int find_choice(const char *name)
{
	for (size_t i = 0; i < NOPT; i++)
		for (const char *const *c = opts[i].choices; c && *c; c++)
			if (strcmp(*c, name) == 0)
				return (int)i;
	return -1;
}

const struct cmd *cprof__shell_find_cmd(const struct shell *sh, const char *name)
{
	for (size_t i = 0; i < NCMD; i++)
		if (sh->have[i] && strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static const char *opt_help(const char *name)
{
	int i = cprof__shell_find_opt(name);
	if (i >= 0)
		return opts[i].help;
	for (size_t k = 0; k < sizeof(choice_help) / sizeof(choice_help[0]); k++)
		if (strcmp(choice_help[k].name, name) == 0)
			return choice_help[k].help;
	return NULL;
}

/* Print and PrintErr of pprof's UIs: a newline added unless there is one. */
static void ui_print(const char *s)
{
	size_t n = strlen(s);
	fputs(s, stderr);
	if (n == 0 || s[n - 1] != '\n')
		fputc('\n', stderr);
	fflush(stderr);
}

static bool err_color;

__attribute__((format(printf, 1, 2))) static void ui_error(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* On a terminal pprof prints errors in red. */
	if (err_color)
		fputs("\033[0;31m", stderr);
	fputs(s, stderr);
	if (n == 0 || s[n - 1] != '\n')
		fputc('\n', stderr);
	if (err_color)
		fputs("\033[0m", stderr);
	fflush(stderr);
	free(s);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d) {
		cli_error("pprof: out of memory");
		exit(1);
	}
	return d;
}

static void set_val(struct shell *sh, int i, const char *v)
{
	char *d = xstrdup(v);
	free(sh->val[i]);
	sh->val[i] = d;
}

/* strconv.Quote for the ASCII cases pprof's messages meet. */
static void go_quote(char *buf, size_t len, const char *s)
{
	size_t o = 0;
	if (len < 4)
		return;
	buf[o++] = '"';
	for (; *s && o + 6 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c == '\t') {
			buf[o++] = '\\';
			buf[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

/* fmt.Sprint of a float64: the shortest 'g' form, exponent from 1e+06 and below 1e-04. */
static void go_float(char *buf, size_t len, double v)
{
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(buf, len, signbit(v) ? "-0" : "0");
		return;
	}
	int p;
	char e[64];
	for (p = 1; p < 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", p - 1, v);
	int exp = atoi(strchr(e, 'e') + 1);
	if (exp < -4 || exp >= 6) {
		/* C prints at least two exponent digits, as Go does. */
		snprintf(buf, len, "%s", e);
		/* Go drops nothing else: "1e+06", "1.5e-07". */
		return;
	}
	snprintf(buf, len, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, v);
}

/* ---- setting options (config.go set / configure) ---- */

/* strconv.Atoi */
static int go_atoi(const char *s, long long *out, char *err, size_t errlen)
{
	char q[512];
	const char *d = s + (*s == '+' || *s == '-');
	bool ok = *d != '\0';
	for (const char *c = d; *c; c++)
		if (*c < '0' || *c > '9')
			ok = false;
	go_quote(q, sizeof(q), s);
	if (!ok) {
		snprintf(err, errlen, "strconv.Atoi: parsing %s: invalid syntax", q);
		return -1;
	}
	errno = 0;
	*out = strtoll(s, NULL, 10);
	if (errno == ERANGE) {
		snprintf(err, errlen, "strconv.Atoi: parsing %s: value out of range", q);
		return -1;
	}
	return 0;
}

/* strconv.ParseFloat(s, 64) */
static int go_parse_float(const char *s, double *out, char *err, size_t errlen)
{
	char q[512];
	go_quote(q, sizeof(q), s);
	const char *d = s + (*s == '+' || *s == '-');
	bool hex = d[0] == '0' && (d[1] == 'x' || d[1] == 'X');
	char *end;
	errno = 0;
	double v = *s && !strchr(" \t\n\v\f\r", *s) ? strtod(s, &end) : 0;
	if (!*s || strchr(" \t\n\v\f\r", *s) || *end || (hex && !strpbrk(s, "pP")) ||
	    strncasecmp(d, "nan(", 4) == 0) {
		snprintf(err, errlen, "strconv.ParseFloat: parsing %s: invalid syntax", q);
		return -1;
	}
	if (errno == ERANGE && isinf(v)) {
		snprintf(err, errlen, "strconv.ParseFloat: parsing %s: value out of range", q);
		return -1;
	}
	*out = v;
	return 0;
}

/* commands.go stringToBool: pprof's own, "" is true. */
static int go_string_to_bool(const char *s, bool *out)
{
	static const char *const t[] = {"true", "t", "yes", "y", "1", ""};
	static const char *const f[] = {"false", "f", "no", "n", "0"};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i]) == 0) {
			*out = true;
			return 0;
		}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcasecmp(s, f[i]) == 0) {
			*out = false;
			return 0;
		}
	return -1;
}

/* The `cprof pprof` flag behind option i set to v (a choice's flag is the choice). */
static const char *flag_of(int i, const char *v)
{
	return opts[i].type == O_CHOICE ? v : opts[i].name;
}

/* Options cprof's command line lacks can only stay at their defaults. */
static int check_supported(int i, const char *v, char *err, size_t errlen)
{
	if (strcmp(opts[i].name, "output") == 0 || strcmp(v, opts[i].def) == 0)
		return 0;
	if (cprof__pprof_flag_kind(flag_of(i, v)) != 0)
		return 0;
	snprintf(err, errlen, "cprof: pprof: option %s is not supported (cprof pprof has no -%s)",
		 opts[i].name, flag_of(i, v));
	return -1;
}

/* config.set: value into option i, canonical as pprof prints it. */
static int set_opt(struct shell *sh, int i, const char *value, char *err, size_t errlen)
{
	char buf[64], q1[128], q2[512];
	const char *v = value;
	switch (opts[i].type) {
	case O_CHOICE:
		for (const char *const *c = opts[i].choices; *c; c++)
			if (strcmp(*c, value) == 0)
				goto ok;
		go_quote(q1, sizeof(q1), opts[i].name);
		go_quote(q2, sizeof(q2), value);
		snprintf(err, errlen, "invalid %s value %s", q1, q2);
		return -1;
	case O_STRING:
		break;
	case O_INT: {
		long long n;
		if (go_atoi(value, &n, err, errlen) < 0)
			return -1;
		snprintf(buf, sizeof(buf), "%lld", n);
		v = buf;
		break;
	}
	case O_FLOAT: {
		double d;
		if (go_parse_float(value, &d, err, errlen) < 0)
			return -1;
		go_float(buf, sizeof(buf), d);
		v = buf;
		break;
	}
	case O_BOOL: {
		bool b;
		if (go_string_to_bool(value, &b) < 0) {
			snprintf(err, errlen, "illegal value \"%s\" for bool variable", value);
			return -1;
		}
		v = b ? "true" : "false";
		break;
	}
	}
ok:
	if (check_supported(i, v, err, errlen) < 0)
		return -1;
	set_val(sh, i, v);
	return 0;
}

/* config.go configure: a field by name, or a choice set when value is true. */
static int configure(struct shell *sh, const char *name, const char *value, char *err,
		     size_t errlen)
{
	int i = cprof__shell_find_opt(name);
	if (i >= 0)
		return set_opt(sh, i, value, err, errlen);
	i = find_choice(name);
	bool b;
	if (i >= 0 && cprof__pprof_parse_bool(value, &b) == 0 && b)
		return set_opt(sh, i, name, err, errlen);
	char q[512];
	go_quote(q, sizeof(q), name);
	snprintf(err, errlen, "unknown config field %s", q);
	return -1;
}

/* ---- the profile's sample types ---- */

const char *cprof__shell_stype(const struct profile *p, size_t i)
{
	return cprof__profile_str(p, p->sample_type[i].type);
}

/* profile.SampleIndexByName, with its error texts. */
static int sample_index(const struct profile *p, const char *si, char *err, size_t errlen)
{
	size_t n = p->nsample_type;
	if (!si[0]) {
		const char *dst = cprof__profile_str(p, p->default_sample_type);
		if (dst[0])
			for (size_t i = 0; i < n; i++)
				if (strcmp(cprof__shell_stype(p, i), dst) == 0)
					return (int)i;
		return (int)n - 1;
	}
	long long v;
	char e[16];
	if (go_atoi(si, &v, e, sizeof(e)) == 0) {
		if (v < 0 || (size_t)v >= n) {
			snprintf(err, errlen, "sample_index %s is outside the range [0..%d]", si,
				 (int)n - 1);
			return -1;
		}
		return (int)v;
	}
	const char *no_inuse = strncmp(si, "inuse_", 6) == 0 ? si + 6 : si;
	for (size_t i = 0; i < n; i++)
		if (strcmp(cprof__shell_stype(p, i), si) == 0 ||
		    strcmp(cprof__shell_stype(p, i), no_inuse) == 0)
			return (int)i;
	char q[512];
	go_quote(q, sizeof(q), si);
	size_t off = (size_t)snprintf(err, errlen, "sample_index %s must be one of: [", q);
	for (size_t i = 0; i < n && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s%s", i ? " " : "",
					cprof__shell_stype(p, i));
	if (off < errlen)
		snprintf(err + off, errlen - off, "]");
	return -1;
}

/* ---- greeting, options listing, help ---- */

static void greetings(struct shell *sh)
{
	struct report_options o;
	cprof__report_options_init(&o);
	const char *si = sh->val[cprof__shell_find_opt("sample_index")];
	o.sample_index = si[0] ? si : NULL;
	o.mean = strcmp(sh->val[cprof__shell_find_opt("mean")], "true") == 0;
	o.unit = sh->val[cprof__shell_find_opt("unit")];
	o.divide_by = strtod(sh->val[cprof__shell_find_opt("divide_by")], NULL);
	o.compact_labels = false;
	struct report r;
	char err[1024];
	if (sh->prof->nsample_type > 0 && cprof__report_init(&r, sh->prof, &o, err, sizeof(err)) == 0) {
		/*
		 * report.ProfileLabels: the header lines of a full report, which
		 * the engine prints before "Showing nodes accounting for ..."
		 * (an empty graph adds nothing else).
		 */
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		if (m) {
			struct rgraph empty = {0};
			cprof__report_labels(&r, &empty, 0, 0, 0, m);
			fclose(m);
			char *cut = strstr(buf, "Showing nodes accounting for ");
			while (cut && cut != buf && cut[-1] != '\n')
				cut = strstr(cut + 1, "Showing nodes accounting for ");
			if (cut) {
				*cut = '\0';
				/* Joined by "\n": the last label's newline is Print's. */
				ui_print(buf);
			}
			free(buf);
		}
		if (r.total == 0 && sh->prof->nsample_type > 1) {
			ui_print("No samples were found with the default sample value type.");
			ui_print("Try \"sample_index\" command to analyze different sample values.\n");
		}
		cprof__report_release(&r);
	}
	ui_print("Entering interactive mode (type \"help\" for commands, \"o\" for options)");
}

int cprof__shell_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* interactive.go printCurrentOptions */
static void print_options(struct shell *sh)
{
	const struct profile *p = sh->prof;
	char *lines[NOPT];
	size_t n = 0;
	for (size_t i = 0; i < NOPT; i++) {
		const char *name = opts[i].name, *v = sh->val[i];
		char comment[4096] = "";
		size_t off = 0;
		if (opts[i].choices) {
			const char *sorted[8];
			size_t k = 0;
			for (const char *const *c = opts[i].choices; *c && k < 8; c++)
				sorted[k++] = *c;
			qsort(sorted, k, sizeof(sorted[0]), cprof__shell_cmp_str);
			off += (size_t)snprintf(comment, sizeof(comment), "//: [");
			for (size_t j = 0; j < k; j++)
				off += (size_t)snprintf(comment + off, sizeof(comment) - off, "%s%s",
							j ? " | " : "", sorted[j]);
			snprintf(comment + off, sizeof(comment) - off, "]");
		} else if (strcmp(name, "sample_index") == 0) {
			if (!v[0] && p->nsample_type > 0)
				v = cprof__shell_stype(p, p->nsample_type - 1);
			off += (size_t)snprintf(comment, sizeof(comment), "//: [");
			for (size_t j = 0; j < p->nsample_type && off < sizeof(comment); j++)
				off += (size_t)snprintf(comment + off, sizeof(comment) - off, "%s%s",
							j ? " | " : "", cprof__shell_stype(p, j));
			if (off < sizeof(comment))
				snprintf(comment + off, sizeof(comment) - off, "]");
		} else if (strcmp(name, "source_path") == 0) {
			continue;
		} else if (strcmp(name, "nodecount") == 0 && strcmp(v, "-1") == 0) {
			snprintf(comment, sizeof(comment), "//: default");
		} else if (!v[0]) {
			v = "\"\"";
		}
		if (asprintf(&lines[n], "  %-25s = %-20s %s", name, v, comment) < 0) {
			cli_error("pprof: out of memory");
			exit(1);
		}
		n++;
	}
	qsort(lines, n, sizeof(lines[0]), cprof__shell_cmp_str);
	size_t total = 1;
	for (size_t i = 0; i < n; i++)
		total += strlen(lines[i]) + 1;
	char *out = malloc(total);
	if (!out) {
		cli_error("pprof: out of memory");
		exit(1);
	}
	out[0] = '\0';
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		off += (size_t)sprintf(out + off, "%s%s", i ? "\n" : "", lines[i]);
		free(lines[i]);
	}
	ui_print(out);
	free(out);
}

/* commands.go reportHelp / listHelp, or the literal usage, into buf. */
static void cmd_usage(const struct cmd *c, char *buf, size_t len)
{
	buf[0] = '\0';
	switch (c->usage) {
	case U_NONE:
		break;
	case U_TEXT:
		snprintf(buf, len, "%s", c->text);
		break;
	case U_REPORT:
		snprintf(buf, len, "%s [n] [focus_regex]* [-ignore_regex]*%s%s\n"
			 "Include up to n samples\n"
			 "Include samples matching focus_regex, and exclude ignore_regex.%s%s",
			 c->name, c->cum ? " [-cum]" : "", c->redirect ? " >f" : "",
			 c->cum ? "\n-cum sorts the output by cumulative weight" : "",
			 c->redirect ? "\nOptionally save the report on the file f" : "");
		break;
	case U_LIST:
		snprintf(buf, len, "%s<func_regex|address> [-focus_regex]* [-ignore_regex]*%s\n"
			 "Include functions matching func_regex, or including the address "
			 "specified.\n"
			 "Include samples matching focus_regex, and exclude ignore_regex.%s",
			 c->name, c->redirect ? " >f" : "",
			 c->redirect ? "\nOptionally save the report on the file f" : "");
		break;
	}
}

/* "    %-16s %s" with the first line of d */
static char *fmt_help(const char *prefix, const char *c, const char *d)
{
	char *s;
	size_t n = strcspn(d, "\n");
	char name[128];
	snprintf(name, sizeof(name), "%s%s", prefix, c);
	if (asprintf(&s, "    %-16s %.*s", name, (int)n, d) < 0) {
		cli_error("pprof: out of memory");
		exit(1);
	}
	return s;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > *cap) {
		size_t c = (*cap ? *cap * 2 : 4096);
		while (c < *len + n + 1)
			c *= 2;
		char *b = realloc(*buf, c);
		if (!b) {
			cli_error("pprof: out of memory");
			exit(1);
		}
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

/* commands.go usage(false) plus interactive.go's lines: `help` alone. */
static void print_help(struct shell *sh)
{
	char *buf = NULL, *lines[NCMD + NOPT + 8];
	size_t len = 0, cap = 0, n = 0;
	append(&buf, &len, &cap, "  Commands:\n");
	for (size_t i = 0; i < NCMD; i++)
		if (sh->have[i])
			lines[n++] = fmt_help("", cmds[i].name, cmds[i].desc);
	qsort(lines, n, sizeof(lines[0]), cprof__shell_cmp_str);
	lines[n++] = fmt_help("", "o/options", "List options and their current values");
	lines[n++] = fmt_help("", "q/quit/exit/^D", "Exit pprof");
	for (size_t i = 0; i < n; i++) {
		append(&buf, &len, &cap, lines[i]);
		append(&buf, &len, &cap, "\n");
		free(lines[i]);
	}
	append(&buf, &len, &cap, "\n  Options:\n");
	n = 0;
	char *groups[NOPT];
	size_t ng = 0;
	for (size_t i = 0; i < NOPT; i++) {
		if (!opts[i].choices) {
			lines[n++] = fmt_help("", opts[i].name, opts[i].help);
			continue;
		}
		char *g = NULL;
		size_t glen = 0, gcap = 0;
		char *h = fmt_help("", opts[i].name, "");
		append(&g, &glen, &gcap, h);
		free(h);
		for (const char *const *c = opts[i].choices; *c; c++) {
			h = fmt_help("", *c, opt_help(*c));
			append(&g, &glen, &gcap, "\n  ");
			append(&g, &glen, &gcap, h);
			free(h);
		}
		groups[ng++] = g;
	}
	qsort(lines, n, sizeof(lines[0]), cprof__shell_cmp_str);
	qsort(groups, ng, sizeof(groups[0]), cprof__shell_cmp_str);
	for (size_t i = 0; i < n; i++) {
		append(&buf, &len, &cap, lines[i]);
		append(&buf, &len, &cap, i + 1 < n ? "\n" : "\n\n");
		free(lines[i]);
	}
	append(&buf, &len, &cap, "  Option groups (only set one per group):\n");
	for (size_t i = 0; i < ng; i++) {
		append(&buf, &len, &cap, groups[i]);
		if (i + 1 < ng)
			append(&buf, &len, &cap, "\n");
		free(groups[i]);
	}
	append(&buf, &len, &cap, "\n  :   Clear focus/ignore/hide/tagfocus/tagignore\n\n"
				 "  type \"help <cmd|option>\" for more information\n");
	ui_print(buf);
	free(buf);
}

/* interactive.go commandHelp */
static void command_help(struct shell *sh, const char *args)
{
	if (!args[0]) {
		print_help(sh);
		return;
	}
	const struct cmd *c = cprof__shell_find_cmd(sh, args);
	if (c) {
		char usage[1024], *out = NULL;
		size_t len = 0, cap = 0;
		cmd_usage(c, usage, sizeof(usage));
		append(&out, &len, &cap, c->desc);
		append(&out, &len, &cap, "\n");
		if (usage[0]) {
			append(&out, &len, &cap, "  Usage:\n");
			for (char *l = usage, *nl; l; l = nl ? nl + 1 : NULL) {
				nl = strchr(l, '\n');
				if (nl)
					*nl = '\0';
				append(&out, &len, &cap, "    ");
				append(&out, &len, &cap, l);
				append(&out, &len, &cap, "\n");
			}
		}
		append(&out, &len, &cap, "\n");
		ui_print(out);
		free(out);
		return;
	}
	const char *h = strcmp(args, "sample_index") == 0 ? sh->si_help : opt_help(args);
	if (h) {
		char *out;
		if (asprintf(&out, "%s\n", h) >= 0) {
			ui_print(out);
			free(out);
		}
		return;
	}
	ui_error("Unknown command: %s", args);
}

/* ---- running a report ---- */

/* newTempFile("", "profile", "."+suffix): profile001.svg, ... in the current directory. */
static int new_temp_file(const char *suffix, char *name, size_t len)
{
	for (int i = 1; i < 10000; i++) {
		snprintf(name, len, "profile%03d.%s", i, suffix);
		int fd = open(name, O_RDWR | O_CREAT | O_EXCL, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	snprintf(name, len, "profile%03d.%s", 1, suffix);
	errno = EEXIST;
	return -1;
}

/* An error text as Go's os package words it: "open f: no such file or directory". */
static void os_error(const char *op, const char *name, int err)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "%s", strerror(err));
	if (msg[0] >= 'A' && msg[0] <= 'Z' && !(msg[1] >= 'A' && msg[1] <= 'Z'))
		msg[0] = (char)(msg[0] - 'A' + 'a');
	ui_error("%s %s: %s", op, name, msg);
}

/*
 * Run one report through cmd_pprof.c on a fresh copy of the profile. With
 * `output` or a binary format, the report is captured and written to the
 * file only when it succeeded, as pprof generates before it opens.
 */
static void run_report(struct shell *sh, const struct cmd *c, int argc, char **argv,
		       const char *output)
{
	char err[1024];
	struct profile *p = cprof__profile_decode(sh->pb, sh->pblen, err, sizeof(err));
	if (!p) {
		ui_error("%s", err);
		return;
	}
	fflush(stdout);
	if (!output[0] && !c->away) {
		cprof__pprof_report(p, argc, argv);
		fflush(stdout);
		cprof__profile_free(p);
		return;
	}
	FILE *tmp = tmpfile();
	int saved = dup(1);
	if (!tmp || saved < 0 || dup2(fileno(tmp), 1) < 0) {
		ui_error("capturing the report: %s", strerror(errno));
		if (tmp)
			fclose(tmp);
		if (saved >= 0)
			close(saved);
		cprof__profile_free(p);
		return;
	}
	int rc = cprof__pprof_report(p, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	cprof__profile_free(p);
	if (rc != 0) {
		fclose(tmp);
		return;
	}
	char name[4096];
	int fd;
	if (output[0]) {
		snprintf(name, sizeof(name), "%s", output);
		ui_error("Generating report in %s", name);
		fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	} else {
		fd = new_temp_file(c->away, name, sizeof(name));
		if (fd >= 0)
			ui_error("Generating report in %s", name);
	}
	if (fd < 0) {
		os_error("open", name, errno);
		fclose(tmp);
		return;
	}
	rewind(tmp);
	char b[65536];
	size_t n;
	while ((n = fread(b, 1, sizeof(b), tmp)) > 0) {
		if (write(fd, b, n) != (ssize_t)n) {
			os_error("write", name, errno);
			break;
		}
	}
	close(fd);
	fclose(tmp);
}

/* catRegex */
static char *cat_regex(char *a, const char *b)
{
	char *r;
	if (a && a[0] && b[0]) {
		if (asprintf(&r, "%s|%s", a, b) < 0)
			r = NULL;
	} else {
		r = strdup(a && a[0] ? a : b);
	}
	if (!r) {
		cli_error("pprof: out of memory");
		exit(1);
	}
	free(a);
	return r;
}

/* strconv.ParseInt(t, 10, 32) succeeds */
static bool is_int32(const char *t, long long *v)
{
	char e[8];
	return go_atoi(t, v, e, sizeof(e)) == 0 && *v >= INT32_MIN && *v <= INT32_MAX;
}

/* interactive.go parseCommandLine, then the report. */
static void command(struct shell *sh, char **tok, int ntok)
{
	char name[256], digits[64] = "";
	snprintf(name, sizeof(name), "%s", tok[0]);
	char **args = tok + 1;
	int nargs = ntok - 1;
	const struct cmd *c = cprof__shell_find_cmd(sh, name);
	if (!c) {
		/* top10 = top 10 */
		size_t n = strlen(name), d = n;
		while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
			d--;
		if (d < n && d > 0 && n - d < sizeof(digits)) {
			snprintf(digits, sizeof(digits), "%s", name + d);
			name[d] = '\0';
			c = cprof__shell_find_cmd(sh, name);
		}
	}
	const char *arg0 = digits[0] ? digits : nargs > 0 ? args[0] : NULL;
	if (!c) {
		if (opt_help(name))
			ui_error("did you mean: %s=%s", name, arg0 ? arg0 : "<val>");
		else {
			char q[512];
			go_quote(q, sizeof(q), name);
			ui_error("unrecognized command: %s", q);
		}
		return;
	}
	/* The arguments after the command, the split-off digits first. */
	char **av = calloc((size_t)nargs + 2, sizeof(char *));
	if (!av) {
		cli_error("pprof: out of memory");
		exit(1);
	}
	int na = 0;
	if (digits[0])
		av[na++] = digits;
	for (int i = 0; i < nargs; i++)
		av[na++] = args[i];
	int first = 0;
	const char *param = NULL;
	if (c->param) {
		if (na == 0) {
			ui_error("command %s requires an argument", name);
			free(av);
			return;
		}
		param = av[first++];
	}

	/* Options set on a command line do not persist. */
	const char *v[NOPT];
	for (size_t i = 0; i < NOPT; i++)
		v[i] = sh->val[i];
	char *focus = NULL, *ignore = NULL, nodecount[32];
	const char *output = sh->val[cprof__shell_find_opt("output")];
	for (int i = first; i < na; i++) {
		const char *t = av[i];
		long long n;
		if (is_int32(t, &n)) {
			snprintf(nodecount, sizeof(nodecount), "%lld", n);
			v[cprof__shell_find_opt("nodecount")] = nodecount;
			continue;
		}
		if (t[0] == '>') {
			output = t + 1;
			if (!output[0]) {
				if (++i >= na) {
					ui_error("unexpected end of line after >");
					free(focus);
					free(ignore);
					free(av);
					return;
				}
				output = av[i];
			}
		} else if (t[0] == '-') {
			if (strcmp(t, "--cum") == 0 || strcmp(t, "-cum") == 0)
				v[cprof__shell_find_opt("sort")] = "cum";
			else
				ignore = cat_regex(ignore, t + 1);
		} else {
			focus = cat_regex(focus, t);
		}
	}
	bool tags = strcmp(name, "tags") == 0;
	if (focus && focus[0])
		v[cprof__shell_find_opt(tags ? "tagfocus" : "focus")] = focus;
	if (ignore && ignore[0])
		v[cprof__shell_find_opt(tags ? "tagignore" : "ignore")] = ignore;
	if (strcmp(v[cprof__shell_find_opt("nodecount")], "-1") == 0 &&
	    (strcmp(name, "text") == 0 || strcmp(name, "top") == 0))
		v[cprof__shell_find_opt("nodecount")] = "10";

	/* The same report as `cprof pprof -<cmd> <options that differ> FILE`. */
	char *argv[NOPT + 3];
	int argc = 0;
	bool ok = true;
	ok &= asprintf(&argv[argc++], "pprof") >= 0;
	if (param)
		ok &= asprintf(&argv[argc++], "-%s=%s", name, param) >= 0;
	else
		ok &= asprintf(&argv[argc++], "-%s", name) >= 0;
	for (size_t i = 0; i < NOPT; i++) {
		if (strcmp(opts[i].name, "output") == 0 || strcmp(v[i], opts[i].def) == 0)
			continue;
		if (opts[i].type == O_CHOICE)
			ok &= asprintf(&argv[argc++], "-%s", v[i]) >= 0;
		else
			ok &= asprintf(&argv[argc++], "-%s=%s", opts[i].name, v[i]) >= 0;
	}
	if (!ok) {
		cli_error("pprof: out of memory");
		exit(1);
	}
	argv[argc] = NULL;
	run_report(sh, c, argc, argv, output);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(focus);
	free(ignore);
	free(av);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
		s++;
	size_t n = strlen(s);
	while (n > 0 && strchr(" \t\n\r\v\f", s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* name=value, or a bare boolean option. Returns false when input is no option at all. */
static bool assignment(struct shell *sh, char *input)
{
	char *eq = strchr(input, '=');
	if (eq)
		*eq = '\0';
	char *name = trim(input);
	bool is_opt = cprof__shell_find_opt(name) >= 0;
	bool is_choice = !is_opt && find_choice(name) >= 0;
	if (!is_opt && !is_choice) {
		if (eq)
			*eq = '=';
		return false;
	}
	if (!eq && !is_choice && opts[cprof__shell_find_opt(name)].type != O_BOOL) {
		ui_error("please specify a value, e.g. %s=<val>", name);
		return true;
	}
	char *value = (char *)"";
	if (eq) {
		value = eq + 1;
		char *comment = NULL;
		for (char *s = strstr(value, "//:"); s; s = strstr(s + 1, "//:"))
			comment = s;
		if (comment)
			*comment = '\0';
		value = trim(value);
	}
	char err[2048];
	if (strcmp(name, "sample_index") == 0) {
		int idx = sh->prof->nsample_type ? sample_index(sh->prof, value, err, sizeof(err)) : -1;
		if (idx < 0) {
			if (!sh->prof->nsample_type)
				snprintf(err, sizeof(err), "invalid sample_index \"%s\"", value);
			ui_error("%s", err);
			return true;
		}
		value = (char *)cprof__shell_stype(sh->prof, (size_t)idx);
	}
	if (configure(sh, name, value, err, sizeof(err)) < 0)
		ui_error("%s", err);
	return true;
}

/* One input line; true when the shell should end. */
bool cprof__shell_process(struct shell *sh, char *line)
{
	char *in = trim(line);
	/* interactive.go shortcuts: ":" and the profile's sample types. */
	const char *clear[] = {"focus=", "ignore=", "hide=", "tagfocus=", "tagignore="};
	char *exp[5];
	size_t nexp = 0;
	bool ok = true;
	if (strcmp(in, ":") == 0) {
		for (size_t i = 0; i < 5; i++)
			ok &= (exp[nexp++] = strdup(clear[i])) != NULL;
	} else {
		for (size_t i = sh->prof->nsample_type; i-- > 0 && nexp == 0;) {
			const char *t = cprof__shell_stype(sh->prof, i);
			const char *rest = in;
			const char *mean = NULL;
			if (strncmp(in, "total_", 6) == 0 && strcmp(in + 6, t) == 0)
				rest = in + 6, mean = "mean=0";
			else if (strncmp(in, "mean_", 5) == 0 && strcmp(in + 5, t) == 0)
				rest = in + 5, mean = "mean=1";
			if (strcmp(rest, t) != 0)
				continue;
			if (mean)
				ok &= (exp[nexp++] = strdup(mean)) != NULL;
			ok &= asprintf(&exp[nexp++], "sample_index=%s", t) >= 0;
		}
		if (nexp == 0)
			ok &= (exp[nexp++] = strdup(in)) != NULL;
	}
	if (!ok) {
		cli_error("pprof: out of memory");
		exit(1);
	}
	bool quit = false;
	for (size_t e = 0; e < nexp && !quit; e++) {
		char *input = exp[e];
		if (assignment(sh, input))
			continue;
		char *tok[1024];
		int ntok = 0;
		for (char *t = strtok(input, " \t\n\r\v\f"); t && ntok < 1024;
		     t = strtok(NULL, " \t\n\r\v\f"))
			tok[ntok++] = t;
		if (ntok == 0)
			continue;
		if (strcmp(tok[0], "o") == 0 || strcmp(tok[0], "options") == 0) {
			print_options(sh);
		} else if (strcmp(tok[0], "exit") == 0 || strcmp(tok[0], "quit") == 0 ||
			   strcmp(tok[0], "q") == 0) {
			quit = true;
		} else if (strcmp(tok[0], "help") == 0) {
			char args[4096] = "";
			size_t off = 0;
			for (int i = 1; i < ntok && off < sizeof(args); i++)
				off += (size_t)snprintf(args + off, sizeof(args) - off, "%s%s",
							i > 1 ? " " : "", tok[i]);
			command_help(sh, args);
		} else {
			command(sh, tok, ntok);
		}
	}
	for (size_t e = 0; e < nexp; e++)
		free(exp[e]);
	return quit;
}

/* ---- the shell ---- */

/* The command line's flags as pprof's config (cli.go parseFlags). */
static void initial_options(struct shell *sh, int argc, char **argv)
{
	static const struct {
		const char *flag, *type;
	} sc[] = {
		{"total_delay", "delay"},      {"mean_delay", "delay"},
		{"contentions", "contentions"}, {"inuse_space", "inuse_space"},
		{"inuse_objects", "inuse_objects"}, {"alloc_space", "alloc_space"},
		{"alloc_objects", "alloc_objects"},
	};
	bool shortcut[sizeof(sc) / sizeof(sc[0])] = {false};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (a[0] != '-' || !a[1])
			continue;
		const char *n = a + 1 + (a[1] == '-');
		char name[128];
		const char *eq = strchr(n, '='), *value;
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - n) : (int)strlen(n), n);
		int kind = cprof__pprof_flag_kind(name);
		if (eq)
			value = eq + 1;
		else if (kind == 2 && i + 1 < argc)
			value = argv[++i];
		else
			value = "true";
		bool b = false;
		for (size_t k = 0; k < sizeof(sc) / sizeof(sc[0]); k++)
			if (strcmp(name, sc[k].flag) == 0 &&
			    cprof__pprof_parse_bool(value, &b) == 0)
				shortcut[k] = b;
		int o = cprof__shell_find_opt(name);
		char err[1024];
		if (o >= 0 && strcmp(name, "sample_index") == 0)
			set_val(sh, o, value); /* as given: pprof checks it per report */
		else if (o >= 0 || (find_choice(name) >= 0 &&
				    cprof__pprof_parse_bool(value, &b) == 0 && b))
			configure(sh, name, value, err, sizeof(err));
	}
	int si = cprof__shell_find_opt("sample_index");
	for (size_t k = 0; k < sizeof(sc) / sizeof(sc[0]); k++)
		if (shortcut[k] && !sh->val[si][0])
			set_val(sh, si, sc[k].type);
	if (shortcut[1])
		set_val(sh, cprof__shell_find_opt("mean"), "true");
}

static int loop_stdin(struct shell *sh)
{
	char *line = NULL;
	size_t cap = 0;
	for (;;) {
		fputs("(pprof) ", stdout);
		fflush(stdout);
		if (getline(&line, &cap, stdin) < 0)
			break;
		if (cprof__shell_process(sh, line))
			break;
	}
	free(line);
	return 0;
}


int cprof__pprof_interactive(struct profile *p, int argc, char **argv)
{
	struct shell sh = {.prof = p};
	int rc = 1;
	if (cprof__profile_encode(p, &sh.pb, &sh.pblen) < 0) {
		cli_error("pprof: out of memory");
		return 1;
	}
	for (size_t i = 0; i < NOPT; i++)
		sh.val[i] = xstrdup(opts[i].def);
	for (size_t i = 0; i < NCMD; i++)
		sh.have[i] = cprof__pprof_flag_kind(cmds[i].name) == (cmds[i].param ? 2 : 1);
	initial_options(&sh, argc, argv);
	/* interactive.go: compact labels, and the sample types in sample_index's help */
	set_val(&sh, cprof__shell_find_opt("compact_labels"), "true");
	{
		char *buf = NULL;
		size_t len = 0, cap = 0;
		append(&buf, &len, &cap, opts[cprof__shell_find_opt("sample_index")].help);
		append(&buf, &len, &cap, "Or use sample_index=name, with name in [");
		for (size_t i = 0; i < p->nsample_type; i++) {
			if (i)
				append(&buf, &len, &cap, " ");
			append(&buf, &len, &cap, cprof__shell_stype(p, i));
		}
		append(&buf, &len, &cap, "].\n");
		sh.si_help = buf;
	}
	sh.fns = calloc(p->nfunction + 1, sizeof(*sh.fns));
	if (!sh.fns) {
		cli_error("pprof: out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->nfunction; i++) {
		const char *n = cprof__profile_str(p, p->function[i].name);
		if (n[0])
			sh.fns[sh.nfns++] = n;
	}
	qsort(sh.fns, sh.nfns, sizeof(*sh.fns), cprof__shell_cmp_str);

	/* pprof's terminal UI needs a real terminal (not TERM=dumb); else it reads lines. */
	const char *term = getenv("TERM");
	sh.tty = isatty(0) && isatty(2) && term && term[0] && strcasecmp(term, "dumb") != 0;
	err_color = sh.tty;
	greetings(&sh);
	rc = sh.tty && cprof__shell_edit(&sh) == 0 ? 0 : loop_stdin(&sh);
out:
	for (size_t i = 0; i < NOPT; i++)
		free(sh.val[i]);
	free(sh.fns);
	free(sh.si_help);
	free(sh.pb);
	return rc;
}
