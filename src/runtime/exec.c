/*
 * exec.c - the exec family, interposed so that a program that replaces its
 * image does not take its profile with it: before the real call the running
 * profile is written (prof_cpu.c decides where), and if the call fails
 * profiling resumes. The variadic execl* forms gather their arguments and go
 * to the matching v-form of the C library directly, which does not come
 * back through these wrappers.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include "runtime/rt.h"

#define REAL(name, type)                                                       \
	static type real_##name;                                               \
	if (!real_##name)                                                      \
		real_##name = (type)dlsym(RTLD_NEXT, #name);                   \
	if (!real_##name) {                                                    \
		errno = ENOSYS;                                                \
		return -1;                                                     \
	}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);

static void before(void)
{
	cprof__wall_before_exec(); /* first: the others' writing is not the program's time */
	cprof__continuous_before_exec(); /* before the CPU profile's: its last period takes that profile's samples */
	cprof__cpu_before_exec();
	cprof__heap_before_exec();
	cprof__wait_before_exec();
	cprof__threads_before_exec();
	cprof__trace_before_exec();
}

static int finish(int rc)
{
	int e = errno;
	cprof__cpu_after_failed_exec();
	cprof__wall_after_failed_exec();
	cprof__trace_after_failed_exec();
	cprof__continuous_after_failed_exec();
	errno = e;
	return rc;
}

CPROF_API int execve(const char *path, char *const argv[], char *const envp[])
{
	REAL(execve, execve_fn);
	before();
	return finish(real_execve(path, argv, envp));
}

CPROF_API int execv(const char *path, char *const argv[])
{
	REAL(execv, execv_fn);
	before();
	return finish(real_execv(path, argv));
}

CPROF_API int execvp(const char *file, char *const argv[])
{
	REAL(execvp, execv_fn);
	before();
	return finish(real_execvp(file, argv));
}

CPROF_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
	REAL(execvpe, execve_fn);
	before();
	return finish(real_execvpe(file, argv, envp));
}

CPROF_API int fexecve(int fd, char *const argv[], char *const envp[])
{
	REAL(fexecve, fexecve_fn);
	before();
	return finish(real_fexecve(fd, argv, envp));
}

CPROF_API int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	REAL(execveat, execveat_fn);
	before();
	return finish(real_execveat(dirfd, path, argv, envp, flags));
}

/* Count the arguments of an execl-style call, the terminating NULL included. */
#define GATHER(first, ap, argv, extra)                                         \
	size_t n_ = 1;                                                         \
	va_start(ap, first);                                                   \
	while (va_arg(ap, char *) != NULL)                                     \
		n_++;                                                          \
	va_end(ap);                                                            \
	char *argv[n_ + 1];                                                    \
	va_start(ap, first);                                                   \
	argv[0] = (char *)first;                                               \
	for (size_t i_ = 1; i_ <= n_; i_++)                                    \
		argv[i_] = va_arg(ap, char *);                                 \
	extra;                                                                 \
	va_end(ap)

CPROF_API int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	GATHER(arg, ap, argv, (void)0);
	return execv(path, argv);
}

CPROF_API int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	GATHER(arg, ap, argv, (void)0);
	return execvp(file, argv);
}

CPROF_API int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **envp;
	GATHER(arg, ap, argv, envp = va_arg(ap, char **));
	return execve(path, argv, envp);
}
