/*
 * trace_export.c - an execution trace in other tools' formats: Chrome
 * trace-event JSON (Perfetto UI, chrome://tracing), Perfetto's own
 * TracePacket protobuf, and pprof profiles of the blocking views. It owns
 * the mapping from our events to theirs; decoding is trace_read.c's, the
 * views trace_views.c's, the flags cmd_trace.c's.
 *
 * JSON and Perfetto are streamed: each event is written as it is decoded
 * (the decoder names a task's end even when its begin, recorded by another
 * thread, comes later in the file). Memory follows the number of threads,
 * tasks, counters and stacks, not of events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/trace_export.h"
#include "cli/trace_read.h"
#include "cli/trace_views.h"
#include "common/buf.h"
#include "common/hash.h"
#include "proto/pb.h"
#include "proto/profile.h"
#include "runtime/trace.h"

/* ---- a map from 64-bit keys to a string and a number ---- */

struct kmap {
	uint64_t *key;
	char **str;    /* owned copies, or NULL */
	uint64_t *val;
	uint8_t *used;
	size_t cap, n;
};

static void kmap_free(struct kmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->str[i]);
	free(m->key);
	free(m->str);
	free(m->val);
	free(m->used);
	memset(m, 0, sizeof *m);
}

/* The slot of key, -1 when absent. */
static ssize_t kmap_find(const struct kmap *m, uint64_t key)
{
	if (!m->cap)
		return -1;
	for (size_t i = cprof__hash_mix(key) & (m->cap - 1); m->used[i]; i = (i + 1) & (m->cap - 1))
		if (m->key[i] == key)
			return (ssize_t)i;
	return -1;
}

/* The slot of key, added (str NULL, val 0) when absent; -1 on out of memory. */
static ssize_t kmap_put(struct kmap *m, uint64_t key)
{
	ssize_t at = kmap_find(m, key);
	if (at >= 0)
		return at;
	if ((m->n + 1) * 2 > m->cap) {
		struct kmap nm = {0};
		nm.cap = m->cap ? m->cap * 2 : 64;
		nm.key = calloc(nm.cap, sizeof *nm.key);
		nm.str = calloc(nm.cap, sizeof *nm.str);
		nm.val = calloc(nm.cap, sizeof *nm.val);
		nm.used = calloc(nm.cap, 1);
		if (!nm.key || !nm.str || !nm.val || !nm.used) {
			kmap_free(&nm);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->used[i])
				continue;
			size_t j = cprof__hash_mix(m->key[i]) & (nm.cap - 1);
			while (nm.used[j])
				j = (j + 1) & (nm.cap - 1);
			nm.used[j] = 1;
			nm.key[j] = m->key[i];
			nm.str[j] = m->str[i];
			nm.val[j] = m->val[i];
		}
		nm.n = m->n;
		free(m->key);
		free(m->str);
		free(m->val);
		free(m->used);
		*m = nm;
	}
	size_t j = cprof__hash_mix(key) & (m->cap - 1);
	while (m->used[j])
		j = (j + 1) & (m->cap - 1);
	m->used[j] = 1;
	m->key[j] = key;
	m->n++;
	return (ssize_t)j;
}

/* Strings as keys: the key is the string's hash, then hash + 1, ... for others with that hash. */
static ssize_t smap_put(struct kmap *m, const char *s, size_t n, int *added)
{
	uint64_t h = cprof__hash_bytes(s, n, CPROF_HASH_SEED);
	ssize_t at;
	for (;; h++) {
		if ((at = kmap_find(m, h)) < 0)
			break;
		if (strlen(m->str[at]) == n && memcmp(m->str[at], s, n) == 0) {
			*added = 0;
			return at;
		}
	}
	if ((at = kmap_put(m, h)) < 0)
		return -1;
	if (!(m->str[at] = strndup(s, n)))
		return -1;
	*added = 1;
	return at;
}

/* A frame the recorder could not name: its address. */
static const char *frame_name(const struct trace_frame *fr, char *buf, size_t len)
{
	snprintf(buf, len, "0x%" PRIx64, fr->pc);
	return buf;
}

/*
 * How much of a wait to draw: from its begin, but not before the thread's
 * previous event (prev, -1: none) nor the trace's start. The wait's length
 * is measured on another clock than the events' times, so its begin may
 * come out a few microseconds before the event that preceded it (a region
 * begin), which viewers would take for badly nested slices.
 */
static int64_t block_dur(const struct trace_event *ev, int64_t prev)
{
	int64_t d = ev->dur_ns > 0 ? ev->dur_ns : 0;
	int64_t floor = prev > 0 ? prev : 0;
	if (ev->ns - d < floor)
		d = ev->ns > floor ? ev->ns - floor : 0;
	return d;
}

/* The time of tid's latest event (-1: none yet), then ns becomes it. -2 on out of memory. */
static int64_t swap_last(struct kmap *last, int32_t tid, int64_t ns)
{
	ssize_t at = kmap_put(last, (uint32_t)tid);
	if (at < 0)
		return -2;
	int64_t prev = last->val[at] ? (int64_t)(last->val[at] - 1) : -1;
	if (ns >= 0 && (uint64_t)ns + 1 > last->val[at])
		last->val[at] = (uint64_t)ns + 1;
	return prev;
}

static const char *reason_name(uint64_t r)
{
	return cprof__trace_reason_name((int)r);
}

/* ---- Chrome trace-event JSON ---- */

struct json {
	FILE *f;
	int first;
	const struct trace_info *info; /* the decoder fills it before the first event */
	uint64_t flow;
	struct kmap depth; /* tid -> open regions we wrote a B for */
	struct kmap last;  /* tid -> 1 + the time of its latest event */
};

