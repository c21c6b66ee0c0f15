/*
 * capture.c - the stack of any thread of the process, right now, for the
 * thread dump and the wall-clock profiler; and the registry of threads
 * created through our pthread_create, with their creation stacks.
 *
 * Two ways to get another thread's stack, chosen by what the thread is
 * doing (/proc/self/task/TID/syscall):
 *
 *   - blocked in a system call: the kernel reports the call, and the
 *     thread's user stack pointer and program counter. The stack is walked
 *     from there with libdwfl's DWARF unwinder, reading the thread's stack
 *     through /proc/self/mem (a bad address is an error, never a fault).
 *     No signal is sent, so no sleep, poll or sem_wait of the program is
 *     ever cut short with EINTR.
 *   - running: a SIGPROF carrying a capture cookie goes to that thread
 *     only, sent by a one-shot timer on the thread's CPU clock (SI_TIMER,
 *     SIGEV_THREAD_ID); sig.c routes it to the handler here, which walks
 *     the interrupted context into a request slot. The requester waits for
 *     the slot with a deadline, never forever. The timer, not a signal
 *     sent at once: a thread seen running may be entering a sleep by the
 *     time such a signal arrives (the requester can lose its CPU between
 *     the look and the send), and it would cut that sleep short with
 *     EINTR. The kernel fires a CPU clock timer only after the thread used
 *     more CPU, and sends its signal on the way back to user space, so it
 *     never lands in a sleep. Threads that block SIGPROF are not asked
 *     (their mask is in /proc/self/task/TID/status), and are reported as
 *     such.
 *
 * A request slot whose thread did not answer in time is abandoned, not
 * reused, until its handler runs, the thread is gone or ABANDON_NS have
 * passed (a signal lost with its deleted timer); a late handler answers
 * only a request for its own thread, never someone else's.
 *
 * The registry holds, for each thread created through our pthread_create
 * (and the main thread), a pointer to its per-thread state (its blocking
 * call, its labels) and the stack that created it (Go's threadcreate). It
 * is a fixed array; a thread that finds it full is counted and left out.
 *
 * It does not decide when to sample (prof_wall.c) or build profiles
 * (prof_threads.c).
 */
#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/rt.h"

/* ---- the registry ---- */

struct reg_entry {
	pid_t tid; /* 0 when free */
	struct rt_thread *self;
	int ncreate;
	uintptr_t create[CPROF_CREATE_DEPTH];
};

static struct reg_entry reg[CPROF_MAX_THREADS];
static int reg_used;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t reg_key;
static atomic_ullong reg_full;

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

void cprof__capture_register(const uintptr_t *create, int n)
{
	pid_t tid = gettid_();
	pthread_mutex_lock(&reg_lock);
	int at = -1;
	for (int i = 0; i < reg_used; i++) {
		if (reg[i].tid == tid)
			reg[i].tid = 0; /* a tid reused after a thread we missed ending */
		if (reg[i].tid == 0 && at < 0)
			at = i;
	}
	if (at < 0 && reg_used < CPROF_MAX_THREADS)
		at = reg_used++;
	if (at >= 0) {
		reg[at].tid = tid;
		reg[at].self = &cprof__self;
		if (n > CPROF_CREATE_DEPTH)
			n = CPROF_CREATE_DEPTH;
		reg[at].ncreate = n > 0 ? n : 0;
		if (n > 0)
			memcpy(reg[at].create, create, (size_t)n * sizeof create[0]);
	} else {
		atomic_fetch_add(&reg_full, 1);
	}
	pthread_mutex_unlock(&reg_lock);
	if (at >= 0)
		pthread_setspecific(reg_key, (void *)1);
}

static void unregister(void *v)
{
	(void)v;
	pid_t tid = gettid_();
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < reg_used; i++)
		if (reg[i].tid == tid)
			reg[i].tid = 0;
	while (reg_used > 0 && reg[reg_used - 1].tid == 0)
		reg_used--;
	pthread_mutex_unlock(&reg_lock);
}

void cprof__capture_foreach(void (*fn)(pid_t tid, const struct rt_thread *self, const uintptr_t *create,
				       int ncreate, void *arg),
			    void *arg)
{
	pthread_mutex_lock(&reg_lock);
	for (int i = 0; i < reg_used; i++)
		if (reg[i].tid)
			fn(reg[i].tid, reg[i].self, reg[i].create, reg[i].ncreate, arg);
	pthread_mutex_unlock(&reg_lock);
}

