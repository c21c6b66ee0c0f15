/*
 * weblist.c - the -weblist=RE report (pprof's printWebSource): an HTML page
 * with the annotated source of every function matching RE that has samples,
 * where each source line with instructions expands, on a click, to those
 * instructions with their own flat and cum values.
 *
 * It owns pprof's sourcePrinter as it runs on the binaries cprof profiles:
 * the per-address sample sums, the functions of interest (name, system
 * name, file or mapping file matching RE, or the address RE spells), the
 * address ranges disassembled around the samples (500 bytes either side,
 * 25 ranges at most), each instruction's file and line from the binary's
 * DWARF line table and its function from the outermost DW_TAG_subprogram
 * (as go tool pprof's objTool reads C binaries: no inline frames), the
 * grouping of lines into per-function blocks, and the page's own markup,
 * style and toggle script. Locations in a file that cannot be opened get
 * the profile's own frames and no instructions. Instructions are binutils'
 * objdump output (-tools, $PPROF_TOOLS, -intel_syntax); a PIE or shared
 * object is placed back through its mapping, which go tool pprof does not
 * do (docs/pprof-differences.md).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/report/report.h"
#include "common/path.h"

/* ---- small containers ---- */

/* uint64 -> index map (open addressing, index + 1 stored). */
struct amap {
	uint64_t *key;
	size_t *val;
	size_t cap, n;
};

static size_t amap_slot(const struct amap *m, uint64_t k)
{
	size_t j = (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 17) & (m->cap - 1);
	while (m->val[j] && m->key[j] != k)
		j = (j + 1) & (m->cap - 1);
	return j;
}

static size_t amap_get(const struct amap *m, uint64_t k)
{
	if (!m->cap)
		return SIZE_MAX;
	size_t j = amap_slot(m, k);
	return m->val[j] ? m->val[j] - 1 : SIZE_MAX;
}

static int amap_put(struct amap *m, uint64_t k, size_t v)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct amap g = {0};
		g.cap = m->cap ? m->cap * 2 : 256;
		g.key = calloc(g.cap, sizeof(*g.key));
		g.val = calloc(g.cap, sizeof(*g.val));
		if (!g.key || !g.val) {
			free(g.key);
			free(g.val);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->val[i]) {
				size_t j = amap_slot(&g, m->key[i]);
				g.key[j] = m->key[i];
				g.val[j] = m->val[i];
			}
		g.n = m->n;
		free(m->key);
		free(m->val);
		*m = g;
	}
	size_t j = amap_slot(m, k);
	if (!m->val[j])
		m->n++;
	m->key[j] = k;
	m->val[j] = v + 1;
	return 0;
}

static void amap_free(struct amap *m)
{
	free(m->key);
	free(m->val);
}

/* A set of strings (not owned), and name -> pretty name pairs. */
struct sset {
	const char **k;
	const char **v;
	size_t n, cap;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = cprof__report_fnv(s, strlen(s), REPORT_FNV_BASIS);
	return h ^ (h >> 31);
}

static size_t sset_slot(const struct sset *s, const char *k)
{
	size_t j = (size_t)str_hash(k) & (s->cap - 1);
	while (s->k[j] && strcmp(s->k[j], k) != 0)
		j = (j + 1) & (s->cap - 1);
	return j;
}

static const char **sset_find(const struct sset *s, const char *k)
{
	if (!s->cap)
		return NULL;
	size_t j = sset_slot(s, k);
	return s->k[j] ? &s->v[j] : NULL;
}

static int sset_put(struct sset *s, const char *k, const char *v)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct sset g = {0};
		g.cap = s->cap ? s->cap * 2 : 64;
		g.k = calloc(g.cap, sizeof(*g.k));
		g.v = calloc(g.cap, sizeof(*g.v));
		if (!g.k || !g.v) {
			free(g.k);
			free(g.v);
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->cap; i++)
			if (s->k[i]) {
				size_t j = sset_slot(&g, s->k[i]);
				g.k[j] = s->k[i];
				g.v[j] = s->v[i];
			}
		g.n = s->n;
		free(s->k);
		free(s->v);
		*s = g;
	}
	size_t j = sset_slot(s, k);
	if (!s->k[j])
		s->n++;
	s->k[j] = k;
	s->v[j] = v;
	return 0;
}

static void sset_free(struct sset *s)
{
	free(s->k);
	free(s->v);
}

/* ---- source files (pprof's sourceReader; lookup in list.c) ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

/* ---- object files: ELF, DWARF lines, objdump ---- */

struct obj {
	char *file;
	int fd;
	Elf *elf;
	Dwarf *dw;
	bool ok, dyn;
	uint64_t bias;   /* ET_DYN: profile address - bias = file address */
	uint64_t offset; /* ET_EXEC: go tool pprof's mapping start - load address */
	uint64_t text_lo, text_hi;
};

