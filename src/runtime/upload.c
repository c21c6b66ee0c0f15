/*
 * upload.c - the continuous collector's network destinations: a bounded
 * queue of batches and one uploader thread that posts them to Grafana
 * Pyroscope's /ingest (one multipart request per profile, with the
 * sample_type_config that marks deltas as such) or to the Datadog agent's
 * /profiling/v1/input (one multipart request per batch, with event.json).
 * Wire formats: docs/FORMAT.md.
 *
 * libcurl is loaded with dlopen when a network destination is first asked
 * for, so a program that does not upload never maps it. Each request has a
 * timeout; a failed one (transport error, 408, 429, 5xx) is retried a
 * bounded number of times with doubling waits; the queue holds a bounded
 * number of batches and, when full, drops the oldest and counts it. The
 * collector never waits for the network.
 *
 * It does not build profiles (continuous.c) or know their contents.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "cprof.h"
#include "runtime/continuous.h"
#include "runtime/rt.h"

#define MAX_QUEUE 64

/* libcurl, through dlopen. */
static struct {
	void *h;
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLcode (*global_init)(long);
} cl;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct cont_batch *q[MAX_QUEUE];
	size_t head, n;
	bool stopping, done;
	struct cont_batch *inflight; /* being sent by the uploader */
	bool abandoned; /* the stop gave up waiting: what is in flight was counted as dropped */
	int64_t deadline; /* monotonic ns after which nothing more is tried (stopping) */
	pthread_t th;
	const struct cont_config *cfg;
	char runtime_id[40];
	uint64_t rnd;
} up = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int load_curl(void)
{
	if (cl.h)
		return 0;
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		cprof__log("continuous: cannot load libcurl (libcurl.so.4): %s; install libcurl4 to upload "
			   "profiles; the collector is off",
			   dlerror());
		return -ENOENT;
	}
#define SYM(field, name)                                                   \
	do {                                                               \
		*(void **)&cl.field = dlsym(h, name);                      \
		if (!cl.field) {                                           \
			cprof__log("continuous: libcurl lacks %s; the collector is off", name); \
			dlclose(h);                                        \
			return -ENOENT;                                    \
		}                                                          \
	} while (0)
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
	SYM(global_init, "curl_global_init");
#undef SYM
	cl.global_init(CURL_GLOBAL_ALL);
	cl.h = h;
	return 0;
}

/* ---- request bodies ---- */

static void pct_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~') {
			cprof__buf_putc(b, c);
		} else {
			cprof__buf_putc(b, '%');
			cprof__buf_putc(b, (uint8_t)hex[c >> 4]);
			cprof__buf_putc(b, (uint8_t)hex[c & 15]);
		}
	}
}

static void part_head(struct buf *b, const char *boundary, const char *name, const char *filename,
		      const char *type)
{
	cprof__buf_printf(b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
			     "Content-Type: %s\r\n\r\n",
			  boundary, name, filename, type);
}

/* A Pyroscope label name: [A-Za-z_][A-Za-z0-9_]*. */
static void label_name(struct buf *b, const char *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
		cprof__buf_putc(b, ok ? (uint8_t)c : '_');
	}
}

/* name=SERVICE{version=..,host=..,pid=..,tags...}: the series' labels. */
static void pyroscope_name(struct buf *n, const struct cont_config *c)
{
	cprof__buf_printf(n, "%s{", c->service);
	if (c->version[0])
		cprof__buf_printf(n, "version=%s,", c->version);
	cprof__buf_printf(n, "host=%s,pid=%d", c->host, c->pid);
	const char *t = c->tags;
	while (*t) {
		const char *comma = strchr(t, ','), *end = comma ? comma : t + strlen(t);
		const char *colon = memchr(t, ':', (size_t)(end - t));
		if (colon) {
			cprof__buf_putc(n, ',');
			label_name(n, t, (size_t)(colon - t));
			cprof__buf_putc(n, '=');
			cprof__buf_append(n, colon + 1, (size_t)(end - colon - 1));
		}
		t = comma ? comma + 1 : end;
	}
	cprof__buf_putc(n, '}');
}

