/*
 * wait_syscall.c - blocking system calls, interposed for the block profile's
 * opt-in class (CPROF_BLOCK_SYSCALLS=1, cprof run -blocksyscalls) and for
 * the wall-clock profiler's thread states: read, write, recv, recvfrom,
 * recvmsg, poll, ppoll, epoll_wait, epoll_pwait, select, pselect, accept,
 * accept4, connect, nanosleep, clock_nanosleep, usleep and sleep.
 *
 * While an execution trace runs with the syscall class on, each call is
 * also a blocking event of the trace (reason syscall, the call's name).
 *
 * With neither on, each wrapper is one flag test and the real call. With
 * the syscall class on, the call is timed and recorded in the block profile
 * under the caller's stack with the label reason=<call>, sampled by the
 * block rate like any other wait (a call shorter than the rate is recorded
 * with probability length/rate). With thread states asked for, the wrapper
 * sets cprof__self.blocked_in around the call.
 *
 * Only calls made through the dynamic symbol table are seen: the C
 * library's internal calls (sleep inside nanosleep's implementation, stdio
 * reading through read) do not come back here, so nothing is counted twice.
 * Return values and errno pass through unchanged; every call stays a
 * cancellation point, and the file is built with -fexceptions so that a
 * cancelled call restores the thread's state.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/rt.h"
#include "runtime/trace.h"

#define BS (CPROF_WAIT_BLOCK | CPROF_WAIT_SYSCALLS)
#define TS (CPROF_WAIT_TRACE | CPROF_WAIT_SYSCALLS)

static inline bool sys_on(void)
{
	unsigned f = atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed);
	return ((f & CPROF_WAIT_STATES) || (f & BS) == BS || (f & TS) == TS) && !cprof__wait_guard;
}

struct swait {
	int64_t t0;
	const char *prev;
	uintptr_t prev_fp;
	bool active;
};

static inline __attribute__((always_inline)) void sys_begin(struct swait *w, const char *what)
{
	unsigned f = atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed);
	w->t0 = (f & BS) == BS || (f & TS) == TS ? cprof__now_ns() : 0;
	w->prev = cprof__self.blocked_in;
	w->prev_fp = cprof__self.blocked_fp;
	cprof__self.blocked_fp = (uintptr_t)__builtin_frame_address(0); /* inlined: the wrapper's frame */
	cprof__self.blocked_in = what;
	w->active = true;
}

static inline void sys_end(struct swait *w, const char *what, const void *ra)
{
	cprof__self.blocked_in = w->prev;
	cprof__self.blocked_fp = w->prev_fp;
	w->active = false;
	if (w->t0) {
		int saved = errno;
		int64_t t1 = cprof__now_ns();
		if ((atomic_load_explicit(&cprof__wait_flags, memory_order_relaxed) & TS) == TS)
			cprof__trace_block(CPROF_TBR_SYSCALL, what, w->t0, t1, 0, -1, ra, 0);
		cprof__block_event(what, t1 - w->t0, ra);
		errno = saved;
	}
}

static void sys_cancelled(struct swait *w)
{
	if (w->active) {
		cprof__self.blocked_in = w->prev;
		cprof__self.blocked_fp = w->prev_fp;
	}
}

/*
 * One wrapper: name's real function resolved on first use (a failure there
 * returns fail), then the timed call.
 */
#define WRAP(ret_t, name, fail, params, args)                                                  \
	typedef ret_t(*name##_fn) params;                                                      \
	CPROF_API ret_t name params                                                            \
	{                                                                                      \
		static name##_fn real_;                                                         \
		name##_fn f_ = __atomic_load_n(&real_, __ATOMIC_RELAXED);                        \
		if (__builtin_expect(!f_, 0)) {                                                 \
			f_ = (name##_fn)dlsym(RTLD_NEXT, #name);                                \
			if (!f_) {                                                              \
				errno = ENOSYS;                                                \
				return fail;                                                   \
			}                                                                      \
			__atomic_store_n(&real_, f_, __ATOMIC_RELAXED);                          \
		}                                                                              \
		if (!sys_on())                                                                 \
			return f_ args;                                                         \
		struct swait w_ __attribute__((cleanup(sys_cancelled))) = {0, NULL, 0, false};     \
		sys_begin(&w_, #name);                                                          \
		ret_t ret_ = f_ args;                                                              \
		sys_end(&w_, #name, __builtin_return_address(0));                               \
		return ret_;                                                                      \
	}

WRAP(ssize_t, read, -1, (int fd, void *buf, size_t n), (fd, buf, n))
WRAP(ssize_t, write, -1, (int fd, const void *buf, size_t n), (fd, buf, n))
WRAP(ssize_t, recv, -1, (int fd, void *buf, size_t n, int flags), (fd, buf, n, flags))
WRAP(ssize_t, recvfrom, -1,
     (int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *alen),
     (fd, buf, n, flags, addr, alen))
WRAP(ssize_t, recvmsg, -1, (int fd, struct msghdr *msg, int flags), (fd, msg, flags))
WRAP(int, poll, -1, (struct pollfd * fds, nfds_t nfds, int timeout), (fds, nfds, timeout))
WRAP(int, ppoll, -1,
     (struct pollfd * fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *mask),
     (fds, nfds, timeout, mask))
WRAP(int, epoll_wait, -1, (int epfd, struct epoll_event *ev, int max, int timeout), (epfd, ev, max, timeout))
WRAP(int, epoll_pwait, -1,
     (int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask),
     (epfd, ev, max, timeout, mask))
WRAP(int, select, -1,
     (int nfds, fd_set *r, fd_set *wr, fd_set *ex, struct timeval *timeout),
     (nfds, r, wr, ex, timeout))
WRAP(int, pselect, -1,
     (int nfds, fd_set *r, fd_set *wr, fd_set *ex, const struct timespec *timeout, const sigset_t *mask),
     (nfds, r, wr, ex, timeout, mask))
WRAP(int, accept, -1, (int fd, struct sockaddr *addr, socklen_t *alen), (fd, addr, alen))
WRAP(int, accept4, -1, (int fd, struct sockaddr *addr, socklen_t *alen, int flags), (fd, addr, alen, flags))
WRAP(int, connect, -1, (int fd, const struct sockaddr *addr, socklen_t alen), (fd, addr, alen))
WRAP(int, nanosleep, -1, (const struct timespec *req, struct timespec *rem), (req, rem))
WRAP(int, clock_nanosleep, ENOSYS,
     (clockid_t clock, int flags, const struct timespec *req, struct timespec *rem),
     (clock, flags, req, rem))
WRAP(int, usleep, -1, (useconds_t us), (us))
WRAP(unsigned, sleep, seconds, (unsigned seconds), (seconds))
