/*
 * cmd_run.c - "cprof run": run a program with the runtime preloaded and
 * profiling on, then say where each profile went.
 *
 * The program runs unmodified: this command sets LD_PRELOAD and the CPROF_*
 * variables the runtime reads at load, forks and execs it, waits, and reads
 * back the one-line records the runtime appends to a report file for every
 * profile it writes (the program's own, and those of children it forks).
 * It refuses programs the dynamic loader would not preload into (setuid,
 * setgid, statically linked) with a message that says what to do instead.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

const char cmd_run_usage[] =
	"Usage: cprof run [flags] [--] program [args...]\n"
	"\n"
	"Runs program with the cprof runtime preloaded and writes the profiles the\n"
	"flags ask for. The program needs no change and no rebuild; code built\n"
	"without frame pointers is unwound from its DWARF unwind tables.\n"
	"\n"
	"Flags (spelled as go test spells them; -flag=value or -flag value):\n"
	"  -cpuprofile=FILE   write a CPU profile (gzipped pprof) to FILE\n"
	"  -hz=N              CPU sampling rate per thread, 1..10000 (default 100)\n"
	"  -blockprofile=FILE write a block profile to FILE: where threads waited\n"
	"                     (contended locks, condition variables, semaphores,\n"
	"                     join, barriers) and for how long\n"
	"  -blockprofilerate=NS  record waits of NS nanoseconds or more, shorter\n"
	"                     ones in proportion to their length (default 1: all)\n"
	"  -blocksyscalls     add blocking system calls (read, poll, accept,\n"
	"                     nanosleep...) to the block profile, label reason,\n"
	"                     and to the execution trace (-trace) as blocking events\n"
	"  -mutexprofile=FILE write a mutex profile to FILE: the critical sections\n"
	"                     that made others wait, charged with their waiting\n"
	"  -mutexprofilefraction=N  record 1 in N contentions (default 1: all)\n"
	"  -unwind=MODE       dwarf (default: complete stacks for any code) or fp\n"
	"                     (faster; needs code built with frame pointers)\n"
	"  -maxdepth=N        deepest stack recorded, 1..256 (default 128)\n"
	"  -http=ADDR         serve Go's /debug/pprof/ endpoints on ADDR while the\n"
	"                     program runs (127.0.0.1:6060; port 0 picks one; other\n"
	"                     than loopback needs CPROF_HTTP_TOKEN set)\n"
	"  -wallprofile=FILE  write a wall-clock profile to FILE: every thread, running\n"
	"                     or waiting, labelled state=running or the call it waits in\n"
	"  -wallhz=N          wall-clock samples per second per thread, 1..1000 (default 100)\n"
	"  -trace=FILE        record an execution trace to FILE while the program runs\n"
	"                     (threads, regions, tasks, logs, counters, blocking episodes,\n"
	"                     CPU samples with -cpuprofile; cprof trace FILE)\n"
	"  -trace-flight=FILE keep the last moments of an execution trace in memory (the\n"
	"                     flight recorder) and write them to FILE on a signal\n"
	"                     (kill -USR2 PID), or serve them with -http (trace?flight=1)\n"
	"  -trace-flight-window=W  how much it keeps: 10s, 500ms, 64MiB, or 10s,64MiB\n"
	"                     (default 10s,32MiB)\n"
	"  -trace-flight-signal=SIG  the signal that writes it (default USR2; none)\n"
	"  -threadsprofile=FILE  write every thread's stack, name and state to FILE\n"
	"                     when the program exits (pprof; see also -http for live dumps)\n"
	"  -memprofile=FILE   write a heap profile to FILE at exit (in use and\n"
	"                     allocated, sampled; go tool pprof -inuse_space or\n"
	"                     -alloc_space)\n"
	"  -memprofilerate=N  one heap sample per N allocated bytes on average\n"
	"                     (default 524288; 1 records every allocation)\n"
	"  -peakprofile=FILE  write the heap in use at its largest to FILE\n"
	"  -memleaks          at exit, report what is still allocated, by stack\n"
	"  -continuous=DEST   continuous profiling: every period, the CPU, heap,\n"
	"                     allocation, block and mutex profiles of that period to\n"
	"                     dir:PATH, pyroscope:URL or datadog:URL (CPROF_CONTINUOUS)\n"
	"  -continuous_period=D  its period (default 60s; CPROF_CONTINUOUS_PERIOD)\n"
	"  -q                 no summary on stderr\n"
	"\n"
	"Children the program forks write FILE.<pid>; a program that execs another\n"
	"leaves the new image's profile in FILE and its own samples, if any, in\n"
	"FILE.preexec.<pid>. The exit status is the program's (128+N if signal N\n"
	"ended it).\n"
	"\n"
	"Examples:\n"
	"  cprof run -cpuprofile=cpu.prof -- ./server --port 8080\n"
	"  cprof run -cpuprofile=cpu.prof -hz=1000 make -j2\n"
	"  cprof run -wallprofile=wall.prof -- ./server   (then: cprof pprof -tags wall.prof)\n"
	"  cprof run -memprofile=mem.prof -memleaks -- ./server\n"
	"  cprof pprof -sample_index=alloc_space -top mem.prof\n"
	"  cprof run -blockprofile=block.prof -mutexprofile=mutex.prof ./server\n"
	"  cprof pprof -top cpu.prof\n";

struct run_opts {
	const char *cpuprofile;
	const char *memprofile, *memrate, *peakprofile;
	int memleaks;
	const char *hz;
	const char *unwind;
	const char *maxdepth;
	const char *http;
	const char *wallprofile;
	const char *trace;
	const char *trace_flight, *trace_flight_window, *trace_flight_signal;
	const char *wallhz;
	const char *threadsprofile;
	const char *blockprofile, *blockrate, *mutexprofile, *mutexfraction;
	int blocksyscalls;
	const char *continuous, *continuous_period;
	int quiet;
};

/* Match "-name=value", "--name=value", "-name value". Returns 1 and sets *val when matched. */
static int flag_value(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	if (a[0] != '-')
		return 0;
	a++;
	if (a[0] == '-')
		a++;
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != 0)
		return 0;
	if (*i + 1 >= argc) {
		cli_error("run: flag -%s needs a value", name);
		exit(2);
	}
	*val = argv[++*i];
	return 1;
}

