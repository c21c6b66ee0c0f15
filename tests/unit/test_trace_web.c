/*
 * test_trace_web.c - the trace viewer's index (trace_web_index.c) on a file
 * built byte by byte: level of detail (1000 regions of 10 ns, 100 ns apart,
 * merged ten to a pixel at 1 us a pixel, one item each at 1 ns a pixel, a
 * long region kept whole), a blocking episode with its releaser, stack and
 * wake-up arrow, CPU samples with their weights (a tick merging two of
 * them stands for the periods of both), a task across threads, item
 * details, search, bad requests, and a file cut in the middle.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/trace_web.h"
#include "runtime/trace.h"
#include "trace_bytes.h"

/* Ticks are ns and start at 1000 in every chunk: an event's time is the sum of its chunk's deltas. */
static void build(struct w *w)
{
	header(w, 3);
	open_rec(w, 'S');
	str(w, 1, "r");
	str(w, 2, "long");
	str(w, 3, "pthread_mutex_lock");
	str(w, 4, "job");
	str(w, 5, "worker");
	close_rec(w);
	open_rec(w, 'Y');
	str(w, 1, "consume");
	str(w, 2, "prog.c");
	close_rec(w);
	open_rec(w, 'L');
	uv(w, 1), uv(w, 0x401000), uv(w, 1);
	uv(w, 1), uv(w, 2), uv(w, 30);
	close_rec(w);
	open_rec(w, 'K');
	uv(w, 1), uv(w, 1), uv(w, 1);
	close_rec(w);
	open_rec(w, 'E');
	uv(w, 7), uv(w, 1000), uv(w, 1000);
	ev(w, CPROF_TEV_THREAD_NAME, 0), uv(w, 5);
	ev(w, CPROF_TEV_TASK_BEGIN, 0), uv(w, 99), uv(w, 0), uv(w, 4);
	uint64_t t = 0;
	for (int k = 0; k < 1000; k++) {
		ev(w, CPROF_TEV_REGION_BEGIN, (uint64_t)k * 100 - t), uv(w, 0), uv(w, 1);
		ev(w, CPROF_TEV_REGION_END, 10);
		t = (uint64_t)k * 100 + 10;
	}
	ev(w, CPROF_TEV_REGION_BEGIN, 100000 - t), uv(w, 99), uv(w, 2);
	ev(w, CPROF_TEV_REGION_END, 100000);
	/* blocked on a mutex from 220000 to 250000, released by thread 8 at 240000 */
	ev(w, CPROF_TEV_BLOCK, 50000);
	uv(w, CPROF_TBR_MUTEX), uv(w, 3), uv(w, 1), uv(w, 30000), uv(w, 8), uv(w, 1 + 10000);
	close_rec(w);
	open_rec(w, 'E');
	uv(w, 8), uv(w, 1000), uv(w, 1000);
	ev(w, CPROF_TEV_TASK_END, 210000), uv(w, 99);
	/* samples at 220000 (weight 1), 220300 (weight 4, one pixel of 1 us with it), 260000 (no stack, weight 2) */
	ev(w, CPROF_TEV_CPU_SAMPLE, 10000), uv(w, 1), uv(w, 1);
	ev(w, CPROF_TEV_CPU_SAMPLE, 300), uv(w, 1), uv(w, 4);
	ev(w, CPROF_TEV_CPU_SAMPLE, 39700), uv(w, 0), uv(w, 2);
	close_rec(w);
	open_rec(w, 'C');
	uv(w, 301000), uv(w, 301000);
	close_rec(w);
}

static char *window(struct trace_index *ix, int64_t t0, int64_t t1, int px)
{
	struct buf b;
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__trace_index_window(ix, t0, t1, px, &b), 0);
	size_t n;
	return (char *)cprof__buf_detach(&b, &n);
}

/*
 * The index numbers strings in the order the decode meets them: "worker" 1,
 * "job" 2, "r" 3, "long" 4, "pthread_mutex_lock" 5, "consume" 6, "prog.c" 7.
 */

/* The JSON array of lane items [t0,t1,name,index,count] for k in [0, n) as the test expects them. */
static char *expect(int n, int step, int count)
{
	struct buf b;
	cprof__buf_init(&b, 0);
	cprof__buf_putc(&b, '[');
	for (int k = 0; k < n; k++)
		cprof__buf_printf(&b, "%s[%d,%d,3,%d,%d]", k ? "," : "", k * step * 100, k * step * 100 + (step - 1) * 100 + 10,
				  k * step, count);
	cprof__buf_putc(&b, ']');
	size_t len;
	return (char *)cprof__buf_detach(&b, &len);
}

static struct w W;
static struct trace_index *ix;

