/*
 * legacy.c - what pprof's legacy formats have in common, and gperftools'
 * binary CPU profile, read as google/pprof's profile package reads them
 * (profile/legacy_profile.go and profile.go as vendored in Go 1.19).
 *
 * The common part (legacy.h): a model of the profile being parsed, Go's
 * line scanner and TrimSpace, the memory-map text that ends every legacy
 * profile (parseProcMapsFromScanner: /proc/<pid>/maps lines or pprof's
 * brief form, executable entries only, glog prefixes removed, "attr=value"
 * lines substituted for $attr), massageMappings (split pieces merged, the
 * main binary first) and the build of the profile (remapLocationIDs,
 * remapMappingIDs with their heuristics and the fake mapping).
 *
 * The CPU format is words of 4 or 8 bytes, little or big endian (the
 * header says which): a header (0, 3, 0, period in microseconds, 0), slots
 * (count, depth, pcs...), the trailer (0, 1, 0), then the maps text. It
 * becomes samples/count + cpu/nanoseconds samples, callers' addresses
 * moved back by one onto the call, up to two signal-handler frames
 * stripped, duplicate leaves removed. With a Java header (third word 1)
 * addresses stay as they are and the text after the samples names them
 * (legacy_text.c's parseJavaLocations). The text formats are legacy_text.c's;
 * nothing here symbolizes (symbolize.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/source/legacy.h"
#include "cli/source/source.h"
#include "common/hash.h"

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, c * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = c;
	return 0;
}

/* ---- the model ---- */

int cprof__legacy_loc(struct legacy *lp, uint64_t addr, size_t *idx)
{
	if (lp->nlocs * 2 >= lp->tabcap) {
		size_t cap = lp->tabcap ? lp->tabcap * 2 : 256;
		size_t *t = calloc(cap, sizeof(*t));
		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < lp->nlocs; i++) {
			size_t j = cprof__hash_mix(lp->locs[i].addr) & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = i + 1;
		}
		free(lp->tab);
		lp->tab = t;
		lp->tabcap = cap;
	}
	size_t j = cprof__hash_mix(addr) & (lp->tabcap - 1);
	while (lp->tab[j]) {
		if (lp->locs[lp->tab[j] - 1].addr == addr) {
			*idx = lp->tab[j] - 1;
			return 0;
		}
		j = (j + 1) & (lp->tabcap - 1);
	}
	if (grow((void **)&lp->locs, &lp->caplocs, lp->nlocs, sizeof(*lp->locs)))
		return -ENOMEM;
	lp->locs[lp->nlocs] = (struct legacy_loc){addr, -1, 0, -1, 0, false};
	lp->tab[j] = ++lp->nlocs;
	*idx = lp->nlocs - 1;
	return 0;
}

bool cprof__legacy_find(const struct legacy *lp, uint64_t addr, size_t *idx)
{
	if (!lp->tabcap)
		return false;
	for (size_t j = cprof__hash_mix(addr) & (lp->tabcap - 1); lp->tab[j]; j = (j + 1) & (lp->tabcap - 1)) {
		if (lp->locs[lp->tab[j] - 1].addr == addr) {
			*idx = lp->tab[j] - 1;
			return true;
		}
	}
	return false;
}

int cprof__legacy_add_sample(struct legacy *lp, const size_t *loc, size_t n, const int64_t *v, size_t nv,
			     bool has_bytes, int64_t bytes)
{
	if (grow((void **)&lp->samples, &lp->capsamples, lp->nsamples, sizeof(*lp->samples)))
		return -ENOMEM;
	struct legacy_sample *s = &lp->samples[lp->nsamples];
	memset(s, 0, sizeof(*s));
	s->loc = malloc((n ? n : 1) * sizeof(*s->loc));
	if (!s->loc)
		return -ENOMEM;
	if (n)
		memcpy(s->loc, loc, n * sizeof(*loc));
	s->nloc = n;
	for (size_t i = 0; i < nv && i < 4; i++)
		s->v[i] = v[i];
	s->has_bytes = has_bytes;
	s->bytes = bytes;
	lp->nsamples++;
	return 0;
}

