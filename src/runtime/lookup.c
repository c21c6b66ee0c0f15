/*
 * lookup.c - profiles by name (Go's pprof.Lookup): the one table that says
 * which profiles this runtime can produce at any moment, and the public
 * cprof_profile_write() that writes one, as gzipped profile.proto or in
 * Go's legacy text form (textfmt.c). The HTTP endpoint, the benchmark
 * harness and each profiler's "write now" call go through here.
 *
 * Each profiler adds its own line to the table when its builder exists.
 * The CPU profile is not here: it is a capture over a duration with its own
 * API (prof_cpu.c). Timed kinds (start/stop) are listed for the endpoint
 * but cannot be written as a snapshot.
 *
 * What the endpoint serves for a profiler that is off is here too: Go's
 * handler writes any profile it knows, recorded or not (block and mutex at
 * rate 0 are empty, valid profiles), so the heap kinds, whose profiler
 * starts only at load, answer an empty profile with their sample types and
 * a comment saying why, not an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "cprof.h"
#include "proto/profile.h"
#include "runtime/rt.h"

/* Builders each profiler provides; one line per profile name. */
static const struct rt_profile_kind kinds[] = {
	{"threads", "Stack traces of all current threads, with their names and what they are blocked in",
	 cprof__threads_build, cprof__threads_text, NULL, NULL, cprof__threads_count},
	{"threadcreate", "Stack traces that created the threads alive now", cprof__threadcreate_build,
	 cprof__threadcreate_text, NULL, NULL, cprof__threadcreate_count},
	{"wall", "Wall-clock profile: every thread, running or waiting, labelled with its state; a capture over "
		 "?seconds=N like the CPU profile",
	 NULL, NULL, cprof__wall_capture_start, cprof__wall_capture_stop, NULL},
	{"heap", "A sampling of memory allocations of live objects.", cprof__heap_build_heap, NULL, NULL, NULL, NULL},
	{"allocs", "A sampling of all past memory allocations.", cprof__heap_build_allocs, NULL, NULL, NULL, NULL},
	{"peak", "The live objects at the moment the heap was largest.", cprof__heap_build_peak, NULL, NULL, NULL, NULL},
	{"block", "Stack traces that led to waiting on locks, condition variables, semaphores, joins and barriers "
		  "(and blocking system calls when asked for)",
	 cprof__block_profile, NULL, NULL, NULL, NULL},
	{"mutex", "Stack traces of holders of contended mutexes", cprof__mutex_profile, NULL, NULL, NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};
#define NKINDS (sizeof kinds / sizeof kinds[0] - 1)

const struct rt_profile_kind *cprof__lookup(const char *name)
{
	for (const struct rt_profile_kind *k = kinds; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const struct rt_profile_kind *cprof__lookup_all(size_t *n)
{
	*n = NKINDS;
	return kinds;
}

#define HEAP_OFF "the heap profiler is off in this process (it starts at load: cprof run -memprofile=FILE " \
		 "or -memprofilerate=N, CPROF_MEM_RATE=N): this profile is empty"

struct profile *cprof__lookup_empty(const char *name)
{
	bool peak = strcmp(name, "peak") == 0;
	if (!peak && strcmp(name, "heap") != 0 && strcmp(name, "allocs") != 0) {
		errno = ENOENT;
		return NULL;
	}
	struct profile *p = cprof__profile_new();
	if (!p)
		goto oom;
	bool ok = true;
	if (!peak)
		ok = cprof__profile_add_sample_type(p, "alloc_objects", "count") &&
		     cprof__profile_add_sample_type(p, "alloc_space", "bytes");
	ok = ok && cprof__profile_add_sample_type(p, "inuse_objects", "count") &&
	     cprof__profile_add_sample_type(p, "inuse_space", "bytes");
	p->period_type.type = cprof__profile_intern(p, "space", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "bytes", (size_t)-1);
	if (strcmp(name, "allocs") == 0)
		p->default_sample_type = cprof__profile_intern(p, "alloc_space", (size_t)-1);
	p->time_nanos = cprof__wall_ns();
	if (!ok || p->period_type.type < 0 || p->period_type.unit < 0 || cprof__profile_add_comment(p, HEAP_OFF) != 0) {
		cprof__profile_free(p);
		goto oom;
	}
	return p;
oom:
	errno = ENOMEM;
	return NULL;
}

/* p as proto (debug 0, gzipped) or Go's legacy text, appended to out. */
static int emit(const char *name, int debug, struct profile *p, struct buf *out)
{
	int rc;
	if (debug > 0) {
		rc = cprof__lookup_text(name, p, out);
	} else {
		uint8_t *gz;
		size_t len;
		rc = cprof__profile_encode_gz(p, &gz, &len);
		if (rc == 0) {
			rc = cprof__buf_append(out, gz, len);
			free(gz);
		}
	}
	return rc;
}

static int render(const char *name, int debug, bool empty_when_off, struct buf *out)
{
	const struct rt_profile_kind *k = cprof__lookup(name);
	if (!k)
		return -ENOENT;
	if (debug > 0 && k->text)
		return k->text(out, debug);
	if (!k->build)
		return -EINVAL; /* timed: needs a duration */
	errno = 0;
	struct profile *p = k->build();
	bool off = false;
	if (!p && errno == ENODATA && empty_when_off) {
		p = cprof__lookup_empty(name);
		off = p != NULL;
	}
	if (!p)
		return errno == ENODATA ? -ENODATA : -ENOMEM;
	int rc = emit(name, debug, p, out);
	if (rc == 0 && off && debug > 0)
		rc = cprof__buf_puts(out, "# cprof: " HEAP_OFF "\n");
	cprof__profile_free(p);
	return rc;
}

int cprof__lookup_render(const char *name, int debug, struct buf *out)
{
	cprof__heap_ignore_begin(); /* building and encoding allocate: not the program's */
	cprof__arena_begin();
	int rc = render(name, debug, false, out);
	cprof__arena_end();
	cprof__heap_ignore_end();
	return rc;
}

int cprof__lookup_serve(const char *name, int debug, struct buf *out)
{
	cprof__heap_ignore_begin();
	cprof__arena_begin();
	int rc = render(name, debug, true, out);
	cprof__arena_end();
	cprof__heap_ignore_end();
	return rc;
}

CPROF_API int cprof_profile_write(const char *name, int fd, int debug)
{
	if (!name || fd < 0 || debug < 0)
		return !name || debug < 0 ? -EINVAL : -EBADF;
	struct buf b;
	cprof__buf_init(&b, 0);
	int rc = cprof__lookup_render(name, debug, &b);
	if (rc == 0)
		rc = cprof__write_all(fd, b.data, b.len);
	cprof__buf_release(&b);
	return rc;
}

CPROF_API int cprof_profile_write_path(const char *name, const char *path, int debug)
{
	if (!name || !path || !*path || debug < 0)
		return -EINVAL;
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
		return -ENAMETOOLONG;
	struct buf b;
	cprof__buf_init(&b, 0);
	int rc = cprof__lookup_render(name, debug, &b);
	if (rc != 0) {
		cprof__buf_release(&b);
		return rc;
	}
	bool special = cprof__path_special(path); /* /dev/null: in place, never renamed over */
	int fd = special ? cprof__open_special(path) : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = special ? fd : -errno;
		cprof__buf_release(&b);
		return rc;
	}
	rc = cprof__write_all(fd, b.data, b.len);
	cprof__buf_release(&b);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (special)
		return rc;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}
