/*
 * fuzz_folded.c - libFuzzer target for the collapsed-stacks reader
 * (src/cli/source/folded.c) behind `cprof pprof`'s folded input.
 *
 * The reader takes a path, so the input is put in a memory file and read
 * through /proc/self/fd. Any input must either be rejected with a one-line
 * reason or become a profile that passes the decoder's checks and encodes
 * and decodes again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/source/source.h"
#include "proto/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_folded: %s%s%s\n", what, err ? ": " : "", err ? err : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("folded", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64], err[512] = "";
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct profile *p = cprof__source_folded_read(path, err, sizeof(err));
	close(fd);
	if (!p) {
		if (!err[0] || strchr(err, '\n'))
			broken("rejected without a one-line reason", err);
		return 0;
	}
	if (cprof__profile_validate(p, err, sizeof(err)) != 0)
		broken("accepted an invalid profile", err);
	uint8_t *enc;
	size_t len;
	if (cprof__profile_encode(p, &enc, &len) != 0)
		broken("encode failed", NULL);
	struct profile *q = cprof__profile_decode(enc, len, err, sizeof(err));
	if (!q)
		broken("re-decode failed", err);
	cprof__profile_free(q);
	free(enc);
	cprof__profile_free(p);
	return 0;
}
