/*
 * source.h - where `cprof pprof` gets its profiles from, as `go tool pprof`
 * does: files (profile.proto, gzipped or not, and gperftools' legacy binary
 * CPU profiles), http:// and https:// URLs (fetched with libcurl, saved
 * under $PPROF_TMPDIR), and symbolization of mappings that carry no
 * function names: locally with elfutils' libdw, or remotely through the
 * server's /debug/pprof/symbol endpoint.
 *
 * Everything here runs on the CLI's main thread. Notices go to stderr in
 * pprof's wording ("Fetching profile over HTTP from ...", "Saved profile
 * in ..."); errors are returned as one line in err.
 */
#ifndef CPROF_CLI_SOURCE_H
#define CPROF_CLI_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto/profile.h"

struct source_options {
	const char *symbolize; /* -symbolize: "" (local then remote), local, fastlocal,
				  remote, none, with ":force" */
	long long seconds;     /* -seconds, <= 0 unset */
	long long timeout;     /* -timeout in seconds, <= 0 unset */
	const char *exec_name; /* leading binary argument, or NULL */
	const char *build_id;  /* leading build-id argument, or NULL */
};

/* Defaults: symbolize "", seconds and timeout -1, no binary. */
void cprof__source_options_init(struct source_options *o);

/*
 * pprof's "[binary] source..." convention: when there are several
 * arguments and the first is an ELF file (or a hex build id), record it in
 * o. Returns how many leading arguments it took (0 or 1).
 */
int cprof__source_take_binary(char *const *args, int nargs, struct source_options *o);

/*
 * Load one source: fetch a URL or read a file, parse it (profile.proto or
 * legacy), find the binaries of its mappings (PPROF_BINARY_PATH) and
 * symbolize what has no names. *remote is set when it came over HTTP.
 * NULL with a one-line reason in err.
 */
struct profile *cprof__source_load(const char *src, const struct source_options *o,
				   bool *remote, char *err, size_t errlen);

/*
 * Parse bytes as pprof does: gunzip, profile.proto, else the legacy
 * formats cprof knows. NULL with a reason ("parsing profile: ...").
 */
struct profile *cprof__source_parse(const uint8_t *data, size_t len, char *err, size_t errlen);

/*
 * unsourceMappings of pprof's fetch.go, run after symbolization: a mapping
 * without build id whose file name reads as an absolute URL ("http://...",
 * but also "e:00") loses the name.
 */
void cprof__source_unsource(struct profile *p);

/*
 * Save a copy of a fetched profile under $PPROF_TMPDIR (else $HOME/pprof,
 * else /tmp) named as pprof names it, "pprof.<binary>.<types>.NNN.pb.gz",
 * and say "Saved profile in <path>" on stderr. 0, or -1 after printing
 * "Could not save profile: ...".
 */
int cprof__source_save(const struct profile *p);

/* ---- dir.c: the continuous collector's local store ---- */

struct dir_filter {
	const char *kind;    /* cpu, heap, allocs, block, mutex */
	const char *service; /* NULL for any */
	time_t since, until; /* the period's start in [since, until) */
};
struct dir_entry {
	char path[4096];
	time_t start;
};
/*
 * The stored profiles in dir that f selects, oldest first, in a malloc'd
 * array. 0, or -1 with a one-line reason in err (also when none matched,
 * naming the kinds there are).
 */
int cprof__source_dir_list(const char *dir, const struct dir_filter *f, struct dir_entry **out, size_t *n,
			   char *err, size_t errlen);
/*
 * A moment for -since/-until: RFC 3339 in UTC (2026-11-30T13:00:00Z) or a
 * duration before now (90s, 30m, 1h, 7d). 0 or -EINVAL.
 */
int cprof__source_time(const char *v, time_t now, time_t *out);

/* ---- legacy.c ---- */

/*
 * Read a file of collapsed stacks ("root;caller;leaf value" lines, as
 * Brendan Gregg's stackcollapse tools and -folded write them) into a profile
 * with one value, samples/count (folded.c). NULL with a one-line reason.
 */