static void obj_open(struct obj *o, const struct pp_mapping *m, const char *file)
{
	o->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (o->fd < 0)
		return;
	elf_version(EV_CURRENT);
	o->elf = elf_begin(o->fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF || !gelf_getehdr(o->elf, &eh))
		return;
	o->ok = true;
	o->dyn = eh.e_type == ET_DYN;
	size_t nph = 0;
	elf_getphdrnum(o->elf, &nph);
	bool have_load = false;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(o->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (o->dyn && m->file_offset >= ph.p_offset &&
		    m->file_offset < ph.p_offset + ph.p_memsz)
			o->bias = m->memory_start - (ph.p_vaddr + (m->file_offset - ph.p_offset));
		if (!have_load && (ph.p_flags & PF_X)) {
			have_load = true;
			if (m->memory_start != 0)
				o->offset = m->memory_start - ph.p_vaddr;
		}
	}
	size_t shstrndx;
	elf_getshdrstrndx(o->elf, &shstrndx);
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(o->elf, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *nm = elf_strptr(o->elf, shstrndx, sh.sh_name);
		if (nm && strcmp(nm, ".text") == 0) {
			o->text_lo = sh.sh_addr;
			o->text_hi = sh.sh_addr + sh.sh_size;
		}
	}
	o->dw = dwarf_begin_elf(o->elf, DWARF_C_READ, NULL);
}

static void obj_close(struct obj *o)
{
	if (o->dw)
		dwarf_end(o->dw);
	if (o->elf)
		elf_end(o->elf);
	if (o->fd >= 0)
		close(o->fd);
	free(o->file);
}

/* The first DW_TAG_subprogram (depth first) with a DW_AT_name of its own covering a. */
static const char *subprogram_name(Dwarf_Die *die, Dwarf_Addr a)
{
	Dwarf_Die child;
	if (dwarf_child(die, &child) != 0)
		return NULL;
	do {
		if (dwarf_tag(&child) == DW_TAG_subprogram && dwarf_haspc(&child, a) == 1) {
			Dwarf_Attribute at;
			const char *n = dwarf_attr(&child, DW_AT_name, &at) ? dwarf_formstring(&at) : NULL;
			if (n)
				return n;
		}
		const char *n = subprogram_name(&child, a);
		if (n)
			return n;
	} while (dwarf_siblingof(&child, &child) == 0);
	return NULL;
}

struct frame {
	const char *func; /* not owned */
	const char *file;
	int64_t line;
};

/* objTool.SourceLine of a C binary: one frame from DWARF, false when there is none. */
static bool source_line(const struct obj *o, uint64_t addr, struct frame *fr)
{
	if (!o->dw)
		return false;
	Dwarf_Addr a = o->dyn ? addr - o->bias : addr - o->offset;
	Dwarf_Die cu;
	if (!dwarf_addrdie(o->dw, a, &cu))
		return false;
	Dwarf_Line *l = dwarf_getsrc_die(&cu, a);
	int ln = 0;
	if (!l || dwarf_lineno(l, &ln) != 0)
		return false;
	const char *src = dwarf_linesrc(l, NULL, NULL);
	const char *name = subprogram_name(&cu, a);
	fr->func = name ? name : "";
	fr->file = src ? src : "";
	fr->line = ln;
	return true;
}



/* ---- the source printer ---- */

struct callid {
	const char *file;
	int64_t line;
};

struct winst {             /* instructionInfo */
	uint64_t addr, obj_addr;
	uint64_t length;
	char *disasm;          /* NULL: synthesized (no object file) */
	const char *file;
	int64_t line;
	int64_t flat, cum;
};

struct sinst {             /* sourceInst: an instruction under a line */
	int64_t line;
	const char *func;      /* the frame's function (first per line names the line) */
	size_t inst;           /* index in insts */
	struct callid *stack;
	size_t nstack;
	size_t seq;
};

struct sfile {
	char *fname;
	struct sinst *v;
	size_t n, cap;
};

struct addrinfo {
	uint64_t addr;
	int64_t flat, cum;
	const struct pp_location *loc; /* first interesting location at addr, or NULL */
	struct obj *obj;
};

struct printer {
	const struct report *r;
	struct addrinfo *a;
	size_t na, capa;
	struct amap amap;          /* address -> a[] */
	struct winst *in;
	size_t nin, capin;
	struct amap imap;          /* address -> in[] */
	struct sfile *files;
	size_t nfiles;
	struct obj *objs;
	size_t nobjs;
	struct sset interest;
	struct sset pretty;
	size_t seq;
};

