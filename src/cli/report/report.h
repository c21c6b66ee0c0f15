/*
 * report.h - the report engine behind "cprof pprof": one profile (or several
 * merged) aggregated into a graph of nodes with flat and cumulative values
 * and weighted caller->callee edges, trimmed as pprof trims it, then printed
 * by one printer per report kind (text/top today).
 *
 * Everything here mirrors google/pprof as shipped with Go 1.19
 * (internal/report, internal/graph, internal/measurement) so that output is
 * byte-for-byte what `go tool pprof` prints. All functions run on the CLI's
 * main thread; they allocate with malloc and never touch signals.
 */
#ifndef CPROF_CLI_REPORT_H
#define CPROF_CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/profile.h"

/* Go's abs64: -v wraps, so the most negative value stays itself. */
static inline int64_t cprof__report_abs64(int64_t v)
{
	return v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
}

/* FNV-1a of n bytes, continuing from h (REPORT_FNV_BASIS to begin). */
#define REPORT_FNV_BASIS 14695981039346656037ULL
static inline uint64_t cprof__report_fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* ---- units.c: pprof's measurement package ---- */

/*
 * Scale value from unit `from` to unit `to` ("minimum"/"auto" pick a unit).
 * *unit receives the unit to print after the number: a canonical name
 * ("ms", "MB"), "" for counts, or `to` itself when unknown.
 */
double cprof__units_scale(int64_t value, const char *from, const char *to, const char **unit);
/* measurement.ScaledLabel: "1.10s", "100ms", "80", "0". Returns buf. */
char *cprof__units_label(char *buf, size_t len, int64_t value, const char *from, const char *to);
/* measurement.Percentage: "  100%", "98.21%", " 0.89%", "    0%". Returns buf. */
char *cprof__units_percentage(char *buf, size_t len, int64_t value, int64_t total);

/* ---- report options (pprof's config, for the reports we implement) ---- */

enum report_format {
	REPORT_TEXT,
	/* text reports of raw.c, traces.c, tags.c, tree.c, list.c, disasm.c */
	REPORT_TRACES, REPORT_TREE, REPORT_PEEK, REPORT_RAW, REPORT_TAGS, REPORT_COMMENTS,
	REPORT_LIST, REPORT_DISASM, REPORT_WEBLIST,
	/* graphical and export outputs of dot.c, callgrind.c, protoout.c, folded.c, flamegraph.c */
	REPORT_DOT, REPORT_GRAPHVIZ, REPORT_CALLGRIND, REPORT_PROTO, REPORT_FOLDED, REPORT_FLAMEGRAPH,
	REPORT_TOPPROTO
};
/* -functions (default), -filefunctions, -files, -lines, -addresses */
enum report_granularity {
	REPORT_FUNCTIONS, REPORT_FILEFUNCTIONS, REPORT_FILES, REPORT_LINES, REPORT_ADDRESSES
};

struct report_options {
	enum report_format format;
	const char *graph_format; /* REPORT_GRAPHVIZ: dot's -T format ("svg", "png", ...) */
	bool web;                 /* -web: the SVG goes to a temp file opened in a browser */
	enum report_granularity granularity;
	const char *sample_index; /* NULL: default_sample_type, else the last type */
	bool mean;                /* divide by value[0] (the count) */
	bool cum_sort;            /* -cum; default sorts by flat */
	bool compact_labels;      /* omit File/Type/Time/... header lines */
	bool drop_negative;
	int nodecount;            /* -1: the command's default (0 = all for text) */
	double nodefraction;      /* 0.005 */
	double edgefraction;      /* 0.001 */
	bool trim;                /* false: no node/edge dropping at all */
	const char *unit;         /* "minimum" (default), "auto" or a unit name */
	double divide_by;         /* 1 */
	bool noinlines;           /* inlined frames go to their out-of-line caller */
	bool call_tree;           /* -call_tree: one node per calling context (-dot, -svg..., -callgrind) */
	bool relative_percentages; /* total of the focused samples, not of all */
	/*
	 * Filters (filter.c); NULL or "" when off. Regexps are POSIX extended
	 * (see docs/pprof-differences.md); tagroot/tagleaf are key lists.
	 */
	const char *focus, *ignore, *hide, *show, *show_from, *prune_from;
	const char *tagfocus, *tagignore, *tagshow, *taghide, *tagroot, *tagleaf;
	const char *output;       /* -output: NULL or "" for stdout */
	/* -peek/-list/-disasm regexp; -source_path and -trim_path for -list */
	const char *symbol, *source_path, *trim_path;
	/* -disasm: -tools (else $PPROF_TOOLS) search path for objdump; -intel_syntax */
	const char *tools;
	bool intel_syntax;
	/* -eog, -evince, -gv, -kcachegrind: the viewer command ("gv --noantialias"), or NULL */
	const char *viewer;
};

