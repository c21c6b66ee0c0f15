/*
 * fetch.c - profiles over HTTP, as cmd/pprof fetches them: its adjustURL
 * (host:port[/path] taken as http://, the default path
 * /debug/pprof/profile, ?seconds=N from -seconds, the timeout defaults)
 * and a GET with libcurl whose errors read as pprof's ("server response:
 * 404 Not Found", with the body when a Go pprof endpoint explains itself
 * in text/plain with X-Go-Pprof). Also the POST the symbolz client uses,
 * and pprof's TLS options (-tls_ca, -tls_cert, -tls_key) for both.
 *
 * It does not parse profiles or print progress: load.c does.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/source/source.h"

#define MAX_BODY ((size_t)1 << 30)

/* ---- URLs ---- */

static bool scheme_char(char c, bool first)
{
	return isalpha((unsigned char)c) || (!first && (isdigit((unsigned char)c) || c == '+' || c == '-' || c == '.'));
}

/* Length of "scheme:" prefix (without ':'), 0 when none. */
static size_t scheme_len(const char *s)
{
	size_t i = 0;
	while (s[i] && scheme_char(s[i], i == 0))
		i++;
	return i > 0 && s[i] == ':' ? i : 0;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* url.QueryUnescape into a malloc'd string; NULL when invalid. */
static char *query_unescape(const char *s, size_t n)
{
	char *o = malloc(n + 1), *d = o;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			*d++ = ' ';
		} else if (s[i] == '%') {
			int h = i + 2 < n ? unhex(s[i + 1]) : -1, l = i + 2 < n ? unhex(s[i + 2]) : -1;
			if (h < 0 || l < 0) {
				free(o);
				return NULL;
			}
			*d++ = (char)(h << 4 | l);
			i += 2;
		} else {
			*d++ = s[i];
		}
	}
	*d = '\0';
	return o;
}

/* url.QueryEscape, appended to buf. */
static void query_escape(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);
	for (; *s && n + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			buf[n++] = (char)c;
		else if (c == ' ')
			buf[n++] = '+';
		else
			n += (size_t)snprintf(buf + n, cap - n, "%%%02X", c);
	}
	buf[n] = '\0';
}

struct kv {
	char *k, *v;
};

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

