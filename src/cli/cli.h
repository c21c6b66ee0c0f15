/*
 * cli.h - what the commands of the cprof binary share: the command
 * signatures and the error reporting convention ("cprof: <what>: <why>").
 */
#ifndef CPROF_CLI_H
#define CPROF_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Each command gets argv with argv[0] set to the command's name. Returns the exit status. */
int cmd_run(int argc, char **argv);
int cmd_pprof(int argc, char **argv);
int cmd_benchstat(int argc, char **argv);
int cmd_continuous(int argc, char **argv);
int cmd_trace(int argc, char **argv);

struct profile;

/*
 * cmd_pprof.c, for interactive.c: one report of a loaded profile, exactly as
 * `cprof pprof <flags> FILE` prints it; argv[0] is ignored, the rest are
 * flags naming one output format (no files). Returns the exit status, after
 * printing any error. And whether `cprof pprof` has a flag `name`: 1 a
 * boolean one, 2 one that takes a value, 0 none.
 */
int cprof__pprof_report(struct profile *p, int argc, char **argv);
int cprof__pprof_flag_kind(const char *name);
/* Go's strconv.ParseBool, as pprof reads a boolean flag: 0, or -1 when s is none. */
int cprof__pprof_parse_bool(const char *s, bool *out);

/*
 * interactive.c: `cprof pprof` without an output format, go tool pprof's
 * shell over one loaded (merged) profile. argv: the command line's flags
 * (argv[0] ignored), which set the shell's initial options. Runs on the main
 * thread until q/quit/exit or end of input; returns the exit status.
 */
int cprof__pprof_interactive(struct profile *p, int argc, char **argv);

/* Usage text of each command, printed by "cprof help <command>". */
extern const char cmd_run_usage[];
extern const char cmd_pprof_usage[];
extern const char cmd_benchstat_usage[];
extern const char cmd_continuous_usage[];
extern const char cmd_trace_usage[];

/* Prints "cprof: <fmt>\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
