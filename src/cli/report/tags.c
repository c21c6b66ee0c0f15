/*
 * tags.c - the -tags report (pprof's printTags): for every label key, the
 * total of the chosen sample value over the samples that carry it and one
 * line per label value (numeric values scaled to the output unit), sorted
 * by value then name, in the columns Go's text/tabwriter (AlignRight) lays
 * out; and the -comments report, the profile's comments one per line.
 *
 * Samples come as pprof keeps them (cprof__report_compact: zero samples are
 * gone). Graphs are not involved.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"

struct tag {
	char *name;
	int64_t flat;
};

struct tagkey {
	char *name;
	struct tag *v;
	size_t n, cap;
};

/* graph.SortTags(flat): |flat| descending, then name. */
static int cmp_tag(const void *a, const void *b)
{
	const struct tag *x = a, *y = b;
	if (x->flat != y->flat && cprof__report_abs64(x->flat) != cprof__report_abs64(y->flat))
		return cprof__report_abs64(x->flat) > cprof__report_abs64(y->flat) ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct tagkey *)a)->name, ((const struct tagkey *)b)->name);
}

static struct tagkey *find_key(struct tagkey **k, size_t *n, size_t *cap, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*k)[i].name, name) == 0)
			return &(*k)[i];
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct tagkey *nk = realloc(*k, c * sizeof(*nk));
		if (!nk)
			return NULL;
		*k = nk;
		*cap = c;
	}
	struct tagkey *t = &(*k)[*n];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	if (!t->name)
		return NULL;
	(*n)++;
	return t;
}

static int add_value(struct tagkey *k, const char *val, int64_t v)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i].name, val) == 0) {
			k->v[i].flat += v;
			return 0;
		}
	if (k->n == k->cap) {
		size_t c = k->cap ? k->cap * 2 : 16;
		struct tag *nv = realloc(k->v, c * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		k->v = nv;
		k->cap = c;
	}
	k->v[k->n].name = strdup(val);
	if (!k->v[k->n].name)
		return -ENOMEM;
	k->v[k->n++].flat = v;
	return 0;
}

/* Display width as text/tabwriter counts it: runes. */
static size_t runes(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void pad(FILE *out, size_t n)
{
	while (n--)
		fputc(' ', out);
}

int cprof__report_tags(struct report *r, FILE *out)
{
	const struct profile *p = r->prof;
	struct tagkey *keys = NULL;
	size_t nkeys = 0, capkeys = 0;
	int rc = -ENOMEM;
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *sm = &p->sample[i];
		int64_t v = sm->value[r->value_index];
		for (size_t j = 0; j < sm->nlabel; j++) {
			const struct pp_label *l = &sm->label[j];
			const char *key = cprof__profile_str(p, l->key);
			struct tagkey *k = find_key(&keys, &nkeys, &capkeys, key);
			if (!k)
				goto out;
			char b[128];
			const char *val;
			if (l->str != 0) {
				val = cprof__profile_str(p, l->str);
			} else {
				const char *unit;
				cprof__report_num_label_unit(p, key, &unit);
				val = cprof__units_label(b, sizeof(b), l->num, unit, r->output_unit);
			}
			if (add_value(k, val, v) < 0)
				goto out;
		}
	}
	if (nkeys)
		qsort(keys, nkeys, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < nkeys; i++) {
		struct tagkey *k = &keys[i];
		int64_t total = 0;
		for (size_t j = 0; j < k->n; j++)
			total += k->v[j].flat;
		qsort(k->v, k->n, sizeof(*k->v), cmp_tag);
		/* Cells: "key:" | " Total ..." and " " | "value (pct):" | " name". */
		char **mid = calloc(k->n + 1, sizeof(*mid));
		if (!mid)
			goto out;
		size_t w0 = runes(k->name) + 1, w1 = 0;
		for (size_t j = 0; j < k->n && mid; j++) {
			const char *u;
			double f = cprof__units_scale(k->v[j].flat, r->sample_unit, r->output_unit, &u);
			char pct[64];
			int ok;
			if (total > 0)
				ok = asprintf(&mid[j], "%.1f%s (%s):", f, u,
					      cprof__units_percentage(pct, sizeof(pct), k->v[j].flat, total));
			else
				ok = asprintf(&mid[j], "%.1f%s:", f, u);
			if (ok < 0) {
				mid[j] = NULL;
				for (size_t m = 0; m < j; m++)
					free(mid[m]);
				free(mid);
				goto out;
			}
			if (runes(mid[j]) > w1)
				w1 = runes(mid[j]);
		}
		if (w0 < 1)
			w0 = 1;
		w0 += 1;
		w1 += 1;
		const char *u;
		double f = cprof__units_scale(total, r->sample_unit, r->output_unit, &u);
		pad(out, w0 - runes(k->name) - 1);
		fprintf(out, "%s: Total %.1f%s\n", k->name, f, u);
		for (size_t j = 0; j < k->n; j++) {
			pad(out, w0 - 1);
			fputc(' ', out);
			pad(out, w1 - runes(mid[j]));
			fprintf(out, "%s %s\n", mid[j], k->v[j].name);
			free(mid[j]);
		}
		free(mid);
		fputc('\n', out);
	}
	rc = ferror(out) ? -EIO : 0;
out:
	for (size_t i = 0; i < nkeys; i++) {
		for (size_t j = 0; j < keys[i].n; j++)
			free(keys[i].v[j].name);
		free(keys[i].v);
		free(keys[i].name);
	}
	free(keys);
	return rc;
}

int cprof__report_comments(const struct profile *p, FILE *out)
{
	for (size_t i = 0; i < p->ncomment; i++)
		fprintf(out, "%s\n", cprof__profile_str(p, p->comment[i]));
	return ferror(out) ? -EIO : 0;
}