static struct addrinfo *addr_info(struct printer *sp, uint64_t addr)
{
	size_t i = amap_get(&sp->amap, addr);
	if (i != SIZE_MAX)
		return &sp->a[i];
	if (sp->na == sp->capa) {
		size_t c = sp->capa ? sp->capa * 2 : 256;
		struct addrinfo *n = realloc(sp->a, c * sizeof(*n));
		if (!n)
			return NULL;
		sp->a = n;
		sp->capa = c;
	}
	if (amap_put(&sp->amap, addr, sp->na) < 0)
		return NULL;
	struct addrinfo *ai = &sp->a[sp->na++];
	memset(ai, 0, sizeof(*ai));
	ai->addr = addr;
	return ai;
}

static struct obj *object_file(struct printer *sp, const struct pp_mapping *m)
{
	if (!m)
		return NULL;
	const char *file = cprof__profile_str(sp->r->prof, m->filename);
	for (size_t i = 0; i < sp->nobjs; i++)
		if (strcmp(sp->objs[i].file, file) == 0)
			return sp->objs[i].ok ? &sp->objs[i] : NULL;
	struct obj *o = &sp->objs[sp->nobjs];
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!(o->file = strdup(file)))
		return NULL;
	sp->nobjs++;
	if (file[0] && file[0] != '[')
		obj_open(o, m, file);
	return o->ok ? o : NULL;
}

static struct winst *add_inst(struct printer *sp, uint64_t addr)
{
	if (sp->nin == sp->capin) {
		size_t c = sp->capin ? sp->capin * 2 : 256;
		struct winst *n = realloc(sp->in, c * sizeof(*n));
		if (!n)
			return NULL;
		sp->in = n;
		sp->capin = c;
	}
	if (amap_put(&sp->imap, addr, sp->nin) < 0)
		return NULL;
	struct winst *w = &sp->in[sp->nin++];
	memset(w, 0, sizeof(*w));
	w->addr = addr;
	return w;
}

/* canonicalizeFileName */
static char *canonical(const char *f)
{
	if (strncmp(f, "/proc/self/cwd/", 15) == 0)
		f += 15;
	if (strncmp(f, "./", 2) == 0)
		f += 2;
	return cprof__path_clean(f);
}

