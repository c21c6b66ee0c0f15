/*
 * trace_web.c - `cprof trace -http=[host]:[port] FILE`: the trace viewer's
 * HTTP server. It owns the routes under /trace/: the page and its static
 * files (web/trace/, compiled into the binary as trace_assets, plus the web
 * UI's shared style sheet and icon), the JSON the page fetches (the trace's
 * summary, time windows, one item's details, search, derived views) and the
 * derived views' pprof downloads; the rules on parameters (a malformed time
 * range is a 400, an unknown path a 404).
 *
 * It does not decode or index (trace_web_index.c does, once, before the
 * server starts) and it draws nothing (web/trace/). The listening socket,
 * the loopback-only rule and opening the browser are the web UI's
 * (webui.c). Requests are answered one at a time on the server's one thread.
 * The derived views (trace_views.c) need a second decode: they are built on
 * the first request for one and kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/trace_export.h"
#include "cli/trace_views.h"
#include "cli/trace_web.h"
#include "cli/webui.h"
#include "runtime/trace.h"

struct server {
	const uint8_t *data;
	size_t len;
	const char *path;
	struct trace_index *ix;
	struct trace_views *views; /* built on first use */
	bool local_only;
};

static const char *param(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
	return v && v[0] ? v : NULL;
}

/* A decimal integer parameter in [lo, hi]; -1 with a reason in err when absent or malformed. */
static int param_int(struct MHD_Connection *c, const char *name, int64_t lo, int64_t hi, int64_t *out, char *err,
		     size_t errlen)
{
	const char *v = param(c, name);
	if (!v) {
		snprintf(err, errlen, "parameter %s is missing\n", name);
		return -1;
	}
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (*end || errno || x < lo || x > hi) {
		snprintf(err, errlen, "invalid value \"%.64s\" for parameter %s (an integer from %" PRId64 " to %" PRId64
				      ")\n",
			 v, name, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return (enum MHD_Result)cprof__webui_respond(c, status, "text/plain; charset=utf-8", (void *)msg, strlen(msg), MHD_RESPMEM_MUST_COPY, NULL);
}

static enum MHD_Result respond_buf(struct MHD_Connection *c, struct buf *b, const char *type,
				   const char *disposition)
{
	if (b->err) {
		cprof__buf_release(b);
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	size_t len;
	uint8_t *p = cprof__buf_detach(b, &len);
	if (!p)
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return (enum MHD_Result)cprof__webui_respond(c, MHD_HTTP_OK, type, p, len, MHD_RESPMEM_MUST_FREE, disposition);
}

static enum MHD_Result redirect(struct MHD_Connection *c, const char *to)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, to);
	enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_TEMPORARY_REDIRECT, r);
	MHD_destroy_response(r);
	return ok;
}

/* ---- routes ---- */

static const struct webui_asset *asset(const char *name)
{
	for (size_t k = 0; k < trace_nassets; k++)
		if (strcmp(trace_assets[k].name, name) == 0)
			return &trace_assets[k];
	/* the web UI's style sheet and icon, shared */
	if (strcmp(name, "style.css") == 0 || strcmp(name, "favicon.svg") == 0)
		for (size_t k = 0; k < webui_nassets; k++)
			if (strcmp(webui_assets[k].name, name) == 0)
				return &webui_assets[k];
	return NULL;
}

static const char *const pages[] = {"timeline", "sync", "syscall", "wakeup", "tasks", "regions"};

