/*
 * merge.c - several profiles given to "cprof pprof" become one, as pprof's
 * profile.Merge does for several sources: same period type and sample
 * types required, headers combined the way combineHeaders combines them
 * (earliest non-zero time, summed durations, largest period, comments once,
 * the first default_sample_type), mapping[0] of the first profile that has
 * mappings stays first (it names the "File:" header).
 *
 * It also owns -base and -diff_base (fetch.go): the base is scaled by -1
 * (by its ratio to the source first, with -normalize), its samples labeled
 * pprof::base=true for -diff_base, and merged after the source.
 *
 * Samples, locations and functions are copied with renumbered ids rather
 * than deduplicated: sums, and so every graph report, are the same. Unit
 * conversion between profiles (pprof's ScaleProfiles) is not done; units
 * must match exactly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"

static bool same_type(const struct profile *a, const struct pp_valuetype *va,
		      const struct profile *b, const struct pp_valuetype *vb)
{
	return strcmp(cprof__profile_str(a, va->type), cprof__profile_str(b, vb->type)) == 0 &&
	       strcmp(cprof__profile_str(a, va->unit), cprof__profile_str(b, vb->unit)) == 0;
}

static void types_text(const struct profile *p, char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < p->nsample_type && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s/%s", i ? " " : "",
					cprof__profile_str(p, p->sample_type[i].type),
					cprof__profile_str(p, p->sample_type[i].unit));
}

static int compatible(const struct profile *a, const struct profile *b, char *err, size_t errlen)
{
	bool ok = a->nsample_type == b->nsample_type;
	for (size_t i = 0; ok && i < a->nsample_type; i++)
		ok = same_type(a, &a->sample_type[i], b, &b->sample_type[i]);
	if (!ok) {
		char ta[512], tb[512];
		types_text(a, ta, sizeof(ta));
		types_text(b, tb, sizeof(tb));
		snprintf(err, errlen, "incompatible sample types [%s] and [%s]", ta, tb);
		return -1;
	}
	if (!same_type(a, &a->period_type, b, &b->period_type)) {
		snprintf(err, errlen, "incompatible period types %s/%s and %s/%s",
			 cprof__profile_str(a, a->period_type.type), cprof__profile_str(a, a->period_type.unit),
			 cprof__profile_str(b, b->period_type.type), cprof__profile_str(b, b->period_type.unit));
		return -1;
	}
	return 0;
}

static int64_t s(struct profile *q, const struct profile *p, int64_t idx)
{
	return cprof__profile_intern(q, cprof__profile_str(p, idx), (size_t)-1);
}

static bool has_comment(const struct profile *q, const char *c)
{
	for (size_t i = 0; i < q->ncomment; i++)
		if (strcmp(cprof__profile_str(q, q->comment[i]), c) == 0)
			return true;
	return false;
}

/* Copy p's mappings, functions, locations and samples into q. */
static int append(struct profile *q, const struct profile *p)
{
	size_t map0 = q->nmapping, fn0 = q->nfunction, loc0 = q->nlocation;
	int rc = -1;
	uint64_t *ids = NULL;
	struct pp_line *lines = NULL;
	struct pp_label *labels = NULL;

	/*
	 * pprof gives a profile without mappings one empty mapping that all
	 * its locations use (fetch.go locateBinaries); merged first, it hides
	 * the File: line of the profiles after it.
	 */
	if (p->nmapping == 0 && !cprof__profile_add_mapping(q))
		goto out;
	for (size_t i = 0; i < p->nmapping; i++) {
		const struct pp_mapping *m = &p->mapping[i];
		struct pp_mapping *n = cprof__profile_add_mapping(q);
		if (!n)
			goto out;
		uint64_t id = n->id;
		*n = *m;
		n->id = id;
		n->filename = s(q, p, m->filename);
		n->build_id = s(q, p, m->build_id);
	}
	for (size_t i = 0; i < p->nfunction; i++) {
		const struct pp_function *f = &p->function[i];
		struct pp_function *n = cprof__profile_add_function(q, cprof__profile_str(p, f->name),
			cprof__profile_str(p, f->system_name), cprof__profile_str(p, f->filename),
			f->start_line);
		if (!n)
			goto out;
	}
	for (size_t i = 0; i < p->nlocation; i++) {
		const struct pp_location *l = &p->location[i];
		free(lines);
		lines = calloc(l->nline + 1, sizeof(*lines));
		if (!lines)
			goto out;
		for (size_t j = 0; j < l->nline; j++) {
			const struct pp_function *f = cprof__profile_function(p, l->line[j].function_id);
			lines[j] = l->line[j];
			lines[j].function_id = f ? fn0 + (size_t)(f - p->function) + 1 : 0;
		}
		const struct pp_mapping *m = l->mapping_id ? cprof__profile_mapping(p, l->mapping_id) : NULL;
		uint64_t mid = m ? map0 + (size_t)(m - p->mapping) + 1 : p->nmapping == 0 ? map0 + 1 : 0;
		struct pp_location *n = cprof__profile_add_location(q, mid, l->address, lines, l->nline);
		if (!n)
			goto out;
		n->is_folded = l->is_folded;
	}
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *sm = &p->sample[i];
		free(ids);
		free(labels);
		ids = calloc(sm->nlocation + 1, sizeof(*ids));
		labels = calloc(sm->nlabel + 1, sizeof(*labels));
		if (!ids || !labels)
			goto out;
		for (size_t j = 0; j < sm->nlocation; j++) {
			const struct pp_location *l = cprof__profile_location(p, sm->location_id[j]);
			ids[j] = l ? loc0 + (size_t)(l - p->location) + 1 : 0;
		}
		for (size_t j = 0; j < sm->nlabel; j++) {
			labels[j] = sm->label[j];
			labels[j].key = s(q, p, sm->label[j].key);
			labels[j].str = s(q, p, sm->label[j].str);
			labels[j].num_unit = s(q, p, sm->label[j].num_unit);
		}
		if (!cprof__profile_add_sample(q, ids, sm->nlocation, sm->value, sm->nvalue,
					       labels, sm->nlabel))
			goto out;
	}
	rc = 0;