/* sourcePrinter.addStack: frames innermost first. */
static int add_stack(struct printer *sp, size_t inst, const struct frame *fr, size_t nfr)
{
	for (size_t i = 0; i < nfr; i++) {
		if (!sset_find(&sp->interest, fr[i].func))
			continue;
		char *fname = canonical(fr[i].file);
		if (!fname)
			return -ENOMEM;
		struct sfile *f = NULL;
		for (size_t k = 0; k < sp->nfiles && !f; k++)
			if (strcmp(sp->files[k].fname, fname) == 0)
				f = &sp->files[k];
		if (f) {
			free(fname);
		} else {
			struct sfile *nf = realloc(sp->files, (sp->nfiles + 1) * sizeof(*nf));
			if (!nf) {
				free(fname);
				return -ENOMEM;
			}
			sp->files = nf;
			f = &sp->files[sp->nfiles++];
			memset(f, 0, sizeof(*f));
			f->fname = fname;
		}
		if (f->n == f->cap) {
			size_t c = f->cap ? f->cap * 2 : 64;
			struct sinst *nv = realloc(f->v, c * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			f->v = nv;
			f->cap = c;
		}
		struct sinst *s = &f->v[f->n];
		memset(s, 0, sizeof(*s));
		s->line = fr[i].line;
		s->func = fr[i].func;
		s->inst = inst;
		s->seq = sp->seq++;
		if (i > 0) {
			s->stack = calloc(i, sizeof(*s->stack));
			if (!s->stack)
				return -ENOMEM;
			for (size_t j = 0; j < i; j++) /* callers first */
				s->stack[j] = (struct callid){fr[i - 1 - j].file, fr[i - 1 - j].line};
			s->nstack = i;
		}
		f->n++;
	}
	return 0;
}

struct range {
	uint64_t begin, end;
	struct obj *obj;
	const struct pp_mapping *m;
	int64_t score;
	size_t order;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* sourcePrinter.expandAddresses, handleUnprocessed and initSamples. */
static int expand(struct printer *sp)
{
	const struct profile *p = sp->r->prof;
	uint64_t *addrs = calloc(sp->na + 1, sizeof(*addrs));
	struct range *rg = calloc(sp->na + 1, sizeof(*rg));
	if (!addrs || !rg) {
		free(addrs);
		free(rg);
		return -ENOMEM;
	}
	size_t n = 0, nr = 0;
	for (size_t i = 0; i < sp->na; i++)
		if (sp->a[i].loc && sp->a[i].obj)
			addrs[n++] = sp->a[i].addr;
	qsort(addrs, n, sizeof(*addrs), cmp_u64);
	const uint64_t ex = 500;
	for (size_t i = 0; i < n;) {
		uint64_t begin = addrs[i], end = addrs[i];
		const struct addrinfo *ai = &sp->a[amap_get(&sp->amap, begin)];
		int64_t sum = ai->flat;
		i++;
		const struct pp_mapping *m = cprof__profile_mapping(p, ai->loc->mapping_id);
		while (i < n && addrs[i] <= end + 2 * ex && addrs[i] < m->memory_limit) {
			end = addrs[i];
			sum += sp->a[amap_get(&sp->amap, end)].flat;
			i++;
		}
		begin = m->memory_start - begin >= ex ? begin - ex : m->memory_start;
		end = m->memory_limit - end >= ex ? end + ex : m->memory_limit;
		rg[nr] = (struct range){begin, end, ai->obj, m, sum, nr};
		nr++;
	}
	free(addrs);
	qsort(rg, nr, sizeof(*rg), cmp_range);
	if (nr > 25)
		nr = 25;
	int rc = 0;
	for (size_t k = 0; k < nr && rc == 0; k++) {
		struct obj *o = rg[k].obj;
		uint64_t base = o->dyn ? o->bias : 0;
		uint64_t lo = rg[k].begin - base, hi = rg[k].end - base;
		if (lo < o->text_lo)
			lo = o->text_lo;
		if (hi > o->text_hi)
			hi = o->text_hi;
		if (lo >= hi)
			continue;
		struct report_inst *in = NULL;
		size_t nin = 0;
		char oerr[512];
		rc = cprof__report_objdump(&sp->r->opt, o->file, lo, hi, &in, &nin, oerr, sizeof(oerr));
		if (rc == -EINVAL) {
			/* A failing or missing objdump gives no instructions, as in pprof. */
			cprof__report_insts_free(in, nin);
			in = NULL;
			nin = 0;
			rc = 0;
		}
		struct frame last = {0};
		bool have_last = false;
		uint64_t last_addr = 0, max_addr = 0;
		for (size_t i = 0; i < nin && rc == 0; i++) {
			uint64_t addr = in[i].addr + base;
			if (addr <= max_addr)
				continue;
			max_addr = addr;
			uint64_t length = 1;
			if (i + 1 < nin && in[i + 1].addr > in[i].addr)
				length = in[i + 1].addr - in[i].addr;
			struct frame fr = {"", "", 0};
			source_line(o, addr, &fr);
			struct winst *w = amap_get(&sp->imap, addr) == SIZE_MAX ? add_inst(sp, addr)
				: &sp->in[amap_get(&sp->imap, addr)];
			if (!w) {
				rc = -ENOMEM;
				break;
			}
			free(w->disasm);
			w->obj_addr = in[i].addr;
			w->length = length;
			w->disasm = in[i].text;
			in[i].text = NULL;
			w->file = fr.file;
			w->line = fr.line;
			if (fr.line != 0) {
				last = fr;
				have_last = true;
				last_addr = addr;
			} else if (addr - last_addr <= 32 && have_last) {
				fr = last;
			}
			rc = add_stack(sp, (size_t)(w - sp->in), &fr, 1);
		}
		for (size_t i = 0; i < nin; i++)
			free(in[i].text);
		free(in);
	}
	free(rg);
	/* Addresses without an object file: the profile's frames, no instruction. */
	for (size_t i = 0; i < sp->na && rc == 0; i++) {
		const struct addrinfo *ai = &sp->a[i];
		if (!ai->loc || ai->obj)
			continue;
		struct frame *fr = calloc(ai->loc->nline + 1, sizeof(*fr));
		if (!fr)
			return -ENOMEM;
		size_t nf = 0;
		for (size_t j = 0; j < ai->loc->nline; j++) {
			const struct pp_function *fn = cprof__profile_function(p, ai->loc->line[j].function_id);
			if (!fn)
				continue;
			fr[nf++] = (struct frame){cprof__profile_str(p, fn->name),
						  cprof__profile_str(p, fn->filename), ai->loc->line[j].line};
		}
		struct winst *w = add_inst(sp, ai->addr);
		if (!w) {
			free(fr);
			return -ENOMEM;
		}
		w->obj_addr = ai->addr;
		w->length = 1;
		if (nf) {
			w->file = fr[0].file;
			w->line = fr[0].line;
		}
		rc = add_stack(sp, (size_t)(w - sp->in), fr, nf);
		free(fr);
	}
	/* Samples inside an instruction count at its start. */
	for (size_t i = 0; i < sp->nin; i++)
		for (uint64_t a = sp->in[i].addr; a < sp->in[i].addr + sp->in[i].length; a++) {
			size_t j = amap_get(&sp->amap, a);
			if (j != SIZE_MAX) {
				sp->in[i].flat += sp->a[j].flat;
				sp->in[i].cum += sp->a[j].cum;
			}
		}
	return rc;
}

/* newSourcePrinter's pass over the samples. */
static int collect(struct printer *sp, const regex_t *re)
{
	const struct profile *p = sp->r->prof;
	const struct report *r = sp->r;
	uint64_t address = 0, synth = 1;
	bool have_addr = cprof__report_parse_address(r->opt.symbol, &address);
	for (size_t i = 0; i < p->nmapping; i++)
		if (synth < p->mapping[i].memory_limit)
			synth = p->mapping[i].memory_limit;
	uint64_t *synth_of = calloc(p->nlocation + 1, sizeof(*synth_of));
	if (!synth_of)
		return -ENOMEM;
	for (size_t s = 0; s < p->nsample; s++) {
		const struct pp_sample *sm = &p->sample[s];
		int64_t value = sm->value[r->value_index];
		if (r->opt.mean && sm->value[0] != 0)
			value /= sm->value[0];
		for (size_t i = sm->nlocation; i-- > 0;) {
			const struct pp_location *loc = cprof__profile_location(p, sm->location_id[i]);
			if (!loc)
				continue;
			for (size_t j = 0; j < loc->nline; j++) {
				const struct pp_function *fn =
					cprof__profile_function(p, loc->line[j].function_id);
				if (fn && sset_put(&sp->pretty, cprof__profile_str(p, fn->system_name),
						   cprof__profile_str(p, fn->name)) < 0)
					goto nomem;
			}
			uint64_t addr = loc->address;
			if (!addr) {
				size_t li = (size_t)(loc - p->location);
				if (!synth_of[li])
					synth_of[li] = synth++;
				addr = synth_of[li];
			}
			struct addrinfo *ai = addr_info(sp, addr);
			if (!ai)
				goto nomem;
			ai->cum += value;
			if (i == 0)
				ai->flat += value;
			const struct pp_mapping *m =
				loc->mapping_id ? cprof__profile_mapping(p, loc->mapping_id) : NULL;
			bool exact = have_addr && addr == address;
			bool match_file = m && regexec(re, cprof__profile_str(p, m->filename), 0, NULL, 0) == 0;
			for (size_t j = 0; j < loc->nline; j++) {
				if (exact && j + 1 != loc->nline)
					continue;
				const struct pp_function *fn =
					cprof__profile_function(p, loc->line[j].function_id);
				bool hit = exact || (j == 0 && match_file);
				if (!hit && fn)
					hit = regexec(re, cprof__profile_str(p, fn->name), 0, NULL, 0) == 0 ||
					      regexec(re, cprof__profile_str(p, fn->system_name), 0, NULL, 0) == 0 ||
					      regexec(re, cprof__profile_str(p, fn->filename), 0, NULL, 0) == 0;
				if (!hit || !fn)
					continue;
				const char *nm = cprof__profile_str(p, fn->name);
				const char *sys = cprof__profile_str(p, fn->system_name);
				if (sset_put(&sp->interest, nm, nm) < 0 || sset_put(&sp->interest, sys, sys) < 0)
					goto nomem;
				ai = addr_info(sp, addr); /* addr_info may have moved the array */
				if (!ai->loc) {
					ai->loc = loc;
					ai->obj = object_file(sp, m);
				}
			}
		}
	}
	free(synth_of);
	return 0;
nomem:
	free(synth_of);
	return -ENOMEM;
}

/* ---- HTML ---- */

static void html_escape(FILE *out, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&#34;", out); break;
		case '\'': fputs("&#39;", out); break;
		case '\0': break;
		default: fputc(*s, out);
		}
}

/* rightPad: tabs to the next multiple of 8, then spaces up to n columns (malloc'd). */
static char *right_pad(const char *s, int n)
{
	size_t len = strlen(s);
	char *o = malloc(len * 8 + (size_t)n + 1);
	if (!o)
		return NULL;
	size_t w = 0;
	int col = 0;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c & 0xC0) != 0x80)
			col++;
		if (*c == '\t') {
			o[w++] = ' ';
			while (col % 8) {
				col++;
				o[w++] = ' ';
			}
		} else {
			o[w++] = (char)*c;
		}
	}
	while (col < n) {
		col++;
		o[w++] = ' ';
	}
	o[w] = '\0';
	return o;
}