/*
 * sample_type_config: it replaces the server's defaults, so every type sent
 * is listed; types computed as deltas are marked "cumulative": false.
 */
static void type_config(struct buf *b, const struct cont_part *pt)
{
	cprof__buf_putc(b, '{');
	bool first = true;
	char types[sizeof pt->types];
	snprintf(types, sizeof types, "%s", pt->types);
	char *save = NULL;
	for (char *tu = strtok_r(types, ",", &save); tu; tu = strtok_r(NULL, ",", &save)) {
		char *slash = strchr(tu, '/');
		const char *unit = slash ? slash + 1 : "";
		if (slash)
			*slash = 0;
		const char *units = unit, *agg = "sum", *display = tu;
		char disp[64];
		bool sampled = false;
		if (strcmp(pt->kind, "cpu") == 0) {
			if (strcmp(tu, "samples") != 0)
				continue; /* as pyroscope-go: the series is the sample count, scaled by the period */
			units = "samples";
			display = "cpu";
			sampled = true;
		} else if (strncmp(tu, "inuse_", 6) == 0 || strncmp(tu, "alloc_", 6) == 0) {
			units = strstr(tu, "objects") ? "objects" : "bytes";
			agg = tu[0] == 'i' ? "average" : "sum";
		} else if (strcmp(tu, "contentions") == 0) {
			units = "lock_samples";
			snprintf(disp, sizeof disp, "%s_count", pt->kind);
			display = disp;
		} else if (strcmp(tu, "delay") == 0) {
			units = "lock_nanoseconds";
			snprintf(disp, sizeof disp, "%s_duration", pt->kind);
			display = disp;
		}
		cprof__buf_printf(b, "%s\"%s\":{\"units\":\"%s\",\"aggregation\":\"%s\",\"display-name\":\"%s\","
				     "\"sampled\":%s,\"cumulative\":false}",
				  first ? "" : ",", tu, units, agg, display, sampled ? "true" : "false");
		first = false;
	}
	cprof__buf_putc(b, '}');
}

static void rfc3339(char *out, size_t n, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char s[32];
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%09lldZ", s, (long long)(ns % 1000000000LL));
}

/* The attachment's name for the Datadog intake: deltas carry the "delta-" prefix. */
static void dd_name(char *out, size_t n, const struct cont_part *pt)
{
	snprintf(out, n, "%s%s.pprof", pt->delta ? "delta-" : "", pt->kind);
}

static void datadog_event(struct buf *b, const struct cont_config *c, const struct cont_batch *bt)
{
	char s[48], e[48];
	rfc3339(s, sizeof s, bt->start_wall);
	rfc3339(e, sizeof e, bt->end_wall);
	cprof__buf_printf(b, "{\"version\":\"4\",\"family\":\"native\",\"start\":\"%s\",\"end\":\"%s\",\"attachments\":[",
			  s, e);
	for (size_t i = 0; i < bt->nparts; i++) {
		char name[48];
		dd_name(name, sizeof name, &bt->part[i]);
		cprof__buf_printf(b, "%s\"%s\"", i ? "," : "", name);
	}
	cprof__buf_printf(b, "],\"tags_profiler\":\"service:%s,", c->service);
	if (c->version[0])
		cprof__buf_printf(b, "version:%s,", c->version);
	cprof__buf_printf(b, "host:%s,runtime:native,profiler_version:%s,profile_seq:%llu,runtime-id:%s,process_id:%d",
			  c->host, CPROF_VERSION_STRING, (unsigned long long)bt->seq, up.runtime_id, c->pid);
	if (c->tags[0])
		cprof__buf_printf(b, ",%s", c->tags);
	cprof__buf_printf(b, "\",\"internal\":{},\"info\":{\"profiler\":{\"activation\":\"manual\","
			     "\"ssi\":{\"mechanism\":\"none\"},\"settings\":{}}}}");
}

