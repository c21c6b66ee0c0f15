/*
 * test_trace_read.c - the execution trace decoder on files built byte by
 * byte: version 2's stacks (symbols, locations with inlined frames,
 * stacks), blocking and CPU sample events, a task whose end comes before
 * its begin in file order; version 3's CPU sample weights and the weight
 * of the samples not recorded (version 2's samples weigh 1 each), weights
 * out of range refused; version 1 files, an unknown version, cut files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli/trace_read.h"
#include "runtime/trace.h"
#include "trace_bytes.h"

/*
 * A version 2 or 3 file: thread 7 blocks on a mutex released by 8 and is
 * sampled (version 3: the sample weighs 3, and the 2 samples not recorded
 * 7 periods); a task crosses threads.
 */
static void build(struct w *w, int version)
{
	header(w, version);
	open_rec(w, 'S');
	str(w, 1, "pthread_mutex_lock");
	str(w, 2, "request");
	close_rec(w);
	open_rec(w, 'Y');
	str(w, 1, "consume");
	str(w, 2, "prog.c");
	str(w, 3, "helper");
	str(w, 4, "main");
	close_rec(w);
	open_rec(w, 'L');
	/* location 1: helper inlined into consume */
	uv(w, 1), uv(w, 0x401000), uv(w, 2);
	uv(w, 3), uv(w, 2), uv(w, 12);
	uv(w, 1), uv(w, 2), uv(w, 30);
	/* location 2: main */
	uv(w, 2), uv(w, 0x402000), uv(w, 1);
	uv(w, 4), uv(w, 2), uv(w, 50);
	/* location 3: no name */
	uv(w, 3), uv(w, 0x7000), uv(w, 0);
	close_rec(w);
	open_rec(w, 'K');
	uv(w, 1), uv(w, 2), uv(w, 1), uv(w, 2);
	uv(w, 2), uv(w, 2), uv(w, 3), uv(w, 2);
	close_rec(w);
	/* Thread 8's chunk: the task's end, written before thread 7's chunk with its begin. */
	open_rec(w, 'E');
	uv(w, 8), uv(w, 1000), uv(w, 1000);
	w->b[w->n++] = CPROF_TEV_TASK_END;
	uv(w, 900);
	uv(w, 77);
	close_rec(w);
	open_rec(w, 'E');
	uv(w, 7), uv(w, 1000), uv(w, 1000);
	w->b[w->n++] = CPROF_TEV_TASK_BEGIN;
	uv(w, 100), uv(w, 77), uv(w, 0), uv(w, 2);
	w->b[w->n++] = CPROF_TEV_BLOCK;
	uv(w, 400); /* at 500 ns */
	uv(w, CPROF_TBR_MUTEX), uv(w, 1), uv(w, 1), uv(w, 300), uv(w, 8), uv(w, 1 + 20);
	w->b[w->n++] = CPROF_TEV_CPU_SAMPLE;
	uv(w, 100);
	uv(w, 2);
	if (version >= 3)
		uv(w, 3);
	w->b[w->n++] = CPROF_TEV_BLOCK;
	uv(w, 10);
	uv(w, CPROF_TBR_SYSCALL), uv(w, 1), uv(w, 0), uv(w, 5), uv(w, 0), uv(w, 0);
	close_rec(w);
	open_rec(w, 'C');
	uv(w, 2000), uv(w, 2000);
	close_rec(w);
	open_rec(w, 'D');
	uv(w, 3), uv(w, 2);
	if (version >= 3)
		uv(w, 7);
	close_rec(w);
}

static void build_v2(struct w *w)
{
	build(w, 2);
}

#define MAXEV 16
struct frame_copy {
	uint64_t pc;
	char func[32], file[32];
	int line;
};

/* Events as seen in the callback (strings and stacks live only during the decode). */
struct got {
	struct trace_event ev[MAXEV];
	char str[MAXEV][64];
	struct {
		uint32_t id, n;
		struct frame_copy frames[4];
	} st[MAXEV];
	int n;
};

