/*
 * pprof_top_gen.c - writes the synthetic profiles of
 * tests/unit/report_profiles.h to files (argv[1] is the directory), for
 * tests/e2e/pprof_top.sh to compare `cprof pprof -top` with `go tool pprof`.
 * Built by that script from the sources of src/proto and src/common.
 */
#include <stdio.h>
#include <stdlib.h>

#include "report_profiles.h"

static int save(const char *dir, const char *name, struct profile *p)
{
	char path[4096];
	uint8_t *data;
	size_t len;
	if (!p || cprof__profile_encode_gz(p, &data, &len) < 0) {
		fprintf(stderr, "pprof_top_gen: %s: out of memory\n", name);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s.pb.gz", dir, name);
	FILE *f = fopen(path, "wb");
	int rc = !f || fwrite(data, 1, len, f) != len;
	if (f && fclose(f) != 0)
		rc = 1;
	if (rc)
		perror(path);
	free(data);
	cprof__profile_free(p);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: pprof_top_gen DIR\n");
		return 2;
	}
	const char *d = argv[1];
	int rc = 0;
	rc |= save(d, "syn-inline", rp_inline());
	rc |= save(d, "syn-negative", rp_negative());
	rc |= save(d, "syn-zero", rp_zero());
	rc |= save(d, "syn-misc", rp_misc());
	rc |= save(d, "syn-hours", rp_hours());
	rc |= save(d, "syn-empty", rp_empty());
	/* A second "inline" profile for merging: other time, duration, comments. */
	struct profile *p = rp_inline();
	if (p) {
		p->time_nanos = 1571600000000000000LL;
		p->duration_nanos = 5000000000LL;
		cprof__profile_add_comment(p, "a second comment");
	}
	rc |= save(d, "syn-inline2", p);
	return rc;
}