uint64_t cprof__capture_registry_full(void)
{
	return atomic_load(&reg_full);
}

/* ---- what a thread is doing ---- */

static const struct {
	int nr;
	const char *name;
} syscall_names[] = {
	{0, "read"},         {1, "write"},         {7, "poll"},           {17, "pread64"},
	{19, "readv"},       {23, "select"},       {34, "pause"},         {35, "nanosleep"},
	{42, "connect"},     {43, "accept"},       {45, "recvfrom"},      {47, "recvmsg"},
	{61, "wait4"},       {62, "kill"},         {72, "fcntl"},         {73, "flock"},
	{128, "rt_sigtimedwait"}, {130, "rt_sigsuspend"}, {202, "futex"}, {230, "clock_nanosleep"},
	{232, "epoll_wait"}, {247, "waitid"},      {270, "pselect6"},     {271, "ppoll"},
	{281, "epoll_pwait"}, {288, "accept4"},    {299, "recvmmsg"},     {441, "epoll_pwait2"},
	{64, "semop"},       {220, "semtimedop"},  {208, "io_getevents"}, {426, "io_uring_enter"},
};

const char *cprof__capture_syscall_name(long nr)
{
	for (size_t i = 0; i < sizeof syscall_names / sizeof syscall_names[0]; i++)
		if (syscall_names[i].nr == nr)
			return syscall_names[i].name;
	return NULL;
}

/* Read a small /proc file into buf (NUL-terminated); bytes read or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

int cprof__capture_tasks(void (*fn)(pid_t tid, void *arg), void *arg)
{
	/* getdents64 into a buffer on our stack: opendir's DIR would come from the program's heap. */
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int count = 0;
	char buf[4096] __attribute__((aligned(8)));
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int rc = n < 0 ? -errno : count;
			close(fd);
			return rc;
		}
		for (long off = 0; off < n;) {
			const struct dirent64 *de = (const struct dirent64 *)(buf + off);
			off += de->d_reclen;
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			fn((pid_t)atoi(de->d_name), arg);
			count++;
		}
	}
}

int cprof__capture_state(pid_t tid, struct rt_thread_state *st)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	memset(st, 0, sizeof *st);
	if (read_small(path, buf, sizeof buf) < 0)
		return -errno;
	if (strncmp(buf, "running", 7) == 0) {
		st->running = true;
		return 0;
	}
	/* "NR a1 a2 a3 a4 a5 a6 SP PC", or "-1 SP PC" outside a system call. */
	char *tok[9];
	int nt = 0;
	for (char *s = strtok(buf, " \n"); s && nt < 9; s = strtok(NULL, " \n"))
		tok[nt++] = s;
	if (nt < 3)
		return -EINVAL;
	st->nr = strtol(tok[0], NULL, 0);
	st->sp = (uintptr_t)strtoull(tok[nt - 2], NULL, 0);
	st->pc = (uintptr_t)strtoull(tok[nt - 1], NULL, 0);
	return 0;
}

int cprof__capture_name(pid_t tid, char *name, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
	if (read_small(path, name, len) < 0)
		return -errno;
	name[strcspn(name, "\n")] = 0;
	return 0;
}

bool cprof__capture_blocks_sigprof(pid_t tid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
	if (read_small(path, buf, sizeof buf) < 0)
		return false;
	const char *b = strstr(buf, "\nSigBlk:");
	if (!b)
		return false;
	unsigned long long mask = strtoull(b + 8, NULL, 16);
	return (mask >> (CPROF_SIGNAL - 1)) & 1;
}