/* Defaults of `go tool pprof`. */
void cprof__report_options_init(struct report_options *o);

/* ---- graph.c: aggregation ---- */

/* What identifies a node (pprof's graph.NodeInfo). Strings point into the profile. */
struct rnode_info {
	const char *name;
	const char *file;
	uint64_t address;
	int64_t lineno;
	int64_t start_line;
	const char *objfile;
};

struct rnode {
	struct rnode_info info;
	size_t key;          /* index of the info in the view's key table */
	const char *printable; /* NameComponents joined by spaces (owned by the view) */
	int64_t flat, flat_div, cum, cum_div;
	size_t *in, nin;     /* edge indices, callers */
	size_t *out, nout;   /* edge indices, callees */
};

struct redge {
	size_t src, dst;     /* node indices */
	int64_t weight, weight_div;
	bool residual;       /* skips nodes that were not kept */
	bool is_inline;      /* the callee was inlined into the caller */
	bool removed;        /* trimmed by edgefraction */
};

struct rgraph {
	struct rnode *node;
	size_t nnode;
	struct redge *edge;
	size_t nedge;
};

/* Value of a node or edge, divided when a mean divisor is present. */
int64_t cprof__rnode_flat(const struct rnode *n);
int64_t cprof__rnode_cum(const struct rnode *n);
/*
 * How a node is reached, as pprof's top names it: "inline" when all its
 * remaining in-edges are inlined calls, "partial-inline" when some are,
 * "" otherwise.
 */
const char *cprof__rnode_inline(const struct rgraph *g, const struct rnode *n);

/*
 * A profile prepared for graph building at one granularity: unique node
 * infos ("keys") and, per location, the keys of its lines (innermost first).
 */
struct rview;

struct rview *cprof__rview_new(const struct profile *p, enum report_granularity g,
			       int value_index, bool mean);
/* The same with -noinlines: each location counts as its last line only. */
struct rview *cprof__rview_new_inl(const struct profile *p, enum report_granularity g,
				   bool noinlines, int value_index, bool mean);
/*
 * The function name reports show: name, else system_name with C++
 * parameter lists and template arguments dropped. *buf receives an
 * allocation to free (or NULL).
 */
const char *cprof__report_function_name(const struct profile *p, const struct pp_function *fn,
				       char **buf);
void cprof__rview_free(struct rview *v);
size_t cprof__rview_nkeys(const struct rview *v);
/*
 * The keys of a location's lines, innermost first (location by its index in
 * the profile's location array), and the info behind a key: what printers
 * that walk samples themselves (tags, folded stacks, flame graphs) need.
 */
const size_t *cprof__rview_loc_keys(const struct rview *v, size_t loc_index, size_t *n);
const struct rnode_info *cprof__rview_key_info(const struct rview *v, size_t key);
/*
 * The keys of frame `frame` of sample `sample` (innermost first), NULL when
 * the frame has no location: the location's keys, or in a call tree view
 * the tree nodes of that frame in that sample's context.
 */
const size_t *cprof__rview_frame_keys(const struct rview *v, size_t sample, size_t frame,
				      size_t *n);
