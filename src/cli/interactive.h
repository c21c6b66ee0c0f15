/*
 * interactive.h - what the two files of `cprof pprof`'s shell share:
 * interactive.c (pprof's options and commands, reports, the line reader)
 * and interactive_edit.c (the terminal: libedit, history, completion).
 * Nothing else includes it. Everything here runs on the CLI's main thread.
 */
#ifndef CPROF_CLI_INTERACTIVE_H
#define CPROF_CLI_INTERACTIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/profile.h"

/* pprof's options (config.go configFields) and commands (pprofCommands). */
enum otype { O_BOOL, O_INT, O_FLOAT, O_STRING, O_CHOICE };

struct opt {
	const char *name;
	enum otype type;
	const char *def;
	const char *const *choices;
	const char *help; /* commands.go configHelp; NULL for the choice groups */
};

enum usage { U_NONE, U_TEXT, U_REPORT, U_LIST };

struct cmd {
	const char *name;
	bool param;        /* takes a regexp (or address) argument */
	const char *away;  /* suffix of the file the output goes to instead of stdout */
	const char *desc;
	enum usage usage;
	bool cum, redirect; /* reportHelp / listHelp arguments */
	const char *text;   /* U_TEXT */
};

/* How many options and commands interactive.c's tables hold. */
#define SHELL_NOPT 32
#define SHELL_NCMD 25

/* The shell's state. */
struct shell {
	struct profile *prof;
	uint8_t *pb;             /* the profile encoded: each report gets a fresh copy */
	size_t pblen;
	char *val[SHELL_NOPT];       /* current option values, as pprof prints them */
	bool have[SHELL_NCMD];       /* commands cmd_pprof.c can run */
	bool tty;                /* libedit on a terminal */
	char *si_help;           /* sample_index help with the profile's types */
	const char **fns;        /* function names, for completion */
	size_t nfns;
};

/* The tables, in pprof's order: SHELL_NOPT options, SHELL_NCMD commands. */
extern const struct opt *const cprof__shell_opts;
extern const struct cmd *const cprof__shell_cmds;

/* The index of the option called name, or -1. */
int cprof__shell_find_opt(const char *name);
/* The command called name, when cprof pprof can run it; else NULL. */
const struct cmd *cprof__shell_find_cmd(const struct shell *sh, const char *name);
/* The name of the profile's sample type i. */
const char *cprof__shell_stype(const struct profile *p, size_t i);
/* One line typed into the shell; true when it asks to quit. */
bool cprof__shell_process(struct shell *sh, char *line);
/* strcmp for qsort over an array of strings. */
int cprof__shell_cmp_str(const void *a, const void *b);

/*
 * interactive_edit.c: read and run lines on the terminal with libedit until
 * end of input or quit. 0, or -1 when libedit could not start (nothing was
 * read: the caller reads lines without it).
 */
int cprof__shell_edit(struct shell *sh);

#endif
