/*
 * trace_names_linked.c - region names the fast path caches by address
 * (tests/e2e/trace_names.sh, also run under valgrind).
 *
 *   trace_names_linked FILE
 *
 * Traces to FILE: for each length 1 to 15, a name in a heap block of
 * exactly its size ("a", "ab", ...), used as a region's name 3 times
 * (the first interns it, the others take the fast path); then one buffer
 * rewritten between uses ("first" -> "other" -> "x"), which must be named
 * by its content each time; then a 20-byte name (too long for the cache).
 * The decoded trace must show exactly these names in this order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cprof.h"

static void region(const char *name)
{
	cprof_region_begin(0, name);
	cprof_region_end();
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: trace_names_linked FILE\n");
		return 2;
	}
	if (cprof_trace_start_path(argv[1]) != 0) {
		fprintf(stderr, "cannot start a trace to %s\n", argv[1]);
		return 1;
	}
	for (int len = 1; len <= 15; len++) {
		char *s = malloc((size_t)len + 1);
		if (!s)
			return 1;
		for (int i = 0; i < len; i++)
			s[i] = (char)('a' + i);
		s[len] = 0;
		for (int k = 0; k < 3; k++)
			region(s);
		free(s);
	}
	char *b = malloc(6);
	if (!b)
		return 1;
	memcpy(b, "first", 6);
	region(b);
	region(b);
	memcpy(b, "other", 6);
	region(b);
	memcpy(b, "x", 2);
	region(b);
	free(b);
	region("a-name-of-20-bytes!!");
	region("a-name-of-20-bytes!!");
	return cprof_trace_stop() == 0 ? 0 : 1;
}
