/*
 * trace_read.c - the execution trace decoder: checks the file's magic,
 * walks its records (header, clock pairs, strings, symbols, locations,
 * stacks, event chunks, drop counts), converts each event's timestamp to
 * nanoseconds and hands events to a callback. It does not render them
 * (cmd_trace.c and the views do).
 *
 * Two passes over the mapped file: the first reads the clock pairs, so
 * that TSC ticks convert at the rate measured over the whole recording,
 * and the definitions (strings, symbols, locations, stacks), which every
 * event then resolves; the second decodes events. A task's end names its
 * task even when its begin comes later in the file (another thread's
 * chunk written after it): the first such end looks the begins up once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace_read.h"
#include "runtime/trace.h"

/* A table of definitions by id (1...), growing to the largest id seen. */
struct table {
	void **v;
	size_t n;
};

struct cursor {
	const uint8_t *p, *end;
	int bad;
};

static uint64_t uv(struct cursor *c)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end) {
			c->bad = 1;
			return 0;
		}
		uint8_t b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = 1;
	return 0;
}

struct record {
	int kind;
	const uint8_t *body;
	uint32_t len;
};

/* The record at *off, advancing it; 0 at the end, -1 when cut. */
static int next_record(const uint8_t *data, size_t len, size_t *off, struct record *r)
{
	if (*off == len)
		return 0;
	if (len - *off < 5)
		return -1;
	r->kind = data[*off];
	uint32_t n;
	memcpy(&n, data + *off + 1, 4);
	if (len - *off - 5 < n)
		return -1;
	r->body = data + *off + 5;
	r->len = n;
	*off += 5 + (size_t)n;
	return 1;
}

/* A time in ns as an integer, clamped (a corrupt file may say anything). */
static int64_t to_ns(double t)
{
	if (!(t > -9e18))
		return t != t ? 0 : -9000000000000000000LL;
	if (t > 9e18)
		return 9000000000000000000LL;
	return (int64_t)t;
}

/* The slot for id in t, growing it; NULL on a corrupt id (0, or absurdly large) or out of memory. */
static void **table_slot(struct table *t, uint64_t id, uint64_t limit)
{
	if (id == 0 || id > limit)
		return NULL;
	if (id >= t->n) {
		size_t nn = (size_t)id + 1 > t->n * 2 ? (size_t)id + 1 : t->n * 2;
		void **v = realloc(t->v, nn * sizeof *v);
		if (!v)
			return NULL;
		memset(v + t->n, 0, (nn - t->n) * sizeof *v);
		t->v = v;
		t->n = nn;
	}
	return &t->v[id];
}

static void *table_get(const struct table *t, uint64_t id)
{
	return id < t->n ? t->v[id] : NULL;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
}

static const char *str_of(const struct table *t, uint64_t id)
{
	const char *s = table_get(t, id);
	return s ? s : "";
}

/* A location as recorded: pc and its lines (function symbol, file symbol, line), innermost first. */
struct loc {
	uint64_t pc;
	uint32_t n;
	uint64_t lines[][3];
};

/* A stack as recorded: location ids, leaf first. */
struct rawstack {
	uint32_t n;
	uint64_t locs[];
};

struct decoder {
	const uint8_t *data;
	size_t len;
	uint64_t id_limit;
	struct table strs, syms, locs, raw, stacks;
	/* Task names by task id (open addressing), filled on the first end met before its begin. */
	uint64_t *task_id;
	uint64_t *task_str;
	size_t task_cap;
	size_t ntasks;
	int tasks_scanned;
	int oom;
	int version;
};

/* Strings ('S') and symbols ('Y'): repeated uv id, uv length, bytes. A second definition keeps the first. */
static int read_strings(struct decoder *d, struct table *t, struct cursor *c)
{
	while (!c->bad && c->p < c->end) {
		uint64_t id = uv(c), n = uv(c);
		if (c->bad || n > (uint64_t)(c->end - c->p) || n > (1u << 20))
			return c->bad = 1, 0;
		void **slot = table_slot(t, id, d->id_limit);
		if (!slot)
			return id && id <= d->id_limit ? (d->oom = 1, -1) : (c->bad = 1, 0);
		if (!*slot) {
			char *s = malloc(n + 1);
			if (!s)
				return d->oom = 1, -1;
			memcpy(s, c->p, n);
			s[n] = 0;
			*slot = s;
		}
		c->p += n;
	}
	return 0;
}

