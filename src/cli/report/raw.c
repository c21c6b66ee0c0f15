/*
 * raw.c - the profile exactly as `go tool pprof` holds it before any report
 * is made, and the -raw report that prints it (pprof's Profile.String).
 *
 * It owns cprof__report_compact, pprof's profile.Merge applied to one
 * profile (the driver always merges its sources, even a single one): zero
 * samples dropped, equal samples, locations, functions and mappings folded
 * into one, ids renumbered 1..n in order of first use from the samples,
 * and a fake mapping for profiles that have none (fetch.go locateBinaries).
 * -raw and -traces print samples in that order. It also owns the function
 * name pprof's symbolizer leaves behind (cprof__report_function_name, graph.c).
 *
 * It does not merge several profiles (merge.c does) nor build graphs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/report/keys.h"
#include "cli/report/report.h"

/* ---- compact: profile.Merge of one profile ---- */

struct compact {
	const struct profile *p;
	struct profile *q;
	struct report_keyset maps, fns, locs, samples;
	uint64_t *map_id;     /* per source mapping index: new id, 0 = not yet */
	int64_t *map_off;     /* address offset into the new mapping */
	uint64_t *fn_id;      /* per source function index */
	uint64_t *loc_id;     /* per source location index */
	uint64_t fake_map;    /* the mapping of a mapping-less profile */
	struct buf k;
};

static int64_t s(struct compact *c, int64_t idx)
{
	return cprof__profile_intern(c->q, cprof__profile_str(c->p, idx), (size_t)-1);
}

/* pm.mapMapping: returns the new id (0 for none), offset through *off. */
static uint64_t map_mapping(struct compact *c, const struct pp_mapping *m, int64_t *off)
{
	*off = 0;
	if (!m)
		return 0;
	size_t i = (size_t)(m - c->p->mapping);
	if (c->map_id[i]) {
		*off = c->map_off[i];
		return c->map_id[i];
	}
	cprof__report_mapping_key(&c->k, c->p, m);
	bool added;
	size_t id = cprof__report_keyset_add(&c->maps, &c->k, &added);
	if (id == SIZE_MAX)
		return UINT64_MAX;
	if (!added) {
		const struct pp_mapping *nm = &c->q->mapping[id];
		c->map_id[i] = nm->id;
		c->map_off[i] = (int64_t)nm->memory_start - (int64_t)m->memory_start;
		*off = c->map_off[i];
		return nm->id;
	}
	struct pp_mapping *n = cprof__profile_add_mapping(c->q);
	if (!n)
		return UINT64_MAX;
	uint64_t nid = n->id;
	*n = *m;
	n->id = nid;
	n->filename = s(c, m->filename);
	n->build_id = s(c, m->build_id);
	if (n->filename < 0 || n->build_id < 0)
		return UINT64_MAX;
	c->map_id[i] = nid;
	c->map_off[i] = 0;
	return nid;
}

static uint64_t map_function(struct compact *c, uint64_t id)
{
	const struct pp_function *f = id ? cprof__profile_function(c->p, id) : NULL;
	if (!f)
		return 0;
	size_t i = (size_t)(f - c->p->function);
	if (c->fn_id[i])
		return c->fn_id[i];
	cprof__report_function_key(&c->k, c->p, f);
	bool added;
	size_t n = cprof__report_keyset_add(&c->fns, &c->k, &added);
	if (n == SIZE_MAX)
		return UINT64_MAX;
	if (added) {
		struct pp_function *nf = cprof__profile_add_function(c->q,
			cprof__profile_str(c->p, f->name), cprof__profile_str(c->p, f->system_name),
			cprof__profile_str(c->p, f->filename), f->start_line);
		if (!nf)
			return UINT64_MAX;
	}
	c->fn_id[i] = c->q->function[n].id;
	return c->fn_id[i];
}

