/*
 * viewer.c - pprof's invokeVisualizer, behind -eog, -evince, -gv and
 * -kcachegrind: the report goes to a temporary file
 * (${TMPDIR:-/tmp}/pprofNNNNNN.<suffix>), then the viewer program is
 * started on it, with stdin and stdout on /dev/null and stderr shared. On
 * the command line cprof waits for the viewer and removes the file; in the
 * interactive shell the viewer runs on in the background, and the files
 * are removed when cprof exits, as pprof does. A viewer that cannot be
 * started is an error naming it. Also the SVG -eog shows: Graphviz's own,
 * without the pan/zoom script -svg adds (pprof's invokeDot("svg")).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/report/report.h"

#define MAX_TEMPS 64

static char *temps[MAX_TEMPS];
static int ntemps;

static void remove_temps(void)
{
	for (int i = 0; i < ntemps; i++) {
		unlink(temps[i]);
		free(temps[i]);
	}
	ntemps = 0;
}

int cprof__report_viewer_path(const char *suffix, char *buf, size_t len)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !dir[0])
		dir = "/tmp";
	int n = snprintf(buf, len, "%s/pprofXXXXXX.%s", dir, suffix);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	int fd = mkstemps(buf, (int)strlen(suffix) + 1);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int cprof__report_viewer_run(const char *viewer, const char *path, bool background,
			     char *err, size_t errlen)
{
	/* "gv --noantialias": the command and its arguments, then the file */
	char *cmd = strdup(viewer);
	char *argv[16];
	int argc = 0;
	char *save = NULL;
	if (!cmd) {
		unlink(path);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (char *t = strtok_r(cmd, " ", &save); t && argc < 14; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc++] = (char *)path;
	argv[argc] = NULL;
	int fds[2] = {-1, -1};
	pid_t pid = -1;
	if (pipe2(fds, O_CLOEXEC) == 0) {
		pid = fork();
		if (pid == 0) {
			int dn = open("/dev/null", O_RDWR);
			if (dn >= 0) {
				dup2(dn, 0);
				dup2(dn, 1);
			}
			execvp(argv[0], argv);
			int e = errno;
			if (write(fds[1], &e, sizeof(e)) < 0)
				_exit(127);
			_exit(127);
		}
		close(fds[1]);
	}
	int rc = 0, e = 0;
	if (pid < 0) {
		snprintf(err, errlen, "starting %s: %s", argv[0], strerror(errno));
		rc = -EINVAL;
	} else if (read(fds[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);
		if (e == ENOENT)
			snprintf(err, errlen, "the viewer %s is not installed (or not in $PATH): "
				 "install it, or write the file with -output=FILE", argv[0]);
		else
			snprintf(err, errlen, "starting the viewer %s: %s", argv[0], strerror(e));
		rc = -EINVAL;
	} else if (!background) {
		int status = 0;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			snprintf(err, errlen, "the viewer %s failed (%s %d)", argv[0],
				 WIFEXITED(status) ? "exit status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			rc = -EINVAL;
		}
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (rc == 0 && background) {
		/* pprof waits a second so the viewer can open the file; removed at exit */
		sleep(1);
		if (ntemps == 0)
			atexit(remove_temps);
		char *copy = ntemps < MAX_TEMPS ? strdup(path) : NULL;
		if (copy)
			temps[ntemps++] = copy;
	} else {
		unlink(path);
	}
	free(cmd);
	return rc;
}

int cprof__report_plain_svg(struct report *r, FILE *out)
{
	char *dot = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&dot, &len);
	if (!m)
		return -ENOMEM;
	int rc = cprof__report_dot(r, m);
	if (fclose(m) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc < 0) {
		free(dot);
		return rc;
	}
	fflush(out);
	int fds[2], efds[2] = {-1, -1};
	if (pipe(fds) < 0) {
		free(dot);
		return -ENOMEM;
	}
	if (pipe2(efds, O_CLOEXEC) < 0) {
		close(fds[0]);
		close(fds[1]);
		free(dot);
		return -ENOMEM;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[0], 0);
		dup2(fileno(out), 1);
		close(fds[0]);
		close(fds[1]);
		execlp("dot", "dot", "-Tsvg", (char *)NULL);
		int e = errno;
		if (write(efds[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(fds[0]);
	close(efds[1]);
	if (pid < 0) {
		close(fds[1]);
		close(efds[0]);
		free(dot);
		return -ENOMEM;
	}
	int e = 0;
	bool noexec = read(efds[0], &e, sizeof(e)) == (ssize_t)sizeof(e);
	close(efds[0]);
	size_t off = 0;
	while (!noexec && off < len) {
		ssize_t n = write(fds[1], dot + off, len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fds[1]);
	free(dot);
	int status = 0;
	waitpid(pid, &status, 0);
	if (noexec)
		return -ENOENT;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}
