/*
 * test_proto.c - unit tests of src/proto: the protobuf wire helpers, the
 * profile model, its byte-exact encoding, decoding (packed and unpacked,
 * unknown fields, gzip), every validation error, truncation, and profiles
 * written by the Go runtime (tests/data/go-*.pb.gz).
 *
 * Expected bytes are derived by hand in the comments next to them. The
 * decoder fuzz target lives in fuzz/fuzz_profile.c, not here.
 */
#include <errno.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/buf.h"
#include "proto/pb.h"
#include "proto/profile.h"

/* Compare bytes; on mismatch dump both sides to stderr for the log. */
static int same_bytes(const uint8_t *got, size_t gotlen, const uint8_t *want, size_t wantlen)
{
	size_t i;

	if (gotlen == wantlen && (!wantlen || !memcmp(got, want, wantlen)))
		return 1;
	fprintf(stderr, "%s: got %zu bytes:", check_case_name, gotlen);
	for (i = 0; i < gotlen; i++)
		fprintf(stderr, " %02x", got[i]);
	fprintf(stderr, "\n%s: want %zu bytes:", check_case_name, wantlen);
	for (i = 0; i < wantlen; i++)
		fprintf(stderr, " %02x", want[i]);
	fprintf(stderr, "\n");
	return 0;
}

#define CHECK_BYTES(got, gotlen, want) CHECK(same_bytes(got, gotlen, want, sizeof(want)))

/* Encode p and compare with want. */
#define CHECK_ENCODES(p, want)                                                \
	do {                                                                  \
		uint8_t *out_ = NULL;                                         \
		size_t outlen_ = 0;                                           \
		CHECK_EQ_INT(cprof__profile_encode((p), &out_, &outlen_), 0); \
		CHECK_BYTES(out_, outlen_, want);                             \
		free(out_);                                                   \
	} while (0)

/* Decoding data must fail with a reason containing what. */
static int decode_fails_with(const uint8_t *data, size_t len, const char *what)
{
	char err[256] = "";
	struct profile *p = cprof__profile_decode(data, len, err, sizeof(err));

	if (p) {
		cprof__profile_free(p);
		fprintf(stderr, "%s: decoded, wanted error '%s'\n", check_case_name, what);
		return 0;
	}
	if (!strstr(err, what) || strchr(err, '\n')) {
		fprintf(stderr, "%s: error '%s', wanted '%s'\n", check_case_name, err, what);
		return 0;
	}
	return 1;
}

/* Encode p, then decoding must fail with what. */
static int encoded_fails_with(const struct profile *p, const char *what)
{
	uint8_t *out;
	size_t len;
	int ok;

	if (cprof__profile_encode(p, &out, &len))
		return 0;
	ok = decode_fails_with(out, len, what);
	free(out);
	return ok;
}

/* ------------------------------------------------------------------ */

static void test_varint_edges(void)
{
	static const struct {
		uint64_t v;
		uint8_t bytes[10];
		size_t n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 127, { 0x7f }, 1 },
		/* 128 = 1 0000000: low group 0 with continuation, then 1 */
		{ 128, { 0x80, 0x01 }, 2 },
		/* 300 = 10 0101100: 0x2c|0x80, 0x02 */
		{ 300, { 0xac, 0x02 }, 2 },
		/* 2^63: nine zero groups with continuation, then bit 63 alone */
		{ 1ull << 63, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 10 },
		/* -1 as int64 = 2^64-1: nine 0xff groups, then 0x01 */
		{ UINT64_MAX, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		struct pb_reader r;
		uint64_t v = 12345;

		cprof__buf_init(&b, 0);
		cprof__pb_put_varint(&b, cases[i].v);
		CHECK_EQ_INT(b.err, 0);
		CHECK(same_bytes(b.data, b.len, cases[i].bytes, cases[i].n));
		CHECK_EQ_INT(cprof__pb_varint_size(cases[i].v), cases[i].n);
		cprof__pb_reader_init(&r, b.data, b.len);
		CHECK_EQ_INT(cprof__pb_get_varint(&r, &v), 0);
		CHECK(v == cases[i].v);
		CHECK(!cprof__pb_more(&r));
		cprof__buf_release(&b);
	}
}

static void test_varint_negative_int64_field(void)
{
	/* field 1 varint: tag 0x08; -2 = 0xff..fe: fe, then eight ff, then 01 */
	static const uint8_t want[] = { 0x08, 0xfe, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0x01 };
	struct buf b;

	cprof__buf_init(&b, 0);
	cprof__pb_put_int64(&b, 1, -2);
	cprof__pb_put_int64(&b, 2, 0); /* zero scalars are omitted */
	cprof__pb_put_bool(&b, 3, false);
	CHECK_BYTES(b.data, b.len, want);
	cprof__buf_release(&b);
}

static void test_varint_malformed(void)
{
	/* eleven bytes, a tenth byte above 1, and a truncated varint */
	static const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					  0x80, 0x80, 0x80, 0x80, 0x01 };
	static const uint8_t big10[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0x02 };
	static const uint8_t trunc[] = { 0x80, 0x80 };
	struct pb_reader r;
	uint64_t v;

	cprof__pb_reader_init(&r, eleven, sizeof(eleven));
	CHECK_EQ_INT(cprof__pb_get_varint(&r, &v), -EINVAL);
	cprof__pb_reader_init(&r, big10, sizeof(big10));
	CHECK_EQ_INT(cprof__pb_get_varint(&r, &v), -EINVAL);
	CHECK(strstr(r.why, "overflows"));
	cprof__pb_reader_init(&r, trunc, sizeof(trunc));
	CHECK_EQ_INT(cprof__pb_get_varint(&r, &v), -EINVAL);
	CHECK(strstr(r.why, "truncated"));
	CHECK_EQ_INT(r.at, 0);
}

