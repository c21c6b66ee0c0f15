/*
 * table.c - benchstat's tables: collecting each measurement into its cell
 * (table key = file config + unit, row key, column key), the per-cell
 * summaries and comparisons with the first column, the geomean row, and the
 * two renderings: the aligned text table (column widths counted in code
 * points, spanning headers, footnotes) and CSV (warnings to stderr with
 * spreadsheet cell names). The statistics themselves are stats.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/benchstat/benchstat.h"

struct cell {
	struct bs_key *row, *col;
	double *v;
	int n, cap;
	int *res; /* residue key ids seen */
	int nres, capres;
	struct bs_summary sum;
	struct cell *base;
	struct bs_cmp cmp;
	const char *vary; /* "benchmarks vary in ..." or NULL */
};

struct colsum {
	int has_sum, has_ratio;
	double sum, ratio;
	const char *warn[3];
	int nwarn;
};

struct table {
	struct bs_key *key;
	struct bs_key **rows, **cols;
	int nrows, caprows, ncols, capcols;
	struct bs_map rowset, colset, cellmap;
	struct cell **cells;
	int ncells, capcells;
	const char *unit;
	int exact;
	struct colsum *sums;
};

struct bs_builder {
	struct bs_arena *a;
	struct bs_proj *tp, *rp, *cp, *res;
	struct table **tables;
	int ntables, captables;
	struct bs_map tmap;
};

struct bs_builder *cprof__bs_builder_new(struct bs_arena *a, struct bs_proj *table, struct bs_proj *row,
					 struct bs_proj *col, struct bs_proj *residue)
{
	struct bs_builder *b = cprof__bs_alloc(a, sizeof(*b));
	b->a = a;
	b->tp = table;
	b->rp = row;
	b->cp = col;
	b->res = residue;
	return b;
}

static struct cell *get_cell(struct bs_builder *b, struct table *t, struct bs_key *row, struct bs_key *col, int create)
{
	char k[48];
	int n = snprintf(k, sizeof(k), "%d,%d", row->id, col->id);
	int i = cprof__bs_map_get(&t->cellmap, k, (size_t)n);
	if (i >= 0)
		return t->cells[i];
	if (!create)
		return NULL;
	struct cell *c = cprof__bs_alloc(b->a, sizeof(*c));
	c->row = row;
	c->col = col;
	cprof__bs_grow(b->a, (void **)&t->cells, &t->capcells, t->ncells + 1, sizeof(*t->cells));
	t->cells[t->ncells] = c;
	cprof__bs_map_put(b->a, &t->cellmap, k, (size_t)n, t->ncells++);
	snprintf(k, sizeof(k), "%d", row->id);
	if (cprof__bs_map_get(&t->rowset, k, strlen(k)) < 0) {
		cprof__bs_map_put(b->a, &t->rowset, k, strlen(k), 1);
		cprof__bs_grow(b->a, (void **)&t->rows, &t->caprows, t->nrows + 1, sizeof(*t->rows));
		t->rows[t->nrows++] = row;
	}
	snprintf(k, sizeof(k), "%d", col->id);
	if (cprof__bs_map_get(&t->colset, k, strlen(k)) < 0) {
		cprof__bs_map_put(b->a, &t->colset, k, strlen(k), 1);
		cprof__bs_grow(b->a, (void **)&t->cols, &t->capcols, t->ncols + 1, sizeof(*t->cols));
		t->cols[t->ncols++] = col;
	}
	return c;
}

