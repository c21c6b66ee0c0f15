/*
 * trace_read.h - decoding an execution trace file (docs/FORMAT.md,
 * "Execution trace", versions 1 to 3) into events, one callback each, in
 * file order: the events of one thread in the order it recorded them. A
 * file cut anywhere decodes up to its last whole record.
 */
#ifndef CPROF_CLI_TRACE_READ_H
#define CPROF_CLI_TRACE_READ_H

#include <stddef.h>
#include <stdint.h>

/* One frame of a stack: an inlined call has its own frame, with its caller's pc. */
struct trace_frame {
	uint64_t pc;
	const char *func; /* "" when the recorder could not name it */
	const char *file; /* "" when unknown */
	int line;         /* 0 when unknown */
};

struct trace_stack {
	uint32_t id;
	uint32_t n;
	const struct trace_frame *frames; /* leaf first (innermost inlined first); valid for the whole decode */
};

struct trace_event {
	int64_t ns;      /* since the trace started */
	int32_t tid;
	int type;        /* enum cprof_trace_event */
	uint64_t a, b;   /* arguments by type (see trace.h); BLOCK: a = the reason (enum cprof_trace_block_reason) */
	const char *str; /* the name, category or counter (interned), or "";
			    TASK_END: the task's name (from its begin, wherever that is in the file);
			    BLOCK: the call ("pthread_mutex_lock", "read", ...) */
	const char *msg; /* a log message (not terminated), msglen bytes */
	size_t msglen;
	const struct trace_stack *stack; /* BLOCK, CPU_SAMPLE: where (NULL: none recorded) */
	int64_t dur_ns;  /* BLOCK: how long it waited; it began at ns - dur_ns */
	int32_t peer;    /* BLOCK: tid of the thread that released it (0: unknown) */
	int64_t wake_ns; /* BLOCK: when that thread released it (-1: unknown); wake-up latency = ns - wake_ns */
	uint64_t weight; /* CPU_SAMPLE: the sampling periods it stands for, 1..CPROF_TRACE_WEIGHT_MAX
			    (1 + the timer's overruns, as the CPU profile weighs it; 1 before version 3) */
};

struct trace_info {
	int version;
	int pid;
	int64_t wall_ns;     /* the wall clock when the trace started */
	int64_t duration_ns; /* to the last clock record */
	uint64_t dropped;    /* events the recorder dropped (when it said so) */
	uint64_t dropped_samples; /* CPU samples not recorded (the thread was writing an event, or its buffer was full) */
	uint64_t dropped_weight;  /* the sampling periods they stood for (before version 3: one each) */
	uint64_t events;
	int truncated;       /* the file ends inside a record */
	int flight;          /* written by the flight recorder: the last moments, not from the start */
	size_t records;
	size_t stacks;       /* stacks defined in the file */
};

/*
 * Decode data[0..len): fn for each event. Returns 0, or -1 with a message in
 * err (not a trace, corrupt record); fn returning non-zero stops with that value.
 */
int cprof__trace_decode(const uint8_t *data, size_t len, struct trace_info *info,
			int (*fn)(const struct trace_event *ev, void *arg), void *arg, char *err, size_t errlen);

/* A blocking reason's name ("mutex", "rwlock-read", ..., "syscall"); "unknown" out of range. */
const char *cprof__trace_reason_name(int reason);

#endif