struct profile *cprof__source_folded_read(const char *path, char *err, size_t errlen);

/*
 * gperftools' binary CPU profile (any word size and byte order, as pprof's
 * parseCPU accepts it; also with a Java header). Returns NULL and sets *recognized = false when the
 * header is not one; NULL with a reason when it is but is malformed.
 */
struct profile *cprof__source_legacy_cpu(const uint8_t *data, size_t len, bool *recognized,
					 char *err, size_t errlen);

/*
 * pprof's legacy text formats (legacy_text.c): heap profiles ("heap
 * profile: ..." with heap, heap_v2, heapz_v2 and heapprofile rates,
 * growthz, fragmentationz), Go's count profiles ("goroutine profile: total
 * N"), threadz dumps, contention profiles ("--- contention:", "---
 * mutex:", "--- contentionz "), each with the memory map that may follow,
 * and Java's heapz and contentionz texts.
 * Returns NULL and sets *recognized = false when the bytes are none of
 * them; NULL with a reason ("parsing profile: ...") when one of them
 * rejects them.
 */
struct profile *cprof__source_legacy_text(const uint8_t *data, size_t len, bool *recognized,
					  char *err, size_t errlen);

/* ---- rx.c: Go's leftmost-first regular expressions, the subset the legacy readers use ---- */

struct rx;
struct rx_group {
	const char *s; /* into the subject */
	size_t n;
	bool matched;
};
/* Compile a pattern; NULL on a syntax error or out of memory. */
struct rx *cprof__rx_new(const char *pattern);
void cprof__rx_free(struct rx *r);
int cprof__rx_groups(const struct rx *r);
/*
 * Leftmost-first search of s (n bytes, NULs allowed), as Go's
 * FindStringSubmatch: 1 with g[0] the match and g[1..groups] the groups
 * (g may be NULL), 0 when there is none, -ENOMEM.
 */
int cprof__rx_find(const struct rx *r, const char *s, size_t n, struct rx_group *g);

/* ---- fetch.c ---- */

/*
 * adjustURL of cmd/pprof: a URL (or host:port[/path]) with the default path
 * /debug/pprof/profile and ?seconds=N applied, into url (malloc'd), and the
 * timeout in seconds. 0 when src is a URL, -1 when it is not one.
 */
int cprof__source_adjust_url(const char *src, long long seconds, long long timeout,
			     char **url, long long *timeout_out, long long *duration_out);

/* -tls_ca, -tls_cert, -tls_key for every HTTPS request (NULL or "": not given). */
void cprof__source_set_tls(const char *ca, const char *cert, const char *key);

/* GET url; the body on 200, else a reason as pprof words it. 0 or -1. */
int cprof__source_http_get(const char *url, long long timeout, uint8_t **body, size_t *len,
			   char *err, size_t errlen);
/* POST data to url (symbolz). 0 or -1 with a reason. */
int cprof__source_http_post(const char *url, const char *data, uint8_t **body, size_t *len,
			    char *err, size_t errlen);

/* ---- symbolize.c ---- */

/*
 * locateBinaries: point each mapping at a local file found through
 * PPROF_BINARY_PATH (default $HOME/pprof/binaries) by build id or name,
 * then apply the exec_name/build_id overrides to the first mapping.
 */
int cprof__source_locate(struct profile *p, const struct source_options *o);

/*
 * Local symbolization with libdw of the mappings without functions (all
 * with force): function names, files, lines and inlined frames. Notes on
 * stderr as pprof prints them. 0, or -ENOMEM.
 */
int cprof__source_symbolize_local(struct profile *p, bool force);

/* Unsymbolizable mappings: [vdso], [vsyscall], linux-vdso, /dev/dri/. */
bool cprof__source_unsymbolizable(const char *file);

/* ---- symbolz.c ---- */

/*
 * Remote symbolization of a profile fetched from source_url: addresses of
 * mappings without functions POSTed to the server's symbol endpoint.
 * 0, or -1 with a reason in err.
 */
int cprof__source_symbolize_remote(struct profile *p, const char *source_url, bool force,
				   char *err, size_t errlen);

#endif
