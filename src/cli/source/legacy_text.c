/*
 * legacy_text.c - pprof's legacy text profiles, read as google/pprof's
 * parseLegacy reads them after the binary CPU format (profile/
 * legacy_profile.go as vendored in Go 1.19), in its order:
 *
 *   parseHeap        "heap profile: N: N [N: N] @ heap/R" and the
 *                    heap_v2/heapz_v2 (rate R), heapprofile (no rate),
 *                    growthz and fragmentationz headers, one
 *                    "N: N [N: N] @ 0x..." line per stack; values
 *                    unsampled as pprof does (1/(1-exp(-size/R)))
 *   parseGoCount     "goroutine profile: total N" (any name), "N @ 0x..."
 *   parseThread      "--- threadz N ---" / "--- Thread X (name: n/N) stack: ---"
 *   parseContention  "--- contention:", "--- mutex:", "--- contentionz "
 *                    with cycles/second and sampling period unsampling
 *   parseJavaProfile "--- heapz 1 ---", "--- contentionz 1 ---" with
 *                    format=java, functions named by "0xADDR name
 *                    (File.java:N)" lines (also for legacy.c's Java CPU
 *                    profiles), addresses dropped
 *
 * each followed by the memory-map text legacy.c parses. Lines, regular
 * expressions (rx.c), number syntax, error words and the heuristics
 * (addresses moved back by one onto the call, duplicate leaves, the
 * frames pprof drops for each kind) are pprof's, so `cprof pprof -raw`
 * prints what `go tool pprof -raw` prints. Nothing here symbolizes.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/source/legacy.h"
#include "cli/source/source.h"

/* addLegacyFrameInfo's expressions: frames pprof prunes from each kind. */
static const char alloc_rx[] =
	"calloc|cfree|malloc|free|memalign|do_memalign|(__)?posix_memalign|pvalloc|valloc|realloc|"
	"tcmalloc::.*|tc_calloc|tc_cfree|tc_malloc|tc_free|tc_memalign|tc_posix_memalign|tc_pvalloc|"
	"tc_valloc|tc_realloc|tc_new|tc_delete|tc_newarray|tc_deletearray|tc_new_nothrow|"
	"tc_newarray_nothrow|malloc_zone_malloc|malloc_zone_calloc|malloc_zone_valloc|"
	"malloc_zone_realloc|malloc_zone_memalign|malloc_zone_free|runtime\\..*|BaseArena::.*|"
	"(::)?do_malloc_no_errno|(::)?do_malloc_pages|(::)?do_malloc|DoSampledAllocation|"
	"MallocedMemBlock::MallocedMemBlock|_M_allocate|__builtin_(vec_)?delete|__builtin_(vec_)?new|"
	"__gnu_cxx::new_allocator::allocate|__libc_malloc|__malloc_alloc_template::allocate|allocate|"
	"cpp_alloc|operator new(\\[\\])?|simple_alloc::allocate";
static const char alloc_skip_rx[] = "runtime\\.panic|runtime\\.reflectcall|runtime\\.call[0-9]*";
static const char cpu_rx[] =
	"ProfileData::Add|ProfileData::prof_handler|CpuProfiler::prof_handler|__pthread_sighandler|__restore";
static const char lock_rx[] =
	"RecordLockProfileData|(base::)?RecordLockProfileData.*|(base::)?SubmitMutexProfileData.*|"
	"(base::)?SubmitSpinLockProfileData.*|(base::Mutex::)?AwaitCommon.*|(base::Mutex::)?Unlock.*|"
	"(base::Mutex::)?UnlockSlow.*|(base::Mutex::)?ReaderUnlock.*|(base::MutexLock::)?~MutexLock.*|"
	"(Mutex::)?AwaitCommon.*|(Mutex::)?Unlock.*|(Mutex::)?UnlockSlow.*|(Mutex::)?ReaderUnlock.*|"
	"(MutexLock::)?~MutexLock.*|(SpinLock::)?Unlock.*|(SpinLock::)?SlowUnlock.*|"
	"(SpinLockHolder::)?~SpinLockHolder.*";

#define NUM "(\\d+)"
static const char heap_header_re[] =
	"heap profile: *" NUM ": *" NUM " *\\[ *" NUM ": *" NUM " *\\] *@ *(heap[_a-z0-9]*)/?(\\d*)";
static const char growth_header_re[] = "heap profile: *" NUM ": *" NUM " *\\[ *" NUM ": *" NUM " *\\] @ growthz?";
static const char frag_header_re[] =
	"heap profile: *" NUM ": *" NUM " *\\[ *" NUM ": *" NUM " *\\] @ fragmentationz?";
