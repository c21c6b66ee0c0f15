/*
 * heap_write.c - the heap profiler's output: the heap, allocs and peak
 * profiles built from the site table (Go's four values, unsampled weights
 * already applied, a numeric "bytes" label, "kind" and "lifetime" labels),
 * the leak report at exit, and when profiles are written: at exit, on
 * fatal signals (through the CPU profiler's writer thread), in fork children
 * (FILE.<pid>) and before exec (FILE.preexec.<pid>), as CPROF_MEMPROFILE
 * and CPROF_PEAKPROFILE ask.
 *
 * Sampling and the tables themselves are prof_heap.c's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cprof.h"
#include "proto/profile.h"
#include "runtime/heap.h"
#include "runtime/heap_int.h"
#include "runtime/rt.h"

enum which { W_HEAP, W_ALLOCS, W_PEAK };

static const char *const kind_names[HEAP_NKINDS] = {NULL, "realloc_grow", "realloc_shrink", "annotated"};

static int64_t objs(int64_t fp)
{
	return fp <= 0 ? 0 : (fp + HEAP_ONE / 2) / HEAP_ONE;
}

static void add_comments(struct profile *p, enum which w)
{
	struct heap_state *h = &cprof__heap;
	char c[512];
	int64_t rate = atomic_load(&h->rate);
	snprintf(c, sizeof c, "cprof %s: %s profile, sampling 1 allocation per %lld bytes on average%s; %llu samples; "
		 "allocator %s",
		 CPROF_VERSION_STRING, w == W_HEAP ? "heap" : w == W_ALLOCS ? "allocs" : "peak heap", (long long)rate,
		 rate <= 1 ? " (every allocation recorded)" : "", (unsigned long long)cprof__heap_samples(),
		 cprof__malloc_next_name());
	cprof__profile_add_comment(p, c);
	snprintf(c, sizeof c, "profiler memory: %llu bytes resident, for %u sites and %zu sampled blocks",
		 (unsigned long long)cprof__heap_own_bytes(), atomic_load(&h->nsite_list) - 1,
		 atomic_load(&h->nodes_used) - h->nfree_nodes);
	cprof__profile_add_comment(p, c);
	uint64_t walks, hits;
	cprof__heap_stack_counts(&walks, &hits);
	snprintf(c, sizeof c, "stacks: %llu walked, %llu found in the validated stack cache",
		 (unsigned long long)walks, (unsigned long long)hits);
	cprof__profile_add_comment(p, c);
	uint64_t lost = atomic_load(&h->lost_samples), untracked = atomic_load(&h->untracked);
	if (lost) {
		snprintf(c, sizeof c, "%llu samples did not fit the site table: they are under [cprof: lost samples]",
			 (unsigned long long)lost);
		cprof__profile_add_comment(p, c);
	}
	if (untracked) {
		snprintf(c, sizeof c,
			 "%llu sampled blocks could not be remembered (registry full): counted as allocated, not in use",
			 (unsigned long long)untracked);
		cprof__profile_add_comment(p, c);
	}
	if (!cprof__malloc_interposed())
		cprof__profile_add_comment(p, "malloc resolves to a library loaded before libcprof: its allocations "
					      "are not seen (preload libcprof first)");
	if (w == W_PEAK) {
		snprintf(c, sizeof c, "in use when the heap was largest: %lld bytes", (long long)h->peak_bytes);
		cprof__profile_add_comment(p, c);
	}
}

/* The profile `w` as of now. NULL with errno ENODATA when heap profiling never ran, ENOMEM. */
static struct profile *build(enum which w)
{
	struct heap_state *h = &cprof__heap;
	if (!h->map) {
		errno = ENODATA;
		return NULL;
	}
	struct heap_thread *t = &cprof__heap_self;
	cprof__heap_busy_enter(t);
	cprof__arena_begin(); /* the profile's memory is not the program's heap */
	struct profile *p = cprof__profile_new();
	if (!p)
		goto oom;
	if (w == W_PEAK) {
		cprof__heap_peak_update();
		cprof__profile_add_sample_type(p, "inuse_objects", "count");
		cprof__profile_add_sample_type(p, "inuse_space", "bytes");
	} else {
		cprof__profile_add_sample_type(p, "alloc_objects", "count");
		cprof__profile_add_sample_type(p, "alloc_space", "bytes");
		cprof__profile_add_sample_type(p, "inuse_objects", "count");
		cprof__profile_add_sample_type(p, "inuse_space", "bytes");
	}
	p->period_type.type = cprof__profile_intern(p, "space", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "bytes", (size_t)-1);
	p->period = atomic_load(&h->rate);
	p->time_nanos = w == W_PEAK && h->peak_time ? h->peak_time : cprof__wall_ns();
	if (w == W_ALLOCS)
		p->default_sample_type = cprof__profile_intern(p, "alloc_space", (size_t)-1);
	add_comments(p, w);
	int64_t k_bytes = cprof__profile_intern(p, "bytes", (size_t)-1);
	int64_t k_kind = cprof__profile_intern(p, "kind", (size_t)-1);
	int64_t k_life = cprof__profile_intern(p, "lifetime", (size_t)-1);
	int64_t v_short = cprof__profile_intern(p, "short", (size_t)-1);
	int64_t v_kind[HEAP_NKINDS] = {0};
	for (int k = 1; k < HEAP_NKINDS; k++)
		v_kind[k] = cprof__profile_intern(p, kind_names[k], (size_t)-1);

