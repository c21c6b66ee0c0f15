/*
 * webui_flame.c - the flame graph's tree on the web UI's server: built once
 * per set of options from the report engine's samples (filters, sample
 * index, granularity, -noinlines, -mean) and kept by webui.c, then served
 * in pieces: the frames of a subtree wide enough to draw at the page's
 * width, each with what was left out below it (so self values stay
 * exact), and on demand what needs the whole tree: search totals, pivots
 * (callers above, callees below) and the callers (bottom-up) tree.
 *
 * It owns the tree's layout (struct webui_flame: arrays in depth-first
 * order), its building, and the packing of those answers; the routes and
 * the cache are webui.c's, the drawing is web/flame.js's. The tree is
 * built from the samples' stacks sorted frame by frame (multikey
 * quicksort), so that stacks sharing outer frames come together and each
 * adds its new frames below the previous one's path with no lookups, in
 * depth-first order as it goes; values are charged to the innermost frame
 * and summed upwards once. The derived trees (pivots) are built with a
 * hash of (parent, name).
 */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cli/webui.h"

/* What the names of a tree's frames are; shared by the trees derived from it. */
struct webui_names {
	size_t n;
	char **name;       /* what a frame shows (cprof__flame_name) */
	char **lib;        /* its library's base name, "" unknown */
	char **file;       /* its source file, "" unknown */
	uint32_t *rank;    /* position in byte order of name: ties among equal widths */
	int refs;
};

#define NONE UINT32_MAX
/* A frame narrower than this many pixels is not drawn (web/flame.js: 0.35). */
#define MIN_PX 0.3
/* At most this many frames an answer: a ceiling for any page width asked. */
#define MAX_SEND 400000

static void names_unref(struct webui_names *nm)
{
	if (!nm || --nm->refs > 0)
		return;
	for (size_t i = 0; i < nm->n; i++) {
		free(nm->name[i]);
		free(nm->lib[i]);
		free(nm->file[i]);
	}
	free(nm->name);
	free(nm->lib);
	free(nm->file);
	free(nm->rank);
	free(nm);
}

void cprof__webui_flame_free(struct webui_flame *m)
{
	if (!m)
		return;
	free(m->val);
	free(m->neg);
	free(m->name);
	free(m->parent);
	free(m->end);
	free(m->depth);
	free(m->self);
	free(m->self_neg);
	names_unref(m->names);
	free(m->type);
	free(m->unit);
	free(m->root);
	free(m);
}

/* ---- a tree being built: nodes in creation order, each after its parent ---- */

struct trie {
	size_t n, cap;
	uint32_t *parent, *name;
	int64_t *val, *neg; /* neg NULL unless diff */
	/* (parent, name) -> node, for trees built from paths in any order */
	uint64_t *hkey;
	uint32_t *hval;
	size_t hcap;
};

static int trie_init(struct trie *t, size_t cap, bool diff)
{
	*t = (struct trie){0};
	t->cap = cap < 16 ? 16 : cap;
	t->parent = malloc(t->cap * sizeof(uint32_t));
	t->name = malloc(t->cap * sizeof(uint32_t));
	t->val = malloc(t->cap * sizeof(int64_t));
	t->neg = diff ? malloc(t->cap * sizeof(int64_t)) : NULL;
	if (!t->parent || !t->name || !t->val || (diff && !t->neg))
		return -ENOMEM;
	t->parent[0] = NONE;
	t->name[0] = NONE;
	t->val[0] = 0;
	if (diff)
		t->neg[0] = 0;
	t->n = 1;
	return 0;
}

static void trie_release(struct trie *t)
{
	free(t->parent);
	free(t->name);
	free(t->val);
	free(t->neg);
	free(t->hkey);
	free(t->hval);
	*t = (struct trie){0};
}

