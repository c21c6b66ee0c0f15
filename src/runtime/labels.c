/*
 * labels.c - key/value labels attached to the calling thread (Go's
 * pprof.Do and SetGoroutineLabels in C terms), which every profiler records
 * with its samples so reports can be sliced by request, tenant or phase.
 *
 * A thread's labels form a stack: cprof_labels_push() sets one or more keys
 * (replacing a key already set, as Go's WithLabels does) and
 * cprof_labels_pop() restores what was there before. Each state of that
 * stack is one immutable, interned node: the labels it holds (sorted by
 * key, flattened, so a profiler never walks a chain) and the node a pop
 * returns to. Interning makes the node's address an identifier a profiler
 * can put in a sample's key; nodes are never freed, so the address stays
 * valid for the life of the process.
 *
 * Nodes and their strings live in one arena mapped at first use, and the
 * intern table has a fixed number of slots: when either is full a push
 * fails with -ENOSPC, the thread keeps its labels, the failure is counted
 * and said once on stderr, and the pop that balances it restores nothing.
 * Programs that label by an unbounded value (a request id) reach this
 * ceiling; labels are meant for bounded sets (endpoint, tenant, phase).
 *
 * A thread created through our pthread_create starts with its creator's
 * labels (threads.c passes them on). Reading the current labels is a TLS
 * load, safe in signal handlers; pushing and popping are thread context.
 *
 * It does not record samples; profilers call cprof__labels_to_pp() when
 * they build their profiles.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "cprof.h"
#include "proto/profile.h"
#include "runtime/rt.h"

#define ARENA_BYTES (16u << 20) /* reserved, touched as nodes are made */
#define TABLE_SLOTS (1u << 16)  /* power of two; at most 3/4 used */
#define MAX_NODES (TABLE_SLOTS / 4 * 3)

struct rt_label {
	const char *key, *value;
};