/* ---- sending ---- */

/* One POST. 0 on 2xx; 1 when worth retrying; -1 when not. why gets a reason. */
static int post(const char *url, struct curl_slist *hdr, const struct buf *body, const struct cont_config *c,
		bool basic, char *why, size_t whylen)
{
	CURL *h = cl.easy_init();
	if (!h) {
		snprintf(why, whylen, "libcurl: cannot create a handle");
		return 1;
	}
	long timeout = (long)c->timeout_ms;
	if (up.stopping) {
		int64_t left = (up.deadline - cprof__now_ns()) / 1000000;
		if (left < timeout)
			timeout = left > 1 ? (long)left : 1;
	}
	cl.easy_setopt(h, CURLOPT_URL, url);
	cl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	cl.easy_setopt(h, CURLOPT_POST, 1L);
	cl.easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)body->data);
	cl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	cl.easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	cl.easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
	cl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout < 5000 ? timeout : 5000L);
	cl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* never send credentials elsewhere */
	cl.easy_setopt(h, CURLOPT_USERAGENT, "cprof/" CPROF_VERSION_STRING);
	if (basic) {
		cl.easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		cl.easy_setopt(h, CURLOPT_USERNAME, c->user);
		cl.easy_setopt(h, CURLOPT_PASSWORD, c->password);
	}
	CURLcode rc = cl.easy_perform(h);
	long code = 0;
	if (rc == CURLE_OK)
		cl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	cl.easy_cleanup(h);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s: %s", url, cl.easy_strerror(rc));
		return 1;
	}
	if (code >= 200 && code < 300)
		return 0;
	snprintf(why, whylen, "%s: HTTP %ld", url, code);
	return code == 408 || code == 429 || code >= 500 ? 1 : -1;
}

static uint64_t rnd(void)
{
	up.rnd ^= up.rnd << 13;
	up.rnd ^= up.rnd >> 7;
	up.rnd ^= up.rnd << 17;
	return up.rnd;
}

/* Send one request with bounded retries. Returns 0 or -1 (given up, reason in why). */
static int send_retrying(const char *url, struct curl_slist *hdr, const struct buf *body, bool basic, char *why,
			 size_t whylen)
{
	const struct cont_config *c = up.cfg;
	for (int attempt = 0;; attempt++) {
		int r = post(url, hdr, body, c, basic, why, whylen);
		if (r <= 0)
			return r;
		if (attempt >= c->retries)
			return -1;
		/* Wait 1 s, 2 s, 4 s... (at most a period), with jitter; stop cuts it short. */
		int64_t wait = 1000000000LL << (attempt < 6 ? attempt : 6);
		if (wait > c->period_ns)
			wait = c->period_ns;
		wait = wait / 2 + (int64_t)(rnd() % (uint64_t)(wait / 2 + 1));
		pthread_mutex_lock(&up.lock);
		cprof__cont_lock();
		cprof__cont_stats.retries++;
		cprof__cont_unlock();
		int64_t until = cprof__now_ns() + wait;
		while (!up.stopping && cprof__now_ns() < until) {
			struct timespec ts = {(time_t)(until / 1000000000LL), (long)(until % 1000000000LL)};
			pthread_cond_timedwait(&up.cond, &up.lock, &ts);
		}
		bool stop = up.stopping;
		pthread_mutex_unlock(&up.lock);
		if (stop)
			return -1; /* at exit, one attempt each */
	}
}