/*
 * A call tree view (graph.New with CallTree, what -call_tree gives -dot and
 * -callgrind): keys are nodes of the tree of calling contexts, a node per
 * (parent node, info). key_base gives the key of the info behind a key (the
 * key itself outside a tree), key_parent its parent tree node (SIZE_MAX for
 * roots and outside a tree).
 */
struct rview *cprof__rview_new_tree(const struct profile *p, enum report_granularity g,
				    bool noinlines, int value_index, bool mean);
bool cprof__rview_is_tree(const struct rview *v);
size_t cprof__rview_key_base(const struct rview *v, size_t key);
size_t cprof__rview_key_parent(const struct rview *v, size_t key);

/*
 * report.computeTotal: the sum of |value| over the samples pprof would
 * merge into one (same stack and labels), divided by the summed counts with
 * -mean; only samples labeled pprof::base=true when there are any. 0 or -ENOMEM.
 */
int cprof__rview_total(const struct rview *v, int64_t *total);
/* The same for any profile and value. */
int cprof__report_total(const struct profile *p, int value_index, bool mean, int64_t *total);

/*
 * Build the graph (graph.New: newGraph, or newTree for a call tree view,
 * which is never given kept). kept, when not NULL, has
 * one flag per key; frames of keys not kept are skipped and make the edges
 * over them residual. NULL on out of memory.
 */
struct rgraph *cprof__rgraph_build(const struct rview *v, const bool *kept, bool drop_negative);
/*
 * The same graph's listed nodes and their values without any edge (no
 * hidden nodes): enough to choose the kept nodes, at a fraction of the cost.
 */
struct rgraph *cprof__rgraph_build_nodes(const struct rview *v, const bool *kept,
					 bool drop_negative);
void cprof__rgraph_free(struct rgraph *g);

/* Sort nodes by flat (or cum) as pprof's FlatNameOrder / CumNameOrder do. */
void cprof__rgraph_sort(struct rgraph *g, bool cum);
/* Mark edges with |weight| < cutoff removed; returns how many. */
int cprof__rgraph_trim_edges(struct rgraph *g, int64_t cutoff);
/*
 * Graph.TrimTree for a call tree graph: listed nodes without keep[i] are
 * dropped, their children hung on their parent by residual edges (inline
 * when both edges were). Kept nodes stay listed in their order. 0 or -ENOMEM.
 */
int cprof__rgraph_trim_tree(struct rgraph *g, const bool *keep);

/* ---- filter.c: pprof's sample and frame filters, on a copy ---- */

#include <regex.h>

/* Whether any option of filter.c is set (the profile must be copied). */
bool cprof__filter_active(const struct report_options *o);
/* A private copy of p to filter. NULL with a reason in err. */
struct profile *cprof__filter_copy(const struct profile *p, char *err, size_t errlen);
/* -tagroot/-tagleaf: label values as pseudo frames. 0 or -ENOMEM. */
int cprof__filter_tagnodes(struct profile *p, const struct report_options *o, FILE *warn);
/*
 * -focus -ignore -hide -show -show_from -tagfocus -tagignore -tagshow
 * -taghide -prune_from, in pprof's order. "... matched no samples" notes go
 * to warn (may be NULL). 0, or -1 with a reason in err (bad regexp: "parsing
 * focus regexp: ...").
 */
int cprof__filter_apply(struct profile *p, const struct report_options *o, FILE *warn,
			char *err, size_t errlen);
/*
 * profile.RemoveUninteresting, which pprof runs on every profile it loads:
 * frames matching the profile's drop_frames (and not keep_frames) pruned
 * with everything below them (legacy formats name their allocator, lock
 * and signal-handler frames there). 0 or -ENOMEM; expressions that do not
 * compile are ignored, as pprof ignores them.
 */
int cprof__filter_remove_uninteresting(struct profile *p);
/* A Go-syntax regexp compiled as POSIX extended (REG_NOSUB). 0 or -1 + err. */
int cprof__filter_regcomp(regex_t *re, const char *pat, char *err, size_t errlen);

/* ---- report.c: a profile, the chosen value, and the trimmed graph ---- */

