/*
 * buf.h - a growable byte buffer with a sticky error and an optional ceiling.
 *
 * Appends after a failure are no-ops, so a writer can emit a whole message
 * and check b->err once at the end. Uses malloc/realloc: callable from any
 * thread, never from a signal handler.
 */
#ifndef CPROF_COMMON_BUF_H
#define CPROF_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* ceiling in bytes; 0 means SIZE_MAX */
	int err;    /* 0, or the first -errno (-ENOMEM, -EFBIG past max) */
};

/* Empty buffer with ceiling max (0 = none). No allocation. */
void cprof__buf_init(struct buf *b, size_t max);
/* Frees the storage; the buffer may be reused after cprof__buf_init. */
void cprof__buf_release(struct buf *b);

/* Make room for n more bytes. 0 or -errno (also recorded in b->err). */
int cprof__buf_reserve(struct buf *b, size_t n);
int cprof__buf_append(struct buf *b, const void *p, size_t n);
int cprof__buf_putc(struct buf *b, uint8_t c);
int cprof__buf_puts(struct buf *b, const char *s);
int cprof__buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The bytes as a C string: a NUL is written past len (there is always room
 * for it), "" when nothing was ever written. Valid until the next write.
 */
const char *cprof__buf_str(struct buf *b);

/*
 * Hand the bytes to the caller (malloc'd, NUL-terminated past len, never
 * NULL on success) and reset the buffer. Returns NULL and releases the
 * storage if b->err is set or allocation fails.
 */
uint8_t *cprof__buf_detach(struct buf *b, size_t *len);

/*
 * Grow the array *p of *cap elements of elem bytes to hold at least need
 * (doubling, from 16). 0, or -ENOMEM (the array is then unchanged).
 */
int cprof__grow(void **p, size_t *cap, size_t need, size_t elem);

#endif
