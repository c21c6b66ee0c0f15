/*
 * hash.h - the hash functions the tables of the CLI share: a 64-bit mixer
 * for integer and pointer keys, and FNV-1a for strings. Header-only
 * (static inline): they sit in lookup loops. Any context, no state.
 */
#ifndef CPROF_COMMON_HASH_H
#define CPROF_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a's offset basis: the seed of cprof__hash_bytes for a fresh hash. */
#define CPROF_HASH_SEED 1469598103934665603ULL

/*
 * MurmurHash3's 64-bit finalizer: every input bit moves every output bit,
 * so masking the low bits of the result makes a good table index for keys
 * that differ only in high bits (pointers, ids shifted into place). It is
 * a bijection: distinct keys stay distinct.
 */
static inline uint64_t cprof__hash_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* FNV-1a over n bytes, continuing from h (CPROF_HASH_SEED for a fresh one). */
static inline uint64_t cprof__hash_bytes(const void *s, size_t n, uint64_t h)
{
	const unsigned char *p = s;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* FNV-1a over a NUL-terminated string. */
static inline uint64_t cprof__hash_str(const char *s)
{
	uint64_t h = CPROF_HASH_SEED;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

#endif
