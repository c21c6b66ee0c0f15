/*
 * fuzz_profile.c - libFuzzer target for the profile.proto decoder
 * (src/proto/profile.c, pb.c, gz.c).
 *
 * Any input must either be rejected with a one-line reason, or decode into
 * a profile whose lookups resolve, which re-encodes, decodes again, and
 * re-encodes to the same bytes. A broken property aborts, which the fuzzer
 * and fuzz/replay.c report. It does not test report generation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_profile: %s%s%s\n", what, err ? ": " : "", err ? err : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	struct profile *p, *q;
	uint8_t *a, *b;
	size_t alen, blen, i, j;

	p = cprof__profile_decode(data, size, err, sizeof(err));
	if (!p) {
		if (!err[0] || strchr(err, '\n'))
			broken("rejected without a one-line reason", err);
		return 0;
	}
	for (i = 0; i < p->nsample; i++)
		for (j = 0; j < p->sample[i].nlocation; j++)
			if (!cprof__profile_location(p, p->sample[i].location_id[j]))
				broken("accepted sample location does not resolve", NULL);
	for (i = 0; i < p->nlocation; i++)
		for (j = 0; j < p->location[i].nline; j++)
			if (!cprof__profile_function(p, p->location[i].line[j].function_id))
				broken("accepted line function does not resolve", NULL);
	if (cprof__profile_encode(p, &a, &alen))
		broken("encode failed", NULL);
	q = cprof__profile_decode(a, alen, err, sizeof(err));
	if (!q)
		broken("re-encoded profile does not decode", err);
	if (cprof__profile_encode(q, &b, &blen))
		broken("second encode failed", NULL);
	if (alen != blen || memcmp(a, b, alen))
		broken("encode(decode(encode(p))) differs from encode(p)", NULL);
	free(a);
	free(b);
	cprof__profile_free(q);
	cprof__profile_free(p);
	return 0;
}
