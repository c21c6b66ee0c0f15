/*
 * http_req.c - what the /debug/pprof endpoint answers, as net/http/pprof
 * answers it: routing of the request target, query parameters with Go's
 * parsing rules, the token check, the index page, the symbol protocol, the
 * cmdline, and errors the way pprof shows them (text/plain with
 * X-Go-Pprof: 1). Profiles are asked of a backend (http.h).
 *
 * It owns no sockets and no threads (http.c) and builds no profiles
 * (lookup.c, prof_*.c), so the fuzz target drives it directly. Every input
 * is untrusted: lengths are bounded and nothing is assumed terminated
 * except the strings http.h says are.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/http.h"

#define MAX_PARAMS 32
#define PREFIX "/debug/pprof/"
#define MAX_SYMBOL_PCS (1u << 17)

struct params {
	char *key[MAX_PARAMS];
	char *val[MAX_PARAMS];
	size_t n;
	char *raw; /* the undecoded query, for the symbol endpoint */
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) into a new string; plus: '+' means space (query). NULL on bad escape or OOM. */
static char *unescape(const char *s, size_t n, bool plus)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			int a = hexval((unsigned char)s[i + 1]), b = hexval((unsigned char)s[i + 2]);
			if (a < 0 || b < 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(a * 16 + b);
			i += 2;
		} else if (plus && s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = 0;
	return out;
}

static void params_release(struct params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->key[i]);
		free(p->val[i]);
	}
	free(p->raw);
	p->n = 0;
}

/* Go's url.ParseQuery: "&"-separated key=value pairs; bad pairs are skipped. -ENOMEM only. */
static int params_parse(struct params *p, const char *q)
{
	memset(p, 0, sizeof *p);
	p->raw = strdup(q);
	if (!p->raw)
		return -ENOMEM;
	while (*q) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;
		if (len > 0 && p->n < MAX_PARAMS) {
			char *k = unescape(q, klen, true);
			char *v = eq ? unescape(eq + 1, len - klen - 1, true) : strdup("");
			if (k && v) {
				p->key[p->n] = k;
				p->val[p->n] = v;
				p->n++;
			} else {
				free(k);
				free(v);
			}
		}
		q += len;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* The first value of key (Go's FormValue), "" when absent. */
static const char *param(const struct params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			return p->val[i];
	return "";
}

static bool has_param(const struct params *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->key[i], key) == 0)
			return true;
	return false;
}

/* Go's strconv.ParseInt(s, 10, 64); false on any error. */
static bool parse_int(const char *s, long long *out)
{
	const char *d = s;
	bool neg = false;
	if (*d == '+' || *d == '-')
		neg = *d++ == '-';
	if (!*d)
		return false;
	unsigned long long v = 0;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return false;
		if (v > (9223372036854775808ull - (unsigned)(*d - '0')) / 10)
			return false;
		v = v * 10 + (unsigned)(*d - '0');
	}
	if (!neg && v > 9223372036854775807ull)
		return false;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

