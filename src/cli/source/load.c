/*
 * load.c - one profile source of `cprof pprof`, start to end: decide
 * whether it is a URL (cmd/pprof's adjustURL runs first, so "host:port"
 * is fetched even if a file of that name exists) or a file, parse the
 * bytes (profile.proto, else gperftools' legacy CPU format, else pprof's
 * legacy text formats, else a collapsed-stacks text), find local
 * binaries, symbolize, and save fetched profiles under $PPROF_TMPDIR.
 *
 * It owns the dispatch and the saved copy; the formats, the HTTP client
 * and the symbolizers live in legacy.c, legacy_text.c, folded.c, fetch.c,
 * symbolize.c, symbolz.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/source/source.h"

#define MAX_PROFILE ((size_t)1 << 30)

void cprof__source_options_init(struct source_options *o)
{
	memset(o, 0, sizeof(*o));
	o->symbolize = "";
	o->seconds = -1;
	o->timeout = -1;
}

static bool is_elf(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char m[4];
	bool ok = read(fd, m, 4) == 4 && memcmp(m, "\177ELF", 4) == 0;
	close(fd);
	return ok;
}

int cprof__source_take_binary(char *const *args, int nargs, struct source_options *o)
{
	if (nargs < 2)
		return 0;
	const char *a = args[0];
	if (is_elf(a)) {
		o->exec_name = a;
	} else if (!o->build_id && strspn(a, "0123456789abcdefABCDEF") == strlen(a)) {
		o->build_id = a;
	} else {
		return 0;
	}
	return 1;
}

/*
 * cprof__source_parse; when owned is not NULL, *owned holds data and is
 * freed (and set to NULL) as soon as the gunzipped bytes replace it, so
 * that both are never held while decoding.
 */
static struct profile *parse(const uint8_t *data, size_t len, uint8_t **owned, char *err,
			     size_t errlen)
{
	uint8_t *raw = NULL;
	size_t rawlen = len;
	const uint8_t *b = data;
	if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		int rc = cprof__gunzip(data, len, MAX_PROFILE, &raw, &rawlen);
		if (rc < 0) {
			snprintf(err, errlen, "decompressing profile: %s",
				 rc == -EFBIG ? "larger than 1 GiB" : rc == -ENOMEM ? "out of memory"
				 : "not valid gzip data");
			return NULL;
		}
		b = raw;
		if (owned) {
			free(*owned);
			*owned = NULL;
		}
	}
	if (rawlen == 0) {
		free(raw);
		snprintf(err, errlen, "parsing profile: empty input file");
		return NULL;
	}
	char perr[512];
	struct profile *p = cprof__profile_decode_uncompressed(b, rawlen, perr, sizeof(perr));
	if (!p) {
		bool recognized;
		p = cprof__source_legacy_cpu(b, rawlen, &recognized, err, errlen);
		if (!p && !recognized)
			p = cprof__source_legacy_text(b, rawlen, &recognized, err, errlen);
		if (!p && !recognized)
			snprintf(err, errlen, "parsing profile: unrecognized profile format (as profile.proto: %s)",
				 perr);
	}
	free(raw);
	return p;
}

struct profile *cprof__source_parse(const uint8_t *data, size_t len, char *err, size_t errlen)
{
	return parse(data, len, NULL, err, errlen);
}

static int read_all(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			uint8_t *nb = cap <= MAX_PROFILE ? realloc(buf, cap) : NULL;
			if (!nb) {
				free(buf);
				close(fd);
				snprintf(err, errlen, "read %s: %s", path,
					 cap > MAX_PROFILE ? "larger than 1 GiB" : "out of memory");
				return -1;
			}
			buf = nb;
		}
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "read %s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

