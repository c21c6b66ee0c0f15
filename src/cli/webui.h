/*
 * webui.h - what the web UI's files share: the server (webui.c), the data
 * the pages fetch (webui_data.c) and the static files compiled into the
 * binary (webui_assets.c, generated from web/ by scripts/embed.sh). All of
 * it runs on the server's one thread, one request at a time.
 */
#ifndef CPROF_CLI_WEBUI_H
#define CPROF_CLI_WEBUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/report/report.h"

/* One file under web/, as compiled in. */
struct webui_asset {
	const char *name; /* "app.js" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};
extern const struct webui_asset webui_assets[];
extern const size_t webui_nassets;
/* The trace viewer's files (web/trace/, served by trace_web.c). */
extern const struct webui_asset trace_assets[];
extern const size_t trace_nassets;

/*
 * `cprof pprof -http=ADDR`: serve the UI for p, with o (the command line's
 * options) as the defaults every page starts from, until SIGINT or SIGTERM.
 * Prints "Serving web UI on http://host:port", opens a browser unless
 * no_browser. Runs on the main thread; returns the exit status, after
 * printing any error.
 */
int cprof__webui_serve(const struct profile *p, const struct report_options *o,
		       const char *addr, bool no_browser);

/* A response body (malloc'd) and its headers. */
struct webui_reply {
	char *data;
	size_t len;
	const char *type;
	const char *disposition; /* NULL: inline */
	bool note;               /* the body says why there is nothing to show */
};

/*
 * /ui/data/<what> for the options o: "meta" (sample types, diff or not), "top"
 * (rows as JSON), "graph" (Graphviz SVG), "peek", "disasm" (text),
 * "source" (HTML; a note as text with out->note when the profile has
 * nothing to show there). 0; -ENOENT unknown or nothing matched; -EINVAL bad
 * options (reason in err); -ENOSYS a tool is missing; -ENOMEM.
 */
int cprof__webui_data(const struct profile *p, const struct report_options *o, const char *what,
		      struct webui_reply *out, char *err, size_t errlen);
/*
 * The flame graph's tree of calling contexts for one set of options, kept
 * by the server across requests (webui_flame.c): nodes in depth-first
 * order, so a subtree is the range [i, end[i]) (callees in no particular
 * order: they are sent by decreasing width). Pages fetch the part of it wide enough to draw
 * (cprof__webui_flame_send) and ask the server for what needs the whole
 * tree: search totals, pivots, the callers tree.
 */
struct webui_names;
struct webui_flame {
	size_t n;
	int64_t *val;      /* the newer profile's part (all of it outside a diff) */
	int64_t *neg;      /* the base's part, NULL outside a diff */
	uint32_t *name;    /* index in names; the root's is UINT32_MAX */
	uint32_t *parent;  /* the root's is UINT32_MAX */
	uint32_t *end;     /* one past the subtree */
	uint16_t *depth;   /* the root's is 0; capped at 65535 */
	int64_t *self, *self_neg; /* made on first use (callers tree) */
	struct webui_names *names; /* shared with the trees derived from it */
	char *type, *unit; /* the sample type shown, its unit */
	char *root;        /* what the root stands for ("pivot: RE"), NULL: all */
	int64_t all, all_neg; /* the whole profile's root values (a pivot's source tree) */
	size_t bytes;      /* memory held, for the server's cache bound */
};

/* The tree for the options o (the report engine's samples, filters, granularity). */
int cprof__webui_flame_build(const struct profile *p, const struct report_options *o,
			     struct webui_flame **out, char *err, size_t errlen);
/*
 * Pivot: callers (up) or callees (down) of the outermost frames whose name
 * matches re, each a tree rooted at one node standing for all matches.
 * -EINVAL bad regexp (err); -ENOMEM.
 */
int cprof__webui_flame_pivot(const struct webui_flame *m, const char *re, bool up,
			     struct webui_flame **out, char *err, size_t errlen);
void cprof__webui_flame_free(struct webui_flame *m);
/*
 * The subtree of node z (binary; see decode() in web/flame.js) without the
 * frames narrower than a pixel on a page width pixels wide; each node sent
 * says how much of its callees was left out. -ENOENT no node z.
 */
int cprof__webui_flame_send(const struct webui_flame *m, size_t z, double width,
			    struct webui_reply *out);
/* Search: the total of the outermost matches of re and the names it matches (JSON). */
int cprof__webui_flame_search(const struct webui_flame *m, const char *re,
			      struct webui_reply *out, char *err, size_t errlen);
/*
 * The callers (bottom-up) tree, one level at a time: the callers of the
 * path ("" for the functions with self cost; else name indices, innermost
 * first, joined by '.'), with the self cost that goes through each (JSON).
 */
int cprof__webui_flame_callers(struct webui_flame *m, const char *path,
			       struct webui_reply *out, char *err, size_t errlen);

/*
 * JSON string escaping, for every JSON answer: the length of the run at s
 * that needs none; esc receives the escape of the character after it
 * ("" at the end of s).
 */
size_t cprof__webui_json_run(const char *s, char esc[7]);

/* /ui/download: the filtered profile as gzipped profile.proto. */
int cprof__webui_download(const struct profile *p, const struct report_options *o,
			  struct webui_reply *out, char *err, size_t errlen);

/*
 * The server's rules for other servers (the trace viewer): listen on ADDR
 * ("[host]:[port]"), filling url ("http://host:port") and *local (bound to
 * loopback: answer local clients only); the socket, or -2 for a bad address,
 * -1 when listening failed (message printed, cmd naming the command). Whether
 * a connection's client is on loopback. Open page in the browser, or say on
 * stderr to open it when there is no display.
 */
struct MHD_Connection;
int cprof__webui_listen(const char *cmd, const char *addr, bool *local, char *url, size_t ulen);
bool cprof__webui_client_local(struct MHD_Connection *c);
/*
 * Queue an answer with the UI's headers (no-store, nosniff, and a
 * Content-Disposition when disposition is not NULL); mode is libmicrohttpd's
 * enum MHD_ResponseMemoryMode (data is freed on failure when it says
 * MUST_FREE). Libmicrohttpd's enum MHD_Result.
 */
int cprof__webui_respond(struct MHD_Connection *c, unsigned status, const char *type, void *data, size_t len,
			 int mode, const char *disposition);
void cprof__webui_open_browser(const char *page);

#endif
