/*
 * trace_read.c - the execution trace decoder: checks the file's magic,
 * walks its records (header, clock pairs, string definitions, event
 * chunks, drop count), converts each event's timestamp to nanoseconds and
 * hands events to a callback. It does not render them (cmd_trace.c does).
 *
 * Two passes over the mapped file: the first reads the clock pairs, so
 * that TSC ticks convert at the rate measured over the whole recording;
 * the second decodes events, resolving string ids defined earlier.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace_read.h"
#include "runtime/trace.h"

struct strtab {
	const char **s;
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

static const char *str_of(const struct strtab *t, uint64_t id)
{
	return id < t->n && t->s[id] ? t->s[id] : "";
}

int cprof__trace_decode(const uint8_t *data, size_t len, struct trace_info *info,
			int (*fn)(const struct trace_event *ev, void *arg), void *arg, char *err, size_t errlen)
{
	memset(info, 0, sizeof *info);
	if (len < 8 || memcmp(data, "CPROFTRC", 8) != 0) {
		snprintf(err, errlen, "not a cprof execution trace (no CPROFTRC magic)");
		return -1;
	}
	/* Pass 1: header and clock pairs. */
	size_t off = 8;
	struct record r;
	int k, have_header = 0;
	uint64_t tick0 = 0, tick1 = 0;
	int64_t ns0 = 0, ns1 = 0;
	int tsc = 0;
	while ((k = next_record(data, len, &off, &r)) > 0) {
		struct cursor c = {r.body, r.body + r.len, 0};
		if (r.kind == 'H' && !have_header) {
			info->version = (int)uv(&c);
			info->pid = (int)uv(&c);
			tsc = (int)uv(&c);
			tick0 = tick1 = uv(&c);
			ns0 = ns1 = (int64_t)uv(&c);
			info->wall_ns = (int64_t)uv(&c);
			have_header = !c.bad;
		} else if (r.kind == 'C' && have_header) {
			uint64_t t = uv(&c);
			int64_t n = (int64_t)uv(&c);
			if (!c.bad && n > ns1 && t > tick1) {
				tick1 = t;
				ns1 = n;
			}
		}
	}
	info->truncated = k < 0;
	if (!have_header) {
		snprintf(err, errlen, "the trace's header record is missing or cut");
		return -1;
	}
	if (info->version != CPROF_TRACE_VERSION) {
		snprintf(err, errlen, "trace format version %d; this cprof reads version %d", info->version,
			 CPROF_TRACE_VERSION);
		return -1;
	}
	double rate = 1.0; /* ns per tick */
	if (tsc && tick1 > tick0 && ns1 > ns0)
		rate = (double)(ns1 - ns0) / (double)(tick1 - tick0);
	info->duration_ns = (int64_t)((uint64_t)ns1 - (uint64_t)ns0);

	/* Pass 2: strings and events. */
	struct strtab st = {NULL, 0};
	int rc = 0;
	off = 8;
	while (rc == 0 && next_record(data, len, &off, &r) > 0) {
		info->records++;
		struct cursor c = {r.body, r.body + r.len, 0};
		if (r.kind == 'S') {
			while (!c.bad && c.p < c.end) {
				uint64_t id = uv(&c), n = uv(&c);
				if (c.bad || n > (uint64_t)(c.end - c.p) || id > (1u << 16)) {
					c.bad = 1;
					break;
				}
				if (id >= st.n) {
					size_t nn = (size_t)id + 1 > st.n * 2 ? (size_t)id + 1 : st.n * 2;
					const char **ns = realloc(st.s, nn * sizeof *ns);
					if (!ns) {
						snprintf(err, errlen, "out of memory");
						rc = -1;
						break;
					}
					memset(ns + st.n, 0, (nn - st.n) * sizeof *ns);
					st.s = ns;
					st.n = nn;
				}
				char *s = malloc(n + 1);
				if (!s) {
					snprintf(err, errlen, "out of memory");
					rc = -1;
					break;
				}
				memcpy(s, c.p, n);
				s[n] = 0;
				free((void *)st.s[id]);
				st.s[id] = s;
				c.p += n;
			}
		} else if (r.kind == 'D') {
			info->dropped += uv(&c);
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
				switch (ev.type) {
				case CPROF_TEV_THREAD_START:
				case CPROF_TEV_TASK_END:
					ev.a = uv(&c);
					break;
				case CPROF_TEV_THREAD_EXIT:
				case CPROF_TEV_REGION_END:
					break;
				case CPROF_TEV_THREAD_NAME:
					ev.str = str_of(&st, uv(&c));
					break;
				case CPROF_TEV_TASK_BEGIN:
					ev.a = uv(&c);
					ev.b = uv(&c);
					ev.str = str_of(&st, uv(&c));
					break;
				case CPROF_TEV_REGION_BEGIN:
					ev.a = uv(&c);
					ev.str = str_of(&st, uv(&c));
					break;
				case CPROF_TEV_LOG: {
					ev.a = uv(&c);
					ev.str = str_of(&st, uv(&c));
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
					ev.str = str_of(&st, uv(&c));
					ev.b = uv(&c);
					break;
				default:
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
	for (size_t i = 0; i < st.n; i++)
		free((void *)st.s[i]);
	free(st.s);
	return rc;
}