static void jstr(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void jts(FILE *f, const char *key, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	fprintf(f, ",\"%s\":%" PRId64 ".%03d", key, ns / 1000, (int)(ns % 1000));
}

/* Opens an event object: {"ph":PH,"pid":P,"tid":T,"ts":..,"name":NAME */
static void jhead(struct json *j, const char *ph, int32_t tid, int64_t ns, const char *name)
{
	FILE *f = j->f;
	fputs(j->first ? "\n" : ",\n", f);
	j->first = 0;
	fprintf(f, "{\"ph\":\"%s\",\"pid\":%d,\"tid\":%d", ph, j->info->pid, tid);
	jts(f, "ts", ns);
	fputs(",\"name\":", f);
	jstr(f, name, strlen(name));
}

static void jstack(FILE *f, const struct trace_stack *s)
{
	fputs(",\"stack\":[", f);
	for (uint32_t i = 0; s && i < s->n; i++) {
		const struct trace_frame *fr = &s->frames[i];
		char tmp[1024];
		char hex[32];
		const char *fn = fr->func[0] ? fr->func : frame_name(fr, hex, sizeof hex);
		int n = fr->line > 0 ? snprintf(tmp, sizeof tmp, "%s %s:%d", fn, fr->file, fr->line)
		      : fr->file[0]  ? snprintf(tmp, sizeof tmp, "%s %s", fn, fr->file)
				     : snprintf(tmp, sizeof tmp, "%s", fn);
		if (i)
			fputc(',', f);
		jstr(f, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
	}
	fputc(']', f);
}

static int json_event(const struct trace_event *ev, void *arg)
{
	struct json *j = arg;
	FILE *f = j->f;
	ssize_t at;
	int64_t prev = swap_last(&j->last, ev->tid, ev->ns);
	if (prev == -2)
		return -ENOMEM;
	switch (ev->type) {
	case CPROF_TEV_THREAD_START:
		jhead(j, "i", ev->tid, ev->ns, "thread start");
		fprintf(f, ",\"s\":\"t\",\"cat\":\"thread\",\"args\":{\"parent\":%" PRIu64 "}}", ev->a);
		break;
	case CPROF_TEV_THREAD_EXIT:
		jhead(j, "i", ev->tid, ev->ns, "thread exit");
		fputs(",\"s\":\"t\",\"cat\":\"thread\"}", f);
		break;
	case CPROF_TEV_THREAD_NAME:
		jhead(j, "M", ev->tid, ev->ns, "thread_name");
		fputs(",\"args\":{\"name\":", f);
		jstr(f, ev->str, strlen(ev->str));
		fputs("}}", f);
		break;
	case CPROF_TEV_TASK_BEGIN:
		jhead(j, "b", ev->tid, ev->ns, ev->str);
		fprintf(f, ",\"cat\":\"task\",\"id\":\"%" PRIu64 "\",\"args\":{\"task\":%" PRIu64 ",\"parent\":%" PRIu64
			   "}}",
			ev->a, ev->a, ev->b);
		break;
	case CPROF_TEV_TASK_END:
		if (!ev->str[0]) /* begun before the trace: an end alone would not draw */
			break;
		jhead(j, "e", ev->tid, ev->ns, ev->str);
		fprintf(f, ",\"cat\":\"task\",\"id\":\"%" PRIu64 "\"}", ev->a);
		break;
	case CPROF_TEV_REGION_BEGIN:
		if ((at = kmap_put(&j->depth, (uint32_t)ev->tid)) < 0)
			return -ENOMEM;
		j->depth.val[at]++;
		jhead(j, "B", ev->tid, ev->ns, ev->str);
		fprintf(f, ",\"cat\":\"region\",\"args\":{\"task\":%" PRIu64 "}}", ev->a);
		break;
	case CPROF_TEV_REGION_END:
		at = kmap_find(&j->depth, (uint32_t)ev->tid);
		if (at < 0 || !j->depth.val[at]) /* its begin is before the trace */
			break;
		j->depth.val[at]--;
		fputs(j->first ? "\n" : ",\n", f);
		j->first = 0;
		fprintf(f, "{\"ph\":\"E\",\"pid\":%d,\"tid\":%d", j->info->pid, ev->tid);
		jts(f, "ts", ev->ns);
		fputs(",\"cat\":\"region\"}", f);
		break;
	case CPROF_TEV_LOG:
		jhead(j, "i", ev->tid, ev->ns, ev->str);
		fprintf(f, ",\"s\":\"t\",\"cat\":\"log\",\"args\":{\"task\":%" PRIu64 ",\"message\":", ev->a);
		jstr(f, ev->msg, ev->msglen);
		fputs("}}", f);
		break;
	case CPROF_TEV_COUNTER:
		jhead(j, "C", ev->tid, ev->ns, ev->str);
		fprintf(f, ",\"cat\":\"counter\",\"args\":{\"value\":%" PRIu64 "}}", ev->b);
		break;
	case CPROF_TEV_BLOCK: {
		int64_t dur = block_dur(ev, prev);
		int wake = ev->peer && ev->wake_ns >= 0;
		jhead(j, "X", ev->tid, ev->ns - dur, reason_name(ev->a));
		jts(f, "dur", dur);
		fputs(",\"cat\":\"blocked\",\"args\":{\"reason\":", f);
		jstr(f, reason_name(ev->a), strlen(reason_name(ev->a)));
		fputs(",\"call\":", f);
		jstr(f, ev->str, strlen(ev->str));
		if (ev->peer)
			fprintf(f, ",\"released_by\":%d", ev->peer);
		if (ev->wake_ns >= 0)
			fprintf(f, ",\"wakeup_latency_ns\":%" PRId64, ev->ns - ev->wake_ns);
		fprintf(f, ",\"wait_ns\":%" PRId64, ev->dur_ns);
		if (ev->stack)
			jstack(f, ev->stack);
		fputs("}}", f);
		if (!wake)
			break;
		/* The release on the releasing thread and the resume here, joined by a flow arrow. */
		uint64_t id = ++j->flow;
		jhead(j, "X", ev->peer, ev->wake_ns, "release");
		fprintf(f, ",\"dur\":0,\"cat\":\"wakeup\",\"args\":{\"wakes\":%d}}", ev->tid);
		jhead(j, "s", ev->peer, ev->wake_ns, "wakeup");
		fprintf(f, ",\"cat\":\"wakeup\",\"id\":%" PRIu64 "}", id);
		jhead(j, "X", ev->tid, ev->ns, "wakeup");
		fprintf(f, ",\"dur\":0,\"cat\":\"wakeup\",\"args\":{\"released_by\":%d,\"latency_ns\":%" PRId64 "}}",
			ev->peer, ev->ns - ev->wake_ns);
		jhead(j, "f", ev->tid, ev->ns, "wakeup");
		fprintf(f, ",\"bp\":\"e\",\"cat\":\"wakeup\",\"id\":%" PRIu64 "}", id);
		break;
	}
	case CPROF_TEV_CPU_SAMPLE: {
		char leaf[32] = "cpu sample";
		if (ev->stack && ev->stack->n)
			frame_name(&ev->stack->frames[0], leaf, sizeof leaf);
		jhead(j, "i", ev->tid, ev->ns, ev->stack && ev->stack->n && ev->stack->frames[0].func[0] ? ev->stack->frames[0].func : leaf);
		fprintf(f, ",\"s\":\"t\",\"cat\":\"cpu\",\"args\":{\"sample\":true,\"weight\":%" PRIu64, ev->weight);
		if (ev->stack)
			jstack(f, ev->stack);
		fputs("}}", f);
		break;
	}
	}
	return 0;
}

int cprof__trace_export_json(const uint8_t *data, size_t len, FILE *out, struct trace_info *info, char *err,
			     size_t errlen)
{
	struct json j = {out, 1, info, 0, {0}, {0}};
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", out);
	int rc = cprof__trace_decode(data, len, info, json_event, &j, err, errlen);
	if (rc == 0) {
		jhead(&j, "M", 0, 0, "process_name");
		fprintf(out, ",\"args\":{\"name\":\"pid %d\"}}", info->pid);
	}
	fprintf(out,
		"\n],\"otherData\":{\"pid\":%d,\"events\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"truncated\":%s%s}}\n",
		info->pid, info->events, info->dropped, info->truncated ? "true" : "false",
		rc != 0 ? ",\"error\":true" : "");
	kmap_free(&j.depth);
	kmap_free(&j.last);
	return rc;
}

/* ---- Perfetto TracePacket protobuf ---- */

/* Field numbers of the messages we write (proto/perfetto_trace.proto). */
enum {
	TRACE_PACKET = 1,
	TP_TIMESTAMP = 8,
	TP_SEQ_ID = 10,
	TP_TRACK_EVENT = 11,
	TP_INTERNED = 12,
	TP_SEQ_FLAGS = 13,
	TP_DEFAULTS = 59,
	TP_TRACK_DESCRIPTOR = 60,
	TP_PERF_SAMPLE = 66,
	DEF_TRACK_EVENT = 11,
	TED_TRACK = 11,
	SEQ_INCREMENTAL_STATE_CLEARED = 1,
	SEQ_NEEDS_INCREMENTAL_STATE = 2,
	TD_UUID = 1,
	TD_NAME = 2,
	TD_PROCESS = 3,
	TD_THREAD = 4,
	TD_PARENT = 5,
	TD_COUNTER = 8,
	PD_PID = 1,
	PD_NAME = 6,
	THD_PID = 1,
	THD_TID = 2,
	THD_NAME = 5,
	CD_UNIT = 3,
	UNIT_TIME_NS = 1,
	UNIT_COUNT = 2,
	UNIT_SIZE_BYTES = 3,
	TE_CATEGORY_IIDS = 3,
	TE_DEBUG = 4,
	TE_TYPE = 9,
	TE_NAME_IID = 10,
	TE_TRACK = 11,
	TE_COUNTER_VALUE = 30,
	TE_FLOW_IDS = 47,
	TE_TERMINATING_FLOW_IDS = 48,
	TYPE_SLICE_BEGIN = 1,
	TYPE_SLICE_END = 2,
	TYPE_INSTANT = 3,
	TYPE_COUNTER = 4,
	DA_NAME_IID = 1,
	DA_UINT = 3,
	DA_INT = 4,
	DA_STRING = 6,
	ID_CATEGORIES = 1,
	ID_EVENT_NAMES = 2,
	ID_DEBUG_NAMES = 3,
	ID_FUNCTION_NAMES = 5,
	ID_FRAMES = 6,
	ID_CALLSTACKS = 7,
	ID_MAPPING_PATHS = 17,
	ID_MAPPINGS = 19,
	FRAME_FUNCTION = 2,
	FRAME_MAPPING = 3,
	FRAME_REL_PC = 4,
	FRAME_LINE = 6,
	CS_FRAMES = 2,
	MAP_PATHS = 7,
	PS_PID = 2,
	PS_TID = 3,
	PS_CALLSTACK = 4,
	PS_CPU_MODE = 5,
	MODE_USER = 2,
};

#define UUID_PROCESS 1ULL
#define UUID_THREAD(tid) ((1ULL << 32) | (uint32_t)(tid))
#define UUID_TASK(n) ((2ULL << 32) | (n))
#define UUID_COUNTER(n) ((3ULL << 32) | (n))

/*
 * A packet sequence: the global one (track descriptors) or one per thread,
 * whose defaults put track events on the thread's track. Interned data is
 * per sequence.
 */
struct seq {
	uint32_t id;
	uint64_t track; /* default track of its track events (0: none) */
	int started;
	struct kmap names, cats, dnames, funcs; /* interned strings -> iid */
	struct kmap frames;                     /* (pc, function, line) -> frame iid */
	struct kmap stacks;                     /* stack id -> callstack iid */
	uint64_t nframes, nstacks;
	int mapping_done;
};

struct pf {
	FILE *f;
	struct buf pk;   /* the packet being built */
	struct buf in;   /* its new interned entries (InternedData body) */
	struct seq *cur; /* the sequence of the packet being built */
	const struct trace_info *info; /* the decoder fills it before the first event */
	uint64_t flow;
	struct seq global;
	struct seq **seqs;    /* per thread, by the index in threads */
	size_t nseqs;
	struct kmap threads;  /* tid -> 1 + index in seqs */
	struct kmap named;    /* tid -> written with a name */
	struct kmap tasks;    /* task id -> track number */
	struct kmap counters; /* name -> track number */
	struct kmap last;     /* tid -> 1 + the time of its latest event */
	struct kmap depth;    /* tid -> open regions we wrote a begin for */
	uint64_t ntasks, ncounters;
	int started;
	int oom;
};

static void seq_free(struct seq *q)
{
	struct kmap *maps[] = {&q->names, &q->cats, &q->dnames, &q->funcs, &q->frames, &q->stacks};
	for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
		kmap_free(maps[i]);
}

/* The iid of s in table m (field `field` of InternedData), written to pf->in when new. */
static uint64_t iid_of(struct pf *p, struct kmap *m, int field, const char *s)
{
	int added;
	ssize_t at = smap_put(m, s, strlen(s), &added);
	if (at < 0) {
		p->oom = 1;
		return 0;
	}
	if (added) {
		m->val[at] = m->n; /* 1, 2, ... */
		size_t mk = cprof__pb_msg_begin(&p->in, (uint32_t)field);
		cprof__pb_put_uint64(&p->in, 1, m->val[at]);
		cprof__pb_put_bytes(&p->in, 2, s, strlen(s));
		cprof__pb_msg_end(&p->in, mk);
	}
	return m->val[at];
}

static void pf_begin(struct pf *p, struct seq *q)
{
	p->cur = q;
	p->pk.len = 0;
	p->in.len = 0;
}

/* Frame the packet being built (with its timestamp, sequence and interned data) as Trace.packet and write it. */
static void pf_emit(struct pf *p, int64_t ns, int flags)
{
	struct buf *b = &p->pk;
	cprof__pb_put_tag(b, TP_TIMESTAMP, PB_VARINT);
	cprof__pb_put_varint(b, (uint64_t)(ns > 0 ? ns : 0)); /* ns since the trace started, as in the JSON */
	cprof__pb_put_uint64(b, TP_SEQ_ID, p->cur->id);
	cprof__pb_put_uint64(b, TP_SEQ_FLAGS, (uint64_t)flags);
	if (p->in.len)
		cprof__pb_put_bytes(b, TP_INTERNED, p->in.data, p->in.len);
	if (b->err || p->in.err) {
		p->oom = 1;
		return;
	}
	uint8_t head[11];
	size_t n = 0;
	head[n++] = (TRACE_PACKET << 3) | PB_LEN;
	for (uint64_t v = b->len;; v >>= 7) {
		head[n++] = (uint8_t)(v & 0x7f) | (v >= 0x80 ? 0x80 : 0);
		if (v < 0x80)
			break;
	}
	fwrite(head, 1, n, p->f);
	fwrite(b->data, 1, b->len, p->f);
}

/* A sequence's first packet: clears its incremental state, sets its defaults. */
static void seq_start(struct pf *p, struct seq *q)
{
	pf_begin(p, q);
	if (q->track) {
		size_t d = cprof__pb_msg_begin(&p->pk, TP_DEFAULTS);
		size_t te = cprof__pb_msg_begin(&p->pk, DEF_TRACK_EVENT);
		cprof__pb_put_uint64(&p->pk, TED_TRACK, q->track);
		cprof__pb_msg_end(&p->pk, te);
		cprof__pb_msg_end(&p->pk, d);
	}
	pf_emit(p, 0, SEQ_INCREMENTAL_STATE_CLEARED);
	q->started = 1;
}

/* The thread's track descriptor (on the global sequence): at its first event, and again when it is named. */
static void pf_track_thread(struct pf *p, int32_t tid, const char *name)
{
	if (!name && kmap_find(&p->named, (uint32_t)tid) >= 0)
		return;
	if (kmap_put(&p->named, (uint32_t)tid) < 0) {
		p->oom = 1;
		return;
	}
	pf_begin(p, &p->global);
	size_t td = cprof__pb_msg_begin(&p->pk, TP_TRACK_DESCRIPTOR);
	cprof__pb_put_uint64(&p->pk, TD_UUID, UUID_THREAD(tid));
	cprof__pb_put_uint64(&p->pk, TD_PARENT, UUID_PROCESS);
	size_t th = cprof__pb_msg_begin(&p->pk, TD_THREAD);
	cprof__pb_put_int64(&p->pk, THD_PID, p->info->pid);
	cprof__pb_put_int64(&p->pk, THD_TID, tid);
	if (name)
		cprof__pb_put_bytes(&p->pk, THD_NAME, name, strlen(name));
	cprof__pb_msg_end(&p->pk, th);
	cprof__pb_msg_end(&p->pk, td);
	pf_emit(p, 0, SEQ_NEEDS_INCREMENTAL_STATE);
}

/* The thread's sequence, made and started (with the thread's track) at its first event; NULL on out of memory. */
static struct seq *thread_seq(struct pf *p, int32_t tid)
{
	ssize_t at = kmap_put(&p->threads, (uint32_t)tid);
	if (at < 0)
		return NULL;
	if (p->threads.val[at])
		return p->seqs[p->threads.val[at] - 1];
	struct seq **ns = realloc(p->seqs, (p->nseqs + 1) * sizeof *ns);
	if (!ns)
		return NULL;
	p->seqs = ns;
	struct seq *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->id = 2 + (uint32_t)p->nseqs;
	q->track = UUID_THREAD(tid);
	p->seqs[p->nseqs++] = q;
	p->threads.val[at] = p->nseqs;
	pf_track_thread(p, tid, NULL);
	seq_start(p, q);
	return q;
}

/* Begins a TrackEvent packet on q for track uuid (left to q's default when it is that); returns the TrackEvent's mark. */
static size_t te_begin(struct pf *p, struct seq *q, uint64_t track, int type, const char *cat, const char *name)
{
	pf_begin(p, q);
	uint64_t cat_iid = cat ? iid_of(p, &p->cur->cats, ID_CATEGORIES, cat) : 0;
	uint64_t name_iid = name ? iid_of(p, &p->cur->names, ID_EVENT_NAMES, name) : 0;
	size_t mk = cprof__pb_msg_begin(&p->pk, TP_TRACK_EVENT);
	cprof__pb_put_uint64(&p->pk, TE_TYPE, (uint64_t)type);
	if (track != q->track)
		cprof__pb_put_uint64(&p->pk, TE_TRACK, track);
	if (cat_iid)
		cprof__pb_put_uint64(&p->pk, TE_CATEGORY_IIDS, cat_iid);
	if (name_iid)
		cprof__pb_put_uint64(&p->pk, TE_NAME_IID, name_iid);
	return mk;
}

static void da_uint(struct pf *p, const char *key, uint64_t v)
{
	uint64_t k = iid_of(p, &p->cur->dnames, ID_DEBUG_NAMES, key);
	size_t mk = cprof__pb_msg_begin(&p->pk, TE_DEBUG);
	cprof__pb_put_uint64(&p->pk, DA_NAME_IID, k);
	cprof__pb_put_tag(&p->pk, DA_UINT, PB_VARINT);
	cprof__pb_put_varint(&p->pk, v);
	cprof__pb_msg_end(&p->pk, mk);
}

static void da_int(struct pf *p, const char *key, int64_t v)
{
	uint64_t k = iid_of(p, &p->cur->dnames, ID_DEBUG_NAMES, key);
	size_t mk = cprof__pb_msg_begin(&p->pk, TE_DEBUG);
	cprof__pb_put_uint64(&p->pk, DA_NAME_IID, k);
	cprof__pb_put_tag(&p->pk, DA_INT, PB_VARINT);
	cprof__pb_put_varint(&p->pk, (uint64_t)v);
	cprof__pb_msg_end(&p->pk, mk);
}

static void da_str(struct pf *p, const char *key, const char *s, size_t n)
{
	uint64_t k = iid_of(p, &p->cur->dnames, ID_DEBUG_NAMES, key);
	size_t mk = cprof__pb_msg_begin(&p->pk, TE_DEBUG);
	cprof__pb_put_uint64(&p->pk, DA_NAME_IID, k);
	cprof__pb_put_bytes(&p->pk, DA_STRING, s, n);
	cprof__pb_msg_end(&p->pk, mk);
}

static void te_flow(struct pf *p, int field, uint64_t id)
{
	cprof__pb_put_tag(&p->pk, (uint32_t)field, PB_I64);
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(id >> (8 * i));
	cprof__buf_append(&p->pk, le, 8);
}

static void te_end(struct pf *p, size_t mk, int64_t ns)
{
	cprof__pb_msg_end(&p->pk, mk);
	pf_emit(p, ns, SEQ_NEEDS_INCREMENTAL_STATE);
}

/* The task's track number (written when new), 0 when its begin is not in the trace (no name). */
static uint64_t pf_task_track(struct pf *p, uint64_t id, const char *name)
{
	if (!name[0])
		return 0;
	ssize_t at = kmap_put(&p->tasks, id);
	if (at < 0) {
		p->oom = 1;
		return 0;
	}
	if (p->tasks.val[at])
		return p->tasks.val[at];
	p->tasks.val[at] = ++p->ntasks;
	pf_begin(p, &p->global);
	size_t td = cprof__pb_msg_begin(&p->pk, TP_TRACK_DESCRIPTOR);
	cprof__pb_put_uint64(&p->pk, TD_UUID, UUID_TASK(p->ntasks));
	cprof__pb_put_uint64(&p->pk, TD_PARENT, UUID_PROCESS);
	cprof__pb_put_bytes(&p->pk, TD_NAME, name, strlen(name));
	cprof__pb_msg_end(&p->pk, td);
	pf_emit(p, 0, SEQ_NEEDS_INCREMENTAL_STATE);
	return p->ntasks;
}

static uint64_t pf_counter_track(struct pf *p, const char *name)
{
	int added;
	ssize_t at = smap_put(&p->counters, name, strlen(name), &added);
	if (at < 0) {
		p->oom = 1;
		return 0;
	}
	if (!added)
		return p->counters.val[at];
	p->counters.val[at] = ++p->ncounters;
	size_t n = strlen(name);
	int unit = n > 6 && strcmp(name + n - 6, "_bytes") == 0 ? UNIT_SIZE_BYTES
		   : n > 3 && strcmp(name + n - 3, "_ns") == 0 ? UNIT_TIME_NS
							       : UNIT_COUNT;
	pf_begin(p, &p->global);
	size_t td = cprof__pb_msg_begin(&p->pk, TP_TRACK_DESCRIPTOR);
	cprof__pb_put_uint64(&p->pk, TD_UUID, UUID_COUNTER(p->ncounters));
	cprof__pb_put_uint64(&p->pk, TD_PARENT, UUID_PROCESS);
	cprof__pb_put_bytes(&p->pk, TD_NAME, name, n);
	size_t cd = cprof__pb_msg_begin(&p->pk, TD_COUNTER);
	cprof__pb_put_uint64(&p->pk, CD_UNIT, (uint64_t)unit);
	cprof__pb_msg_end(&p->pk, cd);
	cprof__pb_msg_end(&p->pk, td);
	pf_emit(p, 0, SEQ_NEEDS_INCREMENTAL_STATE);
	return p->ncounters;
}

/* The callstack iid of s, interning its frames (into pf->in) when new. */
static uint64_t pf_callstack(struct pf *p, const struct trace_stack *s)
{
	ssize_t at = kmap_put(&p->cur->stacks, s->id);
	if (at < 0) {
		p->oom = 1;
		return 0;
	}
	if (p->cur->stacks.val[at])
		return p->cur->stacks.val[at];
	if (!p->cur->mapping_done) {
		/* One mapping for every frame: frames come symbolized, addresses as they were. */
		p->cur->mapping_done = 1;
		size_t mk = cprof__pb_msg_begin(&p->in, ID_MAPPING_PATHS);
		cprof__pb_put_uint64(&p->in, 1, 1);
		cprof__pb_put_bytes(&p->in, 2, "[process]", 9);
		cprof__pb_msg_end(&p->in, mk);
		mk = cprof__pb_msg_begin(&p->in, ID_MAPPINGS);
		cprof__pb_put_uint64(&p->in, 1, 1);
		cprof__pb_put_uint64(&p->in, 5, UINT64_MAX);
		cprof__pb_put_packed_uint64(&p->in, MAP_PATHS, (const uint64_t[]){1}, 1);
		cprof__pb_msg_end(&p->in, mk);
	}
	uint64_t *ids = malloc((s->n ? s->n : 1) * sizeof *ids);
	if (!ids) {
		p->oom = 1;
		return 0;
	}
	for (uint32_t i = 0; i < s->n; i++) {
		const struct trace_frame *fr = &s->frames[i];
		char hex[32];
		uint64_t fn = iid_of(p, &p->cur->funcs, ID_FUNCTION_NAMES, fr->func[0] ? fr->func : frame_name(fr, hex, sizeof hex));
		uint64_t key = cprof__hash_mix(fr->pc ^ (fn << 40) ^ ((uint64_t)(uint32_t)fr->line << 20));
		ssize_t fat = kmap_put(&p->cur->frames, key);
		if (fat < 0) {
			free(ids);
			p->oom = 1;
			return 0;
		}
		if (!p->cur->frames.val[fat]) {
			p->cur->frames.val[fat] = ++p->cur->nframes;
			size_t mk = cprof__pb_msg_begin(&p->in, ID_FRAMES);
			cprof__pb_put_uint64(&p->in, 1, p->cur->nframes);
			cprof__pb_put_uint64(&p->in, FRAME_FUNCTION, fn);
			cprof__pb_put_uint64(&p->in, FRAME_MAPPING, 1);
			cprof__pb_put_tag(&p->in, FRAME_REL_PC, PB_VARINT);
			cprof__pb_put_varint(&p->in, fr->pc);
			if (fr->line > 0)
				cprof__pb_put_uint64(&p->in, FRAME_LINE, (uint64_t)fr->line);
			cprof__pb_msg_end(&p->in, mk);
		}
		ids[s->n - 1 - i] = p->cur->frames.val[fat]; /* outermost first */
	}
	p->cur->stacks.val[at] = ++p->cur->nstacks;
	size_t mk = cprof__pb_msg_begin(&p->in, ID_CALLSTACKS);
	cprof__pb_put_uint64(&p->in, 1, p->cur->nstacks);
	cprof__pb_put_packed_uint64(&p->in, CS_FRAMES, ids, s->n);
	cprof__pb_msg_end(&p->in, mk);
	free(ids);
	return p->cur->nstacks;
}

static int pf_event(const struct trace_event *ev, void *arg)
{
	struct pf *p = arg;
	size_t mk;
	uint64_t n;
	ssize_t at;
	struct seq *q = thread_seq(p, ev->tid);
	if (q && ev->type == CPROF_TEV_THREAD_NAME)
		pf_track_thread(p, ev->tid, ev->str);
	int64_t prev = swap_last(&p->last, ev->tid, ev->ns);
	if (!q || p->oom || prev == -2)
		return -ENOMEM;
	uint64_t track = UUID_THREAD(ev->tid);
	switch (ev->type) {
	case CPROF_TEV_THREAD_START:
		mk = te_begin(p, q, track, TYPE_INSTANT, "thread", "thread start");
		da_uint(p, "parent", ev->a);
		te_end(p, mk, ev->ns);
		break;
	case CPROF_TEV_THREAD_EXIT:
		mk = te_begin(p, q, track, TYPE_INSTANT, "thread", "thread exit");
		te_end(p, mk, ev->ns);
		break;
	case CPROF_TEV_TASK_BEGIN:
	case CPROF_TEV_TASK_END:
		if (!(n = pf_task_track(p, ev->a, ev->str)))
			break;
		if (ev->type == CPROF_TEV_TASK_BEGIN) {
			mk = te_begin(p, q, UUID_TASK(n), TYPE_SLICE_BEGIN, "task", ev->str);
			da_uint(p, "task", ev->a);
			if (ev->b)
				da_uint(p, "parent", ev->b);
			da_int(p, "tid", ev->tid);
		} else {
			mk = te_begin(p, q, UUID_TASK(n), TYPE_SLICE_END, NULL, NULL);
			da_int(p, "end_tid", ev->tid);
		}
		te_end(p, mk, ev->ns);
		break;
	case CPROF_TEV_REGION_BEGIN:
		if ((at = kmap_put(&p->depth, (uint32_t)ev->tid)) < 0)
			return -ENOMEM;
		p->depth.val[at]++;
		mk = te_begin(p, q, track, TYPE_SLICE_BEGIN, "region", ev->str);
		if (ev->a)
			da_uint(p, "task", ev->a);
		te_end(p, mk, ev->ns);
		break;
	case CPROF_TEV_REGION_END: {
		at = kmap_find(&p->depth, (uint32_t)ev->tid);
		if (at < 0 || !p->depth.val[at]) /* its begin is before the trace */
			break;
		p->depth.val[at]--;
		mk = te_begin(p, q, track, TYPE_SLICE_END, NULL, NULL);
		te_end(p, mk, ev->ns);
		break;
	}
	case CPROF_TEV_LOG:
		mk = te_begin(p, q, track, TYPE_INSTANT, "log", ev->str);
		da_str(p, "message", ev->msg ? ev->msg : "", ev->msglen);
		if (ev->a)
			da_uint(p, "task", ev->a);
		te_end(p, mk, ev->ns);
		break;
	case CPROF_TEV_COUNTER:
		if (!(n = pf_counter_track(p, ev->str)))
			break;
		mk = te_begin(p, q, UUID_COUNTER(n), TYPE_COUNTER, NULL, NULL);
		cprof__pb_put_tag(&p->pk, TE_COUNTER_VALUE, PB_VARINT);
		cprof__pb_put_varint(&p->pk, ev->b);
		te_end(p, mk, ev->ns);
		break;
	case CPROF_TEV_BLOCK: {
		int64_t dur = block_dur(ev, prev);
		const char *reason = reason_name(ev->a);
		mk = te_begin(p, q, track, TYPE_SLICE_BEGIN, "blocked", reason);
		da_str(p, "call", ev->str, strlen(ev->str));
		da_int(p, "wait_ns", ev->dur_ns);
		if (ev->peer)
			da_int(p, "released_by", ev->peer);
		if (ev->wake_ns >= 0)
			da_int(p, "wakeup_latency_ns", ev->ns - ev->wake_ns);
		te_end(p, mk, ev->ns - dur);
		mk = te_begin(p, q, track, TYPE_SLICE_END, NULL, NULL);
		te_end(p, mk, ev->ns);
		if (!ev->peer || ev->wake_ns < 0)
			break;
		uint64_t id = ++p->flow;
		pf_track_thread(p, ev->peer, NULL);
		mk = te_begin(p, q, UUID_THREAD(ev->peer), TYPE_INSTANT, "wakeup", "release");
		da_int(p, "wakes", ev->tid);
		te_flow(p, TE_FLOW_IDS, id);
		te_end(p, mk, ev->wake_ns);
		mk = te_begin(p, q, track, TYPE_INSTANT, "wakeup", "wakeup");
		da_int(p, "released_by", ev->peer);
		da_int(p, "latency_ns", ev->ns - ev->wake_ns);
		te_flow(p, TE_TERMINATING_FLOW_IDS, id);
		te_end(p, mk, ev->ns);
		break;
	}
	case CPROF_TEV_CPU_SAMPLE: {
		if (!ev->stack)
			break;
		/*
		 * PerfSample has no weight: Perfetto counts samples, so a sample
		 * that stands for N sampling periods is N of them at its time (the
		 * callstack interned with the first).
		 */
		for (uint64_t k = 0; k < ev->weight && !p->oom && !ferror(p->f); k++) {
			pf_begin(p, q);
			uint64_t cs = pf_callstack(p, ev->stack);
			size_t ps = cprof__pb_msg_begin(&p->pk, TP_PERF_SAMPLE);
			cprof__pb_put_uint64(&p->pk, PS_PID, (uint64_t)(uint32_t)p->info->pid);
			cprof__pb_put_uint64(&p->pk, PS_TID, (uint64_t)(uint32_t)ev->tid);
			cprof__pb_put_uint64(&p->pk, PS_CALLSTACK, cs);
			cprof__pb_put_uint64(&p->pk, PS_CPU_MODE, MODE_USER);
			cprof__pb_msg_end(&p->pk, ps);
			pf_emit(p, ev->ns, SEQ_NEEDS_INCREMENTAL_STATE);
		}
		break;
	}
	}
	return p->oom ? -ENOMEM : 0;
}

/* The global sequence's first packet names the process (its pid is known by the first event). */
static void pf_start(struct pf *p)
{
	char pname[32];
	snprintf(pname, sizeof pname, "pid %d", p->info->pid);
	p->global.id = 1;
	pf_begin(p, &p->global);
	size_t td = cprof__pb_msg_begin(&p->pk, TP_TRACK_DESCRIPTOR);
	cprof__pb_put_uint64(&p->pk, TD_UUID, UUID_PROCESS);
	size_t pd = cprof__pb_msg_begin(&p->pk, TD_PROCESS);
	cprof__pb_put_int64(&p->pk, PD_PID, p->info->pid);
	cprof__pb_put_bytes(&p->pk, PD_NAME, pname, strlen(pname));
	cprof__pb_msg_end(&p->pk, pd);
	cprof__pb_msg_end(&p->pk, td);
	pf_emit(p, 0, SEQ_INCREMENTAL_STATE_CLEARED);
	p->global.started = 1;
	p->started = 1;
}

static int pf_event_first(const struct trace_event *ev, void *arg)
{
	struct pf *p = arg;
	if (!p->started)
		pf_start(p);
	return pf_event(ev, arg);
}

int cprof__trace_export_perfetto(const uint8_t *data, size_t len, FILE *out, struct trace_info *info, char *err,
				 size_t errlen)
{
	struct pf p;
	memset(&p, 0, sizeof p);
	p.f = out;
	p.info = info;
	cprof__buf_init(&p.pk, 0);
	cprof__buf_init(&p.in, 0);
	int rc = cprof__trace_decode(data, len, info, pf_event_first, &p, err, errlen);
	if (rc == 0 && !p.started) /* no events: still a valid trace with its process */
		pf_start(&p);
	if (rc == 0 && p.oom)
		rc = -ENOMEM;
	cprof__buf_release(&p.pk);
	cprof__buf_release(&p.in);
	seq_free(&p.global);
	for (size_t i = 0; i < p.nseqs; i++) {
		seq_free(p.seqs[i]);
		free(p.seqs[i]);
	}
	free(p.seqs);
	struct kmap *maps[] = {&p.threads, &p.named, &p.tasks, &p.counters, &p.last, &p.depth};
	for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
		kmap_free(maps[i]);
	return rc;
}

/* ---- pprof profiles of the blocking views ---- */

struct pprof_build {
	struct profile *p;
	struct kmap locs;  /* (pc, function) -> location id */
	struct kmap funcs; /* name + file -> function id */
};

static uint64_t pprof_function(struct pprof_build *b, const char *name, const char *file)
{
	size_t a = strlen(name), c = strlen(file);
	char *key = malloc(a + c + 2);
	if (!key)
		return 0;
	memcpy(key, name, a);
	key[a] = '\n';
	memcpy(key + a + 1, file, c + 1);
	int added;
	ssize_t at = smap_put(&b->funcs, key, a + c + 1, &added);
	free(key);
	if (at < 0)
		return 0;
	if (added) {
		struct pp_function *f = cprof__profile_add_function(b->p, name, name, file, 0);
		if (!f)
			return 0;
		b->funcs.val[at] = f->id;
	}
	return b->funcs.val[at];
}

/* Location ids of stack s, leaf first, into ids (room for s->n); their count, or -1 on out of memory. */
static ssize_t pprof_locations(struct pprof_build *b, const struct trace_stack *s, uint64_t *ids)
{
	size_t n = 0;
	for (uint32_t i = 0; i < s->n;) {
		/* Frames inlined at one address are one location, innermost line first. */
		uint32_t j = i + 1;
		while (j < s->n && s->frames[j].pc == s->frames[i].pc && s->frames[i].pc)
			j++;
		uint64_t key = s->frames[i].pc;
		for (uint32_t k = i; k < j; k++)
			key = cprof__hash_bytes(s->frames[k].func, strlen(s->frames[k].func), key * 31 + (uint64_t)s->frames[k].line);
		ssize_t at = kmap_put(&b->locs, key);
		if (at < 0)
			return -1;
		if (!b->locs.val[at]) {
			struct pp_line lines[64];
			size_t nl = 0;
			for (uint32_t k = i; k < j && nl < 64; k++) {
				if (!s->frames[k].func[0]) /* unnamed: the address alone */
					continue;
				uint64_t fid = pprof_function(b, s->frames[k].func, s->frames[k].file);
				if (!fid)
					return -1;
				lines[nl++] = (struct pp_line){fid, s->frames[k].line, 0};
			}
			struct pp_location *l = cprof__profile_add_location(b->p, 1, s->frames[i].pc, lines, nl);
			if (!l)
				return -1;
			b->locs.val[at] = l->id;
		}
		ids[n++] = b->locs.val[at];
		i = j;
	}
	return (ssize_t)n;
}

int cprof__trace_export_pprof(const uint8_t *data, size_t len, int kind, const char *region, uint8_t **out,
			      size_t *outlen, uint64_t *episodes, int64_t *total_ns, struct trace_info *info,
			      char *err, size_t errlen)
{
	*episodes = 0;
	*total_ns = 0;
	struct trace_views *v = cprof__trace_views_new_episodes();
	if (!v)
		return -ENOMEM;
	int rc = cprof__trace_decode(data, len, info, cprof__trace_views_on_event, v, err, errlen);
	if (rc == 0)
		rc = cprof__trace_views_finish(v);
	size_t n = 0;
	const struct trace_stack_total *t = NULL;
	if (rc == 0) {
		t = cprof__trace_views_profile(v, kind, region, &n, &rc);
	}
	struct pprof_build b;
	memset(&b, 0, sizeof b);
	if (rc == 0 && !(b.p = cprof__profile_new()))
		rc = -ENOMEM;
	if (rc == 0) {
		struct profile *p = b.p;
		if (!cprof__profile_add_sample_type(p, "contentions", "count") ||
		    !cprof__profile_add_sample_type(p, "delay", "nanoseconds"))
			rc = -ENOMEM;
		p->period_type.type = cprof__profile_intern(p, "trace", (size_t)-1);
		p->period_type.unit = cprof__profile_intern(p, "count", (size_t)-1);
		p->period = 1;
		p->time_nanos = info->wall_ns;
		p->duration_nanos = info->duration_ns;
		struct pp_mapping *m = cprof__profile_add_mapping(p);
		if (m) {
			m->memory_limit = UINT64_MAX;
			m->has_functions = m->has_filenames = m->has_line_numbers = m->has_inline_frames = true;
		} else {
			rc = -ENOMEM;
		}
		char c[160];
		snprintf(c, sizeof c, "cprof trace -pprof=%s%s%s", cprof__trace_view_kind_name(kind),
			 region ? " -region=" : "", region ? region : "");
		if (cprof__profile_add_comment(p, c))
			rc = -ENOMEM;
		int64_t reason_key = cprof__profile_intern(p, "reason", (size_t)-1);
		uint64_t *ids = NULL;
		size_t idcap = 0;
		for (size_t i = 0; i < n && rc == 0; i++) {
			ssize_t nl;
			if (t[i].stack) {
				if (t[i].stack->n > idcap) {
					free(ids);
					idcap = t[i].stack->n;
					if (!(ids = malloc(idcap * sizeof *ids))) {
						rc = -ENOMEM;
						break;
					}
				}
				nl = pprof_locations(&b, t[i].stack, ids);
			} else {
				/* Episodes the recorder gave no stack: one frame that says so. */
				static const struct trace_frame none = {0, "[no stack recorded]", "", 0};
				static const struct trace_stack nostack = {UINT32_MAX, 1, &none};
				if (!idcap) {
					idcap = 1;
					if (!(ids = malloc(sizeof *ids))) {
						rc = -ENOMEM;
						break;
					}
				}
				nl = pprof_locations(&b, &nostack, ids);
			}
			if (nl < 0) {
				rc = -ENOMEM;
				break;
			}
			int64_t val[2] = {(int64_t)t[i].count, t[i].ns};
			const char *rn = cprof__trace_reason_name(t[i].reason);
			struct pp_label lab = {reason_key, cprof__profile_intern(p, rn, (size_t)-1), 0, 0};
			if (!cprof__profile_add_sample(p, ids, (size_t)nl, val, 2, &lab, 1)) {
				rc = -ENOMEM;
				break;
			}
			*episodes += t[i].count;
			*total_ns += t[i].ns;
		}
		free(ids);
	}
	if (rc == 0) {
		char verr[200];
		if (cprof__profile_validate(b.p, verr, sizeof verr) != 0) {
			snprintf(err, errlen, "the profile built is invalid: %s", verr);
			rc = -1;
		} else {
			rc = cprof__profile_encode_gz(b.p, out, outlen);
		}
	}
	if (b.p)
		cprof__profile_free(b.p);
	kmap_free(&b.locs);
	kmap_free(&b.funcs);
	cprof__trace_views_free(v);
	return rc;
}
