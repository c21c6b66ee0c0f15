/*
 * delta.c - the difference between two profiles of one kind taken at two
 * moments in this process (the seconds=N form of /debug/pprof/<name>, as
 * net/http/pprof computes it: p1 minus p0).
 *
 * Both profiles come from the same builder in the same process, so a frame
 * is identified by its address (or, for the runtime's pseudo-frames without
 * one, by its function name) and a sample by its frames and string labels.
 * Numeric labels are not part of a sample's identity: the heap's "bytes"
 * label is the mean size of a site's sampled blocks, which moves whenever a
 * site allocates other sizes, and matching on it would turn such a site's
 * delta into p1's whole count beside p0's negated one. A matched sample
 * keeps p1's numeric labels. Samples
 * of p0 that p1 lacks are imported into p1 with negated values, with their
 * locations, functions and mappings; samples whose values all cancel are
 * dropped. Location ids of the two profiles are never compared directly:
 * each build numbers its own.
 *
 * Thread context; allocates freely.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/profile.h"
#include "runtime/rt.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The name of a location's outermost function ("" when none). */
static const char *loc_name(const struct profile *p, const struct pp_location *l)
{
	if (!l || l->nline == 0)
		return "";
	const struct pp_function *f = cprof__profile_function(p, l->line[l->nline - 1].function_id);
	return f ? cprof__profile_str(p, f->name) : "";
}

static uint64_t loc_hash(const struct profile *p, uint64_t id)
{
	const struct pp_location *l = cprof__profile_location(p, id);
	if (!l)
		return 0;
	return l->address ? l->address : hash_str(loc_name(p, l));
}

static bool same_loc(const struct profile *a, uint64_t ida, const struct profile *b, uint64_t idb)
{
	const struct pp_location *x = cprof__profile_location(a, ida), *y = cprof__profile_location(b, idb);
	if (!x || !y)
		return x == y;
	if (x->address || y->address)
		return x->address == y->address;
	return strcmp(loc_name(a, x), loc_name(b, y)) == 0;
}

static uint64_t sample_hash(const struct profile *p, const struct pp_sample *s)
{
	uint64_t h = s->nlocation;
	for (size_t i = 0; i < s->nlocation; i++)
		h = mix(h, loc_hash(p, s->location_id[i]));
	for (size_t i = 0; i < s->nlabel; i++) {
		if (!s->label[i].str)
			continue; /* numeric: not part of the identity */
		/* Labels are an unordered set: combine them commutatively. */
		uint64_t lh = mix(hash_str(cprof__profile_str(p, s->label[i].key)),
				  hash_str(cprof__profile_str(p, s->label[i].str)));
		h += lh * 0x2545f4914f6cdd1dull;
	}
	return h;
}

/* Whether s has the string label l (of profile a). */
static bool has_label(const struct profile *a, const struct pp_label *l, const struct profile *b,
		      const struct pp_sample *s)
{
	const char *k = cprof__profile_str(a, l->key);
	for (size_t i = 0; i < s->nlabel; i++) {
		const struct pp_label *m = &s->label[i];
		if (m->str && strcmp(cprof__profile_str(b, m->key), k) == 0 &&
		    strcmp(cprof__profile_str(a, l->str), cprof__profile_str(b, m->str)) == 0)
			return true;
	}
	return false;
}

static size_t string_labels(const struct pp_sample *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nlabel; i++)
		n += s->label[i].str != 0;
	return n;
}

static bool same_sample(const struct profile *a, const struct pp_sample *x, const struct profile *b,
			const struct pp_sample *y)
{
	if (x->nlocation != y->nlocation || string_labels(x) != string_labels(y))
		return false;
	for (size_t i = 0; i < x->nlocation; i++)
		if (!same_loc(a, x->location_id[i], b, y->location_id[i]))
			return false;
	for (size_t i = 0; i < x->nlabel; i++)
		if (x->label[i].str && !has_label(a, &x->label[i], b, y))
			return false;
	return true;
}

/* Open-addressing table of sample indices of p1 (index + 1; 0 = empty). */
struct stab {
	size_t *slot;
	size_t cap;
};

static int stab_init(struct stab *t, size_t n)
{
	t->cap = 16;
	while (t->cap < 2 * n + 2)
		t->cap *= 2;
	t->slot = calloc(t->cap, sizeof *t->slot);
	return t->slot ? 0 : -ENOMEM;
}

/* u64 -> u64 open-addressing map (key 0 unused), for the id caches of an import. */
struct idmap {
	uint64_t *k, *v;
	size_t cap, n;
};