/* symbolizer.Symbolize's mode string. */
static void sym_mode(const char *mode, bool *local, bool *remote, bool *force)
{
	*local = *remote = true;
	*force = false;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", mode ? mode : "");
	char *save = NULL;
	for (char *o = strtok_r(buf, ":", &save); o; o = strtok_r(NULL, ":", &save)) {
		if (!strcasecmp(o, "none") || !strcasecmp(o, "no")) {
			*local = *remote = false;
			return;
		} else if (!strcasecmp(o, "local") || !strcasecmp(o, "fastlocal")) {
			*remote = false, *local = true;
		} else if (!strcasecmp(o, "remote")) {
			*remote = true, *local = false;
		} else if (!strcasecmp(o, "force")) {
			*force = true;
		} else if (!strncasecmp(o, "demangle=", 9)) {
			if (strcasecmp(o + 9, "default"))
				*force = true;
		} else {
			fprintf(stderr, "ignoring unrecognized symbolization option: %s\n"
				"expecting -symbolize=[local|fastlocal|remote|none][:force]"
				"[:demangle=[none|full|templates|default]\n", mode);
		}
	}
}

struct profile *cprof__source_load(const char *src, const struct source_options *o,
				   bool *remote, char *err, size_t errlen)
{
	char *url = NULL;
	long long timeout, duration;
	uint8_t *data = NULL;
	size_t len = 0;
	struct profile *p = NULL;
	*remote = false;
	if (cprof__source_adjust_url(src, o->seconds, o->timeout, &url, &timeout, &duration) == 0) {
		fprintf(stderr, "Fetching profile over HTTP from %s\n", url);
		if (duration > 0) {
			if (duration >= 60)
				fprintf(stderr, "Please wait... (%lldm%llds)\n", duration / 60, duration % 60);
			else
				fprintf(stderr, "Please wait... (%llds)\n", duration);
		}
		if (cprof__source_http_get(url, timeout, &data, &len, err, errlen) < 0) {
			free(url);
			return NULL;
		}
		*remote = true;
	} else if (read_all(src, &data, &len, err, errlen) < 0) {
		return NULL;
	}
	p = parse(data, len, &data, err, errlen);
	free(data);
	if (!p && !*remote) {
		/* not a profile: maybe collapsed stacks ("a;b;c 10" lines) */
		char ferr[512];
		p = cprof__source_folded_read(src, ferr, sizeof(ferr));
	}
	if (p) {
		char verr[512];
		if (cprof__profile_validate(p, verr, sizeof(verr)) < 0) {
			snprintf(err, errlen, "malformed profile: %s", verr);
			cprof__profile_free(p);
			p = NULL;
		}
	}
	if (!p) {
		free(url);
		return NULL;
	}
	if (cprof__source_locate(p, o) < 0)
		goto oom;
	bool local, rem, force;
	sym_mode(o->symbolize, &local, &rem, &force);
	if (local && cprof__source_symbolize_local(p, force) < 0)
		goto oom;
	if (rem && url && cprof__source_symbolize_remote(p, url, force, err, errlen) < 0) {
		free(url);
		cprof__profile_free(p);
		return NULL;
	}
	free(url);
	return p;
oom:
	free(url);
	cprof__profile_free(p);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* Valid %XX escapes from s up to end (url.unescape's first check). */
static bool escapes_ok(const char *s, const char *end)
{
	for (; s < end; s++)
		if (*s == '%' && !(end - s >= 3 && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])))
			return false;
	return true;
}

/*
 * Whether url.Parse(f) succeeds with a scheme (an absolute URL). The
 * checks that matter for mapping names: the scheme's characters, no
 * control characters, valid escapes in the fragment and, for
 * hierarchical URLs, in the path, and a numeric port.
 */
