/*
 * cmd_pprof.c - "cprof pprof": go tool pprof's command line for the reports
 * cprof implements. It owns flag parsing (Go flag syntax: -name, --name,
 * -name=value, -name value), reading and merging the profiles, and handing
 * them to the report engine under report/. It prints nothing itself but
 * errors; the report text is the engine's.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/report/report.h"
#include "cli/source/source.h"
#include "cli/webui.h"

const char cmd_pprof_usage[] =
	"Usage: cprof pprof [format] [options] [binary] source...\n"
	"\n"
	"Reads profiles and prints a report, exactly as `go tool pprof` prints it\n"
	"for the same flags. With no format flag it starts pprof's interactive\n"
	"shell (type \"help\" there). Several sources of the same kind are merged.\n"
	"\n"
	"Sources:\n"
	"  FILE                   profile.proto, gzipped or not, from any producer\n"
	"                         (cprof, Go's runtime/pprof, ...); a gperftools CPU\n"
	"                         or heap profile; pprof's legacy text formats (Go's\n"
	"                         debug=1 heap, goroutine, block, mutex; threadz,\n"
	"                         contentionz); collapsed stacks (\"a;b;c 12\" lines)\n"
	"  http://host:port[/path]  fetched from a /debug/pprof endpoint (default\n"
	"                         path /debug/pprof/profile); https too; a copy is\n"
	"                         saved under $PPROF_TMPDIR (default ~/pprof)\n"
	"  binary                 optional first argument: the program, to name\n"
	"                         unsymbolized addresses (else found by build id\n"
	"                         under $PPROF_BINARY_PATH, default ~/pprof/binaries)\n"
	"  DIR                    a continuous profiling store (CPROF_CONTINUOUS=dir:DIR):\n"
	"                         its profiles of one -kind (default cpu) whose period\n"
	"                         started in [-since, -until), of -service if given, merged\n"
	"  -since=T -until=T      2026-11-30T13:00:00Z, or a time before now: 90s, 30m, 1h, 7d\n"
	"  -kind=K -service=S     cpu, heap, allocs, block, mutex; a service name\n"
	"  -seconds=N             duration of a CPU (or delta) profile fetched over HTTP\n"
	"  -timeout=N             HTTP timeout in seconds\n"
	"  -tls_ca=FILE           CA certificates (PEM) to trust for https:// sources\n"
	"  -tls_cert=FILE -tls_key=FILE  client certificate and key (PEM) for https://\n"
	"  -symbolize=MODE        local, remote (the server's /debug/pprof/symbol),\n"
	"                         none; add :force to redo symbolized mappings\n"
	"  -add_comment=TEXT      add TEXT to the profile's comments (shown by\n"
	"                         -comments and in report headers, kept by -proto)\n"
	"  -buildid=ID            build id of the binary argument (main mapping)\n"
	"\n"
	"Output formats (one at a time; -output=FILE writes it to a file):\n"
	"  -top, -text            functions sorted by flat (own) value\n"
	"  -traces                every sample: labels, value, stack\n"
	"  -tree                  callers and callees of each function (text)\n"
	"  -peek=RE               -tree for the functions matching RE\n"
	"  -list=RE               annotated source of the functions matching RE\n"
	"                         (-source_path=DIRS, -trim_path=PREFIXES)\n"
	"  -disasm=RE             annotated disassembly (binutils' objdump)\n"
	"  -intel_syntax          -disasm in Intel syntax (objdump -M intel)\n"
	"  -weblist=RE            source with expandable assembly as HTML, opened in a browser\n"
	"  -tools=PATH            where objdump is: DIR or objdump:DIR, comma-separated\n"
	"                         (default $PPROF_TOOLS, else $PATH)\n"
	"  -raw                   the profile's samples, locations and mappings\n"
	"  -tags                  totals per label key and value\n"
	"  -comments              the profile's comments\n"
	"  -dot                   call graph in Graphviz's DOT language\n"
	"  -svg -png -pdf -ps -gif  that graph rendered by Graphviz's dot\n"
	"  -web                   the SVG graph opened in a browser ($BROWSER)\n"
	"  -callgrind             callgrind format (callgrind_annotate, KCachegrind)\n"
	"  -eog -evince -gv       the graph (SVG, PDF, PS) opened in that viewer\n"
	"  -kcachegrind           the callgrind output opened in KCachegrind\n"
	"  -proto                 the (filtered) profile, gzipped profile.proto\n"
	"  -topproto              the -top report's nodes as a profile.proto (cum, flat)\n"
	"  -folded                collapsed stacks, \"root;caller;leaf value\" lines\n"
	"  -flamegraph[=FILE]     interactive flame graph, one self-contained SVG\n"
	"\n"
	"Web UI:\n"
	"  -http=[HOST]:[PORT]    serve a web UI (flame graph, top, graph, source,\n"
	"                         peek, disassembly, callers) until interrupted;\n"
	"                         localhost and a free port unless given; only\n"
	"                         local clients unless HOST is another address\n"
	"  -no_browser            with -http: do not open a browser, just print the URL\n"
	"\n"
	"What to count:\n"
	"  -sample_index=N|name   which value (default: the profile's default, else\n"
	"                         the last one: cpu, inuse_space, delay, ...)\n"
	"  -inuse_space -inuse_objects -alloc_space -alloc_objects\n"
	"  -total_delay or -delay, -contentions, -mean_delay (-mean on delay)\n"
	"  -mean                  value / count (e.g. mean delay)\n"
	"  -divide_by=X           divide every value by X\n"
	"  -unit=U                output unit: minimum (default), auto, ms, MB, ...\n"
	"\n"
	"Filters (RE: regular expressions on function, file or object names):\n"
	"  -focus=RE -ignore=RE   keep / drop samples with a frame matching RE\n"
	"  -hide=RE -show=RE      drop / keep only the frames matching RE\n"
	"  -show_from=RE          drop the frames above the highest match\n"
	"  -prune_from=RE         drop the frames below the match\n"
	"  -tagfocus=... -tagignore=...  by label: key=RE or numeric range (1mb:)\n"
	"  -tagshow=RE -taghide=RE       which label keys are shown\n"
	"  -tagroot=KEYS -tagleaf=KEYS   label values as pseudo-frames\n"
	"  -relative_percentages  percentages of the filtered total\n"
	"\n"
	"Aggregation and trimming:\n"
	"  -functions (default) -filefunctions -files -lines -addresses\n"
	"  -noinlines             charge inlined code to its out-of-line caller\n"
	"  -cum / -flat           sort by cumulative / flat value\n"
	"  -nodecount=N           show at most N nodes (default: all for -top, 80\n"
	"                         for graphs)\n"
	"  -nodefraction=F        hide nodes below F of the total (default 0.005)\n"
	"  -edgefraction=F        hide edges below F of the total (default 0.001)\n"
	"  -trim=false            no trimming at all\n"
	"  -call_tree             graphs and callgrind: a node per calling context\n"
	"  -compact_labels        omit the File/Type/Time/Duration header lines\n"
	"  -drop_negative         hide nodes with negative values\n"
	"\n"
	"Comparing profiles:\n"
	"  -diff_base=SOURCE      show source minus SOURCE, percentages of SOURCE\n"
	"  -base=SOURCE           subtract SOURCE (e.g. an earlier cumulative profile)\n"
	"  -normalize             scale the base to the same total first\n"
	"\n"
	"Examples:\n"
	"  cprof pprof -top cpu.prof\n"
	"  cprof pprof -top -cum -nodecount=20 -focus=parse cpu.prof\n"
	"  cprof pprof -list='^parse$' cpu.prof\n"
	"  cprof pprof -flamegraph=cpu.svg cpu.prof\n"
	"  cprof pprof -top -diff_base=before.prof after.prof\n"
	"  cprof pprof -text -alloc_space http://localhost:6060/debug/pprof/heap\n"
	"  cprof pprof cpu.prof            (interactive)\n"
	"  cprof pprof -http=:8080 cpu.prof\n"
	"\n"
	"Where cprof differs from go tool pprof: docs/pprof-differences.md.\n";

/* F_OPTSTR: a string that may be left out (-flamegraph or -flamegraph=FILE): "-" then. */
enum ftype { F_BOOL, F_INT, F_FLOAT, F_STRING, F_OPTSTR };

