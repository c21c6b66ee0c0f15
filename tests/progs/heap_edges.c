/*
 * heap_edges - the edges of how the heap profiler tells sampled blocks
 * (a header before the block, heap.h) and of its private arena, checked
 * from inside a program run with libcprof preloaded (and any allocator).
 *
 *   heap_edges PROFILE
 *
 * Allocates blocks of every kind before profiling starts, starts it at rate
 * 1 through the API (resolved at run time: the program does not link
 * cprof), then checks, printing "check NAME ok" or "check NAME FAIL: why":
 * alignment, usable size and contents of every member of the malloc family;
 * realloc chains that grow and shrink sampled and aligned blocks; frees of
 * blocks allocated before profiling started, of blocks whose preceding
 * word was forged to look like a header, of blocks libc allocated
 * (strdup, getline, asprintf, realpath), and across threads; and that
 * writing a profile leaves glibc's heap statistics as they were. Then it
 * writes PROFILE and prints what it keeps in use, one line per site:
 *
 *   site NAME COUNT BYTES
 */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noipa))
#define HDR_MARK 0x6b72616dull

static int failed;

static void check(const char *name, int ok, const char *why)
{
	if (ok)
		printf("check %s ok\n", name);
	else
		printf("check %s FAIL: %s\n", name, why);
	failed |= !ok;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 131);
}

static int same(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed + i * 131))
			return 0;
	return 1;
}

/* ---- kept in use at exit: the truth the test compares with ---- */

#define KEEP_N 64
#define KEEP_SIZE 777
static void *volatile kept[KEEP_N];
static void *volatile kept_aligned[32];
static int nkept_aligned;

NOINLINE static void edge_keep(void)
{
	for (int i = 0; i < KEEP_N; i++)
		kept[i] = malloc(KEEP_SIZE);
}

NOINLINE static void *edge_aligned_keep(int how, size_t al)
{
	void *p = NULL;
	if (how == 0)
		p = memalign(al, 1000);
	else if (how == 1 && posix_memalign(&p, al, 1000) != 0)
		p = NULL;
	else if (how == 2)
		p = aligned_alloc(al, 1000);
	kept_aligned[nkept_aligned] = p; /* not a tail call: this function is the allocating frame */
	return p;
}

/* ---- the family ---- */

static void aligned_family(void)
{
	static const size_t als[] = {16, 32, 64, 256, 2048, 4096, 8192};
	int bad_align = 0, bad_usable = 0, bad_data = 0;
	for (size_t i = 0; i < sizeof als / sizeof als[0]; i++) {
		for (int how = 0; how < 3; how++) {
			void *p = edge_aligned_keep(how, als[i]);
			if (!p) {
				bad_align++;
				continue;
			}
			if ((uintptr_t)p % als[i])
				bad_align++;
			size_t u = malloc_usable_size(p);
			if (u < 1000)
				bad_usable++;
			fill(p, u, 7);
			if (!same(p, u, 7))
				bad_data++;
			nkept_aligned++;
		}
	}
	char why[160];
	snprintf(why, sizeof why, "%d misaligned or failed, %d short usable sizes, %d bad contents", bad_align,
		 bad_usable, bad_data);
	check("aligned", !bad_align && !bad_usable && !bad_data, why);

	long ps = sysconf(_SC_PAGESIZE);
	void *v = valloc(5000), *pv = pvalloc(5000);
	int ok = v && pv && (uintptr_t)v % ps == 0 && (uintptr_t)pv % ps == 0 && malloc_usable_size(v) >= 5000 &&
		 malloc_usable_size(pv) >= (size_t)ps * 2;
	if (ok) {
		fill(v, 5000, 3);
		fill(pv, 2 * ps, 4);
		ok = same(v, 5000, 3) && same(pv, 2 * ps, 4);
	}
	free(v);
	free(pv);
	check("valloc_pvalloc", ok, "not page-aligned, short or corrupted");

	/* calloc must be zero even where a sampled block was before. */
	int dirty = 0;
	for (int r = 0; r < 50; r++) {
		unsigned char *c = calloc(1000 + r, 1);
		for (int i = 0; c && i < 1000 + r; i++)
			dirty |= c[i];
		if (c)
			memset(c, 0xab, 1000 + r);
		free(c);
	}
	check("calloc_zero", !dirty, "calloc returned non-zero bytes");

	/* Every usable byte may be written: a usable size too large corrupts the allocator. */
	for (size_t n = 1; n < 5000; n = n * 3 + 1) {
		unsigned char *p = malloc(n);
		memset(p, 0x5a, malloc_usable_size(p));
		free(p);
	}
	check("usable_write", 1, "");
}

