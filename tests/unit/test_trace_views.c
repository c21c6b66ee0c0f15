/*
 * test_trace_views.c - the derived views of an execution trace, fed
 * synthetic events with known stacks and times: profile totals equal the
 * episodes' sums exactly, each kind takes its reasons, the region filter,
 * wake-up latency, tasks whose end comes before their begin, unfinished
 * spans, histogram bounds and quantiles, and copies outliving the events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/trace_read.h"
#include "cli/trace_views.h"
#include "runtime/trace.h"

static struct trace_event mk(int type, int32_t tid, int64_t ns)
{
	struct trace_event e;
	memset(&e, 0, sizeof e);
	e.type = type;
	e.tid = tid;
	e.ns = ns;
	e.str = "";
	e.wake_ns = -1;
	return e;
}

/* Frames the views must copy: overwritten after each add. */
static char fn_buf[32], file_buf[32];
static struct trace_frame frames[2];
static struct trace_stack stk;

static struct trace_event block(int32_t tid, int64_t end, int64_t dur, int reason, uint32_t stack_id,
				int32_t peer, int64_t wake)
{
	struct trace_event e = mk(CPROF_TEV_BLOCK, tid, end);
	e.a = (uint64_t)reason;
	e.str = reason == CPROF_TBR_SYSCALL ? "read" : "pthread_mutex_lock";
	e.dur_ns = dur;
	e.peer = peer;
	e.wake_ns = wake;
	if (stack_id) {
		snprintf(fn_buf, sizeof fn_buf, "waiter%u", stack_id);
		snprintf(file_buf, sizeof file_buf, "w%u.c", stack_id);
		frames[0] = (struct trace_frame){0x1000 + stack_id, fn_buf, file_buf, (int)stack_id * 10};
		frames[1] = (struct trace_frame){0x2000, "main", "main.c", 5};
		stk = (struct trace_stack){stack_id, 2, frames};
		e.stack = &stk;
	}
	return e;
}

static void add(struct trace_views *v, struct trace_event e)
{
	CHECK_EQ_INT(cprof__trace_views_add(v, &e), 0);
	strcpy(fn_buf, "clobbered");
	strcpy(file_buf, "clobbered");
}

static void test_profiles_exact(void)
{
	struct trace_views *v = cprof__trace_views_new();
	CHECK(v != NULL);
	add(v, block(10, 1000, 300, CPROF_TBR_MUTEX, 1, 11, 900));
	add(v, block(10, 5000, 700, CPROF_TBR_MUTEX, 1, 11, 4990));
	add(v, block(11, 6000, 2000, CPROF_TBR_COND, 2, 10, 5500));
	add(v, block(12, 7000, 50, CPROF_TBR_JOIN, 0, 0, -1));
	add(v, block(12, 9000, 1500, CPROF_TBR_SYSCALL, 3, 0, -1));
	add(v, block(10, 9500, 100, CPROF_TBR_BARRIER, 2, 0, -1));
	CHECK_EQ_INT(cprof__trace_views_finish(v), 0);

	size_t n;
	const struct trace_episode *e = cprof__trace_views_episodes(v, &n);
	CHECK_EQ_INT(n, 6);
	CHECK_EQ_INT(e[0].begin_ns, 700);
	CHECK_EQ_INT(e[0].end_ns, 1000);
	CHECK_EQ_INT(e[0].peer, 11);
	CHECK_EQ_STR(e[0].stack->frames[0].func, "waiter1");
	CHECK_EQ_STR(e[0].stack->frames[0].file, "w1.c");
	CHECK_EQ_INT(e[0].stack->frames[0].line, 10);
	CHECK(e[0].stack == e[1].stack);
	CHECK(e[3].stack == NULL);

	int err;
	const struct trace_stack_total *t = cprof__trace_views_profile(v, CPROF_TVIEW_SYNC, NULL, &n, &err);
	CHECK_EQ_INT(err, 0);
	/* mutex at stack 1: 2 x (300 + 700); cond at 2: 2000; barrier at 2 (another reason): 100; join, no stack: 50 */
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(t[0].ns, 2000);
	CHECK_EQ_INT(t[0].reason, CPROF_TBR_COND);
	CHECK_EQ_INT(t[1].ns, 1000);
	CHECK_EQ_INT(t[1].count, 2);
	CHECK_EQ_INT(t[2].ns, 100);
	CHECK_EQ_INT(t[3].ns, 50);
	CHECK(t[3].stack == NULL);

	t = cprof__trace_views_profile(v, CPROF_TVIEW_SYSCALL, NULL, &n, &err);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(t[0].ns, 1500);
	CHECK_EQ_STR(t[0].stack->frames[0].func, "waiter3");

	/* Wake-up latency: 100, 10, 500. */
	t = cprof__trace_views_profile(v, CPROF_TVIEW_SCHED, NULL, &n, &err);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(t[0].ns, 500);
	CHECK_EQ_INT(t[1].ns, 110);
	CHECK_EQ_INT(t[1].count, 2);
	const struct trace_hist *h = cprof__trace_views_wakeup_hist(v);
	CHECK_EQ_INT(h->count, 3);
	CHECK_EQ_INT(h->sum_ns, 610);
	CHECK_EQ_INT(h->min_ns, 10);
	CHECK_EQ_INT(h->max_ns, 500);
	cprof__trace_views_free(v);
}

