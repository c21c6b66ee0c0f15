/*
 * trace_flight.c - the flight recorder's memory: the execution trace's
 * event chunks of the last N seconds (at most M bytes), oldest dropped
 * first, and their writing as event records trimmed to a moment (the
 * events of a chunk before it are skipped, the chunk's start moved to the
 * first one kept). It does not decide when to keep or write (trace.c's
 * writer thread does, and it alone calls these functions) and writes no
 * header, strings or stacks (trace.c writes those around the chunks). The
 * chunks live in the runtime's private arena, not in the program's heap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/trace.h"
#include "runtime/trace_int.h"

struct chunk {
	struct chunk *next;
	int64_t recv_ns;    /* when the writer took it: its last event is no later */
	pid_t tid;
	uint64_t base_tick;
	int64_t base_ns;
	uint32_t len;
	uint8_t data[];
};

static struct {
	struct chunk *head, *tail;
	size_t bytes, max_bytes;
	int64_t window_ns;
	uint64_t evicted;
} F;

void cprof__tflight_init(int64_t window_ns, size_t max_bytes)
{
	cprof__tflight_reset();
	F.window_ns = window_ns;
	F.max_bytes = max_bytes;
}

static void evict(int64_t now_ns)
{
	while (F.head && (F.bytes > F.max_bytes || F.head->recv_ns < now_ns - F.window_ns)) {
		struct chunk *c = F.head;
		F.head = c->next;
		if (!F.head)
			F.tail = NULL;
		F.bytes -= sizeof *c + c->len;
		F.evicted++;
		cprof__arena_dispose(c);
	}
}

int cprof__tflight_add(pid_t tid, uint64_t base_tick, int64_t base_ns, const uint8_t *data, size_t len,
		       int64_t now_ns)
{
	if (!len)
		return 0;
	struct chunk *c = cprof__arena_malloc(sizeof *c + len);
	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->recv_ns = now_ns;
	c->tid = tid;
	c->base_tick = base_tick;
	c->base_ns = base_ns;
	c->len = (uint32_t)len;
	memcpy(c->data, data, len);
	if (F.tail)
		F.tail->next = c;
	else
		F.head = c;
	F.tail = c;
	F.bytes += sizeof *c + len;
	evict(now_ns);
	return 0;
}

void cprof__tflight_reset(void)
{
	while (F.head) {
		struct chunk *c = F.head;
		F.head = c->next;
		cprof__arena_dispose(c);
	}
	F.tail = NULL;
	F.bytes = 0;
	F.evicted = 0;
}

size_t cprof__tflight_bytes(void)
{
	return F.bytes;
}

static const uint8_t *skip_uv(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; p < end && shift < 64; shift += 7) {
		uint8_t b = *p++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return p;
		}
	}
	return NULL;
}

/* The end of the event at p (type byte already read), its arguments skipped; NULL when malformed. */
static const uint8_t *skip_args(const uint8_t *p, const uint8_t *end, int type)
{
	static const signed char nargs[] = {
		[CPROF_TEV_THREAD_START] = 1, [CPROF_TEV_THREAD_EXIT] = 0, [CPROF_TEV_THREAD_NAME] = 1,
		[CPROF_TEV_TASK_BEGIN] = 3,   [CPROF_TEV_TASK_END] = 1,    [CPROF_TEV_REGION_BEGIN] = 2,
		[CPROF_TEV_REGION_END] = 0,   [CPROF_TEV_LOG] = 3,         [CPROF_TEV_COUNTER] = 2,
		[CPROF_TEV_BLOCK] = 6,        [CPROF_TEV_CPU_SAMPLE] = 2,
	};
	if (type < 1 || type > CPROF_TEV_MAX)
		return NULL;
	uint64_t v = 0;
	for (int i = 0; i < nargs[type] && p; i++)
		p = skip_uv(p, end, &v);
	if (p && type == CPROF_TEV_LOG) {
		if (v > (uint64_t)(end - p))
			return NULL;
		p += v;
	}
	return p;
}

int cprof__tflight_write(int fd, int64_t since_ns, double ns_per_tick, uint64_t *bytes)
{
	for (struct chunk *c = F.head; c; c = c->next) {
		if (c->recv_ns < since_ns)
			continue; /* wholly before the moment */
		const uint8_t *p = c->data, *end = c->data + c->len;
		uint64_t tick = c->base_tick;
		int64_t ns = c->base_ns;
		/* Skip the events before since_ns: the chunk then starts at the last one skipped. */
		while (p < end && c->base_ns < since_ns) {
			uint64_t d;
			const uint8_t *q = skip_uv(p + 1, end, &d);
			int64_t at = c->base_ns + (int64_t)((double)(tick + d - c->base_tick) * ns_per_tick);
			if (!q || at >= since_ns)
				break;
			q = skip_args(q, end, *p);
			if (!q)
				break;
			tick += d;
			ns = at;
			p = q;
		}
		if (p >= end)
			continue;
		uint8_t h[5 + 30], *o = h + 5;
		o = cprof__trace_put_uv(o, (uint64_t)c->tid);
		o = cprof__trace_put_uv(o, tick);
		o = cprof__trace_put_uv(o, (uint64_t)ns);
		uint32_t len = (uint32_t)((size_t)(o - h - 5) + (size_t)(end - p));
		h[0] = 'E';
		memcpy(h + 1, &len, 4);
		int rc = cprof__write_all(fd, h, (size_t)(o - h));
		if (!rc)
			rc = cprof__write_all(fd, p, (size_t)(end - p));
		if (rc)
			return rc;
		*bytes += 5 + len;
	}
	return 0;
}