NOINLINE static void edge_realloc_chain(void)
{
	int bad = 0;
	size_t n = 16;
	unsigned char *p = malloc(n);
	fill(p, n, 11);
	while (n < 300000) {
		size_t m = n * 3 / 2 + 1;
		p = realloc(p, m);
		if (!p || !same(p, n, 11)) {
			bad++;
			break;
		}
		fill(p, m, 11);
		n = m;
	}
	while (p && n > 20) {
		size_t m = n / 3;
		p = realloc(p, m);
		if (!p || !same(p, m, 11)) {
			bad++;
			break;
		}
		n = m;
	}
	free(p);
	/* Aligned blocks reallocated (realloc keeps malloc's alignment only). */
	for (size_t al = 32; al <= 8192; al *= 4) {
		unsigned char *q = memalign(al, 3000);
		fill(q, 3000, 5);
		q = realloc(q, 9000);
		if (!q || !same(q, 3000, 5))
			bad++;
		q = realloc(q, 100);
		if (!q || !same(q, 100, 5))
			bad++;
		free(q);
	}
	/* realloc(p, 0) and realloc(NULL, n). */
	void *z = realloc(NULL, 100);
	z = realloc(z, 0);
	free(z);
	void *ra = reallocarray(NULL, 10, 10);
	ra = reallocarray(ra, 100, 10);
	free(ra);
	check("realloc_chain", !bad && ra != NULL, "contents lost or a realloc failed");
}

/* ---- blocks from before profiling, forged headers, libc's blocks ---- */

struct early {
	void *small[200], *al64, *al4096, *page, *big;
	unsigned char *a, *b; /* neighbours, for the forged header */
	char *dup;
};

static void early_alloc(struct early *e)
{
	for (int i = 0; i < 200; i++)
		e->small[i] = malloc(16 + i * 8);
	e->al64 = memalign(64, 100);
	e->al4096 = memalign(4096, 100);
	e->page = valloc(8192);
	e->big = malloc(3 << 20);
	/* Two neighbours: glibc hands out consecutive 32-byte chunks once its caches are empty. */
	void *spare[64];
	int ns = 0;
	e->a = malloc(24);
	e->b = malloc(24);
	while (e->b != e->a + 32 && ns < 62) {
		spare[ns++] = e->a;
		spare[ns++] = e->b;
		e->a = malloc(24);
		e->b = malloc(24);
	}
	while (ns > 0)
		free(spare[--ns]);
	e->dup = strdup("allocated before profiling started");
}

/* The 8 bytes before block p (for a sampled block: its header's second word). */
static NOINLINE uint64_t word_before(const void *p)
{
	uint64_t w;
	memcpy(&w, (const char *)p - 8, sizeof w);
	return w;
}

/* Store w at p, past what the compiler knows of p's block (the allocator's usable size allows it). */
static NOINLINE void put_word(void *p, uint64_t w)
{
	memcpy(p, &w, sizeof w);
}

static void early_free(struct early *e)
{
	/* b's preceding 16 bytes are a's last ones (glibc puts them next to each other): make them look like a header. */
	int forged = 0, forged_node = 0;
	/* A block sampled now (rate 1): its header names its registry node. */
	char *x = malloc(40);
	if (e->b == e->a + 32) {
		((uint64_t *)e->a)[2] = ((uint64_t)(uint32_t)((uintptr_t)e->b >> 4) << 32) | HDR_MARK;
		forged = 1;
		size_t ub = malloc_usable_size(e->b);
		if (malloc_usable_size(e->a) >= 32 && x) {
			/*
			 * No allocator header between a and b (jemalloc, tcmalloc,
			 * mimalloc): the word after the mark can be forged too, to name
			 * x's node. b's usable size must not change, free(b) must hand
			 * b itself to the allocator, and x stay sampled.
			 */
			put_word(e->a + 24, word_before(x));
			forged_node = malloc_usable_size(e->b) == ub ? 1 : -1;
		}
	}
	free(e->b);
	free(e->a);
	printf("forged %d\n", forged);
	printf("forged_node %d\n", forged_node);
	free(x);
	for (int i = 0; i < 200; i++)
		free(e->small[i]);
	char *r = realloc(e->dup, 200); /* realloc of a block from before */
	int ok = r && strcmp(r, "allocated before profiling started") == 0;
	free(r);
	free(e->al64);
	free(e->al4096);
	free(e->page);
	e->big = realloc(e->big, 4 << 20);
	free(e->big);
	check("before_start", ok, "realloc of a block from before profiling lost its contents");
}

