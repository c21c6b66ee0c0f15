/*
 * sig.c - the one owner of SIGPROF inside the profiled process.
 *
 * The CPU profiler's per-thread timers deliver SIGPROF. Programs may use
 * SIGPROF themselves (setitimer(ITIMER_PROF), their own timers, kill -PROF),
 * so this file keeps the program's disposition aside and routes each signal:
 * a signal from one of our timers (SI_TIMER carrying our cookie) goes to the
 * sampler; anything else goes to the program's handler, or gets the default
 * action the program asked for. sigaction() and signal() are interposed so a
 * program that installs a SIGPROF handler after us updates the disposition we
 * chain to instead of silently disabling the profiler.
 *
 * The same signal carrying a capture cookie, sent to one thread by a timer
 * on its CPU clock (SI_TIMER), asks that thread for its stack (capture.c).
 *
 * It does not create timers (threads.c) or record samples (prof_cpu.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "runtime/rt.h"

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static void (*sampler)(siginfo_t *, void *);
static atomic_bool owned;

/*
 * The program's disposition for SIGPROF, double-buffered so the signal
 * handler never reads a half-written struct: writers fill the spare copy and
 * publish its index.
 */
static struct sigaction program_act[2];
static atomic_int program_idx;
static pthread_mutex_t program_lock = PTHREAD_MUTEX_INITIALIZER;

static void resolve(void)
{
	if (!real_sigaction)
		real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))
			dlsym(RTLD_NEXT, "sigaction");
}

int cprof__sig_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	resolve();
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	return real_sigaction(sig, act, old);
}

static void chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *a = &program_act[atomic_load(&program_idx)];
	if (a->sa_flags & SA_SIGINFO) {
		if (a->sa_sigaction)
			a->sa_sigaction(sig, si, uc);
		return;
	}
	if (a->sa_handler == SIG_IGN)
		return;
	if (a->sa_handler == SIG_DFL) {
		/* SIGPROF's default action terminates: do what the program asked for. */
		struct sigaction dfl;
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		real_sigaction(sig, &dfl, NULL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		return;
	}
	a->sa_handler(sig);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	char *cookie = si ? (char *)si->si_value.sival_ptr : NULL;
	if (si && si->si_code == SI_TIMER && cookie >= cprof__sig_cookies &&
	    cookie < cprof__sig_cookies + CPROF_MAX_THREADS) {
		if (sampler)
			sampler(si, uc);
	} else if (si && si->si_code == SI_TIMER && cookie >= cprof__sig_capture_cookies &&
		   cookie < cprof__sig_capture_cookies + CPROF_CAPTURE_SLOTS) {
		cprof__capture_on_signal(si, uc); /* a stack request (capture.c) */
	} else {
		chain(sig, si, uc);
	}
	errno = saved;
}

int cprof__sig_install(void (*handler)(siginfo_t *si, void *uc))
{
	resolve();
	if (!real_sigaction)
		return -ENOSYS;
	if (handler)
		sampler = handler;
	if (atomic_load(&owned))
		return 0;
	pthread_mutex_lock(&program_lock);
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_sigaction = on_signal;
	act.sa_flags = SA_SIGINFO | SA_RESTART;
	/* Only SIGPROF itself is blocked while the handler runs (the kernel does
	 * that): the program's own handler, when chained to, runs under the mask
	 * it would have had, and the sampler needs nothing more. */
	sigemptyset(&act.sa_mask);
	int rc = 0;
	if (real_sigaction(CPROF_SIGNAL, &act, &old) != 0) {
		rc = -errno;
	} else {
		program_act[0] = old;
		atomic_store(&program_idx, 0);
		/* Once installed, the handler stays: a timer signal still pending
		 * after profiling stops must not reach SIGPROF's default action. */
		atomic_store(&owned, true);
	}
	pthread_mutex_unlock(&program_lock);
	return rc;
}

bool cprof__sig_handler_lost(void)
{
	if (!atomic_load(&owned))
		return false;
	struct sigaction cur;
	if (real_sigaction(CPROF_SIGNAL, NULL, &cur) != 0)
		return false;
	return !(cur.sa_flags & SA_SIGINFO) || cur.sa_sigaction != on_signal;
}

/* Record the program's new disposition; returns the previous one in *old. */
static void set_program(const struct sigaction *act, struct sigaction *old)
{
	pthread_mutex_lock(&program_lock);
	int cur = atomic_load(&program_idx);
	if (old)
		*old = program_act[cur];
	if (act) {
		program_act[!cur] = *act;
		atomic_store(&program_idx, !cur);
	}
	pthread_mutex_unlock(&program_lock);
}

CPROF_API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	resolve();
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	if (sig != CPROF_SIGNAL || !atomic_load(&owned))
		return real_sigaction(sig, act, old);
	set_program(act, old);
	return 0;
}

static sighandler_t set_handler(int sig, sighandler_t h)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = h;
	act.sa_flags = SA_RESTART;
	if (sigaction(sig, &act, &old) != 0)
		return SIG_ERR;
	return (old.sa_flags & SA_SIGINFO) ? (sighandler_t)(void (*)(void))old.sa_sigaction : old.sa_handler;
}

CPROF_API sighandler_t signal(int sig, sighandler_t h)
{
	if (sig != CPROF_SIGNAL || !atomic_load(&owned)) {
		static sighandler_t (*real_signal)(int, sighandler_t);
		if (!real_signal)
			real_signal = (sighandler_t(*)(int, sighandler_t))dlsym(RTLD_NEXT, "signal");
		if (!real_signal) {
			errno = ENOSYS;
			return SIG_ERR;
		}
		return real_signal(sig, h);
	}
	return set_handler(sig, h);
}

CPROF_API sighandler_t bsd_signal(int sig, sighandler_t h)
{
	return signal(sig, h);
}
