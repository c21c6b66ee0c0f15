/*
 * dot.c - the call graph in Graphviz's DOT language (`-dot`), byte for byte
 * what pprof's internal/graph ComposeDot writes for Go 1.19, and the
 * graphical formats made from it by running Graphviz's `dot -T<format>`
 * (`-svg`, `-png`, `-pdf`, `-ps`, `-gif`); SVG gets a small pan/zoom script.
 *
 * It owns the visual-mode trimming of pprof's newTrimmedGraph (entropy node
 * order, nodes selected counting their tag boxes, redundant residual edges
 * removed), sample tags ("nodelets": string labels and the "bytes" numeric
 * label), and the DOT text itself. Graph building and the report's value,
 * total and header lines are the engine's (graph.c, report.c).
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

#include "cli/report/report.h"

#define MAX_NODELETS 4

/* Go's abs64: -v wraps, so the most negative value stays itself. */
static int64_t abs64(int64_t v)
{
	return v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
}

/* ---- a growable string ---- */

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof(tmp)) {
		sb_putn(b, tmp, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_putn(b, big, (size_t)n);
	free(big);
}

static const char *sb_str(struct sbuf *b)
{
	return b->s ? b->s : "";
}

/* escapeForDot: backslashes and quotes escaped, newlines left-justified. */
static void sb_escape(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			sb_puts(b, "\\\\");
		else if (*s == '"')
			sb_puts(b, "\\\"");
		else if (*s == '\n')
			sb_puts(b, "\\l");
		else
			sb_putn(b, s, 1);
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

/* ---- tags ---- */

struct tag {
	size_t key;     /* node key */
	size_t labels;  /* id of the joined string labels ("" included) */
	bool numeric;
	char *name;     /* label tags: the joined labels; numeric: the formatted value */
	const char *unit;
	int64_t value;
	int64_t flat, flat_div, cum, cum_div;
	bool removed;
};

struct tagset {
	struct tag *t;
	size_t n, cap;
	/* open addressing: hash of (key, labels, numeric, name) -> index */
	size_t *slot;
	size_t nslot;
	char **labels; /* joined label strings by id */
	size_t nlabels, caplabels;
	size_t *first, *count; /* per key: tag indices in `order` */
	size_t *order;
	/*
	 * The string tag of (labels id, node key), SIZE_MAX when there is none
	 * yet: strtag[lid][key]. Its name is labels[lid], so a direct index
	 * replaces hashing the name for every node of every sample.
	 */
	size_t **strtag;
	size_t nstrtag, nkeys;
};

static uint64_t hash_str(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t tag_hash(size_t key, size_t labels, bool numeric, const char *name)
{
	uint64_t h = 14695981039346656037ULL ^ (key * 0x9e3779b97f4a7c15ULL) ^ (labels << 1) ^ numeric;
	return hash_str(name, h * 1099511628211ULL);
}

static int tags_grow(struct tagset *ts)
{
	size_t n = ts->nslot ? ts->nslot * 2 : 1024;
	size_t *slot = malloc(n * sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		slot[i] = SIZE_MAX;
	for (size_t i = 0; i < ts->n; i++) {
		struct tag *t = &ts->t[i];
		size_t j = tag_hash(t->key, t->labels, t->numeric, t->name) & (n - 1);
		while (slot[j] != SIZE_MAX)
			j = (j + 1) & (n - 1);
		slot[j] = i;
	}
	free(ts->slot);
	ts->slot = slot;
	ts->nslot = n;
	return 0;
}

static struct tag *tag_find_or_add(struct tagset *ts, size_t key, size_t labels, bool numeric,
				   const char *name, const char *unit, int64_t value)
{
	if ((ts->n + 1) * 2 > ts->nslot && tags_grow(ts) < 0)
		return NULL;
	size_t j = tag_hash(key, labels, numeric, name) & (ts->nslot - 1);
	while (ts->slot[j] != SIZE_MAX) {
		struct tag *t = &ts->t[ts->slot[j]];
		if (t->key == key && t->labels == labels && t->numeric == numeric &&
		    strcmp(t->name, name) == 0)
			return t;
		j = (j + 1) & (ts->nslot - 1);
	}
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 256;
		struct tag *t = realloc(ts->t, cap * sizeof(*t));
		if (!t)
			return NULL;
		ts->t = t;
		ts->cap = cap;
	}
	struct tag *t = &ts->t[ts->n];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	if (!t->name)
		return NULL;
	t->key = key;
	t->labels = labels;
	t->numeric = numeric;
	t->unit = unit;
	t->value = value;
	ts->slot[j] = ts->n++;
	return t;
}

static void tags_free(struct tagset *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++)
		free(ts->t[i].name);
	for (size_t i = 0; i < ts->nlabels; i++)
		free(ts->labels[i]);
	free(ts->labels);
	for (size_t i = 0; i < ts->nstrtag; i++)
		free(ts->strtag[i]);
	free(ts->strtag);
	free(ts->t);
	free(ts->slot);
	free(ts->first);
	free(ts->count);
	free(ts->order);
	free(ts);
}

static size_t labels_id(struct tagset *ts, char *s)
{
	for (size_t i = 0; i < ts->nlabels; i++)
		if (strcmp(ts->labels[i], s) == 0) {
			free(s);
			return i;
		}
	if (ts->nlabels == ts->caplabels) {
		size_t cap = ts->caplabels ? ts->caplabels * 2 : 16;
		char **l = realloc(ts->labels, cap * sizeof(*l));
		if (!l) {
			free(s);
			return SIZE_MAX;
		}
		ts->labels = l;
		ts->caplabels = cap;
	}
	ts->labels[ts->nlabels] = s;
	return ts->nlabels++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* graph.joinLabels, without pprof::base (report.newGraph removes it). */
static char *join_labels(const struct profile *p, const struct pp_sample *s)
{
	char **l = calloc(s->nlabel + 1, sizeof(char *));
	size_t n = 0;
	struct sbuf b = {0};
	if (!l)
		return NULL;
	for (size_t i = 0; i < s->nlabel; i++) {
		if (s->label[i].str == 0)
			continue;
		const char *k = cprof__profile_str(p, s->label[i].key);
		if (strcmp(k, "pprof::base") == 0)
			continue;
		if (asprintf(&l[n], "%s:%s", k, cprof__profile_str(p, s->label[i].str)) < 0)
			goto fail;
		n++;
	}
	qsort(l, n, sizeof(*l), cmp_str);
	sb_puts(&b, "");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_puts(&b, "\\n");
		sb_puts(&b, l[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
	return b.oom ? (free(b.s), NULL) : b.s;
fail:
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
	return NULL;
}

static bool profile_has_tags(const struct profile *p)
{
	for (size_t i = 0; i < p->nsample; i++)
		for (size_t j = 0; j < p->sample[i].nlabel; j++) {
			const struct pp_label *l = &p->sample[i].label[j];
			const char *k = cprof__profile_str(p, l->key);
			if (l->str != 0 ? strcmp(k, "pprof::base") != 0 : strcmp(k, "bytes") == 0)
				return true;
		}
	return false;
}

/* profile.NumLabelUnits for the "bytes" key. */
static const char *bytes_unit(const struct profile *p)
{
	for (size_t i = 0; i < p->nsample; i++)
		for (size_t j = 0; j < p->sample[i].nlabel; j++) {
			const struct pp_label *l = &p->sample[i].label[j];
			if (l->str == 0 && l->num_unit != 0 &&
			    strcmp(cprof__profile_str(p, l->key), "bytes") == 0 &&
			    cprof__profile_str(p, l->num_unit)[0])
				return cprof__profile_str(p, l->num_unit);
		}
	return "bytes";
}

static int add_sample_tags(struct tagset *ts, size_t key, size_t lid, const char *labels,
			   const struct profile *p, const struct pp_sample *s, const char *unit,
			   const char *out_unit, int64_t w, int64_t dw, bool flat)
{
	if (labels[0]) {
		if (lid >= ts->nstrtag) {
			size_t **st = realloc(ts->strtag, (lid + 1) * sizeof(*st));
			if (!st)
				return -ENOMEM;
			ts->strtag = st;
			for (; ts->nstrtag <= lid; ts->nstrtag++)
				st[ts->nstrtag] = NULL;
		}
		if (!ts->strtag[lid]) {
			ts->strtag[lid] = malloc((ts->nkeys + 1) * sizeof(size_t));
			if (!ts->strtag[lid])
				return -ENOMEM;
			for (size_t k = 0; k <= ts->nkeys; k++)
				ts->strtag[lid][k] = SIZE_MAX;
		}
		size_t *ti = &ts->strtag[lid][key];
		struct tag *t = *ti != SIZE_MAX ? &ts->t[*ti]
						: tag_find_or_add(ts, key, lid, false, labels, "", 0);
		if (!t)
			return -ENOMEM;
		*ti = (size_t)(t - ts->t);
		if (flat) {
			t->flat += w;
			t->flat_div += dw;
		} else {
			t->cum += w;
			t->cum_div += dw;
		}
	}
	for (size_t j = 0; j < s->nlabel; j++) {
		const struct pp_label *l = &s->label[j];
		if (l->str != 0 || strcmp(cprof__profile_str(p, l->key), "bytes") != 0)
			continue;
		char name[128];
		cprof__units_label(name, sizeof(name), l->num, unit, out_unit);
		struct tag *t = tag_find_or_add(ts, key, lid, true, name, unit, l->num);
		if (!t)
			return -ENOMEM;
		if (flat) {
			t->flat += w;
			t->flat_div += dw;
		} else {
			t->cum += w;
			t->cum_div += dw;
		}
	}
	return 0;
}

/*
 * The tags of every node of a graph built with `kept`, walking the samples
 * exactly as graph.c does (cum once per node and sample, flat at the leaf).
 * NULL on out of memory.
 */
static struct tagset *compute_tags(const struct report *r, const bool *kept)
{
	const struct profile *p = r->prof;
	const struct rview *v = r->view;
	size_t nk = cprof__rview_nkeys(v);
	struct tagset *ts = calloc(1, sizeof(*ts));
	size_t *seen = malloc((nk + 1) * sizeof(size_t));
	if (!ts || !seen)
		goto fail;
	ts->nkeys = nk;
	size_t empty_lid = SIZE_MAX;
	const char *unit = bytes_unit(p);
	const char *out_unit = r->opt.unit ? r->opt.unit : "minimum";
	for (size_t k = 0; k < nk; k++)
		seen[k] = SIZE_MAX;
	for (size_t si = 0; si < p->nsample; si++) {
		const struct pp_sample *s = &p->sample[si];
		if ((size_t)r->value_index >= s->nvalue)
			continue;
		int64_t w = s->value[r->value_index];
		int64_t dw = r->opt.mean && s->nvalue ? s->value[0] : 0;
		if (w == 0 && dw == 0)
			continue;
		/*
		 * A sample with no string label (but pprof::base) and no "bytes"
		 * label adds no tag: only its labels' id is made, in the order
		 * join_labels would have made it.
		 */
		bool plain = true;
		for (size_t j = 0; j < s->nlabel && plain; j++) {
			const char *k = cprof__profile_str(p, s->label[j].key);
			plain = s->label[j].str != 0 ? strcmp(k, "pprof::base") == 0
						     : strcmp(k, "bytes") != 0;
		}
		if (plain) {
			if (empty_lid == SIZE_MAX) {
				char *e = strdup("");
				if (!e || (empty_lid = labels_id(ts, e)) == SIZE_MAX)
					goto fail;
			}
			continue;
		}
		char *labels = join_labels(p, s);
		if (!labels)
			goto fail;
		size_t lid = labels_id(ts, strdup(labels));
		if (lid == SIZE_MAX) {
			free(labels);
			goto fail;
		}
		size_t parent = SIZE_MAX;
		bool residual = false;
		for (size_t i = s->nlocation; i-- > 0;) {
			size_t n;
			const size_t *keys = cprof__rview_frame_keys(v, si, i, &n);
			if (!keys)
				continue;
			for (size_t ni = n; ni-- > 0;) {
				size_t k = keys[ni];
				if (kept && !kept[k]) {
					residual = true;
					continue;
				}
				if (seen[k] != si) {
					seen[k] = si;
					if (add_sample_tags(ts, k, lid, labels, p, s, unit, out_unit, w, dw,
							    false) < 0) {
						free(labels);
						goto fail;
					}
				}
				parent = k;
				residual = false;
			}
		}
		if (parent != SIZE_MAX && !residual &&
		    add_sample_tags(ts, parent, lid, labels, p, s, unit, out_unit, w, dw, true) < 0) {
			free(labels);
			goto fail;
		}
		free(labels);
	}
	/* Index tags by node key. */
	ts->first = calloc(nk + 1, sizeof(size_t));
	ts->count = calloc(nk + 1, sizeof(size_t));
	ts->order = malloc((ts->n + 1) * sizeof(size_t));
	if (!ts->first || !ts->count || !ts->order)
		goto fail;
	for (size_t i = 0; i < ts->n; i++)
		ts->count[ts->t[i].key]++;
	size_t off = 0;
	for (size_t k = 0; k < nk; k++) {
		ts->first[k] = off;
		off += ts->count[k];
		ts->count[k] = 0;
	}
	for (size_t i = 0; i < ts->n; i++) {
		size_t k = ts->t[i].key;
		ts->order[ts->first[k] + ts->count[k]++] = i;
	}
	free(seen);
	return ts;
fail:
	free(seen);
	tags_free(ts);
	return NULL;
}

/* Graph.TrimLowFrequencyTags */
static void trim_tags(struct tagset *ts, int64_t cutoff)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++)
		if (!(abs64(ts->t[i].flat) >= cutoff || abs64(ts->t[i].cum) >= cutoff))
			ts->t[i].removed = true;
}

static int64_t tag_flat(const struct tag *t)
{
	return t->flat_div ? t->flat / t->flat_div : t->flat;
}

static int64_t tag_cum(const struct tag *t)
{
	return t->cum_div ? t->cum / t->cum_div : t->cum;
}

/* graph.tags.Less */
static bool tag_less(const struct tag *a, const struct tag *b, bool flat)
{
	if (!flat && a->cum != b->cum)
		return abs64(a->cum) > abs64(b->cum);
	if (a->flat != b->flat)
		return abs64(a->flat) > abs64(b->flat);
	return strcmp(a->name, b->name) < 0;
}

static void sort_tags(struct tag **t, size_t n, bool flat)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && tag_less(t[j], t[j - 1], flat); j--) {
			struct tag *x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
}

/* ---- graph order and trimming in visual mode ---- */

static bool edge_live(const struct rgraph *g, size_t e)
{
	return !g->edge[e].removed;
}

static double edge_entropy(const struct rgraph *g, const size_t *edges, size_t n, int64_t self)
{
	double score = 0;
	int64_t total = self;
	for (size_t i = 0; i < n; i++)
		if (edge_live(g, edges[i]) && g->edge[edges[i]].weight > 0)
			total += abs64(g->edge[edges[i]].weight);
	if (total != 0) {
		for (size_t i = 0; i < n; i++) {
			if (!edge_live(g, edges[i]))
				continue;
			double frac = (double)abs64(g->edge[edges[i]].weight) / (double)total;
			score += -frac * log2(frac);
		}
		if (self > 0) {
			double frac = (double)abs64(self) / (double)total;
			score += -frac * log2(frac);
		}
	}
	return score;
}

static size_t live_count(const struct rgraph *g, const size_t *edges, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += edge_live(g, edges[i]);
	return c;
}

static int64_t entropy_score(const struct rgraph *g, const struct rnode *n)
{
	double score = 0;
	if (live_count(g, n->in, n->nin) == 0)
		score++;
	else
		score += edge_entropy(g, n->in, n->nin, 0);
	if (live_count(g, n->out, n->nout) == 0)
		score++;
	else
		score += edge_entropy(g, n->out, n->nout, n->flat);
	/*
	 * int64(score * cum) on amd64: NaN (a zero-weight edge gives 0 * -Inf,
	 * seen in -call_tree -mean trees) and out-of-range values become the
	 * most negative int64; the sum wraps.
	 */
	double x = score * (double)n->cum;
	int64_t v = x >= -9223372036854775808.0 && x < 9223372036854775808.0 ? (int64_t)x : INT64_MIN;
	return (int64_t)((uint64_t)v + (uint64_t)n->flat);
}

struct sort_item {
	const struct rnode *n;
	int64_t score;
	size_t old;
};

static int by_entropy(const void *pa, const void *pb)
{
	const struct sort_item *a = pa, *b = pb;
	int64_t x = abs64(a->score), y = abs64(b->score);
	if (x != y)
		return x > y ? -1 : 1;
	int c = strcmp(a->n->printable, b->n->printable);
	if (c)
		return c;
	x = abs64(a->n->flat);
	y = abs64(b->n->flat);
	if (x != y)
		return x > y ? -1 : 1;
	char *s1 = NULL, *s2 = NULL;
	const struct rnode_info *i = &a->n->info, *j = &b->n->info;
	if (asprintf(&s1, "{%s  %llu %s %lld %lld %s}", i->name, (unsigned long long)i->address,
		     i->file, (long long)i->start_line, (long long)i->lineno, i->objfile) < 0)
		s1 = NULL;
	if (asprintf(&s2, "{%s  %llu %s %lld %lld %s}", j->name, (unsigned long long)j->address,
		     j->file, (long long)j->start_line, (long long)j->lineno, j->objfile) < 0)
		s2 = NULL;
	c = s1 && s2 ? strcmp(s1, s2) : 0;
	free(s1);
	free(s2);
	return c;
}

/* Nodes.Sort(EntropyOrder); edge ends and in/out lists follow the nodes. */
static int sort_entropy(struct rgraph *g)
{
	size_t n = g->nnode;
	if (n < 2)
		return 0;
	struct sort_item *it = malloc(n * sizeof(*it));
	struct rnode *nodes = malloc(n * sizeof(*nodes));
	size_t *pos = malloc(n * sizeof(size_t));
	if (!it || !nodes || !pos) {
		free(it);
		free(nodes);
		free(pos);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		it[i] = (struct sort_item){&g->node[i], entropy_score(g, &g->node[i]), i};
	qsort(it, n, sizeof(*it), by_entropy);
	for (size_t i = 0; i < n; i++) {
		nodes[i] = g->node[it[i].old];
		pos[it[i].old] = i;
	}
	memcpy(g->node, nodes, n * sizeof(*nodes));
	for (size_t e = 0; e < g->nedge; e++) {
		if (g->edge[e].src < n)
			g->edge[e].src = pos[g->edge[e].src];
		if (g->edge[e].dst < n)
			g->edge[e].dst = pos[g->edge[e].dst];
	}
	free(it);
	free(nodes);
	free(pos);
	return 0;
}

static int count_tags(const struct tagset *ts, size_t key)
{
	int c = 0;
	if (!ts)
		return 0;
	for (size_t i = 0; i < ts->count[key]; i++) {
		const struct tag *t = &ts->t[ts->order[ts->first[key] + i]];
		if (!t->removed && t->flat != 0)
			c++;
	}
	return c;
}

/* EdgeMap.Sort / edgeList.Less */
static const struct rgraph *cmp_graph;

static int by_weight(const void *pa, const void *pb)
{
	const struct redge *a = &cmp_graph->edge[*(const size_t *)pa];
	const struct redge *b = &cmp_graph->edge[*(const size_t *)pb];
	if (a->weight != b->weight) {
		int64_t x = abs64(a->weight), y = abs64(b->weight);
		if (x != y)
			return x > y ? -1 : 1;
		return 0; /* pprof's Less is false both ways: keep any order */
	}
	int c = strcmp(cmp_graph->node[a->src].printable, cmp_graph->node[b->src].printable);
	if (c)
		return c;
	return strcmp(cmp_graph->node[a->dst].printable, cmp_graph->node[b->dst].printable);
}

static void sort_edges(const struct rgraph *g, size_t *e, size_t n)
{
	cmp_graph = g;
	qsort(e, n, sizeof(*e), by_weight);
}

static bool redundant(const struct rgraph *g, size_t edge, bool *seen, size_t *queue)
{
	size_t src = g->edge[edge].src, n0 = g->edge[edge].dst;
	size_t nall = g->nnode;
	memset(seen, 0, (nall + 1) * sizeof(bool));
	if (n0 >= nall)
		return false;
	size_t qh = 0, qt = 0;
	seen[n0] = true;
	queue[qt++] = n0;
	while (qh < qt) {
		const struct rnode *n = &g->node[queue[qh++]];
		for (size_t j = 0; j < n->nin; j++) {
			const struct redge *ie = &g->edge[n->in[j]];
			if (ie->removed || n->in[j] == edge)
				continue;
			if (ie->src >= nall)
				continue;
			if (seen[ie->src])
				continue;
			if (ie->src == src)
				return true;
			seen[ie->src] = true;
			queue[qt++] = ie->src;
		}
	}
	return false;
}

/* Graph.RemoveRedundantEdges */
static int remove_redundant_edges(struct rgraph *g)
{
	bool *seen = malloc((g->nnode + 1) * sizeof(bool));
	size_t *queue = malloc((g->nnode + 1) * sizeof(size_t));
	size_t *in = malloc((g->nedge + 1) * sizeof(size_t));
	if (!seen || !queue || !in) {
		free(seen);
		free(queue);
		free(in);
		return -ENOMEM;
	}
	for (size_t i = g->nnode; i > 0; i--) {
		const struct rnode *n = &g->node[i - 1];
		size_t m = 0;
		for (size_t j = 0; j < n->nin; j++)
			if (!g->edge[n->in[j]].removed)
				in[m++] = n->in[j];
		sort_edges(g, in, m);
		for (size_t j = m; j > 0; j--) {
			struct redge *e = &g->edge[in[j - 1]];
			if (!e->residual)
				break;
			if (redundant(g, in[j - 1], seen, queue))
				e->removed = true;
		}
	}
	free(seen);
	free(queue);
	free(in);
	return 0;
}

/* report.selectOutputUnit (callgrind: without the scaling by 100). */
void cprof__dot_select_unit(struct report *r, const struct rgraph *g, bool callgrind)
{
	if (strcmp(r->output_unit, "minimum") != 0 || g->nnode == 0)
		return;
	int64_t min = 0;
	for (size_t i = 0; i < g->nnode; i++) {
		int64_t v = abs64(cprof__rnode_flat(&g->node[i]));
		if (v == 0)
			v = abs64(cprof__rnode_cum(&g->node[i]));
		if (v > 0 && (min == 0 || v < min))
			min = v;
	}
	int64_t max = r->total;
	if (min == 0)
		min = max;
	double rt = 1 / r->opt.divide_by;
	if (rt > 0 && rt != 1) {
		min = (int64_t)((double)min * rt);
		max = (int64_t)((double)max * rt);
	}
	const char *min_unit, *max_unit, *unit;
	cprof__units_scale(min, r->sample_unit, "minimum", &min_unit);
	cprof__units_scale(max, r->sample_unit, "minimum", &max_unit);
	unit = min_unit;
	if (strcmp(min_unit, max_unit) != 0 && min * 100 < max && !callgrind)
		cprof__units_scale(100 * min, r->sample_unit, "minimum", &unit);
	snprintf(r->output_unit, sizeof(r->output_unit), "%s", unit[0] ? unit : r->sample_unit);
}

static bool *kept_of(const struct report *r, const struct rgraph *g, size_t count, int64_t cutoff,
		     size_t *nkept)
{
	bool *kept = calloc(cprof__rview_nkeys(r->view) + 1, sizeof(bool));
	if (!kept)
		return NULL;
	*nkept = 0;
	for (size_t i = 0; i < g->nnode && i < count; i++) {
		if (abs64(g->node[i].cum) < cutoff)
			continue;
		kept[g->node[i].key] = true;
		(*nkept)++;
	}
	return kept;
}

struct dgraph {
	struct rgraph *g;
	struct tagset *tags; /* NULL when the profile has no tags */
	int orig, dropped_nodes, dropped_edges;
};

static void dgraph_release(struct dgraph *d)
{
	cprof__rgraph_free(d->g);
	tags_free(d->tags);
	memset(d, 0, sizeof(*d));
}

static int rebuild(struct report *r, struct dgraph *d, const bool *kept, bool has_tags)
{
	cprof__rgraph_free(d->g);
	tags_free(d->tags);
	d->tags = NULL;
	d->g = cprof__rgraph_build(r->view, kept, r->opt.drop_negative);
	if (!d->g)
		return -ENOMEM;
	if (has_tags && !(d->tags = compute_tags(r, kept)))
		return -ENOMEM;
	return 0;
}

/*
 * -call_tree: keep the first `count` listed nodes with |cum| >= cutoff and
 * hang the others' children on their parents (Graph.TrimTree). 1 when nodes
 * were dropped (counted in dropped_nodes when `count_dropped`), 0 when all
 * were kept, -ENOMEM.
 */
static int trim_tree(struct dgraph *d, size_t count, int64_t cutoff, bool count_dropped)
{
	struct rgraph *g = d->g;
	bool *keep = calloc(g->nnode + 1, sizeof(bool));
	if (!keep)
		return -ENOMEM;
	size_t nkept = 0;
	for (size_t i = 0; i < g->nnode && i < count; i++)
		if (abs64(g->node[i].cum) >= cutoff) {
			keep[i] = true;
			nkept++;
		}
	int rc = 0;
	if (nkept != g->nnode) {
		if (count_dropped)
			d->dropped_nodes = (int)(g->nnode - nkept);
		rc = cprof__rgraph_trim_tree(g, keep) < 0 ? -ENOMEM : 1;
	}
	free(keep);
	return rc;
}

/* report.newTrimmedGraph in visual mode, then selectOutputUnit. */
static int visual_graph(struct report *r, struct dgraph *d)
{
	struct report_options o = r->opt;
	if (o.nodecount == -1)
		o.nodecount = 80;
	if (!o.trim) {
		o.nodecount = 0;
		o.nodefraction = 0;
		o.edgefraction = 0;
	}
	bool has_tags = profile_has_tags(r->prof);
	bool tree = cprof__rview_is_tree(r->view);
	memset(d, 0, sizeof(*d));
	/*
	 * A call tree is trimmed in place. Otherwise the nodes' values come
	 * first, from a graph without edges: edges and tags are made only for
	 * the nodes kept (the graph of every node is the same graph pruned).
	 */
	struct rgraph *g0 = NULL;
	if (tree) {
		if (rebuild(r, d, NULL, has_tags) < 0)
			return -ENOMEM;
	} else if (!(g0 = cprof__rgraph_build_nodes(r->view, NULL, r->opt.drop_negative))) {
		return -ENOMEM;
	}
	const struct rgraph *g1 = tree ? d->g : g0;
	int64_t total = 0;
	for (size_t i = 0; i < g1->nnode; i++)
		total += g1->node[i].flat;
	int64_t node_cutoff = abs64((int64_t)((double)total * o.nodefraction));
	int64_t edge_cutoff = abs64((int64_t)((double)total * o.edgefraction));
	if (node_cutoff > 0 && tree) {
		/* DiscardLowFrequencyNodePtrs + TrimTree: the tree is not rebuilt. */
		int rc = trim_tree(d, SIZE_MAX, node_cutoff, true);
		if (rc < 0)
			return rc;
	} else if (!tree) {
		size_t nkept;
		bool *kept = NULL;
		if (node_cutoff > 0) {
			kept = kept_of(r, g0, SIZE_MAX, node_cutoff, &nkept);
			if (!kept) {
				cprof__rgraph_free(g0);
				return -ENOMEM;
			}
			if (nkept != g0->nnode) {
				d->dropped_nodes = (int)(g0->nnode - nkept);
			} else {
				free(kept);
				kept = NULL;
			}
		}
		cprof__rgraph_free(g0);
		int rc = rebuild(r, d, kept, has_tags);
		free(kept);
		if (rc < 0)
			return rc;
	}
	d->orig = (int)d->g->nnode;
	if (sort_entropy(d->g) < 0)
		return -ENOMEM;
	if (o.nodecount > 0) {
		trim_tags(d->tags, node_cutoff);
		cprof__rgraph_trim_edges(d->g, edge_cutoff);
		size_t max = (size_t)o.nodecount, count = 0;
		for (size_t i = 0; i < d->g->nnode; i++) {
			int t = count_tags(d->tags, d->g->node[i].key);
			if (t > MAX_NODELETS)
				t = MAX_NODELETS;
			if ((count += (size_t)t + 1) >= max) {
				max = i + 1;
				break;
			}
		}
		if (tree) {
			/* SelectTopNodePtrs + TrimTree, sorted again when it dropped any. */
			int rc = trim_tree(d, max, 0, false);
			if (rc == 1)
				rc = sort_entropy(d->g);
			if (rc < 0)
				return rc;
			goto trimmed;
		}
		size_t nkept;
		bool *kept = kept_of(r, d->g, max, 0, &nkept);
		if (!kept)
			return -ENOMEM;
		int rc = 0;
		if (nkept != d->g->nnode) {
			rc = rebuild(r, d, kept, has_tags);
			if (rc == 0)
				rc = sort_entropy(d->g);
		}
		free(kept);
		if (rc < 0)
			return rc;
	}
trimmed:
	trim_tags(d->tags, node_cutoff);
	d->dropped_edges = cprof__rgraph_trim_edges(d->g, edge_cutoff);
	if (remove_redundant_edges(d->g) < 0)
		return -ENOMEM;
	cprof__dot_select_unit(r, d->g, false);
	return 0;
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

static void fmt_value(const struct report *r, struct sbuf *b, int64_t v)
{
	char buf[128];
	sb_puts(b, cprof__report_format(r, buf, sizeof(buf), v));
}

static const char *trim_space(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

/* multilinePrintableName */
static void multiline_name(struct sbuf *b, const struct rnode_info *i)
{
	char *shortn = shorten_function_name(i->name);
	struct sbuf e = {0};
	sb_escape(&e, shortn ? shortn : i->name);
	free(shortn);
	struct sbuf n = {0};
	const char *s = sb_str(&e);
	while (*s) {
		if (strncmp(s, "::", 2) == 0) {
			sb_puts(&n, "\\n");
			s += 2;
		} else if (strncmp(s, "[...]", 5) == 0) {
			sb_puts(&n, "[\xe2\x80\xa6]");
			s += 5;
		} else if (*s == '.') {
			sb_puts(&n, "\\n");
			s++;
		} else {
			sb_putn(&n, s, 1);
			s++;
		}
	}
	const char *name = sb_str(&n);
	const char *sep = "";
	if (i->address) {
		sb_printf(b, "%016llx", (unsigned long long)i->address);
		sep = "\\n";
	}
	if (name[0]) {
		sb_printf(b, "%s%s", sep, name);
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
		sb_printf(b, "%s%s:%lld", sep, file, (long long)i->lineno);
	} else if (file[0]) {
		sb_printf(b, "%s%s", sep, file);
	} else if (i->name[0]) {
	} else if (i->objfile[0]) {
		const char *o = strrchr(i->objfile, '/');
		sb_printf(b, "%s[%s]", sep, o && o[1] ? o + 1 : i->objfile);
	} else {
		sb_printf(b, "%s<unknown>", sep);
	}
	sb_puts(b, "\\n");
	free(e.s);
	free(n.s);
}

static void add_node(const struct report *r, struct sbuf *b, const struct rnode *n, size_t id,
		     double max_flat)
{
	int64_t flat = cprof__rnode_flat(n), cum = cprof__rnode_cum(n);
	char pct[64];
	struct sbuf label = {0}, fv = {0}, cv = {0};
	multiline_name(&label, &n->info);
	fmt_value(r, &fv, flat);
	if (flat != 0)
		sb_printf(&label, "%s (%s)", sb_str(&fv),
			  trim_space(cprof__units_percentage(pct, sizeof(pct), flat, r->total)));
	else
		sb_puts(&label, "0");
	const char *cum_value = sb_str(&fv);
	if (cum != flat) {
		sb_puts(&label, flat != 0 ? "\\n" : " ");
		fmt_value(r, &cv, cum);
		cum_value = sb_str(&cv);
		sb_printf(&label, "of %s (%s)", cum_value,
			  trim_space(cprof__units_percentage(pct, sizeof(pct), cum, r->total)));
	}
	int font = 8;
	if (max_flat != 0 && flat != 0 && (double)abs64(flat) <= max_flat)
		font += (int)ceil(16.0 * sqrt((double)abs64(flat) / max_flat));
	char fg[16], bg[16];
	double score = (double)cum / (double)abs64(r->total);
	dot_color(fg, sizeof(fg), score, false);
	dot_color(bg, sizeof(bg), score, true);
	sb_printf(b, "N%zu [label=\"%s\" id=\"node%zu\" fontsize=%d shape=box tooltip=\"", id,
		  sb_str(&label), id, font);
	sb_escape(b, n->printable);
	sb_printf(b, " (%s)\" color=\"%s\" fillcolor=\"%s\"]\n", cum_value, fg, bg);
	free(label.s);
	free(fv.s);
	free(cv.s);
}

/* measurement.Label(value, unit) (auto scaling) */
static void auto_label(char *buf, size_t len, int64_t v, const char *unit)
{
	cprof__units_label(buf, len, v, unit, "auto");
}

static void numeric_nodelets(const struct report *r, struct sbuf *b, struct tag **ts, size_t n,
			     bool flat_tags, const char *source)
{
	sort_tags(ts, n, flat_tags);
	struct tag *groups = NULL;
	size_t ng = n;
	if (n > MAX_NODELETS) {
		/* collapsedTags: group the rest around the first four. */
		size_t *gi = malloc(n * sizeof(size_t));
		groups = calloc(MAX_NODELETS, sizeof(*groups));
		if (!gi || !groups) {
			free(gi);
			free(groups);
			b->oom = true;
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
				groups[g].flat = tag_flat(min); /* tagGroupLabel: values, no divisor */
				groups[g].cum = tag_cum(min);
			} else {
				auto_label(l2, sizeof(l2), max->value, max->unit);
				if (asprintf(&groups[g].name, "%s..%s", l1, l2) < 0)
					groups[g].name = NULL;
				groups[g].flat = df ? f / df : f;
				groups[g].cum = dc ? c / dc : c;
			}
			if (!groups[g].name)
				b->oom = true;
		}
		free(gi);
		ng = MAX_NODELETS;
	}
	struct tag *list[MAX_NODELETS];
	struct tag **lp = ts;
	if (groups) {
		for (size_t g = 0; g < MAX_NODELETS; g++)
			list[g] = &groups[g];
		sort_tags(list, MAX_NODELETS, flat_tags);
		lp = list;
	}
	for (size_t j = 0; j < ng; j++) {
		struct tag *t = lp[j];
		if (!t->name)
			continue;
		int64_t w = tag_cum(t);
		const char *attr = " style=\"dotted\"";
		if (flat_tags || tag_flat(t) == tag_cum(t)) {
			w = tag_flat(t);
			attr = "";
		}
		if (w == 0)
			continue;
		char wb[128];
		cprof__report_format(r, wb, sizeof(wb), w);
		sb_printf(b, "N%s_%zu [label = \"%s\" id=\"N%s_%zu\" fontsize=8 shape=box3d tooltip=\"%s\"]\n",
			  source, j, t->name, source, j, wb);
		sb_printf(b, "%s -> N%s_%zu [label=\" %s\" weight=100 tooltip=\"%s\" labeltooltip=\"%s\"%s]\n",
			  source, source, j, wb, wb, wb, attr);
	}
	if (groups)
		for (size_t g = 0; g < MAX_NODELETS; g++)
			free(groups[g].name);
	free(groups);
}

/* builder.addNodelets: returns whether any were written. */
static bool add_nodelets(const struct report *r, struct sbuf *b, const struct dgraph *d,
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
		b->oom = true;
		return false;
	}
	size_t nl = 0;
	for (size_t i = 0; i < cnt; i++) {
		struct tag *t = &ts->t[ts->order[ts->first[n->key] + i]];
		if (!t->removed && !t->numeric)
			lt[nl++] = t;
	}
	bool flat_tags = live_count(d->g, n->out, n->nout) > 0;
	sort_tags(lt, nl, flat_tags);
	if (nl > MAX_NODELETS)
		nl = MAX_NODELETS;
	char src[64];
	for (size_t i = 0; i < nl; i++) {
		struct tag *t = lt[i];
		int64_t w = flat_tags ? tag_flat(t) : tag_cum(t);
		if (w == 0)
			continue;
		char wb[128];
		cprof__report_format(r, wb, sizeof(wb), w);
		sb_printf(b, "N%zu_%zu [label = \"%s\" id=\"N%zu_%zu\" fontsize=8 shape=box3d tooltip=\"%s\"]\n",
			  id, i, t->name, id, i, wb);
		sb_printf(b, "N%zu -> N%zu_%zu [label=\" %s\" weight=100 tooltip=\"%s\" labeltooltip=\"%s\"]\n",
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

static void add_edge(const struct report *r, struct sbuf *b, const struct rgraph *g,
		     const struct redge *e, size_t from, size_t to, bool has_nodelets)
{
	int64_t wv = e->weight_div ? e->weight / e->weight_div : e->weight;
	char w[128], color[16];
	cprof__report_format(r, w, sizeof(w), wv);
	sb_printf(b, "N%zu -> N%zu [label=\" %s%s\"", from, to, w, e->is_inline ? "\\n (inline)" : "");
	if (r->total != 0) {
		int64_t t = abs64(wv * 100 / r->total);
		int weight = 1 + (int)(t < 100 ? t : 100);
		if (weight > 1)
			sb_printf(b, " weight=%d", weight);
		t = abs64(wv * 5 / r->total);
		int width = 1 + (int)(t < 5 ? t : 5);
		if (width > 1)
			sb_printf(b, " penwidth=%d", width);
		dot_color(color, sizeof(color), (double)wv / (double)abs64(r->total), false);
		sb_printf(b, " color=\"%s\"", color);
	}
	struct sbuf tip = {0};
	sb_puts(&tip, "\"");
	sb_escape(&tip, g->node[e->src].printable);
	sb_puts(&tip, e->residual ? " ... " : " -> ");
	sb_escape(&tip, g->node[e->dst].printable);
	sb_printf(&tip, " (%s)\"", w);
	sb_printf(b, " tooltip=%s labeltooltip=%s", sb_str(&tip), sb_str(&tip));
	if (tip.oom)
		b->oom = true;
	free(tip.s);
	if (e->residual)
		sb_puts(b, " style=\"dotted\"");
	if (has_nodelets)
		sb_puts(b, " minlen=2");
	sb_puts(b, "]\n");
}

/* The legend lines: the engine's header lines plus pprof's pointer to help. */
static int legend(struct report *r, struct sbuf *b, const struct dgraph *d, const char *title)
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
	sb_puts(b, "subgraph cluster_L { \"");
	struct sbuf first = {0};
	sb_putn(&first, text, first_end ? (size_t)(first_end - text) : strlen(text));
	sb_escape(b, sb_str(&first));
	free(first.s);
	sb_puts(b, "\" [shape=box fontsize=16 label=\"");
	for (char *s = text; *s;) {
		char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		struct sbuf line = {0};
		sb_putn(&line, s, n);
		sb_escape(b, sb_str(&line));
		free(line.s);
		sb_puts(b, "\\l");
		s += n + (nl != NULL);
	}
	sb_puts(b, "\\lSee https://git.io/JfYMW for how to read the graph\\l\"");
	if (title[0])
		sb_printf(b, " tooltip=\"%s\"", title);
	sb_puts(b, "] }\n");
	free(text);
	return 0;
}

static int compose(struct report *r, struct dgraph *d, struct sbuf *b)
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
	sb_printf(b, "digraph \"%s\" {\nnode [style=filled fillcolor=\"#f8f8f8\"]\n",
		  title[0] ? title : "unnamed");
	if (legend(r, b, d, title) < 0)
		return -ENOMEM;
	if (g->nnode > 0) {
		double max_flat = (double)abs64(cprof__rnode_flat(&g->node[0]));
		for (size_t i = 0; i < g->nnode; i++)
			if ((double)abs64(cprof__rnode_flat(&g->node[i])) > max_flat)
				max_flat = (double)abs64(cprof__rnode_flat(&g->node[i]));
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
		sort_edges(g, edges, ne);
		for (size_t i = 0; i < ne; i++) {
			const struct redge *e = &g->edge[edges[i]];
			size_t from = e->src < g->nnode ? e->src + 1 : 0;
			size_t to = e->dst < g->nnode ? e->dst + 1 : 0;
			add_edge(r, b, g, e, from, to, e->src < g->nnode && has[e->src]);
		}
		free(has);
		free(edges);
	}
	sb_puts(b, "}\n");
	return b->oom ? -ENOMEM : 0;
}

/* The DOT text of the report, malloc'd. */
static int dot_text(struct report *r, char **out, size_t *len)
{
	struct dgraph d;
	struct sbuf b = {0};
	int rc = visual_graph(r, &d);
	if (rc == 0)
		rc = compose(r, &d, &b);
	dgraph_release(&d);
	if (rc < 0) {
		free(b.s);
		return rc;
	}
	*out = b.s;
	*len = b.len;
	return 0;
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
	struct sbuf b = {0};
	/* dot leaves some ampersands unquoted */
	for (size_t i = 0; i < len; i++) {
		if (svg[i] == '&' && i + 1 < len && svg[i + 1] == ';')
			sb_puts(&b, "&amp;");
		else
			sb_putn(&b, &svg[i], 1);
	}
	char *s = b.s;
	if (!s)
		return -ENOMEM;
	const char *open = strstr(s, "<svg width=\"");
	const char *vb = open ? strstr(open, "viewBox=\"") : NULL;
	const char *vbe = vb ? strchr(vb + 9, '"') : NULL;
	const char *g0 = strstr(s, "<g id=\"graph");
	const char *close = NULL;
	for (const char *p = s; (p = strstr(p, "</svg>")); p++)
		if (!close)
			close = p;
	if (!open || !vbe || !g0 || !close || g0 < vbe || close < g0) {
		fwrite(s, 1, b.len, out);
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
	struct sbuf b = {0};
	char buf[65536];
	for (;;) {
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sb_putn(&b, buf, (size_t)n);
	}
	close(pfd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		free(b.s);
		return -ENOENT;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || b.oom) {
		free(b.s);
		return b.oom ? -ENOMEM : -EIO;
	}
	*out = b.s;
	*outlen = b.len;
	return 0;
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
