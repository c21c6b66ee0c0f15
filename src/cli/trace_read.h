/*
 * trace_read.h - decoding an execution trace file (docs/FORMAT.md,
 * "Execution trace") into events, one callback each, in file order: the
 * events of one thread in the order it recorded them. A file cut anywhere
 * decodes up to its last whole record.
 */
#ifndef CPROF_CLI_TRACE_READ_H
#define CPROF_CLI_TRACE_READ_H

#include <stddef.h>
#include <stdint.h>

struct trace_event {
	int64_t ns;      /* since the trace started */
	int32_t tid;
	int type;        /* enum cprof_trace_event */
	uint64_t a, b;   /* arguments by type (see trace.h) */
	const char *str; /* the name, category or counter (interned), or "" */
	const char *msg; /* a log message (not terminated), msglen bytes */
	size_t msglen;
};

struct trace_info {
	int version;
	int pid;
	int64_t wall_ns;     /* the wall clock when the trace started */
	int64_t duration_ns; /* to the last clock record */
	uint64_t dropped;    /* events the recorder dropped (when it said so) */
	uint64_t events;
	int truncated;       /* the file ends inside a record */
	size_t records;
};

/*
 * Decode data[0..len): fn for each event. Returns 0, or -1 with a message in
 * err (not a trace, corrupt record); fn returning non-zero stops with that value.
 */
int cprof__trace_decode(const uint8_t *data, size_t len, struct trace_info *info,
			int (*fn)(const struct trace_event *ev, void *arg), void *arg, char *err, size_t errlen);

#endif
