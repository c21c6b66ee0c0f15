/*
 * cmd_continuous.c - `cprof continuous status`: what the continuous
 * collectors of running (and finished) programs sent, dropped and why,
 * read from the status files the runtime keeps (continuous.c; one per
 * process, under ${TMPDIR:-/tmp}/cprof-continuous-<uid>/ unless
 * CPROF_CONTINUOUS_STATUS names another). The format is in docs/FORMAT.md.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

const char cmd_continuous_usage[] =
	"Usage: cprof continuous status [FILE|DIR]...\n\n"
	"Shows what the continuous collectors (CPROF_CONTINUOUS) of programs sent,\n"
	"dropped and why, from the status files they keep: by default every file in\n"
	"${TMPDIR:-/tmp}/cprof-continuous-<uid>/ (one per process); a FILE is one\n"
	"status file (CPROF_CONTINUOUS_STATUS), a DIR is searched for *.status (and\n"
	"*.status.preexec.<pid>, left by a program image that exec'd another).\n"
	"Processes no longer running are marked \"exited\".\n";

#define MAXKEYS 64

struct status {
	char key[MAXKEYS][40];
	char val[MAXKEYS][1100];
	int n;
};

static const char *get(const struct status *s, const char *k)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->key[i], k) == 0)
			return s->val[i];
	return "";
}

static int read_status(const char *path, struct status *s)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char line[1200];
	s->n = 0;
	while (fgets(line, sizeof line, f) && s->n < MAXKEYS) {
		line[strcspn(line, "\n")] = 0;
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = 0;
		if (strlen(line) >= sizeof s->key[0] || strlen(sp + 1) >= sizeof s->val[0])
			continue;
		memcpy(s->key[s->n], line, strlen(line) + 1);
		memcpy(s->val[s->n], sp + 1, strlen(sp + 1) + 1);
		s->n++;
	}
	fclose(f);
	return get(s, "pid")[0] ? 0 : -EINVAL;
}

static int show(const char *path)
{
	struct status s;
	int rc = read_status(path, &s);
	if (rc != 0) {
		cli_error("continuous: %s: %s", path,
			  rc == -EINVAL ? "not a collector status file (no pid line)" : strerror(-rc));
		return 1;
	}
	int pid = atoi(get(&s, "pid"));
	bool alive = pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
	const char *state = strcmp(get(&s, "ended"), "exec") == 0 ? "ended by exec (the pid runs a new image)"
			    : !alive				   ? "exited"
			    : strcmp(get(&s, "running"), "1") == 0 ? "running"
								   : "stopped";
	printf("%s: pid %d, service %s%s%s, %s\n", path, pid, get(&s, "service"),
	       get(&s, "version")[0] ? " " : "", get(&s, "version"), state);
	printf("  destination  %s, every %.3g s\n", get(&s, "destination"), atof(get(&s, "period_ms")) / 1000);
	printf("  labels       host=%s pid=%d%s%s\n", get(&s, "host"), pid, get(&s, "tags")[0] ? " tags=" : "",
	       get(&s, "tags"));
	printf("  collected    %s periods, %s profiles; last period: %s\n", get(&s, "batches"), get(&s, "profiles"),
	       get(&s, "last_kinds")[0] ? get(&s, "last_kinds") : "(none)");
	printf("  not collected %s\n", get(&s, "skipped"));
	printf("  sent         %s profiles, %s bytes; %s periods whole\n", get(&s, "sent"), get(&s, "sent_bytes"),
	       get(&s, "sent_batches"));
	printf("  dropped      queue full: %s periods (%s profiles); failed after retries: %s periods (%s profiles, "
	       "%s retries in all); at the stop: %s periods (%s profiles)\n",
	       get(&s, "dropped_queue_full"), get(&s, "dropped_queue_full_profiles"), get(&s, "dropped_failed"),
	       get(&s, "dropped_failed_profiles"), get(&s, "retries"), get(&s, "dropped_stop"),
	       get(&s, "dropped_stop_profiles"));
	if (strncmp(get(&s, "destination"), "dir:", 4) == 0)
		printf("  files        %s written, %s removed by retention, %s write errors\n", get(&s, "files_written"),
		       get(&s, "files_removed"), get(&s, "write_errors"));
	else
		printf("  queue        %s of %s periods waiting (%s bytes; at most %s so far)\n", get(&s, "queued"),
		       get(&s, "queue_limit"), get(&s, "queued_bytes"), get(&s, "max_queued_bytes"));
	printf("  memory       %s bytes of delta baselines, %s bytes of names of %s addresses (read afresh %s times)\n",
	       get(&s, "baseline_bytes"), get(&s, "symbol_cache_bytes"), get(&s, "symbol_cache_pcs"),
	       get(&s, "symbol_cache_reloads"));
	printf("  last error   %s\n", get(&s, "last_error"));
	return 0;
}

static int show_dir(const char *dir, bool quiet_empty)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (quiet_empty && errno == ENOENT) {
			printf("no collector status in %s (no program ran with CPROF_CONTINUOUS)\n", dir);
			return 0;
		}
		cli_error("continuous: %s: %s", dir, strerror(errno));
		return 1;
	}
	struct dirent *e;
	int rc = 0, n = 0;
	char **names = NULL;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		/* PID.status, and PID.status.preexec.PID left by an image that exec'd */
		if ((l < 8 || strcmp(e->d_name + l - 7, ".status") != 0) && !strstr(e->d_name, ".status.preexec."))
			continue;
		char **nn = realloc(names, (size_t)(n + 1) * sizeof *names);
		if (!nn)
			break;
		names = nn;
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (atoi(names[j]) < atoi(names[i])) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		rc |= show(path);
		free(names[i]);
	}
	free(names);
	if (n == 0)
		printf("no collector status in %s\n", dir);
	return rc;
}

int cmd_continuous(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "-help") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fputs(cmd_continuous_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "status") != 0) {
		cli_error("continuous: unknown subcommand \"%s\"; try: cprof continuous status", argv[1]);
		return 2;
	}
	if (argc == 2) {
		const char *tmp = getenv("TMPDIR");
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/cprof-continuous-%u", tmp && *tmp ? tmp : "/tmp", (unsigned)getuid());
		return show_dir(dir, true);
	}
	int rc = 0;
	for (int i = 2; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			cli_error("continuous: %s: %s", argv[i], strerror(errno));
			rc = 1;
		} else {
			rc |= S_ISDIR(st.st_mode) ? show_dir(argv[i], false) : show(argv[i]);
		}
	}
	return rc;
}
