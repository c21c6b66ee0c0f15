/*
 * continuous_prof.c - the continuous collector's heap, allocs, block and
 * mutex profiles of one period, built from the profilers' own per-stack
 * counters: the heap profiler's site table (cprof__heap_counters) and the
 * wait profilers' tables (cprof__wait_counters).
 *
 * Every entry of those tables keeps its index for the process's life and
 * its counters only grow, so the collector keeps, per index, the counters
 * it saw at the end of the previous period, and a period's allocs, block
 * and mutex profiles hold exactly the differences: the deltas of all
 * periods add up to the cumulative counters, entry by entry. The heap
 * profile is the in-use snapshot at the period's end. Nothing is parsed or
 * subtracted profile by profile, and a site whose block sizes vary is one
 * entry like any other (its "bytes" label is the mean size of the blocks
 * sampled in the period).
 *
 * Symbolization goes through symbolize.c's sessions; the collector thread
 * asks them to keep names between periods (cprof__sym_keep).
 *
 * It does not own the tables, the collector thread or the destinations
 * (continuous.c, upload.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cprof.h"
#include "proto/profile.h"
#include "runtime/continuous.h"
#include "runtime/rt.h"

/*
 * The previous period's counters of one table entry, by the entry's index:
 * heap sites use all four, wait entries the first two.
 */
struct prev {
	uint64_t key; /* index + 1; 0 for an empty slot */
	int64_t v[4];
};

/* Open addressing, grown at half full: memory in proportion to the entries seen. */
struct prevmap {
	struct prev *slot;
	size_t cap, n;
};

struct cont_counters {
	struct prevmap heap, wait[2]; /* wait: block, mutex */
	int64_t wait_lost[2][2];
};

struct cont_counters *cprof__cont_counters_new(void)
{
	return calloc(1, sizeof(struct cont_counters));
}

void cprof__cont_counters_free(struct cont_counters *c)
{
	if (!c)
		return;
	free(c->heap.slot);
	free(c->wait[0].slot);
	free(c->wait[1].slot);
	free(c);
}

uint64_t cprof__cont_counters_bytes(const struct cont_counters *c)
{
	return c ? sizeof *c + (c->heap.cap + c->wait[0].cap + c->wait[1].cap) * sizeof(struct prev) : 0;
}

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

/* The entry for index id, zeroed when new; NULL on out of memory. */
static struct prev *prev_get(struct prevmap *m, size_t id)
{
	uint64_t key = (uint64_t)id + 1;
	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		struct prev *v = calloc(cap, sizeof *v);
		if (!v)
			return NULL;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slot[i].key) {
				size_t j = slot_of(m->slot[i].key, cap);
				while (v[j].key)
					j = (j + 1) & (cap - 1);
				v[j] = m->slot[i];
			}
		free(m->slot);
		m->slot = v;
		m->cap = cap;
	}
	size_t j = slot_of(key, m->cap);
	while (m->slot[j].key && m->slot[j].key != key)
		j = (j + 1) & (m->cap - 1);
	if (!m->slot[j].key) {
		m->slot[j].key = key;
		m->n++;
	}
	return &m->slot[j];
}

/* now - before; a counter that went down was restarted, and all of now is new. */
static int64_t diff(int64_t now, int64_t before)
{
	return now >= before ? now - before : now;
}

static void append_skip(char *skipped, size_t n, const char *kind, const char *why)
{
	size_t l = strlen(skipped);
	if (l < n)
		snprintf(skipped + l, n - l, "%s%s: %s", l ? "; " : "", kind, why);
}

static struct profile *new_profile(const char *t1, const char *u1, const char *t2, const char *u2)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, t1, u1);
	cprof__profile_add_sample_type(p, t2, u2);
	return p;
}

/* ---- rows: what a pass found, named afterwards (one session at a time) ---- */

struct row {
	const uintptr_t *pcs; /* in the profiler's table, which never moves; NULL: lost samples */
	int n;
	const void *labels;
	const char *str; /* the heap's kind or the wait's reason, NULL for none */
	int64_t v[2];
	int64_t mean; /* the heap's "bytes" label, 0 for none */
};

struct rows {
	struct row *v;
	size_t n, cap;
	bool err;
};

static void rows_add(struct rows *r, const struct row *x)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct row *v = realloc(r->v, cap * sizeof *v);
		if (!v) {
			r->err = true;
			return;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *x;
}

/*
 * Name the rows into p's samples: str under the label str_key ("kind" or
 * "reason"; a program label of that name wins), the mean under "bytes".
 * 0 or -ENOMEM.
 */
