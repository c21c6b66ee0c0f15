/*
 * protoout.c - `-proto`: the profile a report is made from (merged, and
 * filtered when filters are on) written back as gzipped profile.proto, with
 * -divide_by applied to every value as pprof's printProto does. The result
 * reads back into the same reports. Also `-topproto` (pprof's TopProto): the
 * trimmed graph of the -top report as a profile, one sample per node with
 * its cum and flat values in the output unit, one location and function per
 * node. Encoding is src/proto's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"

int cprof__report_proto(struct report *r, FILE *out)
{
	/* profile.Merge as the driver applies it; samples without frames go (applyFocus) */
	struct profile *p = cprof__report_compact(r->prof);
	if (!p)
		return -ENOMEM;
	cprof__report_drop_unlocated(p);
	double ratio = 1 / r->opt.divide_by;
	if (ratio > 0 && ratio != 1)
		for (size_t i = 0; i < p->nsample; i++)
			for (size_t j = 0; j < p->sample[i].nvalue; j++)
				p->sample[i].value[j] = (int64_t)((double)p->sample[i].value[j] * ratio);
	uint8_t *buf;
	size_t len;
	int rc = cprof__profile_encode_gz(p, &buf, &len);
	cprof__profile_free(p);
	if (rc < 0)
		return rc;
	fwrite(buf, 1, len, out);
	free(buf);
	return ferror(out) ? -EIO : 0;
}

/* The gzipped profile to out; p is freed. */
static int write_gz(struct profile *p, FILE *out)
{
	uint8_t *buf;
	size_t len;
	int rc = cprof__profile_encode_gz(p, &buf, &len);
	cprof__profile_free(p);
	if (rc < 0)
		return rc;
	fwrite(buf, 1, len, out);
	free(buf);
	return ferror(out) ? -EIO : 0;
}

/* pprof's functionMap.findOrAdd: one function per (name, file, start line). */
static uint64_t find_or_add_function(struct profile *q, const struct rnode_info *ni)
{
	const char *file = ni->file ? ni->file : "";
	for (size_t i = 0; i < q->nfunction; i++) {
		const struct pp_function *f = &q->function[i];
		if (strcmp(cprof__profile_str(q, f->name), ni->name ? ni->name : "") == 0 &&
		    strcmp(cprof__profile_str(q, f->filename), file) == 0 &&
		    f->start_line == ni->start_line)
			return f->id;
	}
	/* graph.NodeInfo.OrigName is empty: the report does not ask for it */
	struct pp_function *f = cprof__profile_add_function(q, ni->name ? ni->name : "", "",
							   file, ni->start_line);
	return f ? f->id : 0;
}

int cprof__report_topproto(struct report *r, FILE *out)
{
	int orig, dropped_nodes, dropped_edges;
	struct rgraph *g = cprof__report_graph(r, &orig, &dropped_nodes, &dropped_edges);
	if (!g)
		return -ENOMEM;
	struct profile *q = cprof__profile_new();
	int rc = -ENOMEM;
	if (!q || !cprof__profile_add_sample_type(q, "cum", r->output_unit) ||
	    !cprof__profile_add_sample_type(q, "flat", r->output_unit))
		goto fail;
	const struct profile *p = r->prof;
	q->time_nanos = p->time_nanos;
	q->duration_nanos = p->duration_nanos;
	q->period = p->period;
	if ((q->period_type.type = cprof__profile_intern(q, cprof__profile_str(p, p->period_type.type),
							  (size_t)-1)) < 0 ||
	    (q->period_type.unit = cprof__profile_intern(q, cprof__profile_str(p, p->period_type.unit),
							  (size_t)-1)) < 0)
		goto fail;
	for (size_t i = 0; i < g->nnode; i++) {
		const struct rnode *n = &g->node[i];
		struct pp_line line = {.function_id = find_or_add_function(q, &n->info),
				       .line = n->info.lineno};
		if (!line.function_id)
			goto fail;
		struct pp_location *l = cprof__profile_add_location(q, 0, n->info.address, &line, 1);
		if (!l)
			goto fail;
		uint64_t loc = l->id;
		const char *u;
		int64_t v[2] = {
			(int64_t)cprof__units_scale(cprof__rnode_cum(n), r->sample_unit, r->output_unit, &u),
			(int64_t)cprof__units_scale(cprof__rnode_flat(n), r->sample_unit, r->output_unit, &u),
		};
		if (!cprof__profile_add_sample(q, &loc, 1, v, 2, NULL, 0))
			goto fail;
	}
	cprof__rgraph_free(g);
	return write_gz(q, out);
fail:
	cprof__rgraph_free(g);
	cprof__profile_free(q);
	return rc;
}