static uint64_t idmap_get(const struct idmap *m, uint64_t k)
{
	if (!m->cap)
		return 0;
	for (size_t j = mix(0, k) & (m->cap - 1); m->k[j]; j = (j + 1) & (m->cap - 1))
		if (m->k[j] == k)
			return m->v[j];
	return 0;
}

static int idmap_put(struct idmap *m, uint64_t k, uint64_t v)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct idmap g = {NULL, NULL, m->cap ? m->cap * 2 : 256, 0};
		g.k = calloc(g.cap, sizeof *g.k);
		g.v = calloc(g.cap, sizeof *g.v);
		if (!g.k || !g.v) {
			free(g.k);
			free(g.v);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->k[i])
				idmap_put(&g, m->k[i], m->v[i]);
		free(m->k);
		free(m->v);
		*m = g;
	}
	size_t j = mix(0, k) & (m->cap - 1);
	while (m->k[j] && m->k[j] != k)
		j = (j + 1) & (m->cap - 1);
	m->n += !m->k[j];
	m->k[j] = k;
	m->v[j] = v;
	return 0;
}

/* What an import has learnt: p0 location and function ids to p1's, p1's locations by address. */
struct imports {
	struct idmap loc, fn, addr;
	bool addr_built;
};

static void imports_release(struct imports *im)
{
	free(im->loc.k), free(im->loc.v), free(im->fn.k), free(im->fn.v), free(im->addr.k), free(im->addr.v);
}

/* Copy p0's location id0 into p1 (or find its twin there): p1's id, 0 on out of memory. */
static uint64_t import_loc(struct imports *im, struct profile *p1, const struct profile *p0, uint64_t id0)
{
	uint64_t known = idmap_get(&im->loc, id0);
	if (known)
		return known;
	const struct pp_location *l0 = cprof__profile_location(p0, id0);
	if (!l0)
		return 0;
	if (!im->addr_built) {
		im->addr_built = true;
		for (size_t i = 0; i < p1->nlocation; i++)
			if (p1->location[i].address && idmap_put(&im->addr, p1->location[i].address, p1->location[i].id))
				return 0;
	}
	uint64_t twin = l0->address ? idmap_get(&im->addr, l0->address) : 0;
	for (size_t i = 0; !twin && !l0->address && i < p1->nlocation; i++)
		if (same_loc(p1, p1->location[i].id, p0, id0))
			twin = p1->location[i].id;
	if (twin)
		return idmap_put(&im->loc, id0, twin) ? 0 : twin;
	struct pp_line lines[64];
	size_t n = l0->nline < 64 ? l0->nline : 64;
	for (size_t k = 0; k < n; k++) {
		const struct pp_function *f0 = cprof__profile_function(p0, l0->line[k].function_id);
		const char *name = f0 ? cprof__profile_str(p0, f0->name) : "";
		const char *sys = f0 ? cprof__profile_str(p0, f0->system_name) : "";
		const char *file = f0 ? cprof__profile_str(p0, f0->filename) : "";
		int64_t start = f0 ? f0->start_line : 0;
		uint64_t fid = f0 ? idmap_get(&im->fn, f0->id) : 0;
		for (size_t j = 0; j < p1->nfunction && !fid; j++) {
			const struct pp_function *f1 = &p1->function[j];
			if (f1->start_line == start && strcmp(cprof__profile_str(p1, f1->name), name) == 0 &&
			    strcmp(cprof__profile_str(p1, f1->system_name), sys) == 0 &&
			    strcmp(cprof__profile_str(p1, f1->filename), file) == 0)
				fid = f1->id;
		}
		if (!fid) {
			struct pp_function *f1 = cprof__profile_add_function(p1, name, sys, file, start);
			if (!f1)
				return 0;
			fid = f1->id;
		}
		if (f0 && idmap_put(&im->fn, f0->id, fid))
			return 0;
		lines[k] = (struct pp_line){fid, l0->line[k].line, l0->line[k].column};
	}
	uint64_t mid = 0;
	const struct pp_mapping *m0 = l0->mapping_id ? cprof__profile_mapping(p0, l0->mapping_id) : NULL;
	if (m0) {
		const char *file = cprof__profile_str(p0, m0->filename);
		for (size_t j = 0; j < p1->nmapping && !mid; j++) {
			const struct pp_mapping *m1 = &p1->mapping[j];
			if (m1->memory_start == m0->memory_start && m1->memory_limit == m0->memory_limit &&
			    strcmp(cprof__profile_str(p1, m1->filename), file) == 0)
				mid = m1->id;
		}
		if (!mid) {
			/* intern first: it may move strings, not mappings */
			int64_t fn = cprof__profile_intern(p1, file, (size_t)-1);
			int64_t bid = cprof__profile_intern(p1, cprof__profile_str(p0, m0->build_id), (size_t)-1);
			struct pp_mapping *m1 = fn < 0 || bid < 0 ? NULL : cprof__profile_add_mapping(p1);
			if (!m1)
				return 0;
			uint64_t keep = m1->id;
			*m1 = *m0;
			m1->id = keep;
			m1->filename = fn;
			m1->build_id = bid;
			mid = keep;
		}
	}
	struct pp_location *l1 = cprof__profile_add_location(p1, mid, l0->address, lines, n);
	if (!l1)
		return 0;
	l1->is_folded = l0->is_folded;
	if (idmap_put(&im->loc, id0, l1->id) || (l1->address && idmap_put(&im->addr, l1->address, l1->id)))
		return 0;
	return l1->id;
}

