/*
 * continuous.h - what the continuous collector (continuous.c) and its
 * uploader (upload.c) share: one period's batch of profiles, the
 * configuration read from the environment, and the counters the status file
 * shows. Everything here runs on the collector's and the uploader's own
 * threads (thread context), never in a signal handler.
 */
#ifndef CPROF_RUNTIME_CONTINUOUS_H
#define CPROF_RUNTIME_CONTINUOUS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONT_MAX_PARTS 8

enum cont_dest { CONT_DIR, CONT_PYROSCOPE, CONT_DATADOG };

/* One profile of a batch: gzipped profile.proto. */
struct cont_part {
	char kind[16];   /* cpu, heap, allocs, block, mutex */
	bool delta;      /* values cover the period only (allocs, block, mutex) */
	char types[160]; /* its sample types, "type/unit,type/unit" (Pyroscope's sample_type_config) */
	uint8_t *gz;
	size_t len;
};

/* What one period produced. */
struct cont_batch {
	uint64_t seq;               /* 0, 1, ... per process */
	int64_t start_wall, end_wall; /* ns since the epoch */
	size_t nparts;
	struct cont_part part[CONT_MAX_PARTS];
};

struct cont_config {
	enum cont_dest dest;
	char target[1024];  /* the directory or the URL */
	int64_t period_ns;
	char service[128], version[128], host[256];
	int pid;
	char tags[1024];    /* k:v,k:v as given (validated) */
	/* dir: */
	int64_t max_age_ns;
	uint64_t max_bytes;
	/* uploads: */
	int queue;          /* batches waiting at most */
	int64_t timeout_ms;
	int retries;        /* attempts after the first */
	int nice;           /* the collector's and uploader's threads' nice value */
	char user[256], password[256], token[512], tenant[256];
	char status_path[1024];
};

/* Counters shown by `cprof continuous status`; written under the status lock. */
struct cont_stats {
	/*
	 * Every batch (period) ends in one of sent_batches, dropped_queue,
	 * dropped_failed (some profile given up after retries) or dropped_stop
	 * (still queued or in flight when the collector stopped), and every
	 * profile in sent or one of the *_profiles counts.
	 */
	uint64_t batches, profiles, sent, sent_bytes, sent_batches, retries;
	uint64_t dropped_queue, dropped_failed, dropped_stop;
	uint64_t dropped_queue_profiles, dropped_failed_profiles, dropped_stop_profiles;
	uint64_t files_written, files_removed, write_errors, build_errors;
	uint64_t queued, queued_bytes, max_queued_bytes, baseline_bytes;
	uint64_t symbol_bytes, symbol_pcs, symbol_reloads; /* symbolize.c's kept names */
	int64_t last_sent_wall, last_error_wall;
	char last_error[256];
	char kinds[128];    /* the kinds the last batch held */
	char skipped[256];  /* kinds not collected and why */
};

/* ---- continuous.c ---- */

extern struct cont_stats cprof__cont_stats;
/* Take and release the lock over cprof__cont_stats. Thread. */
void cprof__cont_lock(void);
void cprof__cont_unlock(void);
/* Record an error message (under the lock) and rewrite the status file. Thread. */
void cprof__cont_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Rewrite the status file from the counters. Thread; takes the lock. */
void cprof__cont_status_write(void);
void cprof__cont_batch_free(struct cont_batch *b);
/* Run the calling thread (the collector's, the uploader's) at nice c->nice, never higher than now. Thread. */
void cprof__cont_lower_priority(const struct cont_config *c);

/* ---- continuous_prof.c: heap, allocs, block and mutex from per-stack counters ---- */

struct cont_counters;
struct profile;
struct cont_counters *cprof__cont_counters_new(void);
void cprof__cont_counters_free(struct cont_counters *c);
/* Bytes the baselines hold. */
uint64_t cprof__cont_counters_bytes(const struct cont_counters *c);
/* Take every counter as the baseline, emitting nothing (the collector's start). */
void cprof__cont_counters_baseline(struct cont_counters *c);
/*
 * The heap in use now and the allocations since the last call, from the
 * heap profiler's site table; the baselines move to now. 0, -ENODATA (the
 * heap profiler never ran: why appended to skipped, n bytes) or -ENOMEM.
 */
int cprof__cont_heap(struct cont_counters *c, struct profile **heap, struct profile **allocs, char *skipped,
		     size_t n);
/* The block (mutex false) or mutex waits since the last call. Same returns. */
int cprof__cont_waits(struct cont_counters *c, bool mutex, struct profile **out, char *skipped, size_t n);

/* ---- upload.c: the network destinations ---- */

/* Load libcurl and start the uploader thread. 0 or -errno (logged). Thread. */
int cprof__upload_start(const struct cont_config *c);
/*
 * Hand a batch to the uploader; never blocks: when the queue is full the
 * oldest waiting batch is dropped and counted. Takes ownership. Thread.
 */
void cprof__upload_enqueue(struct cont_batch *b);
/* Send what waits, within wait_ms, then stop the uploader. Thread. */
void cprof__upload_stop(int64_t wait_ms);

#endif
