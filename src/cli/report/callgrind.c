/*
 * callgrind.c - `-callgrind`: the report graph in valgrind's callgrind
 * format (for callgrind_annotate, KCachegrind, QCachegrind), as pprof's
 * printCallgrind writes it: address granularity, no trimming, one cost line
 * per node ("address line cost") and one call block per outgoing edge, with
 * callgrind's name compression ("(N) name" the first time, "(N)" after).
 *
 * The graph is the engine's (graph.c); this file adds what pprof's
 * ObjNames option puts in node infos (object file, start line) from the
 * locations behind each node, and prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"

/* A name -> id map for callgrind's compression, linear: names are few. */
struct names {
	char **s; /* copies: some names are built on the fly */
	size_t n, cap;
};

static void cg_name(FILE *out, struct names *m, const char *name)
{
	if (!name[0])
		return;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->s[i], name) == 0) {
			fprintf(out, "(%zu)", i + 1);
			return;
		}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		char **s = realloc(m->s, cap * sizeof(*s));
		if (!s) {
			fprintf(out, "%s", name); /* out of memory: uncompressed */
			return;
		}
		m->s = s;
		m->cap = cap;
	}
	if (!(m->s[m->n] = strdup(name))) {
		fprintf(out, "%s", name);
		return;
	}
	m->n++;
	fprintf(out, "(%zu) %s", m->n, name);
}

/* callgrindAddress: "*" for the same address, a shorter +/- offset, else 0x... */
static void cg_address(char *buf, size_t len, bool have_prev, uint64_t prev, uint64_t cur)
{
	char abs[32], rel[32];
	snprintf(abs, sizeof(abs), "%#llx", (unsigned long long)cur);
	if (cur == 0)
		snprintf(abs, sizeof(abs), "0x0");
	if (!have_prev) {
		snprintf(buf, len, "%s", abs);
		return;
	}
	if (prev == cur) {
		snprintf(buf, len, "*");
		return;
	}
	snprintf(rel, sizeof(rel), "%+lld", (long long)(cur - prev));
	snprintf(buf, len, "%s", strlen(rel) < strlen(abs) ? rel : abs);
}

static int64_t scaled(const struct report *r, int64_t v)
{
	const char *u;
	return (int64_t)cprof__units_scale(v, r->sample_unit, r->output_unit, &u);
}

static const struct rgraph *sort_g;

static int by_weight(const void *pa, const void *pb)
{
	const struct redge *a = &sort_g->edge[*(const size_t *)pa];
	const struct redge *b = &sort_g->edge[*(const size_t *)pb];
	int64_t x = a->weight < 0 ? -a->weight : a->weight;
	int64_t y = b->weight < 0 ? -b->weight : b->weight;
	if (a->weight != b->weight && x != y)
		return x > y ? -1 : 1;
	int c = strcmp(sort_g->node[a->src].printable, sort_g->node[b->src].printable);
	return c ? c : strcmp(sort_g->node[a->dst].printable, sort_g->node[b->dst].printable);
}

/* Whether two nodes of equal file and name have the same Node.Function. */
static bool same_function(const struct rview *v, const char **objfile, const int64_t *start,
			  size_t a, size_t b)
{
	return !strcmp(objfile[a], objfile[b]) && start[a] == start[b] &&
	       cprof__rview_key_parent(v, a) == cprof__rview_key_parent(v, b);
}

