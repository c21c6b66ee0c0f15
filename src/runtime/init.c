/*
 * init.c - the runtime's entry: reads the configuration from the
 * environment when the library loads, refuses to act on it in privileged
 * (AT_SECURE) processes, and starts what the environment asks for. The
 * profilers themselves live in prof_*.c.
 */
#include <errno.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

#include "cprof.h"
#include "runtime/rt.h"

struct rt_config cprof__config = {CPROF_DEFAULT_HZ, CPROF_DEFAULT_DEPTH, CPROF_UNWIND_DWARF, false,
				   CPROF_DEFAULT_WALL_HZ};

int64_t cprof__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t cprof__wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

CPROF_API const char *cprof_version(void)
{
	return CPROF_VERSION_STRING;
}

/* Parse an integer in [lo, hi]; -1 when v is not one. */
static long parse_int(const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return -1;
	return n;
}

static void read_config(void)
{
	const char *v = getenv("CPROF_QUIET");
	cprof__quiet = v && *v && strcmp(v, "0") != 0;
	if ((v = getenv("CPROF_CPU_HZ")) && *v) {
		long n = parse_int(v, 1, CPROF_MAX_HZ);
		if (n < 0)
			cprof__log("CPROF_CPU_HZ=%s: want a rate from 1 to %d Hz; using %d", v, CPROF_MAX_HZ,
				   CPROF_DEFAULT_HZ);
		else
			cprof__config.hz = (int)n;
	}
	if ((v = getenv("CPROF_WALL_HZ")) && *v) {
		long n = parse_int(v, 1, CPROF_MAX_WALL_HZ);
		if (n < 0)
			cprof__log("CPROF_WALL_HZ=%s: want a rate from 1 to %d Hz; using %d", v, CPROF_MAX_WALL_HZ,
				   CPROF_DEFAULT_WALL_HZ);
		else
			cprof__config.wall_hz = (int)n;
	}
	if ((v = getenv("CPROF_MAX_DEPTH")) && *v) {
		long n = parse_int(v, 1, CPROF_MAX_DEPTH_LIMIT);
		if (n < 0)
			cprof__log("CPROF_MAX_DEPTH=%s: want 1 to %d; using %d", v, CPROF_MAX_DEPTH_LIMIT,
				   CPROF_DEFAULT_DEPTH);
		else
			cprof__config.max_depth = (int)n;
	}
	if ((v = getenv("CPROF_UNWIND")) && *v) {
		if (strcmp(v, "fp") == 0)
			cprof__config.unwinder = CPROF_UNWIND_FP;
		else if (strcmp(v, "dwarf") == 0)
			cprof__config.unwinder = CPROF_UNWIND_DWARF;
		else
			cprof__log("CPROF_UNWIND=%s: want dwarf or fp; using dwarf", v);
	}
}

/*
 * libgcc's unwinder is safe in a signal handler only when it can use
 * _dl_find_object (glibc 2.35+); before that it calls dl_iterate_phdr.
 */
static void check_unwinder(void)
{
	if (cprof__config.unwinder != CPROF_UNWIND_DWARF)
		return;
	if (getauxval(AT_BASE) == 0) {
		/* No dynamic loader: a static program (libcprof.a linked in). libgcc
		 * there finds unwind tables by a path that is not signal-safe. */
		cprof__config.unwinder = CPROF_UNWIND_FP;
		if (getenv("CPROF_UNWIND") || getenv("CPROF_CPUPROFILE"))
			cprof__log("a static program: the DWARF unwinder is not signal-safe there; "
				   "using frame pointers (build with -fno-omit-frame-pointer for complete stacks)");
		return;
	}
	int major = 0, minor = 0;
	if (sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) == 2 &&
	    (major > 2 || (major == 2 && minor >= 35)))
		return;
	cprof__config.unwinder = CPROF_UNWIND_FP;
	cprof__log("glibc %s is older than 2.35: the DWARF unwinder is not signal-safe there; "
		   "using frame pointers (build with -fno-omit-frame-pointer for complete stacks)",
		   gnu_get_libc_version());
}

__attribute__((constructor(102))) static void cprof_init(void)
{
	if (getauxval(AT_SECURE)) {
		cprof__config.secure = true;
		if (getenv("CPROF_CPUPROFILE") || getenv("CPROF_MEMPROFILE"))
			cprof__log("this program runs with elevated privileges (setuid/setgid); "
				   "cprof ignores CPROF_* variables and does not profile it");
		return;
	}
	read_config();
	check_unwinder();
	/* The main thread's stack bounds, for frame-pointer walks of its own stack. */
	cprof__threads_self_bounds();
	cprof__cpu_start_from_env();
	cprof__http_start_from_env();
	cprof__threads_profile_from_env();
	cprof__wall_start_from_env();
	cprof__heap_start_from_env();
	cprof__wait_start_from_env();
	cprof__continuous_start_from_env();
	cprof__trace_start_from_env();
}