static enum MHD_Result data(struct server *s, struct MHD_Connection *c, const char *what)
{
	char err[512] = "";
	struct buf b;
	cprof__buf_init(&b, 0);
	int rc = 0;
	if (strcmp(what, "meta") == 0) {
		rc = cprof__trace_index_meta(s->ix, &b);
	} else if (strcmp(what, "window") == 0) {
		int64_t t0, t1, px;
		if (param_int(c, "t0", INT64_MIN / 4, INT64_MAX / 4, &t0, err, sizeof err) < 0 ||
		    param_int(c, "t1", INT64_MIN / 4, INT64_MAX / 4, &t1, err, sizeof err) < 0 ||
		    param_int(c, "px", 1, 20000, &px, err, sizeof err) < 0)
			return respond_text(c, MHD_HTTP_BAD_REQUEST, err);
		if (t1 <= t0)
			return respond_text(c, MHD_HTTP_BAD_REQUEST, "an empty time range: t1 must be after t0\n");
		rc = cprof__trace_index_window(s->ix, t0, t1, (int)px, &b);
	} else if (strcmp(what, "item") == 0) {
		int64_t tid = 0, d = 0, i;
		const char *k = param(c, "k");
		if (!k)
			return respond_text(c, MHD_HTTP_BAD_REQUEST, "parameter k is missing\n");
		if ((strcmp(k, "task") != 0 && param_int(c, "tid", INT32_MIN, INT32_MAX, &tid, err, sizeof err) < 0) ||
		    ((strcmp(k, "region") == 0 || strcmp(k, "task") == 0) &&
		     param_int(c, "d", 0, 1 << 20, &d, err, sizeof err) < 0) ||
		    param_int(c, "i", 0, INT64_MAX / 2, &i, err, sizeof err) < 0)
			return respond_text(c, MHD_HTTP_BAD_REQUEST, err);
		rc = cprof__trace_index_item(s->ix, k, (int32_t)tid, (int)d, i, &b, err, sizeof err);
		if (rc == -EINVAL) {
			cprof__buf_release(&b);
			strncat(err, "\n", sizeof err - strlen(err) - 1);
			return respond_text(c, MHD_HTTP_NOT_FOUND, err);
		}
	} else if (strcmp(what, "search") == 0) {
		const char *q = param(c, "q");
		int64_t max = 1000;
		if (!q)
			return respond_text(c, MHD_HTTP_BAD_REQUEST, "parameter q is missing\n");
		if (param(c, "max") && param_int(c, "max", 0, 100000, &max, err, sizeof err) < 0)
			return respond_text(c, MHD_HTTP_BAD_REQUEST, err);
		rc = cprof__trace_index_search(s->ix, q, (int)max, &b, err, sizeof err);
	} else if (strcmp(what, "view") == 0) {
		const char *name = param(c, "name");
		if (!name)
			return respond_text(c, MHD_HTTP_BAD_REQUEST, "parameter name is missing\n");
		rc = cprof__trace_web_view(s->data, s->len, &s->views, name, param(c, "region"), &b, err, sizeof err);
		if (rc == -ENOENT) {
			cprof__buf_release(&b);
			return respond_text(c, MHD_HTTP_NOT_FOUND, err);
		}
	} else {
		return respond_text(c, MHD_HTTP_NOT_FOUND, "no such data\n");
	}
	if (rc == -ENOMEM || b.err) {
		cprof__buf_release(&b);
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	if (rc < 0) {
		cprof__buf_release(&b);
		strncat(err, "\n", sizeof err - strlen(err) - 1);
		return respond_text(c, MHD_HTTP_BAD_REQUEST, err);
	}
	return respond_buf(c, &b, "application/json", NULL);
}

/* /trace/pprof?kind=sync|syscall|sched[&region=NAME]: the profile cprof trace -pprof writes. */
static enum MHD_Result download(struct server *s, struct MHD_Connection *c)
{
	const char *k = param(c, "kind");
	int kind = k ? cprof__trace_view_kind_parse(k) : 0;
	if (!kind)
		return respond_text(c, MHD_HTTP_BAD_REQUEST, "parameter kind: want sync, syscall or sched\n");
	uint8_t *prof = NULL;
	size_t len = 0;
	uint64_t episodes;
	int64_t total;
	struct trace_info info;
	char err[512] = "";
	int rc = cprof__trace_export_pprof(s->data, s->len, kind, param(c, "region"), &prof, &len, &episodes, &total,
					   &info, err, sizeof err);
	if (rc != 0) {
		free(prof);
		if (rc == -ENOMEM)
			return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		strncat(err, "\n", sizeof err - strlen(err) - 1);
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	}
	char disp[96];
	snprintf(disp, sizeof disp, "attachment;filename=%s.pb.gz", cprof__trace_view_kind_name(kind));
	return (enum MHD_Result)cprof__webui_respond(c, MHD_HTTP_OK, "application/octet-stream", prof, len, MHD_RESPMEM_MUST_FREE, disp);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct server *s = cls;
	(void)version, (void)upload_data, (void)upload_data_size, (void)con_cls;
	if (s->local_only && !cprof__webui_client_local(c))
		return respond_text(c, MHD_HTTP_FORBIDDEN, "permission denied\n");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served\n");
	if (strcmp(url, "/") == 0 || strcmp(url, "/trace") == 0 || strcmp(url, "/trace/") == 0)
		return redirect(c, "/trace/timeline");
	if (strncmp(url, "/trace/", 7) != 0)
		return respond_text(c, MHD_HTTP_NOT_FOUND, "not found; the viewer is under /trace/\n");
	const char *path = url + 7;
	for (size_t k = 0; k < sizeof pages / sizeof pages[0]; k++)
		if (strcmp(path, pages[k]) == 0)
			path = "static/trace.html";
	if (strncmp(path, "static/", 7) == 0) {
		const struct webui_asset *a = asset(path + 7);
		if (!a)
			return respond_text(c, MHD_HTTP_NOT_FOUND, "no such file\n");
		return (enum MHD_Result)cprof__webui_respond(c, MHD_HTTP_OK, a->type, (void *)a->data, a->len, MHD_RESPMEM_PERSISTENT, NULL);
	}
	if (strncmp(path, "data/", 5) == 0)
		return data(s, c, path + 5);
	if (strcmp(path, "pprof") == 0)
		return download(s, c);
	return respond_text(c, MHD_HTTP_NOT_FOUND, "no such page\n");
}

int cprof__trace_web_serve(const char *path, const uint8_t *data, size_t len, const char *addr, bool no_browser)
{
	char url[512], err[512];
	bool local = true;
	int fd = cprof__webui_listen("trace", addr, &local, url, sizeof url);
	if (fd < 0)
		return fd == -2 ? 2 : 1;
	struct trace_index *ix = cprof__trace_index_new(data, len, err, sizeof err);
	if (!ix) {
		close(fd);
		cli_error("trace: %s: %s", path, err);
		return 1;
	}
	if (cprof__trace_index_info(ix)->truncated)
		cli_error("trace: %s: the file is cut short; showing it up to its last whole chunk", path);
	struct server s = {data, len, path, ix, NULL, local};
	/* SIGINT/SIGTERM stop the server: blocked here (the server's thread inherits it), awaited below. */
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	signal(SIGPIPE, SIG_IGN);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
						handle, &s, MHD_OPTION_LISTEN_SOCKET, fd,
						MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
	int rc = 0;
	if (!d) {
		cli_error("trace: -http: starting the HTTP server failed");
		rc = 1;
	} else {
		printf("Serving trace viewer on %s\n", url);
		fflush(stdout);
		if (!no_browser) {
			char page[600];
			snprintf(page, sizeof page, "%s/trace/", url);
			cprof__webui_open_browser(page);
		}
		int sig = 0;
		while (sigwait(&stop, &sig) != 0)
			;
		MHD_stop_daemon(d);
	}
	close(fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	cprof__trace_index_free(ix);
	cprof__trace_views_free(s.views);
	return rc;
}
