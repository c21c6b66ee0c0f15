/*
 * buf.c - the growable byte buffer of buf.h: doubling growth, a ceiling and
 * a sticky error. It knows nothing of what is written into it (protobuf,
 * text, HTTP); formats live with their modules.
 */
#include "common/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cprof__buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : SIZE_MAX;
}

void cprof__buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int cprof__buf_reserve(struct buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *p;

	if (b->err)
		return b->err;
	if (n > b->max || b->len > b->max - n) {
		b->err = -EFBIG;
		return b->err;
	}
	/* one spare byte so detach can NUL-terminate without a realloc */
	if (b->len + n == SIZE_MAX) {
		b->err = -ENOMEM;
		return b->err;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	p = realloc(b->data, ncap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int cprof__buf_append(struct buf *b, const void *p, size_t n)
{
	if (cprof__buf_reserve(b, n))
		return b->err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int cprof__buf_putc(struct buf *b, uint8_t c)
{
	if (b->len + 1 < b->cap && b->len < b->max && !b->err) {
		b->data[b->len++] = c;
		return 0;
	}
	return cprof__buf_append(b, &c, 1);
}

int cprof__buf_puts(struct buf *b, const char *s)
{
	return cprof__buf_append(b, s, strlen(s));
}

int cprof__buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return b->err;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return b->err;
	}
	if (cprof__buf_reserve(b, (size_t)n))
		return b->err;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *cprof__buf_str(struct buf *b)
{
	if (!b->data)
		return "";
	b->data[b->len] = 0;
	return (const char *)b->data;
}

uint8_t *cprof__buf_detach(struct buf *b, size_t *len)
{
	uint8_t *p;

	if (!b->err)
		cprof__buf_reserve(b, 0);
	if (b->err) {
		cprof__buf_release(b);
		return NULL;
	}
	p = b->data;
	p[b->len] = 0;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int cprof__grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 16;
	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return -ENOMEM;
		nc *= 2;
	}
	if (elem && nc > SIZE_MAX / elem)
		return -ENOMEM;
	void *q = realloc(*p, nc * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = nc;
	return 0;
}