static const char heap_sample_re[] = "(-?\\d+): *(-?\\d+) *\\[ *(\\d+): *(\\d+) *] @([ x0-9a-f]*)";
static const char count_start_re[] = "\\A(\\S+) profile: total \\d+\\z";
static const char count_re[] = "\\A(\\d+) @(( 0x[0-9a-f]+)+)\\z";
static const char contention_sample_re[] = "(\\d+) *(\\d+) @([ x0-9a-f]*)";
static const char threadz_start_re[] = "--- threadz \\d+ ---";
static const char thread_start_re[] = "--- Thread ([[:xdigit:]]+) \\(name: (.*)/(\\d+)\\) stack: ---";

/* What a parser returns besides a profile. */
enum { OK = 0, UNRECOGNIZED = 1, FAILED = -1 };

struct ctx {
	struct legacy lp;
	struct legacy_scan s;
	char *err;
	size_t errlen;
	size_t *ids; /* one sample's location indices */
	size_t nids, capids;
};

__attribute__((format(printf, 2, 3))) static int fail(struct ctx *c, const char *fmt, ...)
{
	snprintf(c->err, c->errlen, "parsing profile: ");
	size_t n = strlen(c->err);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return FAILED;
}

static int oom(struct ctx *c)
{
	snprintf(c->err, c->errlen, "out of memory");
	return FAILED;
}

/* bufio.Scanner's error after a failed Scan. */
static int scan_error(struct ctx *c)
{
	return c->s.too_long ? fail(c, "bufio.Scanner: token too long") : OK;
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
	size_t pn = strlen(p);
	return n >= pn && memcmp(s, p, pn) == 0;
}

static bool space_or_comment(const char *s, size_t n)
{
	cprof__legacy_trim(&s, &n);
	return n == 0 || s[0] == '#';
}

/* A match of pattern in s, groups in g; 1, 0, or FAILED (out of memory). */
static int find(struct ctx *c, const char *pattern, const char *s, size_t n, struct rx_group *g)
{
	struct rx *r = cprof__rx_new(pattern);
	if (!r)
		return oom(c);
	int rc = cprof__rx_find(r, s, n, g);
	cprof__rx_free(r);
	return rc < 0 ? oom(c) : rc;
}

/* A group as a C string for messages (NULs end it early), in buf. */
static const char *gstr(const char *s, size_t n, char *buf, size_t cap)
{
	snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), s);
	return buf;
}

/* strconv.ParseInt(s, base, 64) for base 0 or 10: 0 ok, 1 invalid syntax, 2 out of range. */
static int parse_int(const char *s, size_t n, int base, int64_t *out)
{
	if (n == 0)
		return 1;
	bool neg = false;
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		s++, n--;
	}
	if (n == 0)
		return 1;
	const char *s0 = s;
	size_t n0 = n;
	bool base0 = base == 0;
	if (base0) {
		base = 10;
		if (s[0] == '0') {
			char l = n >= 3 ? (char)(s[1] | 0x20) : 0;
			if (l == 'b' || l == 'o' || l == 'x') {
				base = l == 'b' ? 2 : l == 'o' ? 8 : 16;
				s += 2, n -= 2;
			} else {
				base = 8;
				s++, n--;
			}
		}
	}
	uint64_t v = 0;
	bool underscores = false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i], l = (char)(ch | 0x20);
		unsigned d;
		if (ch == '_' && base0) {
			underscores = true;
			continue;
		} else if (ch >= '0' && ch <= '9') {
			d = (unsigned)(ch - '0');
		} else if (l >= 'a' && l <= 'z') {
			d = (unsigned)(l - 'a' + 10);
		} else {
			return 1;
		}
		if (d >= (unsigned)base)
			return 1;
		if (v > (UINT64_MAX - d) / (uint64_t)base)
			return 2; /* ParseUint stops at the overflow */
		v = v * (uint64_t)base + d;
	}
	if (underscores) {
		/* underscoreOK: only between digits, or after a base prefix */
		char saw = '^';
		size_t i = 0;
		bool hex = false;
		if (n0 >= 2 && s0[0] == '0' &&
		    ((s0[1] | 0x20) == 'b' || (s0[1] | 0x20) == 'o' || (s0[1] | 0x20) == 'x')) {
			i = 2;
			saw = '0';
			hex = (s0[1] | 0x20) == 'x';
		}
		for (; i < n0; i++) {
			char ch = s0[i], l = (char)(ch | 0x20);
			if ((ch >= '0' && ch <= '9') || (hex && l >= 'a' && l <= 'f')) {
				saw = '0';
				continue;
			}
			if (ch == '_') {
				if (saw != '0')
					return 1;
				saw = '_';
				continue;
			}
			if (saw == '_')
				return 1;
			saw = '!';
		}
		if (saw == '_')
			return 1;
	}
	if (!neg && v > (uint64_t)INT64_MAX)
		return 2;
	if (neg && v > (uint64_t)INT64_MAX + 1)
		return 2;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* Go's int64(float64): out of range and NaN give the amd64 result, MinInt64. */
static int64_t f2i(double x)
{
	if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
		return INT64_MIN;
	return (int64_t)x;
}

