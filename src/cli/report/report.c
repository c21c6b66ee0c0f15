/*
 * report.c - what every report shares, after pprof's internal/report:
 * choosing the sample value (-sample_index, default_sample_type, -mean),
 * the report total, the trimming pipeline (nodefraction, nodecount,
 * edgefraction), the choice of output unit, and the header lines (File,
 * Type, Time, Duration, "Showing nodes accounting for ...").
 *
 * Graph building lives in graph.c, printers in one file per report kind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/report/report.h"

void cprof__report_options_init(struct report_options *o)
{
	memset(o, 0, sizeof(*o));
	o->format = REPORT_TEXT;
	o->granularity = REPORT_FUNCTIONS;
	o->nodecount = -1;
	o->nodefraction = 0.005;
	o->edgefraction = 0.001;
	o->trim = true;
	o->unit = "minimum";
	o->divide_by = 1;
}

/* profile.SampleIndexByName, with pprof's error texts. */
static int sample_index(const struct profile *p, const char *si, char *err, size_t errlen)
{
	size_t n = p->nsample_type;
	if (!si || !si[0]) {
		const char *dst = cprof__profile_str(p, p->default_sample_type);
		if (dst[0])
			for (size_t i = 0; i < n; i++)
				if (strcmp(cprof__profile_str(p, p->sample_type[i].type), dst) == 0)
					return (int)i;
		return (int)n - 1;
	}
	char *end;
	errno = 0;
	long long v = strtoll(si, &end, 10);
	if (*end == '\0' && errno == 0 && end != si && si[0] != ' ') {
		if (v < 0 || (size_t)v >= n) {
			snprintf(err, errlen, "sample_index %s is outside the range [0..%zu]", si, n - 1);
			return -1;
		}
		return (int)v;
	}
	const char *no_inuse = strncmp(si, "inuse_", 6) == 0 ? si + 6 : si;
	for (size_t i = 0; i < n; i++) {
		const char *t = cprof__profile_str(p, p->sample_type[i].type);
		if (strcmp(t, si) == 0 || strcmp(t, no_inuse) == 0)
			return (int)i;
	}
	size_t off = (size_t)snprintf(err, errlen, "sample_index \"%s\" must be one of: [", si);
	for (size_t i = 0; i < n && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s%s", i ? " " : "",
					cprof__profile_str(p, p->sample_type[i].type));
	if (off < errlen)
		snprintf(err + off, errlen - off, "]");
	return -1;
}

int cprof__report_sample_index(const struct profile *p, const char *si, char *err, size_t errlen)
{
	if (p->nsample_type == 0) {
		snprintf(err, errlen, "profile has no samples");
		return -1;
	}
	return sample_index(p, si, err, errlen);
}