int cprof__report_callgrind(struct report *r, FILE *out)
{
	const struct profile *p = r->prof;
	struct rgraph *g = cprof__rgraph_build(r->view, NULL, r->opt.drop_negative);
	size_t nk = cprof__rview_nkeys(r->view);
	const char **objfile = calloc(nk + 1, sizeof(char *));
	int64_t *start = calloc(nk + 1, sizeof(int64_t));
	size_t *fn_index = NULL, *fn_count = NULL, *edges = NULL;
	struct names obs = {0}, files = {0}, fns = {0};
	int rc = -ENOMEM;
	if (!g || !objfile || !start)
		goto out;
	cprof__rgraph_sort(g, r->opt.cum_sort);
	snprintf(r->output_unit, sizeof(r->output_unit), "%s", r->opt.unit ? r->opt.unit : "minimum");
	cprof__report_select_unit(r, g, true);

	/* ObjNames: each node's object file and function start line. */
	for (size_t i = 0; i < p->nlocation; i++) {
		const struct pp_location *loc = &p->location[i];
		const struct pp_mapping *m = loc->mapping_id ? cprof__profile_mapping(p, loc->mapping_id) : NULL;
		size_t n;
		const size_t *keys = cprof__rview_loc_keys(r->view, i, &n);
		for (size_t j = 0; j < n; j++) {
			if (objfile[keys[j]])
				continue;
			objfile[keys[j]] = m ? cprof__profile_str(p, m->filename) : "";
			const struct pp_function *fn = j < loc->nline ?
				cprof__profile_function(p, loc->line[j].function_id) : NULL;
			start[keys[j]] = fn ? fn->start_line : 0;
		}
	}

	/* -call_tree: a tree node has the object file of the info behind it. */
	for (size_t k = 0; k < nk; k++) {
		size_t b = cprof__rview_key_base(r->view, k);
		if (b != k) {
			objfile[k] = objfile[b];
			start[k] = start[b];
		}
	}

	/*
	 * getDisambiguatedNames: "[i/n]" for one (file, name) in several
	 * functions. In a call tree a node's Function is its function's node
	 * under the same parent, so contexts count as distinct functions.
	 */
	fn_index = calloc(g->nnode + 1, sizeof(size_t));
	fn_count = calloc(g->nnode + 1, sizeof(size_t));
	edges = malloc((g->nedge + 1) * sizeof(size_t));
	if (!fn_index || !fn_count || !edges)
		goto out;
	for (size_t i = 0; i < g->nnode; i++) {
		const struct rnode *a = &g->node[i];
		size_t distinct = 0, mine = SIZE_MAX;
		for (size_t j = 0; j < g->nnode; j++) {
			const struct rnode *b = &g->node[j];
			if (strcmp(a->info.file, b->info.file) || strcmp(a->info.name, b->info.name))
				continue;
			bool first = true; /* first node of g with b's function */
			for (size_t k = 0; k < j && first; k++) {
				const struct rnode *c = &g->node[k];
				if (!strcmp(c->info.file, b->info.file) && !strcmp(c->info.name, b->info.name) &&
				    same_function(r->view, objfile, start, c->key, b->key))
					first = false;
			}
			if (!first)
				continue;
			if (same_function(r->view, objfile, start, a->key, b->key))
				mine = distinct;
			distinct++;
		}
		fn_index[i] = mine;
		fn_count[i] = distinct;
	}

	fprintf(out, "positions: instr line\nevents: %s(%s)\n", r->sample_type, r->output_unit);
	const struct rnode *prev = NULL;
	for (size_t i = 0; i < g->nnode; i++) {
		const struct rnode *n = &g->node[i];
		if (!prev || strcmp(objfile[n->key], objfile[prev->key]) ||
		    strcmp(n->info.file, prev->info.file) || strcmp(n->info.name, prev->info.name)) {
			fputs("\nob=", out);
			cg_name(out, &obs, objfile[n->key]);
			fputs("\nfl=", out);
			cg_name(out, &files, n->info.file);
			fputs("\nfn=", out);
			cg_name(out, &fns, n->info.name);
			fputc('\n', out);
		}
		char addr[64];
		cg_address(addr, sizeof(addr), prev != NULL, prev ? prev->info.address : 0, n->info.address);
		fprintf(out, "%s %lld %lld\n", addr, (long long)n->info.lineno,
			(long long)scaled(r, cprof__rnode_flat(n)));
		size_t ne = 0;
		for (size_t j = 0; j < n->nout; j++)
			if (!g->edge[n->out[j]].removed)
				edges[ne++] = n->out[j];
		sort_g = g;
		qsort(edges, ne, sizeof(size_t), by_weight);
		for (size_t j = 0; j < ne; j++) {
			const struct redge *e = &g->edge[edges[j]];
			const struct rnode *callee = &g->node[e->dst];
			fputs("cfl=", out);
			cg_name(out, &files, callee->info.file);
			fputs("\ncfn=", out);
			char *dis = NULL;
			size_t d = e->dst;
			if (d < g->nnode && fn_count[d] > 1 &&
			    asprintf(&dis, "%s [%zu/%zu]", callee->info.name, fn_index[d] + 1, fn_count[d]) < 0)
				dis = NULL;
			cg_name(out, &fns, dis ? dis : callee->info.name);
			free(dis);
			cg_address(addr, sizeof(addr), prev != NULL, prev ? prev->info.address : 0,
				   callee->info.address);
			fprintf(out, "\ncalls=0 %s %lld\n* * %lld\n", addr, (long long)callee->info.lineno,
				(long long)scaled(r, e->weight));
		}
		prev = n;
	}
	rc = ferror(out) ? -EIO : 0;
out:
	cprof__rgraph_free(g);
	free(objfile);
	free(start);
	free(fn_index);
	free(fn_count);
	free(edges);
	struct names *all[] = {&obs, &files, &fns};
	for (size_t i = 0; i < 3; i++) {
		for (size_t j = 0; j < all[i]->n; j++)
			free(all[i]->s[j]);
		free(all[i]->s);
	}
	return rc;
}