static struct curl_slist *common_headers(const struct cont_config *c, const char *boundary)
{
	char h[1100];
	struct curl_slist *l = NULL;
	snprintf(h, sizeof h, "Content-Type: multipart/form-data; boundary=%s", boundary);
	l = cl.slist_append(l, h);
	l = cl.slist_append(l, "Expect:");
	if (c->dest == CONT_PYROSCOPE) {
		if (c->token[0]) {
			snprintf(h, sizeof h, "Authorization: Bearer %s", c->token);
			l = cl.slist_append(l, h);
		}
		if (c->tenant[0]) {
			snprintf(h, sizeof h, "X-Scope-OrgID: %s", c->tenant);
			l = cl.slist_append(l, h);
		}
	} else {
		l = cl.slist_append(l, "DD-EVP-ORIGIN: cprof");
		l = cl.slist_append(l, "DD-EVP-ORIGIN-VERSION: " CPROF_VERSION_STRING);
	}
	return l;
}

/* What one batch's requests delivered. */
struct delivered {
	size_t profiles, bytes;
};

static void count_result(struct delivered *d, int rc, size_t nprofiles, size_t bytes, const char *why)
{
	if (rc == 0) {
		d->profiles += nprofiles;
		d->bytes += bytes;
	} else {
		cprof__cont_error("%s", why);
	}
}

/* Post a batch; false when some of it was given up. What was delivered goes to *d. */
static bool send_batch(const struct cont_batch *bt, struct delivered *d)
{
	const struct cont_config *c = up.cfg;
	char boundary[64], why[1200] = "";
	snprintf(boundary, sizeof boundary, "cprof-%016llx%016llx", (unsigned long long)rnd(),
		 (unsigned long long)rnd());
	struct curl_slist *hdr = common_headers(c, boundary);
	bool ok = true;
	const char *base_end = c->target + strlen(c->target);
	while (base_end > c->target && base_end[-1] == '/')
		base_end--;
	int blen = (int)(base_end - c->target);
	if (c->dest == CONT_PYROSCOPE) {
		bool basic = c->user[0] || c->password[0];
		for (size_t i = 0; i < bt->nparts && !up.done; i++) {
			const struct cont_part *pt = &bt->part[i];
			struct buf name, url, body;
			cprof__buf_init(&name, 0);
			cprof__buf_init(&url, 0);
			cprof__buf_init(&body, 0);
			pyroscope_name(&name, c);
			cprof__buf_putc(&name, 0);
			cprof__buf_printf(&url, "%.*s/ingest?name=", blen, c->target);
			pct_encode(&url, (const char *)name.data);
			cprof__buf_printf(&url, "&from=%lld&until=%lld&spyName=cprof", (long long)(bt->start_wall / 1000000000LL),
					  (long long)((bt->end_wall + 999999999LL) / 1000000000LL));
			cprof__buf_putc(&url, 0);
			part_head(&body, boundary, "profile", "profile.pprof", "application/octet-stream");
			cprof__buf_append(&body, pt->gz, pt->len);
			cprof__buf_puts(&body, "\r\n");
			part_head(&body, boundary, "sample_type_config", "sample_type_config.json", "application/json");
			type_config(&body, pt);
			cprof__buf_printf(&body, "\r\n--%s--\r\n", boundary);
			int rc = url.err || body.err ? -1 : send_retrying((const char *)url.data, hdr, &body, basic, why, sizeof why);
			if (url.err || body.err)
				snprintf(why, sizeof why, "out of memory building a request");
			count_result(d, rc, 1, pt->len, why);
			ok = ok && rc == 0;
			cprof__buf_release(&name);
			cprof__buf_release(&url);
			cprof__buf_release(&body);
		}
	} else {
		struct buf url, body;
		cprof__buf_init(&url, 0);
		cprof__buf_init(&body, 0);
		cprof__buf_printf(&url, "%.*s/profiling/v1/input", blen, c->target);
		cprof__buf_putc(&url, 0);
		part_head(&body, boundary, "event", "event.json", "application/json");
		datadog_event(&body, c, bt);
		cprof__buf_puts(&body, "\r\n");
		size_t bytes = 0;
		for (size_t i = 0; i < bt->nparts; i++) {
			char name[48];
			dd_name(name, sizeof name, &bt->part[i]);
			part_head(&body, boundary, name, name, "application/octet-stream");
			cprof__buf_append(&body, bt->part[i].gz, bt->part[i].len);
			cprof__buf_puts(&body, "\r\n");
			bytes += bt->part[i].len;
		}
		cprof__buf_printf(&body, "--%s--\r\n", boundary);
		int rc = url.err || body.err ? -1 : send_retrying((const char *)url.data, hdr, &body, false, why, sizeof why);
		if (url.err || body.err)
			snprintf(why, sizeof why, "out of memory building a request");
		count_result(d, rc, bt->nparts, bytes, why);
		ok = rc == 0;
		cprof__buf_release(&url);
		cprof__buf_release(&body);
	}
	cl.slist_free_all(hdr);
	return ok;
}