static void test_trace_web_lod(void)
{
	/* 1 us a pixel: ten 10 ns regions 100 ns apart to a pixel, merged */
	char *j = window(ix, 0, 100000, 100), *e = expect(100, 10, 10);
	CHECK(j && strstr(j, "\"regions\":[") && strstr(j, e));
	CHECK(j && !strstr(j, "\"long\"") && !strstr(j, "[100000,200000"));
	free(j);
	free(e);
	/* 1 ns a pixel: every region its own item */
	j = window(ix, 0, 100000, 100000);
	e = expect(1000, 1, 1);
	CHECK(j && strstr(j, e));
	free(j);
	free(e);
	/* a region longer than a pixel stays whole among merged neighbours */
	j = window(ix, 99000, 200000, 101);
	CHECK(j && strstr(j, "[99000,99910,3,990,10],[100000,200000,4,1000,1]"));
	free(j);
}

static void test_trace_web_block(void)
{
	char *j = window(ix, 150000, 300000, 150);
	CHECK(j && strstr(j, "{\"tid\":7,\"state\":[[220000,250000,1,0,1]]"));
	CHECK(j && strstr(j, "{\"tid\":8,\"state\":[],\"regions\":[],\"samples\":[[220000,0,2,5],[260000,2,1,2]]"));
	CHECK(j && strstr(j, "\"arrows\":[[240000,8,250000,7,0]],\"arrows_in_window\":1"));
	CHECK(j && strstr(j, "\"tasks\":[[[0,210000,2,0,1]]]"));
	free(j);
	struct buf b;
	char err[256] = "";
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__trace_index_item(ix, "state", 7, 0, 0, &b, err, sizeof err), 0);
	cprof__buf_putc(&b, 0);
	const char *s = (const char *)b.data;
	CHECK(strstr(s, "\"reason\":\"mutex\",\"name\":\"pthread_mutex_lock\",\"t0\":220000,\"t1\":250000,\"wake\":240000"));
	CHECK(strstr(s, "\"tid\":7,\"tid_name\":\"worker\",\"peer\":8"));
	CHECK(strstr(s, "\"stack\":[{\"func\":\"consume\",\"file\":\"prog.c\",\"line\":30,\"pc\":\"0x401000\"}]"));
	cprof__buf_release(&b);
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__trace_index_item(ix, "task", 0, 0, 0, &b, err, sizeof err), 0);
	cprof__buf_putc(&b, 0);
	CHECK(strstr((const char *)b.data, "\"name\":\"job\",\"id\":99,\"parent\":0,\"t0\":0,\"t1\":210000,\"ended\":true"));
	CHECK(strstr((const char *)b.data, "\"end_tid\":8"));
	cprof__buf_release(&b);
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__trace_index_item(ix, "region", 7, 0, 1000, &b, err, sizeof err), 0);
	cprof__buf_putc(&b, 0);
	CHECK(strstr((const char *)b.data, "\"name\":\"long\",\"t0\":100000,\"t1\":200000,\"depth\":0"));
	CHECK(strstr((const char *)b.data, "\"task\":99,\"task_name\":\"job\""));
	cprof__buf_release(&b);
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__trace_index_item(ix, "sample", 8, 0, 1, &b, err, sizeof err), 0);
	cprof__buf_putc(&b, 0);
	CHECK(strstr((const char *)b.data, "{\"kind\":\"sample\",\"name\":\"CPU sample\",\"t0\":220300,\"weight\":4"));
	cprof__buf_release(&b);
	/* at 1 ns a pixel each sample is its own tick */
	j = window(ix, 220000, 220400, 400);
	CHECK(j && strstr(j, "\"samples\":[[220000,0,1,1],[220300,1,1,4]]"));
	free(j);
}

static void test_trace_web_search(void)
{
	struct buf b;
	char err[256] = "";
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__trace_index_search(ix, "^LONG$", 10, &b, err, sizeof err), 0);
	cprof__buf_putc(&b, 0);
	CHECK(strstr((const char *)b.data, "{\"matches\":[[\"region\",7,0,1000,100000,200000,\"long\"]],\"total\":1}"));
	cprof__buf_release(&b);
	/* a function on a stack finds the blocking episode and the sample */
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__trace_index_search(ix, "consume", 10, &b, err, sizeof err), 0);
	cprof__buf_putc(&b, 0);
	CHECK(strstr((const char *)b.data, "[\"state\",7,0,0,220000,250000,\"pthread_mutex_lock\"]"));
	CHECK(strstr((const char *)b.data, "[\"sample\",8,0,0,220000,220000,\"CPU sample\"]"));
	CHECK(strstr((const char *)b.data, "[\"sample\",8,0,1,220300,220300,\"CPU sample\"]"));
	CHECK(strstr((const char *)b.data, "\"total\":3}"));
	cprof__buf_release(&b);
	/* 1000 matches, 5 listed */
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__trace_index_search(ix, "^r$", 5, &b, err, sizeof err), 0);
	cprof__buf_putc(&b, 0);
	CHECK(strstr((const char *)b.data, "\"total\":1000}"));
	cprof__buf_release(&b);
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__trace_index_search(ix, "(", 10, &b, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "bad search regexp"));
	CHECK_EQ_INT(cprof__trace_index_item(ix, "region", 7, 1, 0, &b, err, sizeof err), -EINVAL);
	CHECK_EQ_INT(cprof__trace_index_item(ix, "state", 9, 0, 0, &b, err, sizeof err), -EINVAL);
	CHECK_EQ_INT(cprof__trace_index_item(ix, "bogus", 7, 0, 0, &b, err, sizeof err), -EINVAL);
	cprof__buf_release(&b);
}

