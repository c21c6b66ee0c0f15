/*
 * test_rt_stacktab.c - the runtime's collector fed synthetic stacks: the
 * lock-free stack table (the CPU profile's keys and the wait profiles'),
 * the frame-pointer walker over a hand-built stack, and the symbolizer
 * turning known addresses of this binary into functions, files and lines.
 * No timers, no signals: every expected value is exact.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "check.h"
#include "proto/profile.h"
#include "runtime/rt.h"

struct seen {
	int stacks;
	uint64_t total;
	uint64_t weight_of_abc;
};

static void count_stack(const uintptr_t *pcs, int n, uint64_t w, void *arg)
{
	struct seen *s = arg;
	s->stacks++;
	s->total += w;
	if (n == 3 && pcs[0] == 0xa && pcs[1] == 0xb && pcs[2] == 0xc)
		s->weight_of_abc += w;
}

static void test_table_merges_equal_stacks(void)
{
	struct stacktab *t = cprof__stacktab_new(64, 1024);
	CHECK(t != NULL);
	uintptr_t abc[] = {0xa, 0xb, 0xc}, abd[] = {0xa, 0xb, 0xd}, ab[] = {0xa, 0xb};
	CHECK_EQ_INT(cprof__stacktab_add(t, abc, 3, 1), 0);
	CHECK_EQ_INT(cprof__stacktab_add(t, abc, 3, 4), 0);
	CHECK_EQ_INT(cprof__stacktab_add(t, abd, 3, 2), 0);
	CHECK_EQ_INT(cprof__stacktab_add(t, ab, 2, 3), 0);
	struct seen s = {0, 0, 0};
	cprof__stacktab_foreach(t, count_stack, &s);
	CHECK_EQ_INT(s.stacks, 3);
	CHECK_EQ_INT(s.total, 10);
	CHECK_EQ_INT(s.weight_of_abc, 5);
	cprof__stacktab_free(t);
}

static void test_table_full_refuses(void)
{
	/* Frame area of 8: two 3-frame stacks fit, the third does not. */
	struct stacktab *t = cprof__stacktab_new(64, 8);
	uintptr_t s1[] = {1, 2, 3}, s2[] = {4, 5, 6}, s3[] = {7, 8, 9};
	CHECK_EQ_INT(cprof__stacktab_add(t, s1, 3, 1), 0);
	CHECK_EQ_INT(cprof__stacktab_add(t, s2, 3, 1), 0);
	CHECK_EQ_INT(cprof__stacktab_add(t, s3, 3, 1), -ENOSPC);
	/* An existing stack still counts. */
	CHECK_EQ_INT(cprof__stacktab_add(t, s1, 3, 1), 0);
	struct seen s = {0, 0, 0};
	cprof__stacktab_foreach(t, count_stack, &s);
	CHECK_EQ_INT(s.stacks, 2);
	CHECK_EQ_INT(s.total, 3);
	cprof__stacktab_free(t);

	/* Entry table of 4: at most 4 distinct stacks. */
	t = cprof__stacktab_new(4, 1024);
	int refused = 0;
	for (uintptr_t i = 1; i <= 8; i++)
		refused += cprof__stacktab_add(t, &i, 1, 1) == -ENOSPC;
	CHECK_EQ_INT(refused, 4);
	cprof__stacktab_free(t);
}

struct keys {
	int entries;
	uint64_t v0[3], v1[3]; /* by reason: NULL, "lock", "sleep" */
	size_t id_of_lock;
};

static void count_key(size_t id, const uintptr_t *pcs, int n, const void *tag, const void *tag2,
		      const uint64_t *v, void *arg)
{
	struct keys *k = arg;
	k->entries++;
	int r = tag2 == NULL ? 0 : strcmp(tag2, "lock") == 0 ? 1 : 2;
	k->v0[r] += v[0];
	k->v1[r] += v[1];
	if (r == 1 && tag == (const void *)0x100)
		k->id_of_lock = id;
}

