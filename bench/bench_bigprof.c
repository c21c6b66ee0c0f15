/*
 * bench_bigprof.c - writes a large, realistic CPU profile (profile.proto,
 * uncompressed, on stdout) for bench/pprof_bench.sh, which gzips it and
 * times `cprof pprof` and `go tool pprof` reading it.
 *
 * Shape (defaults): 1,000,000 CPU samples (10 ms each) over 100,000
 * distinct stacks 10 to 40 frames deep, as the Go runtime writes them:
 * one Sample message per (stack, labels) with the stack's count, so about
 * 120,000 messages. Stacks share prefixes the way real call trees do (a
 * new stack extends a random prefix of an earlier one), frames come from
 * 3,000 functions in 400 files with a skewed (Zipf-like) popularity, each
 * function has up to 12 lines with a location each, one location in ten
 * carries an inlined frame, and one sample in five has a pprof label.
 * The output is deterministic for given flags (a fixed xorshift seed).
 *
 * It owns only this generator: no cprof code is linked, so it measures
 * nothing of ours by construction (the encoder here is a few lines of
 * protobuf varints).
 *
 * Usage: bench_bigprof [-n samples] [-s stacks] [-f functions] > big.pb
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a growable byte buffer and protobuf's wire format ---- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void reserve(struct buf *b, size_t more)
{
	if (b->n + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap * 2 : 4096;
	while (cap < b->n + more)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (!b->p) {
		fprintf(stderr, "bench_bigprof: out of memory\n");
		exit(1);
	}
	b->cap = cap;
}

static void put_varint(struct buf *b, uint64_t v)
{
	reserve(b, 10);
	while (v >= 0x80) {
		b->p[b->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->n++] = (uint8_t)v;
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void field_varint(struct buf *b, int field, uint64_t v)
{
	put_varint(b, (uint64_t)field << 3);
	put_varint(b, v);
}

static void field_bytes(struct buf *b, int field, const void *p, size_t n)
{
	put_varint(b, (uint64_t)field << 3 | 2);
	put_varint(b, n);
	put_bytes(b, p, n);
}

static void field_msg(struct buf *b, int field, struct buf *m)
{
	field_bytes(b, field, m->p, m->n);
	m->n = 0;
}

/* ---- deterministic randomness ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(next() % n);
}

/* Zipf-like: index i with weight ~ 1/(i+1), by inverting the log. */
static uint32_t skewed(uint32_t n)
{
	double u = (double)(next() >> 11) / 9007199254740992.0;
	uint32_t i = (uint32_t)(exp(u * log((double)n + 1)) - 1);
	return i < n ? i : n - 1;
}

/* ---- the string table ---- */

static struct buf strtab;
static uint32_t nstrings;

static uint32_t str(const char *s)
{
	field_bytes(&strtab, 6, s, strlen(s));
	return nstrings++;
}

