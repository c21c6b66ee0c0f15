/*
 * textfmt.c - Go's legacy text formats (the debug=1 forms of
 * /debug/pprof/<name>), rendered from a profile built by one of the
 * runtime's profilers: the heap profile ("heap profile: ..."), the
 * contention profiles ("--- contention:" / "--- mutex:") and count profiles
 * ("threadcreate profile: total N"). Each record lists its stack as return
 * addresses ("@ 0x...") followed by one "#" line per frame, as
 * runtime/pprof's printStackRecord does, so both people and pprof's legacy
 * parsers read it; the process's memory map follows, as gperftools' text
 * profiles end, so that those parsers know the mappings.
 *
 * It reads profiles; it does not build them (prof_*.c) and does not know
 * about HTTP (http.c). Thread context; allocates freely.
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "proto/profile.h"
#include "runtime/rt.h"

/* Function entry offsets for "#" lines: libdwfl over this process's modules. */
struct offsets {
	Dwfl *dwfl;
};

static char *debuginfo_path;
static const Dwfl_Callbacks proc_cb = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static void offsets_begin(struct offsets *o)
{
	o->dwfl = dwfl_begin(&proc_cb);
	if (!o->dwfl)
		return;
	dwfl_report_begin(o->dwfl);
	if (dwfl_linux_proc_report(o->dwfl, getpid()) != 0 || dwfl_report_end(o->dwfl, NULL, NULL) != 0) {
		dwfl_end(o->dwfl);
		o->dwfl = NULL;
	}
}

static void offsets_end(struct offsets *o)
{
	if (o->dwfl)
		dwfl_end(o->dwfl);
}

/* Offset of pc from the start of its ELF symbol; false when unknown. */
static bool offset_of(struct offsets *o, uint64_t pc, uint64_t *off)
{
	if (!o->dwfl || !pc)
		return false;
	Dwfl_Module *mod = dwfl_addrmodule(o->dwfl, pc);
	GElf_Off so;
	GElf_Sym sym;
	if (!mod || !dwfl_module_addrinfo(mod, pc, &so, &sym, NULL, NULL, NULL))
		return false;
	*off = so;
	return true;
}

/* Go's %q for ASCII text: quotes, backslash escapes, \x for the rest. */
static void put_quoted(struct buf *b, const char *s)
{
	cprof__buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			cprof__buf_printf(b, "\\%c", c);
		else if (c == '\n')
			cprof__buf_puts(b, "\\n");
		else if (c == '\t')
			cprof__buf_puts(b, "\\t");
		else if (c < 0x20 || c >= 0x7f)
			cprof__buf_printf(b, "\\x%02x", c);
		else
			cprof__buf_putc(b, c);
	}
	cprof__buf_putc(b, '"');
}

/* " 0x..." for every location with an address: return addresses, as Go lists them. */
static void put_addrs(struct buf *b, const struct profile *p, const struct pp_sample *s)
{
	cprof__buf_putc(b, '@');
	for (size_t i = 0; i < s->nlocation; i++) {
		const struct pp_location *l = cprof__profile_location(p, s->location_id[i]);
		if (!l || !l->address)
			continue;
		/* Locations name the call instruction; the stack held the address after it. */
		cprof__buf_printf(b, " %#" PRIx64, l->address + 1);
	}
}

/* "# labels: {"k":"v", ...}" for the string labels, keys sorted. */
static int cmp_label_key(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	return strcmp(x[0], y[0]);
}

static void put_labels(struct buf *b, const struct profile *p, const struct pp_sample *s)
{
	const char *kv[2 * 64];
	size_t n = 0;
	for (size_t i = 0; i < s->nlabel && n < 64; i++) {
		if (!s->label[i].str)
			continue;
		kv[2 * n] = cprof__profile_str(p, s->label[i].key);
		kv[2 * n + 1] = cprof__profile_str(p, s->label[i].str);
		n++;
	}
	if (n == 0)
		return;
	qsort(kv, n, 2 * sizeof kv[0], cmp_label_key);
	cprof__buf_puts(b, "\n# labels: {");
	for (size_t i = 0; i < n; i++) {
		if (i)
			cprof__buf_puts(b, ", ");
		put_quoted(b, kv[2 * i]);
		cprof__buf_putc(b, ':');
		put_quoted(b, kv[2 * i + 1]);
	}
	cprof__buf_putc(b, '}');
}

