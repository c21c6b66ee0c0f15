/*
 * filter.c - the options that change which samples and frames a report
 * sees, as pprof applies them before building a graph: -tagroot/-tagleaf
 * (label values as pseudo frames), -focus/-ignore/-hide/-show
 * (profile.FilterSamplesByName), -show_from, -tagfocus/-tagignore (label
 * values or numeric ranges), -tagshow/-taghide (label keys) and -prune_from.
 *
 * Every step works on a private copy of the profile (the caller's is never
 * changed): locations lose lines, samples lose locations or are dropped.
 * Regexps are POSIX extended ones with Go's common extras translated
 * (docs/pprof-differences.md). Granularity and the report total are
 * graph.c's and report.c's business.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"
#include "common/buf.h"

static bool set(const char *s)
{
	return s && s[0];
}

bool cprof__filter_active(const struct report_options *o)
{
	return set(o->focus) || set(o->ignore) || set(o->hide) || set(o->show) ||
	       set(o->show_from) || set(o->prune_from) || set(o->tagfocus) ||
	       set(o->tagignore) || set(o->tagshow) || set(o->taghide) || set(o->tagroot) ||
	       set(o->tagleaf);
}

/* ---- Go regexp syntax to POSIX extended ---- */

/* A bracket expression starting after '['; returns the index after ']'. */
static size_t bracket(const char *p, size_t i, struct buf *out)
{
	struct buf items;
	cprof__buf_init(&items, 0);
	bool neg = false, rbrack = false, dash = false;
	if (p[i] == '^') {
		neg = true;
		i++;
	}
	if (p[i] == ']') {
		rbrack = true;
		i++;
	}
	while (p[i] && p[i] != ']') {
		if (p[i] == '[' && p[i + 1] == ':') {
			const char *end = strstr(p + i + 2, ":]");
			size_t n = end ? (size_t)(end - (p + i)) + 2 : strlen(p + i);
			cprof__buf_append(&items, p + i, n);
			i += n;
		} else if (p[i] == '\\' && p[i + 1]) {
			char c = p[i + 1];
			i += 2;
			switch (c) {
			case 'd': cprof__buf_puts(&items, "0-9"); break;
			case 's': cprof__buf_puts(&items, "[:space:]"); break;
			case 'w': cprof__buf_puts(&items, "[:alnum:]_"); break;
			case 't': cprof__buf_puts(&items, "\t"); break;
			case 'n': cprof__buf_puts(&items, "\n"); break;
			case ']': rbrack = true; break;
			case '-': dash = true; break;
			default: cprof__buf_append(&items, &c, 1); break;
			}
		} else {
			cprof__buf_append(&items, p + i, 1);
			i++;
		}
	}
	cprof__buf_puts(out, neg ? "[^" : "[");
	if (rbrack)
		cprof__buf_puts(out, "]");
	cprof__buf_append(out, items.data, items.len);
	if (dash)
		cprof__buf_puts(out, "-");
	cprof__buf_puts(out, "]");
	if (items.err)
		out->err = items.err;
	cprof__buf_release(&items);
	return p[i] == ']' ? i + 1 : i;
}

/*
 * Compile a Go-syntax regexp: (?i) flags, (?: groups, \d \D \A \z, \Q...\E
 * and lazy quantifiers are translated; the rest is POSIX ERE with GNU's
 * \w \W \s \S \b \B. 0, or -1 with the reason in err.
 */
