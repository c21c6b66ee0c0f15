/*
 * labels_linked - labels on CPU samples, with known truth. Linked with
 * -lcprof; the CPU profile comes from CPROF_CPUPROFILE.
 *
 *   main, phase=load:                      label_load   30% of the units
 *   main, phase=serve tenant=acme:         label_serve  20%
 *     thread created there (inherits):     label_child  30%
 *       and then worker=w1 on top:         label_worker 20%
 *   main, no labels after the scopes end:  label_none   ... 0% (checks pops)
 *
 * It also checks the API's return codes itself and prints "ok|bad <check>
 * got=.. want=..".
 *
 * Usage: labels_linked [units]
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cprof.h"

static volatile uint64_t sink;

#include "work_unit.h"

static long units = 400;

#define WORK_FN(name)                                             \
	__attribute__((noinline)) void name(long n)               \
	{                                                         \
		uint64_t x = 88172645463325252ull ^ (uint64_t)n; \
		for (long i = 0; i < n; i++)                      \
			x = work_unit(x);                         \
		sink += x;                                        \
	}
WORK_FN(label_load)
WORK_FN(label_serve)
WORK_FN(label_child)
WORK_FN(label_worker)
WORK_FN(label_none)

static void check(const char *name, long got, long want)
{
	printf("%s %s got=%ld want=%ld\n", got == want ? "ok" : "bad", name, got, want);
}

static void checks(const char *name, const char *got, const char *want)
{
	bool ok = (!got && !want) || (got && want && strcmp(got, want) == 0);
	printf("%s %s got=%s want=%s\n", ok ? "ok" : "bad", name, got ? got : "(null)", want ? want : "(null)");
}

static void *child(void *arg)
{
	(void)arg;
	checks("child_inherits", cprof_labels_get("tenant"), "acme");
	/* A pop never goes below what the thread started with. */
	label_child(units * 30 / 100);
	{
		CPROF_LABELS_SCOPE("worker", "w1");
		label_worker(units * 20 / 100);
	}
	check("child_pop_at_base", cprof_labels_pop(), -ENOENT);
	checks("child_keeps_inherited", cprof_labels_get("phase"), "serve");
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		units = atol(argv[1]);
	check("pop_empty", cprof_labels_pop(), -ENOENT);
	check("push_null_key", cprof_labels_push(NULL, "v"), -EINVAL);
	check("pop_after_failed_push", cprof_labels_pop(), 0);
	check("push_empty_key", cprof_labels_push("", "v"), -EINVAL);
	check("pop_after_empty_key", cprof_labels_pop(), 0);
	check("pop_empty_again", cprof_labels_pop(), -ENOENT);
	{
		CPROF_LABELS_SCOPE("phase", "load");
		checks("get_phase", cprof_labels_get("phase"), "load");
		label_load(units * 30 / 100);
	}
	checks("scope_popped", cprof_labels_get("phase"), NULL);
	{
		const char *kv[] = {"phase", "serve", "tenant", "acme"};
		CPROF_LABELS_SCOPEV(kv, 2);
		checks("pushv_tenant", cprof_labels_get("tenant"), "acme");
		pthread_t th;
		pthread_create(&th, NULL, child, NULL);
		label_serve(units * 20 / 100);
		pthread_join(th, NULL);
		/* Replacing a key and popping it back. */
		check("push_replace", cprof_labels_push("phase", "x"), 0);
		checks("replaced", cprof_labels_get("phase"), "x");
		check("pop_replace", cprof_labels_pop(), 0);
		checks("restored", cprof_labels_get("phase"), "serve");
	}
	checks("all_popped", cprof_labels_get("tenant"), NULL);
	label_none(1);
	return 0;
}
