/*
 * http.c - the /debug/pprof endpoint's transport and backend: an embedded
 * HTTP server (GNU libmicrohttpd, loaded with dlopen only when the endpoint
 * starts, so programs that never serve do not map it and the dozen
 * libraries it pulls in), its start and stop (CPROF_HTTP at load,
 * cprof_http_start/stop), and the backend that http_req.c asks for
 * profiles: snapshots and deltas through lookup.c, the CPU profile through
 * prof_cpu.c on a memory file, symbol names through symbolize.c.
 *
 * The server runs on threads of its own, one per connection (bounded),
 * created with every signal blocked, so the program's signal handlers never
 * run on them and SIGPIPE never reaches the program (libmicrohttpd also
 * sends with MSG_NOSIGNAL). Its sockets are close-on-exec. Loopback is the
 * default; any other address needs CPROF_HTTP_TOKEN. What requests mean
 * lives in http_req.c.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "cprof.h"
#include "proto/profile.h"
#include "runtime/http.h"
#include "runtime/rt.h"

#define MAX_CONNECTIONS 64
#define CONNECTION_TIMEOUT_S 15
#define CONNECTION_MEMORY (32 * 1024) /* request line and headers must fit */
#define THREAD_STACK (1024 * 1024)
#define MAX_BUILDS 4 /* profiles built or symbolized at once; more requests wait their turn */
#define ENDPOINT_NICE 10 /* when SCHED_IDLE is refused: this much nicer than the process */
#define BUDGET_RATE_NS 10000000LL /* CPU per second at the program's priority: 1% of a CPU */
#define BUDGET_MAX_NS 250000000LL /* banked at most: a few snapshots answered at once */

/* ---- libmicrohttpd, resolved at first start ---- */

static struct {
	void *h;
	struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
					   MHD_AccessHandlerCallback, void *, ...);
	void (*stop_daemon)(struct MHD_Daemon *);
	struct MHD_Response *(*response_from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
	enum MHD_Result (*add_header)(struct MHD_Response *, const char *, const char *);
	enum MHD_Result (*queue)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
	void (*destroy)(struct MHD_Response *);
	const char *(*lookup)(struct MHD_Connection *, enum MHD_ValueKind, const char *);
	const union MHD_ConnectionInfo *(*conn_info)(struct MHD_Connection *, enum MHD_ConnectionInfoType, ...);
	enum MHD_Result (*set_conn_option)(struct MHD_Connection *, enum MHD_CONNECTION_OPTION, ...);
} mhd;

static int mhd_load(void)
{
	if (mhd.h)
		return 0;
	void *h = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		cprof__log("cannot serve /debug/pprof/: %s (install libmicrohttpd12)", dlerror());
		return -ENOSYS;
	}
#define SYM(field, name)                                                   \
	if (!(*(void **)&mhd.field = dlsym(h, name))) {                    \
		cprof__log("cannot serve /debug/pprof/: libmicrohttpd has no %s", name); \
		return -ENOSYS;                                            \
	}
	SYM(start_daemon, "MHD_start_daemon");
	SYM(stop_daemon, "MHD_stop_daemon");
	SYM(response_from_buffer, "MHD_create_response_from_buffer");
	SYM(add_header, "MHD_add_response_header");
	SYM(queue, "MHD_queue_response");
	SYM(destroy, "MHD_destroy_response");
	SYM(lookup, "MHD_lookup_connection_value");
	SYM(conn_info, "MHD_get_connection_info");
	SYM(set_conn_option, "MHD_set_connection_option");
#undef SYM
	mhd.h = h; /* never unloaded: its threads may be winding down */
	return 0;
}

/* ---- server state ---- */

static struct {
	pthread_mutex_t lock; /* start/stop */
	struct MHD_Daemon *d;
	int listen_fd;
	int wake_fd; /* eventfd: readable once stopping, wakes waiting captures */
	int port;
	pid_t pid;
	char token[512];
	bool has_token;
	int max_seconds;
	atomic_bool stopping;
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER, .listen_fd = -1, .wake_fd = -1};