void cprof__bs_builder_add(struct bs_builder *b, const struct bs_result *r)
{
	struct bs_key *tk[64];
	struct bs_key **tkeys = r->nvals <= 64 ? tk : malloc(sizeof(*tkeys) * (size_t)r->nvals);
	if (!tkeys)
		return;
	for (int i = 0; i < r->nvals; i++)
		tkeys[i] = cprof__bs_project(b->tp, r, r->vals[i].unit);
	struct bs_key *row = cprof__bs_project(b->rp, r, NULL);
	struct bs_key *col = cprof__bs_project(b->cp, r, NULL);
	struct bs_key *res = cprof__bs_project(b->res, r, NULL);
	for (int i = 0; i < r->nvals; i++) {
		char k[24];
		int n = snprintf(k, sizeof(k), "%d", tkeys[i]->id);
		int ti = cprof__bs_map_get(&b->tmap, k, (size_t)n);
		if (ti < 0) {
			struct table *t = cprof__bs_alloc(b->a, sizeof(*t));
			t->key = tkeys[i];
			cprof__bs_grow(b->a, (void **)&b->tables, &b->captables, b->ntables + 1, sizeof(*b->tables));
			ti = b->ntables;
			b->tables[b->ntables++] = t;
			cprof__bs_map_put(b->a, &b->tmap, k, (size_t)n, ti);
		}
		struct cell *c = get_cell(b, b->tables[ti], row, col, 1);
		cprof__bs_grow(b->a, (void **)&c->v, &c->cap, c->n + 1, sizeof(*c->v));
		c->v[c->n++] = r->vals[i].v;
		int seen = 0;
		for (int j = 0; j < c->nres && !seen; j++)
			seen = c->res[j] == res->id;
		if (!seen) {
			cprof__bs_grow(b->a, (void **)&c->res, &c->capres, c->nres + 1, sizeof(*c->res));
			c->res[c->nres++] = res->id;
		}
	}
	if (tkeys != tk)
		free(tkeys);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	if (isnan(x) || isnan(y)) /* NaN first, as Go's sort.Float64s */
		return isnan(y) - isnan(x);
	return x < y ? -1 : x > y;
}

static void add_warn(struct colsum *s, const char *w)
{
	if (s->nwarn < 3)
		s->warn[s->nwarn++] = w;
}

static void compute(struct bs_builder *b, struct table *t, const struct bs_input *in, const struct bs_opts *o)
{
	struct bs_arena *a = b->a;
	cprof__bs_sort_keys(b->rp, t->rows, t->nrows);
	cprof__bs_sort_keys(b->cp, t->cols, t->ncols);
	t->unit = cprof__bs_key_get(t->key, b->tp->unit);
	const char *assume = cprof__bs_unit_meta(in, t->unit, "assume");
	t->exact = assume && strcmp(assume, "exact") == 0;
	cprof__bs_proj_flatten(b->res);
	for (int i = 0; i < t->ncells; i++) {
		struct cell *c = t->cells[i];
		qsort(c->v, (size_t)c->n, sizeof(double), cmp_double);
		cprof__bs_summarize(a, c->v, c->n, o->confidence, t->exact, &c->sum);
		if (c->nres > 1) {
			char *msg = cprof__bs_strdup(a, "benchmarks vary in ");
			int nf = 0;
			for (int f = 0; f < b->res->nflat; f++) {
				const char *v0 = cprof__bs_key_get(b->res->keys[c->res[0]], b->res->flat[f]);
				for (int j = 1; j < c->nres; j++) {
					const char *v = cprof__bs_key_get(b->res->keys[c->res[j]], b->res->flat[f]);
					if (strcmp(v, v0) != 0) {
						msg = cprof__bs_sprintf(a, "%s%s%s", msg, nf++ ? ", " : "",
									b->res->flat[f]->name);
						break;
					}
				}
			}
			if (nf)
				c->vary = msg;
		}
	}
	for (int i = 0; i < t->ncells; i++) {
		struct cell *c = t->cells[i];
		if (c->col != t->cols[0])
			c->base = get_cell(b, t, c->row, t->cols[0], 0);
		if (c->base)
			cprof__bs_compare(a, c->base->v, c->base->n, c->v, c->n, o->alpha, t->exact, &c->cmp);
	}
	t->sums = cprof__bs_alloc(a, sizeof(*t->sums) * (size_t)t->ncols);
	int nbase = 0;
	for (int r = 0; r < t->nrows; r++)
		nbase += get_cell(b, t, t->rows[r], t->cols[0], 0) != NULL;
	double *sums = cprof__bs_alloc(a, sizeof(double) * (size_t)(t->nrows + 1));
	double *ratios = cprof__bs_alloc(a, sizeof(double) * (size_t)(t->nrows + 1));
	for (int ci = 0; ci < t->ncols; ci++) {
		struct colsum *s = &t->sums[ci];
		int ns = 0, nr = 0, bad = 0;
		for (int r = 0; r < t->nrows; r++) {
			struct cell *c = get_cell(b, t, t->rows[r], t->cols[ci], 0);
			if (!c)
				continue;
			sums[ns++] = c->sum.center;
			if (c->base) {
				double x = c->sum.center, y = c->base->sum.center;
				if (x == y) {
					ratios[nr++] = 1;
				} else if (y == 0) {
					bad = 1;
					ratios[nr++] = 0;
				} else {
					ratios[nr++] = x / y;
				}
			}
		}
		if (ci > 0 && nbase != nr)
			add_warn(s, "benchmark set differs from baseline; geomeans may not be comparable");
		double gm = cprof__bs_geomean(sums, ns);
		if (isnan(gm)) {
			add_warn(s, "summaries must be >0 to compute geomean");
		} else {
			s->has_sum = 1;
			s->sum = gm;
		}
		if (ci > 0 && !bad) {
			gm = cprof__bs_geomean(ratios, nr);
			if (isnan(gm)) {
				add_warn(s, "ratios must be >0 to compute geomean");
			} else {
				s->has_ratio = 1;
				s->ratio = gm;
			}
		}
	}
}