static int indentation(const char *s)
{
	int col = 0;
	for (; *s == ' ' || *s == '\t'; s++) {
		col++;
		if (*s == '\t')
			while (col % 8)
				col++;
	}
	return col;
}

static const char *dot(const struct report *r, char *buf, size_t len, int64_t v)
{
	if (v == 0)
		return ".";
	return cprof__report_format(r, buf, len, v);
}

static const char page_head[] =
	"<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\">\n"
	"<title>cprof weblist</title>\n"
	"<style>\n"
	"body { font-family: sans-serif; margin: 1em 2em; }\n"
	"h2 { font-size: 1.1em; margin: 1.6em 0 0.2em; }\n"
	".legend { font-size: 1.1em; line-height: 1.4; }\n"
	".filename { color: #555555; margin: 0; font-family: monospace; }\n"
	"pre { margin: 0.4em 0; }\n"
	".line, .nop, .unimportant { color: #999999; }\n"
	".inlinesrc { color: #223388; }\n"
	".livesrc { cursor: pointer; }\n"
	".livesrc:hover { background: #f0f0e8; }\n"
	".asm { display: none; color: #206020; background: #f7faf7; }\n"
	".asm.open { display: block; }\n"
	"</style>\n"
	"<script>\n"
	"/* A click on a source line with instructions shows or hides them. */\n"
	"function cprofToggle(ev) {\n"
	"  var src = ev.target;\n"
	"  while (src && !(src.classList && src.classList.contains('livesrc')))\n"
	"    src = src.parentNode;\n"
	"  if (!src) return;\n"
	"  var asm = src.nextElementSibling;\n"
	"  if (asm && asm.classList.contains('asm')) {\n"
	"    asm.classList.toggle('open');\n"
	"    ev.preventDefault();\n"
	"  }\n"
	"}\n"
	"</script>\n"
	"</head>\n<body>\n";

