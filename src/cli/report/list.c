/*
 * list.c - the -list=RE report (pprof's printSource): for every function
 * whose name matches RE, and every source file it has samples in, a ROUTINE
 * header and the file's lines around the samples with flat and cum values
 * per line ("." for none).
 *
 * It owns pprof's line-granularity nodes as graph.New makes them for this
 * report (object file names kept, nodes in location order), the choice of
 * the line range, and finding and reading source files as pprof's
 * sourceReader does (for weblist.c too): -trim_path prefixes (or the
 * heuristic on the search path's base names), then the file as is when
 * absolute, else under each -source_path entry (default: the working
 * directory) and its parents.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/report/report.h"
#include "common/path.h"

/* ---- Go's path/filepath on strings (malloc'd results; Clean is common/path.c) ---- */

static char *go_join(const char *dir, const char *path)
{
	char *j;
	if (!dir[0])
		return cprof__path_clean(path);
	if (asprintf(&j, "%s/%s", dir, path) < 0)
		return NULL;
	char *c = cprof__path_clean(j);
	free(j);
	return c;
}

/* filepath.Dir */
static char *go_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d = slash ? strndup(path, (size_t)(slash - path + 1)) : strdup("");
	if (!d)
		return NULL;
	char *c = cprof__path_clean(d);
	free(d);
	return c;
}

/* filepath.Base */
static char *go_base(const char *path)
{
	if (!path[0])
		return strdup(".");
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 1 && path[0] == '/')
		return strdup("/");
	size_t s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	return strndup(path + s, n - s);
}

/* filepath.SplitList: ':'-separated, nothing for "". Returns count; *out malloc'd strings. */
static size_t split_list(const char *s, char ***out)
{
	*out = NULL;
	if (!s || !s[0])
		return 0;
	size_t n = 1;
	for (const char *c = s; *c; c++)
		n += *c == ':';
	char **v = calloc(n, sizeof(*v));
	if (!v)
		return 0;
	const char *start = s;
	for (size_t i = 0; i < n; i++) {
		const char *e = strchr(start, ':');
		size_t len = e ? (size_t)(e - start) : strlen(start);
		v[i] = strndup(start, len);
		start = e ? e + 1 : start + len;
	}
	*out = v;
	return n;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* report.trimPath: returns a pointer into path. */
const char *cprof__report_trim_path(const char *path, const char *trim, const char *search)
{
	char **l;
	size_t n;
	if (!trim || !trim[0]) {
		n = split_list(search, &l);
		for (size_t i = 0; i < n; i++) {
			char *b = go_base(l[i]), *want = NULL;
			if (b && asprintf(&want, "/%s/", b) < 0)
				want = NULL;
			free(b);
			const char *found = want ? strstr(path, want) : NULL;
			size_t wl = want ? strlen(want) : 0;
			free(want);
			if (found) {
				free_list(l, n);
				return found + wl;
			}
		}
		free_list(l, n);
	}
	n = split_list(trim, &l);
	const char *res = path;
	for (size_t i = 0; i < n + 2 && res == path; i++) {
		const char *t = i < n ? l[i] : i == n ? "/proc/self/cwd/./" : "/proc/self/cwd/";
		size_t tl = strlen(t);
		bool slash = tl > 0 && t[tl - 1] == '/';
		if (strncmp(path, t, tl) == 0 && (slash || path[tl] == '/'))
			res = path + tl + !slash;
	}
	free_list(l, n);
	return res;
}

/* ---- the source reader ---- */

FILE *cprof__report_open_source(const char *path, const char *search, const char *trim, char **error)
{
	path = cprof__report_trim_path(path, trim, search);
	*error = NULL;
	if (path[0] == '/') {
		FILE *f = fopen(path, "r");
		if (!f) {
			/* Go's syscall errors are lower case. */
			char msg[256];
			snprintf(msg, sizeof(msg), "%s", strerror(errno));
			if (msg[0] >= 'A' && msg[0] <= 'Z')
				msg[0] = (char)(msg[0] - 'A' + 'a');
			if (asprintf(error, "open %s: %s", path, msg) < 0)
				*error = NULL;
		}
		return f;
	}
	char **dirs;
	size_t n = split_list(search, &dirs);
	for (size_t i = 0; i < n; i++) {
		char *dir = strdup(dirs[i]);
		while (dir) {
			char *name = go_join(dir, path);
			FILE *f = name ? fopen(name, "r") : NULL;
			free(name);
			if (f) {
				free(dir);
				free_list(dirs, n);
				return f;
			}
			char *parent = go_dir(dir);
			if (!parent || strcmp(parent, dir) == 0) {
				free(parent);
				free(dir);
				break;
			}
			free(dir);
			dir = parent;
		}
	}
	free_list(dirs, n);
	if (asprintf(error, "could not find file %s on path %s", path, search) < 0)
		*error = NULL;
	return NULL;
}

struct report_srcfile *cprof__report_source_file(struct report_sources *rd, const char *path)
{
	for (size_t i = 0; i < rd->n; i++)
		if (strcmp(rd->f[i].path, path) == 0)
			return &rd->f[i];
	if (rd->n == rd->cap) {
		size_t cap = rd->cap ? rd->cap * 2 : 8;
		struct report_srcfile *nf = realloc(rd->f, cap * sizeof(*nf));
		if (!nf)
			return NULL;
		rd->f = nf;
		rd->cap = cap;
	}
	struct report_srcfile *sf = &rd->f[rd->n];
	memset(sf, 0, sizeof(*sf));
	sf->path = strdup(path);
	if (!sf->path)
		return NULL;
	rd->n++;
	FILE *f = cprof__report_open_source(path, rd->search, rd->trim, &sf->error);
	if (!f) {
		if (!sf->error)
			sf->error = strdup("out of memory");
		return sf;
	}
	char *line = NULL;
	size_t cap = 0, ncap = 0;
	ssize_t len;
	/* bufio.Scanner with ScanLines: "\n" ends a line, a "\r" before it is dropped. */
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (sf->nline + 2 > ncap) {
			ncap = ncap ? ncap * 2 : 256;
			char **nl = realloc(sf->line, ncap * sizeof(*nl));
			if (!nl)
				break;
			sf->line = nl;
		}
		sf->line[++sf->nline] = strdup(line);
		if (!sf->line[sf->nline]) {
			sf->nline--;
			break;
		}
	}
	free(line);
	fclose(f);
	return sf;
}

