/*
 * trace_web_index.c - the trace viewer's in-memory index: a trace decoded
 * once into per-thread lanes of spans (blocking episodes, regions by nesting
 * depth), per-thread instants (CPU samples, log messages), tasks packed into
 * rows, counter series and wake-up arrows; and the queries the viewer's
 * server answers from it as JSON: a time window at a given resolution, one
 * item's details, a search. It does not serve HTTP (trace_web.c) and does
 * not compute the derived views (trace_views.c).
 *
 * Level of detail: a window query walks each lane from the first span that
 * ends inside the window; a span shorter than a pixel is merged with every
 * span that starts within that pixel, found by binary search, so a query
 * costs O(pixels x lanes x log n) whatever the trace's size, and the answer
 * holds at most a few items per pixel per lane.
 */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace_web.h"
#include "common/buf.h"
#include "common/hash.h"
#include "runtime/trace.h"

struct span {
	int64_t t0, t1;
	uint32_t name; /* string id */
	uint32_t aux;  /* region: task index + 1 (0: none); state: block index; task row: task index */
};

struct lane {
	struct span *s;
	size_t n, cap;
	int64_t *pmax; /* running maximum of t1, only when the ends are not in order */
};

struct block {
	int64_t t0, t1, wake;
	int32_t peer;
	uint32_t call, stack; /* string id; stack index + 1 (0: none) */
	int reason;
};

struct instant {
	int64_t t;
	uint32_t a; /* sample: stack index + 1; log: category string id */
	uint32_t b; /* sample: its weight (sampling periods); log: index into the log table */
};

struct logmsg {
	uint64_t task;
	size_t off, len; /* in the message arena */
};

struct thread {
	int32_t tid, parent;
	uint32_t name;
	int64_t start, end; /* -1: not seen */
	struct block *blk;
	size_t nblk, capblk;
	struct lane state;
	struct lane *regions; /* by depth */
	int ndepth, capdepth;
	size_t *open; /* open regions: index in regions[depth] */
	int nopen, capopen;
	struct instant *samples, *logs;
	size_t nsamples, capsamples, nlogs, caplogs;
	uint64_t *sample_cum; /* nsamples + 1: the weight of the samples before each, once sorted */
};

struct task {
	uint64_t id, parent;
	uint32_t name;
	int64_t t0, t1;
	int32_t tid0, tid1;
	int ended;
};

struct counter {
	uint32_t name;
	int64_t *t;
	uint64_t *v;
	size_t n, cap;
};

struct arrow {
	int64_t wake, ns;
	int32_t peer, tid;
	uint32_t idx; /* the block, in the resumed thread's state lane */
};

struct frame {
	uint64_t pc;
	uint32_t func, file;
	int line;
};

struct stackrec {
	uint32_t off, n; /* frames[off .. off+n) */
};

struct trace_index {
	struct trace_info info;
	/* strings: id 0 is "" */
	char **str;
	size_t nstr, capstr;
	uint32_t *strhash; /* open addressing over ids, by content */
	size_t caphash;
	const char **pkey; /* the decoder's string pointers seen, and their ids */
	uint32_t *pval;
	size_t cappc, npc;

	struct thread *th;
	size_t nth, capth;
	int32_t *tidmap; /* open addressing: thread index + 1 */
	size_t captid;
	size_t last_th;

	struct task *tasks;
	size_t ntasks, captasks;
	uint32_t *taskmap; /* task index + 1 by id */
	size_t captaskmap;
	struct lane *taskrows;
	int ntaskrows;

	struct counter *ctr;
	size_t nctr;

	struct arrow *arrows;
	size_t narrows;

	struct frame *frames;
	size_t nframes, capframes;
	struct stackrec *stacks;
	size_t nstacks, capstacks;
	uint32_t *stackmap; /* decoder stack id -> index + 1 (open addressing on id) */
	uint32_t *stackkey;
	size_t capstackmap;

	char *msgs;
	struct logmsg *logtab;
	size_t msglen, msgcap, nlogtab, caplogtab;
	int64_t end_ns;
	int oom;
};

#define GROW(ix, arr, cap, need) (cprof__grow((void **)&(arr), &(cap), (need), sizeof(*(arr))) ? ((ix)->oom = 1, -1) : 0)

/* ---- strings ---- */

static int rehash_strings(struct trace_index *ix, size_t cap)
{
	uint32_t *h = calloc(cap, sizeof *h);
	if (!h)
		return -1;
	for (size_t id = 1; id < ix->nstr; id++) {
		size_t i = cprof__hash_bytes(ix->str[id], strlen(ix->str[id]), CPROF_HASH_SEED) & (cap - 1);
		while (h[i])
			i = (i + 1) & (cap - 1);
		h[i] = (uint32_t)id;
	}
	free(ix->strhash);
	ix->strhash = h;
	ix->caphash = cap;
	return 0;
}

static uint32_t intern_n(struct trace_index *ix, const char *s, size_t n)
{
	if (!n)
		return 0;
	if ((ix->nstr + 1) * 2 > ix->caphash && rehash_strings(ix, ix->caphash ? ix->caphash * 2 : 1024) < 0) {
		ix->oom = 1;
		return 0;
	}
	size_t i = cprof__hash_bytes(s, n, CPROF_HASH_SEED) & (ix->caphash - 1);
	for (; ix->strhash[i]; i = (i + 1) & (ix->caphash - 1)) {
		const char *t = ix->str[ix->strhash[i]];
		if (strncmp(t, s, n) == 0 && t[n] == 0)
			return ix->strhash[i];
	}
	if (GROW(ix, ix->str, ix->capstr, ix->nstr + 1) < 0)
		return 0;
	char *c = malloc(n + 1);
	if (!c) {
		ix->oom = 1;
		return 0;
	}
	memcpy(c, s, n);
	c[n] = 0;
	uint32_t id = (uint32_t)ix->nstr++;
	ix->str[id] = c;
	ix->strhash[i] = id;
	return id;
}

/*
 * The id of one of the decoder's strings. The decoder hands the same pointer
 * for the same string all through a decode, so a cache by address saves
 * hashing the name of every event.
 */
