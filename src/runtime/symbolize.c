/*
 * symbolize.c - from sampled addresses to a self-contained pprof profile.
 *
 * Runs when a profile is written, in ordinary thread context: it reads
 * /proc/self/maps for the Mappings (executable segments, the main program
 * first, the vDSO included, build-ids from the ELF notes) and uses elfutils'
 * libdwfl/libdw to name every address: function, file, line, and the chain
 * of inlined calls at that address. Profiles written here therefore open
 * with go tool pprof on any machine, without the binaries.
 *
 * Frames of libraries that were dlclose'd while profiling ran were tagged by
 * cprof__symbolize_note_unload(); they are named from the library's file,
 * which was recorded before it went away.
 *
 * A thread that asks (cprof__sym_keep: the continuous collector, which
 * symbolizes every period) keeps the session's libdwfl state, the mappings
 * and every address's names from one session to the next, so that each
 * address is looked up once per process; they are read again only when a
 * library was loaded or unloaded since (the loader's dlpi_adds/dlpi_subs
 * counters), or when the cache outgrows its ceiling.
 *
 * It does not sample, and knows the table only through stacktab.h's walk.
 */
#include <dlfcn.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <dwarf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cprof.h"
#include "proto/profile.h"
#include "runtime/rt.h"

/* ---- address maps ---- */

struct map {
	uintptr_t start, end, offset;
	char *path;       /* file, or "[vdso]" */
	uint64_t id;      /* pprof mapping id */
	uintptr_t bias;   /* for unloaded modules: load bias */
	bool unloaded;
	Dwfl_Module *mod; /* for unloaded modules */
	bool all_func, any_line, any; /* for the has_* flags */
};

struct maps {
	struct map *v;
	size_t n, cap;
};

static int maps_add(struct maps *m, uintptr_t start, uintptr_t end, uintptr_t off, const char *path)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct map *v = realloc(m->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	struct map *e = &m->v[m->n];
	memset(e, 0, sizeof *e);
	e->start = start;
	e->end = end;
	e->offset = off;
	e->path = strdup(path);
	if (!e->path)
		return -ENOMEM;
	e->all_func = true;
	m->n++;
	return 0;
}

static void read_maps(struct maps *m)
{
	char exe[PATH_MAX];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[el > 0 ? el : 0] = 0;
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	char line[PATH_MAX + 256];
	while (fgets(line, sizeof line, f)) {
		unsigned long start, end, off;
		char perms[8];
		int pathpos = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, perms, &off, &pathpos) < 4)
			continue;
		if (perms[2] != 'x' || pathpos == 0)
			continue;
		char *path = line + pathpos;
		path[strcspn(path, "\n")] = 0;
		char *del = strstr(path, " (deleted)");
		if (del && del[10] == 0)
			*del = 0;
		if (path[0] == 0 || (path[0] == '[' && strcmp(path, "[vdso]") != 0))
			continue;
		if (maps_add(m, start, end, off, path) != 0)
			break;
	}
	fclose(f);
	/* By convention mapping[0] is the main program. */
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->v[i].path, exe) == 0) {
			struct map t = m->v[i];
			memmove(&m->v[1], &m->v[0], i * sizeof t);
			m->v[0] = t;
			break;
		}
	}
}

/* ---- modules unloaded while profiling ---- */

#define MAX_UNLOADED 4096
#define TAG_BIT ((uintptr_t)1 << 63)
#define TAG_SHIFT 47

struct unloaded {
	uintptr_t lo, hi, bias;
	char *path;
};
static struct unloaded unloaded[MAX_UNLOADED];
static size_t nunloaded;
static pthread_mutex_t unloaded_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- symbolization ---- */

struct sym_frame {
	const char *name;        /* what pprof shows: demangled for C++ */
	const char *system_name; /* the linkage (mangled) name, or name */
	char *owned;             /* malloc'd demangled name to free, or NULL */
	const char *file;
	int64_t line, start_line;
};

struct ctx {
	struct profile *p;
	bool kept;     /* dwfl and names belong to the kept state, not to this session */
	bool cpu;      /* the CPU profile's session: the table of unloaded modules goes with it */
	Dwfl *dwfl;
	struct maps maps;
	/* pc -> location id */
	uintptr_t *loc_pc;
	uint64_t *loc_id;
	size_t loc_cap, loc_n;
	/* function key -> id */
	struct fn { char *key; uint64_t id; } *fns;
	size_t fn_cap, fn_n;
	Dwfl *offline; /* for unloaded modules */
	int err;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static uint64_t function_id(struct ctx *c, const char *name, const char *system_name, const char *file,
			    int64_t start_line)
{
	char key[1024];
	snprintf(key, sizeof key, "%s\x01%s\x01%" PRId64, name, file ? file : "", start_line);
	if (c->fn_n * 2 >= c->fn_cap) {
		size_t cap = c->fn_cap ? c->fn_cap * 2 : 1024;
		struct fn *v = calloc(cap, sizeof *v);
		if (!v) {
			c->err = -ENOMEM;
			return 0;
		}
		for (size_t i = 0; i < c->fn_cap; i++) {
			if (!c->fns[i].key)
				continue;
			size_t j = hash_str(c->fns[i].key) & (cap - 1);
			while (v[j].key)
				j = (j + 1) & (cap - 1);
			v[j] = c->fns[i];
		}
		free(c->fns);
		c->fns = v;
		c->fn_cap = cap;
	}
	size_t j = hash_str(key) & (c->fn_cap - 1);
	while (c->fns[j].key) {
		if (strcmp(c->fns[j].key, key) == 0)
			return c->fns[j].id;
		j = (j + 1) & (c->fn_cap - 1);
	}
	struct pp_function *f = cprof__profile_add_function(c->p, name, system_name ? system_name : name,
							    file ? file : "", start_line);
	char *k = strdup(key);
	if (!f || !k) {
		free(k);
		c->err = -ENOMEM;
		return 0;
	}
	c->fns[j].key = k;
	c->fns[j].id = f->id;
	c->fn_n++;
	return f->id;
}

static int64_t attr_int(Dwarf_Die *die, int name)
{
	Dwarf_Attribute a;
	Dwarf_Word w;
	if (!dwarf_attr_integrate(die, name, &a) || dwarf_formudata(&a, &w) != 0)
		return 0;
	return (int64_t)w;
}

typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);

