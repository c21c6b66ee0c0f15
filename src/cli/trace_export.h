/*
 * trace_export.h - writing a decoded execution trace in other tools'
 * formats: Chrome trace-event JSON, Perfetto's TracePacket protobuf, and
 * pprof profiles of its blocking views (go tool trace -pprof's shape).
 * Called by `cprof trace` on the main thread.
 */
#ifndef CPROF_CLI_TRACE_EXPORT_H
#define CPROF_CLI_TRACE_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct trace_info;

/*
 * Stream the trace data[0..len) to out as Chrome trace-event JSON or as a
 * Perfetto protobuf Trace, each event as it is decoded. Memory grows with
 * the number of threads, tasks, counters and distinct stacks, never with
 * the number of events. info is filled as cprof__trace_decode fills it. 0, or -1 with a message in err;
 * -ENOMEM on out of memory. Write errors are left in out's error flag.
 */
int cprof__trace_export_json(const uint8_t *data, size_t len, FILE *out, struct trace_info *info, char *err,
			     size_t errlen);
int cprof__trace_export_perfetto(const uint8_t *data, size_t len, FILE *out, struct trace_info *info, char *err,
				 size_t errlen);

/*
 * The blocking view `kind` (enum trace_view_kind), restricted to episodes
 * inside regions named `region` when it is not NULL, as a gzipped pprof
 * profile (contentions/count, delay/nanoseconds; period type trace/count),
 * in *out (malloc'd, *outlen bytes). *episodes and *total_ns receive the
 * sums written. 0, -1 with a message in err, or -ENOMEM.
 */
int cprof__trace_export_pprof(const uint8_t *data, size_t len, int kind, const char *region, uint8_t **out,
			      size_t *outlen, uint64_t *episodes, int64_t *total_ns, struct trace_info *info,
			      char *err, size_t errlen);

#endif