static uint32_t intern(struct trace_index *ix, const char *s)
{
	if (!s || !s[0])
		return 0;
	if ((ix->npc + 1) * 2 > ix->cappc) {
		size_t nc = ix->cappc ? ix->cappc * 2 : 1024;
		const char **k = calloc(nc, sizeof *k);
		uint32_t *v = calloc(nc, sizeof *v);
		if (!k || !v) {
			free(k);
			free(v);
			ix->oom = 1;
			return 0;
		}
		for (size_t j = 0; j < ix->cappc; j++)
			if (ix->pkey[j]) {
				size_t i = cprof__hash_mix((uintptr_t)ix->pkey[j]) & (nc - 1);
				while (k[i])
					i = (i + 1) & (nc - 1);
				k[i] = ix->pkey[j];
				v[i] = ix->pval[j];
			}
		free(ix->pkey);
		free(ix->pval);
		ix->pkey = k;
		ix->pval = v;
		ix->cappc = nc;
	}
	size_t i = cprof__hash_mix((uintptr_t)s) & (ix->cappc - 1);
	for (; ix->pkey[i]; i = (i + 1) & (ix->cappc - 1))
		if (ix->pkey[i] == s)
			return ix->pval[i];
	uint32_t id = intern_n(ix, s, strlen(s));
	ix->pkey[i] = s;
	ix->pval[i] = id;
	ix->npc++;
	return id;
}

/* ---- threads, tasks ---- */

static struct thread *thread_of(struct trace_index *ix, int32_t tid)
{
	if (ix->last_th < ix->nth && ix->th[ix->last_th].tid == tid)
		return &ix->th[ix->last_th];
	if ((ix->nth + 1) * 2 > ix->captid) {
		size_t nc = ix->captid ? ix->captid * 2 : 64;
		int32_t *m = calloc(nc, sizeof *m);
		if (!m) {
			ix->oom = 1;
			return NULL;
		}
		for (size_t k = 0; k < ix->nth; k++) {
			size_t i = cprof__hash_mix((uint32_t)ix->th[k].tid) & (nc - 1);
			while (m[i])
				i = (i + 1) & (nc - 1);
			m[i] = (int32_t)k + 1;
		}
		free(ix->tidmap);
		ix->tidmap = m;
		ix->captid = nc;
	}
	size_t i = cprof__hash_mix((uint32_t)tid) & (ix->captid - 1);
	for (; ix->tidmap[i]; i = (i + 1) & (ix->captid - 1))
		if (ix->th[ix->tidmap[i] - 1].tid == tid) {
			ix->last_th = (size_t)ix->tidmap[i] - 1;
			return &ix->th[ix->last_th];
		}
	if (GROW(ix, ix->th, ix->capth, ix->nth + 1) < 0)
		return NULL;
	struct thread *t = &ix->th[ix->nth];
	memset(t, 0, sizeof *t);
	t->tid = tid;
	t->start = t->end = -1;
	ix->tidmap[i] = (int32_t)++ix->nth;
	ix->last_th = ix->nth - 1;
	return t;
}

static const struct thread *find_thread(const struct trace_index *ix, int32_t tid)
{
	if (!ix->captid)
		return NULL;
	size_t i = cprof__hash_mix((uint32_t)tid) & (ix->captid - 1);
	for (; ix->tidmap[i]; i = (i + 1) & (ix->captid - 1))
		if (ix->th[ix->tidmap[i] - 1].tid == tid)
			return &ix->th[ix->tidmap[i] - 1];
	return NULL;
}

/* The task with id (created when new); NULL only when out of memory. */
static struct task *task_of(struct trace_index *ix, uint64_t id, int create)
{
	if (create && (ix->ntasks + 1) * 2 > ix->captaskmap) {
		size_t nc = ix->captaskmap ? ix->captaskmap * 2 : 256;
		uint32_t *m = calloc(nc, sizeof *m);
		if (!m) {
			ix->oom = 1;
			return NULL;
		}
		for (size_t k = 0; k < ix->ntasks; k++) {
			size_t i = cprof__hash_mix(ix->tasks[k].id) & (nc - 1);
			while (m[i])
				i = (i + 1) & (nc - 1);
			m[i] = (uint32_t)k + 1;
		}
		free(ix->taskmap);
		ix->taskmap = m;
		ix->captaskmap = nc;
	}
	if (!ix->captaskmap)
		return NULL;
	size_t i = cprof__hash_mix(id) & (ix->captaskmap - 1);
	for (; ix->taskmap[i]; i = (i + 1) & (ix->captaskmap - 1))
		if (ix->tasks[ix->taskmap[i] - 1].id == id)
			return &ix->tasks[ix->taskmap[i] - 1];
	if (!create || GROW(ix, ix->tasks, ix->captasks, ix->ntasks + 1) < 0)
		return NULL;
	struct task *t = &ix->tasks[ix->ntasks];
	memset(t, 0, sizeof *t);
	t->id = id;
	t->t0 = t->t1 = -1;
	ix->taskmap[i] = (uint32_t)++ix->ntasks;
	return t;
}

static int lane_push(struct trace_index *ix, struct lane *l, int64_t t0, int64_t t1, uint32_t name, uint32_t aux)
{
	if (GROW(ix, l->s, l->cap, l->n + 1) < 0)
		return -1;
	l->s[l->n++] = (struct span){t0, t1, name, aux};
	return 0;
}

static void close_regions(struct thread *t, int64_t at)
{
	while (t->nopen > 0) {
		t->nopen--;
		struct span *s = &t->regions[t->nopen].s[t->open[t->nopen]];
		s->t1 = at > s->t0 ? at : s->t0;
	}
}