	struct rt_sym *s = cprof__sym_begin(p);
	if (!s) {
		cprof__profile_free(p);
		goto oom;
	}
	bool err = false;
	uint32_t n = atomic_load(&h->nsite_list);
	uint64_t lost_id = 0;
	for (uint32_t i = 0; i < n && !err; i++) {
		uint32_t si = h->site_list[i];
		struct heap_site *site = &h->sites[si];
		if (si != 0 && atomic_load(&site->hash) < 2)
			continue;
		struct heap_sums v;
		cprof__heap_site_sums(site, &v);
		int64_t vals[2][4];
		int nv = w == W_PEAK ? 2 : 4, nsamples = 0;
		bool is_short[2] = {false, false};
		if (w == W_PEAK) {
			vals[0][0] = objs(site->peak_obj);
			vals[0][1] = site->peak_bytes > 0 ? site->peak_bytes : 0;
			if (vals[0][0] || vals[0][1])
				nsamples = 1;
		} else {
			if (v.short_obj > 0) {
				vals[nsamples][0] = objs(v.short_obj);
				vals[nsamples][1] = v.short_bytes;
				vals[nsamples][2] = vals[nsamples][3] = 0;
				is_short[nsamples++] = true;
			}
			int64_t in_o = v.alloc_obj - v.free_obj, in_b = v.alloc_bytes - v.free_bytes;
			vals[nsamples][0] = objs(v.alloc_obj) - objs(v.short_obj);
			vals[nsamples][1] = v.alloc_bytes - v.short_bytes;
			vals[nsamples][2] = objs(in_o);
			vals[nsamples][3] = in_b > 0 ? in_b : 0;
			if (vals[nsamples][0] > 0 || vals[nsamples][1] > 0 || vals[nsamples][3] > 0)
				nsamples++;
		}
		if (nsamples == 0)
			continue;
		uint64_t ids[CPROF_MAX_DEPTH_LIMIT];
		int k;
		if (si == 0) {
			if (!lost_id)
				lost_id = cprof__sym_special(s, "[cprof: lost samples]");
			ids[0] = lost_id;
			k = lost_id ? 1 : 0;
		} else {
			k = cprof__sym_stack(s, &h->frames[site->off], (int)site->depth, false, ids);
		}
		struct pp_label lb[3 + 16];
		size_t nl = 0;
		/* The block size: the sampled blocks' mean (exact for a site of one size). */
		int64_t avg = v.raw_obj > 0 ? (v.raw_bytes + v.raw_obj / 2) / v.raw_obj : 0;
		lb[nl++] = (struct pp_label){k_bytes, 0, avg, 0};
		if (site->kind && site->kind < HEAP_NKINDS)
			lb[nl++] = (struct pp_label){k_kind, v_kind[site->kind], 0, 0};
		if (site->labels)
			nl += cprof__labels_to_pp(p, (const struct rt_labels *)site->labels, lb + nl, 16);
		for (int j = 0; j < nsamples && !err; j++) {
			size_t nlj = nl;
			if (is_short[j])
				lb[nlj++] = (struct pp_label){k_life, v_short, 0, 0};
			if (!cprof__profile_add_sample(p, ids, (size_t)k, vals[j], (size_t)nv, lb, nlj))
				err = true;
		}
	}
	if (cprof__sym_end(s) != 0 || err) {
		cprof__profile_free(p);
		goto oom;
	}
	cprof__arena_end();
	cprof__heap_busy_exit(t);
	return p;
oom:
	cprof__arena_end();
	cprof__heap_busy_exit(t);
	errno = ENOMEM;
	return NULL;
}

