/*
 * symbolize.c - local symbolization for `cprof pprof`: pprof's
 * locateBinaries (PPROF_BINARY_PATH, build ids, the leading binary
 * argument) and its local symbolizer, with elfutils' libdwfl/libdw in place
 * of binutils: for every location of a mapping that has no function
 * information, the function, file and line, and the chain of inlined calls
 * (one Line per frame, innermost first). Functions only in the symbol table
 * (no DWARF) are named without file or line.
 *
 * Notes go to stderr in pprof's words. It does not fetch anything: the
 * remote symbolizer is symbolz.c.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/source/source.h"

bool cprof__source_unsymbolizable(const char *f)
{
	return f[0] == '[' || strncmp(f, "linux-vdso", 10) == 0 || strncmp(f, "/dev/dri/", 9) == 0;
}

static bool is_url(const char *f)
{
	const char *c = strstr(f, "://");
	if (!c || c == f)
		return false;
	for (const char *s = f; s < c; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '+'))
			return false;
	return strncasecmp(f, "http", 4) == 0 || strstr(f, "http") < c;
}

/* The GNU build id of an ELF file as hex, "" when it has none; -1 if not ELF. */
static int file_build_id(const char *path, char *hex, size_t hexlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	int rc = -1;
	hex[0] = '\0';
	if (e && elf_kind(e) == ELF_K_ELF) {
		const void *id;
		ssize_t n = dwelf_elf_gnu_build_id(e, &id);
		for (ssize_t i = 0; i < n && (size_t)(2 * i + 3) <= hexlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)id)[i]);
		rc = 0;
	}
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}

static const char *base_name(const char *f)
{
	const char *s = strrchr(f, '/');
	return s && s[1] ? s + 1 : f;
}

/* Try one candidate; 1 when it is the mapping's file (m updated). */
static int try_candidate(struct profile *p, struct pp_mapping *m, const char *name)
{
	char bid[256];
	if (file_build_id(name, bid, sizeof(bid)) < 0)
		return 0;
	const char *want = cprof__profile_str(p, m->build_id);
	if (*want && strcmp(want, bid)) {
		fprintf(stderr, "Ignoring local file %s: build-id mismatch (%s != %s)\n", name, want, bid);
		return 0;
	}
	int64_t s = cprof__profile_intern(p, name, (size_t)-1);
	if (s < 0)
		return -ENOMEM;
	m->filename = s;
	return 1;
}

int cprof__source_locate(struct profile *p, const struct source_options *o)
{
	const char *sp = getenv("PPROF_BINARY_PATH");
	char def[4096];
	if (!sp || !*sp) {
		const char *h = getenv("HOME");
		snprintf(def, sizeof(def), "%s/pprof/binaries", h ? h : "");
		sp = def;
	}
	for (size_t i = 0; i < p->nmapping; i++) {
		struct pp_mapping *m = &p->mapping[i];
		char file[4096], bid[512], dirs[8192];
		snprintf(file, sizeof(file), "%s", cprof__profile_str(p, m->filename));
		snprintf(bid, sizeof(bid), "%s", cprof__profile_str(p, m->build_id));
		snprintf(dirs, sizeof(dirs), "%s", sp);
		const char *base = file[0] ? base_name(file) : "";
		int found = 0;
		char *save = NULL;
		for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
			char c[12288];
			if (bid[0]) {
				snprintf(c, sizeof(c), "%s/%s/%s", d, bid, base);
				if ((found = try_candidate(p, m, c)) != 0)
					break;
				snprintf(c, sizeof(c), "%s/%s/*", d, bid);
				glob_t g;
				if (glob(c, 0, NULL, &g) == 0) {
					for (size_t k = 0; k < g.gl_pathc && !found; k++)
						found = try_candidate(p, m, g.gl_pathv[k]);
					globfree(&g);
				}
				if (found)
					break;
				snprintf(c, sizeof(c), "%s/%s/%s", d, file, bid); /* perf's layout */
				if ((found = try_candidate(p, m, c)) != 0)
					break;
				if (strlen(bid) > 2) { /* debuginfod / .build-id layout */
					snprintf(c, sizeof(c), "%s/%.2s/%s.debug", d, bid, bid + 2);
					if ((found = try_candidate(p, m, c)) != 0)
						break;
				}
			}
			if (file[0]) {
				snprintf(c, sizeof(c), "%s/%s", d, base);
				if ((found = try_candidate(p, m, c)) != 0)
					break;
				snprintf(c, sizeof(c), "%s/%s", d, file);
				found = try_candidate(p, m, c);
			}
		}
		if (found < 0)
			return found;
	}
	if (p->nmapping == 0) {
		/* a fake mapping, so a binary given on the command line can be used */
		struct pp_mapping *m = cprof__profile_add_mapping(p);
		if (!m)
			return -ENOMEM;
		for (size_t i = 0; i < p->nlocation; i++)
			p->location[i].mapping_id = m->id;
	}
	if (o->exec_name || o->build_id) {
		struct pp_mapping *m = &p->mapping[0];
		if (o->exec_name && (m->filename = cprof__profile_intern(p, o->exec_name, (size_t)-1)) < 0)
			return -ENOMEM;
		if (o->build_id && (m->build_id = cprof__profile_intern(p, o->build_id, (size_t)-1)) < 0)
			return -ENOMEM;
	}
	char err[256];
	if (cprof__profile_validate(p, err, sizeof(err)) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- libdw ---- */

struct frame {
	const char *name;
	const char *file;
	int64_t line;
};

static int64_t attr_int(Dwarf_Die *die, int name)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (!dwarf_attr_integrate(die, name, &a) || dwarf_formudata(&a, &w) != 0)
		return 0;
	return (int64_t)w;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = dwarf_diename(die);
	if (n)
		return n;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		return dwarf_formstring(&a);
	return NULL;
}

