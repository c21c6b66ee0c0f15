/*
 * proj.c - projections: how `cprof benchstat` turns a result into the key
 * of its table, row, column and "residue" (-table, -row, -col, -ignore).
 * It owns the projection syntax ("key", "key@alpha", "key@num",
 * "key@(v1 v2)", comma- or space-separated), the extractors of the keys
 * (.name, .fullname, .file, /name-key, file config keys, the .config tuple),
 * key interning, observation order and the key sort. Keys named in one
 * projection are left out of the group keys .config and .fullname of every
 * other. The lexer here is shared with filter.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/benchstat/benchstat.h"

/* ---- tokens ---- */

static int is_op(int c)
{
	return c == '(' || c == ')' || c == ':' || c == '@' || c == ',';
}

static int is_start_op(int c)
{
	return is_op(c) || c == '-' || c == '*';
}

void cprof__bs_syntax_error(char *err, size_t errlen, const char *q, size_t off, const char *msg)
{
	int pos = 0;
	size_t i = 0, n = strlen(q);
	while (i < n && i < off) {
		int sz, r = cprof__bs_rune(q + i, n - i, &sz);
		if (r >= 0x20 && r != 0x7f && !(r >= 0x80 && r < 0xa0))
			pos++;
		i += (size_t)sz;
	}
	snprintf(err, errlen, "syntax error: %s\n\t%s\n\t%*s^", msg, q, pos, "");
}

static struct bs_tok tok_error(const char *q, size_t off, const char *msg, char *err, size_t errlen)
{
	if (!err[0])
		cprof__bs_syntax_error(err, errlen, q, off, msg);
	return (struct bs_tok){-1, off, ""};
}

/* Go string unquoting for the common escapes. NULL on a bad escape. */
static char *unquote(struct bs_arena *a, const char *s, size_t n)
{
	char *out = cprof__bs_alloc(a, n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (++i >= n)
			return NULL;
		switch (s[i]) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'a': *o++ = '\a'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'v': *o++ = '\v'; break;
		case '\\': *o++ = '\\'; break;
		case '"': *o++ = '"'; break;
		case 'x': {
			if (i + 2 >= n)
				return NULL;
			char h[3] = {s[i + 1], s[i + 2], 0}, *e;
			long v = strtol(h, &e, 16);
			if (*e)
				return NULL;
			*o++ = (char)v;
			i += 2;
			break;
		}
		default:
			return NULL;
		}
	}
	*o = 0;
	return out;
}

struct bs_tok cprof__bs_next_tok(struct bs_arena *a, const char *q, size_t *pos, int allow_re, char *err,
				 size_t errlen)
{
	size_t n = strlen(q), i = *pos;
	while (i < n) {
		int sz, r = cprof__bs_rune(q + i, n - i, &sz);
		if (!cprof__bs_is_space_rune(r))
			break;
		i += (size_t)sz;
	}
	if (i >= n) {
		*pos = n;
		return (struct bs_tok){0, n, ""};
	}
	char c = q[i];
	if (is_start_op(c)) {
		*pos = i + 1;
		return (struct bs_tok){c, i, cprof__bs_strndup(a, q + i, 1)};
	}
	if (allow_re && c == '/') {
		/* up to the first "/" outside brackets and parentheses */
		size_t j = i + 1;
		int cs = 0, cp = 0;
		while (j < n) {
			if (cs == 0 && cp == 0 && q[j] == '/')
				break;
			switch (q[j]) {
			case '[': cs++; break;
			case ']': if (--cs < 0) cs = 0; break;
			case '(': if (cs == 0) cp++; break;
			case ')': if (cs == 0) cp--; break;
			case '\\': j++; break;
			}
			j++;
		}
		if (j >= n) {
			*pos = n;
			return tok_error(q, i, "missing close \"/\"", err, errlen);
		}
		size_t after = j + 1;
		if (after < n) {
			int sz, r = cprof__bs_rune(q + after, n - after, &sz);
			if (!cprof__bs_is_space_rune(r) && !is_start_op(r)) {
				*pos = n;
				return tok_error(q, after,
						 "regexp must be followed by space or an operator (unescaped \"/\"?)", err,
						 errlen);
			}
		}
		*pos = after;
		return (struct bs_tok){'r', i, cprof__bs_strndup(a, q + i + 1, j - i - 1)};
	}
	if (c == '"') {
		size_t j = i + 1;
		while (j < n && (q[j] != '"' || q[j - 1] == '\\'))
			j++;
		if (j >= n) {
			*pos = n;
			return tok_error(q, i, "missing end quote", err, errlen);
		}
		char *w = unquote(a, q + i + 1, j - i - 1);
		if (!w) {
			*pos = n;
			return tok_error(q, i, "bad escape sequence", err, errlen);
		}
		*pos = j + 1;
		return (struct bs_tok){'q', i, w};
	}
	size_t j = i;
	while (j < n) {
		int sz, r = cprof__bs_rune(q + j, n - j, &sz);
		if (cprof__bs_is_space_rune(r) || is_op(r))
			break;
		j += (size_t)sz;
	}
	*pos = j;
	char *w = cprof__bs_strndup(a, q + i, j - i);
	if (strcmp(w, "AND") == 0)
		return (struct bs_tok){'A', i, w};
	if (strcmp(w, "OR") == 0)
		return (struct bs_tok){'O', i, w};
	return (struct bs_tok){'w', i, w};
}

