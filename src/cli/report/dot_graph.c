/*
 * dot_graph.c - the graph a picture shows (`-dot`, `-svg` and the other
 * Graphviz formats, `-web`): pprof's newTrimmedGraph in visual mode, for
 * Go 1.19. Nodes kept by node fraction and by a node count that counts each
 * node's tag boxes, entropy order, low-weight edges and redundant residual
 * edges removed, then the output unit chosen (report.c); and the sample
 * tags ("nodelets": the joined string labels and the "bytes" numeric
 * label) of every node.
 *
 * The graph itself is built by graph.c; writing it as DOT text and running
 * Graphviz is dot.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "cli/report/dot.h"
#include "cli/report/report.h"

/* ---- tags ---- */

static uint64_t tag_hash(size_t key, size_t labels, bool numeric, const char *name)
{
	uint64_t h = REPORT_FNV_BASIS ^ (key * 0x9e3779b97f4a7c15ULL) ^ (labels << 1) ^ numeric;
	return cprof__report_fnv(name, strlen(name), h * 1099511628211ULL);
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
	struct buf b;
	if (!l)
		return NULL;
	cprof__buf_init(&b, 0);
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
	for (size_t i = 0; i < n; i++) {
		if (i)
			cprof__buf_puts(&b, "\\n");
		cprof__buf_puts(&b, l[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
	return (char *)cprof__buf_detach(&b, NULL);
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
		if (!(cprof__report_abs64(ts->t[i].flat) >= cutoff || cprof__report_abs64(ts->t[i].cum) >= cutoff))
			ts->t[i].removed = true;
}

int64_t cprof__dot_tag_flat(const struct tag *t)
{
	return t->flat_div ? t->flat / t->flat_div : t->flat;
}

int64_t cprof__dot_tag_cum(const struct tag *t)
{
	return t->cum_div ? t->cum / t->cum_div : t->cum;
}

/* graph.tags.Less */
static bool tag_less(const struct tag *a, const struct tag *b, bool flat)
{
	if (!flat && a->cum != b->cum)
		return cprof__report_abs64(a->cum) > cprof__report_abs64(b->cum);
	if (a->flat != b->flat)
		return cprof__report_abs64(a->flat) > cprof__report_abs64(b->flat);
	return strcmp(a->name, b->name) < 0;
}

void cprof__dot_tags_sort(struct tag **t, size_t n, bool flat)
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
			total += cprof__report_abs64(g->edge[edges[i]].weight);
	if (total != 0) {
		for (size_t i = 0; i < n; i++) {
			if (!edge_live(g, edges[i]))
				continue;
			double frac = (double)cprof__report_abs64(g->edge[edges[i]].weight) / (double)total;
			score += -frac * log2(frac);
		}
		if (self > 0) {
			double frac = (double)cprof__report_abs64(self) / (double)total;
			score += -frac * log2(frac);
		}
	}
	return score;
}

size_t cprof__dot_live_edges(const struct rgraph *g, const size_t *edges, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += edge_live(g, edges[i]);
	return c;
}

static int64_t entropy_score(const struct rgraph *g, const struct rnode *n)
{
	double score = 0;
	if (cprof__dot_live_edges(g, n->in, n->nin) == 0)
		score++;
	else
		score += edge_entropy(g, n->in, n->nin, 0);
	if (cprof__dot_live_edges(g, n->out, n->nout) == 0)
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
	int64_t x = cprof__report_abs64(a->score), y = cprof__report_abs64(b->score);
	if (x != y)
		return x > y ? -1 : 1;
	int c = strcmp(a->n->printable, b->n->printable);
	if (c)
		return c;
	x = cprof__report_abs64(a->n->flat);
	y = cprof__report_abs64(b->n->flat);
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
		int64_t x = cprof__report_abs64(a->weight), y = cprof__report_abs64(b->weight);
		if (x != y)
			return x > y ? -1 : 1;
		return 0; /* pprof's Less is false both ways: keep any order */
	}
	int c = strcmp(cmp_graph->node[a->src].printable, cmp_graph->node[b->src].printable);
	if (c)
		return c;
	return strcmp(cmp_graph->node[a->dst].printable, cmp_graph->node[b->dst].printable);
}

void cprof__dot_edges_sort(const struct rgraph *g, size_t *e, size_t n)
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
		cprof__dot_edges_sort(g, in, m);
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

static bool *kept_of(const struct report *r, const struct rgraph *g, size_t count, int64_t cutoff,
		     size_t *nkept)
{
	bool *kept = calloc(cprof__rview_nkeys(r->view) + 1, sizeof(bool));
	if (!kept)
		return NULL;
	*nkept = 0;
	for (size_t i = 0; i < g->nnode && i < count; i++) {
		if (cprof__report_abs64(g->node[i].cum) < cutoff)
			continue;
		kept[g->node[i].key] = true;
		(*nkept)++;
	}
	return kept;
}

void cprof__dot_graph_release(struct dgraph *d)
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
		if (cprof__report_abs64(g->node[i].cum) >= cutoff) {
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
int cprof__dot_graph_build(struct report *r, struct dgraph *d)
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
	int64_t node_cutoff = cprof__report_abs64((int64_t)((double)total * o.nodefraction));
	int64_t edge_cutoff = cprof__report_abs64((int64_t)((double)total * o.edgefraction));
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
	cprof__report_select_unit(r, d->g, false);
	return 0;
}