int cprof__source_adjust_url(const char *src, long long seconds, long long timeout,
			     char **url, long long *timeout_out, long long *duration_out)
{
	char buf[8192];
	size_t sl = scheme_len(src);
	if (sl && strncmp(src + sl, "://", 3) == 0 && src[sl + 3] && src[sl + 3] != '/') {
		snprintf(buf, sizeof(buf), "%s", src);
	} else if (sl == 4 && strncasecmp(src, "file", 4) == 0) {
		return -1;
	} else if (sl || (strchr(src, ':') && strchr(src, ':') < strchrnul(src, '/'))) {
		/* "host:port/path": url.Parse fails or sees a scheme; pprof retries as http:// */
		snprintf(buf, sizeof(buf), "http://%s", src);
	} else {
		return -1;
	}
	/* split scheme://host[:port] path ?query #fragment */
	char *hs = strstr(buf, "://") + 3;
	char *frag = strchr(hs, '#');
	if (frag)
		*frag = '\0';
	char *q = strchr(hs, '?');
	if (q)
		*q++ = '\0';
	char *path = strchr(hs, '/');
	char host[1024];
	snprintf(host, sizeof(host), "%.*s", (int)(path ? (size_t)(path - hs) : strlen(hs)), hs);
	if (!host[0])
		return -1;
	/* a port must be digits (url.Parse rejects "file:name" as http://file:name) */
	char *colon = strrchr(host, ':');
	if (colon && host[0] != '[') {
		for (char *c = colon + 1; *c; c++)
			if (!isdigit((unsigned char)*c))
				return -1;
	}
	char scheme[64];
	snprintf(scheme, sizeof(scheme), "%.*s", (int)(strstr(buf, "://") - buf), buf);
	for (char *c = scheme; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!path || !path[0] || strcmp(path, "/") == 0)
		path = "/debug/pprof/profile";

	/* the query, as url.Values: decoded pairs, sorted by key on output */
	struct kv kvs[64];
	size_t nkv = 0;
	long long duration = seconds > 0 ? seconds : 0;
	for (char *save = NULL, *pr = q ? strtok_r(q, "&", &save) : NULL; pr && nkv < 64;
	     pr = strtok_r(NULL, "&", &save)) {
		if (strchr(pr, ';'))
			continue;
		char *eq = strchr(pr, '=');
		char *k = query_unescape(pr, eq ? (size_t)(eq - pr) : strlen(pr));
		char *v = eq ? query_unescape(eq + 1, strlen(eq + 1)) : strdup("");
		if (!k || !v) {
			free(k);
			free(v);
			continue;
		}
		if (!*k) {
			free(k);
			free(v);
			continue;
		}
		if (strcmp(k, "seconds") == 0 && seconds > 0) {
			free(k);
			free(v);
			continue;
		}
		if (strcmp(k, "seconds") == 0 && seconds <= 0 && duration == 0) {
			char *end;
			errno = 0;
			long long us = strtoll(v, &end, 10);
			if (*v && !*end && !errno && us >= -2147483648LL && us <= 2147483647LL)
				duration = us > 0 ? us : 0;
		}
		kvs[nkv++] = (struct kv){k, v};
	}
	char sec[32];
	if (seconds > 0 && nkv < 64) {
		snprintf(sec, sizeof(sec), "%lld", seconds);
		kvs[nkv].k = strdup("seconds");
		kvs[nkv].v = strdup(sec);
		if (kvs[nkv].k && kvs[nkv].v)
			nkv++;
		else {
			free(kvs[nkv].k);
			free(kvs[nkv].v);
		}
	}
	/* sort.Strings on keys; values of one key keep their order (stable) */
	for (size_t i = 1; i < nkv; i++)
		for (size_t j = i; j > 0 && kv_cmp(&kvs[j - 1], &kvs[j]) > 0; j--) {
			struct kv t = kvs[j];
			kvs[j] = kvs[j - 1];
			kvs[j - 1] = t;
		}
	char query[4096] = "";
	for (size_t i = 0; i < nkv; i++) {
		if (i)
			strncat(query, "&", sizeof(query) - strlen(query) - 1);
		query_escape(query, sizeof(query), kvs[i].k);
		strncat(query, "=", sizeof(query) - strlen(query) - 1);
		query_escape(query, sizeof(query), kvs[i].v);
		free(kvs[i].k);
		free(kvs[i].v);
	}
	if (timeout <= 0)
		timeout = duration > 0 ? duration + duration / 2 : 60;
	size_t need = strlen(scheme) + strlen(host) + strlen(path) + strlen(query) + 8;
	*url = malloc(need);
	if (!*url)
		return -1;
	snprintf(*url, need, "%s://%s%s%s%s", scheme, host, path, query[0] ? "?" : "", query);
	*timeout_out = timeout;
	*duration_out = duration;
	return 0;
}

/* ---- HTTP ---- */

struct resp {
	uint8_t *body;
	size_t len, cap;
	bool too_big;
	char status[256];  /* "404 Not Found" */
	bool go_pprof;     /* X-Go-Pprof present */
	bool text_plain;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct resp *r = ud;
	size_t n = size * nmemb;
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 65536;
		while (cap < r->len + n + 1)
			cap *= 2;
		uint8_t *nb = cap <= MAX_BODY ? realloc(r->body, cap) : NULL;
		if (!nb) {
			r->too_big = true;
			return 0;
		}
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct resp *r = ud;
	size_t n = size * nmemb, l = n;
	while (l && (ptr[l - 1] == '\n' || ptr[l - 1] == '\r'))
		l--;
	if (l >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or 100 Continue) */
		const char *sp = memchr(ptr, ' ', l);
		snprintf(r->status, sizeof(r->status), "%.*s", sp ? (int)(l - (size_t)(sp + 1 - ptr)) : 0,
			 sp ? sp + 1 : "");
		r->go_pprof = r->text_plain = false;
		r->len = 0;
	} else if (l > 11 && strncasecmp(ptr, "X-Go-Pprof:", 11) == 0) {
		const char *v = ptr + 11;
		while (v < ptr + l && (*v == ' ' || *v == '\t'))
			v++;
		r->go_pprof = v < ptr + l;
	} else if (l > 13 && strncasecmp(ptr, "Content-Type:", 13) == 0) {
		r->text_plain = memmem(ptr, l, "text/plain", 10) != NULL;
	}
	return n;
}

/* -tls_ca, -tls_cert, -tls_key: NULL or "" when not given */
static const char *tls_ca, *tls_cert, *tls_key;

