/*
 * heap_api_linked - the heap profiler driven through the API (linked with
 * -lcprof): exact counts for a known loop, a heap profile written in the
 * middle of the run while blocks are in use and again at the end, and
 * the rate set to 1 so the counts in the profiles are exact; 100 of the
 * allocations are made under the label phase=load.
 *
 * Usage: heap_api_linked DIR   (writes DIR/mid.prof, DIR/end.prof, DIR/allocs.prof)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cprof.h"

#define NOINLINE __attribute__((noipa))

static void *volatile sink;

NOINLINE static void **api_keep(int n, size_t size)
{
	void **v = malloc(n * sizeof *v);
	for (int i = 0; i < n; i++)
		v[i] = malloc(size);
	return v;
}

NOINLINE static void api_churn(int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		sink = malloc(size);
		free(sink);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	char path[4096];
	struct cprof_mem_counts c0, c1;
	int was = cprof_mem_counting(1);
	cprof_mem_counts(&c0);
	api_churn(1000, 100);
	cprof_mem_counts(&c1);
	printf("counts mallocs=%llu frees=%llu bytes=%llu was=%d\n", (unsigned long long)(c1.mallocs - c0.mallocs),
	       (unsigned long long)(c1.frees - c0.frees), (unsigned long long)(c1.total_alloc - c0.total_alloc), was);
	cprof_mem_counting(0);

	int rc = cprof_heap_profile_start(1);
	void **kept = api_keep(50, 1000);
	api_churn(300, 200);
	cprof_labels_push("phase", "load");
	api_churn(100, 300);
	cprof_labels_pop();
	snprintf(path, sizeof path, "%s/mid.prof", argv[1]);
	int w1 = cprof_heap_profile_write_path("heap", path);
	for (int i = 0; i < 50; i++)
		free(kept[i]);
	free(kept);
	snprintf(path, sizeof path, "%s/end.prof", argv[1]);
	int w2 = cprof_heap_profile_write_path("heap", path);
	snprintf(path, sizeof path, "%s/allocs.prof", argv[1]);
	int w3 = cprof_heap_profile_write_path("allocs", path);
	int bad = cprof_heap_profile_write_path("nosuch", path);
	/* The same profiles by name, through the runtime's table (what /debug/pprof serves). */
	snprintf(path, sizeof path, "%s/lookup.prof", argv[1]);
	int l1 = cprof_profile_write_path("peak", path, 0);
	snprintf(path, sizeof path, "%s/lookup.txt", argv[1]);
	int l2 = cprof_profile_write_path("heap", path, 1);
	printf("lookup=%d,%d\n", l1, l2);
	struct cprof_heap_stats st;
	cprof_heap_profile_stats(&st);
	printf("start=%d mid=%d end=%d allocs=%d bad=%d rate=%lld samples>0=%d own>0=%d\n", rc, w1, w2, w3, bad,
	       (long long)st.rate, st.samples > 0, st.own_bytes > 0);
	return 0;
}