int cprof__filter_regcomp(regex_t *re, const char *pat, char *err, size_t errlen)
{
	struct buf b;
	cprof__buf_init(&b, 0);
	int flags = REG_EXTENDED | REG_NOSUB;
	size_t i = 0;
	if (strncmp(pat, "(?i)", 4) == 0) {
		flags |= REG_ICASE;
		i = 4;
	}
	while (pat[i]) {
		char c = pat[i];
		if (c == '\\' && pat[i + 1]) {
			char d = pat[i + 1];
			i += 2;
			if (d == 'd') {
				cprof__buf_puts(&b, "[0-9]");
			} else if (d == 'D') {
				cprof__buf_puts(&b, "[^0-9]");
			} else if (d == 'A') {
				cprof__buf_puts(&b, "^");
			} else if (d == 'z') {
				cprof__buf_puts(&b, "$");
			} else if (d == 'Q') {
				const char *end = strstr(pat + i, "\\E");
				size_t n = end ? (size_t)(end - (pat + i)) : strlen(pat + i);
				for (size_t k = 0; k < n; k++) {
					if (strchr("\\^$.|?*+()[]{}", pat[i + k]))
						cprof__buf_puts(&b, "\\");
					cprof__buf_append(&b, pat + i + k, 1);
				}
				i += n + (end ? 2 : 0);
			} else {
				char esc[3] = {'\\', d, 0};
				cprof__buf_puts(&b, esc);
			}
		} else if (c == '[') {
			i = bracket(pat, i + 1, &b);
		} else if (c == '(' && pat[i + 1] == '?' && pat[i + 2] == ':') {
			cprof__buf_puts(&b, "(");
			i += 3;
		} else if (c == '(' && pat[i + 1] == '?') {
			snprintf(err, errlen, "unsupported regexp flag group in `%s` "
				 "(only a leading (?i) is supported)", pat);
			cprof__buf_release(&b);
			return -1;
		} else if ((c == '*' || c == '+' || c == '?' || c == '}') && pat[i + 1] == '?') {
			cprof__buf_append(&b, &c, 1); /* lazy or greedy: the same for matching */
			i += 2;
		} else {
			cprof__buf_append(&b, &c, 1);
			i++;
		}
	}
	if (b.err) {
		cprof__buf_release(&b);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = regcomp(re, cprof__buf_str(&b), flags);
	cprof__buf_release(&b);
	if (rc != 0) {
		char msg[256];
		regerror(rc, re, msg, sizeof(msg));
		snprintf(err, errlen, "error parsing regexp: %s: `%s`", msg, pat);
		return -1;
	}
	return 0;
}

static bool match(const regex_t *re, const char *s)
{
	return regexec(re, s, 0, NULL, 0) == 0;
}

/* ---- the profile being filtered ---- */

struct fctx {
	struct profile *p;
	char **fname;     /* per function: the name reports show */
	char **fname_buf;
	FILE *warn;
};

static const char *fn_name(const struct fctx *c, const struct pp_function *fn)
{
	return c->fname[fn - c->p->function];
}

static void warn_no_match(const struct fctx *c, bool matched, const char *what)
{
	if (!matched && c->warn)
		fprintf(c->warn, "%s expression matched no samples\n", what);
}

/* Per function: does re match its name or file name. */
static bool *match_functions(const struct fctx *c, const regex_t *re)
{
	struct profile *p = c->p;
	bool *m = calloc(p->nfunction + 1, sizeof(bool));
	if (!m)
		return NULL;
	for (size_t i = 0; i < p->nfunction; i++)
		m[i] = match(re, fn_name(c, &p->function[i])) ||
		       match(re, cprof__profile_str(p, p->function[i].filename));
	return m;
}

static bool mapping_matches(const struct profile *p, const struct pp_location *l, const regex_t *re)
{
	const struct pp_mapping *m = l->mapping_id ? cprof__profile_mapping(p, l->mapping_id) : NULL;
	return m && match(re, cprof__profile_str(p, m->filename));
}

/* -1 when the line has no function. */
static long line_fn(const struct profile *p, const struct pp_line *ln)
{
	const struct pp_function *fn = ln->function_id ? cprof__profile_function(p, ln->function_id) : NULL;
	return fn ? (long)(fn - p->function) : -1;
}

/* Location.matchesName */
static bool loc_matches(const struct profile *p, const struct pp_location *l, const bool *fm,
			const regex_t *re)
{
	for (size_t i = 0; i < l->nline; i++) {
		long f = line_fn(p, &l->line[i]);
		if (f >= 0 && fm[f])
			return true;
	}
	return mapping_matches(p, l, re);
}

/* Keep the lines of l for which keep(line) holds. */
static void keep_lines(const struct profile *p, struct pp_location *l, const bool *fm, bool want)
{
	size_t w = 0;
	for (size_t i = 0; i < l->nline; i++) {
		long f = line_fn(p, &l->line[i]);
		bool keep = f < 0 || fm[f] == want;
		if (keep)
			l->line[w++] = l->line[i];
	}
	l->nline = w;
}

static void drop_sample(struct pp_sample *s)
{
	free(s->location_id);
	free(s->value);
	free(s->label);
	memset(s, 0, sizeof(*s));
}

/* Compact p->sample to those with keep[i]. */
static void keep_samples(struct profile *p, const bool *keep)
{
	size_t w = 0;
	for (size_t i = 0; i < p->nsample; i++) {
		if (keep[i])
			p->sample[w++] = p->sample[i];
		else
			drop_sample(&p->sample[i]);
	}
	p->nsample = w;
}

enum { FI_NONE, FI_FOCUS, FI_IGNORE };

/* profile.FilterSamplesByName */
static int by_name(struct fctx *c, const regex_t *focus, const regex_t *ignore,
		   const regex_t *hide, const regex_t *show)
{
	struct profile *p = c->p;
	int rc = -ENOMEM;
	bool fm = false, im = false, hm = false, hnm = false;
	bool *ffocus = NULL, *fignore = NULL, *fhide = NULL, *fshow = NULL, *keep = NULL;
	unsigned char *fi = calloc(p->nlocation + 1, 1);
	bool *hidden = calloc(p->nlocation + 1, sizeof(bool));
	if (!fi || !hidden)
		goto out;
	if ((focus && !(ffocus = match_functions(c, focus))) ||
	    (ignore && !(fignore = match_functions(c, ignore))) ||
	    (hide && !(fhide = match_functions(c, hide))) ||
	    (show && !(fshow = match_functions(c, show))))
		goto out;
	bool any_hidden = false;
	for (size_t i = 0; i < p->nlocation; i++) {
		struct pp_location *l = &p->location[i];
		if (ignore && loc_matches(p, l, fignore, ignore)) {
			im = true;
			fi[i] = FI_IGNORE;
		} else if (!focus || loc_matches(p, l, ffocus, focus)) {
			fm = true;
			fi[i] = FI_FOCUS;
		}
		if (hide && loc_matches(p, l, fhide, hide)) {
			hm = true;
			if (mapping_matches(p, l, hide))
				l->nline = 0;
			else
				keep_lines(p, l, fhide, false);
			if (l->nline == 0)
				hidden[i] = any_hidden = true;
		}
		if (show) {
			if (!mapping_matches(p, l, show))
				keep_lines(p, l, fshow, true);
			if (l->nline == 0)
				hidden[i] = any_hidden = true;
			else
				hnm = true;
		}
	}
	keep = calloc(p->nsample + 1, sizeof(bool));
	if (!keep)
		goto out;
	for (size_t s = 0; s < p->nsample; s++) {
		struct pp_sample *sm = &p->sample[s];
		bool f = false, ign = false;
		for (size_t j = 0; j < sm->nlocation && !ign; j++) {
			const struct pp_location *l = cprof__profile_location(p, sm->location_id[j]);
			if (!l)
				continue;
			unsigned char v = fi[l - p->location];
			if (v == FI_FOCUS)
				f = true;
			else if (v == FI_IGNORE)
				ign = true;
		}
		if (!f || ign)
			continue;
		if (any_hidden) {
			size_t w = 0;
			for (size_t j = 0; j < sm->nlocation; j++) {
				const struct pp_location *l = cprof__profile_location(p, sm->location_id[j]);
				if (!l || !hidden[l - p->location])
					sm->location_id[w++] = sm->location_id[j];
			}
			sm->nlocation = w;
			if (w == 0)
				continue;
		}
		keep[s] = true;
	}
	keep_samples(p, keep);
	warn_no_match(c, !focus || fm, "Focus");
	warn_no_match(c, !ignore || im, "Ignore");
	warn_no_match(c, !hide || hm, "Hide");
	warn_no_match(c, !show || hnm, "Show");
	rc = 0;
out:
	free(fi);
	free(hidden);
	free(ffocus);
	free(fignore);
	free(fhide);
	free(fshow);
	free(keep);
	return rc;
}

/* profile.ShowFrom */
static int show_from(struct fctx *c, const regex_t *re)
{
	struct profile *p = c->p;
	bool matched = false;
	bool *fm = match_functions(c, re);
	bool *from = calloc(p->nlocation + 1, sizeof(bool));
	bool *keep = calloc(p->nsample + 1, sizeof(bool));
	int rc = -ENOMEM;
	if (!fm || !from || !keep)
		goto out;
	for (size_t i = 0; i < p->nlocation; i++) {
		struct pp_location *l = &p->location[i];
		if (mapping_matches(p, l, re)) {
			from[i] = matched = true;
			continue;
		}
		for (size_t j = l->nline; j-- > 0;) {
			long f = line_fn(p, &l->line[j]);
			if (f >= 0 && fm[f]) {
				l->nline = j + 1;
				from[i] = matched = true;
				break;
			}
		}
	}
	for (size_t s = 0; s < p->nsample; s++) {
		struct pp_sample *sm = &p->sample[s];
		for (size_t j = sm->nlocation; j-- > 0;) {
			const struct pp_location *l = cprof__profile_location(p, sm->location_id[j]);
			if (l && from[l - p->location]) {
				sm->nlocation = j + 1;
				keep[s] = true;
				break;
			}
		}
	}
	keep_samples(p, keep);
	warn_no_match(c, matched, "ShowFrom");
	rc = 0;
out:
	free(fm);
	free(from);
	free(keep);
	return rc;
}

/* prune.go simplifyFunc: the name up to its first '(' that is no reserved name. */
static size_t simplified_len(const char *name, const char **start)
{
	if (name[0] == '.')
		name++;
	*start = name;
	for (size_t i = 0; name[i]; i++) {
		if (strncmp(name + i, "(anonymous namespace)", 21) == 0)
			i += 20;
		else if (strncmp(name + i, "operator()", 10) == 0)
			i += 9;
		else if (name[i] == '(')
			return i;
	}
	return strlen(name);
}

/* profile.PruneFrom */
static int prune_from(struct fctx *c, const regex_t *re)
{
	struct profile *p = c->p;
	bool *prune = calloc(p->nlocation + 1, sizeof(bool));
	if (!prune)
		return -ENOMEM;
	for (size_t i = 0; i < p->nlocation; i++) {
		struct pp_location *l = &p->location[i];
		for (size_t j = 0; j < l->nline; j++) {
			long f = line_fn(p, &l->line[j]);
			const char *name = f >= 0 ? fn_name(c, &p->function[f]) : "";
			if (!name[0])
				continue;
			const char *st;
			size_t n = simplified_len(name, &st);
			char *simple = strndup(st, n);
			if (!simple) {
				free(prune);
				return -ENOMEM;
			}
			bool m = match(re, simple);
			free(simple);
			if (m) {
				prune[i] = true;
				memmove(l->line, l->line + j, (l->nline - j) * sizeof(*l->line));
				l->nline -= j;
				break;
			}
		}
	}
	for (size_t s = 0; s < p->nsample; s++) {
		struct pp_sample *sm = &p->sample[s];
		for (size_t j = 0; j < sm->nlocation; j++) {
			const struct pp_location *l = cprof__profile_location(p, sm->location_id[j]);
			if (l && prune[l - p->location]) {
				memmove(sm->location_id, sm->location_id + j,
					(sm->nlocation - j) * sizeof(*sm->location_id));
				sm->nlocation -= j;
				break;
			}
		}
	}
	free(prune);
	return 0;
}

/*
 * profile.Prune: in each location, the lines from the innermost to the
 * last (caller-most) whose simplified name drop matches and keep does not
 * go; a location left empty goes from every sample, and so does every
 * frame below (callee of) it, but never the root-side frames before the
 * first frame the program wrote.
 */
static int prune(struct profile *p, const regex_t *drop, const regex_t *keep)
{
	bool *gone = calloc(p->nlocation + 1, sizeof(bool)), *beneath = calloc(p->nlocation + 1, sizeof(bool));
	int rc = -ENOMEM;
	if (!gone || !beneath)
		goto out;
	for (size_t i = 0; i < p->nlocation; i++) {
		struct pp_location *l = &p->location[i];
		size_t j = l->nline;
		while (j-- > 0) {
			long f = line_fn(p, &l->line[j]);
			const char *name = f >= 0 ? cprof__profile_str(p, p->function[f].name) : "";
			if (!name[0])
				continue;
			const char *st;
			char *simple = strndup(name, simplified_len(name, &st) + (size_t)(st - name));
			if (!simple)
				goto out;
			bool m = match(drop, simple + (st - name)) && !(keep && match(keep, simple + (st - name)));
			free(simple);
			if (m)
				break;
		}
		if (j == (size_t)-1)
			continue;
		beneath[i] = true;
		if (j == l->nline - 1) {
			gone[i] = true;
		} else {
			memmove(l->line, l->line + j + 1, (l->nline - j - 1) * sizeof(*l->line));
			l->nline -= j + 1;
		}
	}
	for (size_t s = 0; s < p->nsample; s++) {
		struct pp_sample *sm = &p->sample[s];
		bool user = false;
		for (size_t k = sm->nlocation; k-- > 0;) {
			const struct pp_location *l = cprof__profile_location(p, sm->location_id[k]);
			size_t i = l ? (size_t)(l - p->location) : p->nlocation;
			if (!gone[i] && !beneath[i]) {
				user = true;
				continue;
			}
			if (!user)
				continue;
			size_t from = gone[i] ? k + 1 : k;
			memmove(sm->location_id, sm->location_id + from, (sm->nlocation - from) * sizeof(*sm->location_id));
			sm->nlocation -= from;
			break;
		}
	}
	rc = 0;
out:
	free(gone);
	free(beneath);
	return rc;
}

int cprof__filter_remove_uninteresting(struct profile *p)
{
	const char *d = cprof__profile_str(p, p->drop_frames), *k = cprof__profile_str(p, p->keep_frames);
	if (!d[0])
		return 0;
	/* pprof anchors them, and ignores them when they do not compile */
	char *pat = malloc(strlen(d) + strlen(k) + 8);
	if (!pat)
		return -ENOMEM;
	regex_t drop, keep;
	char err[256];
	sprintf(pat, "^(%s)$", d);
	int rc = cprof__filter_regcomp(&drop, pat, err, sizeof(err));
	if (rc == 0 && k[0]) {
		sprintf(pat, "^(%s)$", k);
		if (cprof__filter_regcomp(&keep, pat, err, sizeof(err)) < 0) {
			regfree(&drop);
			rc = -1;
		}
	}
	free(pat);
	if (rc < 0)
		return 0;
	rc = prune(p, &drop, k[0] ? &keep : NULL);
	regfree(&drop);
	if (k[0])
		regfree(&keep);
	return rc;
}

/* ---- labels ---- */

/* The numeric labels pprof decodes: those with a value or a unit. */
static bool is_num(const struct pp_label *l)
{
	return l->str == 0 && (l->num != 0 || l->num_unit != 0);
}

static bool is_str(const struct pp_label *l)
{
	return l->str != 0;
}

/* profile.NumLabelUnits: the first unit seen per key, else inferred from it. */
static const char *num_unit(const struct profile *p, const char *key)
{
	for (size_t s = 0; s < p->nsample; s++)
		for (size_t j = 0; j < p->sample[s].nlabel; j++) {
			const struct pp_label *l = &p->sample[s].label[j];
			if (is_num(l) && l->num_unit &&
			    strcmp(cprof__profile_str(p, l->key), key) == 0 &&
			    cprof__profile_str(p, l->num_unit)[0])
				return cprof__profile_str(p, l->num_unit);
		}
	if (strcmp(key, "alignment") == 0 || strcmp(key, "request") == 0)
		return "bytes";
	return key;
}

/* A numeric range of parseTagFilterRange. */
struct range {
	int op; /* '=', '>', '<', 'b' (between) */
	double lo, hi;
	const char *unit;
	char unit_buf[32];
};

/* One match of ([+-]?[[:digit:]]+)([[:alpha:]]+)? from s: start and length. */
static bool range_token(const char *s, size_t *start, size_t *len, size_t *numlen)
{
	for (size_t i = 0; s[i]; i++) {
		size_t j = i;
		if ((s[j] == '+' || s[j] == '-') && isdigit((unsigned char)s[j + 1]))
			j++;
		if (!isdigit((unsigned char)s[j]))
			continue;
		while (isdigit((unsigned char)s[j]))
			j++;
		*numlen = j - i;
		while (isalpha((unsigned char)s[j]))
			j++;
		*start = i;
		*len = j - i;
		return true;
	}
	return false;
}

/* Number and unit of a token; false when the number overflows. */
static bool token_value(const char *t, size_t numlen, size_t len, int64_t *v, char *unit, size_t ulen)
{
	char num[64];
	if (numlen >= sizeof(num))
		return false;
	memcpy(num, t, numlen);
	num[numlen] = '\0';
	errno = 0;
	long long x = strtoll(num, NULL, 10);
	if (errno)
		return false;
	*v = x;
	snprintf(unit, ulen, "%.*s", (int)(len - numlen), t + numlen);
	return true;
}

/* parseTagFilterRange: 1 when f is a range, 0 when not, -1 when unparsable. */
static int parse_range(const char *f, struct range *r)
{
	size_t s0, l0, n0, s1, l1, n1;
	if (!range_token(f, &s0, &l0, &n0))
		return 0;
	bool two = range_token(f + s0 + l0, &s1, &l1, &n1);
	int64_t v;
	char u[64];
	if (!token_value(f + s0, n0, l0, &v, u, sizeof(u)))
		return -1;
	const char *unit;
	double sv = cprof__units_scale(v, u, u, &unit);
	snprintf(r->unit_buf, sizeof(r->unit_buf), "%s", unit);
	r->unit = r->unit_buf;
	r->lo = r->hi = sv;
	size_t n = strlen(f);
	if (!two) {
		if (s0 == 0 && l0 == n)
			r->op = '=';
		else if (s0 == 0 && l0 + 1 == n && f[l0] == ':')
			r->op = '>';
		else if (s0 == 1 && f[0] == ':' && l0 + 1 == n)
			r->op = '<';
		else
			return 0;
		return 1;
	}
	s1 += s0 + l0;
	if (s0 != 0 || f[l0] != ':' || s1 != l0 + 1 || s1 + l1 != n)
		return 0;
	if (!token_value(f + s1, n1, l1, &v, u, sizeof(u)))
		return -1;
	const char *unit2;
	r->hi = cprof__units_scale(v, u, r->unit, &unit2);
	if (strcmp(unit2, r->unit) != 0)
		return 0;
	r->op = 'b';
	return 1;
}

static bool in_range(const struct range *r, int64_t v, const char *unit)
{
	const char *su;
	double sv = cprof__units_scale(v, unit, r->unit, &su);
	if (strcmp(su, r->unit) != 0)
		return false;
	switch (r->op) {
	case '=': return sv == r->lo;
	case '>': return sv >= r->lo;
	case '<': return sv <= r->lo;
	default: return sv >= r->lo && sv <= r->hi;
	}
}

/* A compiled -tagfocus / -tagignore. */
struct tagf {
	char *key; /* NULL: any key */
	bool numeric;
	struct range range;
	regex_t *rx;
	size_t nrx;
};

static void tagf_release(struct tagf *t)
{
	for (size_t i = 0; i < t->nrx; i++)
		regfree(&t->rx[i]);
	free(t->rx);
	free(t->key);
	memset(t, 0, sizeof(*t));
}

/* compileTagFilter. 0, or -1 with the reason in err. */
static int tagf_compile(struct tagf *t, const char *name, const char *value, FILE *warn,
			char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	const char *eq = strchr(value, '=');
	if (eq) {
		t->key = strndup(value, (size_t)(eq - value));
		if (!t->key)
			goto oom;
		value = eq + 1;
	}
	int rc = parse_range(value, &t->range);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot parse the number in \"%s\"", name, value);
		goto fail;
	}
	if (rc > 0) {
		if (warn)
			fprintf(warn, "%s:Interpreted '%s' as range, not regexp\n", name, value);
		t->numeric = true;
		return 0;
	}
	size_t n = 1;
	for (const char *s = value; *s; s++)
		n += *s == ',';
	t->rx = calloc(n, sizeof(*t->rx));
	if (!t->rx)
		goto oom;
	const char *s = value;
	for (size_t i = 0; i < n; i++) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		char *pat = strndup(s, len);
		char why[512];
		if (!pat)
			goto oom;
		int c = cprof__filter_regcomp(&t->rx[i], pat, why, sizeof(why));
		free(pat);
		if (c < 0) {
			snprintf(err, errlen, "parsing %s regexp: %s", name, why);
			goto fail;
		}
		t->nrx++;
		s += len + 1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	tagf_release(t);
	return -1;
}