/*
 * The endpoint's share of the CPU: prompt answers when asked now and then,
 * a bounded share when hammered. A request runs at the program's own
 * priority (SCHED_OTHER, its nice value) while the endpoint's budget holds:
 * BUDGET_RATE_NS of CPU a second, banked up to BUDGET_MAX_NS, one such
 * request at a time. Any other request, and every request once the budget
 * is spent, runs under SCHED_IDLE: only on CPU time nothing else wants
 * (weight 3 against 1024 for nice 0, per thread), so however many
 * connections are busy, requests wait rather than the program (a
 * connection's thread keeps the class its last request had, since going
 * back up from SCHED_IDLE is refused to unprivileged processes). Only CPU
 * used at the program's priority is charged (idle-class time is free by
 * definition), so hammering the endpoint costs the program about
 * BUDGET_RATE_NS a second, and a lone request after a quiet spell is
 * served as fast as the program's own threads run (docs/BENCHMARKS.md).
 * CPROF_HTTP_SCHED=idle keeps every request under SCHED_IDLE.
 */
static struct {
	pthread_mutex_t lock;
	int64_t tokens, last; /* ns of CPU left at the program's priority, as of last */
	bool busy;            /* a request runs at the program's priority */
	bool idle_only;       /* CPROF_HTTP_SCHED=idle */
} budget = {.lock = PTHREAD_MUTEX_INITIALIZER, .tokens = BUDGET_MAX_NS};

/* The calling thread's class now: 0 not set yet, 1 the program's, 2 idle. */
static CPROF_TLS int sched_class;

static void sched_idle(void)
{
	if (sched_class == 2)
		return;
	sched_class = 2;
	struct sched_param sp = {0};
	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0) {
		/* Refused (a seccomp filter, an old kernel): nice +10 instead. */
		errno = 0;
		int prio = getpriority(PRIO_PROCESS, 0);
		if (errno == 0 && prio < 19)
			setpriority(PRIO_PROCESS, (id_t)gettid(), prio + ENDPOINT_NICE > 19 ? 19 : prio + ENDPOINT_NICE);
	}
}

/* Whether this request may run at the program's priority; if so it holds the slot until budget_end. */
static bool budget_begin(void)
{
	if (budget.idle_only)
		return false;
	int64_t now = cprof__now_ns();
	pthread_mutex_lock(&budget.lock);
	int64_t t = budget.tokens + (now - budget.last) / (1000000000LL / BUDGET_RATE_NS);
	budget.tokens = t < BUDGET_MAX_NS ? t : BUDGET_MAX_NS;
	budget.last = now;
	bool ok = !budget.busy && budget.tokens > 0;
	if (ok)
		budget.busy = true;
	pthread_mutex_unlock(&budget.lock);
	if (!ok)
		return false;
	struct sched_param sp = {0};
	/*
	 * A new connection's thread has the program's class already. Back from
	 * SCHED_IDLE needs CAP_SYS_NICE or RLIMIT_NICE room: without them, a
	 * connection that went idle stays idle (a new connection starts afresh).
	 */
	if (sched_class == 2 && sched_setscheduler(0, SCHED_OTHER, &sp) != 0) {
		pthread_mutex_lock(&budget.lock);
		budget.busy = false;
		pthread_mutex_unlock(&budget.lock);
		return false;
	}
	sched_class = 1;
	return true;
}

