/*
 * disasm.c - the -disasm=RE report (pprof's printAssembly): for every
 * symbol of the profiled binaries whose name matches RE and that has
 * samples, a ROUTINE header, its flat and cum sums, and one line per
 * instruction with the samples at that address, annotated with the
 * function, file and line of the first sample when they change.
 *
 * It owns the address-granularity nodes pprof builds for this report
 * (noinlines, object file names kept, nothing trimmed), the symbol tables
 * of the binaries (ELF .symtab through libelf, as Go's objfile reads it),
 * the mapping of profile addresses back to file addresses for PIE and
 * shared objects, and running binutils' objdump on each symbol's range.
 * objdump is found as pprof's binutils find it (-tools, $PPROF_TOOLS).
 * Instruction text is objdump's GNU AT&T syntax (Intel with -intel_syntax),
 * not the Plan 9 syntax of go tool pprof (docs/pprof-differences.md); every
 * other byte is pprof's.
 * Finding the binaries (PPROF_BINARY_PATH, the leading binary argument) is
 * source/'s job: mapping file names arrive here already resolved.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/report/report.h"
#include "cli/source/source.h"

/* ---- nodes at address granularity (graph.New with ObjNames and noinlines) ---- */

struct anode {
	uint64_t address;
	const char *name;  /* "" without a function */
	char *file;        /* filepath.Base of the cleaned file name, "" when none */
	char *path;        /* the cleaned file name, for PrintableName */
	int64_t lineno, start_line;
	const char *objfile;
	int64_t flat, flat_div, cum, cum_div;
	size_t seen;
	char *namebuf;
};

struct agraph {
	struct anode *n;
	size_t nn;
	size_t *loc_node; /* per location: node index, SIZE_MAX for none */
};

