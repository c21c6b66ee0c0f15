/*
 * continuous.c - the continuous collector: off unless CPROF_CONTINUOUS (or
 * cprof_continuous_start) names a destination; then a thread of its own
 * takes, every period, the CPU profile of that period (prof_cpu.c rotates
 * its table, so periods have no gap), a snapshot of the heap in use, and the
 * period's allocations, block and mutex waits as deltas; labels them with
 * the service, version, host, pid and user tags; and hands the batch to the
 * destination: files in a directory with retention by age and total size
 * (here), or Pyroscope and the Datadog agent (upload.c). It keeps a status
 * file that `cprof continuous status` reads.
 *
 * The heap, allocs, block and mutex profiles are built from the
 * profilers' own per-stack counters, with the previous period's counters
 * kept per entry (continuous_prof.c); profiles whose profiler is off are
 * skipped and named in the status. The collector thread runs at nice 19
 * (CPROF_CONTINUOUS_NICE), keeps symbol names between periods
 * (symbolize.c), reuses one deflate stream, and takes the SIGPROF of the
 * CPU profile it sends, so its own CPU time shows in that profile.
 *
 * Around exec, the last period is delivered and the status file moved to
 * STATUS.preexec.<pid> before the new image starts its own; a fork child
 * has no collector and leaves the parent's status file alone.
 *
 * It does not own the CPU profiler, the tables or the network code.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/buf.h"
#include "cprof.h"
#include "proto/profile.h"
#include "runtime/continuous.h"
#include "runtime/rt.h"

#define MIN_PERIOD_NS 100000000LL /* 100 ms */

struct cont_stats cprof__cont_stats;


static struct {
	pthread_mutex_t lock;      /* start/stop */
	pthread_mutex_t stat_lock; /* cprof__cont_stats and the status file */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	bool running, stopping, own_cpu, cpu_told;
	pthread_t th;
	struct cont_config cfg;
	uint64_t seq;
	int64_t period_start_wall;
	struct cont_counters *counters; /* the previous period's per-stack counters */
	int64_t started_wall;
	char dest_arg[1100];       /* as started: for a restart after a failed exec */
	int64_t period_arg;
	bool from_env, exec_paused;
	const char *ended;         /* why the last collector stopped: exit, stop, exec */
	z_stream z; /* one deflate stream for every profile, reset between them */
	bool z_ready;
} cs = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.stat_lock = PTHREAD_MUTEX_INITIALIZER,
	.wake_lock = PTHREAD_MUTEX_INITIALIZER,
};

void cprof__cont_lock(void)
{
	pthread_mutex_lock(&cs.stat_lock);
}

void cprof__cont_unlock(void)
{
	pthread_mutex_unlock(&cs.stat_lock);
}

void cprof__cont_batch_free(struct cont_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nparts; i++)
		free(b->part[i].gz);
	free(b);
}

/* ---- configuration ---- */

/* "60", "60s", "500ms", "2m", "1h", "7d" in ns; -1 when not one. */
static int64_t parse_duration(const char *v)
{
	char *end;
	errno = 0;
	double n = strtod(v, &end);
	if (errno || end == v || n < 0)
		return -1;
	double mul = 1e9;
	if (!*end || strcmp(end, "s") == 0)
		mul = 1e9;
	else if (strcmp(end, "ms") == 0)
		mul = 1e6;
	else if (strcmp(end, "m") == 0)
		mul = 60e9;
	else if (strcmp(end, "h") == 0)
		mul = 3600e9;
	else if (strcmp(end, "d") == 0)
		mul = 86400e9;
	else
		return -1;
	double ns = n * mul;
	return ns > 9e18 ? -1 : (int64_t)ns;
}

/* "1048576", "512K", "100M", "2G" in bytes; 0 when not one. */
static uint64_t parse_size(const char *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v || *v == '-')
		return 0;
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end)
		return 0;
	if (shift && end[1] && strcmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0)
		return 0;
	return (uint64_t)n << shift;
}

static bool isdigit_str(const char *s)
{
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* A label value as the backends accept it: printable, no separators of theirs. */
static bool clean_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == ',' || *s == '{' || *s == '}' || *s == '=' || *s == '"' ||
		    *s == '\\' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* k:v,k:v with keys [A-Za-z_][A-Za-z0-9_.-]* and clean values. */
static bool valid_tags(const char *t)
{
	char copy[1024];
	if (strlen(t) >= sizeof copy)
		return false;
	snprintf(copy, sizeof copy, "%s", t);
	char *save = NULL;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(kv, ':');
		if (!colon || colon == kv || !colon[1])
			return false;
		*colon = 0;
		for (char *k = kv; *k; k++)
			if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_' ||
			      (k > kv && ((*k >= '0' && *k <= '9') || *k == '.' || *k == '-'))))
				return false;
		if (!clean_value(colon + 1))
			return false;
	}
	return true;
}

