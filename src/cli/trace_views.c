/*
 * trace_views.c - the views derived from a decoded execution trace
 * (trace_views.h): blocking episodes and their per-stack profiles by kind,
 * the wake-up latency histogram, task and region instances and their
 * duration histograms by name. It takes events one at a time in the
 * decoder's order and keeps copies of what it needs (names, stacks), so its
 * answers outlive the decode. It does not decode (trace_read.c) and does not
 * write any format (cmd_trace.c writes pprof files from its profiles, the
 * viewer's server JSON).
 *
 * The decoder hands out each thread's events in the order the thread
 * recorded them, but chunks of different threads interleave, so a task's
 * end (on another thread) may come before its begin: tasks are matched by
 * id whichever comes first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace_read.h"
#include "common/buf.h"
#include "common/hash.h"
#include "cli/trace_views.h"
#include "runtime/trace.h"

/* Interned strings: each distinct string copied once, compared by pointer afterwards. */
struct strpool {
	char **slot;
	size_t cap, n;
};

/* A region path: a thread's open regions, innermost last, as a chain. */
struct rpath {
	uint32_t parent; /* 0: none (path ids start at 1) */
	const char *name;
};

struct open_region {
	const char *name;
	int64_t begin_ns;
	uint64_t task;
	uint32_t path; /* the path with this region innermost */
};

struct thread {
	int32_t tid;
	struct open_region *open;
	size_t nopen, capopen;
};

struct ep_extra {
	uint32_t path; /* region path at the episode (0: none) */
};

struct trace_views {
	int finished;
	int episodes_only;
	struct strpool strs;

	/* stacks by the decoder's id: copies */
	struct trace_stack **stack_by_id;
	size_t nstack_by_id;

	/* threads by tid (open addressing) */
	struct thread *threads;
	size_t capthreads, nthreads;

	/* region paths; index 0 unused */
	struct rpath *paths;
	size_t npaths, cappaths;
	uint32_t *path_hash; /* (parent, name) -> path id */
	size_t cappath_hash;

	struct trace_episode *eps;
	struct ep_extra *epx;
	size_t neps, capeps, capepx;

	struct trace_span *tasks;
	size_t ntasks, captasks;
	uint64_t *task_ids; /* task id -> index + 1 (open addressing on ids) */
	size_t *task_idx;
	size_t captask_hash, ntask_hash;

	struct trace_span *regions;
	size_t nregions, capregions;

	struct trace_hist wakeup;
	struct trace_name_stats *task_stats, *region_stats;
	size_t ntask_stats, nregion_stats;

	struct trace_stack_total *prof;
	size_t nprof;
};

/* The pool's copy of s; NULL on out of memory. */
static const char *intern(struct strpool *sp, const char *s)
{
	if (!s)
		s = "";
	if ((sp->n + 1) * 2 > sp->cap) {
		size_t nc = sp->cap ? sp->cap * 2 : 256;
		char **ns = calloc(nc, sizeof *ns);
		if (!ns)
			return NULL;
		for (size_t i = 0; i < sp->cap; i++) {
			if (!sp->slot[i])
				continue;
			size_t j = cprof__hash_str(sp->slot[i]) & (nc - 1);
			while (ns[j])
				j = (j + 1) & (nc - 1);
			ns[j] = sp->slot[i];
		}
		free(sp->slot);
		sp->slot = ns;
		sp->cap = nc;
	}
	size_t j = cprof__hash_str(s) & (sp->cap - 1);
	for (; sp->slot[j]; j = (j + 1) & (sp->cap - 1))
		if (strcmp(sp->slot[j], s) == 0)
			return sp->slot[j];
	char *c = strdup(s);
	if (!c)
		return NULL;
	sp->slot[j] = c;
	sp->n++;
	return c;
}

static const char *lookup(const struct strpool *sp, const char *s)
{
	if (!sp->cap)
		return NULL;
	for (size_t j = cprof__hash_str(s) & (sp->cap - 1); sp->slot[j]; j = (j + 1) & (sp->cap - 1))
		if (strcmp(sp->slot[j], s) == 0)
			return sp->slot[j];
	return NULL;
}