/*
 * Demangle a C++ name with the C++ runtime's __cxa_demangle: the program's
 * own when it has one loaded, else libstdc++ loaded for the purpose (only
 * when a mangled name is met, at write time). malloc'd or NULL.
 */
static char *demangle(const char *mangled)
{
	static demangle_fn fn;
	static bool looked;
	if (!mangled || mangled[0] != '_' || mangled[1] != 'Z')
		return NULL;
	if (!looked) {
		fn = (demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
		if (!fn) {
			void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
			if (h)
				fn = (demangle_fn)dlsym(h, "__cxa_demangle");
		}
		looked = true;
	}
	if (!fn)
		return NULL;
	int status = -1;
	char *r = fn(mangled, NULL, NULL, &status);
	if (status != 0) {
		free(r);
		return NULL;
	}
	return r;
}

/*
 * Fill fr's names from a DIE: the demangled linkage name for C++ (qualified,
 * as pprof users expect), else the DWARF name. False when it has none.
 */
static bool die_names(Dwarf_Die *die, struct sym_frame *fr)
{
	Dwarf_Attribute a;
	const char *linkage = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		linkage = dwarf_formstring(&a);
	fr->owned = demangle(linkage);
	if (fr->owned) {
		fr->name = fr->owned;
		fr->system_name = linkage;
		return true;
	}
	fr->name = dwarf_diename(die);
	if (!fr->name)
		fr->name = linkage;
	fr->system_name = fr->name;
	return fr->name != NULL;
}

/*
 * Name a PLT stub as "target@plt" from the relocation that stub jumps
 * through: stubs in .plt.sec (or .plt past its 16-byte header) are 16 bytes
 * each, in the order of .rela.plt. NULL when pc is not in a PLT.
 */
static const char *plt_name(Dwfl_Module *mod, uintptr_t pc, char *buf, size_t buflen)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	GElf_Addr addr = pc - bias;
	Elf_Scn *scn = NULL, *rela = NULL;
	long index = -1;
	bool has_sec = false;
	GElf_Shdr sh, plt_sh;
	bool in_plt = false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (strcmp(name, ".rela.plt") == 0)
			rela = scn;
		if (strcmp(name, ".plt.sec") == 0) {
			has_sec = true;
			if (addr >= sh.sh_addr && addr < sh.sh_addr + sh.sh_size) {
				index = (long)((addr - sh.sh_addr) / 16);
				in_plt = true;
			}
		}
		if (strcmp(name, ".plt") == 0 && addr >= sh.sh_addr && addr < sh.sh_addr + sh.sh_size) {
			plt_sh = sh;
			in_plt = true;
		}
	}
	if (!in_plt)
		return NULL;
	if (index < 0 && !has_sec)
		index = (long)((addr - plt_sh.sh_addr) / 16) - 1;
	if (index < 0 || !rela) {
		snprintf(buf, buflen, "[plt]");
		return buf;
	}
	GElf_Shdr rsh;
	Elf_Data *data = elf_getdata(rela, NULL);
	if (!gelf_getshdr(rela, &rsh) || !data || rsh.sh_entsize == 0 ||
	    (size_t)index >= rsh.sh_size / rsh.sh_entsize) {
		snprintf(buf, buflen, "[plt]");
		return buf;
	}
	GElf_Rela r;
	Elf_Scn *symscn = elf_getscn(elf, rsh.sh_link);
	GElf_Shdr symsh;
	GElf_Sym sym;
	Elf_Data *symdata = symscn ? elf_getdata(symscn, NULL) : NULL;
	const char *target = NULL;
	if (gelf_getrela(data, (int)index, &r) && symdata && gelf_getshdr(symscn, &symsh) &&
	    gelf_getsym(symdata, (int)GELF_R_SYM(r.r_info), &sym))
		target = elf_strptr(elf, symsh.sh_link, sym.st_name);
	snprintf(buf, buflen, "%s@plt", target && *target ? target : "");
	if (!target || !*target)
		snprintf(buf, buflen, "[plt]");
	return buf;
}

/*
 * Name pc in mod: fill frames[] innermost first, return how many.
 * 0 when nothing is known.
 */
static bool module_wants_dwarf(Dwfl_Module *mod);