/* Go's strconv.ParseUint(s, 0, 64) (without digit separators). */
static bool parse_uint0(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2, n -= 2;
	else if (n >= 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, s += 2, n -= 2;
	else if (n >= 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, s += 2, n -= 2;
	else if (n >= 2 && s[0] == '0')
		base = 8, s += 1, n -= 1;
	if (n == 0)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = hexval((unsigned char)s[i]);
		if (d < 0 || (unsigned)d >= base)
			return false;
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return false;
		v = v * base + (unsigned)d;
	}
	*out = v;
	return true;
}

bool cprof__http_token_equal(const char *given, size_t given_len, const char *want)
{
	size_t wl = strlen(want);
	/* Walk the expected token whatever was given: time depends on its length only. */
	unsigned char diff = (unsigned char)(given_len != wl);
	for (size_t i = 0; i < wl; i++) {
		unsigned char g = i < given_len ? (unsigned char)given[i] : 0;
		diff |= g ^ (unsigned char)want[i];
	}
	return diff == 0 && wl > 0;
}

static bool authorized(const struct http_backend *be, const struct http_req *rq, const struct params *p)
{
	if (!be->token)
		return true;
	bool ok = false;
	if (rq->auth && strncasecmp(rq->auth, "Bearer ", 7) == 0) {
		const char *t = rq->auth + 7;
		while (*t == ' ')
			t++;
		size_t n = strlen(t);
		while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
			n--;
		ok = cprof__http_token_equal(t, n, be->token);
	}
	if (!ok && has_param(p, "token")) {
		const char *t = param(p, "token");
		ok = cprof__http_token_equal(t, strlen(t), be->token);
	}
	return ok;
}

/* ---- responses ---- */

#define TEXT "text/plain; charset=utf-8"

static void go_error(struct http_resp *rs, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void go_error(struct http_resp *rs, int status, const char *fmt, ...)
{
	rs->status = status;
	rs->content_type = TEXT;
	rs->go_error = true;
	rs->disposition[0] = 0;
	cprof__buf_release(&rs->body);
	cprof__buf_init(&rs->body, CPROF_HTTP_MAX_RESPONSE);
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cprof__buf_printf(&rs->body, "%s\n", msg);
}

/* An error code from the backend as the response pprof shows. */
static void backend_error(struct http_resp *rs, int rc, const char *name)
{
	switch (rc) {
	case -ENOENT:
		go_error(rs, 404, "Unknown profile");
		break;
	case -ENODATA:
		go_error(rs, 404, "%s profile: this profiler is off in this process (see cprof help run)", name);
		break;
	case -ECANCELED:
		go_error(rs, 503, "profile collection canceled: the client went away or the endpoint is stopping");
		break;
	case -EFBIG:
		go_error(rs, 500, "%s profile: response larger than the endpoint's limit", name);
		break;
	default:
		go_error(rs, 500, "%s profile: %s", name, strerror(-rc));
		break;
	}
}

static void ok_proto(struct http_resp *rs, const char *filename)
{
	rs->status = 200;
	rs->content_type = "application/octet-stream";
	snprintf(rs->disposition, sizeof rs->disposition, "attachment; filename=\"%s\"", filename);
}

static void ok_text(struct http_resp *rs)
{
	rs->status = 200;
	rs->content_type = TEXT;
}

/* ---- endpoints ---- */

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct http_profile_info *)a)->name, ((const struct http_profile_info *)b)->name);
}

static void html_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': cprof__buf_puts(b, "&lt;"); break;
		case '>': cprof__buf_puts(b, "&gt;"); break;
		case '&': cprof__buf_puts(b, "&amp;"); break;
		case '"': cprof__buf_puts(b, "&#34;"); break;
		case '\'': cprof__buf_puts(b, "&#39;"); break;
		default: cprof__buf_putc(b, (uint8_t)*s);
		}
	}
}