/* The program's name for the default service: /proc/self/comm. */
static void program_name(char *out, size_t n)
{
	snprintf(out, n, "unknown");
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char b[64];
	ssize_t r = read(fd, b, sizeof b - 1);
	close(fd);
	if (r <= 0)
		return;
	b[r] = 0;
	b[strcspn(b, "\n")] = 0;
	for (char *p = b; *p; p++)
		if (!clean_value((char[]){*p, 0}))
			*p = '_';
	if (b[0])
		snprintf(out, n, "%s", b);
}

/* Fill c from the destination and the environment. 0, or -EINVAL after logging why. */
static int read_config(struct cont_config *c, const char *dest, int64_t period_ns, bool from_env)
{
	memset(c, 0, sizeof *c);
	const char *v;
	size_t skip;
	if (strncmp(dest, "dir:", 4) == 0) {
		c->dest = CONT_DIR;
		skip = 4;
	} else if (strncmp(dest, "pyroscope:", 10) == 0) {
		c->dest = CONT_PYROSCOPE;
		skip = 10;
	} else if (strncmp(dest, "datadog:", 8) == 0) {
		c->dest = CONT_DATADOG;
		skip = 8;
	} else {
		cprof__log("CPROF_CONTINUOUS=%s: want dir:PATH, pyroscope:URL or datadog:URL; the collector is off",
			   dest);
		return -EINVAL;
	}
	if (!dest[skip] || strlen(dest + skip) >= sizeof c->target) {
		cprof__log("CPROF_CONTINUOUS=%s: the %s is missing or too long; the collector is off", dest,
			   c->dest == CONT_DIR ? "directory" : "URL");
		return -EINVAL;
	}
	snprintf(c->target, sizeof c->target, "%s", dest + skip);
	if (c->dest != CONT_DIR && strncmp(c->target, "http://", 7) != 0 &&
	    strncmp(c->target, "https://", 8) != 0) {
		cprof__log("CPROF_CONTINUOUS=%s: the URL must start with http:// or https://; the collector is off",
			   dest);
		return -EINVAL;
	}
	c->period_ns = period_ns;
	if (period_ns <= 0) {
		c->period_ns = 60000000000LL;
		if ((v = env("CPROF_CONTINUOUS_PERIOD"))) {
			int64_t p = parse_duration(v);
			if (p < MIN_PERIOD_NS)
				cprof__log("CPROF_CONTINUOUS_PERIOD=%s: want a duration of at least 100ms (such as "
					   "60s or 1m); using 60s",
					   v);
			else
				c->period_ns = p;
		}
	}
	program_name(c->service, sizeof c->service);
	if ((v = env("CPROF_SERVICE"))) {
		if (!clean_value(v) || strlen(v) >= sizeof c->service)
			cprof__log("CPROF_SERVICE=%s: want a name without spaces, commas, braces, '=' or quotes; "
				   "using %s",
				   v, c->service);
		else
			snprintf(c->service, sizeof c->service, "%s", v);
	}
	if ((v = env("CPROF_SERVICE_VERSION"))) {
		if (!clean_value(v) || strlen(v) >= sizeof c->version)
			cprof__log("CPROF_SERVICE_VERSION=%s: want a value without spaces, commas, braces, '=' or "
				   "quotes; ignored",
				   v);
		else
			snprintf(c->version, sizeof c->version, "%s", v);
	}
	if ((v = env("CPROF_TAGS"))) {
		if (!valid_tags(v))
			cprof__log("CPROF_TAGS=%s: want key:value,key:value (keys of letters, digits, '_', '.', "
				   "'-'; values without spaces, commas, braces, '=' or quotes); ignored",
				   v);
		else
			snprintf(c->tags, sizeof c->tags, "%s", v);
	}
	if (gethostname(c->host, sizeof c->host - 1) != 0 || !clean_value(c->host))
		snprintf(c->host, sizeof c->host, "unknown");
	c->pid = (int)getpid();
	c->max_age_ns = 24 * 3600 * 1000000000LL;
	if ((v = env("CPROF_CONTINUOUS_MAX_AGE"))) {
		int64_t a = parse_duration(v);
		if (a <= 0)
			cprof__log("CPROF_CONTINUOUS_MAX_AGE=%s: want a duration such as 24h or 7d; using 24h", v);
		else
			c->max_age_ns = a;
	}
	c->max_bytes = 1ull << 30;
	if ((v = env("CPROF_CONTINUOUS_MAX_BYTES"))) {
		uint64_t b = parse_size(v);
		if (b == 0)
			cprof__log("CPROF_CONTINUOUS_MAX_BYTES=%s: want a size such as 500M or 2G; using 1G", v);
		else
			c->max_bytes = b;
	}
	c->queue = 4;
	if ((v = env("CPROF_CONTINUOUS_QUEUE"))) {
		long n = strtol(v, NULL, 10);
		if (n < 1 || n > 64)
			cprof__log("CPROF_CONTINUOUS_QUEUE=%s: want 1 to 64 batches; using 4", v);
		else
			c->queue = (int)n;
	}
	c->timeout_ms = 10000;
	if ((v = env("CPROF_CONTINUOUS_TIMEOUT"))) {
		int64_t t = parse_duration(v);
		if (t < 1000000 || t > 600000000000LL)
			cprof__log("CPROF_CONTINUOUS_TIMEOUT=%s: want a duration from 1ms to 10m; using 10s", v);
		else
			c->timeout_ms = t / 1000000;
	}
	c->retries = 2;
	if ((v = env("CPROF_CONTINUOUS_RETRIES"))) {
		long n = strtol(v, NULL, 10);
		if (n < 0 || n > 10 || !isdigit_str(v))
			cprof__log("CPROF_CONTINUOUS_RETRIES=%s: want 0 to 10; using 2", v);
		else
			c->retries = (int)n;
	}
	c->nice = 19;
	if ((v = env("CPROF_CONTINUOUS_NICE"))) {
		long n = strtol(v, NULL, 10);
		if (n < 0 || n > 19 || !isdigit_str(v))
			cprof__log("CPROF_CONTINUOUS_NICE=%s: want 0 to 19; using 19", v);
		else
			c->nice = (int)n;
	}
	if ((v = env("CPROF_PYROSCOPE_USER")))
		snprintf(c->user, sizeof c->user, "%s", v);
	if ((v = env("CPROF_PYROSCOPE_PASSWORD")))
		snprintf(c->password, sizeof c->password, "%s", v);
	if ((v = env("CPROF_PYROSCOPE_TOKEN")))
		snprintf(c->token, sizeof c->token, "%s", v);
	if ((v = env("CPROF_PYROSCOPE_TENANT")))
		snprintf(c->tenant, sizeof c->tenant, "%s", v);
	if ((v = env("CPROF_CONTINUOUS_STATUS"))) {
		/* As profile paths from the environment: a process that inherited it (a child that exec'd) writes PATH.<pid>. */
		if (from_env)
			cprof__env_path(v, c->status_path, sizeof c->status_path);
		else
			snprintf(c->status_path, sizeof c->status_path, "%s", v);
	} else {
		const char *tmp = env("TMPDIR");
		char d[512];
		snprintf(d, sizeof d, "%s/cprof-continuous-%u", tmp ? tmp : "/tmp", (unsigned)getuid());
		if (mkdir(d, 0700) != 0 && errno != EEXIST)
			cprof__log("cannot create %s for the collector's status: %s", d, strerror(errno));
		snprintf(c->status_path, sizeof c->status_path, "%s/%d.status", d, c->pid);
	}
	return 0;
}