static int describe(Dwfl_Module *mod, uintptr_t pc, struct sym_frame *fr, int max, bool *has_line,
		    char *namebuf, size_t namelen)
{
	*has_line = false;
	if (!mod)
		return 0;
	GElf_Off off;
	GElf_Sym sym;
	const char *symname = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
	Dwarf_Addr bias;
	bool dwarf = module_wants_dwarf(mod);
	Dwarf_Die *cudie = dwarf ? dwfl_module_addrdie(mod, pc, &bias) : NULL;
	int line = 0;
	const char *lfile = NULL;
	Dwfl_Line *l = dwarf ? dwfl_module_getsrc(mod, pc) : NULL;
	if (l)
		lfile = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
	int n = 0;
	if (cudie) {
		/*
		 * dwarf_getscopes finds the innermost scope at pc but continues into
		 * abstract definitions of inlined functions; the chain of concrete
		 * inlined calls comes from dwarf_getscopes_die on that innermost DIE.
		 */
		Dwarf_Die *scopes = NULL;
		int ns = dwarf_getscopes(cudie, pc - bias, &scopes);
		Dwarf_Die inner;
		bool have_inner = ns > 0 && dwarf_offdie(dwarf_cu_getdwarf(cudie->cu), dwarf_dieoffset(&scopes[0]),
							 &inner) != NULL;
		free(scopes);
		scopes = NULL;
		ns = have_inner ? dwarf_getscopes_die(&inner, &scopes) : 0;
		int64_t cur_line = line;
		for (int i = 0; i < ns && n < max; i++) {
			int tag = dwarf_tag(&scopes[i]);
			if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
				continue;
			if (!die_names(&scopes[i], &fr[n])) {
				fr[n].owned = demangle(symname);
				fr[n].name = fr[n].owned ? fr[n].owned
					     : (tag == DW_TAG_subprogram && symname) ? symname : "??";
				fr[n].system_name = tag == DW_TAG_subprogram && symname ? symname : fr[n].name;
			}
			fr[n].file = dwarf_decl_file(&scopes[i]);
			if (!fr[n].file)
				fr[n].file = lfile;
			fr[n].line = cur_line;
			fr[n].start_line = attr_int(&scopes[i], DW_AT_decl_line);
			n++;
			if (tag == DW_TAG_subprogram)
				break;
			/* The caller's line is where this inlined call was made. */
			cur_line = attr_int(&scopes[i], DW_AT_call_line);
		}
		free(scopes);
	}
	if (n == 0 && !symname)
		symname = plt_name(mod, pc, namebuf, namelen);
	if (n == 0 && symname) {
		fr[0].owned = demangle(symname);
		const char *at = strchr(symname, '@');
		if (!fr[0].owned && at && at > symname) {
			/* "__libc_start_main@@GLIBC_2.34": the version is not part of the name. */
			fr[0].owned = strndup(symname, (size_t)(at - symname));
		}
		fr[0].name = fr[0].owned ? fr[0].owned : symname;
		fr[0].system_name = symname;
		fr[0].file = lfile;
		fr[0].line = line;
		fr[0].start_line = 0;
		n = 1;
	}
	*has_line = n > 0 && line > 0;
	return n;
}

/*
 * A name for an address no symbol covers: a stripped library's internal
 * (hidden) functions are not in its .dynsym, and their names exist only in
 * a separate debug file (libc6-dbg, -dbgsym packages, found by build-id) or
 * in MiniDebugInfo (.gnu_debugdata, which libdwfl reads itself). Without
 * them, where the function starts is still known from the unwind tables:
 * .eh_frame_hdr's sorted table of FDE start addresses. The frame is named
 * "<module>+0x<start>", its start in the module's own addresses (what
 * addr2line and gdb take for that file), so every address of one function
 * is one node and the name can be looked up later. False when the table is
 * missing, in an encoding not handled, or does not cover pc.
 */
static bool cfi_name(Dwfl_Module *mod, uintptr_t pc, char *buf, size_t len)
{
	GElf_Addr bias;
	Elf *elf = mod ? dwfl_module_getelf(mod, &bias) : NULL;
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;
		if (gelf_getshdr(scn, &sh) && sh.sh_type != SHT_NOBITS &&
		    (name = elf_strptr(elf, shstrndx, sh.sh_name)) && strcmp(name, ".eh_frame_hdr") == 0) {
			d = elf_getdata(scn, NULL);
			break;
		}
	}
	/* version 1; eh_frame_ptr any 4-byte encoding; count udata4; table datarel|sdata4. */
	const uint8_t *h = d ? d->d_buf : NULL;
	if (!h || d->d_size < 12 || h[0] != 1 || (h[1] & 0x0f) != 0x0b || h[2] != 0x03 || h[3] != 0x3b)
		return false;
	uint32_t count;
	memcpy(&count, h + 8, 4);
	if (count == 0 || (d->d_size - 12) / 8 < count)
		return false;
	int64_t want = (int64_t)(pc - bias) - (int64_t)sh.sh_addr; /* table entries are relative to the section */
	size_t lo = 0, hi = count; /* the last entry whose start <= want */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		int32_t v;
		memcpy(&v, h + 12 + mid * 8, 4);
		if (v <= want)
			lo = mid;
		else
			hi = mid;
	}
	int32_t first;
	memcpy(&first, h + 12 + lo * 8, 4);
	if (first > want)
		return false;
	const char *file = NULL;
	const char *modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &file, NULL);
	const char *path = file ? file : modname;
	if (!path)
		return false;
	const char *base = strrchr(path, '/');
	snprintf(buf, len, "%s+0x%llx", base ? base + 1 : path, (unsigned long long)(sh.sh_addr + (int64_t)first));
	return true;
}