out:
	free(ids);
	free(lines);
	free(labels);
	return rc;
}

struct profile *cprof__report_merge(struct profile *const *p, size_t n, char *err, size_t errlen)
{
	if (n == 0) {
		snprintf(err, errlen, "no profiles to merge");
		return NULL;
	}
	for (size_t i = 1; i < n; i++)
		if (compatible(p[0], p[i], err, errlen) < 0)
			return NULL;
	struct profile *q = cprof__profile_new();
	if (!q)
		goto oom;
	for (size_t i = 0; i < p[0]->nsample_type; i++)
		if (!cprof__profile_add_sample_type(q, cprof__profile_str(p[0], p[0]->sample_type[i].type),
						    cprof__profile_str(p[0], p[0]->sample_type[i].unit)))
			goto oom;
	q->period_type.type = s(q, p[0], p[0]->period_type.type);
	q->period_type.unit = s(q, p[0], p[0]->period_type.unit);
	q->drop_frames = s(q, p[0], p[0]->drop_frames);
	q->keep_frames = s(q, p[0], p[0]->keep_frames);
	for (size_t i = 0; i < n; i++) {
		/* combineHeaders: note a zero time resets the earliest one, as in pprof. */
		if (q->time_nanos == 0 || p[i]->time_nanos < q->time_nanos)
			q->time_nanos = p[i]->time_nanos;
		q->duration_nanos += p[i]->duration_nanos;
		if (q->period == 0 || q->period < p[i]->period)
			q->period = p[i]->period;
		for (size_t c = 0; c < p[i]->ncomment; c++) {
			const char *text = cprof__profile_str(p[i], p[i]->comment[c]);
			if (!has_comment(q, text) && cprof__profile_add_comment(q, text) < 0)
				goto oom;
		}
		if (q->default_sample_type == 0)
			q->default_sample_type = s(q, p[i], p[i]->default_sample_type);
		if (q->doc_url == 0)
			q->doc_url = s(q, p[i], p[i]->doc_url);
		if (append(q, p[i]) < 0)
			goto oom;
	}
	return q;
oom:
	cprof__profile_free(q);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/*
 * profile.ScaleN: each value times its ratio, rounded; a sample whose
 * scaled values are all zero is dropped.
 */
static void scale_n(struct profile *p, const double *ratio)
{
	bool all_ones = true;
	for (size_t i = 0; i < p->nsample_type; i++)
		all_ones = all_ones && ratio[i] == 1;
	if (all_ones)
		return;
	size_t w = 0;
	for (size_t i = 0; i < p->nsample; i++) {
		struct pp_sample *sm = &p->sample[i];
		bool keep = false;
		for (size_t j = 0; j < sm->nvalue && j < p->nsample_type; j++) {
			if (ratio[j] == 1)
				continue;
			sm->value[j] = (int64_t)round((double)sm->value[j] * ratio[j]);
			keep = keep || sm->value[j] != 0;
		}
		if (keep) {
			p->sample[w++] = *sm;
		} else {
			free(sm->location_id);
			free(sm->value);
			free(sm->label);
		}
	}
	p->nsample = w;
}

/* Sample.SetLabel("pprof::base", ["true"]) on every sample. */
static int set_base_label(struct profile *p)
{
	int64_t key = cprof__profile_intern(p, "pprof::base", (size_t)-1);
	int64_t val = cprof__profile_intern(p, "true", (size_t)-1);
	if (key < 0 || val < 0)
		return -1;
	for (size_t i = 0; i < p->nsample; i++) {
		struct pp_sample *sm = &p->sample[i];
		size_t w = 0;
		for (size_t j = 0; j < sm->nlabel; j++)
			if (!(sm->label[j].key == key && sm->label[j].str != 0))
				sm->label[w++] = sm->label[j];
		struct pp_label *l = realloc(sm->label, (w + 1) * sizeof(*l));
		if (!l)
			return -1;
		l[w] = (struct pp_label){.key = key, .str = val};
		sm->label = l;
		sm->nlabel = w + 1;
	}
	return 0;
}

struct profile *cprof__report_merge_base(const struct profile *src, const struct profile *base,
					 bool diff, bool normalize, char *err, size_t errlen)
{
	if (compatible(src, base, err, errlen) < 0)
		return NULL;
	struct profile *const one_src[1] = {(struct profile *)src};
	struct profile *const one_base[1] = {(struct profile *)base};
	struct profile *p = cprof__report_merge(one_src, 1, err, errlen);
	struct profile *b = p ? cprof__report_merge(one_base, 1, err, errlen) : NULL;
	struct profile *q = NULL;
	double *ratio = calloc(src->nsample_type + 1, sizeof(double));
	if (!p || !b || !ratio)
		goto out;
	if (diff && set_base_label(b) < 0)
		goto oom;
	if (normalize) {
		/* profile.Normalize: the source scaled to the base's totals. */
		for (size_t i = 0; i < p->nsample_type; i++) {
			int64_t bv = 0, sv = 0;
			for (size_t j = 0; j < b->nsample; j++)
				bv += i < b->sample[j].nvalue ? b->sample[j].value[i] : 0;
			for (size_t j = 0; j < p->nsample; j++)
				sv += i < p->sample[j].nvalue ? p->sample[j].value[i] : 0;
			ratio[i] = sv == 0 ? 0.0 : (double)bv / (double)sv;
		}
		scale_n(p, ratio);
	}
	for (size_t i = 0; i < b->nsample_type; i++)
		ratio[i] = -1;
	scale_n(b, ratio);
	struct profile *const both[2] = {p, b};
	q = cprof__report_merge(both, 2, err, errlen);
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free(ratio);
	cprof__profile_free(p);
	cprof__profile_free(b);
	return q;
}
