/*
 * fuzz_legacy_text.c - libFuzzer target for pprof's legacy text formats
 * (src/cli/source/legacy_text.c: heap, count, threadz and contention
 * profiles with their memory maps, through rx.c's regular expressions).
 *
 * Any input must either be rejected (not recognized, or with a one-line
 * reason), or become a profile that passes the decoder's checks, with one
 * value per sample type, whose locations all resolve, and which encodes
 * and decodes again. It does not symbolize.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/source/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_legacy_text: %s%s%s\n", what, err ? ": " : "", err ? err : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	bool recognized = true;
	struct profile *p = cprof__source_legacy_text(data, size, &recognized, err, sizeof(err));
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
	/* a Java profile without "resolution" and without samples has none */
	if (p->nsample_type > 4 || (p->nsample_type == 0 && p->nsample > 0))
		broken("not one to four sample types", NULL);
	for (size_t i = 0; i < p->nsample; i++) {
		if (p->sample[i].nvalue != p->nsample_type)
			broken("a sample without one value per type", NULL);
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
