/*
 * profile.c - the in-memory pprof profile of profile.h: building it (string
 * interning, append helpers, id lookups), encoding it to profile.proto with
 * a fixed field order, and decoding + validating untrusted profile.proto
 * bytes, gzipped or not.
 *
 * Wire mechanics are in pb.c, the gzip container in gz.c. This file does not
 * know who produced the samples and does no symbolization or reporting.
 * Decoding is fuzzed: every length is checked against the bytes that remain
 * before anything is allocated for it, so memory stays linear in the input.
 */
#include "proto/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "proto/pb.h"

/* Largest profile we gunzip or read from disk. */
#define MAX_PROFILE_BYTES ((size_t)1 << 30)

enum { K_MAPPING, K_LOCATION, K_FUNCTION, K_NKIND };
static const char *const kind_name[K_NKIND] = { "mapping", "location", "function" };

/* Open-addressing hash from id to array position, for ids that are not 1..n. */
struct idslot {
	uint64_t id; /* 0 = empty slot */
	size_t pos;
};

struct idindex {
	struct idslot *slot;
	size_t mask;      /* capacity - 1; the index is absent when slot == NULL */
	const void *base; /* array and count the index was built for */
	size_t n;
};

struct pp_intern {
	uint32_t *slot;  /* string index + 1; 0 = empty */
	size_t mask;     /* capacity - 1 */
	size_t nindexed; /* strings[0 .. nindexed) are in the table */
	struct idindex ix[K_NKIND];
};

/* ------------------------------------------------------------------ */
/* allocation helpers                                                  */

static int grow_from(void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : first;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return -ENOMEM;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	return grow_from(arr, cap, need, elem, 8);
}

#define GROW(arr, cap, need) grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))
/* For the arrays inside one message (a location's lines, a sample's labels):
 * most hold one or two elements, and there is one per location or sample. */
#define GROW_SMALL(arr, cap, need) grow_from((void **)&(arr), &(cap), (need), sizeof(*(arr)), 1)

