/*
 * parse.c - reads the Go benchmark format (golang.org/design/14313) as
 * benchstat's reader does: "key: value" configuration lines, "Unit" metadata
 * lines and "Benchmark..." result lines; every other line is ignored. Values
 * are tidied as they are read (ns -> sec, MB -> B). Malformed result lines
 * are reported as "file:line: msg" and skipped; only invalid UTF-8 stops the
 * read. It does not filter, group or compute anything.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <locale.h>
#include <wctype.h>

#include "cli/benchstat/benchstat.h"

/* ---- units ---- */

/* The next token of a unit (split on * / - and spaces); *denom tracks '/' and '*'. */
static int unit_tok(const char *u, size_t *pos, size_t *start, size_t *len, int *denom)
{
	size_t i = *pos, n = strlen(u);
	while (i < n) {
		int sz, r = cprof__bs_rune(u + i, n - i, &sz);
		if (r == '*')
			*denom = 0;
		else if (r == '/')
			*denom = 1;
		else if (!(r == '-' || cprof__bs_is_space_rune(r)))
			break;
		i += (size_t)sz;
	}
	if (i >= n) {
		*pos = n;
		return 0;
	}
	size_t s = i;
	while (i < n) {
		int sz, r = cprof__bs_rune(u + i, n - i, &sz);
		if (r == '*' || r == '/' || r == '-' || cprof__bs_is_space_rune(r))
			break;
		i += (size_t)sz;
	}
	*start = s;
	*len = i - s;
	*pos = i;
	return 1;
}

const char *cprof__bs_tidy_unit(struct bs_arena *a, const char *unit, double *factor)
{
	*factor = 1;
	if (strcmp(unit, "ns/op") == 0) {
		*factor = 1e-9;
		return "sec/op";
	}
	if (strcmp(unit, "MB/s") == 0) {
		*factor = 1e6;
		return "B/s";
	}
	if (!strstr(unit, "ns") && !strstr(unit, "MB"))
		return unit;
	size_t pos = 0, s, l, n = strlen(unit);
	int denom = 0;
	char *out = cprof__bs_alloc(a, n * 2 + 1);
	size_t o = 0, copied = 0;
	while (unit_tok(unit, &pos, &s, &l, &denom)) {
		if (denom)
			continue;
		const char *rep = NULL;
		if (l == 2 && memcmp(unit + s, "ns", 2) == 0) {
			rep = "sec";
			*factor /= 1e9;
		} else if (l == 2 && memcmp(unit + s, "MB", 2) == 0) {
			rep = "B";
			*factor *= 1e6;
		}
		if (rep) {
			memcpy(out + o, unit + copied, s - copied);
			o += s - copied;
			memcpy(out + o, rep, strlen(rep));
			o += strlen(rep);
			copied = s + l;
		}
	}
	memcpy(out + o, unit + copied, n - copied);
	o += n - copied;
	out[o] = 0;
	return out;
}

int cprof__bs_unit_binary(const char *unit)
{
	size_t pos = 0, s, l;
	int denom = 0;
	while (unit_tok(unit, &pos, &s, &l, &denom)) {
		if (denom)
			continue;
		if ((l == 1 && unit[s] == 'B') || (l == 2 && memcmp(unit + s, "MB", 2) == 0) ||
		    (l == 5 && memcmp(unit + s, "bytes", 5) == 0))
			return 1;
	}
	return 0;
}

const char *cprof__bs_unit_meta(const struct bs_input *in, const char *unit, const char *key)
{
	for (int i = 0; i < in->nmeta; i++)
		if (strcmp(in->meta[i].unit, unit) == 0 && strcmp(in->meta[i].key, key) == 0)
			return in->meta[i].val;
	return NULL;
}

/* ---- numbers, as strconv parses them ---- */

static const char *parse_int(const char *f, long long *out)
{
	const char *s = f;
	int neg = 0;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!*s)
		return "invalid syntax";
	unsigned long long v = 0;
	int range = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return "invalid syntax";
		if (v > (UINT64_MAX - 9) / 10)
			range = 1;
		else
			v = v * 10 + (unsigned)(*s - '0');
	}
	if (range || v > (unsigned long long)INT64_MAX + (unsigned)neg)
		return "value out of range";
	*out = neg ? (long long)(0 - v) : (long long)v;
	return NULL;
}

/* Go's ParseFloat syntax: decimal, hex with a p exponent, inf, infinity, nan. */
static int float_syntax(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (strcasecmp(s, "inf") == 0 || strcasecmp(s, "infinity") == 0)
		return 1;
	if (strcasecmp(s, "nan") == 0)
		return s[-1] != '+' && s[-1] != '-' ? 1 : 0;
	int hex = 0, digits = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		hex = 1;
		s += 2;
	}
	for (; hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s); s++)
		digits++;
	if (*s == '.')
		for (s++; hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s); s++)
			digits++;
	if (!digits)
		return 0;
	if (hex ? (*s == 'p' || *s == 'P') : (*s == 'e' || *s == 'E')) {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	} else if (hex) {
		return 0;
	}
	return *s == 0;
}

