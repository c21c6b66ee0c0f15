/*
 * replay.c - runs a fuzz target's LLVMFuzzerTestOneInput over every file of
 * a corpus directory, without libFuzzer, so `make test` replays the corpora.
 *
 * Each input runs in a forked child, so one crash or abort is reported as
 * "FAIL replay_<dir>: <file>: ..." and the others still run; at the end it
 * prints "PASS replay_<dir>" if all passed. It does no mutation: that is
 * libFuzzer's job.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX ((size_t)64 << 20)

static int read_all(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *nb;
	size_t n = 0, cap = 0, got;

	if (!f)
		return -errno;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if (cap > REPLAY_MAX || !(nb = realloc(buf, cap))) {
				free(buf);
				fclose(f);
				return -EFBIG;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static int run_one(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc, status;
	pid_t pid;

	rc = read_all(path, &data, &len);
	if (rc)
		return rc;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		free(data);
		return -errno;
	}
	if (pid == 0) {
		/* a copy the exact size of the input, so overreads are caught */
		uint8_t *exact = malloc(len ? len : 1);

		if (!exact)
			_exit(3);
		memcpy(exact, data, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
		free(data);
		_exit(0);
	}
	free(data);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return WEXITSTATUS(status) ? 2000 + WEXITSTATUS(status) : 0;
}

int main(int argc, char **argv)
{
	struct dirent **ents;
	char *dircopy, *name;
	int n, i, failed = 0, ran = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	dircopy = strdup(argv[1]);
	name = basename(dircopy);
	n = scandir(argv[1], &ents, NULL, alphasort);
	if (n < 0) {
		printf("FAIL replay_%s: %s: %s\n", name, argv[1], strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", argv[1], ents[i]->d_name);
		if (ents[i]->d_name[0] == '.' || stat(path, &st) || !S_ISREG(st.st_mode)) {
			free(ents[i]);
			continue;
		}
		ran++;
		rc = run_one(path);
		if (rc < 0)
			printf("FAIL replay_%s: %s: %s\n", name, path, strerror(-rc));
		else if (rc >= 2000)
			printf("FAIL replay_%s: %s: exited with status %d\n", name, path, rc - 2000);
		else if (rc >= 1000)
			printf("FAIL replay_%s: %s: killed by signal %d\n", name, path, rc - 1000);
		failed += rc != 0;
		free(ents[i]);
	}
	free(ents);
	if (!ran) {
		printf("FAIL replay_%s: no inputs in %s\n", name, argv[1]);
		failed = 1;
	} else if (!failed) {
		printf("PASS replay_%s\n", name);
	}
	free(dircopy);
	return failed ? 1 : 0;
}