/* The Go time layout "Jan 2, 2006 at 3:04pm (MST)" in local time. */
static void format_time(int64_t nanos, char *buf, size_t len)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)(nanos / 1000000000);
	struct tm tm;
	localtime_r(&t, &tm);
	int h = tm.tm_hour % 12;
	char zone[64];
	strftime(zone, sizeof(zone), "%Z", &tm);
	snprintf(buf, len, "%s %d, %d at %d:%02d%s (%s)", months[tm.tm_mon], tm.tm_mday,
		 tm.tm_year + 1900, h ? h : 12, tm.tm_min, tm.tm_hour >= 12 ? "pm" : "am", zone);
}

/* ProfileLabels, one per line of the legend, and the total. */
static void legend(const struct report *r, FILE *out)
{
	const struct profile *p = r->prof;
	char b1[128], b2[128], b3[128];
	const char *sep = "";
	fputs("<div class=\"legend\">", out);
	if (p->nmapping > 0) {
		const char *file = cprof__profile_str(p, p->mapping[0].filename);
		const char *bid = cprof__profile_str(p, p->mapping[0].build_id);
		if (file[0]) {
			char *c = cprof__path_clean(file);
			fputs("File: ", out);
			html_escape(out, c ? base_name(c) : file);
			free(c);
			sep = "<br>\n";
		}
		if (bid[0]) {
			fprintf(out, "%sBuild ID: ", sep);
			html_escape(out, bid);
			sep = "<br>\n";
		}
	}
	for (size_t i = 0; i < p->ncomment; i++) {
		const char *c = cprof__profile_str(p, p->comment[i]);
		if (c[0] != '#') {
			fputs(sep, out);
			html_escape(out, c);
			sep = "<br>\n";
		}
	}
	if (r->sample_type[0]) {
		fprintf(out, "%sType: ", sep);
		html_escape(out, r->sample_type);
		sep = "<br>\n";
	}
	if (p->time_nanos != 0) {
		format_time(p->time_nanos, b1, sizeof(b1));
		fprintf(out, "%sTime: ", sep);
		html_escape(out, b1);
		sep = "<br>\n";
	}
	if (p->duration_nanos != 0) {
		const char *unit;
		double ns = cprof__units_scale(r->total, r->sample_unit, "nanoseconds", &unit);
		b3[0] = '\0';
		if (strcmp(unit, "ns") == 0 && ns != 0) {
			char pct[64];
			cprof__units_percentage(pct, sizeof(pct), (int64_t)ns, p->duration_nanos);
			snprintf(b3, sizeof(b3), "(%s)", pct);
		}
		fprintf(out, "%sDuration: %s, Total samples = %s %s", sep,
			cprof__units_label(b1, sizeof(b1), p->duration_nanos, "nanoseconds", "auto"),
			cprof__report_format(r, b2, sizeof(b2), r->total), b3);
	}
	fprintf(out, "<br>Total: %s</div>\n", cprof__report_format(r, b1, sizeof(b1), r->total));
}

