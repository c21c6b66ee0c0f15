/*
 * cmd_trace.c - `cprof trace`: reads an execution trace written by the
 * runtime (cprof run -trace, CPROF_TRACE, cprof_trace_start) and writes it
 * out as text (one line per event) or as Chrome trace-event JSON, which
 * Perfetto UI and chrome://tracing open. Output is streamed event by event.
 * Decoding lives in trace_read.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/trace_read.h"
#include "runtime/trace.h"

const char cmd_trace_usage[] =
	"Usage: cprof trace -format=text|json [-o OUT] FILE\n"
	"\n"
	"Reads an execution trace (cprof run -trace=FILE) and writes its events.\n"
	"\n"
	"  -format=text   one line per event: time since the start in ms, thread id,\n"
	"                 event and arguments; each thread's events in the order it\n"
	"                 recorded them, threads' chunks interleaved as written\n"
	"  -format=json   Chrome trace events (open in ui.perfetto.dev or\n"
	"                 chrome://tracing): a track per thread with its regions,\n"
	"                 tasks as async spans, log messages as instants, counters\n"
	"  -o OUT         write to OUT instead of standard output\n"
	"\n"
	"A file cut short (a process killed while tracing, a copy in progress)\n"
	"decodes up to its last whole chunk; cprof says so on stderr.\n";

/* Task names by id, for the JSON end events. */
struct tasks {
	uint64_t *id;
	const char **name;
	size_t cap, n;
};

static const char *task_name(struct tasks *t, uint64_t id)
{
	if (!t->cap)
		return NULL;
	for (size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->id[i] == id)
			return t->name[i];
		if (!t->id[i])
			return NULL;
	}
}

static int task_put(struct tasks *t, uint64_t id, const char *name)
{
	if ((t->n + 1) * 2 > t->cap) {
		struct tasks nt = {NULL, NULL, t->cap ? t->cap * 2 : 1024, 0};
		nt.id = calloc(nt.cap, sizeof *nt.id);
		nt.name = calloc(nt.cap, sizeof *nt.name);
		if (!nt.id || !nt.name) {
			free(nt.id);
			free(nt.name);
			return -1;
		}
		for (size_t i = 0; i < t->cap; i++)
			if (t->id[i])
				task_put(&nt, t->id[i], t->name[i]);
		free(t->id);
		free(t->name);
		*t = nt;
	}
	size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL) & (t->cap - 1);
	while (t->id[i] && t->id[i] != id)
		i = (i + 1) & (t->cap - 1);
	if (!t->id[i])
		t->n++;
	t->id[i] = id;
	t->name[i] = name;
	return 0;
}

struct out {
	FILE *f;
	int json;
	int first;
	const struct trace_info *info; /* filled by the decoder before the first event */
	struct tasks tasks;
};

static void put_json_str(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void put_text_str(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
	}
}

static const char *const ev_names[] = {
	[CPROF_TEV_THREAD_START] = "thread-start", [CPROF_TEV_THREAD_EXIT] = "thread-exit",
	[CPROF_TEV_THREAD_NAME] = "thread-name",   [CPROF_TEV_TASK_BEGIN] = "task-begin",
	[CPROF_TEV_TASK_END] = "task-end",         [CPROF_TEV_REGION_BEGIN] = "region-begin",
	[CPROF_TEV_REGION_END] = "region-end",     [CPROF_TEV_LOG] = "log",
	[CPROF_TEV_COUNTER] = "counter",           [CPROF_TEV_BLOCK] = "block",
	[CPROF_TEV_CPU_SAMPLE] = "cpu-sample",
};

/* " stack=ID at=leaf;caller;..." (function names, leaf first), or nothing without a stack. */
static void text_stack(FILE *f, const struct trace_stack *st)
{
	if (!st)
		return;
	fprintf(f, " stack=%u at=", st->id);
	for (uint32_t i = 0; i < st->n; i++) {
		const char *fn = st->frames[i].func;
		if (i)
			fputc(';', f);
		if (fn[0])
			put_text_str(f, fn, strlen(fn));
		else
			fprintf(f, "0x%" PRIx64, st->frames[i].pc);
	}
}