struct report {
	const struct profile *prof;
	struct report_options opt;
	int value_index;
	const char *sample_type; /* "cpu"; with -mean, "mean_cpu" */
	char *sample_type_buf;
	const char *sample_unit;
	char output_unit[32];
	int64_t total;           /* sum of |value| (divided by the mean divisor) */
	struct rview *view;
	struct profile *filtered; /* prof, when filters made a copy (owned) */
};

/*
 * Select the value and compute the total. On error writes a one-line reason
 * (what pprof says, e.g. `sample_index "x" must be one of: [...]`) and
 * returns -1. The profile must outlive the report.
 */
int cprof__report_init(struct report *r, const struct profile *p,
		       const struct report_options *o, char *err, size_t errlen);
void cprof__report_release(struct report *r);
/* The value -sample_index (si; NULL the default) selects: its index, or -1 with pprof's reason. */
int cprof__report_sample_index(const struct profile *p, const char *si, char *err, size_t errlen);

/* "Active filters:" and one "   name=value" line per filter set (none: nothing). */
void cprof__report_active_filters(const struct report_options *o, FILE *out);

/*
 * -output: stdout when path is NULL or "", else the file, created or
 * truncated, announced on stderr as pprof does ("Generating report in F").
 * NULL with a reason in err. Close with cprof__report_close_output, which
 * flushes, reports a write error (0 or -1 + err) and leaves stdout open.
 */
FILE *cprof__report_open_output(const char *path, char *err, size_t errlen);
int cprof__report_close_output(FILE *f, const char *path, char *err, size_t errlen);

/* rpt.formatValue: a value in the report's output unit. Returns buf. */
char *cprof__report_format(const struct report *r, char *buf, size_t len, int64_t v);

/*
 * newTrimmedGraph + selectOutputUnit: nodefraction, nodecount and
 * edgefraction applied, nodes sorted. Counts for the header are returned
 * through the pointers. NULL on out of memory.
 */
struct rgraph *cprof__report_graph(struct report *r, int *orig_count, int *dropped_nodes,
				   int *dropped_edges);

/*
 * Header lines (reportLabels), each followed by '\n': File, Build ID,
 * comments, Type, Time, Duration unless compact, then "Showing nodes ...",
 * "Dropped ...", "Showing top ...".
 */
void cprof__report_labels(const struct report *r, const struct rgraph *g, int orig_count,
			  int dropped_nodes, int dropped_edges, FILE *out);

/* ---- top.c ---- */

/* `-top` / `-text`. 0, or -ENOMEM. */
int cprof__report_text(struct report *r, FILE *out);

/* ---- merge.c ---- */

/*
 * Merge profiles as pprof does for several sources: identical period type
 * and sample types required (else -1 and a reason in err); values of equal
 * samples are added, headers combined (earliest time, summed durations,
 * comments once). Returns a new profile; NULL on error.
 */
struct profile *cprof__report_merge(struct profile *const *p, size_t n, char *err, size_t errlen);

/*
 * -base / -diff_base (diff true) with -normalize: src minus base, as a new
 * profile (the inputs are not changed). NULL with a reason in err.
 */
struct profile *cprof__report_merge_base(const struct profile *src, const struct profile *base,
					 bool diff, bool normalize, char *err, size_t errlen);

/* ---- graphical and export outputs (dot.c, callgrind.c, protoout.c, folded.c, flamegraph.c) ---- */

/* `-dot`: the call graph in DOT, as pprof writes it. 0, -ENOMEM or -EIO. */
int cprof__report_dot(struct report *r, FILE *out);
/*
 * `-svg`, `-png`, `-pdf`, `-ps`, `-gif`: the DOT graph rendered by Graphviz
 * (`dot -T<format>`); SVG gets a pan/zoom script. -ENOENT when `dot` is not
 * installed, -EIO when it failed or writing failed, -ENOMEM.
 */