static void libc_blocks(void)
{
	int ok = 1;
	char *d = strdup("strdup");
	ok &= d && strcmp(d, "strdup") == 0;
	free(d);
	char *s = NULL;
	ok &= asprintf(&s, "%s-%d", "asprintf", 42) > 0 && strcmp(s, "asprintf-42") == 0;
	free(s);
	char text[] = "first line\nsecond, longer line than the first\n";
	FILE *f = fmemopen(text, strlen(text), "r");
	char *line = NULL;
	size_t cap = 0;
	int lines = 0;
	while (f && getline(&line, &cap, f) > 0)
		lines++;
	free(line);
	if (f)
		fclose(f);
	ok &= lines == 2;
	char *rp = realpath("/", NULL);
	ok &= rp && strcmp(rp, "/") == 0;
	free(rp);
	check("libc_blocks", ok, "strdup/asprintf/getline/realpath");
}

/* ---- threads freeing each other's blocks ---- */

#define XN 2000
static void *from_main[XN], *from_thread[XN];

NOINLINE static void edge_thread_alloc(void **v, int n, size_t size)
{
	for (int i = 0; i < n; i++)
		v[i] = malloc(size + (size_t)(i % 7) * 16);
}

static void *thread_main(void *arg)
{
	(void)arg;
	edge_thread_alloc(from_thread, XN, 48);
	for (int i = 0; i < XN; i++)
		free(from_main[i]);
	return NULL;
}

static void cross_threads(void)
{
	edge_thread_alloc(from_main, XN, 40);
	pthread_t th;
	pthread_create(&th, NULL, thread_main, NULL);
	pthread_join(th, NULL);
	for (int i = 0; i < XN; i++)
		free(from_thread[i]);
	check("cross_threads", 1, "");
}

/* ---- writing a profile leaves the program's heap alone ---- */

static int write_leaves_heap(int (*write_path)(const char *, const char *), const char *path)
{
	/* A heap full of small freed chunks (fastbins), as after freeing a tree. */
	void *v[20000];
	for (int i = 0; i < 20000; i++)
		v[i] = malloc(24 + (i % 4) * 16);
	for (int i = 0; i < 20000; i += 2)
		free(v[i]);
	struct mallinfo2 before = mallinfo2();
	int rc = write_path("heap", path);
	struct mallinfo2 after = mallinfo2();
	for (int i = 1; i < 20000; i += 2)
		free(v[i]);
	printf("mallinfo before arena=%zu uord=%zu ford=%zu smblks=%zu fsmblks=%zu hblkhd=%zu\n", before.arena,
	       before.uordblks, before.fordblks, before.smblks, before.fsmblks, before.hblkhd);
	printf("mallinfo after  arena=%zu uord=%zu ford=%zu smblks=%zu fsmblks=%zu hblkhd=%zu\n", after.arena,
	       after.uordblks, after.fordblks, after.smblks, after.fsmblks, after.hblkhd);
	return rc == 0 && memcmp(&before, &after, sizeof before) == 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: heap_edges PROFILE\n");
		return 2;
	}
	int (*start)(long) = (int (*)(long))dlsym(RTLD_DEFAULT, "cprof_heap_profile_start");
	int (*write_path)(const char *, const char *) =
		(int (*)(const char *, const char *))dlsym(RTLD_DEFAULT, "cprof_heap_profile_write_path");
	if (!start || !write_path) {
		fprintf(stderr, "heap_edges: run with libcprof.so preloaded\n");
		return 2;
	}
	struct early e;
	early_alloc(&e);
	if (start(1) != 0) {
		fprintf(stderr, "heap_edges: cprof_heap_profile_start failed\n");
		return 2;
	}
	early_free(&e);
	aligned_family();
	edge_realloc_chain();
	libc_blocks();
	cross_threads();
	edge_keep();
	char mid[4096];
	snprintf(mid, sizeof mid, "%s.mid", argv[1]);
	int same_heap = write_leaves_heap(write_path, mid);
	const char *glibc = getenv("HEAP_EDGES_GLIBC");
	if (glibc && *glibc == '1')
		check("write_leaves_heap", same_heap, "mallinfo2 changed while the profile was written");
	if (write_path("heap", argv[1]) != 0)
		check("write", 0, "cprof_heap_profile_write_path failed");
	printf("site edge_keep %d %d\n", KEEP_N, KEEP_N * KEEP_SIZE);
	printf("site edge_aligned_keep %d %d\n", nkept_aligned, nkept_aligned * 1000);
	return failed;
}