static size_t batch_bytes(const struct cont_batch *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->nparts; i++)
		n += b->part[i].len;
	return n;
}

/* Drop every queued batch, counted as dropped at the stop. up.lock held. */
static void drop_queued(void)
{
	uint64_t left = up.n, profiles = 0;
	while (up.n > 0) {
		profiles += up.q[up.head]->nparts;
		cprof__cont_batch_free(up.q[up.head]);
		up.head = (up.head + 1) % MAX_QUEUE;
		up.n--;
	}
	cprof__cont_lock();
	cprof__cont_stats.dropped_stop += left;
	cprof__cont_stats.dropped_stop_profiles += profiles;
	cprof__cont_stats.queued = 0;
	cprof__cont_stats.queued_bytes = 0;
	cprof__cont_unlock();
}

static void *uploader(void *arg)
{
	(void)arg;
	cprof__heap_ignore_begin(); /* libcurl's memory and waits are the runtime's, not the program's */
	cprof__wait_guard++;
	cprof__cont_lower_priority(up.cfg);
	pthread_mutex_lock(&up.lock);
	for (;;) {
		while (up.n == 0 && !up.stopping)
			pthread_cond_wait(&up.cond, &up.lock);
		if (up.n == 0 || (up.stopping && cprof__now_ns() >= up.deadline))
			break;
		struct cont_batch *b = up.q[up.head];
		up.head = (up.head + 1) % MAX_QUEUE;
		up.n--;
		up.inflight = b;
		cprof__cont_lock();
		cprof__cont_stats.queued = up.n;
		cprof__cont_stats.queued_bytes -= batch_bytes(b);
		cprof__cont_unlock();
		pthread_mutex_unlock(&up.lock);
		struct delivered d = {0, 0};
		bool ok = send_batch(b, &d);
		pthread_mutex_lock(&up.lock);
		bool abandoned = up.abandoned; /* then the stop counted this batch already */
		up.inflight = NULL;
		pthread_mutex_unlock(&up.lock);
		if (!abandoned) {
			cprof__cont_lock();
			struct cont_stats *st = &cprof__cont_stats;
			st->sent += d.profiles;
			st->sent_bytes += d.bytes;
			if (d.profiles)
				st->last_sent_wall = cprof__wall_ns();
			if (ok) {
				st->sent_batches++;
			} else {
				st->dropped_failed++;
				st->dropped_failed_profiles += b->nparts - d.profiles;
			}
			cprof__cont_unlock();
		}
		cprof__cont_batch_free(b);
		cprof__cont_status_write();
		pthread_mutex_lock(&up.lock);
	}
	/* What is left at the deadline is dropped, and counted. */
	drop_queued();
	up.done = true;
	pthread_cond_broadcast(&up.cond);
	pthread_mutex_unlock(&up.lock);
	return NULL;
}