struct profile *cprof__heap_build_heap(void)
{
	return build(W_HEAP);
}

struct profile *cprof__heap_build_allocs(void)
{
	return build(W_ALLOCS);
}

struct profile *cprof__heap_build_peak(void)
{
	return build(W_PEAK);
}

static int which_of(const char *name, enum which *w)
{
	if (!name || strcmp(name, "heap") == 0)
		*w = W_HEAP;
	else if (strcmp(name, "allocs") == 0)
		*w = W_ALLOCS;
	else if (strcmp(name, "peak") == 0)
		*w = W_PEAK;
	else
		return -EINVAL;
	return 0;
}

static int write_profile(enum which w, int fd, const char *path)
{
	struct heap_thread *t = &cprof__heap_self;
	struct profile *p = build(w);
	if (!p)
		return -errno;
	cprof__heap_busy_enter(t);
	cprof__arena_begin();
	int rc = path ? cprof__write_path(p, path) : cprof__write_fd(p, fd);
	cprof__profile_free(p);
	cprof__arena_end();
	cprof__heap_busy_exit(t);
	return rc;
}

CPROF_API int cprof_heap_profile_write(const char *name, int fd)
{
	enum which w;
	if (which_of(name, &w) != 0)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	return write_profile(w, fd, NULL);
}

CPROF_API int cprof_heap_profile_write_path(const char *name, const char *path)
{
	enum which w;
	if (which_of(name, &w) != 0 || !path || !*path)
		return -EINVAL;
	return write_profile(w, -1, path);
}

/* ---- leak report ---- */

struct leak {
	int64_t objs, bytes;
	const struct pp_sample *s;
};

static int leak_cmp(const void *a, const void *b)
{
	const struct leak *x = a, *y = b;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static void human(int64_t b, char *out, size_t n)
{
	if (b >= 1 << 20)
		snprintf(out, n, "%.1f MiB", b / 1048576.0);
	else if (b >= 10 << 10)
		snprintf(out, n, "%.1f KiB", b / 1024.0);
	else
		snprintf(out, n, "%lld B", (long long)b);
}

/* "f (file:line) <- g <- h" for a sample's first frames. */
static void describe_stack(const struct profile *p, const struct pp_sample *s, char *out, size_t n)
{
	size_t len = 0;
	out[0] = 0;
	int shown = 0;
	for (size_t i = 0; i < s->nlocation && shown < 6; i++) {
		const struct pp_location *loc = cprof__profile_location(p, s->location_id[i]);
		if (!loc)
			continue;
		for (size_t j = 0; j < loc->nline && shown < 6; j++) {
			const struct pp_function *f = cprof__profile_function(p, loc->line[j].function_id);
			const char *name = f ? cprof__profile_str(p, f->name) : "?";
			int w;
			if (shown == 0 && f && loc->line[j].line > 0) {
				const char *file = cprof__profile_str(p, f->filename);
				const char *base = strrchr(file, '/');
				w = snprintf(out + len, n - len, "%s (%s:%lld)", name, base ? base + 1 : file,
					     (long long)loc->line[j].line);
			} else {
				w = snprintf(out + len, n - len, "%s%s", shown ? " <- " : "", name);
			}
			if (w < 0 || (size_t)w >= n - len)
				return;
			len += (size_t)w;
			shown++;
		}
		if (loc->nline == 0 && shown < 6) {
			int w = snprintf(out + len, n - len, "%s%#llx", shown ? " <- " : "", (unsigned long long)loc->address);
			if (w < 0 || (size_t)w >= n - len)
				return;
			len += (size_t)w;
			shown++;
		}
	}
}

static void leak_report(const struct profile *p)
{
	struct leak *v = malloc((p->nsample + 1) * sizeof *v);
	if (!v)
		return;
	size_t nv = 0;
	int64_t tot_o = 0, tot_b = 0;
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = &p->sample[i];
		if (s->nvalue < 4 || (s->value[2] <= 0 && s->value[3] <= 0))
			continue;
		v[nv++] = (struct leak){s->value[2], s->value[3], s};
		tot_o += s->value[2];
		tot_b += s->value[3];
	}
	qsort(v, nv, sizeof *v, leak_cmp);
	int64_t rate = atomic_load(&cprof__heap.rate);
	char hb[32];
	human(tot_b, hb, sizeof hb);
	if (rate <= 1)
		cprof__log("leaks: %lld blocks (%s) still allocated at exit, from %zu stacks (exact: every allocation "
			   "recorded)",
			   (long long)tot_o, hb, nv);
	else
		cprof__log("leaks: about %lld blocks (%s) still allocated at exit, from %zu stacks (estimated from "
			   "samples, 1 per %lld bytes; -memprofilerate=1 for exact counts)",
			   (long long)tot_o, hb, nv, (long long)rate);
	for (size_t i = 0; i < nv && i < 10; i++) {
		char st[1024];
		describe_stack(p, v[i].s, st, sizeof st);
		human(v[i].bytes, hb, sizeof hb);
		cprof__log("leaks:   %s in %lld block%s: %s", hb, (long long)v[i].objs, v[i].objs == 1 ? "" : "s", st);
	}
	if (nv > 10)
		cprof__log("leaks:   ... and %zu more stacks (cprof pprof -inuse_space on the heap profile shows all)",
			   nv - 10);
	cprof__report("leaks", "-", "blocks=%lld bytes=%lld stacks=%zu rate=%lld", (long long)tot_o,
		      (long long)tot_b, nv, (long long)rate);
	free(v);
}

