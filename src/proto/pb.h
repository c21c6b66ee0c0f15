/*
 * pb.h - protobuf wire-format primitives: writing varints, tags, scalars,
 * length-delimited fields, packed repeated fields and nested messages into
 * a struct buf, and a bounds-checked reader over a byte range.
 *
 * No schema knowledge lives here; profile.c maps field numbers to meaning.
 * Writers follow the sticky-error convention of struct buf: check b->err
 * once at the end. Readers never read past their end and never allocate.
 * Callable from any thread, not from a signal handler.
 */
#ifndef CPROF_PROTO_PB_H
#define CPROF_PROTO_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum {
	PB_VARINT = 0,
	PB_I64 = 1,
	PB_LEN = 2,
	PB_I32 = 5,
};

/* Bytes a varint of v takes (1..10). */
size_t cprof__pb_varint_size(uint64_t v);

/* Raw varint; a negative int64 is written as its 64-bit two's complement (10 bytes). */
void cprof__pb_put_varint(struct buf *b, uint64_t v);
void cprof__pb_put_tag(struct buf *b, uint32_t field, int wiretype);

/* Scalar fields, omitted when zero / false (proto3 defaults). */
void cprof__pb_put_uint64(struct buf *b, uint32_t field, uint64_t v);
void cprof__pb_put_int64(struct buf *b, uint32_t field, int64_t v);
void cprof__pb_put_bool(struct buf *b, uint32_t field, bool v);

/* Length-delimited field, always written (even when n == 0). */
void cprof__pb_put_bytes(struct buf *b, uint32_t field, const void *p, size_t n);

/* Packed repeated varint fields; nothing is written when n == 0. */
void cprof__pb_put_packed_uint64(struct buf *b, uint32_t field, const uint64_t *v, size_t n);
void cprof__pb_put_packed_int64(struct buf *b, uint32_t field, const int64_t *v, size_t n);

/*
 * Nested message: begin writes the tag and returns a mark; end inserts the
 * length before the body written since. Always emits (an empty message is
 * tag + 00), which repeated message fields need.
 */
size_t cprof__pb_msg_begin(struct buf *b, uint32_t field);
void cprof__pb_msg_end(struct buf *b, size_t mark);

/*
 * Reader over [p, end). base is the start of the outermost buffer, kept so
 * errors can name an absolute offset. On failure the functions return
 * -EINVAL and set why (a static string) and at (offset of the fault).
 */
struct pb_reader {
	const uint8_t *p;
	const uint8_t *end;
	const uint8_t *base;
	const char *why;
	size_t at;
};

void cprof__pb_reader_init(struct pb_reader *r, const uint8_t *p, size_t n);
/* A reader over [p, p+n) that reports offsets relative to parent->base. */
void cprof__pb_reader_sub(struct pb_reader *sub, const struct pb_reader *parent,
			  const uint8_t *p, size_t n);

static inline bool cprof__pb_more(const struct pb_reader *r)
{
	return r->p < r->end;
}

int cprof__pb_get_varint(struct pb_reader *r, uint64_t *v);
/* Field number (1..2^29-1) and wire type; rejects field 0 and wire types 3, 4, 6, 7. */
int cprof__pb_get_tag(struct pb_reader *r, uint32_t *field, int *wiretype);
/* Length-delimited payload; the length is checked against the bytes left. */
int cprof__pb_get_bytes(struct pb_reader *r, const uint8_t **p, size_t *n);
/* Skip one value of the given wire type. */
int cprof__pb_skip(struct pb_reader *r, int wiretype);

/*
 * Read a repeated varint field that may be packed (wiretype PB_LEN) or not
 * (PB_VARINT, one element) and append to *v (count *n, capacity *cap,
 * realloc'd). Space is reserved only after the packed length has been
 * checked against the input, so growth is bounded by the input size.
 * -EINVAL (why set) on malformed input, -ENOMEM.
 */
int cprof__pb_get_repeated_u64(struct pb_reader *r, int wiretype,
			       uint64_t **v, size_t *n, size_t *cap);
int cprof__pb_get_repeated_i64(struct pb_reader *r, int wiretype,
			       int64_t **v, size_t *n, size_t *cap);

#endif