static struct map *find_map(struct maps *m, uintptr_t pc)
{
	for (size_t i = 0; i < m->n; i++)
		if (pc >= m->v[i].start && pc < m->v[i].end)
			return &m->v[i];
	return NULL;
}

static Dwfl_Module *offline_module(struct ctx *c, struct unloaded *u)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_build_id_find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	/*
	 * A library unloaded and loaded again at the same address (a dlopen and
	 * dlclose loop) is one module. Reporting it a second time fails in
	 * libdwfl (DWFL_E_OVERLAP), which marks the first report for removal:
	 * dwfl_report_end would free a module other maps still point to.
	 */
	for (size_t i = 0; i < c->maps.n; i++) {
		const struct map *o = &c->maps.v[i];
		if (o->unloaded && o->mod && unloaded[o->bias].bias == u->bias &&
		    strcmp(unloaded[o->bias].path, u->path) == 0)
			return o->mod;
	}
	if (!c->offline) {
		c->offline = dwfl_begin(&cb);
		if (!c->offline)
			return NULL;
		dwfl_report_begin(c->offline);
	} else {
		dwfl_report_begin_add(c->offline);
	}
	Dwfl_Module *mod = dwfl_report_elf(c->offline, u->path, u->path, -1, u->bias, false);
	dwfl_report_end(c->offline, NULL, NULL);
	return mod;
}

/* ---- the kept state: names of addresses across sessions ---- */

#define KEEP_MAX_BYTES (16u << 20) /* names cached; past it, the next session starts afresh */

struct kept_frame {
	const char *name, *system_name, *file;
	int64_t line, start_line;
};

/* One address's names: the frames and their strings in one allocation. */
struct kept_pc {
	uintptr_t pc;
	int n;
	bool has_line;
	struct kept_frame fr[];
};

static CPROF_TLS bool keep_wanted;
/* Read and written only under unloaded_lock (held for a whole session). */
static struct {
	bool valid;
	pid_t pid;
	unsigned long long adds, subs;
	Dwfl *dwfl;
	struct maps maps;
	struct kept_pc **slot;
	size_t cap, n;
	uint64_t bytes, reloads;
} keep;