static void test_pb_nested_and_packed(void)
{
	/*
	 * field 2 message { field 1 packed [1, 300] } :
	 * inner: 0a (1<<3|2) 03 (len: 1 + 2 bytes) 01 ac 02 -> 5 bytes
	 * outer: 12 (2<<3|2) 05 <inner>
	 * then field 3 packed [] -> nothing, field 4 bytes "" -> 22 00
	 */
	static const uint8_t want[] = { 0x12, 0x05, 0x0a, 0x03, 0x01, 0xac, 0x02, 0x22, 0x00 };
	static const uint64_t v[] = { 1, 300 };
	struct buf b;
	size_t m;

	cprof__buf_init(&b, 0);
	m = cprof__pb_msg_begin(&b, 2);
	cprof__pb_put_packed_uint64(&b, 1, v, 2);
	cprof__pb_msg_end(&b, m);
	cprof__pb_put_packed_uint64(&b, 3, v, 0);
	cprof__pb_put_bytes(&b, 4, "", 0);
	CHECK_BYTES(b.data, b.len, want);
	cprof__buf_release(&b);
}

static void test_pb_msg_long_body(void)
{
	/* a 200-byte body needs a 2-byte length (c8 01) inserted before it */
	struct buf b;
	uint8_t body[200];
	size_t m;

	memset(body, 0x5a, sizeof(body));
	cprof__buf_init(&b, 0);
	m = cprof__pb_msg_begin(&b, 1);
	cprof__buf_append(&b, body, sizeof(body));
	cprof__pb_msg_end(&b, m);
	CHECK_EQ_INT(b.len, 203);
	CHECK_EQ_INT(b.data[0], 0x0a);
	CHECK_EQ_INT(b.data[1], 0xc8);
	CHECK_EQ_INT(b.data[2], 0x01);
	CHECK(!memcmp(b.data + 3, body, sizeof(body)));
	cprof__buf_release(&b);
}

static void test_buf_ceiling(void)
{
	struct buf b;

	cprof__buf_init(&b, 4);
	CHECK_EQ_INT(cprof__buf_append(&b, "abcd", 4), 0);
	CHECK_EQ_INT(cprof__buf_putc(&b, 'e'), -EFBIG);
	CHECK_EQ_INT(cprof__buf_append(&b, "", 0), -EFBIG); /* sticky */
	CHECK(cprof__buf_detach(&b, NULL) == NULL);
	cprof__buf_init(&b, 0);
	cprof__buf_printf(&b, "%s-%d", "x", 42);
	CHECK_EQ_INT(b.len, 4);
	CHECK(!memcmp(b.data, "x-42", 4));
	cprof__buf_release(&b);
}

/* cprof__buf_str: "" before any write, the bytes NUL-terminated after. */
static void test_buf_str(void)
{
	struct buf b;

	cprof__buf_init(&b, 0);
	CHECK(strcmp(cprof__buf_str(&b), "") == 0);
	cprof__buf_append(&b, "abc", 3);
	CHECK(strcmp(cprof__buf_str(&b), "abc") == 0);
	cprof__buf_putc(&b, 'd');
	CHECK(strcmp(cprof__buf_str(&b), "abcd") == 0);
	b.len = 1;
	CHECK(strcmp(cprof__buf_str(&b), "a") == 0);
	cprof__buf_release(&b);
}

/* ------------------------------------------------------------------ */

static void test_intern(void)
{
	struct profile *p = cprof__profile_new();

	CHECK_EQ_INT(p->nstrings, 1);
	CHECK_EQ_STR(p->strings[0], "");
	CHECK_EQ_INT(cprof__profile_intern(p, "", (size_t)-1), 0);
	CHECK_EQ_INT(cprof__profile_intern(p, "cpu", (size_t)-1), 1);
	CHECK_EQ_INT(cprof__profile_intern(p, "nanoseconds", (size_t)-1), 2);
	CHECK_EQ_INT(cprof__profile_intern(p, "cpu", (size_t)-1), 1);
	CHECK_EQ_INT(cprof__profile_intern(p, "cpuXYZ", 3), 1);
	CHECK_EQ_INT(cprof__profile_intern(p, "cp", (size_t)-1), 3);
	CHECK_EQ_STR(cprof__profile_str(p, 3), "cp");
	CHECK_EQ_STR(cprof__profile_str(p, 99), "");
	CHECK_EQ_STR(cprof__profile_str(p, -1), "");
	cprof__profile_free(p);
}

static void test_intern_many(void)
{
	struct profile *p = cprof__profile_new();
	char s[32];
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(s, sizeof(s), "fn_%d", i);
		CHECK_EQ_INT(cprof__profile_intern(p, s, (size_t)-1), i + 1);
	}
	for (i = 4999; i >= 0; i--) {
		snprintf(s, sizeof(s), "fn_%d", i);
		CHECK_EQ_INT(cprof__profile_intern(p, s, (size_t)-1), i + 1);
	}
	CHECK_EQ_INT(p->nstrings, 5001);
	cprof__profile_free(p);
}

static void test_encode_valuetype(void)
{
	/*
	 * strings: 0 "", 1 "samples", 2 "count"
	 * sample_type: 0a (1<<3|2) 04 | 08 01 (type=1) 10 02 (unit=2)
	 * string_table: 32 (6<<3|2) len bytes, "" included as 32 00
	 */
	static const uint8_t want[] = {
		0x0a, 0x04, 0x08, 0x01, 0x10, 0x02,
		0x32, 0x00,
		0x32, 0x07, 's', 'a', 'm', 'p', 'l', 'e', 's',
		0x32, 0x05, 'c', 'o', 'u', 'n', 't',
	};
	struct profile *p = cprof__profile_new();

	CHECK(cprof__profile_add_sample_type(p, "samples", "count"));
	CHECK_ENCODES(p, want);
	cprof__profile_free(p);
}

