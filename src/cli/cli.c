/*
 * cli.c - what every command shares that is not a command: the error line.
 * Kept apart from main.c so unit tests can link the commands without main.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("cprof: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
