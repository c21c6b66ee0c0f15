/*
 * test_rt_lookup.c - profiles by name without any profiler: Go's legacy
 * text formats rendered from hand-built profiles (heap, contention, count
 * with labels), the delta of two profiles (matched, cancelled and imported
 * samples), and cprof_profile_write's errors. Every expected value is exact.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/buf.h"
#include "cprof.h"
#include "proto/profile.h"
#include "runtime/rt.h"

__attribute__((noinline)) void lookup_test_target(void)
{
	__asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop");
}

/* Cut the memory map that ends every text form off b's text (checking it is there). */
static const char *records(struct buf *b)
{
	cprof__buf_putc(b, 0);
	char *m = strstr((char *)b->data, "\n--- Memory map: ---\n");
	CHECK(m != NULL && strstr(m, "r-xp") != NULL);
	if (m)
		m[1] = 0;
	return (const char *)b->data;
}

/* A location at addr named fn (file f.c, line) in p; its id. */
static uint64_t loc(struct profile *p, uint64_t addr, const char *fn, int line)
{
	struct pp_function *f = cprof__profile_add_function(p, fn, fn, "f.c", 1);
	struct pp_line ln = {f->id, line, 0};
	return cprof__profile_add_location(p, 0, addr, &ln, 1)->id;
}

static struct profile *heap_profile(void)
{
	struct profile *p = cprof__profile_new();
	cprof__profile_add_sample_type(p, "alloc_objects", "count");
	cprof__profile_add_sample_type(p, "alloc_space", "bytes");
	cprof__profile_add_sample_type(p, "inuse_objects", "count");
	cprof__profile_add_sample_type(p, "inuse_space", "bytes");
	p->period = 524288;
	uint64_t a = loc(p, (uint64_t)(uintptr_t)lookup_test_target + 4, "lookup_test_target", 20);
	uint64_t b = loc(p, 0x2000, "caller", 30);
	uint64_t s1[] = {b}, s2[] = {a, b};
	int64_t v1[] = {10, 1000, 1, 100}, v2[] = {4, 4096, 2, 2048};
	cprof__profile_add_sample(p, s1, 1, v1, 4, NULL, 0);
	cprof__profile_add_sample(p, s2, 2, v2, 4, NULL, 0);
	return p;
}

static void test_heap_text(void)
{
	struct profile *p = heap_profile();
	struct buf b;
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__lookup_text("heap", p, &b), 0);
	cprof__buf_putc(&b, 0);
	const char *t = (const char *)b.data;
	const char *hdr = "heap profile: 3: 2148 [14: 5096] @ heap/2\n";
	CHECK(strncmp(t, hdr, strlen(hdr)) == 0);
	/* Largest in-use first; return addresses are the call's address + 1. */
	char want[256];
	snprintf(want, sizeof want, "2: 2048 [4: 4096] @ %#lx 0x2001\n#\t%#lx\tlookup_test_target+0x4\tf.c:20\n",
		 (unsigned long)(uintptr_t)lookup_test_target + 5, (unsigned long)(uintptr_t)lookup_test_target + 4);
	CHECK(strstr(t, want) != NULL);
	CHECK(strstr(t, want) < strstr(t, "1: 100 [10: 1000] @ 0x2001\n#\t0x2000\tcaller"));
	CHECK(strstr(t, "f.c:30\n\n") != NULL);
	CHECK(strstr(t, "sampled every 524288 bytes") != NULL);
	cprof__buf_release(&b);
	cprof__profile_free(p);
}