/* Stacks: copied out of the decoder (its storage lives only for the decode), by id. */
static uint32_t stack_of(struct trace_index *ix, const struct trace_stack *st)
{
	if (!st || !st->n)
		return 0;
	if ((ix->nstacks + 1) * 2 > ix->capstackmap) {
		size_t nc = ix->capstackmap ? ix->capstackmap * 2 : 256;
		uint32_t *m = calloc(nc, sizeof *m), *k = calloc(nc, sizeof *k);
		if (!m || !k) {
			free(m);
			free(k);
			ix->oom = 1;
			return 0;
		}
		for (size_t j = 0; j < ix->capstackmap; j++)
			if (ix->stackmap[j]) {
				size_t i = cprof__hash_mix(ix->stackkey[j]) & (nc - 1);
				while (m[i])
					i = (i + 1) & (nc - 1);
				m[i] = ix->stackmap[j];
				k[i] = ix->stackkey[j];
			}
		free(ix->stackmap);
		free(ix->stackkey);
		ix->stackmap = m;
		ix->stackkey = k;
		ix->capstackmap = nc;
	}
	size_t i = cprof__hash_mix(st->id) & (ix->capstackmap - 1);
	for (; ix->stackmap[i]; i = (i + 1) & (ix->capstackmap - 1))
		if (ix->stackkey[i] == st->id)
			return ix->stackmap[i];
	if (GROW(ix, ix->stacks, ix->capstacks, ix->nstacks + 1) < 0 ||
	    GROW(ix, ix->frames, ix->capframes, ix->nframes + st->n) < 0)
		return 0;
	ix->stacks[ix->nstacks] = (struct stackrec){(uint32_t)ix->nframes, st->n};
	for (uint32_t k = 0; k < st->n; k++) {
		const struct trace_frame *f = &st->frames[k];
		ix->frames[ix->nframes++] = (struct frame){f->pc, intern(ix, f->func), intern(ix, f->file), f->line};
	}
	ix->stackmap[i] = (uint32_t)++ix->nstacks;
	ix->stackkey[i] = st->id;
	return ix->stackmap[i];
}

static int on_event(const struct trace_event *ev, void *arg)
{
	struct trace_index *ix = arg;
	if (ev->ns > ix->end_ns)
		ix->end_ns = ev->ns;
	if (ev->type == CPROF_TEV_COUNTER) {
		uint32_t name = intern(ix, ev->str);
		size_t k;
		for (k = 0; k < ix->nctr && ix->ctr[k].name != name; k++)
			;
		if (k == ix->nctr) {
			struct counter *c = realloc(ix->ctr, (ix->nctr + 1) * sizeof *c);
			if (!c)
				return -ENOMEM;
			ix->ctr = c;
			memset(&c[k], 0, sizeof c[k]);
			c[k].name = name;
			ix->nctr++;
		}
		struct counter *c = &ix->ctr[k];
		size_t cap = c->cap;
		if (GROW(ix, c->t, cap, c->n + 1) < 0 || GROW(ix, c->v, c->cap, c->n + 1) < 0)
			return -ENOMEM;
		c->t[c->n] = ev->ns;
		c->v[c->n++] = ev->b;
		return 0;
	}
	struct thread *t = thread_of(ix, ev->tid);
	if (!t)
		return -ENOMEM;
	if (t->start < 0)
		t->start = ev->ns;
	switch (ev->type) {
	case CPROF_TEV_THREAD_START:
		t->parent = (int32_t)ev->a;
		t->start = ev->ns;
		break;
	case CPROF_TEV_THREAD_EXIT:
		t->end = ev->ns;
		close_regions(t, ev->ns);
		break;
	case CPROF_TEV_THREAD_NAME:
		t->name = intern(ix, ev->str);
		break;
	case CPROF_TEV_TASK_BEGIN: {
		struct task *k = task_of(ix, ev->a, 1);
		if (!k)
			return -ENOMEM;
		k->parent = ev->b;
		k->name = intern(ix, ev->str);
		k->t0 = ev->ns;
		k->tid0 = ev->tid;
		break;
	}
	case CPROF_TEV_TASK_END: {
		struct task *k = task_of(ix, ev->a, 1);
		if (!k)
			return -ENOMEM;
		k->t1 = ev->ns;
		k->tid1 = ev->tid;
		k->ended = 1;
		break;
	}
	case CPROF_TEV_REGION_BEGIN: {
		int d = t->nopen;
		if (d >= t->ndepth) {
			size_t cap = (size_t)t->capdepth;
			if (GROW(ix, t->regions, cap, (size_t)d + 1) < 0)
				return -ENOMEM;
			t->capdepth = (int)cap;
			memset(&t->regions[t->ndepth], 0, (size_t)(d + 1 - t->ndepth) * sizeof *t->regions);
			t->ndepth = d + 1;
		}
		size_t capo = (size_t)t->capopen;
		if (GROW(ix, t->open, capo, (size_t)d + 1) < 0)
			return -ENOMEM;
		t->capopen = (int)capo;
		uint32_t task = 0;
		if (ev->a) {
			struct task *k = task_of(ix, ev->a, 1);
			if (!k)
				return -ENOMEM;
			task = (uint32_t)(k - ix->tasks) + 1;
		}
		t->open[d] = t->regions[d].n;
		if (lane_push(ix, &t->regions[d], ev->ns, -1, intern(ix, ev->str), task) < 0)
			return -ENOMEM;
		t->nopen++;
		break;
	}
	case CPROF_TEV_REGION_END:
		if (t->nopen > 0) {
			t->nopen--;
			struct span *s = &t->regions[t->nopen].s[t->open[t->nopen]];
			s->t1 = ev->ns > s->t0 ? ev->ns : s->t0;
		}
		break;
	case CPROF_TEV_LOG: {
		if (GROW(ix, t->logs, t->caplogs, t->nlogs + 1) < 0 ||
		    GROW(ix, ix->logtab, ix->caplogtab, ix->nlogtab + 1) < 0 ||
		    GROW(ix, ix->msgs, ix->msgcap, ix->msglen + ev->msglen + 1) < 0)
			return -ENOMEM;
		if (ev->msglen)
			memcpy(ix->msgs + ix->msglen, ev->msg, ev->msglen);
		ix->logtab[ix->nlogtab] = (struct logmsg){ev->a, ix->msglen, ev->msglen};
		ix->msglen += ev->msglen;
		t->logs[t->nlogs++] = (struct instant){ev->ns, intern(ix, ev->str), (uint32_t)ix->nlogtab++};
		break;
	}
	case CPROF_TEV_BLOCK: {
		if (GROW(ix, t->blk, t->capblk, t->nblk + 1) < 0)
			return -ENOMEM;
		int64_t d = ev->dur_ns > 0 ? ev->dur_ns : 0;
		t->blk[t->nblk++] = (struct block){ev->ns - d, ev->ns, ev->wake_ns, ev->peer, intern(ix, ev->str),
						   stack_of(ix, ev->stack), (int)ev->a};
		break;
	}
	case CPROF_TEV_CPU_SAMPLE:
		if (GROW(ix, t->samples, t->capsamples, t->nsamples + 1) < 0)
			return -ENOMEM;
		t->samples[t->nsamples++] = (struct instant){ev->ns, stack_of(ix, ev->stack), (uint32_t)ev->weight};
		break;
	}
	return ix->oom ? -ENOMEM : 0;
}