static void test_region_filter(void)
{
	struct trace_views *v = cprof__trace_views_new();
	struct trace_event e = mk(CPROF_TEV_REGION_BEGIN, 1, 100);
	e.str = "request";
	add(v, e);
	e = mk(CPROF_TEV_REGION_BEGIN, 1, 200);
	e.str = "lookup";
	add(v, e);
	add(v, block(1, 1000, 500, CPROF_TBR_MUTEX, 1, 0, -1)); /* in request/lookup */
	add(v, mk(CPROF_TEV_REGION_END, 1, 1100));
	add(v, block(1, 2000, 300, CPROF_TBR_MUTEX, 1, 0, -1)); /* in request */
	add(v, mk(CPROF_TEV_REGION_END, 1, 2100));
	add(v, block(1, 3000, 70, CPROF_TBR_MUTEX, 1, 0, -1)); /* outside */
	add(v, block(2, 3000, 9, CPROF_TBR_MUTEX, 1, 0, -1));  /* other thread, outside */
	CHECK_EQ_INT(cprof__trace_views_finish(v), 0);
	size_t n;
	int err;
	const struct trace_stack_total *t = cprof__trace_views_profile(v, CPROF_TVIEW_SYNC, "request", &n, &err);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(t[0].ns, 800);
	t = cprof__trace_views_profile(v, CPROF_TVIEW_SYNC, "lookup", &n, &err);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(t[0].ns, 500);
	t = cprof__trace_views_profile(v, CPROF_TVIEW_SYNC, NULL, &n, &err);
	CHECK_EQ_INT(t[0].ns, 879);
	cprof__trace_views_profile(v, CPROF_TVIEW_SYNC, "nosuch", &n, &err);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(err, 0);
	const struct trace_episode *ep = cprof__trace_views_episodes(v, &n);
	CHECK_EQ_STR(ep[0].region, "lookup");
	CHECK_EQ_STR(ep[1].region, "request");
	CHECK(ep[2].region == NULL);

	const struct trace_span *s = cprof__trace_views_region_spans(v, &n);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(s[0].name, "lookup");
	CHECK_EQ_INT(s[0].depth, 1);
	CHECK_EQ_INT(s[0].end_ns - s[0].begin_ns, 900);
	CHECK_EQ_STR(s[1].name, "request");
	CHECK_EQ_INT(s[1].end_ns - s[1].begin_ns, 2000);
	cprof__trace_views_free(v);
}

static void test_tasks_and_regions(void)
{
	struct trace_views *v = cprof__trace_views_new();
	/* Task 7's end (thread 2) is decoded before its begin (thread 1). */
	struct trace_event e = mk(CPROF_TEV_TASK_END, 2, 5000);
	e.a = 7;
	add(v, e);
	e = mk(CPROF_TEV_TASK_BEGIN, 1, 1000);
	e.a = 7;
	e.str = "transfer";
	add(v, e);
	e = mk(CPROF_TEV_TASK_BEGIN, 1, 2000);
	e.a = 8;
	e.b = 7;
	e.str = "transfer";
	add(v, e);
	e = mk(CPROF_TEV_TASK_END, 1, 2500);
	e.a = 8;
	add(v, e);
	e = mk(CPROF_TEV_TASK_BEGIN, 1, 3000);
	e.a = 9;
	e.str = "never-ends";
	add(v, e);
	e = mk(CPROF_TEV_TASK_END, 3, 100); /* begun before the trace */
	e.a = 3;
	add(v, e);
	for (int i = 0; i < 4; i++) {
		e = mk(CPROF_TEV_REGION_BEGIN, 1, 10000 + i * 1000);
		e.str = "produce";
		e.a = 7;
		add(v, e);
		add(v, mk(CPROF_TEV_REGION_END, 1, 10000 + i * 1000 + 10 * (i + 1)));
	}
	add(v, mk(CPROF_TEV_REGION_END, 4, 50)); /* its begin is before the trace */
	e = mk(CPROF_TEV_REGION_BEGIN, 4, 60);
	e.str = "open";
	add(v, e);
	CHECK_EQ_INT(cprof__trace_views_finish(v), 0);
	CHECK_EQ_INT(cprof__trace_views_add(v, &e), -EINVAL);

	size_t n;
	const struct trace_span *t = cprof__trace_views_task_spans(v, &n);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_STR(t[0].name, "transfer");
	CHECK_EQ_INT(t[0].begin_ns, 1000);
	CHECK_EQ_INT(t[0].end_ns, 5000);
	CHECK_EQ_INT(t[0].tid, 1);
	CHECK_EQ_INT(t[0].end_tid, 2);
	CHECK_EQ_INT(t[1].parent, 7);
	const struct trace_name_stats *st = cprof__trace_views_tasks(v, &n);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(st[0].name, "transfer");
	CHECK_EQ_INT(st[0].hist.count, 2);
	CHECK_EQ_INT(st[0].hist.sum_ns, 4500);
	CHECK_EQ_INT(st[0].hist.max_ns, 4000);
	CHECK_EQ_INT(st[0].hist.min_ns, 500);
	CHECK_EQ_STR(st[1].name, "never-ends");
	CHECK_EQ_INT(st[1].unfinished, 1);
	CHECK_EQ_INT(st[1].hist.count, 0);

	st = cprof__trace_views_regions(v, &n);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(st[0].name, "produce");
	CHECK_EQ_INT(st[0].hist.count, 4);
	CHECK_EQ_INT(st[0].hist.sum_ns, 100);
	CHECK_EQ_STR(st[1].name, "open");
	CHECK_EQ_INT(st[1].unfinished, 1);
	cprof__trace_views_free(v);
}

