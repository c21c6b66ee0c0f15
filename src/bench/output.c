/*
 * output.c - how libcprof-bench writes results: the Go benchmark format
 * (go test's BenchmarkResult.String and MemString, byte for byte: field
 * widths, tabs, the number formats that line decimal points up, extra
 * metrics sorted by unit) and the -json records. It also finds the
 * goos/goarch/cpu values of the label lines. It does not decide what runs
 * or when lines are printed (bench.c).
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "bench/bench.h"

static const struct bench_metric *find_extra(const struct bench_result *r, const char *unit)
{
	for (size_t i = 0; i < r->nextra; i++)
		if (strcmp(r->extra[i].unit, unit) == 0)
			return &r->extra[i];
	return NULL;
}

double cprof__bench_ns_per_op(const struct bench_result *r)
{
	const struct bench_metric *m = find_extra(r, "ns/op");
	if (m)
		return m->value;
	return (double)r->t_ns / (double)r->n;
}

double cprof__bench_mb_per_s(const struct bench_result *r)
{
	const struct bench_metric *m = find_extra(r, "MB/s");
	if (m)
		return m->value;
	if (r->bytes <= 0 || r->t_ns <= 0 || r->n <= 0)
		return 0;
	return ((double)r->bytes * (double)r->n / 1e6) / ((double)r->t_ns / 1e9);
}

int64_t cprof__bench_allocs_per_op(const struct bench_result *r)
{
	const struct bench_metric *m = find_extra(r, "allocs/op");
	if (m)
		return (int64_t)m->value;
	if (r->n <= 0)
		return 0;
	return (int64_t)r->mem_allocs / (int64_t)r->n;
}

int64_t cprof__bench_bytes_per_op(const struct bench_result *r)
{
	const struct bench_metric *m = find_extra(r, "B/op");
	if (m)
		return (int64_t)m->value;
	if (r->n <= 0)
		return 0;
	return (int64_t)r->mem_bytes / (int64_t)r->n;
}

struct out {
	char *p;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(o->p + o->len, o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->len += (size_t)k;
	if (o->len >= o->size)
		o->len = o->size - 1;
}

/* Go's prettyPrint: the width and precision depend on the magnitude, so
 * that the decimal points of all formats line up. */
static void pretty(struct out *o, double x, const char *unit)
{
	double y = fabs(x);
	int w, prec;
	if (y == 0 || y >= 999.95)
		w = 10, prec = 0;
	else if (y >= 99.995)
		w = 12, prec = 1;
	else if (y >= 9.9995)
		w = 13, prec = 2;
	else if (y >= 0.99995)
		w = 14, prec = 3;
	else if (y >= 0.099995)
		w = 15, prec = 4;
	else if (y >= 0.0099995)
		w = 16, prec = 5;
	else if (y >= 0.00099995)
		w = 17, prec = 6;
	else
		w = 18, prec = 7;
	put(o, "%*.*f %s", w, prec, x, unit);
}

static int builtin_unit(const char *u)
{
	return strcmp(u, "ns/op") == 0 || strcmp(u, "MB/s") == 0 || strcmp(u, "B/op") == 0 ||
	       strcmp(u, "allocs/op") == 0;
}

static int cmp_metric(const void *a, const void *b)
{
	return strcmp((*(const struct bench_metric *const *)a)->unit, (*(const struct bench_metric *const *)b)->unit);
}

void cprof__bench_format_result(const struct bench_result *r, char *buf, size_t size)
{
	struct out o = {buf, size, 0};
	buf[0] = 0;
	put(&o, "%8ld", r->n);
	double ns = cprof__bench_ns_per_op(r);
	if (ns != 0) {
		put(&o, "\t");
		pretty(&o, ns, "ns/op");
	}
	double mbs = cprof__bench_mb_per_s(r);
	if (mbs != 0)
		put(&o, "\t%7.2f MB/s", mbs);
	const struct bench_metric **keys = NULL;
	size_t nk = 0;
	if (r->nextra)
		keys = malloc(r->nextra * sizeof *keys);
	if (keys) {
		for (size_t i = 0; i < r->nextra; i++)
			if (!builtin_unit(r->extra[i].unit))
				keys[nk++] = &r->extra[i];
		qsort(keys, nk, sizeof *keys, cmp_metric);
		for (size_t i = 0; i < nk; i++) {
			put(&o, "\t");
			pretty(&o, keys[i]->value, keys[i]->unit);
		}
		free(keys);
	}
	if (r->show_mem)
		put(&o, "\t%8lld B/op\t%8lld allocs/op", (long long)cprof__bench_bytes_per_op(r),
		    (long long)cprof__bench_allocs_per_op(r));
}