static void test_encode_sample_packed(void)
{
	/*
	 * sample: 12 (2<<3|2) 0e, body 14 bytes:
	 *   location_id packed: 0a 03 | 01 | ac 02 (300)        5 bytes
	 *   value packed:       12 01 | 05                      3 bytes
	 *   label:              1a 04 | 08 03 (key) 18 07 (num)  6 bytes
	 * str and num_unit are zero: omitted.
	 */
	static const uint8_t want[] = {
		0x0a, 0x04, 0x08, 0x01, 0x10, 0x02,
		0x12, 0x0e, 0x0a, 0x03, 0x01, 0xac, 0x02, 0x12, 0x01, 0x05,
		0x1a, 0x04, 0x08, 0x03, 0x18, 0x07,
		0x32, 0x00,
		0x32, 0x07, 's', 'a', 'm', 'p', 'l', 'e', 's',
		0x32, 0x05, 'c', 'o', 'u', 'n', 't',
		0x32, 0x06, 't', 'h', 'r', 'e', 'a', 'd',
	};
	static const uint64_t loc[] = { 1, 300 };
	static const int64_t val[] = { 5 };
	struct profile *p = cprof__profile_new();
	struct pp_label l = { 0 };

	cprof__profile_add_sample_type(p, "samples", "count");
	l.key = cprof__profile_intern(p, "thread", (size_t)-1);
	l.num = 7;
	CHECK(cprof__profile_add_sample(p, loc, 2, val, 1, &l, 1));
	CHECK_ENCODES(p, want);
	cprof__profile_free(p);
}

static void test_encode_mapping_bools(void)
{
	/*
	 * mapping: 1a (3<<3|2) 12, body 18 bytes:
	 *   08 01             id 1
	 *   10 80 80 80 02    memory_start 0x400000 = 2 << 21
	 *   18 80 a0 80 02    memory_limit 0x401000: groups 0, 0x20, 0, 2
	 *   (file_offset 0 omitted)
	 *   28 01             filename = 1
	 *   (build_id 0 omitted)
	 *   38 01             has_functions (7<<3|0)
	 *   (has_filenames, has_line_numbers false: omitted)
	 *   50 01             has_inline_frames (10<<3|0)
	 */
	static const uint8_t want[] = {
		0x1a, 0x12, 0x08, 0x01, 0x10, 0x80, 0x80, 0x80, 0x02,
		0x18, 0x80, 0xa0, 0x80, 0x02, 0x28, 0x01, 0x38, 0x01, 0x50, 0x01,
		0x32, 0x00,
		0x32, 0x06, '/', 'b', 'i', 'n', '/', 'x',
	};
	struct profile *p = cprof__profile_new();
	struct pp_mapping *m = cprof__profile_add_mapping(p);

	CHECK(m && m->id == 1);
	m->memory_start = 0x400000;
	m->memory_limit = 0x401000;
	m->filename = cprof__profile_intern(p, "/bin/x", (size_t)-1);
	m->has_functions = true;
	m->has_inline_frames = true;
	CHECK_ENCODES(p, want);
	cprof__profile_free(p);
}

/* The tiny whole profile of test_encode_profile. */
static struct profile *tiny_profile(void)
{
	struct profile *p = cprof__profile_new();
	struct pp_line line = { .function_id = 1, .line = 12 };
	uint64_t loc = 1;
	int64_t val = 20;

	cprof__profile_add_sample_type(p, "cpu", "nanoseconds");
	cprof__profile_add_function(p, "main", "main", "a.c", 10);
	cprof__profile_add_location(p, 0, 0x1000, &line, 1);
	cprof__profile_add_sample(p, &loc, 1, &val, 1, NULL, 0);
	p->time_nanos = 1000;
	p->duration_nanos = 20;
	p->period_type.type = 1;
	p->period_type.unit = 2;
	p->period = 10;
	cprof__profile_add_comment(p, "hi");
	p->default_sample_type = 1;
	return p;
}

/*
 * strings: 0 "", 1 "cpu", 2 "nanoseconds", 3 "main", 4 "a.c", 5 "hi"
 *  1 sample_type   0a 04 08 01 10 02
 *  2 sample        12 06 | 0a 01 01 (location_id [1]) | 12 01 14 (value [20])
 *  4 location      22 0b | 08 01 | 18 80 20 (address 0x1000: 0 then 0x20)
 *                        | 22 04 08 01 10 0c (line: function 1, line 12)
 *  5 function      2a 0a | 08 01 10 03 18 03 20 04 28 0a (start_line 10)
 *  6 strings       32 len ...
 *  9 time_nanos    48 e8 07 (1000 = 7<<7 | 0x68)
 * 10 duration      50 14
 * 11 period_type   5a 04 08 01 10 02
 * 12 period        60 0a
 * 13 comment       6a 01 05 (packed [5])
 * 14 default_type  70 01
 */