/* ---- names ---- */

/* Splits a full name into base and parts ("/k=v", "/pos", "-N" last). Returns the part count. */
static int name_parts(const char *name, size_t *base_len, size_t *pstart, size_t *plen, int max)
{
	size_t n = strlen(name), body = n;
	for (size_t i = n; i-- > 0;) {
		if (name[i] == '-' && i < n - 1) {
			body = i;
			break;
		}
		if (name[i] < '0' || name[i] > '9')
			break;
	}
	int np = 0;
	size_t prev = 0;
	*base_len = body;
	int first = 1;
	for (size_t i = 0; i <= body; i++) {
		if (i == body || name[i] == '/') {
			if (first) {
				*base_len = i;
				first = 0;
			} else if (np < max) {
				pstart[np] = prev;
				plen[np++] = i - prev;
			}
			prev = i;
		}
	}
	if (body < n && np < max) {
		pstart[np] = body;
		plen[np++] = n - body;
	}
	return np;
}

#define MAXPARTS 256

const char *cprof__bs_extract(struct bs_arena *a, const struct bs_result *r, const char *key)
{
	if (strcmp(key, ".fullname") == 0)
		return r->name;
	if (strcmp(key, ".name") == 0) {
		const char *sl = strchr(r->name, '/');
		if (sl)
			return cprof__bs_strndup(a, r->name, (size_t)(sl - r->name));
		size_t bl, ps[MAXPARTS], pl[MAXPARTS];
		name_parts(r->name, &bl, ps, pl, MAXPARTS);
		return cprof__bs_strndup(a, r->name, bl);
	}
	if (key[0] == '/') {
		size_t bl, ps[MAXPARTS], pl[MAXPARTS];
		int np = name_parts(r->name, &bl, ps, pl, MAXPARTS);
		if (strcmp(key, "/gomaxprocs") == 0 && np > 0 && r->name[ps[np - 1]] == '-')
			return cprof__bs_strndup(a, r->name + ps[np - 1] + 1, pl[np - 1] - 1);
		size_t kl = strlen(key);
		for (int i = 0; i < np; i++)
			if (pl[i] > kl && memcmp(r->name + ps[i], key, kl) == 0 && r->name[ps[i] + kl] == '=')
				return cprof__bs_strndup(a, r->name + ps[i] + kl + 1, pl[i] - kl - 1);
		return NULL;
	}
	for (int i = 0; i < r->ncfg; i++)
		if (strcmp(r->cfg[i].key, key) == 0)
			return r->cfg[i].val;
	return NULL;
}