const char *cprof__trace_view_kind_name(int kind)
{
	switch (kind) {
	case CPROF_TVIEW_SYNC:
		return "sync";
	case CPROF_TVIEW_SYSCALL:
		return "syscall";
	case CPROF_TVIEW_SCHED:
		return "sched";
	}
	return "?";
}

int cprof__trace_view_kind_parse(const char *name)
{
	for (int k = CPROF_TVIEW_SYNC; k <= CPROF_TVIEW_SCHED; k++)
		if (strcmp(name, cprof__trace_view_kind_name(k)) == 0)
			return k;
	return 0;
}

/* Histograms: 1-2-5 bounds. */
int64_t cprof__trace_hist_lower(int bucket)
{
	static const int64_t mant[3] = {1, 2, 5};
	if (bucket <= 0)
		return 0;
	if (bucket >= CPROF_TRACE_HIST_BUCKETS)
		return INT64_MAX;
	int64_t v = mant[(bucket - 1) % 3];
	for (int e = (bucket - 1) / 3; e > 0; e--)
		v *= 10;
	return v;
}

static int hist_bucket(int64_t d)
{
	int lo = 0, hi = CPROF_TRACE_HIST_BUCKETS - 1; /* largest i with lower(i) <= d */
	if (d < 1)
		return 0;
	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (cprof__trace_hist_lower(mid) <= d)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static void hist_add(struct trace_hist *h, int64_t d)
{
	if (d < 0)
		d = 0;
	if (!h->count || d < h->min_ns)
		h->min_ns = d;
	if (!h->count || d > h->max_ns)
		h->max_ns = d;
	h->count++;
	h->sum_ns += d;
	h->bucket[hist_bucket(d)]++;
}

int64_t cprof__trace_hist_quantile(const struct trace_hist *h, double q)
{
	if (!h->count)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (int i = 0; i < CPROF_TRACE_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			int64_t up = i + 1 < CPROF_TRACE_HIST_BUCKETS ? cprof__trace_hist_lower(i + 1) : h->max_ns;
			return up < h->max_ns ? up : h->max_ns;
		}
	}
	return h->max_ns;
}

struct trace_views *cprof__trace_views_new(void)
{
	return calloc(1, sizeof(struct trace_views));
}

struct trace_views *cprof__trace_views_new_episodes(void)
{
	struct trace_views *v = calloc(1, sizeof(struct trace_views));
	if (v)
		v->episodes_only = 1;
	return v;
}

void cprof__trace_views_free(struct trace_views *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->strs.cap; i++)
		free(v->strs.slot[i]);
	free(v->strs.slot);
	for (size_t i = 0; i < v->nstack_by_id; i++) {
		if (v->stack_by_id[i]) {
			free((void *)v->stack_by_id[i]->frames);
			free(v->stack_by_id[i]);
		}
	}
	free(v->stack_by_id);
	for (size_t i = 0; i < v->capthreads; i++)
		free(v->threads[i].open);
	free(v->threads);
	free(v->paths);
	free(v->path_hash);
	free(v->eps);
	free(v->epx);
	free(v->tasks);
	free(v->task_ids);
	free(v->task_idx);
	free(v->regions);
	free(v->task_stats);
	free(v->region_stats);
	free(v->prof);
	free(v);
}

static struct thread *thread_of(struct trace_views *v, int32_t tid)
{
	if ((v->nthreads + 1) * 2 > v->capthreads) {
		size_t nc = v->capthreads ? v->capthreads * 2 : 64;
		struct thread *nt = calloc(nc, sizeof *nt);
		if (!nt)
			return NULL;
		for (size_t i = 0; i < v->capthreads; i++) {
			if (!v->threads[i].tid)
				continue;
			size_t j = cprof__hash_mix((uint32_t)v->threads[i].tid) & (nc - 1);
			while (nt[j].tid)
				j = (j + 1) & (nc - 1);
			nt[j] = v->threads[i];
		}
		free(v->threads);
		v->threads = nt;
		v->capthreads = nc;
	}
	/* tid 0 never names a thread; keep it apart from the empty slot mark. */
	int32_t key = tid ? tid : INT32_MIN;
	size_t j = cprof__hash_mix((uint32_t)key) & (v->capthreads - 1);
	for (; v->threads[j].tid; j = (j + 1) & (v->capthreads - 1))
		if (v->threads[j].tid == key)
			return &v->threads[j];
	v->threads[j].tid = key;
	v->nthreads++;
	return &v->threads[j];
}