/* The wait profiles' keys: a stack, a label set and a reason, with two values. */
static void test_table_two_tags_two_values(void)
{
	struct stacktab *t = cprof__stacktab_new(64, 1024);
	static const char lock[] = "lock", sleep_[] = "sleep";
	uintptr_t abc[] = {0xa, 0xb, 0xc};
	const void *lab = (const void *)0x100;
	uint64_t v1[2] = {1024, 500}, v2[2] = {2048, 70}, w[1] = {9};
	CHECK_EQ_INT(cprof__stacktab_add_key(t, abc, 3, lab, lock, v1, 2), 0);
	CHECK_EQ_INT(cprof__stacktab_add_key(t, abc, 3, lab, lock, v2, 2), 0);   /* same key: summed */
	CHECK_EQ_INT(cprof__stacktab_add_key(t, abc, 3, lab, sleep_, v1, 2), 0); /* another reason */
	CHECK_EQ_INT(cprof__stacktab_add_key(t, abc, 3, NULL, lock, v1, 2), 0);  /* another label set */
	/* One value and no second tag: the CPU profile's key, a third entry apart from the reasons'. */
	CHECK_EQ_INT(cprof__stacktab_add_key(t, abc, 3, lab, NULL, w, 1), 0);
	CHECK_EQ_INT(cprof__stacktab_add_tagged(t, abc, 3, lab, 1), 0);
	CHECK_EQ_INT(cprof__stacktab_add_key(t, abc, 3, lab, lock, v1, 0), -EINVAL);
	CHECK_EQ_INT(cprof__stacktab_add_key(t, abc, 3, lab, lock, v1, STACKTAB_VALUES + 1), -EINVAL);
	struct keys k;
	memset(&k, 0, sizeof k);
	k.id_of_lock = (size_t)-1;
	cprof__stacktab_foreach_key(t, count_key, &k);
	CHECK_EQ_INT(k.entries, 4);
	CHECK_EQ_INT(k.v0[1], 1024 + 2048 + 1024);
	CHECK_EQ_INT(k.v1[1], 500 + 70 + 500);
	CHECK_EQ_INT(k.v0[2], 1024);
	CHECK_EQ_INT(k.v1[2], 500);
	CHECK_EQ_INT(k.v0[0], 10);
	CHECK_EQ_INT(k.v1[0], 0);
	/* An entry keeps its index: the same id after more events. */
	size_t id = k.id_of_lock;
	CHECK(id != (size_t)-1);
	CHECK_EQ_INT(cprof__stacktab_add_key(t, abc, 3, lab, lock, v1, 2), 0);
	memset(&k, 0, sizeof k);
	cprof__stacktab_foreach_key(t, count_key, &k);
	CHECK_EQ_INT(k.id_of_lock, id);
	cprof__stacktab_clear(t);
	memset(&k, 0, sizeof k);
	cprof__stacktab_foreach_key(t, count_key, &k);
	CHECK_EQ_INT(k.entries, 0);
	cprof__stacktab_free(t);
}

static void test_fp_walk_synthetic_stack(void)
{
	/* A stack of three frames: [fp] = next fp, [fp+8] = return address. */
	uintptr_t stack[64];
	memset(stack, 0, sizeof stack);
	uintptr_t *f1 = &stack[8], *f2 = &stack[20], *f3 = &stack[40];
	f1[0] = (uintptr_t)f2;
	f1[1] = 0x401111;
	f2[0] = (uintptr_t)f3;
	f2[1] = 0x402222;
	f3[0] = 0; /* end of chain */
	f3[1] = 0x403333;
	ucontext_t uc;
	memset(&uc, 0, sizeof uc);
	uc.uc_mcontext.gregs[REG_RIP] = 0x400000;
	uc.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)&stack[0];
	uc.uc_mcontext.gregs[REG_RBP] = (greg_t)(uintptr_t)f1;
	uintptr_t pcs[16];
	int n = cprof__unwind_fp(&uc, pcs, 16, (uintptr_t)&stack[0], (uintptr_t)&stack[64]);
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_INT(pcs[0], 0x400000);
	CHECK_EQ_INT(pcs[1], 0x401111);
	CHECK_EQ_INT(pcs[2], 0x402222);
	CHECK_EQ_INT(pcs[3], 0x403333);

	/* A frame pointer outside the stack ends the walk without reading it. */
	f2[0] = 0x10; /* garbage */
	n = cprof__unwind_fp(&uc, pcs, 16, (uintptr_t)&stack[0], (uintptr_t)&stack[64]);
	CHECK_EQ_INT(n, 3);
	/* Unknown bounds: only the PC. */
	n = cprof__unwind_fp(&uc, pcs, 16, 0, 0);
	CHECK_EQ_INT(n, 1);
	/* Depth limit. */
	f2[0] = (uintptr_t)f3;
	n = cprof__unwind_fp(&uc, pcs, 2, (uintptr_t)&stack[0], (uintptr_t)&stack[64]);
	CHECK_EQ_INT(n, 2);
}

__attribute__((noinline)) int known_leaf(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline)) int known_caller(int x)
{
	return known_leaf(x) + 2;
}

static const char *fn_name_of(const struct profile *p, uint64_t loc_id, size_t line_idx)
{
	const struct pp_location *l = cprof__profile_location(p, loc_id);
	if (!l || line_idx >= l->nline)
		return NULL;
	const struct pp_function *f = cprof__profile_function(p, l->line[line_idx].function_id);
	return f ? cprof__profile_str(p, f->name) : NULL;
}