static void serve_index(const struct http_backend *be, struct http_resp *rs)
{
	struct http_profile_info all[64];
	size_t n = 0;
	bool dump = false;
	all[n++] = (struct http_profile_info){"cmdline", "The command line invocation of the current program",
					      false, false, 0};
	all[n++] = (struct http_profile_info){
		"profile",
		"CPU profile. You can specify the duration in the seconds GET parameter (and the sampling rate "
		"in hz). After you get the profile file, use the go tool pprof command (or cprof pprof) to "
		"investigate the profile.",
		true, false, 0};
	all[n++] = (struct http_profile_info){
		"trace",
		"An execution trace of the program (threads, tasks, regions, log messages, counters, blocking "
		"episodes, CPU samples). You can "
		"specify the duration in the seconds GET parameter, or ask for the flight recorder's last moments "
		"with flight=1. Read it with cprof trace.",
		true, false, 0};
	all[n++] = (struct http_profile_info){"symbol", "Maps program counters to function names (pprof's "
							"remote symbolization)", false, false, 0};
	for (size_t i = 0; n < 64; i++) {
		struct http_profile_info pi;
		if (!be->profile_info(be->arg, i, &pi))
			break;
		all[n++] = pi;
		dump = dump || pi.has_dump;
	}
	qsort(all, n, sizeof all[0], cmp_info);
	struct buf *b = &rs->body;
	ok_text(rs);
	rs->content_type = "text/html; charset=utf-8";
	cprof__buf_puts(b, "<html>\n<head>\n<title>/debug/pprof/</title>\n<style>\n"
			   ".profile-name{\n\tdisplay:inline-block;\n\twidth:6rem;\n}\n</style>\n</head>\n<body>\n"
			   "/debug/pprof/\n<br>\n<p>Set debug=1 as a query parameter to export in legacy text "
			   "format</p>\n<br>\nTypes of profiles available:\n<table>\n"
			   "<thead><td>Count</td><td>Profile</td></thead>\n");
	for (size_t i = 0; i < n; i++) {
		cprof__buf_puts(b, "<tr><td>");
		if (all[i].count >= 0)
			cprof__buf_printf(b, "%ld", all[i].count);
		cprof__buf_puts(b, "</td><td><a href='");
		html_escaped(b, all[i].name);
		/* Snapshots open as text; captures and the rest as they are. */
		bool snap = !all[i].timed && strcmp(all[i].name, "cmdline") && strcmp(all[i].name, "symbol");
		cprof__buf_puts(b, snap ? "?debug=1'>" : "'>");
		html_escaped(b, all[i].name);
		cprof__buf_puts(b, "</a></td></tr>\n");
	}
	cprof__buf_puts(b, "</table>\n");
	if (dump)
		cprof__buf_puts(b, "<a href=\"threads?debug=2\">full thread stack dump</a>\n<br>\n");
	cprof__buf_puts(b, "<p>\nProfile Descriptions:\n<ul>\n");
	for (size_t i = 0; i < n; i++) {
		cprof__buf_puts(b, "<li><div class=profile-name>");
		html_escaped(b, all[i].name);
		cprof__buf_puts(b, ": </div> ");
		html_escaped(b, all[i].desc ? all[i].desc : "");
		cprof__buf_puts(b, "</li>\n");
	}
	cprof__buf_puts(b, "</ul>\n</p>\n</body>\n</html>\n");
}

static void serve_cmdline(const struct http_backend *be, struct http_resp *rs)
{
	ok_text(rs);
	int rc = be->cmdline(be->arg, &rs->body);
	if (rc != 0)
		backend_error(rs, rc, "cmdline");
}

static void serve_symbol(const struct http_backend *be, const struct http_req *rq, const struct params *p,
			 struct http_resp *rs)
{
	if (rq->body_too_large) {
		go_error(rs, 413, "request body larger than %u bytes", CPROF_HTTP_MAX_BODY);
		return;
	}
	const char *in;
	size_t len;
	if (strcmp(rq->method, "POST") == 0) {
		in = (const char *)rq->body;
		len = rq->body ? rq->body_len : 0;
	} else {
		in = p->raw;
		len = strlen(p->raw);
	}
	uint64_t *pcs = malloc(sizeof *pcs * (len / 2 + 1 < MAX_SYMBOL_PCS ? len / 2 + 1 : MAX_SYMBOL_PCS));
	if (!pcs) {
		go_error(rs, 500, "out of memory");
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < len && n < MAX_SYMBOL_PCS;) {
		size_t j = i;
		while (j < len && in[j] != '+')
			j++;
		size_t a = i, e = j;
		while (a < e && (in[a] == ' ' || in[a] == '\n' || in[a] == '\r' || in[a] == '\t'))
			a++;
		while (e > a && (in[e - 1] == ' ' || in[e - 1] == '\n' || in[e - 1] == '\r' || in[e - 1] == '\t'))
			e--;
		uint64_t pc;
		if (parse_uint0(in + a, e - a, &pc) && pc != 0)
			pcs[n++] = pc;
		i = j + 1;
	}
	struct buf names;
	cprof__buf_init(&names, CPROF_HTTP_MAX_RESPONSE);
	int rc = n ? be->symbolize(be->arg, pcs, n, &names) : 0;
	if (rc == 0 && names.err)
		rc = names.err;
	ok_text(rs);
	/* pprof only asks whether the number is zero (no symbols) or not. */
	cprof__buf_puts(&rs->body, "num_symbols: 1\n");
	const char *nm = (const char *)names.data;
	size_t off = 0;
	for (size_t i = 0; rc == 0 && i < n && off < names.len; i++) {
		const char *s = nm + off;
		size_t sl = strnlen(s, names.len - off);
		if (sl > 0)
			cprof__buf_printf(&rs->body, "%#llx %.*s\n", (unsigned long long)pcs[i], (int)sl, s);
		off += sl + 1;
	}
	cprof__buf_release(&names);
	free(pcs);
	if (rc != 0)
		backend_error(rs, rc, "symbol");
}

