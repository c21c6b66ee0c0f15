/*
 * flags.c - the command line of a benchmark binary and the -bench matcher.
 * Flags follow Go's flag package as go test's binaries use it: -name,
 * --name, -name=value, -name value (not for booleans), an optional "test."
 * prefix, and "--" ending the flags. Durations are Go's. The matcher splits
 * the -bench pattern as Go's testing package does (at '/' and '|' outside
 * [] and ()), so each part matches one level of a sub-benchmark's name, and
 * makes sub-benchmark names unique the same way (#01, #02, ...). What runs
 * with these options is bench.c's business.
 */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

static const char usage[] =
	"Usage: %s [flags]\n"
	"\n"
	"Runs the benchmarks of this program (Go's go test -bench, for C).\n"
	"\n"
	"  -bench=REGEXP       run the benchmarks matching REGEXP (default \".\": all);\n"
	"                      parts split at '/' match sub-benchmark levels\n"
	"  -benchtime=D|Nx     run each benchmark for D (default 1s) or exactly N times\n"
	"  -count=N            run each benchmark N times (default 1)\n"
	"  -cpu=LIST           comma-separated CPU counts: each benchmark runs once per\n"
	"                      count with the process limited to that many CPUs\n"
	"                      (name suffix -N when N != 1)\n"
	"  -benchmem           report B/op and allocs/op for every benchmark\n"
	"  -cpuprofile=FILE    write a CPU profile of the benchmarks to FILE\n"
	"  -memprofile=FILE    write an allocation profile (Go's allocs) to FILE\n"
	"  -memprofilerate=N   sample one allocation per N bytes (default 524288;\n"
	"                      1: every allocation)\n"
	"  -blockprofile=FILE  write a block profile (where threads waited) to FILE\n"
	"  -blockprofilerate=NS  record waits of NS or more, shorter ones sampled\n"
	"                      (default 1: every wait)\n"
	"  -mutexprofile=FILE  write a mutex profile (critical sections that made\n"
	"                      others wait) to FILE\n"
	"  -mutexprofilefraction=N  record 1 in N contentions (default 1: all)\n"
	"  -trace=FILE         write an execution trace of the run to FILE (cprof trace)\n"
	"  -list=REGEXP        list the benchmarks matching REGEXP and exit\n"
	"  -timeout=D          fail if the benchmarks run longer than D (default: none)\n"
	"  -json               write JSON records instead of text (one per line)\n"
	"  -v                  verbose: print each benchmark's name when it starts\n"
	"  -run=REGEXP         accepted for go test scripts; there are no tests to run\n"
	"\n"
	"Durations: 1.5s, 300ms, 2m, 1h30m (units ns, us, ms, s, m, h).\n"
	"Output: the Go benchmark format, read by cprof benchstat and Go's benchstat.\n";

int cprof__bench_parse_duration(const char *s, int64_t *ns)
{
	const char *p = s;
	int neg = 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (!*p)
		return -1;
	long double total = 0;
	while (*p) {
		char *end;
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -1;
		errno = 0;
		long double v = strtold(p, &end);
		if (end == p || errno)
			return -1;
		p = end;
		static const struct {
			const char *u;
			long double f;
		} units[] = {{"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3}, {"ms", 1e6},
			     {"s", 1e9},  {"m", 60e9}, {"h", 3600e9}};
		size_t best = 0, bl = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			size_t l = strlen(units[i].u);
			if (strncmp(p, units[i].u, l) == 0 && l > bl)
				best = i, bl = l;
		}
		if (!bl)
			return -1;
		p += bl;
		total += v * units[best].f;
	}
	if (total > 9.2e18L)
		return -1;
	*ns = (int64_t)(total + 0.5L);
	if (neg)
		*ns = -*ns;
	return 0;
}

static void bad(const char *prog, const char *flag, const char *value, const char *why)
{
	fprintf(stderr, "cprof: -%s=%s: %s\n", flag, value, why);
	fprintf(stderr, "run '%s -h' for the flags\n", prog);
}

static int parse_long(const char *s, long *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (!*s || *end || errno)
		return -1;
	*v = x;
	return 0;
}

static int parse_bool(const char *s, int *v)
{
	if (!strcmp(s, "1") || !strcmp(s, "t") || !strcmp(s, "T") || !strcmp(s, "true") || !strcmp(s, "TRUE") ||
	    !strcmp(s, "True"))
		return *v = 1, 0;
	if (!strcmp(s, "0") || !strcmp(s, "f") || !strcmp(s, "F") || !strcmp(s, "false") || !strcmp(s, "FALSE") ||
	    !strcmp(s, "False"))
		return *v = 0, 0;
	return -1;
}