static bool tagf_match(const struct tagf *t, const struct profile *p, const struct pp_sample *s)
{
	if (t->numeric) {
		for (size_t i = 0; i < s->nlabel; i++) {
			const struct pp_label *l = &s->label[i];
			const char *key = cprof__profile_str(p, l->key);
			if (!is_num(l) || (t->key && strcmp(key, t->key) != 0))
				continue;
			if (in_range(&t->range, l->num, num_unit(p, key)))
				return true;
		}
		return false;
	}
	if (!t->key) {
		/* Every regexp must match some "key:value". */
		for (size_t r = 0; r < t->nrx; r++) {
			bool found = false;
			for (size_t i = 0; i < s->nlabel && !found; i++) {
				const struct pp_label *l = &s->label[i];
				if (!is_str(l))
					continue;
				char *kv;
				if (asprintf(&kv, "%s:%s", cprof__profile_str(p, l->key),
					     cprof__profile_str(p, l->str)) < 0)
					return false;
				found = match(&t->rx[r], kv);
				free(kv);
			}
			if (!found)
				return false;
		}
		return true;
	}
	for (size_t i = 0; i < s->nlabel; i++) {
		const struct pp_label *l = &s->label[i];
		if (!is_str(l) || strcmp(cprof__profile_str(p, l->key), t->key) != 0)
			continue;
		for (size_t r = 0; r < t->nrx; r++)
			if (match(&t->rx[r], cprof__profile_str(p, l->str)))
				return true;
	}
	return false;
}

