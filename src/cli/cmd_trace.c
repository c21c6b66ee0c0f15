/*
 * cmd_trace.c - `cprof trace`: reads an execution trace written by the
 * runtime (cprof run -trace, CPROF_TRACE, cprof_trace_start) and writes it
 * out as text (one line per event, here), as Chrome trace-event JSON or
 * Perfetto's protobuf, or as a pprof profile of its waits (those three in
 * trace_export.c). Decoding lives in trace_read.c.
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
#include "cli/trace_export.h"
#include "cli/trace_read.h"
#include "cli/trace_views.h"
#include "cli/trace_web.h"
#include "runtime/trace.h"

const char cmd_trace_usage[] =
	"Usage: cprof trace [-http=[host]:[port]] [-no_browser] FILE\n"
	"       cprof trace -format=text|json|perfetto [-o OUT] FILE\n"
	"       cprof trace -pprof=sync|syscall|sched [-region=NAME] [-o OUT] FILE\n"
	"\n"
	"Reads an execution trace (cprof run -trace=FILE). With no -format or\n"
	"-pprof, serves a viewer in the browser (as go tool trace does): a zoomable\n"
	"timeline with a track per thread (running, blocked by reason, in system\n"
	"calls), regions, tasks, wake-up arrows, CPU samples and counters, details\n"
	"on click and search; and the derived views: blocking profiles (sync,\n"
	"syscall) with their pprof downloads, wake-up latency, and task and region\n"
	"duration histograms. Otherwise writes its events, or a profile derived\n"
	"from them.\n"
	"\n"
	"  -http=ADDR        serve the viewer on ADDR ([host]:[port]; default\n"
	"                    localhost on a free port). Only local clients are\n"
	"                    answered unless a host that is not loopback is given\n"
	"  -no_browser       print the viewer's URL without opening a browser (also\n"
	"                    what happens when there is no display). Viewer keys:\n"
	"                    W/S zoom, A/D pan, 0 everything, / search, N/P next\n"
	"                    and previous match, Escape closes the details; the\n"
	"                    wheel zooms at the pointer, a drag pans\n"
	"\n"
	"  -format=text      one line per event: time since the start in ms, thread\n"
	"                    id, event and arguments; each thread's events in the\n"
	"                    order it recorded them, threads' chunks interleaved; a\n"
	"                    CPU sample's weight=N is the sampling periods it\n"
	"                    stands for (1 + the timer's overruns, as the CPU\n"
	"                    profile counts it)\n"
	"  -format=json      Chrome trace events (open in ui.perfetto.dev or\n"
	"                    chrome://tracing): a track per thread named after it,\n"
	"                    regions as nested spans, tasks as async spans, blocked\n"
	"                    spans with their reason and releasing thread, wake-up\n"
	"                    arrows from the release to the resume, log messages and\n"
	"                    CPU samples as instants (args.weight), counters as\n"
	"                    graphs\n"
	"  -format=perfetto  the same as Perfetto's protobuf trace (open in\n"
	"                    ui.perfetto.dev), smaller and faster to load for big\n"
	"                    traces; CPU samples as Perfetto stack samples, one per\n"
	"                    sampling period\n"
	"  -pprof=KIND       a pprof profile of the waits, as go tool trace -pprof\n"
	"                    writes it (contentions/count, delay/nanoseconds), for\n"
	"                    cprof pprof or go tool pprof:\n"
	"                      sync     blocked on a mutex, rwlock, condition variable,\n"
	"                               semaphore, join or barrier\n"
	"                      syscall  blocked in a system call (traced with\n"
	"                               cprof run -blocksyscalls -trace=FILE)\n"
	"                      sched    wake-up latency: from the release by another\n"
	"                               thread to the resume, by where it waited\n"
	"  -region=NAME      with -pprof: only waits while a region NAME was open on\n"
	"                    the waiting thread\n"
	"  -o OUT            write to OUT instead of standard output\n"
	"\n"
	"Output is written as the file is read (a profile once it is whole). A\n"
	"file cut short (a process killed while tracing, a copy in progress)\n"
	"decodes up to its last whole chunk; cprof says so on stderr.\n";

struct out {
	FILE *f;
};

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
		fprintf(f, " weight=%" PRIu64, ev->weight);
		text_stack(f, ev->stack);
		break;
	}
	fputc('\n', f);
	return 0;
}

static int on_event(const struct trace_event *ev, void *arg)
{
	return text_event(ev, arg);
}

int cmd_trace(int argc, char **argv)
{
	const char *format = NULL, *outpath = NULL, *path = NULL, *pprof = NULL, *region = NULL, *http = NULL;
	bool no_browser = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1] == '-' && a[2])
			a++;
		if (strncmp(a, "-format=", 8) == 0) {
			format = a + 8;
		} else if (strcmp(a, "-format") == 0 && i + 1 < argc) {
			format = argv[++i];
		} else if (strncmp(a, "-pprof=", 7) == 0) {
			pprof = a + 7;
		} else if (strcmp(a, "-pprof") == 0 && i + 1 < argc) {
			pprof = argv[++i];
		} else if (strncmp(a, "-region=", 8) == 0) {
			region = a + 8;
		} else if (strcmp(a, "-region") == 0 && i + 1 < argc) {
			region = argv[++i];
		} else if (strncmp(a, "-o=", 3) == 0) {
			outpath = a + 3;
		} else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
			outpath = argv[++i];
		} else if (strncmp(a, "-http=", 6) == 0) {
			http = a + 6;
		} else if (strcmp(a, "-http") == 0 && i + 1 < argc) {
			http = argv[++i];
		} else if (strcmp(a, "-no_browser") == 0) {
			no_browser = true;
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
		cli_error("trace: no trace file given (usage: cprof trace [-http=ADDR] FILE, "
			  "or cprof trace -format=text|json|perfetto FILE)");
		return 2;
	}
	if ((format || pprof) && (http || no_browser)) {
		cli_error("trace: -%s serves the viewer: it does not go with -%s", http ? "http" : "no_browser",
			  format ? "format" : "pprof");
		return 2;
	}
	if (format && pprof) {
		cli_error("trace: -format and -pprof write different things: give one");
		return 2;
	}
	if (region && !pprof) {
		cli_error("trace: -region=%s narrows a -pprof profile: give -pprof too", region);
		return 2;
	}
	int kind = 0;
	if (pprof && !(kind = cprof__trace_view_kind_parse(pprof))) {
		cli_error("trace: -pprof=%s: want sync (mutex, rwlock, condition, semaphore, join, barrier), "
			  "syscall or sched (wake-up latency)",
			  pprof);
		return 2;
	}
	if (format && strcmp(format, "text") != 0 && strcmp(format, "json") != 0 && strcmp(format, "perfetto") != 0) {
		cli_error("trace: -format=%s: want text, json or perfetto", format);
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
	if (!format && !pprof) {
		int src = cprof__trace_web_serve(path, data, len, http ? http : "localhost:0", no_browser);
		if (len > 0)
			munmap((void *)data, len);
		return src;
	}
	struct trace_info info;
	char err[256] = "";
	int rc = 0;
	uint8_t *prof = NULL;
	size_t proflen = 0;
	uint64_t episodes = 0;
	int64_t total_ns = 0;
	/* A profile is built whole before anything is written: a failure leaves no partial file. */
	if (pprof)
		rc = cprof__trace_export_pprof(data, len, kind, region, &prof, &proflen, &episodes, &total_ns, &info, err,
					       sizeof err);
	struct out o = {stdout};
	if ((!pprof || rc == 0) && outpath && !(o.f = fopen(outpath, "w"))) {
		cli_error("trace: %s: %s", outpath, strerror(errno));
		if (len > 0)
			munmap((void *)data, len);
		free(prof);
		return 1;
	}
	if (pprof) {
		if (rc == 0)
			fwrite(prof, 1, proflen, o.f);
		free(prof);
	} else if (strcmp(format, "json") == 0) {
		rc = cprof__trace_export_json(data, len, o.f, &info, err, sizeof err);
	} else if (strcmp(format, "perfetto") == 0) {
		rc = cprof__trace_export_perfetto(data, len, o.f, &info, err, sizeof err);
	} else {
		rc = cprof__trace_decode(data, len, &info, on_event, &o, err, sizeof err);
		if (rc == 0 && info.dropped_samples)
			fprintf(o.f, "# %" PRIu64 " CPU samples not recorded, standing for %" PRIu64 " sampling periods\n",
				info.dropped_samples, info.dropped_weight);
		if (rc == 0)
			fprintf(o.f, "# pid %d, %" PRIu64 " events, %.3f ms, %" PRIu64 " dropped%s%s\n", info.pid,
				info.events, (double)info.duration_ns / 1e6, info.dropped,
				info.truncated ? ", file cut short" : "", info.flight ? ", flight recorder snapshot" : "");
	}
	if (len > 0)
		munmap((void *)data, len);
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
	if (pprof && !episodes)
		cli_error("trace: %s: no %s episodes%s%s in the trace: the profile is empty", path, pprof,
			  region ? " in regions named " : "", region ? region : "");
	return 0;
}