/* ---- after the decode: order, lanes, rows, arrows ---- */

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->t0 < y->t0 ? -1 : x->t0 > y->t0 ? 1 : (x->t1 > y->t1) - (x->t1 < y->t1);
}

static int cmp_block(const void *a, const void *b)
{
	const struct block *x = a, *y = b;
	return (x->t0 > y->t0) - (x->t0 < y->t0);
}

static int cmp_instant(const void *a, const void *b)
{
	const struct instant *x = a, *y = b;
	return (x->t > y->t) - (x->t < y->t);
}

static int cmp_arrow(const void *a, const void *b)
{
	const struct arrow *x = a, *y = b;
	return (x->ns > y->ns) - (x->ns < y->ns);
}

/* Sorted by start; when the ends are not in order too (overlaps in a damaged file), their running maximum. */
static int lane_finish(struct trace_index *ix, struct lane *l)
{
	int sorted = 1, ends = 1;
	for (size_t i = 1; i < l->n; i++) {
		if (l->s[i].t0 < l->s[i - 1].t0)
			sorted = 0;
		if (l->s[i].t1 < l->s[i - 1].t1)
			ends = 0;
	}
	if (!sorted)
		qsort(l->s, l->n, sizeof *l->s, cmp_span);
	if (!sorted || !ends) {
		ends = 1;
		for (size_t i = 1; i < l->n && ends; i++)
			ends = l->s[i].t1 >= l->s[i - 1].t1;
	}
	if (!ends) {
		l->pmax = malloc(l->n * sizeof *l->pmax);
		if (!l->pmax) {
			ix->oom = 1;
			return -1;
		}
		int64_t m = INT64_MIN;
		for (size_t i = 0; i < l->n; i++)
			l->pmax[i] = m = l->s[i].t1 > m ? l->s[i].t1 : m;
	}
	return 0;
}

static int finish(struct trace_index *ix)
{
	int64_t end = ix->end_ns > ix->info.duration_ns ? ix->end_ns : ix->info.duration_ns;
	ix->end_ns = end;
	size_t narrows = 0;
	for (size_t k = 0; k < ix->nth; k++) {
		struct thread *t = &ix->th[k];
		close_regions(t, t->end >= 0 ? t->end : end);
		for (int d = 0; d < t->ndepth; d++)
			if (lane_finish(ix, &t->regions[d]) < 0)
				return -1;
		int sorted = 1;
		for (size_t i = 1; i < t->nblk && sorted; i++)
			sorted = t->blk[i].t0 >= t->blk[i - 1].t0;
		if (!sorted)
			qsort(t->blk, t->nblk, sizeof *t->blk, cmp_block);
		for (size_t i = 0; i < t->nblk; i++) {
			if (lane_push(ix, &t->state, t->blk[i].t0, t->blk[i].t1, t->blk[i].call, (uint32_t)i) < 0)
				return -1;
			if (t->blk[i].peer && t->blk[i].wake >= 0)
				narrows++;
		}
		if (lane_finish(ix, &t->state) < 0)
			return -1;
		if (t->nsamples > 1)
			qsort(t->samples, t->nsamples, sizeof *t->samples, cmp_instant);
		/* Prefix sums: the weight of any run of samples merged into one tick is one subtraction. */
		if (!(t->sample_cum = malloc((t->nsamples + 1) * sizeof *t->sample_cum)))
			return -1;
		t->sample_cum[0] = 0;
		for (size_t i = 0; i < t->nsamples; i++)
			t->sample_cum[i + 1] = t->sample_cum[i] + t->samples[i].b;
		if (t->nlogs > 1)
			qsort(t->logs, t->nlogs, sizeof *t->logs, cmp_instant);
	}
	if (narrows) {
		ix->arrows = malloc(narrows * sizeof *ix->arrows);
		if (!ix->arrows)
			return -1;
		for (size_t k = 0; k < ix->nth; k++)
			for (size_t i = 0; i < ix->th[k].nblk; i++) {
				const struct block *b = &ix->th[k].blk[i];
				if (b->peer && b->wake >= 0)
					ix->arrows[ix->narrows++] = (struct arrow){b->wake, b->t1, b->peer, ix->th[k].tid,
										   (uint32_t)i};
			}
		qsort(ix->arrows, ix->narrows, sizeof *ix->arrows, cmp_arrow);
	}
	for (size_t k = 0; k < ix->nctr; k++) {
		struct counter *c = &ix->ctr[k];
		for (size_t i = 1; i < c->n; i++) /* insertion sort: nearly in order already */
			for (size_t j = i; j > 0 && c->t[j] < c->t[j - 1]; j--) {
				int64_t tt = c->t[j];
				uint64_t vv = c->v[j];
				c->t[j] = c->t[j - 1];
				c->v[j] = c->v[j - 1];
				c->t[j - 1] = tt;
				c->v[j - 1] = vv;
			}
	}
	/* Tasks: an unended task lasts to the end; a task seen only by its end from the start. */
	for (size_t i = 0; i < ix->ntasks; i++) {
		struct task *k = &ix->tasks[i];
		if (k->t0 < 0)
			k->t0 = 0;
		if (k->t1 < k->t0)
			k->t1 = k->ended ? k->t0 : end;
	}
	/*
	 * Rows: each task in the first row free at its start (at most 64 rows;
	 * past that, the row that frees first, overlapping).
	 */
	/* the tasks by start, as spans (aux: the task's index) */
	struct span *tmp = malloc((ix->ntasks + 1) * sizeof *tmp);
	if (!tmp)
		return -1;
	for (size_t i = 0; i < ix->ntasks; i++)
		tmp[i] = (struct span){ix->tasks[i].t0, ix->tasks[i].t1, ix->tasks[i].name, (uint32_t)i};
	qsort(tmp, ix->ntasks, sizeof *tmp, cmp_span);
	enum { MAXROWS = 64 };
	ix->taskrows = calloc(MAXROWS, sizeof *ix->taskrows);
	int64_t rowend[MAXROWS];
	int rc = ix->taskrows ? 0 : -1;
	for (size_t i = 0; i < ix->ntasks && rc == 0; i++) {
		int r, best = 0;
		for (r = 0; r < ix->ntaskrows && rowend[r] > tmp[i].t0; r++)
			if (rowend[r] < rowend[best])
				best = r;
		if (r < ix->ntaskrows) {
			rowend[r] = tmp[i].t1; /* free at its start */
		} else if (ix->ntaskrows < MAXROWS) {
			ix->ntaskrows++;
			rowend[r] = tmp[i].t1;
		} else {
			r = best; /* every row busy: overlap the one that frees first */
			if (tmp[i].t1 > rowend[r])
				rowend[r] = tmp[i].t1;
		}
		rc = lane_push(ix, &ix->taskrows[r], tmp[i].t0, tmp[i].t1, tmp[i].name, tmp[i].aux);
	}
	free(tmp);
	for (int r = 0; r < ix->ntaskrows && rc == 0; r++)
		rc = lane_finish(ix, &ix->taskrows[r]);
	return rc;
}