/* ---- one period's profiles ---- */

/* The part's sample types as "type/unit,...". */
static void part_types(const struct profile *p, char *out, size_t n)
{
	size_t len = 0;
	out[0] = 0;
	for (size_t t = 0; t < p->nsample_type && len < n; t++)
		len += (size_t)snprintf(out + len, n - len, "%s%s/%s", t ? "," : "",
					cprof__profile_str(p, p->sample_type[t].type),
					cprof__profile_str(p, p->sample_type[t].unit));
}

/* The labels as profile comments, so a file in a directory says whose it is. */
static void add_label_comments(struct profile *p, const struct cont_batch *b)
{
	char c[2560];
	snprintf(c, sizeof c, "cprof continuous: service=%s version=%s host=%s pid=%d seq=%llu%s%s", cs.cfg.service,
		 cs.cfg.version, cs.cfg.host, cs.cfg.pid, (unsigned long long)b->seq, cs.cfg.tags[0] ? " tags=" : "",
		 cs.cfg.tags);
	cprof__profile_add_comment(p, c);
}

/*
 * p encoded and gzipped through the collector's one deflate stream: reset,
 * not set up again, for each profile (deflate's state is some 270 KiB).
 * 0 or -ENOMEM.
 */
static int encode_gz(const struct profile *p, uint8_t **out, size_t *outlen)
{
	uint8_t *raw;
	size_t rawlen;
	int rc = cprof__profile_encode(p, &raw, &rawlen);
	if (rc != 0)
		return rc;
	if (!cs.z_ready) {
		memset(&cs.z, 0, sizeof cs.z);
		/* 15 + 16: a gzip header and trailer, as every profile file has */
		if (deflateInit2(&cs.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			free(raw);
			return -ENOMEM;
		}
		cs.z_ready = true;
	} else {
		deflateReset(&cs.z);
	}
	size_t cap = deflateBound(&cs.z, (uLong)rawlen) + 32;
	uint8_t *gz = malloc(cap);
	if (!gz || rawlen > UINT_MAX || cap > UINT_MAX) {
		free(raw);
		free(gz);
		return -ENOMEM;
	}
	cs.z.next_in = raw;
	cs.z.avail_in = (uInt)rawlen;
	cs.z.next_out = gz;
	cs.z.avail_out = (uInt)cap;
	int zrc = deflate(&cs.z, Z_FINISH);
	free(raw);
	if (zrc != Z_STREAM_END) {
		free(gz);
		return -ENOMEM;
	}
	*out = gz;
	*outlen = cap - cs.z.avail_out;
	return 0;
}

/* Encode p into the batch's next part (p is freed). */
static void add_part(struct cont_batch *b, const char *kind, bool delta, struct profile *p)
{
	if (!p)
		return;
	if (b->nparts >= CONT_MAX_PARTS) {
		cprof__profile_free(p);
		return;
	}
	p->time_nanos = b->start_wall;
	p->duration_nanos = b->end_wall - b->start_wall;
	add_label_comments(p, b);
	struct cont_part *pt = &b->part[b->nparts];
	snprintf(pt->kind, sizeof pt->kind, "%s", kind);
	pt->delta = delta;
	part_types(p, pt->types, sizeof pt->types);
	if (encode_gz(p, &pt->gz, &pt->len) == 0)
		b->nparts++;
	else
		__atomic_add_fetch(&cprof__cont_stats.build_errors, 1, __ATOMIC_RELAXED);
	cprof__profile_free(p);
}

/* Take this period's profiles. last: the final period (the CPU profile stops). */
static struct cont_batch *collect(bool last)
{
	struct cont_batch *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->seq = cs.seq++;
	b->start_wall = cs.period_start_wall;
	char skipped[256] = "";
	struct profile *cpu = NULL;
	if (cs.own_cpu) {
		int rc = cprof__cpu_rotate(&cpu, last);
		if (rc == -ESRCH)
			cs.own_cpu = false;
		if (rc != 0)
			snprintf(skipped, sizeof skipped, "cpu: %s", strerror(-rc));
	} else if (!cs.own_cpu) {
		/* Someone else's CPU profile ran at start: try again, it may have ended. */
		if (!last && cprof__cpu_collector_start(cprof__config.hz) == 0)
			cs.own_cpu = true;
		snprintf(skipped, sizeof skipped, "cpu: %s",
			 env("CPROF_CPUPROFILE") ? "CPROF_CPUPROFILE holds the CPU profiler"
						 : "another CPU profile holds the CPU profiler");
	}
	b->end_wall = cprof__wall_ns();
	cs.period_start_wall = b->end_wall;
	if (cpu && b->end_wall - b->start_wall > 0)
		cpu->duration_nanos = b->end_wall - b->start_wall;
	add_part(b, "cpu", false, cpu);
	struct profile *heap = NULL, *allocs = NULL, *block = NULL, *mutex = NULL;
	int rc = cprof__cont_heap(cs.counters, &heap, &allocs, skipped, sizeof skipped);
	add_part(b, "heap", false, heap);
	add_part(b, "allocs", true, allocs);
	int rb = cprof__cont_waits(cs.counters, false, &block, skipped, sizeof skipped);
	add_part(b, "block", true, block);
	int rm = cprof__cont_waits(cs.counters, true, &mutex, skipped, sizeof skipped);
	add_part(b, "mutex", true, mutex);
	uint64_t sym_bytes, sym_pcs, sym_reloads;
	cprof__sym_keep_stats(&sym_bytes, &sym_pcs, &sym_reloads);
	cprof__cont_lock();
	struct cont_stats *st = &cprof__cont_stats;
	st->batches++;
	st->profiles += b->nparts;
	st->baseline_bytes = cprof__cont_counters_bytes(cs.counters);
	st->symbol_bytes = sym_bytes;
	st->symbol_pcs = sym_pcs;
	st->symbol_reloads = sym_reloads;
	st->build_errors += (rc == -ENOMEM) + (rb == -ENOMEM) + (rm == -ENOMEM);
	size_t l = 0;
	st->kinds[0] = 0;
	for (size_t i = 0; i < b->nparts; i++)
		l += (size_t)snprintf(st->kinds + l, sizeof st->kinds - l, "%s%s", i ? "," : "", b->part[i].kind);
	snprintf(st->skipped, sizeof st->skipped, "%s", skipped);
	cprof__cont_unlock();
	return b;
}

/* ---- dir: the local store ---- */

/*
 * A stored file: SERVICE.KIND.YYYYMMDDTHHMMSSZ.PID.SEQ.pb.gz (the service
 * with '.' made '_'), the time the period started, in UTC. docs/FORMAT.md.
 */
static bool stored_name(const char *name)
{
	size_t n = strlen(name);
	if (n < 6 || strcmp(name + n - 6, ".pb.gz") != 0)
		return false;
	int dots = 0;
	for (const char *p = name; *p; p++)
		dots += *p == '.';
	return dots == 6;
}

static void dir_write(const struct cont_batch *b)
{
	char svc[128];
	snprintf(svc, sizeof svc, "%s", cs.cfg.service);
	for (char *p = svc; *p; p++)
		if (*p == '.' || *p == '/')
			*p = '_';
	time_t t = (time_t)(b->start_wall / 1000000000LL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char when[32];
	strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
	size_t failed = 0;
	for (size_t i = 0; i < b->nparts; i++) {
		char path[PATH_MAX], tmp[PATH_MAX + 16];
		snprintf(path, sizeof path, "%s/%s.%s.%s.%d.%llu.pb.gz", cs.cfg.target, svc, b->part[i].kind, when,
			 cs.cfg.pid, (unsigned long long)b->seq);
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ssize_t w = fd < 0 ? -1 : write(fd, b->part[i].gz, b->part[i].len);
		int err = errno;
		if (fd >= 0 && close(fd) != 0 && w >= 0) {
			w = -1;
			err = errno;
		}
		if (w != (ssize_t)b->part[i].len || rename(tmp, path) != 0) {
			if (w == (ssize_t)b->part[i].len)
				err = errno;
			unlink(tmp);
			cprof__cont_lock();
			cprof__cont_stats.write_errors++;
			cprof__cont_unlock();
			cprof__cont_error("cannot write %s: %s", path, err ? strerror(err) : "short write");
			failed++;
			continue;
		}
		cprof__cont_lock();
		cprof__cont_stats.files_written++;
		cprof__cont_stats.sent++;
		cprof__cont_stats.sent_bytes += b->part[i].len;
		cprof__cont_stats.last_sent_wall = cprof__wall_ns();
		cprof__cont_unlock();
	}
	cprof__cont_lock();
	if (failed) {
		cprof__cont_stats.dropped_failed++;
		cprof__cont_stats.dropped_failed_profiles += failed;
	} else {
		cprof__cont_stats.sent_batches++;
	}
	cprof__cont_unlock();
}

struct stored {
	char name[256];
	int64_t mtime;
	uint64_t size;
};

static int by_mtime(const void *a, const void *b)
{
	const struct stored *x = a, *y = b;
	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime ? 1 : strcmp(x->name, y->name);
}

/* Remove stored files older than max_age, then the oldest until the total fits max_bytes. */
static void dir_retain(void)
{
	DIR *d = opendir(cs.cfg.target);
	if (!d)
		return;
	size_t n = 0, cap = 0;
	struct stored *v = NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!stored_name(e->d_name) || strlen(e->d_name) >= sizeof v->name)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 256;
			struct stored *nv = realloc(v, nc * sizeof *nv);
			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		snprintf(v[n].name, sizeof v[n].name, "%s", e->d_name);
		v[n].mtime = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		v[n].size = (uint64_t)st.st_size;
		n++;
	}
	if (n > 0)
		qsort(v, n, sizeof *v, by_mtime);
	int64_t oldest_kept = cprof__wall_ns() - cs.cfg.max_age_ns;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].size;
	uint64_t removed = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].mtime >= oldest_kept && total <= cs.cfg.max_bytes)
			break;
		if (unlinkat(dirfd(d), v[i].name, 0) == 0)
			removed++;
		total -= v[i].size;
	}
	closedir(d);
	free(v);
	if (removed) {
		cprof__cont_lock();
		cprof__cont_stats.files_removed += removed;
		cprof__cont_unlock();
	}
}