static int text_event(const struct trace_event *ev, struct out *o)
{
	FILE *f = o->f;
	fprintf(f, "%.6f %d %s", (double)ev->ns / 1e6, ev->tid, ev_names[ev->type]);
	switch (ev->type) {
	case CPROF_TEV_THREAD_START:
		fprintf(f, " parent=%" PRIu64, ev->a);
		break;
	case CPROF_TEV_THREAD_NAME:
		fprintf(f, " name=%s", ev->str);
		break;
	case CPROF_TEV_TASK_BEGIN:
		fprintf(f, " id=%" PRIu64 " parent=%" PRIu64 " name=%s", ev->a, ev->b, ev->str);
		break;
	case CPROF_TEV_TASK_END:
		fprintf(f, " id=%" PRIu64 " name=%s", ev->a, ev->str);
		break;
	case CPROF_TEV_REGION_BEGIN:
		fprintf(f, " task=%" PRIu64 " name=%s", ev->a, ev->str);
		break;
	case CPROF_TEV_LOG:
		fprintf(f, " task=%" PRIu64 " category=%s message=", ev->a, ev->str);
		put_text_str(f, ev->msg, ev->msglen);
		break;
	case CPROF_TEV_COUNTER:
		fprintf(f, " name=%s value=%" PRIu64, ev->str, ev->b);
		break;
	case CPROF_TEV_BLOCK:
		fprintf(f, " reason=%s call=%s dur_ns=%" PRId64 " peer=%d", cprof__trace_reason_name((int)ev->a), ev->str,
			ev->dur_ns, ev->peer);
		if (ev->wake_ns >= 0)
			fprintf(f, " wake_ms=%.6f", (double)ev->wake_ns / 1e6);
		text_stack(f, ev->stack);
		break;
	case CPROF_TEV_CPU_SAMPLE:
		text_stack(f, ev->stack);
		break;
	}
	fputc('\n', f);
	return 0;
}

static void json_head(struct out *o, const struct trace_event *ev, const char *ph, const char *name, size_t nlen)
{
	FILE *f = o->f;
	fputs(o->first ? "\n" : ",\n", f);
	o->first = 0;
	fprintf(f, "{\"ph\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":%" PRId64 ".%03d,\"name\":", ph, o->info->pid, ev->tid,
		ev->ns / 1000, (int)(ev->ns % 1000));
	put_json_str(f, name, nlen);
}

static int json_event(const struct trace_event *ev, struct out *o)
{
	FILE *f = o->f;
	char id[32];
	switch (ev->type) {
	case CPROF_TEV_THREAD_START:
		json_head(o, ev, "i", "thread start", 12);
		fprintf(f, ",\"s\":\"t\",\"cat\":\"thread\",\"args\":{\"parent\":%" PRIu64 "}}", ev->a);
		break;
	case CPROF_TEV_THREAD_EXIT:
		json_head(o, ev, "i", "thread exit", 11);
		fputs(",\"s\":\"t\",\"cat\":\"thread\"}", f);
		break;
	case CPROF_TEV_THREAD_NAME:
		json_head(o, ev, "M", "thread_name", 11);
		fputs(",\"args\":{\"name\":", f);
		put_json_str(f, ev->str, strlen(ev->str));
		fputs("}}", f);
		break;
	case CPROF_TEV_TASK_BEGIN:
		if (task_put(&o->tasks, ev->a, ev->str) != 0)
			return -ENOMEM;
		json_head(o, ev, "b", ev->str, strlen(ev->str));
		snprintf(id, sizeof id, "%" PRIu64, ev->a);
		fprintf(f, ",\"cat\":\"task\",\"id\":\"%s\",\"args\":{\"parent\":%" PRIu64 "}}", id, ev->b);
		break;
	case CPROF_TEV_TASK_END: {
		/* The decoder names the task even when its begin comes later in the file. */
		const char *n = ev->str[0] ? ev->str : task_name(&o->tasks, ev->a);
		if (!n)
			n = "task";
		json_head(o, ev, "e", n, strlen(n));
		fprintf(f, ",\"cat\":\"task\",\"id\":\"%" PRIu64 "\"}", ev->a);
		break;
	}
	case CPROF_TEV_REGION_BEGIN:
		json_head(o, ev, "B", ev->str, strlen(ev->str));
		fprintf(f, ",\"cat\":\"region\",\"args\":{\"task\":%" PRIu64 "}}", ev->a);
		break;
	case CPROF_TEV_REGION_END:
		fputs(o->first ? "\n" : ",\n", f);
		o->first = 0;
		fprintf(f, "{\"ph\":\"E\",\"pid\":%d,\"tid\":%d,\"ts\":%" PRId64 ".%03d,\"cat\":\"region\"}", o->info->pid,
			ev->tid, ev->ns / 1000, (int)(ev->ns % 1000));
		break;
	case CPROF_TEV_LOG:
		json_head(o, ev, "i", ev->str, strlen(ev->str));
		fprintf(f, ",\"s\":\"t\",\"cat\":\"log\",\"args\":{\"task\":%" PRIu64 ",\"message\":", ev->a);
		put_json_str(f, ev->msg, ev->msglen);
		fputs("}}", f);
		break;
	case CPROF_TEV_COUNTER:
		json_head(o, ev, "C", ev->str, strlen(ev->str));
		fprintf(f, ",\"args\":{\"value\":%" PRIu64 "}}", ev->b);
		break;
	}
	return 0;
}