const char *cprof__bs_parse_float(const char *f, double *out)
{
	if (!float_syntax(f))
		return "invalid syntax";
	errno = 0;
	*out = strtod(f, NULL);
	if (isinf(*out) && !strcasestr(f, "inf"))
		return "value out of range";
	return NULL;
}

/* ---- the reader ---- */

struct reader {
	struct bs_arena *a;
	struct bs_input *in;
	const char *path; /* names the file in messages */
	FILE *errs;
	int line;
	struct bs_cfg *cfg;
	int ncfg, capcfg;
	const struct bs_cfg *snap; /* shared by results until the config changes */
};

static int is_field_space(int r)
{
	return cprof__bs_is_space_rune(r);
}

/* splitField: the next run of non-space at *p (of end), then skips the spaces after it. */
static char *field(struct reader *rd, const char **p, const char *end)
{
	const char *s = *p, *q = s;
	while (q < end) {
		int sz, r = cprof__bs_rune(q, (size_t)(end - q), &sz);
		if (is_field_space(r))
			break;
		q += sz;
	}
	char *f = cprof__bs_strndup(rd->a, s, (size_t)(q - s));
	while (q < end) {
		int sz, r = cprof__bs_rune(q, (size_t)(end - q), &sz);
		if (!is_field_space(r))
			break;
		q += sz;
	}
	*p = q;
	return f;
}

/* The last code point of [s, end). */
static int last_rune(const char *s, const char *end)
{
	const char *q = end - 1;
	while (q > s && ((unsigned char)*q & 0xc0) == 0x80)
		q--;
	int sz;
	return cprof__bs_rune(q, (size_t)(end - q), &sz);
}

static void syntax(struct reader *rd, const char *msg)
{
	if (rd->errs)
		fprintf(rd->errs, "%s:%d: %s\n", rd->path, rd->line, msg);
}

static void set_config(struct reader *rd, const char *key, size_t klen, const char *val, size_t vlen, int file)
{
	int i;
	for (i = 0; i < rd->ncfg; i++)
		if (strlen(rd->cfg[i].key) == klen && memcmp(rd->cfg[i].key, key, klen) == 0)
			break;
	rd->snap = NULL;
	if (vlen == 0 && file) {
		/* an empty value deletes the key: the last one takes its place */
		if (i < rd->ncfg) {
			rd->cfg[i] = rd->cfg[rd->ncfg - 1];
			rd->ncfg--;
		}
		return;
	}
	if (i == rd->ncfg) {
		cprof__bs_grow(rd->a, (void **)&rd->cfg, &rd->capcfg, rd->ncfg + 1, sizeof(*rd->cfg));
		rd->cfg[rd->ncfg++].key = cprof__bs_strndup(rd->a, key, klen);
	}
	rd->cfg[i].val = cprof__bs_strndup(rd->a, val, vlen);
	rd->cfg[i].file = file;
}

/*
 * Unicode letter case, as Go's unicode.IsLower and IsUpper: ASCII directly,
 * other code points through the C.UTF-8 locale's tables (a locale object of
 * our own, so the process's locale and number formatting are untouched).
 */