/* ---- text layout ---- */

enum { LEFT, CENTER, RIGHT };

struct tcell {
	int row, col, span, align, seq;
	const char *value, *margin;
};

struct ttab {
	struct bs_arena *a;
	struct tcell *cells;
	int ncells, capcells;
	int cols, cur_row, cur_col;
	char *shrink;
	int capshrink;
};

static void t_row(struct ttab *t)
{
	if (t->ncells > 0)
		t->cur_row++;
	t->cur_col = 0;
}

static void t_col(struct ttab *t, int c)
{
	t->cur_col = c;
}

static void t_span(struct ttab *t, int span, const char *v, int align, const char *margin)
{
	cprof__bs_grow(t->a, (void **)&t->cells, &t->capcells, t->ncells + 1, sizeof(*t->cells));
	struct tcell *c = &t->cells[t->ncells];
	c->row = t->cur_row;
	c->col = t->cur_col;
	c->span = span;
	c->value = cprof__bs_strdup(t->a, v);
	c->margin = margin ? margin : (t->cur_col == 0 || !v[0]) ? "" : " ";
	c->align = align;
	c->seq = t->ncells++;
	t->cur_col += span;
	if (t->cur_col > t->cols)
		t->cols = t->cur_col;
}

static void t_cell(struct ttab *t, const char *v, int align, const char *margin)
{
	t_span(t, 1, v, align, margin);
}

static void t_shrink(struct ttab *t, int col)
{
	if (col >= t->capshrink) {
		int old = t->capshrink;
		cprof__bs_grow(t->a, (void **)&t->shrink, &t->capshrink, col + 1, 1);
		memset(t->shrink + old, 0, (size_t)(t->capshrink - old));
	}
	t->shrink[col] = 1;
}

static int by_span(const void *a, const void *b)
{
	const struct tcell *x = a, *y = b;
	if (x->span != y->span)
		return x->span - y->span;
	return x->seq - y->seq;
}

static int by_pos(const void *a, const void *b)
{
	const struct tcell *x = a, *y = b;
	if (x->row != y->row)
		return x->row - y->row;
	if (x->col != y->col)
		return x->col - y->col;
	return x->seq - y->seq;
}

static int blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\v' && *s != '\f')
			return 0;
	return 1;
}

static void spaces(FILE *f, int n)
{
	if (n < 0)
		n = -n;
	while (n-- > 0)
		fputc(' ', f);
}

