/*
 * folded.c - `-folded`: Brendan Gregg's collapsed stacks, one line per
 * distinct stack, "root;caller;leaf value", sorted, for flamegraph.pl,
 * speedscope and friends. Frames are the report's nodes at its granularity
 * (function names by default), inlined frames included; equal stacks are
 * summed, zero sums left out. Reading such files is source/folded.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"

struct line {
	char *stack;
	int64_t value;
};

/* NodeInfo.PrintableName with ';' (the frame separator) and newlines replaced. */
static char *frame_name(const struct rnode_info *i)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	const char *sep = "";
	if (i->address) {
		fprintf(f, "%016llx", (unsigned long long)i->address);
		sep = " ";
	}
	if (i->name[0]) {
		fprintf(f, "%s%s", sep, i->name);
		sep = " ";
	}
	if (i->lineno)
		fprintf(f, "%s%s:%lld", sep, i->file, (long long)i->lineno);
	else if (i->file[0])
		fprintf(f, "%s%s", sep, i->file);
	else if (i->name[0])
		;
	else if (i->objfile[0])
		fprintf(f, "%s[%s]", sep, strrchr(i->objfile, '/') ? strrchr(i->objfile, '/') + 1 : i->objfile);
	else
		fprintf(f, "%s<unknown>", sep);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	for (char *c = s; *c; c++)
		if (*c == ';' || *c == '\n')
			*c = *c == ';' ? ':' : ' ';
	return s;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->stack, ((const struct line *)b)->stack);
}

int cprof__report_folded(struct report *r, FILE *out)
{
	const struct profile *p = r->prof;
	size_t nk = cprof__rview_nkeys(r->view);
	char **names = calloc(nk + 1, sizeof(char *));
	struct line *lines = calloc(p->nsample + 1, sizeof(*lines));
	size_t nlines = 0;
	int rc = -ENOMEM;
	if (!names || !lines)
		goto out;
	for (size_t k = 0; k < nk; k++)
		if (!(names[k] = frame_name(cprof__rview_key_info(r->view, k))))
			goto out;
	for (size_t s = 0; s < p->nsample; s++) {
		const struct pp_sample *sm = &p->sample[s];
		if ((size_t)r->value_index >= sm->nvalue)
			continue;
		int64_t v = sm->value[r->value_index];
		if (r->opt.mean && sm->value[0] != 0)
			v /= sm->value[0];
		char *stack = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&stack, &len);
		if (!f)
			goto out;
		bool first = true;
		for (size_t i = sm->nlocation; i-- > 0;) {
			const struct pp_location *loc = cprof__profile_location(p, sm->location_id[i]);
			if (!loc)
				continue;
			size_t n;
			const size_t *keys = cprof__rview_loc_keys(r->view, (size_t)(loc - p->location), &n);
			for (size_t j = n; j-- > 0;) {
				fprintf(f, "%s%s", first ? "" : ";", names[keys[j]]);
				first = false;
			}
		}
		if (fclose(f) != 0) {
			free(stack);
			goto out;
		}
		if (first) { /* no frames */
			free(stack);
			continue;
		}
		lines[nlines++] = (struct line){stack, v};
	}
	qsort(lines, nlines, sizeof(*lines), cmp_line);
	double ratio = 1 / r->opt.divide_by;
	for (size_t i = 0; i < nlines;) {
		size_t j = i;
		int64_t sum = 0;
		for (; j < nlines && strcmp(lines[j].stack, lines[i].stack) == 0; j++)
			sum += lines[j].value;
		if (ratio > 0 && ratio != 1)
			sum = (int64_t)((double)sum * ratio);
		if (sum != 0)
			fprintf(out, "%s %lld\n", lines[i].stack, (long long)sum);
		i = j;
	}
	rc = ferror(out) ? -EIO : 0;
out:
	if (names)
		for (size_t k = 0; k < nk; k++)
			free(names[k]);
	free(names);
	if (lines)
		for (size_t i = 0; i < nlines; i++)
			free(lines[i].stack);
	free(lines);
	return rc;
}
