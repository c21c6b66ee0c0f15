/*
 * traces.c - the -traces report (pprof's printTraces): the profile's header
 * lines, then every sample in the order pprof keeps them (cprof__report_compact)
 * between separators: its string labels, its numeric labels, and its stack,
 * innermost frame first, with the sample value on the first frame and
 * "(inline)" on frames inlined into the next one.
 *
 * Frame names are pprof's node names at the report's granularity; the graph
 * engine (graph.c) is not used, as pprof does not use a graph here either.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"
#include "common/path.h"

/* filepath.Base */
static void base_name(const char *path, FILE *f)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0) {
		fputc('.', f);
		return;
	}
	if (n == 1 && path[0] == '/') {
		fputc('/', f);
		return;
	}
	size_t s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	fprintf(f, "%.*s", (int)(n - s), path + s);
}

/* filepath.Clean, for names that are not empty. */
static void clean_path(const char *path, FILE *f)
{
	char *c = cprof__path_clean(path);
	fputs(c ? c : path, f);
	free(c);
}

char *cprof__report_frame_name(const struct profile *p, const struct report_options *o,
			       const struct pp_location *loc, const struct pp_line *line)
{
	/* driver.aggregate: what profile.Aggregate keeps at this granularity. */
	bool function = true, filename = false, linenumber = false, address = false;
	switch (o->granularity) {
	case REPORT_ADDRESSES:
		filename = linenumber = address = true;
		break;
	case REPORT_LINES:
		filename = linenumber = true;
		break;
	case REPORT_FILES:
		function = false;
		filename = true;
		break;
	case REPORT_FILEFUNCTIONS:
		filename = true;
		break;
	case REPORT_FUNCTIONS:
		break;
	}
	const struct pp_mapping *m = loc->mapping_id ? cprof__profile_mapping(p, loc->mapping_id) : NULL;
	const char *objfile = m ? cprof__profile_str(p, m->filename) : "";
	const struct pp_function *fn = line ? cprof__profile_function(p, line->function_id) : NULL;
	char *out = NULL, *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	const char *sep = "";
	if (address && loc->address) {
		fprintf(f, "%016llx", (unsigned long long)loc->address);
		sep = " ";
	}
	const char *name = fn && function ? cprof__report_function_name(p, fn, &buf) : "";
	const char *file = fn && filename ? cprof__profile_str(p, fn->filename) : "";
	int64_t lineno = fn && linenumber ? line->line : 0;
	if (name[0]) {
		fprintf(f, "%s%s", sep, name);
		sep = " ";
	}
	if (lineno) {
		fputs(sep, f);
		if (file[0])
			clean_path(file, f);
		fprintf(f, ":%lld", (long long)lineno);
	} else if (file[0]) {
		fputs(sep, f);
		clean_path(file, f);
	} else if (name[0]) {
		/* the function name says it all */
	} else if (objfile[0]) {
		fprintf(f, "%s[", sep);
		base_name(objfile, f);
		fputc(']', f);
	} else {
		fprintf(f, "%s<unknown>", sep);
	}
	free(buf);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * pprof's ProfileLabels (File, Build ID, comments, Type, Time, Duration):
 * report.c prints them ahead of the active filters and the "Showing nodes"
 * line (the last line written for an empty graph), which are dropped here.
 */
static int profile_labels(const struct report *r, FILE *out)
{
	struct report rc = *r;
	struct rgraph empty = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	rc.opt.compact_labels = false;
	cprof__report_labels(&rc, &empty, 0, 0, 0, f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	while (len > 0 && buf[len - 1] != '\n')
		len--;
	/* ProfileLabels has no "Active filters:" lines; report_labels prints them last. */
	char *filt = NULL;
	size_t flen = 0;
	FILE *ff = open_memstream(&filt, &flen);
	if (!ff) {
		free(buf);
		return -ENOMEM;
	}
	cprof__report_active_filters(&r->opt, ff);
	if (fclose(ff) != 0) {
		free(buf);
		return -ENOMEM;
	}
	if (flen > 0 && flen <= len && memcmp(buf + len - flen, filt, flen) == 0)
		len -= flen;
	free(filt);
	if (len > 0)
		len--; /* the newline Join does not write */
	fwrite(buf, 1, len, out);
	fputc('\n', out);
	free(buf);
	return 0;
}

int cprof__report_num_label_unit(const struct profile *p, const char *key, const char **unit)
{
	for (size_t i = 0; i < p->nsample; i++)
		for (size_t j = 0; j < p->sample[i].nlabel; j++) {
			const struct pp_label *l = &p->sample[i].label[j];
			if (l->str == 0 && l->num_unit != 0 &&
			    strcmp(cprof__profile_str(p, l->key), key) == 0) {
				*unit = cprof__profile_str(p, l->num_unit);
				return 0;
			}
		}
	*unit = strcmp(key, "alignment") == 0 || strcmp(key, "request") == 0 ? "bytes" : key;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "%10s:  v1 v2\n" lines of one kind of label, sorted as strings. */
static int sample_labels(const struct profile *p, const struct pp_sample *sm, bool num, FILE *out)
{
	char **lines = calloc(sm->nlabel + 1, sizeof(*lines));
	size_t n = 0;
	int rc = -ENOMEM;
	if (!lines)
		return rc;
	for (size_t i = 0; i < sm->nlabel; i++) {
		const struct pp_label *l = &sm->label[i];
		bool is_num = l->str == 0;
		if (is_num != num)
			continue;
		const char *key = cprof__profile_str(p, l->key);
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = (sm->label[j].str == 0) == num &&
			       strcmp(cprof__profile_str(p, sm->label[j].key), key) == 0;
		if (seen)
			continue;
		const char *unit = NULL;
		if (num)
			cprof__report_num_label_unit(p, key, &unit);
		size_t len = 0;
		FILE *f = open_memstream(&lines[n], &len);
		if (!f)
			goto out;
		n++;
		fprintf(f, "%10s:  ", key);
		const char *sep = "";
		for (size_t j = i; j < sm->nlabel; j++) {
			const struct pp_label *m = &sm->label[j];
			if ((m->str == 0) != num || strcmp(cprof__profile_str(p, m->key), key) != 0)
				continue;
			if (num) {
				char b[128];
				fprintf(f, "%s%s", sep, cprof__units_label(b, sizeof(b), m->num, unit, "auto"));
			} else {
				fprintf(f, "%s%s", sep, cprof__profile_str(p, m->str));
			}
			sep = " ";
		}
		fputc('\n', f);
		if (fclose(f) != 0)
			goto out;
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < n; i++)
		fputs(lines[i], out);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return rc;
}

/*
 * Output is gathered in a local buffer and written with fwrite in large
 * chunks: a -traces report of a big profile is hundreds of megabytes of
 * short lines, which fprintf (and a 4 KiB stdio buffer) makes slow.
 */
struct obuf {
	FILE *f;
	size_t n;
	char b[1 << 16];
};

static void ob_flush(struct obuf *o)
{
	if (o->n)
		fwrite(o->b, 1, o->n, o->f);
	o->n = 0;
}

static void ob_put(struct obuf *o, const char *s, size_t n)
{
	if (o->n + n > sizeof(o->b)) {
		ob_flush(o);
		if (n > sizeof(o->b)) {
			fwrite(s, 1, n, o->f);
			return;
		}
	}
	memcpy(o->b + o->n, s, n);
	o->n += n;
}

/*
 * One frame line without its value column: ten spaces (where the first
 * frame's value goes), three more, the name and " (inline)" when inlined.
 */
struct frame_line {
	char *s;
	size_t len;
};

#define VALUE_WIDTH 10

/* A formatted sample value. */
struct vcache {
	int64_t v;
	bool set;
	size_t len;
	char s[128]; /* as cprof__report_format's callers */
};

static char *frame_line(const struct profile *p, const struct report_options *o,
			const struct pp_location *l, size_t k, size_t n, size_t *len)
{
	char *name = cprof__report_frame_name(p, o, l, l->nline ? &l->line[k] : NULL);
	if (!name)
		return NULL;
	const char *inl = k != n - 1 ? " (inline)" : "";
	size_t nl = strlen(name), il = strlen(inl);
	char *s = malloc(VALUE_WIDTH + 3 + nl + il + 2);
	if (s) {
		memset(s, ' ', VALUE_WIDTH + 3);
		memcpy(s + VALUE_WIDTH + 3, name, nl);
		memcpy(s + VALUE_WIDTH + 3 + nl, inl, il);
		s[VALUE_WIDTH + 3 + nl + il] = '\n';
		s[VALUE_WIDTH + 3 + nl + il + 1] = '\0';
		*len = VALUE_WIDTH + 3 + nl + il + 1;
	}
	free(name);
	return s;
}

int cprof__report_traces(struct report *r, FILE *out)
{
	static const char separator[] =
		"-----------+-------------------------------------------------------\n";
	const struct profile *p = r->prof;
	int rc = -ENOMEM;
	/* The lines of every location's frames, at lines[first[li] + k]. */
	size_t *first = malloc((p->nlocation + 1) * sizeof(*first));
	if (!first)
		return rc;
	first[0] = 0;
	for (size_t i = 0; i < p->nlocation; i++)
		first[i + 1] = first[i] + (p->location[i].nline ? p->location[i].nline : 1);
	struct frame_line *lines = calloc(first[p->nlocation] + 1, sizeof(*lines));
	struct obuf *ob = malloc(sizeof(*ob));
	struct vcache *vc = calloc(4096, sizeof(*vc));
	if (!lines || !ob || !vc)
		goto out;
	ob->f = out;
	ob->n = 0;
	/*
	 * Names first, so that running out of memory prints nothing: those of
	 * every location (the samples hold those of the compacted profile).
	 */
	for (size_t li = 0; li < p->nlocation; li++) {
		const struct pp_location *l = &p->location[li];
		size_t n = l->nline ? l->nline : 1;
		/* -noinlines keeps the physical (last) line only. */
		for (size_t k = r->opt.noinlines ? n - 1 : 0; k < n; k++) {
			struct frame_line *fl = &lines[first[li] + k];
			fl->s = frame_line(p, &r->opt, l, k, n, &fl->len);
			if (!fl->s)
				goto out;
		}
	}
	if (profile_labels(r, out) < 0)
		goto out;
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *sm = &p->sample[i];
		bool any = false;
		for (size_t j = 0; j < sm->nlocation && !any; j++)
			any = cprof__profile_location(p, sm->location_id[j]) != NULL;
		if (!any)
			continue;
		ob_put(ob, separator, sizeof(separator) - 1);
		if (sm->nlabel) {
			ob_flush(ob);
			if (sample_labels(p, sm, false, out) < 0 || sample_labels(p, sm, true, out) < 0)
				goto out;
		}
		int64_t v = sm->value[r->value_index];
		if (r->opt.mean && sm->value[0] != 0)
			v /= sm->value[0];
		bool firstline = true;
		for (size_t j = 0; j < sm->nlocation; j++) {
			const struct pp_location *l = cprof__profile_location(p, sm->location_id[j]);
			if (!l)
				continue;
			size_t li = (size_t)(l - p->location), n = l->nline ? l->nline : 1;
			for (size_t k = r->opt.noinlines ? n - 1 : 0; k < n; k++) {
				const struct frame_line *fl = &lines[first[li] + k];
				if (!firstline) {
					ob_put(ob, fl->s, fl->len);
					continue;
				}
				/* "%10s"; values repeat: formatted once each (a cache of 4096) */
				struct vcache *c = &vc[((uint64_t)v * 0x9E3779B97F4A7C15ULL) >> 52];
				if (!c->set || c->v != v) {
					c->s[0] = '\0';
					cprof__report_format(r, c->s, sizeof(c->s), v);
					c->len = strlen(c->s);
					c->v = v;
					c->set = true;
				}
				const char *b = c->s;
				size_t bl = c->len;
				if (bl < VALUE_WIDTH)
					ob_put(ob, fl->s, VALUE_WIDTH - bl);
				ob_put(ob, b, bl);
				ob_put(ob, fl->s + VALUE_WIDTH, fl->len - VALUE_WIDTH);
				firstline = false;
			}
		}
	}
	ob_put(ob, separator, sizeof(separator) - 1);
	ob_flush(ob);
	rc = ferror(out) ? -EIO : 0;
out:
	if (lines)
		for (size_t i = 0; i < first[p->nlocation]; i++)
			free(lines[i].s);
	free(lines);
	free(first);
	free(ob);
	free(vc);
	return rc;
}