static const uint8_t tiny_bytes[] = {
	0x0a, 0x04, 0x08, 0x01, 0x10, 0x02,
	0x12, 0x06, 0x0a, 0x01, 0x01, 0x12, 0x01, 0x14,
	0x22, 0x0b, 0x08, 0x01, 0x18, 0x80, 0x20, 0x22, 0x04, 0x08, 0x01, 0x10, 0x0c,
	0x2a, 0x0a, 0x08, 0x01, 0x10, 0x03, 0x18, 0x03, 0x20, 0x04, 0x28, 0x0a,
	0x32, 0x00,
	0x32, 0x03, 'c', 'p', 'u',
	0x32, 0x0b, 'n', 'a', 'n', 'o', 's', 'e', 'c', 'o', 'n', 'd', 's',
	0x32, 0x04, 'm', 'a', 'i', 'n',
	0x32, 0x03, 'a', '.', 'c',
	0x32, 0x02, 'h', 'i',
	0x48, 0xe8, 0x07,
	0x50, 0x14,
	0x5a, 0x04, 0x08, 0x01, 0x10, 0x02,
	0x60, 0x0a,
	0x6a, 0x01, 0x05,
	0x70, 0x01,
};

static void test_encode_profile(void)
{
	struct profile *p = tiny_profile();

	CHECK_ENCODES(p, tiny_bytes);
	cprof__profile_free(p);
}

static void test_decode_tiny(void)
{
	char err[256] = "x";
	struct profile *p = cprof__profile_decode(tiny_bytes, sizeof(tiny_bytes), err, sizeof(err));
	const struct pp_location *l;
	const struct pp_function *f;

	CHECK(p);
	if (!p)
		return;
	CHECK_EQ_STR(err, "");
	CHECK_EQ_INT(p->nsample_type, 1);
	CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[0].type), "cpu");
	CHECK_EQ_INT(p->nsample, 1);
	CHECK_EQ_INT(p->sample[0].value[0], 20);
	l = cprof__profile_location(p, p->sample[0].location_id[0]);
	CHECK(l && l->address == 0x1000 && l->nline == 1);
	f = l ? cprof__profile_function(p, l->line[0].function_id) : NULL;
	CHECK(f && f->start_line == 10);
	CHECK_EQ_STR(f ? cprof__profile_str(p, f->name) : NULL, "main");
	CHECK(!cprof__profile_mapping(p, 1));
	CHECK_EQ_INT(p->time_nanos, 1000);
	CHECK_EQ_INT(p->duration_nanos, 20);
	CHECK_EQ_INT(p->period, 10);
	CHECK_EQ_INT(p->ncomment, 1);
	CHECK_EQ_STR(cprof__profile_str(p, p->comment[0]), "hi");
	CHECK_EQ_INT(p->default_sample_type, 1);
	/* interning after decode finds the decoded strings */
	CHECK_EQ_INT(cprof__profile_intern(p, "a.c", (size_t)-1), 4);
	CHECK_EQ_INT(cprof__profile_intern(p, "new", (size_t)-1), 6);
	cprof__profile_free(p);
}

/* encode -> decode -> encode gives the same bytes */
static void check_round_trip(const struct profile *p)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	char err[256];
	struct profile *q;

	CHECK_EQ_INT(cprof__profile_encode(p, &a, &alen), 0);
	q = cprof__profile_decode(a, alen, err, sizeof(err));
	CHECK(q);
	if (q) {
		CHECK_EQ_INT(cprof__profile_encode(q, &b, &blen), 0);
		CHECK(same_bytes(b, blen, a, alen));
		cprof__profile_free(q);
	}
	free(a);
	free(b);
}

static void test_round_trip(void)
{
	struct profile *p = tiny_profile();
	struct pp_mapping *m;
	struct pp_label l[2] = { { 0 }, { 0 } };
	uint64_t locs[3];
	int64_t v = -5;
	int i;

	check_round_trip(p);
	/* add the rest: mapping, labels, negative values, drop/keep, doc_url */
	m = cprof__profile_add_mapping(p);
	m->memory_start = 0x400000;
	m->memory_limit = UINT64_MAX;
	m->file_offset = 0x1000;
	m->filename = cprof__profile_intern(p, "/bin/prog", (size_t)-1);
	m->build_id = cprof__profile_intern(p, "abcdef", (size_t)-1);
	m->has_functions = m->has_filenames = m->has_line_numbers = m->has_inline_frames = true;
	for (i = 0; i < 3; i++) {
		struct pp_line ln[2] = { { 1, i, 3 }, { 1, -i, 0 } };
		struct pp_location *loc = cprof__profile_add_location(p, 1, 0x400000 + i, ln, 2);

		loc->is_folded = i == 1;
		locs[i] = loc->id;
	}
	l[0].key = cprof__profile_intern(p, "thread", (size_t)-1);
	l[0].str = cprof__profile_intern(p, "main", (size_t)-1);
	l[1].key = cprof__profile_intern(p, "bytes", (size_t)-1);
	l[1].num = -4096;
	l[1].num_unit = l[1].key;
	cprof__profile_add_sample(p, locs, 3, &v, 1, l, 2);
	cprof__profile_add_sample(p, NULL, 0, &v, 1, NULL, 0);
	p->drop_frames = cprof__profile_intern(p, "malloc.*", (size_t)-1);
	p->keep_frames = cprof__profile_intern(p, "keep", (size_t)-1);
	p->doc_url = cprof__profile_intern(p, "https://example.com/doc", (size_t)-1);
	p->time_nanos = -1;
	cprof__profile_add_comment(p, "second comment");
	CHECK_EQ_INT(cprof__profile_validate(p, NULL, 0), 0);
	check_round_trip(p);
	cprof__profile_free(p);
}