static int cmp_sinst(const void *a, const void *b)
{
	const struct sinst *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

struct sfunc {
	const char *name;
	int64_t begin, end, flat, cum;
};

/* One source line and, when it has any, its instructions (printFunctionSourceLine). */
static void print_line(struct printer *sp, struct report_sources *rd, int64_t ln, const char *text,
		       const struct sinst *v, size_t n, FILE *out)
{
	const struct report *r = sp->r;
	char b1[128], b2[128];
	int64_t flat = 0, cum = 0;
	bool nested = false;
	for (size_t i = 0; i < n; i++) {
		flat += sp->in[v[i].inst].flat;
		cum += sp->in[v[i].inst].cum;
		nested |= v[i].nstack > 0 || sp->in[v[i].inst].disasm != NULL;
	}
	fprintf(out, "<span class=\"line\"> %6" PRId64 "</span> <span class=\"%s\">  %10s %10s %8s  ",
		ln, n == 0 ? "nop" : nested ? "livesrc" : "deadsrc", dot(r, b1, sizeof(b1), flat),
		dot(r, b2, sizeof(b2), cum), "");
	html_escape(out, text);
	fputs(" </span>", out);
	if (nested) {
		int indent = indentation(text);
		fputs("<span class=\"asm\">", out);
		const struct callid *cur = NULL;
		size_t ncur = 0;
		uint64_t last = 0;
		for (size_t i = 0; i < n; i++) {
			const struct winst *w = &sp->in[v[i].inst];
			size_t li = amap_get(&sp->imap, last);
			uint64_t llen = li == SIZE_MAX ? 0 : sp->in[li].length;
			if (i != 0 && w->addr != last + llen)
				fprintf(out, " %8s %28s\n", "", "\xe2\x8b\xae");
			last = w->addr;
			for (size_t j = 0; j < v[i].nstack; j++) {
				const struct callid *c = &v[i].stack[j];
				if (j < ncur && cur[j].line == c->line && strcmp(cur[j].file, c->file) == 0)
					continue;
				ncur = 0;
				const char *fl = cprof__report_source_line(rd, c->file, c->line);
				if (!fl)
					fl = "";
				while (*fl == ' ' || *fl == '\t')
					fl++;
				size_t fll = strlen(fl);
				while (fll > 0 && (fl[fll - 1] == ' ' || fl[fll - 1] == '\t'))
					fll--;
				char *t = NULL, *pad;
				if (asprintf(&t, "%*s%.*s", indent + 4 + 4 * (int)j, "", (int)fll, fl) < 0)
					continue;
				pad = right_pad(t, 80);
				free(t);
				fprintf(out, " %8s %10s %10s %8s  <span class=\"inlinesrc\">", "", "", "", "");
				html_escape(out, pad ? pad : "");
				fputs("</span> <span class=\"unimportant\">", out);
				html_escape(out, base_name(c->file));
				fprintf(out, ":%" PRId64 "</span>\n", c->line);
				free(pad);
			}
			cur = v[i].stack;
			ncur = v[i].nstack;
			if (!w->disasm)
				continue;
			char *t = NULL, *pad;
			if (asprintf(&t, "%*s%s", indent + 4 + 4 * (int)ncur, "", w->disasm) < 0)
				continue;
			pad = right_pad(t, 80);
			free(t);
			fprintf(out, " %8s %10s %10s %8" PRIx64 ": ", "", dot(r, b1, sizeof(b1), w->flat),
				dot(r, b2, sizeof(b2), w->cum), w->obj_addr);
			html_escape(out, pad ? pad : "");
			fputs(" <span class=\"unimportant\">", out);
			if (w->file && w->file[0]) {
				char *c = cprof__path_clean(w->file);
				html_escape(out, c ? base_name(c) : w->file);
				free(c);
				fprintf(out, ":%" PRId64, w->line);
			}
			fputs("</span>\n", out);
			free(pad);
		}
		fputs("</span>", out);
	}
	fputc('\n', out);
}

/* sourcePrinter.printFile with functions(): lines grouped into per-function blocks. */
static int print_file(struct printer *sp, struct report_sources *rd, struct sfile *f, FILE *out)
{
	const struct report *r = sp->r;
	qsort(f->v, f->n, sizeof(*f->v), cmp_sinst);
	struct sfunc *fn = calloc(f->n + 1, sizeof(*fn));
	if (!fn)
		return -ENOMEM;
	size_t nfn = 0;
	for (size_t i = 0; i < f->n;) {
		size_t j = i;
		int64_t l = f->v[i].line, flat = 0, cum = 0;
		for (; j < f->n && f->v[j].line == l; j++) {
			flat += sp->in[f->v[j].inst].flat;
			cum += sp->in[f->v[j].inst].cum;
		}
		const char *name = f->v[i].func;
		const char **pretty = sset_find(&sp->pretty, name);
		if (pretty)
			name = *pretty;
		if (nfn > 0 && l - fn[nfn - 1].end < 20 && strcmp(fn[nfn - 1].name, name) == 0) {
			fn[nfn - 1].end = l + 1;
			fn[nfn - 1].flat += flat;
			fn[nfn - 1].cum += cum;
		} else {
			fn[nfn++] = (struct sfunc){name, l, l + 1, flat, cum};
		}
		i = j;
	}
	for (size_t i = 0; i < nfn; i++) {
		if (i == 0) {
			if (fn[i].begin > 5)
				fn[i].begin -= 5;
			else if (fn[i].begin > 1)
				fn[i].begin = 1;
		} else {
			int64_t half = (fn[i].begin - fn[i - 1].end) / 2;
			if (half > 5)
				half = 5;
			fn[i - 1].end += half;
			fn[i].begin -= half;
		}
	}
	if (nfn > 0)
		fn[nfn - 1].end += 5;
	char b1[128], b2[128], pct[32];
	size_t k = 0;
	for (size_t i = 0; i < nfn; i++) {
		if (fn[i].cum == 0)
			continue;
		fputs("<h2>", out);
		html_escape(out, fn[i].name);
		fputs("</h2><p class=\"filename\">", out);
		html_escape(out, f->fname);
		fprintf(out, "</p>\n<pre onclick=\"cprofToggle(event)\">\n"
			"  Total:  %10s %10s (flat, cum) %s\n",
			cprof__report_format(r, b1, sizeof(b1), fn[i].flat),
			cprof__report_format(r, b2, sizeof(b2), fn[i].cum),
			cprof__units_percentage(pct, sizeof(pct), fn[i].cum, r->total));
		for (int64_t l = fn[i].begin; l < fn[i].end; l++) {
			while (k < f->n && f->v[k].line < l)
				k++;
			size_t e = k;
			while (e < f->n && f->v[e].line == l)
				e++;
			const char *text = cprof__report_source_line(rd, f->fname, l);
			if (!text) {
				if (e == k)
					continue;
				text = l == 0 ? "<instructions with unknown line numbers>" : "???";
			}
			print_line(sp, rd, l, text, f->v + k, e - k, out);
		}
		fputs("</pre>\n", out);
		/* a later block may start before this one ended: rewind */
		k = 0;
	}
	free(fn);
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct sfile *)a)->fname, ((const struct sfile *)b)->fname);
}

