/*
 * trace_web_views.c - the trace viewer's derived views as JSON: blocking
 * profiles by reason (sync, syscall) and wake-up latency per stack
 * ("sched"), the wake-up latency histogram ("wakeup"), and duration
 * histograms of tasks and regions by name. The views themselves are
 * trace_views.c's; this file builds them on first use (a decode of its
 * own, so the timeline's first draw does not wait for them) and formats
 * them for web/trace/tviews.js.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/trace_views.h"
#include "cli/trace_web.h"

static int build_views(const uint8_t *data, size_t len, struct trace_views **views, char *err, size_t errlen)
{
	if (*views)
		return 0;
	struct trace_views *v = cprof__trace_views_new();
	if (!v)
		return -ENOMEM;
	struct trace_info info;
	int rc = cprof__trace_decode(data, len, &info, cprof__trace_views_on_event, v, err, errlen);
	if (rc == 0)
		rc = cprof__trace_views_finish(v);
	if (rc != 0) {
		cprof__trace_views_free(v);
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	*views = v;
	return 0;
}

static void hist_json(struct buf *b, const struct trace_hist *h)
{
	cprof__buf_printf(b,
			  "{\"count\":%" PRIu64 ",\"sum\":%" PRId64 ",\"min\":%" PRId64 ",\"max\":%" PRId64
			  ",\"p50\":%" PRId64 ",\"p90\":%" PRId64 ",\"p99\":%" PRId64 ",\"buckets\":[",
			  h->count, h->sum_ns, h->min_ns, h->max_ns, cprof__trace_hist_quantile(h, 0.5),
			  cprof__trace_hist_quantile(h, 0.9), cprof__trace_hist_quantile(h, 0.99));
	int first = 1;
	for (int i = 0; i < CPROF_TRACE_HIST_BUCKETS; i++)
		if (h->bucket[i]) {
			cprof__buf_printf(b, "%s[%" PRId64 ",%" PRIu64 "]", first ? "" : ",",
					  i ? cprof__trace_hist_lower(i) : 0, h->bucket[i]);
			first = 0;
		}
	cprof__buf_puts(b, "]}");
}

static void names_json(struct buf *b, const struct trace_name_stats *st, size_t n)
{
	cprof__buf_puts(b, "[");
	for (size_t i = 0; i < n; i++) {
		cprof__buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		cprof__trace_json_str(b, st[i].name, strlen(st[i].name));
		cprof__buf_printf(b, ",\"unfinished\":%" PRIu64 ",\"hist\":", st[i].unfinished);
		hist_json(b, &st[i].hist);
		cprof__buf_putc(b, '}');
	}
	cprof__buf_puts(b, "]");
}

#define MAX_ROWS 500

int cprof__trace_web_view(const uint8_t *data, size_t len, struct trace_views **views, const char *name,
			  const char *region, struct buf *b, char *err, size_t errlen)
{
	int rc = build_views(data, len, views, err, errlen);
	if (rc < 0)
		return rc;
	if (strcmp(name, "wakeup") == 0) {
		cprof__buf_puts(b, "{\"view\":\"wakeup\",\"hist\":");
		hist_json(b, cprof__trace_views_wakeup_hist(*views));
		cprof__buf_puts(b, "}\n");
		return b->err;
	}
	if (strcmp(name, "tasks") == 0 || strcmp(name, "regions") == 0) {
		size_t n;
		const struct trace_name_stats *st = name[0] == 't' ? cprof__trace_views_tasks(*views, &n)
								   : cprof__trace_views_regions(*views, &n);
		cprof__buf_printf(b, "{\"view\":\"%s\",\"names\":", name);
		names_json(b, st, n);
		cprof__buf_puts(b, "}\n");
		return b->err;
	}
	int kind = cprof__trace_view_kind_parse(name);
	if (!kind) {
		snprintf(err, errlen, "no view \"%.64s\" (sync, syscall, sched, wakeup, tasks or regions)\n", name);
		return -ENOENT;
	}
	size_t n;
	int e = 0;
	const struct trace_stack_total *t = cprof__trace_views_profile(*views, kind, region, &n, &e);
	if (e)
		return e;
	uint64_t count = 0;
	int64_t ns = 0;
	for (size_t i = 0; i < n; i++) {
		count += t[i].count;
		ns += t[i].ns;
	}
	cprof__buf_printf(b, "{\"view\":\"%s\",\"count\":%" PRIu64 ",\"ns\":%" PRId64 ",\"stacks\":%zu,\"rows\":[",
			  name, count, ns, n);
	for (size_t i = 0; i < n && i < MAX_ROWS; i++) {
		cprof__buf_printf(b, "%s{\"reason\":", i ? "," : "");
		const char *r = cprof__trace_reason_name(t[i].reason);
		cprof__trace_json_str(b, r, strlen(r));
		cprof__buf_printf(b, ",\"count\":%" PRIu64 ",\"ns\":%" PRId64 ",\"stack\":[", t[i].count, t[i].ns);
		for (uint32_t k = 0; t[i].stack && k < t[i].stack->n; k++) {
			const struct trace_frame *f = &t[i].stack->frames[k];
			cprof__buf_puts(b, k ? ",{\"func\":" : "{\"func\":");
			cprof__trace_json_str(b, f->func, strlen(f->func));
			cprof__buf_puts(b, ",\"file\":");
			cprof__trace_json_str(b, f->file, strlen(f->file));
			cprof__buf_printf(b, ",\"line\":%d}", f->line);
		}
		cprof__buf_puts(b, "]}");
	}
	cprof__buf_puts(b, "]}\n");
	return b->err;
}