struct trace_index *cprof__trace_index_new(const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct trace_index *ix = calloc(1, sizeof *ix);
	if (!ix || GROW(ix, ix->str, ix->capstr, 1) < 0) {
		free(ix);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ix->str[0] = strdup("");
	ix->nstr = 1;
	int rc = cprof__trace_decode(data, len, &ix->info, on_event, ix, err, errlen);
	if (rc == 0 && (!ix->str[0] || finish(ix) < 0))
		rc = -ENOMEM;
	if (rc != 0 || ix->oom) {
		if (rc == -ENOMEM || ix->oom)
			snprintf(err, errlen, "out of memory");
		cprof__trace_index_free(ix);
		return NULL;
	}
	return ix;
}

static void lane_release(struct lane *l)
{
	free(l->s);
	free(l->pmax);
}

void cprof__trace_index_free(struct trace_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nstr; i++)
		free(ix->str[i]);
	free(ix->str);
	free(ix->strhash);
	free(ix->pkey);
	free(ix->pval);
	for (size_t k = 0; k < ix->nth; k++) {
		struct thread *t = &ix->th[k];
		free(t->blk);
		lane_release(&t->state);
		for (int d = 0; d < t->ndepth; d++)
			lane_release(&t->regions[d]);
		free(t->regions);
		free(t->open);
		free(t->samples);
		free(t->sample_cum);
		free(t->logs);
	}
	free(ix->th);
	free(ix->tidmap);
	free(ix->tasks);
	free(ix->taskmap);
	if (ix->taskrows)
		for (int r = 0; r < ix->ntaskrows; r++)
			lane_release(&ix->taskrows[r]);
	free(ix->taskrows);
	for (size_t k = 0; k < ix->nctr; k++) {
		free(ix->ctr[k].t);
		free(ix->ctr[k].v);
	}
	free(ix->ctr);
	free(ix->arrows);
	free(ix->frames);
	free(ix->stacks);
	free(ix->stackmap);
	free(ix->stackkey);
	free(ix->msgs);
	free(ix->logtab);
	free(ix);
}

const struct trace_info *cprof__trace_index_info(const struct trace_index *ix)
{
	return &ix->info;
}

/* ---- JSON ---- */

void cprof__trace_json_str(struct buf *out, const char *s, size_t n)
{
	cprof__buf_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			cprof__buf_putc(out, '\\');
			cprof__buf_putc(out, ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			cprof__buf_printf(out, "\\u%04x", ch);
		} else {
			cprof__buf_putc(out, ch);
		}
	}
	cprof__buf_putc(out, '"');
}

static void jstr(struct buf *out, const char *s)
{
	cprof__trace_json_str(out, s, strlen(s));
}

/* Fast decimal for the window's many numbers. */
static void jint(struct buf *out, int64_t v)
{
	char tmp[24], *p = tmp + sizeof tmp;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	cprof__buf_append(out, p, (size_t)(tmp + sizeof tmp - p));
}