static uint64_t map_location(struct compact *c, uint64_t id)
{
	const struct pp_location *l = cprof__profile_location(c->p, id);
	if (!l)
		return 0;
	size_t i = (size_t)(l - c->p->location);
	if (c->loc_id[i])
		return c->loc_id[i];
	int64_t off = 0;
	uint64_t mid;
	if (c->fake_map)
		mid = c->fake_map;
	else
		mid = map_mapping(c, l->mapping_id ? cprof__profile_mapping(c->p, l->mapping_id) : NULL,
				  &off);
	if (mid == UINT64_MAX)
		return UINT64_MAX;
	struct pp_line *lines = calloc(l->nline + 1, sizeof(*lines));
	if (!lines)
		return UINT64_MAX;
	for (size_t j = 0; j < l->nline; j++) {
		lines[j] = l->line[j];
		lines[j].function_id = map_function(c, l->line[j].function_id);
		if (lines[j].function_id == UINT64_MAX) {
			free(lines);
			return UINT64_MAX;
		}
	}
	uint64_t addr = (uint64_t)((int64_t)l->address + off);
	const struct pp_mapping *nm = mid ? cprof__profile_mapping(c->q, mid) : NULL;
	c->k.len = 0;
	cprof__report_key_u64(&c->k, addr - (nm ? nm->memory_start : 0));
	cprof__report_key_u64(&c->k, mid);
	cprof__report_key_put(&c->k, &l->is_folded, 1);
	for (size_t j = 0; j < l->nline; j++) {
		cprof__report_key_u64(&c->k, lines[j].function_id);
		cprof__report_key_u64(&c->k, (uint64_t)lines[j].line);
	}
	bool added;
	size_t n = cprof__report_keyset_add(&c->locs, &c->k, &added);
	if (n == SIZE_MAX) {
		free(lines);
		return UINT64_MAX;
	}
	if (added) {
		struct pp_location *nl = cprof__profile_add_location(c->q, mid, addr, lines, l->nline);
		if (!nl) {
			free(lines);
			return UINT64_MAX;
		}
		nl->is_folded = l->is_folded;
	}
	free(lines);
	c->loc_id[i] = c->q->location[n].id;
	return c->loc_id[i];
}

static bool is_str_label(const struct pp_label *l)
{
	return l->str != 0;
}

static bool is_num_label(const struct pp_label *l)
{
	return l->str == 0 && (l->num != 0 || l->num_unit != 0);
}

/* Sample.key: locations, then labels by key (values in order), then numeric labels. */
static int sample_key(struct compact *c, const struct pp_sample *sm, const uint64_t *ids)
{
	const struct profile *p = c->p;
	c->k.len = 0;
	cprof__report_key_u64(&c->k, sm->nlocation);
	for (size_t j = 0; j < sm->nlocation; j++)
		cprof__report_key_u64(&c->k, ids[j]);
	if (sm->nlabel == 0)
		return c->k.err ? -ENOMEM : 0;
	const struct pp_label **l = malloc(sm->nlabel * sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < sm->nlabel; i++)
		l[i] = &sm->label[i];
	qsort_r(l, sm->nlabel, sizeof(*l), cprof__report_cmp_label, (void *)p);
	for (size_t i = 0; i < sm->nlabel; i++)
		if (is_str_label(l[i])) {
			cprof__report_key_str(&c->k, cprof__profile_str(p, l[i]->key));
			cprof__report_key_str(&c->k, cprof__profile_str(p, l[i]->str));
		}
	cprof__report_key_put(&c->k, "\x01", 1);
	for (size_t i = 0; i < sm->nlabel; i++)
		if (is_num_label(l[i])) {
			cprof__report_key_str(&c->k, cprof__profile_str(p, l[i]->key));
			cprof__report_key_u64(&c->k, (uint64_t)l[i]->num);
			cprof__report_key_str(&c->k, cprof__profile_str(p, l[i]->num_unit));
		}
	free(l);
	return c->k.err ? -ENOMEM : 0;
}

static bool zero_sample(const struct pp_sample *sm)
{
	for (size_t i = 0; i < sm->nvalue; i++)
		if (sm->value[i] != 0)
			return false;
	return true;
}

static int compact_samples(struct compact *c)
{
	const struct profile *p = c->p;
	uint64_t *ids = NULL;
	struct pp_label *labels = NULL;
	int rc = -ENOMEM;
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *sm = &p->sample[i];
		if (zero_sample(sm))
			continue;
		free(ids);
		ids = calloc(sm->nlocation + 1, sizeof(*ids));
		if (!ids)
			goto out;
		for (size_t j = 0; j < sm->nlocation; j++) {
			ids[j] = map_location(c, sm->location_id[j]);
			if (ids[j] == UINT64_MAX)
				goto out;
		}
		if (sample_key(c, sm, ids) < 0)
			goto out;
		bool added;
		size_t n = cprof__report_keyset_add(&c->samples, &c->k, &added);
		if (n == SIZE_MAX)
			goto out;
		if (!added) {
			struct pp_sample *ds = &c->q->sample[n];
			for (size_t v = 0; v < ds->nvalue && v < sm->nvalue; v++)
				ds->value[v] += sm->value[v];
			continue;
		}
		/* Only the labels pprof's decoder keeps (a value or a unit). */
		free(labels);
		labels = calloc(sm->nlabel + 1, sizeof(*labels));
		if (!labels)
			goto out;
		size_t nl = 0;
		for (size_t j = 0; j < sm->nlabel; j++) {
			const struct pp_label *l = &sm->label[j];
			if (!is_str_label(l) && !is_num_label(l))
				continue;
			labels[nl] = *l;
			labels[nl].key = s(c, l->key);
			labels[nl].str = s(c, l->str);
			labels[nl].num_unit = s(c, l->num_unit);
			nl++;
		}
		if (!cprof__profile_add_sample(c->q, ids, sm->nlocation, sm->value, sm->nvalue,
					       labels, nl))
			goto out;
	}
	rc = 0;
