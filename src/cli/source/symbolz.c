/*
 * symbolz.c - remote symbolization, as pprof's symbolz package does it:
 * for a profile fetched from .../debug/pprof/<name> the addresses of each
 * mapping without function names are POSTed as "0x1+0x2+..." to
 * .../debug/pprof/symbol (gperftools-style paths too; else /symbolz), and
 * every "0x<addr> <name>" line of the answer names the locations at that
 * address. It owns no HTTP code (fetch.c) and no file symbolization.
 *
 * pprof builds the symbol URL without the profile URL's query, so an
 * endpoint that wants its token as token=<t> (cprof's, with
 * CPROF_HTTP_TOKEN) refuses the symbol request. Here a token= parameter of
 * the profile URL goes to the symbol URL too: same host, same token.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/source/source.h"

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n >= k && memcmp(s + n - k, suf, k) == 0;
}

/* The "token=..." parameter of url's query (up to '&' or '#'), and its length; NULL when none. */
static const char *token_param(const char *url, size_t *len)
{
	const char *q = strchr(url, '?');
	const char *end = q ? q + strcspn(q, "#") : NULL;
	for (const char *s = q ? q + 1 : NULL; s && s < end;) {
		size_t n = strcspn(s, "&#");
		if (n > 6 && strncmp(s, "token=", 6) == 0) {
			*len = n;
			return s;
		}
		s += n;
		if (*s != '&')
			break;
		s++;
	}
	return NULL;
}

/* The symbolz URL for a profile URL; malloc'd, NULL when none. */
static char *symbolz_url(const char *src)
{
	const char *hs = strstr(src, "://");
	if (!hs || !hs[3])
		return NULL;
	hs += 3;
	const char *path = strchr(hs, '/');
	size_t plen = 0;
	if (path) {
		const char *q = strpbrk(path, "?#");
		plen = q ? (size_t)(q - path) : strlen(path);
	}
	size_t hostend = path ? (size_t)(path - src) : strcspn(src, "?#");
	size_t tlen = 0;
	const char *token = token_param(src, &tlen);
	char *out = malloc(hostend + plen + tlen + 32);
	if (!out)
		return NULL;
	static const char *const gperf[] = {"/pprof/heap", "/pprof/growth", "/pprof/profile",
					    "/pprof/pmuprofile", "/pprof/contention"};
	bool dir = path && (memmem(path, plen, "/debug/pprof/", 13) != NULL);
	for (size_t i = 0; i < 5 && path && !dir; i++)
		dir = has_suffix(path, plen, gperf[i]);
	if (dir) {
		/* path.Clean(path + "/../symbol"): drop the last element */
		size_t k = plen;
		while (k > 0 && path[k - 1] == '/')
			k--;
		while (k > 0 && path[k - 1] != '/')
			k--;
		sprintf(out, "%.*s%.*ssymbol", (int)hostend, src, (int)k, path);
	} else {
		sprintf(out, "%.*s/symbolz", (int)hostend, src);
	}
	if (token)
		sprintf(out + strlen(out), "?%.*s", (int)tlen, token);
	return out;
}

static int symbolize_mapping(struct profile *p, struct pp_mapping *m, const char *url, char *err, size_t errlen)
{
	size_t cap = 4096, len = 0;
	char *q = malloc(cap);
	if (!q)
		return -ENOMEM;
	q[0] = '\0';
	for (size_t i = 0; i < p->nlocation; i++) {
		struct pp_location *l = &p->location[i];
		if (l->mapping_id != m->id || l->address == 0 || l->nline)
			continue;
		if (len + 24 >= cap) {
			char *nq = realloc(q, cap *= 2);
			if (!nq) {
				free(q);
				return -ENOMEM;
			}
			q = nq;
		}
		len += (size_t)sprintf(q + len, "%s0x%" PRIx64, len ? "+" : "", l->address);
	}
	if (len == 0) {
		free(q);
		return 0;
	}
	uint8_t *body;
	size_t blen;
	int rc = cprof__source_http_post(url, q, &body, &blen, err, errlen);
	free(q);
	if (rc < 0)
		return -1;
	/* Lines "0x<hex><space>name"; the regexp finds the first 0x anywhere. */
	uint64_t *fids = NULL;
	size_t nf = 0;
	char *s = (char *)body;
	for (char *nl; (nl = memchr(s, '\n', blen - (size_t)(s - (char *)body))) != NULL; s = nl + 1) {
		*nl = '\0';
		char *x = s;
		for (; (x = strstr(x, "0x")) != NULL; x++) {
			if (isxdigit((unsigned char)x[2]))
				break;
		}
		if (!x)
			continue;
		char *e = x + 2;
		while (isxdigit((unsigned char)*e))
			e++;
		if (!isspace((unsigned char)*e))
			continue;
		char *name = e;
		while (*name && isspace((unsigned char)*name))
			name++;
		/* \s+ is greedy but (.*) may be empty; a trailing \r stays in the name as in Go */
		char save = *e;
		*e = '\0';
		errno = 0;
		uint64_t addr = strtoull(x, NULL, 16);
		*e = save;
		if (errno) {
			snprintf(err, errlen, "unexpected parse failure %.*s", (int)(e - x), x);
			free(body);
			return -1;
		}
		struct pp_function *f = NULL;
		for (size_t k = 0; k < nf; k++) {
			const struct pp_function *g = cprof__profile_function(p, fids[k]);
			if (g && strcmp(cprof__profile_str(p, g->name), name) == 0)
				f = (struct pp_function *)g;
		}
		uint64_t fid = f ? f->id : 0;
		if (!f) {
			uint64_t *nfids = realloc(fids, (nf + 1) * sizeof(*fids));
			f = nfids ? cprof__profile_add_function(p, name, name, "", 0) : NULL;
			if (nfids)
				fids = nfids;
			if (!f) {
				free(fids);
				free(body);
				return -ENOMEM;
			}
			fid = f->id;
			fids[nf++] = fid;
		}
		for (size_t i = 0; i < p->nlocation; i++) {
			struct pp_location *l = &p->location[i];
			if (l->mapping_id != m->id || l->address != addr)
				continue;
			struct pp_line *ln = calloc(1, sizeof(*ln));
			if (!ln) {
				free(fids);
				free(body);
				return -ENOMEM;
			}
			ln->function_id = fid;
			free(l->line);
			l->line = ln;
			l->nline = 1;
		}
	}
	free(fids);
	free(body);
	return 0;
}

int cprof__source_symbolize_remote(struct profile *p, const char *source_url, bool force,
				   char *err, size_t errlen)
{
	char *url = symbolz_url(source_url);
	if (!url)
		return 0;
	for (size_t i = 0; i < p->nmapping; i++) {
		struct pp_mapping *m = &p->mapping[i];
		if (!force && m->has_functions)
			continue;
		if (cprof__source_unsymbolizable(cprof__profile_str(p, m->filename)))
			continue;
		int rc = symbolize_mapping(p, m, url, err, errlen);
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		if (rc < 0) {
			free(url);
			return -1;
		}
		m->has_functions = true;
	}
	free(url);
	return 0;
}