/* profile.FilterSamplesByTag */
static int by_tag(struct fctx *c, const struct tagf *focus, const struct tagf *ignore)
{
	struct profile *p = c->p;
	bool fm = false, im = false;
	bool *keep = calloc(p->nsample + 1, sizeof(bool));
	if (!keep)
		return -ENOMEM;
	for (size_t s = 0; s < p->nsample; s++) {
		bool f = focus ? tagf_match(focus, p, &p->sample[s]) : true;
		bool i = ignore ? tagf_match(ignore, p, &p->sample[s]) : false;
		fm = fm || f;
		im = im || i;
		keep[s] = f && !i;
	}
	keep_samples(p, keep);
	free(keep);
	warn_no_match(c, !focus || fm, "TagFocus");
	warn_no_match(c, !ignore || im, "TagIgnore");
	return 0;
}

/* profile.FilterTagsByName */
static void tags_by_name(struct fctx *c, const regex_t *show, const regex_t *hide)
{
	struct profile *p = c->p;
	bool sm = false, hm = false;
	for (size_t s = 0; s < p->nsample; s++) {
		struct pp_sample *sm_ = &p->sample[s];
		size_t w = 0;
		for (size_t i = 0; i < sm_->nlabel; i++) {
			const struct pp_label *l = &sm_->label[i];
			if (!is_str(l) && !is_num(l))
				continue; /* pprof never decoded it */
			const char *key = cprof__profile_str(p, l->key);
			bool ms = !show || match(show, key);
			bool mh = hide && match(hide, key);
			sm = sm || ms;
			hm = hm || mh;
			if (ms && !mh)
				sm_->label[w++] = *l;
		}
		sm_->nlabel = w;
	}
	warn_no_match(c, !show || sm, "TagShow");
	warn_no_match(c, !hide || hm, "TagHide");
}