static void test_trace_web_meta_cut(void)
{
	const struct w *w = &W;
	char err[256] = "";
	struct trace_index *mx = cprof__trace_index_new(w->b, w->n, err, sizeof err);
	CHECK(mx != NULL);
	struct buf b;
	cprof__buf_init(&b, 0);
	if (mx)
		CHECK_EQ_INT(cprof__trace_index_meta(mx, &b), 0);
	cprof__buf_putc(&b, 0);
	const char *s = (const char *)b.data;
	CHECK(strstr(s, "\"duration\":300000,\"events\":2009,\"dropped\":0,\"dropped_samples\":0,\"dropped_sample_weight\":0,"
			"\"flight\":false,\"truncated\":false,\"tasks\":1,\"task_rows\":1,\"arrows\":1"));
	CHECK(strstr(s, "{\"tid\":7,\"name\":"));
	CHECK(strstr(s, "\"depth\":1,\"blocks\":1,\"samples\":0,\"sample_weight\":0,\"logs\":0}"));
	CHECK(strstr(s, "\"blocks\":0,\"samples\":3,\"sample_weight\":7,\"logs\":0}"));
	cprof__buf_release(&b);
	cprof__trace_index_free(mx);
	/* cut inside thread 7's chunk: what came before stays */
	size_t cut = 0;
	for (size_t i = 8; i + 1 < w->n;) { /* the start of the first 'E' record */
		uint32_t len;
		memcpy(&len, w->b + i + 1, 4);
		if (w->b[i] == 'E') {
			cut = i + 100;
			break;
		}
		i += 5 + len;
	}
	mx = cprof__trace_index_new(w->b, cut, err, sizeof err);
	CHECK(mx != NULL);
	CHECK(mx && cprof__trace_index_info(mx)->truncated);
	cprof__trace_index_free(mx);
	CHECK(cprof__trace_index_new((const uint8_t *)"not a trace", 11, err, sizeof err) == NULL);
	CHECK(strstr(err, "CPROFTRC"));
}

/* Tasks A [0, 100), B [50, 150), C [120, 200): A and C share a row, B has its own. */
static void test_trace_web_task_rows(void)
{
	static struct w w;
	w.n = 0;
	put(&w, "CPROFTRC", 8);
	open_rec(&w, 'H');
	uv(&w, 2), uv(&w, 1), uv(&w, 0), uv(&w, 1000), uv(&w, 1000), uv(&w, 5);
	close_rec(&w);
	open_rec(&w, 'S');
	str(&w, 1, "A"), str(&w, 2, "B"), str(&w, 3, "C");
	close_rec(&w);
	open_rec(&w, 'E');
	uv(&w, 9), uv(&w, 1000), uv(&w, 1000);
	ev(&w, CPROF_TEV_TASK_BEGIN, 0), uv(&w, 1), uv(&w, 0), uv(&w, 1);
	ev(&w, CPROF_TEV_TASK_BEGIN, 50), uv(&w, 2), uv(&w, 0), uv(&w, 2);
	ev(&w, CPROF_TEV_TASK_END, 50), uv(&w, 1);
	ev(&w, CPROF_TEV_TASK_BEGIN, 20), uv(&w, 3), uv(&w, 0), uv(&w, 3);
	ev(&w, CPROF_TEV_TASK_END, 30), uv(&w, 2);
	ev(&w, CPROF_TEV_TASK_END, 50), uv(&w, 3);
	close_rec(&w);
	char err[256] = "";
	struct trace_index *tx = cprof__trace_index_new(w.b, w.n, err, sizeof err);
	CHECK(tx != NULL);
	if (!tx)
		return;
	char *j = window(tx, 0, 1000, 1000);
	CHECK(j && strstr(j, "\"tasks\":[[[0,100,1,0,1],[120,200,3,1,1]],[[50,150,2,0,1]]]"));
	free(j);
	cprof__trace_index_free(tx);
}

int main(void)
{
	build(&W);
	char err[256] = "";
	ix = cprof__trace_index_new(W.b, W.n, err, sizeof err);
	if (!ix) {
		printf("FAIL trace_web_index: %s\n", err);
		return 1;
	}
	RUN(test_trace_web_lod);
	RUN(test_trace_web_block);
	RUN(test_trace_web_search);
	cprof__trace_index_free(ix);
	RUN(test_trace_web_meta_cut);
	RUN(test_trace_web_task_rows);
	CHECK_EXIT();
}
