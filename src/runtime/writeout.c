/*
 * writeout.c - putting a finished profile on disk: gzip-encoded through
 * src/proto, written to a temporary file in the same directory and renamed
 * over the destination, so a reader or a crash never sees half a profile.
 * Also the one-line record "cprof run" reads to tell the user what was
 * written (CPROF_REPORT).
 *
 * A destination that exists and is not a regular file (/dev/null, a FIFO,
 * a terminal) is written in place: renaming over it, or renaming it away,
 * would replace the device itself (as root, /dev/null became a regular
 * file for the whole machine).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/profile.h"
#include "runtime/rt.h"

int cprof__write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cprof__write_fd(const struct profile *p, int fd)
{
	uint8_t *buf;
	size_t len;
	cprof__arena_begin(); /* encoding and compressing allocate: not on the program's heap */
	int rc = cprof__profile_encode_gz(p, &buf, &len);
	if (rc == 0) {
		rc = cprof__write_all(fd, buf, len);
		free(buf);
	}
	cprof__arena_end();
	return rc;
}

bool cprof__path_special(const char *path)
{
	struct stat st;
	return path && path[0] && stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

int cprof__open_special(const char *path)
{
	/* Not blocking in open: a FIFO nobody reads fails (ENXIO) instead of hanging the program. */
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

int cprof__write_path(const struct profile *p, const char *path)
{
	if (cprof__path_special(path)) {
		int fd = cprof__open_special(path);
		if (fd < 0)
			return fd;
		int rc = cprof__write_fd(p, fd);
		if (close(fd) != 0 && rc == 0)
			rc = -errno;
		return rc;
	}
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = cprof__write_fd(p, fd);
	if (rc == 0 && fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

void cprof__report(const char *kind, const char *path, const char *fmt, ...)
{
	const char *report = getenv("CPROF_REPORT");
	if (!report || !*report)
		return;
	char abs[PATH_MAX];
	if (path[0] != '/' && getcwd(abs, sizeof abs - strlen(path) - 2)) {
		strcat(abs, "/");
		strcat(abs, path);
		path = abs;
	}
	char line[PATH_MAX + 512];
	int n = snprintf(line, sizeof line, "%s\t%d\t%s\t", kind, (int)getpid(), path);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	int fd = open(report, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t w = write(fd, line, n); /* one write: lines from processes do not interleave */
	(void)w;
	close(fd);
}