/* The path id of (parent, name), added if new; 0 on out of memory. */
static uint32_t path_of(struct trace_views *v, uint32_t parent, const char *name)
{
	if (!v->npaths) {
		if (cprof__grow((void **)&v->paths, &v->cappaths, 1, sizeof *v->paths))
			return 0;
		v->npaths = 1; /* id 0 is "no region" */
	}
	if ((v->npaths + 1) * 2 > v->cappath_hash) {
		size_t nc = v->cappath_hash ? v->cappath_hash * 2 : 64;
		uint32_t *nh = calloc(nc, sizeof *nh);
		if (!nh)
			return 0;
		for (uint32_t id = 1; id < v->npaths; id++) {
			size_t j = cprof__hash_mix(((uint64_t)v->paths[id].parent << 32) ^ (uintptr_t)v->paths[id].name) & (nc - 1);
			while (nh[j])
				j = (j + 1) & (nc - 1);
			nh[j] = id;
		}
		free(v->path_hash);
		v->path_hash = nh;
		v->cappath_hash = nc;
	}
	size_t j = cprof__hash_mix(((uint64_t)parent << 32) ^ (uintptr_t)name) & (v->cappath_hash - 1);
	for (; v->path_hash[j]; j = (j + 1) & (v->cappath_hash - 1)) {
		const struct rpath *p = &v->paths[v->path_hash[j]];
		if (p->parent == parent && p->name == name)
			return v->path_hash[j];
	}
	if (v->npaths >= UINT32_MAX - 1 || cprof__grow((void **)&v->paths, &v->cappaths, v->npaths + 1, sizeof *v->paths))
		return 0;
	uint32_t id = (uint32_t)v->npaths++;
	v->paths[id].parent = parent;
	v->paths[id].name = name;
	v->path_hash[j] = id;
	return id;
}

/* Our copy of the decoder's stack (by its id); NULL for none; *err on out of memory. */
static const struct trace_stack *stack_copy(struct trace_views *v, const struct trace_stack *s, int *err)
{
	if (!s)
		return NULL;
	if (s->id < v->nstack_by_id && v->stack_by_id[s->id])
		return v->stack_by_id[s->id];
	if (s->id >= v->nstack_by_id) {
		size_t nn = v->nstack_by_id ? v->nstack_by_id : 64;
		while (nn <= s->id)
			nn *= 2;
		struct trace_stack **np = realloc(v->stack_by_id, nn * sizeof *np);
		if (!np)
			goto oom;
		memset(np + v->nstack_by_id, 0, (nn - v->nstack_by_id) * sizeof *np);
		v->stack_by_id = np;
		v->nstack_by_id = nn;
	}
	struct trace_stack *c = malloc(sizeof *c);
	struct trace_frame *f = malloc((s->n ? s->n : 1) * sizeof *f);
	if (!c || !f) {
		free(c);
		free(f);
		goto oom;
	}
	for (uint32_t i = 0; i < s->n; i++) {
		f[i].pc = s->frames[i].pc;
		f[i].line = s->frames[i].line;
		f[i].func = intern(&v->strs, s->frames[i].func);
		f[i].file = intern(&v->strs, s->frames[i].file);
		if (!f[i].func || !f[i].file) {
			free(c);
			free(f);
			goto oom;
		}
	}
	c->id = s->id;
	c->n = s->n;
	c->frames = f;
	v->stack_by_id[s->id] = c;
	return c;
oom:
	*err = -ENOMEM;
	return NULL;
}