static size_t keep_index(uintptr_t pc, size_t cap)
{
	return (size_t)((pc * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static const struct kept_pc *keep_get(uintptr_t pc)
{
	if (!keep.cap)
		return NULL;
	for (size_t j = keep_index(pc, keep.cap); keep.slot[j]; j = (j + 1) & (keep.cap - 1))
		if (keep.slot[j]->pc == pc)
			return keep.slot[j];
	return NULL;
}

/* Remember pc's frames; on out of memory, nothing is remembered. */
static void keep_put(uintptr_t pc, const struct sym_frame *fr, int n, bool has_line)
{
	if ((keep.n + 1) * 2 > keep.cap) {
		size_t cap = keep.cap ? keep.cap * 2 : 4096;
		struct kept_pc **v = calloc(cap, sizeof *v);
		if (!v)
			return;
		for (size_t i = 0; i < keep.cap; i++)
			if (keep.slot[i]) {
				size_t j = keep_index(keep.slot[i]->pc, cap);
				while (v[j])
					j = (j + 1) & (cap - 1);
				v[j] = keep.slot[i];
			}
		free(keep.slot);
		keep.slot = v;
		keep.bytes += (cap - keep.cap) * sizeof *v;
		keep.cap = cap;
	}
	size_t len = sizeof(struct kept_pc) + (size_t)n * sizeof(struct kept_frame);
	for (int i = 0; i < n; i++)
		len += strlen(fr[i].name) + strlen(fr[i].system_name ? fr[i].system_name : fr[i].name) +
		       (fr[i].file ? strlen(fr[i].file) : 0) + 3;
	struct kept_pc *e = malloc(len);
	if (!e)
		return;
	e->pc = pc;
	e->n = n;
	e->has_line = has_line;
	char *s = (char *)&e->fr[n];
	for (int i = 0; i < n; i++) {
		const char *src[3] = {fr[i].name, fr[i].system_name ? fr[i].system_name : fr[i].name,
				      fr[i].file ? fr[i].file : ""};
		const char **dst[3] = {&e->fr[i].name, &e->fr[i].system_name, &e->fr[i].file};
		for (int k = 0; k < 3; k++) {
			size_t l = strlen(src[k]) + 1;
			memcpy(s, src[k], l);
			*dst[k] = s;
			s += l;
		}
		if (!fr[i].file)
			e->fr[i].file = NULL;
		e->fr[i].line = fr[i].line;
		e->fr[i].start_line = fr[i].start_line;
	}
	size_t j = keep_index(pc, keep.cap);
	while (keep.slot[j])
		j = (j + 1) & (keep.cap - 1);
	keep.slot[j] = e;
	keep.n++;
	keep.bytes += len;
}

static void keep_clear(void)
{
	for (size_t i = 0; i < keep.cap; i++)
		free(keep.slot[i]);
	free(keep.slot);
	keep.slot = NULL;
	keep.cap = keep.n = 0;
	keep.bytes = 0;
	if (keep.dwfl && keep.pid == getpid())
		dwfl_end(keep.dwfl);
	keep.dwfl = NULL;
	for (size_t i = 0; i < keep.maps.n; i++)
		free(keep.maps.v[i].path);
	free(keep.maps.v);
	memset(&keep.maps, 0, sizeof keep.maps);
	keep.valid = false;
}

static int loader_counts(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long long *g = arg;
	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
		g[0] = info->dlpi_adds;
		g[1] = info->dlpi_subs;
	}
	return 1;
}

/* Location id for a (possibly tagged) frame address. */
static uint64_t location_id(struct ctx *c, uintptr_t raw, bool leaf)
{
	if (c->loc_n * 2 >= c->loc_cap) {
		size_t cap = c->loc_cap ? c->loc_cap * 2 : 4096;
		uintptr_t *pcs = calloc(cap, sizeof *pcs);
		uint64_t *ids = calloc(cap, sizeof *ids);
		if (!pcs || !ids) {
			free(pcs);
			free(ids);
			c->err = -ENOMEM;
			return 0;
		}
		for (size_t i = 0; i < c->loc_cap; i++) {
			if (!c->loc_id[i])
				continue;
			size_t j = (c->loc_pc[i] * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
			while (ids[j])
				j = (j + 1) & (cap - 1);
			pcs[j] = c->loc_pc[i];
			ids[j] = c->loc_id[i];
		}
		free(c->loc_pc);
		free(c->loc_id);
		c->loc_pc = pcs;
		c->loc_id = ids;
		c->loc_cap = cap;
	}
	/* Callers' frames hold return addresses: name the call instruction. */
	uintptr_t key = leaf ? raw : raw - 1;
	size_t j = (key * 0x9e3779b97f4a7c15ull >> 20) & (c->loc_cap - 1);
	while (c->loc_id[j]) {
		if (c->loc_pc[j] == key)
			return c->loc_id[j];
		j = (j + 1) & (c->loc_cap - 1);
	}

	if (leaf && raw == CPROF_PC_THREAD_TAIL) {
		uint64_t fid = function_id(c, "[cprof: unsampled end of thread]", NULL, "", 0);
		struct pp_line ln = {fid, 0, 0};
		struct pp_location *tl = cprof__profile_add_location(c->p, 0, 0, &ln, 1);
		if (!tl) {
			c->err = -ENOMEM;
			return 0;
		}
		c->loc_pc[j] = key;
		c->loc_id[j] = tl->id;
		c->loc_n++;
		return tl->id;
	}

	uintptr_t pc = key;
	Dwfl_Module *mod = NULL;
	struct map *m = NULL;
	if (raw & TAG_BIT) {
		size_t ui = (raw & ~TAG_BIT) >> TAG_SHIFT;
		pc = (key & (((uintptr_t)1 << TAG_SHIFT) - 1));
		if (ui < nunloaded) {
			for (size_t i = 0; i < c->maps.n; i++)
				if (c->maps.v[i].unloaded && c->maps.v[i].bias == ui)
					m = &c->maps.v[i];
			if (!m && maps_add(&c->maps, unloaded[ui].lo, unloaded[ui].hi, 0, unloaded[ui].path) == 0) {
				m = &c->maps.v[c->maps.n - 1];
				m->unloaded = true;
				m->bias = ui;
				m->mod = offline_module(c, &unloaded[ui]);
			}
			mod = m ? m->mod : NULL;
		}
	} else {
		m = find_map(&c->maps, pc);
	}

	struct sym_frame fr[64];
	bool has_line;
	char namebuf[256];
	int n;
	const struct kept_pc *kp = c->kept && !(raw & TAG_BIT) ? keep_get(key) : NULL;
	if (kp) {
		n = kp->n;
		has_line = kp->has_line;
		for (int i = 0; i < n; i++)
			fr[i] = (struct sym_frame){kp->fr[i].name, kp->fr[i].system_name, NULL, kp->fr[i].file,
						   kp->fr[i].line, kp->fr[i].start_line};
	} else {
		if (!(raw & TAG_BIT))
			mod = c->dwfl ? dwfl_addrmodule(c->dwfl, pc) : NULL;
		n = describe(mod, pc, fr, 64, &has_line, namebuf, sizeof namebuf);
		if (c->kept && !(raw & TAG_BIT))
			keep_put(key, fr, n, has_line);
	}
	bool named = n > 0;
	if (n == 0) {
		/* Nothing names it (kept answers included): where its function starts. */
		if (!mod && !(raw & TAG_BIT))
			mod = c->dwfl ? dwfl_addrmodule(c->dwfl, pc) : NULL;
		if (cfi_name(mod, pc, namebuf, sizeof namebuf)) {
			fr[0] = (struct sym_frame){namebuf, namebuf, NULL, "", 0, 0};
			n = 1;
		}
	}
	struct pp_line lines[64];
	for (int i = 0; i < n; i++) {
		lines[i].function_id = function_id(c, fr[i].name, fr[i].system_name, fr[i].file, fr[i].start_line);
		free(fr[i].owned);
		lines[i].line = fr[i].line;
		lines[i].column = 0;
	}
	if (m) {
		m->any = true;
		if (!named)
			m->all_func = false; /* a reader with the symbols may still name the rest */
		if (has_line)
			m->any_line = true;
	}
	struct pp_location *loc = cprof__profile_add_location(c->p, 0, pc, lines, (size_t)n);
	if (!loc) {
		c->err = -ENOMEM;
		return 0;
	}
	/* Mapping ids are assigned after all locations are known; keep the map index. */
	loc->mapping_id = m ? (uint64_t)(m - c->maps.v) + 1 : 0;
	c->loc_pc[j] = key;
	c->loc_id[j] = loc->id;
	c->loc_n++;
	return loc->id;
}

static void build_id_hex(Dwfl *dwfl, struct map *m, char *out, size_t outlen)
{
	out[0] = 0;
	Dwfl_Module *mod = NULL;
	if (m->unloaded) {
		mod = m->mod;
	} else if (dwfl) {
		mod = dwfl_addrmodule(dwfl, m->start);
	}
	if (!mod)
		return;
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);
	for (int i = 0; i < len && (size_t)(2 * i + 2) < outlen; i++)
		snprintf(out + 2 * i, 3, "%02x", bits[i]);
}

/*
 * Which modules get DWARF (files, lines, inlined frames): by default those
 * whose own file carries it, which is the program and libraries built with
 * -g. Modules whose DWARF lives in a separate debug file (distribution
 * packages with -dbg/-dbgsym installed) get function names from that file's
 * symbol table but not its DWARF: unpacking glibc's alone costs about 60 ms
 * of CPU per profile written (docs/BENCHMARKS.md), for line numbers inside
 * libc that few readers want. CPROF_DEBUGINFO=all gives every module DWARF;
 * =none reads no separate debug file at all.
 */
static enum { DEBUGINFO_MAIN, DEBUGINFO_ALL, DEBUGINFO_NONE } debuginfo_policy;

static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			  char **debuginfo_file_name)
{
	if (debuginfo_policy == DEBUGINFO_NONE)
		return -1;
	return dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					    debuglink_crc, debuginfo_file_name);
}