/* ---- -tagroot / -tagleaf (tagroot.go addLabelNodes) ---- */

/* formatLabelValues: string values, then numeric ones with their units. */
static char *label_values(const struct profile *p, const struct pp_sample *s, const char *key,
			  const char *output_unit, bool *any)
{
	struct buf b;
	cprof__buf_init(&b, 0);
	size_t nnum = 0, nunit = 0;
	*any = false;
	for (size_t i = 0; i < s->nlabel; i++) {
		const struct pp_label *l = &s->label[i];
		if (strcmp(cprof__profile_str(p, l->key), key) != 0)
			continue;
		if (is_str(l)) {
			if (*any)
				cprof__buf_puts(&b, ",");
			cprof__buf_puts(&b, cprof__profile_str(p, l->str));
			*any = true;
		} else if (is_num(l)) {
			nnum++;
			nunit += l->num_unit != 0;
		}
	}
	/* pprof pads missing units with "" once a key has one unit. */
	for (size_t i = 0; i < s->nlabel && nnum; i++) {
		const struct pp_label *l = &s->label[i];
		if (!is_num(l) || strcmp(cprof__profile_str(p, l->key), key) != 0)
			continue;
		char v[128];
		if (nunit)
			cprof__units_label(v, sizeof(v), l->num,
					   cprof__profile_str(p, l->num_unit), output_unit);
		else
			cprof__units_label(v, sizeof(v), l->num, "", "");
		if (*any)
			cprof__buf_puts(&b, ",");
		cprof__buf_puts(&b, v);
		*any = true;
	}
	return (char *)cprof__buf_detach(&b, NULL);
}