/* ---- when profiles are written ---- */

static char mem_path[PATH_MAX], peak_path[PATH_MAX];
static bool want_leaks, exit_done;
static pid_t heap_pid;

/* The calling thread's CPU time. */
static int64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * w0, c0: the wall (cprof__now_ns) and thread CPU time when building the
 * profile began: what building, symbolizing and writing it cost.
 */
static void report_written(const char *kind, const char *path, const struct profile *p, int64_t w0, int64_t c0)
{
	int64_t write_ns = cprof__now_ns() - w0, write_cpu_ns = thread_cpu_ns() - c0;
	struct heap_state *h = &cprof__heap;
	int64_t inuse = 0, alloc = 0;
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = &p->sample[i];
		if (s->nvalue == 4) {
			alloc += s->value[1];
			inuse += s->value[3];
		} else if (s->nvalue == 2) {
			inuse += s->value[1];
		}
	}
	cprof__report(kind, path,
		      "samples=%llu lost=%llu rate=%lld sites=%u inuse_bytes=%lld alloc_bytes=%lld own_bytes=%llu write_ns=%lld write_cpu_ns=%lld",
		      (unsigned long long)cprof__heap_samples(), (unsigned long long)atomic_load(&h->lost_samples),
		      (long long)atomic_load(&h->rate), atomic_load(&h->nsite_list) - 1, (long long)inuse,
		      (long long)alloc, (unsigned long long)cprof__heap_own_bytes(), (long long)write_ns,
		      (long long)write_cpu_ns);
}

/* Write what the environment asked for; mem_alt replaces mem_path (before exec). */
static void write_all(const char *mem_alt)
{
	struct heap_thread *t = &cprof__heap_self;
	const char *mp = mem_alt ? mem_alt : mem_path;
	if (!cprof__heap.map)
		return;
	cprof__heap_busy_enter(t);
	cprof__arena_begin(); /* building, symbolizing, compressing: none of it on the program's heap */
	int64_t w0 = cprof__now_ns(), c0 = thread_cpu_ns();
	if (mp[0] || (want_leaks && !mem_alt)) {
		struct profile *p = build(W_HEAP);
		if (!p) {
			cprof__log("cannot build the heap profile: %s", strerror(errno));
		} else {
			if (mp[0]) {
				int rc = cprof__write_path(p, mp);
				if (rc != 0)
					cprof__log("cannot write the heap profile to %s: %s", mp, strerror(-rc));
				else
					report_written("heap", mp, p, w0, c0);
			}
			if (want_leaks && !mem_alt)
				leak_report(p);
			cprof__profile_free(p);
		}
	}
	if (peak_path[0] && !mem_alt) {
		w0 = cprof__now_ns();
		c0 = thread_cpu_ns();
		struct profile *p = build(W_PEAK);
		int rc = p ? cprof__write_path(p, peak_path) : -errno;
		if (rc != 0)
			cprof__log("cannot write the peak heap profile to %s: %s", peak_path, strerror(-rc));
		else
			report_written("peak", peak_path, p, w0, c0);
		cprof__profile_free(p);
	}
	cprof__arena_end();
	cprof__heap_busy_exit(t);
}

void cprof__heap_stop_at_exit(void)
{
	if (exit_done || heap_pid != getpid())
		return;
	exit_done = true;
	write_all(NULL);
}

static void at_exit(void)
{
	cprof__heap_stop_at_exit();
}

void cprof__heap_before_exec(void)
{
	/* A vfork child shares our memory: the profile is its parent's. */
	if (heap_pid != getpid() || !mem_path[0] || !cprof__heap.map || !cprof__heap_samples())
		return;
	char alt[PATH_MAX + 64];
	snprintf(alt, sizeof alt, "%s.preexec.%d", mem_path, (int)getpid());
	write_all(alt);
}

