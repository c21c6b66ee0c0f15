/*
 * filter.c - benchstat's -filter expressions: key:value, key:"quoted",
 * key:/regexp/, key:(a OR b), *, combined by juxtaposition or AND, OR, -x
 * (not) and parentheses. Terms on .unit select single measurements of a
 * result; all others select whole results, so a filter is evaluated once per
 * measurement and a result is kept with the measurements it matched.
 * Regular expressions are POSIX extended ones (unanchored, as the
 * reference's are), which agree with Go's syntax for the common cases.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cli/benchstat/benchstat.h"

enum { N_ALL, N_AND, N_OR, N_NOT, N_MATCH };

struct node {
	int kind;
	struct node **sub;
	int nsub, capsub;
	const char *key;
	const char *word; /* exact match, or */
	regex_t *re;      /* a regexp */
};

struct bs_filter {
	struct node *root;
	regex_t **res;
	int nres, capres;
};

struct fparser {
	struct bs_arena *a;
	struct bs_filter *f;
	const char *q;
	size_t pos;
	char *err;
	size_t errlen;
};

static struct node *node(struct fparser *p, int kind)
{
	struct node *n = cprof__bs_alloc(p->a, sizeof(*n));
	n->kind = kind;
	return n;
}

static void add_sub(struct fparser *p, struct node *n, struct node *s)
{
	cprof__bs_grow(p->a, (void **)&n->sub, &n->capsub, n->nsub + 1, sizeof(*n->sub));
	n->sub[n->nsub++] = s;
}

static struct bs_tok next(struct fparser *p, int allow_re)
{
	return cprof__bs_next_tok(p->a, p->q, &p->pos, allow_re, p->err, p->errlen);
}

static struct bs_tok peek(struct fparser *p)
{
	size_t save = p->pos;
	struct bs_tok t = next(p, 0);
	p->pos = save;
	return t;
}

static struct node *fail(struct fparser *p, size_t off, const char *msg)
{
	if (!p->err[0])
		cprof__bs_syntax_error(p->err, p->errlen, p->q, off, msg);
	return NULL;
}

static struct node *value(struct fparser *p, const char *key, struct bs_tok t)
{
	struct node *m = node(p, N_MATCH);
	m->key = key;
	if (t.kind == 'r') {
		regex_t *re = malloc(sizeof(*re));
		if (!re)
			return fail(p, t.off, "out of memory");
		int rc = regcomp(re, t.text, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[256];
			regerror(rc, re, msg, sizeof(msg));
			free(re);
			return fail(p, t.off, msg);
		}
		cprof__bs_grow(p->a, (void **)&p->f->res, &p->f->capres, p->f->nres + 1, sizeof(*p->f->res));
		p->f->res[p->f->nres++] = re;
		m->re = re;
	} else {
		m->word = t.text;
	}
	return m;
}

static struct node *expr(struct fparser *p);

static struct node *match(struct fparser *p)
{
	size_t start = p->pos;
	struct bs_tok t = next(p, 0);
	if (t.kind < 0)
		return NULL;
	switch (t.kind) {
	case '(': {
		struct node *e = expr(p);
		if (!e)
			return NULL;
		size_t at = p->pos;
		struct bs_tok c = next(p, 0);
		if (c.kind < 0)
			return NULL;
		if (c.kind != ')')
			return fail(p, at, "missing \")\"");
		return e;
	}
	case '-': {
		struct node *n = node(p, N_NOT), *s = match(p);
		if (!s)
			return NULL;
		add_sub(p, n, s);
		return n;
	}
	case '*':
		return node(p, N_ALL);
	case 'w':
	case 'q':
		break;
	default:
		return fail(p, start, "expected key:value or subexpression");
	}
	const char *key = t.text;
	size_t keyoff = t.off;
	struct bs_tok c = next(p, 0);
	if (c.kind < 0)
		return NULL;
	if (c.kind != ':')
		return fail(p, start, "expected key:value");
	struct bs_tok v = next(p, 1);
	if (v.kind < 0)
		return NULL;
	if (strcmp(key, ".config") == 0)
		return fail(p, keyoff, ".config is only allowed in projections");
	if (!key[0])
		return fail(p, keyoff, "key must not be empty");
	if (v.kind == 'w' || v.kind == 'q' || v.kind == 'r')
		return value(p, key, v);
	if (v.kind != '(')
		return fail(p, start, "expected key:value");
	struct node *o = node(p, N_OR);
	for (;;) {
		size_t at = p->pos;
		v = next(p, 1);
		if (v.kind < 0)
			return NULL;
		if (v.kind != 'w' && v.kind != 'q' && v.kind != 'r')
			return fail(p, at, "expected value");
		struct node *m = value(p, key, v);
		if (!m)
			return NULL;
		add_sub(p, o, m);
		at = p->pos;
		v = next(p, 1);
		if (v.kind < 0)
			return NULL;
		if (v.kind == ')')
			break;
		if (v.kind != 'O')
			return fail(p, at, "value list must be separated by OR");
	}
	return o;
}

