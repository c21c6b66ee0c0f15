/*
 * webui_data.c - the data behind each view of the web UI, made by the
 * report engine under report/ and packed for the browser: the top table's rows
 * (report.c's trimmed graph), the call graph (dot.c through Graphviz), peek
 * (tree.c), source (weblist.c) and disassembly (disasm.c), the profile
 * download (protoout.c). The flame graph's tree is webui_flame.c's.
 *
 * It owns only the packing and the per-view option overrides (pprof's
 * applyCommandOverrides); drawing is the browser's (web/).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/webui.h"

static void json_str(FILE *f, const char *s)
{
	char esc[7];
	fputc('"', f);
	while (s && *s) {
		size_t n = cprof__webui_json_run(s, esc);
		fwrite(s, 1, n, f);
		s += n;
		if (!*s)
			break;
		fputs(esc, f);
		s++;
	}
	fputc('"', f);
}

/* A body built with stdio into memory. */
struct body {
	FILE *f;
	char *buf;
	size_t len;
};

static int body_open(struct body *b)
{
	b->buf = NULL;
	b->len = 0;
	b->f = open_memstream(&b->buf, &b->len);
	return b->f ? 0 : -ENOMEM;
}

static int body_close(struct body *b, int rc, struct webui_reply *out, const char *type)
{
	if (fclose(b->f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc < 0) {
		free(b->buf);
		return rc;
	}
	out->data = b->buf;
	out->len = b->len;
	out->type = type;
	return 0;
}

static const char *value_type(const struct profile *p, size_t i, bool unit)
{
	const struct pp_valuetype *t = &p->sample_type[i];
	int64_t s = unit ? t->unit : t->type;
	return s >= 0 && (size_t)s < p->nstrings ? p->strings[s] : "";
}

/* Whether any sample value is negative: a -base or -diff_base profile. */
static bool is_diff(const struct profile *p)
{
	for (size_t s = 0; s < p->nsample; s++)
		for (size_t v = 0; v < p->sample[s].nvalue; v++)
			if (p->sample[s].value[v] < 0)
				return true;
	return false;
}

static int meta(const struct profile *p, int value_index, FILE *f)
{
	fputs("{\"types\":[", f);
	for (size_t i = 0; i < p->nsample_type; i++) {
		fputs(i ? ",{\"type\":" : "{\"type\":", f);
		json_str(f, value_type(p, i, false));
		fputs(",\"unit\":", f);
		json_str(f, value_type(p, i, true));
		fputc('}', f);
	}
	fprintf(f, "],\"index\":%d,\"diff\":%s,\"file\":", value_index,
		is_diff(p) ? "true" : "false");
	const char *file = "";
	if (p->nmapping && p->mapping[0].filename > 0 && (size_t)p->mapping[0].filename < p->nstrings)
		file = p->strings[p->mapping[0].filename];
	json_str(f, strrchr(file, '/') ? strrchr(file, '/') + 1 : file);
	fputs(",\"comments\":[", f);
	for (size_t i = 0; i < p->ncomment; i++) {
		if (i)
			fputc(',', f);
		json_str(f, p->comment[i] >= 0 && (size_t)p->comment[i] < p->nstrings
				    ? p->strings[p->comment[i]] : "");
	}
	fputs("]}", f);
	return ferror(f) ? -ENOMEM : 0;
}

/* ---- top ---- */

static int top(struct report *r, FILE *f)
{
	int orig, dn, de;
	struct rgraph *g = cprof__report_graph(r, &orig, &dn, &de);
	if (!g)
		return -ENOMEM;
	char *lbl = NULL;
	size_t llen = 0;
	FILE *lf = open_memstream(&lbl, &llen);
	if (!lf) {
		cprof__rgraph_free(g);
		return -ENOMEM;
	}
	cprof__report_labels(r, g, orig, dn, 0, lf);
	fclose(lf);
	fputs("{\"labels\":", f);
	json_str(f, lbl ? lbl : "");
	free(lbl);
	char b[128];
	fprintf(f, ",\"total\":%lld,\"totalText\":", (long long)r->total);
	json_str(f, cprof__report_format(r, b, sizeof(b), r->total));
	fputs(",\"rows\":[", f);
	for (size_t i = 0; i < g->nnode; i++) {
		const struct rnode *n = &g->node[i];
		const char *inl = cprof__rnode_inline(g, n);
		int64_t flat = cprof__rnode_flat(n), cum = cprof__rnode_cum(n);
		fprintf(f, "%s{\"flat\":%lld,\"cum\":%lld,\"flatText\":", i ? "," : "",
			(long long)flat, (long long)cum);
		json_str(f, cprof__report_format(r, b, sizeof(b), flat));
		fputs(",\"cumText\":", f);
		json_str(f, cprof__report_format(r, b, sizeof(b), cum));
		fputs(",\"name\":", f);
		json_str(f, n->printable);
		fputs(",\"func\":", f);
		json_str(f, n->info.name);
		fprintf(f, ",\"inline\":\"%s\"}", inl);
	}
	fputs("]}", f);
	cprof__rgraph_free(g);
	return ferror(f) ? -ENOMEM : 0;
}

/* ---- function selection of peek, source and disassembly ---- */

static void re_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\^$.|?*+()[]{}", *s))
			fputc('\\', f);
		fputc(*s, f);
	}
}