static int parse_cpus(struct bench_opts *o, const char *s)
{
	free(o->cpus);
	o->cpus = NULL;
	o->ncpus = 0;
	size_t cap = 1;
	for (const char *c = s; *c; c++)
		cap += *c == ',';
	o->cpus = calloc(cap, sizeof *o->cpus);
	if (!o->cpus)
		return -1;
	const char *p = s;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char tmp[32];
		if (len > 0) { /* Go skips empty entries */
			if (len >= sizeof tmp)
				return -1;
			memcpy(tmp, p, len);
			tmp[len] = 0;
			long v;
			if (parse_long(tmp, &v) || v <= 0 || v > 1 << 20)
				return -1;
			o->cpus[o->ncpus++] = (int)v;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return o->ncpus ? 0 : -1;
}

int cprof__bench_flags_parse(struct bench_opts *o, int argc, char **argv, int default_procs)
{
	const char *prog = argc > 0 && argv[0] ? argv[0] : "bench";
	memset(o, 0, sizeof *o);
	o->benchtime_ns = 1000000000;
	o->benchtime_s = "1s";
	o->count = 1;
	o->blockprofilerate = 1;
	o->mutexprofilefraction = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc) {
				fprintf(stderr, "cprof: unexpected argument \"%s\"; run '%s -h' for the flags\n", argv[i + 1],
					prog);
				return 2;
			}
			break;
		}
		if (a[0] != '-' || a[1] == 0) {
			fprintf(stderr, "cprof: unexpected argument \"%s\"; run '%s -h' for the flags\n", a, prog);
			return 2;
		}
		const char *name = a + 1 + (a[1] == '-');
		if (strncmp(name, "test.", 5) == 0)
			name += 5;
		char key[64];
		const char *val = NULL;
		const char *eq = strchr(name, '=');
		size_t kl = eq ? (size_t)(eq - name) : strlen(name);
		if (kl == 0 || kl >= sizeof key) {
			fprintf(stderr, "cprof: bad flag syntax: %s\n", a);
			return 2;
		}
		memcpy(key, name, kl);
		key[kl] = 0;
		if (eq)
			val = eq + 1;
		if (!strcmp(key, "h") || !strcmp(key, "help")) {
			printf(usage, prog);
			return 1;
		}
		int is_bool = !strcmp(key, "benchmem") || !strcmp(key, "v") || !strcmp(key, "json");
		if (is_bool) {
			int v = 1;
			if (val && parse_bool(val, &v)) {
				bad(prog, key, val, "not a boolean (true or false)");
				return 2;
			}
			if (!strcmp(key, "benchmem"))
				o->benchmem = v;
			else if (!strcmp(key, "v"))
				o->verbose = v;
			else
				o->json = v;
			continue;
		}
		static const char *const known[] = {"bench", "benchtime", "count", "cpu", "timeout",
						    "list", "cpuprofile", "run", "memprofile", "memprofilerate",
						    "blockprofile", "blockprofilerate", "mutexprofile",
						    "mutexprofilefraction", "trace"};
		int k = -1;
		for (size_t j = 0; j < sizeof known / sizeof known[0]; j++)
			if (!strcmp(key, known[j]))
				k = (int)j;
		if (k < 0) {
			fprintf(stderr, "cprof: flag provided but not defined: -%s\nrun '%s -h' for the flags\n", key,
				prog);
			return 2;
		}
		if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "cprof: flag needs an argument: -%s\n", key);
				return 2;
			}
			val = argv[++i];
		}
		switch (k) {
		case 0:
			o->bench = val;
			break;
		case 1: {
			size_t l = strlen(val);
			if (l > 0 && val[l - 1] == 'x') {
				char tmp[32];
				long n;
				if (l - 1 >= sizeof tmp || (memcpy(tmp, val, l - 1), tmp[l - 1] = 0, parse_long(tmp, &n)) ||
				    n <= 0) {
					bad(prog, key, val, "invalid count (want a positive count such as 100x)");
					return 2;
				}
				o->benchtime_n = n;
				o->benchtime_ns = 0;
			} else {
				int64_t d;
				if (cprof__bench_parse_duration(val, &d) || d <= 0) {
					bad(prog, key, val, "invalid duration (want e.g. 1s, 500ms, or a count such as 100x)");
					return 2;
				}
				o->benchtime_ns = d;
				o->benchtime_n = 0;
			}
			o->benchtime_s = val;
			break;
		}
		case 2:
			if (parse_long(val, &o->count) || o->count < 1) {
				bad(prog, key, val, "want a count of 1 or more");
				return 2;
			}
			break;
		case 3:
			if (parse_cpus(o, val)) {
				bad(prog, key, val, "want a comma-separated list of CPU counts, e.g. 1,2,4");
				return 2;
			}
			break;
		case 4: {
			int64_t d;
			if (cprof__bench_parse_duration(val, &d) || d < 0) {
				bad(prog, key, val, "invalid duration (want e.g. 10m, 30s; 0 = no timeout)");
				return 2;
			}
			o->timeout_ns = d;
			o->timeout_s = val;
			break;
		}
		case 5:
			o->list = val;
			break;
		case 6:
			if (!*val) {
				bad(prog, key, val, "want a file name");
				return 2;
			}
			o->cpuprofile = val;
			break;
		case 7: /* tests: this program has none */
			break;
		case 8:
			if (!*val) {
				bad(prog, key, val, "want a file name");
				return 2;
			}
			o->memprofile = val;
			break;
		case 9:
			if (parse_long(val, &o->memprofilerate) || o->memprofilerate < 0) {
				bad(prog, key, val, "want a number of bytes (1: every allocation; 0: the default)");
				return 2;
			}
			break;
		case 10:
		case 12:
			if (!*val) {
				bad(prog, key, val, "want a file name");
				return 2;
			}
			*(k == 10 ? &o->blockprofile : &o->mutexprofile) = val;
			break;
		case 14:
			if (!*val) {
				bad(prog, key, val, "want a file name");
				return 2;
			}
			o->trace = val;
			break;
		case 11:
		case 13: {
			long *dst = k == 11 ? &o->blockprofilerate : &o->mutexprofilefraction;
			if (parse_long(val, dst) || *dst < 0) {
				bad(prog, key, val, k == 11 ? "want nanoseconds (1: every wait; 0: off)"
							    : "want N for 1 in N (1: every contention; 0: off)");
				return 2;
			}
			break;
		}
		}
	}
	if (!o->cpus) {
		o->cpus = calloc(1, sizeof *o->cpus);
		if (!o->cpus)
			return 2;
		o->cpus[0] = default_procs;
		o->ncpus = 1;
	}
	return 0;
}