struct flag {
	const char *name;
	enum ftype type;
	void *dst;
	bool set;
};

struct pprof_args {
	bool top, text, cum, flat, mean, compact, dropneg, trim;
	bool inuse_space, inuse_objects, alloc_space, alloc_objects;
	bool total_delay, delay, contentions, mean_delay;
	long long nodecount;
	double nodefraction, edgefraction, divide_by;
	const char *sample_index, *unit;
	/* filters, granularity, base profiles, output (report/filter.c, merge.c) */
	const char *focus, *ignore, *hide, *show, *show_from, *prune_from;
	const char *tagfocus, *tagignore, *tagshow, *taghide, *tagroot, *tagleaf;
	bool functions, filefunctions, files, lines, addresses, noinlines;
	bool relative_percentages, normalize, call_tree;
	const char *base, *diff_base, *output;
	/* text reports (report/traces.c, tree.c, raw.c, tags.c, list.c, disasm.c) */
	bool traces, tree, raw, tags, comments;
	const char *peek, *list, *disasm, *weblist, *source_path, *trim_path;
	/* sources (source/) */
	const char *symbolize, *add_comment, *buildid, *tools, *tls_ca, *tls_cert, *tls_key;
	long long seconds, timeout;
	const char *since, *until, *kind, *service; /* a store directory's window (source/dir.c) */
	bool intel_syntax, topproto;
	/* graphical and export outputs (report/dot.c, callgrind.c, protoout.c, folded.c, flamegraph.c) */
	bool dot, svg, png, pdf, ps, gif, web, callgrind, proto, folded;
	bool eog, evince, gv, kcachegrind; /* the output opened in a viewer (viewer.c) */
	const char *http; /* -http=[host]:[port]: the web UI (webui.c) */
	bool no_browser;
	const char *flamegraph; /* "-": to -output or stdout */
};

static const char supported[] =
	"-top, -text, -cum, -flat, -nodecount, -nodefraction, -edgefraction, -trim, "
	"-sample_index, -mean, -unit, -divide_by, -drop_negative, -compact_labels, "
	"-inuse_space, -inuse_objects, -alloc_space, -alloc_objects, -total_delay, -delay, "
	"-contentions, -mean_delay, -focus, -ignore, -hide, -show, -show_from, -prune_from, "
	"-tagfocus, -tagignore, -tagshow, -taghide, -tagroot, -tagleaf, -functions, "
	"-filefunctions, -files, -lines, -addresses, -noinlines, -relative_percentages, -call_tree, "
	"-base, -diff_base, -normalize, -output, -traces, -tree, -peek, -raw, -tags, -comments, "
	"-list, -disasm, -weblist, -source_path, -trim_path, -symbolize, -seconds, -timeout, "
	"-dot, -svg, -png, -pdf, -ps, -gif, -web, -callgrind, -proto, -folded, -flamegraph, "
	"-add_comment, -buildid, -topproto, -tools, -intel_syntax, -tls_ca, -tls_cert, -tls_key, -eog, -evince, -gv, -kcachegrind, -http, -no_browser";