int cprof__report_graphviz(struct report *r, const char *format, FILE *out);
/*
 * -web: a fresh temp file name for the SVG (${TMPDIR:-/tmp}/cprof-web-*.svg),
 * 0 or -errno; then open it in $BROWSER (':'-separated commands), else with
 * xdg-open and friends when there is a display. Headless, prints the path on
 * stdout and a note on stderr and returns 1; 0 when a browser took it.
 */
int cprof__report_web_path(char *buf, size_t len);
int cprof__report_web_open(const char *path);
/*
 * viewer.c (-eog, -evince, -gv, -kcachegrind): a fresh temp file
 * ${TMPDIR:-/tmp}/pprofXXXXXX.<suffix> (0 or -errno); then start viewer
 * (a command and arguments, split at spaces) on it. Not background: wait
 * for it, then remove the file; background (interactive shell): the file
 * is removed at exit. 0, or -EINVAL with a reason in err (e.g. the viewer
 * is not installed).
 */
int cprof__report_viewer_path(const char *suffix, char *buf, size_t len);
int cprof__report_viewer_run(const char *viewer, const char *path, bool background,
			     char *err, size_t errlen);
/* -eog's SVG: `dot -Tsvg` of the DOT graph, as is. -ENOENT without dot, -EIO, -ENOMEM. */
int cprof__report_plain_svg(struct report *r, FILE *out);
/* report.selectOutputUnit into r->output_unit when it is "minimum" (report.c). */
void cprof__report_select_unit(struct report *r, const struct rgraph *g, bool callgrind);
/* `-callgrind`: valgrind's callgrind format, as pprof writes it. */
int cprof__report_callgrind(struct report *r, FILE *out);
/* `-proto`: the (filtered) profile as gzipped profile.proto, -divide_by applied. */
int cprof__report_proto(struct report *r, FILE *out);
/* `-topproto`: the -top report's nodes as a gzipped profile.proto (cum, flat). */
int cprof__report_topproto(struct report *r, FILE *out);
/* `-folded`: collapsed stacks, "root;caller;leaf value" per line. */
int cprof__report_folded(struct report *r, FILE *out);
/* `-flamegraph`: a self-contained interactive SVG flame graph. */
int cprof__report_flamegraph(struct report *r, FILE *out);
/*
 * The tree of calling contexts behind flame graphs (flamegraph.c): node 0
 * is the root, every other node a frame (view key) under its caller, with
 * the summed |value| of the report's samples through it. neg is the part
 * of value from negative samples: the base of a -base/-diff_base profile.
 */
struct flame_node {
	size_t name;          /* view key; SIZE_MAX for the root */
	int64_t value, neg;
	size_t parent, child, next; /* SIZE_MAX: none */
	int depth;            /* -1 for the root */
};
struct flame_tree {
	struct flame_node *n;
	size_t len, cap;
};
/* 0 or -ENOMEM (t released). Release with cprof__flame_release. */
int cprof__flame_build(const struct report *r, struct flame_tree *t);
void cprof__flame_release(struct flame_tree *t);
/* The name a flame graph shows for a frame (malloc'd, NULL on out of memory). */
char *cprof__flame_name(const struct rnode_info *i);

/* ---- text reports: raw.c, traces.c, tags.c, tree.c, list.c ---- */

/* One instruction objdump printed: its file address and text (malloc'd). */
struct report_inst {
	uint64_t addr;
	char *text;
};
/*
 * Run binutils' objdump (found through -tools, $PPROF_TOOLS or
 * $CPROF_OBJDUMP; -intel_syntax honoured) on [start, stop) of path
 * (disasm.c). Instructions in address order. -EINVAL with a one-line reason
 * in err when objdump is missing or fails; -ENOMEM. Free with
 * cprof__report_insts_free, also after an error.
 */
int cprof__report_objdump(const struct report_options *o, const char *path, uint64_t start,
			  uint64_t stop, struct report_inst **out, size_t *nout, char *err, size_t errlen);
void cprof__report_insts_free(struct report_inst *v, size_t n);
/* strconv.ParseUint(s, 0, 64): a -list/-disasm/-weblist argument as an address. */
bool cprof__report_parse_address(const char *s, uint64_t *v);