static void budget_end(int64_t cpu_ns)
{
	pthread_mutex_lock(&budget.lock);
	budget.tokens -= cpu_ns;
	budget.busy = false;
	pthread_mutex_unlock(&budget.lock);
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Set on the endpoint's own threads: they must not stop the server they run on. */
static CPROF_TLS bool on_endpoint_thread;
/* The client socket of the request this thread serves, for noticing a hang-up. */
static CPROF_TLS int client_fd = -1;

/*
 * Sleep seconds, or until the client hangs up or the endpoint stops:
 * 0, or -ECANCELED.
 */
static int wait_seconds(int seconds)
{
	int64_t end = cprof__now_ns() + (int64_t)seconds * 1000000000;
	for (;;) {
		int64_t left = end - cprof__now_ns();
		if (left <= 0)
			return 0;
		if (atomic_load(&srv.stopping))
			return -ECANCELED;
		struct pollfd pf[2] = {{srv.wake_fd, POLLIN, 0}, {client_fd, POLLRDHUP, 0}};
		int n = poll(pf, client_fd >= 0 ? 2 : 1, (int)(left / 1000000) + 1);
		if (n < 0 && errno != EINTR)
			return -ECANCELED;
		if (n > 0 && (pf[0].revents || (client_fd >= 0 && pf[1].revents)))
			return -ECANCELED;
	}
}

/* ---- the backend over the runtime ---- */

/* Building a profile costs memory and CPU: at most MAX_BUILDS at once. */
static sem_t builds;
static pthread_once_t builds_once = PTHREAD_ONCE_INIT;
static void builds_init(void)
{
	sem_init(&builds, 0, MAX_BUILDS);
}
static void build_enter(void)
{
	pthread_once(&builds_once, builds_init);
	while (sem_wait(&builds) != 0 && errno == EINTR)
		;
}
static void build_leave(void)
{
	sem_post(&builds);
}

static bool be_profile_info(void *arg, size_t i, struct http_profile_info *out)
{
	size_t n;
	const struct rt_profile_kind *k = cprof__lookup_all(&n);
	if (i >= n)
		return false;
	k += i;
	out->name = k->name;
	out->desc = k->desc;
	out->timed = !k->build && k->start && k->stop;
	out->has_dump = k->text != NULL;
	out->count = k->count ? k->count() : -1;
	return true;
}

static int be_snapshot(void *arg, const char *name, int debug, struct buf *out)
{
	build_enter();
	int rc = cprof__lookup_serve(name, debug, out);
	build_leave();
	return rc;
}

static int encode_into(struct profile *p, struct buf *out)
{
	uint8_t *gz;
	size_t len;
	cprof__arena_begin(); /* compressing allocates: not on the program's heap */
	int rc = cprof__profile_encode_gz(p, &gz, &len);
	if (rc == 0) {
		rc = cprof__buf_append(out, gz, len);
		free(gz);
	}
	cprof__arena_end();
	return rc;
}

static struct profile *build(const struct rt_profile_kind *k, int *rc)
{
	build_enter();
	errno = 0;
	struct profile *p = k->build();
	if (!p && errno == ENODATA)
		p = cprof__lookup_empty(k->name); /* off: served empty, as Go serves block at rate 0 */
	int e = errno;
	build_leave();
	errno = e;
	if (!p)
		*rc = errno == ENODATA ? -ENODATA : -ENOMEM;
	return p;
}

static int be_delta(void *arg, const char *name, int seconds, struct buf *out)
{
	const struct rt_profile_kind *k = cprof__lookup(name);
	if (!k || !k->build)
		return -ENOENT;
	int rc = 0;
	int64_t t0 = cprof__wall_ns();
	struct profile *p0 = build(k, &rc);
	if (!p0)
		return rc;
	rc = wait_seconds(seconds);
	struct profile *p1 = rc == 0 ? build(k, &rc) : NULL;
	if (p1) {
		int64_t t1 = cprof__wall_ns();
		rc = cprof__profile_delta(p1, p0);
		p1->time_nanos = t1;
		p1->duration_nanos = t1 - t0;
		if (rc == 0)
			rc = encode_into(p1, out);
	}
	cprof__profile_free(p0);
	cprof__profile_free(p1);
	return rc;
}

/*
 * The end of a timed capture into the memory file fd: rc is what stopping
 * the profiler returned, wrc what the wait returned. Appends the file to out
 * and closes fd.
 */
static int capture_finish(int fd, int rc, int wrc, struct buf *out)
{
	if (rc == -ESRCH)
		rc = 0; /* the program stopped it first: it was written all the same */
	if (wrc != 0)
		rc = wrc;
	struct stat st;
	if (rc == 0 && fstat(fd, &st) != 0)
		rc = -errno;
	if (rc == 0 && st.st_size == 0)
		rc = -EIO;
	if (rc == 0 && cprof__buf_reserve(out, (size_t)st.st_size) == 0) {
		ssize_t r = pread(fd, out->data + out->len, (size_t)st.st_size, 0);
		if (r != st.st_size)
			rc = -EIO;
		else
			out->len += (size_t)r;
	}
	close(fd);
	return rc ? rc : out->err;
}

/* The CPU profile over seconds, through a memory file the profiler writes to. */
static int capture_cpu(int seconds, int hz, struct buf *out)
{
	int fd = memfd_create("cprof-http-cpu", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = cprof__cpu_start_fd_hz(fd, hz);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	int wrc = wait_seconds(seconds);
	return capture_finish(fd, cprof__cpu_stop_fd(fd), wrc, out);
}

/* An execution trace over seconds, through a memory file the tracer writes to. */
static int capture_trace(int seconds, struct buf *out)
{
	int fd = memfd_create("cprof-http-trace", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = cprof_trace_start(fd);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	int wrc = wait_seconds(seconds);
	return capture_finish(fd, cprof__trace_stop_fd(fd), wrc, out);
}

/* The flight recorder's last window, through a memory file. */
static int capture_flight(struct buf *out)
{
	int fd = memfd_create("cprof-http-flight", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	return capture_finish(fd, 0, cprof_trace_flight_write(fd), out);
}

static int be_capture(void *arg, const char *name, int seconds, int hz, struct buf *out)
{
	if (strcmp(name, "trace-flight") == 0)
		return capture_flight(out);
	if (strcmp(name, "profile") == 0)
		return capture_cpu(seconds, hz, out);
	if (strcmp(name, "trace") == 0)
		return capture_trace(seconds, out);
	const struct rt_profile_kind *k = cprof__lookup(name);
	if (!k || !k->start || !k->stop)
		return -ENOENT;
	int rc = k->start(hz);
	if (rc != 0)
		return rc;
	int wrc = wait_seconds(seconds);
	struct profile *p = k->stop();
	if (!p)
		return wrc ? wrc : -ENOMEM;
	rc = wrc ? wrc : encode_into(p, out);
	cprof__profile_free(p);
	return rc;
}

static int symbolize_locked(const uint64_t *pcs, size_t n, struct buf *names);

static int be_symbolize(void *arg, const uint64_t *pcs, size_t n, struct buf *names)
{
	build_enter();
	cprof__arena_begin(); /* a symbolization session: not on the program's heap */
	int rc = symbolize_locked(pcs, n, names);
	cprof__arena_end();
	build_leave();
	return rc;
}

static int symbolize_locked(const uint64_t *pcs, size_t n, struct buf *names)
{
	struct profile *p = cprof__profile_new();
	struct rt_sym *s = p ? cprof__sym_begin(p) : NULL;
	if (!s) {
		cprof__profile_free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		uintptr_t pc = (uintptr_t)pcs[i];
		uint64_t id = 0;
		const char *name = "";
		/* No code lives in the first page; the symbolizer gives low values special meanings. */
		if (pc >= 4096 && cprof__sym_stack(s, &pc, 1, true, &id) == 1) {
			const struct pp_location *l = cprof__profile_location(p, id);
			const struct pp_function *f =
				l && l->nline ? cprof__profile_function(p, l->line[0].function_id) : NULL;
			name = f ? cprof__profile_str(p, f->name) : "";
			if (strcmp(name, "??") == 0)
				name = "";
		}
		cprof__buf_append(names, name, strlen(name) + 1);
	}
	int rc = cprof__sym_end(s);
	cprof__profile_free(p);
	return rc ? rc : names->err;
}

static int be_cmdline(void *arg, struct buf *out)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char chunk[4096];
	ssize_t r;
	size_t start = out->len;
	while ((r = read(fd, chunk, sizeof chunk)) > 0 && out->len - start < (1u << 20))
		cprof__buf_append(out, chunk, (size_t)r);
	close(fd);
	/* os.Args joined by NUL: no NUL after the last one. */
	if (out->len > start && out->data[out->len - 1] == 0)
		out->len--;
	return out->err;
}

static struct http_backend backend = {
	.profile_info = be_profile_info,
	.snapshot = be_snapshot,
	.delta = be_delta,
	.capture = be_capture,
	.symbolize = be_symbolize,
	.cmdline = be_cmdline,
};

/* ---- libmicrohttpd callbacks ---- */

struct conn_req {
	char *target;
	struct buf body;
	bool too_large;
	bool seen; /* the first call (headers only) has been answered */
};

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn_req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->target = strdup(uri);
	cprof__buf_init(&r->body, CPROF_HTTP_MAX_BODY);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_req *r = *con_cls;
	if (!r)
		return;
	free(r->target);
	cprof__buf_release(&r->body);
	free(r);
	*con_cls = NULL;
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct http_resp *rs)
{
	size_t len = 0;
	uint8_t *data = cprof__buf_detach(&rs->body, &len);
	struct MHD_Response *resp = data ? mhd.response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE)
					 : mhd.response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	mhd.add_header(resp, "Content-Type", rs->content_type);
	mhd.add_header(resp, "X-Content-Type-Options", "nosniff");
	if (rs->disposition[0])
		mhd.add_header(resp, "Content-Disposition", rs->disposition);
	if (rs->go_error)
		mhd.add_header(resp, "X-Go-Pprof", "1");
	if (rs->location[0])
		mhd.add_header(resp, "Location", rs->location);
	if (rs->auth_challenge)
		mhd.add_header(resp, "WWW-Authenticate", "Bearer");
	enum MHD_Result ret = mhd.queue(c, (unsigned)rs->status, resp);
	mhd.destroy(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct conn_req *r = *con_cls;
	if (!r || !r->target)
		return MHD_NO;
	if (!on_endpoint_thread)
		on_endpoint_thread = true; /* its class is set request by request (budget_begin) */
	if (!r->seen) {
		r->seen = true;
		return MHD_YES; /* headers only: the body, if any, comes next */
	}
	if (*upload_size) {
		if (!r->too_large && cprof__buf_append(&r->body, upload, *upload_size) != 0)
			r->too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	const union MHD_ConnectionInfo *ci = mhd.conn_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	client_fd = ci ? ci->connect_fd : -1;
	struct http_req rq = {
		.method = method,
		.target = r->target,
		.auth = mhd.lookup(c, MHD_HEADER_KIND, "Authorization"),
		.body = r->body.data,
		.body_len = r->body.len,
		.body_too_large = r->too_large,
	};
	struct http_resp rs;
	bool normal = budget_begin();
	if (!normal)
		sched_idle();
	int64_t cpu0 = normal ? thread_cpu_ns() : 0;
	cprof__http_handle(&backend, &rq, &rs);
	if (normal)
		budget_end(thread_cpu_ns() - cpu0); /* it stays in the program's class: see budget_begin */
	client_fd = -1;
	/* A long capture left the connection idle: restart its timeout before sending. */
	mhd.set_conn_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S);
	enum MHD_Result ret = send_resp(c, &rs);
	cprof__buf_release(&rs.body);
	return ret;
}

/* ---- start and stop ---- */

/* Split "host:port", "[v6]:port" or ":port"; false when malformed. */
static bool split_addr(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');
		if (!end || end[1] != ':' || (size_t)(end - addr - 1) >= hostlen)
			return false;
		memcpy(host, addr + 1, (size_t)(end - addr - 1));
		host[end - addr - 1] = 0;
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= hostlen || memchr(addr, ':', (size_t)(colon - addr)))
			return false;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = 0;
	}
	const char *p = colon + 1;
	if (!*p || strlen(p) >= portlen || strspn(p, "0123456789") != strlen(p) || atol(p) > 65535)
		return false;
	strcpy(port, p);
	return true;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

static void atfork_child(void)
{
	/* The server's threads did not come along; its sockets are the parent's. */
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	if (srv.wake_fd >= 0)
		close(srv.wake_fd);
	srv.listen_fd = srv.wake_fd = -1;
	srv.d = NULL;
	srv.port = 0;
	pthread_mutex_init(&srv.lock, NULL);
}

static void stop_at_exit(void)
{
	cprof_http_stop();
}

static int start_locked(const char *addr)
{
	char host[256], port[16];
	if (!addr || !split_addr(addr, host, sizeof host, port, sizeof port)) {
		cprof__log("cannot serve /debug/pprof/ on %s: want HOST:PORT (127.0.0.1:6060, [::1]:0, localhost:6060)",
			   addr ? addr : "(null)");
		return -EINVAL;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | (host[0] ? 0 : AI_PASSIVE)};
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (gai != 0 || !ai) {
		cprof__log("cannot serve /debug/pprof/ on %s: %s", addr, gai_strerror(gai));
		return -EINVAL;
	}
	const char *tok = cprof__config.secure ? NULL : getenv("CPROF_HTTP_TOKEN");
	srv.has_token = tok && *tok;
	if (srv.has_token)
		snprintf(srv.token, sizeof srv.token, "%s", tok);
	if (!is_loopback(ai->ai_addr) && !srv.has_token) {
		cprof__log("refusing to serve /debug/pprof/ on %s: it is not a loopback address and "
			   "CPROF_HTTP_TOKEN is not set (anyone who reaches it could read this program's "
			   "profiles, memory layout and command line); set CPROF_HTTP_TOKEN, or serve on "
			   "127.0.0.1", addr);
		freeaddrinfo(ai);
		return -EACCES;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		int e = errno;
		cprof__log("cannot serve /debug/pprof/ on %s: %s", addr, strerror(e));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -e;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	int bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							: ((struct sockaddr_in *)&ss)->sin_port);
	int rc = mhd_load();
	if (rc == 0 && (srv.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		rc = -errno;
	if (rc != 0) {
		close(fd);
		return rc;
	}
	const char *ms = cprof__config.secure ? NULL : getenv("CPROF_HTTP_MAX_SECONDS");
	srv.max_seconds = CPROF_HTTP_DEFAULT_MAX_SECONDS;
	if (ms && *ms) {
		long v = atol(ms);
		if (v >= 1 && v <= 86400 && strspn(ms, "0123456789") == strlen(ms))
			srv.max_seconds = (int)v;
		else
			cprof__log("CPROF_HTTP_MAX_SECONDS=%s: want 1 to 86400; using %d", ms, srv.max_seconds);
	}
	const char *sched = cprof__config.secure ? NULL : getenv("CPROF_HTTP_SCHED");
	budget.idle_only = sched && strcmp(sched, "idle") == 0;
	if (sched && *sched && !budget.idle_only && strcmp(sched, "budget") != 0)
		cprof__log("CPROF_HTTP_SCHED=%s: want idle or budget; using budget", sched);
	backend.token = srv.has_token ? srv.token : NULL;
	backend.max_seconds = srv.max_seconds;
	atomic_store(&srv.stopping, false);
	/* Threads inherit the creator's mask: the server's threads block every signal. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	srv.d = mhd.start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL,
				 0, NULL, NULL, on_request, NULL,
				 MHD_OPTION_LISTEN_SOCKET, fd,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
				 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
				 MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
				 MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
				 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
				 MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!srv.d) {
		cprof__log("cannot serve /debug/pprof/ on %s: libmicrohttpd did not start", addr);
		close(fd);
		close(srv.wake_fd);
		srv.wake_fd = -1;
		return -EIO;
	}
	srv.listen_fd = fd;
	srv.port = bound_port;
	srv.pid = getpid();
	char shown[300];
	if (ss.ss_family == AF_INET6)
		snprintf(shown, sizeof shown, "[%s]", host[0] ? host : "::");
	else
		snprintf(shown, sizeof shown, "%s", host[0] ? host : "0.0.0.0");
	cprof__log("serving /debug/pprof/ on http://%s:%d/debug/pprof/%s", shown, bound_port,
		   srv.has_token ? " (token required)" : "");
	static bool hooks;
	if (!hooks) {
		hooks = true;
		pthread_atfork(NULL, NULL, atfork_child);
		atexit(stop_at_exit);
	}
	return 0;
}

CPROF_API int cprof_http_start(const char *addr)
{
	pthread_mutex_lock(&srv.lock);
	int rc = srv.d ? -EBUSY : start_locked(addr);
	pthread_mutex_unlock(&srv.lock);
	return rc;
}

CPROF_API int cprof_http_port(void)
{
	return srv.d && srv.pid == getpid() ? srv.port : -ESRCH;
}

CPROF_API int cprof_http_stop(void)
{
	if (on_endpoint_thread)
		return -EDEADLK;
	pthread_mutex_lock(&srv.lock);
	if (!srv.d || srv.pid != getpid()) {
		pthread_mutex_unlock(&srv.lock);
		return -ESRCH;
	}
	atomic_store(&srv.stopping, true);
	uint64_t one = 1;
	ssize_t w = write(srv.wake_fd, &one, sizeof one);
	(void)w;
	/* Joins the server's threads; captures in progress see the wake-up and end. */
	mhd.stop_daemon(srv.d);
	srv.d = NULL;
	/* libmicrohttpd closed the listening socket it was given. */
	srv.listen_fd = -1;
	close(srv.wake_fd);
	srv.wake_fd = -1;
	srv.port = 0;
	pthread_mutex_unlock(&srv.lock);
	return 0;
}

void cprof__http_start_from_env(void)
{
	const char *addr = getenv("CPROF_HTTP");
	if (!addr || !*addr)
		return;
	/*
	 * One endpoint per run: the process that owns the run (CPROF_OWNER_PID,
	 * set by cprof run or by the first process that loads the runtime, and
	 * kept across exec) serves; the processes it forks or spawns, which
	 * inherit the environment, do not.
	 */
	const char *owner = getenv("CPROF_OWNER_PID");
	char me[32];
	snprintf(me, sizeof me, "%d", (int)getpid());
	if (owner && *owner && strcmp(owner, me) != 0)
		return;
	if (!owner || !*owner)
		setenv("CPROF_OWNER_PID", me, 1);
	cprof_http_start(addr);
}