struct pseudo {
	char *name, *key;
	uint64_t loc_id;
};

static int add_label_nodes(struct fctx *c, const char *roots, const char *leaves,
			   const char *unit)
{
	struct profile *p = c->p;
	char *rbuf = strdup(roots ? roots : ""), *lbuf = strdup(leaves ? leaves : "");
	char *rk[256], *lk[256];
	size_t nr = 0, nl = 0;
	struct pseudo *ps = NULL;
	size_t nps = 0, cap = 0;
	bool rootm = false, leafm = false;
	int rc = -ENOMEM;
	if (!rbuf || !lbuf)
		goto out;
	for (char *sv, *t = strtok_r(rbuf, ",", &sv); t && nr < 256; t = strtok_r(NULL, ",", &sv))
		rk[nr++] = t;
	for (char *sv, *t = strtok_r(lbuf, ",", &sv); t && nl < 256; t = strtok_r(NULL, ",", &sv))
		lk[nl++] = t;
	for (size_t s = 0; s < p->nsample; s++) {
		struct pp_sample *sm = &p->sample[s];
		uint64_t *ids = malloc((sm->nlocation + nr + nl + 1) * sizeof(*ids));
		if (!ids)
			goto out;
		size_t n = 0;
		uint64_t add[512];
		for (int side = 0; side < 2; side++) {
			char **keys = side ? rk : lk;
			size_t nk = side ? nr : nl;
			for (size_t i = 0; i < nk; i++) {
				const char *k = keys[nk - 1 - i];
				bool any;
				char *vals = label_values(p, sm, k, unit, &any);
				if (!vals) {
					free(ids);
					goto out;
				}
				if (any)
					*(side ? &rootm : &leafm) = true;
				size_t j;
				for (j = 0; j < nps; j++)
					if (strcmp(ps[j].name, vals) == 0 && strcmp(ps[j].key, k) == 0)
						break;
				if (j == nps) {
					if (nps == cap) {
						cap = cap ? cap * 2 : 16;
						struct pseudo *q = realloc(ps, cap * sizeof(*q));
						if (!q) {
							free(vals);
							free(ids);
							goto out;
						}
						ps = q;
					}
					struct pp_function *fn =
						cprof__profile_add_function(p, vals, "", k, 0);
					struct pp_line ln = {.function_id = fn ? fn->id : 0};
					struct pp_location *l =
						fn ? cprof__profile_add_location(p, 0, 0, &ln, 1) : NULL;
					char *key = strdup(k);
					if (!l || !key) {
						free(key);
						free(vals);
						free(ids);
						goto out;
					}
					ps[nps++] = (struct pseudo){vals, key, l->id};
					vals = NULL;
				}
				free(vals);
				add[i + (side ? 256 : 0)] = ps[j].loc_id;
			}
		}
		for (size_t i = 0; i < nl; i++)
			ids[n++] = add[i];
		for (size_t i = 0; i < sm->nlocation; i++)
			ids[n++] = sm->location_id[i];
		for (size_t i = 0; i < nr; i++)
			ids[n++] = add[256 + i];
		free(sm->location_id);
		sm->location_id = ids;
		sm->nlocation = n;
	}
	warn_no_match(c, !set(roots) || rootm, "TagRoot");
	warn_no_match(c, !set(leaves) || leafm, "TagLeaf");
	rc = 0;
out:
	for (size_t i = 0; i < nps; i++) {
		free(ps[i].name);
		free(ps[i].key);
	}
	free(ps);
	free(rbuf);
	free(lbuf);
	return rc;
}