void cprof__source_set_tls(const char *ca, const char *cert, const char *key)
{
	tls_ca = ca && ca[0] ? ca : NULL;
	tls_cert = cert && cert[0] ? cert : NULL;
	tls_key = key && key[0] ? key : NULL;
}

/* pprof's transport.initialize: the same checks, with its messages. */
static int tls_check(char *err, size_t errlen)
{
	if (!tls_cert && tls_key) {
		snprintf(err, errlen, "-tls_key is specified, so -tls_cert must also be specified");
		return -1;
	}
	if (tls_cert && !tls_key) {
		snprintf(err, errlen, "-tls_cert is specified, so -tls_key must also be specified");
		return -1;
	}
	const char *files[] = {tls_cert, tls_key, tls_ca};
	for (int i = 0; i < 3; i++) {
		FILE *f = files[i] ? fopen(files[i], "r") : NULL;
		if (files[i] && !f) {
			snprintf(err, errlen, "%s: open %s: %s",
				 i < 2 ? "could not load certificate/key pair specified by -tls_cert "
					 "and -tls_key" : "could not load CA specified by -tls_ca",
				 files[i], strerror(errno));
			return -1;
		}
		if (f)
			fclose(f);
	}
	return 0;
}

static int request(const char *url, const char *post, long long timeout, struct resp *r,
		   char *err, size_t errlen, const char *what)
{
	if (tls_check(err, errlen) < 0)
		return -1;
	static bool inited;
	if (!inited) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = true;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "%s: cannot start libcurl", what);
		return -1;
	}
	char cerr[CURL_ERROR_SIZE] = "";
	char *u = strdup(url);
	if (!u) {
		curl_easy_cleanup(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* https+insecure:// is https without certificate checks, as in cmd/pprof */
	bool insecure = strncasecmp(u, "https+insecure://", 17) == 0;
	if (insecure)
		memmove(u + 5, u + 14, strlen(u + 14) + 1);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cprof/" CPROF_VERSION);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	if (timeout > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(timeout + 5));
	if (insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (tls_ca) {
		/* like Go's RootCAs: only these CAs, not the system's */
		curl_easy_setopt(c, CURLOPT_CAINFO, tls_ca);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	}
	if (tls_cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, tls_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, tls_key);
	}
	struct curl_slist *hdrs = NULL;
	if (post) {
		hdrs = curl_slist_append(NULL, "Content-Type: application/octet-stream");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	}
	CURLcode rc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(u);
	if (rc != CURLE_OK) {
		const char *hint = "";
		if (rc == CURLE_COULDNT_CONNECT)
			hint = "; is the server running, and listening on that address and port?";
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			hint = "; a longer -timeout may help";
		else if (rc == CURLE_COULDNT_RESOLVE_HOST)
			hint = "; check the host name";
		snprintf(err, errlen, "%s: %s: %s%s", what, url,
			 r->too_big ? "response larger than 1 GiB" : cerr[0] ? cerr : curl_easy_strerror(rc), hint);
		return -1;
	}
	if (code != 200) {
		if (r->go_pprof && r->text_plain) {
			int bl = r->len > 4096 ? 4096 : (int)r->len;
			snprintf(err, errlen, "server response: %s - %.*s", r->status, bl,
				 r->body ? (const char *)r->body : "");
		} else {
			snprintf(err, errlen, "server response: %s", r->status);
		}
		return -1;
	}
	return 0;
}

int cprof__source_http_get(const char *url, long long timeout, uint8_t **body, size_t *len,
			   char *err, size_t errlen)
{
	struct resp r = {0};
	if (request(url, NULL, timeout, &r, err, errlen, "http fetch") < 0) {
		free(r.body);
		return -1;
	}
	*body = r.body;
	*len = r.len;
	return 0;
}

int cprof__source_http_post(const char *url, const char *data, uint8_t **body, size_t *len,
			    char *err, size_t errlen)
{
	struct resp r = {0};
	char what[1100];
	snprintf(what, sizeof(what), "http post %.1000s", url);
	if (request(url, data, 0, &r, err, errlen, what) < 0) {
		if (strncmp(err, "server response", 15) == 0) {
			char tmp[1024];
			snprintf(tmp, sizeof(tmp), "%s", err);
			snprintf(err, errlen, "%s: %s", what, tmp);
		}
		free(r.body);
		return -1;
	}
	if (!r.body)
		r.body = malloc(1);
	if (r.body)
		r.body[r.len] = 0;
	*body = r.body;
	*len = r.len;
	return 0;
}
