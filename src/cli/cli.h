/*
 * cli.h - what the commands of the cprof binary share: the command
 * signatures and the error reporting convention ("cprof: <what>: <why>").
 */
#ifndef CPROF_CLI_H
#define CPROF_CLI_H

#include <stdio.h>

/* Each command gets argv with argv[0] set to the command's name. Returns the exit status. */
int cmd_run(int argc, char **argv);
int cmd_pprof(int argc, char **argv);

/* Usage text of each command, printed by "cprof help <command>". */
extern const char cmd_run_usage[];
extern const char cmd_pprof_usage[];

/* Prints "cprof: <fmt>\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
