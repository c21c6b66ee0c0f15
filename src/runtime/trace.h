/*
 * trace.h - the execution trace's event numbers, record kinds and blocking
 * reasons, shared by the recorder (trace.c) and the decoder
 * (src/cli/trace_read.c). The layout is described in docs/FORMAT.md,
 * "Execution trace".
 */
#ifndef CPROF_RUNTIME_TRACE_H
#define CPROF_RUNTIME_TRACE_H

#define CPROF_TRACE_VERSION 3     /* written; the decoder also reads versions 1 and 2 */
#define CPROF_TRACE_VERSION_MIN 1
#define CPROF_TRACE_LOG_MAX 1024 /* bytes of a log message kept */
#define CPROF_TRACE_WEIGHT_MAX 0x80000000u /* a CPU sample's greatest weight: 1 + INT_MAX overruns */

enum cprof_trace_event {
	CPROF_TEV_THREAD_START = 1, /* parent tid (0: not created through pthread_create) */
	CPROF_TEV_THREAD_EXIT = 2,
	CPROF_TEV_THREAD_NAME = 3,  /* string id */
	CPROF_TEV_TASK_BEGIN = 4,   /* task id, parent task id, name string id */
	CPROF_TEV_TASK_END = 5,     /* task id */
	CPROF_TEV_REGION_BEGIN = 6, /* task id, name string id */
	CPROF_TEV_REGION_END = 7,
	CPROF_TEV_LOG = 8,          /* task id, category string id, length, bytes */
	CPROF_TEV_COUNTER = 9,      /* name string id, value */
	/* Version 2: */
	CPROF_TEV_BLOCK = 10,       /* reason, call string id, stack id, ns waited, peer tid, 1 + ns from release to end (0: unknown) */
	CPROF_TEV_CPU_SAMPLE = 11,  /* stack id; version 3: weight (sampling periods, 1 + the timer's overruns) */
};
#define CPROF_TEV_MAX CPROF_TEV_CPU_SAMPLE

/* What a BLOCK event's thread waited for. */
enum cprof_trace_block_reason {
	CPROF_TBR_MUTEX = 1,
	CPROF_TBR_RWLOCK_READ = 2,
	CPROF_TBR_RWLOCK_WRITE = 3,
	CPROF_TBR_COND = 4,
	CPROF_TBR_SEM = 5,
	CPROF_TBR_JOIN = 6,
	CPROF_TBR_BARRIER = 7,
	CPROF_TBR_SYSCALL = 8,
};
#define CPROF_TBR_MAX CPROF_TBR_SYSCALL

#endif