/* Locations ('L'): repeated uv id, uv pc, uv number of lines, lines of uv function, uv file, uv line. */
static int read_locations(struct decoder *d, struct cursor *c)
{
	while (!c->bad && c->p < c->end) {
		uint64_t id = uv(c), pc = uv(c), n = uv(c);
		if (c->bad || n > (uint64_t)(c->end - c->p) / 3 || n > 256)
			return c->bad = 1, 0;
		struct loc *l = malloc(sizeof *l + n * sizeof l->lines[0]);
		if (!l)
			return d->oom = 1, -1;
		l->pc = pc;
		l->n = (uint32_t)n;
		for (uint64_t i = 0; i < n; i++)
			for (int k = 0; k < 3; k++)
				l->lines[i][k] = uv(c);
		void **slot = c->bad ? NULL : table_slot(&d->locs, id, d->id_limit);
		if (!slot || *slot) {
			free(l);
			if (c->bad || !id || id > d->id_limit)
				return c->bad = 1, 0;
			if (!slot)
				return d->oom = 1, -1;
			continue;
		}
		*slot = l;
	}
	return 0;
}

/* Stacks ('K'): repeated uv id, uv number of locations, uv location ids (leaf first). */
static int read_stacks(struct decoder *d, struct cursor *c)
{
	while (!c->bad && c->p < c->end) {
		uint64_t id = uv(c), n = uv(c);
		if (c->bad || n > (uint64_t)(c->end - c->p) || n > 1024)
			return c->bad = 1, 0;
		struct rawstack *s = malloc(sizeof *s + n * sizeof s->locs[0]);
		if (!s)
			return d->oom = 1, -1;
		s->n = (uint32_t)n;
		for (uint64_t i = 0; i < n; i++)
			s->locs[i] = uv(c);
		void **slot = c->bad ? NULL : table_slot(&d->raw, id, d->id_limit);
		if (!slot || *slot) {
			free(s);
			if (c->bad || !id || id > d->id_limit)
				return c->bad = 1, 0;
			if (!slot)
				return d->oom = 1, -1;
			continue;
		}
		*slot = s;
	}
	return 0;
}

/* Turn every recorded stack into frames, now that all locations and symbols are known. */
static int build_stacks(struct decoder *d, struct trace_info *info)
{
	for (size_t id = 1; id < d->raw.n; id++) {
		const struct rawstack *r = d->raw.v[id];
		if (!r)
			continue;
		size_t nf = 0;
		for (uint32_t i = 0; i < r->n; i++) {
			const struct loc *l = table_get(&d->locs, r->locs[i]);
			nf += l && l->n ? l->n : 1;
		}
		struct trace_stack *s = malloc(sizeof *s + nf * sizeof(struct trace_frame));
		if (!s)
			return d->oom = 1, -1;
		struct trace_frame *f = (struct trace_frame *)(s + 1);
		s->id = (uint32_t)id;
		s->n = (uint32_t)nf;
		s->frames = f;
		for (uint32_t i = 0; i < r->n; i++) {
			const struct loc *l = table_get(&d->locs, r->locs[i]);
			if (!l || !l->n) {
				*f++ = (struct trace_frame){l ? l->pc : 0, "", "", 0};
				continue;
			}
			for (uint32_t k = 0; k < l->n; k++)
				*f++ = (struct trace_frame){l->pc, str_of(&d->syms, l->lines[k][0]),
							    str_of(&d->syms, l->lines[k][1]),
							    (int)(l->lines[k][2] > 0x7fffffff ? 0 : l->lines[k][2])};
		}
		void **slot = table_slot(&d->stacks, id, d->id_limit);
		if (!slot) {
			free(s);
			return d->oom = 1, -1;
		}
		*slot = s;
		info->stacks++;
	}
	return 0;
}

static size_t task_pos(const struct decoder *d, uint64_t id)
{
	size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL) & (d->task_cap - 1);
	while (d->task_id[i] && d->task_id[i] != id)
		i = (i + 1) & (d->task_cap - 1);
	return i;
}