void cprof__report_sources_release(struct report_sources *rd)
{
	for (size_t i = 0; i < rd->n; i++) {
		for (size_t j = 1; j <= rd->f[i].nline; j++)
			free(rd->f[i].line[j]);
		free(rd->f[i].line);
		free(rd->f[i].path);
		free(rd->f[i].error);
	}
	free(rd->f);
}

/* sourceReader.line: the text of line lineno, NULL when there is none. */
const char *cprof__report_source_line(struct report_sources *rd, const char *path, int64_t lineno)
{
	struct report_srcfile *sf = cprof__report_source_file(rd, path);
	if (!sf || lineno <= 0 || (size_t)lineno > sf->nline)
		return NULL;
	return sf->line[lineno];
}

/* ---- nodes at line granularity ---- */

struct lnode {
	char *name;       /* function name ("" without a function) */
	char *file;       /* cleaned, trimmed; "" when unknown */
	int64_t lineno, start_line;
	const char *objfile;
	int64_t flat, cum;
	size_t seen;      /* last sample that added cum, + 1 */
	uint64_t hash;
};

struct lgraph {
	struct lnode *n;
	size_t nn, cap;
	size_t *loc_start; /* per location: first index in loc_node */
	size_t *loc_n;
	size_t *loc_node;
	size_t *slot;      /* node index + 1, 0 = empty */
	size_t nslot;
};