static int collect(const struct trace_event *ev, void *arg)
{
	struct got *g = arg;
	if (g->n < MAXEV) {
		g->ev[g->n] = *ev;
		snprintf(g->str[g->n], sizeof g->str[0], "%s", ev->str);
		if (ev->stack) {
			g->st[g->n].id = ev->stack->id;
			g->st[g->n].n = ev->stack->n;
			for (uint32_t i = 0; i < ev->stack->n && i < 4; i++) {
				struct frame_copy *f = &g->st[g->n].frames[i];
				f->pc = ev->stack->frames[i].pc;
				f->line = ev->stack->frames[i].line;
				snprintf(f->func, sizeof f->func, "%s", ev->stack->frames[i].func);
				snprintf(f->file, sizeof f->file, "%s", ev->stack->frames[i].file);
			}
		}
		g->n++;
	}
	return 0;
}

static void test_v2_events(void)
{
	static struct w w;
	build_v2(&w);
	struct trace_info info;
	struct got g = {.n = 0};
	char err[256] = "";
	CHECK_EQ_INT(cprof__trace_decode(w.b, w.n, &info, collect, &g, err, sizeof err), 0);
	CHECK_EQ_INT(info.version, 2);
	CHECK_EQ_INT(info.pid, 4242);
	CHECK_EQ_INT(info.dropped, 3);
	CHECK_EQ_INT(info.dropped_samples, 2);
	CHECK_EQ_INT(info.stacks, 2);
	CHECK_EQ_INT(info.truncated, 0);
	CHECK_EQ_INT(g.n, 5);
	/* The end, first in the file, is named after its begin further on. */
	CHECK_EQ_INT(g.ev[0].type, CPROF_TEV_TASK_END);
	CHECK_EQ_INT(g.ev[0].a, 77);
	CHECK_EQ_STR(g.str[0], "request");
	CHECK_EQ_INT(g.ev[0].ns, 900);
	CHECK_EQ_INT(g.ev[1].type, CPROF_TEV_TASK_BEGIN);
	CHECK_EQ_STR(g.str[1], "request");

	const struct trace_event *b = &g.ev[2];
	CHECK_EQ_INT(b->type, CPROF_TEV_BLOCK);
	CHECK_EQ_INT(b->tid, 7);
	CHECK_EQ_INT(b->ns, 500);
	CHECK_EQ_INT(b->a, CPROF_TBR_MUTEX);
	CHECK_EQ_STR(g.str[2], "pthread_mutex_lock");
	CHECK_EQ_INT(b->dur_ns, 300);
	CHECK_EQ_INT(b->peer, 8);
	CHECK_EQ_INT(b->wake_ns, 480);
	CHECK(b->stack != NULL);
	if (b->stack) {
		const struct frame_copy *fr = g.st[2].frames;
		/* Leaf first, the inlined helper before the function it was inlined into. */
		CHECK_EQ_INT(g.st[2].id, 1);
		CHECK_EQ_INT(g.st[2].n, 3);
		CHECK_EQ_STR(fr[0].func, "helper");
		CHECK_EQ_INT(fr[0].line, 12);
		CHECK_EQ_INT(fr[0].pc, 0x401000);
		CHECK_EQ_STR(fr[1].func, "consume");
		CHECK_EQ_INT(fr[1].pc, 0x401000);
		CHECK_EQ_STR(fr[1].file, "prog.c");
		CHECK_EQ_STR(fr[2].func, "main");
		CHECK_EQ_INT(fr[2].line, 50);
	}
	const struct trace_event *s = &g.ev[3];
	CHECK_EQ_INT(s->type, CPROF_TEV_CPU_SAMPLE);
	CHECK_EQ_INT(s->ns, 600);
	CHECK_EQ_INT(s->weight, 1); /* version 2 has no weights: one period each */
	CHECK_EQ_INT(info.dropped_weight, 2);
	CHECK(s->stack != NULL);
	if (s->stack) {
		const struct frame_copy *fr = g.st[3].frames;
		CHECK_EQ_INT(g.st[3].n, 2);
		CHECK_EQ_STR(fr[0].func, "");
		CHECK_EQ_INT(fr[0].pc, 0x7000);
		CHECK_EQ_STR(fr[1].func, "main");
	}
	/* Unknown release, no stack. */
	CHECK_EQ_INT(g.ev[4].a, CPROF_TBR_SYSCALL);
	CHECK_EQ_INT(g.ev[4].peer, 0);
	CHECK_EQ_INT(g.ev[4].wake_ns, -1);
	CHECK(g.ev[4].stack == NULL);
	CHECK_EQ_INT(g.ev[4].dur_ns, 5);
}

