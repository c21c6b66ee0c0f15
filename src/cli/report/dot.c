/*
 * dot.c - the call graph in Graphviz's DOT language (`-dot`), byte for byte
 * what pprof's internal/graph ComposeDot writes for Go 1.19, and the
 * graphical formats made from it by running Graphviz's `dot -T<format>`
 * (`-svg`, `-png`, `-pdf`, `-ps`, `-gif`); SVG gets a small pan/zoom script.
 * `-web` opens the SVG in a browser.
 *
 * It owns the DOT text: shortened function names, node labels, colours and
 * sizes, tag boxes ("nodelets"), edges and the legend. Which nodes, edges
 * and tags there are is decided by dot_graph.c (pprof's visual-mode
 * trimming); graph building and the report's value, total and header lines
 * are the engine's (graph.c, report.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "cli/report/dot.h"
#include "cli/report/report.h"

/* escapeForDot: backslashes and quotes escaped, newlines left-justified. */
static void escape_dot(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			cprof__buf_puts(b, "\\\\");
		else if (*s == '"')
			cprof__buf_puts(b, "\\\"");
		else if (*s == '\n')
			cprof__buf_puts(b, "\\l");
		else
			cprof__buf_append(b, s, 1);
	}
}

/* ---- graph.ShortenFunctionName, its regular expressions by hand ---- */

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* goVerRegExp `^(.*?)/v(?:[2-9]|[1-9][0-9]+)([./].*)$`: drop the first "/vN". */
static void strip_go_version(char *s)
{
	if (strchr(s, '\n'))
		return; /* `.` does not match newlines */
	for (char *p = s; (p = strstr(p, "/v")); p++) {
		char *d = p + 2, *e = d;
		while (*e >= '0' && *e <= '9')
			e++;
		size_t nd = (size_t)(e - d);
		bool ok = (nd == 1 && *d >= '2') || (nd > 1 && *d != '0');
		if (ok && (*e == '.' || *e == '/')) {
			memmove(p, e, strlen(e) + 1);
			return;
		}
	}
}

/* goRegExp `^(?:[\w\-\.]+\/)+(.+)`: what follows the longest package path. */
static const char *match_go(const char *s)
{
	const char *last = NULL;
	size_t seg = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '/') {
			if (seg == 0)
				break;
			if (p[1] && p[1] != '\n')
				last = p + 1;
			seg = 0;
		} else if (is_word(*p) || *p == '-' || *p == '.') {
			seg++;
		} else {
			break;
		}
	}
	return last;
}

/* javaRegExp: `^(?:[a-z]\w*\.)*([A-Z][\w\$]*\.(?:<init>|[a-z][\w\$]*(?:\$\d+)?))(?:(?:\()|$)` */
static bool java_at(const char *p, size_t *len)
{
	const char *q = p;
	if (!(*q >= 'A' && *q <= 'Z'))
		return false;
	for (q++; is_word(*q) || *q == '$'; q++)
		;
	if (*q != '.')
		return false;
	q++;
	if (strncmp(q, "<init>", 6) == 0) {
		const char *e = q + 6;
		if (*e == '(' || *e == '\0') {
			*len = (size_t)(e - p);
			return true;
		}
	}
	if (!(*q >= 'a' && *q <= 'z'))
		return false;
	for (q++; is_word(*q) || *q == '$'; q++)
		;
	if (*q != '(' && *q != '\0')
		return false;
	*len = (size_t)(q - p);
	return true;
}

static bool match_java(const char *s, const char **start, size_t *len)
{
	const char *cand[256];
	size_t n = 0;
	cand[n++] = s;
	const char *p = s;
	while (n < 256 && *p >= 'a' && *p <= 'z') {
		const char *q = p + 1;
		while (is_word(*q))
			q++;
		if (*q != '.')
			break;
		p = q + 1;
		cand[n++] = p;
	}
	while (n-- > 0)
		if (java_at(cand[n], len)) {
			*start = cand[n];
			return true;
		}
	return false;
}

