/*
 * legacy.c - gperftools' legacy binary CPU profile, read as pprof's
 * parseCPU reads it (google/pprof profile/legacy_profile.go, Go 1.19).
 *
 * The file is words of 4 or 8 bytes, little or big endian (the header says
 * which): a header (0, 3, 0, period in microseconds, 0), slots (count,
 * depth, pcs...), the trailer (0, 1, 0), then the /proc/self/maps text of
 * the process. It becomes samples/count + cpu/nanoseconds samples, callers'
 * addresses moved back by one onto the call, with pprof's heuristics kept:
 * up to two signal-handler frames stripped, duplicate leaves removed,
 * adjacent mappings merged, the main binary first. It does not symbolize:
 * see symbolize.c. Other legacy text formats are not read here.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/source/source.h"

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

/* One location: an address, its mapping index (or -1), its final id. */
struct lloc {
	uint64_t addr;
	long mapping;
	uint64_t id;
};

struct lsample {
	size_t *loc; /* indices into locs */
	size_t nloc;
	int64_t count;
};

struct lmap {
	uint64_t start, limit, offset;
	char *file, *build_id;
};

struct lprof {
	struct lloc *locs;
	size_t nlocs, caplocs;
	/* open-addressing table: address -> index+1 */
	size_t *tab, tabcap;
	struct lsample *samples;
	size_t nsamples, capsamples;
	struct lmap *maps;
	size_t nmaps, capmaps;
};

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

static size_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (size_t)x;
}

/* Index of the location at addr, added when new; (size_t)-1 on ENOMEM. */
static size_t loc_of(struct lprof *lp, uint64_t addr)
{
	if (lp->nlocs * 2 >= lp->tabcap) {
		size_t cap = lp->tabcap ? lp->tabcap * 2 : 256;
		size_t *t = calloc(cap, sizeof(*t));
		if (!t)
			return (size_t)-1;
		for (size_t i = 0; i < lp->nlocs; i++) {
			size_t j = hash64(lp->locs[i].addr) & (cap - 1);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = i + 1;
		}
		free(lp->tab);
		lp->tab = t;
		lp->tabcap = cap;
	}
	size_t j = hash64(addr) & (lp->tabcap - 1);
	while (lp->tab[j]) {
		if (lp->locs[lp->tab[j] - 1].addr == addr)
			return lp->tab[j] - 1;
		j = (j + 1) & (lp->tabcap - 1);
	}
	if (grow((void **)&lp->locs, &lp->caplocs, lp->nlocs, sizeof(*lp->locs)))
		return (size_t)-1;
	lp->locs[lp->nlocs] = (struct lloc){addr, -1, 0};
	lp->tab[j] = ++lp->nlocs;
	return lp->nlocs - 1;
}

static void lprof_release(struct lprof *lp)
{
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
}

/* parseCPUSamples; returns 0, 1 (unrecognized) or -ENOMEM. */
static int parse_samples(struct lprof *lp, const uint8_t **b, size_t *n, getword get)
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
		if (!sl || grow((void **)&lp->samples, &lp->capsamples, lp->nsamples, sizeof(*lp->samples))) {
			free(sl);
			free(addrs);
			return -ENOMEM;
		}
		for (uint64_t i = 0; i < nstk; i++) {
			sl[i] = loc_of(lp, i > 0 ? addrs[i] - 1 : addrs[i]);
			if (sl[i] == (size_t)-1) {
				free(sl);
				free(addrs);
				return -ENOMEM;
			}
		}
		free(addrs);
		lp->samples[lp->nsamples++] = (struct lsample){sl, (size_t)nstk, (int64_t)count};
	}
	return 0;
}