/* The index + 1 of task id's span, 0 when absent; with add, a new span (begin unknown) is made. */
static size_t task_find(struct trace_views *v, uint64_t id, int add)
{
	if (add && (v->ntask_hash + 1) * 2 > v->captask_hash) {
		size_t nc = v->captask_hash ? v->captask_hash * 2 : 256;
		uint64_t *ni = calloc(nc, sizeof *ni);
		size_t *nx = calloc(nc, sizeof *nx);
		if (!ni || !nx) {
			free(ni);
			free(nx);
			return 0;
		}
		for (size_t i = 0; i < v->captask_hash; i++) {
			if (!v->task_idx[i])
				continue;
			size_t j = cprof__hash_mix(v->task_ids[i]) & (nc - 1);
			while (nx[j])
				j = (j + 1) & (nc - 1);
			ni[j] = v->task_ids[i];
			nx[j] = v->task_idx[i];
		}
		free(v->task_ids);
		free(v->task_idx);
		v->task_ids = ni;
		v->task_idx = nx;
		v->captask_hash = nc;
	}
	if (!v->captask_hash)
		return 0;
	size_t j = cprof__hash_mix(id) & (v->captask_hash - 1);
	for (; v->task_idx[j]; j = (j + 1) & (v->captask_hash - 1))
		if (v->task_ids[j] == id)
			return v->task_idx[j];
	if (!add || cprof__grow((void **)&v->tasks, &v->captasks, v->ntasks + 1, sizeof *v->tasks))
		return 0;
	struct trace_span *t = &v->tasks[v->ntasks++];
	memset(t, 0, sizeof *t);
	t->name = "";
	t->begin_ns = t->end_ns = -1;
	t->id = id;
	v->task_ids[j] = id;
	v->task_idx[j] = v->ntasks;
	v->ntask_hash++;
	return v->ntasks;
}

static int add_region_span(struct trace_views *v, const struct open_region *r, int32_t tid, int64_t end_ns,
			   int depth)
{
	if (cprof__grow((void **)&v->regions, &v->capregions, v->nregions + 1, sizeof *v->regions))
		return -ENOMEM;
	struct trace_span *s = &v->regions[v->nregions++];
	memset(s, 0, sizeof *s);
	s->name = r->name;
	s->begin_ns = r->begin_ns;
	s->end_ns = end_ns;
	s->tid = tid;
	s->end_tid = end_ns >= 0 ? tid : 0;
	s->id = r->task;
	s->depth = depth;
	return 0;
}

int cprof__trace_views_add(struct trace_views *v, const struct trace_event *ev)
{
	if (v->finished)
		return -EINVAL;
	int err = 0;
	if (v->episodes_only && (ev->type == CPROF_TEV_TASK_BEGIN || ev->type == CPROF_TEV_TASK_END))
		return 0;
	switch (ev->type) {
	case CPROF_TEV_TASK_BEGIN: {
		const char *name = intern(&v->strs, ev->str);
		size_t i = name ? task_find(v, ev->a, 1) : 0;
		if (!i)
			return -ENOMEM;
		struct trace_span *t = &v->tasks[i - 1];
		t->name = name;
		t->begin_ns = ev->ns;
		t->tid = ev->tid;
		t->parent = ev->b;
		break;
	}
	case CPROF_TEV_TASK_END: {
		size_t i = task_find(v, ev->a, 1);
		if (!i)
			return -ENOMEM;
		struct trace_span *t = &v->tasks[i - 1];
		if (t->end_ns < 0) { /* the first end counts, as go tool trace's */
			t->end_ns = ev->ns;
			t->end_tid = ev->tid;
		}
		break;
	}
	case CPROF_TEV_REGION_BEGIN: {
		struct thread *th = thread_of(v, ev->tid);
		const char *name = intern(&v->strs, ev->str);
		if (!th || !name || cprof__grow((void **)&th->open, &th->capopen, th->nopen + 1, sizeof *th->open))
			return -ENOMEM;
		uint32_t parent = th->nopen ? th->open[th->nopen - 1].path : 0;
		uint32_t path = path_of(v, parent, name);
		if (!path)
			return -ENOMEM;
		th->open[th->nopen++] = (struct open_region){name, ev->ns, ev->a, path};
		break;
	}
	case CPROF_TEV_REGION_END: {
		struct thread *th = thread_of(v, ev->tid);
		if (!th)
			return -ENOMEM;
		if (!th->nopen) /* begun before the trace started: its length is unknown */
			break;
		th->nopen--;
		if (v->episodes_only)
			break;
		return add_region_span(v, &th->open[th->nopen], ev->tid, ev->ns, (int)th->nopen);
	}
	case CPROF_TEV_BLOCK: {
		struct thread *th = thread_of(v, ev->tid);
		if (!th || cprof__grow((void **)&v->eps, &v->capeps, v->neps + 1, sizeof *v->eps))
			return -ENOMEM;
		if (cprof__grow((void **)&v->epx, &v->capepx, v->neps + 1, sizeof *v->epx))
			return -ENOMEM;
		struct trace_episode *e = &v->eps[v->neps];
		memset(e, 0, sizeof *e);
		e->end_ns = ev->ns;
		e->begin_ns = ev->ns - (ev->dur_ns > 0 ? ev->dur_ns : 0);
		e->wake_ns = ev->wake_ns;
		e->tid = ev->tid;
		e->peer = ev->peer;
		e->reason = (int)ev->a;
		e->call = intern(&v->strs, ev->str);
		e->stack = stack_copy(v, ev->stack, &err);
		if (!e->call || err)
			return -ENOMEM;
		e->region = th->nopen ? th->open[th->nopen - 1].name : NULL;
		v->epx[v->neps].path = th->nopen ? th->open[th->nopen - 1].path : 0;
		v->neps++;
		if (ev->wake_ns >= 0)
			hist_add(&v->wakeup, ev->ns - ev->wake_ns);
		break;
	}
	default:
		break;
	}
	return 0;
}

