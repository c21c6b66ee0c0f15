/*
 * main.c - the cprof command table: dispatches "cprof <command> ..." to the
 * command's cmd_<name>() and owns help and version. Commands live one per
 * file (cmd_<name>.c); this file knows only their names and summaries.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;
};

static const struct command commands[] = {
	{"run", cmd_run, "run a program with profiling on", cmd_run_usage},
	{"pprof", cmd_pprof, "read and report on profiles, as go tool pprof does", cmd_pprof_usage},
	{"benchstat", cmd_benchstat, "summarize and compare benchmark results, as Go's benchstat does",
	 cmd_benchstat_usage},
	{"continuous", cmd_continuous, "show what continuous profiling (CPROF_CONTINUOUS) sent and dropped",
	 cmd_continuous_usage},
	{"trace", cmd_trace, "read an execution trace (cprof run -trace): text or Chrome JSON", cmd_trace_usage},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("cprof: profiling for C programs\n\n"
	      "Usage: cprof <command> [arguments]\n\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("  help       show help for a command: cprof help <command>\n"
	      "  version    print cprof's version\n\n"
	      "Quick start:\n"
	      "  cprof run -cpuprofile=cpu.prof -- ./prog args\n"
	      "  cprof pprof -top cpu.prof\n\n"
	      "Benchmarks: link a C file of BenchmarkXxx functions with libcprof-bench\n"
	      "(pkg-config cprof-bench) to get go test -bench's flags and output; compare\n"
	      "runs with cprof benchstat old.txt new.txt (docs/USAGE.md, \"Benchmarks\").\n", f);
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "version") == 0) {
		usage(stdout);
		return 0;
	}
	const struct command *c = find(argv[1]);
	if (!c) {
		cli_error("help: unknown command '%s'; run 'cprof help' for the list", argv[1]);
		return 2;
	}
	fputs(c->usage, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
	    strcmp(name, "-help") == 0)
		return help(argc - 1, argv + 1);
	if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0 || strcmp(name, "-version") == 0) {
		printf("cprof version %s\n", CPROF_VERSION);
		return 0;
	}
	const struct command *c = find(name);
	if (!c) {
		cli_error("unknown command '%s'; run 'cprof help' for the list", name);
		return 2;
	}
	if (argc > 2 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "-help") == 0 ||
			 strcmp(argv[2], "--help") == 0)) {
		fputs(c->usage, stdout);
		return 0;
	}
	return c->fn(argc - 1, argv + 1);
}
