/*
 * profile.h - the in-memory form of a pprof profile (perftools.profiles.Profile)
 * and its encoding to and decoding from profile.proto, gzipped or not.
 *
 * This module knows the wire format and nothing about who produced the
 * samples. Every allocation goes through malloc: it is used by the CLI and by
 * the runtime's profile writer, never from a signal handler.
 *
 * Field numbers and meanings are described in docs/FORMAT.md.
 * Strings are indices into strings[]; strings[0] is always "".
 */
#ifndef CPROF_PROTO_PROFILE_H
#define CPROF_PROTO_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pp_valuetype {
	int64_t type; /* string index */
	int64_t unit; /* string index */
};

struct pp_label {
	int64_t key;      /* string index */
	int64_t str;      /* string index, 0 if numeric */
	int64_t num;
	int64_t num_unit; /* string index, 0 if none */
};

struct pp_sample {
	uint64_t *location_id; /* leaf first */
	size_t nlocation;
	int64_t *value;        /* one per sample_type */
	size_t nvalue;
	struct pp_label *label;
	size_t nlabel;
};

struct pp_mapping {
	uint64_t id;
	uint64_t memory_start;
	uint64_t memory_limit;
	uint64_t file_offset;
	int64_t filename; /* string index */
	int64_t build_id; /* string index */
	bool has_functions;
	bool has_filenames;
	bool has_line_numbers;
	bool has_inline_frames;
};

struct pp_line {
	uint64_t function_id;
	int64_t line;
	int64_t column;
};

struct pp_location {
	uint64_t id;
	uint64_t mapping_id;
	uint64_t address;
	struct pp_line *line; /* line[0] innermost inlined, last = physical */
	size_t nline;
	bool is_folded;
};

struct pp_function {
	uint64_t id;
	int64_t name;        /* string index */
	int64_t system_name; /* string index */
	int64_t filename;    /* string index */
	int64_t start_line;
};

struct profile {
	struct pp_valuetype *sample_type;
	size_t nsample_type;
	struct pp_sample *sample;
	size_t nsample;
	struct pp_mapping *mapping;
	size_t nmapping;
	struct pp_location *location;
	size_t nlocation;
	struct pp_function *function;
	size_t nfunction;
	char **strings; /* strings[0] == "" */
	size_t nstrings;
	int64_t drop_frames; /* string index */
	int64_t keep_frames; /* string index */
	int64_t time_nanos;
	int64_t duration_nanos;
	struct pp_valuetype period_type;
	int64_t period;
	int64_t *comment; /* string indices */
	size_t ncomment;
	int64_t default_sample_type; /* string index */
	int64_t doc_url;             /* string index */

	/* private: capacities and the string intern table */
	size_t cap_sample_type, cap_sample, cap_mapping, cap_location,
		cap_function, cap_strings, cap_comment;
	struct pp_intern *intern;
};

/* New empty profile with strings[0] == "". NULL on out of memory. */
struct profile *cprof__profile_new(void);
void cprof__profile_free(struct profile *p);

/*
 * Return the index of string s (len bytes, or strlen if len == (size_t)-1),
 * adding it if new. Equal strings share one index. -1 on out of memory.
 */
int64_t cprof__profile_intern(struct profile *p, const char *s, size_t len);

/*
 * Append helpers. Each copies the arrays it is given and returns a pointer
 * to the new element inside the profile (valid until the next append of the
 * same kind), or NULL on out of memory.
 */
struct pp_valuetype *cprof__profile_add_sample_type(struct profile *p,
						   const char *type, const char *unit);
struct pp_sample *cprof__profile_add_sample(struct profile *p,
					    const uint64_t *location_id, size_t nlocation,
					    const int64_t *value, size_t nvalue,
					    const struct pp_label *label, size_t nlabel);
struct pp_mapping *cprof__profile_add_mapping(struct profile *p); /* id = n */
struct pp_location *cprof__profile_add_location(struct profile *p,
						uint64_t mapping_id, uint64_t address,
						const struct pp_line *line, size_t nline);
struct pp_function *cprof__profile_add_function(struct profile *p,
						const char *name, const char *system_name,
						const char *filename, int64_t start_line);
int cprof__profile_add_comment(struct profile *p, const char *text);

/*
 * Lookups by id; NULL when absent. O(1): ids 1..n in order are found at
 * index id - 1 (inline here: the report engine asks for every frame of
 * every sample), any others through a hash index built on first use.
 */
const struct pp_location *cprof__profile_location_find(const struct profile *p, uint64_t id);
const struct pp_function *cprof__profile_function_find(const struct profile *p, uint64_t id);
const struct pp_mapping *cprof__profile_mapping(const struct profile *p, uint64_t id);

static inline const struct pp_location *cprof__profile_location(const struct profile *p,
								uint64_t id)
{
	if (id - 1 < p->nlocation && p->location[id - 1].id == id)
		return &p->location[id - 1];
	return cprof__profile_location_find(p, id);
}

static inline const struct pp_function *cprof__profile_function(const struct profile *p,
								uint64_t id)
{
	if (id - 1 < p->nfunction && p->function[id - 1].id == id)
		return &p->function[id - 1];
	return cprof__profile_function_find(p, id);
}

/* String by index; "" when out of range. */
const char *cprof__profile_str(const struct profile *p, int64_t idx);

/*
 * Serialize to uncompressed profile.proto bytes. On success *out is a
 * malloc'd buffer the caller frees and 0 is returned; -ENOMEM otherwise.
 * Field order and packing are deterministic (docs/FORMAT.md), so equal
 * profiles encode to equal bytes.
 */
int cprof__profile_encode(const struct profile *p, uint8_t **out, size_t *outlen);

/* Same, gzip-compressed (what goes on disk). */
int cprof__profile_encode_gz(const struct profile *p, uint8_t **out, size_t *outlen);

/*
 * Parse profile.proto bytes, gunzipping first when they start with 1f 8b.
 * Validates what pprof validates (string_table[0] == "", string indices in
 * range, nonzero unique ids, resolvable location/function references, one
 * value per sample_type). On error returns NULL and writes a one-line reason
 * into err (errlen bytes).
 */
struct profile *cprof__profile_decode(const uint8_t *data, size_t len,
				      char *err, size_t errlen);

/*
 * The same for bytes already gunzipped: no second gunzip, so a profile
 * gzipped twice is not a profile (as in pprof).
 */
struct profile *cprof__profile_decode_uncompressed(const uint8_t *data, size_t len,
						   char *err, size_t errlen);

/*
 * Run the checks decode runs (see above) on a profile built in memory, and
 * (re)build the id indices behind the lookups. Call it after changing ids
 * in place; the append helpers keep lookups current on their own.
 * 0, or -EINVAL / -ENOMEM with a one-line reason in err.
 */
int cprof__profile_validate(struct profile *p, char *err, size_t errlen);

/* Read and decode a file; the reason on failure names the file. */
struct profile *cprof__profile_read_file(const char *path, char *err, size_t errlen);

/*
 * gzip helpers (zlib). Return 0 or -errno (-EINVAL for corrupt input);
 * *out is malloc'd. gunzip refuses to grow past max_out bytes (-EFBIG).
 */
int cprof__gzip(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen);
int cprof__gunzip(const uint8_t *in, size_t inlen, size_t max_out,
		  uint8_t **out, size_t *outlen);

#endif
