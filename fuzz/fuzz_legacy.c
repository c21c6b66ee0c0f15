/*
 * fuzz_legacy.c - libFuzzer target for the gperftools legacy CPU profile
 * reader (src/cli/source/legacy.c) behind `cprof pprof`.
 *
 * Any input must either be rejected (not recognized, or with a one-line
 * reason), or become a profile that passes the decoder's checks, whose
 * samples have two values (count, count * period) and whose locations all
 * resolve, and which encodes and decodes again. It does not symbolize.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/source/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_legacy: %s%s%s\n", what, err ? ": " : "", err ? err : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	bool recognized = true;
	struct profile *p = cprof__source_legacy_cpu(data, size, &recognized, err, sizeof(err));
	uint8_t *enc;
	size_t len;

	if (!p) {
		if (recognized && (!err[0] || strchr(err, '\n')))
			broken("rejected without a one-line reason", err);
		return 0;
	}
	if (!recognized)
		broken("a profile from an unrecognized input", NULL);
	if (cprof__profile_validate(p, err, sizeof(err)) < 0)
		broken("profile fails validation", err);
	if (p->nsample_type != 2)
		broken("not samples/count + cpu/nanoseconds", NULL);
	for (size_t i = 0; i < p->nsample; i++) {
		if (p->sample[i].nvalue != 2 ||
		    (uint64_t)p->sample[i].value[1] != (uint64_t)p->sample[i].value[0] * (uint64_t)p->period)
			broken("sample values are not count, count * period", NULL);
		for (size_t j = 0; j < p->sample[i].nlocation; j++)
			if (!cprof__profile_location(p, p->sample[i].location_id[j]))
				broken("sample location does not resolve", NULL);
	}
	if (cprof__profile_encode(p, &enc, &len))
		broken("encode failed", NULL);
	struct profile *q = cprof__profile_decode(enc, len, err, sizeof(err));
	if (!q)
		broken("encoded profile does not decode", err);
	cprof__profile_free(q);
	free(enc);
	cprof__profile_free(p);
	return 0;
}
