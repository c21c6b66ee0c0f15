/*
 * prof_threads.c - the threads profile (the C counterpart of Go's goroutine
 * profile: every thread's stack right now, with its name and what it is
 * blocked in) and the threadcreate profile (the stacks that created the
 * threads alive now), as pprof profiles and as a human-readable dump
 * ("where is it stuck?").
 *
 * Stacks come from capture.c: blocked threads are walked from the sp and pc
 * the kernel reports, without a signal; running threads are asked with one
 * SIGPROF each, sent once the thread uses more CPU (so it never cuts short
 * a sleep the thread entered meanwhile), and waited for with a deadline; a
 * thread that went to sleep instead is walked as a blocked one; threads
 * that block SIGPROF or do not answer in time are shown with a frame that
 * says so.
 *
 * Each thread is one sample with the labels thread (its name), tid, state
 * (running, the wait wrapper it is in, or the system call it is blocked
 * in) and its own labels, so -tagfocus=state=futex or -tags slice it.
 *
 * It does not sample over time (prof_wall.c does).
 *
 * CPROF_THREADSPROFILE=FILE writes the profile as the process exits, and,
 * as for the other profiles asked for by the environment, on SIGINT/SIGTERM/
 * SIGHUP (through prof_cpu.c's writer thread), as a fork child exits
 * (FILE.<pid>), and just before exec (FILE.preexec.<pid>: the threads as the
 * old image left them, when it had threads besides the one calling exec;
 * the new image writes FILE).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "cprof.h"
#include "proto/profile.h"
#include "runtime/rt.h"

#define ANSWER_NS 200000000LL /* how long a running thread has to answer */

struct thr {
	pid_t tid;
	char name[32];
	char state[40];
	const struct rt_labels *labels;
	uintptr_t fp; /* its wait wrapper's frame, 0 when not in one */
	int n;
	bool leaf_is_pc;
	const char *special; /* a pseudo-frame instead of a stack */
	int ticket;
	uintptr_t pcs[CPROF_MAX_DEPTH_LIMIT];
};

struct list {
	struct thr *v;
	size_t n, cap;
};

static void from_registry(pid_t tid, const struct rt_thread *self, const uintptr_t *create, int ncreate,
			  void *arg)
{
	struct list *l = arg;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].tid != tid)
			continue;
		const char *b = self->blocked_in;
		if (b)
			snprintf(l->v[i].state, sizeof l->v[i].state, "%s", b);
		l->v[i].fp = b ? self->blocked_fp : 0;
		l->v[i].labels = self->labels;
	}
}

static void add_listed(pid_t tid, void *arg)
{
	struct list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct thr *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	struct thr *t = &l->v[l->n++];
	memset(t, 0, offsetof(struct thr, pcs));
	t->tid = tid;
	t->ticket = -1;
	if (cprof__capture_name(t->tid, t->name, sizeof t->name) != 0)
		snprintf(t->name, sizeof t->name, "?");
}