static void t_format(struct ttab *t, FILE *out)
{
	int n = t->cols;
	int *lm = calloc((size_t)n + 1, sizeof(int)), *ws = calloc((size_t)n + 1, sizeof(int));
	int *offs = calloc((size_t)n + 2, sizeof(int)), *span = calloc((size_t)n + 1, sizeof(int));
	if (!lm || !ws || !offs || !span) {
		fputs("cprof: benchstat: out of memory\n", stderr);
		exit(1);
	}
	for (int i = 0; i < t->ncells; i++) {
		int m = cprof__bs_runes(t->cells[i].margin);
		if (m > lm[t->cells[i].col])
			lm[t->cells[i].col] = m;
	}
	qsort(t->cells, (size_t)t->ncells, sizeof(*t->cells), by_span);
	for (int i = 0; i < t->ncells; i++) {
		struct tcell *c = &t->cells[i];
		int w = cprof__bs_runes(c->value) + lm[c->col];
		if (c->span == 1) {
			if (w > ws[c->col])
				ws[c->col] = w;
			continue;
		}
		int tw = 0;
		for (int k = c->col; k < c->col + c->span; k++)
			tw += ws[k];
		if (tw >= w)
			continue;
		int ns = 0;
		for (int k = c->col; k < c->col + c->span; k++) {
			if (k < t->capshrink && t->shrink[k])
				w -= ws[k];
			else
				span[ns++] = k;
		}
		/* widest first (insertion sort keeps equal widths in column order) */
		for (int x = 1; x < ns; x++)
			for (int y = x; y > 0 && ws[span[y]] > ws[span[y - 1]]; y--) {
				int tmp = span[y];
				span[y] = span[y - 1];
				span[y - 1] = tmp;
			}
		int left = ns;
		for (int x = 0; x < ns; x++) {
			int col = span[x];
			int avg = (w + left - 1) / left;
			if (avg > ws[col])
				ws[col] = avg;
			w -= ws[col];
			left--;
		}
	}
	int off = 0;
	for (int i = 0; i < n; i++) {
		offs[i] = off;
		off += ws[i];
	}
	offs[n] = off;
	qsort(t->cells, (size_t)t->ncells, sizeof(*t->cells), by_pos);
	int row = 0;
	off = 0;
	for (int i = 0; i < t->ncells; i++) {
		struct tcell *c = &t->cells[i];
		if (blank(c->value) && blank(c->margin))
			continue;
		while (c->row > row) {
			fputc('\n', out);
			row++;
			off = 0;
		}
		int sp = offs[c->col] - off;
		spaces(out, sp);
		spaces(out, lm[c->col] - cprof__bs_runes(c->margin));
		fputs(c->margin, out);
		off += sp + lm[c->col];
		int tw = offs[c->col + c->span] - offs[c->col] - lm[c->col];
		int vr = cprof__bs_runes(c->value), pad = 0;
		if (c->align == CENTER)
			pad = (tw - vr) / 2;
		else if (c->align == RIGHT)
			pad = tw > vr ? tw - vr : 0;
		spaces(out, pad);
		fputs(c->value, out);
		off += (pad < 0 ? -pad : pad) + vr;
	}
	if (t->ncells > 0)
		fputc('\n', out);
	free(lm);
	free(ws);
	free(offs);
	free(span);
}

/* ---- one table as text ---- */

struct notes {
	const char *list[64];
	int n;
};