/* ---- the steps, in pprof's order ---- */

static int names_init(struct fctx *c)
{
	struct profile *p = c->p;
	c->fname = calloc(p->nfunction + 1, sizeof(char *));
	c->fname_buf = calloc(p->nfunction + 1, sizeof(char *));
	if (!c->fname || !c->fname_buf)
		return -ENOMEM;
	for (size_t i = 0; i < p->nfunction; i++)
		c->fname[i] = (char *)cprof__report_function_name(p, &p->function[i], &c->fname_buf[i]);
	return 0;
}

static void names_release(struct fctx *c)
{
	for (size_t i = 0; c->fname_buf && i < c->p->nfunction; i++)
		free(c->fname_buf[i]);
	free(c->fname_buf);
	free(c->fname);
}

struct profile *cprof__filter_copy(const struct profile *p, char *err, size_t errlen)
{
	struct profile *const one[1] = {(struct profile *)p};
	return cprof__report_merge(one, 1, err, errlen);
}

int cprof__filter_tagnodes(struct profile *p, const struct report_options *o, FILE *warn)
{
	if (!set(o->tagroot) && !set(o->tagleaf))
		return 0;
	struct fctx c = {.p = p, .warn = warn};
	return add_label_nodes(&c, o->tagroot, o->tagleaf, o->unit ? o->unit : "minimum");
}