static void test_gzip_round_trip(void)
{
	size_t n = 300000, i, zlen = 0, outlen = 0;
	uint8_t *in = malloc(n), *z = NULL, *out = NULL, *z2 = NULL;
	uint32_t x = 1;

	for (i = 0; i < n; i++) { /* half compressible, half noise */
		x = x * 1103515245 + 12345;
		in[i] = i % 2 ? (uint8_t)(x >> 16) : (uint8_t)i;
	}
	CHECK_EQ_INT(cprof__gzip(in, n, &z, &zlen), 0);
	CHECK(zlen > 18 && z[0] == 0x1f && z[1] == 0x8b);
	CHECK_EQ_INT(cprof__gunzip(z, zlen, n, &out, &outlen), 0);
	CHECK(same_bytes(out, outlen, in, n));
	free(out);
	out = NULL;
	/* the ceiling: one byte short fails */
	CHECK_EQ_INT(cprof__gunzip(z, zlen, n - 1, &out, &outlen), -EFBIG);
	/* truncated and corrupt streams */
	CHECK_EQ_INT(cprof__gunzip(z, zlen - 1, 0, &out, &outlen), -EINVAL);
	CHECK_EQ_INT(cprof__gunzip(z, zlen / 2, 0, &out, &outlen), -EINVAL);
	z[zlen / 2] ^= 0xff;
	CHECK(cprof__gunzip(z, zlen, 0, &out, &outlen) != 0);
	/* empty input compresses and decompresses */
	CHECK_EQ_INT(cprof__gzip(in, 0, &z2, &zlen), 0);
	CHECK_EQ_INT(cprof__gunzip(z2, zlen, 10, &out, &outlen), 0);
	CHECK_EQ_INT(outlen, 0);
	free(out);
	free(z2);
	free(z);
	free(in);
}

static void test_gzip_profile_and_determinism(void)
{
	struct profile *p = tiny_profile(), *q;
	uint8_t *a, *b;
	size_t alen, blen;
	char err[256];

	CHECK_EQ_INT(cprof__profile_encode_gz(p, &a, &alen), 0);
	CHECK_EQ_INT(cprof__profile_encode_gz(p, &b, &blen), 0);
	CHECK(same_bytes(a, alen, b, blen));
	q = cprof__profile_decode(a, alen, err, sizeof(err));
	CHECK(q);
	if (q)
		CHECK_EQ_INT(q->time_nanos, 1000);
	cprof__profile_free(q);
	free(a);
	free(b);
	cprof__profile_free(p);
}

static void test_decode_unpacked_and_unknown(void)
{
	static const uint8_t data[] = {
		/* field 20 varint 5, field 21 fixed64, field 22 bytes, field 23 fixed32 */
		0xa0, 0x01, 0x05,
		0xa9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8,
		0xb2, 0x01, 0x02, 0xaa, 0xbb,
		0xbd, 0x01, 1, 2, 3, 4,
		0x0a, 0x04, 0x08, 0x01, 0x10, 0x02,
		/* sample: location_id unpacked 1, then packed [2, 1]; value
		 * unpacked 5; an unknown field 9 (48 07) inside */
		0x12, 0x0a, 0x08, 0x01, 0x0a, 0x02, 0x02, 0x01, 0x10, 0x05, 0x48, 0x07,
		/* locations 1 and 2, the second with an unknown fixed32 (field 9) */
		0x22, 0x02, 0x08, 0x01,
		0x22, 0x07, 0x08, 0x02, 0x4d, 0, 0, 0, 0,
		0x32, 0x00, 0x32, 0x01, 'a', 0x32, 0x01, 'b',
		/* comment unpacked: 68 01, 68 02 */
		0x68, 0x01, 0x68, 0x02,
	};
	char err[256];
	struct profile *p = cprof__profile_decode(data, sizeof(data), err, sizeof(err));

	CHECK(p);
	if (!p) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_EQ_INT(p->nsample, 1);
	CHECK_EQ_INT(p->sample[0].nlocation, 3);
	CHECK_EQ_INT(p->sample[0].location_id[0], 1);
	CHECK_EQ_INT(p->sample[0].location_id[1], 2);
	CHECK_EQ_INT(p->sample[0].location_id[2], 1);
	CHECK_EQ_INT(p->sample[0].nvalue, 1);
	CHECK_EQ_INT(p->sample[0].value[0], 5);
	CHECK_EQ_INT(p->nlocation, 2);
	CHECK_EQ_INT(p->ncomment, 2);
	CHECK_EQ_STR(cprof__profile_str(p, p->comment[1]), "b");
	cprof__profile_free(p);
}

static void test_lookup_sparse_ids(void)
{
	/* locations with ids 10, 5, 7 and functions 3, 1: lookups go through the index */
	static const uint8_t data[] = {
		0x0a, 0x00,
		0x12, 0x07, 0x0a, 0x02, 0x05, 0x0a, 0x12, 0x01, 0x01,
		0x22, 0x08, 0x08, 0x0a, 0x22, 0x04, 0x08, 0x03, 0x10, 0x01,
		0x22, 0x04, 0x08, 0x05, 0x18, 0x55,
		0x22, 0x04, 0x08, 0x07, 0x18, 0x77,
		0x2a, 0x02, 0x08, 0x03,
		0x2a, 0x02, 0x08, 0x01,
		0x32, 0x00,
	};
	char err[256];
	struct profile *p = cprof__profile_decode(data, sizeof(data), err, sizeof(err));
	struct pp_location *nl;

	CHECK(p);
	if (!p) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(cprof__profile_location(p, 5) && cprof__profile_location(p, 5)->address == 0x55);
	CHECK(cprof__profile_location(p, 7) && cprof__profile_location(p, 7)->address == 0x77);
	CHECK(cprof__profile_location(p, 10) && cprof__profile_location(p, 10)->line[0].function_id == 3);
	CHECK(!cprof__profile_location(p, 1));
	CHECK(!cprof__profile_location(p, 0));
	CHECK(cprof__profile_function(p, 3) == &p->function[0]);
	CHECK(cprof__profile_function(p, 1) == &p->function[1]);
	CHECK(!cprof__profile_function(p, 2));
	/* appending after decode picks a free id and stays findable */
	nl = cprof__profile_add_location(p, 0, 0x99, NULL, 0);
	CHECK(nl && nl->id == 4);
	CHECK(cprof__profile_location(p, 4) && cprof__profile_location(p, 4)->address == 0x99);
	CHECK(cprof__profile_location(p, 10) && cprof__profile_location(p, 10)->address == 0);
	nl = cprof__profile_add_location(p, 0, 0x98, NULL, 0);
	CHECK(nl && nl->id == 11); /* 5 is taken: max + 1 */
	CHECK(cprof__profile_location(p, 11) == nl);
	CHECK(cprof__profile_location(p, 5) && cprof__profile_location(p, 5)->address == 0x55);
	cprof__profile_free(p);
}