/* .fullname without the name keys other projections use; ".name" turns the base into "*". */
static const char *extract_full_excluded(struct bs_arena *a, const struct bs_parser *p, const struct bs_result *r)
{
	int exc_name = 0, exc_procs = 0, ndel = 0;
	for (int i = 0; i < p->nfullname; i++) {
		if (strcmp(p->fullname_keys[i], ".name") == 0)
			exc_name = 1;
		if (p->fullname_keys[i][0] == '/') {
			ndel++;
			if (strcmp(p->fullname_keys[i], "/gomaxprocs") == 0)
				exc_procs = 1;
		}
	}
	if (!ndel && !exc_name && !exc_procs)
		return r->name;
	int found = exc_name;
	for (int i = 0; i < p->nfullname && !found; i++) {
		const char *k = p->fullname_keys[i];
		if (k[0] != '/')
			continue;
		char *pat = cprof__bs_sprintf(a, "%s=", k);
		if (strstr(r->name, pat))
			found = 1;
	}
	if (!found && exc_procs && strchr(r->name, '-'))
		found = 1;
	if (!found)
		return r->name;
	size_t bl, ps[MAXPARTS], pl[MAXPARTS];
	int np = name_parts(r->name, &bl, ps, pl, MAXPARTS);
	size_t n = strlen(r->name);
	char *out = cprof__bs_alloc(a, n + 2), *o = out;
	if (exc_name) {
		*o++ = '*';
	} else {
		memcpy(o, r->name, bl);
		o += bl;
	}
	for (int i = 0; i < np; i++) {
		const char *part = r->name + ps[i];
		int skip = 0;
		for (int j = 0; j < p->nfullname && !skip; j++) {
			const char *k = p->fullname_keys[j];
			size_t kl = strlen(k);
			if (k[0] == '/' && pl[i] > kl && memcmp(part, k, kl) == 0 && part[kl] == '=')
				skip = 1;
		}
		if (exc_procs && part[0] == '-')
			skip = 1;
		if (!skip) {
			memcpy(o, part, pl[i]);
			o += pl[i];
		}
	}
	*o = 0;
	return out;
}

/* ---- projections ---- */

static struct bs_field *new_field(struct bs_proj *pr, const char *name, int ord)
{
	struct bs_field *f = cprof__bs_alloc(pr->parser->a, sizeof(*f));
	f->name = name;
	f->idx = pr->nfields++;
	f->ord = ord;
	return f;
}

static void add_fixed_filter(struct bs_parser *p, const char *key, struct bs_map *set)
{
	cprof__bs_grow(p->a, (void **)&p->fixed, &p->capfixed, p->nfixed + 1, sizeof(*p->fixed));
	p->fixed[p->nfixed++] = (struct bs_fixed_filter){key, set};
}

static struct bs_part *new_part(struct bs_proj *pr, int kind)
{
	cprof__bs_grow(pr->parser->a, (void **)&pr->parts, &pr->capparts, pr->nparts + 1, sizeof(*pr->parts));
	struct bs_part *part = &pr->parts[pr->nparts++];
	memset(part, 0, sizeof(*part));
	part->kind = kind;
	return part;
}

static struct bs_proj *new_proj(struct bs_parser *p)
{
	struct bs_proj *pr = cprof__bs_alloc(p->a, sizeof(*pr));
	pr->parser = p;
	return pr;
}

struct pending {
	const char *key;
	size_t keyoff, ordoff;
	int ord;
	const char *unknown_order; /* reported once the whole expression parsed */
};

static int make_part(struct bs_proj *pr, const char *q, struct pending *pd, struct bs_map *fixed_set, char *err,
		     size_t errlen)
{
	struct bs_parser *p = pr->parser;
	if (pd->unknown_order) {
		char msg[256];
		snprintf(msg, sizeof(msg), "unknown order \"%s\"", pd->unknown_order);
		cprof__bs_syntax_error(err, errlen, q, pd->ordoff, msg);
		return -1;
	}
	if (strcmp(pd->key, ".config") == 0) {
		if (pd->ord == BS_ORD_FIXED) {
			cprof__bs_syntax_error(err, errlen, q, pd->ordoff, "fixed order not allowed for .config");
			return -1;
		}
		p->have_config = 1;
		struct bs_part *part = new_part(pr, 1);
		part->ord = pd->ord;
		return 0;
	}
	if (strcmp(pd->key, ".unit") == 0) {
		cprof__bs_syntax_error(err, errlen, q, pd->keyoff, ".unit is only allowed in filters");
		return -1;
	}
	if (!pd->key[0]) {
		cprof__bs_syntax_error(err, errlen, q, pd->keyoff, "key must not be empty");
		return -1;
	}
	if (strcmp(pd->key, ".fullname") == 0) {
		p->have_fullname = 1;
		struct bs_part *part = new_part(pr, 2);
		part->field = new_field(pr, pd->key, pd->ord);
		part->field->tracked = pd->ord == BS_ORD_FIRST;
		part->field->fixed = *fixed_set;
		if (pd->ord == BS_ORD_FIXED)
			add_fixed_filter(p, ".fullname", &part->field->fixed);
		return 0;
	}
	if (strcmp(pd->key, ".name") == 0 || pd->key[0] == '/') {
		cprof__bs_grow(p->a, (void **)&p->fullname_keys, &p->capfullname, p->nfullname + 1,
			       sizeof(*p->fullname_keys));
		p->fullname_keys[p->nfullname++] = pd->key;
	} else {
		cprof__bs_map_put(p->a, &p->config_keys, pd->key, strlen(pd->key), 1);
	}
	struct bs_part *part = new_part(pr, 0);
	part->field = new_field(pr, pd->key, pd->ord);
	part->field->tracked = pd->ord == BS_ORD_FIRST;
	part->field->fixed = *fixed_set;
	if (pd->ord == BS_ORD_FIXED)
		add_fixed_filter(p, pd->key, &part->field->fixed);
	return 0;
}