static int64_t wrap_mul(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a * (uint64_t)b);
}

/*
 * parseHexAddresses: every 0x[0-9a-f]+ in s, moved back by one onto the
 * call (all, all but the leaf, or none), as locations in c->ids (after
 * those there when append). OK or FAILED.
 */
enum { ADJUST_ALL, ADJUST_CALLERS, ADJUST_NONE };

static int hex_addresses(struct ctx *c, const char *s, size_t n, const char *line, size_t linen, int adjust,
			 bool append)
{
	if (!append)
		c->nids = 0;
	for (size_t i = 0; i + 2 < n;) {
		if (s[i] != '0' || s[i + 1] != 'x' || !strchr("0123456789abcdef", s[i + 2]) || !s[i + 2]) {
			i++;
			continue;
		}
		size_t j = i + 2;
		while (j < n && s[j] && strchr("0123456789abcdef", s[j]))
			j++;
		uint64_t a = 0;
		bool over = false;
		for (size_t k = i + 2; k < j; k++) {
			if (a >> 60)
				over = true;
			a = a << 4 | (uint64_t)(s[k] <= '9' ? s[k] - '0' : s[k] - 'a' + 10);
		}
		if (over) {
			char lb[512], hb[64];
			return fail(c, "malformed sample: %s: failed to parse as hex 64-bit number: %s",
				    gstr(line, linen, lb, sizeof(lb)), gstr(s + i, j - i, hb, sizeof(hb)));
		}
		if (c->nids == c->capids) {
			size_t cap = c->capids ? c->capids * 2 : 64;
			size_t *ni = realloc(c->ids, cap * sizeof(*ni));
			if (!ni)
				return oom(c);
			c->ids = ni;
			c->capids = cap;
		}
		if (adjust == ADJUST_ALL || (adjust == ADJUST_CALLERS && c->nids > 0))
			a--;
		if (cprof__legacy_loc(&c->lp, a, &c->ids[c->nids]) < 0)
			return oom(c);
		c->nids++;
		i = j;
	}
	return OK;
}

/* parseAdditionalSections: on to the memory map, then read it. */
static int additional_sections(struct ctx *c)
{
	while (!cprof__legacy_maps_sentinel(c->s.tok, c->s.len) && cprof__legacy_scan(&c->s))
		;
	if (scan_error(c) != OK)
		return FAILED;
	return cprof__legacy_parse_maps(&c->lp, &c->s, c->err, c->errlen) < 0 ? FAILED : OK;
}

/* ---- parseHeap ---- */

/* scaleHeapSample */
static void scale_heap(int64_t *count, int64_t *size, int64_t rate)
{
	if (*count == 0 || *size == 0) {
		*count = *size = 0;
		return;
	}
	if (rate <= 1)
		return;
	double avg = (double)*size / (double)*count;
	double scale = 1 / (1 - exp(-avg / (double)rate));
	*count = f2i((double)*count * scale);
	*size = f2i((double)*size * scale);
}

/* addValues of parseHeapSample. */
static int heap_values(struct ctx *c, const struct rx_group *cg, const struct rx_group *sg, const char *label,
		       const char *line, size_t linen, bool v2, int64_t rate, int64_t *out, int64_t *blocksize)
{
	int64_t count, size;
	int e1 = parse_int(cg->s, cg->n, 10, &count), e2 = e1 ? 0 : parse_int(sg->s, sg->n, 10, &size);
	if (e1 || e2) {
		const struct rx_group *bad = e1 ? cg : sg;
		char lb[512], nb[64], msg[700];
		snprintf(msg, sizeof(msg), "strconv.ParseInt: parsing \"%s\": value out of range",
			 gstr(bad->s, bad->n, nb, sizeof(nb)));
		return fail(c, "malformed sample: %s: %s", gstr(line, linen, lb, sizeof(lb)), msg);
	}
	if (count == 0 && size != 0) {
		char m[128];
		snprintf(m, sizeof(m), "%s count was 0 but %s bytes was %lld", label, label, (long long)size);
		return fail(c, "%s", m);
	}
	if (count != 0) {
		/* Go: MinInt64 / -1 is MinInt64 */
		*blocksize = count == -1 ? (int64_t)(0 - (uint64_t)size) : size / count;
		if (v2)
			scale_heap(&count, &size, rate);
	}
	out[0] = count;
	out[1] = size;
	return OK;
}

static bool gequal(const struct rx_group *a, const struct rx_group *b)
{
	return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
}

static bool gis(const struct rx_group *a, const char *s)
{
	return a->n == strlen(s) && memcmp(a->s, s, a->n) == 0;
}

