/*
 * http.h - the /debug/pprof endpoint's request layer (http_req.c), apart
 * from the HTTP transport (http.c, libmicrohttpd) and from the profilers:
 * a request comes in as its method, raw request target, Authorization
 * header and body; a response goes out as status, headers and body. The
 * profiles themselves are asked of a backend, which http.c implements over
 * the runtime and the fuzz target (fuzz/fuzz_http.c) implements with fakes.
 *
 * Everything here runs on the endpoint's threads. Thread context.
 */
#ifndef CPROF_RUNTIME_HTTP_H
#define CPROF_RUNTIME_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Largest request body read (the symbol endpoint's address list). */
#define CPROF_HTTP_MAX_BODY (1u << 20)
/* Longest capture when CPROF_HTTP_MAX_SECONDS does not say. */
#define CPROF_HTTP_DEFAULT_MAX_SECONDS 300
/* Largest response body built (text dumps of very large profiles are cut). */
#define CPROF_HTTP_MAX_RESPONSE (256u << 20)

struct http_req {
	const char *method;  /* "GET", "POST", ... */
	const char *target;  /* raw request target: "/debug/pprof/heap?debug=1" */
	const char *auth;    /* Authorization header, NULL when absent */
	const uint8_t *body; /* request body (POST), may be NULL */
	size_t body_len;
	bool body_too_large; /* the transport stopped reading past CPROF_HTTP_MAX_BODY */
};

struct http_resp {
	int status;
	const char *content_type; /* static string */
	char disposition[160];    /* Content-Disposition value, "" for none */
	char location[64];        /* Location for redirects, "" for none */
	bool go_error;            /* an error pprof should show: X-Go-Pprof: 1 */
	bool auth_challenge;      /* 401: WWW-Authenticate: Bearer */
	struct buf body;
};

/* One profile the backend offers, for the index page and dispatch. */
struct http_profile_info {
	const char *name;
	const char *desc;
	bool timed;     /* a capture over seconds=N (like the CPU profile) */
	bool has_dump;  /* debug=2 gives a full dump (threads) */
	long count;     /* entries now, -1 when not cheap to say */
};

struct http_backend {
	void *arg;
	const char *token; /* required token, NULL when none */
	int max_seconds;
	/* The i-th profile (0..), false past the end. */
	bool (*profile_info)(void *arg, size_t i, struct http_profile_info *out);
	/* Snapshot of name: debug 0 gzipped proto, else text. 0, -ENOENT, -ENODATA, -ENOMEM. */
	int (*snapshot)(void *arg, const char *name, int debug, struct buf *out);
	/* Delta over seconds: gzipped proto. 0, -ENOENT, -ENODATA, -ECANCELED, -ENOMEM. */
	int (*delta)(void *arg, const char *name, int seconds, struct buf *out);
	/*
	 * Timed capture ("profile" is the CPU profile) over seconds at hz (0:
	 * default): gzipped proto. 0, -EBUSY (one already runs), -ENOENT,
	 * -ECANCELED (client gone or endpoint stopping), -ENOMEM.
	 */
	int (*capture)(void *arg, const char *name, int seconds, int hz, struct buf *out);
	/* Names of pcs[0..n): n NUL-terminated strings appended to names, "" when unknown. */
	int (*symbolize)(void *arg, const uint64_t *pcs, size_t n, struct buf *names);
	/* The command line, arguments separated by NUL. */
	int (*cmdline)(void *arg, struct buf *out);
};

/* Answer rq into rs (initialized here; release rs->body after sending). Thread. */
void cprof__http_handle(const struct http_backend *be, const struct http_req *rq, struct http_resp *rs);

/* Constant-time comparison of a presented token with the expected one. */
bool cprof__http_token_equal(const char *given, size_t given_len, const char *want);

#endif