int cprof__trace_index_meta(const struct trace_index *ix, struct buf *out)
{
	const struct trace_info *in = &ix->info;
	cprof__buf_printf(out,
			  "{\"version\":%d,\"pid\":%d,\"wall_ns\":%" PRId64 ",\"duration\":%" PRId64
			  ",\"events\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"dropped_samples\":%" PRIu64
			  ",\"dropped_sample_weight\":%" PRIu64
			  ",\"flight\":%s,\"truncated\":%s,\"tasks\":%zu,\"task_rows\":%d"
			  ",\"arrows\":%zu,\"stacks\":%zu,\"strings\":[",
			  in->version, in->pid, in->wall_ns, ix->end_ns, in->events, in->dropped, in->dropped_samples,
			  in->dropped_weight,
			  in->flight ? "true" : "false", in->truncated ? "true" : "false", ix->ntasks, ix->ntaskrows, ix->narrows, ix->nstacks);
	for (size_t i = 0; i < ix->nstr; i++) {
		if (i)
			cprof__buf_putc(out, ',');
		jstr(out, ix->str[i]);
	}
	cprof__buf_puts(out, "],\"reasons\":[\"\"");
	for (int r = 1; r <= CPROF_TBR_SYSCALL; r++) {
		cprof__buf_putc(out, ',');
		jstr(out, cprof__trace_reason_name(r));
	}
	cprof__buf_puts(out, "],\"threads\":[");
	for (size_t k = 0; k < ix->nth; k++) {
		const struct thread *t = &ix->th[k];
		cprof__buf_printf(out,
				  "%s{\"tid\":%d,\"name\":%u,\"parent\":%d,\"start\":%" PRId64 ",\"end\":%" PRId64
				  ",\"exited\":%s,\"depth\":%d,\"blocks\":%zu,\"samples\":%zu,\"sample_weight\":%" PRIu64
				  ",\"logs\":%zu}",
				  k ? "," : "", t->tid, t->name, t->parent, t->start, t->end >= 0 ? t->end : ix->end_ns,
				  t->end >= 0 ? "true" : "false", t->ndepth, t->nblk, t->nsamples,
				  t->sample_cum ? t->sample_cum[t->nsamples] : 0, t->nlogs);
	}
	cprof__buf_puts(out, "],\"counters\":[");
	for (size_t k = 0; k < ix->nctr; k++) {
		const struct counter *c = &ix->ctr[k];
		uint64_t lo = c->n ? c->v[0] : 0, hi = lo;
		for (size_t i = 0; i < c->n; i++) {
			lo = c->v[i] < lo ? c->v[i] : lo;
			hi = c->v[i] > hi ? c->v[i] : hi;
		}
		cprof__buf_printf(out, "%s{\"name\":", k ? "," : "");
		jstr(out, ix->str[c->name]);
		cprof__buf_printf(out, ",\"n\":%zu,\"min\":%" PRIu64 ",\"max\":%" PRIu64 "}", c->n, lo, hi);
	}
	cprof__buf_puts(out, "]}\n");
	return out->err;
}

/* First index whose end is after t (every earlier span ends at or before t). */
static size_t first_ending_after(const struct lane *l, int64_t t)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((l->pmax ? l->pmax[mid] : l->s[mid].t1) > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* First index in [from, n) whose start is at or after t. */
static size_t first_starting_at(const struct lane *l, size_t from, int64_t t)
{
	size_t lo = from, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->s[mid].t0 >= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * A lane's spans in [w0, w1) as [t0,t1,name,index,count] (count > 1: that
 * many spans shorter than r merged, index the first), at most a few per
 * r-wide pixel. kind(i) is the third field for state lanes (the reason).
 */
static void lane_window(const struct trace_index *ix, const struct thread *t, const struct lane *l, int64_t w0,
			int64_t w1, int64_t r, struct buf *out)
{
	cprof__buf_putc(out, '[');
	int first = 1;
	size_t i = first_ending_after(l, w0);
	while (i < l->n && l->s[i].t0 < w1 && !out->err) {
		const struct span *s = &l->s[i];
		size_t j = i + 1;
		int64_t end = s->t1;
		if (s->t1 - s->t0 < r) {
			j = first_starting_at(l, i + 1, s->t0 + r);
			if (j > i + 1 && l->s[j - 1].t1 - l->s[j - 1].t0 >= r)
				j--; /* a long span keeps its own item */
			end = l->pmax ? l->pmax[j - 1] : l->s[j - 1].t1;
			if (end < s->t1)
				end = s->t1;
		}
		cprof__buf_puts(out, first ? "[" : ",[");
		first = 0;
		jint(out, s->t0);
		cprof__buf_putc(out, ',');
		jint(out, end);
		cprof__buf_putc(out, ',');
		jint(out, t ? (int64_t)t->blk[s->aux].reason : (int64_t)s->name);
		cprof__buf_putc(out, ',');
		jint(out, (int64_t)i);
		cprof__buf_putc(out, ',');
		jint(out, (int64_t)(j - i));
		cprof__buf_putc(out, ']');
		i = j;
	}
	cprof__buf_putc(out, ']');
}

static size_t first_instant(const struct instant *v, size_t n, int64_t t)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].t >= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Instants in [w0, w1) as [t,index,count], one item per r. */
static void instants_window(const struct instant *v, size_t n, const uint64_t *cum, int64_t w0, int64_t w1, int64_t r,
			    struct buf *out)
{
	cprof__buf_putc(out, '[');
	size_t i = first_instant(v, n, w0);
	int first = 1;
	while (i < n && v[i].t < w1 && !out->err) {
		size_t j = first_instant(v, n, v[i].t + r);
		if (j <= i)
			j = i + 1;
		cprof__buf_puts(out, first ? "[" : ",[");
		first = 0;
		jint(out, v[i].t);
		cprof__buf_putc(out, ',');
		jint(out, (int64_t)i);
		cprof__buf_putc(out, ',');
		jint(out, (int64_t)(j - i));
		if (cum) { /* samples: the sampling periods they stand for */
			cprof__buf_putc(out, ',');
			jint(out, (int64_t)(cum[j] - cum[i]));
		}
		cprof__buf_putc(out, ']');
		i = j;
	}
	cprof__buf_putc(out, ']');
}

#define MAX_ARROWS 2000

