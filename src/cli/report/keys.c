/*
 * keys.c - the byte-string keys (keys.h) with which the report engine folds equal
 * things together as pprof's profile.Merge does: key builders over a
 * common/buf.h buffer (fixed-width numbers, NUL-terminated strings), the
 * keys of a mapping and a function (Mapping.key, Function.key), and a set
 * of keys that gives each distinct key a dense id in order of first use.
 *
 * What is keyed, and what a key's id means, is the callers' (graph.c's
 * total over merged samples, raw.c's compaction); nothing here knows a
 * location or a sample.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/keys.h"
#include "cli/report/report.h"

void cprof__report_function_key(struct buf *k, const struct profile *p,
				const struct pp_function *fn)
{
	k->len = 0;
	cprof__report_key_u64(k, (uint64_t)fn->start_line);
	cprof__report_key_str(k, cprof__profile_str(p, fn->name));
	cprof__report_key_str(k, cprof__profile_str(p, fn->system_name));
	cprof__report_key_str(k, cprof__profile_str(p, fn->filename));
}

void cprof__report_mapping_key(struct buf *k, const struct profile *p, const struct pp_mapping *m)
{
	/* Mapping.key: the size rounded up to whole 4 KiB pages. */
	uint64_t size = m->memory_limit - m->memory_start;
	size = size + 0xfff;
	size -= size % 0x1000;
	const char *bid = cprof__profile_str(p, m->build_id);
	k->len = 0;
	cprof__report_key_u64(k, size);
	cprof__report_key_u64(k, m->file_offset);
	cprof__report_key_str(k, bid[0] ? bid : cprof__profile_str(p, m->filename));
}

int cprof__report_cmp_label(const void *a, const void *b, void *ctx)
{
	const struct profile *p = ctx;
	const struct pp_label *x = *(const struct pp_label *const *)a;
	const struct pp_label *y = *(const struct pp_label *const *)b;
	int c = strcmp(cprof__profile_str(p, x->key), cprof__profile_str(p, y->key));
	if (c)
		return c;
	return x < y ? -1 : x > y; /* keep the order of values under one key */
}

/* ---- the set of keys ---- */

static int keyset_rehash(struct report_keyset *ks)
{
	size_t n = ks->nslot ? ks->nslot * 2 : 256;
	size_t *slot = calloc(n, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < ks->n; i++) {
		size_t j = ks->hash[i] & (n - 1);
		while (slot[j])
			j = (j + 1) & (n - 1);
		slot[j] = i + 1;
	}
	free(ks->slot);
	ks->slot = slot;
	ks->nslot = n;
	return 0;
}

size_t cprof__report_keyset_add(struct report_keyset *ks, const struct buf *k, bool *added)
{
	const char *s = k->data ? (const char *)k->data : "";
	size_t len = k->len;
	if (added)
		*added = false;
	if (k->err)
		return SIZE_MAX;
	if ((ks->n + 1) * 2 > ks->nslot && keyset_rehash(ks) < 0)
		return SIZE_MAX;
	uint64_t h = cprof__report_fnv(s, len, REPORT_FNV_BASIS);
	size_t j = h & (ks->nslot - 1);
	while (ks->slot[j]) {
		size_t i = ks->slot[j] - 1;
		if (ks->hash[i] == h && ks->len[i] == len && memcmp(ks->s[i], s, len) == 0)
			return i;
		j = (j + 1) & (ks->nslot - 1);
	}
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 64;
		char **ns = realloc(ks->s, cap * sizeof(*ns));
		if (ns)
			ks->s = ns;
		size_t *nl = realloc(ks->len, cap * sizeof(*nl));
		if (nl)
			ks->len = nl;
		uint64_t *nh = realloc(ks->hash, cap * sizeof(*nh));
		if (nh)
			ks->hash = nh;
		if (!ns || !nl || !nh)
			return SIZE_MAX;
		ks->cap = cap;
	}
	char *c = malloc(len + 1);
	if (!c)
		return SIZE_MAX;
	memcpy(c, s, len);
	c[len] = '\0';
	ks->s[ks->n] = c;
	ks->len[ks->n] = len;
	ks->hash[ks->n] = h;
	ks->slot[j] = ks->n + 1;
	if (added)
		*added = true;
	return ks->n++;
}

void cprof__report_keyset_release(struct report_keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->s[i]);
	free(ks->s);
	free(ks->len);
	free(ks->hash);
	free(ks->slot);
	memset(ks, 0, sizeof(*ks));
}