/* seconds=N for a capture: Go's rule (missing, bad or <= 0 means the default). -1 when over the limit. */
static int capture_seconds(const struct http_backend *be, const struct params *p, int dflt)
{
	long long s;
	if (!parse_int(param(p, "seconds"), &s) || s <= 0)
		s = dflt;
	if (s > be->max_seconds)
		return -1;
	return (int)s;
}

static void serve_capture(const struct http_backend *be, const char *name, const struct params *p,
			  struct http_resp *rs)
{
	/* Go's defaults: 30 s for the CPU profile, 1 s for a trace. */
	int secs = capture_seconds(be, p, strcmp(name, "trace") == 0 ? 1 : 30);
	if (secs < 0) {
		go_error(rs, 400, "profile duration exceeds the endpoint's limit of %d seconds "
				  "(CPROF_HTTP_MAX_SECONDS)", be->max_seconds);
		return;
	}
	long long hz = 0;
	if (has_param(p, "hz") && (!parse_int(param(p, "hz"), &hz) || hz < 1 || hz > 10000)) {
		go_error(rs, 400, "invalid value for \"hz\" - must be an integer from 1 to 10000");
		return;
	}
	int rc = be->capture(be->arg, name, secs, (int)hz, &rs->body);
	if (rc == -EBUSY && strcmp(name, "trace") == 0) {
		go_error(rs, 500, "Could not enable tracing: tracing already enabled");
	} else if (rc == -EBUSY) {
		bool cpu = strcmp(name, "profile") == 0;
		go_error(rs, 500, "Could not enable %s profiling: %s profiling already in use", cpu ? "CPU" : name,
			 cpu ? "cpu" : name);
	} else if (rc != 0) {
		backend_error(rs, rc, name);
	} else {
		ok_proto(rs, name);
	}
}

/* trace?flight=1: the flight recorder's last window, at once. */
static void serve_flight(const struct http_backend *be, struct http_resp *rs)
{
	int rc = be->capture(be->arg, "trace-flight", 0, 0, &rs->body);
	if (rc == -ESRCH)
		go_error(rs, 404, "the flight recorder is not running (start it with CPROF_TRACE_FLIGHT=FILE, "
				  "cprof run -trace-flight=FILE or cprof_trace_flight_start)");
	else if (rc != 0)
		backend_error(rs, rc, "trace");
	else
		ok_proto(rs, "trace");
}

static void serve_profile(const struct http_backend *be, const char *name, const struct params *p,
			  struct http_resp *rs)
{
	struct http_profile_info pi;
	bool found = false;
	for (size_t i = 0; !found && be->profile_info(be->arg, i, &pi); i++)
		found = strcmp(pi.name, name) == 0;
	if (!found) {
		go_error(rs, 404, "Unknown profile");
		return;
	}
	if (pi.timed) {
		serve_capture(be, pi.name, p, rs);
		return;
	}
	long long debug = 0;
	if (!parse_int(param(p, "debug"), &debug) || debug < 0 || debug > 1000)
		debug = 0; /* Go: strconv.Atoi, errors read as 0 */
	if (has_param(p, "seconds") && *param(p, "seconds")) {
		long long s;
		if (!parse_int(param(p, "seconds"), &s) || s <= 0) {
			go_error(rs, 400, "invalid value for \"seconds\" - must be a positive integer");
			return;
		}
		if (s > be->max_seconds) {
			go_error(rs, 400, "profile duration exceeds the endpoint's limit of %d seconds "
					  "(CPROF_HTTP_MAX_SECONDS)", be->max_seconds);
			return;
		}
		if (debug != 0) {
			go_error(rs, 400, "seconds and debug params are incompatible");
			return;
		}
		int rc = be->delta(be->arg, pi.name, (int)s, &rs->body);
		if (rc != 0) {
			backend_error(rs, rc, pi.name);
			return;
		}
		char fn[96];
		snprintf(fn, sizeof fn, "%s-delta", pi.name);
		ok_proto(rs, fn);
		return;
	}
	int rc = be->snapshot(be->arg, pi.name, (int)debug, &rs->body);
	if (rc != 0) {
		backend_error(rs, rc, pi.name);
		return;
	}
	if (debug > 0)
		ok_text(rs);
	else
		ok_proto(rs, pi.name);
}

