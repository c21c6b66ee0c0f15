/*
 * hotspots.c - a small program with a few clear hot spots, for "make demo".
 *
 * It generates pseudo-random text, counts word frequencies in a hash table,
 * sorts the words by count and checksums the result. Profile it unmodified:
 *
 *   cprof run -cpuprofile=cpu.prof -- ./hotspots
 *   cprof pprof -top cpu.prof
 *
 * Built -O2 without frame pointers, like most release code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NWORDS 24000000
#define TABLE (1 << 16)

struct word {
	char text[16];
	unsigned count;
	struct word *next;
};

static struct word *table[TABLE];
static struct word pool[1 << 16];
static size_t npool;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Make a word of 2-5 letters from a small alphabet (many repeats). */
__attribute__((noinline)) static void generate_word(char *out)
{
	int len = 2 + (int)(next_random() % 4);
	for (int i = 0; i < len; i++)
		out[i] = "etaoin"[next_random() % 6];
	out[len] = 0;
}

__attribute__((noinline)) static unsigned hash_word(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

__attribute__((noinline)) static void count_word(const char *w)
{
	unsigned h = hash_word(w) & (TABLE - 1);
	for (struct word *e = table[h]; e; e = e->next) {
		if (strcmp(e->text, w) == 0) {
			e->count++;
			return;
		}
	}
	if (npool == sizeof pool / sizeof pool[0])
		return;
	struct word *e = &pool[npool++];
	strcpy(e->text, w);
	e->count = 1;
	e->next = table[h];
	table[h] = e;
}

static int by_count(const void *a, const void *b)
{
	const struct word *x = *(struct word *const *)a, *y = *(struct word *const *)b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->text, y->text);
}

__attribute__((noinline)) static uint64_t checksum(struct word **words, size_t n)
{
	uint64_t sum = 0;
	for (int round = 0; round < 9000; round++)
		for (size_t i = 0; i < n; i++)
			sum = sum * 31 + words[i]->count + (uint64_t)words[i]->text[0] * (uint64_t)round;
	return sum;
}

int main(void)
{
	char w[16];
	for (long i = 0; i < NWORDS; i++) {
		generate_word(w);
		count_word(w);
	}
	struct word **words = malloc(npool * sizeof *words);
	if (!words)
		return 1;
	for (size_t i = 0; i < npool; i++)
		words[i] = &pool[i];
	for (int round = 0; round < 900; round++)
		qsort(words, npool, sizeof *words, by_count);
	printf("%zu distinct words; most frequent \"%s\" (%u times); checksum %016llx\n", npool,
	       words[0]->text, words[0]->count, (unsigned long long)checksum(words, npool));
	free(words);
	return 0;
}