static int emit(struct profile *p, const struct rows *r, const char *str_key)
{
	struct rt_sym *s = cprof__sym_begin(p);
	if (!s)
		return -ENOMEM;
	int64_t k_str = cprof__profile_intern(p, str_key, (size_t)-1);
	int64_t k_bytes = cprof__profile_intern(p, "bytes", (size_t)-1);
	uint64_t lost_id = 0;
	bool err = false;
	for (size_t i = 0; i < r->n && !err; i++) {
		const struct row *x = &r->v[i];
		uint64_t ids[CPROF_MAX_DEPTH_LIMIT];
		int k;
		if (!x->pcs) {
			if (!lost_id)
				lost_id = cprof__sym_special(s, "[cprof: lost samples]");
			ids[0] = lost_id;
			k = lost_id ? 1 : 0;
		} else {
			k = cprof__sym_stack(s, x->pcs, x->n < CPROF_MAX_DEPTH_LIMIT ? x->n : CPROF_MAX_DEPTH_LIMIT,
					     false, ids);
		}
		struct pp_label lb[2 + CPROF_LABELS_MAX];
		size_t nl = 0;
		if (x->mean > 0)
			lb[nl++] = (struct pp_label){k_bytes, 0, x->mean, 0};
		size_t first_user = nl + (x->str ? 1 : 0);
		if (x->str)
			lb[nl++] = (struct pp_label){k_str, cprof__profile_intern(p, x->str, (size_t)-1), 0, 0};
		size_t nu = cprof__labels_to_pp(p, x->labels, lb + first_user, CPROF_LABELS_MAX);
		for (size_t j = 0; x->str && j < nu; j++)
			if (lb[first_user + j].key == k_str) { /* the program's own label of that name wins */
				memmove(&lb[first_user - 1], &lb[first_user], nu * sizeof lb[0]);
				first_user--;
				nl--;
				break;
			}
		nl += nu;
		if (!cprof__profile_add_sample(p, ids, (size_t)k, x->v, 2, lb, nl))
			err = true;
	}
	if (cprof__sym_end(s) != 0)
		err = true;
	return err ? -ENOMEM : 0;
}

/* ---- heap: the in-use snapshot and the allocs delta ---- */

struct heap_pass {
	struct cont_counters *c;
	bool emit;
	struct rows inuse, allocs;
	bool err;
};

static void heap_site(size_t id, const uintptr_t *pcs, int n, const void *labels, const char *kind,
		      const struct rt_heap_counts *now, void *arg)
{
	struct heap_pass *h = arg;
	struct cont_counters *c = h->c;
	struct prev *prev = prev_get(&c->heap, id);
	if (!prev) {
		h->err = true;
		return;
	}
	int64_t dobj = diff(now->alloc_objects, prev->v[0]), dbytes = diff(now->alloc_bytes, prev->v[1]);
	int64_t ds = diff(now->sampled, prev->v[2]), dsb = diff(now->sampled_bytes, prev->v[3]);
	prev->v[0] = now->alloc_objects;
	prev->v[1] = now->alloc_bytes;
	prev->v[2] = now->sampled;
	prev->v[3] = now->sampled_bytes;
	if (!h->emit)
		return;
	if (dobj || dbytes)
		rows_add(&h->allocs, &(struct row){pcs, n, labels, kind, {dobj, dbytes},
						   ds > 0 ? (dsb + ds / 2) / ds : 0});
	if (now->inuse_objects || now->inuse_bytes)
		rows_add(&h->inuse, &(struct row){pcs, n, labels, kind, {now->inuse_objects, now->inuse_bytes},
						  now->sampled > 0 ? (now->sampled_bytes + now->sampled / 2) / now->sampled
								   : 0});
}

static struct profile *heap_profile(const char *kind, const char *what)
{
	bool in = kind[0] == 'i';
	struct profile *p = new_profile(in ? "inuse_objects" : "alloc_objects", "count",
					in ? "inuse_space" : "alloc_space", "bytes");
	if (!p)
		return NULL;
	p->period_type.type = cprof__profile_intern(p, "space", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "bytes", (size_t)-1);
	p->period = cprof__heap_rate();
	char c[256];
	snprintf(c, sizeof c, "cprof %s: %s, sampling 1 allocation per %lld bytes on average", CPROF_VERSION_STRING,
		 what, (long long)p->period);
	cprof__profile_add_comment(p, c);
	return p;
}