static int parse_heap(struct ctx *c, struct profile **out)
{
	if (!cprof__legacy_scan(&c->s))
		return c->s.too_long ? scan_error(c) : UNRECOGNIZED;
	struct rx_group h[7];
	bool v2 = false, has_alloc = false;
	int64_t period = 0;
	int m = find(c, heap_header_re, c->s.tok, c->s.len, h);
	if (m < 0)
		return FAILED;
	if (m == 1) {
		/* parseHeapHeader */
		if (h[6].n > 0 && parse_int(h[6].s, h[6].n, 10, &period) != 0)
			return UNRECOGNIZED;
		has_alloc = (!gequal(&h[3], &h[1]) && !gis(&h[3], "0")) || (!gequal(&h[4], &h[2]) && !gis(&h[4], "0"));
		if (gis(&h[5], "heapz_v2") || gis(&h[5], "heap_v2")) {
			v2 = true;
		} else if (gis(&h[5], "heapprofile")) {
			period = 1;
		} else if (gis(&h[5], "heap")) {
			v2 = true;
			period /= 2;
		} else {
			return UNRECOGNIZED;
		}
	} else {
		if ((m = find(c, growth_header_re, c->s.tok, c->s.len, NULL)) == 0)
			m = find(c, frag_header_re, c->s.tok, c->s.len, NULL);
		if (m < 0)
			return FAILED;
		if (m == 0)
			return UNRECOGNIZED;
		period = 1;
	}
	struct rx *re = cprof__rx_new(heap_sample_re);
	if (!re)
		return oom(c);
	int rc = OK;
	while (rc == OK && cprof__legacy_scan(&c->s)) {
		const char *l = c->s.tok;
		size_t n = c->s.len;
		cprof__legacy_trim(&l, &n);
		if (space_or_comment(l, n))
			continue;
		if (cprof__legacy_maps_sentinel(l, n))
			break;
		struct rx_group g[6];
		int mm = cprof__rx_find(re, l, n, g);
		if (mm < 0) {
			rc = oom(c);
			break;
		}
		if (mm == 0) {
			rc = fail(c, "unexpected number of sample values: got 0, want 6");
			break;
		}
		int64_t v[4], blocksize = 0;
		size_t nv = 0;
		if (has_alloc) {
			rc = heap_values(c, &g[3], &g[4], "allocation", l, n, v2, period, v, &blocksize);
			nv = 2;
		}
		if (rc == OK)
			rc = heap_values(c, &g[1], &g[2], "inuse", l, n, v2, period, v + nv, &blocksize);
		nv += 2;
		if (rc == OK)
			rc = hex_addresses(c, g[5].s, g[5].n, l, n, ADJUST_ALL, false);
		if (rc == OK && cprof__legacy_add_sample(&c->lp, c->ids, c->nids, v, nv, true, blocksize) < 0)
			rc = oom(c);
	}
	cprof__rx_free(re);
	if (rc == OK)
		rc = scan_error(c);
	if (rc == OK)
		rc = additional_sections(c);
	if (rc != OK)
		return rc;
	struct legacy_header hd = {
		.period_type = "space",
		.period_unit = "bytes",
		.period = period,
		.drop_frames = alloc_rx,
		.keep_frames = alloc_skip_rx,
	};
	static const char *const four[4][2] = {
		{"alloc_objects", "count"}, {"alloc_space", "bytes"}, {"inuse_objects", "count"}, {"inuse_space", "bytes"}};
	static const char *const two[2][2] = {{"objects", "count"}, {"space", "bytes"}};
	hd.ntypes = has_alloc ? 4 : 2;
	for (size_t i = 0; i < hd.ntypes; i++) {
		hd.types[i][0] = has_alloc ? four[i][0] : two[i][0];
		hd.types[i][1] = has_alloc ? four[i][1] : two[i][1];
	}
	*out = cprof__legacy_build(&c->lp, &hd, c->err, c->errlen);
	return *out ? OK : FAILED;
}

/* ---- parseGoCount ---- */

static int parse_count(struct ctx *c, struct profile **out)
{
	while (cprof__legacy_scan(&c->s) && space_or_comment(c->s.tok, c->s.len))
		;
	if (scan_error(c) != OK)
		return FAILED;
	struct rx_group h[2];
	int m = find(c, count_start_re, c->s.tok, c->s.len, h);
	if (m != 1)
		return m < 0 ? FAILED : UNRECOGNIZED;
	char *type = strndup(h[1].s, h[1].n);
	struct rx *re = cprof__rx_new(count_re);
	int rc = type && re ? OK : oom(c);
	while (rc == OK && cprof__legacy_scan(&c->s)) {
		const char *l = c->s.tok;
		size_t n = c->s.len;
		if (space_or_comment(l, n))
			continue;
		if (has_prefix(l, n, "---"))
			break;
		struct rx_group g[4];
		int64_t v;
		int mm = cprof__rx_find(re, l, n, g);
		if (mm < 0)
			rc = oom(c);
		else if (mm == 0 || parse_int(g[1].s, g[1].n, 0, &v) != 0)
			rc = fail(c, "malformed profile format");
		else if ((rc = hex_addresses(c, g[2].s, g[2].n, l, n, ADJUST_ALL, false)) != OK)
			rc = fail(c, "malformed profile format"); /* ParseUint's error becomes errMalformed */
		else if (cprof__legacy_add_sample(&c->lp, c->ids, c->nids, &v, 1, false, 0) < 0)
			rc = oom(c);
	}
	cprof__rx_free(re);
	if (rc == OK)
		rc = scan_error(c);
	if (rc == OK)
		rc = additional_sections(c);
	if (rc == OK) {
		struct legacy_header hd = {
			.types = {{type, "count"}},
			.ntypes = 1,
			.period_type = type,
			.period_unit = "count",
			.period = 1,
			.drop_frames = cpu_rx,
		};
		*out = cprof__legacy_build(&c->lp, &hd, c->err, c->errlen);
		rc = *out ? OK : FAILED;
	}
	free(type);
	return rc;
}