out:
	free(ids);
	free(labels);
	return rc;
}

static struct profile *compact_once(const struct profile *p, bool *has_zero)
{
	struct compact c = {.p = p};
	cprof__buf_init(&c.k, 0);
	struct profile *q = cprof__profile_new();
	c.q = q;
	c.map_id = calloc(p->nmapping + 1, sizeof(*c.map_id));
	c.map_off = calloc(p->nmapping + 1, sizeof(*c.map_off));
	c.fn_id = calloc(p->nfunction + 1, sizeof(*c.fn_id));
	c.loc_id = calloc(p->nlocation + 1, sizeof(*c.loc_id));
	if (!q || !c.map_id || !c.map_off || !c.fn_id || !c.loc_id)
		goto fail;
	for (size_t i = 0; i < p->nsample_type; i++)
		if (!cprof__profile_add_sample_type(q, cprof__profile_str(p, p->sample_type[i].type),
						    cprof__profile_str(p, p->sample_type[i].unit)))
			goto fail;
	q->period_type.type = s(&c, p->period_type.type);
	q->period_type.unit = s(&c, p->period_type.unit);
	q->drop_frames = s(&c, p->drop_frames);
	q->keep_frames = s(&c, p->keep_frames);
	q->default_sample_type = s(&c, p->default_sample_type);
	q->doc_url = s(&c, p->doc_url);
	q->time_nanos = p->time_nanos;
	q->duration_nanos = p->duration_nanos;
	q->period = p->period;
	for (size_t i = 0; i < p->ncomment; i++)
		if (cprof__profile_add_comment(q, cprof__profile_str(p, p->comment[i])) < 0)
			goto fail;
	if (p->nmapping == 0) {
		struct pp_mapping *m = cprof__profile_add_mapping(q);
		if (!m)
			goto fail;
		c.fake_map = m->id;
	} else {
		int64_t off;
		if (map_mapping(&c, &p->mapping[0], &off) == UINT64_MAX)
			goto fail;
	}
	if (compact_samples(&c) < 0)
		goto fail;
	*has_zero = false;
	for (size_t i = 0; i < q->nsample; i++)
		if (zero_sample(&q->sample[i]))
			*has_zero = true;
	goto out;
fail:
	cprof__profile_free(q);
	q = NULL;
out:
	cprof__report_keyset_release(&c.maps);
	cprof__report_keyset_release(&c.fns);
	cprof__report_keyset_release(&c.locs);
	cprof__report_keyset_release(&c.samples);
	cprof__buf_release(&c.k);
	free(c.map_id);
	free(c.map_off);
	free(c.fn_id);
	free(c.loc_id);
	return q;
}

struct profile *cprof__report_compact(const struct profile *p)
{
	bool has_zero;
	struct profile *q = compact_once(p, &has_zero);
	if (q && has_zero) {
		/* Values that cancelled out: merge again to drop them, as Merge does. */
		struct profile *r = compact_once(q, &has_zero);
		cprof__profile_free(q);
		q = r;
	}
	return q;
}

/* ---- Profile.String ---- */

