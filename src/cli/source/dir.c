/*
 * dir.c - a directory of the continuous collector's local store as a
 * source of `cprof pprof`: the files named SERVICE.KIND.YYYYMMDDTHHMMSSZ.
 * PID.SEQ.pb.gz (docs/FORMAT.md) whose period started inside a time window,
 * of one kind and optionally one service, listed oldest first so that the
 * caller loads and merges them ("the heap over the last hour").
 *
 * It only lists; loading and merging are the caller's.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/source/source.h"

/* Split a stored name; false when it is not one. */
static bool parse_name(const char *name, char *svc, size_t svclen, char *kind, size_t kindlen, time_t *start)
{
	size_t n = strlen(name);
	if (n < 6 || strcmp(name + n - 6, ".pb.gz") != 0 || n - 6 >= 512)
		return false;
	char b[512];
	memcpy(b, name, n - 6);
	b[n - 6] = 0;
	char *f[5];
	int nf = 0;
	char *save = NULL;
	for (char *t = strtok_r(b, ".", &save); t && nf < 6; t = strtok_r(NULL, ".", &save))
		if (nf < 5)
			f[nf++] = t;
		else
			nf++;
	if (nf != 5)
		return false;
	struct tm tm = {0};
	char *end = strptime(f[2], "%Y%m%dT%H%M%SZ", &tm);
	if (!end || *end)
		return false;
	for (int i = 3; i < 5; i++)
		for (const char *p = f[i]; *p; p++)
			if (*p < '0' || *p > '9')
				return false;
	snprintf(svc, svclen, "%s", f[0]);
	snprintf(kind, kindlen, "%s", f[1]);
	*start = timegm(&tm);
	return true;
}

int cprof__source_time(const char *v, time_t now, time_t *out)
{
	struct tm tm = {0};
	const char *end = strptime(v, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof tm);
		end = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
	}
	if (end && !*end) {
		*out = timegm(&tm);
		return 0;
	}
	char *e;
	errno = 0;
	double n = strtod(v, &e);
	if (errno || e == v || n < 0)
		return -EINVAL;
	double mul = strcmp(e, "s") == 0 ? 1 : strcmp(e, "m") == 0 ? 60 : strcmp(e, "h") == 0 ? 3600 :
		     strcmp(e, "d") == 0 ? 86400 : -1;
	if (mul < 0)
		return -EINVAL;
	*out = now - (time_t)(n * mul);
	return 0;
}

static int by_name_time(const void *a, const void *b)
{
	const struct dir_entry *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start ? 1 : strcmp(x->path, y->path);
}

int cprof__source_dir_list(const char *dir, const struct dir_filter *f, struct dir_entry **out, size_t *n,
			   char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	char want_svc[256] = "";
	if (f->service) {
		snprintf(want_svc, sizeof want_svc, "%s", f->service);
		for (char *p = want_svc; *p; p++)
			if (*p == '.' || *p == '/')
				*p = '_';
	}
	size_t cap = 0;
	char kinds[256] = "";
	struct dirent *e;
	while ((e = readdir(d))) {
		char svc[256], kind[64];
		time_t start;
		if (!parse_name(e->d_name, svc, sizeof svc, kind, sizeof kind, &start))
			continue;
		if (f->service && strcmp(svc, want_svc) != 0)
			continue;
		if (start < f->since || start >= f->until)
			continue;
		if (strcmp(kind, f->kind) != 0) {
			if (!strstr(kinds, kind) && strlen(kinds) + strlen(kind) + 3 < sizeof kinds)
				snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s", kinds[0] ? ", " : "",
					 kind);
			continue;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			struct dir_entry *v = realloc(*out, cap * sizeof **out);
			if (!v) {
				closedir(d);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			*out = v;
		}
		snprintf((*out)[*n].path, sizeof (*out)[*n].path, "%s/%s", dir, e->d_name);
		(*out)[*n].start = start;
		(*n)++;
	}
	closedir(d);
	if (*n == 0) {
		snprintf(err, errlen, "no %s profiles%s%s in the window%s%s (stored files are named "
			 "SERVICE.KIND.YYYYMMDDTHHMMSSZ.PID.SEQ.pb.gz; choose the kind with -kind)",
			 f->kind, f->service ? " of service " : "", f->service ? f->service : "",
			 kinds[0] ? "; there are " : "", kinds);
		return -1;
	}
	qsort(*out, *n, sizeof **out, by_name_time);
	return 0;
}
