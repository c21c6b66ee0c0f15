/*
 * fuzz_trace.c - libFuzzer target for the execution trace decoder
 * (src/cli/trace_read.c) behind `cprof trace`. Any input must either be
 * rejected with a one-line reason or decode to events whose fields are in
 * range: a known type, a message inside the input, strings terminated,
 * stacks whose frames are all readable, a CPU sample's weight in 1..max.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace_read.h"
#include "runtime/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *lo, *hi;

static int check(const struct trace_event *ev, void *arg)
{
	(void)arg;
	if (ev->type < CPROF_TEV_THREAD_START || ev->type > CPROF_TEV_MAX) {
		fprintf(stderr, "fuzz_trace: event type %d\n", ev->type);
		abort();
	}
	if (!ev->str || strlen(ev->str) > 4096) {
		fprintf(stderr, "fuzz_trace: bad string\n");
		abort();
	}
	if (ev->stack) {
		for (uint32_t i = 0; i < ev->stack->n; i++) {
			const struct trace_frame *f = &ev->stack->frames[i];
			if (!f->func || !f->file || strlen(f->func) > (1u << 20) || strlen(f->file) > (1u << 20)) {
				fprintf(stderr, "fuzz_trace: bad frame\n");
				abort();
			}
		}
	}
	if (ev->type == CPROF_TEV_BLOCK && (ev->dur_ns < 0 || (ev->wake_ns >= 0 && !ev->peer))) {
		fprintf(stderr, "fuzz_trace: bad block event\n");
		abort();
	}
	if (ev->type == CPROF_TEV_CPU_SAMPLE && (ev->weight < 1 || ev->weight > CPROF_TRACE_WEIGHT_MAX)) {
		fprintf(stderr, "fuzz_trace: CPU sample weight %llu\n", (unsigned long long)ev->weight);
		abort();
	}
	if (ev->msglen && ((const uint8_t *)ev->msg < lo || (const uint8_t *)ev->msg + ev->msglen > hi)) {
		fprintf(stderr, "fuzz_trace: message outside the input\n");
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_info info;
	char err[256] = "";
	lo = data;
	hi = data + size;
	if (cprof__trace_decode(data, size, &info, check, NULL, err, sizeof err) != 0 &&
	    (!err[0] || strchr(err, '\n'))) {
		fprintf(stderr, "fuzz_trace: rejected without a one-line reason\n");
		abort();
	}
	return 0;
}