int cprof__upload_start(const struct cont_config *c)
{
	int rc = load_curl();
	if (rc != 0)
		return rc;
	up.cfg = c;
	up.head = up.n = 0;
	up.stopping = up.done = up.abandoned = false;
	up.inflight = NULL;
	uint8_t id[16];
	if (getrandom(id, sizeof id, GRND_NONBLOCK) != (ssize_t)sizeof id) {
		uint64_t t = (uint64_t)cprof__now_ns() ^ ((uint64_t)getpid() << 32);
		memcpy(id, &t, 8);
		t = (uint64_t)cprof__wall_ns() * 0x9e3779b97f4a7c15ull;
		memcpy(id + 8, &t, 8);
	}
	id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
	id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
	snprintf(up.runtime_id, sizeof up.runtime_id,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2], id[3],
		 id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15]);
	memcpy(&up.rnd, id, 8);
	up.rnd |= 1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&up.cond, &ca);
	pthread_condattr_destroy(&ca);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&up.th, NULL, uploader, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		cprof__log("continuous: cannot start the uploader thread: %s; the collector is off", strerror(rc));
		return -rc;
	}
	pthread_setname_np(up.th, "cprof-upload");
	return 0;
}

void cprof__upload_enqueue(struct cont_batch *b)
{
	struct cont_batch *drop = NULL;
	pthread_mutex_lock(&up.lock);
	if (up.done) {
		pthread_mutex_unlock(&up.lock);
		cprof__cont_lock();
		cprof__cont_stats.dropped_stop++;
		cprof__cont_stats.dropped_stop_profiles += b->nparts;
		cprof__cont_unlock();
		cprof__cont_batch_free(b);
		return;
	}
	size_t limit = (size_t)up.cfg->queue;
	if (up.n >= limit) {
		drop = up.q[up.head];
		up.head = (up.head + 1) % MAX_QUEUE;
		up.n--;
	}
	up.q[(up.head + up.n) % MAX_QUEUE] = b;
	up.n++;
	size_t n = up.n;
	pthread_cond_signal(&up.cond);
	pthread_mutex_unlock(&up.lock);
	cprof__cont_lock();
	struct cont_stats *st = &cprof__cont_stats;
	st->queued = n;
	st->queued_bytes += batch_bytes(b);
	if (drop) {
		st->dropped_queue++;
		st->dropped_queue_profiles += drop->nparts;
		st->queued_bytes -= batch_bytes(drop);
	}
	if (st->queued_bytes > st->max_queued_bytes)
		st->max_queued_bytes = st->queued_bytes;
	cprof__cont_unlock();
	if (drop) {
		cprof__cont_error("queue full (%d batches): dropped the oldest, period %llu", up.cfg->queue,
				  (unsigned long long)drop->seq);
		cprof__cont_batch_free(drop);
	}
}

void cprof__upload_stop(int64_t wait_ms)
{
	pthread_mutex_lock(&up.lock);
	up.stopping = true;
	up.deadline = cprof__now_ns() + wait_ms * 1000000LL;
	pthread_cond_broadcast(&up.cond);
	/* Wait for the queue to empty, at most until the deadline plus a request's slack. */
	int64_t until = up.deadline + 200000000LL;
	while (!up.done && cprof__now_ns() < until) {
		struct timespec ts = {(time_t)(until / 1000000000LL), (long)(until % 1000000000LL)};
		pthread_cond_timedwait(&up.cond, &up.lock, &ts);
	}
	bool done = up.done;
	if (!done) {
		/*
		 * A request outlived its timeout: the thread is left to the exit, and
		 * what it holds and what waits is counted as dropped now, so that the
		 * final status adds up; the thread counts nothing after this.
		 */
		up.abandoned = true;
		drop_queued();
		if (up.inflight) {
			cprof__cont_lock();
			cprof__cont_stats.dropped_stop++;
			cprof__cont_stats.dropped_stop_profiles += up.inflight->nparts;
			cprof__cont_unlock();
		}
	}
	pthread_mutex_unlock(&up.lock);
	if (done)
		pthread_join(up.th, NULL);
	else
		pthread_detach(up.th);
}
