/*
 * legacy.h - what the readers of pprof's legacy formats share (legacy.c
 * owns it; legacy_text.c uses it): a profile under construction as
 * pprof's legacy parsers build one (locations found by address, samples
 * of up to four values, the mappings of a /proc/self/maps text), Go's
 * bufio.Scanner and strings.TrimSpace as those parsers read text, and the
 * step that turns the model into a profile (massageMappings,
 * remapLocationIDs, remapMappingIDs of google/pprof's profile package).
 *
 * CLI main thread only; everything is malloc'd.
 */
#ifndef CPROF_CLI_SOURCE_LEGACY_H
#define CPROF_CLI_SOURCE_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/profile.h"

struct legacy_loc {
	uint64_t addr;
	long mapping; /* index into maps, or -1 */
	uint64_t id;  /* 1.. in order of first use by a sample; 0 unused */
	long fn;      /* Java profiles: index into fns, or -1 */
	int64_t line;
	bool named;   /* Java profiles: named by the text, its address dropped */
};

/* A function named by a Java profile's location text. */
struct legacy_fn {
	char *name, *file;
	uint64_t id;
};

struct legacy_sample {
	size_t *loc; /* indices into locs, leaf first */
	size_t nloc;
	int64_t v[4];
	bool has_bytes; /* a "bytes" numeric label (heap profiles) */
	int64_t bytes;
};

struct legacy_map {
	uint64_t start, limit, offset;
	char *file, *build_id; /* may hold NUL bytes: lengths below */
	size_t nfile, nbuild_id;
};

struct legacy {
	struct legacy_loc *locs;
	size_t nlocs, caplocs;
	size_t *tab, tabcap; /* open addressing: address -> index + 1 */
	struct legacy_sample *samples;
	size_t nsamples, capsamples;
	struct legacy_map *maps;
	size_t nmaps, capmaps;
	struct legacy_fn *fns;
	size_t nfns, capfns;
};

void cprof__legacy_release(struct legacy *lp);

/* Index of the location at addr (added when new) in *idx. 0 or -ENOMEM. */
int cprof__legacy_loc(struct legacy *lp, uint64_t addr, size_t *idx);

/* Index of the location at addr, if there is one. */
bool cprof__legacy_find(const struct legacy *lp, uint64_t addr, size_t *idx);

/* Append a sample; loc (n indices) and v (nv <= 4 values) are copied. 0 or -ENOMEM. */
int cprof__legacy_add_sample(struct legacy *lp, const size_t *loc, size_t n, const int64_t *v, size_t nv,
			     bool has_bytes, int64_t bytes);

/* The function called name (n bytes), added with file when new, in *idx. 0 or -ENOMEM. */
int cprof__legacy_fn(struct legacy *lp, const char *name, size_t n, const char *file, size_t fn, long *idx);

/*
 * parseJavaLocations (legacy_text.c): "0xADDR function (file:line)" lines
 * name the locations at ADDR. 0, or -1 with a reason in err.
 */
int cprof__legacy_java_locations(struct legacy *lp, const char *b, size_t n, char *err, size_t errlen);

/* Go's bufio.Scanner with ScanLines over a buffer (64 KiB tokens at most). */
struct legacy_scan {
	const char *b;
	size_t n, off;
	const char *tok; /* the last token ("" after a failed scan) */
	size_t len;
	bool done, too_long;
};
void cprof__legacy_scan_init(struct legacy_scan *s, const void *b, size_t n);
bool cprof__legacy_scan(struct legacy_scan *s);

/* strings.TrimSpace (Unicode white space, as Go trims it). */
void cprof__legacy_trim(const char **s, size_t *n);

/* strings.Contains(line, "--- Memory map: ---" or "MAPPED_LIBRARIES:"). */
bool cprof__legacy_maps_sentinel(const char *s, size_t n);

/*
 * parseProcMapsFromScanner and massageMappings: the executable entries of
 * the remaining lines (/proc/<pid>/maps or pprof's brief form, glog
 * prefixes removed, "attr=value" lines substituted for $attr), adjacent
 * pieces merged, the main binary first. 0, or -1 with a reason in err.
 */
int cprof__legacy_parse_maps(struct legacy *lp, struct legacy_scan *s, char *err, size_t errlen);

struct legacy_header {
	const char *types[4][2]; /* sample type, unit */
	size_t ntypes;
	const char *period_type, *period_unit;
	int64_t period, duration_nanos;
	const char *drop_frames, *keep_frames;
	bool drop_dup_leaf; /* cleanupDuplicateLocations (CPU, threads) */
	bool no_addresses;  /* Aggregate(address = false): Java profiles */
};

/*
 * The profile: locations in order of first use, each in its mapping (a
 * fake one covering everything when none does), values as stored.
 * NULL with a reason in err.
 */
struct profile *cprof__legacy_build(struct legacy *lp, const struct legacy_header *h, char *err, size_t errlen);

#endif