/* ---- status ---- */

void cprof__cont_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cprof__cont_lock();
	vsnprintf(cprof__cont_stats.last_error, sizeof cprof__cont_stats.last_error, fmt, ap);
	cprof__cont_stats.last_error_wall = cprof__wall_ns();
	cprof__cont_unlock();
	va_end(ap);
	cprof__cont_status_write();
}

static const char *dest_name(enum cont_dest d)
{
	return d == CONT_DIR ? "dir" : d == CONT_PYROSCOPE ? "pyroscope" : "datadog";
}

/*
 * The status file: "key value" lines, rewritten whole (temporary file and
 * rename) after every period and every upload. docs/FORMAT.md.
 */
void cprof__cont_status_write(void)
{
	if (!cs.cfg.status_path[0])
		return;
	struct buf b;
	cprof__buf_init(&b, 1 << 16);
	cprof__cont_lock();
	const struct cont_stats *st = &cprof__cont_stats;
	cprof__buf_printf(&b, "pid %d\nservice %s\nversion %s\nhost %s\ntags %s\n", cs.cfg.pid, cs.cfg.service,
			  cs.cfg.version, cs.cfg.host, cs.cfg.tags);
	cprof__buf_printf(&b, "destination %s:%s\nperiod_ms %lld\nstarted_unix_ms %lld\nupdated_unix_ms %lld\n",
			  dest_name(cs.cfg.dest), cs.cfg.target, (long long)(cs.cfg.period_ns / 1000000),
			  (long long)(cs.started_wall / 1000000), (long long)(cprof__wall_ns() / 1000000));
	cprof__buf_printf(&b, "ended %s\n", cs.running && !cs.stopping ? "-" : cs.ended ? cs.ended : "-");
	cprof__buf_printf(&b, "running %d\nbatches %llu\nprofiles %llu\nlast_kinds %s\nskipped %s\n",
			  cs.running && !cs.stopping, (unsigned long long)st->batches,
			  (unsigned long long)st->profiles, st->kinds, st->skipped[0] ? st->skipped : "-");
	cprof__buf_printf(&b, "sent %llu\nsent_bytes %llu\nlast_sent_unix_ms %lld\n", (unsigned long long)st->sent,
			  (unsigned long long)st->sent_bytes, (long long)(st->last_sent_wall / 1000000));
	cprof__buf_printf(&b, "sent_batches %llu\n", (unsigned long long)st->sent_batches);
	cprof__buf_printf(&b, "dropped_queue_full %llu\ndropped_failed %llu\ndropped_stop %llu\nretries %llu\n",
			  (unsigned long long)st->dropped_queue, (unsigned long long)st->dropped_failed,
			  (unsigned long long)st->dropped_stop, (unsigned long long)st->retries);
	cprof__buf_printf(&b, "dropped_queue_full_profiles %llu\ndropped_failed_profiles %llu\ndropped_stop_profiles %llu\n",
			  (unsigned long long)st->dropped_queue_profiles, (unsigned long long)st->dropped_failed_profiles,
			  (unsigned long long)st->dropped_stop_profiles);
	cprof__buf_printf(&b, "queued %llu\nqueue_limit %d\nqueued_bytes %llu\nmax_queued_bytes %llu\n",
			  (unsigned long long)st->queued, cs.cfg.dest == CONT_DIR ? 0 : cs.cfg.queue,
			  (unsigned long long)st->queued_bytes, (unsigned long long)st->max_queued_bytes);
	cprof__buf_printf(&b, "baseline_bytes %llu\nfiles_written %llu\nfiles_removed %llu\nwrite_errors %llu\n",
			  (unsigned long long)st->baseline_bytes, (unsigned long long)st->files_written,
			  (unsigned long long)st->files_removed, (unsigned long long)st->write_errors);
	cprof__buf_printf(&b, "symbol_cache_bytes %llu\nsymbol_cache_pcs %llu\nsymbol_cache_reloads %llu\n",
			  (unsigned long long)st->symbol_bytes, (unsigned long long)st->symbol_pcs,
			  (unsigned long long)st->symbol_reloads);
	cprof__buf_printf(&b, "build_errors %llu\nlast_error_unix_ms %lld\nlast_error %s\n",
			  (unsigned long long)st->build_errors, (long long)(st->last_error_wall / 1000000),
			  st->last_error[0] ? st->last_error : "-");
	char tmp[1100];
	snprintf(tmp, sizeof tmp, "%s.tmp", cs.cfg.status_path);
	bool special = cprof__path_special(cs.cfg.status_path); /* /dev/null: in place, never renamed over */
	if (!b.err) {
		int fd = special ? cprof__open_special(cs.cfg.status_path)
				 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			ssize_t w = write(fd, b.data, b.len);
			if (close(fd) == 0 && w == (ssize_t)b.len && !special)
				rename(tmp, cs.cfg.status_path);
			else if (!special)
				unlink(tmp);
		}
	}
	cprof__cont_unlock();
	cprof__buf_release(&b);
}