/* The file name of an inlined call site (DW_AT_call_file), or NULL. */
static const char *call_file(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Word idx;
	Dwarf_Files *files;
	size_t nfiles;
	Dwarf_Die cu;
	if (!dwarf_attr(die, DW_AT_call_file, &a) || dwarf_formudata(&a, &idx) != 0)
		return NULL;
	if (!dwarf_diecu(die, &cu, NULL, NULL) || dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 ||
	    idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

/* Frames at pc (a module address), innermost first; how many. */
static int describe(Dwfl_Module *mod, Dwarf_Addr pc, struct frame *fr, int max, char *symbuf, size_t symlen)
{
	GElf_Off off;
	GElf_Sym sym;
	const char *symname = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
	Dwarf_Addr bias;
	Dwarf_Die *cudie = dwfl_module_addrdie(mod, pc, &bias);
	int line = 0;
	const char *lfile = NULL;
	Dwfl_Line *l = dwfl_module_getsrc(mod, pc);
	if (l)
		lfile = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
	int n = 0;
	if (cudie) {
		Dwarf_Die *scopes = NULL;
		int ns = dwarf_getscopes(cudie, pc - bias, &scopes);
		Dwarf_Die inner;
		bool have = ns > 0 && dwarf_offdie(dwarf_cu_getdwarf(cudie->cu), dwarf_dieoffset(&scopes[0]),
						   &inner) != NULL;
		free(scopes);
		scopes = NULL;
		ns = have ? dwarf_getscopes_die(&inner, &scopes) : 0;
		int64_t cur_line = line;
		const char *cur_file = lfile;
		for (int i = 0; i < ns && n < max; i++) {
			int tag = dwarf_tag(&scopes[i]);
			if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
				continue;
			const char *name = die_name(&scopes[i]);
			if (!name)
				name = tag == DW_TAG_subprogram && symname ? symname : "??";
			fr[n].name = name;
			fr[n].file = cur_file;
			fr[n].line = cur_line;
			n++;
			if (tag == DW_TAG_subprogram)
				break;
			cur_line = attr_int(&scopes[i], DW_AT_call_line);
			cur_file = call_file(&scopes[i]);
		}
		free(scopes);
	}
	if (n == 0 && symname) {
		const char *at = strchr(symname, '@');
		if (at && at > symname) {
			snprintf(symbuf, symlen, "%.*s", (int)(at - symname), symname);
			symname = symbuf;
		}
		fr[0] = (struct frame){symname, lfile, line};
		n = 1;
	}
	return n;
}

/* Function ids by (name, file) for this run. */
struct fnkey {
	char *key;
	uint64_t id;
};
struct fntab {
	struct fnkey *v;
	size_t n, cap;
};

static uint64_t fnid(struct profile *p, struct fntab *t, const char *name, const char *file)
{
	char key[4096];
	snprintf(key, sizeof(key), "%s\x01%s", name, file);
	for (size_t i = 0; i < t->n; i++) /* profiles have few functions per binary */
		if (strcmp(t->v[i].key, key) == 0)
			return t->v[i].id;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct fnkey *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return 0;
		t->v = v;
		t->cap = cap;
	}
	struct pp_function *f = cprof__profile_add_function(p, name, name, file, 0);
	char *k = strdup(key);
	if (!f || !k) {
		free(k);
		return 0;
	}
	t->v[t->n++] = (struct fnkey){k, f->id};
	return f->id;
}

/* Runtime address -> the ELF's virtual address, through its PT_LOADs. */
static uint64_t to_vaddr(Elf *elf, const struct pp_mapping *m, uint64_t addr)
{
	if (m->memory_start == 0 && (m->memory_limit == 0 || m->memory_limit == UINT64_MAX))
		return addr;
	uint64_t off = addr - m->memory_start + m->file_offset;
	size_t n;
	GElf_Ehdr eh;
	if (elf_getphdrnum(elf, &n) != 0 || !gelf_getehdr(elf, &eh))
		return addr;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (off >= ph.p_offset && off < ph.p_offset + ph.p_filesz)
			return off - ph.p_offset + ph.p_vaddr;
	}
	/* not a segment of the file (e.g. a debug-only file): ET_EXEC is at its address */
	return eh.e_type == ET_EXEC ? addr : off;
}