int main(int argc, char **argv)
{
	long nsamples = 1000000, nstacks = 100000, nfuncs = 3000;
	int opt;
	while ((opt = getopt(argc, argv, "n:s:f:")) != -1) {
		switch (opt) {
		case 'n': nsamples = atol(optarg); break;
		case 's': nstacks = atol(optarg); break;
		case 'f': nfuncs = atol(optarg); break;
		default:
			fprintf(stderr, "usage: bench_bigprof [-n samples] [-s stacks] [-f functions] > big.pb\n");
			return 2;
		}
	}
	if (nsamples < nstacks || nstacks < 1 || nfuncs < 50) {
		fprintf(stderr, "bench_bigprof: need samples >= stacks >= 1 and functions >= 50\n");
		return 2;
	}
	const long nfiles = nfuncs / 7 + 1, lines_per_func = 12;
	struct buf out = {0}, m = {0}, sub = {0}, packed = {0};
	char name[256];

	str("");
	uint32_t s_samples = str("samples"), s_count = str("count"), s_cpu = str("cpu"),
		 s_ns = str("nanoseconds"), s_bin = str("/usr/local/bin/bigserver"),
		 s_label = str("handler");
	uint32_t s_lv[4];
	for (int i = 0; i < 4; i++) {
		static const char *const v[] = {"/api/v1/query", "/api/v1/write", "/metrics", "/debug"};
		s_lv[i] = str(v[i]);
	}

	/* Files and functions: Go-like package paths and method names. */
	uint32_t *file_s = malloc(sizeof(uint32_t) * (size_t)nfiles);
	uint32_t *func_file = malloc(sizeof(uint32_t) * (size_t)nfuncs);
	for (long i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "/src/github.com/example/bigserver/svc%ld/pkg%ld/file%ld.go",
			 i % 23, i % 61, i);
		file_s[i] = str(name);
	}
	for (long i = 0; i < nfuncs; i++) {
		long f = i % nfiles;
		if (i % 3 == 0)
			snprintf(name, sizeof(name), "github.com/example/bigserver/svc%ld/pkg%ld.(*Type%ld).Method%ld",
				 f % 23, f % 61, i % 97, i);
		else
			snprintf(name, sizeof(name), "github.com/example/bigserver/svc%ld/pkg%ld.func%ld",
				 f % 23, f % 61, i);
		uint32_t s = str(name);
		func_file[i] = (uint32_t)f;
		field_varint(&m, 1, (uint64_t)i + 1);
		field_varint(&m, 2, s);
		field_varint(&m, 3, s);
		field_varint(&m, 4, file_s[f]);
		field_varint(&m, 5, (uint64_t)(10 + (i * 37) % 900));
		field_msg(&out, 5, &m);
	}

	/* Locations: function i, line k -> id i*lines_per_func + k + 1. */
	long nlocs = nfuncs * lines_per_func;
	for (long id = 1; id <= nlocs; id++) {
		long fn = (id - 1) / lines_per_func, k = (id - 1) % lines_per_func;
		long start = 10 + (fn * 37) % 900;
		field_varint(&m, 1, (uint64_t)id);
		field_varint(&m, 2, 1);
		field_varint(&m, 3, 0x400000 + (uint64_t)id * 16);
		if (id % 10 == 0) { /* an inlined callee first, then its caller */
			field_varint(&sub, 1, (uint64_t)((fn * 7 + 3) % nfuncs) + 1);
			field_varint(&sub, 2, (uint64_t)(20 + k));
			field_msg(&m, 4, &sub);
		}
		field_varint(&sub, 1, (uint64_t)fn + 1);
		field_varint(&sub, 2, (uint64_t)(start + 2 + k * 3));
		field_msg(&m, 4, &sub);
		field_msg(&out, 4, &m);
	}

	/* Stacks: leaf first, as profile.proto stores them. Each new stack
	 * takes a prefix (root side) of an earlier one and grows to 10-40. */
	uint32_t *stk = malloc(sizeof(uint32_t) * 40 * (size_t)nstacks);
	uint8_t *depth = malloc((size_t)nstacks);
	for (long s = 0; s < nstacks; s++) {
		uint32_t *root = &stk[s * 40]; /* stored root first while building */
		int d = 10 + (int)below(31), keep = 0;
		if (s > 0) {
			long from = (long)below((uint32_t)s);
			keep = (int)below(depth[from]);
			if (keep > d - 1)
				keep = d - 1;
			memcpy(root, &stk[from * 40], sizeof(uint32_t) * (size_t)keep);
		}
		for (int i = keep; i < d; i++) {
			uint32_t fn = skewed((uint32_t)nfuncs);
			root[i] = fn * (uint32_t)lines_per_func + below((uint32_t)lines_per_func) + 1;
		}
		depth[s] = (uint8_t)d;
	}

	/* Samples: each stack gets 1 plus a skewed share of the rest; a fifth
	 * of them are split in two messages, one with a label. */
	long *count = calloc((size_t)nstacks, sizeof(long));
	for (long s = 0; s < nstacks; s++)
		count[s] = 1;
	for (long i = nstacks; i < nsamples; i++)
		count[skewed((uint32_t)nstacks)]++;
	for (long s = 0; s < nstacks; s++) {
		long parts = (s % 5 == 0 && count[s] > 1) ? 2 : 1;
		for (long p = 0; p < parts; p++) {
			long c = parts == 1 ? count[s] : (p == 0 ? count[s] / 2 : count[s] - count[s] / 2);
			for (int i = depth[s] - 1; i >= 0; i--)
				put_varint(&packed, stk[s * 40 + i]);
			field_msg(&m, 1, &packed);
			put_varint(&packed, (uint64_t)c);
			put_varint(&packed, (uint64_t)c * 10000000);
			field_msg(&m, 2, &packed);
			if (p == 1) {
				field_varint(&sub, 1, s_label);
				field_varint(&sub, 2, s_lv[s % 4]);
				field_msg(&m, 3, &sub);
			}
			field_msg(&out, 2, &m);
		}
	}

	/* Header fields, then the string table; field order does not matter. */
	field_varint(&sub, 1, s_samples);
	field_varint(&sub, 2, s_count);
	field_msg(&out, 1, &sub);
	field_varint(&sub, 1, s_cpu);
	field_varint(&sub, 2, s_ns);
	field_msg(&out, 1, &sub);
	field_varint(&m, 1, 1);
	field_varint(&m, 2, 0x400000);
	field_varint(&m, 3, 0x400000 + (uint64_t)(nlocs + 1) * 16);
	field_varint(&m, 5, s_bin);
	field_varint(&m, 7, 1);
	field_varint(&m, 8, 1);
	field_varint(&m, 9, 1);
	field_varint(&m, 10, 1);
	field_msg(&out, 3, &m);
	field_varint(&out, 9, 1764496800000000000ull); /* 2025-11-30 10:00 UTC */
	field_varint(&out, 10, 625000000000ull); /* 10,000 s of CPU on 16 CPUs */
	field_varint(&sub, 1, s_cpu);
	field_varint(&sub, 2, s_ns);
	field_msg(&out, 11, &sub);
	field_varint(&out, 12, 10000000);
	put_bytes(&out, strtab.p, strtab.n);

	if (fwrite(out.p, 1, out.n, stdout) != out.n || fflush(stdout) != 0) {
		perror("bench_bigprof: writing the profile");
		return 1;
	}
	fprintf(stderr, "bench_bigprof: %ld samples, %ld stacks, %ld functions, %ld locations, %zu bytes\n",
		nsamples, nstacks, nfuncs, nlocs, out.n);
	free(out.p), free(m.p), free(sub.p), free(packed.p), free(strtab.p);
	free(file_s), free(func_file), free(stk), free(depth), free(count);
	return 0;
}