int cprof__report_weblist(struct report *r, const regex_t *re, FILE *out)
{
	struct printer sp = {0};
	struct report_sources rd = {0};
	char cwd[PATH_MAX];
	int rc = -ENOMEM;
	sp.r = r;
	sp.objs = calloc(r->prof->nmapping + 1, sizeof(*sp.objs));
	if (!sp.objs)
		goto out;
	const char *search = r->opt.source_path && r->opt.source_path[0] ? r->opt.source_path : NULL;
	if (!search) {
		if (!getcwd(cwd, sizeof(cwd))) {
			rc = -EIO;
			goto out;
		}
		search = cwd;
	}
	rd.search = search;
	rd.trim = r->opt.trim_path;
	if (collect(&sp, re) < 0)
		goto out;
	if (sp.interest.n == 0) {
		rc = -ENOENT;
		goto out;
	}
	if (expand(&sp) < 0)
		goto out;
	fputs(page_head, out);
	fputc('\n', out);
	legend(r, out);
	qsort(sp.files, sp.nfiles, sizeof(*sp.files), cmp_file);
	for (size_t i = 0; i < sp.nfiles; i++)
		if (print_file(&sp, &rd, &sp.files[i], out) < 0)
			goto out;
	fputs("\n</body>\n</html>\n", out);
	rc = ferror(out) ? -EIO : 0;
out:
	for (size_t i = 0; i < sp.nfiles; i++) {
		for (size_t j = 0; j < sp.files[i].n; j++)
			free(sp.files[i].v[j].stack);
		free(sp.files[i].v);
		free(sp.files[i].fname);
	}
	free(sp.files);
	for (size_t i = 0; i < sp.nin; i++)
		free(sp.in[i].disasm);
	free(sp.in);
	free(sp.a);
	amap_free(&sp.amap);
	amap_free(&sp.imap);
	sset_free(&sp.interest);
	sset_free(&sp.pretty);
	for (size_t i = 0; i < sp.nobjs; i++)
		obj_close(&sp.objs[i]);
	free(sp.objs);
	cprof__report_sources_release(&rd);
	return rc;
}
