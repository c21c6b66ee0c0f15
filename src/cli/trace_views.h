/*
 * trace_views.h - views derived from a decoded execution trace, as go tool
 * trace derives them: blocking profiles by reason (sync, syscall), wake-up
 * latency (release to resume, as a histogram and per stack), and duration
 * histograms of tasks and regions by name. Used by `cprof trace -pprof=KIND`
 * (which turns a profile view into a pprof file) and by the trace viewer's
 * server (which serves the views as JSON).
 *
 * Feed every decoded event, in the decoder's order, to
 * cprof__trace_views_add (or pass cprof__trace_views_on_event to
 * cprof__trace_decode), call cprof__trace_views_finish once, then read the
 * views. The collector copies what it keeps (stacks, names): everything it
 * returns stays valid until cprof__trace_views_free, after the decode is over.
 * Pure functions of the events: no clock, no I/O. One thread at a time.
 */
#ifndef CPROF_CLI_TRACE_VIEWS_H
#define CPROF_CLI_TRACE_VIEWS_H

#include <stddef.h>
#include <stdint.h>

struct trace_event;
struct trace_stack;
struct trace_views;

/* Which blocking episodes a profile view counts, and what it charges them. */
enum trace_view_kind {
	/* Blocked on mutex, rwlock, condition, semaphore, join or barrier: the wait. */
	CPROF_TVIEW_SYNC = 1,
	/* Blocked in a system call: the wait. */
	CPROF_TVIEW_SYSCALL = 2,
	/* Any episode whose releasing thread is known: from the release to the
	 * resume (the wake-up latency, go tool trace's "scheduler latency"). */
	CPROF_TVIEW_SCHED = 3,
};

/* The name of a kind ("sync", "syscall", "sched") and back (0: unknown). */
const char *cprof__trace_view_kind_name(int kind);
int cprof__trace_view_kind_parse(const char *name);

/* One blocking episode (a CPROF_TEV_BLOCK event), times in ns since the trace started. */
struct trace_episode {
	int64_t begin_ns, end_ns; /* blocked from begin to end (end = the event's time) */
	int64_t wake_ns;          /* when the releasing thread released it; -1: unknown */
	int32_t tid, peer;        /* the blocked thread; the releasing one (0: unknown) */
	int reason;               /* enum cprof_trace_block_reason */
	const char *call;         /* "pthread_mutex_lock", "read", ... */
	const struct trace_stack *stack; /* where it blocked; NULL: none recorded */
	const char *region;       /* the thread's innermost open region then, or NULL */
};

/* A task or region instance. */
struct trace_span {
	const char *name;
	int64_t begin_ns;  /* -1: its begin is not in the trace (a task begun before it started) */
	int64_t end_ns;    /* -1: not ended before the trace's end */
	int32_t tid;       /* where it began (regions: their thread); 0 when unknown */
	int32_t end_tid;   /* where it ended; 0 when it did not */
	uint64_t id;       /* tasks: the task id; regions: the task it belongs to (0: none) */
	uint64_t parent;   /* tasks: the parent task (0: none); regions: 0 */
	int depth;         /* regions: nesting depth on their thread (0: outermost); tasks: 0 */
};

/*
 * A duration histogram: bucket 0 holds durations under 1 ns, bucket i >= 1
 * those in [cprof__trace_hist_lower(i), cprof__trace_hist_lower(i + 1)),
 * bounds in a 1-2-5 series (1 ns, 2 ns, 5 ns, 10 ns, 20 ns, ...); the last
 * bucket is open-ended.
 */
#define CPROF_TRACE_HIST_BUCKETS 58
struct trace_hist {
	uint64_t count;
	int64_t sum_ns, min_ns, max_ns; /* min and max 0 when count is 0 */
	uint64_t bucket[CPROF_TRACE_HIST_BUCKETS];
};
int64_t cprof__trace_hist_lower(int bucket);
/* The q-quantile (0..1) as the upper bound of the bucket that holds it, clamped to max; 0 when empty. */
int64_t cprof__trace_hist_quantile(const struct trace_hist *h, double q);

/* Per-stack totals of a profile view: count episodes, ns charged. */
struct trace_stack_total {
	const struct trace_stack *stack; /* NULL: episodes recorded without a stack */
	int reason;                      /* all of this record's episodes have this reason */
	uint64_t count;
	int64_t ns;
};

/* Durations of the tasks or regions of one name (completed instances only). */
struct trace_name_stats {
	const char *name;
	struct trace_hist hist;
	uint64_t unfinished; /* begun in the trace, not ended by its end */
};

/* New empty collector; NULL on out of memory. */
struct trace_views *cprof__trace_views_new(void);
/*
 * One that keeps only the blocking episodes (with the regions open during
 * them, for the profiles' region filter): its task and region views stay
 * empty, and its memory follows the number of episodes, not of regions.
 */
struct trace_views *cprof__trace_views_new_episodes(void);
void cprof__trace_views_free(struct trace_views *v);

/* Take one event. 0, or -ENOMEM (the collector is then unusable: free it). */
int cprof__trace_views_add(struct trace_views *v, const struct trace_event *ev);

/* cprof__trace_decode's callback form of cprof__trace_views_add (arg: the collector). */
int cprof__trace_views_on_event(const struct trace_event *ev, void *arg);

/*
 * After the last event: builds the views. Spans still open stay with
 * end_ns -1. 0, or -ENOMEM. Adding events after it is an error (-EINVAL).
 */
int cprof__trace_views_finish(struct trace_views *v);

/* Every blocking episode, in decode order. */
const struct trace_episode *cprof__trace_views_episodes(const struct trace_views *v, size_t *n);

/*
 * A profile view: the episodes of `kind` (only those during a region named
 * `region` on their thread when region is not NULL: that region or one it
 * encloses is the thread's open region), summed per (stack, reason),
 * largest ns first. For CPROF_TVIEW_SCHED the charge is the wake-up latency.
 * The sums of count and ns over the records equal the episodes' exactly.
 * The array is the collector's, valid until the next call or free; NULL with
 * *n = 0 on out of memory (-ENOMEM in *err when err is not NULL).
 */
const struct trace_stack_total *cprof__trace_views_profile(struct trace_views *v, int kind, const char *region,
							   size_t *n, int *err);

/* Wake-up latency (ns - wake_ns) of every episode whose release time is known. */
const struct trace_hist *cprof__trace_views_wakeup_hist(const struct trace_views *v);

/* Task and region durations by name, names in first-seen order. */
const struct trace_name_stats *cprof__trace_views_tasks(const struct trace_views *v, size_t *n);
const struct trace_name_stats *cprof__trace_views_regions(const struct trace_views *v, size_t *n);

/* Every task (in the order its begin or end was first seen) and region instance (in end order; those still open at the end last). */
const struct trace_span *cprof__trace_views_task_spans(const struct trace_views *v, size_t *n);
const struct trace_span *cprof__trace_views_region_spans(const struct trace_views *v, size_t *n);

#endif