/* ---- parseThread ---- */

/*
 * parseThreadSample: the addresses of one stack into c->ids (none when it
 * is "same as previous thread"); *line, *n: the line after it.
 */
static int thread_sample(struct ctx *c, const char **line, size_t *n)
{
	bool same = false;
	*line = "";
	*n = 0;
	c->nids = 0;
	while (cprof__legacy_scan(&c->s)) {
		const char *l = c->s.tok;
		size_t ln = c->s.len;
		cprof__legacy_trim(&l, &ln);
		*line = l, *n = ln;
		if (ln == 0)
			continue;
		if (has_prefix(l, ln, "---"))
			break;
		if (memmem(l, ln, "same as previous thread", 23)) {
			same = true;
			continue;
		}
		if (hex_addresses(c, l, ln, l, ln, ADJUST_CALLERS, true) != OK)
			return FAILED;
	}
	if (scan_error(c) != OK)
		return FAILED;
	if (same)
		c->nids = 0;
	return OK;
}

static int parse_thread(struct ctx *c, struct profile **out)
{
	while (cprof__legacy_scan(&c->s) && space_or_comment(c->s.tok, c->s.len))
		;
	const char *line = c->s.tok;
	size_t n = c->s.len;
	int m = find(c, threadz_start_re, line, n, NULL);
	if (m < 0)
		return FAILED;
	if (m == 1) {
		while (cprof__legacy_scan(&c->s)) {
			line = c->s.tok, n = c->s.len;
			if (cprof__legacy_maps_sentinel(line, n) || has_prefix(line, n, "-"))
				break;
		}
	} else if ((m = find(c, thread_start_re, line, n, NULL)) != 1) {
		return m < 0 ? FAILED : UNRECOGNIZED;
	}
	while (!cprof__legacy_maps_sentinel(line, n)) {
		if (has_prefix(line, n, "---- no stack trace for"))
			break;
		if ((m = find(c, thread_start_re, line, n, NULL)) != 1)
			return m < 0 ? FAILED : UNRECOGNIZED;
		if (thread_sample(c, &line, &n) != OK)
			return FAILED;
		if (c->nids == 0) {
			/* "same as previous thread": one more of the last stack */
			if (c->lp.nsamples > 0)
				c->lp.samples[c->lp.nsamples - 1].v[0]++;
			continue;
		}
		int64_t one = 1;
		if (cprof__legacy_add_sample(&c->lp, c->ids, c->nids, &one, 1, false, 0) < 0)
			return oom(c);
	}
	if (additional_sections(c) != OK)
		return FAILED;
	struct legacy_header hd = {
		.types = {{"thread", "count"}},
		.ntypes = 1,
		.period_type = "thread",
		.period_unit = "count",
		.period = 1,
		.drop_frames = cpu_rx,
		.drop_dup_leaf = true,
	};
	*out = cprof__legacy_build(&c->lp, &hd, c->err, c->errlen);
	return *out ? OK : FAILED;
}

/* ---- parseContention ---- */

static bool key_is(const char *k, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(k, want, n) == 0;
}