static bool absolute_url(const char *f)
{
	size_t i = 0;
	if (!isalpha((unsigned char)f[0]))
		return false;
	while (isalnum((unsigned char)f[i]) || f[i] == '+' || f[i] == '-' || f[i] == '.')
		i++;
	if (f[i] != ':')
		return false;
	for (const char *c = f; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	const char *rest = f + i + 1, *hash = strchr(rest, '#');
	const char *end = hash ? hash : rest + strlen(rest);
	if (hash && !escapes_ok(hash + 1, hash + strlen(hash)))
		return false;
	if (rest[0] != '/')
		return true; /* opaque: taken as it is */
	const char *q = memchr(rest, '?', (size_t)(end - rest));
	if (q)
		end = q;
	if (rest[1] == '/') {
		const char *auth = rest + 2, *slash = memchr(auth, '/', (size_t)(end - auth));
		const char *aend = slash ? slash : end, *at = NULL;
		for (const char *c = auth; c < aend; c++)
			if (*c == '@')
				at = c;
		const char *host = at ? at + 1 : auth, *colon = NULL;
		for (const char *c = auth; at && c < at; c++)
			if (!isalnum((unsigned char)*c) && (unsigned char)*c < 0x80 && !strchr("-._:~!$&'()*+,;=%@", *c))
				return false;
		for (const char *c = host; c < aend; c++)
			if (!isalnum((unsigned char)*c) && (unsigned char)*c < 0x80 && !strchr("-_.~!$&'()*+,;=:[]<>\"%", *c))
				return false;
		if (!escapes_ok(host, aend))
			return false;
		if (host < aend && *host == '[') {
			const char *rb = memchr(host, ']', (size_t)(aend - host));
			if (!rb)
				return false;
			colon = rb + 1 < aend ? rb + 1 : NULL;
			if (colon && *colon != ':')
				return false;
		} else {
			colon = memrchr(host, ':', (size_t)(aend - host));
		}
		for (const char *c = colon ? colon + 1 : aend; c < aend; c++)
			if (!isdigit((unsigned char)*c))
				return false;
		rest = aend;
	}
	return escapes_ok(rest, end);
}

void cprof__source_unsource(struct profile *p)
{
	for (size_t i = 0; i < p->nmapping; i++) {
		struct pp_mapping *m = &p->mapping[i];
		if (!cprof__profile_str(p, m->build_id)[0] && absolute_url(cprof__profile_str(p, m->filename)))
			m->filename = 0;
	}
}

static int mkdir_p(const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int cprof__source_save(const struct profile *p)
{
	const char *dirs[3];
	char home[4096];
	size_t nd = 0;
	const char *e = getenv("PPROF_TMPDIR");
	if (e && *e)
		dirs[nd++] = e;
	e = getenv("HOME");
	if (e && *e) {
		snprintf(home, sizeof(home), "%s/pprof", e);
		dirs[nd++] = home;
	}
	e = getenv("TMPDIR");
	dirs[nd++] = e && *e ? e : "/tmp";
	const char *dir = NULL;
	for (size_t i = 0; i < nd && !dir; i++) {
		if (mkdir_p(dirs[i]) < 0)
			fprintf(stderr, "Could not use temp dir %s: mkdir %s: %s\n", dirs[i], dirs[i],
				strerror(errno));
		else
			dir = dirs[i];
	}
	if (!dir) {
		fprintf(stderr, "failed to identify temp dir\n");
		return -1;
	}
	char prefix[1024] = "pprof.";
	size_t pl = strlen(prefix);
	if (p->nmapping > 0) {
		const char *f = cprof__profile_str(p, p->mapping[0].filename);
		if (*f) {
			/* filepath.Base */
			char tmp[1024];
			snprintf(tmp, sizeof(tmp), "%s", f);
			size_t n = strlen(tmp);
			while (n > 1 && tmp[n - 1] == '/')
				tmp[--n] = '\0';
			const char *base = strrchr(tmp, '/');
			base = base && base[1] ? base + 1 : tmp;
			pl += (size_t)snprintf(prefix + pl, sizeof(prefix) - pl, "%s.", base);
		}
	}
	for (size_t i = 0; i < p->nsample_type && pl < sizeof(prefix); i++)
		pl += (size_t)snprintf(prefix + pl, sizeof(prefix) - pl, "%s.",
				       cprof__profile_str(p, p->sample_type[i].type));
	uint8_t *buf;
	size_t len;
	if (cprof__profile_encode_gz(p, &buf, &len) < 0) {
		fprintf(stderr, "Could not save profile: out of memory\n");
		return -1;
	}
	char path[8192];
	int fd = -1;
	for (int i = 1; i < 10000; i++) {
		snprintf(path, sizeof(path), "%s/%s%03d.pb.gz", dir, prefix, i);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		fprintf(stderr, "Could not save profile: open %s: %s\n", path, strerror(errno));
		free(buf);
		return -1;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "Could not save profile: write %s: %s\n", path, strerror(errno));
			close(fd);
			free(buf);
			return -1;
		}
		off += (size_t)w;
	}
	free(buf);
	if (close(fd) < 0) {
		fprintf(stderr, "Could not save profile: close %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(stderr, "Saved profile in %s\n", path);
	return 0;
}