void cprof__heap_after_fork_child(void)
{
	exit_done = false;
	heap_pid = getpid();
	/* The child's heap is a copy of the parent's, and so is its profile so far. */
	char buf[PATH_MAX];
	const char *envs[2] = {"CPROF_MEMPROFILE", "CPROF_PEAKPROFILE"};
	char *paths[2] = {mem_path, peak_path};
	for (int i = 0; i < 2; i++) {
		if (!paths[i][0])
			continue;
		const char *base = getenv(envs[i]);
		snprintf(buf, sizeof buf, "%s.%d", base && *base ? base : paths[i], (int)getpid());
		snprintf(paths[i], PATH_MAX, "%s", buf);
	}
}

void cprof__heap_start_from_env(void)
{
	heap_pid = getpid();
	const char *mp = getenv("CPROF_MEMPROFILE"), *pp = getenv("CPROF_PEAKPROFILE");
	const char *rs = getenv("CPROF_MEM_RATE"), *lk = getenv("CPROF_MEMLEAKS");
	want_leaks = lk && *lk && strcmp(lk, "0") != 0;
	bool any = (mp && *mp) || (pp && *pp) || (rs && *rs) || want_leaks;
	if (!any)
		return;
	int64_t rate = CPROF_HEAP_DEFAULT_RATE;
	if (rs && *rs) {
		char *end;
		errno = 0;
		long long v = strtoll(rs, &end, 10);
		if (errno || end == rs || *end || v < 1 || v > HEAP_MAX_RATE)
			cprof__log("CPROF_MEM_RATE=%s: want a number of bytes from 1 (every allocation) to 2^31; using %d",
				   rs, CPROF_HEAP_DEFAULT_RATE);
		else
			rate = v;
	}
	if (mp && *mp)
		cprof__env_path(mp, mem_path, sizeof mem_path);
	if (pp && *pp)
		cprof__env_path(pp, peak_path, sizeof peak_path);
	atexit(at_exit);
	int rc = cprof__heap_start(rate);
	if (rc == -ENOTSUP) {
		cprof__log("this program is statically linked: the heap profiler needs the dynamic loader to "
			   "interpose malloc, and stays off");
		return;
	}
	if (rc != 0) {
		cprof__log("cannot start the heap profiler: %s", strerror(-rc));
		return;
	}
	if (!cprof__malloc_interposed())
		cprof__log("malloc resolves to a library loaded before libcprof: the heap profile will not see "
			   "allocations; put libcprof first in LD_PRELOAD");
	if (mem_path[0] || peak_path[0]) {
		struct heap_thread *t = &cprof__heap_self;
		cprof__heap_busy_enter(t); /* the writer thread's own blocks are ours */
		cprof__fatal_install();
		cprof__heap_busy_exit(t);
	}
}

/* ---- per-site counters (the continuous collector's deltas) ---- */

int64_t cprof__heap_rate(void)
{
	return cprof__heap.map ? atomic_load(&cprof__heap.rate) : 0;
}

int cprof__heap_counters(void (*fn)(size_t id, const uintptr_t *pcs, int n, const void *labels, const char *kind,
				    const struct rt_heap_counts *c, void *arg),
			 void *arg)
{
	struct heap_state *h = &cprof__heap;
	if (!h->map)
		return -ENODATA;
	struct heap_thread *t = &cprof__heap_self;
	cprof__heap_busy_enter(t);
	uint32_t n = atomic_load(&h->nsite_list);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t si = h->site_list[i];
		const struct heap_site *site = &h->sites[si];
		if (si != 0 && atomic_load(&site->hash) < 2)
			continue;
		struct heap_sums v;
		cprof__heap_site_sums(site, &v);
		int64_t in_b = v.alloc_bytes - v.free_bytes;
		struct rt_heap_counts c = {objs(v.alloc_obj), v.alloc_bytes, objs(v.alloc_obj - v.free_obj),
					   in_b > 0 ? in_b : 0, v.raw_obj, v.raw_bytes};
		const char *kind = site->kind && site->kind < HEAP_NKINDS ? kind_names[site->kind] : NULL;
		if (si == 0)
			fn(0, NULL, 0, NULL, NULL, &c, arg);
		else
			fn(si, &h->frames[site->off], (int)site->depth, site->labels, kind, &c, arg);
	}
	cprof__heap_busy_exit(t);
	return 0;
}