/* ---- the matcher ---- */

struct level_re {
	regex_t re;
	int empty; /* "" matches everything */
};
struct simple {
	struct level_re *lv;
	size_t n;
};
struct bench_matcher {
	struct simple *alt;
	size_t nalt;
};

/* Go's rewrite(): whitespace becomes '_', non-printable bytes are escaped. */
static char *rewrite(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * n + 1), *w = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\v' || *p == '\f' || *p == '\r')
			*w++ = '_';
		else if (*p < 0x20 || *p == 0x7f)
			w += sprintf(w, "\\x%02x", *p);
		else
			*w++ = (char)*p;
	}
	*w = 0;
	return out;
}

static int add_level(struct simple *sm, const char *s, size_t len, const char *flag, size_t index)
{
	struct level_re *lv = realloc(sm->lv, (sm->n + 1) * sizeof *lv);
	if (!lv)
		return -1;
	sm->lv = lv;
	char *raw = strndup(s, len);
	char *pat = raw ? rewrite(raw) : NULL;
	free(raw);
	if (!pat)
		return -1;
	struct level_re *l = &lv[sm->n];
	l->empty = pat[0] == 0;
	if (!l->empty) {
		int rc = regcomp(&l->re, pat, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[200];
			regerror(rc, &l->re, msg, sizeof msg);
			fprintf(stderr, "cprof: -%s: element %zu (\"%s\"): %s\n", flag, index, pat, msg);
			free(pat);
			return -1;
		}
	}
	free(pat);
	sm->n++;
	return 0;
}

struct bench_matcher *cprof__bench_matcher_new(const char *pattern, const char *flag)
{
	struct bench_matcher *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	struct simple cur = {0};
	int cs = 0, cp = 0;
	size_t start = 0, idx = 0, len = strlen(pattern);
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? pattern[i] : 0;
		if (c == '[')
			cs++;
		else if (c == ']') {
			if (--cs < 0)
				cs = 0;
		} else if (c == '(') {
			if (cs == 0)
				cp++;
		} else if (c == ')') {
			if (cs == 0)
				cp--;
		} else if (c == '\\') {
			i++;
			continue;
		}
		if (i == len || ((c == '/' || c == '|') && cs == 0 && cp == 0)) {
			if (add_level(&cur, pattern + start, i - start, flag, idx++))
				goto fail;
			start = i + 1;
			if (i == len || c == '|') {
				struct simple *alt = realloc(m->alt, (m->nalt + 1) * sizeof *alt);
				if (!alt)
					goto fail;
				m->alt = alt;
				m->alt[m->nalt++] = cur;
				memset(&cur, 0, sizeof cur);
			}
		}
	}
	return m;