static int parse_contention(struct ctx *c, struct profile **out)
{
	if (!cprof__legacy_scan(&c->s))
		return c->s.too_long ? scan_error(c) : UNRECOGNIZED;
	const char *l = c->s.tok;
	size_t n = c->s.len;
	if (!has_prefix(l, n, "--- contentionz ") && !has_prefix(l, n, "--- mutex:") &&
	    !has_prefix(l, n, "--- contention:"))
		return UNRECOGNIZED;
	int64_t period = 1, cpu_hz = 0, duration = 0;
	/* "attribute = value" lines before the samples */
	while (cprof__legacy_scan(&c->s)) {
		l = c->s.tok, n = c->s.len;
		cprof__legacy_trim(&l, &n);
		if (space_or_comment(l, n))
			continue;
		if (has_prefix(l, n, "---"))
			break;
		const char *eq = memchr(l, '=', n);
		if (!eq)
			break;
		const char *k = l, *v = eq + 1;
		size_t kn = (size_t)(eq - l), vn = n - kn - 1;
		cprof__legacy_trim(&k, &kn);
		cprof__legacy_trim(&v, &vn);
		if (key_is(k, kn, "cycles/second")) {
			if (parse_int(v, vn, 0, &cpu_hz) != 0)
				return UNRECOGNIZED;
		} else if (key_is(k, kn, "sampling period")) {
			if (parse_int(v, vn, 0, &period) != 0)
				return UNRECOGNIZED;
		} else if (key_is(k, kn, "ms since reset")) {
			int64_t ms;
			if (parse_int(v, vn, 0, &ms) != 0)
				return UNRECOGNIZED;
			duration = wrap_mul(ms, 1000 * 1000);
		} else if (!key_is(k, kn, "discarded samples")) {
			return UNRECOGNIZED; /* also "format" and "resolution": C++ contentionz */
		}
	}
	if (scan_error(c) != OK)
		return FAILED;
	struct rx *re = cprof__rx_new(contention_sample_re);
	if (!re)
		return oom(c);
	int rc = OK;
	for (;;) {
		l = c->s.tok, n = c->s.len;
		cprof__legacy_trim(&l, &n);
		if (has_prefix(l, n, "---"))
			break;
		if (!space_or_comment(l, n)) {
			struct rx_group g[4];
			int mm = cprof__rx_find(re, l, n, g);
			int64_t v1, v2;
			if (mm < 0) {
				rc = oom(c);
				break;
			}
			if (mm == 0) {
				rc = UNRECOGNIZED;
				break;
			}
			int e1 = parse_int(g[1].s, g[1].n, 10, &v1), e2 = e1 ? 0 : parse_int(g[2].s, g[2].n, 10, &v2);
			if (e1 || e2) {
				const struct rx_group *bad = e1 ? &g[1] : &g[2];
				char lb[512], nb[64], msg[700];
				snprintf(msg, sizeof(msg), "strconv.ParseInt: parsing \"%s\": value out of range",
					 gstr(bad->s, bad->n, nb, sizeof(nb)));
				rc = fail(c, "malformed sample: %s: %s", gstr(l, n, lb, sizeof(lb)), msg);
				break;
			}
			/* unsampled: delays through cycles to nanoseconds, counts times the period */
			if (period > 0) {
				if (cpu_hz > 0) {
					double ghz = (double)cpu_hz / 1e9;
					v1 = f2i((double)v1 * (double)period / ghz);
				}
				v2 = wrap_mul(v2, period);
			}
			int64_t v[2] = {v2, v1};
			if ((rc = hex_addresses(c, g[3].s, g[3].n, l, n, ADJUST_ALL, false)) != OK)
				break;
			if (cprof__legacy_add_sample(&c->lp, c->ids, c->nids, v, 2, false, 0) < 0) {
				rc = oom(c);
				break;
			}
		}
		if (!cprof__legacy_scan(&c->s))
			break;
	}
	cprof__rx_free(re);
	if (rc == OK)
		rc = scan_error(c);
	if (rc == OK)
		rc = additional_sections(c);
	if (rc != OK)
		return rc;
	struct legacy_header hd = {
		.types = {{"contentions", "count"}, {"delay", "nanoseconds"}},
		.ntypes = 2,
		.period_type = "contentions",
		.period_unit = "count",
		.period = period,
		.duration_nanos = duration,
		.drop_frames = lock_rx,
	};
	*out = cprof__legacy_build(&c->lp, &hd, c->err, c->errlen);
	return *out ? OK : FAILED;
}

/* ---- parseJavaProfile: "--- heapz 1 ---" and "--- contentionz 1 ---" ---- */

static const char java_attr_re[] = "([\\w ]+)=([\\w ]+)";
static const char java_sample_re[] = " *(\\d+) +(\\d+) +@ +([ x0-9a-f]*)";
static const char java_loc_re[] = "^\\s*0x([[:xdigit:]]+)\\s+(.*)\\s*$";
static const char java_file_line_re[] = "^(.*)\\s+\\((.+):(-?[[:digit:]]+)\\)$";
static const char java_path_re[] = "^(.*)\\s+\\((.*)\\)$";

/* strconv's message for a ParseInt/ParseUint error (1 syntax, 2 range). */
static void num_error(char *buf, size_t cap, const char *fn, const char *s, size_t n, int e)
{
	char nb[128];
	snprintf(buf, cap, "strconv.%s: parsing \"%s\": %s", fn, gstr(s, n, nb, sizeof(nb)),
		 e == 2 ? "value out of range" : "invalid syntax");
}

/* The next line of b (up to '\n', which must be there), trimmed; false at the end. */
static bool next_line(const char **b, size_t *n, const char **l, size_t *ln, size_t *adv)
{
	const char *nl = memchr(*b, '\n', *n);
	if (!nl)
		return false;
	*l = *b;
	*ln = (size_t)(nl - *b);
	*adv = *ln + 1;
	cprof__legacy_trim(l, ln);
	return true;
}