struct bs_proj *cprof__bs_proj_parse(struct bs_parser *p, const char *q, int with_unit, char *err, size_t errlen)
{
	struct bs_proj *pr = new_proj(p);
	struct pending pend[64];
	struct bs_map sets[64];
	int npend = 0;
	size_t pos = 0;
	err[0] = 0;
	for (;;) {
		size_t save = pos;
		struct bs_tok t = cprof__bs_next_tok(p->a, q, &pos, 0, err, errlen);
		if (t.kind < 0)
			return NULL;
		if (t.kind == 0)
			break;
		if (t.kind == ',' && npend > 0) {
			/* one optional comma between keys */
			save = pos;
			t = cprof__bs_next_tok(p->a, q, &pos, 0, err, errlen);
			if (t.kind < 0)
				return NULL;
		}
		if (t.kind != 'w' && t.kind != 'q') {
			cprof__bs_syntax_error(err, errlen, q, save, "expected key");
			return NULL;
		}
		if (npend == 64) {
			cprof__bs_syntax_error(err, errlen, q, t.off, "too many keys");
			return NULL;
		}
		struct pending *pd = &pend[npend];
		memset(pd, 0, sizeof(*pd));
		memset(&sets[npend], 0, sizeof(sets[npend]));
		pd->key = t.text;
		pd->keyoff = t.off;
		pd->ord = BS_ORD_FIRST;
		pd->ordoff = t.off + strlen(t.text);
		save = pos;
		struct bs_tok at = cprof__bs_next_tok(p->a, q, &pos, 0, err, errlen);
		if (at.kind < 0)
			return NULL;
		if (at.kind != '@') {
			pos = save;
		} else {
			save = pos;
			struct bs_tok o = cprof__bs_next_tok(p->a, q, &pos, 0, err, errlen);
			if (o.kind < 0)
				return NULL;
			pd->ordoff = o.off;
			if (o.kind == '(') {
				pd->ord = BS_ORD_FIXED;
				int n = 0;
				for (;;) {
					size_t before = pos;
					struct bs_tok w = cprof__bs_next_tok(p->a, q, &pos, 0, err, errlen);
					if (w.kind < 0)
						return NULL;
					if (w.kind == ')') {
						if (n == 0) {
							cprof__bs_syntax_error(err, errlen, q, before, "nothing to match");
							return NULL;
						}
						break;
					}
					if (w.kind != 'w' && w.kind != 'q') {
						cprof__bs_syntax_error(err, errlen, q, before, "missing )");
						return NULL;
					}
					if (cprof__bs_map_get(&sets[npend], w.text, strlen(w.text)) < 0)
						cprof__bs_map_put(p->a, &sets[npend], w.text, strlen(w.text), n);
					n++;
				}
			} else if (o.kind == 'w' || o.kind == 'q') {
				if (strcmp(o.text, "alpha") == 0)
					pd->ord = BS_ORD_ALPHA;
				else if (strcmp(o.text, "num") == 0)
					pd->ord = BS_ORD_NUM;
				else if (strcmp(o.text, "first") == 0)
					pd->ord = BS_ORD_FIRST;
				else
					pd->unknown_order = o.text;
			} else {
				cprof__bs_syntax_error(err, errlen, q, save,
						       "expected named sort order or parenthesized list");
				return NULL;
			}
		}
		npend++;
	}
	for (int i = 0; i < npend; i++)
		if (make_part(pr, q, &pend[i], &sets[i], err, errlen) < 0)
			return NULL;
	if (with_unit) {
		pr->unit = new_field(pr, ".unit", BS_ORD_FIRST);
		pr->unit->tracked = 1;
	}
	return pr;
}

struct bs_proj *cprof__bs_proj_residue(struct bs_parser *p)
{
	struct bs_proj *pr = new_proj(p);
	if (!p->have_config)
		new_part(pr, 1)->ord = BS_ORD_FIRST;
	if (!p->have_fullname) {
		struct bs_part *part = new_part(pr, 2);
		part->field = new_field(pr, ".fullname", BS_ORD_FIRST);
		part->field->tracked = 1;
	}
	return pr;
}

