/*
 * folded.c - collapsed stacks ("root;caller;leaf value" lines, as written
 * by Brendan Gregg's stackcollapse scripts or `cprof pprof -folded`) read
 * as a profile: one sample type, samples/count, one function and one
 * location per distinct frame name, one sample per line. load.c calls it
 * for files that are not profile.proto; writing folded stacks is
 * report/folded.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/source/source.h"
#include "proto/profile.h"

/* Frame name -> location id, a small open-addressing table. */
struct frames {
	char **name;
	uint64_t *id;
	size_t cap, len;
};

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int frames_grow(struct frames *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	char **name = calloc(cap, sizeof(*name));
	uint64_t *id = calloc(cap, sizeof(*id));
	if (!name || !id) {
		free(name);
		free(id);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->name[i])
			continue;
		size_t j = hash(t->name[i], strlen(t->name[i])) & (cap - 1);
		while (name[j])
			j = (j + 1) & (cap - 1);
		name[j] = t->name[i];
		id[j] = t->id[i];
	}
	free(t->name);
	free(t->id);
	t->name = name;
	t->id = id;
	t->cap = cap;
	return 0;
}

/* The location id of a frame, adding function and location when new; 0 on out of memory. */
static uint64_t frame_id(struct profile *p, struct frames *t, const char *s, size_t n)
{
	if ((t->len + 1) * 2 > t->cap && frames_grow(t) < 0)
		return 0;
	size_t j = hash(s, n) & (t->cap - 1);
	while (t->name[j]) {
		if (strlen(t->name[j]) == n && memcmp(t->name[j], s, n) == 0)
			return t->id[j];
		j = (j + 1) & (t->cap - 1);
	}
	char *name = strndup(s, n);
	if (!name)
		return 0;
	/* system_name stays empty so that the name is shown exactly as written */
	struct pp_function *fn = cprof__profile_add_function(p, name, "", "", 0);
	if (!fn) {
		free(name);
		return 0;
	}
	struct pp_line line = {.function_id = fn->id};
	struct pp_location *loc = cprof__profile_add_location(p, 0, 0, &line, 1);
	if (!loc) {
		free(name);
		return 0;
	}
	t->name[j] = name;
	t->id[j] = loc->id;
	t->len++;
	return loc->id;
}

/*
 * "frames value": the value is the last space-separated field, a decimal
 * integer; frames are what precedes it, non-empty. Sets *frames_len.
 */
static bool parse_line(const char *s, size_t n, size_t *frames_len, long long *value)
{
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	size_t sp = n;
	while (sp > 0 && s[sp - 1] != ' ')
		sp--;
	if (sp < 2 || sp == n)
		return false;
	char *end;
	char num[32];
	if (n - sp >= sizeof(num))
		return false;
	memcpy(num, s + sp, n - sp);
	num[n - sp] = '\0';
	errno = 0;
	*value = strtoll(num, &end, 10);
	if (errno || *end || num[0] == '+')
		return false;
	size_t fl = sp - 1;
	while (fl > 0 && s[fl - 1] == ' ')
		fl--;
	if (fl == 0)
		return false;
	*frames_len = fl;
	return true;
}

struct profile *cprof__source_folded_read(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct profile *p = cprof__profile_new();
	struct frames t = {0};
	uint64_t *stack = NULL;
	size_t capstack = 0, nlines = 0, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	if (!p || !cprof__profile_add_sample_type(p, "samples", "count"))
		goto oom;
	p->period_type.type = cprof__profile_intern(p, "samples", (size_t)-1);
	p->period_type.unit = cprof__profile_intern(p, "count", (size_t)-1);
	p->period = 1;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (memchr(line, '\0', (size_t)n)) {
			snprintf(err, errlen, "%s: not collapsed stacks (binary data)", path);
			goto fail;
		}
		size_t len = (size_t)n;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0 || line[0] == '#')
			continue;
		size_t fl;
		long long value;
		if (!parse_line(line, len, &fl, &value)) {
			snprintf(err, errlen, "%s:%zu: not a collapsed stack (\"frame;frame;... value\")",
				 path, lineno);
			goto fail;
		}
		/* frames root first; the sample wants the leaf first */
		size_t nf = 0;
		for (size_t i = 0; i <= fl; i++)
			if (i == fl || line[i] == ';')
				nf++;
		if (nf > capstack) {
			uint64_t *s = realloc(stack, nf * 2 * sizeof(*s));
			if (!s)
				goto oom;
			stack = s;
			capstack = nf * 2;
		}
		size_t start = 0, k = nf;
		for (size_t i = 0; i <= fl; i++) {
			if (i < fl && line[i] != ';')
				continue;
			uint64_t id = frame_id(p, &t, line + start, i - start);
			if (!id)
				goto oom;
			stack[--k] = id;
			start = i + 1;
		}
		int64_t v = value;
		if (!cprof__profile_add_sample(p, stack, nf, &v, 1, NULL, 0))
			goto oom;
		nlines++;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (nlines == 0) {
		snprintf(err, errlen, "%s: no collapsed stacks", path);
		goto fail;
	}
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	cprof__profile_free(p);
	p = NULL;
done:
	fclose(f);
	free(line);
	free(stack);
	for (size_t i = 0; i < t.cap; i++)
		free(t.name[i]);
	free(t.name);
	free(t.id);
	return p;
}