int cprof__trace_index_window(const struct trace_index *ix, int64_t w0, int64_t w1, int px, struct buf *out)
{
	int64_t r = (w1 - w0) / (px > 0 ? px : 1);
	if (r < 1)
		r = 1;
	cprof__buf_puts(out, "{\"t0\":");
	jint(out, w0);
	cprof__buf_puts(out, ",\"t1\":");
	jint(out, w1);
	cprof__buf_puts(out, ",\"res\":");
	jint(out, r);
	cprof__buf_puts(out, ",\"threads\":[");
	for (size_t k = 0; k < ix->nth && !out->err; k++) {
		const struct thread *t = &ix->th[k];
		cprof__buf_printf(out, "%s{\"tid\":%d,\"state\":", k ? "," : "", t->tid);
		lane_window(ix, t, &t->state, w0, w1, r, out);
		cprof__buf_puts(out, ",\"regions\":[");
		for (int d = 0; d < t->ndepth; d++) {
			if (d)
				cprof__buf_putc(out, ',');
			lane_window(ix, NULL, &t->regions[d], w0, w1, r, out);
		}
		cprof__buf_puts(out, "],\"samples\":");
		instants_window(t->samples, t->nsamples, t->sample_cum, w0, w1, r, out);
		cprof__buf_puts(out, ",\"logs\":");
		instants_window(t->logs, t->nlogs, NULL, w0, w1, r, out);
		cprof__buf_putc(out, '}');
	}
	cprof__buf_puts(out, "],\"tasks\":[");
	for (int row = 0; row < ix->ntaskrows; row++) {
		if (row)
			cprof__buf_putc(out, ',');
		lane_window(ix, NULL, &ix->taskrows[row], w0, w1, r, out);
	}
	/* Counters: per pixel the first value, and the least and greatest; one point either side. */
	cprof__buf_puts(out, "],\"counters\":[");
	for (size_t k = 0; k < ix->nctr; k++) {
		const struct counter *c = &ix->ctr[k];
		size_t lo = 0, hi = c->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (c->t[mid] >= w0)
				hi = mid;
			else
				lo = mid + 1;
		}
		size_t i = lo > 0 ? lo - 1 : 0;
		cprof__buf_puts(out, k ? ",[" : "[");
		int first = 1;
		while (i < c->n && !out->err) {
			int64_t bucket = c->t[i] + r;
			uint64_t mn = c->v[i], mx = c->v[i];
			size_t j = i + 1;
			for (; j < c->n && c->t[j] < bucket; j++) {
				mn = c->v[j] < mn ? c->v[j] : mn;
				mx = c->v[j] > mx ? c->v[j] : mx;
			}
			cprof__buf_printf(out, "%s[%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", first ? "" : ",",
					  c->t[i], c->v[i], mn, mx);
			first = 0;
			if (c->t[i] >= w1)
				break;
			i = j;
		}
		cprof__buf_putc(out, ']');
	}
	/* Wake-up arrows whose resume is in the window (or whose wait spans it), when not too many to draw. */
	cprof__buf_puts(out, "],\"arrows\":[");
	size_t lo = 0, hi = ix->narrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->arrows[mid].ns >= w0)
			hi = mid;
		else
			lo = mid + 1;
	}
	size_t n = 0, shown = 0;
	for (size_t i = lo; i < ix->narrows && ix->arrows[i].ns < w1; i++)
		n++;
	if (n <= MAX_ARROWS)
		for (size_t i = lo; i < lo + n && !out->err; i++) {
			const struct arrow *a = &ix->arrows[i];
			if (a->ns - a->wake < r && shown > MAX_ARROWS / 2)
				continue;
			cprof__buf_printf(out, "%s[%" PRId64 ",%d,%" PRId64 ",%d,%u]", shown ? "," : "", a->wake, a->peer,
					  a->ns, a->tid, a->idx);
			shown++;
		}
	cprof__buf_printf(out, "],\"arrows_in_window\":%zu}\n", n);
	return out->err;
}

static void stack_json(const struct trace_index *ix, uint32_t stack, struct buf *out)
{
	cprof__buf_putc(out, '[');
	if (stack && stack <= ix->nstacks) {
		const struct stackrec *s = &ix->stacks[stack - 1];
		for (uint32_t k = 0; k < s->n; k++) {
			const struct frame *f = &ix->frames[s->off + k];
			cprof__buf_printf(out, "%s{\"func\":", k ? "," : "");
			jstr(out, ix->str[f->func]);
			cprof__buf_puts(out, ",\"file\":");
			jstr(out, ix->str[f->file]);
			cprof__buf_printf(out, ",\"line\":%d,\"pc\":\"0x%" PRIx64 "\"}", f->line, f->pc);
		}
	}
	cprof__buf_putc(out, ']');
}

static void thread_ref(const struct trace_index *ix, const char *key, int32_t tid, struct buf *out)
{
	const struct thread *t = find_thread(ix, tid);
	cprof__buf_printf(out, ",\"%s\":%d,\"%s_name\":", key, tid, key);
	jstr(out, t ? ix->str[t->name] : "");
}

int cprof__trace_index_item(const struct trace_index *ix, const char *kind, int32_t tid, int depth, int64_t i,
			    struct buf *out, char *err, size_t errlen)
{
	const struct thread *t = NULL;
	if (strcmp(kind, "task") != 0) {
		t = find_thread(ix, tid);
		if (!t) {
			snprintf(err, errlen, "no thread %d in this trace", tid);
			return -EINVAL;
		}
	}
	if (strcmp(kind, "state") == 0) {
		if (i < 0 || (size_t)i >= t->state.n)
			goto range;
		const struct block *b = &t->blk[t->state.s[i].aux];
		cprof__buf_puts(out, "{\"kind\":\"state\",\"reason\":");
		jstr(out, cprof__trace_reason_name(b->reason));
		cprof__buf_puts(out, ",\"name\":");
		jstr(out, ix->str[b->call]);
		cprof__buf_printf(out, ",\"t0\":%" PRId64 ",\"t1\":%" PRId64 ",\"wake\":%" PRId64, b->t0, b->t1, b->wake);
		thread_ref(ix, "tid", t->tid, out);
		thread_ref(ix, "peer", b->peer, out);
		cprof__buf_puts(out, ",\"stack\":");
		stack_json(ix, b->stack, out);
		cprof__buf_puts(out, "}\n");
	} else if (strcmp(kind, "region") == 0) {
		if (depth < 0 || depth >= t->ndepth || i < 0 || (size_t)i >= t->regions[depth].n)
			goto range;
		const struct span *s = &t->regions[depth].s[i];
		cprof__buf_puts(out, "{\"kind\":\"region\",\"name\":");
		jstr(out, ix->str[s->name]);
		cprof__buf_printf(out, ",\"t0\":%" PRId64 ",\"t1\":%" PRId64 ",\"depth\":%d", s->t0, s->t1, depth);
		thread_ref(ix, "tid", t->tid, out);
		if (s->aux) {
			const struct task *k = &ix->tasks[s->aux - 1];
			cprof__buf_printf(out, ",\"task\":%" PRIu64 ",\"task_name\":", k->id);
			jstr(out, ix->str[k->name]);
		}
		cprof__buf_puts(out, "}\n");
	} else if (strcmp(kind, "task") == 0) {
		if (depth < 0 || depth >= ix->ntaskrows || i < 0 || (size_t)i >= ix->taskrows[depth].n)
			goto range;
		const struct task *k = &ix->tasks[ix->taskrows[depth].s[i].aux];
		cprof__buf_puts(out, "{\"kind\":\"task\",\"name\":");
		jstr(out, ix->str[k->name]);
		cprof__buf_printf(out, ",\"id\":%" PRIu64 ",\"parent\":%" PRIu64 ",\"t0\":%" PRId64 ",\"t1\":%" PRId64
				  ",\"ended\":%s",
				  k->id, k->parent, k->t0, k->t1, k->ended ? "true" : "false");
		thread_ref(ix, "tid", k->tid0, out);
		thread_ref(ix, "end_tid", k->tid1, out);
		cprof__buf_puts(out, "}\n");
	} else if (strcmp(kind, "sample") == 0) {
		if (i < 0 || (size_t)i >= t->nsamples)
			goto range;
		cprof__buf_printf(out, "{\"kind\":\"sample\",\"name\":\"CPU sample\",\"t0\":%" PRId64 ",\"weight\":%u",
				  t->samples[i].t, t->samples[i].b);
		thread_ref(ix, "tid", t->tid, out);
		cprof__buf_puts(out, ",\"stack\":");
		stack_json(ix, t->samples[i].a, out);
		cprof__buf_puts(out, "}\n");
	} else if (strcmp(kind, "log") == 0) {
		if (i < 0 || (size_t)i >= t->nlogs)
			goto range;
		const struct logmsg *m = &ix->logtab[t->logs[i].b];
		cprof__buf_puts(out, "{\"kind\":\"log\",\"name\":");
		jstr(out, ix->str[t->logs[i].a]);
		cprof__buf_printf(out, ",\"t0\":%" PRId64 ",\"task\":%" PRIu64 ",\"message\":", t->logs[i].t, m->task);
		cprof__trace_json_str(out, ix->msgs + m->off, m->len);
		thread_ref(ix, "tid", t->tid, out);
		cprof__buf_puts(out, "}\n");
	} else {
		snprintf(err, errlen, "unknown kind \"%s\" (state, region, task, sample or log)", kind);
		return -EINVAL;
	}
	return out->err;
range:
	snprintf(err, errlen, "no %s %" PRId64 " at depth %d on thread %d", kind, i, depth, tid);
	return -EINVAL;
}