void cprof__bs_proj_flatten(struct bs_proj *pr)
{
	struct bs_arena *a = pr->parser->a;
	int n = 0;
	for (int i = 0; i < pr->nparts; i++)
		n += pr->parts[i].kind == 1 ? pr->parts[i].nsub : 1;
	if (pr->unit)
		n++;
	pr->flat = cprof__bs_alloc(a, sizeof(*pr->flat) * (size_t)(n + 1));
	pr->nflat = 0;
	for (int i = 0; i < pr->nparts; i++) {
		struct bs_part *part = &pr->parts[i];
		if (part->kind == 1)
			for (int j = 0; j < part->nsub; j++)
				pr->flat[pr->nflat++] = part->sub[j];
		else
			pr->flat[pr->nflat++] = part->field;
	}
	if (pr->unit)
		pr->flat[pr->nflat++] = pr->unit;
}

static void set_row(struct bs_proj *pr, int idx, const char *v)
{
	if (idx >= pr->caprow) {
		int old = pr->caprow;
		cprof__bs_grow(pr->parser->a, (void **)&pr->row, &pr->caprow, idx + 1, sizeof(*pr->row));
		for (int i = old; i < pr->caprow; i++)
			pr->row[i] = NULL;
	}
	pr->row[idx] = v;
}

static void observe(struct bs_proj *pr, struct bs_field *f, const char **row, int n)
{
	if (!f->tracked)
		return;
	const char *v = f->idx < n && row[f->idx] ? row[f->idx] : "";
	if (cprof__bs_map_get(&f->obs, v, strlen(v)) < 0)
		cprof__bs_map_put(pr->parser->a, &f->obs, v, strlen(v), f->obs.n);
}

struct bs_key *cprof__bs_project(struct bs_proj *pr, const struct bs_result *r, const char *unit)
{
	struct bs_parser *p = pr->parser;
	struct bs_arena *a = p->a;
	for (int i = 0; i < pr->caprow; i++)
		pr->row[i] = NULL;
	for (int i = 0; i < pr->nparts; i++) {
		struct bs_part *part = &pr->parts[i];
		if (part->kind == 0) {
			set_row(pr, part->field->idx, cprof__bs_extract(a, r, part->field->name));
		} else if (part->kind == 2) {
			set_row(pr, part->field->idx, extract_full_excluded(a, p, r));
		} else {
			for (int c = 0; c < r->ncfg; c++) {
				const struct bs_cfg *cfg = &r->cfg[c];
				if (!cfg->file)
					continue;
				int s = cprof__bs_map_get(&part->seen, cfg->key, strlen(cfg->key));
				if (s < 0) {
					if (cprof__bs_map_get(&p->config_keys, cfg->key, strlen(cfg->key)) >= 0)
						continue;
					struct bs_field *f = new_field(pr, cfg->key, part->ord);
					cprof__bs_grow(a, (void **)&part->sub, &part->capsub, part->nsub + 1,
						       sizeof(*part->sub));
					s = part->nsub;
					part->sub[part->nsub++] = f;
					cprof__bs_map_put(a, &part->seen, cfg->key, strlen(cfg->key), s);
				}
				set_row(pr, part->sub[s]->idx, cfg->val);
			}
		}
	}
	if (pr->unit)
		set_row(pr, pr->unit->idx, unit);
	int n = pr->nfields < pr->caprow ? pr->nfields : pr->caprow;
	while (n > 0 && (!pr->row[n - 1] || !pr->row[n - 1][0]))
		n--;
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += 12 + (pr->row[i] ? strlen(pr->row[i]) : 0);
	char *ser = malloc(len + 1), *o = ser;
	if (!ser) {
		fputs("cprof: benchstat: out of memory\n", stderr);
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		const char *v = pr->row[i] ? pr->row[i] : "";
		o += sprintf(o, "%zu:", strlen(v));
		memcpy(o, v, strlen(v));
		o += strlen(v);
	}
	int id = cprof__bs_map_get(&pr->keymap, ser, (size_t)(o - ser));
	if (id >= 0) {
		free(ser);
		return pr->keys[id];
	}
	for (int i = 0; i < pr->nparts; i++)
		if (pr->parts[i].kind != 1)
			observe(pr, pr->parts[i].field, pr->row, n);
	if (pr->unit)
		observe(pr, pr->unit, pr->row, n);
	struct bs_key *k = cprof__bs_alloc(a, sizeof(*k));
	k->id = pr->nkeys;
	k->nvals = n;
	k->vals = cprof__bs_alloc(a, sizeof(*k->vals) * (size_t)(n + 1));
	for (int i = 0; i < n; i++)
		k->vals[i] = pr->row[i] ? cprof__bs_strdup(a, pr->row[i]) : "";
	cprof__bs_grow(a, (void **)&pr->keys, &pr->capkeys, pr->nkeys + 1, sizeof(*pr->keys));
	pr->keys[pr->nkeys++] = k;
	cprof__bs_map_put(a, &pr->keymap, ser, (size_t)(o - ser), k->id);
	free(ser);
	return k;
}