int cprof__cont_heap(struct cont_counters *c, struct profile **heap, struct profile **allocs, char *skipped,
		     size_t n)
{
	struct heap_pass h;
	memset(&h, 0, sizeof h);
	h.c = c;
	h.emit = heap != NULL;
	if (heap)
		*heap = *allocs = NULL;
	int rc = cprof__heap_counters(heap_site, &h);
	if (rc == -ENODATA && skipped) {
		append_skip(skipped, n, "heap", "profiler off");
		append_skip(skipped, n, "allocs", "profiler off");
	}
	if (rc == 0 && (h.err || h.inuse.err || h.allocs.err))
		rc = -ENOMEM;
	if (rc == 0 && heap) {
		struct profile *pi = heap_profile("inuse", "heap in use at the end of the period");
		struct profile *pa = heap_profile("alloc", "allocations during the period (a delta)");
		if (pa)
			pa->default_sample_type = cprof__profile_intern(pa, "alloc_space", (size_t)-1);
		if (!pi || !pa || emit(pi, &h.inuse, "kind") != 0 || emit(pa, &h.allocs, "kind") != 0) {
			cprof__profile_free(pi);
			cprof__profile_free(pa);
			rc = -ENOMEM;
		} else {
			*heap = pi;
			*allocs = pa;
		}
	}
	free(h.inuse.v);
	free(h.allocs.v);
	return rc;
}

/* ---- block and mutex deltas ---- */

struct wait_pass {
	struct cont_counters *c;
	int m;
	bool emit;
	struct rows rows;
	bool err;
};

static void wait_entry(size_t id, const uintptr_t *pcs, int n, const void *labels, const char *reason,
		       int64_t contentions, int64_t delay, void *arg)
{
	struct wait_pass *w = arg;
	struct cont_counters *c = w->c;
	struct prev *prev = prev_get(&c->wait[w->m], id);
	if (!prev) {
		w->err = true;
		return;
	}
	int64_t dc = diff(contentions, prev->v[0]), dd = diff(delay, prev->v[1]);
	prev->v[0] = contentions;
	prev->v[1] = delay;
	if (w->emit && (dc || dd))
		rows_add(&w->rows, &(struct row){pcs, n, labels, reason, {dc, dd}, 0});
}

int cprof__cont_waits(struct cont_counters *c, bool mutex, struct profile **out, char *skipped, size_t n)
{
	struct wait_pass w;
	memset(&w, 0, sizeof w);
	w.c = c;
	w.m = mutex;
	w.emit = out != NULL;
	if (out)
		*out = NULL;
	/* Opt-in profilers, as their cost is: off (rate or fraction 0) sends nothing. */
	if ((mutex ? cprof_mutex_profile_fraction() : cprof_block_profile_rate()) <= 0) {
		if (skipped)
			append_skip(skipped, n, mutex ? "mutex" : "block",
				    mutex ? "profiler off (CPROF_MUTEX_FRACTION)" : "profiler off (CPROF_BLOCK_RATE)");
		return -ENODATA;
	}
	int64_t lost[2] = {0, 0};
	int rc = cprof__wait_counters(mutex, wait_entry, &w, lost);
	if (rc == 0) {
		int64_t *pl = c->wait_lost[w.m];
		int64_t dc = diff(lost[0], pl[0]), dd = diff(lost[1], pl[1]);
		pl[0] = lost[0];
		pl[1] = lost[1];
		if (w.emit && (dc || dd))
			rows_add(&w.rows, &(struct row){NULL, 0, NULL, NULL, {dc, dd}, 0});
		if (w.err || w.rows.err)
			rc = -ENOMEM;
	} else if (skipped) {
		append_skip(skipped, n, mutex ? "mutex" : "block", "profiler off");
	}
	if (rc == 0 && out) {
		struct profile *p = new_profile("contentions", "count", "delay", "nanoseconds");
		if (p) {
			p->period_type.type = cprof__profile_intern(p, "contentions", (size_t)-1);
			p->period_type.unit = cprof__profile_intern(p, "count", (size_t)-1);
			p->period = 1;
			char cm[256];
			if (mutex)
				snprintf(cm, sizeof cm,
					 "cprof %s: mutex profile, delay caused by lock holders during the period (a "
					 "delta), 1 in %lld contentions recorded and weighted",
					 CPROF_VERSION_STRING, (long long)cprof_mutex_profile_fraction());
			else
				snprintf(cm, sizeof cm,
					 "cprof %s: block profile, waits during the period (a delta), rate %lld ns",
					 CPROF_VERSION_STRING, (long long)cprof_block_profile_rate());
			cprof__profile_add_comment(p, cm);
		}
		if (!p || emit(p, &w.rows, "reason") != 0) {
			cprof__profile_free(p);
			rc = -ENOMEM;
		} else {
			*out = p;
		}
	}
	free(w.rows.v);
	return rc;
}

void cprof__cont_counters_baseline(struct cont_counters *c)
{
	cprof__cont_heap(c, NULL, NULL, NULL, 0);
	cprof__cont_waits(c, false, NULL, NULL, 0);
	cprof__cont_waits(c, true, NULL, NULL, 0);
}