static void test_symbolize_known_addresses(void)
{
	CHECK_EQ_INT(known_caller(1), 6);
	struct stacktab *t = cprof__stacktab_new(64, 1024);
	/* Leaf: an address inside known_leaf; caller: a "return address" inside
	 * known_caller (the symbolizer names ret-1). */
	uintptr_t pcs[] = {(uintptr_t)known_leaf + 1, (uintptr_t)known_caller + 2};
	CHECK_EQ_INT(cprof__stacktab_add(t, pcs, 2, 7), 0);
	const char *comments[] = {"synthetic"};
	struct cpu_meta m = {10000000, 1700000000000000000LL, 2000000000LL, 3, comments, 1};
	struct profile *p = cprof__symbolize_cpu(t, &m);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->nsample_type, 2);
	CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[0].type), "samples");
	CHECK_EQ_STR(cprof__profile_str(p, p->sample_type[1].unit), "nanoseconds");
	CHECK_EQ_INT(p->period, 10000000);
	CHECK_EQ_INT(p->duration_nanos, 2000000000LL);
	/* The stack, and the lost samples shown as their own frame. */
	CHECK_EQ_INT(p->nsample, 2);
	const struct pp_sample *s = &p->sample[0];
	CHECK_EQ_INT(s->nlocation, 2);
	CHECK_EQ_INT(s->value[0], 7);
	CHECK_EQ_INT(s->value[1], 70000000);
	CHECK_EQ_STR(fn_name_of(p, s->location_id[0], 0), "known_leaf");
	CHECK_EQ_STR(fn_name_of(p, s->location_id[1], 0), "known_caller");
	const struct pp_location *leaf = cprof__profile_location(p, s->location_id[0]);
	CHECK(leaf && leaf->nline >= 1 && leaf->line[0].line > 0);
	const struct pp_function *f = leaf ? cprof__profile_function(p, leaf->line[0].function_id) : NULL;
	CHECK(f && strstr(cprof__profile_str(p, f->filename), "test_rt_stacktab.c") != NULL);
	CHECK_EQ_INT(p->sample[1].value[0], 3);
	CHECK_EQ_STR(fn_name_of(p, p->sample[1].location_id[0], 0), "[cprof: lost samples]");
	/* mapping[0] is this program, with a build id and symbol flags set. */
	CHECK(p->nmapping >= 1);
	CHECK(strstr(cprof__profile_str(p, p->mapping[0].filename), "test_rt_stacktab") != NULL);
	CHECK(strlen(cprof__profile_str(p, p->mapping[0].build_id)) == 40);
	CHECK(p->mapping[0].has_functions);
	CHECK(p->ncomment == 1);
	cprof__profile_free(p);
	cprof__stacktab_free(t);
}

static volatile unsigned long inline_sink;

static inline __attribute__((always_inline)) unsigned long inlined_helper(unsigned long x)
{
	for (int i = 0; i < 100; i++)
		x = x * 2862933555777941757ul + 3037000493ul;
	return x;
}

__attribute__((noinline)) void inline_host(unsigned long x)
{
	inline_sink = inlined_helper(x) ^ inlined_helper(x + 7);
}

/* Some address inside inline_host must name inlined_helper inlined into inline_host. */
static void test_symbolize_inlined_frames(void)
{
	inline_host(3);
	struct stacktab *t = cprof__stacktab_new(1024, 1 << 14);
	for (uintptr_t off = 0; off < 128; off++) {
		uintptr_t pc = (uintptr_t)inline_host + off;
		cprof__stacktab_add(t, &pc, 1, 1);
	}
	struct cpu_meta m = {10000000, 0, 1, 0, NULL, 0};
	struct profile *p = cprof__symbolize_cpu(t, &m);
	CHECK(p != NULL);
	int chains = 0;
	for (size_t i = 0; p && i < p->nlocation; i++) {
		const struct pp_location *l = &p->location[i];
		if (l->nline == 2 && strcmp(fn_name_of(p, l->id, 0), "inlined_helper") == 0 &&
		    strcmp(fn_name_of(p, l->id, 1), "inline_host") == 0 && l->line[1].line > l->line[0].line)
			chains++;
	}
	CHECK(chains > 0);
	if (p)
		cprof__profile_free(p);
	cprof__stacktab_free(t);
}

int main(void)
{
	RUN(test_table_merges_equal_stacks);
	RUN(test_table_full_refuses);
	RUN(test_table_two_tags_two_values);
	RUN(test_fp_walk_synthetic_stack);
	RUN(test_symbolize_known_addresses);
	RUN(test_symbolize_inlined_frames);
	CHECK_EXIT();
}
