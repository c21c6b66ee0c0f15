/*
 * graph.c - aggregation of a profile's samples into a graph of nodes and
 * edges, as pprof's internal/graph does for graph.New: newGraph, and newTree
 * for -call_tree.
 *
 * It owns the "view" (a profile prepared at one granularity: what pprof's
 * Aggregate and demangling heuristics do to function names, then one node
 * key per location line; for a call tree, one key per calling context),
 * building the graph from the samples with an optional set of kept nodes,
 * node sorting, edge trimming and TrimTree. Choosing which nodes to keep and
 * printing belong to report.c and the printers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/keys.h"
#include "common/buf.h"
#include "common/hash.h"
#include "cli/report/report.h"
#include "common/path.h"

/* ---- a small open-addressing hash table: 64-bit hash -> index ---- */

struct htab {
	uint64_t *hash;
	size_t *val; /* SIZE_MAX = empty */
	size_t cap, len;
};

static int htab_grow(struct htab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	uint64_t *hash = malloc(cap * sizeof(*hash));
	size_t *val = malloc(cap * sizeof(*val));
	if (!hash || !val) {
		free(hash);
		free(val);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cap; i++)
		val[i] = SIZE_MAX;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->val[i] == SIZE_MAX)
			continue;
		size_t j = t->hash[i] & (cap - 1);
		while (val[j] != SIZE_MAX)
			j = (j + 1) & (cap - 1);
		hash[j] = t->hash[i];
		val[j] = t->val[i];
	}
	free(t->hash);
	free(t->val);
	t->hash = hash;
	t->val = val;
	t->cap = cap;
	return 0;
}

static void htab_release(struct htab *t)
{
	free(t->hash);
	free(t->val);
	memset(t, 0, sizeof(*t));
}

/*
 * Find the slot for hash h whose value satisfies eq(ctx, val); the slot is
 * empty (val SIZE_MAX) when absent. Grows first so that an insert fits.
 */
static size_t *htab_slot(struct htab *t, uint64_t h, bool (*eq)(const void *, size_t, const void *),
			 const void *ctx, const void *key)
{
	if ((t->len + 1) * 2 > t->cap && htab_grow(t) < 0)
		return NULL;
	size_t j = h & (t->cap - 1);
	while (t->val[j] != SIZE_MAX) {
		if (t->hash[j] == h && eq(ctx, t->val[j], key))
			return &t->val[j];
		j = (j + 1) & (t->cap - 1);
	}
	t->hash[j] = h;
	return &t->val[j];
}

/* ---- the view ---- */

struct rkey {
	struct rnode_info info;
	char *printable;
	char *name_buf; /* the simplified function name, when it differs */
	char *file_buf; /* the cleaned file name, when it differs */
};

struct rview {
	const struct profile *prof;
	int value_index;
	bool mean;
	struct rkey *key;
	size_t nkey, capkey;
	size_t *loc_start; /* per location index: first entry in loc_key */
	size_t *loc_n;
	size_t *loc_key;
	size_t nloc_key;
	/*
	 * Call tree (-call_tree): keys past nbase are tree nodes, one per
	 * (parent tree node, base key); tree_parent/tree_base describe them
	 * (indexed by key - nbase). Frames are then resolved per sample:
	 * frame_ctx[frame_start[s] + i] is a "context location" (an index past
	 * the profile's locations in loc_start/loc_n) whose keys are tree nodes,
	 * or SIZE_MAX for a frame without a location.
	 */
	bool dense; /* every location's id is its index + 1 */
	bool tree;
	size_t nbase;
	size_t *tree_parent, *tree_base;
	size_t *frame_start, *frame_ctx;
};

size_t cprof__rview_nkeys(const struct rview *v)
{
	return v->nkey;
}

const size_t *cprof__rview_loc_keys(const struct rview *v, size_t loc_index, size_t *n)
{
	*n = v->loc_n[loc_index];
	return &v->loc_key[v->loc_start[loc_index]];
}

const struct rnode_info *cprof__rview_key_info(const struct rview *v, size_t key)
{
	return &v->key[key].info;
}

/* The keys of a sample's frame (cprof__rview_frame_keys, inline); NULL for none. */
static inline const size_t *frame_keys(const struct rview *v, const struct pp_sample *sm,
				       size_t sample, size_t frame, size_t *n)
{
	size_t li;
	if (v->tree) {
		li = v->frame_ctx[v->frame_start[sample] + frame];
		if (li == SIZE_MAX)
			return NULL;
	} else if (v->dense) {
		li = (size_t)(sm->location_id[frame] - 1);
		if (li >= v->prof->nlocation)
			return NULL;
	} else {
		const struct pp_location *loc = cprof__profile_location(v->prof, sm->location_id[frame]);
		if (!loc)
			return NULL;
		li = (size_t)(loc - v->prof->location);
	}
	*n = v->loc_n[li];
	return &v->loc_key[v->loc_start[li]];
}

const size_t *cprof__rview_frame_keys(const struct rview *v, size_t sample, size_t frame,
				      size_t *n)
{
	return frame_keys(v, &v->prof->sample[sample], sample, frame, n);
}

bool cprof__rview_is_tree(const struct rview *v)
{
	return v->tree;
}

size_t cprof__rview_key_base(const struct rview *v, size_t key)
{
	return v->tree && key >= v->nbase ? v->tree_base[key - v->nbase] : key;
}

size_t cprof__rview_key_parent(const struct rview *v, size_t key)
{
	return v->tree && key >= v->nbase ? v->tree_parent[key - v->nbase] : SIZE_MAX;
}

static const char *base_name(const char *path, char *buf, size_t len)
{
	/* filepath.Base */
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0)
		return ".";
	if (n == 1 && path[0] == '/')
		return "/";
	size_t s = n;
	while (s > 0 && path[s - 1] != '/')
		s--;
	snprintf(buf, len, "%.*s", (int)(n - s), path + s);
	return buf;
}