static uint64_t node_hash(const char *name, const char *file, int64_t lineno, int64_t start,
			  const char *objfile)
{
	uint64_t h = REPORT_FNV_BASIS;
	const char *parts[3] = {name, file, objfile};
	for (int k = 0; k < 3; k++)
		h = cprof__report_fnv(parts[k], strlen(parts[k]) + 1, h);
	h = (h ^ (uint64_t)lineno) * 1099511628211ULL;
	h = (h ^ (uint64_t)start) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static int grow_slots(struct lgraph *g)
{
	size_t n = g->nslot ? g->nslot * 2 : 1024;
	size_t *slot = calloc(n, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < g->nn; i++) {
		size_t j = g->n[i].hash & (n - 1);
		while (slot[j])
			j = (j + 1) & (n - 1);
		slot[j] = i + 1;
	}
	free(g->slot);
	g->slot = slot;
	g->nslot = n;
	return 0;
}

static size_t find_node(struct lgraph *g, const char *name, const char *file, int64_t lineno,
			int64_t start, const char *objfile)
{
	if ((g->nn + 1) * 2 > g->nslot && grow_slots(g) < 0)
		return SIZE_MAX;
	uint64_t h = node_hash(name, file, lineno, start, objfile);
	size_t j = h & (g->nslot - 1);
	for (; g->slot[j]; j = (j + 1) & (g->nslot - 1)) {
		const struct lnode *n = &g->n[g->slot[j] - 1];
		if (n->hash == h && n->lineno == lineno && n->start_line == start &&
		    strcmp(n->name, name) == 0 && strcmp(n->file, file) == 0 &&
		    strcmp(n->objfile, objfile) == 0)
			return g->slot[j] - 1;
	}
	if (g->nn == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		struct lnode *nn = realloc(g->n, cap * sizeof(*nn));
		if (!nn)
			return SIZE_MAX;
		g->n = nn;
		g->cap = cap;
	}
	struct lnode *n = &g->n[g->nn];
	memset(n, 0, sizeof(*n));
	n->name = strdup(name);
	n->file = strdup(file);
	if (!n->name || !n->file) {
		free(n->name);
		free(n->file);
		return SIZE_MAX;
	}
	n->lineno = lineno;
	n->start_line = start;
	n->objfile = objfile;
	n->hash = h;
	g->slot[j] = g->nn + 1;
	return g->nn++;
}

static void lgraph_release(struct lgraph *g)
{
	for (size_t i = 0; i < g->nn; i++) {
		free(g->n[i].name);
		free(g->n[i].file);
	}
	free(g->n);
	free(g->loc_start);
	free(g->loc_n);
	free(g->loc_node);
	free(g->slot);
}

/* graph.CreateNodes with ObjNames at line granularity, then graph.New's sums. */
static int build(const struct report *r, const char *search_opt, struct lgraph *g)
{
	const struct profile *p = r->prof;
	size_t total = 0;
	for (size_t i = 0; i < p->nlocation; i++)
		total += p->location[i].nline ? p->location[i].nline : 1;
	g->loc_start = calloc(p->nlocation + 1, sizeof(size_t));
	g->loc_n = calloc(p->nlocation + 1, sizeof(size_t));
	g->loc_node = calloc(total + 1, sizeof(size_t));
	if (!g->loc_start || !g->loc_n || !g->loc_node)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < p->nlocation; i++) {
		const struct pp_location *l = &p->location[i];
		const struct pp_mapping *m = l->mapping_id ? cprof__profile_mapping(p, l->mapping_id) : NULL;
		const char *objfile = m ? cprof__profile_str(p, m->filename) : "";
		size_t n = l->nline ? l->nline : 1;
		size_t first = r->opt.noinlines ? n - 1 : 0; /* Aggregate without inline frames */
		g->loc_start[i] = k;
		g->loc_n[i] = n - first;
		for (size_t j = first; j < n; j++) {
			const struct pp_function *fn =
				l->nline ? cprof__profile_function(p, l->line[j].function_id) : NULL;
			size_t id;
			if (!fn) {
				id = find_node(g, "", "", 0, 0, objfile);
			} else {
				char *buf, *file = NULL;
				const char *name = cprof__report_function_name(p, fn, &buf);
				const char *fname = cprof__profile_str(p, fn->filename);
				if (fname[0]) {
					/* newGraph's trimPath, then nodeInfo's filepath.Clean */
					file = cprof__path_clean(cprof__report_trim_path(fname, r->opt.trim_path, search_opt));
					if (!file) {
						free(buf);
						return -ENOMEM;
					}
				}
				id = find_node(g, name, file ? file : "", l->line[j].line, fn->start_line,
					       objfile);
				free(buf);
				free(file);
			}
			if (id == SIZE_MAX)
				return -ENOMEM;
			g->loc_node[k++] = id;
		}
	}
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
			size_t li = (size_t)(l - p->location);
			for (size_t j = g->loc_n[li]; j-- > 0;) {
				struct lnode *n = &g->n[g->loc_node[g->loc_start[li] + j]];
				if (n->seen != s + 1) {
					n->seen = s + 1;
					n->cum += w;
				}
				leaf = g->loc_node[g->loc_start[li] + j];
			}
		}
		if (leaf != SIZE_MAX)
			g->n[leaf].flat += w;
	}
	return 0;
}

static bool kept(const struct report *r, const struct lnode *n)
{
	if (n->flat == 0 && n->cum == 0)
		return false;
	if (r->opt.drop_negative && (n->flat < 0 || (n->flat == 0 && n->cum < 0)))
		return false;
	return true;
}

/* Order of nodes for printing: function name, then file, then graph order. */
static int cmp_node(const void *a, const void *b, void *ctx)
{
	const struct lgraph *g = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(g->n[x].name, g->n[y].name);
	if (!c)
		c = strcmp(g->n[x].file, g->n[y].file);
	return c ? c : (x > y) - (x < y);
}

static void value_or_dot(const struct report *r, char *buf, size_t len, int64_t v)
{
	if (v == 0)
		snprintf(buf, len, ".");
	else
		cprof__report_format(r, buf, len, v);
}