static void superscript(char *out, int i)
{
	static const char *d[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
	char tmp[64] = "";
	if (i == 0) {
		strcpy(out, d[0]);
		return;
	}
	out[0] = 0;
	while (i > 0) {
		snprintf(tmp, sizeof(tmp), "%s%s", d[i % 10], out);
		strcpy(out, tmp);
		i /= 10;
	}
}

/* The footnote cell for up to n warnings (NULLs skipped). */
static void warn_cell(struct ttab *t, struct notes *nt, const char **w, int n)
{
	char s[512] = "";
	for (int i = 0; i < n; i++) {
		if (!w[i])
			continue;
		int idx = -1;
		for (int j = 0; j < nt->n; j++)
			if (strcmp(nt->list[j], w[i]) == 0)
				idx = j;
		if (idx < 0 && nt->n < 64) {
			idx = nt->n;
			nt->list[nt->n++] = w[i];
		}
		if (idx < 0)
			continue;
		char sup[64];
		superscript(sup, idx + 1);
		if (s[0])
			strncat(s, " ", sizeof(s) - strlen(s) - 1);
		strncat(s, sup, sizeof(s) - strlen(s) - 1);
	}
	t_cell(t, s, LEFT, NULL);
}

static int start_col(int exp)
{
	return exp == 0 ? 1 : 1 + 3 + (exp - 1) * 6;
}

/* The key's non-empty values, space-separated. */
static const char *row_label(struct bs_arena *a, struct bs_proj *p, struct bs_key *k)
{
	const char *s = "";
	for (int i = 0; i < p->nflat; i++) {
		const char *v = cprof__bs_key_get(k, p->flat[i]);
		if (v[0])
			s = s[0] ? cprof__bs_sprintf(a, "%s %s", s, v) : v;
	}
	return s;
}

struct hnode {
	int level, start, len;
	const char *value;
};

static void text_table(struct bs_builder *b, struct table *tb, FILE *out)
{
	struct bs_arena *a = b->a;
	struct ttab t = {.a = a};
	struct notes nt = {.n = 0};
	cprof__bs_proj_flatten(b->cp);
	cprof__bs_proj_flatten(b->rp);
	int rEdge = start_col(tb->ncols + 1);
	/* column headers: one row per field of the column key, runs of equal values merged */
	int nlev = b->cp->nflat;
	struct hnode *cur = cprof__bs_alloc(a, sizeof(*cur) * (size_t)(tb->ncols + 1));
	struct hnode *nxt = cprof__bs_alloc(a, sizeof(*nxt) * (size_t)(tb->ncols + 1));
	int ncur = 0;
	if (nlev > 0)
		cur[ncur++] = (struct hnode){-1, 0, tb->ncols, ""};
	for (int lev = 0; lev < nlev; lev++) {
		int nn = 0;
		for (int i = 0; i < ncur; i++) {
			for (int j = cur[i].start; j < cur[i].start + cur[i].len; j++) {
				const char *v = cprof__bs_key_get(tb->cols[j], b->cp->flat[lev]);
				if (nn > 0 && nxt[nn - 1].start + nxt[nn - 1].len == j && j != cur[i].start &&
				    strcmp(nxt[nn - 1].value, v) == 0)
					nxt[nn - 1].len++;
				else
					nxt[nn++] = (struct hnode){lev, j, 1, v};
			}
		}
		t_row(&t);
		for (int i = 0; i < nn; i++) {
			int l = start_col(nxt[i].start), r = start_col(nxt[i].start + nxt[i].len);
			t_col(&t, l);
			t_span(&t, r - l, nxt[i].value, CENTER, " │ ");
		}
		t_col(&t, rEdge);
		t_cell(&t, "", LEFT, " │");
		struct hnode *tmp = cur;
		cur = nxt;
		nxt = tmp;
		ncur = nn;
	}
	t_row(&t);
	for (int i = 0; i < tb->ncols; i++) {
		int l = start_col(i);
		t_col(&t, l);
		t_span(&t, 3, tb->unit, CENTER, " │ ");
		if (i > 0)
			t_span(&t, 3, "vs base", LEFT, "  ");
		for (int j = l + 1; j < t.cur_col; j++)
			t_shrink(&t, j);
	}
	t_col(&t, rEdge);
	t_cell(&t, "", LEFT, " │");
	int binary = cprof__bs_unit_binary(tb->unit);
	double *centers = cprof__bs_alloc(a, sizeof(double) * (size_t)(tb->ncols + 1));
	char buf[256];
	for (int r = 0; r < tb->nrows; r++) {
		t_row(&t);
		t_cell(&t, row_label(a, b->rp, tb->rows[r]), LEFT, NULL);
		int nc = 0;
		for (int c = 0; c < tb->ncols; c++) {
			struct cell *cl = get_cell(b, tb, tb->rows[r], tb->cols[c], 0);
			if (cl)
				centers[nc++] = cl->sum.center;
		}
		struct bs_scaler sc = cprof__bs_common_scale(centers, nc, binary);
		for (int c = 0; c < tb->ncols; c++) {
			struct cell *cl = get_cell(b, tb, tb->rows[r], tb->cols[c], 0);
			if (!cl)
				continue;
			t_col(&t, start_col(c));
			cprof__bs_scale_format(buf, sizeof(buf), sc, cl->sum.center);
			t_cell(&t, buf, RIGHT, NULL);
			cprof__bs_pct_range(buf, sizeof(buf), &cl->sum);
			t_cell(&t, buf, RIGHT, " ± ");
			const char *w[2] = {cl->vary, cl->sum.warn};
			warn_cell(&t, &nt, w, 2);
			if (c > 0 && cl->base) {
				cprof__bs_delta(buf, sizeof(buf), &cl->cmp, cl->base->sum.center, cl->sum.center);
				t_cell(&t, buf, RIGHT, NULL);
				char cs[128];
				cprof__bs_cmp_string(cs, sizeof(cs), &cl->cmp);
				snprintf(buf, sizeof(buf), "(%s)", cs);
				t_cell(&t, buf, LEFT, NULL);
				const char *cw[1] = {cl->cmp.warn};
				warn_cell(&t, &nt, cw, 1);
			}
		}
	}
	if (tb->nrows > 1) {
		t_row(&t);
		t_cell(&t, "geomean", LEFT, NULL);
		for (int c = 0; c < tb->ncols; c++) {
			struct colsum *s = &tb->sums[c];
			if (s->has_sum) {
				t_col(&t, start_col(c));
				struct bs_scaler sc = cprof__bs_common_scale(&s->sum, 1, binary);
				cprof__bs_scale_format(buf, sizeof(buf), sc, s->sum);
				t_cell(&t, buf, RIGHT, NULL);
			}
			if (c > 0) {
				t_col(&t, start_col(c) + 3);
				if (s->has_ratio) {
					cprof__bs_fmt_f(buf, sizeof(buf) - 1, 2, 1, (s->ratio - 1) * 100);
					strcat(buf, "%");
					t_cell(&t, buf, RIGHT, NULL);
				} else {
					t_cell(&t, "?", LEFT, NULL);
				}
			}
			t_col(&t, start_col(c + 1) - 1);
			warn_cell(&t, &nt, s->warn, s->nwarn);
		}
	}
	t_format(&t, out);
	for (int i = 0; i < nt.n; i++) {
		char sup[64];
		superscript(sup, i + 1);
		fprintf(out, "%s %s\n", sup, nt.list[i]);
	}
}

/* ---- CSV ---- */

struct csvrow {
	const char **f;
	int n, cap;
};

static void csv_put(struct bs_arena *a, struct csvrow *r, const char *s)
{
	cprof__bs_grow(a, (void **)&r->f, &r->cap, r->n + 1, sizeof(*r->f));
	r->f[r->n++] = cprof__bs_strdup(a, s);
}

static void csv_clear_to(struct bs_arena *a, struct csvrow *r, int col)
{
	while (r->n < col)
		csv_put(a, r, "");
}

static void csv_field(FILE *out, const char *s)
{
	int q = 0;
	if (s[0]) {
		if (strcmp(s, "\\.") == 0 || strpbrk(s, ",\"\r\n"))
			q = 1;
		int sz, r = cprof__bs_rune(s, strlen(s), &sz);
		if (cprof__bs_is_space_rune(r))
			q = 1;
	}
	if (!q) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_write(FILE *out, struct csvrow *r)
{
	for (int i = 0; i < r->n; i++) {
		if (i)
			fputc(',', out);
		csv_field(out, r->f[i]);
	}
	fputc('\n', out);
	r->n = 0;
}

struct csvctx {
	FILE *out, *errs;
	int start_row, count, width;
	struct csvrow row;
};

static void csv_emit(struct bs_arena *a, struct csvctx *x)
{
	csv_clear_to(a, &x->row, x->width);
	csv_write(x->out, &x->row);
	x->count++;
}

static void csv_warn(struct csvctx *x, const char *msg)
{
	if (!msg)
		return;
	char name[16];
	int pos = (int)sizeof(name) - 1;
	name[pos] = 0;
	int col = x->row.n;
	for (int v = col; v > 0 && pos > 0; v /= 26)
		name[--pos] = (char)('A' + v % 26);
	if (pos == (int)sizeof(name) - 1)
		name[--pos] = 'A';
	fprintf(x->errs, "%s%d: %s\n", name + pos, x->start_row + x->count, msg);
}

static int csv_start(int exp)
{
	return exp == 0 ? 1 : 1 + 2 + (exp - 1) * 4;
}

static int csv_table(struct bs_builder *b, struct table *tb, int start_row, FILE *out, FILE *errs)
{
	struct bs_arena *a = b->a;
	struct csvctx x = {.out = out, .errs = errs, .start_row = start_row};
	x.width = csv_start(tb->ncols);
	cprof__bs_proj_flatten(b->cp);
	cprof__bs_proj_flatten(b->rp);
	for (int f = 0; f < b->cp->nflat; f++) {
		for (int c = 0; c < tb->ncols; c++) {
			csv_clear_to(a, &x.row, csv_start(c));
			csv_put(a, &x.row, cprof__bs_key_get(tb->cols[c], b->cp->flat[f]));
		}
		csv_emit(a, &x);
	}
	for (int c = 0; c < tb->ncols; c++) {
		csv_clear_to(a, &x.row, csv_start(c));
		csv_put(a, &x.row, tb->unit);
		csv_put(a, &x.row, "CI");
		if (c > 0) {
			csv_put(a, &x.row, "vs base");
			csv_put(a, &x.row, "P");
		}
	}
	csv_emit(a, &x);
	char buf[256];
	for (int r = 0; r < tb->nrows; r++) {
		csv_put(a, &x.row, row_label(a, b->rp, tb->rows[r]));
		for (int c = 0; c < tb->ncols; c++) {
			struct cell *cl = get_cell(b, tb, tb->rows[r], tb->cols[c], 0);
			if (!cl)
				continue;
			csv_clear_to(a, &x.row, csv_start(c));
			csv_warn(&x, cl->vary);
			csv_warn(&x, cl->sum.warn);
			cprof__bs_fmt_g(buf, sizeof(buf), cl->sum.center);
			csv_put(a, &x.row, buf);
			cprof__bs_pct_range(buf, sizeof(buf), &cl->sum);
			csv_put(a, &x.row, buf);
			if (c > 0 && cl->base) {
				csv_warn(&x, cl->cmp.warn);
				cprof__bs_delta(buf, sizeof(buf), &cl->cmp, cl->base->sum.center, cl->sum.center);
				csv_put(a, &x.row, buf);
				cprof__bs_cmp_string(buf, sizeof(buf), &cl->cmp);
				csv_put(a, &x.row, buf);
			}
		}
		csv_emit(a, &x);
	}
	csv_put(a, &x.row, "geomean");
	for (int c = 0; c < tb->ncols; c++) {
		struct colsum *s = &tb->sums[c];
		csv_clear_to(a, &x.row, csv_start(c));
		for (int w = 0; w < s->nwarn; w++)
			csv_warn(&x, s->warn[w]);
		if (s->has_sum) {
			cprof__bs_fmt_g(buf, sizeof(buf), s->sum);
			csv_put(a, &x.row, buf);
		}
		if (c > 0) {
			csv_clear_to(a, &x.row, csv_start(c) + 2);
			if (s->has_ratio) {
				cprof__bs_fmt_f(buf, sizeof(buf) - 1, 2, 1, (s->ratio - 1) * 100);
				strcat(buf, "%");
				csv_put(a, &x.row, buf);
			} else {
				csv_put(a, &x.row, "?");
			}
		}
	}
	csv_emit(a, &x);
	return x.count;
}

/* ---- all tables ---- */

void cprof__bs_builder_print(struct bs_builder *b, const struct bs_input *in, const struct bs_opts *o, FILE *out,
			     FILE *errs)
{
	struct bs_arena *a = b->a;
	if (b->ntables == 0)
		return;
	/* sort the tables by key */
	struct bs_key **keys = cprof__bs_alloc(a, sizeof(*keys) * (size_t)b->ntables);
	for (int i = 0; i < b->ntables; i++)
		keys[i] = b->tables[i]->key;
	cprof__bs_sort_keys(b->tp, keys, b->ntables);
	struct table **sorted = cprof__bs_alloc(a, sizeof(*sorted) * (size_t)b->ntables);
	for (int i = 0; i < b->ntables; i++) {
		char k[24];
		int n = snprintf(k, sizeof(k), "%d", keys[i]->id);
		sorted[i] = b->tables[cprof__bs_map_get(&b->tmap, k, (size_t)n)];
	}
	cprof__bs_proj_flatten(b->tp);
	int row = 1;
	for (int i = 0; i < b->ntables; i++) {
		struct table *tb = sorted[i];
		compute(b, tb, in, o);
		if (i > 0) {
			fputc('\n', out);
			row++;
		}
		for (int f = 0; f < b->tp->nflat; f++) {
			struct bs_field *fl = b->tp->flat[f];
			if (fl == b->tp->unit)
				continue;
			const char *v = cprof__bs_key_get(tb->key, fl);
			if (i == 0 || strcmp(v, cprof__bs_key_get(sorted[i - 1]->key, fl)) != 0) {
				char *line = cprof__bs_sprintf(a, "%s: %s", fl->name, v);
				if (o->csv)
					csv_field(out, line);
				else
					fputs(line, out);
				fputc('\n', out);
				row++;
			}
		}
		if (o->csv)
			row += csv_table(b, tb, row, out, errs);
		else
			text_table(b, tb, out);
	}
}