/* ---- the collector thread ---- */

void cprof__cont_lower_priority(const struct cont_config *c)
{
	/*
	 * nice 19: weight 15 against 1024 for a nice-0 thread, so on a busy
	 * machine the collector takes at most about 1.5% of a CPU the program
	 * wants, and all it wants of an idle one. Not SCHED_IDLE (the
	 * endpoint's choice): the program's exit joins the collector, and a
	 * thread that only runs on otherwise idle CPUs could hold the exit
	 * for as long as the machine stays busy.
	 */
	errno = 0;
	int now = getpriority(PRIO_PROCESS, (id_t)gettid());
	if (errno == 0 && c->nice > now)
		setpriority(PRIO_PROCESS, (id_t)gettid(), c->nice);
}

static void deliver(struct cont_batch *b)
{
	if (!b)
		return;
	if (cs.cfg.dest == CONT_DIR) {
		dir_write(b);
		dir_retain();
		cprof__cont_batch_free(b);
	} else {
		cprof__upload_enqueue(b);
	}
	cprof__cont_status_write();
}

static void *collector(void *arg)
{
	(void)arg;
	/*
	 * The collector's own CPU time shows in the CPU profile it sends (thread
	 * cprof-collect, under collector()): the profiling signal is the one
	 * signal it takes; the program's signals go to the program's threads.
	 */
	sigset_t prof;
	sigemptyset(&prof);
	sigaddset(&prof, CPROF_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &prof, NULL);
	cprof__heap_ignore_begin(); /* the collector's own memory and waits are not the program's */
	cprof__wait_guard++;
	cprof__sym_keep(true); /* each address named once per process, not once per period */
	cprof__cont_lower_priority(&cs.cfg);
	int64_t next = cprof__now_ns() + cs.cfg.period_ns;
	pthread_mutex_lock(&cs.wake_lock);
	while (!cs.stopping) {
		int64_t now = cprof__now_ns();
		if (now < next) {
			struct timespec ts = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
			pthread_cond_timedwait(&cs.wake, &cs.wake_lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&cs.wake_lock);
		deliver(collect(false));
		pthread_mutex_lock(&cs.wake_lock);
		/* Periods stay on their grid; a period missed while collecting is skipped, not bunched. */
		next += cs.cfg.period_ns;
		if (next <= cprof__now_ns())
			next = cprof__now_ns() + cs.cfg.period_ns;
	}
	pthread_mutex_unlock(&cs.wake_lock);
	return NULL;
}

/* The next sequence number for this pid in the store: past any file an earlier image of this process wrote. */
static uint64_t next_seq(void)
{
	DIR *d = opendir(cs.cfg.target);
	if (!d)
		return 0;
	char mid[32];
	snprintf(mid, sizeof mid, ".%d.", cs.cfg.pid);
	uint64_t next = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!stored_name(e->d_name))
			continue;
		/* SERVICE.KIND.TIME.PID.SEQ.pb.gz: the pid between the 3rd and 4th dots from the end */
		const char *end = e->d_name + strlen(e->d_name) - 6, *p = end;
		while (p > e->d_name && p[-1] != '.')
			p--;
		const char *pid = p - 1;
		while (pid > e->d_name && pid[-1] != '.')
			pid--;
		if (pid > e->d_name && strncmp(pid - 1, mid, strlen(mid)) == 0) {
			uint64_t s = strtoull(p, NULL, 10);
			if (s + 1 > next)
				next = s + 1;
		}
	}
	closedir(d);
	return next;
}

