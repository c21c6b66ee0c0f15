/*
 * keys.h - keys.c's byte-string keys, with which the report engine folds
 * equal mappings, functions, locations and samples as profile.Merge does
 * (graph.c's total, raw.c's compaction). Main thread of the CLI.
 */
#ifndef CPROF_CLI_REPORT_KEYS_H
#define CPROF_CLI_REPORT_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "proto/profile.h"

/*
 * Append bytes, a number (its 8 bytes) or a string with its NUL to a key.
 * Inline, with common/buf.h's append only when the buffer must grow: keys
 * are built field by field for every location and sample of a profile.
 */
static inline void cprof__report_key_put(struct buf *k, const void *p, size_t n)
{
	if (!k->err && k->len + n < k->cap && k->len + n <= k->max) {
		memcpy(k->data + k->len, p, n);
		k->len += n;
		return;
	}
	cprof__buf_append(k, p, n);
}
static inline void cprof__report_key_u64(struct buf *k, uint64_t v)
{
	cprof__report_key_put(k, &v, sizeof(v));
}
static inline void cprof__report_key_str(struct buf *k, const char *s)
{
	cprof__report_key_put(k, s, strlen(s) + 1);
}
/* k emptied, then Function.key / Mapping.key of fn / m. */
void cprof__report_function_key(struct buf *k, const struct profile *p,
				const struct pp_function *fn);
void cprof__report_mapping_key(struct buf *k, const struct profile *p, const struct pp_mapping *m);
/* qsort_r (ctx: the profile) over label pointers: by key, then in place. */
int cprof__report_cmp_label(const void *a, const void *b, void *ctx);

/* Distinct keys, each with a dense id (0, 1, ... in order of first add). */
struct report_keyset {
	char **s;
	size_t *len;
	uint64_t *hash;
	size_t n, cap;
	size_t *slot; /* index + 1, 0 = empty */
	size_t nslot;
};
/*
 * The id of key k's bytes (copied when new; *added, when not NULL, says
 * so). SIZE_MAX on out of memory, also when k->err is set.
 */
size_t cprof__report_keyset_add(struct report_keyset *ks, const struct buf *k, bool *added);
void cprof__report_keyset_release(struct report_keyset *ks);

#endif