/* One "#" line per frame, inlined frames first, then a blank line. */
static void put_frames(struct buf *b, struct offsets *o, const struct profile *p, const struct pp_sample *s)
{
	for (size_t i = 0; i < s->nlocation; i++) {
		const struct pp_location *l = cprof__profile_location(p, s->location_id[i]);
		if (!l)
			continue;
		if (l->nline == 0) {
			cprof__buf_printf(b, "#\t%#" PRIx64 "\n", l->address);
			continue;
		}
		uint64_t off = 0;
		bool have_off = offset_of(o, l->address, &off);
		for (size_t k = 0; k < l->nline; k++) {
			const struct pp_function *f = cprof__profile_function(p, l->line[k].function_id);
			const char *name = f ? cprof__profile_str(p, f->name) : "";
			const char *file = f ? cprof__profile_str(p, f->filename) : "";
			cprof__buf_printf(b, "#\t%#" PRIx64 "\t%s", l->address, name);
			if (have_off)
				cprof__buf_printf(b, "+%#" PRIx64, off);
			if (*file || l->line[k].line)
				cprof__buf_printf(b, "\t%s:%" PRId64, file, l->line[k].line);
			cprof__buf_putc(b, '\n');
		}
	}
	cprof__buf_putc(b, '\n');
}

/* Index of the sample type called type, or -1. */
static int type_index(const struct profile *p, const char *type)
{
	for (size_t i = 0; i < p->nsample_type; i++)
		if (strcmp(cprof__profile_str(p, p->sample_type[i].type), type) == 0)
			return (int)i;
	return -1;
}

static int64_t value(const struct pp_sample *s, int i)
{
	return i >= 0 && (size_t)i < s->nvalue ? s->value[i] : 0;
}

/* Samples sorted by a key value, descending (then by position: stable). */
struct order_ctx {
	const struct profile *p;
	int vi;
};

static int cmp_desc(const void *a, const void *b, void *arg)
{
	const struct order_ctx *o = arg;
	const struct pp_sample *x = &o->p->sample[*(const size_t *)a];
	const struct pp_sample *y = &o->p->sample[*(const size_t *)b];
	int64_t vx = value(x, o->vi), vy = value(y, o->vi);
	if (vx != vy)
		return vx > vy ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* The context is the caller's (qsort_r): no lock that a fork child could inherit held. */
static size_t *order_by(const struct profile *p, int vi)
{
	size_t *ix = malloc((p->nsample + 1) * sizeof *ix);
	if (!ix)
		return NULL;
	for (size_t i = 0; i < p->nsample; i++)
		ix[i] = i;
	struct order_ctx o = {p, vi};
	qsort_r(ix, p->nsample, sizeof *ix, cmp_desc, &o);
	return ix;
}

static int heap_text(const struct profile *p, struct buf *b, struct offsets *o)
{
	int ao = type_index(p, "alloc_objects"), as = type_index(p, "alloc_space");
	int io = type_index(p, "inuse_objects"), is = type_index(p, "inuse_space");
	int64_t t[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < p->nsample; i++) {
		t[0] += value(&p->sample[i], io);
		t[1] += value(&p->sample[i], is);
		t[2] += value(&p->sample[i], ao);
		t[3] += value(&p->sample[i], as);
	}
	/* Equal columns would read as a profile without allocation totals. */
	if (t[2] == t[0] && t[3] == t[1] && t[1] != 0)
		t[3]++;
	/*
	 * The values are already estimates of all allocations (scaled from the
	 * samples), so the header's rate is heap/2: pprof's legacy reader
	 * halves it and scales nothing at a rate of 1.
	 */
	cprof__buf_printf(b, "heap profile: %" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] @ heap/2\n",
			  t[0], t[1], t[2], t[3]);
	size_t *ix = order_by(p, is);
	if (!ix)
		return -ENOMEM;
	for (size_t k = 0; k < p->nsample; k++) {
		const struct pp_sample *s = &p->sample[ix[k]];
		cprof__buf_printf(b, "%" PRId64 ": %" PRId64 " [%" PRId64 ": %" PRId64 "] ", value(s, io),
				  value(s, is), value(s, ao), value(s, as));
		put_addrs(b, p, s);
		cprof__buf_putc(b, '\n');
		put_frames(b, o, p, s);
	}
	free(ix);
	if (p->period > 0)
		cprof__buf_printf(b, "# cprof: values are estimates from allocations sampled every %" PRId64
				  " bytes on average\n", p->period);
	return 0;
}