static int start(const char *dest, int64_t period_ns, bool from_env)
{
	if (cs.running)
		return -EBUSY;
	int rc = read_config(&cs.cfg, dest, period_ns, from_env);
	if (rc != 0)
		return rc;
	if (cs.cfg.dest == CONT_DIR && mkdir(cs.cfg.target, 0755) != 0 && errno != EEXIST) {
		cprof__log("continuous: cannot create %s: %s; the collector is off", cs.cfg.target, strerror(errno));
		return -errno;
	}
	memset(&cprof__cont_stats, 0, sizeof cprof__cont_stats);
	if (cs.cfg.dest != CONT_DIR && (rc = cprof__upload_start(&cs.cfg)) != 0)
		return rc;
	snprintf(cs.dest_arg, sizeof cs.dest_arg, "%s", dest);
	cs.period_arg = period_ns;
	cs.from_env = from_env;
	cs.ended = NULL;
	cs.seq = cs.cfg.dest == CONT_DIR ? next_seq() : 0;
	cs.started_wall = cprof__wall_ns();
	cs.period_start_wall = cs.started_wall;
	/* The heap in use needs the heap profiler from the start: on at its default rate unless already on. */
	if (!cprof__heap_active() && cprof_heap_profile_start(0) != 0)
		cprof__log("continuous: cannot start the heap profiler; no heap profiles will be sent");
	cs.own_cpu = cprof__cpu_collector_start(cprof__config.hz) == 0;
	if (!cs.own_cpu)
		cprof__log("continuous: another CPU profile runs (CPROF_CPUPROFILE or a capture); the collector "
			   "sends CPU profiles once it has ended");
	cprof__heap_ignore_begin();
	cs.counters = cprof__cont_counters_new();
	if (cs.counters)
		cprof__cont_counters_baseline(cs.counters);
	cprof__heap_ignore_end();
	if (!cs.counters) {
		cprof__log("continuous: out of memory; the collector is off");
		if (cs.own_cpu) {
			struct profile *p;
			cprof__cpu_rotate(&p, true);
			cprof__profile_free(p);
		}
		if (cs.cfg.dest != CONT_DIR)
			cprof__upload_stop(0);
		return -ENOMEM;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cs.wake, &ca);
	pthread_condattr_destroy(&ca);
	cs.stopping = false;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&cs.th, NULL, collector, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		cprof__log("continuous: cannot start the collector thread: %s", strerror(rc));
		if (cs.own_cpu) {
			struct profile *p;
			cprof__cpu_rotate(&p, true);
			cprof__profile_free(p);
		}
		if (cs.cfg.dest != CONT_DIR)
			cprof__upload_stop(0);
		return -rc;
	}
	pthread_setname_np(cs.th, "cprof-collect");
	cs.running = true;
	cprof__cont_status_write();
	return 0;
}

