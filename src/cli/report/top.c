/*
 * top.c - the text/top report (pprof's report.TextItems and printText):
 * header lines, then one row per node with flat, flat%, running sum%, cum
 * and cum%, and an "(inline)" or "(partial-inline)" mark for functions that
 * were inlined into all or some of their callers.
 *
 * Aggregation and trimming are report.c's and graph.c's; this file only
 * formats the rows.
 */
#include <errno.h>

#include "cli/report/report.h"

int cprof__report_text(struct report *r, FILE *out)
{
	int orig, dropped_nodes, dropped_edges;
	struct rgraph *g = cprof__report_graph(r, &orig, &dropped_nodes, &dropped_edges);
	if (!g)
		return -ENOMEM;
	/* Text reports do not mention dropped edges (TextItems passes 0). */
	cprof__report_labels(r, g, orig, dropped_nodes, 0, out);
	fprintf(out, "%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
	int64_t flat_sum = 0;
	for (size_t i = 0; i < g->nnode; i++) {
		const struct rnode *n = &g->node[i];
		const char *inl = cprof__rnode_inline(g, n);
		int64_t flat = cprof__rnode_flat(n), cum = cprof__rnode_cum(n);
		flat_sum += flat;
		char fv[128], cv[128], fp[32], sp[32], cp[32];
		fprintf(out, "%10s %s %s %10s %s  %s%s%s%s\n",
			cprof__report_format(r, fv, sizeof(fv), flat),
			cprof__units_percentage(fp, sizeof(fp), flat, r->total),
			cprof__units_percentage(sp, sizeof(sp), flat_sum, r->total),
			cprof__report_format(r, cv, sizeof(cv), cum),
			cprof__units_percentage(cp, sizeof(cp), cum, r->total), n->printable,
			*inl ? " (" : "", inl, *inl ? ")" : "");
	}
	cprof__rgraph_free(g);
	return ferror(out) ? -EIO : 0;
}
