/*
 * heap_misc - small heap workloads with known truth for the heap
 * profiler's end-to-end tests.
 *
 *   heap_misc peak   keeps 8 MiB (peak_a), allocates 24 MiB more (peak_b)
 *                    and frees it, then keeps 4 MiB (peak_c): the heap was
 *                    largest (32 MiB) with a and b in use; at exit a and c are
 *   heap_misc fork   allocates in the parent (fork_parent), forks; the child
 *                    allocates (fork_child) and exits; the parent waits
 *   heap_misc hold   keeps 5 MiB (hold_site), prints "ready" and waits to be
 *                    killed
 *   heap_misc exec   keeps 3 MiB (exec_site), then execs itself as "peak"
 *   heap_misc pool   a pool allocator carving 64-byte objects out of one
 *                    malloc'd arena, annotated with cprof_heap_note_alloc/free
 *                    (resolved at run time: the program does not link cprof)
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noipa))
#define MIB (1 << 20)

static void *volatile sink;

NOINLINE static void **peak_a(int n)
{
	void **v = malloc(n * sizeof *v);
	for (int i = 0; i < n; i++)
		v[i] = malloc(MIB);
	return v;
}

NOINLINE static void **peak_b(int n)
{
	void **v = malloc(n * sizeof *v);
	for (int i = 0; i < n; i++)
		v[i] = malloc(MIB);
	return v;
}

NOINLINE static void **peak_c(int n)
{
	void **v = malloc(n * sizeof *v);
	for (int i = 0; i < n; i++)
		v[i] = malloc(MIB);
	return v;
}

static int peak(void)
{
	void **a = peak_a(8);
	void **b = peak_b(24);
	for (int i = 0; i < 24; i++)
		free(b[i]);
	free(b);
	void **c = peak_c(4);
	sink = a;
	sink = c;
	printf("peak_a 8 %d peak_b 24 %d peak_c 4 %d\n", 8 * MIB, 24 * MIB, 4 * MIB);
	return 0;
}

NOINLINE static void fork_parent(void)
{
	for (int i = 0; i < 100; i++)
		sink = malloc(10000); /* kept */
}

NOINLINE static void fork_child(void)
{
	for (int i = 0; i < 200; i++)
		sink = malloc(10000); /* kept */
}

static int do_fork(void)
{
	fork_parent();
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		fork_child();
		printf("child %d\n", (int)getpid());
		exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* A pool: one arena from malloc, objects handed out from it. */
struct pool {
	char *arena;
	size_t used, cap;
	void (*note_alloc)(const void *, size_t);
	void (*note_free)(const void *);
};

NOINLINE static void *pool_get(struct pool *p, size_t n)
{
	void *o = p->arena + p->used;
	p->used += n;
	if (p->note_alloc)
		p->note_alloc(o, n);
	return o;
}

NOINLINE static void pool_put(struct pool *p, void *o)
{
	if (p->note_free)
		p->note_free(o);
}

NOINLINE static void pool_user(struct pool *p, int n, int keep)
{
	for (int i = 0; i < n; i++) {
		void *o = pool_get(p, 64);
		if (i >= keep)
			pool_put(p, o);
	}
}

static int pool(void)
{
	struct pool p = {0};
	p.cap = 64 * 10000;
	p.arena = malloc(p.cap);
	p.note_alloc = (void (*)(const void *, size_t))dlsym(RTLD_DEFAULT, "cprof_heap_note_alloc");
	p.note_free = (void (*)(const void *))dlsym(RTLD_DEFAULT, "cprof_heap_note_free");
	pool_user(&p, 10000, 100);
	printf("pool 10000 %d kept 100 %d annotated %d\n", 10000 * 64, 100 * 64, p.note_alloc != NULL);
	return 0;
}

NOINLINE static void **hold_site(int n)
{
	void **v = malloc(n * sizeof *v);
	for (int i = 0; i < n; i++)
		memset(v[i] = malloc(MIB), 'h', 64);
	return v;
}

NOINLINE static void **exec_site(int n)
{
	void **v = malloc(n * sizeof *v);
	for (int i = 0; i < n; i++)
		memset(v[i] = malloc(MIB), 'e', 64);
	return v;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "peak") == 0)
		return peak();
	if (strcmp(mode, "fork") == 0)
		return do_fork();
	if (strcmp(mode, "pool") == 0)
		return pool();
	if (strcmp(mode, "hold") == 0) {
		sink = hold_site(5);
		printf("ready\n");
		for (;;)
			pause();
	}
	if (strcmp(mode, "exec") == 0) {
		sink = exec_site(3);
		execl("/proc/self/exe", argv[0], "peak", (char *)NULL);
		return 1;
	}
	fprintf(stderr, "usage: heap_misc peak|fork|pool|hold|exec\n");
	return 2;
}