const char *cprof__bs_key_get(const struct bs_key *k, const struct bs_field *f)
{
	return f->idx < k->nvals ? k->vals[f->idx] : "";
}

/* ---- sorting ---- */

/* A fuzzy number: a float, or digits with an SI or IEC prefix ("2k", "1Mi"). */
static int parse_num(const char *s, double *out)
{
	char *end;
	if (*s) {
		double v = strtod(s, &end);
		if (!*end && !strchr(s, 'x') && !strchr(s, 'X')) {
			*out = v;
			return 0;
		}
	}
	const char *p = s;
	while (*p && !((*p >= '0' && *p <= '9') || *p == '.'))
		p++;
	if (!*p)
		return -1;
	const char *q = p;
	while ((*q >= '0' && *q <= '9') || *q == '.')
		q++;
	char num[128];
	size_t nl = (size_t)(q - p) < sizeof(num) - 1 ? (size_t)(q - p) : sizeof(num) - 1;
	memcpy(num, p, nl);
	num[nl] = 0;
	double v = strtod(num, &end);
	if (*end || end == num)
		return -1;
	static const char prefixes[] = "KMGTPEZY";
	int exp = 0, iec = 0;
	if (*q && (*q == 'k' || strchr(prefixes, *q))) {
		exp = 1 + (int)(strchr(prefixes, *q == 'k' ? 'K' : *q) - prefixes);
		iec = q[1] == 'i';
	}
	*out = v * pow(iec ? 1024 : 1000, exp);
	return 0;
}

static int field_cmp(const struct bs_field *f, const char *a, const char *b)
{
	switch (f->ord) {
	case BS_ORD_FIRST: {
		if (!f->tracked)
			return 0;
		int x = cprof__bs_map_get(&f->obs, a, strlen(a)), y = cprof__bs_map_get(&f->obs, b, strlen(b));
		return (x < 0 ? 0 : x) - (y < 0 ? 0 : y);
	}
	case BS_ORD_ALPHA:
		return strcmp(a, b);
	case BS_ORD_NUM: {
		double x, y;
		int ex = parse_num(a, &x), ey = parse_num(b, &y);
		if (!ex && !ey) {
			if (x < y || (!isnan(x) && isnan(y)))
				return -1;
			if (x > y || (isnan(x) && !isnan(y)))
				return 1;
			return 0;
		}
		if (ex && ey)
			return 0;
		return ex ? 1 : -1;
	}
	case BS_ORD_FIXED: {
		int x = cprof__bs_map_get(&f->fixed, a, strlen(a)), y = cprof__bs_map_get(&f->fixed, b, strlen(b));
		return (x < 0 ? 0 : x) - (y < 0 ? 0 : y);
	}
	}
	return 0;
}

static int key_cmp(const void *pa, const void *pb, void *arg)
{
	const struct bs_proj *pr = arg;
	const struct bs_key *ka = *(struct bs_key *const *)pa, *kb = *(struct bs_key *const *)pb;
	for (int i = 0; i < pr->nflat; i++) {
		const char *x = cprof__bs_key_get(ka, pr->flat[i]), *y = cprof__bs_key_get(kb, pr->flat[i]);
		if (strcmp(x, y) != 0) {
			int c = field_cmp(pr->flat[i], x, y);
			if (c)
				return c;
			return strcmp(x, y) < 0 ? -1 : 1;
		}
	}
	return 0;
}

void cprof__bs_sort_keys(struct bs_proj *pr, struct bs_key **keys, int n)
{
	cprof__bs_proj_flatten(pr);
	qsort_r(keys, (size_t)n, sizeof(*keys), key_cmp, pr);
}