fail:
	for (size_t j = 0; j < cur.n; j++)
		if (!cur.lv[j].empty)
			regfree(&cur.lv[j].re);
	free(cur.lv);
	cprof__bench_matcher_free(m);
	return NULL;
}

void cprof__bench_matcher_free(struct bench_matcher *m)
{
	if (!m)
		return;
	for (size_t a = 0; a < m->nalt; a++) {
		for (size_t j = 0; j < m->alt[a].n; j++)
			if (!m->alt[a].lv[j].empty)
				regfree(&m->alt[a].lv[j].re);
		free(m->alt[a].lv);
	}
	free(m->alt);
	free(m);
}

int cprof__bench_matcher_match(struct bench_matcher *m, const char *name, int *partial)
{
	*partial = 0;
	if (!m)
		return 1;
	size_t nlev = 1;
	for (const char *c = name; *c; c++)
		nlev += *c == '/';
	char *copy = strdup(name);
	if (!copy)
		return 0;
	int ok = 0;
	for (size_t a = 0; a < m->nalt && !ok; a++) {
		struct simple *sm = &m->alt[a];
		int good = 1;
		char *p = copy;
		strcpy(copy, name);
		for (size_t i = 0; i < nlev && i < sm->n; i++) {
			char *slash = strchr(p, '/');
			if (slash)
				*slash = 0;
			if (!sm->lv[i].empty && regexec(&sm->lv[i].re, p, 0, NULL, 0) != 0) {
				good = 0;
				break;
			}
			p = slash ? slash + 1 : p + strlen(p);
		}
		if (good) {
			ok = 1;
			*partial = nlev < sm->n;
		}
	}
	free(copy);
	return ok;
}

/* ---- unique sub-benchmark names (Go's matcher.unique) ---- */

struct name_count {
	char *name;
	int n;
	struct name_count *next;
};
#define NBUCKET 1024
static struct name_count *buckets[NBUCKET];

static struct name_count *lookup(const char *s, int create)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	struct name_count **b = &buckets[h % NBUCKET];
	for (struct name_count *e = *b; e; e = e->next)
		if (!strcmp(e->name, s))
			return e;
	if (!create)
		return NULL;
	struct name_count *e = calloc(1, sizeof *e);
	if (!e || !(e->name = strdup(s))) {
		free(e);
		return NULL;
	}
	e->next = *b;
	*b = e;
	return e;
}

static int count_of(const char *s)
{
	struct name_count *e = lookup(s, 0);
	return e ? e->n : 0;
}

/* Go's parseSubtestNumber: "prefix#NN" -> prefix, NN. */
static int subtest_number(const char *s, size_t *prefix_len)
{
	const char *h = strrchr(s, '#');
	*prefix_len = strlen(s);
	if (!h)
		return 0;
	const char *suf = h + 1;
	size_t l = strlen(suf);
	if (l < 2 || (l > 2 && suf[0] == '0'))
		return 0;
	if (!strcmp(suf, "00") && (h == s || h[-1] != '/'))
		return 0;
	long v;
	if (parse_long(suf, &v) || v < 0 || v > 0x7fffffff)
		return 0;
	*prefix_len = (size_t)(h - s);
	return (int)v;
}

char *cprof__bench_unique_name(const char *parent, const char *sub)
{
	char *rs = rewrite(sub);
	if (!rs)
		return NULL;
	size_t bl = strlen(parent) + 1 + strlen(rs);
	char *base = malloc(bl + 1), *out = NULL;
	if (!base)
		goto done;
	snprintf(base, bl + 1, "%s/%s", parent, rs);
	for (;;) {
		struct name_count *e = lookup(base, 1);
		if (!e)
			goto done;
		int n = e->n++;
		if (n == 0 && rs[0]) {
			size_t pl;
			int nn = subtest_number(base, &pl);
			if (pl < strlen(base)) {
				char *prefix = strndup(base, pl);
				int taken = prefix && nn < count_of(prefix);
				free(prefix);
				if (taken)
					continue;
			}
			out = strdup(base);
			goto done;
		}
		out = malloc(bl + 16);
		if (!out)
			goto done;
		snprintf(out, bl + 16, "%s#%02d", base, n);
		if (count_of(out) != 0) {
			free(out);
			out = NULL;
			continue;
		}
		goto done;
	}
done:
	free(rs);
	free(base);
	return out;
}

void cprof__bench_unique_reset(void)
{
	for (size_t i = 0; i < NBUCKET; i++) {
		while (buckets[i]) {
			struct name_count *e = buckets[i];
			buckets[i] = e->next;
			free(e->name);
			free(e);
		}
	}
}