static int grow(void **p, size_t cap, size_t size)
{
	void *q = realloc(*p, cap * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

/* A new child name of parent. NONE on out of memory or past 2^32 - 2 nodes. */
static uint32_t trie_add(struct trie *t, uint32_t parent, uint32_t name)
{
	if (t->n == t->cap) {
		size_t cap = t->cap * 2;
		if (cap >= NONE || grow((void **)&t->parent, cap, sizeof(uint32_t)) < 0 ||
		    grow((void **)&t->name, cap, sizeof(uint32_t)) < 0 ||
		    grow((void **)&t->val, cap, sizeof(int64_t)) < 0 ||
		    (t->neg && grow((void **)&t->neg, cap, sizeof(int64_t)) < 0))
			return NONE;
		t->cap = cap;
	}
	uint32_t c = (uint32_t)t->n++;
	t->parent[c] = parent;
	t->name[c] = name;
	t->val[c] = 0;
	if (t->neg)
		t->neg[c] = 0;
	return c;
}

static size_t hslot(uint64_t k, size_t cap)
{
	k ^= k >> 31;
	k *= 0x9e3779b97f4a7c15ULL;
	k ^= k >> 29;
	return (size_t)k & (cap - 1);
}

/* The child name of parent, made if new. NONE on out of memory. */
static uint32_t trie_child(struct trie *t, uint32_t parent, uint32_t name)
{
	if (t->n * 2 >= t->hcap) {
		size_t cap = t->hcap ? t->hcap * 2 : 1024;
		uint64_t *k = malloc(cap * sizeof(uint64_t));
		uint32_t *v = malloc(cap * sizeof(uint32_t));
		if (!k || !v) {
			free(k);
			free(v);
			return NONE;
		}
		memset(v, 0xff, cap * sizeof(uint32_t));
		for (size_t i = 0; i < t->hcap; i++) {
			if (t->hval[i] == NONE)
				continue;
			size_t s = hslot(t->hkey[i], cap);
			while (v[s] != NONE)
				s = (s + 1) & (cap - 1);
			k[s] = t->hkey[i];
			v[s] = t->hval[i];
		}
		free(t->hkey);
		free(t->hval);
		t->hkey = k;
		t->hval = v;
		t->hcap = cap;
	}
	uint64_t key = (uint64_t)parent << 32 | name;
	size_t s = hslot(key, t->hcap);
	while (t->hval[s] != NONE) {
		if (t->hkey[s] == key)
			return t->hval[s];
		s = (s + 1) & (t->hcap - 1);
	}
	uint32_t c = trie_add(t, parent, name);
	if (c != NONE) {
		t->hkey[s] = key;
		t->hval[s] = c;
	}
	return c;
}

static void trie_charge(struct trie *t, uint32_t node, int64_t v, int64_t b)
{
	t->val[node] += v;
	if (t->neg)
		t->neg[node] += b;
}

/* ---- from a built trie to the tree served ---- */

struct order_ctx {
	const struct trie *t;
	const uint32_t *rank;
};

/* Children by decreasing width (the newer profile's part), then whole value, then name. */
static int by_width(const void *a, const void *b, void *arg)
{
	const struct order_ctx *c = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const struct trie *t = c->t;
	if (t->val[x] != t->val[y])
		return t->val[x] > t->val[y] ? -1 : 1;
	if (t->neg && t->neg[x] != t->neg[y])
		return t->neg[x] > t->neg[y] ? -1 : 1;
	uint32_t rx = c->rank[t->name[x]], ry = c->rank[t->name[y]];
	return rx < ry ? -1 : rx > ry;
}

/*
 * The tree m of trie t (released), in depth-first order. A trie made in
 * depth-first order already (from sorted stacks) keeps its order;
 * cprof__webui_flame_send orders each frame's callees by width as it
 * sends them.
 */
static int finish_preorder(struct trie *t, struct webui_flame *m)
{
	size_t n = t->n;
	m->n = n;
	m->val = t->val;
	m->neg = t->neg;
	m->name = t->name;
	m->parent = t->parent;
	t->val = t->neg = NULL;
	t->name = t->parent = NULL;
	/* the trie's arrays grew by doubling: give back what is past n */
	grow((void **)&m->val, n, sizeof(int64_t));
	if (m->neg)
		grow((void **)&m->neg, n, sizeof(int64_t));
	grow((void **)&m->name, n, sizeof(uint32_t));
	grow((void **)&m->parent, n, sizeof(uint32_t));
	m->end = malloc(n * sizeof(uint32_t));
	m->depth = malloc(n * sizeof(uint16_t));
	trie_release(t);
	if (!m->end || !m->depth)
		return -ENOMEM;
	m->depth[0] = 0;
	for (size_t i = 1; i < n; i++) {
		unsigned d = m->depth[m->parent[i]];
		m->depth[i] = d == UINT16_MAX ? UINT16_MAX : (uint16_t)(d + 1);
	}
	uint32_t *size = m->end; /* sizes first, then ends in place */
	for (size_t i = 0; i < n; i++)
		size[i] = 1;
	for (size_t i = n; i-- > 1;)
		size[m->parent[i]] += size[i];
	for (size_t i = 0; i < n; i++)
		m->end[i] = (uint32_t)i + size[i];
	m->bytes = n * (sizeof(int64_t) * (m->neg ? 2 : 1) + 3 * sizeof(uint32_t) + sizeof(uint16_t));
	return 0;
}

/* The tree m of trie t (released), in depth-first order with sorted children. */
static int finish(struct trie *t, struct webui_flame *m)
{
	size_t n = t->n;
	int rc = -ENOMEM;
	uint32_t *start = calloc(n + 1, sizeof(uint32_t));
	uint32_t *kids = malloc(n * sizeof(uint32_t));
	uint32_t *stack = malloc(n * sizeof(uint32_t));
	uint32_t *newid = malloc(n * sizeof(uint32_t));
	m->n = n;
	m->val = malloc(n * sizeof(int64_t));
	m->neg = t->neg ? malloc(n * sizeof(int64_t)) : NULL;
	m->name = malloc(n * sizeof(uint32_t));
	m->parent = malloc(n * sizeof(uint32_t));
	m->end = malloc(n * sizeof(uint32_t));
	m->depth = malloc(n * sizeof(uint16_t));
	if (!start || !kids || !stack || !newid || !m->val || (t->neg && !m->neg) || !m->name ||
	    !m->parent || !m->end || !m->depth)
		goto out;
	/* children lists, each in one slice of kids */
	for (size_t i = 1; i < n; i++)
		start[t->parent[i] + 1]++;
	for (size_t i = 0; i < n; i++)
		start[i + 1] += start[i];
	for (size_t i = 1; i < n; i++)
		kids[start[t->parent[i]]++] = (uint32_t)i;
	for (size_t i = n; i-- > 0;) /* start[i] was moved to the end of i's slice: move it back */
		start[i + 1] = start[i];
	start[0] = 0;
	struct order_ctx ctx = {t, m->names->rank};
	for (size_t i = 0; i < n; i++)
		if (start[i + 1] - start[i] > 1)
			qsort_r(kids + start[i], start[i + 1] - start[i], sizeof(uint32_t), by_width, &ctx);
	/* depth-first */
	size_t sp = 0, no = 0;
	stack[sp++] = 0;
	while (sp) {
		uint32_t cur = stack[--sp];
		uint32_t id = (uint32_t)no++;
		newid[cur] = id;
		m->val[id] = t->val[cur];
		if (m->neg)
			m->neg[id] = t->neg[cur];
		m->name[id] = t->name[cur];
		uint32_t par = cur ? newid[t->parent[cur]] : NONE;
		m->parent[id] = par;
		m->depth[id] = cur ? (m->depth[par] == UINT16_MAX ? UINT16_MAX : m->depth[par] + 1) : 0;
		for (uint32_t k = start[cur + 1]; k-- > start[cur];)
			stack[sp++] = kids[k];
	}
	/* subtree ends: a node's subtree ends where its size says */
	uint32_t *size = newid; /* reused */
	for (size_t i = 0; i < n; i++)
		size[i] = 1;
	for (size_t i = n; i-- > 1;)
		size[m->parent[i]] += size[i];
	for (size_t i = 0; i < n; i++)
		m->end[i] = (uint32_t)i + size[i];
	m->bytes = n * (sizeof(int64_t) * (m->neg ? 2 : 1) + 3 * sizeof(uint32_t) + sizeof(uint16_t));
	rc = 0;
out:
	free(start);
	free(kids);
	free(stack);
	free(newid);
	trie_release(t);
	return rc;
}

/* ---- the tree of a report ---- */

struct stacks {
	const uint32_t *key;
	const size_t *off;
};

/* Stacks as byte strings: any such order keeps stacks with a common prefix together. */
static int by_stack(const void *a, const void *b, void *arg)
{
	const struct stacks *st = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	size_t nx = st->off[x + 1] - st->off[x], ny = st->off[y + 1] - st->off[y];
	int c = memcmp(st->key + st->off[x], st->key + st->off[y], (nx < ny ? nx : ny) * sizeof(uint32_t));
	if (c)
		return c;
	return nx < ny ? -1 : nx > ny;
}

/* Frame d of stack s plus one, 0 past its end (so a stack sorts before those it is a prefix of). */
static inline uint64_t sym(const struct stacks *st, uint32_t s, size_t d)
{
	return st->off[s] + d < st->off[s + 1] ? (uint64_t)st->key[st->off[s] + d] + 1 : 0;
}

/*
 * Multikey quicksort (Bentley and Sedgewick) of the stacks a[0..n) that
 * agree on their first d frames: one frame compared at a time, so the
 * frames stacks share are not compared again and again as a comparison
 * sort would. Any order that is lexicographic frame by frame will do.
 */
static void sort_stacks(uint32_t *a, size_t n, size_t d, const struct stacks *st)
{
	while (n > 1) {
		if (n < 12) {
			qsort_r(a, n, sizeof(uint32_t), by_stack, (void *)st);
			return;
		}
		uint64_t x = sym(st, a[0], d), y = sym(st, a[n / 2], d), z = sym(st, a[n - 1], d);
		uint64_t v = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
		/* three-way partition: [0, lt) below v, [lt, gt) equal, [gt, n) above */
		size_t lt = 0, i = 0, gt = n;
		while (i < gt) {
			uint64_t c = sym(st, a[i], d);
			uint32_t t;
			if (c < v) {
				t = a[lt], a[lt++] = a[i], a[i++] = t;
			} else if (c > v) {
				t = a[--gt], a[gt] = a[i], a[i] = t;
			} else {
				i++;
			}
		}
		sort_stacks(a, lt, d, st);
		sort_stacks(a + gt, n - gt, d, st);
		if (v == 0)
			return; /* the equal ones all end here: the same stack */
		a += lt;
		n = gt - lt;
		d++;
	}
}

static const char *base_name(const char *s)
{
	const char *b = strrchr(s, '/');
	return b ? b + 1 : s;
}

static int by_name(const void *a, const void *b, void *arg)
{
	char **name = arg;
	return strcmp(name[*(const uint32_t *)a], name[*(const uint32_t *)b]);
}

/* The names of the keys used (trie names are keys; renumbered in order of first use). */
static int make_names(struct report *r, struct trie *t, struct webui_names **out)
{
	size_t nk = cprof__rview_nkeys(r->view);
	uint32_t *id = malloc((nk + 1) * sizeof(uint32_t));
	struct webui_names *nm = calloc(1, sizeof(*nm));
	const char **lib = calloc(nk + 1, sizeof(char *));
	uint32_t *byname = NULL;
	int rc = -ENOMEM;
	if (!id || !nm || !lib)
		goto out;
	nm->refs = 1;
	memset(id, 0xff, (nk + 1) * sizeof(uint32_t));
	size_t nn = 0;
	for (size_t i = 1; i < t->n; i++) {
		uint32_t k = t->name[i];
		if (id[k] == NONE)
			id[k] = (uint32_t)nn++;
		t->name[i] = id[k];
	}
	nm->name = calloc(nn + 1, sizeof(char *));
	nm->lib = calloc(nn + 1, sizeof(char *));
	nm->file = calloc(nn + 1, sizeof(char *));
	nm->rank = malloc((nn + 1) * sizeof(uint32_t));
	byname = malloc((nn + 1) * sizeof(uint32_t));
	if (!nm->name || !nm->lib || !nm->file || !nm->rank || !byname)
		goto out;
	nm->n = nn;
	/* A frame's library: its key's objfile, else the mapping of a location it comes from. */
	const struct profile *p = r->prof;
	for (size_t l = 0; l < p->nlocation; l++) {
		const struct pp_mapping *mp = cprof__profile_mapping(p, p->location[l].mapping_id);
		if (!mp || mp->filename <= 0 || (size_t)mp->filename >= p->nstrings)
			continue;
		size_t n;
		const size_t *keys = cprof__rview_loc_keys(r->view, l, &n);
		for (size_t j = 0; j < n; j++)
			if (!lib[keys[j]])
				lib[keys[j]] = p->strings[mp->filename];
	}
	for (size_t k = 0; k < nk; k++) {
		if (id[k] == NONE)
			continue;
		const struct rnode_info *info = cprof__rview_key_info(r->view, k);
		const char *o = info->objfile[0] ? info->objfile : lib[k] ? lib[k] : "";
		uint32_t i = id[k];
		if (!(nm->name[i] = cprof__flame_name(info)) || !(nm->lib[i] = strdup(base_name(o))) ||
		    !(nm->file[i] = strdup(info->file)))
			goto out;
	}
	for (size_t i = 0; i < nn; i++)
		byname[i] = (uint32_t)i;
	qsort_r(byname, nn, sizeof(uint32_t), by_name, nm->name);
	for (size_t i = 0; i < nn; i++)
		nm->rank[byname[i]] = (uint32_t)i;
	*out = nm;
	nm = NULL;
	rc = 0;
out:
	if (nm) {
		nm->refs = 1;
		names_unref(nm);
	}
	free(id);
	free(lib);
	free(byname);
	return rc;
}

int cprof__webui_flame_build(const struct profile *prof, const struct report_options *base,
			     struct webui_flame **out, char *err, size_t errlen)
{
	/* pprof's flame graph: the whole profile, no trimming, one node per function and file */
	struct report_options o = *base;
	o.trim = false;
	o.call_tree = false;
	struct report r;
	if (cprof__report_init(&r, prof, &o, err, errlen) < 0)
		return -EINVAL;
	const struct profile *p = r.prof;
	int vi = r.value_index, rc = -ENOMEM;
	uint32_t *key = NULL, *order = NULL, *path = NULL;
	size_t *off = NULL;
	int64_t *val = NULL;
	struct trie t = {0};
	struct webui_flame *m = calloc(1, sizeof(*m));
	if (!m)
		goto out;
	/* The stacks, root first, as keys. */
	size_t nkey = 0, ns = 0, maxd = 0, cap = p->nsample * 16 + 16;
	bool diff = false;
	for (size_t s = 0; s < p->nsample; s++)
		if ((size_t)vi < p->sample[s].nvalue && p->sample[s].value[vi] != 0)
			ns++;
	if (ns >= NONE)
		goto out;
	key = malloc(cap * sizeof(uint32_t));
	off = malloc((ns + 1) * sizeof(size_t));
	val = malloc((ns + 1) * sizeof(int64_t));
	order = malloc((ns + 1) * sizeof(uint32_t));
	if (!key || !off || !val || !order)
		goto out;
	size_t j = 0;
	for (size_t s = 0; s < p->nsample; s++) {
		const struct pp_sample *sm = &p->sample[s];
		if ((size_t)vi >= sm->nvalue || sm->value[vi] == 0)
			continue;
		int64_t v = sm->value[vi];
		diff |= v < 0;
		if (r.opt.mean && sm->value[0] != 0)
			v /= sm->value[0];
		off[j] = nkey;
		for (size_t i = sm->nlocation; i-- > 0;) {
			const struct pp_location *loc = cprof__profile_location(p, sm->location_id[i]);
			if (!loc)
				continue;
			size_t n;
			const size_t *keys = cprof__rview_loc_keys(r.view, (size_t)(loc - p->location), &n);
			if (nkey + n > cap) {
				while (nkey + n > cap)
					cap *= 2;
				if (grow((void **)&key, cap, sizeof(uint32_t)) < 0)
					goto out;
			}
			for (size_t q = n; q-- > 0;)
				key[nkey++] = (uint32_t)keys[q];
		}
		if (nkey - off[j] > maxd)
			maxd = nkey - off[j];
		val[j] = v;
		order[j] = (uint32_t)j;
		j++;
	}
	off[ns] = nkey;
	struct stacks st = {key, off};
	sort_stacks(order, ns, 0, &st);
	path = malloc((maxd + 1) * sizeof(uint32_t));
	if (!path || trie_init(&t, ns * 4 + 16, diff) < 0)
		goto out;
	/* Each stack shares a prefix of the previous one's path and adds the rest below it. */
	const uint32_t *prev = NULL;
	size_t plen = 0;
	for (size_t o2 = 0; o2 < ns; o2++) {
		size_t s = order[o2];
		const uint32_t *ks = key + off[s];
		size_t n = off[s + 1] - off[s], same = 0;
		int64_t nv = val[s] > 0 ? val[s] : 0, bv = val[s] < 0 ? -val[s] : 0;
		while (same < n && same < plen && ks[same] == prev[same])
			same++;
		for (size_t d = same; d < n; d++) {
			uint32_t c = trie_add(&t, d ? path[d - 1] : 0, ks[d]);
			if (c == NONE)
				goto out;
			path[d] = c;
		}
		/* the innermost frame only: its callers' values are sums, made below */
		trie_charge(&t, n ? path[n - 1] : 0, nv, bv);
		prev = ks;
		plen = n;
	}
	for (size_t i = t.n; i-- > 1;) /* a node comes after its caller */
		trie_charge(&t, t.parent[i], t.val[i], t.neg ? t.neg[i] : 0);
	free(key);
	key = NULL;
	if (make_names(&r, &t, &m->names) < 0)
		goto out;
	m->all = t.val[0];
	m->all_neg = t.neg ? t.neg[0] : 0;
	m->type = strdup(r.sample_type ? r.sample_type : "");
	m->unit = strdup(r.sample_unit ? r.sample_unit : "");
	if (!m->type || !m->unit || finish_preorder(&t, m) < 0)
		goto out;
	*out = m;
	m = NULL;
	rc = 0;
out:
	trie_release(&t);
	cprof__webui_flame_free(m);
	free(key);
	free(off);
	free(val);
	free(order);
	free(path);
	cprof__report_release(&r);
	return rc;
}

/* ---- regexps over the names ---- */

/* One flag per name: whether re matches it (as pprof: the full name, file included). */
static int match_names(const struct webui_flame *m, const char *pat, uint8_t **out, char *err,
		       size_t errlen)
{
	regex_t re;
	char why[256];
	if (cprof__filter_regcomp(&re, pat, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "bad regexp %s: %s", pat, why);
		return -EINVAL;
	}
	uint8_t *hit = calloc(m->names->n + 1, 1);
	if (!hit) {
		regfree(&re);
		return -ENOMEM;
	}
	for (size_t k = 0; k < m->names->n; k++)
		hit[k] = regexec(&re, m->names->name[k], 0, NULL, 0) == 0;
	regfree(&re);
	*out = hit;
	return 0;
}

int cprof__webui_flame_pivot(const struct webui_flame *m, const char *pat, bool up,
			     struct webui_flame **out, char *err, size_t errlen)
{
	uint8_t *hit;
	int rc = match_names(m, pat, &hit, err, errlen);
	if (rc < 0)
		return rc;
	struct trie t;
	struct webui_flame *pm = calloc(1, sizeof(*pm));
	uint32_t *dstack = malloc((UINT16_MAX + 2) * sizeof(uint32_t));
	rc = -ENOMEM;
	if (!pm || !dstack || trie_init(&t, 1024, m->neg != NULL) < 0)
		goto out;
	/* Recursion counts once: only the outermost match of each stack. */
	for (size_t i = 1; i < m->n;) {
		if (!hit[m->name[i]]) {
			i++;
			continue;
		}
		int64_t v = m->val[i], b = m->neg ? m->neg[i] : 0;
		trie_charge(&t, 0, v, b);
		if (up) {
			uint32_t c = 0;
			for (uint32_t a = (uint32_t)i; a != 0; a = m->parent[a]) {
				if ((c = trie_child(&t, c, m->name[a])) == NONE)
					goto out;
				trie_charge(&t, c, v, b);
			}
		} else {
			/* the subtree, merged under one node per matched name */
			unsigned base = m->depth[i];
			for (size_t j = i; j < m->end[i]; j++) {
				unsigned d = m->depth[j] - base;
				uint32_t c = trie_child(&t, d ? dstack[d - 1] : 0, m->name[j]);
				if (c == NONE)
					goto out;
				trie_charge(&t, c, m->val[j], m->neg ? m->neg[j] : 0);
				dstack[d] = c;
			}
		}
		i = m->end[i];
	}
	pm->all = m->all;
	pm->all_neg = m->all_neg;
	pm->names = m->names;
	m->names->refs++;
	pm->type = strdup(m->type);
	pm->unit = strdup(m->unit);
	size_t rl = strlen(pat) + 8;
	if (!pm->type || !pm->unit || !(pm->root = malloc(rl)))
		goto out;
	snprintf(pm->root, rl, "pivot: %s", pat);
	free(t.hkey);
	free(t.hval);
	t.hkey = NULL;
	t.hval = NULL;
	if (finish(&t, pm) < 0)
		goto out;
	*out = pm;
	pm = NULL;
	rc = 0;
out:
	trie_release(&t);
	cprof__webui_flame_free(pm);
	free(dstack);
	free(hit);
	return rc;
}

/* ---- answers ---- */

/* A growing answer: bytes, then the binary arrays or the JSON text. */
struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const void *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_int(struct buf *b, int64_t v)
{
	char tmp[24], *e = tmp + sizeof(tmp), *s = e;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do
		*--s = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		*--s = '-';
	put(b, s, (size_t)(e - s));
}

size_t cprof__webui_json_run(const char *s, char esc[7])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strcspn(s, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e"
			   "\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f");
	unsigned char c = (unsigned char)s[n];
	if (!c)
		esc[0] = '\0';
	else if (c == '"' || c == '\\')
		memcpy(esc, (char[]){'\\', (char)c, '\0'}, 3);
	else
		memcpy(esc, (char[]){'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0'}, 7);
	return n;
}

static void put_str(struct buf *b, const char *s)
{
	char esc[7];
	put(b, "\"", 1);
	while (s && *s) {
		size_t n = cprof__webui_json_run(s, esc);
		put(b, s, n);
		s += n;
		if (!*s)
			break;
		puts_(b, esc);
		s++;
	}
	put(b, "\"", 1);
}

/* The answer in out, or -ENOMEM; either way b no longer holds it. */
static int done(struct buf *b, struct webui_reply *out, const char *type)
{
	bool oom = b->oom;
	if (oom)
		free(b->p);
	else
		*out = (struct webui_reply){b->p, b->len, type, NULL, false};
	*b = (struct buf){0};
	return oom ? -ENOMEM : 0;
}

/* The names sent with an answer: indices, then each one's name, library and file. */
static void put_names(struct buf *b, const struct webui_names *nm, const uint32_t *ids, size_t n)
{
	puts_(b, "\"ids\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			put(b, ",", 1);
		put_int(b, ids[i]);
	}
	const char *key[3] = {"],\"names\":[", "],\"lib\":[", "],\"file\":["};
	char **const col[3] = {nm->name, nm->lib, nm->file};
	for (int c = 0; c < 3; c++) {
		puts_(b, key[c]);
		for (size_t i = 0; i < n; i++) {
			if (i)
				put(b, ",", 1);
			put_str(b, col[c][ids[i]]);
		}
	}
	put(b, "]", 1);
}

static void put_header(struct buf *b, const struct webui_flame *m)
{
	puts_(b, "\"diff\":");
	puts_(b, m->neg ? "true" : "false");
	puts_(b, ",\"type\":");
	put_str(b, m->type);
	puts_(b, ",\"unit\":");
	put_str(b, m->unit);
	puts_(b, ",\"total\":");
	put_int(b, m->val[0]);
	puts_(b, ",\"base\":");
	put_int(b, m->neg ? m->neg[0] : 0);
	puts_(b, ",\"all\":");
	put_int(b, m->all);
	puts_(b, ",\"allBase\":");
	put_int(b, m->all_neg);
	puts_(b, ",\"nnames\":");
	put_int(b, (int64_t)m->names->n);
	puts_(b, ",\"root\":");
	if (m->root)
		put_str(b, m->root);
	else
		puts_(b, "null");
}

/* Frames by increasing width (the reverse of the order callees are drawn in). */
static int narrower(const void *a, const void *b, void *arg)
{
	const struct webui_flame *m = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (m->val[x] != m->val[y])
		return m->val[x] < m->val[y] ? -1 : 1;
	if (m->neg && m->neg[x] != m->neg[y])
		return m->neg[x] < m->neg[y] ? -1 : 1;
	uint32_t rx = m->names->rank[m->name[x]], ry = m->names->rank[m->name[y]];
	return rx > ry ? -1 : rx < ry;
}

/*
 * Binary: a little-endian u32 n, n bytes of JSON (count, diff, type, unit,
 * totals, the names used), zero padding to a multiple of 8, then per frame
 * sent in depth-first order: value, base part (diffs only), the value of
 * the callees left out, their base part (diffs only), the widest callee
 * left out (f64 each); its node number and name index (u32); depth (u16);
 * flags (u8: 1 callees left out, 2 a callee vanished in a diff).
 */
int cprof__webui_flame_send(const struct webui_flame *m, size_t z, double width,
			    struct webui_reply *out)
{
	if (z >= m->n)
		return -ENOENT;
	if (!(width >= 100))
		width = 100;
	if (width > 20000)
		width = 20000;
	bool diff = m->neg != NULL;
	int64_t top = m->val[z] > 0 ? m->val[z] : diff ? m->neg[z] : 0;
	double thr = (double)top * MIN_PX / width;
	if (thr <= 0)
		thr = 1e-300; /* frames of value 0 are never drawn */
	size_t cap = 1024, no = 0;
	uint32_t *sent = malloc(cap * sizeof(uint32_t));
	double *more = malloc(cap * 3 * sizeof(double));
	uint8_t *flags = malloc(cap);
	size_t scap = 1024;
	uint32_t *stack = malloc(scap * sizeof(uint32_t));
	uint8_t *used = calloc(m->names->n + 1, 1);
	uint32_t *ids = NULL;
	struct buf b = {0};
	int rc = -ENOMEM;
	if (!sent || !more || !flags || !stack || !used)
		goto out;
	/* depth-first over the frames kept; a stack of (node, next child) pairs */
	size_t sp = 0;
	stack[sp++] = (uint32_t)z;
	while (sp) {
		uint32_t i = stack[--sp];
		if (no == cap) {
			cap *= 2;
			if (grow((void **)&sent, cap, sizeof(uint32_t)) < 0 ||
			    grow((void **)&more, cap * 3, sizeof(double)) < 0 || grow((void **)&flags, cap, 1) < 0)
				goto out;
		}
		size_t me = no++;
		sent[me] = i;
		if (m->name[i] != NONE)
			used[m->name[i]] = 1;
		double mv = 0, mb = 0, big = 0;
		uint8_t fl = 0;
		size_t first = sp;
		for (uint32_t c = i + 1; c < m->end[i]; c = m->end[c]) {
			bool keep = (double)m->val[c] >= thr || (diff && (double)m->neg[c] >= thr);
			if (diff && m->val[c] == 0 && m->neg[c] > 0)
				fl |= 2;
			if (keep && no + sp < MAX_SEND) {
				if (sp == scap && grow((void **)&stack, scap *= 2, sizeof(uint32_t)) < 0)
					goto out;
				stack[sp++] = c;
				continue;
			}
			mv += (double)m->val[c];
			if (diff)
				mb += (double)m->neg[c];
			if ((double)m->val[c] > big)
				big = (double)m->val[c];
			fl |= 1;
		}
		/* the widest on top of the stack, visited first */
		if (sp - first > 1)
			qsort_r(stack + first, sp - first, sizeof(uint32_t), narrower, (void *)m);
		more[me * 3] = mv;
		more[me * 3 + 1] = mb;
		more[me * 3 + 2] = big;
		flags[me] = fl;
	}
	/* the names used, by index */
	size_t nid = 0;
	if (!(ids = malloc((m->names->n + 1) * sizeof(uint32_t))))
		goto out;
	for (size_t k = 0; k < m->names->n; k++)
		if (used[k])
			ids[nid++] = (uint32_t)k;
	put(&b, "\0\0\0\0", 4);
	puts_(&b, "{\"n\":");
	put_int(&b, (int64_t)no);
	put(&b, ",", 1);
	put_header(&b, m);
	put(&b, ",", 1);
	put_names(&b, m->names, ids, nid);
	put(&b, "}", 1);
	if (b.oom)
		goto out;
	uint32_t hl = (uint32_t)(b.len - 4);
	for (int k = 0; k < 4; k++)
		b.p[k] = (char)(hl >> (8 * k) & 0xff);
	while (b.len % 8)
		put(&b, "", 1);
	size_t at = b.len, nf = diff ? 5 : 3;
	size_t size = at + no * (nf * sizeof(double) + 2 * sizeof(uint32_t) + sizeof(uint16_t) + 1);
	char *q = realloc(b.p, size + 1);
	if (!q)
		goto out;
	b.p = q;
	b.len = b.cap = size;
	/* arrays in place, widest first so each is aligned (little-endian, as typed arrays) */
	double *f = (double *)(void *)(q + at);
	for (size_t i = 0; i < no; i++)
		*f++ = (double)m->val[sent[i]];
	if (diff)
		for (size_t i = 0; i < no; i++)
			*f++ = (double)m->neg[sent[i]];
	for (size_t i = 0; i < no; i++)
		*f++ = more[i * 3];
	if (diff)
		for (size_t i = 0; i < no; i++)
			*f++ = more[i * 3 + 1];
	for (size_t i = 0; i < no; i++)
		*f++ = more[i * 3 + 2];
	uint32_t *u = (uint32_t *)(void *)f;
	memcpy(u, sent, no * sizeof(uint32_t));
	u += no;
	for (size_t i = 0; i < no; i++)
		*u++ = m->name[sent[i]];
	uint16_t *d = (uint16_t *)(void *)u;
	for (size_t i = 0; i < no; i++)
		*d++ = m->depth[sent[i]];
	memcpy(d, flags, no);
	rc = done(&b, out, "application/octet-stream");
out:
	free(b.p);
	free(sent);
	free(more);
	free(flags);
	free(stack);
	free(used);
	free(ids);
	return rc;
}

int cprof__webui_flame_search(const struct webui_flame *m, const char *pat,
			      struct webui_reply *out, char *err, size_t errlen)
{
	uint8_t *hit;
	int rc = match_names(m, pat, &hit, err, errlen);
	if (rc < 0)
		return rc;
	/* the outermost matches: no sample counted twice */
	int64_t v = 0, b = 0;
	for (size_t i = 1; i < m->n;) {
		if (hit[m->name[i]]) {
			v += m->val[i];
			b += m->neg ? m->neg[i] : 0;
			i = m->end[i];
		} else {
			i++;
		}
	}
	struct buf o = {0};
	puts_(&o, "{\"total\":");
	put_int(&o, v);
	puts_(&o, ",\"base\":");
	put_int(&o, b);
	puts_(&o, ",\"match\":[");
	size_t k = 0;
	for (size_t i = 0; i < m->names->n; i++)
		if (hit[i]) {
			if (k++)
				put(&o, ",", 1);
			put_int(&o, (int64_t)i);
		}
	puts_(&o, "]}");
	free(hit);
	return done(&o, out, "application/json");
}

/* ---- the callers tree ---- */

/* Each frame's own value (its callees' taken out), made once per tree. */
static int make_self(struct webui_flame *m)
{
	if (m->self)
		return 0;
	int64_t *s = malloc(m->n * sizeof(int64_t)), *sn = NULL;
	if (!s || (m->neg && !(sn = malloc(m->n * sizeof(int64_t))))) {
		free(s);
		return -ENOMEM;
	}
	memcpy(s, m->val, m->n * sizeof(int64_t));
	if (sn)
		memcpy(sn, m->neg, m->n * sizeof(int64_t));
	for (size_t i = 1; i < m->n; i++) {
		s[m->parent[i]] -= m->val[i];
		if (sn)
			sn[m->parent[i]] -= m->neg[i];
	}
	m->self = s;
	m->self_neg = sn;
	m->bytes += m->n * sizeof(int64_t) * (sn ? 2 : 1);
	return 0;
}

struct group {
	uint32_t name;
	int64_t val, neg;
	bool kids;
};

static int by_group(const void *a, const void *b, void *arg)
{
	const struct group *x = a, *y = b;
	const uint32_t *rank = arg;
	if (x->val != y->val)
		return x->val > y->val ? -1 : 1;
	if (x->neg != y->neg)
		return x->neg > y->neg ? -1 : 1;
	return rank[x->name] < rank[y->name] ? -1 : rank[x->name] > rank[y->name];
}

int cprof__webui_flame_callers(struct webui_flame *m, const char *path, struct webui_reply *out,
			       char *err, size_t errlen)
{
	/* the path: name indices, innermost first */
	size_t np = 0, cap = 16;
	uint32_t *want = malloc(cap * sizeof(uint32_t));
	if (!want)
		return -ENOMEM;
	for (const char *s = path; s && *s;) {
		char *e;
		unsigned long v = strtoul(s, &e, 10);
		if (e == s || v >= m->names->n || (*e && *e != '.')) {
			free(want);
			snprintf(err, errlen, "invalid value \"%s\" for parameter path", path);
			return -EINVAL;
		}
		if (np == cap && grow((void **)&want, cap *= 2, sizeof(uint32_t)) < 0) {
			free(want);
			return -ENOMEM;
		}
		want[np++] = (uint32_t)v;
		s = *e ? e + 1 : e;
	}
	struct group *g = calloc(m->names->n + 1, sizeof(*g));
	if (!g || make_self(m) < 0) {
		free(want);
		free(g);
		return -ENOMEM;
	}
	/*
	 * Each frame's own value goes up its stack: the frames whose stack,
	 * read from the frame outwards, starts with the path give their value
	 * to the next caller out.
	 */
	int64_t tv = 0, tb = 0;
	for (size_t i = 1; i < m->n; i++) {
		int64_t v = m->self[i], b = m->self_neg ? m->self_neg[i] : 0;
		if (v <= 0 && b <= 0)
			continue;
		uint32_t a = (uint32_t)i;
		size_t k = 0;
		for (; k < np && a != 0 && a != NONE && m->name[a] == want[k]; k++)
			a = m->parent[a];
		if (k < np || a == 0 || a == NONE)
			continue;
		struct group *x = &g[m->name[a]];
		x->val += v;
		x->neg += b;
		x->kids |= m->parent[a] != 0;
		tv += v;
		tb += b;
	}
	size_t ng = 0;
	for (size_t k = 0; k < m->names->n; k++)
		if (g[k].val || g[k].neg) {
			g[ng] = g[k];
			g[ng++].name = (uint32_t)k;
		}
	qsort_r(g, ng, sizeof(*g), by_group, m->names->rank);
	struct buf o = {0};
	put(&o, "{", 1);
	put_header(&o, m);
	puts_(&o, ",\"through\":");
	put_int(&o, tv);
	puts_(&o, ",\"throughBase\":");
	put_int(&o, tb);
	puts_(&o, ",\"rows\":[");
	for (size_t k = 0; k < ng; k++) {
		if (k)
			put(&o, ",", 1);
		put(&o, "[", 1);
		put_int(&o, g[k].name);
		put(&o, ",", 1);
		put_int(&o, g[k].val);
		put(&o, ",", 1);
		put_int(&o, g[k].neg);
		puts_(&o, g[k].kids ? ",1]" : ",0]");
	}
	puts_(&o, "],");
	uint32_t *ids = malloc((ng + 1) * sizeof(uint32_t));
	if (ids) {
		for (size_t k = 0; k < ng; k++)
			ids[k] = g[k].name;
		put_names(&o, m->names, ids, ng);
	} else {
		o.oom = true;
	}
	put(&o, "}", 1);
	free(ids);
	free(g);
	free(want);
	return done(&o, out, "application/json");
}