static int check_int(const char *flag, const char *v, long lo, long hi)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi) {
		cli_error("run: -%s=%s: want an integer from %ld to %ld", flag, v, lo, hi);
		return -1;
	}
	return 0;
}

/* Find the program the way execvp will. */
static int resolve_program(const char *prog, char *out, size_t outlen)
{
	if (strchr(prog, '/')) {
		snprintf(out, outlen, "%s", prog);
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		struct stat st;
		if (snprintf(out, outlen, "%.*s/%s", (int)(len ? len : 1), len ? path : ".", prog) < (int)outlen &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		path += len;
		if (*path == ':')
			path++;
	}
	return -ENOENT;
}

/* 1 when the ELF file has no program interpreter (statically linked). */
static int is_static_elf(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	Elf64_Ehdr eh;
	int result = 0;
	if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
		result = 1;
		for (int i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph) {
				result = 0;
				break;
			}
			if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC) {
				result = 0;
				break;
			}
		}
	}
	close(fd);
	return result;
}

/* The runtime library: $CPROF_LIB, else ../lib/libcprof.so beside this binary. */
static int find_runtime(char *out, size_t outlen)
{
	const char *env = getenv("CPROF_LIB");
	if (env && *env) {
		snprintf(out, outlen, "%s", env);
		return access(out, R_OK) == 0 ? 0 : -errno;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	if (snprintf(out, outlen, "%s/../lib/libcprof.so", self) >= (int)outlen)
		return -ENAMETOOLONG;
	if (access(out, R_OK) == 0) {
		char *real = realpath(out, NULL);
		if (real) {
			snprintf(out, outlen, "%s", real);
			free(real);
		}
		return 0;
	}
	return -ENOENT;
}

/*
 * A stale profile must not be mistaken for this run's: remove it, if it is
 * a regular file. Anything else (/dev/null, a FIFO, a symbolic link) stays:
 * the runtime writes into it (removing /dev/null as root broke the machine).
 */
static void remove_stale(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		unlink(path);
}

static char *absolute(const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return NULL;
	size_t n = strlen(cwd) + strlen(path) + 2;
	char *r = malloc(n);
	if (r)
		snprintf(r, n, "%s/%s", cwd, path);
	return r;
}

static void human_duration(long long ns, char *out, size_t outlen)
{
	if (ns >= 1000000000LL)
		snprintf(out, outlen, "%.2fs", ns / 1e9);
	else
		snprintf(out, outlen, "%.0fms", ns / 1e6);
}

static void human_bytes(long long b, char *out, size_t outlen)
{
	if (b >= 1LL << 30)
		snprintf(out, outlen, "%.2f GiB", b / 1073741824.0);
	else if (b >= 1LL << 20)
		snprintf(out, outlen, "%.1f MiB", b / 1048576.0);
	else if (b >= 1LL << 10)
		snprintf(out, outlen, "%.1f KiB", b / 1024.0);
	else
		snprintf(out, outlen, "%lld B", b);
}

/* Print one summary line per profile the runtime reported. Returns how many. */
static int summarize(const char *report, int quiet)
{
	FILE *f = fopen(report, "r");
	if (!f)
		return 0;
	char line[PATH_MAX + 512];
	int count = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *kind = strtok(line, "\t");
		char *pid = strtok(NULL, "\t");
		char *path = strtok(NULL, "\t");
		char *rest = strtok(NULL, "\t");
		if (!kind || !pid || !path || !rest)
			continue;
		count++;
		if (quiet)
			continue;
		unsigned long long samples = 0, lost = 0, threads = 0, sites = 0, own = 0, events = 0, bytes = 0, dropped = 0;
		long long dur = 0, rate = 0, inuse = 0, alloc = 0;
		int hz = 0;
		for (char *kv = strtok(rest, " "); kv; kv = strtok(NULL, " ")) {
			sscanf(kv, "samples=%llu", &samples);
			sscanf(kv, "lost=%llu", &lost);
			sscanf(kv, "threads=%llu", &threads);
			sscanf(kv, "duration_ns=%lld", &dur);
			sscanf(kv, "hz=%d", &hz);
			sscanf(kv, "rate=%lld", &rate);
			sscanf(kv, "sites=%llu", &sites);
			sscanf(kv, "inuse_bytes=%lld", &inuse);
			sscanf(kv, "alloc_bytes=%lld", &alloc);
			sscanf(kv, "own_bytes=%llu", &own);
			sscanf(kv, "events=%llu", &events);
			sscanf(kv, "bytes=%llu", &bytes);
			sscanf(kv, "dropped=%llu", &dropped);
		}
		if (strcmp(kind, "trace") == 0) {
			char b[32];
			human_bytes((long long)bytes, b, sizeof b);
			fprintf(stderr, "cprof: execution trace of pid %s written to %s: %s, %llu events dropped (cprof trace %s)\n",
				pid, path, b, dropped, path);
			continue;
		}
		if (strcmp(kind, "leaks") == 0) {
			count--; /* the runtime printed the report itself */
			continue;
		}
		if (strcmp(kind, "threads") == 0) {
			/* A snapshot: no samples over time, no rate. */
			fprintf(stderr, "cprof: threads profile of pid %s written to %s: %llu thread%s\n", pid, path,
				threads, threads == 1 ? "" : "s");
			continue;
		}
		if (strcmp(kind, "block") == 0 || strcmp(kind, "mutex") == 0) {
			fprintf(stderr, "cprof: %s profile of pid %s written to %s: %llu events recorded, %llu lost\n",
				kind, pid, path, events, lost);
			continue;
		}
		if (strcmp(kind, "heap") == 0 || strcmp(kind, "peak") == 0) {
			char in[32], al[32], ow[32];
			human_bytes(inuse, in, sizeof in);
			human_bytes(alloc, al, sizeof al);
			human_bytes((long long)own, ow, sizeof ow);
			if (strcmp(kind, "heap") == 0)
				fprintf(stderr, "cprof: heap profile of pid %s written to %s: %llu samples (1 per %lld bytes), "
					"%s in use, %s allocated, %llu sites, %llu lost, profiler memory %s\n",
					pid, path, samples, rate, in, al, sites, lost, ow);
			else
				fprintf(stderr, "cprof: peak heap profile of pid %s written to %s: %s in use at the peak\n",
					pid, path, in);
			continue;
		}
		char d[32];
		human_duration(dur, d, sizeof d);
		fprintf(stderr, "cprof: %s profile of pid %s written to %s: %llu samples, %llu lost, %s, %llu thread%s, %d Hz\n",
			kind, pid, path, samples, lost, d, threads, threads == 1 ? "" : "s", hz);
	}
	fclose(f);
	return count;
}

static pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {0};
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *v;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (flag_value(argc, argv, &i, "cpuprofile", &v))
			o.cpuprofile = v;
		else if (flag_value(argc, argv, &i, "hz", &v))
			o.hz = v;
		else if (flag_value(argc, argv, &i, "unwind", &v))
			o.unwind = v;
		else if (flag_value(argc, argv, &i, "maxdepth", &v))
			o.maxdepth = v;
		else if (flag_value(argc, argv, &i, "http", &v))
			o.http = v;
		else if (flag_value(argc, argv, &i, "wallprofile", &v))
			o.wallprofile = v;
		else if (flag_value(argc, argv, &i, "trace-flight", &v))
			o.trace_flight = v;
		else if (flag_value(argc, argv, &i, "trace-flight-window", &v))
			o.trace_flight_window = v;
		else if (flag_value(argc, argv, &i, "trace-flight-signal", &v))
			o.trace_flight_signal = v;
		else if (flag_value(argc, argv, &i, "trace", &v))
			o.trace = v;
		else if (flag_value(argc, argv, &i, "wallhz", &v))
			o.wallhz = v;
		else if (flag_value(argc, argv, &i, "threadsprofile", &v))
			o.threadsprofile = v;
		else if (flag_value(argc, argv, &i, "memprofilerate", &v))
			o.memrate = v;
		else if (flag_value(argc, argv, &i, "memprofile", &v))
			o.memprofile = v;
		else if (flag_value(argc, argv, &i, "peakprofile", &v))
			o.peakprofile = v;
		else if (strcmp(a, "-memleaks") == 0 || strcmp(a, "--memleaks") == 0)
			o.memleaks = 1;
		else if (flag_value(argc, argv, &i, "blockprofilerate", &v))
			o.blockrate = v;
		else if (flag_value(argc, argv, &i, "blockprofile", &v))
			o.blockprofile = v;
		else if (strcmp(a, "-blocksyscalls") == 0 || strcmp(a, "--blocksyscalls") == 0)
			o.blocksyscalls = 1;
		else if (flag_value(argc, argv, &i, "mutexprofilefraction", &v))
			o.mutexfraction = v;
		else if (flag_value(argc, argv, &i, "mutexprofile", &v))
			o.mutexprofile = v;
		else if (flag_value(argc, argv, &i, "continuous", &v))
			o.continuous = v;
		else if (flag_value(argc, argv, &i, "continuous_period", &v))
			o.continuous_period = v;
		else if (strcmp(a, "-q") == 0 || strcmp(a, "-quiet") == 0 || strcmp(a, "--quiet") == 0)
			o.quiet = 1;
		else {
			cli_error("run: unknown flag %s; see 'cprof help run'", a);
			return 2;
		}
	}
	if (i >= argc) {
		cli_error("run: no program to run; usage: cprof run [flags] -- program [args...]");
		return 2;
	}
	if (o.continuous && strncmp(o.continuous, "dir:", 4) != 0 && strncmp(o.continuous, "pyroscope:", 10) != 0 &&
	    strncmp(o.continuous, "datadog:", 8) != 0) {
		cli_error("run: -continuous=%s: want dir:PATH, pyroscope:URL or datadog:URL", o.continuous);
		return 2;
	}
	if (o.continuous && strncmp(o.continuous, "dir:", 4) != 0 && strncmp(o.continuous, "pyroscope:", 10) != 0 &&
	    strncmp(o.continuous, "datadog:", 8) != 0) {
		cli_error("run: -continuous=%s: want dir:PATH, pyroscope:URL or datadog:URL", o.continuous);
		return 2;
	}
	if (!o.cpuprofile && !o.http && !o.wallprofile && !o.threadsprofile && !o.memprofile && !o.peakprofile &&
	    !o.memleaks && !o.blockprofile && !o.mutexprofile &&
	    !o.continuous && !o.trace && !o.trace_flight) {
		cli_error("run: no profile asked for; add -cpuprofile=FILE, -memprofile=FILE, -memleaks, -wallprofile=FILE, -trace=FILE, "
			  "-threadsprofile=FILE, -blockprofile=FILE, -mutexprofile=FILE, -continuous=DEST or -http=ADDR "
			  "(see 'cprof help run')");
		return 2;
	}
	if (o.blockrate && check_int("blockprofilerate", o.blockrate, 0, LONG_MAX))
		return 2;
	if (o.mutexfraction && check_int("mutexprofilefraction", o.mutexfraction, 0, LONG_MAX))
		return 2;
	if (o.blockrate && !o.blockprofile && !o.http && !o.continuous) {
		cli_error("run: -blockprofilerate needs -blockprofile=FILE, -continuous=DEST or -http=ADDR");
		return 2;
	}
	if (o.blocksyscalls && !o.blockprofile && !o.http && !o.continuous && !o.trace && !o.trace_flight) {
		cli_error("run: -blocksyscalls needs -blockprofile=FILE, -trace=FILE, -continuous=DEST or -http=ADDR");
		return 2;
	}
	if (o.trace && o.trace_flight) {
		cli_error("run: -trace and -trace-flight record the same trace two ways: choose one");
		return 2;
	}
	if ((o.trace_flight_window || o.trace_flight_signal) && !o.trace_flight) {
		cli_error("run: -trace-flight-window and -trace-flight-signal need -trace-flight=FILE");
		return 2;
	}
	if (o.mutexfraction && !o.mutexprofile && !o.http && !o.continuous) {
		cli_error("run: -mutexprofilefraction needs -mutexprofile=FILE, -continuous=DEST or -http=ADDR");
		return 2;
	}
	if (o.memrate && check_int("memprofilerate", o.memrate, 1, 2147483648L))
		return 2;
	if (o.hz && check_int("hz", o.hz, 1, 10000))
		return 2;
	if (o.wallhz && check_int("wallhz", o.wallhz, 1, 1000))
		return 2;
	if (o.maxdepth && check_int("maxdepth", o.maxdepth, 1, 256))
		return 2;
	if (o.unwind && strcmp(o.unwind, "dwarf") != 0 && strcmp(o.unwind, "fp") != 0) {
		cli_error("run: -unwind=%s: want dwarf or fp", o.unwind);
		return 2;
	}

	char **prog = &argv[i];
	char exe[PATH_MAX];
	int rc = resolve_program(prog[0], exe, sizeof exe);
	if (rc != 0) {
		cli_error("run: %s: %s", prog[0], rc == -ENOENT ? "program not found (check the name and PATH)" : strerror(-rc));
		return 127;
	}
	struct stat st;
	if (stat(exe, &st) == 0) {
		if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
		    ((st.st_mode & S_ISGID) && st.st_gid != getegid())) {
			cli_error("run: %s is set%cid; the dynamic loader ignores LD_PRELOAD for privileged programs, "
				  "so cprof cannot profile it. Profile a copy without the set%cid bit, or run it as its owner",
				  exe, (st.st_mode & S_ISUID) ? 'u' : 'g', (st.st_mode & S_ISUID) ? 'u' : 'g');
			return 2;
		}
	}
	if (is_static_elf(exe)) {
		cli_error("run: %s is statically linked, so the runtime cannot be preloaded into it; "
			  "link it with -lcprof (pkg-config cprof) and set CPROF_CPUPROFILE instead", exe);
		return 2;
	}
	char lib[PATH_MAX];
	if (find_runtime(lib, sizeof lib) != 0) {
		cli_error("run: cannot find libcprof.so next to this cprof (../lib/libcprof.so); "
			  "set CPROF_LIB to its path");
		return 2;
	}

	char *cpu = o.cpuprofile ? absolute(o.cpuprofile) : NULL;
	char *mem = o.memprofile ? absolute(o.memprofile) : NULL;
	char *peak = o.peakprofile ? absolute(o.peakprofile) : NULL;
	char *block = o.blockprofile ? absolute(o.blockprofile) : NULL;
	char *mutex = o.mutexprofile ? absolute(o.mutexprofile) : NULL;
	char report[] = "/tmp/cprof-run-XXXXXX";
	int rfd = mkstemp(report);
	if ((o.cpuprofile && !cpu) || (o.memprofile && !mem) || (o.peakprofile && !peak) ||
	    (o.blockprofile && !block) || (o.mutexprofile && !mutex) || rfd < 0) {
		cli_error("run: cannot create a temporary file: %s", strerror(errno));
		return 2;
	}
	close(rfd);
	/* A stale profile must not be mistaken for this run's. */
	if (cpu)
		remove_stale(cpu);
	if (mem)
		remove_stale(mem);
	if (peak)
		remove_stale(peak);
	if (block)
		remove_stale(block);
	if (mutex)
		remove_stale(mutex);

	const char *old_preload = getenv("LD_PRELOAD");
	size_t plen = strlen(lib) + (old_preload ? strlen(old_preload) : 0) + 2;
	char *preload = malloc(plen);
	snprintf(preload, plen, "%s%s%s", lib, old_preload && *old_preload ? ":" : "",
		 old_preload ? old_preload : "");
	setenv("LD_PRELOAD", preload, 1);
	if (cpu)
		setenv("CPROF_CPUPROFILE", cpu, 1);
	else
		unsetenv("CPROF_CPUPROFILE");
	if (o.http)
		setenv("CPROF_HTTP", o.http, 1);
	char *wall = o.wallprofile ? absolute(o.wallprofile) : NULL;
	char *threads = o.threadsprofile ? absolute(o.threadsprofile) : NULL;
	if (wall) {
		remove_stale(wall);
		setenv("CPROF_WALLPROFILE", wall, 1);
	}
	char *trace = o.trace ? absolute(o.trace) : NULL;
	if (trace) {
		remove_stale(trace);
		setenv("CPROF_TRACE", trace, 1);
	}
	char *flight = o.trace_flight ? absolute(o.trace_flight) : NULL;
	if (flight) {
		remove_stale(flight);
		setenv("CPROF_TRACE_FLIGHT", flight, 1);
		if (o.trace_flight_window)
			setenv("CPROF_TRACE_FLIGHT_WINDOW", o.trace_flight_window, 1);
		if (o.trace_flight_signal)
			setenv("CPROF_TRACE_FLIGHT_SIGNAL", o.trace_flight_signal, 1);
	}
	if (threads) {
		remove_stale(threads);
		setenv("CPROF_THREADSPROFILE", threads, 1);
	}
	if (o.wallhz)
		setenv("CPROF_WALL_HZ", o.wallhz, 1);
	if (mem)
		setenv("CPROF_MEMPROFILE", mem, 1);
	if (peak)
		setenv("CPROF_PEAKPROFILE", peak, 1);
	if (o.memrate)
		setenv("CPROF_MEM_RATE", o.memrate, 1);
	if (o.memleaks)
		setenv("CPROF_MEMLEAKS", "1", 1);
	if (block)
		setenv("CPROF_BLOCKPROFILE", block, 1);
	if (o.blockrate)
		setenv("CPROF_BLOCK_RATE", o.blockrate, 1);
	if (o.blocksyscalls)
		setenv("CPROF_BLOCK_SYSCALLS", "1", 1);
	if (mutex)
		setenv("CPROF_MUTEXPROFILE", mutex, 1);
	if (o.mutexfraction)
		setenv("CPROF_MUTEX_FRACTION", o.mutexfraction, 1);
	if (o.continuous && strncmp(o.continuous, "dir:", 4) == 0 && o.continuous[4]) {
		char *d = absolute(o.continuous + 4);
		size_t dl = d ? strlen(d) + 5 : 0;
		char *dv = d ? malloc(dl) : NULL;
		if (dv) {
			snprintf(dv, dl, "dir:%s", d);
			setenv("CPROF_CONTINUOUS", dv, 1);
		}
		free(dv);
		free(d);
	} else if (o.continuous) {
		setenv("CPROF_CONTINUOUS", o.continuous, 1);
	}
	if (o.continuous_period)
		setenv("CPROF_CONTINUOUS_PERIOD", o.continuous_period, 1);
	setenv("CPROF_REPORT", report, 1);
	if (o.hz)
		setenv("CPROF_CPU_HZ", o.hz, 1);
	if (o.unwind)
		setenv("CPROF_UNWIND", o.unwind, 1);
	if (o.maxdepth)
		setenv("CPROF_MAX_DEPTH", o.maxdepth, 1);
	free(preload);

	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		cli_error("run: fork: %s", strerror(errno));
		unlink(report);
		return 2;
	}
	if (pid == 0) {
		char me[32];
		snprintf(me, sizeof me, "%d", (int)getpid());
		setenv("CPROF_OWNER_PID", me, 1);
		execv(exe, prog);
		fprintf(stderr, "cprof: run: %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	child_pid = pid;
	/* Like system(): the terminal's ^C and ^\ reach the program; we wait. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			cli_error("run: waitpid: %s", strerror(errno));
			break;
		}
	}
	int code;
	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		code = 128 + WTERMSIG(status);
		if (!o.quiet)
			fprintf(stderr, "cprof: %s ended by signal %d (%s)\n", prog[0], WTERMSIG(status),
				strsignal(WTERMSIG(status)));
	} else {
		code = 1;
	}
	int n = summarize(report, o.quiet);
	if (n == 0 && !o.quiet && cpu) {
		struct stat pst;
		if (cpu && stat(cpu, &pst) != 0)
			fprintf(stderr, "cprof: no CPU profile was written to %s: the program ended before the runtime "
				"could write it (killed by a signal it could not catch, or it called _exit)\n", cpu);
	}
	unlink(report);
	free(cpu);
	free(wall);
	free(threads);
	free(trace);
	free(flight);
	free(mem);
	free(peak);
	free(block);
	free(mutex);
	return code;
}
