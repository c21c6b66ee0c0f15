/*
 * log.c - the runtime's only way to talk to the user: one line on stderr,
 * written with a single write(2) so lines from threads do not interleave.
 * It never uses stdio (the program owns stderr's FILE buffer and its lock).
 * Not for signal handlers (vsnprintf is not async-signal-safe).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "runtime/rt.h"

bool cprof__quiet;

void cprof__log(const char *fmt, ...)
{
	if (cprof__quiet)
		return;
	int saved = errno;
	char line[1024];
	int n = snprintf(line, sizeof line, "cprof: ");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
	errno = saved;
}