static bool str_is(const char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

int cprof__legacy_java_locations(struct legacy *lp, const char *b, size_t n, char *err, size_t errlen)
{
	struct ctx c = {.err = err, .errlen = errlen};
	struct rx *loc_re = cprof__rx_new(java_loc_re), *fl_re = cprof__rx_new(java_file_line_re),
		  *path_re = cprof__rx_new(java_path_re);
	int rc = loc_re && fl_re && path_re ? OK : oom(&c);
	while (rc == OK && n > 0) {
		/* bufio.Reader.ReadString('\n'): the last line may lack it */
		const char *nl = memchr(b, '\n', n);
		size_t len = nl ? (size_t)(nl - b) + 1 : n;
		const char *l = b;
		size_t ln = len;
		b += len, n -= len;
		cprof__legacy_trim(&l, &ln);
		struct rx_group g[4];
		int m = ln ? cprof__rx_find(loc_re, l, ln, g) : 0;
		if (m <= 0) {
			if (m < 0)
				rc = oom(&c);
			continue;
		}
		uint64_t addr = 0;
		bool over = false;
		for (size_t i = 0; i < g[1].n; i++) {
			char h = g[1].s[i];
			over |= (addr >> 60) != 0;
			addr = addr << 4 | (uint64_t)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
		}
		if (over) {
			char lb[512], msg[256];
			num_error(msg, sizeof(msg), "ParseUint", g[1].s, g[1].n, 2);
			rc = fail(&c, "parsing sample %s: %s", gstr(l, ln, lb, sizeof(lb)), msg);
			break;
		}
		/* only addresses samples use: the table finds them without adding */
		size_t idx;
		if (!cprof__legacy_find(lp, addr, &idx))
			continue;
		const char *fn = g[2].s, *file = "";
		size_t fnn = g[2].n, filen = 0;
		int64_t line = 0;
		struct rx_group f[4];
		int mf = cprof__rx_find(fl_re, g[2].s, g[2].n, f), mp = 0;
		if (mf == 1) {
			int64_t v;
			fn = f[1].s, fnn = f[1].n, file = f[2].s, filen = f[2].n;
			if (parse_int(f[3].s, f[3].n, 10, &v) == 0 && v > 0)
				line = v;
		} else if (mf == 0 && (mp = cprof__rx_find(path_re, g[2].s, g[2].n, f)) == 1) {
			/* a shared library's path: filepath.Base */
			fn = f[1].s, fnn = f[1].n, file = f[2].s, filen = f[2].n;
			while (filen > 1 && file[filen - 1] == '/')
				filen--;
			const char *slash = filen ? memrchr(file, '/', filen) : NULL;
			if (filen == 0)
				file = ".", filen = 1;
			else if (slash && !(filen == 1 && file[0] == '/'))
				filen -= (size_t)(slash + 1 - file), file = slash + 1;
		} else if (mf == 0 && mp == 0 && memmem(g[2].s, g[2].n, "generated stub/JIT", 18)) {
			fn = "STUB", fnn = 4;
		}
		if (mf < 0 || mp < 0) {
			rc = oom(&c);
			break;
		}
		long fi;
		if (cprof__legacy_fn(lp, fn, fnn, file, filen, &fi) < 0) {
			rc = oom(&c);
			break;
		}
		lp->locs[idx].fn = fi;
		lp->locs[idx].line = line;
		lp->locs[idx].named = true;
	}
	cprof__rx_free(loc_re);
	cprof__rx_free(fl_re);
	cprof__rx_free(path_re);
	return rc == OK ? 0 : -1;
}

static int parse_java(struct ctx *c, struct profile **out)
{
	const char *b = c->s.b;
	size_t n = c->s.n;
	const char *nl = memchr(b, '\n', n);
	if (!nl)
		return UNRECOGNIZED;
	const char *h = b;
	size_t hn = (size_t)(nl - b) + 1;
	cprof__legacy_trim(&h, &hn);
	bool heap = str_is(h, hn, "--- heapz 1 ---");
	if (!heap && !str_is(h, hn, "--- contentionz 1 ---"))
		return UNRECOGNIZED;
	b = nl + 1, n -= (size_t)(nl + 1 - c->s.b);
	struct legacy_header hd = {.period_type = "", .period_unit = ""};
	char unit[256] = "";
	int64_t period = 0, duration = 0;
	/* parseJavaHeader: "attribute = value" lines */
	const char *l;
	size_t ln, adv;
	while (next_line(&b, &n, &l, &ln, &adv)) {
		if (ln) {
			struct rx_group g[3];
			int m = find(c, java_attr_re, l, ln, g);
			if (m < 0)
				return FAILED;
			if (m == 0)
				break;
			const char *k = g[1].s, *v = g[2].s;
			size_t kn = g[1].n, vn = g[2].n;
			cprof__legacy_trim(&k, &kn);
			cprof__legacy_trim(&v, &vn);
			if (str_is(k, kn, "format")) {
				if (!str_is(v, vn, "java"))
					return UNRECOGNIZED;
			} else if (str_is(k, kn, "resolution")) {
				snprintf(unit, sizeof(unit), "%.*s", (int)vn, v);
				hd.ntypes = 2;
			} else if (!heap && (str_is(k, kn, "sampling period") || str_is(k, kn, "ms since reset"))) {
				int64_t x;
				int e = parse_int(v, vn, 0, &x);
				if (e) {
					char lb[512], msg[256];
					num_error(msg, sizeof(msg), "ParseInt", v, vn, e);
					return fail(c, "failed to parse attribute %s: %s", gstr(l, ln, lb, sizeof(lb)), msg);
				}
				if (kn == strlen("sampling period")) {
					period = x;
					hd.period_type = "contentions", hd.period_unit = "count";
				} else {
					duration = wrap_mul(x, 1000 * 1000);
				}
			} else {
				return UNRECOGNIZED;
			}
		}
		b += adv, n -= adv;
	}
	/* parseJavaSamples: "count value @ 0x..." (Java's order is inverted) */
	struct rx *re = cprof__rx_new(java_sample_re);
	int rc = re ? OK : oom(c);
	while (rc == OK && next_line(&b, &n, &l, &ln, &adv)) {
		if (ln) {
			struct rx_group g[4];
			int m = cprof__rx_find(re, l, ln, g);
			if (m <= 0) {
				rc = m < 0 ? oom(c) : OK;
				break;
			}
			if ((rc = hex_addresses(c, g[3].s, g[3].n, l, ln, ADJUST_NONE, false)) != OK)
				break;
			int64_t v[2];
			char lb[512], msg[256];
			int e = parse_int(g[2].s, g[2].n, 0, &v[0]);
			if (!e)
				e = parse_int(g[1].s, g[1].n, 0, &v[1]);
			if (e) {
				const struct rx_group *bad = parse_int(g[2].s, g[2].n, 0, &v[0]) ? &g[2] : &g[1];
				num_error(msg, sizeof(msg), "ParseInt", bad->s, bad->n, e);
				rc = fail(c, "parsing sample %s: %s", gstr(l, ln, lb, sizeof(lb)), msg);
				break;
			}
			int64_t bytes = 0;
			if (heap) {
				if (v[0] == 0) {
					rc = fail(c, "parsing sample %s: second value must be non-zero",
						  gstr(l, ln, lb, sizeof(lb)));
					break;
				}
				bytes = v[1] / v[0];
				scale_heap(&v[0], &v[1], 524288);
			} else if (period != 0) {
				v[0] = wrap_mul(v[0], period);
				v[1] = wrap_mul(v[1], period);
			}
			if (rc == OK && cprof__legacy_add_sample(&c->lp, c->ids, c->nids, v, 2, heap, bytes) < 0)
				rc = oom(c);
		}
		b += adv, n -= adv;
	}
	cprof__rx_free(re);
	if (rc != OK)
		return rc;
	if (cprof__legacy_java_locations(&c->lp, b, n, c->err, c->errlen) < 0)
		return FAILED;
	if (hd.ntypes == 0 && c->lp.nsamples > 0) {
		/* Aggregate's CheckValid */
		return fail(c, "missing sample type information");
	}
	hd.types[0][0] = heap ? "inuse_objects" : "contentions";
	hd.types[0][1] = "count";
	hd.types[1][0] = heap ? "inuse_space" : "delay";
	hd.types[1][1] = unit;
	hd.period = period;
	hd.duration_nanos = duration;
	hd.drop_frames = hd.ntypes ? (heap ? alloc_rx : lock_rx) : cpu_rx;
	hd.keep_frames = hd.ntypes && heap ? alloc_skip_rx : NULL;
	hd.no_addresses = true;
	*out = cprof__legacy_build(&c->lp, &hd, c->err, c->errlen);
	return *out ? OK : FAILED;
}

struct profile *cprof__source_legacy_text(const uint8_t *data, size_t len, bool *recognized,
					  char *err, size_t errlen)
{
	static int (*const parsers[])(struct ctx *, struct profile **) = {
		parse_heap, parse_count, parse_thread, parse_contention, parse_java,
	};
	*recognized = false;
	for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++) {
		struct ctx c = {.err = err, .errlen = errlen};
		cprof__legacy_scan_init(&c.s, data, len);
		struct profile *p = NULL;
		int rc = parsers[i](&c, &p);
		cprof__legacy_release(&c.lp);
		free(c.ids);
		if (rc == UNRECOGNIZED)
			continue;
		*recognized = true;
		return rc == OK ? p : NULL;
	}
	return NULL;
}
