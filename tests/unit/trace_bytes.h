/*
 * trace_bytes.h - execution trace files built byte by byte, for the unit
 * tests of the trace's readers (test_trace_read.c, test_trace_web.c): a
 * buffer, unsigned varints, strings, records with their length filled in
 * when they close, events and a file header (docs/FORMAT.md, "Execution
 * trace"). No bounds checks: each test sizes what it writes.
 */
#ifndef CPROF_TESTS_TRACE_BYTES_H
#define CPROF_TESTS_TRACE_BYTES_H

#include <stdint.h>
#include <string.h>

struct w {
	uint8_t b[65536];
	size_t n;
	size_t rec; /* start of the open record */
};

static inline void put(struct w *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static inline void uv(struct w *w, uint64_t v)
{
	while (v >= 0x80) {
		w->b[w->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	w->b[w->n++] = (uint8_t)v;
}

/* A string or symbol definition: id, length, bytes. */
static inline void str(struct w *w, uint64_t id, const char *s)
{
	uv(w, id);
	uv(w, strlen(s));
	put(w, s, strlen(s));
}

/* A record's kind and room for its length, filled in by close_rec. */
static inline void open_rec(struct w *w, char kind)
{
	w->rec = w->n;
	w->b[w->n++] = (uint8_t)kind;
	w->n += 4;
}

static inline void close_rec(struct w *w)
{
	uint32_t len = (uint32_t)(w->n - w->rec - 5);
	memcpy(w->b + w->rec + 1, &len, 4);
}

/* An event's type and its time since the previous one in the chunk. */
static inline void ev(struct w *w, int type, uint64_t delta)
{
	w->b[w->n++] = (uint8_t)type;
	uv(w, delta);
}

/* A file afresh: magic and header (pid 4242, ticks are ns, both start at 1000, wall 5). */
static inline void header(struct w *w, int version)
{
	w->n = 0;
	put(w, "CPROFTRC", 8);
	open_rec(w, 'H');
	uv(w, (uint64_t)version);
	uv(w, 4242); /* pid */
	uv(w, 0);    /* ticks are ns */
	uv(w, 1000); /* ticks at start */
	uv(w, 1000); /* ns at start */
	uv(w, 5);    /* wall */
	close_rec(w);
}

#endif