/* Stop the thread, take the last (partial) period and deliver it. */
static int stop(int64_t wait_ms)
{
	if (!cs.running)
		return -ESRCH;
	pthread_mutex_lock(&cs.wake_lock);
	cs.stopping = true;
	pthread_cond_signal(&cs.wake);
	pthread_mutex_unlock(&cs.wake_lock);
	cprof__wait_guard++;
	pthread_join(cs.th, NULL);
	cprof__heap_ignore_begin();
	cprof__sym_keep(true);
	deliver(collect(true));
	cprof__sym_keep(false);
	cprof__heap_ignore_end();
	if (cs.cfg.dest != CONT_DIR)
		cprof__upload_stop(wait_ms);
	cprof__heap_ignore_begin();
	cprof__cont_counters_free(cs.counters);
	cs.counters = NULL;
	if (cs.z_ready)
		deflateEnd(&cs.z);
	cs.z_ready = false;
	cprof__sym_keep_release();
	cprof__heap_ignore_end();
	cs.running = false;
	cprof__cont_status_write();
	cprof__wait_guard--;
	return 0;
}

static void at_exit(void);
static void atfork_child(void);
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void hooks(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
	atexit(at_exit);
}

CPROF_API int cprof_continuous_start(const char *destination, int period_ms)
{
	if (!destination || period_ms < 0 || (period_ms > 0 && period_ms < 100))
		return -EINVAL;
	pthread_once(&hooks_once, hooks);
	pthread_mutex_lock(&cs.lock);
	int rc = start(destination, (int64_t)period_ms * 1000000, false);
	pthread_mutex_unlock(&cs.lock);
	return rc;
}