/* Every thread of the process, with its name; NULL on error. */
static struct list *list_threads(void)
{
	struct list *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	if (cprof__capture_tasks(add_listed, l) < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void free_list(struct list *l)
{
	if (l)
		free(l->v);
	free(l);
}

/*
 * A thread blocked in a system call: its stack walked from the sp and pc
 * the kernel reports, with no signal. Its state is its wait wrapper's, if
 * it is in one, else the system call's name.
 */
static void look_blocked(struct thr *t, const struct rt_thread_state *st)
{
	t->n = cprof__capture_blocked(t->tid, st->sp, st->pc, t->fp, t->pcs, cprof__config.max_depth);
	if (t->state[0])
		return;
	const char *nm = cprof__capture_syscall_name(st->nr);
	if (nm)
		snprintf(t->state, sizeof t->state, "%s", nm);
	else if (st->nr < 0)
		snprintf(t->state, sizeof t->state, "blocked");
	else
		snprintf(t->state, sizeof t->state, "syscall %ld", st->nr);
}

/* Fill every thread's stack and state. */
static void capture_all(struct list *l)
{
	pid_t me = (pid_t)syscall(SYS_gettid);
	/* Wait-wrapper states and labels first: a state from the program's
	 * own wrapper says more than the system call under it. */
	cprof__capture_foreach(from_registry, l);
	for (size_t i = 0; i < l->n; i++) {
		struct thr *t = &l->v[i];
		if (t->tid == me) {
			t->n = cprof__unwind_self(t->pcs, cprof__config.max_depth, 0);
			t->leaf_is_pc = false;
			snprintf(t->state, sizeof t->state, "running");
			continue;
		}
		struct rt_thread_state st;
		if (cprof__capture_state(t->tid, &st) != 0) {
			t->special = "[cprof: thread ended while being looked at]";
			snprintf(t->state, sizeof t->state, "ended");
			continue;
		}
		t->leaf_is_pc = true;
		if (!st.running) {
			look_blocked(t, &st);
			continue;
		}
		/* A thread in a signal handler (a wall-clock sampler's request, say)
		 * blocks SIGPROF for microseconds: look again before giving up. */
		bool masked = cprof__capture_blocks_sigprof(t->tid);
		for (int k = 0; masked && k < 3; k++) {
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, NULL);
			masked = cprof__capture_blocks_sigprof(t->tid);
		}
		if (masked) {
			snprintf(t->state, sizeof t->state, "running");
			t->special = "[cprof: thread blocks SIGPROF, stack unknown]";
			continue;
		}
		/* Asked once it uses more CPU: a signal sent now could land in
		 * a sleep it enters meanwhile and cut it short. */
		t->ticket = cprof__capture_ask(t->tid);
		if (t->ticket < 0) {
			snprintf(t->state, sizeof t->state, "running");
			t->special = "[cprof: stack request failed]";
		}
	}
	int64_t deadline = cprof__now_ns() + ANSWER_NS;
	for (size_t i = 0; i < l->n; i++) {
		struct thr *t = &l->v[i];
		if (t->ticket < 0)
			continue;
		t->n = cprof__capture_wait(t->ticket, deadline, t->pcs, cprof__config.max_depth);
		if (t->n >= 0) {
			snprintf(t->state, sizeof t->state, "running");
			continue;
		}
		/* Not answered: it went to sleep before using more CPU (then its
		 * stack is the kernel's to report), or it waited for a CPU all
		 * along. */
		t->n = 0;
		struct rt_thread_state st;
		if (cprof__capture_state(t->tid, &st) == 0 && !st.running) {
			look_blocked(t, &st);
		} else {
			snprintf(t->state, sizeof t->state, "running");
			t->special = "[cprof: no answer to the stack request in 200 ms]";
		}
	}
}

static bool add_thread(struct profile *p, struct rt_sym *s, const struct thr *t, const uintptr_t *pcs, int n,
		       bool leaf_is_pc)
{
	uint64_t ids[CPROF_MAX_DEPTH_LIMIT + 1];
	int k = 0;
	if (t->special) {
		ids[0] = cprof__sym_special(s, t->special);
		k = ids[0] ? 1 : 0;
	} else if (n > 0) {
		k = cprof__sym_stack(s, pcs, n, leaf_is_pc, ids);
	}
	struct pp_label lb[3 + CPROF_LABELS_MAX];
	size_t nl = 0;
	lb[nl++] = (struct pp_label){cprof__profile_intern(p, "thread", (size_t)-1),
				     cprof__profile_intern(p, t->name, (size_t)-1), 0, 0};
	lb[nl++] = (struct pp_label){cprof__profile_intern(p, "tid", (size_t)-1), 0, t->tid, 0};
	if (t->state[0])
		lb[nl++] = (struct pp_label){cprof__profile_intern(p, "state", (size_t)-1),
					     cprof__profile_intern(p, t->state, (size_t)-1), 0, 0};
	nl += cprof__labels_to_pp(p, t->labels, lb + nl, CPROF_LABELS_MAX);
	int64_t one = 1;
	return cprof__profile_add_sample(p, ids, (size_t)k, &one, 1, lb, nl) != NULL;
}

static struct profile *new_count_profile(const char *type)
{
	struct profile *p = cprof__profile_new();
	if (!p)
		return NULL;
	cprof__profile_add_sample_type(p, type, "count");
	p->period_type.type = cprof__profile_intern(p, type, (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "count", (size_t)-1);
	p->period = 1;
	p->time_nanos = cprof__wall_ns();
	return p;
}

static struct profile *threads_build(void)
{
	struct list *l = list_threads();
	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	capture_all(l);
	struct profile *p = new_count_profile("threads");
	struct rt_sym *s = p ? cprof__sym_begin(p) : NULL;
	bool ok = s != NULL;
	if (ok) {
		char c[160];
		snprintf(c, sizeof c, "cprof %s: threads profile, %zu threads", CPROF_VERSION_STRING, l->n);
		cprof__profile_add_comment(p, c);
	}
	for (size_t i = 0; ok && i < l->n; i++)
		ok = add_thread(p, s, &l->v[i], l->v[i].pcs, l->v[i].n, l->v[i].leaf_is_pc);
	if (s && cprof__sym_end(s) != 0)
		ok = false;
	free_list(l);
	if (!ok) {
		cprof__profile_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

/* ---- threadcreate ---- */

struct created {
	pid_t tid;
	int n;
	uintptr_t pcs[CPROF_CREATE_DEPTH];
};

struct created_list {
	struct created *v;
	size_t n, cap;
	bool err;
};

static void collect_created(pid_t tid, const struct rt_thread *self, const uintptr_t *create, int ncreate,
			    void *arg)
{
	struct created_list *c = arg;
	if (ncreate <= 0 || c->err)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct created *v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			c->err = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	struct created *e = &c->v[c->n++];
	e->tid = tid;
	e->n = ncreate;
	memcpy(e->pcs, create, (size_t)ncreate * sizeof create[0]);
}

static struct profile *threadcreate_build(void)
{
	struct created_list c = {NULL, 0, 0, false};
	cprof__capture_foreach(collect_created, &c);
	struct profile *p = c.err ? NULL : new_count_profile("threadcreate");
	struct rt_sym *s = p ? cprof__sym_begin(p) : NULL;
	bool ok = s != NULL;
	if (ok) {
		char cm[200];
		snprintf(cm, sizeof cm,
			 "cprof %s: threadcreate profile, %zu live threads created through pthread_create",
			 CPROF_VERSION_STRING, c.n);
		cprof__profile_add_comment(p, cm);
	}
	for (size_t i = 0; ok && i < c.n; i++) {
		struct thr t;
		memset(&t, 0, offsetof(struct thr, pcs));
		t.tid = c.v[i].tid;
		if (cprof__capture_name(t.tid, t.name, sizeof t.name) != 0)
			snprintf(t.name, sizeof t.name, "?");
		ok = add_thread(p, s, &t, c.v[i].pcs, c.v[i].n, false);
	}
	if (s && cprof__sym_end(s) != 0)
		ok = false;
	free(c.v);
	if (!ok) {
		cprof__profile_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

/*
 * Built in the runtime's private arena: the profile, the thread list and
 * the symbols are not the program's heap.
 */
static struct profile *in_arena(struct profile *(*build)(void))
{
	cprof__arena_begin();
	struct profile *p = build();
	int e = errno;
	cprof__arena_end();
	errno = e;
	return p;
}

struct profile *cprof__threads_build(void)
{
	return in_arena(threads_build);
}

struct profile *cprof__threadcreate_build(void)
{
	return in_arena(threadcreate_build);
}

static void count_created(pid_t tid, const struct rt_thread *self, const uintptr_t *create, int ncreate,
			  void *arg)
{
	if (ncreate > 0)
		(*(long *)arg)++;
}

long cprof__threadcreate_count(void)
{
	long n = 0;
	cprof__capture_foreach(count_created, &n);
	return n;
}

static void count_listed(pid_t tid, void *arg)
{
	(void)tid;
	(void)arg;
}

long cprof__threads_count(void)
{
	int n = cprof__capture_tasks(count_listed, NULL);
	return n < 0 ? -1 : n;
}

/* ---- the dump ---- */

static const char *label_str(const struct profile *p, const struct pp_sample *sm, const char *key)
{
	for (size_t i = 0; i < sm->nlabel; i++)
		if (strcmp(cprof__profile_str(p, sm->label[i].key), key) == 0 && sm->label[i].str)
			return cprof__profile_str(p, sm->label[i].str);
	return "";
}

static int64_t label_num(const struct profile *p, const struct pp_sample *sm, const char *key)
{
	for (size_t i = 0; i < sm->nlabel; i++)
		if (strcmp(cprof__profile_str(p, sm->label[i].key), key) == 0 && !sm->label[i].str)
			return sm->label[i].num;
	return 0;
}

int cprof__threads_dump(const struct profile *p, struct buf *b)
{
	cprof__buf_printf(b, "threads: %zu\n", p->nsample);
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_sample *sm = &p->sample[i];
		cprof__buf_printf(b, "\nthread %lld \"%s\" [%s]", (long long)label_num(p, sm, "tid"),
				  label_str(p, sm, "thread"), label_str(p, sm, "state"));
		bool first = true;
		for (size_t k = 0; k < sm->nlabel; k++) {
			const char *key = cprof__profile_str(p, sm->label[k].key);
			if (!sm->label[k].str || !strcmp(key, "thread") || !strcmp(key, "state"))
				continue;
			cprof__buf_printf(b, "%s%s=%s", first ? " {" : ", ", key,
					  cprof__profile_str(p, sm->label[k].str));
			first = false;
		}
		cprof__buf_puts(b, first ? ":\n" : "}:\n");
		for (size_t j = 0; j < sm->nlocation; j++) {
			const struct pp_location *loc = cprof__profile_location(p, sm->location_id[j]);
			if (!loc)
				continue;
			if (loc->nline == 0) {
				/* No name at all: where it is, as the named frames without a line say it. */
				const struct pp_mapping *m = cprof__profile_mapping(p, loc->mapping_id);
				if (m)
					cprof__buf_printf(b, "?()\n\t%s +0x%llx\n", cprof__profile_str(p, m->filename),
							  (unsigned long long)(loc->address - m->memory_start + m->file_offset));
				else
					cprof__buf_printf(b, "?()\n\t? 0x%llx\n", (unsigned long long)loc->address);
				continue;
			}
			for (size_t li = 0; li < loc->nline; li++) {
				const struct pp_function *f = cprof__profile_function(p, loc->line[li].function_id);
				const char *fn = f ? cprof__profile_str(p, f->name) : "?";
				const char *file = f ? cprof__profile_str(p, f->filename) : "";
				cprof__buf_printf(b, "%s()%s\n", fn, li + 1 < loc->nline ? " (inlined)" : "");
				const struct pp_mapping *m = cprof__profile_mapping(p, loc->mapping_id);
				if (file[0])
					cprof__buf_printf(b, "\t%s:%lld\n", file, (long long)loc->line[li].line);
				else
					cprof__buf_printf(b, "\t%s +0x%llx\n", m ? cprof__profile_str(p, m->filename) : "?",
							  (unsigned long long)(m ? loc->address - m->memory_start + m->file_offset
										 : loc->address));
			}
		}
	}
	return b->err;
}

/*
 * Go's legacy count format says nothing of mappings, so readers cannot tell
 * which binary an address belongs to. pprof's parser accepts a memory map
 * after the samples, behind a "--- Memory map: ---" line: the executable
 * file mappings of this process go there.
 */
static void append_maps(struct buf *out)
{
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	cprof__buf_puts(out, "--- Memory map: ---\n");
	char line[PATH_MAX + 128];
	while (fgets(line, sizeof line, f)) {
		char perms[8] = "";
		if (sscanf(line, "%*s %7s", perms) == 1 && perms[2] == 'x' && strchr(line, '/'))
			cprof__buf_puts(out, line);
	}
	fclose(f);
}

static int count_text(const char *name, struct profile *p, struct buf *out)
{
	int rc = cprof__lookup_text(name, p, out);
	if (rc == 0) {
		append_maps(out);
		rc = out->err;
	}
	return rc;
}

int cprof__threads_text(struct buf *out, int debug)
{
	struct profile *p = cprof__threads_build();
	if (!p)
		return -ENOMEM;
	int rc = debug >= 2 ? cprof__threads_dump(p, out) : count_text("threads", p, out);
	cprof__profile_free(p);
	return rc;
}

int cprof__threadcreate_text(struct buf *out, int debug)
{
	struct profile *p = cprof__threadcreate_build();
	if (!p)
		return -ENOMEM;
	int rc = count_text("threadcreate", p, out);
	cprof__profile_free(p);
	return rc;
}

/* ---- CPROF_THREADSPROFILE: at exit, fatal signals, fork, exec ---- */

static char exit_path[PATH_MAX];
static pid_t exit_pid; /* the process exit_path belongs to */
static bool exit_written;

static void write_to(const char *path)
{
	struct profile *p = cprof__threads_build();
	if (!p) {
		cprof__log("cannot build the threads profile: out of memory");
		return;
	}
	int rc = cprof__write_path(p, path);
	if (rc != 0)
		cprof__log("cannot write the threads profile to %s: %s", path, strerror(-rc));
	else
		cprof__report("threads", path, "threads=%zu", p->nsample);
	cprof__profile_free(p);
}

static void write_at_exit(void)
{
	if (!exit_path[0] || exit_pid != getpid() || exit_written)
		return;
	exit_written = true;
	write_to(exit_path);
}

void cprof__threads_at_fatal(void)
{
	write_at_exit();
}

/* Threads of the program besides the caller (the runtime's own, named cprof-..., not counted). */
static bool has_other_threads(void)
{
	struct list *l = list_threads();
	pid_t me = (pid_t)syscall(SYS_gettid);
	bool other = false;
	for (size_t i = 0; l && i < l->n && !other; i++)
		other = l->v[i].tid != me && strncmp(l->v[i].name, "cprof-", 6) != 0;
	free_list(l);
	return other;
}

void cprof__threads_before_exec(void)
{
	/* A vfork child shares our memory: not its parent's profile to write. */
	if (!exit_path[0] || exit_pid != getpid())
		return;
	/*
	 * As the CPU profile's FILE.preexec.<pid> is written only when it has
	 * samples: a lone thread calling exec (a shell's child, say) says
	 * nothing the new image's profile does not, so only an image with
	 * other threads leaves one.
	 */
	if (!has_other_threads())
		return;
	char alt[PATH_MAX + 64];
	snprintf(alt, sizeof alt, "%s.preexec.%d", exit_path, (int)getpid());
	write_to(alt);
}

static void atfork_child(void)
{
	if (!exit_path[0])
		return;
	const char *base = getenv("CPROF_THREADSPROFILE");
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", base && *base ? base : exit_path);
	snprintf(exit_path, sizeof exit_path, "%.*s.%d", PATH_MAX - 16, path, (int)getpid());
	exit_pid = getpid();
	exit_written = false;
	cprof__fatal_install();
}

void cprof__threads_profile_from_env(void)
{
	const char *v = getenv("CPROF_THREADSPROFILE");
	if (!v || !*v)
		return;
	if (strlen(v) >= sizeof exit_path - 32) {
		cprof__log("CPROF_THREADSPROFILE: path too long");
		return;
	}
	cprof__env_path(v, exit_path, sizeof exit_path);
	exit_pid = getpid();
	pthread_atfork(NULL, NULL, atfork_child);
	atexit(write_at_exit);
	cprof__fatal_install();
}