static void *dup_array(const void *src, size_t n, size_t elem)
{
	void *p;

	if (!n)
		return NULL;
	p = malloc(n * elem);
	if (p)
		memcpy(p, src, n * elem);
	return p;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t hash_id(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */

static struct profile *profile_alloc(void)
{
	struct profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->intern = calloc(1, sizeof(*p->intern));
	if (!p->intern) {
		free(p);
		return NULL;
	}
	return p;
}

/* Append an owned copy of s[0..n), cut at the first NUL. */
static int push_string(struct profile *p, const char *s, size_t n)
{
	char *c;

	n = strnlen(s, n);
	if (p->nstrings >= UINT32_MAX - 1)
		return -ENOMEM;
	if (GROW(p->strings, p->cap_strings, p->nstrings + 1))
		return -ENOMEM;
	c = malloc(n + 1);
	if (!c)
		return -ENOMEM;
	memcpy(c, s, n);
	c[n] = 0;
	p->strings[p->nstrings++] = c;
	return 0;
}

struct profile *cprof__profile_new(void)
{
	struct profile *p = profile_alloc();

	if (p && push_string(p, "", 0)) {
		cprof__profile_free(p);
		return NULL;
	}
	return p;
}

void cprof__profile_free(struct profile *p)
{
	size_t i;
	int k;

	if (!p)
		return;
	for (i = 0; i < p->nsample; i++) {
		free(p->sample[i].location_id);
		free(p->sample[i].value);
		free(p->sample[i].label);
	}
	for (i = 0; i < p->nlocation; i++)
		free(p->location[i].line);
	for (i = 0; i < p->nstrings; i++)
		free(p->strings[i]);
	free(p->sample_type);
	free(p->sample);
	free(p->mapping);
	free(p->location);
	free(p->function);
	free(p->strings);
	free(p->comment);
	if (p->intern) {
		free(p->intern->slot);
		for (k = 0; k < K_NKIND; k++)
			free(p->intern->ix[k].slot);
		free(p->intern);
	}
	free(p);
}

/* ------------------------------------------------------------------ */
/* strings                                                             */

static size_t str_find(const struct pp_intern *in, char *const *strings,
		       const char *s, size_t n, uint64_t h, bool *found)
{
	size_t i = (size_t)h & in->mask;

	for (;;) {
		uint32_t v = in->slot[i];

		if (!v) {
			*found = false;
			return i;
		}
		if (!strncmp(strings[v - 1], s, n) && strings[v - 1][n] == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & in->mask;
	}
}

static int str_rehash(struct profile *p, size_t cap)
{
	struct pp_intern *in = p->intern;
	uint32_t *slot = calloc(cap, sizeof(*slot)), *old = in->slot;
	size_t i, oldcap = in->slot ? in->mask + 1 : 0;

	if (!slot)
		return -ENOMEM;
	in->slot = slot;
	in->mask = cap - 1;
	for (i = 0; i < oldcap; i++) {
		uint32_t v = old[i];
		const char *s;
		size_t j;

		if (!v)
			continue;
		s = p->strings[v - 1];
		j = (size_t)hash_bytes(s, strlen(s)) & in->mask;
		while (slot[j])
			j = (j + 1) & in->mask;
		slot[j] = v;
	}
	free(old);
	return 0;
}

/* Make room for one more entry, keeping the load under one half. */
static int str_reserve(struct profile *p)
{
	struct pp_intern *in = p->intern;
	size_t cap = in->slot ? in->mask + 1 : 0;

	if ((in->nindexed + 1) * 2 <= cap)
		return 0;
	return str_rehash(p, cap ? cap * 2 : 64);
}

/* Bring strings appended without interning (decode) into the table. */
static int str_catch_up(struct profile *p)
{
	struct pp_intern *in = p->intern;

	while (in->nindexed < p->nstrings) {
		const char *s = p->strings[in->nindexed];
		size_t n = strlen(s), i;
		bool found;

		if (str_reserve(p))
			return -ENOMEM;
		i = str_find(in, p->strings, s, n, hash_bytes(s, n), &found);
		if (!found) /* duplicates keep the first index */
			in->slot[i] = (uint32_t)(in->nindexed + 1);
		in->nindexed++;
	}
	return 0;
}

int64_t cprof__profile_intern(struct profile *p, const char *s, size_t len)
{
	struct pp_intern *in = p->intern;
	uint64_t h;
	size_t i;
	bool found;

	if (!s)
		s = "";
	len = len == (size_t)-1 ? strlen(s) : strnlen(s, len);
	if (str_catch_up(p) || str_reserve(p))
		return -1;
	h = hash_bytes(s, len);
	i = str_find(in, p->strings, s, len, h, &found);
	if (found)
		return (int64_t)in->slot[i] - 1;
	if (push_string(p, s, len))
		return -1;
	in->slot[i] = (uint32_t)p->nstrings;
	in->nindexed = p->nstrings;
	return (int64_t)p->nstrings - 1;
}

const char *cprof__profile_str(const struct profile *p, int64_t idx)
{
	if (idx < 0 || (uint64_t)idx >= p->nstrings || !p->strings[idx])
		return "";
	return p->strings[idx];
}

/* ------------------------------------------------------------------ */
/* ids                                                                 */

static size_t kind_count(const struct profile *p, int k)
{
	return k == K_MAPPING ? p->nmapping : k == K_LOCATION ? p->nlocation : p->nfunction;
}

static const void *kind_base(const struct profile *p, int k)
{
	return k == K_MAPPING ? (const void *)p->mapping :
	       k == K_LOCATION ? (const void *)p->location : (const void *)p->function;
}

static uint64_t kind_id(const struct profile *p, int k, size_t pos)
{
	return k == K_MAPPING ? p->mapping[pos].id :
	       k == K_LOCATION ? p->location[pos].id : p->function[pos].id;
}

static int ix_insert(struct idindex *ix, uint64_t id, size_t pos);

/*
 * Index the n elements of kind k for lookups that miss the 1..n fast path
 * (an id past n, asked by next_id for every element appended to a dense
 * profile, or ids out of order). Unlike ix_build it checks nothing: of
 * equal ids the first is indexed, as a scan would find it. 0 or -ENOMEM.
 */
static int ix_lazy(const struct profile *p, int k)
{
	struct idindex *ix = &p->intern->ix[k];
	size_t n = kind_count(p, k), i, cap = 16;

	while (cap < n * 2)
		cap *= 2;
	free(ix->slot);
	memset(ix, 0, sizeof(*ix));
	ix->slot = calloc(cap, sizeof(*ix->slot));
	if (!ix->slot)
		return -ENOMEM;
	ix->mask = cap - 1;
	for (i = 0; i < n; i++)
		if (kind_id(p, k, i))
			(void)ix_insert(ix, kind_id(p, k, i), i);
	ix->base = kind_base(p, k);
	ix->n = n;
	return 0;
}

/* Position of id in the array of kind k, or SIZE_MAX. */
static size_t find_id(const struct profile *p, int k, uint64_t id)
{
	const struct idindex *ix = &p->intern->ix[k];
	size_t n = kind_count(p, k), i;

	if (id == 0)
		return SIZE_MAX;
	if (id <= n && kind_id(p, k, id - 1) == id)
		return id - 1; /* the common case: ids are 1..n in order */
	/* Scanning is fine for a few elements; past that, a scan per append
	 * (next_id) made building a 36,000-location profile take seconds. */
	if (n > 64 && !(ix->slot && ix->base == kind_base(p, k) && ix->n == n))
		(void)ix_lazy(p, k);
	if (ix->slot && ix->base == kind_base(p, k) && ix->n == n) {
		for (i = (size_t)hash_id(id) & ix->mask; ix->slot[i].id; i = (i + 1) & ix->mask)
			if (ix->slot[i].id == id)
				return ix->slot[i].pos < n && kind_id(p, k, ix->slot[i].pos) == id ?
					       ix->slot[i].pos : SIZE_MAX;
		return SIZE_MAX;
	}
	for (i = 0; i < n; i++) /* no index (hand-built, sparse): scan */
		if (kind_id(p, k, i) == id)
			return i;
	return SIZE_MAX;
}

/* Insert into an index with room; -EEXIST if the id is already there. */
static int ix_insert(struct idindex *ix, uint64_t id, size_t pos)
{
	size_t i;

	for (i = (size_t)hash_id(id) & ix->mask; ix->slot[i].id; i = (i + 1) & ix->mask)
		if (ix->slot[i].id == id)
			return -EEXIST;
	ix->slot[i].id = id;
	ix->slot[i].pos = pos;
	return 0;
}

/*
 * Check ids of kind k are nonzero and unique, and index them when they are
 * not simply 1..n. On a bad id returns -EINVAL with *bad set.
 */
static int ix_build(struct profile *p, int k, uint64_t *bad)
{
	struct idindex *ix = &p->intern->ix[k];
	size_t n = kind_count(p, k), i, cap = 16;
	bool dense = true;

	free(ix->slot);
	memset(ix, 0, sizeof(*ix));
	for (i = 0; i < n; i++) {
		uint64_t id = kind_id(p, k, i);

		if (id == 0) {
			*bad = 0;
			return -EINVAL;
		}
		if (id != i + 1)
			dense = false;
	}
	if (dense)
		return 0;
	while (cap < n * 2)
		cap *= 2;
	ix->slot = calloc(cap, sizeof(*ix->slot));
	if (!ix->slot)
		return -ENOMEM;
	ix->mask = cap - 1;
	for (i = 0; i < n; i++) {
		if (ix_insert(ix, kind_id(p, k, i), i)) {
			*bad = kind_id(p, k, i);
			free(ix->slot);
			memset(ix, 0, sizeof(*ix));
			return -EINVAL;
		}
	}
	ix->base = kind_base(p, k);
	ix->n = n;
	return 0;
}

/* After appending element pos with id: keep an existing index current. */
static void ix_appended(struct profile *p, int k, const void *oldbase, size_t pos, uint64_t id)
{
	struct idindex *ix = &p->intern->ix[k];

	if (!ix->slot || ix->base != oldbase || ix->n != pos)
		return;
	if ((pos + 1) * 2 > ix->mask + 1 || ix_insert(ix, id, pos)) {
		/* full or clashing: drop it, lookups fall back to a scan */
		free(ix->slot);
		memset(ix, 0, sizeof(*ix));
		return;
	}
	ix->base = kind_base(p, k);
	ix->n = pos + 1;
}

/* The id a new element of kind k gets: n + 1, or max + 1 if that is taken. */
static uint64_t next_id(const struct profile *p, int k)
{
	size_t n = kind_count(p, k), i;
	uint64_t max = 0;

	if (find_id(p, k, n + 1) == SIZE_MAX)
		return n + 1;
	for (i = 0; i < n; i++)
		if (kind_id(p, k, i) > max)
			max = kind_id(p, k, i);
	return max + 1;
}

const struct pp_location *cprof__profile_location_find(const struct profile *p, uint64_t id)
{
	size_t i = find_id(p, K_LOCATION, id);

	return i == SIZE_MAX ? NULL : &p->location[i];
}

const struct pp_function *cprof__profile_function_find(const struct profile *p, uint64_t id)
{
	size_t i = find_id(p, K_FUNCTION, id);

	return i == SIZE_MAX ? NULL : &p->function[i];
}

const struct pp_mapping *cprof__profile_mapping(const struct profile *p, uint64_t id)
{
	size_t i = find_id(p, K_MAPPING, id);

	return i == SIZE_MAX ? NULL : &p->mapping[i];
}

/* ------------------------------------------------------------------ */
/* append helpers                                                      */

struct pp_valuetype *cprof__profile_add_sample_type(struct profile *p,
						   const char *type, const char *unit)
{
	int64_t t = cprof__profile_intern(p, type, (size_t)-1);
	int64_t u = cprof__profile_intern(p, unit, (size_t)-1);
	struct pp_valuetype *vt;

	if (t < 0 || u < 0 || GROW(p->sample_type, p->cap_sample_type, p->nsample_type + 1))
		return NULL;
	vt = &p->sample_type[p->nsample_type++];
	vt->type = t;
	vt->unit = u;
	return vt;
}

struct pp_sample *cprof__profile_add_sample(struct profile *p,
					    const uint64_t *location_id, size_t nlocation,
					    const int64_t *value, size_t nvalue,
					    const struct pp_label *label, size_t nlabel)
{
	struct pp_sample s = { 0 };

	if (GROW(p->sample, p->cap_sample, p->nsample + 1))
		return NULL;
	s.location_id = dup_array(location_id, nlocation, sizeof(*location_id));
	s.value = dup_array(value, nvalue, sizeof(*value));
	s.label = dup_array(label, nlabel, sizeof(*label));
	if ((nlocation && !s.location_id) || (nvalue && !s.value) || (nlabel && !s.label)) {
		free(s.location_id);
		free(s.value);
		free(s.label);
		return NULL;
	}
	s.nlocation = nlocation;
	s.nvalue = nvalue;
	s.nlabel = nlabel;
	p->sample[p->nsample] = s;
	return &p->sample[p->nsample++];
}

struct pp_mapping *cprof__profile_add_mapping(struct profile *p)
{
	const void *old = p->mapping;
	uint64_t id = next_id(p, K_MAPPING);
	struct pp_mapping *m;

	if (GROW(p->mapping, p->cap_mapping, p->nmapping + 1))
		return NULL;
	m = &p->mapping[p->nmapping];
	memset(m, 0, sizeof(*m));
	m->id = id;
	ix_appended(p, K_MAPPING, old, p->nmapping++, id);
	return m;
}

struct pp_location *cprof__profile_add_location(struct profile *p,
						uint64_t mapping_id, uint64_t address,
						const struct pp_line *line, size_t nline)
{
	const void *old = p->location;
	uint64_t id = next_id(p, K_LOCATION);
	struct pp_location *l;
	struct pp_line *lines;

	lines = dup_array(line, nline, sizeof(*line));
	if ((nline && !lines) || GROW(p->location, p->cap_location, p->nlocation + 1)) {
		free(lines);
		return NULL;
	}
	l = &p->location[p->nlocation];
	memset(l, 0, sizeof(*l));
	l->id = id;
	l->mapping_id = mapping_id;
	l->address = address;
	l->line = lines;
	l->nline = nline;
	ix_appended(p, K_LOCATION, old, p->nlocation++, id);
	return l;
}

struct pp_function *cprof__profile_add_function(struct profile *p,
						const char *name, const char *system_name,
						const char *filename, int64_t start_line)
{
	const void *old = p->function;
	int64_t n = cprof__profile_intern(p, name, (size_t)-1);
	int64_t sn = cprof__profile_intern(p, system_name, (size_t)-1);
	int64_t fn = cprof__profile_intern(p, filename, (size_t)-1);
	uint64_t id = next_id(p, K_FUNCTION);
	struct pp_function *f;

	if (n < 0 || sn < 0 || fn < 0 || GROW(p->function, p->cap_function, p->nfunction + 1))
		return NULL;
	f = &p->function[p->nfunction];
	f->id = id;
	f->name = n;
	f->system_name = sn;
	f->filename = fn;
	f->start_line = start_line;
	ix_appended(p, K_FUNCTION, old, p->nfunction++, id);
	return f;
}

int cprof__profile_add_comment(struct profile *p, const char *text)
{
	int64_t s = cprof__profile_intern(p, text, (size_t)-1);

	if (s < 0 || GROW(p->comment, p->cap_comment, p->ncomment + 1))
		return -ENOMEM;
	p->comment[p->ncomment++] = s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* encoding                                                            */

static void put_valuetype(struct buf *b, uint32_t field, const struct pp_valuetype *vt)
{
	size_t m = cprof__pb_msg_begin(b, field);

	cprof__pb_put_int64(b, 1, vt->type);
	cprof__pb_put_int64(b, 2, vt->unit);
	cprof__pb_msg_end(b, m);
}

static void put_sample(struct buf *b, const struct pp_sample *s)
{
	size_t m = cprof__pb_msg_begin(b, 2), i;

	cprof__pb_put_packed_uint64(b, 1, s->location_id, s->nlocation);
	cprof__pb_put_packed_int64(b, 2, s->value, s->nvalue);
	for (i = 0; i < s->nlabel; i++) {
		const struct pp_label *l = &s->label[i];
		size_t lm = cprof__pb_msg_begin(b, 3);

		cprof__pb_put_int64(b, 1, l->key);
		cprof__pb_put_int64(b, 2, l->str);
		cprof__pb_put_int64(b, 3, l->num);
		cprof__pb_put_int64(b, 4, l->num_unit);
		cprof__pb_msg_end(b, lm);
	}
	cprof__pb_msg_end(b, m);
}

static void put_mapping(struct buf *b, const struct pp_mapping *mp)
{
	size_t m = cprof__pb_msg_begin(b, 3);

	cprof__pb_put_uint64(b, 1, mp->id);
	cprof__pb_put_uint64(b, 2, mp->memory_start);
	cprof__pb_put_uint64(b, 3, mp->memory_limit);
	cprof__pb_put_uint64(b, 4, mp->file_offset);
	cprof__pb_put_int64(b, 5, mp->filename);
	cprof__pb_put_int64(b, 6, mp->build_id);
	cprof__pb_put_bool(b, 7, mp->has_functions);
	cprof__pb_put_bool(b, 8, mp->has_filenames);
	cprof__pb_put_bool(b, 9, mp->has_line_numbers);
	cprof__pb_put_bool(b, 10, mp->has_inline_frames);
	cprof__pb_msg_end(b, m);
}

static void put_location(struct buf *b, const struct pp_location *l)
{
	size_t m = cprof__pb_msg_begin(b, 4), i;

	cprof__pb_put_uint64(b, 1, l->id);
	cprof__pb_put_uint64(b, 2, l->mapping_id);
	cprof__pb_put_uint64(b, 3, l->address);
	for (i = 0; i < l->nline; i++) {
		size_t lm = cprof__pb_msg_begin(b, 4);

		cprof__pb_put_uint64(b, 1, l->line[i].function_id);
		cprof__pb_put_int64(b, 2, l->line[i].line);
		cprof__pb_put_int64(b, 3, l->line[i].column);
		cprof__pb_msg_end(b, lm);
	}
	cprof__pb_put_bool(b, 5, l->is_folded);
	cprof__pb_msg_end(b, m);
}

static void put_function(struct buf *b, const struct pp_function *f)
{
	size_t m = cprof__pb_msg_begin(b, 5);

	cprof__pb_put_uint64(b, 1, f->id);
	cprof__pb_put_int64(b, 2, f->name);
	cprof__pb_put_int64(b, 3, f->system_name);
	cprof__pb_put_int64(b, 4, f->filename);
	cprof__pb_put_int64(b, 5, f->start_line);
	cprof__pb_msg_end(b, m);
}

int cprof__profile_encode(const struct profile *p, uint8_t **out, size_t *outlen)
{
	struct buf b;
	size_t i;

	cprof__buf_init(&b, 0);
	for (i = 0; i < p->nsample_type; i++)
		put_valuetype(&b, 1, &p->sample_type[i]);
	for (i = 0; i < p->nsample; i++)
		put_sample(&b, &p->sample[i]);
	for (i = 0; i < p->nmapping; i++)
		put_mapping(&b, &p->mapping[i]);
	for (i = 0; i < p->nlocation; i++)
		put_location(&b, &p->location[i]);
	for (i = 0; i < p->nfunction; i++)
		put_function(&b, &p->function[i]);
	for (i = 0; i < p->nstrings; i++) {
		const char *s = p->strings[i] ? p->strings[i] : "";

		cprof__pb_put_bytes(&b, 6, s, strlen(s));
	}
	cprof__pb_put_int64(&b, 7, p->drop_frames);
	cprof__pb_put_int64(&b, 8, p->keep_frames);
	cprof__pb_put_int64(&b, 9, p->time_nanos);
	cprof__pb_put_int64(&b, 10, p->duration_nanos);
	if (p->period_type.type || p->period_type.unit)
		put_valuetype(&b, 11, &p->period_type);
	cprof__pb_put_int64(&b, 12, p->period);
	cprof__pb_put_packed_int64(&b, 13, p->comment, p->ncomment);
	cprof__pb_put_int64(&b, 14, p->default_sample_type);
	cprof__pb_put_int64(&b, 15, p->doc_url);
	if (b.err) {
		int rc = b.err;

		cprof__buf_release(&b);
		return rc;
	}
	*out = cprof__buf_detach(&b, outlen);
	return *out ? 0 : -ENOMEM;
}

int cprof__profile_encode_gz(const struct profile *p, uint8_t **out, size_t *outlen)
{
	uint8_t *raw;
	size_t rawlen;
	int rc = cprof__profile_encode(p, &raw, &rawlen);

	if (rc)
		return rc;
	rc = cprof__gzip(raw, rawlen, out, outlen);
	free(raw);
	return rc;
}

/* ------------------------------------------------------------------ */
/* validation                                                          */

static int errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

#define CHECK_STR(idx, ...)                                                          \
	do {                                                                         \
		if ((idx) < 0 || (uint64_t)(idx) >= p->nstrings) {                   \
			char what_[96];                                              \
			snprintf(what_, sizeof(what_), __VA_ARGS__);                 \
			return errf(err, errlen,                                     \
				    "%s: string index %lld out of range (string_table has %zu entries)", \
				    what_, (long long)(idx), p->nstrings);           \
		}                                                                    \
	} while (0)

int cprof__profile_validate(struct profile *p, char *err, size_t errlen)
{
	size_t i, j;
	int k, rc;

	if (!p->nstrings || !p->strings[0] || p->strings[0][0])
		return errf(err, errlen, "string_table[0] must be \"\"");
	for (i = 0; i < p->nsample_type; i++) {
		CHECK_STR(p->sample_type[i].type, "sample_type[%zu].type", i);
		CHECK_STR(p->sample_type[i].unit, "sample_type[%zu].unit", i);
	}
	CHECK_STR(p->period_type.type, "period_type.type");
	CHECK_STR(p->period_type.unit, "period_type.unit");
	CHECK_STR(p->drop_frames, "drop_frames");
	CHECK_STR(p->keep_frames, "keep_frames");
	CHECK_STR(p->default_sample_type, "default_sample_type");
	CHECK_STR(p->doc_url, "doc_url");
	for (i = 0; i < p->ncomment; i++)
		CHECK_STR(p->comment[i], "comment[%zu]", i);
	for (i = 0; i < p->nmapping; i++) {
		CHECK_STR(p->mapping[i].filename, "mapping[%zu].filename", i);
		CHECK_STR(p->mapping[i].build_id, "mapping[%zu].build_id", i);
	}
	for (i = 0; i < p->nfunction; i++) {
		CHECK_STR(p->function[i].name, "function[%zu].name", i);
		CHECK_STR(p->function[i].system_name, "function[%zu].system_name", i);
		CHECK_STR(p->function[i].filename, "function[%zu].filename", i);
	}
	for (i = 0; i < p->nsample; i++) {
		for (j = 0; j < p->sample[i].nlabel; j++) {
			const struct pp_label *l = &p->sample[i].label[j];

			CHECK_STR(l->key, "sample[%zu].label[%zu].key", i, j);
			CHECK_STR(l->str, "sample[%zu].label[%zu].str", i, j);
			CHECK_STR(l->num_unit, "sample[%zu].label[%zu].num_unit", i, j);
		}
	}

	for (k = 0; k < K_NKIND; k++) {
		uint64_t bad = 0;

		rc = ix_build(p, k, &bad);
		if (rc == -ENOMEM)
			return errf(err, errlen, "out of memory");
		if (rc && bad == 0)
			return errf(err, errlen, "%s with reserved id 0", kind_name[k]);
		if (rc)
			return errf(err, errlen, "duplicate %s id %llu", kind_name[k],
				    (unsigned long long)bad);
	}

	/* ix_build leaves no index when the ids are exactly 1..n: then an id
	 * resolves iff it is in 1..n, checked without touching the array
	 * (a cache miss per frame of every sample, on a large profile). */
	bool dense_loc = !p->intern->ix[K_LOCATION].slot, dense_fn = !p->intern->ix[K_FUNCTION].slot;
	size_t nloc = p->nlocation, nfn = p->nfunction;

	if (p->nsample && !p->nsample_type)
		return errf(err, errlen, "missing sample type information");
	for (i = 0; i < p->nsample; i++) {
		const struct pp_sample *s = &p->sample[i];

		if (s->nvalue != p->nsample_type)
			return errf(err, errlen,
				    "sample[%zu] has %zu values, want %zu (one per sample_type)",
				    i, s->nvalue, p->nsample_type);
		for (j = 0; j < s->nlocation; j++)
			if (dense_loc ? s->location_id[j] - 1 >= nloc :
			    find_id(p, K_LOCATION, s->location_id[j]) == SIZE_MAX)
				return errf(err, errlen,
					    "sample[%zu] references unknown location id %llu",
					    i, (unsigned long long)s->location_id[j]);
	}
	for (i = 0; i < p->nlocation; i++) {
		const struct pp_location *l = &p->location[i];

		for (j = 0; j < l->nline; j++)
			if (dense_fn ? l->line[j].function_id - 1 >= nfn :
			    find_id(p, K_FUNCTION, l->line[j].function_id) == SIZE_MAX)
				return errf(err, errlen,
					    "location id %llu line[%zu] references unknown function id %llu",
					    (unsigned long long)l->id, j,
					    (unsigned long long)l->line[j].function_id);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* decoding                                                            */

struct dec {
	struct profile *p;
	char *err;
	size_t errlen;
};

/* Report a reader fault (r->why at r->at) or out of memory. */
static int rfail(struct dec *d, const struct pb_reader *r, int rc, const char *msg)
{
	if (rc == -ENOMEM)
		return errf(d->err, d->errlen, "out of memory"), -ENOMEM;
	return errf(d->err, d->errlen, "%s at byte %zu in %s",
		    r->why ? r->why : "malformed protobuf", r->at, msg);
}

static int wrong_type(struct dec *d, const struct pb_reader *r, const char *msg,
		      uint32_t field, int wt)
{
	return errf(d->err, d->errlen, "%s field %u has wire type %d at byte %zu",
		    msg, field, wt, (size_t)(r->p - r->base));
}

static int get_u64(struct dec *d, struct pb_reader *r, const char *msg, uint32_t field,
		   int wt, uint64_t *v)
{
	if (wt != PB_VARINT)
		return wrong_type(d, r, msg, field, wt);
	if (cprof__pb_get_varint(r, v))
		return rfail(d, r, -EINVAL, msg);
	return 0;
}

static int get_i64(struct dec *d, struct pb_reader *r, const char *msg, uint32_t field,
		   int wt, int64_t *v)
{
	uint64_t u;
	int rc = get_u64(d, r, msg, field, wt, &u);

	if (!rc)
		*v = (int64_t)u;
	return rc;
}

static int get_bool(struct dec *d, struct pb_reader *r, const char *msg, uint32_t field,
		    int wt, bool *v)
{
	uint64_t u;
	int rc = get_u64(d, r, msg, field, wt, &u);

	if (!rc)
		*v = u != 0;
	return rc;
}

/* Open the embedded message of a PB_LEN field as sub. */
static int get_msg(struct dec *d, struct pb_reader *r, const char *msg, uint32_t field,
		   int wt, struct pb_reader *sub)
{
	const uint8_t *p;
	size_t n;

	if (wt != PB_LEN)
		return wrong_type(d, r, msg, field, wt);
	if (cprof__pb_get_bytes(r, &p, &n))
		return rfail(d, r, -EINVAL, msg);
	cprof__pb_reader_sub(sub, r, p, n);
	return 0;
}

static int skip(struct dec *d, struct pb_reader *r, const char *msg, int wt)
{
	return cprof__pb_skip(r, wt) ? rfail(d, r, -EINVAL, msg) : 0;
}

/* Loop over the fields of one message; `field` and `wt` are set in the body. */
#define FOR_FIELDS(d, r, msg, field, wt)                                       \
	for (;;)                                                               \
		if (!cprof__pb_more(r))                                        \
			break;                                                 \
		else if (cprof__pb_get_tag((r), &(field), &(wt)))             \
			return rfail((d), (r), -EINVAL, (msg));                \
		else

static int dec_valuetype(struct dec *d, struct pb_reader *r, struct pp_valuetype *vt)
{
	const char *msg = "ValueType";
	uint32_t f;
	int wt, rc;

	FOR_FIELDS(d, r, msg, f, wt) {
		if (f == 1)
			rc = get_i64(d, r, msg, f, wt, &vt->type);
		else if (f == 2)
			rc = get_i64(d, r, msg, f, wt, &vt->unit);
		else
			rc = skip(d, r, msg, wt);
		if (rc)
			return rc;
	}
	return 0;
}

static int dec_label(struct dec *d, struct pb_reader *r, struct pp_label *l)
{
	const char *msg = "Label";
	uint32_t f;
	int wt, rc;

	FOR_FIELDS(d, r, msg, f, wt) {
		if (f == 1)
			rc = get_i64(d, r, msg, f, wt, &l->key);
		else if (f == 2)
			rc = get_i64(d, r, msg, f, wt, &l->str);
		else if (f == 3)
			rc = get_i64(d, r, msg, f, wt, &l->num);
		else if (f == 4)
			rc = get_i64(d, r, msg, f, wt, &l->num_unit);
		else
			rc = skip(d, r, msg, wt);
		if (rc)
			return rc;
	}
	return 0;
}

static int dec_sample(struct dec *d, struct pb_reader *r, struct pp_sample *s)
{
	const char *msg = "Sample";
	size_t cap_loc = 0, cap_val = 0, cap_label = 0;
	struct pb_reader sub;
	uint32_t f;
	int wt, rc;

	FOR_FIELDS(d, r, msg, f, wt) {
		if (f == 1) {
			rc = cprof__pb_get_repeated_u64(r, wt, &s->location_id, &s->nlocation,
							&cap_loc);
			if (rc)
				rc = rfail(d, r, rc, "Sample.location_id");
		} else if (f == 2) {
			rc = cprof__pb_get_repeated_i64(r, wt, &s->value, &s->nvalue, &cap_val);
			if (rc)
				rc = rfail(d, r, rc, "Sample.value");
		} else if (f == 3) {
			rc = get_msg(d, r, msg, f, wt, &sub);
			if (!rc && GROW_SMALL(s->label, cap_label, s->nlabel + 1))
				rc = errf(d->err, d->errlen, "out of memory");
			if (!rc) {
				memset(&s->label[s->nlabel], 0, sizeof(*s->label));
				rc = dec_label(d, &sub, &s->label[s->nlabel++]);
			}
		} else {
			rc = skip(d, r, msg, wt);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int dec_mapping(struct dec *d, struct pb_reader *r, struct pp_mapping *m)
{
	const char *msg = "Mapping";
	uint32_t f;
	int wt, rc;

	FOR_FIELDS(d, r, msg, f, wt) {
		switch (f) {
		case 1: rc = get_u64(d, r, msg, f, wt, &m->id); break;
		case 2: rc = get_u64(d, r, msg, f, wt, &m->memory_start); break;
		case 3: rc = get_u64(d, r, msg, f, wt, &m->memory_limit); break;
		case 4: rc = get_u64(d, r, msg, f, wt, &m->file_offset); break;
		case 5: rc = get_i64(d, r, msg, f, wt, &m->filename); break;
		case 6: rc = get_i64(d, r, msg, f, wt, &m->build_id); break;
		case 7: rc = get_bool(d, r, msg, f, wt, &m->has_functions); break;
		case 8: rc = get_bool(d, r, msg, f, wt, &m->has_filenames); break;
		case 9: rc = get_bool(d, r, msg, f, wt, &m->has_line_numbers); break;
		case 10: rc = get_bool(d, r, msg, f, wt, &m->has_inline_frames); break;
		default: rc = skip(d, r, msg, wt); break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int dec_line(struct dec *d, struct pb_reader *r, struct pp_line *l)
{
	const char *msg = "Line";
	uint32_t f;
	int wt, rc;

	FOR_FIELDS(d, r, msg, f, wt) {
		if (f == 1)
			rc = get_u64(d, r, msg, f, wt, &l->function_id);
		else if (f == 2)
			rc = get_i64(d, r, msg, f, wt, &l->line);
		else if (f == 3)
			rc = get_i64(d, r, msg, f, wt, &l->column);
		else
			rc = skip(d, r, msg, wt);
		if (rc)
			return rc;
	}
	return 0;
}

static int dec_location(struct dec *d, struct pb_reader *r, struct pp_location *l)
{
	const char *msg = "Location";
	struct pb_reader sub;
	size_t cap_line = 0;
	uint32_t f;
	int wt, rc;

	FOR_FIELDS(d, r, msg, f, wt) {
		switch (f) {
		case 1: rc = get_u64(d, r, msg, f, wt, &l->id); break;
		case 2: rc = get_u64(d, r, msg, f, wt, &l->mapping_id); break;
		case 3: rc = get_u64(d, r, msg, f, wt, &l->address); break;
		case 4:
			rc = get_msg(d, r, msg, f, wt, &sub);
			if (!rc && GROW_SMALL(l->line, cap_line, l->nline + 1))
				rc = errf(d->err, d->errlen, "out of memory");
			if (!rc) {
				memset(&l->line[l->nline], 0, sizeof(*l->line));
				rc = dec_line(d, &sub, &l->line[l->nline++]);
			}
			break;
		case 5: rc = get_bool(d, r, msg, f, wt, &l->is_folded); break;
		default: rc = skip(d, r, msg, wt); break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int dec_function(struct dec *d, struct pb_reader *r, struct pp_function *fn)
{
	const char *msg = "Function";
	uint32_t f;
	int wt, rc;

	FOR_FIELDS(d, r, msg, f, wt) {
		switch (f) {
		case 1: rc = get_u64(d, r, msg, f, wt, &fn->id); break;
		case 2: rc = get_i64(d, r, msg, f, wt, &fn->name); break;
		case 3: rc = get_i64(d, r, msg, f, wt, &fn->system_name); break;
		case 4: rc = get_i64(d, r, msg, f, wt, &fn->filename); break;
		case 5: rc = get_i64(d, r, msg, f, wt, &fn->start_line); break;
		default: rc = skip(d, r, msg, wt); break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

#define OOM() errf(d->err, d->errlen, "out of memory")

/* Append a zeroed element to a profile array and return it in *el. */
#define APPEND(arr, n, cap, el)                                                \
	(GROW(arr, cap, (n) + 1) ? OOM() :                                     \
	 (memset(&(arr)[n], 0, sizeof(*(arr))), (el) = &(arr)[(n)++], 0))

static int dec_profile(struct dec *d, struct pb_reader *r)
{
	const char *msg = "Profile";
	struct profile *p = d->p;
	struct pb_reader sub;
	const uint8_t *s;
	size_t n;
	uint32_t f;
	int wt, rc;

	FOR_FIELDS(d, r, msg, f, wt) {
		struct pp_valuetype *vt = NULL;
		struct pp_sample *smp = NULL;
		struct pp_mapping *m = NULL;
		struct pp_location *l = NULL;
		struct pp_function *fn = NULL;

		switch (f) {
		case 1:
			rc = get_msg(d, r, msg, f, wt, &sub);
			if (!rc)
				rc = APPEND(p->sample_type, p->nsample_type, p->cap_sample_type, vt);
			if (!rc)
				rc = dec_valuetype(d, &sub, vt);
			break;
		case 2:
			rc = get_msg(d, r, msg, f, wt, &sub);
			if (!rc)
				rc = APPEND(p->sample, p->nsample, p->cap_sample, smp);
			if (!rc)
				rc = dec_sample(d, &sub, smp);
			break;
		case 3:
			rc = get_msg(d, r, msg, f, wt, &sub);
			if (!rc)
				rc = APPEND(p->mapping, p->nmapping, p->cap_mapping, m);
			if (!rc)
				rc = dec_mapping(d, &sub, m);
			break;
		case 4:
			rc = get_msg(d, r, msg, f, wt, &sub);
			if (!rc)
				rc = APPEND(p->location, p->nlocation, p->cap_location, l);
			if (!rc)
				rc = dec_location(d, &sub, l);
			break;
		case 5:
			rc = get_msg(d, r, msg, f, wt, &sub);
			if (!rc)
				rc = APPEND(p->function, p->nfunction, p->cap_function, fn);
			if (!rc)
				rc = dec_function(d, &sub, fn);
			break;
		case 6:
			if (wt != PB_LEN) {
				rc = wrong_type(d, r, msg, f, wt);
				break;
			}
			if (cprof__pb_get_bytes(r, &s, &n)) {
				rc = rfail(d, r, -EINVAL, "Profile.string_table");
				break;
			}
			/* strings are kept NUL-terminated: cut at an embedded NUL,
			 * but string_table[0] must really be empty */
			if (p->nstrings == 0 && n != 0) {
				rc = errf(d->err, d->errlen, "string_table[0] must be \"\"");
				break;
			}
			rc = push_string(p, (const char *)s, n) ? OOM() : 0;
			break;
		case 7: rc = get_i64(d, r, msg, f, wt, &p->drop_frames); break;
		case 8: rc = get_i64(d, r, msg, f, wt, &p->keep_frames); break;
		case 9:
			/* pprof's rule: a time after a nonzero time means two
			 * profiles were concatenated into one file */
			if (p->time_nanos != 0) {
				rc = errf(d->err, d->errlen, "concatenated profiles detected");
				break;
			}
			rc = get_i64(d, r, msg, f, wt, &p->time_nanos);
			break;
		case 10: rc = get_i64(d, r, msg, f, wt, &p->duration_nanos); break;
		case 11:
			rc = get_msg(d, r, msg, f, wt, &sub);
			if (!rc)
				rc = dec_valuetype(d, &sub, &p->period_type);
			break;
		case 12: rc = get_i64(d, r, msg, f, wt, &p->period); break;
		case 13:
			rc = cprof__pb_get_repeated_i64(r, wt, &p->comment, &p->ncomment,
							&p->cap_comment);
			if (rc)
				rc = rfail(d, r, rc, "Profile.comment");
			break;
		case 14: rc = get_i64(d, r, msg, f, wt, &p->default_sample_type); break;
		case 15: rc = get_i64(d, r, msg, f, wt, &p->doc_url); break;
		default: rc = skip(d, r, msg, wt); break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * cprof__profile_decode (gunzip true) or _decode_uncompressed, and when
 * owned != NULL (the buffer data points into, malloc'd), free it as soon as
 * it is no longer needed: right after gunzip, so a large file's compressed
 * and uncompressed bytes are not both held while the samples are built.
 */
static struct profile *decode(const uint8_t *data, size_t len, bool gunzip, uint8_t *owned,
			      char *err, size_t errlen)
{
	struct dec d = { .err = err, .errlen = errlen };
	struct pb_reader r;
	uint8_t *raw = NULL;
	size_t rawlen;
	int rc;

	if (err && errlen)
		err[0] = 0;
	if (gunzip && len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		rc = cprof__gunzip(data, len, MAX_PROFILE_BYTES, &raw, &rawlen);
		if (rc == -EFBIG)
			errf(err, errlen, "gunzipped size exceeds %zu MiB",
			     MAX_PROFILE_BYTES >> 20);
		else if (rc == -ENOMEM)
			errf(err, errlen, "out of memory");
		else if (rc)
			errf(err, errlen, "corrupt gzip data");
		free(owned);
		owned = NULL;
		if (rc)
			return NULL;
		data = raw;
		len = rawlen;
	}
	if (len == 0) {
		free(owned);
		free(raw);
		errf(err, errlen, "empty input");
		return NULL;
	}
	d.p = profile_alloc();
	if (!d.p) {
		free(owned);
		free(raw);
		errf(err, errlen, "out of memory");
		return NULL;
	}
	cprof__pb_reader_init(&r, data, len);
	rc = dec_profile(&d, &r);
	free(owned);
	free(raw);
	if (!rc)
		rc = cprof__profile_validate(d.p, err, errlen);
	if (rc) {
		cprof__profile_free(d.p);
		return NULL;
	}
	return d.p;
}

struct profile *cprof__profile_decode(const uint8_t *data, size_t len,
				      char *err, size_t errlen)
{
	return decode(data, len, true, NULL, err, errlen);
}

struct profile *cprof__profile_decode_uncompressed(const uint8_t *data, size_t len,
						   char *err, size_t errlen)
{
	return decode(data, len, false, NULL, err, errlen);
}

struct profile *cprof__profile_read_file(const char *path, char *err, size_t errlen)
{
	char why[256];
	struct profile *p;
	struct buf b;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	cprof__buf_init(&b, MAX_PROFILE_BYTES);
	for (;;) {
		ssize_t n;

		if (cprof__buf_reserve(&b, 65536))
			break;
		n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			b.err = -errno;
			break;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
	}
	close(fd);
	if (b.err) {
		if (b.err == -EFBIG)
			errf(err, errlen, "%s: larger than %zu MiB, not a profile", path,
			     MAX_PROFILE_BYTES >> 20);
		else
			errf(err, errlen, "%s: %s", path, strerror(-b.err));
		cprof__buf_release(&b);
		return NULL;
	}
	p = decode(b.data, b.len, true, b.data, why, sizeof(why));
	if (!p)
		errf(err, errlen, "%s: not a profile: %s", path, why);
	return p;
}
