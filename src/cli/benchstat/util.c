/*
 * util.c - the small machinery under `cprof benchstat`: one arena per run
 * (every result, key and table is freed at once), a string-keyed map, UTF-8
 * helpers (the text table measures widths in code points), and Go's shortest
 * float formatting (%v), which the warnings and the CSV output use. It knows
 * nothing of benchmarks.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/benchstat/benchstat.h"

struct bs_block {
	struct bs_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

#define BLOCK_MIN (64 * 1024)

void *cprof__bs_alloc(struct bs_arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct bs_block *b = a->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
		b = malloc(sizeof(*b) + cap);
		if (!b) {
			fputs("cprof: benchstat: out of memory\n", stderr);
			exit(1);
		}
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *cprof__bs_strndup(struct bs_arena *a, const char *s, size_t n)
{
	char *p = cprof__bs_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *cprof__bs_strdup(struct bs_arena *a, const char *s)
{
	return cprof__bs_strndup(a, s, strlen(s));
}

char *cprof__bs_sprintf(struct bs_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = cprof__bs_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void cprof__bs_grow(struct bs_arena *a, void **p, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return;
	int nc = *cap ? *cap * 2 : 8;
	while (nc < need)
		nc *= 2;
	void *np = cprof__bs_alloc(a, (size_t)nc * elem);
	if (*p)
		memcpy(np, *p, (size_t)*cap * elem);
	*p = np;
	*cap = nc;
}

void cprof__bs_arena_release(struct bs_arena *a)
{
	struct bs_block *b = a->head;
	while (b) {
		struct bs_block *n = b->next;
		free(b);
		b = n;
	}
	a->head = NULL;
}

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

int cprof__bs_map_get(const struct bs_map *m, const char *key, size_t len)
{
	if (!m->cap)
		return -1;
	size_t mask = (size_t)m->cap - 1;
	for (size_t i = hash(key, len) & mask;; i = (i + 1) & mask) {
		if (!m->keys[i])
			return -1;
		if (m->lens[i] == len && memcmp(m->keys[i], key, len) == 0)
			return m->vals[i];
	}
}

static void map_insert(struct bs_map *m, const char *key, size_t len, int val)
{
	size_t mask = (size_t)m->cap - 1;
	for (size_t i = hash(key, len) & mask;; i = (i + 1) & mask) {
		if (!m->keys[i]) {
			m->keys[i] = key;
			m->lens[i] = len;
			m->vals[i] = val;
			m->n++;
			return;
		}
		if (m->lens[i] == len && memcmp(m->keys[i], key, len) == 0) {
			m->vals[i] = val;
			return;
		}
	}
}

void cprof__bs_map_put(struct bs_arena *a, struct bs_map *m, const char *key, size_t len, int val)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct bs_map old = *m;
		m->cap = old.cap ? old.cap * 2 : 16;
		m->n = 0;
		m->keys = cprof__bs_alloc(a, sizeof(*m->keys) * (size_t)m->cap);
		m->lens = cprof__bs_alloc(a, sizeof(*m->lens) * (size_t)m->cap);
		m->vals = cprof__bs_alloc(a, sizeof(*m->vals) * (size_t)m->cap);
		for (int i = 0; i < old.cap; i++)
			if (old.keys[i])
				map_insert(m, old.keys[i], old.lens[i], old.vals[i]);
	}
	size_t mask = (size_t)m->cap - 1;
	for (size_t i = hash(key, len) & mask; m->keys[i]; i = (i + 1) & mask) {
		if (m->lens[i] == len && memcmp(m->keys[i], key, len) == 0) {
			m->vals[i] = val;
			return;
		}
	}
	map_insert(m, cprof__bs_strndup(a, key, len), len, val);
}

int cprof__bs_rune(const char *str, size_t n, int *size)
{
	const unsigned char *s = (const unsigned char *)str;
	if (n == 0) {
		*size = 0;
		return -1;
	}
	if (s[0] < 0x80) {
		*size = 1;
		return s[0];
	}
	int need, r;
	if ((s[0] & 0xe0) == 0xc0) {
		need = 1;
		r = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 2;
		r = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 3;
		r = s[0] & 0x07;
	} else {
		*size = 1;
		return 0xfffd;
	}
	if ((size_t)need >= n) {
		*size = 1;
		return 0xfffd;
	}
	for (int i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*size = 1;
			return 0xfffd;
		}
		r = (r << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF are invalid */
	if ((need == 1 && r < 0x80) || (need == 2 && r < 0x800) || (need == 3 && r < 0x10000) || r > 0x10ffff ||
	    (r >= 0xd800 && r <= 0xdfff)) {
		*size = 1;
		return 0xfffd;
	}
	*size = need + 1;
	return r;
}

int cprof__bs_utf8_valid(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		int sz, r = cprof__bs_rune(s + i, n - i, &sz);
		if (r == 0xfffd && sz == 1 && (unsigned char)s[i] >= 0x80)
			return 0;
		i += (size_t)sz;
	}
	return 1;
}

int cprof__bs_runes(const char *s)
{
	int n = 0;
	size_t len = strlen(s), i = 0;
	while (i < len) {
		int sz;
		cprof__bs_rune(s + i, len - i, &sz);
		i += (size_t)sz;
		n++;
	}
	return n;
}

/* Unicode White_Space, as Go's unicode.IsSpace. */
int cprof__bs_is_space_rune(int r)
{
	switch (r) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xa0:
	case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
		return 1;
	}
	return r >= 0x2000 && r <= 0x200a;
}

void cprof__bs_fmt_g(char *out, size_t n, double v)
{
	if (isnan(v)) {
		snprintf(out, n, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(out, n, signbit(v) ? "-0" : "0");
		return;
	}
	char e[64];
	int p;
	for (p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	/* e is "[-]d.ddde±XX": pull out the digits and the exponent */
	char digs[32];
	int nd = 0, neg = e[0] == '-';
	const char *s = e + neg;
	for (; *s && *s != 'e'; s++)
		if (*s != '.')
			digs[nd++] = *s;
	while (nd > 1 && digs[nd - 1] == '0')
		nd--;
	digs[nd] = 0;
	int exp = atoi(s + 1);
	char buf[400];
	size_t k = 0;
	if (neg)
		buf[k++] = '-';
	if (exp < -4 || exp >= 6) {
		buf[k++] = digs[0];
		if (nd > 1) {
			buf[k++] = '.';
			for (int i = 1; i < nd; i++)
				buf[k++] = digs[i];
		}
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	} else {
		int dp = exp + 1;
		if (dp <= 0) {
			buf[k++] = '0';
			buf[k++] = '.';
			for (int i = 0; i < -dp; i++)
				buf[k++] = '0';
			for (int i = 0; i < nd; i++)
				buf[k++] = digs[i];
		} else {
			for (int i = 0; i < dp; i++)
				buf[k++] = i < nd ? digs[i] : '0';
			if (nd > dp) {
				buf[k++] = '.';
				for (int i = dp; i < nd; i++)
					buf[k++] = digs[i];
			}
		}
		buf[k] = 0;
	}
	snprintf(out, n, "%s", buf);
}

void cprof__bs_fmt_f(char *out, size_t n, int prec, int plus, double v)
{
	if (isnan(v))
		snprintf(out, n, "%sNaN", plus ? "+" : "");
	else if (isinf(v))
		snprintf(out, n, "%s", v > 0 ? "+Inf" : "-Inf");
	else
		snprintf(out, n, plus ? "%+.*f" : "%.*f", prec, v);
}