int cprof__legacy_fn(struct legacy *lp, const char *name, size_t n, const char *file, size_t fn, long *idx)
{
	for (size_t i = 0; i < lp->nfns; i++) {
		if (strlen(lp->fns[i].name) == n && memcmp(lp->fns[i].name, name, n) == 0) {
			*idx = (long)i;
			return 0;
		}
	}
	if (grow((void **)&lp->fns, &lp->capfns, lp->nfns, sizeof(*lp->fns)))
		return -ENOMEM;
	struct legacy_fn f = {strndup(name, n), strndup(file, fn), 0};
	if (!f.name || !f.file) {
		free(f.name);
		free(f.file);
		return -ENOMEM;
	}
	lp->fns[lp->nfns] = f;
	*idx = (long)lp->nfns++;
	return 0;
}

void cprof__legacy_release(struct legacy *lp)
{
	for (size_t i = 0; i < lp->nfns; i++) {
		free(lp->fns[i].name);
		free(lp->fns[i].file);
	}
	free(lp->fns);
	for (size_t i = 0; i < lp->nsamples; i++)
		free(lp->samples[i].loc);
	for (size_t i = 0; i < lp->nmaps; i++) {
		free(lp->maps[i].file);
		free(lp->maps[i].build_id);
	}
	free(lp->locs);
	free(lp->tab);
	free(lp->samples);
	free(lp->maps);
	memset(lp, 0, sizeof(*lp));
}

/* ---- Go's text primitives ---- */

#define MAX_TOKEN (64 * 1024) /* bufio.MaxScanTokenSize */

void cprof__legacy_scan_init(struct legacy_scan *s, const void *b, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->b = b;
	s->n = n;
	s->tok = "";
}

bool cprof__legacy_scan(struct legacy_scan *s)
{
	s->tok = "";
	s->len = 0;
	if (s->done || s->too_long)
		return false;
	size_t rem = s->n - s->off;
	if (rem == 0) {
		s->done = true;
		return false;
	}
	const char *start = s->b + s->off;
	const char *nl = memchr(start, '\n', rem < MAX_TOKEN ? rem : MAX_TOKEN);
	size_t len;
	if (nl) {
		len = (size_t)(nl - start);
		s->off += len + 1;
	} else if (rem < MAX_TOKEN) {
		len = rem; /* the last line, without a newline */
		s->off = s->n;
	} else {
		/* the scanner's 64 KiB buffer filled up without a line's end */
		s->too_long = true;
		return false;
	}
	if (len && start[len - 1] == '\r')
		len--;
	s->tok = start;
	s->len = len;
	return true;
}

/* unicode.IsSpace for a decoded rune. */
static bool uspace(uint32_t r)
{
	return r == ' ' || (r >= '\t' && r <= '\r') || r == 0x85 || r == 0xa0 || r == 0x1680 ||
	       (r >= 0x2000 && r <= 0x200a) || r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f ||
	       r == 0x3000;
}