/* Whether the module's own file (not a separate debug file) carries DWARF. */
static bool has_own_dwarf(Dwfl_Module *mod)
{
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0))
			return true;
	}
	return false;
}

/* Answers of module_wants_dwarf for this write (modules die with their Dwfl). */
static Dwfl_Module *seen[256];
static bool answer[256];
static size_t nseen;

static bool module_wants_dwarf(Dwfl_Module *mod)
{
	if (debuginfo_policy == DEBUGINFO_ALL)
		return true;
	for (size_t i = 0; i < nseen; i++)
		if (seen[i] == mod)
			return answer[i];
	bool a = has_own_dwarf(mod);
	if (nseen < 256) {
		seen[nseen] = mod;
		answer[nseen++] = a;
	}
	return a;
}

static void read_debuginfo_policy(void)
{
	nseen = 0;
	const char *v = cprof__config.secure ? NULL : getenv("CPROF_DEBUGINFO");
	debuginfo_policy = DEBUGINFO_MAIN;
	if (v && strcmp(v, "all") == 0)
		debuginfo_policy = DEBUGINFO_ALL;
	else if (v && strcmp(v, "none") == 0)
		debuginfo_policy = DEBUGINFO_NONE;
}

static char *find_debuginfo_path;
static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = find_debuginfo,
	.debuginfo_path = &find_debuginfo_path,
};

/* ---- sessions: any profile's stacks ---- */

/* This process's modules in a new Dwfl; NULL (logged) when libdwfl cannot read them. */
static Dwfl *proc_dwfl(void)
{
	Dwfl *d = dwfl_begin(&proc_callbacks);
	if (d) {
		dwfl_report_begin(d);
		if (dwfl_linux_proc_report(d, getpid()) != 0 || dwfl_report_end(d, NULL, NULL) != 0) {
			dwfl_end(d);
			d = NULL;
		}
	}
	if (!d)
		cprof__log("cannot read this process's modules with libdwfl (%s); the profile has addresses only",
			   dwfl_errmsg(-1));
	return d;
}

/* The kept state, read again when the loader's counts moved. unloaded_lock held. */
static bool keep_ready(void)
{
	unsigned long long g[2] = {~0ull, ~0ull};
	dl_iterate_phdr(loader_counts, g);
	if (keep.valid && keep.pid == getpid() && g[0] == keep.adds && g[1] == keep.subs && g[0] != ~0ull &&
	    keep.bytes <= KEEP_MAX_BYTES)
		return true;
	if (keep.pid != getpid())
		keep.dwfl = NULL; /* a fork child's copy: the parent's to end */
	keep_clear();
	keep.pid = getpid();
	keep.adds = g[0];
	keep.subs = g[1];
	read_maps(&keep.maps);
	keep.dwfl = proc_dwfl();
	keep.reloads++;
	keep.valid = keep.dwfl != NULL;
	return keep.valid;
}

/*
 * fork. A session holds unloaded_lock from begin to end, and inside it the
 * private arena's lock (every allocation of the session), the labels' lock
 * and, when the arena is full, the heap profiler's. A fork taken while
 * another thread was inside a session would leave the child a lock nobody
 * releases, and the child writes profiles (FILE.<pid> at exit, continuous
 * profiling): so the fork waits until no session runs. The prepare hooks of
 * every module whose locks a session may take inside (arena.c, prof_heap.c)
 * call cprof__sym_fork_prepare before taking their own, which makes the
 * order the sessions' one whatever order pthread_atfork runs them in: the
 * first call takes the lock, later ones count (the forking thread runs the
 * hooks one after another), and the last parent or child hook releases it.
 * Our own registration covers the sessions of a runtime whose arena and
 * heap profiler never started.
 */
static unsigned fork_depth; /* touched only by the forking thread, between prepare and parent/child */

void cprof__sym_fork_prepare(void)
{
	if (fork_depth++ == 0)
		pthread_mutex_lock(&unloaded_lock);
}