/* Go's strconv.ParseBool */
int cprof__pprof_parse_bool(const char *s, bool *out)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int set_value(struct flag *f, const char *v)
{
	char *end;
	switch (f->type) {
	case F_BOOL:
		return cprof__pprof_parse_bool(v, f->dst);
	case F_INT: {
		errno = 0;
		long long n = strtoll(v, &end, 0);
		if (errno || end == v || *end)
			return -1;
		*(long long *)f->dst = n;
		return 0;
	}
	case F_FLOAT: {
		errno = 0;
		double d = strtod(v, &end);
		if (errno || end == v || *end)
			return -1;
		*(double *)f->dst = d;
		return 0;
	}
	case F_STRING:
	case F_OPTSTR:
		*(const char **)f->dst = v;
		return 0;
	}
	return -1;
}

/*
 * Parse flags and collect the remaining arguments (profile files) into
 * files[]. Flags may come after files too, unlike Go's flag package; "--"
 * ends flags. Returns 0, or 2 after printing the error.
 */
static int parse(int argc, char **argv, struct flag *flags, size_t nflags,
		 char **files, int *nfiles)
{
	bool only_files = false;
	*nfiles = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_files || a[0] != '-' || a[1] == '\0') {
			files[(*nfiles)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_files = true;
			continue;
		}
		const char *name = a + 1 + (a[1] == '-');
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		struct flag *f = NULL;
		for (size_t k = 0; k < nflags; k++)
			if (strlen(flags[k].name) == nlen && strncmp(flags[k].name, name, nlen) == 0)
				f = &flags[k];
		if (!f) {
			cli_error("pprof: unknown or unsupported flag -%.*s; supported: %s "
				  "(see 'cprof help pprof')", (int)nlen, name, supported);
			return 2;
		}
		const char *val;
		if (eq) {
			val = eq + 1;
		} else if (f->type == F_BOOL) {
			val = "true";
		} else if (f->type == F_OPTSTR) {
			val = "-";
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			cli_error("pprof: flag -%s needs a value, e.g. -%s=%s", f->name, f->name,
				  f->type == F_STRING ? "name" : "10");
			return 2;
		}
		if (set_value(f, val) < 0) {
			cli_error("pprof: invalid value \"%s\" for flag -%s", val, f->name);
			return 2;
		}
		f->set = true;
	}
	return 0;
}

/* cli.go sampleIndex: a shortcut applies only if no value was chosen yet. */
static const char *shortcut(bool on, const char *si, const char *type, const char *opt)
{
	if (!on)
		return si;
	if (!si)
		return type;
	fprintf(stderr, "Multiple value selections, ignoring %s\n", opt);
	return si;
}

/* The report chosen by o->format; the text reports write to a buffer first. */
/* The graphical and export outputs: format, output and pprof's overrides. */
static int graph_options(const struct pprof_args *a, struct report_options *o)
{
	static const char *const gv[] = {"svg", "png", "pdf", "ps", "gif"};
	const bool g[] = {a->svg, a->png, a->pdf, a->ps, a->gif};
	for (int k = 0; k < 5; k++)
		if (g[k]) {
			o->format = REPORT_GRAPHVIZ;
			o->graph_format = gv[k];
		}
	if (a->web) {
		o->format = REPORT_GRAPHVIZ;
		o->graph_format = "svg";
		o->web = true;
	}
	if (a->dot)
		o->format = REPORT_DOT;
	if (a->folded)
		o->format = REPORT_FOLDED;
	if (a->flamegraph && a->flamegraph[0]) {
		o->format = REPORT_FLAMEGRAPH;
		if (strcmp(a->flamegraph, "-") != 0)
			o->output = a->flamegraph;
	}
	if (a->topproto)
		o->format = REPORT_TOPPROTO; /* the -top graph: nodecount 0, trimmed as -top */
	if (a->eog || a->evince || a->gv) {
		/* pprof's commands: dot rendered to svg/pdf/ps, then invokeVisualizer */
		o->format = REPORT_GRAPHVIZ;
		o->graph_format = a->eog ? "svg" : a->evince ? "pdf" : "ps";
		o->viewer = a->eog ? "eog" : a->evince ? "evince" : "gv --noantialias";
	}
	if (a->kcachegrind)
		o->viewer = "kcachegrind";
	if (a->callgrind || a->proto || a->kcachegrind) {
		/* applyCommandOverrides: whole profile, address granularity, inlines kept */
		o->format = a->callgrind || a->kcachegrind ? REPORT_CALLGRIND : REPORT_PROTO;
		o->granularity = REPORT_ADDRESSES;
		o->noinlines = false;
		o->trim = false;
	}
	if (o->web && o->output && o->output[0]) {
		cli_error("pprof: -web opens the graph in a browser; use -svg -output=FILE to save it");
		return -1;
	}
	if (o->web) {
		static char path[4096];
		if (cprof__report_web_path(path, sizeof(path)) < 0) {
			cli_error("pprof: -web: creating a temporary file: %s", strerror(errno));
			return -1;
		}
		o->output = path;
	}
	bool binary = (o->format == REPORT_GRAPHVIZ && strcmp(o->graph_format, "svg") != 0) ||
		      o->format == REPORT_PROTO || o->format == REPORT_TOPPROTO;
	if (binary && !o->viewer && (!o->output || !o->output[0]) && isatty(STDOUT_FILENO)) {
		cli_error("pprof: not writing binary %s data to a terminal: use -output=FILE "
			  "or redirect stdout", o->format == REPORT_GRAPHVIZ ? o->graph_format : "proto");
		return -1;
	}
	return 0;
}