/* graph.NodeInfo.NameComponents joined with spaces. */
static char *printable_name(const struct rnode_info *i)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	const char *sep = "";
	if (i->address) {
		fprintf(f, "%016llx", (unsigned long long)i->address);
		sep = " ";
	}
	if (i->name[0]) {
		fprintf(f, "%s%s", sep, i->name);
		sep = " ";
	}
	if (i->lineno) {
		fprintf(f, "%s%s:%lld", sep, i->file, (long long)i->lineno);
	} else if (i->file[0]) {
		fprintf(f, "%s%s", sep, i->file);
	} else if (i->name[0]) {
		/* the function name says it all */
	} else if (i->objfile[0]) {
		char b[4096];
		fprintf(f, "%s[%s]", sep, base_name(i->objfile, b, sizeof(b)));
	} else {
		fprintf(f, "%s<unknown>", sep);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* symbolizer.removeMatching: drop balanced start..end groups. */
static void remove_matching(char *name, char start, char end)
{
	int nesting = 0;
	size_t first = 0;
	for (size_t cur = 0; name[cur]; cur++) {
		if (name[cur] == start) {
			if (++nesting == 1)
				first = cur;
		} else if (name[cur] == end) {
			nesting--;
			if (nesting < 0)
				return;
			if (nesting == 0) {
				memmove(name + first, name + cur + 1, strlen(name + cur + 1) + 1);
				cur = first - 1; /* wraps for first == 0; cur++ brings it back */
			}
		}
	}
}

/*
 * The function name pprof reports: its symbolizer fills an empty name from
 * system_name and, for names that look like demangled C++, drops parameter
 * lists and template arguments (demangle=default). Mangled names (_Z...) are
 * not demangled here.
 */
const char *cprof__report_function_name(const struct profile *p, const struct pp_function *fn,
				       char **buf)
{
	const char *name = cprof__profile_str(p, fn->name);
	const char *sys = cprof__profile_str(p, fn->system_name);
	*buf = NULL;
	if (name[0] && strcmp(sys, name) != 0)
		return name;
	bool cpp = (strpbrk(sys, "<>[]") || strstr(sys, "::")) && !strstr(sys, ".<") &&
		   !strstr(sys, "]).");
	if (!cpp)
		return sys;
	*buf = strdup(sys);
	if (!*buf)
		return sys;
	remove_matching(*buf, '(', ')');
	remove_matching(*buf, '<', '>');
	return *buf;
}

struct key_probe {
	const struct rnode_info *info;
};

static bool info_eq(const struct rnode_info *a, const struct rnode_info *b)
{
	return a->address == b->address && a->lineno == b->lineno &&
	       a->start_line == b->start_line && strcmp(a->name, b->name) == 0 &&
	       strcmp(a->file, b->file) == 0 && strcmp(a->objfile, b->objfile) == 0;
}

static bool key_eq(const void *ctx, size_t idx, const void *key)
{
	const struct rview *v = ctx;
	return info_eq(&v->key[idx].info, key);
}

static uint64_t info_hash(const struct rnode_info *i)
{
	uint64_t h = REPORT_FNV_BASIS;
	h = cprof__report_fnv(i->name, strlen(i->name) + 1, h);
	h = cprof__report_fnv(i->file, strlen(i->file) + 1, h);
	h = cprof__report_fnv(i->objfile, strlen(i->objfile) + 1, h);
	h = cprof__report_fnv(&i->address, sizeof(i->address), h);
	h = cprof__report_fnv(&i->lineno, sizeof(i->lineno), h);
	h = cprof__report_fnv(&i->start_line, sizeof(i->start_line), h);
	return h;
}

/* Returns the key index for info, adding it (and taking the buffers) if new. */
static size_t intern_key(struct rview *v, struct htab *t, const struct rnode_info *info,
			 char *name_buf, char *file_buf)
{
	size_t *slot = htab_slot(t, info_hash(info), key_eq, v, info);
	if (!slot || *slot != SIZE_MAX) {
		free(name_buf);
		free(file_buf);
		return slot ? *slot : SIZE_MAX;
	}
	if (v->nkey == v->capkey) {
		size_t cap = v->capkey ? v->capkey * 2 : 64;
		struct rkey *k = realloc(v->key, cap * sizeof(*k));
		if (!k) {
			free(name_buf);
			free(file_buf);
			return SIZE_MAX;
		}
		v->key = k;
		v->capkey = cap;
	}
	struct rkey *k = &v->key[v->nkey];
	k->info = *info;
	k->name_buf = name_buf;
	k->file_buf = file_buf;
	k->printable = printable_name(info);
	if (!k->printable) {
		free(name_buf);
		free(file_buf);
		return SIZE_MAX;
	}
	*slot = v->nkey;
	t->len++;
	return v->nkey++;
}

/*
 * filepath.Clean: the lexically shortest equivalent path. Returns NULL when
 * the path is already clean (the common case) or on out of memory.
 */
static char *clean_path(const char *path, bool *oom)
{
	*oom = false;
	if (!path[0])
		return NULL;
	char *out = cprof__path_clean(path);
	if (!out) {
		*oom = true;
		return NULL;
	}
	if (strcmp(out, path) == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * graph.nodeInfo after driver.aggregate (profile.Aggregate) at granularity
 * g: what each granularity keeps of a frame (function name, file, line,
 * address). A frame without a function name is known by its object file
 * and start line. 0 or -ENOMEM.
 */
static int frame_info(const struct profile *p, const struct pp_location *loc,
		      const struct pp_line *line, enum report_granularity g,
		      struct rnode_info *ni, char **name_buf, char **file_buf)
{
	const struct pp_mapping *m = loc->mapping_id ? cprof__profile_mapping(p, loc->mapping_id) : NULL;
	const char *objfile = m ? cprof__profile_str(p, m->filename) : "";
	const struct pp_function *fn = line ? cprof__profile_function(p, line->function_id) : NULL;
	memset(ni, 0, sizeof(*ni));
	ni->name = ni->file = ni->objfile = "";
	*name_buf = *file_buf = NULL;
	if (g == REPORT_ADDRESSES)
		ni->address = loc->address;
	if (!fn) {
		ni->objfile = objfile;
		return 0;
	}
	if (g != REPORT_FILES)
		ni->name = cprof__report_function_name(p, fn, name_buf);
	if (g != REPORT_FUNCTIONS) {
		bool oom;
		ni->file = cprof__profile_str(p, fn->filename);
		*file_buf = clean_path(ni->file, &oom);
		if (oom) {
			free(*name_buf);
			*name_buf = NULL;
			return -ENOMEM;
		}
		if (*file_buf)
			ni->file = *file_buf;
	}
	if (g == REPORT_LINES || g == REPORT_ADDRESSES)
		ni->lineno = line->line;
	if (!ni->name[0]) {
		ni->objfile = objfile;
		ni->start_line = fn->start_line;
	}
	return 0;
}

struct rview *cprof__rview_new(const struct profile *p, enum report_granularity g,
			       int value_index, bool mean)
{
	return cprof__rview_new_inl(p, g, false, value_index, mean);
}

struct rview *cprof__rview_new_inl(const struct profile *p, enum report_granularity g,
				   bool noinlines, int value_index, bool mean)
{
	struct rview *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->prof = p;
	v->value_index = value_index;
	v->mean = mean;
	size_t total = 0;
	for (size_t i = 0; i < p->nlocation; i++)
		total += p->location[i].nline ? p->location[i].nline : 1;
	v->loc_start = calloc(p->nlocation + 1, sizeof(size_t));
	v->loc_n = calloc(p->nlocation + 1, sizeof(size_t));
	v->loc_key = calloc(total + 1, sizeof(size_t));
	struct htab t = {0};
	if (!v->loc_start || !v->loc_n || !v->loc_key)
		goto fail;
	v->dense = true;
	for (size_t i = 0; i < p->nlocation && v->dense; i++)
		v->dense = p->location[i].id == i + 1;
	for (size_t i = 0; i < p->nlocation; i++) {
		const struct pp_location *loc = &p->location[i];
		size_t n = loc->nline ? loc->nline : 1;
		/* -noinlines: a location is its last (out-of-line) function only. */
		size_t first = noinlines && n > 1 ? n - 1 : 0;
		v->loc_start[i] = v->nloc_key;
		v->loc_n[i] = n - first;
		for (size_t l = first; l < n; l++) {
			struct rnode_info ni;
			char *name_buf, *file_buf;
			if (frame_info(p, loc, loc->nline ? &loc->line[l] : NULL, g, &ni, &name_buf,
				       &file_buf) < 0)
				goto fail;
			size_t k = intern_key(v, &t, &ni, name_buf, file_buf);
			if (k == SIZE_MAX)
				goto fail;
			v->loc_key[v->nloc_key++] = k;
		}
	}
	htab_release(&t);
	return v;
fail:
	htab_release(&t);
	cprof__rview_free(v);
	return NULL;
}

void cprof__rview_free(struct rview *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < (v->tree ? v->nbase : v->nkey); i++) {
		free(v->key[i].printable);
		free(v->key[i].name_buf);
		free(v->key[i].file_buf);
	}
	free(v->key);
	free(v->loc_start);
	free(v->loc_n);
	free(v->loc_key);
	free(v->tree_parent);
	free(v->tree_base);
	free(v->frame_start);
	free(v->frame_ctx);
	free(v);
}

/* ---- the call tree: graph.newTree's nodes, one per calling context ---- */

struct pair_probe {
	size_t a, b;
};

static bool tree_key_eq(const void *ctx, size_t idx, const void *key)
{
	const struct rview *v = ctx;
	const struct pair_probe *k = key;
	return v->tree_parent[idx - v->nbase] == k->a && v->tree_base[idx - v->nbase] == k->b;
}

struct ctx_table {
	size_t *parent, *loc; /* per context location (index - nlocation) */
	size_t n, cap;
};

static bool ctx_eq(const void *ctx, size_t idx, const void *key)
{
	const struct ctx_table *c = ctx;
	const struct pair_probe *k = key;
	return c->parent[idx] == k->a && c->loc[idx] == k->b;
}

static uint64_t pair_hash(size_t a, size_t b)
{
	return cprof__hash_mix(((uint64_t)a * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)b);
}

/* The tree node for (parent, base key), added when new; SIZE_MAX on out of memory. */
static size_t tree_key(struct rview *v, struct htab *t, size_t *captree, size_t parent, size_t base)
{
	struct pair_probe probe = {parent, base};
	size_t *slot = htab_slot(t, pair_hash(parent, base), tree_key_eq, v, &probe);
	if (!slot)
		return SIZE_MAX;
	if (*slot != SIZE_MAX)
		return *slot;
	size_t nt = v->nkey - v->nbase, capk = v->capkey, capt = *captree;
	if (cprof__grow((void **)&v->key, &capk, v->nkey + 1, sizeof(*v->key)) < 0)
		return SIZE_MAX;
	v->capkey = capk;
	if (cprof__grow((void **)&v->tree_parent, &capt, nt + 1, sizeof(size_t)) < 0)
		return SIZE_MAX;
	capt = *captree;
	if (cprof__grow((void **)&v->tree_base, &capt, nt + 1, sizeof(size_t)) < 0)
		return SIZE_MAX;
	*captree = capt;
	v->key[v->nkey] = v->key[base];
	v->key[v->nkey].name_buf = v->key[v->nkey].file_buf = NULL;
	v->tree_parent[nt] = parent;
	v->tree_base[nt] = base;
	*slot = v->nkey;
	t->len++;
	return v->nkey++;
}

/*
 * Turn a view into a call tree view, as graph.newTree groups frames: walking
 * each sample from the root, every line of a location becomes the child of
 * the previous node that has its info, created on first use. The keys of the
 * tree's nodes follow the base keys, in order of first use; the (parent,
 * location) pairs met become context locations with those keys.
 */
static int make_tree(struct rview *v)
{
	const struct profile *p = v->prof;
	size_t nframe = 0;
	for (size_t s = 0; s < p->nsample; s++)
		nframe += p->sample[s].nlocation;
	struct htab keys = {0}, ctxs = {0};
	struct ctx_table ct = {0};
	size_t captree = 0, capstart = p->nlocation, capkey = v->nloc_key;
	int rc = -ENOMEM;
	v->tree = true;
	v->nbase = v->nkey;
	v->frame_start = malloc((p->nsample + 1) * sizeof(size_t));
	v->frame_ctx = malloc((nframe + 1) * sizeof(size_t));
	if (!v->frame_start || !v->frame_ctx)
		goto out;
	nframe = 0;
	for (size_t s = 0; s < p->nsample; s++) {
		const struct pp_sample *sm = &p->sample[s];
		size_t parent = SIZE_MAX;
		v->frame_start[s] = nframe;
		nframe += sm->nlocation;
		for (size_t i = sm->nlocation; i-- > 0;) {
			const struct pp_location *loc = cprof__profile_location(p, sm->location_id[i]);
			size_t *fc = &v->frame_ctx[v->frame_start[s] + i];
			*fc = SIZE_MAX;
			if (!loc)
				continue;
			size_t li = (size_t)(loc - p->location);
			struct pair_probe probe = {parent, li};
			size_t *slot = htab_slot(&ctxs, pair_hash(parent, li), ctx_eq, &ct, &probe);
			if (!slot)
				goto out;
			if (*slot != SIZE_MAX) {
				*fc = p->nlocation + *slot;
				size_t n = v->loc_n[*fc];
				if (n)
					parent = v->loc_key[v->loc_start[*fc]];
				continue;
			}
			size_t ci = ct.n, cap = ct.cap;
			if (cprof__grow((void **)&ct.parent, &cap, ci + 1, sizeof(size_t)) < 0)
				goto out;
			cap = ct.cap;
			if (cprof__grow((void **)&ct.loc, &cap, ci + 1, sizeof(size_t)) < 0)
				goto out;
			ct.cap = cap;
			cap = capstart;
			if (cprof__grow((void **)&v->loc_start, &cap, p->nlocation + ci + 1, sizeof(size_t)) < 0)
				goto out;
			cap = capstart;
			if (cprof__grow((void **)&v->loc_n, &cap, p->nlocation + ci + 1, sizeof(size_t)) < 0)
				goto out;
			capstart = cap;
			size_t n = v->loc_n[li], first = v->loc_start[li];
			if (cprof__grow((void **)&v->loc_key, &capkey, v->nloc_key + n + 1, sizeof(size_t)) < 0)
				goto out;
			ct.parent[ci] = parent;
			ct.loc[ci] = li;
			ct.n++;
			*slot = ci;
			ctxs.len++;
			*fc = p->nlocation + ci;
			v->loc_start[*fc] = v->nloc_key;
			v->loc_n[*fc] = n;
			/* Outermost line first, as the walk goes; stored innermost first. */
			for (size_t l = n; l-- > 0;) {
				size_t k = tree_key(v, &keys, &captree, parent, v->loc_key[first + l]);
				if (k == SIZE_MAX)
					goto out;
				v->loc_key[v->nloc_key + l] = k;
				parent = k;
			}
			v->nloc_key += n;
		}
	}
	rc = 0;
out:
	htab_release(&keys);
	htab_release(&ctxs);
	free(ct.parent);
	free(ct.loc);
	return rc;
}

struct rview *cprof__rview_new_tree(const struct profile *p, enum report_granularity g,
				    bool noinlines, int value_index, bool mean)
{
	struct rview *v = cprof__rview_new_inl(p, g, noinlines, value_index, mean);
	if (v && make_tree(v) < 0) {
		cprof__rview_free(v);
		return NULL;
	}
	return v;
}

/* ---- the report total over samples as pprof's Merge groups them ---- */

/* Labels as a canonical byte string: string labels, then numeric, by key. */
static int put_labels(struct buf *f, const struct profile *p, const struct pp_sample *s)
{
	if (s->nlabel == 0) {
		cprof__report_key_str(f, "\x01");
		return 0;
	}
	const struct pp_label **l = malloc((s->nlabel + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < s->nlabel; i++)
		l[i] = &s->label[i];
	qsort_r(l, s->nlabel, sizeof(*l), cprof__report_cmp_label, (void *)p);
	for (size_t i = 0; i < s->nlabel; i++)
		if (l[i]->str != 0) {
			cprof__report_key_str(f, cprof__profile_str(p, l[i]->key));
			cprof__report_key_str(f, cprof__profile_str(p, l[i]->str));
		}
	cprof__report_key_str(f, "\x01");
	for (size_t i = 0; i < s->nlabel;) {
		size_t j = i;
		bool units = false;
		const char *key = cprof__profile_str(p, l[i]->key);
		for (; j < s->nlabel && strcmp(cprof__profile_str(p, l[j]->key), key) == 0; j++)
			if (l[j]->str == 0 && l[j]->num_unit != 0)
				units = true;
		for (size_t k = i; k < j; k++) {
			if (l[k]->str != 0 || (l[k]->num == 0 && l[k]->num_unit == 0))
				continue;
			cprof__report_key_str(f, key);
			cprof__report_key_u64(f, (uint64_t)l[k]->num);
			if (units)
				cprof__report_key_str(f, cprof__profile_str(p, l[k]->num_unit));
		}
		i = j;
	}
	free(l);
	return 0;
}

static bool diff_base_sample(const struct profile *p, const struct pp_sample *s)
{
	for (size_t i = 0; i < s->nlabel; i++)
		if (s->label[i].str != 0 &&
		    strcmp(cprof__profile_str(p, s->label[i].key), "pprof::base") == 0 &&
		    strcmp(cprof__profile_str(p, s->label[i].str), "true") == 0)
			return true;
	return false;
}

int cprof__rview_total(const struct rview *v, int64_t *total_out)
{
	return cprof__report_total(v->prof, v->value_index, v->mean, total_out);
}

/*
 * report.computeTotal over the merged samples: the sum of |merged value|.
 * Merging only matters when values can be negative (|a| + |b| > |a + b|):
 * without a negative value the total is the plain sum. Samples merged into
 * one have equal labels, so they agree on pprof::base. Returns false when
 * a negative value needs the merge.
 */
static bool total_unmerged(const struct profile *p, int value_index, bool mean,
			   int64_t *total_out)
{
	int64_t total = 0, tdiv = 0, diff_total = 0, diff_div = 0;
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = &p->sample[i];
		if ((size_t)value_index >= s->nvalue)
			continue;
		int64_t val = s->value[value_index], d = mean ? s->value[0] : 0;
		if (val < 0)
			return false;
		total += val;
		tdiv += d;
		if (s->nlabel && diff_base_sample(p, s)) {
			diff_total += val;
			diff_div += d;
		}
	}
	if (diff_total > 0) {
		total = diff_total;
		tdiv = diff_div;
	}
	*total_out = tdiv ? total / tdiv : total;
	return true;
}

int cprof__report_total(const struct profile *p, int value_index, bool mean, int64_t *total_out)
{
	if (total_unmerged(p, value_index, mean, total_out))
		return 0;
	struct report_keyset fns = {0}, maps = {0}, locs = {0}, samples = {0};
	struct buf kb, kc;
	cprof__buf_init(&kb, 0);
	cprof__buf_init(&kc, 0);
	size_t *loc_class = calloc(p->nlocation + 1, sizeof(size_t));
	int64_t *sum = NULL, *div = NULL;
	bool *base = NULL;
	int rc = -ENOMEM;
	if (!loc_class)
		goto out;
	for (size_t i = 0; i < p->nlocation; i++) {
		const struct pp_location *l = &p->location[i];
		const struct pp_mapping *m = l->mapping_id ? cprof__profile_mapping(p, l->mapping_id) : NULL;
		uint64_t mc = 0;
		if (m) {
			cprof__report_mapping_key(&kc, p, m);
			mc = cprof__report_keyset_add(&maps, &kc, NULL) + 1;
		}
		kb.len = 0;
		cprof__report_key_u64(&kb, m ? l->address - m->memory_start : l->address);
		cprof__report_key_u64(&kb, mc);
		cprof__report_key_u64(&kb, l->is_folded);
		for (size_t j = 0; j < l->nline; j++) {
			const struct pp_function *fn = cprof__profile_function(p, l->line[j].function_id);
			uint64_t fc = 0;
			if (fn) {
				cprof__report_function_key(&kc, p, fn);
				fc = cprof__report_keyset_add(&fns, &kc, NULL) + 1;
			}
			cprof__report_key_u64(&kb, fc);
			cprof__report_key_u64(&kb, (uint64_t)l->line[j].line);
		}
		if (kc.err)
			goto out;
		loc_class[i] = cprof__report_keyset_add(&locs, &kb, NULL);
		if (loc_class[i] == SIZE_MAX)
			goto out;
	}
	sum = calloc(p->nsample + 1, sizeof(int64_t));
	div = calloc(p->nsample + 1, sizeof(int64_t));
	base = calloc(p->nsample + 1, sizeof(bool));
	if (!sum || !div || !base)
		goto out;
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = &p->sample[i];
		if ((size_t)value_index >= s->nvalue)
			continue;
		kb.len = 0;
		for (size_t j = 0; j < s->nlocation; j++) {
			const struct pp_location *l = cprof__profile_location(p, s->location_id[j]);
			cprof__report_key_u64(&kb, l ? loc_class[l - p->location] : SIZE_MAX);
		}
		cprof__report_key_str(&kb, "\x02");
		if (put_labels(&kb, p, s) < 0)
			goto out;
		size_t g = cprof__report_keyset_add(&samples, &kb, NULL);
		if (g == SIZE_MAX)
			goto out;
		sum[g] += s->value[value_index];
		div[g] += mean ? s->value[0] : 0;
		base[g] = diff_base_sample(p, s);
	}
	/* report.computeTotal over the merged samples. */
	int64_t total = 0, tdiv = 0, diff_total = 0, diff_div = 0;
	for (size_t g = 0; g < samples.n; g++) {
		int64_t val = sum[g] < 0 ? -sum[g] : sum[g];
		total += val;
		tdiv += div[g];
		if (base[g]) {
			diff_total += val;
			diff_div += div[g];
		}
	}
	if (diff_total > 0) {
		total = diff_total;
		tdiv = diff_div;
	}
	*total_out = tdiv ? total / tdiv : total;
	rc = 0;
out:
	cprof__report_keyset_release(&fns);
	cprof__report_keyset_release(&maps);
	cprof__report_keyset_release(&locs);
	cprof__report_keyset_release(&samples);
	cprof__buf_release(&kb);
	cprof__buf_release(&kc);
	free(loc_class);
	free(sum);
	free(div);
	free(base);
	return rc;
}

/* ---- the graph ---- */

int64_t cprof__rnode_flat(const struct rnode *n)
{
	return n->flat_div ? n->flat / n->flat_div : n->flat;
}

int64_t cprof__rnode_cum(const struct rnode *n)
{
	return n->cum_div ? n->cum / n->cum_div : n->cum;
}

const char *cprof__rnode_inline(const struct rgraph *g, const struct rnode *n)
{
	bool inl = false, noinl = false;
	for (size_t j = 0; j < n->nin; j++) {
		const struct redge *e = &g->edge[n->in[j]];
		if (e->removed)
			continue;
		if (e->is_inline)
			inl = true;
		else
			noinl = true;
	}
	return inl ? (noinl ? "partial-inline" : "inline") : "";
}

/*
 * Edges while building, by (src, dst) key: the slot holds the pair and the
 * last sample that added to the edge, so that a frame costs one memory
 * access in the table and one in the weights. 32-bit fields: a graph is
 * refused (as out of memory) past 2^32 - 2 keys or samples.
 */
struct eslot {
	uint32_t src, dst, e, stamp; /* e UINT32_MAX: empty */
};

struct etab {
	struct eslot *s;
	size_t cap, len;
	int64_t *w, *wd;     /* per edge: weight, weight_div (wd only for -mean) */
	uint32_t *src, *dst; /* per edge: its ends, for after the table is gone */
	uint8_t *flag;       /* per edge: EDGE_RESIDUAL, EDGE_INLINE */
	size_t capedge;
};

enum { EDGE_RESIDUAL = 1, EDGE_INLINE = 2 };

/* An edge of the sample at hand: its ends and hash, then its number. */
struct pend {
	uint32_t src, dst, e;
	uint8_t flag;
	size_t h;
};

static size_t edge_hash(uint32_t src, uint32_t dst)
{
	return (size_t)cprof__hash_mix(((uint64_t)src << 32) | dst);
}

/* The slot of (src, dst), empty when absent; grows first so that an insert fits. */
static struct eslot *etab_slot(struct etab *t, uint32_t src, uint32_t dst, size_t h)
{
	if ((t->len + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct eslot *ns = malloc(cap * sizeof(*ns));
		if (!ns)
			return NULL;
		for (size_t i = 0; i < cap; i++)
			ns[i].e = UINT32_MAX;
		for (size_t i = 0; i < t->cap; i++) {
			if (t->s[i].e == UINT32_MAX)
				continue;
			size_t j = edge_hash(t->s[i].src, t->s[i].dst) & (cap - 1);
			while (ns[j].e != UINT32_MAX)
				j = (j + 1) & (cap - 1);
			ns[j] = t->s[i];
		}
		free(t->s);
		t->s = ns;
		t->cap = cap;
	}
	size_t j = h & (t->cap - 1);
	while (t->s[j].e != UINT32_MAX) {
		if (t->s[j].src == src && t->s[j].dst == dst)
			return &t->s[j];
		j = (j + 1) & (t->cap - 1);
	}
	t->s[j].src = src;
	t->s[j].dst = dst;
	return &t->s[j];
}

/* Room for edge number t->len; -ENOMEM. */
static int etab_reserve(struct etab *t, bool mean)
{
	if (t->len < t->capedge)
		return 0;
	size_t cap = t->capedge ? t->capedge * 2 : 1024;
	int64_t *w = realloc(t->w, cap * sizeof(*w));
	if (w)
		t->w = w;
	uint8_t *f = realloc(t->flag, cap);
	if (f)
		t->flag = f;
	uint32_t *src = realloc(t->src, cap * sizeof(*src));
	if (src)
		t->src = src;
	uint32_t *dst = realloc(t->dst, cap * sizeof(*dst));
	if (dst)
		t->dst = dst;
	int64_t *wd = mean ? realloc(t->wd, cap * sizeof(*wd)) : NULL;
	if (wd)
		t->wd = wd;
	if (!w || !f || !src || !dst || (mean && !wd))
		return -ENOMEM;
	t->capedge = cap;
	return 0;
}

static void etab_release(struct etab *t)
{
	free(t->s);
	free(t->w);
	free(t->wd);
	free(t->src);
	free(t->dst);
	free(t->flag);
	memset(t, 0, sizeof(*t));
}


static bool is_negative(int64_t flat, int64_t cum)
{
	return flat < 0 || (flat == 0 && cum < 0);
}

void cprof__rgraph_free(struct rgraph *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nnode; i++) {
		free(g->node[i].in);
		free(g->node[i].out);
	}
	free(g->node);
	free(g->edge);
	free(g);
}

static struct rgraph *build(const struct rview *v, const bool *kept, bool drop_negative,
			    bool want_edges)
{
	const struct profile *p = v->prof;
	size_t nk = v->nkey;
	struct rgraph *g = calloc(1, sizeof(*g));
	int64_t *acc = calloc(4 * (nk + 1), sizeof(int64_t)); /* flat, flat_div, cum, cum_div */
	size_t *seen = malloc((nk + 1) * sizeof(size_t));
	size_t *index = malloc((nk + 1) * sizeof(size_t));
	struct etab t = {0};
	struct redge *edges = NULL;
	size_t nedge = 0, cappend = 0;
	struct pend *pend = NULL; /* one sample's edges */
	if (!g || !acc || !seen || !index || nk >= UINT32_MAX - 1 || p->nsample >= UINT32_MAX - 1)
		goto fail;
	for (size_t k = 0; k < nk; k++)
		seen[k] = SIZE_MAX;

	for (size_t s = 0; s < p->nsample; s++) {
		const struct pp_sample *sm = &p->sample[s];
		if ((size_t)v->value_index >= sm->nvalue)
			continue;
		int64_t w = sm->value[v->value_index];
		int64_t dw = v->mean && sm->nvalue ? sm->value[0] : 0;
		if (w == 0 && dw == 0)
			continue;
		/*
		 * Three passes over the sample's edges, so that their cache misses
		 * overlap: list them (with a prefetch of their table slots), look
		 * them up in order (edges are numbered by first use), then add to
		 * the weights of the ones met again (prefetched in the second).
		 */
		size_t parent = SIZE_MAX, m = 0;
		bool residual = false;
		for (size_t i = sm->nlocation; i-- > 0;) {
			size_t n;
			const size_t *keys = frame_keys(v, sm, s, i, &n);
			if (!keys)
				continue;
			for (size_t ni = n; ni-- > 0;) {
				size_t k = keys[ni];
				if (kept && !kept[k]) {
					residual = true;
					continue;
				}
				if (seen[k] != s) {
					seen[k] = s;
					acc[4 * k + 2] += w;
					acc[4 * k + 3] += dw;
				}
				if (want_edges && parent != SIZE_MAX && k != parent) {
					if (m == cappend) {
						size_t cap = cappend ? cappend * 2 : 256;
						struct pend *np = realloc(pend, cap * sizeof(*np));
						if (!np)
							goto fail;
						pend = np;
						cappend = cap;
					}
					struct pend *pe = &pend[m++];
					pe->src = (uint32_t)parent;
					pe->dst = (uint32_t)k;
					pe->flag = (residual ? EDGE_RESIDUAL : 0) | (ni != n - 1 ? EDGE_INLINE : 0);
					pe->h = edge_hash(pe->src, pe->dst);
					if (t.cap)
						__builtin_prefetch(&t.s[pe->h & (t.cap - 1)]);
				}
				parent = k;
				residual = false;
			}
		}
		if (parent != SIZE_MAX && !residual) {
			acc[4 * parent] += w;
			acc[4 * parent + 1] += dw;
		}
		size_t nupd = 0;
		for (size_t j = 0; j < m; j++) {
			struct pend *pe = &pend[j];
			struct eslot *es = etab_slot(&t, pe->src, pe->dst, pe->h);
			if (!es)
				goto fail;
			if (es->e == UINT32_MAX) {
				if (etab_reserve(&t, v->mean) < 0)
					goto fail;
				size_t e = t.len++;
				es->e = (uint32_t)e;
				es->stamp = (uint32_t)s;
				t.w[e] = w;
				t.src[e] = pe->src;
				t.dst[e] = pe->dst;
				if (t.wd)
					t.wd[e] = dw;
				t.flag[e] = pe->flag;
			} else if (es->stamp != (uint32_t)s) {
				es->stamp = (uint32_t)s;
				pend[nupd].e = es->e;
				pend[nupd++].flag = pe->flag;
				__builtin_prefetch(&t.w[es->e], 1);
			}
		}
		for (size_t j = 0; j < nupd; j++) {
			size_t e = pend[j].e;
			t.w[e] += w;
			if (t.wd)
				t.wd[e] += dw;
			if (pend[j].flag & EDGE_RESIDUAL)
				t.flag[e] |= EDGE_RESIDUAL;
			if (!(pend[j].flag & EDGE_INLINE))
				t.flag[e] &= (uint8_t)~EDGE_INLINE;
		}
	}
	free(pend);
	pend = NULL;
	/* The table goes before the edges come: it is the larger of the two. */
	free(t.s);
	t.s = NULL;
	nedge = t.len;
	edges = malloc((nedge + 1) * sizeof(*edges));
	if (!edges)
		goto fail;
	for (size_t e = 0; e < nedge; e++)
		edges[e] = (struct redge){.src = t.src[e], .dst = t.dst[e], .weight = t.w[e],
			.weight_div = t.wd ? t.wd[e] : 0,
			.residual = (t.flag[e] & EDGE_RESIDUAL) != 0,
			.is_inline = (t.flag[e] & EDGE_INLINE) != 0};
	etab_release(&t);

	/*
	 * Listed nodes first (those with a value), then the ones that only
	 * appear as an edge's end: pprof keeps such edges in its maps.
	 */
	size_t nlisted = 0, nall = 0;
	for (size_t k = 0; k < nk; k++) {
		int64_t flat = acc[4 * k], cum = acc[4 * k + 2];
		index[k] = SIZE_MAX;
		if (kept && !kept[k])
			continue;
		if (cum == 0 && flat == 0)
			continue;
		if (drop_negative && is_negative(flat, cum))
			continue;
		index[k] = nlisted++;
	}
	nall = nlisted;
	for (size_t e = 0; e < nedge; e++) {
		if (index[edges[e].src] == SIZE_MAX)
			index[edges[e].src] = nall++;
		if (index[edges[e].dst] == SIZE_MAX)
			index[edges[e].dst] = nall++;
	}
	g->node = calloc(nall + 1, sizeof(*g->node));
	if (!g->node)
		goto fail;
	g->nnode = nlisted;
	for (size_t k = 0; k < nk; k++) {
		if (index[k] == SIZE_MAX)
			continue;
		struct rnode *n = &g->node[index[k]];
		n->info = v->key[k].info;
		n->key = k;
		n->printable = v->key[k].printable;
		n->flat = acc[4 * k];
		n->flat_div = acc[4 * k + 1];
		n->cum = acc[4 * k + 2];
		n->cum_div = acc[4 * k + 3];
	}
	for (size_t e = 0; e < nedge; e++) {
		edges[e].src = index[edges[e].src];
		edges[e].dst = index[edges[e].dst];
	}
	g->edge = edges;
	g->nedge = nedge;
	edges = NULL;
	/* In/out lists cover the listed nodes; hidden ones are only edge ends. */
	for (size_t e = 0; e < g->nedge; e++) {
		struct redge *ed = &g->edge[e];
		if (ed->dst < nlisted)
			g->node[ed->dst].nin++;
		if (ed->src < nlisted)
			g->node[ed->src].nout++;
	}
	for (size_t i = 0; i < nlisted; i++) {
		struct rnode *n = &g->node[i];
		n->in = malloc((n->nin + 1) * sizeof(size_t));
		n->out = malloc((n->nout + 1) * sizeof(size_t));
		if (!n->in || !n->out) {
			for (size_t j = i + 1; j < nlisted; j++)
				g->node[j].in = g->node[j].out = NULL;
			goto fail_graph;
		}
		n->nin = n->nout = 0;
	}
	for (size_t e = 0; e < g->nedge; e++) {
		struct redge *ed = &g->edge[e];
		if (ed->dst < nlisted)
			g->node[ed->dst].in[g->node[ed->dst].nin++] = e;
		if (ed->src < nlisted)
			g->node[ed->src].out[g->node[ed->src].nout++] = e;
	}
	free(acc);
	free(seen);
	free(index);
	etab_release(&t);
	return g;

fail_graph:
	free(acc);
	free(seen);
	free(index);
	etab_release(&t);
	cprof__rgraph_free(g);
	return NULL;
fail:
	free(pend);
	free(acc);
	free(seen);
	free(index);
	free(edges);
	etab_release(&t);
	if (g)
		free(g->node);
	free(g);
	return NULL;
}

struct rgraph *cprof__rgraph_build(const struct rview *v, const bool *kept, bool drop_negative)
{
	return build(v, kept, drop_negative, true);
}

struct rgraph *cprof__rgraph_build_nodes(const struct rview *v, const bool *kept,
					 bool drop_negative)
{
	return build(v, kept, drop_negative, false);
}

/* fmt.Sprint(NodeInfo): pprof's last tie-breaker between nodes. */
static char *sprint_info(const struct rnode_info *i)
{
	char *s = NULL;
	if (asprintf(&s, "{%s  %llu %s %lld %lld %s}", i->name, (unsigned long long)i->address,
		     i->file, (long long)i->start_line, (long long)i->lineno, i->objfile) < 0)
		return NULL;
	return s;
}

static int compare_info(const struct rnode *l, const struct rnode *r)
{
	char *a = sprint_info(&l->info), *b = sprint_info(&r->info);
	int c = a && b ? strcmp(a, b) : 0;
	free(a);
	free(b);
	return c;
}

static int cmp3(int64_t a, int64_t b)
{
	return a > b ? -1 : a < b ? 1 : 0; /* descending */
}

static int by_flat(const void *pa, const void *pb)
{
	const struct rnode *l = pa, *r = pb;
	int c = cmp3(cprof__report_abs64(l->flat), cprof__report_abs64(r->flat));
	if (c)
		return c;
	if ((c = strcmp(l->printable, r->printable)))
		return c;
	if ((c = cmp3(cprof__report_abs64(l->cum), cprof__report_abs64(r->cum))))
		return c;
	return compare_info(l, r);
}

static int by_cum(const void *pa, const void *pb)
{
	const struct rnode *l = pa, *r = pb;
	int c = cmp3(cprof__report_abs64(l->cum), cprof__report_abs64(r->cum));
	if (c)
		return c;
	if ((c = strcmp(l->printable, r->printable)))
		return c;
	if ((c = cmp3(cprof__report_abs64(l->flat), cprof__report_abs64(r->flat))))
		return c;
	return compare_info(l, r);
}

void cprof__rgraph_sort(struct rgraph *g, bool cum)
{
	/* Sort the listed nodes, then renumber edge ends through their keys. */
	size_t n = g->nnode;
	if (n < 2)
		return;
	size_t maxkey = 0;
	for (size_t i = 0; i < n; i++)
		if (g->node[i].key > maxkey)
			maxkey = g->node[i].key;
	size_t *old_key = malloc(n * sizeof(size_t));
	size_t *pos = malloc((maxkey + 1) * sizeof(size_t));
	if (!old_key || !pos) {
		free(old_key);
		free(pos);
		return; /* out of memory: leave the order as is */
	}
	for (size_t i = 0; i < n; i++)
		old_key[i] = g->node[i].key;
	qsort(g->node, n, sizeof(*g->node), cum ? by_cum : by_flat);
	for (size_t i = 0; i < n; i++)
		pos[g->node[i].key] = i;
	for (size_t e = 0; e < g->nedge; e++) {
		if (g->edge[e].src < n)
			g->edge[e].src = pos[old_key[g->edge[e].src]];
		if (g->edge[e].dst < n)
			g->edge[e].dst = pos[old_key[g->edge[e].dst]];
	}
	free(old_key);
	free(pos);
}

int cprof__rgraph_trim_edges(struct rgraph *g, int64_t cutoff)
{
	int dropped = 0;
	for (size_t i = 0; i < g->nnode; i++) {
		struct rnode *n = &g->node[i];
		for (size_t j = 0; j < n->nin; j++) {
			struct redge *e = &g->edge[n->in[j]];
			if (!e->removed && cprof__report_abs64(e->weight) < cutoff) {
				e->removed = true;
				dropped++;
			}
		}
	}
	return dropped;
}

/* Append edge e to a node's out list. */
static int add_out(struct rnode *n, size_t e)
{
	size_t *o = realloc(n->out, (n->nout + 2) * sizeof(size_t));
	if (!o)
		return -ENOMEM;
	n->out = o;
	n->out[n->nout++] = e;
	return 0;
}

int cprof__rgraph_trim_tree(struct rgraph *g, const bool *keep)
{
	size_t n = g->nnode;
	for (size_t i = 0; i < n; i++) {
		if (keep[i])
			continue;
		struct rnode *cur = &g->node[i];
		size_t in = SIZE_MAX;
		for (size_t j = 0; j < cur->nin; j++)
			if (!g->edge[cur->in[j]].removed)
				in = cur->in[j];
		if (in == SIZE_MAX) {
			/* A root: its children become roots. */
			for (size_t j = 0; j < cur->nout; j++)
				g->edge[cur->out[j]].removed = true;
			continue;
		}
		size_t parent = g->edge[in].src;
		bool parent_inline = g->edge[in].is_inline;
		g->edge[in].removed = true;
		for (size_t j = 0; j < cur->nout; j++) {
			struct redge *e = &g->edge[cur->out[j]];
			if (e->removed)
				continue;
			e->src = parent;
			e->residual = true;
			e->is_inline = parent_inline && e->is_inline;
			if (parent < n && add_out(&g->node[parent], cur->out[j]) < 0)
				return -ENOMEM;
		}
	}
	/* Kept nodes first, in order; the others become edge ends only. */
	size_t *pos = malloc((n + 1) * sizeof(size_t));
	struct rnode *node = malloc((n + 1) * sizeof(*node));
	if (!pos || !node) {
		free(pos);
		free(node);
		return -ENOMEM;
	}
	size_t nk = 0, nd = 0;
	for (size_t i = 0; i < n; i++)
		nk += keep[i];
	for (size_t i = 0; i < n; i++) {
		pos[i] = keep[i] ? nd++ : nk + (i - nd);
		node[pos[i]] = g->node[i];
		if (!keep[i]) {
			free(node[pos[i]].in);
			free(node[pos[i]].out);
			node[pos[i]].in = node[pos[i]].out = NULL;
			node[pos[i]].nin = node[pos[i]].nout = 0;
		}
	}
	memcpy(g->node, node, n * sizeof(*node));
	for (size_t e = 0; e < g->nedge; e++) {
		if (g->edge[e].src < n)
			g->edge[e].src = pos[g->edge[e].src];
		if (g->edge[e].dst < n)
			g->edge[e].dst = pos[g->edge[e].dst];
	}
	g->nnode = nk;
	free(pos);
	free(node);
	return 0;
}