/* filepath.Clean, enough for the base name: "" stays "". */
static char *clean_path(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	size_t w = 0;
	bool rooted = s[0] == '/';
	if (rooted)
		out[w++] = '/';
	for (size_t r = 0; r < n;) {
		while (r < n && s[r] == '/')
			r++;
		size_t e = r;
		while (e < n && s[e] != '/')
			e++;
		size_t len = e - r;
		if (len == 0 || (len == 1 && s[r] == '.')) {
			r = e;
			continue;
		}
		if (len == 2 && s[r] == '.' && s[r + 1] == '.') {
			size_t floor = rooted ? 1 : 0;
			size_t back = w;
			while (back > floor && out[back - 1] != '/')
				back--;
			bool dotdot = back + 2 == w && out[back] == '.' && out[back + 1] == '.';
			if (w > floor && !dotdot) {
				w = back > floor ? back - 1 : floor;
				r = e;
				continue;
			}
			if (rooted) {
				r = e;
				continue;
			}
		}
		if (w > (rooted ? 1u : 0u))
			out[w++] = '/';
		memcpy(out + w, s + r, len);
		w += len;
		r = e;
	}
	if (w == 0 && n > 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

static int same_info(const struct anode *a, const struct anode *b)
{
	return a->address == b->address && a->lineno == b->lineno &&
	       a->start_line == b->start_line && strcmp(a->name, b->name) == 0 &&
	       strcmp(a->path, b->path) == 0 && strcmp(a->objfile, b->objfile) == 0;
}

static void agraph_release(struct agraph *g)
{
	for (size_t i = 0; i < g->nn; i++) {
		free(g->n[i].path);
		free(g->n[i].namebuf);
	}
	free(g->n);
	free(g->loc_node);
}

static int build(const struct report *r, struct agraph *g)
{
	const struct profile *p = r->prof;
	g->n = calloc(p->nlocation + 1, sizeof(*g->n));
	g->loc_node = calloc(p->nlocation + 1, sizeof(size_t));
	if (!g->n || !g->loc_node)
		return -ENOMEM;
	/* Nodes with equal infos are one node; locations are few enough to hash by address. */
	size_t nslot = 16;
	while (nslot < p->nlocation * 2)
		nslot *= 2;
	size_t *slot = calloc(nslot, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < p->nlocation; i++) {
		const struct pp_location *l = &p->location[i];
		const struct pp_mapping *m = l->mapping_id ? cprof__profile_mapping(p, l->mapping_id) : NULL;
		struct anode *n = &g->n[g->nn];
		memset(n, 0, sizeof(*n));
		n->address = l->address;
		n->objfile = m ? cprof__profile_str(p, m->filename) : "";
		n->name = "";
		const struct pp_function *fn =
			l->nline ? cprof__profile_function(p, l->line[l->nline - 1].function_id) : NULL;
		if (fn) {
			n->name = cprof__report_function_name(p, fn, &n->namebuf);
			n->lineno = l->line[l->nline - 1].line;
			n->start_line = fn->start_line;
		}
		const char *fname = fn ? cprof__profile_str(p, fn->filename) : "";
		n->path = clean_path(fname);
		if (!n->path) {
			free(n->namebuf);
			free(slot);
			return -ENOMEM;
		}
		n->file = fname[0] ? (char *)base_name(n->path) : n->path;
		size_t j = (size_t)((n->address * 0x9E3779B97F4A7C15ULL) >> 20) & (nslot - 1);
		for (; slot[j]; j = (j + 1) & (nslot - 1))
			if (same_info(&g->n[slot[j] - 1], n))
				break;
		if (slot[j]) {
			free(n->path);
			free(n->namebuf);
			g->loc_node[i] = slot[j] - 1;
		} else {
			slot[j] = ++g->nn;
			g->loc_node[i] = g->nn - 1;
		}
	}
	free(slot);
	for (size_t s = 0; s < p->nsample; s++) {
		const struct pp_sample *sm = &p->sample[s];
		int64_t w = sm->value[r->value_index];
		int64_t dw = r->opt.mean ? sm->value[0] : 0;
		if (w == 0 && dw == 0)
			continue;
		size_t leaf = SIZE_MAX;
		for (size_t i = sm->nlocation; i-- > 0;) {
			const struct pp_location *l = cprof__profile_location(p, sm->location_id[i]);
			if (!l)
				continue;
			struct anode *n = &g->n[g->loc_node[l - p->location]];
			if (n->seen != s + 1) {
				n->seen = s + 1;
				n->cum += w;
				n->cum_div += dw;
			}
			leaf = g->loc_node[l - p->location];
		}
		if (leaf != SIZE_MAX) {
			g->n[leaf].flat += w;
			g->n[leaf].flat_div += dw;
		}
	}
	return 0;
}

static bool kept(const struct report *r, const struct anode *n)
{
	if (n->flat == 0 && n->cum == 0)
		return false;
	if (r->opt.drop_negative && (n->flat < 0 || (n->flat == 0 && n->cum < 0)))
		return false;
	return true;
}

/* graph.NodeInfo.PrintableName at address granularity (malloc'd). */
static char *printable(const struct anode *n)
{
	char *s = NULL;
	char addr[24] = "";
	if (n->address)
		snprintf(addr, sizeof(addr), "%016" PRIx64, n->address);
	const char *sep1 = addr[0] && n->name[0] ? " " : "";
	char *tail = NULL;
	int rc;
	if (n->lineno)
		rc = asprintf(&tail, "%s:%" PRId64, n->path, n->lineno);
	else if (n->path[0])
		rc = asprintf(&tail, "%s", n->path);
	else if (n->name[0])
		rc = asprintf(&tail, "%s", "");
	else if (n->objfile[0])
		rc = asprintf(&tail, "[%s]", base_name(n->objfile));
	else
		rc = asprintf(&tail, "<unknown>");
	if (rc < 0)
		return NULL;
	const char *sep2 = tail[0] && (addr[0] || n->name[0]) ? " " : "";
	if (asprintf(&s, "%s%s%s%s%s", addr, sep1, n->name, sep2, tail) < 0)
		s = NULL;
	free(tail);
	return s;
}

/* ---- binaries: symbols and the address translation ---- */

struct sym {
	char *name;
	uint64_t start, end; /* end as pprof's Sym.End: the last byte */
	size_t mapping;      /* index in the profile's mappings */
	uint64_t bias;       /* profile address - bias = file address */
	uint64_t lo, hi;     /* for PIE: the mapping's range, nodes outside never count */
	uint64_t text_lo, text_hi; /* .text, the only section Go's disassembler decodes */
	size_t *nodes, nnodes;
};

struct binary {
	Elf *elf;
	int fd;
	bool dyn;
	uint64_t bias, text_lo, text_hi;
};

static int open_binary(const char *path, const struct pp_mapping *m, struct binary *b,
		       char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0) {
		snprintf(err, errlen, "-disasm: cannot open binary %s: %s (give the binary as the "
			 "first argument or put it under PPROF_BINARY_PATH)", path, strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	b->elf = elf_begin(b->fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	if (!b->elf || elf_kind(b->elf) != ELF_K_ELF || !gelf_getehdr(b->elf, &eh)) {
		snprintf(err, errlen, "-disasm: %s is not an ELF binary", path);
		if (b->elf)
			elf_end(b->elf);
		close(b->fd);
		return -1;
	}
	/*
	 * Go's objfile maps nothing: profile addresses are taken as file
	 * addresses, which holds for ET_EXEC. A PIE or shared object is placed
	 * back through its mapping: the PT_LOAD segment holding the mapped
	 * offset gives the file's virtual address of memory_start.
	 */
	b->dyn = eh.e_type == ET_DYN;
	size_t nph = 0;
	elf_getphdrnum(b->elf, &nph);
	if (b->dyn) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(b->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			if (m->file_offset >= ph.p_offset && m->file_offset < ph.p_offset + ph.p_memsz) {
				uint64_t vaddr = ph.p_vaddr + (m->file_offset - ph.p_offset);
				b->bias = m->memory_start - vaddr;
				break;
			}
		}
	}
	size_t shstrndx;
	elf_getshdrstrndx(b->elf, &shstrndx);
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(b->elf, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *nm = elf_strptr(b->elf, shstrndx, sh.sh_name);
		if (nm && strcmp(nm, ".text") == 0) {
			b->text_lo = sh.sh_addr;
			b->text_hi = sh.sh_addr + sh.sh_size;
		}
	}
	return 0;
}

/* Symbols of .symtab matching re (and containing addr when not 0), as objfile.Symbols. */
static int add_symbols(struct binary *b, size_t mi, const struct pp_mapping *m, const regex_t *re,
		       uint64_t addr, struct sym **syms, size_t *nsyms, size_t *cap)
{
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(b->elf, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		size_t n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 1; i < n; i++) {
			GElf_Sym s;
			if (!gelf_getsym(d, (int)i, &s))
				continue;
			if (s.st_value == 0 && s.st_size == 0)
				continue;
			const char *name = elf_strptr(b->elf, sh.sh_link, s.st_name);
			if (!name || regexec(re, name, 0, NULL, 0) != 0)
				continue;
			if (addr && !(s.st_value <= addr && addr < s.st_value + s.st_size))
				continue;
			if (*nsyms == *cap) {
				size_t nc = *cap ? *cap * 2 : 32;
				struct sym *ns = realloc(*syms, nc * sizeof(*ns));
				if (!ns)
					return -ENOMEM;
				*syms = ns;
				*cap = nc;
			}
			struct sym *y = &(*syms)[*nsyms];
			memset(y, 0, sizeof(*y));
			y->name = strdup(name);
			if (!y->name)
				return -ENOMEM;
			y->start = s.st_value;
			y->end = s.st_value + s.st_size - 1;
			y->mapping = mi;
			y->bias = b->bias;
			y->lo = b->dyn ? m->memory_start : 0;
			y->hi = b->dyn ? m->memory_limit : UINT64_MAX;
			y->text_lo = b->text_lo;
			y->text_hi = b->text_hi;
			(*nsyms)++;
		}
	}
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->mapping < y->mapping ? -1 : x->mapping > y->mapping;
}

/* ---- objdump ---- */

/*
 * The objdump to run: $CPROF_OBJDUMP, else as pprof's binutils.initTools
 * reads -tools (default $PPROF_TOOLS): comma-separated entries, "DIR" for
 * every tool or "objdump:DIR" for objdump alone (searched first); DIR/objdump
 * must be executable. An empty entry (or no -tools) means $PATH. NULL with
 * a reason in err when -tools names no usable objdump.
 */
static const char *find_objdump(const char *tools, char *buf, size_t len, char *err,
				size_t errlen)
{
	const char *env = getenv("CPROF_OBJDUMP");
	if (env && env[0])
		return env;
	if (!tools || !tools[0])
		return "objdump";
	for (int pass = 0; pass < 2; pass++) {
		const char *s = tools;
		for (;;) {
			size_t n = strcspn(s, ",");
			const char *colon = memchr(s, ':', n);
			const char *dir = s;
			size_t dlen = n;
			bool named = colon != NULL;
			if (named) {
				dir = colon + 1;
				dlen = n - (size_t)(dir - s);
			}
			bool mine = named ? (size_t)(colon - s) == 7 && strncmp(s, "objdump", 7) == 0
					  : true;
			if (mine && named == (pass == 0)) {
				if (dlen == 0)
					return "objdump"; /* filepath.Join("", "objdump"): $PATH */
				snprintf(buf, len, "%.*s/objdump", (int)dlen, dir);
				if (access(buf, X_OK) == 0)
					return buf;
			}
			if (!s[n])
				break;
			s += n + 1;
		}
	}
	snprintf(err, errlen, "-disasm: no objdump found in -tools=%s (or $PPROF_TOOLS): "
		 "give the directory that holds binutils' objdump", tools);
	return NULL;
}

int cprof__report_objdump(const struct report_options *o, const char *path, uint64_t start,
			  uint64_t stop, struct report_inst **out, size_t *nout, char *err, size_t errlen)
{
	char a1[64], a2[64], tbuf[4096];
	snprintf(a1, sizeof(a1), "--start-address=0x%" PRIx64, start);
	snprintf(a2, sizeof(a2), "--stop-address=0x%" PRIx64, stop);
	const char *tool = find_objdump(o->tools, tbuf, sizeof(tbuf), err, errlen);
	if (!tool)
		return -EINVAL;
	/* binutils.Disasm: -M intel for Intel syntax */
	char *argv[12] = {(char *)tool, "-d", "-z", "-w", "--no-show-raw-insn", a1, a2};
	int na = 7;
	if (o->intel_syntax) {
		argv[na++] = "-M";
		argv[na++] = "intel";
	}
	argv[na++] = (char *)path;
	argv[na] = NULL;
	int fds[2];
	if (pipe(fds) < 0)
		return -ENOMEM;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -ENOMEM;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		int dn = open("/dev/null", O_WRONLY);
		if (dn >= 0)
			dup2(dn, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	if (!f) {
		close(fds[0]);
		waitpid(pid, NULL, 0);
		return -ENOMEM;
	}
	char *line = NULL;
	size_t lcap = 0, cap = 0;
	int rc = 0;
	*out = NULL;
	*nout = 0;
	while (getline(&line, &lcap, f) >= 0) {
		/* "  401200:\tmov    %rdi,%rax" -- headers, labels and blank lines do not match. */
		char *s = line, *end;
		while (*s == ' ')
			s++;
		uint64_t addr = strtoull(s, &end, 16);
		if (end == s || end[0] != ':' || end[1] != '\t')
			continue;
		char *text = end + 2;
		size_t tl = strlen(text);
		while (tl > 0 && (text[tl - 1] == '\n' || text[tl - 1] == ' ' || text[tl - 1] == '\t'))
			text[--tl] = '\0';
		if (rc == 0 && *nout == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct report_inst *ni = realloc(*out, nc * sizeof(*ni));
			if (!ni) {
				rc = -ENOMEM;
				continue;
			}
			*out = ni;
			cap = nc;
		}
		if (rc == 0) {
			(*out)[*nout].addr = addr;
			(*out)[(*nout)++].text = strdup(text);
			if (!(*out)[*nout - 1].text)
				rc = -ENOMEM;
		}
	}
	free(line);
	fclose(f);
	int status = 0;
	waitpid(pid, &status, 0);
	if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		snprintf(err, errlen, "-disasm needs binutils' %s, which could not be run: install "
			 "binutils (apt-get install binutils), or set -tools or CPROF_OBJDUMP", tool);
		rc = -EINVAL;
	} else if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		snprintf(err, errlen, "-disasm: %s failed on %s", tool, path);
		rc = -EINVAL;
	}
	return rc;
}

void cprof__report_insts_free(struct report_inst *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

/* ---- the report ---- */

static void value_or_dot(const struct report *r, char *buf, size_t len, int64_t v)
{
	if (v == 0)
		snprintf(buf, len, ".");
	else
		cprof__report_format(r, buf, len, v);
}

static int64_t div_value(int64_t v, int64_t d)
{
	return d ? v / d : v;
}

/* strconv.ParseUint(s, 0, 64) */
bool cprof__report_parse_address(const char *s, uint64_t *v)
{
	int base = 10;
	const char *d = s;
	if (!s || !s[0])
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, d = s + 2;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, d = s + 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, d = s + 2;
	else if (s[0] == '0' && s[1])
		base = 8, d = s + 1;
	if (!*d)
		return false;
	for (const char *c = d; *c; c++) {
		int k = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'z' ? *c - 'a' + 10
		      : *c >= 'A' && *c <= 'Z' ? *c - 'A' + 10 : 99;
		if (k >= base)
			return false;
	}
	errno = 0;
	*v = strtoull(d, NULL, base);
	return errno == 0;
}

static int cmp_addr(const void *a, const void *b, void *ctx)
{
	const struct agraph *g = ctx;
	const struct anode *x = &g->n[*(const size_t *)a], *y = &g->n[*(const size_t *)b];
	if (x->address != y->address)
		return x->address < y->address ? -1 : 1;
	/* compareNodes: by info, which at this granularity rarely ties */
	int c = strcmp(x->name, y->name);
	if (!c)
		c = strcmp(x->path, y->path);
	if (!c && x->lineno != y->lineno)
		c = x->lineno < y->lineno ? -1 : 1;
	if (!c)
		c = strcmp(x->objfile, y->objfile);
	return c;
}

static void print_symbol(const struct report *r, const struct agraph *g, const struct sym *s,
			 const struct report_inst *in, size_t nin, FILE *out)
{
	int64_t flat_sum = 0, cum_sum = 0;
	for (size_t i = 0; i < s->nnodes; i++) {
		flat_sum += g->n[s->nodes[i]].flat;
		cum_sum += g->n[s->nodes[i]].cum;
	}
	char b1[128], b2[128], pct[32];
	fprintf(out, "ROUTINE ======================== %s\n", s->name);
	fprintf(out, "%10s %10s (flat, cum) %s of Total\n",
		cprof__report_format(r, b1, sizeof(b1), flat_sum),
		cprof__report_format(r, b2, sizeof(b2), cum_sum),
		cprof__units_percentage(pct, sizeof(pct), cum_sum, r->total));
	const char *pfn = "", *pfile = "";
	int64_t pline = 0;
	size_t k = 0;
	for (size_t i = 0; i < nin; i++) {
		uint64_t next = i + 1 < nin ? in[i + 1].addr : UINT64_MAX;
		int64_t flat = 0, flat_div = 0, cum = 0, cum_div = 0;
		const char *fn = "", *file = "";
		int64_t line = 0;
		for (; k < s->nnodes; k++) {
			const struct anode *n = &g->n[s->nodes[k]];
			if (n->address - s->bias >= next)
				break;
			flat += n->flat;
			flat_div += n->flat_div;
			cum += n->cum;
			cum_div += n->cum_div;
			if (!file[0])
				file = n->file;
			if (!line)
				line = n->lineno;
			if (!fn[0])
				fn = n->name;
		}
		char loc[1024] = "";
		if (strcmp(fn, pfn) != 0 || strcmp(file, pfile) != 0 || line != pline) {
			pfn = fn;
			pfile = file;
			pline = line;
			size_t w = 0;
			if (fn[0])
				w += (size_t)snprintf(loc, sizeof(loc), "%s ", fn);
			if (file[0] && w < sizeof(loc)) {
				w += (size_t)snprintf(loc + w, sizeof(loc) - w, "%s", file);
				if (line && w < sizeof(loc))
					snprintf(loc + w, sizeof(loc) - w, ":%" PRId64, line);
			}
		}
		value_or_dot(r, b1, sizeof(b1), div_value(flat, flat_div));
		value_or_dot(r, b2, sizeof(b2), div_value(cum, cum_div));
		if (!loc[0]) {
			fprintf(out, "%10s %10s %10" PRIx64 ": %s\n", b1, b2, in[i].addr, in[i].text);
		} else if (strlen(in[i].text) < 40) {
			fprintf(out, "%10s %10s %10" PRIx64 ": %-40s;%s\n", b1, b2, in[i].addr,
				in[i].text, loc);
		} else {
			fprintf(out, "%74s;%s\n", "", loc);
			fprintf(out, "%10s %10s %10" PRIx64 ": %s\n", b1, b2, in[i].addr, in[i].text);
		}
	}
}

int cprof__report_disasm(struct report *r, const regex_t *re, FILE *out, char *err, size_t errlen)
{
	const struct profile *p = r->prof;
	struct agraph g = {0};
	struct sym *syms = NULL;
	size_t nsyms = 0, cap = 0;
	bool *has = NULL;
	int rc = -ENOMEM;
	err[0] = '\0';
	if (build(r, &g) < 0)
		goto out;
	uint64_t address = 0;
	bool have_addr = cprof__report_parse_address(r->opt.symbol, &address);

	/* symbolsFromBinaries: mappings whose file has a node matching re, or holds the address. */
	has = calloc(p->nmapping + 1, sizeof(*has));
	if (!has)
		goto out;
	for (size_t i = 0; i < g.nn; i++) {
		if (!kept(r, &g.n[i]) || !g.n[i].objfile[0])
			continue;
		char *name = printable(&g.n[i]);
		if (!name)
			goto out;
		if (regexec(re, name, 0, NULL, 0) == 0)
			for (size_t m = 0; m < p->nmapping; m++)
				if (strcmp(cprof__profile_str(p, p->mapping[m].filename), g.n[i].objfile) == 0)
					has[m] = true;
		free(name);
	}
	fprintf(out, "Total: %s\n", cprof__report_format(r, (char[128]){0}, 128, r->total));
	for (size_t m = 0; m < p->nmapping; m++) {
		const struct pp_mapping *mp = &p->mapping[m];
		if (!has[m] && !(have_addr && mp->memory_start <= address && address <= mp->memory_limit))
			continue;
		const char *file = cprof__profile_str(p, mp->filename);
		if (cprof__source_unsymbolizable(file) || file[0] == '[')
			continue; /* [vdso] and friends have no file to read */
		struct binary b;
		if (open_binary(file, mp, &b, err, errlen) < 0) {
			rc = -EINVAL;
			goto out;
		}
		rc = add_symbols(&b, m, mp, re, have_addr ? address : 0, &syms, &nsyms, &cap);
		elf_end(b.elf);
		close(b.fd);
		if (rc < 0)
			goto out;
		rc = -ENOMEM;
	}
	/* nodesPerSymbol: every node whose (file) address falls in [Start, End). */
	size_t *order = calloc(g.nn + 1, sizeof(*order));
	if (!order)
		goto out;
	size_t norder = 0;
	for (size_t i = 0; i < g.nn; i++)
		if (kept(r, &g.n[i]))
			order[norder++] = i;
	qsort_r(order, norder, sizeof(*order), cmp_addr, &g);
	size_t nprint = 0;
	for (size_t i = 0; i < nsyms; i++) {
		struct sym *s = &syms[i];
		for (size_t k = 0; k < norder; k++) {
			const struct anode *n = &g.n[order[k]];
			if (n->address < s->lo || n->address >= s->hi)
				continue;
			uint64_t a = n->address - s->bias;
			if (a >= s->start && a < s->end) {
				if (!s->nodes) {
					s->nodes = calloc(norder, sizeof(size_t));
					if (!s->nodes) {
						free(order);
						goto out;
					}
				}
				s->nodes[s->nnodes++] = order[k];
			}
		}
		nprint += s->nnodes > 0;
	}
	free(order);
	if (nprint == 0) {
		rc = -ENOENT;
		goto out;
	}
	qsort(syms, nsyms, sizeof(*syms), cmp_sym);
	for (size_t i = 0; i < nsyms; i++) {
		struct sym *s = &syms[i];
		if (!s->nnodes)
			continue;
		struct report_inst *in = NULL;
		size_t nin = 0;
		/* Go decodes [Start, End) of .text only: a symbol's last byte is never decoded. */
		uint64_t lo = s->start < s->text_lo ? s->text_lo : s->start;
		uint64_t hi = s->end > s->text_hi ? s->text_hi : s->end;
		if (lo < hi) {
			const char *file = cprof__profile_str(p, p->mapping[s->mapping].filename);
			rc = cprof__report_objdump(&r->opt, file, lo, s->end + 1, &in, &nin, err, errlen);
			if (rc < 0) {
				cprof__report_insts_free(in, nin);
				goto out;
			}
			rc = -ENOMEM;
			while (nin > 0 && in[nin - 1].addr >= hi)
				free(in[--nin].text);
		}
		print_symbol(r, &g, s, in, nin, out);
		cprof__report_insts_free(in, nin);
	}
	rc = ferror(out) ? -EIO : 0;
out:
	for (size_t i = 0; i < nsyms; i++) {
		free(syms[i].name);
		free(syms[i].nodes);
	}
	free(syms);
	free(has);
	agraph_release(&g);
	return rc;
}