CPROF_API int cprof_continuous_stop(void)
{
	pthread_mutex_lock(&cs.lock);
	cs.ended = "stop";
	int rc = cs.running && cs.cfg.pid == (int)getpid() ? stop(2000) : -ESRCH;
	pthread_mutex_unlock(&cs.lock);
	return rc;
}

static void at_exit(void)
{
	/* The last period goes out too; uploads get at most a second. */
	pthread_mutex_lock(&cs.lock);
	if (cs.running && cs.cfg.pid == (int)getpid()) {
		cs.ended = "exit";
		stop(1000);
	}
	pthread_mutex_unlock(&cs.lock);
}

static void atfork_child(void)
{
	/* The collector thread is the parent's: the child starts without one. */
	pthread_mutex_init(&cs.lock, NULL);
	pthread_mutex_init(&cs.stat_lock, NULL);
	pthread_mutex_init(&cs.wake_lock, NULL);
	cs.running = false;
	cs.exec_paused = false;
	cs.counters = NULL; /* the parent's, left to the child's exit */
	/* The status file stays the parent's: nothing in the child writes it. */
	cs.cfg.status_path[0] = 0;
}

void cprof__continuous_before_exec(void)
{
	/*
	 * The image that runs now ends: its last (partial) period is taken and
	 * delivered (uploads get half a second), and its final status moves to
	 * STATUS.preexec.<pid>, so that the new image, which has the same pid
	 * and, with the same environment, the same status path, starts its own
	 * file instead of overwriting this one. A vfork child shares our memory:
	 * the collector is its parent's, hands off.
	 */
	if (cs.cfg.pid != (int)getpid() || pthread_mutex_trylock(&cs.lock) != 0)
		return; /* a vfork child, or starting or stopping on another thread: leave it be */
	cs.exec_paused = false;
	if (cs.running && cs.cfg.pid == (int)getpid()) {
		cs.ended = "exec";
		stop(500);
		char pre[sizeof cs.cfg.status_path + 32];
		snprintf(pre, sizeof pre, "%s.preexec.%d", cs.cfg.status_path, cs.cfg.pid);
		if (cs.cfg.status_path[0] && !cprof__path_special(cs.cfg.status_path))
			rename(cs.cfg.status_path, pre);
		cs.exec_paused = true;
	}
	pthread_mutex_unlock(&cs.lock);
}

void cprof__continuous_after_failed_exec(void)
{
	pthread_mutex_lock(&cs.lock);
	if (cs.exec_paused && cs.cfg.pid == (int)getpid()) {
		cs.exec_paused = false;
		start(cs.dest_arg, cs.period_arg, cs.from_env);
	}
	pthread_mutex_unlock(&cs.lock);
}

void cprof__continuous_start_from_env(void)
{
	const char *d = env("CPROF_CONTINUOUS");
	if (!d)
		return;
	pthread_once(&hooks_once, hooks);
	pthread_mutex_lock(&cs.lock);
	start(d, 0, true);
	pthread_mutex_unlock(&cs.lock);
}