/* One UTF-8 rune at s (n bytes): its width, or 0 when not valid UTF-8. */
static size_t rune_at(const unsigned char *s, size_t n, uint32_t *r)
{
	if (n == 0)
		return 0;
	unsigned c = s[0];
	size_t w = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (w == 0 || w > n)
		return 0;
	uint32_t v = w == 1 ? c : w == 2 ? c & 0x1f : w == 3 ? c & 0x0f : c & 0x07;
	for (size_t i = 1; i < w; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[w] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*r = v;
	return w;
}

void cprof__legacy_trim(const char **sp, size_t *np)
{
	const unsigned char *s = (const unsigned char *)*sp;
	size_t n = *np;
	uint32_t r;
	size_t w;
	while (n && (w = rune_at(s, n, &r)) && uspace(r))
		s += w, n -= w;
	while (n) {
		/* the last rune: its lead byte is within the last four */
		size_t back = 1;
		while (back < 4 && back < n && (s[n - back] & 0xc0) == 0x80)
			back++;
		w = rune_at(s + n - back, back, &r);
		if (w != back || !uspace(r))
			break; /* not white space, or invalid: U+FFFD */
		n -= w;
	}
	*sp = (const char *)s;
	*np = n;
}

static bool contains(const char *s, size_t n, const char *what)
{
	return memmem(s, n, what, strlen(what)) != NULL;
}

bool cprof__legacy_maps_sentinel(const char *s, size_t n)
{
	return contains(s, n, "--- Memory map: ---") || contains(s, n, "MAPPED_LIBRARIES:");
}

/* ---- the memory map ---- */

#define CHEX "(?:0x)?([[:xdigit:]]+)"
#define CHEXRANGE "\\s*" CHEX "[\\s-]?\\s*" CHEX ":?"
#define CPERM "(?:\\s+([-rwxp]+))?"
static const char proc_re[] = "^" CHEXRANGE CPERM "(?:\\s+([[:xdigit:]]+))?\\s+[[:xdigit:]]+:[[:xdigit:]]+"
			      "\\s+[[:digit:]]+(?:\\s+(\\S+))?";
static const char brief_re[] = "^" CHEXRANGE CPERM "(?:\\s+(\\S+))?(?:\\s+\\(@([[:xdigit:]]+)\\))?"
			       "(?:\\s+([[:xdigit:]]+))?";
static const char log_re[] = "^[^\\[\\]]+:[0-9]+]\\s";

/* strconv.ParseUint(s, 16, 64) */
static bool parse_hex(const char *s, size_t n, uint64_t *out)
{
	if (n == 0)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 99;
		if (d > 15 || v >> 60)
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

/* strings.Replacer over "$attr" -> value pairs: the first pair that matches at a place wins. */
struct replacer {
	char **kv; /* old, new, old, new, ... */
	size_t *len;
	size_t n, cap;
};

static char *replace(const struct replacer *r, const char *s, size_t n, size_t *outn)
{
	size_t cap = n + 1, o = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		const char *add = s + i;
		size_t addn = 1, adv = 1;
		for (size_t k = 0; k + 1 < r->n; k += 2) {
			if (r->len[k] <= n - i && memcmp(s + i, r->kv[k], r->len[k]) == 0) {
				add = r->kv[k + 1];
				addn = r->len[k + 1];
				adv = r->len[k];
				break;
			}
		}
		if (o + addn + 1 > cap) {
			cap = (o + addn + 1) * 2;
			char *no = realloc(out, cap);
			if (!no) {
				free(out);
				return NULL;
			}
			out = no;
		}
		memcpy(out + o, add, addn);
		o += addn;
		i += adv;
	}
	out[o] = '\0';
	*outn = o;
	return out;
}

static int replacer_add(struct replacer *r, const char *k, size_t kn, const char *v, size_t vn)
{
	if (r->n + 2 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		char **kv = realloc(r->kv, cap * sizeof(*kv));
		if (!kv)
			return -ENOMEM;
		r->kv = kv;
		size_t *len = realloc(r->len, cap * sizeof(*len));
		if (!len)
			return -ENOMEM;
		r->len = len;
		r->cap = cap;
	}
	char *ks = malloc(kn + 2), *vs = malloc(vn + 1);
	if (!ks || !vs) {
		free(ks);
		free(vs);
		return -ENOMEM;
	}
	ks[0] = '$';
	memcpy(ks + 1, k, kn);
	ks[kn + 1] = '\0';
	memcpy(vs, v, vn);
	vs[vn] = '\0';
	r->kv[r->n] = ks;
	r->len[r->n++] = kn + 1;
	r->kv[r->n] = vs;
	r->len[r->n++] = vn;
	return 0;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* parseMappingEntry: 0 added or skipped, 1 unrecognized, -ENOMEM. */
static int map_line(struct legacy *lp, const char *l, size_t n, struct rx *proc, struct rx *brief)
{
	struct rx_group g[7];
	const struct rx_group *st, *en, *perm, *off, *file, *bid = NULL;
	int rc = cprof__rx_find(proc, l, n, g);
	if (rc == 1) {
		st = &g[1], en = &g[2], perm = &g[3], off = &g[4], file = &g[5];
	} else if (rc == 0 && (rc = cprof__rx_find(brief, l, n, g)) == 1) {
		st = &g[1], en = &g[2], perm = &g[3], file = &g[4], off = &g[5], bid = &g[6];
	} else {
		return rc < 0 ? -ENOMEM : 1;
	}
	if (perm->n > 0 && !memchr(perm->s, 'x', perm->n))
		return 0; /* not executable */
	struct legacy_map m = {0};
	if (!parse_hex(st->s, st->n, &m.start) || !parse_hex(en->s, en->n, &m.limit) ||
	    (off->n > 0 && !parse_hex(off->s, off->n, &m.offset)))
		return 1;
	m.file = dup_n(file->s, file->n);
	m.nfile = file->n;
	m.build_id = bid ? dup_n(bid->s, bid->n) : dup_n("", 0);
	m.nbuild_id = bid ? bid->n : 0;
	if (!m.file || !m.build_id || grow((void **)&lp->maps, &lp->capmaps, lp->nmaps, sizeof(*lp->maps))) {
		free(m.file);
		free(m.build_id);
		return -ENOMEM;
	}
	lp->maps[lp->nmaps++] = m;
	return 0;
}

static bool is_lib(const char *f, size_t n)
{
	/* libRx: ([.]so$|[.]so[._][0-9]+) */
	for (size_t i = 0; i + 3 <= n; i++) {
		if (memcmp(f + i, ".so", 3) != 0)
			continue;
		if (i + 3 == n)
			return true;
		if ((f[i + 3] == '.' || f[i + 3] == '_') && i + 4 < n && f[i + 4] >= '0' && f[i + 4] <= '9')
			return true;
	}
	return false;
}

static bool same_str(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

static bool adjacent(const struct legacy_map *a, const struct legacy_map *b)
{
	if (a->nfile && b->nfile && !same_str(a->file, a->nfile, b->file, b->nfile))
		return false;
	if (a->nbuild_id && b->nbuild_id && !same_str(a->build_id, a->nbuild_id, b->build_id, b->nbuild_id))
		return false;
	if (a->limit != b->start)
		return false;
	if (a->offset && b->offset && a->offset + (a->limit - a->start) != b->offset)
		return false;
	return true;
}

/* massageMappings: merge split mappings, then the main binary first. 0 or -ENOMEM. */
static int massage(struct legacy *lp)
{
	if (lp->nmaps > 1) {
		size_t k = 0;
		for (size_t i = 1; i < lp->nmaps; i++) {
			struct legacy_map *lm = &lp->maps[k], *m = &lp->maps[i];
			if (adjacent(lm, m)) {
				lm->limit = m->limit;
				if (m->nfile) {
					free(lm->file);
					lm->file = m->file, lm->nfile = m->nfile;
					m->file = NULL;
				}
				if (m->nbuild_id) {
					free(lm->build_id);
					lm->build_id = m->build_id, lm->nbuild_id = m->nbuild_id;
					m->build_id = NULL;
				}
				free(m->file);
				free(m->build_id);
				continue;
			}
			lp->maps[++k] = *m;
		}
		lp->nmaps = k + 1;
	}
	for (size_t i = 0; i < lp->nmaps; i++) {
		/* strings.TrimSpace(strings.Replace(file, "(deleted)", "", -1)) */
		const struct legacy_map *m = &lp->maps[i];
		char *buf = malloc(m->nfile + 1);
		if (!buf)
			return -ENOMEM;
		size_t o = 0;
		for (size_t k = 0; k < m->nfile;) {
			if (m->nfile - k >= 9 && memcmp(m->file + k, "(deleted)", 9) == 0) {
				k += 9;
				continue;
			}
			buf[o++] = m->file[k++];
		}
		const char *s = buf;
		size_t n = o;
		cprof__legacy_trim(&s, &n);
		bool main_bin = n && !is_lib(s, n) && s[0] != '[';
		free(buf);
		if (!main_bin)
			continue;
		struct legacy_map t = lp->maps[0];
		lp->maps[0] = lp->maps[i];
		lp->maps[i] = t;
		break;
	}
	return 0;
}

int cprof__legacy_parse_maps(struct legacy *lp, struct legacy_scan *s, char *err, size_t errlen)
{
	struct rx *proc = cprof__rx_new(proc_re), *brief = cprof__rx_new(brief_re), *logre = cprof__rx_new(log_re);
	struct replacer r = {0};
	int rc = proc && brief && logre ? 0 : -ENOMEM;
	while (rc >= 0 && cprof__legacy_scan(s)) {
		const char *l = s->tok;
		size_t n = s->len;
		struct rx_group g[1];
		int m = cprof__rx_find(logre, l, n, g);
		if (m < 0) {
			rc = -ENOMEM;
			break;
		}
		if (m == 1)
			n -= (size_t)(g[0].s + g[0].n - l), l = g[0].s + g[0].n;
		size_t rn;
		char *line = replace(&r, l, n, &rn);
		if (!line) {
			rc = -ENOMEM;
			break;
		}
		rc = map_line(lp, line, rn, proc, brief);
		if (rc == 1) {
			/* "attr=value": $attr becomes value on the lines after it */
			rc = 0;
			const char *eq = memchr(line, '=', rn);
			if (eq) {
				const char *k = line, *v = eq + 1;
				size_t kn = (size_t)(eq - line), vn = rn - kn - 1;
				cprof__legacy_trim(&k, &kn);
				cprof__legacy_trim(&v, &vn);
				rc = replacer_add(&r, k, kn, v, vn);
			}
		}
		free(line);
	}
	for (size_t i = 0; i < r.n; i++)
		free(r.kv[i]);
	free(r.kv);
	free(r.len);
	cprof__rx_free(proc);
	cprof__rx_free(brief);
	cprof__rx_free(logre);
	if (rc >= 0 && s->too_long) {
		snprintf(err, errlen, "parsing profile: bufio.Scanner: token too long");
		return -1;
	}
	if (rc >= 0)
		rc = massage(lp);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- the profile ---- */

/* remapMappingIDs (after remapLocationIDs ordered the locations). */
static int assign_mappings(struct legacy *lp, const size_t *order, size_t norder)
{
	if (lp->nmaps > 1 && lp->maps[0].nfile >= 14 && memcmp(lp->maps[0].file, "/anon_hugepage", 14) == 0 &&
	    lp->maps[0].limit == lp->maps[1].start) {
		free(lp->maps[0].file);
		free(lp->maps[0].build_id);
		memmove(&lp->maps[0], &lp->maps[1], (lp->nmaps - 1) * sizeof(*lp->maps));
		lp->nmaps--;
	}
	if (lp->nmaps > 0 && lp->maps[0].start - lp->maps[0].offset == 0x400000) {
		lp->maps[0].start = 0x400000;
		lp->maps[0].offset = 0;
	}
	long fake = -1;
	for (size_t k = 0; k < norder; k++) {
		struct legacy_loc *l = &lp->locs[order[k]];
		uint64_t a = l->named ? 0 : l->addr;
		if (a == 0)
			continue;
		for (size_t i = 0; i < lp->nmaps && l->mapping < 0; i++)
			if (lp->maps[i].start <= a && a < lp->maps[i].limit)
				l->mapping = (long)i;
		for (size_t i = 0; i < lp->nmaps && l->mapping < 0; i++) {
			struct legacy_map *m = &lp->maps[i];
			if (m->offset && m->start - m->offset <= a && a < m->start) {
				m->start -= m->offset;
				m->offset = 0;
				l->mapping = (long)i;
			}
		}
		if (l->mapping >= 0)
			continue;
		if (fake < 0) {
			if (grow((void **)&lp->maps, &lp->capmaps, lp->nmaps, sizeof(*lp->maps)))
				return -ENOMEM;
			struct legacy_map fm = {0, UINT64_MAX, 0, dup_n("", 0), dup_n("", 0), 0, 0};
			if (!fm.file || !fm.build_id) {
				free(fm.file);
				free(fm.build_id);
				return -ENOMEM;
			}
			fake = (long)lp->nmaps;
			lp->maps[lp->nmaps++] = fm;
		}
		l->mapping = fake;
	}
	return 0;
}

struct profile *cprof__legacy_build(struct legacy *lp, const struct legacy_header *h, char *err, size_t errlen)
{
	/* remapLocationIDs: the locations samples use, in order of first use */
	size_t *order = malloc((lp->nlocs ? lp->nlocs : 1) * sizeof(*order));
	size_t norder = 0;
	struct profile *p = NULL;
	uint64_t *ids = NULL;
	if (!order)
		goto oom;
	for (size_t i = 0; i < lp->nsamples; i++)
		for (size_t j = 0; j < lp->samples[i].nloc; j++) {
			struct legacy_loc *l = &lp->locs[lp->samples[i].loc[j]];
			if (!l->id) {
				l->id = norder + 1;
				order[norder++] = lp->samples[i].loc[j];
			}
		}
	if (assign_mappings(lp, order, norder))
		goto oom;
	p = cprof__profile_new();
	if (!p)
		goto oom;
	for (size_t i = 0; i < h->ntypes; i++)
		if (!cprof__profile_add_sample_type(p, h->types[i][0], h->types[i][1]))
			goto oom;
	p->period_type.type = cprof__profile_intern(p, h->period_type, (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, h->period_unit, (size_t)-1);
	p->period = h->period;
	p->duration_nanos = h->duration_nanos;
	p->drop_frames = cprof__profile_intern(p, h->drop_frames ? h->drop_frames : "", (size_t)-1);
	p->keep_frames = cprof__profile_intern(p, h->keep_frames ? h->keep_frames : "", (size_t)-1);
	int64_t bytes_key = cprof__profile_intern(p, "bytes", (size_t)-1);
	if (p->period_type.type < 0 || p->period_type.unit < 0 || p->drop_frames < 0 || p->keep_frames < 0 ||
	    bytes_key < 0)
		goto oom;
	for (size_t i = 0; i < lp->nmaps; i++) {
		struct pp_mapping *m = cprof__profile_add_mapping(p);
		if (!m)
			goto oom;
		m->memory_start = lp->maps[i].start;
		m->memory_limit = lp->maps[i].limit;
		m->file_offset = lp->maps[i].offset;
		m->filename = cprof__profile_intern(p, lp->maps[i].file, lp->maps[i].nfile);
		m->build_id = cprof__profile_intern(p, lp->maps[i].build_id, lp->maps[i].nbuild_id);
		if (m->filename < 0 || m->build_id < 0)
			goto oom;
	}
	/* remapFunctionIDs: functions in order of first use by a location */
	uint64_t nfn = 0;
	for (size_t k = 0; k < norder; k++) {
		struct legacy_loc *l = &lp->locs[order[k]];
		if (l->fn >= 0 && !lp->fns[l->fn].id) {
			struct legacy_fn *f = &lp->fns[l->fn];
			f->id = ++nfn;
			if (!cprof__profile_add_function(p, f->name, f->name, f->file, 0))
				goto oom;
		}
	}
	for (size_t k = 0; k < norder; k++) {
		struct legacy_loc *l = &lp->locs[order[k]];
		struct pp_line ln = {l->fn >= 0 ? lp->fns[l->fn].id : 0, l->line, 0};
		if (!cprof__profile_add_location(p, l->mapping >= 0 ? (uint64_t)l->mapping + 1 : 0,
						 h->no_addresses || l->named ? 0 : l->addr, &ln, l->fn >= 0 ? 1 : 0))
			goto oom;
	}
	size_t maxn = 1;
	for (size_t i = 0; i < lp->nsamples; i++)
		if (lp->samples[i].nloc > maxn)
			maxn = lp->samples[i].nloc;
	ids = malloc(maxn * sizeof(*ids));
	if (!ids)
		goto oom;
	for (size_t i = 0; i < lp->nsamples; i++) {
		struct legacy_sample *s = &lp->samples[i];
		size_t n = 0;
		for (size_t j = 0; j < s->nloc; j++) {
			/* cleanupDuplicateLocations: a leaf seen twice, once adjusted */
			if (h->drop_dup_leaf && j == 1 && lp->locs[s->loc[0]].addr == lp->locs[s->loc[1]].addr + 1)
				continue;
			ids[n++] = lp->locs[s->loc[j]].id;
		}
		struct pp_label lb = {bytes_key, 0, s->bytes, 0};
		if (!cprof__profile_add_sample(p, ids, n, s->v, h->ntypes, &lb, s->has_bytes ? 1 : 0))
			goto oom;
	}
	free(ids);
	free(order);
	return p;
oom:
	free(ids);
	free(order);
	cprof__profile_free(p);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* ---- gperftools' binary CPU profile ---- */

typedef uint64_t (*getword)(const uint8_t **b, size_t *n, bool *ok);

#define GET(name, size, expr)                                                   \
	static uint64_t name(const uint8_t **bp, size_t *n, bool *ok)           \
	{                                                                       \
		const uint8_t *b = *bp;                                         \
		if (!*ok || *n < size) {                                        \
			*ok = false;                                            \
			*n = 0;                                                 \
			return 0;                                               \
		}                                                               \
		*bp += size;                                                    \
		*n -= size;                                                     \
		return expr;                                                    \
	}
GET(get32l, 4, (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24)
GET(get32b, 4, (uint64_t)b[3] | (uint64_t)b[2] << 8 | (uint64_t)b[1] << 16 | (uint64_t)b[0] << 24)
GET(get64l, 8, (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
	(uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56)
GET(get64b, 8, (uint64_t)b[7] | (uint64_t)b[6] << 8 | (uint64_t)b[5] << 16 | (uint64_t)b[4] << 24 |
	(uint64_t)b[3] << 32 | (uint64_t)b[2] << 40 | (uint64_t)b[1] << 48 | (uint64_t)b[0] << 56)

/* parseCPUSamples; returns 0, 1 (unrecognized) or -ENOMEM. */
static int parse_samples(struct legacy *lp, const uint8_t **b, size_t *n, getword get, int64_t period, bool adjust)
{
	while (*n > 0) {
		bool ok = true;
		uint64_t count = get(b, n, &ok);
		uint64_t nstk = get(b, n, &ok);
		if (!ok || nstk > *n / 4)
			return 1;
		uint64_t *addrs = malloc((nstk ? nstk : 1) * sizeof(*addrs));
		if (!addrs)
			return -ENOMEM;
		for (uint64_t i = 0; i < nstk; i++)
			addrs[i] = get(b, n, &ok); /* short reads give 0, as in pprof */
		if (count == 0 && nstk == 1 && addrs[0] == 0) {
			free(addrs);
			break;
		}
		size_t *sl = malloc((nstk ? nstk : 1) * sizeof(*sl));
		if (!sl) {
			free(addrs);
			return -ENOMEM;
		}
		int rc = 0;
		for (uint64_t i = 0; i < nstk && rc == 0; i++)
			rc = cprof__legacy_loc(lp, adjust && i > 0 ? addrs[i] - 1 : addrs[i], &sl[i]);
		int64_t v[2] = {(int64_t)count, (int64_t)(count * (uint64_t)period)};
		if (rc == 0)
			rc = cprof__legacy_add_sample(lp, sl, (size_t)nstk, v, 2, false, 0);
		free(sl);
		free(addrs);
		if (rc)
			return -ENOMEM;
	}
	return 0;
}

/* Drop sample frame 1 when it is at addr. */
static void strip_second(struct legacy *lp, uint64_t addr)
{
	for (size_t i = 0; i < lp->nsamples; i++) {
		struct legacy_sample *s = &lp->samples[i];
		if (s->nloc > 1 && lp->locs[s->loc[1]].addr == addr) {
			memmove(&s->loc[1], &s->loc[2], (s->nloc - 2) * sizeof(*s->loc));
			s->nloc--;
		}
	}
}

/*
 * "If *most* samples have the same second-to-the-bottom frame", it was
 * pushed by the signal handler: strip it, twice at most.
 */
static int strip_handler_frames(struct legacy *lp)
{
	size_t margin = lp->nsamples / 32;
	for (int iter = 0; iter < 2; iter++) {
		size_t *cnt = calloc(lp->nlocs ? lp->nlocs : 1, sizeof(*cnt));
		if (!cnt)
			return -ENOMEM;
		for (size_t i = 0; i < lp->nsamples; i++)
			if (lp->samples[i].nloc > 1)
				cnt[lp->samples[i].loc[1]]++;
		for (size_t k = 0; k < lp->nlocs; k++) {
			if (cnt[k] && cnt[k] >= lp->nsamples - margin) {
				strip_second(lp, lp->locs[k].addr);
				break;
			}
		}
		free(cnt);
	}
	return 0;
}

struct profile *cprof__source_legacy_cpu(const uint8_t *data, size_t len, bool *recognized,
					 char *err, size_t errlen)
{
	static const getword gets[] = {get32l, get32b, get64l, get64b};
	*recognized = false;
	for (size_t g = 0; g < 4; g++) {
		const uint8_t *b = data;
		size_t n = len;
		bool ok = true;
		uint64_t h[5];
		for (int i = 0; i < 5; i++)
			h[i] = gets[g](&b, &n, &ok);
		if (!ok || h[0] != 0 || h[1] != 3 || h[3] == 0 || h[4] != 0)
			continue;
		if (h[2] != 0 && h[2] != 1)
			continue;
		bool java = h[2] == 1;
		struct legacy lp = {0};
		int64_t period = (int64_t)(h[3] * 1000);
		int rc = parse_samples(&lp, &b, &n, gets[g], period, !java);
		if (rc == 1) {
			/* not this format after all: pprof goes on to the text formats */
			cprof__legacy_release(&lp);
			return NULL;
		}
		*recognized = true;
		struct legacy_header hd = {
			.types = {{"samples", "count"}, {"cpu", "nanoseconds"}},
			.ntypes = 2,
			.period_type = "cpu",
			.period_unit = "nanoseconds",
			.period = period,
			.drop_frames = "ProfileData::Add|ProfileData::prof_handler|CpuProfiler::prof_handler|"
				       "__pthread_sighandler|__restore",
			.drop_dup_leaf = !java,
			.no_addresses = java,
		};
		if (java) {
			/* javaCPUProfile: no handler frames, names from the text after the samples */
			struct profile *p = NULL;
			if (rc < 0)
				snprintf(err, errlen, "out of memory");
			else if (cprof__legacy_java_locations(&lp, (const char *)b, n, err, errlen) == 0)
				p = cprof__legacy_build(&lp, &hd, err, errlen);
			cprof__legacy_release(&lp);
			return p;
		}
		if (rc == 0)
			rc = strip_handler_frames(&lp);
		if (rc < 0) {
			snprintf(err, errlen, "out of memory");
			cprof__legacy_release(&lp);
			return NULL;
		}
		struct legacy_scan s;
		cprof__legacy_scan_init(&s, b, n);
		if (cprof__legacy_parse_maps(&lp, &s, err, errlen) < 0) {
			cprof__legacy_release(&lp);
			return NULL;
		}
		struct profile *p = cprof__legacy_build(&lp, &hd, err, errlen);
		cprof__legacy_release(&lp);
		return p;
	}
	return NULL;
}
