/*
 * pb.c - protobuf wire-format encoding into a struct buf and bounds-checked
 * decoding from a byte range (see pb.h).
 *
 * It owns varint/tag/length mechanics and the packed-or-unpacked rule for
 * repeated scalars. It does not know any message schema, and it does not
 * validate semantics (ids, string indices): that is profile.c.
 */
#include "proto/pb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t cprof__pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

void cprof__pb_put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	cprof__buf_append(b, tmp, n);
}

void cprof__pb_put_tag(struct buf *b, uint32_t field, int wiretype)
{
	cprof__pb_put_varint(b, ((uint64_t)field << 3) | (uint64_t)wiretype);
}

void cprof__pb_put_uint64(struct buf *b, uint32_t field, uint64_t v)
{
	if (!v)
		return;
	cprof__pb_put_tag(b, field, PB_VARINT);
	cprof__pb_put_varint(b, v);
}

void cprof__pb_put_int64(struct buf *b, uint32_t field, int64_t v)
{
	cprof__pb_put_uint64(b, field, (uint64_t)v);
}

void cprof__pb_put_bool(struct buf *b, uint32_t field, bool v)
{
	cprof__pb_put_uint64(b, field, v ? 1 : 0);
}

void cprof__pb_put_bytes(struct buf *b, uint32_t field, const void *p, size_t n)
{
	cprof__pb_put_tag(b, field, PB_LEN);
	cprof__pb_put_varint(b, n);
	cprof__buf_append(b, p, n);
}

void cprof__pb_put_packed_uint64(struct buf *b, uint32_t field, const uint64_t *v, size_t n)
{
	size_t i, len = 0;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		len += cprof__pb_varint_size(v[i]);
	cprof__pb_put_tag(b, field, PB_LEN);
	cprof__pb_put_varint(b, len);
	if (cprof__buf_reserve(b, len))
		return;
	for (i = 0; i < n; i++)
		cprof__pb_put_varint(b, v[i]);
}

void cprof__pb_put_packed_int64(struct buf *b, uint32_t field, const int64_t *v, size_t n)
{
	size_t i, len = 0;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		len += cprof__pb_varint_size((uint64_t)v[i]);
	cprof__pb_put_tag(b, field, PB_LEN);
	cprof__pb_put_varint(b, len);
	if (cprof__buf_reserve(b, len))
		return;
	for (i = 0; i < n; i++)
		cprof__pb_put_varint(b, (uint64_t)v[i]);
}

size_t cprof__pb_msg_begin(struct buf *b, uint32_t field)
{
	cprof__pb_put_tag(b, field, PB_LEN);
	return b->len;
}

void cprof__pb_msg_end(struct buf *b, size_t mark)
{
	size_t body, k;

	if (b->err)
		return;
	body = b->len - mark;
	k = cprof__pb_varint_size(body);
	if (cprof__buf_reserve(b, k))
		return;
	/* Bodies are small (one sample, one location), so the move is cheap. */
	memmove(b->data + mark + k, b->data + mark, body);
	b->len = mark;
	cprof__pb_put_varint(b, body);
	b->len = mark + k + body;
}

void cprof__pb_reader_init(struct pb_reader *r, const uint8_t *p, size_t n)
{
	r->p = p;
	r->end = p + n;
	r->base = p;
	r->why = NULL;
	r->at = 0;
}

void cprof__pb_reader_sub(struct pb_reader *sub, const struct pb_reader *parent,
			  const uint8_t *p, size_t n)
{
	sub->p = p;
	sub->end = p + n;
	sub->base = parent->base;
	sub->why = NULL;
	sub->at = 0;
}

static int fail(struct pb_reader *r, const uint8_t *at, const char *why)
{
	r->why = why;
	r->at = (size_t)(at - r->base);
	return -EINVAL;
}