static void test_contention_text(void)
{
	struct profile *p = cprof__profile_new();
	cprof__profile_add_sample_type(p, "contentions", "count");
	cprof__profile_add_sample_type(p, "delay", "nanoseconds");
	uint64_t a = loc(p, 0x1000, "locker", 5), c = loc(p, 0x3000, "other", 6);
	int64_t v1[] = {3, 500}, v2[] = {1, 9000};
	cprof__profile_add_sample(p, &a, 1, v1, 2, NULL, 0);
	cprof__profile_add_sample(p, &c, 1, v2, 2, NULL, 0);
	struct buf b;
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__lookup_text("mutex", p, &b), 0);
	CHECK_EQ_STR(records(&b), "--- mutex:\ncycles/second=1000000000\nsampling period=1\n"
					   "9000 1 @ 0x3001\n#\t0x3000\tother\tf.c:6\n\n"
					   "500 3 @ 0x1001\n#\t0x1000\tlocker\tf.c:5\n\n");
	cprof__buf_release(&b);
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__lookup_text("block", p, &b), 0);
	cprof__buf_putc(&b, 0);
	CHECK(strncmp((const char *)b.data, "--- contention:\ncycles/second=1000000000\n9000 1 @", 49) == 0);
	cprof__buf_release(&b);
	cprof__profile_free(p);
}

static void test_count_text_labels(void)
{
	struct profile *p = cprof__profile_new();
	cprof__profile_add_sample_type(p, "threadcreate", "count");
	uint64_t a = loc(p, 0x1000, "spawn", 7);
	struct pp_label l[2] = {{cprof__profile_intern(p, "worker", (size_t)-1), cprof__profile_intern(p, "a\"b", (size_t)-1), 0, 0},
				{cprof__profile_intern(p, "job", (size_t)-1), cprof__profile_intern(p, "x", (size_t)-1), 0, 0}};
	int64_t v1[] = {2}, v2[] = {5};
	cprof__profile_add_sample(p, &a, 1, v1, 1, l, 2);
	cprof__profile_add_sample(p, &a, 1, v2, 1, NULL, 0);
	struct buf b;
	cprof__buf_init(&b, 0);
	CHECK_EQ_INT(cprof__lookup_text("threadcreate", p, &b), 0);
	CHECK_EQ_STR(records(&b), "threadcreate profile: total 7\n"
					   "5 @ 0x1001\n#\t0x1000\tspawn\tf.c:7\n\n"
					   "2 @ 0x1001\n# labels: {\"job\":\"x\", \"worker\":\"a\\\"b\"}\n"
					   "#\t0x1000\tspawn\tf.c:7\n\n");
	cprof__buf_release(&b);
	cprof__profile_free(p);
}

static const struct pp_sample *find_sample(const struct profile *p, const char *leaf)
{
	for (size_t i = 0; i < p->nsample; i++) {
		const struct pp_location *l = cprof__profile_location(p, p->sample[i].location_id[0]);
		const struct pp_function *f = cprof__profile_function(p, l->line[0].function_id);
		if (strcmp(cprof__profile_str(p, f->name), leaf) == 0)
			return &p->sample[i];
	}
	return NULL;
}

static void test_delta(void)
{
	struct profile *p0 = cprof__profile_new(), *p1 = cprof__profile_new();
	cprof__profile_add_sample_type(p0, "contentions", "count");
	cprof__profile_add_sample_type(p1, "contentions", "count");
	/* Ids differ between the two builds: p1 numbers C first. */
	uint64_t c1 = loc(p1, 0x3000, "C", 3), a1 = loc(p1, 0x1000, "A", 1), b1 = loc(p1, 0x2000, "B", 2);
	uint64_t a0 = loc(p0, 0x1000, "A", 1), b0 = loc(p0, 0x2000, "B", 2), d0 = loc(p0, 0x4000, "D", 4);
	(void)c1;
	int64_t v5[] = {5}, v3[] = {3}, v2[] = {2}, v1[] = {1};
	cprof__profile_add_sample(p1, &a1, 1, v5, 1, NULL, 0);
	cprof__profile_add_sample(p1, &b1, 1, v3, 1, NULL, 0);
	cprof__profile_add_sample(p0, &a0, 1, v2, 1, NULL, 0);
	cprof__profile_add_sample(p0, &b0, 1, v3, 1, NULL, 0);
	cprof__profile_add_sample(p0, &d0, 1, v1, 1, NULL, 0);
	/* Another sample only p0 has, through D again and A (which p1 has). */
	uint64_t da0[] = {d0, a0};
	cprof__profile_add_sample(p0, da0, 2, v2, 1, NULL, 0);
	CHECK_EQ_INT(cprof__profile_delta(p1, p0), 0);
	CHECK_EQ_INT(p1->nsample, 3);
	/* D imported once, A found in p1: no location twice. */
	CHECK_EQ_INT(p1->nlocation, 4);
	CHECK_EQ_INT(p1->nfunction, 4);
	const struct pp_sample *a = find_sample(p1, "A"), *d = find_sample(p1, "D");
	CHECK(a && a->value[0] == 3);
	CHECK(d && d->value[0] == -1);
	CHECK(find_sample(p1, "B") == NULL);
	if (d)
		CHECK_EQ_INT(cprof__profile_location(p1, d->location_id[0])->address, 0x4000);
	char err[128];
	CHECK_EQ_INT(cprof__profile_validate(p1, err, sizeof err), 0);
	cprof__profile_free(p0);
	cprof__profile_free(p1);
}