/* ------------------------------------------------------------------ */
/* validation                                                          */

static void test_reject_string_table(void)
{
	static const uint8_t first_not_empty[] = { 0x32, 0x01, 'a' };
	static const uint8_t none[] = { 0x60, 0x01 }; /* period 1, no strings */
	struct profile *p = tiny_profile();

	CHECK(decode_fails_with(first_not_empty, sizeof(first_not_empty),
				"string_table[0] must be \"\""));
	CHECK(decode_fails_with(none, sizeof(none), "string_table[0] must be \"\""));
	p->sample_type[0].unit = 99;
	CHECK(encoded_fails_with(p, "sample_type[0].unit: string index 99 out of range"));
	p->sample_type[0].unit = 2;
	p->function[0].filename = -1;
	CHECK(encoded_fails_with(p, "function[0].filename: string index -1 out of range"));
	p->function[0].filename = 4;
	p->comment[0] = 6;
	CHECK(encoded_fails_with(p, "comment[0]: string index 6 out of range"));
	p->comment[0] = 5;
	p->doc_url = 1000;
	CHECK(encoded_fails_with(p, "doc_url: string index 1000"));
	cprof__profile_free(p);
}

static void test_reject_ids(void)
{
	struct profile *p = tiny_profile();
	struct pp_mapping *m;
	struct pp_location *l;

	m = cprof__profile_add_mapping(p);
	m->id = 0;
	CHECK(encoded_fails_with(p, "mapping with reserved id 0"));
	m->id = 1;
	p->function[0].id = 0;
	CHECK(encoded_fails_with(p, "function with reserved id 0"));
	p->function[0].id = 1;
	l = cprof__profile_add_location(p, 1, 0x2000, NULL, 0);
	l->id = 1;
	CHECK(encoded_fails_with(p, "duplicate location id 1"));
	l->id = 0;
	CHECK(encoded_fails_with(p, "location with reserved id 0"));
	l->id = 2;
	CHECK_EQ_INT(cprof__profile_validate(p, NULL, 0), 0); /* valid again */
	cprof__profile_free(p);
}

static void test_reject_references(void)
{
	struct profile *p = tiny_profile();
	int64_t two[2] = { 1, 2 };

	p->sample[0].location_id[0] = 9;
	CHECK(encoded_fails_with(p, "sample[0] references unknown location id 9"));
	p->sample[0].location_id[0] = 1;
	p->location[0].line[0].function_id = 7;
	CHECK(encoded_fails_with(p, "location id 1 line[0] references unknown function id 7"));
	p->location[0].line[0].function_id = 1;
	cprof__profile_add_sample(p, NULL, 0, two, 2, NULL, 0);
	CHECK(encoded_fails_with(p, "sample[1] has 2 values, want 1"));
	cprof__profile_free(p);

	p = cprof__profile_new();
	cprof__profile_add_sample(p, NULL, 0, NULL, 0, NULL, 0);
	CHECK(encoded_fails_with(p, "missing sample type information"));
	cprof__profile_free(p);
}

static void test_reject_malformed(void)
{
	static const uint8_t trunc_len[] = { 0x0a, 0x04, 0x08 };
	static const uint8_t trunc_varint[] = { 0x32, 0x00, 0x48, 0xe8 };
	static const uint8_t trunc_tag[] = { 0x32, 0x00, 0xa0 };
	static const uint8_t trunc_fixed[] = { 0x32, 0x00, 0xa9, 0x01, 1, 2 };
	static const uint8_t group[] = { 0x32, 0x00, 0x0b };
	static const uint8_t field0[] = { 0x32, 0x00, 0x00 };
	static const uint8_t wrong_type[] = { 0x32, 0x00, 0x08, 0x01 };
	static const uint8_t wrong_type2[] = { 0x32, 0x00, 0x4a, 0x00 };
	static const uint8_t trunc_packed[] = { 0x32, 0x00, 0x6a, 0x01, 0x80 };
	static const uint8_t corrupt_gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad };

	CHECK(decode_fails_with(trunc_len, sizeof(trunc_len), "length past end of message at byte 1"));
	CHECK(decode_fails_with(trunc_varint, sizeof(trunc_varint), "truncated varint at byte 3"));
	CHECK(decode_fails_with(trunc_tag, sizeof(trunc_tag), "truncated varint at byte 2"));
	CHECK(decode_fails_with(trunc_fixed, sizeof(trunc_fixed), "truncated fixed-size field"));
	CHECK(decode_fails_with(group, sizeof(group), "unsupported wire type"));
	CHECK(decode_fails_with(field0, sizeof(field0), "invalid field number"));
	CHECK(decode_fails_with(wrong_type, sizeof(wrong_type), "Profile field 1 has wire type 0"));
	CHECK(decode_fails_with(wrong_type2, sizeof(wrong_type2), "Profile field 9 has wire type 2"));
	CHECK(decode_fails_with(trunc_packed, sizeof(trunc_packed), "truncated varint"));
	CHECK(decode_fails_with(corrupt_gz, sizeof(corrupt_gz), "corrupt gzip data"));
	CHECK(decode_fails_with((const uint8_t *)"", 0, "empty input"));
}