int cprof__pb_get_varint(struct pb_reader *r, uint64_t *v)
{
	const uint8_t *start = r->p;
	uint64_t x = 0;
	unsigned shift;

	for (shift = 0; shift < 64; shift += 7) {
		uint8_t c;

		if (r->p >= r->end)
			return fail(r, start, "truncated varint");
		c = *r->p++;
		/* the tenth byte may only carry bit 63 */
		if (shift == 63 && c > 1)
			return fail(r, start, "varint overflows 64 bits");
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return fail(r, start, "varint longer than 10 bytes");
}

int cprof__pb_get_tag(struct pb_reader *r, uint32_t *field, int *wiretype)
{
	const uint8_t *start = r->p;
	uint64_t t;
	int wt;

	if (cprof__pb_get_varint(r, &t))
		return -EINVAL;
	if ((t >> 3) == 0 || (t >> 3) > 0x1fffffff)
		return fail(r, start, "invalid field number");
	wt = (int)(t & 7);
	if (wt != PB_VARINT && wt != PB_I64 && wt != PB_LEN && wt != PB_I32)
		return fail(r, start, "unsupported wire type");
	*field = (uint32_t)(t >> 3);
	*wiretype = wt;
	return 0;
}

int cprof__pb_get_bytes(struct pb_reader *r, const uint8_t **p, size_t *n)
{
	const uint8_t *start = r->p;
	uint64_t len;

	if (cprof__pb_get_varint(r, &len))
		return -EINVAL;
	if (len > (uint64_t)(r->end - r->p))
		return fail(r, start, "length past end of message");
	*p = r->p;
	*n = (size_t)len;
	r->p += len;
	return 0;
}

int cprof__pb_skip(struct pb_reader *r, int wiretype)
{
	const uint8_t *p;
	uint64_t v;
	size_t n;

	switch (wiretype) {
	case PB_VARINT:
		return cprof__pb_get_varint(r, &v);
	case PB_LEN:
		return cprof__pb_get_bytes(r, &p, &n);
	case PB_I64:
	case PB_I32:
		n = wiretype == PB_I64 ? 8 : 4;
		if ((size_t)(r->end - r->p) < n)
			return fail(r, r->p, "truncated fixed-size field");
		r->p += n;
		return 0;
	}
	return fail(r, r->p, "unsupported wire type");
}

/* Grow *v (elements of 8 bytes) to hold at least need elements. */
static int grow8(void **v, size_t *cap, size_t need)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 4;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / 8)
		return -ENOMEM;
	nv = realloc(*v, ncap * 8);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static int get_repeated(struct pb_reader *r, int wiretype, void **v, size_t *n, size_t *cap)
{
	struct pb_reader sub;
	const uint8_t *p;
	size_t len, i, count = 0;
	uint64_t x;
	int rc;

	if (wiretype == PB_VARINT) {
		if (cprof__pb_get_varint(r, &x))
			return -EINVAL;
		if ((rc = grow8(v, cap, *n + 1)))
			return rc;
		memcpy((uint8_t *)*v + *n * 8, &x, 8);
		(*n)++;
		return 0;
	}
	if (wiretype != PB_LEN)
		return fail(r, r->p, "repeated integer field has wrong wire type");
	if (cprof__pb_get_bytes(r, &p, &len))
		return -EINVAL;
	/* every varint ends in exactly one byte with the top bit clear */
	for (i = 0; i < len; i++)
		count += !(p[i] & 0x80);
	/* The usual case, one packed run per field: allocate exactly what it
	 * holds. A large profile is mostly these arrays (one per sample), and
	 * rounding each up to a power of two cost a quarter of its memory. */
	if (*cap == 0 && *n == 0 && count > 0) {
		void *nv = malloc(count * 8);
		if (!nv)
			return -ENOMEM;
		free(*v);
		*v = nv;
		*cap = count;
	}
	if ((rc = grow8(v, cap, *n + count)))
		return rc;
	/* Fast path for well-formed varints of up to 9 bytes (every location
	 * id and most values): a tight loop, no call per varint. Anything
	 * else (10-byte varints, a truncated one) goes on below from there,
	 * through cprof__pb_get_varint and its checks and messages. With
	 * count 0 (nothing, or only bytes with the top bit set) *v may still
	 * be NULL, and nothing here would be stored anyway. */
	if (count > 0) {
		uint64_t *out = (uint64_t *)*v + *n;
		const uint8_t *q = p, *end = p + len;

		while (q < end) {
			const uint8_t *t = q;
			unsigned shift = 0;

			x = *t++;
			if (x >= 0x80) {
				x &= 0x7f;
				for (;;) {
					uint8_t c;

					shift += 7;
					if (t >= end || shift > 56)
						break;
					c = *t++;
					x |= (uint64_t)(c & 0x7f) << shift;
					if (!(c & 0x80)) {
						shift = 0;
						break;
					}
				}
				if (shift)
					break; /* not handled here */
			}
			*out++ = x;
			q = t;
		}
		*n = (size_t)(out - (uint64_t *)*v);
		len -= (size_t)(q - p);
		p = q;
	}
	cprof__pb_reader_sub(&sub, r, p, len);
	while (cprof__pb_more(&sub)) {
		if (cprof__pb_get_varint(&sub, &x)) {
			r->why = sub.why;
			r->at = sub.at;
			return -EINVAL;
		}
		memcpy((uint8_t *)*v + *n * 8, &x, 8);
		(*n)++;
	}
	return 0;
}

int cprof__pb_get_repeated_u64(struct pb_reader *r, int wiretype,
			       uint64_t **v, size_t *n, size_t *cap)
{
	void *p = *v;
	int rc = get_repeated(r, wiretype, &p, n, cap);

	*v = p;
	return rc;
}

int cprof__pb_get_repeated_i64(struct pb_reader *r, int wiretype,
			       int64_t **v, size_t *n, size_t *cap)
{
	void *p = *v;
	int rc = get_repeated(r, wiretype, &p, n, cap);

	*v = p;
	return rc;
}