static int import_sample(struct imports *im, struct profile *p1, const struct profile *p0,
			 const struct pp_sample *s0)
{
	uint64_t ids[CPROF_MAX_DEPTH_LIMIT + 8];
	struct pp_label labels[64];
	int64_t vals[16];
	size_t nl = s0->nlocation < CPROF_MAX_DEPTH_LIMIT + 8 ? s0->nlocation : CPROF_MAX_DEPTH_LIMIT + 8;
	size_t nb = s0->nlabel < 64 ? s0->nlabel : 64;
	size_t nv = p1->nsample_type < 16 ? p1->nsample_type : 16;
	for (size_t i = 0; i < nl; i++)
		if (!(ids[i] = import_loc(im, p1, p0, s0->location_id[i])))
			return -ENOMEM;
	for (size_t i = 0; i < nb; i++) {
		labels[i] = s0->label[i];
		labels[i].key = cprof__profile_intern(p1, cprof__profile_str(p0, s0->label[i].key), (size_t)-1);
		labels[i].str = s0->label[i].str
					? cprof__profile_intern(p1, cprof__profile_str(p0, s0->label[i].str), (size_t)-1)
					: 0;
		labels[i].num_unit =
			s0->label[i].num_unit
				? cprof__profile_intern(p1, cprof__profile_str(p0, s0->label[i].num_unit), (size_t)-1)
				: 0;
		if (labels[i].key < 0 || labels[i].str < 0 || labels[i].num_unit < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < nv; i++)
		vals[i] = i < s0->nvalue ? -s0->value[i] : 0;
	return cprof__profile_add_sample(p1, ids, nl, vals, nv, labels, nb) ? 0 : -ENOMEM;
}

int cprof__profile_delta(struct profile *p1, const struct profile *p0)
{
	struct stab t;
	if (stab_init(&t, p1->nsample) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < p1->nsample; i++) {
		size_t j = sample_hash(p1, &p1->sample[i]) & (t.cap - 1);
		while (t.slot[j])
			j = (j + 1) & (t.cap - 1);
		t.slot[j] = i + 1;
	}
	int rc = 0;
	struct imports im;
	memset(&im, 0, sizeof im);
	for (size_t i = 0; i < p0->nsample && rc == 0; i++) {
		const struct pp_sample *s0 = &p0->sample[i];
		size_t j = sample_hash(p0, s0) & (t.cap - 1);
		struct pp_sample *hit = NULL;
		for (; t.slot[j]; j = (j + 1) & (t.cap - 1)) {
			struct pp_sample *s1 = &p1->sample[t.slot[j] - 1];
			if (same_sample(p0, s0, p1, s1)) {
				hit = s1;
				break;
			}
		}
		if (hit) {
			for (size_t v = 0; v < hit->nvalue && v < s0->nvalue; v++)
				hit->value[v] -= s0->value[v];
		} else {
			rc = import_sample(&im, p1, p0, s0);
		}
	}
	free(t.slot);
	imports_release(&im);
	/* Drop samples whose values all cancelled. */
	size_t k = 0;
	for (size_t i = 0; i < p1->nsample; i++) {
		struct pp_sample *s = &p1->sample[i];
		bool zero = true;
		for (size_t v = 0; v < s->nvalue; v++)
			zero = zero && s->value[v] == 0;
		if (zero) {
			free(s->location_id);
			free(s->value);
			free(s->label);
		} else {
			p1->sample[k++] = *s;
		}
	}
	p1->nsample = k;
	return rc;
}