/* Write r's graphical or export output to out. */
static int graph_report(struct report *r, FILE *out)
{
	switch (r->opt.format) {
	case REPORT_DOT:
		return cprof__report_dot(r, out);
	case REPORT_GRAPHVIZ: {
		/* -eog: Graphviz's SVG as is (invokeDot), not -svg's */
		int rc = r->opt.viewer && strcmp(r->opt.graph_format, "svg") == 0
				 ? cprof__report_plain_svg(r, out)
				 : cprof__report_graphviz(r, r->opt.graph_format, out);
		if (rc == -ENOENT) {
			cli_error("pprof: -%s needs Graphviz's `dot` program: install graphviz "
				  "(apt-get install graphviz) or use -dot", r->opt.graph_format);
			return -EINVAL;
		}
		if (rc == -EIO && !ferror(out)) {
			cli_error("pprof: Graphviz's `dot -T%s` failed", r->opt.graph_format);
			return -EINVAL;
		}
		return rc;
	}
	case REPORT_CALLGRIND:
		return cprof__report_callgrind(r, out);
	case REPORT_PROTO:
		return cprof__report_proto(r, out);
	case REPORT_TOPPROTO:
		return cprof__report_topproto(r, out);
	case REPORT_FOLDED:
		return cprof__report_folded(r, out);
	case REPORT_FLAMEGRAPH:
		return cprof__report_flamegraph(r, out);
	default:
		return -EINVAL;
	}
}