/* Skip one event's arguments (its type byte and delta already read); 0, or -1 for an unknown type. */
static int skip_args(struct cursor *c, int version, int type, uint64_t *task, uint64_t *name)
{
	static const signed char nargs[] = {
		[CPROF_TEV_THREAD_START] = 1, [CPROF_TEV_THREAD_EXIT] = 0, [CPROF_TEV_THREAD_NAME] = 1,
		[CPROF_TEV_TASK_BEGIN] = 3,   [CPROF_TEV_TASK_END] = 1,    [CPROF_TEV_REGION_BEGIN] = 2,
		[CPROF_TEV_REGION_END] = 0,   [CPROF_TEV_LOG] = 3,         [CPROF_TEV_COUNTER] = 2,
		[CPROF_TEV_BLOCK] = 6,        [CPROF_TEV_CPU_SAMPLE] = 1,
	};
	if (type < 1 || type > CPROF_TEV_MAX)
		return -1;
	uint64_t v[6] = {0};
	int n = nargs[type] + (type == CPROF_TEV_CPU_SAMPLE && version >= 3); /* version 3 adds the weight */
	for (int i = 0; i < n; i++)
		v[i] = uv(c);
	if (type == CPROF_TEV_LOG) {
		if (c->bad || v[2] > (uint64_t)(c->end - c->p))
			return c->bad = 1, 0;
		c->p += v[2];
	}
	if (type == CPROF_TEV_TASK_BEGIN) {
		*task = v[0];
		*name = v[2];
	}
	return 0;
}

/* Remember task id's name string; 0, or -1 out of memory. */
static int task_put(struct decoder *d, uint64_t id, uint64_t name)
{
	if ((d->ntasks + 1) * 2 > d->task_cap) {
		size_t cap = d->task_cap ? d->task_cap * 2 : 1024;
		uint64_t *ids = calloc(cap, sizeof *ids), *strs = calloc(cap, sizeof *strs);
		if (!ids || !strs) {
			free(ids);
			free(strs);
			return -1;
		}
		uint64_t *oid = d->task_id, *ostr = d->task_str;
		size_t ocap = d->task_cap;
		d->task_id = ids;
		d->task_str = strs;
		d->task_cap = cap;
		for (size_t i = 0; i < ocap; i++) {
			if (oid[i]) {
				size_t j = task_pos(d, oid[i]);
				d->task_id[j] = oid[i];
				d->task_str[j] = ostr[i];
			}
		}
		free(oid);
		free(ostr);
	}
	size_t i = task_pos(d, id);
	if (!d->task_id[i]) {
		d->task_id[i] = id;
		d->task_str[i] = name;
		d->ntasks++;
	}
	return 0;
}

/* Every task's name, from its begin anywhere in the file. Once, on the first end met before its begin. */
static void scan_tasks(struct decoder *d)
{
	d->tasks_scanned = 1;
	size_t off = 8;
	struct record r;
	while (next_record(d->data, d->len, &off, &r) > 0) {
		if (r.kind != 'E')
			continue;
		struct cursor c = {r.body, r.body + r.len, 0};
		uv(&c);
		uv(&c);
		uv(&c);
		while (!c.bad && c.p < c.end) {
			int type = *c.p++;
			uv(&c);
			uint64_t task = 0, name = 0;
			if (skip_args(&c, d->version, type, &task, &name) != 0)
				break;
			if (task && !c.bad && task_put(d, task, name) != 0)
				return;
		}
	}
}

/* The name of task id, "" when no begin in the file names it. */
static const char *task_name(struct decoder *d, uint64_t id)
{
	if (!id)
		return "";
	if (d->task_cap) {
		size_t i = task_pos(d, id);
		if (d->task_id[i])
			return str_of(&d->strs, d->task_str[i]);
	}
	if (d->tasks_scanned)
		return "";
	scan_tasks(d);
	return task_name(d, id);
}