/*
 * The functions a view shows: the f parameter as pprof uses it, else the
 * ten with the most flat value ("^(a|b|...)$"). NULL with -ENOENT when the
 * profile has none. malloc'd.
 */
static char *default_symbol(const struct profile *p, const struct report_options *base, int *rc)
{
	struct report_options o = *base;
	o.format = REPORT_TEXT;
	o.granularity = REPORT_FUNCTIONS;
	o.nodecount = 10;
	o.cum_sort = false;
	char err[256];
	struct report r;
	*rc = -EINVAL;
	if (cprof__report_init(&r, p, &o, err, sizeof(err)) < 0)
		return NULL;
	int orig, dn, de;
	struct rgraph *g = cprof__report_graph(&r, &orig, &dn, &de);
	char *s = NULL;
	size_t len = 0;
	FILE *f = g ? open_memstream(&s, &len) : NULL;
	*rc = -ENOMEM;
	if (f) {
		fputs("^(", f);
		size_t k = 0;
		for (size_t i = 0; i < g->nnode && k < 10; i++) {
			if (!g->node[i].info.name[0] || cprof__rnode_flat(&g->node[i]) == 0)
				continue;
			if (k++)
				fputc('|', f);
			re_escape(f, g->node[i].info.name);
		}
		fputs(")$", f);
		if (fclose(f) != 0) {
			free(s);
			s = NULL;
		} else if (k == 0) {
			free(s);
			s = NULL;
			*rc = -ENOENT;
		}
	}
	cprof__rgraph_free(g);
	cprof__report_release(&r);
	return s;
}

/* peek, source, disasm: the report for one regexp, as cmd_pprof.c sets them up. */
static int by_symbol(const struct profile *p, struct report_options *o, const char *what,
		     struct body *b, const char **type, char *err, size_t errlen)
{
	int rc = 0;
	char *dflt = NULL;
	o->symbol = o->focus;
	if (!o->symbol) {
		if (!(dflt = default_symbol(p, o, &rc))) {
			if (rc != -ENOENT)
				return rc;
			fputs("The profile has no functions with samples to show.\n", b->f);
			*type = "text/plain; charset=utf-8";
			return 1; /* a note, not a failure */
		}
		o->symbol = dflt;
	}
	o->trim = false;
	if (strcmp(what, "peek") == 0) {
		o->format = REPORT_PEEK;
		*type = "text/plain; charset=utf-8";
	} else if (strcmp(what, "disasm") == 0) {
		o->format = REPORT_DISASM;
		*type = "text/plain; charset=utf-8";
	} else {
		o->format = REPORT_WEBLIST;
		*type = "text/html; charset=utf-8";
	}
	regex_t re;
	if (cprof__filter_regcomp(&re, o->symbol, err, errlen) < 0) {
		free(dflt);
		return -EINVAL;
	}
	struct profile *compact = NULL;
	if (o->format != REPORT_PEEK && !(compact = cprof__report_compact(p))) {
		regfree(&re);
		free(dflt);
		return -ENOMEM;
	}
	struct report r;
	if (cprof__report_init(&r, compact ? compact : p, o, err, errlen) < 0) {
		rc = -EINVAL;
		goto out;
	}
	if (compact)
		cprof__report_drop_unlocated(compact);
	if (o->format == REPORT_PEEK)
		rc = cprof__report_tree(&r, &re, b->f);
	else if (o->format == REPORT_DISASM)
		rc = cprof__report_disasm(&r, &re, b->f, err, errlen);
	else
		rc = cprof__report_weblist(&r, &re, b->f);
	if (rc == -ENOENT)
		snprintf(err, errlen, "no matches found for regexp: %s", o->symbol);
	if (rc == -ENOENT || rc == -EINVAL) {
		/* nothing to show for this profile (no match, no binary, no objdump): said, not failed */
		fprintf(b->f, "%s\n", err);
		*type = "text/plain; charset=utf-8";
		rc = 1;
	}
	cprof__report_release(&r);
out:
	cprof__profile_free(compact);
	regfree(&re);
	free(dflt);
	return rc;
}