static int symbolize_mapping(struct profile *p, struct pp_mapping *m, const char *path, struct fntab *ft)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	const char *name = base_name(path);
	const char *want = cprof__profile_str(p, m->build_id);
	char label[4200];
	snprintf(label, sizeof(label), "%s%s%s%s", name, *want ? " (build ID " : "", want, *want ? ")" : "");
	Dwfl *dwfl = dwfl_begin(&cb);
	Dwfl_Module *mod = dwfl ? dwfl_report_offline(dwfl, name, path, -1) : NULL;
	if (!mod) {
		const char *why = dwfl_errmsg(-1);
		if (access(path, F_OK) != 0)
			fprintf(stderr, "Local symbolization failed for %s: open %s: %s\n", label, path,
				strerror(errno));
		else
			fprintf(stderr, "Local symbolization failed for %s: %s\n", label, why ? why : "not an ELF file");
		if (dwfl)
			dwfl_end(dwfl);
		return 1;
	}
	dwfl_report_end(dwfl, NULL, NULL);
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	char bid[256];
	if (*want && file_build_id(path, bid, sizeof(bid)) == 0 && bid[0] && strcmp(bid, want)) {
		fprintf(stderr, "Local symbolization failed for %s: build ID mismatch\n", label);
		dwfl_end(dwfl);
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; i < p->nlocation && rc == 0 && elf; i++) {
		struct pp_location *l = &p->location[i];
		if (l->mapping_id != m->id)
			continue;
		struct frame fr[64];
		char symbuf[1024];
		int n = describe(mod, to_vaddr(elf, m, l->address) + bias, fr, 64, symbuf, sizeof(symbuf));
		if (n == 0)
			continue;
		struct pp_line *lines = calloc((size_t)n, sizeof(*lines));
		if (!lines)
			return -ENOMEM;
		for (int k = 0; k < n; k++) {
			m->has_functions |= fr[k].name && *fr[k].name;
			m->has_filenames |= fr[k].file && *fr[k].file;
			m->has_line_numbers |= fr[k].line != 0;
			lines[k].function_id = fnid(p, ft, fr[k].name ? fr[k].name : "", fr[k].file ? fr[k].file : "");
			lines[k].line = fr[k].line;
			if (!lines[k].function_id)
				rc = -ENOMEM;
		}
		m->has_inline_frames = true;
		free(l->line);
		l->line = lines;
		l->nline = (size_t)n;
		l->is_folded = false;
	}
	dwfl_end(dwfl);
	return rc;
}

int cprof__source_symbolize_local(struct profile *p, bool force)
{
	struct fntab ft = {0};
	bool missing = false;
	int rc = 0;
	for (size_t i = 0; i < p->nmapping && rc >= 0; i++) {
		struct pp_mapping *m = &p->mapping[i];
		/* mappings whose locations all have names already need nothing */
		bool used = false;
		for (size_t k = 0; k < p->nlocation && !used; k++)
			used = p->location[k].mapping_id == m->id && (force || !p->location[k].nline);
		if (!used)
			continue;
		if (!force && (m->has_functions || m->has_filenames || m->has_line_numbers))
			continue;
		char file[4096];
		snprintf(file, sizeof(file), "%s", cprof__profile_str(p, m->filename));
		if (!file[0]) {
			if (i == 0)
				fprintf(stderr, "Main binary filename not available.\n");
			else
				missing = true;
			continue;
		}
		if (cprof__source_unsymbolizable(file))
			continue;
		if (!*cprof__profile_str(p, m->build_id) && is_url(file))
			continue;
		rc = symbolize_mapping(p, m, file, &ft);
		if (rc == 1) {
			missing = true;
			rc = 0;
		}
	}
	for (size_t i = 0; i < ft.n; i++)
		free(ft.v[i].key);
	free(ft.v);
	if (missing)
		fprintf(stderr, "Some binary filenames not available. Symbolization may be incomplete.\n"
			"Try setting PPROF_BINARY_PATH to the search path for local binaries.\n");
	return rc;
}
