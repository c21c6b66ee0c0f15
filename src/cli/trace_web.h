/*
 * trace_web.h - what the trace viewer's files share: the in-memory index of
 * a decoded trace (trace_web_index.c) and the HTTP server that answers the
 * viewer's queries from it (trace_web.c). The index is built once, then only
 * read: every query runs on the server's one thread.
 */
#ifndef CPROF_CLI_TRACE_WEB_H
#define CPROF_CLI_TRACE_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/trace_read.h"
#include "common/buf.h"

struct trace_index;


/*
 * Decode data[0..len) into a new index. NULL with a reason in err (not a
 * trace, corrupt record, out of memory). A file cut short is indexed up to
 * its cut (the index's meta says so).
 */
struct trace_index *cprof__trace_index_new(const uint8_t *data, size_t len, char *err, size_t errlen);
void cprof__trace_index_free(struct trace_index *ix);
/* The decoder's summary of the file the index was built from. */
const struct trace_info *cprof__trace_index_info(const struct trace_index *ix);

/*
 * JSON answers (appended to out): "meta" (threads, strings, counters, the
 * trace's extent), a time window [t0, t1) drawn px pixels wide (spans
 * shorter than a pixel merged), one item's details, and a search. Each
 * returns 0, or -EINVAL with a reason in err (a bad kind or index), or
 * -ENOMEM.
 */
int cprof__trace_index_meta(const struct trace_index *ix, struct buf *out);
int cprof__trace_index_window(const struct trace_index *ix, int64_t t0, int64_t t1, int px, struct buf *out);
/* kind: "state", "region", "task", "sample", "log"; tid and depth where the kind has them. */
int cprof__trace_index_item(const struct trace_index *ix, const char *kind, int32_t tid, int depth, int64_t i,
			    struct buf *out, char *err, size_t errlen);
/* Names of regions, tasks, log categories and messages, and functions on stacks matching the
 * POSIX extended regular expression re (case-insensitive); at most max listed. */
int cprof__trace_index_search(const struct trace_index *ix, const char *re, int max, struct buf *out, char *err,
			      size_t errlen);

/* A JSON string literal of s[0..n) appended to out. */
void cprof__trace_json_str(struct buf *out, const char *s, size_t n);

/*
 * The derived view `name` ("sync", "syscall", "sched": a blocking profile,
 * those episodes inside regions named region when not NULL; "wakeup": the
 * wake-up latency histogram; "tasks", "regions": duration histograms by
 * name) as JSON appended to b. *views is the collector, built from
 * data[0..len) on the first call and kept (cprof__trace_views_free). 0;
 * -ENOENT no such view (reason in err); -EINVAL the trace does not decode;
 * -ENOMEM.
 */
struct trace_views;
int cprof__trace_web_view(const uint8_t *data, size_t len, struct trace_views **views, const char *name,
			  const char *region, struct buf *b, char *err, size_t errlen);

/*
 * `cprof trace -http=ADDR FILE`: serve the viewer for the trace in
 * data[0..len) until SIGINT or SIGTERM. Returns the exit status, after
 * printing any error.
 */
int cprof__trace_web_serve(const char *path, const uint8_t *data, size_t len, const char *addr, bool no_browser);

#endif
