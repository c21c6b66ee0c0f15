/*
 * tree.c - the -tree and -peek reports (pprof's printTree): the trimmed
 * graph, one block per node with its callers above and its callees below,
 * each edge with its weight and share of the node's cumulative value.
 * -peek=RE shows only the nodes whose name matches RE (and trims nothing;
 * the caller sets the options so).
 *
 * Aggregation and trimming are report.c's and graph.c's; this file only
 * orders edges and formats the blocks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"

struct edge_order {
	const struct rgraph *g;
};

/* edgeList.Less: |weight| descending, then caller name, then callee name. */
static int cmp_edge(const void *a, const void *b, void *ctx)
{
	const struct rgraph *g = ctx;
	const struct redge *x = &g->edge[*(const size_t *)a], *y = &g->edge[*(const size_t *)b];
	if (x->weight != y->weight) {
		if (cprof__report_abs64(x->weight) != cprof__report_abs64(y->weight))
			return cprof__report_abs64(x->weight) > cprof__report_abs64(y->weight) ? -1 : 1;
	}
	int c = strcmp(g->node[x->src].printable, g->node[y->src].printable);
	if (c)
		return c;
	return strcmp(g->node[x->dst].printable, g->node[y->dst].printable);
}

static int print_edges(const struct report *r, const struct rgraph *g, const size_t *idx,
		       size_t n, bool callers, int64_t cum, FILE *out)
{
	size_t *e = malloc((n + 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!g->edge[idx[i]].removed)
			e[m++] = idx[i];
	qsort_r(e, m, sizeof(*e), cmp_edge, (void *)g);
	for (size_t i = 0; i < m; i++) {
		const struct redge *ed = &g->edge[e[i]];
		char v[128], pct[32];
		fprintf(out, "%50s %s |   %s%s\n", cprof__report_format(r, v, sizeof(v), ed->weight),
			cprof__units_percentage(pct, sizeof(pct), ed->weight, cum),
			g->node[callers ? ed->src : ed->dst].printable, ed->is_inline ? " (inline)" : "");
	}
	free(e);
	return 0;
}

int cprof__report_tree(struct report *r, const regex_t *peek, FILE *out)
{
	static const char separator[] =
		"----------------------------------------------------------+-------------\n";
	static const char legend[] =
		"      flat  flat%   sum%        cum   cum%   calls calls% + context \t \t \n";
	int orig, dropped_nodes, dropped_edges;
	struct rgraph *g = cprof__report_graph(r, &orig, &dropped_nodes, &dropped_edges);
	if (!g)
		return -ENOMEM;
	cprof__report_labels(r, g, orig, dropped_nodes, 0, out);
	fputs(separator, out);
	fputs(legend, out);
	int64_t flat_sum = 0;
	size_t matched = 0;
	int rc = 0;
	for (size_t i = 0; i < g->nnode; i++) {
		const struct rnode *n = &g->node[i];
		if (peek && regexec(peek, n->printable, 0, NULL, 0) != 0)
			continue;
		matched++;
		int64_t flat = cprof__rnode_flat(n), cum = cprof__rnode_cum(n);
		fputs(separator, out);
		if (print_edges(r, g, n->in, n->nin, true, cum, out) < 0) {
			rc = -ENOMEM;
			break;
		}
		flat_sum += flat;
		char fv[128], cv[128], fp[32], sp[32], cp[32];
		fprintf(out, "%10s %s %s %10s %s                | %s\n",
			cprof__report_format(r, fv, sizeof(fv), flat),
			cprof__units_percentage(fp, sizeof(fp), flat, r->total),
			cprof__units_percentage(sp, sizeof(sp), flat_sum, r->total),
			cprof__report_format(r, cv, sizeof(cv), cum),
			cprof__units_percentage(cp, sizeof(cp), cum, r->total), n->printable);
		if (print_edges(r, g, n->out, n->nout, false, cum, out) < 0) {
			rc = -ENOMEM;
			break;
		}
	}
	if (g->nnode > 0)
		fputs(separator, out);
	cprof__rgraph_free(g);
	if (rc < 0)
		return rc;
	if (ferror(out))
		return -EIO;
	return peek && matched == 0 ? -ENOENT : 0;
}