static void test_reject_concatenated(void)
{
	struct profile *p = tiny_profile();
	uint8_t *a, *z, *both;
	size_t alen, zlen;

	CHECK_EQ_INT(cprof__profile_encode(p, &a, &alen), 0);
	both = malloc(2 * alen);
	memcpy(both, a, alen);
	memcpy(both + alen, a, alen);
	CHECK(decode_fails_with(both, 2 * alen, "concatenated profiles detected"));
	free(both);
	/* two gzip members in one file: the same */
	CHECK_EQ_INT(cprof__gzip(a, alen, &z, &zlen), 0);
	both = malloc(2 * zlen);
	memcpy(both, z, zlen);
	memcpy(both + zlen, z, zlen);
	CHECK(decode_fails_with(both, 2 * zlen, "concatenated profiles detected"));
	/* gzip followed by garbage */
	both[zlen] = 0;
	CHECK(decode_fails_with(both, 2 * zlen, "corrupt gzip data"));
	free(both);
	free(z);
	free(a);
	cprof__profile_free(p);
}

static void test_truncated_prefixes(void)
{
	struct profile *p = tiny_profile();
	uint8_t *a, *z, *re;
	size_t alen, zlen, relen, n;
	char err[256];

	CHECK_EQ_INT(cprof__profile_encode(p, &a, &alen), 0);
	for (n = 0; n < alen; n++) {
		struct profile *q;

		err[0] = 0;
		q = cprof__profile_decode(a, n, err, sizeof(err));
		if (!q) {
			CHECK(err[0] != 0);
			continue;
		}
		/* a cut on a top-level field boundary once every referenced
		 * string is in (byte 70, after "a.c") is a valid, shorter
		 * profile: then it must re-encode to exactly the prefix */
		CHECK_EQ_INT(cprof__profile_encode(q, &re, &relen), 0);
		CHECK(same_bytes(re, relen, a, n));
		CHECK(n >= 70);
		free(re);
		cprof__profile_free(q);
	}
	CHECK_EQ_INT(cprof__profile_encode_gz(p, &z, &zlen), 0);
	for (n = 0; n < zlen; n++) {
		struct profile *q = cprof__profile_decode(z, n, err, sizeof(err));

		CHECK(!q);
		cprof__profile_free(q);
	}
	free(z);
	free(a);
	cprof__profile_free(p);
}

static void test_validate_built(void)
{
	struct profile *p = tiny_profile();
	char err[128];

	CHECK_EQ_INT(cprof__profile_validate(p, err, sizeof(err)), 0);
	p->location[0].id = 42;
	p->sample[0].location_id[0] = 42;
	CHECK_EQ_INT(cprof__profile_validate(p, err, sizeof(err)), 0);
	CHECK(cprof__profile_location(p, 42) == &p->location[0]);
	p->sample[0].nvalue = 0;
	CHECK_EQ_INT(cprof__profile_validate(p, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "has 0 values, want 1"));
	p->sample[0].nvalue = 1;
	cprof__profile_free(p);
}

/* ------------------------------------------------------------------ */
/* files                                                               */

/* tests/run.sh exports CPROF_TOP; otherwise guess from build/tests/unit/. */
static void data_path(char *out, size_t n, const char *name)
{
	const char *top = getenv("CPROF_TOP");
	char exe[4096];
	ssize_t len;

	if (!top) {
		len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (len > 0) {
			exe[len] = 0;
			snprintf(out, n, "%s/../../../tests/data/%s", dirname(exe), name);
			if (!access(out, R_OK))
				return;
		}
	}
	snprintf(out, n, "%s/tests/data/%s", top ? top : ".", name);
}

static void test_read_file_errors(void)
{
	char path[] = "/tmp/cprof-test-proto-XXXXXX", err[512];
	struct profile *p;
	int fd;

	p = cprof__profile_read_file("/nonexistent/cpu.prof", err, sizeof(err));
	CHECK(!p);
	CHECK(strstr(err, "/nonexistent/cpu.prof: No such file or directory"));
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, "hello world\n", 12) == 12);
	close(fd);
	p = cprof__profile_read_file(path, err, sizeof(err));
	CHECK(!p);
	CHECK(strstr(err, ": not a profile: "));
	CHECK(!strncmp(err, path, strlen(path)));
	unlink(path);
}

static void test_read_file_written(void)
{
	char path[] = "/tmp/cprof-test-proto-XXXXXX", err[512];
	struct profile *p = tiny_profile(), *q;
	uint8_t *z;
	size_t zlen;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_EQ_INT(cprof__profile_encode_gz(p, &z, &zlen), 0);
	CHECK(write(fd, z, zlen) == (ssize_t)zlen);
	close(fd);
	q = cprof__profile_read_file(path, err, sizeof(err));
	CHECK(q);
	if (q)
		CHECK_EQ_INT(q->period, 10);
	cprof__profile_free(q);
	unlink(path);
	free(z);
	cprof__profile_free(p);
}