/* Drop sample frame 1 when it is at addr. */
static void strip_second(struct lprof *lp, uint64_t addr)
{
	for (size_t i = 0; i < lp->nsamples; i++) {
		struct lsample *s = &lp->samples[i];
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
static int strip_handler_frames(struct lprof *lp)
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

/* ---- the memory map (parseProcMapsFromScanner, parseMappingEntry) ---- */

#define SP "[[:space:]]"
#define HEXRANGE "^" SP "*(0x)?([[:xdigit:]]+)[[:space:]-]?" SP "*(0x)?([[:xdigit:]]+):?"
#define PERM "(" SP "+([-rwxp]+))?"
static const char proc_re[] = HEXRANGE PERM "(" SP "+([[:xdigit:]]+))?" SP "+[[:xdigit:]]+:[[:xdigit:]]+"
	SP "+[[:digit:]]+(" SP "+([^[:space:]]+))?";
static const char brief_re[] = HEXRANGE PERM "(" SP "+([^[:space:]]+))?(" SP "+\\(@([[:xdigit:]]+)\\))?("
	SP "+([[:xdigit:]]+))?";
static const char log_re[] = "^[^][]+:[0-9]+]" SP;

static char *group(const char *l, const regmatch_t *m)
{
	if (m->rm_so < 0)
		return strdup("");
	return strndup(l + m->rm_so, (size_t)(m->rm_eo - m->rm_so));
}

static bool parse_hex(const char *s, uint64_t *out)
{
	if (!*s || strlen(s) > 16)
		return false;
	char *end;
	errno = 0;
	*out = strtoull(s, &end, 16);
	return !errno && !*end;
}

/* 0 added or skipped, 1 unrecognized, -ENOMEM */
static int map_line(struct lprof *lp, const char *l, regex_t *proc, regex_t *brief)
{
	regmatch_t m[13];
	int is, ie, ip, io, ifl, ib;
	if (regexec(proc, l, 11, m, 0) == 0) {
		is = 2, ie = 4, ip = 6, io = 8, ifl = 10, ib = -1;
	} else if (regexec(brief, l, 13, m, 0) == 0) {
		is = 2, ie = 4, ip = 6, ifl = 8, io = 10, ib = 12;
	} else {
		return 1;
	}
	if (m[ip].rm_so >= 0) {
		bool x = false;
		for (regoff_t k = m[ip].rm_so; k < m[ip].rm_eo; k++)
			x |= l[k] == 'x';
		if (!x)
			return 0; /* not executable */
	}
	char *s = group(l, &m[is]), *e = group(l, &m[ie]), *o = group(l, &m[io]);
	struct lmap mp = {0};
	int rc = 1;
	if (s && e && o && parse_hex(s, &mp.start) && parse_hex(e, &mp.limit) &&
	    (!*o || parse_hex(o, &mp.offset))) {
		mp.file = group(l, &m[ifl]);
		mp.build_id = ib >= 0 ? group(l, &m[ib]) : strdup("");
		if (!mp.file || !mp.build_id ||
		    grow((void **)&lp->maps, &lp->capmaps, lp->nmaps, sizeof(*lp->maps))) {
			free(mp.file);
			free(mp.build_id);
			rc = -ENOMEM;
		} else {
			lp->maps[lp->nmaps++] = mp;
			rc = 0;
		}
	} else if (!s || !e || !o) {
		rc = -ENOMEM;
	}
	free(s);
	free(e);
	free(o);
	return rc;
}

static int parse_maps(struct lprof *lp, const uint8_t *b, size_t n, char *err, size_t errlen)
{
	regex_t proc, brief, logre;
	if (regcomp(&proc, proc_re, REG_EXTENDED)) {
		snprintf(err, errlen, "internal error: bad maps pattern");
		return -EINVAL;
	}
	if (regcomp(&brief, brief_re, REG_EXTENDED)) {
		regfree(&proc);
		snprintf(err, errlen, "internal error: bad maps pattern");
		return -EINVAL;
	}
	if (regcomp(&logre, log_re, REG_EXTENDED)) {
		regfree(&proc);
		regfree(&brief);
		snprintf(err, errlen, "internal error: bad log pattern");
		return -EINVAL;
	}
	int rc = 0;
	size_t i = 0;
	char *line = NULL;
	while (i < n && rc >= 0) {
		const uint8_t *nl = memchr(b + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (b + i)) : n - i;
		if (len > 64 * 1024) { /* bufio.Scanner's limit */
			snprintf(err, errlen, "bufio.Scanner: token too long");
			rc = -EINVAL;
			break;
		}
		free(line);
		line = strndup((const char *)b + i, len);
		if (!line) {
			rc = -ENOMEM;
			break;
		}
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		i += len + (nl != NULL);
		const char *l = line;
		regmatch_t lm[1];
		if (regexec(&logre, l, 1, lm, 0) == 0)
			l += lm[0].rm_eo;
		rc = map_line(lp, l, &proc, &brief);
		if (rc == 1)
			rc = 0; /* unrecognized lines are ignored */
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
	}
	free(line);
	regfree(&proc);
	regfree(&brief);
	regfree(&logre);
	return rc;
}

static bool is_lib(const char *f)
{
	/* libRx: ([.]so$|[.]so[._][0-9]+) */
	for (const char *p = strstr(f, ".so"); p; p = strstr(p + 1, ".so")) {
		if (p[3] == '\0')
			return true;
		if ((p[3] == '.' || p[3] == '_') && p[4] >= '0' && p[4] <= '9')
			return true;
	}
	return false;
}

static bool adjacent(const struct lmap *a, const struct lmap *b)
{
	if (*a->file && *b->file && strcmp(a->file, b->file))
		return false;
	if (*a->build_id && *b->build_id && strcmp(a->build_id, b->build_id))
		return false;
	if (a->limit != b->start)
		return false;
	if (a->offset && b->offset && a->offset + (a->limit - a->start) != b->offset)
		return false;
	return true;
}

/* massageMappings: merge split mappings, then the main binary first. */
static void massage(struct lprof *lp)
{
	if (lp->nmaps > 1) {
		size_t k = 0;
		for (size_t i = 1; i < lp->nmaps; i++) {
			struct lmap *lm = &lp->maps[k], *m = &lp->maps[i];
			if (adjacent(lm, m)) {
				lm->limit = m->limit;
				if (*m->file) {
					free(lm->file);
					lm->file = m->file;
					m->file = NULL;
				}
				if (*m->build_id) {
					free(lm->build_id);
					lm->build_id = m->build_id;
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
		char *f = lp->maps[i].file;
		/* strings.TrimSpace(strings.Replace(file, "(deleted)", "", -1)) */
		char buf[4096];
		size_t o = 0;
		for (const char *p = f; *p && o + 1 < sizeof(buf);) {
			if (strncmp(p, "(deleted)", 9) == 0) {
				p += 9;
				continue;
			}
			buf[o++] = *p++;
		}
		buf[o] = '\0';
		char *s = buf;
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')
			s++;
		if (!*s || is_lib(s) || *s == '[')
			continue;
		struct lmap t = lp->maps[0];
		lp->maps[0] = lp->maps[i];
		lp->maps[i] = t;
		break;
	}
}

/* remapMappingIDs (after remapLocationIDs ordered the locations). */
static int assign_mappings(struct lprof *lp, const size_t *order, size_t norder, long *fake)
{
	if (lp->nmaps > 1 && strncmp(lp->maps[0].file, "/anon_hugepage", 14) == 0 &&
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
	*fake = -1;
	for (size_t k = 0; k < norder; k++) {
		struct lloc *l = &lp->locs[order[k]];
		uint64_t a = l->addr;
		if (a == 0)
			continue;
		for (size_t i = 0; i < lp->nmaps && l->mapping < 0; i++)
			if (lp->maps[i].start <= a && a < lp->maps[i].limit)
				l->mapping = (long)i;
		for (size_t i = 0; i < lp->nmaps && l->mapping < 0; i++) {
			struct lmap *m = &lp->maps[i];
			if (m->offset && m->start - m->offset <= a && a < m->start) {
				m->start -= m->offset;
				m->offset = 0;
				l->mapping = (long)i;
			}
		}
		if (l->mapping >= 0)
			continue;
		if (*fake < 0) {
			if (grow((void **)&lp->maps, &lp->capmaps, lp->nmaps, sizeof(*lp->maps)))
				return -ENOMEM;
			struct lmap fm = {0, UINT64_MAX, 0, strdup(""), strdup("")};
			if (!fm.file || !fm.build_id) {
				free(fm.file);
				free(fm.build_id);
				return -ENOMEM;
			}
			*fake = (long)lp->nmaps;
			lp->maps[lp->nmaps++] = fm;
		}
		l->mapping = *fake;
	}
	return 0;
}

static struct profile *build(struct lprof *lp, int64_t period, char *err, size_t errlen)
{
	/* remapLocationIDs: the locations samples use, in order of first use */
	size_t *order = malloc((lp->nlocs ? lp->nlocs : 1) * sizeof(*order));
	size_t norder = 0;
	struct profile *p = NULL;
	uint64_t *ids = NULL;
	long fake;
	if (!order)
		goto oom;
	for (size_t i = 0; i < lp->nsamples; i++)
		for (size_t j = 0; j < lp->samples[i].nloc; j++) {
			struct lloc *l = &lp->locs[lp->samples[i].loc[j]];
			if (!l->id) {
				l->id = norder + 1;
				order[norder++] = lp->samples[i].loc[j];
			}
		}
	if (assign_mappings(lp, order, norder, &fake))
		goto oom;
	p = cprof__profile_new();
	if (!p || !cprof__profile_add_sample_type(p, "samples", "count") ||
	    !cprof__profile_add_sample_type(p, "cpu", "nanoseconds"))
		goto oom;
	p->period_type.type = cprof__profile_intern(p, "cpu", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "nanoseconds", (size_t)-1);
	p->period = period;
	p->drop_frames = cprof__profile_intern(p, "ProfileData::Add|ProfileData::prof_handler|"
					       "CpuProfiler::prof_handler|__pthread_sighandler|__restore",
					       (size_t)-1);
	if (p->period_type.type < 0 || p->period_type.unit < 0 || p->drop_frames < 0)
		goto oom;
	for (size_t i = 0; i < lp->nmaps; i++) {
		struct pp_mapping *m = cprof__profile_add_mapping(p);
		if (!m)
			goto oom;
		m->memory_start = lp->maps[i].start;
		m->memory_limit = lp->maps[i].limit;
		m->file_offset = lp->maps[i].offset;
		m->filename = cprof__profile_intern(p, lp->maps[i].file, (size_t)-1);
		m->build_id = cprof__profile_intern(p, lp->maps[i].build_id, (size_t)-1);
		if (m->filename < 0 || m->build_id < 0)
			goto oom;
	}
	for (size_t k = 0; k < norder; k++) {
		struct lloc *l = &lp->locs[order[k]];
		if (!cprof__profile_add_location(p, l->mapping >= 0 ? (uint64_t)l->mapping + 1 : 0, l->addr, NULL, 0))
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
		struct lsample *s = &lp->samples[i];
		size_t n = 0;
		for (size_t j = 0; j < s->nloc; j++) {
			/* cleanupDuplicateLocations: a leaf seen twice, once adjusted */
			if (j == 1 && lp->locs[s->loc[0]].addr == lp->locs[s->loc[1]].addr + 1)
				continue;
			ids[n++] = lp->locs[s->loc[j]].id;
		}
		int64_t v[2] = {s->count, (int64_t)((uint64_t)s->count * (uint64_t)period)};
		if (!cprof__profile_add_sample(p, ids, n, v, 2, NULL, 0))
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
		if (h[2] == 1) {
			*recognized = true;
			snprintf(err, errlen, "parsing profile: Java CPU profiles are not supported");
			return NULL;
		}
		if (h[2] != 0)
			continue;
		*recognized = true;
		struct lprof lp = {0};
		int64_t period = (int64_t)(h[3] * 1000);
		int rc = parse_samples(&lp, &b, &n, gets[g]);
		if (rc == 1) {
			/* pprof tries the other legacy formats, which this is not */
			lprof_release(&lp);
			snprintf(err, errlen, "parsing profile: unrecognized profile format");
			return NULL;
		}
		if (rc == 0)
			rc = strip_handler_frames(&lp);
		if (rc == 0)
			rc = parse_maps(&lp, b, n, err, errlen);
		if (rc < 0) {
			if (rc == -ENOMEM)
				snprintf(err, errlen, "out of memory");
			lprof_release(&lp);
			return NULL;
		}
		massage(&lp);
		struct profile *p = build(&lp, period, err, errlen);
		lprof_release(&lp);
		return p;
	}
	return NULL;
}
