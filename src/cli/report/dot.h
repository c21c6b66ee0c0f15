/*
 * dot.h - what dot.c (the DOT text, Graphviz) and dot_graph.c (the trimmed
 * graph and its tags) share; nothing outside the two includes it. All of it
 * runs on the CLI's main thread.
 */
#ifndef CPROF_CLI_REPORT_DOT_H
#define CPROF_CLI_REPORT_DOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/report/report.h"

/* Tag boxes drawn under a node at the most. */
#define MAX_NODELETS 4

/* A sample tag of one node: its string labels, or one value of "bytes". */
struct tag {
	size_t key;     /* node key */
	size_t labels;  /* id of the joined string labels ("" included) */
	bool numeric;
	char *name;     /* label tags: the joined labels; numeric: the formatted value */
	const char *unit;
	int64_t value;
	int64_t flat, flat_div, cum, cum_div;
	bool removed;
};

struct tagset {
	struct tag *t;
	size_t n, cap;
	/* open addressing: hash of (key, labels, numeric, name) -> index */
	size_t *slot;
	size_t nslot;
	char **labels; /* joined label strings by id */
	size_t nlabels, caplabels;
	size_t *first, *count; /* per key: tag indices in `order` */
	size_t *order;
	/*
	 * The string tag of (labels id, node key), SIZE_MAX when there is none
	 * yet: strtag[lid][key]. Its name is labels[lid], so a direct index
	 * replaces hashing the name for every node of every sample.
	 */
	size_t **strtag;
	size_t nstrtag, nkeys;
};

struct dgraph {
	struct rgraph *g;
	struct tagset *tags; /* NULL when the profile has no tags */
	int orig, dropped_nodes, dropped_edges;
};

/*
 * pprof's newTrimmedGraph in visual mode, then selectOutputUnit: d is
 * filled (d->tags NULL when the profile has no tags). 0 or -ENOMEM; release
 * d with cprof__dot_graph_release either way.
 */
int cprof__dot_graph_build(struct report *r, struct dgraph *d);
void cprof__dot_graph_release(struct dgraph *d);

/* A tag's value, divided by its divisor under -mean. */
int64_t cprof__dot_tag_flat(const struct tag *t);
int64_t cprof__dot_tag_cum(const struct tag *t);
/* graph.tags.Sort: by |cum| (unless flat), |flat|, then name; stable. */
void cprof__dot_tags_sort(struct tag **t, size_t n, bool flat);
/* How many of the edges e[0..n) are not removed. */
size_t cprof__dot_live_edges(const struct rgraph *g, const size_t *edges, size_t n);
/* EdgeMap.Sort: edge indices by |weight|, then source and destination names. */
void cprof__dot_edges_sort(const struct rgraph *g, size_t *e, size_t n);

#endif