/* Compile an option's regexp when set; the error names the option. */
static int opt_re(regex_t *re, bool *have, const char *name, const char *v, char *err, size_t errlen)
{
	*have = false;
	if (!set(v))
		return 0;
	char why[512];
	if (cprof__filter_regcomp(re, v, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "parsing %s regexp: %s", name, why);
		return -1;
	}
	*have = true;
	return 0;
}

int cprof__filter_apply(struct profile *p, const struct report_options *o, FILE *warn,
			char *err, size_t errlen)
{
	enum { FOCUS, IGNORE, HIDE, SHOW, SHOWFROM, PRUNE, TAGSHOW, TAGHIDE, NRE };
	static const char *const names[NRE] = {"focus", "ignore", "hide", "show", "show_from",
					       "prune_from", "tagshow", "taghide"};
	const char *vals[NRE] = {o->focus, o->ignore, o->hide, o->show, o->show_from,
				 o->prune_from, o->tagshow, o->taghide};
	regex_t re[NRE];
	bool have[NRE] = {0};
	struct tagf tf = {0}, ti = {0};
	bool have_tf = false, have_ti = false;
	struct fctx c = {.p = p, .warn = warn};
	int rc = -1;
	for (int i = 0; i < NRE; i++)
		if (opt_re(&re[i], &have[i], names[i], vals[i], err, errlen) < 0)
			goto out;
	/* Sample filters are compiled (and announced) in pprof's order. */
	if (set(o->tagfocus)) {
		if (tagf_compile(&tf, "tagfocus", o->tagfocus, warn, err, errlen) < 0)
			goto out;
		have_tf = true;
	}
	if (set(o->tagignore)) {
		if (tagf_compile(&ti, "tagignore", o->tagignore, warn, err, errlen) < 0)
			goto out;
		have_ti = true;
	}
	if (names_init(&c) < 0)
		goto oom;
	if (have[FOCUS] || have[IGNORE] || have[HIDE] || have[SHOW])
		if (by_name(&c, have[FOCUS] ? &re[FOCUS] : NULL, have[IGNORE] ? &re[IGNORE] : NULL,
			    have[HIDE] ? &re[HIDE] : NULL, have[SHOW] ? &re[SHOW] : NULL) < 0)
			goto oom;
	if (have[SHOWFROM] && show_from(&c, &re[SHOWFROM]) < 0)
		goto oom;
	if ((have_tf || have_ti) && by_tag(&c, have_tf ? &tf : NULL, have_ti ? &ti : NULL) < 0)
		goto oom;
	if (have[TAGSHOW] || have[TAGHIDE])
		tags_by_name(&c, have[TAGSHOW] ? &re[TAGSHOW] : NULL,
			     have[TAGHIDE] ? &re[TAGHIDE] : NULL);
	if (have[PRUNE] && prune_from(&c, &re[PRUNE]) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	names_release(&c);
	for (int i = 0; i < NRE; i++)
		if (have[i])
			regfree(&re[i]);
	tagf_release(&tf);
	tagf_release(&ti);
	return rc;
}