static int contention_text(const char *name, const struct profile *p, struct buf *b, struct offsets *o)
{
	int ci = type_index(p, "contentions"), di = type_index(p, "delay");
	if (ci < 0)
		ci = 0;
	if (di < 0)
		di = p->nsample_type > 1 ? 1 : 0;
	/* Delays are nanoseconds: one cycle per nanosecond keeps them exact. */
	cprof__buf_printf(b, "--- %s:\ncycles/second=1000000000\n",
			  strcmp(name, "mutex") == 0 ? "mutex" : "contention");
	/* Counts and delays are already scaled to all events: nothing to multiply. */
	if (strcmp(name, "mutex") == 0)
		cprof__buf_puts(b, "sampling period=1\n");
	size_t *ix = order_by(p, di);
	if (!ix)
		return -ENOMEM;
	for (size_t k = 0; k < p->nsample; k++) {
		const struct pp_sample *s = &p->sample[ix[k]];
		cprof__buf_printf(b, "%" PRId64 " %" PRId64 " ", value(s, di), value(s, ci));
		put_addrs(b, p, s);
		cprof__buf_putc(b, '\n');
		put_frames(b, o, p, s);
	}
	free(ix);
	return 0;
}

static int count_text(const char *name, const struct profile *p, struct buf *b, struct offsets *o)
{
	int64_t total = 0;
	for (size_t i = 0; i < p->nsample; i++)
		total += value(&p->sample[i], 0);
	cprof__buf_printf(b, "%s profile: total %" PRId64 "\n", name, total);
	size_t *ix = order_by(p, 0);
	if (!ix)
		return -ENOMEM;
	for (size_t k = 0; k < p->nsample; k++) {
		const struct pp_sample *s = &p->sample[ix[k]];
		cprof__buf_printf(b, "%" PRId64 " ", value(s, 0));
		put_addrs(b, p, s);
		put_labels(b, p, s);
		cprof__buf_putc(b, '\n');
		put_frames(b, o, p, s);
	}
	free(ix);
	return 0;
}

/*
 * The process's memory map after the records, under the sentinel pprof's
 * legacy parsers stop at ("--- Memory map: ---", as gperftools writes it),
 * so a reader gets the mappings and can symbolize from the binaries.
 */
static void put_maps(struct buf *b)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	cprof__buf_puts(b, "--- Memory map: ---\n");
	char chunk[8192];
	ssize_t r;
	size_t n = 0;
	while ((r = read(fd, chunk, sizeof chunk)) > 0 && n < (8u << 20)) {
		cprof__buf_append(b, chunk, (size_t)r);
		n += (size_t)r;
	}
	close(fd);
}

int cprof__lookup_text(const char *name, struct profile *p, struct buf *b)
{
	struct offsets o;
	offsets_begin(&o);
	int rc;
	if (strcmp(name, "heap") == 0 || strcmp(name, "allocs") == 0 || type_index(p, "inuse_space") >= 0)
		rc = heap_text(p, b, &o);
	else if (strcmp(name, "block") == 0 || strcmp(name, "mutex") == 0 || type_index(p, "contentions") >= 0)
		rc = contention_text(name, p, b, &o);
	else
		rc = count_text(name, p, b, &o);
	offsets_end(&o);
	if (rc == 0)
		put_maps(b);
	return rc ? rc : b->err;
}
