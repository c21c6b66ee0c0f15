/*
 * trace.h - the execution trace's event numbers and record kinds, shared by
 * the recorder (trace.c) and the decoder (src/cli/trace_read.c). The layout
 * is described in docs/FORMAT.md, "Execution trace".
 */
#ifndef CPROF_RUNTIME_TRACE_H
#define CPROF_RUNTIME_TRACE_H

#define CPROF_TRACE_VERSION 1
#define CPROF_TRACE_LOG_MAX 1024 /* bytes of a log message kept */

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
};

#endif
