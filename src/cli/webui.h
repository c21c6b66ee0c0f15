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
 * /ui/data/<what> for the options o: "meta" (sample types, diff or not),
 * "flame" (the tree of calling contexts, binary: see web/flame.js), "top"
 * (rows as JSON), "graph" (Graphviz SVG), "peek", "disasm" (text),
 * "source" (HTML; a note as text with out->note when the profile has
 * nothing to show there). 0; -ENOENT unknown or nothing matched; -EINVAL bad
 * options (reason in err); -ENOSYS a tool is missing; -ENOMEM.
 */
int cprof__webui_data(const struct profile *p, const struct report_options *o, const char *what,
		      struct webui_reply *out, char *err, size_t errlen);
/* /ui/download: the filtered profile as gzipped profile.proto. */
int cprof__webui_download(const struct profile *p, const struct report_options *o,
			  struct webui_reply *out, char *err, size_t errlen);

#endif