int cprof__trace_views_on_event(const struct trace_event *ev, void *arg)
{
	return cprof__trace_views_add(arg, ev);
}

/* Name statistics of spans: one entry per name, first-seen order. */
static int name_stats(const struct trace_span *s, size_t n, struct trace_name_stats **out, size_t *nout)
{
	struct trace_name_stats *st = NULL;
	size_t ns = 0, cap = 0;
	/* Names are interned: a small pointer-keyed table maps them to entries. */
	size_t hcap = 64;
	while (hcap < n * 2)
		hcap *= 2;
	size_t *h = calloc(hcap, sizeof *h);
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i].begin_ns < 0 && s[i].end_ns >= 0)
			continue; /* begun before the trace: its duration is unknown */
		size_t j = cprof__hash_mix((uintptr_t)s[i].name) & (hcap - 1);
		while (h[j] && st[h[j] - 1].name != s[i].name)
			j = (j + 1) & (hcap - 1);
		if (!h[j]) {
			if (cprof__grow((void **)&st, &cap, ns + 1, sizeof *st)) {
				free(h);
				free(st);
				return -ENOMEM;
			}
			memset(&st[ns], 0, sizeof *st);
			st[ns].name = s[i].name;
			h[j] = ++ns;
		}
		struct trace_name_stats *e = &st[h[j] - 1];
		if (s[i].end_ns < 0)
			e->unfinished++;
		else
			hist_add(&e->hist, s[i].end_ns - s[i].begin_ns);
	}
	free(h);
	*out = st;
	*nout = ns;
	return 0;
}

int cprof__trace_views_finish(struct trace_views *v)
{
	if (v->finished)
		return 0;
	v->finished = 1;
	for (size_t i = 0; i < v->capthreads; i++) {
		struct thread *th = &v->threads[i];
		int32_t tid = th->tid == INT32_MIN ? 0 : th->tid;
		while (th->nopen && !v->episodes_only) {
			th->nopen--;
			if (add_region_span(v, &th->open[th->nopen], tid, -1, (int)th->nopen))
				return -ENOMEM;
		}
	}
	if (name_stats(v->tasks, v->ntasks, &v->task_stats, &v->ntask_stats) ||
	    name_stats(v->regions, v->nregions, &v->region_stats, &v->nregion_stats))
		return -ENOMEM;
	return 0;
}