/* Version 3: the same file with weights; a weight of 0 or past the greatest is corrupt. */
static void test_v3_weights(void)
{
	static struct w w;
	build(&w, 3);
	struct trace_info info;
	struct got g = {.n = 0};
	char err[256] = "";
	CHECK_EQ_INT(cprof__trace_decode(w.b, w.n, &info, collect, &g, err, sizeof err), 0);
	CHECK_EQ_INT(info.version, 3);
	CHECK_EQ_INT(g.n, 5);
	CHECK_EQ_INT(g.ev[3].type, CPROF_TEV_CPU_SAMPLE);
	CHECK_EQ_INT(g.ev[3].weight, 3);
	CHECK_EQ_INT(g.st[3].n, 2);
	CHECK_EQ_INT(g.ev[3].ns, 600);
	CHECK_EQ_INT(g.ev[4].type, CPROF_TEV_BLOCK); /* the event after it starts where the weight ends */
	CHECK_EQ_INT(g.ev[4].dur_ns, 5);
	CHECK_EQ_INT(info.dropped_samples, 2);
	CHECK_EQ_INT(info.dropped_weight, 7);

	/* One sample of each weight at the edges, and past them. */
	static const uint64_t weights[] = {1, CPROF_TRACE_WEIGHT_MAX, 0, (uint64_t)CPROF_TRACE_WEIGHT_MAX + 1};
	for (int k = 0; k < 4; k++) {
		header(&w, 3);
		open_rec(&w, 'E');
		uv(&w, 7), uv(&w, 1000), uv(&w, 1000);
		ev(&w, CPROF_TEV_CPU_SAMPLE, 10), uv(&w, 0), uv(&w, weights[k]);
		ev(&w, CPROF_TEV_REGION_END, 10);
		close_rec(&w);
		g.n = 0;
		err[0] = 0;
		int rc = cprof__trace_decode(w.b, w.n, &info, collect, &g, err, sizeof err);
		if (k < 2) {
			CHECK_EQ_INT(rc, 0);
			CHECK_EQ_INT(g.n, 2);
			CHECK_EQ_INT(g.ev[0].weight, weights[k]);
			CHECK(g.ev[0].stack == NULL);
		} else {
			CHECK_EQ_INT(rc, -1);
			CHECK(strstr(err, "corrupt 'E' record") != NULL);
		}
	}
}

static void test_cuts(int version)
{
	static struct w w;
	build(&w, version);
	/* Every cut decodes without error up to its last whole record. */
	for (size_t cut = 8 + 5; cut < w.n; cut++) {
		struct trace_info info;
		struct got g = {.n = 0};
		char err[256] = "";
		int rc = cprof__trace_decode(w.b, cut, &info, collect, &g, err, sizeof err);
		if (rc != 0 && strstr(err, "header") == NULL) {
			printf("cut at %zu: %s\n", cut, err);
			CHECK(0);
			break;
		}
	}
}

static void test_v2_cut(void)
{
	test_cuts(2);
}

static void test_v3_cut(void)
{
	test_cuts(3);
}