void cprof__sym_fork_parent(void)
{
	if (fork_depth > 0 && --fork_depth == 0)
		pthread_mutex_unlock(&unloaded_lock);
}

void cprof__sym_fork_child(void)
{
	if (fork_depth > 0 && --fork_depth == 0)
		pthread_mutex_init(&unloaded_lock, NULL); /* no session ran: the state under it is whole */
}

static void register_fork(void)
{
	pthread_atfork(cprof__sym_fork_prepare, cprof__sym_fork_parent, cprof__sym_fork_child);
}

struct rt_sym *cprof__sym_begin(struct profile *p)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_fork);
	struct ctx *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->p = p;
	/*
	 * Everything from here to cprof__sym_end is under the session lock: the
	 * tags of unloaded modules index a table that must hold still, and the
	 * debug-information policy and its per-module answers (seen[], nseen),
	 * the demangler and the kept state are globals every session shares.
	 */
	pthread_mutex_lock(&unloaded_lock);
	read_debuginfo_policy();
	if (keep_wanted && keep_ready()) {
		c->kept = true;
		c->dwfl = keep.dwfl;
		for (size_t i = 0; i < keep.maps.n && !c->err; i++)
			if (maps_add(&c->maps, keep.maps.v[i].start, keep.maps.v[i].end, keep.maps.v[i].offset,
				     keep.maps.v[i].path) != 0)
				c->err = -ENOMEM;
		return (struct rt_sym *)c;
	}
	read_maps(&c->maps);
	c->dwfl = proc_dwfl();
	return (struct rt_sym *)c;
}

void cprof__sym_keep(bool on)
{
	keep_wanted = on;
}

void cprof__sym_keep_release(void)
{
	pthread_mutex_lock(&unloaded_lock);
	if (keep.pid != getpid())
		keep.dwfl = NULL;
	keep_clear();
	pthread_mutex_unlock(&unloaded_lock);
}

void cprof__sym_keep_stats(uint64_t *bytes, uint64_t *pcs, uint64_t *reloads)
{
	pthread_mutex_lock(&unloaded_lock);
	*bytes = keep.bytes;
	*pcs = keep.n;
	*reloads = keep.reloads;
	pthread_mutex_unlock(&unloaded_lock);
}

int cprof__sym_stack(struct rt_sym *s, const uintptr_t *pcs, int n, bool leaf_is_pc, uint64_t *ids)
{
	struct ctx *c = (struct ctx *)s;
	int k = 0;
	for (int i = 0; i < n && !c->err; i++) {
		uint64_t id = location_id(c, pcs[i], leaf_is_pc && i == 0);
		if (id)
			ids[k++] = id;
	}
	return k;
}

uint64_t cprof__sym_special(struct rt_sym *s, const char *name)
{
	struct ctx *c = (struct ctx *)s;
	if (c->err)
		return 0;
	uint64_t fid = function_id(c, name, NULL, "", 0);
	struct pp_line ln = {fid, 0, 0};
	struct pp_location *loc = fid ? cprof__profile_add_location(c->p, 0, 0, &ln, 1) : NULL;
	if (!loc) {
		c->err = -ENOMEM;
		return 0;
	}
	return loc->id;
}

int cprof__sym_end(struct rt_sym *s)
{
	struct ctx *c = (struct ctx *)s;
	struct profile *p = c->p;
	/* Mappings: every executable mapping, in maps order (main program first). */
	uint64_t *map_id = calloc(c->maps.n + 1, sizeof *map_id);
	for (size_t i = 0; map_id && i < c->maps.n && !c->err; i++) {
		struct map *m = &c->maps.v[i];
		if (m->unloaded && !m->any)
			continue;
		struct pp_mapping *pm = cprof__profile_add_mapping(p);
		if (!pm) {
			c->err = -ENOMEM;
			break;
		}
		pm->memory_start = m->start;
		pm->memory_limit = m->end;
		pm->file_offset = m->offset;
		pm->filename = cprof__profile_intern(p, m->path, (size_t)-1);
		char bid[128];
		build_id_hex(c->dwfl, m, bid, sizeof bid);
		pm->build_id = cprof__profile_intern(p, bid, (size_t)-1);
		/* Functions: every address was named. Files, lines and inlined
		 * frames: the module's DWARF was read (a few addresses, _start or a
		 * PLT stub, have no line even then). */
		pm->has_functions = m->all_func;
		pm->has_filenames = m->any_line;
		pm->has_line_numbers = m->any_line;
		pm->has_inline_frames = m->any_line;
		map_id[i] = pm->id;
	}
	for (size_t i = 0; map_id && i < p->nlocation; i++) {
		uint64_t mi = p->location[i].mapping_id;
		p->location[i].mapping_id = (mi && mi <= c->maps.n) ? map_id[mi - 1] : 0;
	}
	/*
	 * The table these tags index goes away with the CPU profile, whose
	 * table holds them; any other session (a heap profile written first at
	 * exit, an HTTP request) leaves it for the CPU profile still to come.
	 */
	if (c->cpu) {
		for (size_t i = 0; i < nunloaded; i++)
			free(unloaded[i].path);
		nunloaded = 0;
	}
	pthread_mutex_unlock(&unloaded_lock);
	if (!map_id)
		c->err = -ENOMEM;
	free(map_id);

	if (c->dwfl && !c->kept)
		dwfl_end(c->dwfl);
	if (c->offline)
		dwfl_end(c->offline);
	for (size_t i = 0; i < c->maps.n; i++)
		free(c->maps.v[i].path);
	free(c->maps.v);
	for (size_t i = 0; i < c->fn_cap; i++)
		free(c->fns[i].key);
	free(c->fns);
	free(c->loc_pc);
	free(c->loc_id);
	int err = c->err;
	free(c);
	return err;
}