int cprof__webui_data(const struct profile *p, const struct report_options *base, const char *what,
		      struct webui_reply *out, char *err, size_t errlen)
{
	struct report_options o = *base;
	struct body b;
	const char *type = "application/json";
	int rc;
	bool known = strcmp(what, "meta") == 0 || strcmp(what, "top") == 0 || strcmp(what, "graph") == 0 ||
		     strcmp(what, "peek") == 0 || strcmp(what, "source") == 0 ||
		     strcmp(what, "disasm") == 0;
	if (!known) {
		snprintf(err, errlen, "no data named \"%s\"", what);
		return -ENOENT;
	}
	if (body_open(&b) < 0)
		return -ENOMEM;
	if (strcmp(what, "meta") == 0) {
		/* the sample types and the one chosen: no report needed (filters are the views' to apply) */
		int idx = cprof__report_sample_index(p, o.sample_index, err, errlen);
		if (idx < 0) {
			body_close(&b, -EINVAL, out, type);
			return -EINVAL;
		}
		return body_close(&b, meta(p, idx, b.f), out, type);
	}
	if (strcmp(what, "peek") == 0 || strcmp(what, "source") == 0 || strcmp(what, "disasm") == 0) {
		rc = by_symbol(p, &o, what, &b, &type, err, errlen);
		if (rc == -ENOENT)
			rc = -EINVAL;
		out->note = rc == 1;
		return body_close(&b, rc == 1 ? 0 : rc, out, type);
	}
	if (strcmp(what, "top") == 0) {
		o.format = REPORT_TEXT;
		if (o.nodecount < 0)
			o.nodecount = 500; /* pprof's top view */
	} else if (strcmp(what, "graph") == 0) {
		o.format = REPORT_GRAPHVIZ;
		o.graph_format = "svg";
		if (o.nodecount < 0)
			o.nodecount = 80;
		type = "image/svg+xml";
	}
	struct report r;
	if (cprof__report_init(&r, p, &o, err, errlen) < 0) {
		body_close(&b, -EINVAL, out, type);
		return -EINVAL;
	}
	if (strcmp(what, "top") == 0) {
		rc = top(&r, b.f);
	} else {
		rc = cprof__report_graphviz(&r, "svg", b.f);
		if (rc == -ENOENT) {
			snprintf(err, errlen, "Could not execute dot; may need to install graphviz.");
			rc = -ENOSYS;
		} else if (rc == -EIO) {
			snprintf(err, errlen, "Graphviz's dot failed");
			rc = -EINVAL;
		}
	}
	cprof__report_release(&r);
	return body_close(&b, rc, out, type);
}

int cprof__webui_download(const struct profile *p, const struct report_options *base,
			  struct webui_reply *out, char *err, size_t errlen)
{
	/* -proto's overrides: the whole (filtered) profile at its addresses */
	struct report_options o = *base;
	o.format = REPORT_PROTO;
	o.granularity = REPORT_ADDRESSES;
	o.noinlines = false;
	o.trim = false;
	struct body b;
	if (body_open(&b) < 0)
		return -ENOMEM;
	struct report r;
	if (cprof__report_init(&r, p, &o, err, errlen) < 0) {
		body_close(&b, -EINVAL, out, NULL);
		return -EINVAL;
	}
	int rc = cprof__report_proto(&r, b.f);
	cprof__report_release(&r);
	rc = body_close(&b, rc < 0 ? rc : 0, out, "application/vnd.google.protobuf+gzip");
	out->disposition = "attachment;filename=profile.pb.gz";
	return rc;
}