/* Go's fmtFrac and fmtInt, writing backwards into buf ending at *w. */
static void fmt_frac(char *buf, int *w, uint64_t *v, int prec)
{
	bool print = false;
	for (int i = 0; i < prec; i++) {
		int digit = (int)(*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--*w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--*w] = '.';
}

static void fmt_int(char *buf, int *w, uint64_t v)
{
	if (v == 0) {
		buf[--*w] = '0';
		return;
	}
	while (v > 0) {
		buf[--*w] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* time.Duration.String */
static void go_duration(int64_t d, char *out, size_t len)
{
	char buf[40];
	int w = (int)sizeof(buf) - 1;
	buf[w] = '\0';
	uint64_t u = (uint64_t)d;
	bool neg = d < 0;
	if (neg)
		u = -u;
	if (u < 1000000000ULL) {
		int prec = 0;
		buf[--w] = 's';
		if (u == 0) {
			snprintf(out, len, "0s");
			return;
		} else if (u < 1000) {
			buf[--w] = 'n';
		} else if (u < 1000000) {
			prec = 3;
			buf[--w] = '\xb5';
			buf[--w] = '\xc2';
		} else {
			prec = 6;
			buf[--w] = 'm';
		}
		fmt_frac(buf, &w, &u, prec);
		fmt_int(buf, &w, u);
	} else {
		buf[--w] = 's';
		fmt_frac(buf, &w, &u, 9);
		fmt_int(buf, &w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			fmt_int(buf, &w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				fmt_int(buf, &w, u);
			}
		}
	}
	if (neg)
		buf[--w] = '-';
	snprintf(out, len, "%s", buf + w);
}

/* The first n runes of s (fmt's %.Nv on a string). */
static void runes_prefix(char *s, int n)
{
	for (char *c = s; *c; c++) {
		if (((unsigned char)*c & 0xc0) == 0x80)
			continue;
		if (n-- == 0) {
			*c = '\0';
			return;
		}
	}
}

/* time.Time.String of time.Unix(0, nanos) in the local zone. */
static void go_time(int64_t nanos, char *out, size_t len)
{
	int64_t sec = nanos / 1000000000, ns = nanos % 1000000000;
	if (ns < 0) {
		ns += 1000000000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	if (!localtime_r(&t, &tm)) {
		snprintf(out, len, "?");
		return;
	}
	char frac[16] = "";
	if (ns) {
		snprintf(frac, sizeof(frac), ".%09lld", (long long)ns);
		size_t n = strlen(frac);
		while (frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	char zone[64];
	if (tm.tm_zone && tm.tm_zone[0])
		snprintf(zone, sizeof(zone), "%s", tm.tm_zone);
	else
		snprintf(zone, sizeof(zone), "%c%02ld%02ld", sign, off / 3600, off / 60 % 60);
	snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d%s %c%02ld%02ld %s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac, sign,
		 off / 3600, off / 60 % 60, zone);
}

/* Labels of one sample as "key:[v1 v2]" sorted (labelsToString / numLabelsToString). */
static int print_labels(const struct profile *p, const struct pp_sample *sm, bool num, FILE *out)
{
	const struct pp_label **l = malloc((sm->nlabel + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < sm->nlabel; i++)
		if (num ? is_num_label(&sm->label[i]) : is_str_label(&sm->label[i]))
			l[n++] = &sm->label[i];
	/*
	 * Go sorts the "key:[...]" strings; ':' sorts below letters and
	 * digits, so sorting by key then comparing whole strings would differ
	 * only when one key is a prefix of another. Build the strings and sort.
	 */
	qsort_r(l, n, sizeof(*l), cprof__report_cmp_label, (void *)p);
	char **str = calloc(n + 1, sizeof(*str));
	size_t ns = 0;
	int rc = -ENOMEM;
	if (!str)
		goto out;
	for (size_t i = 0; i < n;) {
		const char *key = cprof__profile_str(p, l[i]->key);
		size_t j = i;
		bool units = false;
		while (j < n && strcmp(cprof__profile_str(p, l[j]->key), key) == 0) {
			if (l[j]->num_unit)
				units = true;
			j++;
		}
		size_t len = 0;
		FILE *f = open_memstream(&str[ns], &len);
		if (!f)
			goto out;
		fprintf(f, "%s:[", key);
		for (size_t k = i; k < j; k++) {
			if (k > i)
				fputc(' ', f);
			if (!num)
				fputs(cprof__profile_str(p, l[k]->str), f);
			else if (units)
				fprintf(f, "%lld %s", (long long)l[k]->num,
					cprof__profile_str(p, l[k]->num_unit));
			else
				fprintf(f, "%lld", (long long)l[k]->num);
		}
		fputc(']', f);
		if (fclose(f) != 0)
			goto out;
		ns++;
		i = j;
	}
	for (size_t i = 1; i < ns; i++)
		for (size_t j = i; j > 0 && strcmp(str[j - 1], str[j]) > 0; j--) {
			char *t = str[j];
			str[j] = str[j - 1];
			str[j - 1] = t;
		}
	fputs("\n                ", out);
	for (size_t i = 0; i < ns; i++)
		fprintf(out, "%s%s", i ? " " : "", str[i]);
	rc = 0;
out:
	for (size_t i = 0; str && i < ns; i++)
		free(str[i]);
	free(str);
	free(l);
	return rc;
}

static bool has_labels(const struct pp_sample *sm, bool num)
{
	for (size_t i = 0; i < sm->nlabel; i++)
		if (num ? is_num_label(&sm->label[i]) : is_str_label(&sm->label[i]))
			return true;
	return false;
}

int cprof__report_raw(const struct profile *p, FILE *out)
{
	char b[128];
	for (size_t i = 0; i < p->ncomment; i++)
		fprintf(out, "Comment: %s\n", cprof__profile_str(p, p->comment[i]));
	/*
	 * Go prints this line when the message has a period_type field; the
	 * model cannot tell an empty one from none, and every writer we know
	 * (the Go runtime, cprof's encoder) writes the field.
	 */
	fprintf(out, "PeriodType: %s %s\n", cprof__profile_str(p, p->period_type.type),
		cprof__profile_str(p, p->period_type.unit));
	fprintf(out, "Period: %lld\n", (long long)p->period);
	if (p->time_nanos) {
		go_time(p->time_nanos, b, sizeof(b));
		fprintf(out, "Time: %s\n", b);
	}
	if (p->duration_nanos) {
		go_duration(p->duration_nanos, b, sizeof(b));
		runes_prefix(b, 4);
		fprintf(out, "Duration: %s\n", b);
	}
	fputs("Samples:\n", out);
	const char *dflt = cprof__profile_str(p, p->default_sample_type);
	for (size_t i = 0; i < p->nsample_type; i++) {
		const char *t = cprof__profile_str(p, p->sample_type[i].type);
		fprintf(out, "%s%s/%s%s", i ? " " : "", t, cprof__profile_str(p, p->sample_type[i].unit),
			strcmp(t, dflt) == 0 ? "[dflt]" : "");
	}
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *sm = &p->sample[i];
		fputc('\n', out);
		for (size_t v = 0; v < sm->nvalue; v++)
			fprintf(out, " %10lld", (long long)sm->value[v]);
		fputs(": ", out);
		for (size_t j = 0; j < sm->nlocation; j++)
			fprintf(out, "%llu ", (unsigned long long)sm->location_id[j]);
		if (has_labels(sm, false) && print_labels(p, sm, false, out) < 0)
			return -ENOMEM;
		if (has_labels(sm, true) && print_labels(p, sm, true, out) < 0)
			return -ENOMEM;
	}
	fputs("\nLocations", out);
	for (size_t i = 0; i < p->nlocation; i++) {
		const struct pp_location *l = &p->location[i];
		/* Go's %#x writes 0 as "0x0", C's as "0". */
		fprintf(out, "\n%6llu: 0x%llx ", (unsigned long long)l->id, (unsigned long long)l->address);
		if (l->mapping_id)
			fprintf(out, "M=%llu ", (unsigned long long)l->mapping_id);
		if (l->is_folded)
			fputs("[F] ", out);
		for (size_t j = 0; j < l->nline; j++) {
			if (j)
				fputs("\n             ", out);
			const struct pp_function *fn = cprof__profile_function(p, l->line[j].function_id);
			if (!fn) {
				fputs("??", out);
				continue;
			}
			char *buf;
			const char *name = cprof__report_function_name(p, fn, &buf);
			const char *sys = cprof__profile_str(p, fn->system_name);
			fprintf(out, "%s %s:%lld s=%lld", name, cprof__profile_str(p, fn->filename),
				(long long)l->line[j].line, (long long)fn->start_line);
			if (strcmp(name, sys) != 0)
				fprintf(out, "(%s)", sys);
			free(buf);
		}
	}
	fputs("\nMappings", out);
	for (size_t i = 0; i < p->nmapping; i++) {
		const struct pp_mapping *m = &p->mapping[i];
		fprintf(out, "\n%llu: 0x%llx/0x%llx/0x%llx %s %s %s%s%s%s", (unsigned long long)m->id,
			(unsigned long long)m->memory_start, (unsigned long long)m->memory_limit,
			(unsigned long long)m->file_offset, cprof__profile_str(p, m->filename),
			cprof__profile_str(p, m->build_id), m->has_functions ? "[FN]" : "",
			m->has_filenames ? "[FL]" : "", m->has_line_numbers ? "[LN]" : "",
			m->has_inline_frames ? "[IN]" : "");
	}
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

void cprof__report_drop_unlocated(struct profile *p)
{
	size_t w = 0;
	for (size_t i = 0; i < p->nsample; i++) {
		struct pp_sample *sm = &p->sample[i];
		if (sm->nlocation > 0) {
			p->sample[w++] = *sm;
			continue;
		}
		free(sm->location_id);
		free(sm->value);
		free(sm->label);
	}
	p->nsample = w;
}