struct found {
	struct buf *out;
	int max;
	size_t total;
};

static void hit(struct found *f, const char *kind, int32_t tid, int depth, size_t i, int64_t t0, int64_t t1,
		const char *name, size_t namelen)
{
	if (f->total++ >= (size_t)f->max)
		return;
	cprof__buf_printf(f->out, "%s[\"%s\",%d,%d,%zu,%" PRId64 ",%" PRId64 ",", f->total > 1 ? "," : "", kind, tid,
			  depth, i, t0, t1);
	cprof__trace_json_str(f->out, name, namelen);
	cprof__buf_putc(f->out, ']');
}

int cprof__trace_index_search(const struct trace_index *ix, const char *re, int max, struct buf *out, char *err,
			      size_t errlen)
{
	regex_t rx;
	int e = regcomp(&rx, re, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (e) {
		char m[128];
		regerror(e, &rx, m, sizeof m);
		snprintf(err, errlen, "bad search regexp \"%s\": %s", re, m);
		return -EINVAL;
	}
	uint8_t *sm = calloc(ix->nstr, 1), *km = calloc(ix->nstacks + 1, 1);
	if (!sm || !km) {
		free(sm);
		free(km);
		regfree(&rx);
		return -ENOMEM;
	}
	for (size_t i = 1; i < ix->nstr; i++)
		sm[i] = regexec(&rx, ix->str[i], 0, NULL, 0) == 0;
	for (size_t s = 0; s < ix->nstacks; s++)
		for (uint32_t k = 0; k < ix->stacks[s].n && !km[s + 1]; k++)
			km[s + 1] = sm[ix->frames[ix->stacks[s].off + k].func];
	struct found f = {out, max, 0};
	cprof__buf_puts(out, "{\"matches\":[");
	for (int row = 0; row < ix->ntaskrows; row++)
		for (size_t i = 0; i < ix->taskrows[row].n; i++) {
			const struct span *s = &ix->taskrows[row].s[i];
			if (sm[s->name])
				hit(&f, "task", 0, row, i, s->t0, s->t1, ix->str[s->name], strlen(ix->str[s->name]));
		}
	for (size_t k = 0; k < ix->nth; k++) {
		const struct thread *t = &ix->th[k];
		for (int d = 0; d < t->ndepth; d++)
			for (size_t i = 0; i < t->regions[d].n; i++) {
				const struct span *s = &t->regions[d].s[i];
				if (sm[s->name])
					hit(&f, "region", t->tid, d, i, s->t0, s->t1, ix->str[s->name],
					    strlen(ix->str[s->name]));
			}
		for (size_t i = 0; i < t->state.n; i++) {
			const struct block *b = &t->blk[t->state.s[i].aux];
			if (sm[b->call] || km[b->stack])
				hit(&f, "state", t->tid, 0, i, b->t0, b->t1, ix->str[b->call], strlen(ix->str[b->call]));
		}
		for (size_t i = 0; i < t->nsamples; i++)
			if (km[t->samples[i].a])
				hit(&f, "sample", t->tid, 0, i, t->samples[i].t, t->samples[i].t, "CPU sample", 10);
		for (size_t i = 0; i < t->nlogs; i++) {
			const struct logmsg *m = &ix->logtab[t->logs[i].b];
			int match = sm[t->logs[i].a];
			if (!match && m->len) {
				char *msg = strndup(ix->msgs + m->off, m->len);
				match = msg && regexec(&rx, msg, 0, NULL, 0) == 0;
				free(msg);
			}
			if (match)
				hit(&f, "log", t->tid, 0, i, t->logs[i].t, t->logs[i].t, ix->msgs + m->off, m->len);
		}
	}
	cprof__buf_printf(out, "],\"total\":%zu}\n", f.total);
	free(sm);
	free(km);
	regfree(&rx);
	return out->err;
}