/* cppRegExp: `^(?:[_a-zA-Z]\w*::)+(_*[A-Z]\w*::~?[_a-zA-Z]\w*(?:<.*>)?)` */
static bool cpp_at(const char *p, size_t *len)
{
	const char *q = p;
	while (*q == '_')
		q++;
	if (!(*q >= 'A' && *q <= 'Z'))
		return false;
	while (is_word(*q))
		q++;
	if (strncmp(q, "::", 2) != 0)
		return false;
	q += 2;
	if (*q == '~')
		q++;
	if (!(*q == '_' || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
		return false;
	while (is_word(*q))
		q++;
	if (*q == '<') {
		const char *nl = strchr(q, '\n');
		const char *end = nl ? nl : q + strlen(q);
		for (const char *e = end; e > q; e--)
			if (e[-1] == '>') {
				q = e;
				break;
			}
	}
	*len = (size_t)(q - p);
	return true;
}

static bool match_cpp(const char *s, const char **start, size_t *len)
{
	const char *cand[256];
	size_t n = 0;
	const char *p = s;
	while (n < 256 && (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
		const char *q = p + 1;
		while (is_word(*q))
			q++;
		if (strncmp(q, "::", 2) != 0)
			break;
		p = q + 2;
		cand[n++] = p;
	}
	while (n-- > 0)
		if (cpp_at(cand[n], len)) {
			*start = cand[n];
			return true;
		}
	return false;
}

/* Returns a malloc'd shortened name, or NULL on out of memory. */
static char *shorten_function_name(const char *name)
{
	static const char anon[] = "(anonymous namespace)::";
	if (strncmp(name, anon, sizeof(anon) - 1) == 0)
		name += sizeof(anon) - 1;
	char *f = strdup(name);
	if (!f)
		return NULL;
	strip_go_version(f);
	const char *start;
	size_t len;
	if ((start = match_go(f))) {
		memmove(f, start, strlen(start) + 1);
		return f;
	}
	if (match_java(f, &start, &len) || match_cpp(f, &start, &len)) {
		memmove(f, start, len);
		f[len] = '\0';
	}
	return f;
}

/* ---- the DOT text ---- */

/* graph.dotColor */
static void dot_color(char *buf, size_t len, double score, bool background)
{
	double saturation = background ? 0.1 : 1.0;
	double value = background ? 0.93 : 0.7;
	score = fmax(-1.0, fmin(1.0, score));
	if (fabs(score) < 0.2)
		saturation *= fabs(score) / 0.2;
	if (score > 0.0)
		score = pow(score, 0.3);
	if (score < 0.0)
		score = -pow(-score, 0.3);
	double rr, gg, bb;
	if (score < 0.0) {
		gg = value;
		rr = value * (1 + saturation * score);
	} else {
		rr = value;
		gg = value * (1 - saturation * score);
	}
	bb = value * (1 - saturation);
	snprintf(buf, len, "#%02x%02x%02x", (unsigned)(uint8_t)(rr * 255.0),
		 (unsigned)(uint8_t)(gg * 255.0), (unsigned)(uint8_t)(bb * 255.0));
}

static void fmt_value(const struct report *r, struct buf *b, int64_t v)
{
	char buf[128];
	cprof__buf_puts(b, cprof__report_format(r, buf, sizeof(buf), v));
}

static const char *trim_space(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

/* multilinePrintableName */
static void multiline_name(struct buf *b, const struct rnode_info *i)
{
	char *shortn = shorten_function_name(i->name);
	struct buf e;
	cprof__buf_init(&e, 0);
	escape_dot(&e, shortn ? shortn : i->name);
	free(shortn);
	struct buf n;
	cprof__buf_init(&n, 0);
	const char *s = cprof__buf_str(&e);
	while (*s) {
		if (strncmp(s, "::", 2) == 0) {
			cprof__buf_puts(&n, "\\n");
			s += 2;
		} else if (strncmp(s, "[...]", 5) == 0) {
			cprof__buf_puts(&n, "[\xe2\x80\xa6]");
			s += 5;
		} else if (*s == '.') {
			cprof__buf_puts(&n, "\\n");
			s++;
		} else {
			cprof__buf_append(&n, s, 1);
			s++;
		}
	}
	const char *name = cprof__buf_str(&n);
	const char *sep = "";
	if (i->address) {
		cprof__buf_printf(b, "%016llx", (unsigned long long)i->address);
		sep = "\\n";
	}
	if (name[0]) {
		cprof__buf_printf(b, "%s%s", sep, name);
		sep = "\\n";
	}
	const char *file = i->file;
	char base[4096];
	if (file[0]) {
		size_t len = strlen(file);
		while (len > 1 && file[len - 1] == '/')
			len--;
		size_t st = len;
		while (st > 0 && file[st - 1] != '/')
			st--;
		if (len == 1 && file[0] == '/')
			snprintf(base, sizeof(base), "/");
		else
			snprintf(base, sizeof(base), "%.*s", (int)(len - st), file + st);
		file = base;
	}
	if (i->lineno) {
		cprof__buf_printf(b, "%s%s:%lld", sep, file, (long long)i->lineno);
	} else if (file[0]) {
		cprof__buf_printf(b, "%s%s", sep, file);
	} else if (i->name[0]) {
	} else if (i->objfile[0]) {
		const char *o = strrchr(i->objfile, '/');
		cprof__buf_printf(b, "%s[%s]", sep, o && o[1] ? o + 1 : i->objfile);
	} else {
		cprof__buf_printf(b, "%s<unknown>", sep);
	}
	cprof__buf_puts(b, "\\n");
	cprof__buf_release(&e);
	cprof__buf_release(&n);
}

static void add_node(const struct report *r, struct buf *b, const struct rnode *n, size_t id,
		     double max_flat)
{
	int64_t flat = cprof__rnode_flat(n), cum = cprof__rnode_cum(n);
	char pct[64];
	struct buf label, fv, cv;
	cprof__buf_init(&label, 0);
	cprof__buf_init(&fv, 0);
	cprof__buf_init(&cv, 0);
	multiline_name(&label, &n->info);
	fmt_value(r, &fv, flat);
	if (flat != 0)
		cprof__buf_printf(&label, "%s (%s)", cprof__buf_str(&fv),
			  trim_space(cprof__units_percentage(pct, sizeof(pct), flat, r->total)));
	else
		cprof__buf_puts(&label, "0");
	const char *cum_value = cprof__buf_str(&fv);
	if (cum != flat) {
		cprof__buf_puts(&label, flat != 0 ? "\\n" : " ");
		fmt_value(r, &cv, cum);
		cum_value = cprof__buf_str(&cv);
		cprof__buf_printf(&label, "of %s (%s)", cum_value,
			  trim_space(cprof__units_percentage(pct, sizeof(pct), cum, r->total)));
	}
	int font = 8;
	if (max_flat != 0 && flat != 0 && (double)cprof__report_abs64(flat) <= max_flat)
		font += (int)ceil(16.0 * sqrt((double)cprof__report_abs64(flat) / max_flat));
	char fg[16], bg[16];
	double score = (double)cum / (double)cprof__report_abs64(r->total);
	dot_color(fg, sizeof(fg), score, false);
	dot_color(bg, sizeof(bg), score, true);
	cprof__buf_printf(b, "N%zu [label=\"%s\" id=\"node%zu\" fontsize=%d shape=box tooltip=\"", id,
		  cprof__buf_str(&label), id, font);
	escape_dot(b, n->printable);
	cprof__buf_printf(b, " (%s)\" color=\"%s\" fillcolor=\"%s\"]\n", cum_value, fg, bg);
	cprof__buf_release(&label);
	cprof__buf_release(&fv);
	cprof__buf_release(&cv);
}

/* measurement.Label(value, unit) (auto scaling) */
static void auto_label(char *buf, size_t len, int64_t v, const char *unit)
{
	cprof__units_label(buf, len, v, unit, "auto");
}

static void numeric_nodelets(const struct report *r, struct buf *b, struct tag **ts, size_t n,
			     bool flat_tags, const char *source)
{
	cprof__dot_tags_sort(ts, n, flat_tags);
	struct tag *groups = NULL;
	size_t ng = n;
	if (n > MAX_NODELETS) {
		/* collapsedTags: group the rest around the first four. */
		size_t *gi = malloc(n * sizeof(size_t));
		groups = calloc(MAX_NODELETS, sizeof(*groups));
		if (!gi || !groups) {
			free(gi);
			free(groups);
			b->err = -ENOMEM;
			return;
		}
		for (size_t i = 0; i < n; i++) {
			if (i < MAX_NODELETS) {
				gi[i] = i;
				continue;
			}
			size_t best = 0;
			double bd = 0;
			for (size_t g = 0; g < MAX_NODELETS; g++) {
				const struct tag *u = ts[g];
				const char *un;
				double v = cprof__units_scale(u->value, u->unit, ts[i]->unit, &un);
				double d = v < (double)ts[i]->value ? (double)ts[i]->value - v
								    : v - (double)ts[i]->value;
				if (g == 0 || d < bd) {
					best = g;
					bd = d;
				}
			}
			gi[i] = best;
		}
		for (size_t g = 0; g < MAX_NODELETS; g++) {
			struct tag *min = NULL, *max = NULL;
			int64_t f = 0, df = 0, c = 0, dc = 0;
			size_t cnt = 0;
			for (size_t i = 0; i < n; i++) {
				if (gi[i] != g)
					continue;
				struct tag *t = ts[i];
				cnt++;
				if (!min) {
					min = max = t;
				} else {
					const char *un;
					if ((int64_t)cprof__units_scale(t->value, t->unit, min->unit, &un) <
					    min->value)
						min = t;
					if ((int64_t)cprof__units_scale(t->value, t->unit, max->unit, &un) >
					    max->value)
						max = t;
				}
				f += t->flat;
				df += t->flat_div;
				c += t->cum;
				dc += t->cum_div;
			}
			char l1[128], l2[128];
			auto_label(l1, sizeof(l1), min->value, min->unit);
			if (cnt == 1) {
				groups[g].name = strdup(l1);
				groups[g].flat = cprof__dot_tag_flat(min); /* tagGroupLabel: values, no divisor */
				groups[g].cum = cprof__dot_tag_cum(min);
			} else {
				auto_label(l2, sizeof(l2), max->value, max->unit);
				if (asprintf(&groups[g].name, "%s..%s", l1, l2) < 0)
					groups[g].name = NULL;
				groups[g].flat = df ? f / df : f;
				groups[g].cum = dc ? c / dc : c;
			}
			if (!groups[g].name)
				b->err = -ENOMEM;
		}
		free(gi);
		ng = MAX_NODELETS;
	}
	struct tag *list[MAX_NODELETS];
	struct tag **lp = ts;
	if (groups) {
		for (size_t g = 0; g < MAX_NODELETS; g++)
			list[g] = &groups[g];
		cprof__dot_tags_sort(list, MAX_NODELETS, flat_tags);
		lp = list;
	}
	for (size_t j = 0; j < ng; j++) {
		struct tag *t = lp[j];
		if (!t->name)
			continue;
		int64_t w = cprof__dot_tag_cum(t);
		const char *attr = " style=\"dotted\"";
		if (flat_tags || cprof__dot_tag_flat(t) == cprof__dot_tag_cum(t)) {
			w = cprof__dot_tag_flat(t);
			attr = "";
		}
		if (w == 0)
			continue;
		char wb[128];
		cprof__report_format(r, wb, sizeof(wb), w);
		cprof__buf_printf(b, "N%s_%zu [label = \"%s\" id=\"N%s_%zu\" fontsize=8 shape=box3d tooltip=\"%s\"]\n",
			  source, j, t->name, source, j, wb);
		cprof__buf_printf(b, "%s -> N%s_%zu [label=\" %s\" weight=100 tooltip=\"%s\" labeltooltip=\"%s\"%s]\n",
			  source, source, j, wb, wb, wb, attr);
	}
	if (groups)
		for (size_t g = 0; g < MAX_NODELETS; g++)
			free(groups[g].name);
	free(groups);
}

/* builder.addNodelets: returns whether any were written. */
static bool add_nodelets(const struct report *r, struct buf *b, const struct dgraph *d,
			 const struct rnode *n, size_t id)
{
	const struct tagset *ts = d->tags;
	if (!ts)
		return false;
	size_t start = b->len;
	size_t cnt = ts->count[n->key];
	struct tag **lt = malloc((cnt + 1) * sizeof(*lt));
	struct tag **nt = malloc((cnt + 1) * sizeof(*nt));
	if (!lt || !nt) {
		free(lt);
		free(nt);
		b->err = -ENOMEM;
		return false;
	}
	size_t nl = 0;
	for (size_t i = 0; i < cnt; i++) {
		struct tag *t = &ts->t[ts->order[ts->first[n->key] + i]];
		if (!t->removed && !t->numeric)
			lt[nl++] = t;
	}
	bool flat_tags = cprof__dot_live_edges(d->g, n->out, n->nout) > 0;
	cprof__dot_tags_sort(lt, nl, flat_tags);
	if (nl > MAX_NODELETS)
		nl = MAX_NODELETS;
	char src[64];
	for (size_t i = 0; i < nl; i++) {
		struct tag *t = lt[i];
		int64_t w = flat_tags ? cprof__dot_tag_flat(t) : cprof__dot_tag_cum(t);
		if (w == 0)
			continue;
		char wb[128];
		cprof__report_format(r, wb, sizeof(wb), w);
		cprof__buf_printf(b, "N%zu_%zu [label = \"%s\" id=\"N%zu_%zu\" fontsize=8 shape=box3d tooltip=\"%s\"]\n",
			  id, i, t->name, id, i, wb);
		cprof__buf_printf(b, "N%zu -> N%zu_%zu [label=\" %s\" weight=100 tooltip=\"%s\" labeltooltip=\"%s\"]\n",
			  id, id, i, wb, wb, wb);
		size_t nn = 0;
		for (size_t j = 0; j < cnt; j++) {
			struct tag *u = &ts->t[ts->order[ts->first[n->key] + j]];
			if (!u->removed && u->numeric && u->labels == t->labels)
				nt[nn++] = u;
		}
		if (nn) {
			snprintf(src, sizeof(src), "N%zu_%zu", id, i);
			numeric_nodelets(r, b, nt, nn, flat_tags, src);
		}
	}
	size_t nn = 0;
	for (size_t j = 0; j < cnt; j++) {
		struct tag *u = &ts->t[ts->order[ts->first[n->key] + j]];
		if (!u->removed && u->numeric && ts->labels[u->labels][0] == '\0')
			nt[nn++] = u;
	}
	if (nn) {
		snprintf(src, sizeof(src), "N%zu", id);
		numeric_nodelets(r, b, nt, nn, flat_tags, src);
	}
	free(lt);
	free(nt);
	return b->len != start;
}

static void add_edge(const struct report *r, struct buf *b, const struct rgraph *g,
		     const struct redge *e, size_t from, size_t to, bool has_nodelets)
{
	int64_t wv = e->weight_div ? e->weight / e->weight_div : e->weight;
	char w[128], color[16];
	cprof__report_format(r, w, sizeof(w), wv);
	cprof__buf_printf(b, "N%zu -> N%zu [label=\" %s%s\"", from, to, w, e->is_inline ? "\\n (inline)" : "");
	if (r->total != 0) {
		int64_t t = cprof__report_abs64(wv * 100 / r->total);
		int weight = 1 + (int)(t < 100 ? t : 100);
		if (weight > 1)
			cprof__buf_printf(b, " weight=%d", weight);
		t = cprof__report_abs64(wv * 5 / r->total);
		int width = 1 + (int)(t < 5 ? t : 5);
		if (width > 1)
			cprof__buf_printf(b, " penwidth=%d", width);
		dot_color(color, sizeof(color), (double)wv / (double)cprof__report_abs64(r->total), false);
		cprof__buf_printf(b, " color=\"%s\"", color);
	}
	struct buf tip;
	cprof__buf_init(&tip, 0);
	cprof__buf_puts(&tip, "\"");
	escape_dot(&tip, g->node[e->src].printable);
	cprof__buf_puts(&tip, e->residual ? " ... " : " -> ");
	escape_dot(&tip, g->node[e->dst].printable);
	cprof__buf_printf(&tip, " (%s)\"", w);
	cprof__buf_printf(b, " tooltip=%s labeltooltip=%s", cprof__buf_str(&tip), cprof__buf_str(&tip));
	if (tip.err)
		b->err = -ENOMEM;
	cprof__buf_release(&tip);
	if (e->residual)
		cprof__buf_puts(b, " style=\"dotted\"");
	if (has_nodelets)
		cprof__buf_puts(b, " minlen=2");
	cprof__buf_puts(b, "]\n");
}

/* The legend lines: the engine's header lines plus pprof's pointer to help. */
static int legend(struct report *r, struct buf *b, const struct dgraph *d, const char *title)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	bool compact = r->opt.compact_labels;
	r->opt.compact_labels = false; /* the graph always shows the full headers */
	cprof__report_labels(r, d->g, d->orig, d->dropped_nodes, d->dropped_edges, f);
	r->opt.compact_labels = compact;
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	/* One line per label; the last gets pprof's help text. */
	char *first_end = strchr(text, '\n');
	cprof__buf_puts(b, "subgraph cluster_L { \"");
	struct buf first;
	cprof__buf_init(&first, 0);
	cprof__buf_append(&first, text, first_end ? (size_t)(first_end - text) : strlen(text));
	escape_dot(b, cprof__buf_str(&first));
	cprof__buf_release(&first);
	cprof__buf_puts(b, "\" [shape=box fontsize=16 label=\"");
	for (char *s = text; *s;) {
		char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		struct buf line;
		cprof__buf_init(&line, 0);
		cprof__buf_append(&line, s, n);
		escape_dot(b, cprof__buf_str(&line));
		cprof__buf_release(&line);
		cprof__buf_puts(b, "\\l");
		s += n + (nl != NULL);
	}
	cprof__buf_puts(b, "\\lSee https://git.io/JfYMW for how to read the graph\\l\"");
	if (title[0])
		cprof__buf_printf(b, " tooltip=\"%s\"", title);
	cprof__buf_puts(b, "] }\n");
	free(text);
	return 0;
}

static int compose(struct report *r, struct dgraph *d, struct buf *b)
{
	const struct rgraph *g = d->g;
	/* The title: the main binary's base name, as the driver sets it. */
	const struct profile *p = r->prof;
	char title[4096] = "";
	const char *file = p->nmapping ? cprof__profile_str(p, p->mapping[0].filename) : "";
	if (file[0]) {
		size_t len = strlen(file);
		while (len > 1 && file[len - 1] == '/')
			len--;
		size_t st = len;
		while (st > 0 && file[st - 1] != '/')
			st--;
		snprintf(title, sizeof(title), "%.*s", (int)(len - st), file + st);
	}
	cprof__buf_printf(b, "digraph \"%s\" {\nnode [style=filled fillcolor=\"#f8f8f8\"]\n",
		  title[0] ? title : "unnamed");
	if (legend(r, b, d, title) < 0)
		return -ENOMEM;
	if (g->nnode > 0) {
		double max_flat = (double)cprof__report_abs64(cprof__rnode_flat(&g->node[0]));
		for (size_t i = 0; i < g->nnode; i++)
			if ((double)cprof__report_abs64(cprof__rnode_flat(&g->node[i])) > max_flat)
				max_flat = (double)cprof__report_abs64(cprof__rnode_flat(&g->node[i]));
		bool *has = calloc(g->nnode + 1, sizeof(bool));
		size_t *edges = malloc((g->nedge + 1) * sizeof(size_t));
		if (!has || !edges) {
			free(has);
			free(edges);
			return -ENOMEM;
		}
		size_t ne = 0;
		for (size_t i = 0; i < g->nnode; i++) {
			const struct rnode *n = &g->node[i];
			add_node(r, b, n, i + 1, max_flat);
			has[i] = add_nodelets(r, b, d, n, i + 1);
			for (size_t j = 0; j < n->nout; j++)
				if (!g->edge[n->out[j]].removed)
					edges[ne++] = n->out[j];
		}
		cprof__dot_edges_sort(g, edges, ne);
		for (size_t i = 0; i < ne; i++) {
			const struct redge *e = &g->edge[edges[i]];
			size_t from = e->src < g->nnode ? e->src + 1 : 0;
			size_t to = e->dst < g->nnode ? e->dst + 1 : 0;
			add_edge(r, b, g, e, from, to, e->src < g->nnode && has[e->src]);
		}
		free(has);
		free(edges);
	}
	cprof__buf_puts(b, "}\n");
	return b->err ? -ENOMEM : 0;
}

/* The DOT text of the report, malloc'd. */
static int dot_text(struct report *r, char **out, size_t *len)
{
	struct dgraph d;
	struct buf b;
	cprof__buf_init(&b, 0);
	int rc = cprof__dot_graph_build(r, &d);
	if (rc == 0)
		rc = compose(r, &d, &b);
	cprof__dot_graph_release(&d);
	if (rc < 0) {
		cprof__buf_release(&b);
		return rc;
	}
	*out = (char *)cprof__buf_detach(&b, len);
	return *out ? 0 : -ENOMEM;
}

int cprof__report_dot(struct report *r, FILE *out)
{
	char *text;
	size_t len;
	int rc = dot_text(r, &text, &len);
	if (rc < 0)
		return rc;
	fwrite(text, 1, len, out);
	free(text);
	return ferror(out) ? -EIO : 0;
}

/* ---- Graphviz ---- */

/*
 * Pan and zoom for the SVG in a browser (cprof's own, in the spirit of
 * pprof's svgpan): drag to pan, wheel to zoom around the pointer.
 */
static const char pan_script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"(function () {\n"
	"  var svg = document.documentElement, vp = document.getElementById('viewport');\n"
	"  if (!vp) return;\n"
	"  var s = 0.5, x = 0, y = 0, drag = null;\n"
	"  function apply() { vp.setAttribute('transform',\n"
	"    'translate(' + x + ',' + y + ') scale(' + s + ',' + s + ')'); }\n"
	"  svg.addEventListener('wheel', function (e) {\n"
	"    e.preventDefault();\n"
	"    var f = e.deltaY < 0 ? 1.1 : 1 / 1.1;\n"
	"    x = e.clientX - (e.clientX - x) * f; y = e.clientY - (e.clientY - y) * f; s *= f;\n"
	"    apply();\n"
	"  }, {passive: false});\n"
	"  svg.addEventListener('mousedown', function (e) {\n"
	"    if (e.target.closest && e.target.closest('a')) return;\n"
	"    drag = {x: e.clientX - x, y: e.clientY - y};\n"
	"  });\n"
	"  svg.addEventListener('mousemove', function (e) {\n"
	"    if (!drag) return;\n"
	"    x = e.clientX - drag.x; y = e.clientY - drag.y; apply();\n"
	"  });\n"
	"  svg.addEventListener('mouseup', function () { drag = null; });\n"
	"  svg.addEventListener('mouseleave', function () { drag = null; });\n"
	"  apply();\n"
	"})();\n"
	"]]></script>";

/* driver.massageSVG's rewrite, with our script. */
static int massage_svg(const char *svg, size_t len, FILE *out)
{
	struct buf b;
	cprof__buf_init(&b, 0);
	/* dot leaves some ampersands unquoted */
	for (size_t i = 0; i < len; i++) {
		if (svg[i] == '&' && i + 1 < len && svg[i + 1] == ';')
			cprof__buf_puts(&b, "&amp;");
		else
			cprof__buf_append(&b, &svg[i], 1);
	}
	size_t slen = b.len;
	char *s = slen ? (char *)cprof__buf_detach(&b, NULL) : NULL;
	if (!s) {
		cprof__buf_release(&b);
		return -ENOMEM;
	}
	const char *open = strstr(s, "<svg width=\"");
	const char *vb = open ? strstr(open, "viewBox=\"") : NULL;
	const char *vbe = vb ? strchr(vb + 9, '"') : NULL;
	const char *g0 = strstr(s, "<g id=\"graph");
	const char *close = NULL;
	for (const char *p = s; (p = strstr(p, "</svg>")); p++)
		if (!close)
			close = p;
	if (!open || !vbe || !g0 || !close || g0 < vbe || close < g0) {
		fwrite(s, 1, slen, out);
		free(s);
		return 0;
	}
	fwrite(s, 1, (size_t)(open - s), out);
	fputs("<svg width=\"100%\" height=\"100%\"", out);
	fwrite(vbe + 1, 1, (size_t)(g0 - vbe - 1), out);
	fputs(pan_script, out);
	fputs("<g id=\"viewport\" transform=\"scale(0.5,0.5) translate(0,0)\">", out);
	fwrite(g0, 1, (size_t)(close - g0), out);
	fputs("</g>", out);
	fputs(close, out);
	free(s);
	return 0;
}

/*
 * Run `dot -T<format>` with the DOT text on its stdin and collect its
 * stdout. Returns 0, -ENOENT when Graphviz is not installed, -EIO when dot
 * failed (its errors went to stderr).
 */
static int run_dot(const char *format, const char *in, size_t inlen, char **out, size_t *outlen)
{
	char tmpl[] = "/tmp/cprof-dot-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return -errno;
	unlink(tmpl);
	size_t off = 0;
	while (off < inlen) {
		ssize_t w = write(fd, in + off, inlen - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -EIO;
		}
		off += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	int pfd[2];
	if (pipe(pfd) < 0) {
		close(fd);
		return -errno;
	}
	char targ[64];
	snprintf(targ, sizeof(targ), "-T%s", format);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd);
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		dup2(fd, 0);
		dup2(pfd[1], 1);
		close(fd);
		close(pfd[0]);
		close(pfd[1]);
		execlp("dot", "dot", targ, (char *)NULL);
		_exit(127);
	}
	close(fd);
	close(pfd[1]);
	struct buf b;
	cprof__buf_init(&b, 0);
	char buf[65536];
	for (;;) {
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		cprof__buf_append(&b, buf, (size_t)n);
	}
	close(pfd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		cprof__buf_release(&b);
		return -ENOENT;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || b.err) {
		cprof__buf_release(&b);
		return b.err ? -ENOMEM : -EIO;
	}
	*out = (char *)cprof__buf_detach(&b, outlen);
	return *out ? 0 : -ENOMEM;
}

int cprof__report_graphviz(struct report *r, const char *format, FILE *out)
{
	char *text, *img = NULL;
	size_t len, ilen = 0;
	int rc = dot_text(r, &text, &len);
	if (rc < 0)
		return rc;
	rc = run_dot(format, text, len, &img, &ilen);
	free(text);
	if (rc < 0)
		return rc;
	if (strcmp(format, "svg") == 0)
		rc = massage_svg(img ? img : "", ilen, out);
	else
		fwrite(img, 1, ilen, out);
	free(img);
	if (rc < 0)
		return rc;
	return ferror(out) ? -EIO : 0;
}

/* ---- -web ---- */

int cprof__report_web_path(char *buf, size_t len)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !dir[0])
		dir = "/tmp";
	snprintf(buf, len, "%s/cprof-web-XXXXXX.svg", dir);
	int fd = mkstemps(buf, 4);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * Run one browser command on path. A command that exits 0, or still runs
 * after two seconds (a browser staying open), counts as success.
 */
static bool try_browser(const char *cmd, const char *path)
{
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp(cmd, cmd, path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			return WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (w < 0 && errno != EINTR)
			return false;
		usleep(10000);
	}
	return true;
}

int cprof__report_web_open(const char *path)
{
	const char *env = getenv("BROWSER");
	if (env && env[0]) {
		char *list = strdup(env), *save = NULL;
		for (char *c = list ? strtok_r(list, ":", &save) : NULL; c; c = strtok_r(NULL, ":", &save))
			if (try_browser(c, path)) {
				free(list);
				return 0;
			}
		free(list);
	}
	const char *disp = getenv("DISPLAY"), *way = getenv("WAYLAND_DISPLAY");
	if ((disp && disp[0]) || (way && way[0])) {
		static const char *const cmds[] = {"xdg-open", "sensible-browser", "x-www-browser",
						   "firefox", "chromium", "google-chrome"};
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (try_browser(cmds[i], path))
				return 0;
	}
	/* Headless: say where the graph is. */
	printf("%s\n", path);
	fflush(stdout);
	fprintf(stderr, "cprof: no browser could be opened (set $BROWSER to choose one); "
			"the graph is in %s\n", path);
	return 1;
}