const struct trace_episode *cprof__trace_views_episodes(const struct trace_views *v, size_t *n)
{
	*n = v->neps;
	return v->eps;
}

static int is_sync(int reason)
{
	return reason >= CPROF_TBR_MUTEX && reason <= CPROF_TBR_BARRIER;
}

static int in_region(const struct trace_views *v, uint32_t path, const char *name)
{
	for (; path; path = v->paths[path].parent)
		if (v->paths[path].name == name)
			return 1;
	return 0;
}

static int cmp_total(const void *a, const void *b)
{
	const struct trace_stack_total *x = a, *y = b;
	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	uint32_t ix = x->stack ? x->stack->id : 0, iy = y->stack ? y->stack->id : 0;
	if (ix != iy)
		return ix < iy ? -1 : 1;
	return x->reason - y->reason;
}

const struct trace_stack_total *cprof__trace_views_profile(struct trace_views *v, int kind, const char *region,
							   size_t *n, int *err)
{
	*n = 0;
	if (err)
		*err = 0;
	free(v->prof);
	v->prof = NULL;
	v->nprof = 0;
	const char *rname = NULL;
	if (region && !(rname = lookup(&v->strs, region)))
		return v->prof; /* no region of that name: nothing */
	size_t hcap = 64, cap = 0;
	while (hcap < v->neps * 2)
		hcap *= 2;
	size_t *h = calloc(hcap, sizeof *h);
	if (!h)
		goto oom;
	for (size_t i = 0; i < v->neps; i++) {
		const struct trace_episode *e = &v->eps[i];
		int64_t charge;
		if (kind == CPROF_TVIEW_SYNC && is_sync(e->reason))
			charge = e->end_ns - e->begin_ns;
		else if (kind == CPROF_TVIEW_SYSCALL && e->reason == CPROF_TBR_SYSCALL)
			charge = e->end_ns - e->begin_ns;
		else if (kind == CPROF_TVIEW_SCHED && e->wake_ns >= 0)
			charge = e->end_ns - e->wake_ns > 0 ? e->end_ns - e->wake_ns : 0;
		else
			continue;
		if (rname && !in_region(v, v->epx[i].path, rname))
			continue;
		uint64_t key = ((uint64_t)(e->stack ? e->stack->id + 1 : 0) << 8) | (uint64_t)(e->reason & 0xff);
		size_t j = cprof__hash_mix(key) & (hcap - 1);
		for (; h[j]; j = (j + 1) & (hcap - 1)) {
			const struct trace_stack_total *t = &v->prof[h[j] - 1];
			if (t->stack == e->stack && t->reason == e->reason)
				break;
		}
		if (!h[j]) {
			if (cprof__grow((void **)&v->prof, &cap, v->nprof + 1, sizeof *v->prof))
				goto oom;
			v->prof[v->nprof] = (struct trace_stack_total){e->stack, e->reason, 0, 0};
			h[j] = ++v->nprof;
		}
		v->prof[h[j] - 1].count++;
		v->prof[h[j] - 1].ns += charge;
	}
	free(h);
	if (v->nprof)
		qsort(v->prof, v->nprof, sizeof *v->prof, cmp_total);
	*n = v->nprof;
	return v->prof;
oom:
	free(h);
	free(v->prof);
	v->prof = NULL;
	v->nprof = 0;
	if (err)
		*err = -ENOMEM;
	return NULL;
}

const struct trace_hist *cprof__trace_views_wakeup_hist(const struct trace_views *v)
{
	return &v->wakeup;
}

const struct trace_name_stats *cprof__trace_views_tasks(const struct trace_views *v, size_t *n)
{
	*n = v->ntask_stats;
	return v->task_stats;
}

const struct trace_name_stats *cprof__trace_views_regions(const struct trace_views *v, size_t *n)
{
	*n = v->nregion_stats;
	return v->region_stats;
}

const struct trace_span *cprof__trace_views_task_spans(const struct trace_views *v, size_t *n)
{
	*n = v->ntasks;
	return v->tasks;
}

const struct trace_span *cprof__trace_views_region_spans(const struct trace_views *v, size_t *n)
{
	*n = v->nregions;
	return v->regions;
}