struct rt_labels {
	const struct rt_labels *parent; /* what a pop returns to */
	uint64_t hash;
	uint32_t n;
	struct rt_label kv[]; /* sorted by key, keys unique */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *arena;
static size_t arena_used;
static const struct rt_labels **table; /* TABLE_SLOTS entries */
static size_t nnodes;
static atomic_ullong failed;

/* Pushes that failed and still wait for their pop, per thread. */
static CPROF_TLS int failed_depth;
/* The labels the thread started with: a pop never goes below them. */
static CPROF_TLS const struct rt_labels *base;

const struct rt_labels *cprof__labels_current(void)
{
	return cprof__self.labels;
}

static uint64_t mix(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t hash_of(const struct rt_labels *parent, const struct rt_label *kv, size_t n)
{
	uint64_t h = mix(0xcbf29ce484222325ull, &parent, sizeof parent);
	for (size_t i = 0; i < n; i++) {
		h = mix(h, kv[i].key, strlen(kv[i].key) + 1);
		h = mix(h, kv[i].value, strlen(kv[i].value) + 1);
	}
	return h;
}

static bool same(const struct rt_labels *a, const struct rt_labels *parent, const struct rt_label *kv,
		 size_t n)
{
	if (a->parent != parent || a->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a->kv[i].key, kv[i].key) != 0 || strcmp(a->kv[i].value, kv[i].value) != 0)
			return false;
	return true;
}

static void *arena_alloc(size_t len)
{
	len = (len + 15) & ~(size_t)15;
	if (!arena) {
		size_t tbl = TABLE_SLOTS * sizeof *table;
		void *m = mmap(NULL, ARENA_BYTES + tbl, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		table = m;
		arena = (char *)m + tbl;
	}
	if (len > ARENA_BYTES - arena_used)
		return NULL;
	void *p = arena + arena_used;
	arena_used += len;
	return p;
}

/* The interned node (parent, kv[0..n)); NULL when full. Called with lock held. */
static const struct rt_labels *intern_locked(const struct rt_labels *parent, const struct rt_label *kv,
					     size_t n)
{
	uint64_t h = hash_of(parent, kv, n);
	if (table) {
		for (size_t i = h & (TABLE_SLOTS - 1);; i = (i + 1) & (TABLE_SLOTS - 1)) {
			const struct rt_labels *e = table[i];
			if (!e)
				break;
			if (e->hash == h && same(e, parent, kv, n))
				return e;
		}
	}
	if (nnodes >= MAX_NODES)
		return NULL;
	size_t strbytes = 0;
	for (size_t i = 0; i < n; i++)
		strbytes += strlen(kv[i].key) + strlen(kv[i].value) + 2;
	struct rt_labels *node = arena_alloc(sizeof *node + n * sizeof node->kv[0] + strbytes);
	if (!node)
		return NULL;
	char *s = (char *)&node->kv[n];
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(kv[i].key) + 1, vl = strlen(kv[i].value) + 1;
		node->kv[i].key = memcpy(s, kv[i].key, kl);
		s += kl;
		node->kv[i].value = memcpy(s, kv[i].value, vl);
		s += vl;
	}
	node->parent = parent;
	node->hash = h;
	node->n = (uint32_t)n;
	size_t i = h & (TABLE_SLOTS - 1);
	while (table[i])
		i = (i + 1) & (TABLE_SLOTS - 1);
	table[i] = node;
	nnodes++;
	return node;
}

static int fail_push(int rc)
{
	failed_depth++;
	if (rc == -ENOSPC && atomic_fetch_add(&failed, 1) == 0)
		cprof__log("label sets are full (%u sets, %u MiB): further cprof_labels_push calls are "
			   "ignored; label by bounded values (endpoint, tenant), not by unique ids",
			   (unsigned)MAX_NODES, ARENA_BYTES >> 20);
	return rc;
}

CPROF_API int cprof_labels_pushv(const char *const *kv, size_t npairs)
{
	if (!kv || npairs == 0 || npairs > CPROF_LABELS_MAX)
		return fail_push(-EINVAL);
	for (size_t i = 0; i < 2 * npairs; i++)
		if (!kv[i] || strlen(kv[i]) > CPROF_LABEL_MAX_LEN || (i % 2 == 0 && !kv[i][0]))
			return fail_push(-EINVAL);
	if (failed_depth > 0)
		return fail_push(-ENOSPC); /* stay balanced: inside a failed push, change nothing */
	const struct rt_labels *cur = cprof__self.labels;
	struct rt_label merged[CPROF_LABELS_MAX];
	size_t n = 0;
	if (cur) {
		memcpy(merged, cur->kv, cur->n * sizeof merged[0]);
		n = cur->n;
	}
	for (size_t p = 0; p < npairs; p++) {
		const char *k = kv[2 * p], *v = kv[2 * p + 1];
		size_t at = 0;
		while (at < n && strcmp(merged[at].key, k) < 0)
			at++;
		if (at < n && strcmp(merged[at].key, k) == 0) {
			merged[at].value = v;
			continue;
		}
		if (n == CPROF_LABELS_MAX)
			return fail_push(-E2BIG);
		memmove(&merged[at + 1], &merged[at], (n - at) * sizeof merged[0]);
		merged[at].key = k;
		merged[at].value = v;
		n++;
	}
	pthread_mutex_lock(&lock);
	const struct rt_labels *node = intern_locked(cur, merged, n);
	pthread_mutex_unlock(&lock);
	if (!node)
		return fail_push(-ENOSPC);
	cprof__self.labels = node;
	return 0;
}

CPROF_API int cprof_labels_push(const char *key, const char *value)
{
	const char *kv[2] = {key, value};
	return cprof_labels_pushv(kv, 1);
}

CPROF_API int cprof_labels_pop(void)
{
	if (failed_depth > 0) {
		failed_depth--;
		return 0;
	}
	const struct rt_labels *cur = cprof__self.labels;
	if (!cur || cur == base)
		return -ENOENT;
	cprof__self.labels = cur->parent;
	return 0;
}

CPROF_API const char *cprof_labels_get(const char *key)
{
	const struct rt_labels *cur = cprof__self.labels;
	for (uint32_t i = 0; cur && key && i < cur->n; i++)
		if (strcmp(cur->kv[i].key, key) == 0)
			return cur->kv[i].value;
	return NULL;
}

void cprof__labels_inherit(const struct rt_labels *ls)
{
	cprof__self.labels = ls;
	base = ls;
	failed_depth = 0;
}

size_t cprof__labels_to_pp(struct profile *p, const struct rt_labels *ls, struct pp_label *out, size_t max)
{
	size_t k = 0;
	for (uint32_t i = 0; ls && i < ls->n && k < max; i++) {
		int64_t key = cprof__profile_intern(p, ls->kv[i].key, (size_t)-1);
		int64_t val = cprof__profile_intern(p, ls->kv[i].value, (size_t)-1);
		if (key < 0 || val < 0)
			break;
		out[k].key = key;
		out[k].str = val;
		out[k].num = 0;
		out[k].num_unit = 0;
		k++;
	}
	return k;
}

size_t cprof__labels_count(const struct rt_labels *ls)
{
	return ls ? ls->n : 0;
}

uint64_t cprof__labels_failed(void)
{
	return atomic_load(&failed);
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void atfork_release(void)
{
	pthread_mutex_unlock(&lock);
}

__attribute__((constructor(101))) static void labels_init(void)
{
	/* Nodes stay valid in the child (same memory); only the lock needs care. */
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}