/* Go's GOARCH for this machine's uname -m. */
static const char *goarch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#else
	static struct utsname u;
	return uname(&u) == 0 ? u.machine : "unknown";
#endif
}

static const char *goos(void)
{
#if defined(__linux__)
	return "linux";
#elif defined(__FreeBSD__)
	return "freebsd";
#elif defined(__APPLE__)
	return "darwin";
#else
	return "unknown";
#endif
}

/* The CPU's name as Go's internal/sysinfo gives it: the brand string, which
 * Linux shows as /proc/cpuinfo's "model name" (other architectures: the
 * first of "model name", "cpu model", "Model"). Empty when unknown. */
static void cpu_name(char *out, size_t size)
{
	out[0] = 0;
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10) != 0 && strncmp(line, "cpu model", 9) != 0 &&
		    strncmp(line, "Model", 5) != 0)
			continue;
		char *c = strchr(line, ':');
		if (!c)
			continue;
		c++;
		while (*c == ' ' || *c == '\t')
			c++;
		size_t n = strlen(c);
		while (n && (c[n - 1] == '\n' || c[n - 1] == ' ' || c[n - 1] == '\t'))
			c[--n] = 0;
		snprintf(out, size, "%s", c);
		break;
	}
	fclose(f);
}

void cprof__bench_print_labels(FILE *f, const char *pkg)
{
	char cpu[256];
	cpu_name(cpu, sizeof cpu);
	fprintf(f, "goos: %s\ngoarch: %s\n", goos(), goarch());
	if (pkg && *pkg)
		fprintf(f, "pkg: %s\n", pkg);
	if (cpu[0])
		fprintf(f, "cpu: %s\n", cpu);
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A JSON number: shortest "%.17g" that reads back the same; non-finite
 * values have no JSON form and are written as null. */
static void json_num(FILE *f, double v)
{
	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	char b[40];
	for (int p = 1; p <= 17; p++) {
		snprintf(b, sizeof b, "%.*g", p, v);
		if (strtod(b, NULL) == v)
			break;
	}
	fputs(b, f);
}

void cprof__bench_json_config(FILE *f, const char *pkg)
{
	char cpu[256];
	cpu_name(cpu, sizeof cpu);
	fputs("{\"type\":\"config\",\"goos\":", f);
	json_str(f, goos(), strlen(goos()));
	fputs(",\"goarch\":", f);
	json_str(f, goarch(), strlen(goarch()));
	fputs(",\"pkg\":", f);
	json_str(f, pkg ? pkg : "", pkg ? strlen(pkg) : 0);
	fputs(",\"cpu\":", f);
	json_str(f, cpu, strlen(cpu));
	fputs("}\n", f);
}

void cprof__bench_json_result(FILE *f, const char *name, const char *base, int procs, long run,
			      const struct bench_result *r, const char *log, size_t loglen)
{
	fputs("{\"type\":\"result\",\"name\":", f);
	json_str(f, name, strlen(name));
	fputs(",\"base\":", f);
	json_str(f, base, strlen(base));
	fprintf(f, ",\"procs\":%d,\"run\":%ld,\"n\":%ld,\"ns\":%lld,\"ns_per_op\":", procs, run, r->n,
		(long long)r->t_ns);
	json_num(f, cprof__bench_ns_per_op(r));
	double mbs = cprof__bench_mb_per_s(r);
	if (mbs != 0) {
		fputs(",\"mb_per_s\":", f);
		json_num(f, mbs);
	}
	if (r->show_mem)
		fprintf(f, ",\"bytes_per_op\":%lld,\"allocs_per_op\":%lld", (long long)cprof__bench_bytes_per_op(r),
			(long long)cprof__bench_allocs_per_op(r));
	fputs(",\"metrics\":{", f);
	for (size_t i = 0; i < r->nextra; i++) {
		if (i)
			fputc(',', f);
		json_str(f, r->extra[i].unit, strlen(r->extra[i].unit));
		fputc(':', f);
		json_num(f, r->extra[i].value);
	}
	fputc('}', f);
	if (loglen) {
		fputs(",\"log\":", f);
		json_str(f, log, loglen);
	}
	fputs("}\n", f);
}

void cprof__bench_json_event(FILE *f, const char *type, const char *name, const char *log, size_t loglen)
{
	fputs("{\"type\":", f);
	json_str(f, type, strlen(type));
	fputs(",\"name\":", f);
	json_str(f, name, strlen(name));
	fputs(",\"log\":", f);
	json_str(f, log ? log : "", log ? loglen : 0);
	fputs("}\n", f);
}

void cprof__bench_json_end(FILE *f, int pass, double seconds)
{
	fprintf(f, "{\"type\":\"end\",\"pass\":%s,\"seconds\":", pass ? "true" : "false");
	json_num(f, seconds);
	fputs("}\n", f);
}