int64_t cprof__capture_cpu_ns(pid_t tid)
{
	clockid_t c = (clockid_t)((~(unsigned)tid << 3) | 4 | 2);
	struct timespec ts;
	if (clock_gettime(c, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int cprof__capture_schedstat(pid_t tid, int64_t *on_cpu, int64_t *waiting, int64_t *slices)
{
	char path[64], buf[128];
	snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
	if (read_small(path, buf, sizeof buf) < 0)
		return -errno;
	unsigned long long a, b, c;
	if (sscanf(buf, "%llu %llu %llu", &a, &b, &c) != 3)
		return -EINVAL;
	*on_cpu = (int64_t)a;
	*waiting = (int64_t)b;
	*slices = (int64_t)c;
	return 0;
}

/* ---- blocked threads: DWARF unwinding from the kernel's sp and pc ---- */

static pthread_mutex_t fu_lock = PTHREAD_MUTEX_INITIALIZER;
static Dwfl *fu_dwfl;
static int64_t fu_built_ns;
static int fu_mem = -1;
static uintptr_t fu_sp, fu_pc, fu_fp;
static char *fu_debuginfo_path;

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name)
{
	/* .eh_frame in the module's own file is all the unwinder needs. */
	return -1;
}

static const Dwfl_Callbacks fu_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = no_debuginfo,
	.debuginfo_path = &fu_debuginfo_path,
};

static pid_t fu_next_thread(Dwfl *d, void *arg, void **targ)
{
	return 0;
}

static bool fu_get_thread(Dwfl *d, pid_t tid, void *arg, void **targ)
{
	*targ = arg;
	return true;
}

static bool fu_memory_read(Dwfl *d, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	return pread(fu_mem, result, sizeof *result, (off_t)addr) == (ssize_t)sizeof *result;
}

static bool fu_set_initial_registers(Dwfl_Thread *t, void *arg)
{
	Dwarf_Word sp = fu_sp, fp = fu_fp;
	/* x86-64 DWARF register 7 is rsp, 6 rbp; the pc is passed on its own. */
	if (!dwfl_thread_state_registers(t, 7, 1, &sp))
		return false;
	/*
	 * rbp, when known: the frames between the system call and a wait
	 * wrapper (the C library's) keep it or save it where their CFI says,
	 * so at the system call it is the wrapper's frame pointer, with which
	 * the walk goes on past the wrapper and through callers built with
	 * frame pointers.
	 */
	if (fp && !dwfl_thread_state_registers(t, 6, 1, &fp))
		return false;
	dwfl_thread_state_register_pc(t, fu_pc);
	return true;
}

static const Dwfl_Thread_Callbacks fu_thread_callbacks = {
	.next_thread = fu_next_thread,
	.get_thread = fu_get_thread,
	.memory_read = fu_memory_read,
	.set_initial_registers = fu_set_initial_registers,
};

/* (Re)build the process's module list. Called with fu_lock held. */
static int fu_build(void)
{
	if (fu_dwfl)
		dwfl_end(fu_dwfl);
	fu_dwfl = NULL;
	if (fu_mem < 0)
		fu_mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (fu_mem < 0)
		return -errno;
	Dwfl *d = dwfl_begin(&fu_callbacks);
	if (!d)
		return -ENOMEM;
	if (dwfl_linux_proc_report(d, getpid()) != 0 || dwfl_report_end(d, NULL, NULL) != 0 ||
	    !dwfl_attach_state(d, NULL, getpid(), &fu_thread_callbacks, NULL)) {
		dwfl_end(d);
		return -EIO;
	}
	fu_dwfl = d;
	fu_built_ns = cprof__now_ns();
	return 0;
}

struct frames {
	uintptr_t *pcs;
	int n, max;
};

static int on_frame(Dwfl_Frame *f, void *arg)
{
	struct frames *fr = arg;
	Dwarf_Addr pc;
	if (!dwfl_frame_pc(f, &pc, NULL) || pc == 0)
		return DWARF_CB_ABORT;
	fr->pcs[fr->n++] = (uintptr_t)pc;
	return fr->n < fr->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int cprof__capture_blocked(pid_t tid, uintptr_t sp, uintptr_t pc, uintptr_t fp, uintptr_t *pcs, int max)
{
	if (max <= 0)
		return 0;
	cprof__arena_begin(); /* libdwfl's module list and frames: not the program's heap */
	pthread_mutex_lock(&fu_lock);
	/* Modules loaded since the list was built: rebuild, at most once a second. */
	if (!fu_dwfl || (!dwfl_addrmodule(fu_dwfl, pc) && cprof__now_ns() - fu_built_ns > 1000000000))
		fu_build();
	struct frames fr = {pcs, 0, max};
	if (fu_dwfl) {
		fu_sp = sp;
		fu_pc = pc;
		/* Only a frame on the stack above sp can be the blocked call's wrapper. */
		fu_fp = fp > sp && fp - sp < (64u << 20) ? fp : 0;
		dwfl_getthread_frames(fu_dwfl, tid, on_frame, &fr);
	}
	pthread_mutex_unlock(&fu_lock);
	cprof__arena_end();
	if (fr.n == 0) {
		pcs[0] = pc;
		fr.n = 1;
	}
	return fr.n;
}

/* ---- running threads: a signal, a slot, a deadline ---- */

enum { SLOT_FREE, SLOT_ASKED, SLOT_DONE, SLOT_ABANDONED };

/* An abandoned slot is reused after this long even if never answered. */
#define ABANDON_NS 2000000000

struct slot {
	_Atomic int state;
	pid_t tid;
	bool has_timer; /* asked with a CPU clock timer, still to delete */
	timer_t timer;
	int64_t abandoned_ns; /* when the requester gave up */
	int n;
	const struct rt_labels *labels; /* the thread's labels when it answered */
	uintptr_t pcs[CPROF_MAX_DEPTH_LIMIT];
};

char cprof__sig_capture_cookies[CPROF_CAPTURE_SLOTS];
static struct slot slots[CPROF_CAPTURE_SLOTS];
static atomic_bool warmed;

void cprof__capture_on_signal(siginfo_t *si, void *uc)
{
	size_t i = (size_t)((char *)si->si_value.sival_ptr - cprof__sig_capture_cookies);
	if (i >= CPROF_CAPTURE_SLOTS)
		return;
	struct slot *s = &slots[i];
	int st = atomic_load(&s->state);
	if ((st != SLOT_ASKED && st != SLOT_ABANDONED) || s->tid != gettid_())
		return;
	int n = 0;
	if (!cprof__self.busy) {
		cprof__self.busy = 1;
		if (cprof__config.unwinder == CPROF_UNWIND_FP)
			n = cprof__unwind_fp(uc, s->pcs, cprof__config.max_depth, cprof__self.stack_lo,
					     cprof__self.stack_hi);
		else
			n = cprof__unwind_dwarf(uc, s->pcs, cprof__config.max_depth);
		cprof__self.busy = 0;
	}
	s->n = n;
	s->labels = cprof__self.labels;
	int want = SLOT_ASKED;
	if (!atomic_compare_exchange_strong(&s->state, &want, SLOT_DONE))
		atomic_store(&s->state, SLOT_FREE); /* the requester gave up: free it */
}

static int slot_claim(pid_t tid)
{
	for (int i = 0; i < CPROF_CAPTURE_SLOTS; i++) {
		int st = atomic_load(&slots[i].state);
		if (st == SLOT_ABANDONED &&
		    ((syscall(SYS_tgkill, getpid(), slots[i].tid, 0) != 0 && errno == ESRCH) ||
		     cprof__now_ns() - slots[i].abandoned_ns > ABANDON_NS)) {
			/* Its thread is gone, or the signal was lost with its
			 * timer: no handler will free it. A handler later still
			 * answers only a request for its own thread. */
			int want = SLOT_ABANDONED;
			atomic_compare_exchange_strong(&slots[i].state, &want, SLOT_FREE);
			st = atomic_load(&slots[i].state);
		}
		if (st != SLOT_FREE)
			continue;
		int want = SLOT_FREE;
		if (atomic_compare_exchange_strong(&slots[i].state, &want, SLOT_ASKED)) {
			slots[i].tid = tid;
			slots[i].n = 0;
			slots[i].has_timer = false;
			return i;
		}
	}
	return -EAGAIN;
}

/*
 * Arm a one-shot timer on tid's CPU clock that sends the request once the
 * thread has used more CPU (relative: its CPU time must pass its value now).
 */
static int send_request(int i, pid_t tid)
{
	int rc = cprof__thread_timer(tid, &cprof__sig_capture_cookies[i], &slots[i].timer);
	if (rc != 0)
		return rc;
	struct itimerspec its = {{0, 0}, {0, 1}};
	if (timer_settime(slots[i].timer, 0, &its, NULL) != 0) {
		int e = errno;
		timer_delete(slots[i].timer);
		return -e;
	}
	slots[i].has_timer = true;
	return 0;
}

/* A request's timer, once answered or given up. */
static void drop_timer(struct slot *s)
{
	if (s->has_timer) {
		s->has_timer = false;
		timer_delete(s->timer);
	}
}

int cprof__capture_ask(pid_t tid)
{
	if (!atomic_load(&warmed)) {
		if (cprof__config.unwinder == CPROF_UNWIND_DWARF)
			cprof__unwind_warmup();
		int rc = cprof__sig_install(NULL);
		if (rc != 0)
			return rc;
		atomic_store(&warmed, true);
	}
	/* Claiming and filling the tid happen before the signal: the handler
	 * checks both. */
	int i;
	pthread_mutex_lock(&fu_lock);
	i = slot_claim(tid);
	pthread_mutex_unlock(&fu_lock);
	if (i < 0)
		return i;
	int rc = send_request(i, tid);
	if (rc != 0) {
		atomic_store(&slots[i].state, SLOT_FREE);
		return rc;
	}
	return i;
}

int cprof__capture_wait(int ticket, int64_t deadline_ns, uintptr_t *pcs, int max)
{
	struct slot *s = &slots[ticket];
	for (;;) {
		if (atomic_load(&s->state) == SLOT_DONE)
			break;
		if (cprof__now_ns() >= deadline_ns) {
			/* The timer first: once abandoned, the slot may be
			 * freed and claimed again by another request. */
			drop_timer(s);
			s->abandoned_ns = cprof__now_ns();
			int want = SLOT_ASKED;
			if (atomic_compare_exchange_strong(&s->state, &want, SLOT_ABANDONED))
				return -ETIMEDOUT;
			break; /* answered just now */
		}
		struct timespec ts = {0, 50000};
		nanosleep(&ts, NULL);
	}
	drop_timer(s);
	int n = s->n < max ? s->n : max;
	memcpy(pcs, s->pcs, (size_t)n * sizeof pcs[0]);
	atomic_store(&s->state, SLOT_FREE);
	return n;
}

int cprof__capture_poll(int ticket, uintptr_t *pcs, int max, const struct rt_labels **labels)
{
	struct slot *s = &slots[ticket];
	if (atomic_load(&s->state) != SLOT_DONE)
		return -EINPROGRESS;
	drop_timer(s);
	*labels = s->labels;
	int n = s->n < max ? s->n : max;
	memcpy(pcs, s->pcs, (size_t)n * sizeof pcs[0]);
	atomic_store(&s->state, SLOT_FREE);
	return n;
}

void cprof__capture_cancel(int ticket)
{
	struct slot *s = &slots[ticket];
	/* A timer that has not fired yet never will once deleted: the slot is
	 * free at once. One that fired may have its signal on the way: the
	 * slot waits for it, abandoned. */
	bool fired = true;
	if (s->has_timer) {
		struct itimerspec left;
		if (timer_gettime(s->timer, &left) == 0 && (left.it_value.tv_sec || left.it_value.tv_nsec))
			fired = false;
		drop_timer(s);
	}
	s->abandoned_ns = cprof__now_ns();
	int want = SLOT_ASKED;
	if (atomic_compare_exchange_strong(&s->state, &want, fired ? SLOT_ABANDONED : SLOT_FREE))
		return;
	atomic_store(&s->state, SLOT_FREE); /* answered meanwhile */
}

/* ---- setup ---- */

static void atfork_prepare(void)
{
	pthread_mutex_lock(&fu_lock);
	pthread_mutex_lock(&reg_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&fu_lock);
}

static void atfork_child(void)
{
	/* Only the forking thread lives on; its state is the registry's now. */
	pid_t tid = gettid_();
	struct rt_thread *me = &cprof__self;
	for (int i = 0; i < reg_used; i++)
		if (reg[i].self != me)
			reg[i].tid = 0;
		else
			reg[i].tid = tid;
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&fu_lock);
	/* The parent's module list and descriptor of /proc/self/mem are the parent's. */
	fu_dwfl = NULL; /* not freed: it may share state with the parent's copy */
	if (fu_mem >= 0)
		close(fu_mem);
	fu_mem = -1;
	/* Timers are not inherited: the parent's requests are not ours. */
	for (int i = 0; i < CPROF_CAPTURE_SLOTS; i++) {
		slots[i].has_timer = false;
		atomic_store(&slots[i].state, SLOT_FREE);
	}
}

__attribute__((constructor(101))) static void capture_init(void)
{
	pthread_key_create(&reg_key, unregister);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	/* The main thread: no creation stack. */
	cprof__capture_register(NULL, 0);
}