/*
 * Source files of -list and -weblist, found as pprof finds them (list.c):
 * trim_path strips a -trim_path prefix (or a default build prefix) from a
 * recorded path; open_source opens a file by absolute path or through the
 * -source_path list and the working directory's parents. On failure
 * open_source returns NULL and *error holds pprof's message (malloc'd).
 */
const char *cprof__report_trim_path(const char *path, const char *trim, const char *search);
FILE *cprof__report_open_source(const char *path, const char *search, const char *trim, char **error);

/*
 * The source files a report has read, each read once (pprof's
 * sourceReader): search and trim as for open_source, the rest zero.
 * source_file: the file's lines line[1..nline], or its error (nline 0);
 * NULL on out of memory. source_line: one line's text, NULL when the file
 * has no such line. Release frees the files and their lines.
 */
struct report_srcfile {
	char *path;  /* the name in the profile */
	char **line; /* line[1..nline] */
	size_t nline;
	char *error; /* why it could not be opened, or NULL */
};
struct report_sources {
	const char *search, *trim;
	struct report_srcfile *f;
	size_t n, cap;
};
struct report_srcfile *cprof__report_source_file(struct report_sources *rd, const char *path);
const char *cprof__report_source_line(struct report_sources *rd, const char *path, int64_t lineno);
void cprof__report_sources_release(struct report_sources *rd);

/*
 * profile.Merge of one profile, which the driver applies to every input:
 * zero samples dropped, equal samples/locations/functions/mappings folded,
 * ids renumbered in order of first use, a fake mapping when there is none.
 * Samples keep only the labels pprof's decoder keeps. NULL on out of memory.
 */
struct profile *cprof__report_compact(const struct profile *p);
/*
 * Drop samples without locations, as pprof's FilterSamplesByName always
 * does after the report total is taken (driver.applyFocus).
 */
void cprof__report_drop_unlocated(struct profile *p);
/* graph.NodeInfo.PrintableName of one location line at o's granularity (malloc'd). */
char *cprof__report_frame_name(const struct profile *p, const struct report_options *o,
			       const struct pp_location *loc, const struct pp_line *line);
/* profile.NumLabelUnits for one key: its first unit, else "bytes" or the key. */
int cprof__report_num_label_unit(const struct profile *p, const char *key, const char **unit);
/* `-raw`: Profile.String() of a compacted profile. 0, -ENOMEM or -EIO. */
int cprof__report_raw(const struct profile *p, FILE *out);
/* `-traces`: every sample of the (compacted) report profile. */
int cprof__report_traces(struct report *r, FILE *out);
/* `-tags`: totals per label key and value. */
int cprof__report_tags(struct report *r, FILE *out);
/* `-comments`: one comment per line. */
int cprof__report_comments(const struct profile *p, FILE *out);
/*
 * `-tree`, and `-peek=RE` with peek set (the caller turns trimming off):
 * -ENOENT when no node matched peek (the caller prints pprof's error and
 * should discard the output).
 */
int cprof__report_tree(struct report *r, const regex_t *peek, FILE *out);
/*
 * `-list=RE`: annotated source of the functions whose name matches re
 * (opt.source_path, opt.trim_path). -ENOENT when none matched.
 */
int cprof__report_list(struct report *r, const regex_t *re, FILE *out);
/*
 * `-disasm=RE` (disasm.c): annotated disassembly of the symbols matching re
 * (opt.symbol is re's source, also tried as an address), instructions by
 * binutils' objdump. -ENOENT when none matched; -EINVAL with a one-line
 * reason in err when a binary or objdump is missing.
 */
int cprof__report_disasm(struct report *r, const regex_t *re, FILE *out, char *err, size_t errlen);
/*
 * `-weblist=RE` (weblist.c): an HTML page of the annotated source of the
 * functions matching re, each line expanding to its instructions (objdump,
 * opt.tools, opt.intel_syntax) with their values. -ENOENT when none matched.
 */
int cprof__report_weblist(struct report *r, const regex_t *re, FILE *out);

#endif