/* A heap site whose mean block size moved: one sample, the difference, with p1's mean. */
static void test_delta_numeric_labels(void)
{
	struct profile *p0 = cprof__profile_new(), *p1 = cprof__profile_new();
	cprof__profile_add_sample_type(p0, "alloc_space", "bytes");
	cprof__profile_add_sample_type(p1, "alloc_space", "bytes");
	uint64_t a0 = loc(p0, 0x1000, "A", 1), a1 = loc(p1, 0x1000, "A", 1);
	int64_t k0 = cprof__profile_intern(p0, "bytes", (size_t)-1), k1 = cprof__profile_intern(p1, "bytes", (size_t)-1);
	int64_t t0 = cprof__profile_intern(p0, "tenant", (size_t)-1), t1 = cprof__profile_intern(p1, "tenant", (size_t)-1);
	int64_t x0 = cprof__profile_intern(p0, "x", (size_t)-1), x1 = cprof__profile_intern(p1, "x", (size_t)-1);
	struct pp_label l0[2] = {{k0, 0, 100, 0}, {t0, x0, 0, 0}}, l1[2] = {{t1, x1, 0, 0}, {k1, 0, 160, 0}};
	int64_t v0[] = {1000}, v1[] = {2600}, w0[] = {7};
	cprof__profile_add_sample(p0, &a0, 1, v0, 1, l0, 2);
	cprof__profile_add_sample(p1, &a1, 1, v1, 1, l1, 2);
	/* Another tenant is another sample: string labels still tell samples apart. */
	cprof__profile_add_sample(p0, &a0, 1, w0, 1, l0, 1);
	CHECK_EQ_INT(cprof__profile_delta(p1, p0), 0);
	CHECK_EQ_INT(p1->nsample, 2);
	int matched = 0;
	for (size_t i = 0; i < p1->nsample; i++) {
		const struct pp_sample *s = &p1->sample[i];
		if (s->value[0] == 1600) {
			matched++;
			CHECK_EQ_INT(s->nlabel, 2);
			CHECK(s->label[1].key == k1 && s->label[1].num == 160);
		} else {
			CHECK_EQ_INT(s->value[0], -7);
		}
	}
	CHECK_EQ_INT(matched, 1);
	cprof__profile_free(p0);
	cprof__profile_free(p1);
}

static void test_write_errors(void)
{
	CHECK_EQ_INT(cprof_profile_write("no-such-profile", 1, 0), -ENOENT);
	CHECK_EQ_INT(cprof_profile_write(NULL, 1, 0), -EINVAL);
	CHECK_EQ_INT(cprof_profile_write("heap", -1, 0), -EBADF);
	CHECK_EQ_INT(cprof_profile_write_path("no-such-profile", "/tmp/x", 0), -ENOENT);
	CHECK(access("/tmp/x.tmp", F_OK) != 0);
}

int main(void)
{
	RUN(test_heap_text);
	RUN(test_contention_text);
	RUN(test_count_text_labels);
	RUN(test_delta);
	RUN(test_delta_numeric_labels);
	RUN(test_write_errors);
	CHECK_EXIT();
}