/* Every sample resolves down to functions; returns how many have name s. */
static size_t check_go_profile(const struct profile *p, const char *fn)
{
	size_t i, j, k, hits = 0;

	for (i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = &p->sample[i];

		CHECK_EQ_INT(s->nvalue, p->nsample_type);
		CHECK(s->nlocation > 0);
		for (j = 0; j < s->nlocation; j++) {
			const struct pp_location *l = cprof__profile_location(p, s->location_id[j]);

			CHECK(l);
			if (!l)
				continue;
			CHECK(l->nline > 0);
			for (k = 0; k < l->nline; k++) {
				const struct pp_function *f =
					cprof__profile_function(p, l->line[k].function_id);

				CHECK(f);
				if (f && strstr(cprof__profile_str(p, f->name), fn))
					hits++;
			}
		}
	}
	return hits;
}

static void test_go_cpu_profile(void)
{
	char path[4096], err[512];
	struct profile *p;

	data_path(path, sizeof(path), "go-cpu.pb.gz");
	p = cprof__profile_read_file(path, err, sizeof(err));
	CHECK(p);
	if (!p) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	/* runtime/pprof: samples/count, cpu/nanoseconds; period 1e9/100 Hz */
	CHECK_EQ_INT(p->nsample_type, 2);
	CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[0].type), "samples");
	CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[0].unit), "count");
	CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[1].type), "cpu");
	CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[1].unit), "nanoseconds");
	CHECK_EQ_STR(cprof__profile_str(p, p->period_type.type), "cpu");
	CHECK_EQ_INT(p->period, 10000000);
	CHECK(p->time_nanos > 0);
	CHECK(p->duration_nanos > 0);
	CHECK(p->nsample >= 5);
	CHECK(p->nmapping >= 1);
	CHECK(check_go_profile(p, "main.burn") > 0);
	/* value[1] = count * period */
	CHECK_EQ_INT(p->sample[0].value[1], p->sample[0].value[0] * 10000000);
	check_round_trip(p);
	cprof__profile_free(p);
}

static void test_go_heap_profile(void)
{
	static const char *const types[4][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
	};
	char path[4096], err[512];
	struct profile *p;
	size_t i, nbytes = 0;

	data_path(path, sizeof(path), "go-heap.pb.gz");
	p = cprof__profile_read_file(path, err, sizeof(err));
	CHECK(p);
	if (!p) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK_EQ_INT(p->nsample_type, 4);
	for (i = 0; i < 4 && i < p->nsample_type; i++) {
		CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[i].type), types[i][0]);
		CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[i].unit), types[i][1]);
	}
	CHECK_EQ_STR(cprof__profile_str(p, p->period_type.type), "space");
	CHECK_EQ_INT(p->period, 4096);
	CHECK(p->nsample > 0);
	CHECK(check_go_profile(p, "main.allocate") > 0);
	/* every heap sample with allocations carries the numeric label
	 * bytes = average block size */
	for (i = 0; i < p->nsample; i++)
		if (p->sample[i].value[0] == 0)
			nbytes++;
		else if (p->sample[i].nlabel == 1 &&
		    !strcmp(cprof__profile_str(p, p->sample[i].label[0].key), "bytes") &&
		    p->sample[i].label[0].num > 0)
			nbytes++;
	CHECK_EQ_INT(nbytes, p->nsample);
	check_round_trip(p);
	cprof__profile_free(p);
}

/* The other runtime/pprof profiles under tests/data (block, mutex, ...). */
static void test_go_other_profiles(void)
{
	static const struct {
		const char *file, *type0, *type_last;
		size_t ntypes;
	} cases[] = {
		{ "go-block.pb.gz", "contentions", "delay", 2 },
		{ "go-mutex.pb.gz", "contentions", "delay", 2 },
		{ "go-cpu-many.pb.gz", "samples", "cpu", 2 },
		{ "go-heap-big.pb.gz", "alloc_objects", "inuse_space", 4 },
	};
	char path[4096], err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct profile *p;

		data_path(path, sizeof(path), cases[i].file);
		if (access(path, R_OK))
			continue; /* written by another test's generator; optional here */
		p = cprof__profile_read_file(path, err, sizeof(err));
		CHECK(p);
		if (!p) {
			fprintf(stderr, "%s\n", err);
			continue;
		}
		CHECK_EQ_INT(p->nsample_type, cases[i].ntypes);
		if (p->nsample_type == cases[i].ntypes) {
			CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[0].type), cases[i].type0);
			CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[cases[i].ntypes - 1].type),
				     cases[i].type_last);
		}
		CHECK(p->nsample > 0);
		check_go_profile(p, "");
		check_round_trip(p);
		cprof__profile_free(p);
	}
}

int main(void)
{
	RUN(test_varint_edges);
	RUN(test_varint_negative_int64_field);
	RUN(test_varint_malformed);
	RUN(test_pb_nested_and_packed);
	RUN(test_pb_msg_long_body);
	RUN(test_buf_ceiling);
	RUN(test_buf_str);
	RUN(test_intern);
	RUN(test_intern_many);
	RUN(test_encode_valuetype);
	RUN(test_encode_sample_packed);
	RUN(test_encode_mapping_bools);
	RUN(test_encode_profile);
	RUN(test_decode_tiny);
	RUN(test_round_trip);
	RUN(test_gzip_round_trip);
	RUN(test_gzip_profile_and_determinism);
	RUN(test_decode_unpacked_and_unknown);
	RUN(test_lookup_sparse_ids);
	RUN(test_reject_string_table);
	RUN(test_reject_ids);
	RUN(test_reject_references);
	RUN(test_reject_malformed);
	RUN(test_reject_concatenated);
	RUN(test_truncated_prefixes);
	RUN(test_validate_built);
	RUN(test_read_file_errors);
	RUN(test_read_file_written);
	RUN(test_go_cpu_profile);
	RUN(test_go_heap_profile);
	RUN(test_go_other_profiles);
	CHECK_EXIT();
}