static void test_v1_still_read(void)
{
	static struct w w;
	header(&w, 1);
	open_rec(&w, 'S');
	str(&w, 1, "phase");
	close_rec(&w);
	open_rec(&w, 'E');
	uv(&w, 3), uv(&w, 1000), uv(&w, 1000);
	w.b[w.n++] = CPROF_TEV_REGION_BEGIN;
	uv(&w, 5), uv(&w, 0), uv(&w, 1);
	w.b[w.n++] = CPROF_TEV_REGION_END;
	uv(&w, 5);
	close_rec(&w);
	struct trace_info info;
	struct got g = {.n = 0};
	char err[256] = "";
	CHECK_EQ_INT(cprof__trace_decode(w.b, w.n, &info, collect, &g, err, sizeof err), 0);
	CHECK_EQ_INT(info.version, 1);
	CHECK_EQ_INT(g.n, 2);
	CHECK_EQ_STR(g.str[0], "phase");
	CHECK(g.ev[0].stack == NULL);
	CHECK_EQ_INT(g.ev[1].ns, 10);

	/* A version 1 file has no blocking events: type 10 there is corrupt. */
	open_rec(&w, 'E');
	uv(&w, 3), uv(&w, 1000), uv(&w, 1000);
	w.b[w.n++] = CPROF_TEV_BLOCK;
	uv(&w, 1);
	uv(&w, 1), uv(&w, 0), uv(&w, 0), uv(&w, 1), uv(&w, 0), uv(&w, 0);
	close_rec(&w);
	g.n = 0;
	CHECK_EQ_INT(cprof__trace_decode(w.b, w.n, &info, collect, &g, err, sizeof err), -1);
	if (!strstr(err, "unknown event type 10"))
		printf("err: %s\n", err);
	CHECK(strstr(err, "unknown event type 10") != NULL);
}

static void test_version_refused(void)
{
	static struct w w;
	header(&w, 4);
	struct trace_info info;
	struct got g = {.n = 0};
	char err[256] = "";
	CHECK_EQ_INT(cprof__trace_decode(w.b, w.n, &info, collect, &g, err, sizeof err), -1);
	CHECK(strstr(err, "version 4") != NULL);
}

static void test_reason_names(void)
{
	CHECK_EQ_STR(cprof__trace_reason_name(CPROF_TBR_MUTEX), "mutex");
	CHECK_EQ_STR(cprof__trace_reason_name(CPROF_TBR_RWLOCK_READ), "rwlock-read");
	CHECK_EQ_STR(cprof__trace_reason_name(CPROF_TBR_RWLOCK_WRITE), "rwlock-write");
	CHECK_EQ_STR(cprof__trace_reason_name(CPROF_TBR_COND), "cond");
	CHECK_EQ_STR(cprof__trace_reason_name(CPROF_TBR_SEM), "sem");
	CHECK_EQ_STR(cprof__trace_reason_name(CPROF_TBR_JOIN), "join");
	CHECK_EQ_STR(cprof__trace_reason_name(CPROF_TBR_BARRIER), "barrier");
	CHECK_EQ_STR(cprof__trace_reason_name(CPROF_TBR_SYSCALL), "syscall");
	CHECK_EQ_STR(cprof__trace_reason_name(0), "unknown");
	CHECK_EQ_STR(cprof__trace_reason_name(99), "unknown");
}

int main(int argc, char **argv)
{
	/* test_trace_read -corpus|-corpus-v3 FILE: write the version 2 or 3 file for the fuzzer's corpus. */
	if (argc == 3 && (strcmp(argv[1], "-corpus") == 0 || strcmp(argv[1], "-corpus-v3") == 0)) {
		static struct w w;
		build(&w, strcmp(argv[1], "-corpus") == 0 ? 2 : 3);
		FILE *f = fopen(argv[2], "wb");
		return !f || fwrite(w.b, 1, w.n, f) != w.n || fclose(f) != 0;
	}
	RUN(test_v2_events);
	RUN(test_v2_cut);
	RUN(test_v3_weights);
	RUN(test_v3_cut);
	RUN(test_v1_still_read);
	RUN(test_version_refused);
	RUN(test_reason_names);
	return check_failed_total ? 1 : 0;
}
