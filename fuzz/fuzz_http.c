/*
 * fuzz_http.c - the /debug/pprof request layer (src/runtime/http_req.c)
 * on arbitrary requests, with a fake backend that answers like the runtime
 * (profiles, a timed capture, a busy CPU profiler, symbol names).
 *
 * Input: one byte of settings (bit 0: a token is required; bit 1: the body
 * is over the limit), then "METHOD\nTARGET\nAUTHORIZATION\n" and the body.
 * Checks what every response must be: a known status, a content type, a
 * bounded body, and for errors pprof shows, X-Go-Pprof.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/http.h"

static bool info(void *arg, size_t i, struct http_profile_info *out)
{
	static const struct http_profile_info all[] = {
		{"heap", "live memory", false, false, 3},
		{"threads", "thread stacks", false, true, -1},
		{"off", "a profiler that is off", false, false, -1},
		{"wall", "wall-clock time", true, false, -1},
	};
	if (i >= sizeof all / sizeof all[0])
		return false;
	*out = all[i];
	return true;
}

static int snapshot(void *arg, const char *name, int debug, struct buf *out)
{
	if (strcmp(name, "off") == 0)
		return -ENODATA;
	cprof__buf_printf(out, "%s %d", name, debug);
	return out->err;
}

static int delta(void *arg, const char *name, int seconds, struct buf *out)
{
	if (strcmp(name, "off") == 0)
		return -ENODATA;
	cprof__buf_printf(out, "%s delta %d", name, seconds);
	return out->err;
}

static int capture(void *arg, const char *name, int seconds, int hz, struct buf *out)
{
	if (hz == 7)
		return -EBUSY;
	if (seconds == 13)
		return -ECANCELED;
	cprof__buf_printf(out, "%s %d %d", name, seconds, hz);
	return out->err;
}

static int symbolize(void *arg, const uint64_t *pcs, size_t n, struct buf *names)
{
	for (size_t i = 0; i < n; i++) {
		if (pcs[i] & 1)
			cprof__buf_printf(names, "fn_%llx", (unsigned long long)pcs[i]);
		cprof__buf_putc(names, 0);
	}
	return names->err;
}

static int cmdline(void *arg, struct buf *out)
{
	return cprof__buf_append(out, "prog\0-x", 7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	/* Three NUL-terminated lines, then the body (raw bytes). */
	char *line[3] = {"", "", NULL};
	char *p = text;
	size_t used = 0;
	for (int i = 0; i < 3; i++) {
		char *nl = memchr(p, '\n', size - 1 - used);
		if (!nl)
			break;
		*nl = 0;
		line[i] = p;
		used += (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	struct http_backend be = {
		.token = (flags & 1) ? "s3cret-token" : NULL,
		.max_seconds = 60,
		.profile_info = info,
		.snapshot = snapshot,
		.delta = delta,
		.capture = capture,
		.symbolize = symbolize,
		.cmdline = cmdline,
	};
	struct http_req rq = {
		.method = line[0],
		.target = line[1],
		.auth = line[2],
		.body = (const uint8_t *)p,
		.body_len = size - 1 - used,
		.body_too_large = (flags & 2) != 0,
	};
	struct http_resp rs;
	cprof__http_handle(&be, &rq, &rs);
	if (rs.status < 200 || rs.status > 599 || !rs.content_type || rs.body.len > CPROF_HTTP_MAX_RESPONSE)
		abort();
	if (rs.status >= 400 && rs.status != 404 && !rs.go_error)
		abort();
	if ((flags & 1) && rs.status != 401 && !strpbrk(line[1], "%+") && !strstr(line[1], "s3cret-token") && !strstr(line[2] ? line[2] : "", "s3cret-token"))
		abort(); /* served without the token */
	cprof__buf_release(&rs.body);
	free(text);
	return 0;
}