/* ---- the CPU profile ---- */

struct walk_arg {
	struct rt_sym *s;
	int64_t period;
	bool err;
};

static void add_stack(const uintptr_t *pcs, int n, const void *tag, uint64_t weight, void *arg)
{
	struct walk_arg *w = arg;
	if (w->err)
		return;
	uint64_t ids[CPROF_MAX_DEPTH_LIMIT];
	if (n > CPROF_MAX_DEPTH_LIMIT)
		n = CPROF_MAX_DEPTH_LIMIT;
	int k = cprof__sym_stack(w->s, pcs, n, true, ids);
	int64_t v[2] = {(int64_t)weight, (int64_t)weight * w->period};
	struct profile *p = ((struct ctx *)w->s)->p;
	struct pp_label labels[CPROF_LABELS_MAX];
	size_t nl = cprof__labels_to_pp(p, tag, labels, CPROF_LABELS_MAX);
	if (!cprof__profile_add_sample(p, ids, (size_t)k, v, 2, labels, nl))
		w->err = true;
}

static struct profile *symbolize_cpu(struct stacktab *t, const struct cpu_meta *meta)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, "samples", "count");
	cprof__profile_add_sample_type(p, "cpu", "nanoseconds");
	p->period_type.type = cprof__profile_intern(p, "cpu", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "nanoseconds", (size_t)-1);
	p->period = meta->period_ns;
	p->time_nanos = meta->time_nanos;
	p->duration_nanos = meta->duration_nanos;
	for (size_t i = 0; i < meta->ncomments; i++)
		cprof__profile_add_comment(p, meta->comments[i]);

	struct rt_sym *s = cprof__sym_begin(p);
	if (!s) {
		cprof__profile_free(p);
		return NULL;
	}
	((struct ctx *)s)->cpu = true;
	struct walk_arg w = {s, meta->period_ns, false};
	cprof__stacktab_foreach_tagged(t, add_stack, &w);
	if (meta->lost > 0 && !w.err) {
		/* Time we know was spent but not where: shown, not hidden. */
		uint64_t id = cprof__sym_special(s, "[cprof: lost samples]");
		int64_t v[2] = {(int64_t)meta->lost, (int64_t)meta->lost * meta->period_ns};
		if (id && !cprof__profile_add_sample(p, &id, 1, v, 2, NULL, 0))
			w.err = true;
	}
	if (cprof__sym_end(s) != 0 || w.err) {
		cprof__profile_free(p);
		return NULL;
	}
	return p;
}

struct profile *cprof__symbolize_cpu(struct stacktab *t, const struct cpu_meta *meta)
{
	cprof__arena_begin(); /* the profile and libdw's tables: not on the program's heap */
	struct profile *p = symbolize_cpu(t, meta);
	cprof__arena_end();
	return p;
}

/* ---- dlclose: remember the module, tag its frames ---- */

static uintptr_t tag_frame(uintptr_t pc, void *arg)
{
	return TAG_BIT | ((uintptr_t)arg << TAG_SHIFT) | pc;
}

struct range_arg {
	void *base_addr;
	uintptr_t lo, hi, bias;
	char path[PATH_MAX];
};

static int find_range(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct range_arg *r = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
		if (s < lo)
			lo = s;
		if (e > hi)
			hi = e;
	}
	if ((uintptr_t)r->base_addr == info->dlpi_addr && lo < hi && info->dlpi_name && info->dlpi_name[0]) {
		r->lo = lo;
		r->hi = hi;
		r->bias = info->dlpi_addr;
		snprintf(r->path, sizeof r->path, "%s", info->dlpi_name);
		return 1;
	}
	return 0;
}

static int still_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	return info->dlpi_addr == ((struct range_arg *)arg)->bias;
}

CPROF_API int dlclose(void *handle)
{
	static int (*real_dlclose)(void *);
	if (!real_dlclose)
		real_dlclose = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
	if (!real_dlclose)
		return -1;
	struct range_arg r;
	memset(&r, 0, sizeof r);
	struct link_map *lm = NULL;
	bool watch = cprof__cpu_active() && dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm;
	if (watch) {
		r.base_addr = (void *)lm->l_addr;
		if (!dl_iterate_phdr(find_range, &r))
			watch = false;
	}
	int rc = real_dlclose(handle);
	if (!watch || rc != 0 || dl_iterate_phdr(still_loaded, &r))
		return rc;
	/* The module is gone: tag its frames so they are named from its file. */
	pthread_mutex_lock(&unloaded_lock);
	struct stacktab *t = cprof__cpu_table();
	if (t && nunloaded < MAX_UNLOADED) {
		char *path = strdup(r.path);
		if (path) {
			size_t ui = nunloaded++;
			unloaded[ui].lo = r.lo;
			unloaded[ui].hi = r.hi;
			unloaded[ui].bias = r.bias;
			unloaded[ui].path = path;
			cprof__stacktab_rewrite(t, r.lo, r.hi, tag_frame, (void *)ui);
		}
	}
	pthread_mutex_unlock(&unloaded_lock);
	return rc;
}