static int rune_case(int r, int upper)
{
	if (r < 0x80)
		return upper ? (r >= 'A' && r <= 'Z') : (r >= 'a' && r <= 'z');
	static locale_t utf8;
	static int tried;
	if (!tried) {
		tried = 1;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	if (!utf8)
		return 0;
	return upper ? iswupper_l((wint_t)r, utf8) != 0 : iswlower_l((wint_t)r, utf8) != 0;
}

/* "key: value" (or "key:"): the key starts lower case, has no spaces nor upper case. */
static int key_value(struct reader *rd, const char *s, const char *end)
{
	const char *p = s;
	size_t klen = 0;
	while (p < end) {
		int sz, r = cprof__bs_rune(p, (size_t)(end - p), &sz);
		if (p == s && !rune_case(r, 0))
			return 0;
		if (cprof__bs_is_space_rune(r) || rune_case(r, 1))
			return 0;
		if (p > s && r == ':') {
			klen = (size_t)(p - s);
			break;
		}
		p += sz;
	}
	if (!klen)
		return 0;
	const char *v = p + 1;
	if (v < end) {
		if (*v != ' ' && *v != '\t')
			return 0;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
	}
	set_config(rd, s, klen, v, (size_t)(end - v), 1);
	return 1;
}

static void unit_line(struct reader *rd, const char *p, const char *end)
{
	char *unit = field(rd, &p, end);
	if (!*unit) {
		syntax(rd, "missing unit");
		return;
	}
	double factor;
	const char *tidy = cprof__bs_tidy_unit(rd->a, unit, &factor);
	for (;;) {
		char *f = field(rd, &p, end);
		if (!*f)
			break;
		char *eq = strchr(f, '=');
		if (!eq || eq == f) {
			syntax(rd, "expected key=value");
			continue;
		}
		*eq = 0;
		const char *have = cprof__bs_unit_meta(rd->in, tidy, f);
		if (have) {
			if (strcmp(have, eq + 1) != 0) {
				char msg[512];
				snprintf(msg, sizeof(msg), "metadata %s of unit %s already set to %s", f, unit, have);
				syntax(rd, msg);
			}
			continue;
		}
		struct bs_input *in = rd->in;
		cprof__bs_grow(rd->a, (void **)&in->meta, &in->capmeta, in->nmeta + 1, sizeof(*in->meta));
		in->meta[in->nmeta++] = (struct bs_unitmeta){tidy, f, eq + 1};
	}
}

static void result_line(struct reader *rd, const char *p, const char *end)
{
	p += strlen("Benchmark");
	const char *start = p;
	char *name = field(rd, &p, end);
	/* "BenchmarkX" alone (the whole line) is what go test -v prints as a benchmark starts */
	if (p >= end && (end == start || !is_field_space(last_rune(start, end))))
		return;
	char *f = field(rd, &p, end);
	if (!*f) {
		syntax(rd, "missing iteration count");
		return;
	}
	long long iters;
	const char *e = parse_int(f, &iters);
	if (e) {
		char msg[128];
		snprintf(msg, sizeof(msg), "parsing iteration count: %s", e);
		syntax(rd, msg);
		return;
	}
	struct bs_value *vals = NULL;
	int nvals = 0, cap = 0;
	for (;;) {
		f = field(rd, &p, end);
		if (!*f) {
			if (nvals)
				break;
			syntax(rd, "missing measurements");
			return;
		}
		double v;
		e = cprof__bs_parse_float(f, &v);
		if (e) {
			char msg[128];
			snprintf(msg, sizeof(msg), "parsing measurement: %s", e);
			syntax(rd, msg);
			return;
		}
		f = field(rd, &p, end);
		if (!*f) {
			syntax(rd, "missing units");
			return;
		}
		double factor;
		const char *tidy = cprof__bs_tidy_unit(rd->a, f, &factor);
		cprof__bs_grow(rd->a, (void **)&vals, &cap, nvals + 1, sizeof(*vals));
		double tv = v * factor;
		if (tv == v)
			vals[nvals++] = (struct bs_value){v, f, NULL};
		else
			vals[nvals++] = (struct bs_value){tv, tidy, f};
	}
	if (!rd->snap) {
		struct bs_cfg *c = cprof__bs_alloc(rd->a, sizeof(*c) * (size_t)(rd->ncfg + 1));
		memcpy(c, rd->cfg, sizeof(*c) * (size_t)rd->ncfg);
		rd->snap = c;
	}
	struct bs_input *in = rd->in;
	cprof__bs_grow(rd->a, (void **)&in->res, &in->capres, in->nres + 1, sizeof(*in->res));
	in->res[in->nres++] = (struct bs_result){name, rd->snap, rd->ncfg, vals, nvals};
}

int cprof__bs_parse(struct bs_arena *a, struct bs_input *in, const char *path, const char *label, const char *data,
		    size_t len, FILE *errs, char *err, size_t errlen)
{
	struct reader rd = {.a = a, .in = in, .path = path, .errs = errs};
	set_config(&rd, ".file", 5, label, strlen(label), 0);
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		if (le > p && le[-1] == '\r')
			le--;
		rd.line++;
		if (!cprof__bs_utf8_valid(p, (size_t)(le - p))) {
			snprintf(err, errlen, "%s: invalid encode, only utf-8 encoded files are supported", path);
			return -1;
		}
		size_t n = (size_t)(le - p);
		if (n >= 9 && memcmp(p, "Benchmark", 9) == 0) {
			result_line(&rd, p, le);
		} else if (n >= 4 && memcmp(p, "Unit", 4) == 0 &&
			   (n == 4 || cprof__bs_is_space_rune((unsigned char)p[4]) || (unsigned char)p[4] >= 0x80)) {
			const char *q = p;
			char *f = field(&rd, &q, le);
			if (strcmp(f, "Unit") == 0)
				unit_line(&rd, q, le);
			else
				key_value(&rd, p, le);
		} else {
			key_value(&rd, p, le);
		}
		p = next;
	}
	return 0;
}