static int on_event(const struct trace_event *ev, void *arg)
{
	struct out *o = arg;
	return o->json ? json_event(ev, o) : text_event(ev, o);
}

int cmd_trace(int argc, char **argv)
{
	const char *format = NULL, *outpath = NULL, *path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1] == '-' && a[2])
			a++;
		if (strncmp(a, "-format=", 8) == 0) {
			format = a + 8;
		} else if (strcmp(a, "-format") == 0 && i + 1 < argc) {
			format = argv[++i];
		} else if (strncmp(a, "-o=", 3) == 0) {
			outpath = a + 3;
		} else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
			outpath = argv[++i];
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "-help") == 0) {
			fputs(cmd_trace_usage, stdout);
			return 0;
		} else if (a[0] == '-' && a[1]) {
			cli_error("trace: unknown flag %s (see cprof help trace)", argv[i]);
			return 2;
		} else if (!path) {
			path = a;
		} else {
			cli_error("trace: one trace file at a time (got %s and %s)", path, a);
			return 2;
		}
	}
	if (!path) {
		cli_error("trace: no trace file given (usage: cprof trace -format=text|json FILE)");
		return 2;
	}
	if (!format) {
		cli_error("trace: say how to write the trace: -format=text or -format=json");
		return 2;
	}
	struct trace_info info;
	struct out o = {stdout, 0, 1, &info, {NULL, NULL, 0, 0}};
	if (strcmp(format, "json") == 0)
		o.json = 1;
	else if (strcmp(format, "text") != 0) {
		cli_error("trace: -format=%s: want text or json", format);
		return 2;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_error("trace: %s: %s", path, strerror(errno));
		return 1;
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		cli_error("trace: %s: not a regular file", path);
		close(fd);
		return 1;
	}
	size_t len = (size_t)sb.st_size;
	const uint8_t *data = (const uint8_t *)"";
	if (len > 0) {
		void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			cli_error("trace: %s: %s", path, strerror(errno));
			close(fd);
			return 1;
		}
		data = m;
	}
	close(fd);
	if (outpath && !(o.f = fopen(outpath, "w"))) {
		cli_error("trace: %s: %s", outpath, strerror(errno));
		return 1;
	}
	char err[256];
	if (o.json) {
		fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", o.f);
	}
	int rc = cprof__trace_decode(data, len, &info, on_event, &o, err, sizeof err);
	if (o.json) {
		if (rc == 0) {
			fputs(o.first ? "\n" : ",\n", o.f);
			fprintf(o.f,
				"{\"ph\":\"M\",\"pid\":%d,\"name\":\"process_name\",\"args\":{\"name\":\"pid %d\"}}",
				info.pid, info.pid);
		}
		fprintf(o.f, "\n],\"otherData\":{\"pid\":%d,\"events\":%" PRIu64 ",\"dropped\":%" PRIu64
			     ",\"truncated\":%s}}\n",
			info.pid, info.events, info.dropped, info.truncated ? "true" : "false");
	} else if (rc == 0) {
		fprintf(o.f, "# pid %d, %" PRIu64 " events, %.3f ms, %" PRIu64 " dropped%s\n", info.pid, info.events,
			(double)info.duration_ns / 1e6, info.dropped, info.truncated ? ", file cut short" : "");
	}
	if (len > 0)
		munmap((void *)data, len);
	free(o.tasks.id);
	free(o.tasks.name);
	int werr = ferror(o.f);
	if (o.f != stdout)
		werr |= fclose(o.f) != 0;
	else
		werr |= fflush(o.f) != 0;
	if (rc != 0) {
		cli_error("trace: %s: %s", path, rc == -ENOMEM ? "out of memory" : err);
		return 1;
	}
	if (werr) {
		cli_error("trace: writing %s: %s", outpath ? outpath : "standard output", strerror(errno));
		return 1;
	}
	if (info.truncated)
		cli_error("trace: %s: the file is cut short; decoded up to its last whole chunk", path);
	return 0;
}