void cprof__http_handle(const struct http_backend *be, const struct http_req *rq, struct http_resp *rs)
{
	memset(rs, 0, sizeof *rs);
	cprof__buf_init(&rs->body, CPROF_HTTP_MAX_RESPONSE);
	rs->status = 500;
	rs->content_type = TEXT;
	const char *m = rq->method ? rq->method : "";
	const char *t = rq->target ? rq->target : "";
	struct params p;
	memset(&p, 0, sizeof p);
	char *path = NULL;
	int bad = 0; /* 1: not an origin-form target, 2: bad escape, 3: out of memory */
	if (t[0] != '/') {
		bad = 1;
	} else {
		size_t plen = strcspn(t, "?#");
		path = unescape(t, plen, false);
		const char *q = t[plen] == '?' ? t + plen + 1 : "";
		char *qcopy = strndup(q, strcspn(q, "#"));
		if (!path)
			bad = 2;
		else if (!qcopy || params_parse(&p, qcopy) != 0)
			bad = 3;
		free(qcopy);
	}
	/* The token first: without it, nothing else about the request is answered. */
	if (!authorized(be, rq, &p)) {
		go_error(rs, 401, "unauthorized: this endpoint needs its token (CPROF_HTTP_TOKEN), sent as "
				  "\"Authorization: Bearer <token>\" or the token=<token> parameter");
		rs->auth_challenge = true;
	} else if (bad == 1) {
		go_error(rs, 400, "bad request target");
	} else if (bad == 2) {
		go_error(rs, 400, "invalid URL escape");
	} else if (bad == 3) {
		go_error(rs, 500, "out of memory");
	} else if (strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "POST")) {
		go_error(rs, 405, "method not allowed");
	} else if (strcmp(path, "/debug/pprof") == 0) {
		rs->status = 301;
		snprintf(rs->location, sizeof rs->location, "/debug/pprof/");
		cprof__buf_puts(&rs->body, "<a href=\"/debug/pprof/\">Moved Permanently</a>.\n");
		rs->content_type = "text/html; charset=utf-8";
	} else if (strncmp(path, PREFIX, strlen(PREFIX)) != 0) {
		rs->status = 404;
		rs->content_type = TEXT;
		cprof__buf_puts(&rs->body, "404 page not found\n");
	} else {
		const char *name = path + strlen(PREFIX);
		if (!*name)
			serve_index(be, rs);
		else if (strcmp(name, "cmdline") == 0)
			serve_cmdline(be, rs);
		else if (strcmp(name, "symbol") == 0)
			serve_symbol(be, rq, &p, rs);
		else if (strcmp(name, "profile") == 0)
			serve_capture(be, "profile", &p, rs);
		else if (strcmp(name, "trace") == 0 && has_param(&p, "flight") && strcmp(param(&p, "flight"), "0") != 0)
			serve_flight(be, rs);
		else if (strcmp(name, "trace") == 0)
			serve_capture(be, "trace", &p, rs);
		else
			serve_profile(be, strcmp(name, "goroutine") == 0 ? "threads" : name, &p, rs);
	}
	if (rs->body.err && !rs->go_error)
		go_error(rs, 500, "response larger than the endpoint's limit or out of memory");
	free(path);
	params_release(&p);
}