static struct node *and_expr(struct fparser *p)
{
	struct node *n = node(p, N_AND);
	struct node *m = match(p);
	if (!m)
		return NULL;
	add_sub(p, n, m);
	for (;;) {
		size_t at = p->pos;
		struct bs_tok t = peek(p);
		if (t.kind < 0)
			return NULL;
		if (t.kind == 'A') {
			next(p, 0);
			continue;
		}
		if (t.kind == 0 || t.kind == ')' || t.kind == 'O')
			break;
		if (t.kind != '(' && t.kind != '-' && t.kind != '*' && t.kind != 'w' && t.kind != 'q') {
			char msg[256];
			snprintf(msg, sizeof(msg), "unexpected \"%s\"", t.text);
			return fail(p, at, msg);
		}
		m = match(p);
		if (!m)
			return NULL;
		add_sub(p, n, m);
	}
	return n->nsub == 1 ? n->sub[0] : n;
}

static struct node *expr(struct fparser *p)
{
	struct node *n = node(p, N_OR);
	for (;;) {
		struct node *m = and_expr(p);
		if (!m)
			return NULL;
		add_sub(p, n, m);
		struct bs_tok t = peek(p);
		if (t.kind < 0)
			return NULL;
		if (t.kind != 'O')
			break;
		next(p, 0);
	}
	return n->nsub == 1 ? n->sub[0] : n;
}

void cprof__bs_filter_free(struct bs_filter *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->nres; i++) {
		regfree(f->res[i]);
		free(f->res[i]);
	}
	f->nres = 0;
}

struct bs_filter *cprof__bs_filter_parse(struct bs_arena *a, const char *q, char *err, size_t errlen)
{
	struct bs_filter *f = cprof__bs_alloc(a, sizeof(*f));
	struct fparser p = {a, f, q, 0, err, errlen};
	err[0] = 0;
	f->root = expr(&p);
	if (f->root) {
		struct bs_tok t = next(&p, 0);
		if (t.kind > 0) {
			char msg[256];
			snprintf(msg, sizeof(msg), "unexpected \"%s\"", t.text);
			fail(&p, t.off, msg);
			f->root = NULL;
		} else if (t.kind < 0) {
			f->root = NULL;
		}
	}
	if (!f->root) {
		cprof__bs_filter_free(f);
		return NULL;
	}
	return f;
}

static int test(const struct node *m, const char *v)
{
	if (!v)
		v = "";
	if (m->re)
		return regexec(m->re, v, 0, NULL, 0) == 0;
	return strcmp(m->word, v) == 0;
}

static int eval(struct bs_arena *a, const struct node *n, const struct bs_result *r, int vi)
{
	switch (n->kind) {
	case N_ALL:
		return 1;
	case N_NOT:
		return !eval(a, n->sub[0], r, vi);
	case N_AND:
		for (int i = 0; i < n->nsub; i++)
			if (!eval(a, n->sub[i], r, vi))
				return 0;
		return 1;
	case N_OR:
		for (int i = 0; i < n->nsub; i++)
			if (eval(a, n->sub[i], r, vi))
				return 1;
		return 0;
	case N_MATCH:
		if (strcmp(n->key, ".unit") == 0)
			return test(n, r->vals[vi].unit) || (r->vals[vi].orig_unit && test(n, r->vals[vi].orig_unit));
		return test(n, cprof__bs_extract(a, r, n->key));
	}
	return 0;
}

int cprof__bs_filter_apply(struct bs_arena *a, const struct bs_filter *f, const struct bs_parser *p, struct bs_result *r)
{
	for (int i = 0; i < p->nfixed; i++) {
		const char *v = cprof__bs_extract(a, r, p->fixed[i].key);
		if (!v)
			v = "";
		if (cprof__bs_map_get(p->fixed[i].set, v, strlen(v)) < 0) {
			r->nvals = 0;
			return 0;
		}
	}
	int j = 0;
	for (int i = 0; i < r->nvals; i++)
		if (eval(a, f->root, r, i))
			r->vals[j++] = r->vals[i];
	r->nvals = j;
	return j;
}
