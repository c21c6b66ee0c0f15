/*
 * test_rt_labels.c - label sets: interning (equal stacks of pushes give the
 * same pointer, in any thread), replacement of a key, emission into a
 * profile sorted by key, the stack table keying samples by (stack, labels),
 * and the ceiling: pushes past the last set fail with -ENOSPC and stay
 * balanced with their pops.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cprof.h"
#include "proto/profile.h"
#include "runtime/rt.h"

static const struct rt_labels *other_thread_set;

static void *push_in_thread(void *arg)
{
	(void)arg;
	/* The creator's labels are inherited; pop them off by pushing anew from a clean thread below. */
	cprof_labels_push("b", "2");
	cprof_labels_push("a", "1");
	other_thread_set = cprof__labels_current();
	return NULL;
}

static void test_interned_across_threads(void)
{
	CHECK(cprof__labels_current() == NULL);
	CHECK_EQ_INT(cprof_labels_push("b", "2"), 0);
	CHECK_EQ_INT(cprof_labels_push("a", "1"), 0);
	const struct rt_labels *mine = cprof__labels_current();
	CHECK_EQ_INT(cprof_labels_pop(), 0);
	CHECK_EQ_INT(cprof_labels_pop(), 0);
	CHECK(cprof__labels_current() == NULL);
	pthread_t th;
	CHECK_EQ_INT(pthread_create(&th, NULL, push_in_thread, NULL), 0);
	pthread_join(th, NULL);
	CHECK(mine != NULL);
	CHECK(mine == other_thread_set);
	CHECK_EQ_INT(cprof__labels_count(mine), 2);
}

static void test_replace_and_emit(void)
{
	const char *kv[] = {"zone", "eu", "app", "web", "zone", "us"};
	CHECK_EQ_INT(cprof_labels_pushv(kv, 3), 0);
	CHECK_EQ_STR(cprof_labels_get("zone"), "us");
	const struct rt_labels *ls = cprof__labels_current();
	CHECK_EQ_INT(cprof__labels_count(ls), 2);
	struct profile *p = cprof__profile_new();
	struct pp_label out[4];
	size_t n = cprof__labels_to_pp(p, ls, out, 4);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(cprof__profile_str(p, out[0].key), "app");
	CHECK_EQ_STR(cprof__profile_str(p, out[0].str), "web");
	CHECK_EQ_STR(cprof__profile_str(p, out[1].key), "zone");
	CHECK_EQ_STR(cprof__profile_str(p, out[1].str), "us");
	CHECK_EQ_INT(cprof__labels_to_pp(p, ls, out, 1), 1);
	CHECK_EQ_INT(cprof__labels_to_pp(p, NULL, out, 4), 0);
	cprof__profile_free(p);
	CHECK_EQ_INT(cprof_labels_pop(), 0);
	CHECK(cprof__labels_current() == NULL);
	const char *big[2 * (CPROF_LABELS_MAX + 1)];
	char keys[CPROF_LABELS_MAX + 1][8];
	for (int i = 0; i <= CPROF_LABELS_MAX; i++) {
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		big[2 * i] = keys[i];
		big[2 * i + 1] = "v";
	}
	CHECK_EQ_INT(cprof_labels_pushv(big, CPROF_LABELS_MAX), 0);
	CHECK_EQ_INT(cprof_labels_push("extra", "v"), -E2BIG);
	CHECK_EQ_INT(cprof_labels_pop(), 0);
	CHECK_EQ_INT(cprof__labels_count(cprof__labels_current()), CPROF_LABELS_MAX);
	CHECK_EQ_INT(cprof_labels_pop(), 0);
	CHECK(cprof__labels_current() == NULL);
}

struct tagged_seen {
	int entries;
	uint64_t w_a, w_none;
	const void *a;
};

static void count_tagged(const uintptr_t *pcs, int n, const void *tag, uint64_t w, void *arg)
{
	(void)pcs;
	(void)n;
	struct tagged_seen *s = arg;
	s->entries++;
	if (tag == s->a)
		s->w_a += w;
	else if (!tag)
		s->w_none += w;
}

static void test_stacktab_keys_by_labels(void)
{
	struct stacktab *t = cprof__stacktab_new(64, 1024);
	uintptr_t st[] = {0x10, 0x20};
	cprof_labels_push("req", "a");
	const struct rt_labels *a = cprof__labels_current();
	cprof_labels_pop();
	CHECK_EQ_INT(cprof__stacktab_add_tagged(t, st, 2, a, 3), 0);
	CHECK_EQ_INT(cprof__stacktab_add_tagged(t, st, 2, a, 4), 0);
	CHECK_EQ_INT(cprof__stacktab_add(t, st, 2, 5), 0);
	struct tagged_seen s = {0, 0, 0, a};
	cprof__stacktab_foreach_tagged(t, count_tagged, &s);
	CHECK_EQ_INT(s.entries, 2);
	CHECK_EQ_INT(s.w_a, 7);
	CHECK_EQ_INT(s.w_none, 5);
	cprof__stacktab_free(t);
}

static void test_ceiling_fails_balanced(void)
{
	char v[32];
	int ok = 0, nospc = 0;
	for (int i = 0; i < 60000; i++) {
		snprintf(v, sizeof v, "id-%d", i);
		int rc = cprof_labels_push("request", v);
		if (rc == 0)
			ok++;
		else if (rc == -ENOSPC)
			nospc++;
		CHECK_EQ_INT(cprof_labels_pop(), 0);
	}
	CHECK(ok > 1000);
	CHECK(nospc > 0);
	CHECK_EQ_INT(ok + nospc, 60000);
	CHECK(cprof__labels_failed() > 0);
	/* A set that exists is still found; a failed push changes nothing and its pop balances. */
	CHECK_EQ_INT(cprof_labels_push("request", "id-0"), 0);
	CHECK_EQ_STR(cprof_labels_get("request"), "id-0");
	CHECK_EQ_INT(cprof_labels_push("request", "never-seen"), -ENOSPC);
	CHECK_EQ_STR(cprof_labels_get("request"), "id-0");
	CHECK_EQ_INT(cprof_labels_pop(), 0);
	CHECK_EQ_STR(cprof_labels_get("request"), "id-0");
	CHECK_EQ_INT(cprof_labels_pop(), 0);
	CHECK(cprof__labels_current() == NULL);
	CHECK_EQ_INT(cprof_labels_pop(), -ENOENT);
}

int main(void)
{
	cprof__quiet = true;
	RUN(test_interned_across_threads);
	RUN(test_replace_and_emit);
	RUN(test_stacktab_keys_by_labels);
	RUN(test_ceiling_fails_balanced);
	CHECK_EXIT();
}
