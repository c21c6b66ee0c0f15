/*
 * gz.c - gzip compression and bounded decompression with zlib, for
 * profile.proto files on disk (declared in profile.h).
 *
 * It owns the gzip container only: one member on output (mtime 0, so equal
 * input gives equal bytes), any number of concatenated members on input,
 * as Go's gzip reader accepts. It knows nothing about what is inside.
 */
#include "proto/profile.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/buf.h"

/* zlib counts in uInt; feed it at most this much at a time. */
#define CHUNK ((size_t)1 << 20)

int cprof__gzip(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen)
{
	struct buf b;
	z_stream z;
	size_t fed = 0;
	int zrc, rc = 0;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip header (mtime 0) and trailer instead of zlib's */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cprof__buf_init(&b, 0);
	for (;;) {
		size_t room;

		if (z.avail_in == 0 && fed < inlen) {
			size_t feed = inlen - fed > CHUNK ? CHUNK : inlen - fed;

			z.next_in = (Bytef *)in + fed;
			z.avail_in = (uInt)feed;
			fed += feed;
		}
		if (cprof__buf_reserve(&b, CHUNK / 4)) {
			rc = b.err;
			break;
		}
		room = b.cap - b.len - 1;
		if (room > CHUNK)
			room = CHUNK;
		z.next_out = b.data + b.len;
		z.avail_out = (uInt)room;
		zrc = deflate(&z, fed == inlen ? Z_FINISH : Z_NO_FLUSH);
		b.len += room - z.avail_out;
		if (zrc == Z_STREAM_END)
			break;
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			rc = -EIO;
			break;
		}
	}
	deflateEnd(&z);
	if (rc) {
		cprof__buf_release(&b);
		return rc;
	}
	*out = cprof__buf_detach(&b, outlen);
	return *out ? 0 : -ENOMEM;
}

int cprof__gunzip(const uint8_t *in, size_t inlen, size_t max_out,
		  uint8_t **out, size_t *outlen)
{
	struct buf b;
	z_stream z;
	size_t used = 0;
	int zrc, rc = 0;

	if (inlen < 2 || in[0] != 0x1f || in[1] != 0x8b)
		return -EINVAL;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return -ENOMEM;
	cprof__buf_init(&b, max_out ? max_out : SIZE_MAX - 1);
	for (;;) {
		size_t feed, room, before_in;

		feed = inlen - used;
		if (feed > CHUNK)
			feed = CHUNK;
		z.next_in = (Bytef *)in + used;
		z.avail_in = (uInt)feed;
		/* grow toward the ceiling but never past it */
		room = b.cap > b.len + 1 ? b.cap - b.len - 1 : 0;
		if (room > b.max - b.len)
			room = b.max - b.len;
		if (room == 0 && b.len >= b.max) {
			/* full: only fine if the stream is done; test with one byte */
			uint8_t probe;

			z.next_out = &probe;
			z.avail_out = 1;
			before_in = z.avail_in;
			zrc = inflate(&z, Z_NO_FLUSH);
			used += before_in - z.avail_in;
			if (z.avail_out == 0) {
				rc = -EFBIG;
				break;
			}
			goto check;
		}
		if (room == 0) {
			size_t want = b.len < 4096 ? 4096 : b.len;

			if (want > b.max - b.len)
				want = b.max - b.len;
			if (cprof__buf_reserve(&b, want)) {
				rc = b.err;
				break;
			}
			room = b.cap - b.len - 1;
			if (room > b.max - b.len)
				room = b.max - b.len;
		}
		if (room > CHUNK)
			room = CHUNK;
		z.next_out = b.data + b.len;
		z.avail_out = (uInt)room;
		before_in = z.avail_in;
		zrc = inflate(&z, Z_NO_FLUSH);
		used += before_in - z.avail_in;
		b.len += room - z.avail_out;
check:
		if (zrc == Z_STREAM_END) {
			if (used == inlen)
				break;
			/* another gzip member follows (concatenated files) */
			if (inlen - used < 2 || in[used] != 0x1f || in[used + 1] != 0x8b) {
				rc = -EINVAL;
				break;
			}
			if (inflateReset(&z) != Z_OK) {
				rc = -EINVAL;
				break;
			}
			continue;
		}
		if (zrc == Z_BUF_ERROR && used == inlen) {
			rc = -EINVAL; /* truncated stream */
			break;
		}
		if (zrc == Z_MEM_ERROR) {
			rc = -ENOMEM;
			break;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			rc = -EINVAL;
			break;
		}
	}
	inflateEnd(&z);
	if (rc) {
		cprof__buf_release(&b);
		return rc;
	}
	*out = cprof__buf_detach(&b, outlen);
	return *out ? 0 : -ENOMEM;
}