/* One file of one function: getSourceFromFile and the lines printed. */
static void print_file(const struct report *r, struct report_sources *rd, const struct lgraph *g,
		       const size_t *fns, size_t nfns, FILE *out)
{
	const int margin = 5;
	const struct lnode *first = &g->n[fns[0]];
	int64_t start = first->start_line ? first->start_line : first->lineno - margin;
	int64_t end = first->lineno + margin;
	int64_t flat_sum = 0, cum_sum = 0;
	for (size_t i = 0; i < nfns; i++) {
		const struct lnode *n = &g->n[fns[i]];
		int64_t ns = n->start_line ? n->start_line : n->lineno - margin;
		int64_t ne = n->lineno + margin;
		/* as pprof: a node that widens the start does not widen the end */
		if (ns < start)
			start = ns;
		else if (ne > end)
			end = ne;
		flat_sum += n->flat;
		cum_sum += n->cum;
	}
	if (start < 1)
		start = 1;
	char b1[128], b2[128], pct[32];
	fprintf(out, "ROUTINE ======================== %s in %s\n", first->name, first->file);
	fprintf(out, "%10s %10s (flat, cum) %s of Total\n",
		cprof__report_format(r, b1, sizeof(b1), flat_sum),
		cprof__report_format(r, b2, sizeof(b2), cum_sum),
		cprof__units_percentage(pct, sizeof(pct), cum_sum, r->total));
	struct report_srcfile *sf = cprof__report_source_file(rd, first->file);
	if (!sf || sf->error) {
		fprintf(out, " Error: %s\n", sf ? sf->error : "out of memory");
		return;
	}
	for (int64_t ln = start; ln <= end; ln++) {
		if (ln <= 0 || (size_t)ln > sf->nline)
			break;
		int64_t flat = 0, cum = 0;
		for (size_t i = 0; i < nfns; i++)
			if (g->n[fns[i]].lineno == ln) {
				flat += g->n[fns[i]].flat;
				cum += g->n[fns[i]].cum;
			}
		value_or_dot(r, b1, sizeof(b1), flat);
		value_or_dot(r, b2, sizeof(b2), cum);
		fprintf(out, "%10s %10s %6lld:%s\n", b1, b2, (long long)ln, sf->line[ln]);
	}
}

int cprof__report_list(struct report *r, const regex_t *re, FILE *out)
{
	struct lgraph g = {0};
	struct report_sources rd = {0};
	char cwd[PATH_MAX];
	const char *search = r->opt.source_path && r->opt.source_path[0] ? r->opt.source_path : NULL;
	size_t *idx = NULL;
	int rc = -ENOMEM;
	if (build(r, r->opt.source_path ? r->opt.source_path : "", &g) < 0)
		goto out;
	/* The nodes of matching functions, by function, file and graph order. */
	idx = calloc(g.nn + 1, sizeof(*idx));
	if (!idx)
		goto out;
	size_t nidx = 0;
	for (size_t i = 0; i < g.nn; i++)
		if (kept(r, &g.n[i]) && regexec(re, g.n[i].name, 0, NULL, 0) == 0)
			idx[nidx++] = i;
	if (nidx == 0) {
		rc = -ENOENT;
		goto out;
	}
	qsort_r(idx, nidx, sizeof(*idx), cmp_node, &g);
	if (!search) {
		if (!getcwd(cwd, sizeof(cwd))) {
			rc = -EIO;
			goto out;
		}
		search = cwd;
	}
	rd.search = search;
	rd.trim = r->opt.trim_path;
	char b[128];
	fprintf(out, "Total: %s\n", cprof__report_format(r, b, sizeof(b), r->total));
	for (size_t f = 0; f < nidx;) {
		const char *name = g.n[idx[f]].name;
		size_t fend = f;
		while (fend < nidx && strcmp(g.n[idx[fend]].name, name) == 0)
			fend++;
		/* Nodes without a file sort first; the function has source if the last has one. */
		if (!g.n[idx[fend - 1]].file[0])
			fprintf(out, "No source information for %s\n", name);
		for (size_t i = f; i < fend;) {
			size_t j = i;
			while (j < fend && strcmp(g.n[idx[j]].file, g.n[idx[i]].file) == 0)
				j++;
			if (g.n[idx[i]].file[0])
				print_file(r, &rd, &g, idx + i, j - i, out);
			i = j;
		}
		f = fend;
	}
	rc = ferror(out) ? -EIO : 0;
out:
	free(idx);
	cprof__report_sources_release(&rd);
	lgraph_release(&g);
	return rc;
}