int cprof__report_init(struct report *r, const struct profile *p,
		       const struct report_options *o, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->prof = p;
	r->opt = *o;
	if (p->nsample_type == 0) {
		snprintf(err, errlen, "profile has no samples");
		return -1;
	}
	int idx = sample_index(p, o->sample_index, err, errlen);
	if (idx < 0)
		return -1;
	if (o->divide_by == 0) {
		snprintf(err, errlen, "zero divisor specified");
		return -1;
	}
	r->value_index = idx;
	const char *type = cprof__profile_str(p, p->sample_type[idx].type);
	if (o->mean) {
		if (asprintf(&r->sample_type_buf, "mean_%s", type) < 0) {
			r->sample_type_buf = NULL;
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		type = r->sample_type_buf;
	}
	r->sample_type = type;
	r->sample_unit = cprof__profile_str(p, p->sample_type[idx].unit);
	snprintf(r->output_unit, sizeof(r->output_unit), "%s", o->unit ? o->unit : "minimum");
	/* report.newGraph honors call_tree for the graphical reports only. */
	bool tree = o->call_tree && (o->format == REPORT_DOT || o->format == REPORT_GRAPHVIZ ||
				     o->format == REPORT_CALLGRIND);
	if (cprof__filter_active(o)) {
		/*
		 * driver.generateRawReport: label pseudo frames first, then the
		 * total (report.New) before the filters, unless percentages are
		 * relative to what the filters keep.
		 */
		struct profile *q = cprof__filter_copy(p, err, errlen);
		if (!q)
			goto fail_msg;
		r->filtered = q;
		r->prof = q;
		if (cprof__filter_tagnodes(q, o, stderr) < 0)
			goto fail;
		if (o->relative_percentages &&
		    cprof__filter_apply(q, o, stderr, err, errlen) < 0)
			goto fail_msg;
		if (cprof__report_total(q, idx, o->mean, &r->total) < 0)
			goto fail;
		if (!o->relative_percentages &&
		    cprof__filter_apply(q, o, stderr, err, errlen) < 0)
			goto fail_msg;
		r->view = tree ? cprof__rview_new_tree(q, o->granularity, o->noinlines, idx, o->mean)
			       : cprof__rview_new_inl(q, o->granularity, o->noinlines, idx, o->mean);
		if (!r->view)
			goto fail;
		return 0;
	}
	r->view = tree ? cprof__rview_new_tree(p, o->granularity, o->noinlines, idx, o->mean)
		       : cprof__rview_new_inl(p, o->granularity, o->noinlines, idx, o->mean);
	if (!r->view || cprof__rview_total(r->view, &r->total) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "out of memory");
fail_msg:
	cprof__rview_free(r->view);
	r->view = NULL;
	free(r->sample_type_buf);
	r->sample_type_buf = NULL;
	cprof__profile_free(r->filtered);
	r->filtered = NULL;
	return -1;
}

void cprof__report_release(struct report *r)
{
	cprof__rview_free(r->view);
	free(r->sample_type_buf);
	cprof__profile_free(r->filtered);
	memset(r, 0, sizeof(*r));
}

static double ratio(const struct report *r)
{
	return 1 / r->opt.divide_by;
}

char *cprof__report_format(const struct report *r, char *buf, size_t len, int64_t v)
{
	double rt = ratio(r);
	if (rt > 0 && rt != 1)
		v = (int64_t)((double)v * rt);
	return cprof__units_label(buf, len, v, r->sample_unit, r->output_unit);
}

/* report.selectOutputUnit (callgrind: without the scaling by 100). */
void cprof__report_select_unit(struct report *r, const struct rgraph *g, bool callgrind)
{
	if (strcmp(r->output_unit, "minimum") != 0 || g->nnode == 0)
		return;
	int64_t min = 0;
	for (size_t i = 0; i < g->nnode; i++) {
		int64_t v = cprof__report_abs64(cprof__rnode_flat(&g->node[i]));
		if (v == 0)
			v = cprof__report_abs64(cprof__rnode_cum(&g->node[i]));
		if (v > 0 && (min == 0 || v < min))
			min = v;
	}
	int64_t max = r->total;
	if (min == 0)
		min = max;
	double rt = ratio(r);
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

/* Keep flags for the first `count` listed nodes of g (or those with |cum| >= cutoff). */
static bool *kept_set(const struct report *r, const struct rgraph *g, size_t count,
		      int64_t cutoff, size_t *nkept)
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

/* report.newTrimmedGraph followed by selectOutputUnit. */
struct rgraph *cprof__report_graph(struct report *r, int *orig_count, int *dropped_nodes,
				   int *dropped_edges)
{
	struct report_options o = r->opt;
	if (o.nodecount == -1)
		o.nodecount = 0; /* text and top show every node */
	if (!o.trim) {
		o.nodecount = 0;
		o.nodefraction = 0;
		o.edgefraction = 0;
	}
	*orig_count = *dropped_nodes = *dropped_edges = 0;

	/* The values of the nodes first: the edges only of the graph kept. */
	struct rgraph *g = cprof__rgraph_build_nodes(r->view, NULL, o.drop_negative);
	bool nodes_only = true;
	if (!g)
		return NULL;
	int64_t total = 0;
	for (size_t i = 0; i < g->nnode; i++)
		total += g->node[i].flat;
	int64_t node_cutoff = cprof__report_abs64((int64_t)((double)total * o.nodefraction));
	int64_t edge_cutoff = cprof__report_abs64((int64_t)((double)total * o.edgefraction));

	if (node_cutoff > 0) {
		size_t nkept;
		bool *kept = kept_set(r, g, SIZE_MAX, node_cutoff, &nkept);
		if (!kept)
			goto fail;
		if (nkept != g->nnode) {
			*dropped_nodes = (int)(g->nnode - nkept);
			cprof__rgraph_free(g);
			g = cprof__rgraph_build(r->view, kept, o.drop_negative);
			nodes_only = false;
		}
		free(kept);
		if (!g)
			return NULL;
	}
	if (nodes_only) {
		/* Every node kept: the whole graph, edges included. */
		cprof__rgraph_free(g);
		g = cprof__rgraph_build(r->view, NULL, o.drop_negative);
		if (!g)
			return NULL;
	}
	*orig_count = (int)g->nnode;

	cprof__rgraph_sort(g, o.cum_sort);
	if (o.nodecount > 0) {
		/* Tags do not exist in our graph yet; only edges are trimmed here. */
		cprof__rgraph_trim_edges(g, edge_cutoff);
		size_t nkept;
		bool *kept = kept_set(r, g, (size_t)o.nodecount, 0, &nkept);
		if (!kept)
			goto fail;
		if (nkept != g->nnode) {
			cprof__rgraph_free(g);
			g = cprof__rgraph_build(r->view, kept, o.drop_negative);
			if (g)
				cprof__rgraph_sort(g, o.cum_sort);
		}
		free(kept);
		if (!g)
			return NULL;
	}
	*dropped_edges = cprof__rgraph_trim_edges(g, edge_cutoff);
	cprof__report_select_unit(r, g, false);
	return g;
fail:
	cprof__rgraph_free(g);
	return NULL;
}

/* Go's time.Format with layout "Jan 2, 2006 at 3:04pm (MST)", local time. */
static void format_time(int64_t nanos, char *buf, size_t len)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t sec = nanos / 1000000000;
	if (nanos % 1000000000 < 0)
		sec--;
	time_t t = (time_t)sec;
	struct tm tm;
	if (!localtime_r(&t, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	int h = tm.tm_hour % 12;
	if (h == 0)
		h = 12;
	char zone[64];
	if (tm.tm_zone && tm.tm_zone[0]) {
		snprintf(zone, sizeof(zone), "%s", tm.tm_zone);
	} else {
		long off = tm.tm_gmtoff / 60;
		snprintf(zone, sizeof(zone), "%c%02ld%02ld", off < 0 ? '-' : '+',
			 labs(off) / 60, labs(off) % 60);
	}
	snprintf(buf, len, "%s %d, %d at %d:%02d%s (%s)", months[tm.tm_mon], tm.tm_mday,
		 tm.tm_year + 1900, h, tm.tm_min, tm.tm_hour >= 12 ? "pm" : "am", zone);
}

static void profile_labels(const struct report *r, FILE *out)
{
	const struct profile *p = r->prof;
	char b1[128], b2[128], b3[128];
	if (p->nmapping > 0) {
		const char *file = cprof__profile_str(p, p->mapping[0].filename);
		const char *bid = cprof__profile_str(p, p->mapping[0].build_id);
		if (file[0]) {
			size_t n = strlen(file);
			while (n > 1 && file[n - 1] == '/')
				n--;
			size_t s = n;
			while (s > 0 && file[s - 1] != '/')
				s--;
			if (n == 1 && file[0] == '/')
				fputs("File: /\n", out);
			else
				fprintf(out, "File: %.*s\n", (int)(n - s), file + s);
		}
		if (bid[0])
			fprintf(out, "Build ID: %s\n", bid);
	}
	for (size_t i = 0; i < p->ncomment; i++) {
		const char *c = cprof__profile_str(p, p->comment[i]);
		if (c[0] != '#')
			fprintf(out, "%s\n", c);
	}
	if (r->sample_type[0])
		fprintf(out, "Type: %s\n", r->sample_type);
	if (p->time_nanos != 0) {
		char t[128];
		format_time(p->time_nanos, t, sizeof(t));
		fprintf(out, "Time: %s\n", t);
	}
	if (p->duration_nanos != 0) {
		const char *unit;
		double ns = cprof__units_scale(r->total, r->sample_unit, "nanoseconds", &unit);
		b3[0] = '\0';
		if (strcmp(unit, "ns") == 0 && ns != 0) {
			char pct[64];
			cprof__units_percentage(pct, sizeof(pct), (int64_t)ns, p->duration_nanos);
			snprintf(b3, sizeof(b3), "(%s)", pct);
		}
		/* pprof leaves the space before an absent ratio, so do we. */
		fprintf(out, "Duration: %s, Total samples = %s %s\n",
			cprof__units_label(b1, sizeof(b1), p->duration_nanos, "nanoseconds", "auto"),
			cprof__report_format(r, b2, sizeof(b2), r->total), b3);
	}
}

static const char *trim_space(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

void cprof__report_labels(const struct report *r, const struct rgraph *g, int orig_count,
			  int dropped_nodes, int dropped_edges, FILE *out)
{
	char b1[128], b2[64], b3[128];
	if (!r->opt.compact_labels)
		profile_labels(r, out);
	int64_t flat_sum = 0;
	for (size_t i = 0; i < g->nnode; i++)
		flat_sum += cprof__rnode_flat(&g->node[i]);
	cprof__report_active_filters(&r->opt, out);
	fprintf(out, "Showing nodes accounting for %s, %s of %s total\n",
		cprof__report_format(r, b1, sizeof(b1), flat_sum),
		trim_space(cprof__units_percentage(b2, sizeof(b2), flat_sum, r->total)),
		cprof__report_format(r, b3, sizeof(b3), r->total));
	if (r->total == 0)
		return;
	double nf = r->opt.trim ? r->opt.nodefraction : 0;
	double ef = r->opt.trim ? r->opt.edgefraction : 0;
	if (dropped_nodes > 0)
		fprintf(out, "Dropped %d node%s (cum <= %s)\n", dropped_nodes,
			dropped_nodes > 1 ? "s" : "",
			cprof__report_format(r, b1, sizeof(b1),
					     cprof__report_abs64((int64_t)((double)r->total * nf))));
	if (dropped_edges > 0)
		fprintf(out, "Dropped %d edge%s (freq <= %s)\n", dropped_edges,
			dropped_edges > 1 ? "s" : "",
			cprof__report_format(r, b1, sizeof(b1),
					     cprof__report_abs64((int64_t)((double)r->total * ef))));
	if (g->nnode > 0 && (int)g->nnode < orig_count)
		fprintf(out, "Showing top %zu nodes out of %d\n", g->nnode, orig_count);
}

void cprof__report_active_filters(const struct report_options *o, FILE *out)
{
	const char *const name[] = {"focus", "ignore", "hide", "show", "show_from",
				    "tagfocus", "tagignore", "tagshow", "taghide"};
	const char *const val[] = {o->focus, o->ignore, o->hide, o->show, o->show_from,
				   o->tagfocus, o->tagignore, o->tagshow, o->taghide};
	bool first = true;
	for (size_t i = 0; i < sizeof(name) / sizeof(name[0]); i++) {
		if (!val[i] || !val[i][0])
			continue;
		if (first)
			fputs("Active filters:\n", out);
		first = false;
		/* legendActiveFilters cuts "name=value" at 80 bytes, even inside a character. */
		size_t n = strlen(name[i]) + 1 + strlen(val[i]);
		if (n > 80) {
			size_t keep = 80 - strlen(name[i]) - 1;
			if (strlen(name[i]) + 1 >= 80)
				fprintf(out, "   %.80s\xe2\x80\xa6\n", name[i]);
			else
				fprintf(out, "   %s=%.*s\xe2\x80\xa6\n", name[i], (int)keep, val[i]);
		} else {
			fprintf(out, "   %s=%s\n", name[i], val[i]);
		}
	}
}

FILE *cprof__report_open_output(const char *path, char *err, size_t errlen)
{
	if (!path || !path[0])
		return stdout;
	/* driver.generateReport announces the file on stderr. */
	fprintf(stderr, "Generating report in %s\n", path);
	FILE *f = fopen(path, "w");
	if (!f)
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
	return f;
}

int cprof__report_close_output(FILE *f, const char *path, char *err, size_t errlen)
{
	int rc = 0;
	if (fflush(f) != 0 || ferror(f)) {
		snprintf(err, errlen, "writing %s: %s", path && path[0] ? path : "the report",
			 strerror(errno));
		rc = -1;
	}
	if (f != stdout && fclose(f) != 0 && rc == 0) {
		snprintf(err, errlen, "writing %s: %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}
