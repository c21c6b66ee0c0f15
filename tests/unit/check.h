/*
 * check.h - the tiny harness the unit tests share.
 *
 * Each test binary runs its cases in order; every case prints one line,
 * "PASS <name>" or "FAIL <name>: <file>:<line>: <what>", which tests/run.sh
 * counts. A binary's exit status is non-zero when any case failed.
 */
#ifndef CPROF_TESTS_CHECK_H
#define CPROF_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_total;
static int check_case_failed;
static const char *check_case_name;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			if (!check_case_failed)                              \
				printf("FAIL %s: %s:%d: %s\n", check_case_name,  \
				       __FILE__, __LINE__, #cond);           \
			check_case_failed = 1;                               \
		}                                                            \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                   \
	do {                                                                 \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
		if (check_a_ != check_b_) {                                  \
			if (!check_case_failed)                              \
				printf("FAIL %s: %s:%d: %s == %s (%lld != %lld)\n", \
				       check_case_name, __FILE__, __LINE__, #a, \
				       #b, check_a_, check_b_);              \
			check_case_failed = 1;                               \
		}                                                            \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                   \
	do {                                                                 \
		const char *check_a_ = (a), *check_b_ = (b);                 \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_)) { \
			if (!check_case_failed)                              \
				printf("FAIL %s: %s:%d: %s == %s (\"%s\" != \"%s\")\n", \
				       check_case_name, __FILE__, __LINE__, #a, \
				       #b, check_a_ ? check_a_ : "(null)",   \
				       check_b_ ? check_b_ : "(null)");      \
			check_case_failed = 1;                               \
		}                                                            \
	} while (0)

/* Run one case: RUN(test_fn) prints PASS/FAIL for it. */
#define RUN(fn)                                                              \
	do {                                                                 \
		check_case_name = #fn;                                       \
		check_case_failed = 0;                                       \
		fn();                                                        \
		if (!check_case_failed)                                      \
			printf("PASS %s\n", #fn);                            \
		else                                                         \
			check_failed_total++;                                \
		fflush(stdout);                                              \
	} while (0)

#define CHECK_EXIT() return check_failed_total ? 1 : 0

#endif
