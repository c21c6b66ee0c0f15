/*
 * benchstat.h - what the files of `cprof benchstat` share: the arena every
 * object lives in, the parsed benchmark results (parse.c), the statistics
 * (stats.c), projections and keys (proj.c), filters (filter.c) and the
 * tables (table.c). Everything here runs on the CLI's main thread; nothing
 * is used by the runtime.
 */
#ifndef CPROF_CLI_BENCHSTAT_H
#define CPROF_CLI_BENCHSTAT_H

#include <stddef.h>
#include <stdio.h>

/* ---- util.c: arena, string map, UTF-8 and Go-style number text ---- */

/* Every allocation of one run comes from an arena and is freed at once. */
struct bs_arena {
	struct bs_block *head;
};
void *cprof__bs_alloc(struct bs_arena *a, size_t n); /* zeroed; aborts on OOM */
char *cprof__bs_strndup(struct bs_arena *a, const char *s, size_t n);
char *cprof__bs_strdup(struct bs_arena *a, const char *s);
char *cprof__bs_sprintf(struct bs_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Grows *p (elements of size elem) so that at least need fit; *cap updated. */
void cprof__bs_grow(struct bs_arena *a, void **p, int *cap, int need, size_t elem);
void cprof__bs_arena_release(struct bs_arena *a);

/* String -> int map (open addressing); keys are copied into the arena. */
struct bs_map {
	const char **keys;
	size_t *lens;
	int *vals;
	int cap, n;
};
/* Returns the value of key, or -1. */
int cprof__bs_map_get(const struct bs_map *m, const char *key, size_t len);
/* Sets key to val (inserting). */
void cprof__bs_map_put(struct bs_arena *a, struct bs_map *m, const char *key, size_t len, int val);

/* Number of code points in s (each invalid byte counts as one). */
int cprof__bs_runes(const char *s);
int cprof__bs_utf8_valid(const char *s, size_t n);
/* Decodes one rune at s (n bytes left); *size gets its length. */
int cprof__bs_rune(const char *s, size_t n, int *size);
int cprof__bs_is_space_rune(int r);
/* Go's strconv.FormatFloat(v, 'g', -1, 64), as fmt's %v prints a float64. */
void cprof__bs_fmt_g(char *out, size_t n, double v);
/* Go's %.<prec>f (%+.<prec>f with plus): NaN and Inf spelled as Go does. */
void cprof__bs_fmt_f(char *out, size_t n, int prec, int plus, double v);

/* ---- parse.c: the Go benchmark format ---- */

struct bs_cfg {
	const char *key, *val;
	int file; /* 1 for "key: value" lines, 0 for .file */
};

struct bs_value {
	double v;
	const char *unit;      /* tidied */
	const char *orig_unit; /* as written, or NULL when tidying changed nothing */
};

struct bs_result {
	const char *name; /* full name without the "Benchmark" prefix */
	const struct bs_cfg *cfg;
	int ncfg;
	struct bs_value *vals;
	int nvals;
};

struct bs_unitmeta {
	const char *unit; /* tidied */
	const char *key, *val;
};

struct bs_input {
	struct bs_result *res;
	int nres, capres;
	struct bs_unitmeta *meta;
	int nmeta, capmeta;
};

/*
 * Reads one input (its bytes, with label as .file) into in. Syntax errors
 * are non-fatal and each is written to errs (if not NULL) as
 * "path:line: msg". Returns 0, or -1 with a message in err for a fatal
 * problem (invalid UTF-8).
 */
int cprof__bs_parse(struct bs_arena *a, struct bs_input *in, const char *path, const char *label, const char *data,
		    size_t len, FILE *errs, char *err, size_t errlen);
/* strconv.ParseFloat's syntax: NULL, or "invalid syntax" / "value out of range". */
const char *cprof__bs_parse_float(const char *s, double *out);
/* benchunit.Tidy: the tidied unit and its factor. */
const char *cprof__bs_tidy_unit(struct bs_arena *a, const char *unit, double *factor);
/* 1 if unit's numerator has a B, MB or bytes token (binary prefixes). */
int cprof__bs_unit_binary(const char *unit);
/* The value of unit metadata key for tidied unit, or NULL. */
const char *cprof__bs_unit_meta(const struct bs_input *in, const char *unit, const char *key);

/* ---- stats.c ---- */

struct bs_summary {
	double center, lo, hi;
	const char *warn; /* NULL or one warning */
};

struct bs_cmp {
	double p, alpha;
	int n1, n2;
	const char *warn;
};

/* R8 quantile of a sorted sample. */
double cprof__bs_quantile(const double *x, int n, double q);
/* Order statistics [*lo, *hi] (1-based, 0 and n+1 mean infinite) of the median CI. */
void cprof__bs_median_ci(int n, double conf, int *lo, int *hi);
/* The same, always computed (the former uses the reference's own orders at 0.95 and 0.99). */
void cprof__bs_median_ci_computed(int n, double conf, int *lo, int *hi);
/* Mann-Whitney U test, two-sided; -1 if all values are equal, else 0 with *p and *u1. */
int cprof__bs_utest(const double *x1, int n1, const double *x2, int n2, double *p, double *u1);
/* Summaries and comparisons; x sorted. exact selects assume=exact. */
void cprof__bs_summarize(struct bs_arena *a, const double *x, int n, double conf, int exact,
			 struct bs_summary *s);
void cprof__bs_compare(struct bs_arena *a, const double *x1, int n1, const double *x2, int n2,
		       double alpha, int exact, struct bs_cmp *c);
double cprof__bs_geomean(const double *x, int n); /* NaN if any x <= 0 or n == 0 */
/* Text of the ± cell, the delta cell and the p/n cell. */
void cprof__bs_pct_range(char *out, size_t n, const struct bs_summary *s);
void cprof__bs_delta(char *out, size_t n, const struct bs_cmp *c, double old, double new_);
void cprof__bs_cmp_string(char *out, size_t n, const struct bs_cmp *c);

/* benchunit scaler: a prefix and precision shared by the cells of a row. */
struct bs_scaler {
	int prec;
	double factor;
	const char *prefix;
};
struct bs_scaler cprof__bs_common_scale(const double *v, int n, int binary);
void cprof__bs_scale_format(char *out, size_t n, struct bs_scaler s, double v);

/* ---- proj.c: projections, keys, sort orders ---- */

enum { BS_ORD_FIRST, BS_ORD_ALPHA, BS_ORD_NUM, BS_ORD_FIXED };

struct bs_field {
	const char *name;
	int idx;
	int ord;
	int tracked; /* records observation order */
	struct bs_map obs;
	struct bs_map fixed;
};

struct bs_key {
	int id;
	const char **vals;
	int nvals;
};

struct bs_part {
	int kind; /* 0 field, 1 .config, 2 .fullname */
	struct bs_field *field; /* kinds 0 and 2 */
	int ord;		/* order of .config's fields */
	struct bs_field **sub;  /* .config's fields, in creation order */
	int nsub, capsub;
	struct bs_map seen; /* config key -> index into sub */
};

struct bs_parser;

struct bs_proj {
	struct bs_parser *parser;
	struct bs_part *parts;
	int nparts, capparts;
	int nfields;
	struct bs_field *unit;
	struct bs_field **flat;
	int nflat;
	struct bs_map keymap;
	struct bs_key **keys;
	int nkeys, capkeys;
	const char **row;
	int caprow;
};

/* A fixed order "key@(a b)" also filters: the key's value must be listed. */
struct bs_fixed_filter {
	const char *key;
	struct bs_map *set;
};

struct bs_parser {
	struct bs_arena *a;
	struct bs_map config_keys;
	const char **fullname_keys;
	int nfullname, capfullname;
	int have_config, have_fullname;
	struct bs_fixed_filter *fixed;
	int nfixed, capfixed;
};

/* Parses a projection; with_unit adds the .unit field. NULL with err set on error. */
struct bs_proj *cprof__bs_proj_parse(struct bs_parser *p, const char *q, int with_unit, char *err, size_t errlen);
struct bs_proj *cprof__bs_proj_residue(struct bs_parser *p);
/* Projects r (with unit, when the projection has .unit) into an interned key. */
struct bs_key *cprof__bs_project(struct bs_proj *pr, const struct bs_result *r, const char *unit);
void cprof__bs_sort_keys(struct bs_proj *pr, struct bs_key **keys, int n);
const char *cprof__bs_key_get(const struct bs_key *k, const struct bs_field *f);
/* The projection's fields, flattened (.config expanded). */
void cprof__bs_proj_flatten(struct bs_proj *pr);
/* Extracts key (".name", ".fullname", "/k", a config key) from r: arena string or NULL. */
const char *cprof__bs_extract(struct bs_arena *a, const struct bs_result *r, const char *key);
/* The syntax error text, as "syntax error: msg\n\tquery\n\t   ^". */
void cprof__bs_syntax_error(char *err, size_t errlen, const char *q, size_t off, const char *msg);

/* ---- filter.c ---- */

struct bs_filter;
struct bs_filter *cprof__bs_filter_parse(struct bs_arena *a, const char *q, char *err, size_t errlen);
/* Keeps the values of r the filter matches; returns how many remain. */
void cprof__bs_filter_free(struct bs_filter *f);
int cprof__bs_filter_apply(struct bs_arena *a, const struct bs_filter *f, const struct bs_parser *p,
			   struct bs_result *r);

/* ---- tokens shared by proj.c and filter.c ---- */

struct bs_tok {
	int kind; /* 'w' word, 'q' quoted, 'r' regexp, 'A' AND, 'O' OR, an op char, 0 end, -1 error */
	size_t off;
	const char *text;
};
/* Next token of q at *pos; regexps only when allow_re. Errors set err (first one wins). */
struct bs_tok cprof__bs_next_tok(struct bs_arena *a, const char *q, size_t *pos, int allow_re, char *err,
				 size_t errlen);

/* ---- table.c ---- */

struct bs_opts {
	double alpha, confidence;
	int csv;
};

struct bs_builder;
struct bs_builder *cprof__bs_builder_new(struct bs_arena *a, struct bs_proj *table, struct bs_proj *row,
					 struct bs_proj *col, struct bs_proj *residue);
void cprof__bs_builder_add(struct bs_builder *b, const struct bs_result *r);
/* Computes and prints every table: text or CSV on out, CSV warnings on errs. */
void cprof__bs_builder_print(struct bs_builder *b, const struct bs_input *in, const struct bs_opts *o, FILE *out,
			     FILE *errs);

#endif