static int run_report(struct report *r, FILE *out)
{
	if (r->opt.format == REPORT_TEXT)
		return cprof__report_text(r, out);
	if (r->opt.format >= REPORT_DOT)
		return graph_report(r, out);
	/*
	 * -traces can be hundreds of megabytes: it is streamed, as it makes
	 * everything that can fail (frame names) before printing anything.
	 */
	if (r->opt.format == REPORT_TRACES)
		return cprof__report_traces(r, out);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	regex_t re;
	bool have_re = false;
	int rc = 0;
	if (r->opt.format == REPORT_PEEK || r->opt.format == REPORT_LIST ||
	    r->opt.format == REPORT_DISASM || r->opt.format == REPORT_WEBLIST) {
		char err[1024];
		if (cprof__filter_regcomp(&re, r->opt.symbol, err, sizeof(err)) < 0) {
			cli_error("pprof: parsing argument regexp %s: %s", r->opt.symbol, err);
			rc = -EINVAL;
			goto out;
		}
		have_re = true;
	}
	switch (r->opt.format) {
	case REPORT_TRACES:
		rc = cprof__report_traces(r, f);
		break;
	case REPORT_RAW:
		rc = cprof__report_raw(r->prof, f);
		break;
	case REPORT_TAGS:
		rc = cprof__report_tags(r, f);
		break;
	case REPORT_COMMENTS:
		rc = cprof__report_comments(r->prof, f);
		break;
	case REPORT_TREE:
	case REPORT_PEEK:
		rc = cprof__report_tree(r, have_re ? &re : NULL, f);
		if (rc == -ENOENT) {
			cli_error("pprof: no matches found for regexp: %s", r->opt.symbol);
			rc = -EINVAL;
		}
		break;
	case REPORT_LIST:
		rc = cprof__report_list(r, &re, f);
		if (rc == -ENOENT) {
			cli_error("pprof: no matches found for regexp: %s", r->opt.symbol);
			rc = -EINVAL;
		}
		break;
	case REPORT_DISASM: {
		char err[1024];
		rc = cprof__report_disasm(r, &re, f, err, sizeof(err));
		if (rc == -ENOENT)
			cli_error("pprof: no matches found for regexp: %s", r->opt.symbol);
		else if (rc == -EINVAL)
			cli_error("pprof: %s", err);
		if (rc == -ENOENT)
			rc = -EINVAL;
		break;
	}
	case REPORT_WEBLIST:
		rc = cprof__report_weblist(r, &re, f);
		if (rc == -ENOENT) {
			cli_error("pprof: no matches found for regexp: %s", r->opt.symbol);
			rc = -EINVAL;
		}
		break;
	default:
		cli_error("pprof: internal error: no printer for report kind %d", (int)r->opt.format);
		rc = -EINVAL;
		break;
	}
out:
	if (have_re)
		regfree(&re);
	if (fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	/* Like pprof, a report that failed prints nothing. */
	if (rc == 0)
		fwrite(buf, 1, len, out);
	free(buf);
	return rc;
}

/* shell_cmd: a command of the interactive shell (a viewer runs in the background). */
static int report(struct profile *p, const struct report_options *o, bool shell_cmd)
{
	struct report r;
	char err[1024];
	/*
	 * pprof merges every input, even one (profile.Merge): samples in that
	 * order and form are what -traces, -raw and -tags print.
	 */
	struct profile *compact = NULL;
	if (o->format == REPORT_TRACES || o->format == REPORT_RAW || o->format == REPORT_TAGS ||
	    o->format == REPORT_LIST || o->format == REPORT_DISASM || o->format == REPORT_WEBLIST) {
		compact = cprof__report_compact(p);
		if (!compact) {
			cli_error("pprof: out of memory");
			return 1;
		}
		p = compact;
	}
	if (cprof__report_init(&r, p, o, err, sizeof(err)) < 0) {
		cprof__profile_free(compact);
		cli_error("pprof: %s", err);
		return 1;
	}
	if (compact)
		cprof__report_drop_unlocated(compact);
	/* -eog, -evince, -gv, -kcachegrind without -output: a temp file for the viewer */
	char vpath[4096];
	bool view = o->viewer && !(o->output && o->output[0]);
	FILE *out;
	if (view) {
		int e = cprof__report_viewer_path(o->format == REPORT_CALLGRIND ? "grind" : o->graph_format,
						  vpath, sizeof(vpath));
		out = e < 0 ? NULL : fopen(vpath, "w");
		if (!out)
			snprintf(err, sizeof(err), "creating a temporary file: %s", strerror(e < 0 ? -e : errno));
		if (!out && e == 0)
			unlink(vpath);
	} else {
		out = cprof__report_open_output(o->output, err, sizeof(err));
	}
	if (!out) {
		cprof__report_release(&r);
		cprof__profile_free(compact);
		cli_error("pprof: %s", err);
		return 1;
	}
	int rc = run_report(&r, out);
	cprof__report_release(&r);
	cprof__profile_free(compact);
	if (view) {
		if (fclose(out) != 0 && rc == 0)
			rc = -EIO;
		if (rc == -EIO)
			cli_error("pprof: writing %s: %s", vpath, strerror(errno));
		if (rc < 0)
			unlink(vpath);
		if (rc == -EIO)
			return 1;
	} else if (cprof__report_close_output(out, o->output, err, sizeof(err)) < 0) {
		cli_error("pprof: %s", err);
		return 1;
	}
	if (rc == -EINVAL)
		return 1; /* the reason is printed */
	if (rc < 0) {
		cli_error("pprof: out of memory");
		return 1;
	}
	if (o->web)
		cprof__report_web_open(o->output); /* headless: prints the file's name */
	if (view && cprof__report_viewer_run(o->viewer, vpath, shell_cmd, err, sizeof(err)) < 0) {
		cli_error("pprof: %s", err);
		return 1;
	}
	return 0;
}

/* The interactive shell gets the command line's flags: argv without the files. */
static int shell_run(struct profile *p, int argc, char **argv, char **files, int nfiles)
{
	char **flagv = calloc((size_t)argc + 1, sizeof(char *));
	if (!flagv) {
		cli_error("pprof: out of memory");
		return 1;
	}
	int flagc = 0, f = 0;
	for (int i = 0; i < argc; i++) {
		if (i > 0 && f < nfiles && argv[i] == files[f]) {
			f++;
			continue;
		}
		flagv[flagc++] = argv[i];
	}
	int rc = cprof__pprof_interactive(p, flagc, flagv);
	free(flagv);
	return rc;
}

/*
 * The whole command. With `given`, the profile is already loaded (interactive
 * mode runs each of its commands through here): argv holds flags only, one
 * output format is required, and the profile is not freed. With `probe`,
 * only says whether a flag of that name exists: 1 a boolean flag, 2 one
 * that takes a value, 0 none.
 */
static int run(int argc, char **argv, struct profile *given, const char *probe)
{
	struct pprof_args a = {.trim = true, .nodecount = -1, .nodefraction = 0.005,
			       .edgefraction = 0.001, .divide_by = 1, .unit = "minimum",
			       .seconds = -1, .timeout = -1};
	struct flag flags[] = {
		{"top", F_BOOL, &a.top, false},
		{"text", F_BOOL, &a.text, false},
		{"cum", F_BOOL, &a.cum, false},
		{"flat", F_BOOL, &a.flat, false},
		{"nodecount", F_INT, &a.nodecount, false},
		{"nodefraction", F_FLOAT, &a.nodefraction, false},
		{"edgefraction", F_FLOAT, &a.edgefraction, false},
		{"trim", F_BOOL, &a.trim, false},
		{"sample_index", F_STRING, &a.sample_index, false},
		{"mean", F_BOOL, &a.mean, false},
		{"unit", F_STRING, &a.unit, false},
		{"divide_by", F_FLOAT, &a.divide_by, false},
		{"drop_negative", F_BOOL, &a.dropneg, false},
		{"compact_labels", F_BOOL, &a.compact, false},
		{"inuse_space", F_BOOL, &a.inuse_space, false},
		{"inuse_objects", F_BOOL, &a.inuse_objects, false},
		{"alloc_space", F_BOOL, &a.alloc_space, false},
		{"alloc_objects", F_BOOL, &a.alloc_objects, false},
		{"total_delay", F_BOOL, &a.total_delay, false},
		{"delay", F_BOOL, &a.delay, false},
		{"contentions", F_BOOL, &a.contentions, false},
		{"mean_delay", F_BOOL, &a.mean_delay, false},
		{"focus", F_STRING, &a.focus, false},
		{"ignore", F_STRING, &a.ignore, false},
		{"hide", F_STRING, &a.hide, false},
		{"show", F_STRING, &a.show, false},
		{"show_from", F_STRING, &a.show_from, false},
		{"prune_from", F_STRING, &a.prune_from, false},
		{"tagfocus", F_STRING, &a.tagfocus, false},
		{"tagignore", F_STRING, &a.tagignore, false},
		{"tagshow", F_STRING, &a.tagshow, false},
		{"taghide", F_STRING, &a.taghide, false},
		{"tagroot", F_STRING, &a.tagroot, false},
		{"tagleaf", F_STRING, &a.tagleaf, false},
		{"functions", F_BOOL, &a.functions, false},
		{"filefunctions", F_BOOL, &a.filefunctions, false},
		{"files", F_BOOL, &a.files, false},
		{"lines", F_BOOL, &a.lines, false},
		{"addresses", F_BOOL, &a.addresses, false},
		{"noinlines", F_BOOL, &a.noinlines, false},
		{"call_tree", F_BOOL, &a.call_tree, false},
		{"relative_percentages", F_BOOL, &a.relative_percentages, false},
		{"normalize", F_BOOL, &a.normalize, false},
		{"base", F_STRING, &a.base, false},
		{"diff_base", F_STRING, &a.diff_base, false},
		{"output", F_STRING, &a.output, false},
		{"dot", F_BOOL, &a.dot, false},
		{"svg", F_BOOL, &a.svg, false},
		{"png", F_BOOL, &a.png, false},
		{"pdf", F_BOOL, &a.pdf, false},
		{"ps", F_BOOL, &a.ps, false},
		{"gif", F_BOOL, &a.gif, false},
		{"web", F_BOOL, &a.web, false},
		{"callgrind", F_BOOL, &a.callgrind, false},
		{"proto", F_BOOL, &a.proto, false},
		{"folded", F_BOOL, &a.folded, false},
		{"flamegraph", F_OPTSTR, &a.flamegraph, false},
		{"traces", F_BOOL, &a.traces, false},
		{"tree", F_BOOL, &a.tree, false},
		{"raw", F_BOOL, &a.raw, false},
		{"tags", F_BOOL, &a.tags, false},
		{"comments", F_BOOL, &a.comments, false},
		{"peek", F_STRING, &a.peek, false},
		{"list", F_STRING, &a.list, false},
		{"disasm", F_STRING, &a.disasm, false},
		{"weblist", F_STRING, &a.weblist, false},
		{"source_path", F_STRING, &a.source_path, false},
		{"trim_path", F_STRING, &a.trim_path, false},
		{"symbolize", F_STRING, &a.symbolize, false},
		{"seconds", F_INT, &a.seconds, false},
		{"timeout", F_INT, &a.timeout, false},
		{"since", F_STRING, &a.since, false},
		{"until", F_STRING, &a.until, false},
		{"kind", F_STRING, &a.kind, false},
		{"service", F_STRING, &a.service, false},
		{"add_comment", F_STRING, &a.add_comment, false},
		{"buildid", F_STRING, &a.buildid, false},
		{"topproto", F_BOOL, &a.topproto, false},
		{"tools", F_STRING, &a.tools, false},
		{"intel_syntax", F_BOOL, &a.intel_syntax, false},
		{"tls_ca", F_STRING, &a.tls_ca, false},
		{"tls_cert", F_STRING, &a.tls_cert, false},
		{"tls_key", F_STRING, &a.tls_key, false},
		{"eog", F_BOOL, &a.eog, false},
		{"evince", F_BOOL, &a.evince, false},
		{"gv", F_BOOL, &a.gv, false},
		{"kcachegrind", F_BOOL, &a.kcachegrind, false},
		{"http", F_STRING, &a.http, false},
		{"no_browser", F_BOOL, &a.no_browser, false},
	};
	if (probe) {
		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			if (strcmp(flags[k].name, probe) == 0)
				return flags[k].type == F_BOOL ? 1 : 2;
		return 0;
	}
	char **files = calloc((size_t)argc + 1, sizeof(char *));
	if (!files) {
		cli_error("pprof: out of memory");
		return 1;
	}
	int nfiles, rc = parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), files, &nfiles);
	if (rc) {
		free(files);
		return rc;
	}
	/* pprof's "only one output format" (cli.go): a regexp flag counts when non-empty. */
	int nformats = a.top + a.text + a.traces + a.tree + a.raw + a.tags + a.comments +
		       (a.peek && a.peek[0]) + (a.list && a.list[0]) + (a.disasm && a.disasm[0]) +
		       (a.weblist && a.weblist[0]) +
		       a.dot + a.svg + a.png + a.pdf + a.ps + a.gif + a.web + a.callgrind + a.proto +
		       a.folded + (a.flamegraph && a.flamegraph[0]) + a.topproto +
		       a.eog + a.evince + a.gv + a.kcachegrind;
	if (nformats > 1) {
		cli_error("pprof: must set at most one output format");
		free(files);
		return 2;
	}
	bool http = a.http && a.http[0];
	if (http && (nformats > 0 || given)) {
		cli_error("pprof: -http is incompatible with an output format");
		free(files);
		return 2;
	}
	if (a.no_browser && !http) {
		cli_error("pprof: -no_browser only makes sense with -http");
		free(files);
		return 2;
	}
	/* No output format: the interactive shell (interactive.c), after loading. */
	bool shell = nformats == 0 && !http;
	if (shell && given) {
		cli_error("pprof: no report chosen");
		free(files);
		return 2;
	}
	if (a.cum && a.flat) {
		cli_error("pprof: -cum and -flat both given; choose one sort order");
		free(files);
		return 2;
	}
	if (given && nfiles > 0) {
		cli_error("pprof: unexpected argument \"%s\"", files[0]);
		free(files);
		return 2;
	}
	if (nfiles == 0 && !given) {
		cli_error("pprof: no profile given; usage: cprof pprof -top FILE...");
		free(files);
		return 2;
	}
	if (a.nodecount < -1 || a.nodecount > 1000000000) {
		cli_error("pprof: invalid value %lld for flag -nodecount", a.nodecount);
		free(files);
		return 2;
	}
	if (!isfinite(a.divide_by)) {
		cli_error("pprof: invalid value for flag -divide_by");
		free(files);
		return 2;
	}

	const char *si = a.sample_index && a.sample_index[0] ? a.sample_index : NULL;
	si = shortcut(a.total_delay, si, "delay", "-total_delay");
	si = shortcut(a.delay, si, "delay", "-delay");
	si = shortcut(a.mean_delay, si, "delay", "-mean_delay");
	si = shortcut(a.contentions, si, "contentions", "-contentions");
	si = shortcut(a.inuse_space, si, "inuse_space", "-inuse_space");
	si = shortcut(a.inuse_objects, si, "inuse_objects", "-inuse_objects");
	si = shortcut(a.alloc_space, si, "alloc_space", "-alloc_space");
	si = shortcut(a.alloc_objects, si, "alloc_objects", "-alloc_objects");

	struct report_options o;
	cprof__report_options_init(&o);
	o.sample_index = si;
	o.mean = a.mean || a.mean_delay;
	o.cum_sort = a.cum;
	o.compact_labels = a.compact;
	o.drop_negative = a.dropneg;
	o.nodecount = (int)a.nodecount;
	o.nodefraction = a.nodefraction;
	o.edgefraction = a.edgefraction;
	o.trim = a.trim;
	o.unit = a.unit;
	o.divide_by = a.divide_by;
	o.focus = a.focus;
	o.ignore = a.ignore;
	o.hide = a.hide;
	o.show = a.show;
	o.show_from = a.show_from;
	o.prune_from = a.prune_from;
	o.tagfocus = a.tagfocus;
	o.tagignore = a.tagignore;
	o.tagshow = a.tagshow;
	o.taghide = a.taghide;
	o.tagroot = a.tagroot;
	o.tagleaf = a.tagleaf;
	o.noinlines = a.noinlines;
	o.call_tree = a.call_tree;
	o.relative_percentages = a.relative_percentages;
	o.output = a.output;
	o.source_path = a.source_path;
	o.trim_path = a.trim_path;
	o.tools = a.tools ? a.tools : getenv("PPROF_TOOLS"); /* cli.go: the flag's default */
	o.intel_syntax = a.intel_syntax;
	if (a.traces || a.raw || a.tags || a.comments) {
		o.format = a.traces ? REPORT_TRACES : a.raw ? REPORT_RAW
			 : a.tags ? REPORT_TAGS : REPORT_COMMENTS;
	} else if (a.tree) {
		o.format = REPORT_TREE;
		if (o.nodecount == -1)
			o.nodecount = 80; /* applyCommandOverrides: the default of graph reports */
	} else if ((a.peek && a.peek[0]) || (a.list && a.list[0])) {
		o.format = a.peek && a.peek[0] ? REPORT_PEEK : REPORT_LIST;
		o.symbol = o.format == REPORT_PEEK ? a.peek : a.list;
		o.trim = false; /* these reports select functions after trimming */
	} else if (a.disasm && a.disasm[0]) {
		/* applyCommandOverrides: addresses, noinlines, no trimming */
		o.format = REPORT_DISASM;
		o.symbol = a.disasm;
		o.trim = false;
	} else if (a.weblist && a.weblist[0]) {
		/* the whole profile, at every address; inline frames kept */
		o.format = REPORT_WEBLIST;
		o.symbol = a.weblist;
		o.trim = false;
	}
	{
		/* One granularity at most, as pprof's choice flags. */
		const bool g[] = {a.functions, a.filefunctions, a.files, a.lines, a.addresses};
		const enum report_granularity gv[] = {REPORT_FUNCTIONS, REPORT_FILEFUNCTIONS,
			REPORT_FILES, REPORT_LINES, REPORT_ADDRESSES};
		int ng = 0;
		for (int k = 0; k < 5; k++)
			if (g[k]) {
				o.granularity = gv[k];
				ng++;
			}
		if (ng > 1) {
			cli_error("pprof: conflicting options set: choose one of -functions, "
				  "-filefunctions, -files, -lines, -addresses");
			free(files);
			return 2;
		}
	}
	if (graph_options(&a, &o) < 0) {
		free(files);
		return 2;
	}
	if (o.format == REPORT_WEBLIST && !(o.output && o.output[0])) {
		/* -weblist without -output: a temp file opened in a browser, as -web */
		static char wpath[4096];
		int e = cprof__report_viewer_path("html", wpath, sizeof(wpath));
		if (e < 0) {
			cli_error("pprof: -weblist: creating a temporary file: %s", strerror(-e));
			free(files);
			return 2;
		}
		o.output = wpath;
		o.web = true;
	}
	const char *basefile = a.base && a.base[0] ? a.base : NULL;
	if (basefile && a.diff_base && a.diff_base[0]) {
		cli_error("pprof: -base and -diff_base flags cannot both be specified");
		free(files);
		return 2;
	}
	if (!basefile && a.diff_base && a.diff_base[0])
		basefile = a.diff_base;
	if (a.normalize && !basefile) {
		cli_error("pprof: must have base profile to normalize by");
		free(files);
		return 2;
	}

	/* Like pprof, a source that cannot be read is reported and skipped. */
	struct profile **profs = calloc((size_t)nfiles + 1, sizeof(*profs));
	size_t nprofs = 0;
	rc = 1;
	if (given && profs) {
		rc = report(given, &o, true);
		goto out;
	}
	if (!profs) {
		cli_error("pprof: out of memory");
		goto out;
	}
	/* source/: files, URLs, legacy formats, symbolization; "[binary] source..." */
	struct source_options so;
	cprof__source_options_init(&so);
	so.symbolize = a.symbolize ? a.symbolize : "";
	so.seconds = a.seconds;
	so.timeout = a.timeout;
	cprof__source_set_tls(a.tls_ca, a.tls_cert, a.tls_key);
	if (a.buildid && a.buildid[0])
		so.build_id = a.buildid; /* before the leading argument: cli.go */
	bool remote = false;
	struct dir_filter df = {a.kind && a.kind[0] ? a.kind : "cpu", a.service && a.service[0] ? a.service : NULL,
				0, (time_t)1 << 40};
	time_t now = time(NULL);
	if ((a.since && a.since[0] && cprof__source_time(a.since, now, &df.since) != 0) ||
	    (a.until && a.until[0] && cprof__source_time(a.until, now, &df.until) != 0)) {
		cli_error("pprof: -since/-until: want a time such as 2026-11-30T13:00:00Z or a duration before now "
			  "such as 30m, 1h, 7d");
		goto out;
	}
	for (int i = cprof__source_take_binary(files, nfiles, &so); i < nfiles; i++) {
		char err[1024];
		bool r;
		struct stat dst;
		if (strstr(files[i], "://") == NULL && stat(files[i], &dst) == 0 && S_ISDIR(dst.st_mode)) {
			struct dir_entry *de;
			size_t nde;
			if (cprof__source_dir_list(files[i], &df, &de, &nde, err, sizeof(err)) != 0) {
				cli_error("pprof: %s: %s", files[i], err);
				continue;
			}
			struct profile **grown = realloc(profs, (nprofs + nde + (size_t)nfiles + 1) * sizeof(*profs));
			if (!grown) {
				free(de);
				cli_error("pprof: out of memory");
				goto out;
			}
			profs = grown;
			for (size_t k = 0; k < nde; k++) {
				struct profile *p = cprof__source_load(de[k].path, &so, &r, err, sizeof(err));
				if (p)
					profs[nprofs++] = p;
				else
					cli_error("pprof: %s: %s", de[k].path, err);
			}
			free(de);
			continue;
		}
		struct profile *p = cprof__source_load(files[i], &so, &r, err, sizeof(err));
		if (!p) {
			cli_error("pprof: %s: %s", files[i], err);
			continue;
		}
		remote |= r;
		profs[nprofs++] = p;
	}
	if (nprofs == 0) {
		cli_error("pprof: no profile could be read");
		goto out;
	}
	if (basefile) {
		/* fetch.go: the (merged) source minus the base, as one profile. */
		char err[1024];
		bool r = false;
		struct profile *b = cprof__source_load(basefile, &so, &r, err, sizeof(err));
		remote |= r;
		struct profile *src = nprofs == 1 ? profs[0] : cprof__report_merge(profs, nprofs, err, sizeof(err));
		struct profile *d = b && src ? cprof__report_merge_base(src, b, basefile == a.diff_base,
								       a.normalize, err, sizeof(err)) : NULL;
		cprof__profile_free(b);
		if (src != profs[0])
			cprof__profile_free(src);
		if (!d) {
			cli_error("pprof: %s%s", b ? "" : "base profile: ", err);
			goto out;
		}
		for (size_t i = 0; i < nprofs; i++)
			cprof__profile_free(profs[i]);
		profs[0] = d;
		nprofs = 1;
	}
	if (nprofs > 1) {
		char err[1024];
		struct profile *m = cprof__report_merge(profs, nprofs, err, sizeof(err));
		if (!m) {
			cli_error("pprof: merging profiles: %s; only profiles of the same kind "
				  "(same sample types) can be merged", err);
			goto out;
		}
		for (size_t i = 0; i < nprofs; i++)
			cprof__profile_free(profs[i]);
		profs[0] = m;
		nprofs = 1;
	}
	/* fetch.go: after symbolizing the merged profile, its own uninteresting frames go */
	if (cprof__filter_remove_uninteresting(profs[0]) < 0) {
		cli_error("pprof: out of memory");
		goto out;
	}
	cprof__source_unsource(profs[0]);
	/* fetch.go: -add_comment after merging, before the copy of a fetched profile is saved */
	if (a.add_comment && a.add_comment[0] &&
	    cprof__profile_add_comment(profs[0], a.add_comment) < 0) {
		cli_error("pprof: out of memory");
		goto out;
	}
	{
		if (remote)
			cprof__source_save(profs[0]);
		rc = http ? cprof__webui_serve(profs[0], &o, a.http, a.no_browser)
		     : shell ? shell_run(profs[0], argc, argv, files, nfiles) : report(profs[0], &o, false);
	}
out:
	for (size_t i = 0; i < nprofs; i++)
		cprof__profile_free(profs[i]);
	free(profs);
	free(files);
	return rc;
}

int cmd_pprof(int argc, char **argv)
{
	return run(argc, argv, NULL, NULL);
}

int cprof__pprof_report(struct profile *p, int argc, char **argv)
{
	return run(argc, argv, p, NULL);
}

int cprof__pprof_flag_kind(const char *name)
{
	return run(0, NULL, NULL, name);
}