const char *cprof__trace_reason_name(int reason)
{
	static const char *const names[] = {
		[CPROF_TBR_MUTEX] = "mutex", [CPROF_TBR_RWLOCK_READ] = "rwlock-read",
		[CPROF_TBR_RWLOCK_WRITE] = "rwlock-write", [CPROF_TBR_COND] = "cond",
		[CPROF_TBR_SEM] = "sem", [CPROF_TBR_JOIN] = "join", [CPROF_TBR_BARRIER] = "barrier",
		[CPROF_TBR_SYSCALL] = "syscall",
	};
	return reason >= 1 && reason <= CPROF_TBR_MAX ? names[reason] : "unknown";
}

static void decoder_free(struct decoder *d)
{
	table_free(&d->strs);
	table_free(&d->syms);
	table_free(&d->locs);
	table_free(&d->raw);
	table_free(&d->stacks);
	free(d->task_id);
	free(d->task_str);
}

int cprof__trace_decode(const uint8_t *data, size_t len, struct trace_info *info,
			int (*fn)(const struct trace_event *ev, void *arg), void *arg, char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (len < 8 || memcmp(data, "CPROFTRC", 8) != 0) {
		snprintf(err, errlen, "not a cprof execution trace (no CPROFTRC magic)");
		return -1;
	}
	struct decoder d;
	memset(&d, 0, sizeof d);
	d.data = data;
	d.len = len;
	/* Every definition takes at least 2 bytes: ids past that are corrupt. */
	d.id_limit = (uint64_t)len / 2 + 1;

	/* Pass 1: header, clock pairs and definitions. */
	size_t off = 8;
	struct record r;
	int k, have_header = 0, rc = 0;
	uint64_t tick0 = 0, tick1 = 0;
	int64_t ns0 = 0, ns1 = 0;
	int tsc = 0;
	while (rc == 0 && (k = next_record(data, len, &off, &r)) > 0) {
		struct cursor c = {r.body, r.body + r.len, 0};
		if (r.kind == 'H' && !have_header) {
			info->version = (int)uv(&c);
			info->pid = (int)uv(&c);
			tsc = (int)uv(&c);
			tick0 = tick1 = uv(&c);
			ns0 = ns1 = (int64_t)uv(&c);
			info->wall_ns = (int64_t)uv(&c);
			have_header = !c.bad;
			d.version = info->version;
			if (have_header && c.p < c.end)
				info->flight = (int)(uv(&c) & 1);
			if (have_header && (info->version < CPROF_TRACE_VERSION_MIN || info->version > CPROF_TRACE_VERSION)) {
				snprintf(err, errlen, "trace format version %d; this cprof reads versions %d to %d",
					 info->version, CPROF_TRACE_VERSION_MIN, CPROF_TRACE_VERSION);
				return -1;
			}
		} else if (!have_header) {
			continue;
		} else if (r.kind == 'C') {
			uint64_t t = uv(&c);
			int64_t n = (int64_t)uv(&c);
			if (!c.bad && n > ns1 && t > tick1) {
				tick1 = t;
				ns1 = n;
			}
		} else if (r.kind == 'S') {
			rc = read_strings(&d, &d.strs, &c);
		} else if (r.kind == 'Y' && info->version >= 2) {
			rc = read_strings(&d, &d.syms, &c);
		} else if (r.kind == 'L' && info->version >= 2) {
			rc = read_locations(&d, &c);
		} else if (r.kind == 'K' && info->version >= 2) {
			rc = read_stacks(&d, &c);
		}
		if (c.bad && rc == 0) {
			snprintf(err, errlen, "corrupt '%c' record ending at byte %zu", r.kind, off);
			rc = -1;
		}
	}
	if (rc == 0 && !have_header) {
		snprintf(err, errlen, "the trace's header record is missing or cut");
		rc = -1;
	}
	info->truncated = k < 0;
	if (rc == 0)
		rc = build_stacks(&d, info);
	if (d.oom) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc != 0) {
		decoder_free(&d);
		return rc;
	}
	double rate = 1.0; /* ns per tick */
	if (tsc && tick1 > tick0 && ns1 > ns0)
		rate = (double)(ns1 - ns0) / (double)(tick1 - tick0);
	info->duration_ns = (int64_t)((uint64_t)ns1 - (uint64_t)ns0);

	/* Pass 2: events. */
	off = 8;
	while (rc == 0 && next_record(data, len, &off, &r) > 0) {
		info->records++;
		struct cursor c = {r.body, r.body + r.len, 0};
		if (r.kind == 'D') {
			info->dropped += uv(&c);
			if (c.p < c.end) {
				uint64_t n = uv(&c);
				info->dropped_samples += n;
				info->dropped_weight += c.p < c.end ? uv(&c) : n;
			}
		} else if (r.kind == 'E') {
			struct trace_event ev;
			memset(&ev, 0, sizeof ev);
			ev.tid = (int32_t)uv(&c);
			uint64_t tick = uv(&c);
			int64_t base_ns = (int64_t)uv(&c);
			uint64_t base_tick = tick;
			while (!c.bad && c.p < c.end && rc == 0) {
				ev.type = *c.p++;
				tick += uv(&c);
				ev.ns = to_ns((double)(int64_t)((uint64_t)base_ns - (uint64_t)ns0) +
					      (double)(tick - base_tick) * (tsc ? rate : 1.0));
				ev.a = ev.b = 0;
				ev.str = "";
				ev.msg = NULL;
				ev.msglen = 0;
				ev.stack = NULL;
				ev.dur_ns = 0;
				ev.peer = 0;
				ev.wake_ns = -1;
				ev.weight = 0;
				switch (ev.type) {
				case CPROF_TEV_THREAD_START:
					ev.a = uv(&c);
					break;
				case CPROF_TEV_TASK_END:
					ev.a = uv(&c);
					ev.str = task_name(&d, ev.a);
					break;
				case CPROF_TEV_THREAD_EXIT:
				case CPROF_TEV_REGION_END:
					break;
				case CPROF_TEV_THREAD_NAME:
					ev.str = str_of(&d.strs, uv(&c));
					break;
				case CPROF_TEV_TASK_BEGIN:
					ev.a = uv(&c);
					ev.b = uv(&c);
					ev.str = str_of(&d.strs, uv(&c));
					break;
				case CPROF_TEV_REGION_BEGIN:
					ev.a = uv(&c);
					ev.str = str_of(&d.strs, uv(&c));
					break;
				case CPROF_TEV_LOG: {
					ev.a = uv(&c);
					ev.str = str_of(&d.strs, uv(&c));
					uint64_t n = uv(&c);
					if (c.bad || n > (uint64_t)(c.end - c.p)) {
						c.bad = 1;
						break;
					}
					ev.msg = (const char *)c.p;
					ev.msglen = (size_t)n;
					c.p += n;
					break;
				}
				case CPROF_TEV_COUNTER:
					ev.str = str_of(&d.strs, uv(&c));
					ev.b = uv(&c);
					break;
				case CPROF_TEV_BLOCK: {
					if (info->version < 2)
						goto unknown;
					ev.a = uv(&c);
					ev.str = str_of(&d.strs, uv(&c));
					ev.stack = table_get(&d.stacks, uv(&c));
					uint64_t dur = uv(&c), peer = uv(&c), wake = uv(&c);
					ev.dur_ns = dur > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)dur;
					ev.peer = (int32_t)peer;
					if (wake && peer)
						ev.wake_ns = to_ns((double)ev.ns - (double)(wake - 1));
					break;
				}
				case CPROF_TEV_CPU_SAMPLE:
					if (info->version < 2)
						goto unknown;
					ev.stack = table_get(&d.stacks, uv(&c));
					ev.weight = info->version >= 3 ? uv(&c) : 1;
					if (ev.weight < 1 || ev.weight > CPROF_TRACE_WEIGHT_MAX)
						c.bad = 1;
					break;
				default:
				unknown:
					snprintf(err, errlen, "unknown event type %d at byte %zu", ev.type,
						 (size_t)(c.p - 1 - data));
					rc = -1;
					continue;
				}
				if (c.bad)
					break;
				info->events++;
				rc = fn(&ev, arg);
			}
		}
		if (c.bad && rc == 0) {
			snprintf(err, errlen, "corrupt '%c' record ending at byte %zu", r.kind, off);
			rc = -1;
		}
	}
	decoder_free(&d);
	return rc;
}