/* The episodes-only collector: the same profiles, no spans. */
static void test_episodes_only(void)
{
	struct trace_views *v = cprof__trace_views_new_episodes();
	struct trace_event e = mk(CPROF_TEV_REGION_BEGIN, 1, 100);
	e.str = "request";
	add(v, e);
	add(v, block(1, 1000, 500, CPROF_TBR_MUTEX, 1, 2, 990));
	add(v, mk(CPROF_TEV_REGION_END, 1, 1100));
	e = mk(CPROF_TEV_TASK_BEGIN, 1, 1200);
	e.a = 5;
	e.str = "t";
	add(v, e);
	add(v, block(1, 3000, 70, CPROF_TBR_MUTEX, 1, 0, -1));
	CHECK_EQ_INT(cprof__trace_views_finish(v), 0);
	size_t n;
	int err;
	const struct trace_stack_total *t = cprof__trace_views_profile(v, CPROF_TVIEW_SYNC, "request", &n, &err);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(t[0].ns, 500);
	t = cprof__trace_views_profile(v, CPROF_TVIEW_SYNC, NULL, &n, &err);
	CHECK_EQ_INT(t[0].ns, 570);
	cprof__trace_views_region_spans(v, &n);
	CHECK_EQ_INT(n, 0);
	cprof__trace_views_task_spans(v, &n);
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(cprof__trace_views_wakeup_hist(v)->count, 1);
	cprof__trace_views_free(v);
}

static void test_hist(void)
{
	CHECK_EQ_INT(cprof__trace_hist_lower(0), 0);
	CHECK_EQ_INT(cprof__trace_hist_lower(1), 1);
	CHECK_EQ_INT(cprof__trace_hist_lower(2), 2);
	CHECK_EQ_INT(cprof__trace_hist_lower(3), 5);
	CHECK_EQ_INT(cprof__trace_hist_lower(4), 10);
	CHECK_EQ_INT(cprof__trace_hist_lower(CPROF_TRACE_HIST_BUCKETS - 1), 5000000000000000000LL);
	struct trace_views *v = cprof__trace_views_new();
	/* 99 wake-ups of 15 ns, one of 3 ms. */
	for (int i = 0; i < 99; i++)
		add(v, block(1, 100000 + i, 1, CPROF_TBR_MUTEX, 0, 2, 100000 + i - 15));
	add(v, block(1, 9000000, 1, CPROF_TBR_MUTEX, 0, 2, 6000000));
	cprof__trace_views_finish(v);
	const struct trace_hist *h = cprof__trace_views_wakeup_hist(v);
	CHECK_EQ_INT(h->bucket[4], 99); /* [10, 20) */
	CHECK_EQ_INT(h->bucket[20], 1); /* [2 ms, 5 ms) */
	CHECK_EQ_INT(cprof__trace_hist_quantile(h, 0.5), 20);
	CHECK_EQ_INT(cprof__trace_hist_quantile(h, 0.99), 20);
	CHECK_EQ_INT(cprof__trace_hist_quantile(h, 1.0), 3000000);
	cprof__trace_views_free(v);
	CHECK_EQ_INT(cprof__trace_view_kind_parse("sync"), CPROF_TVIEW_SYNC);
	CHECK_EQ_INT(cprof__trace_view_kind_parse("sched"), CPROF_TVIEW_SCHED);
	CHECK_EQ_INT(cprof__trace_view_kind_parse("net"), 0);
}

int main(void)
{
	RUN(test_profiles_exact);
	RUN(test_region_filter);
	RUN(test_tasks_and_regions);
	RUN(test_episodes_only);
	RUN(test_hist);
	CHECK_EXIT();
}
