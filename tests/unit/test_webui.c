/*
 * test_webui.c - the web UI's data on profiles with known stacks (collapsed
 * stacks written to a temporary file): the flame graph's tree of calling
 * contexts (flamegraph.c) and its binary encoding for the browser
 * (webui_data.c: depth-first order, children by decreasing width, values as
 * multiples of their divisor, the base part of a diff), the top rows, the
 * download, and the errors a bad request gets. Exact values throughout.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "cli/source/source.h"
#include "cli/webui.h"

static struct profile *folded(const char *text)
{
	char path[] = "/tmp/cprof-test-webui-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	size_t len = strlen(text);
	struct profile *p = NULL;
	if (write(fd, text, len) == (ssize_t)len) {
		char err[256];
		p = cprof__source_folded_read(path, err, sizeof(err));
	}
	close(fd);
	unlink(path);
	return p;
}

/* The decoded /ui/data/flame: per node in order, its name, depth, value, base. */
struct frame {
	char name[32];
	int depth;
	double value, base;
};

static int decode(const struct webui_reply *r, struct frame *out, size_t max, size_t *n, bool *diff)
{
	const unsigned char *b = (const unsigned char *)r->data;
	uint32_t hl = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
	char *h = strndup(r->data + 4, hl);
	if (!h)
		return -1;
	size_t nodes = 0;
	unsigned long long scale = 0;
	const char *s;
	if ((s = strstr(h, "\"nodes\":")))
		nodes = strtoull(s + 8, NULL, 10);
	if ((s = strstr(h, "\"scale\":")))
		scale = strtoull(s + 8, NULL, 10);
	*diff = strstr(h, "\"diff\":true") != NULL;
	bool v32 = strstr(h, "\"v32\":true") != NULL, n16 = strstr(h, "\"n16\":true") != NULL;
	/* names: ["a","b",...] without escapes in these tests */
	char names[16][32];
	size_t nn = 0;
	s = strstr(h, "\"names\":[");
	for (s = s ? s + 9 : ""; *s == '"' && nn < 16; nn++) {
		const char *e = strchr(s + 1, '"');
		snprintf(names[nn], sizeof(names[nn]), "%.*s", (int)(e - s - 1), s + 1);
		s = e + 1 + (e[1] == ',');
	}
	free(h);
	if (nodes > max || !scale)
		return -1;
	size_t off = 4 + hl;
	off += (8 - off % 8) % 8;
	size_t vs = v32 ? 4 : 8, ns = n16 ? 2 : 4;
	if (off + nodes * (vs * (*diff ? 2 : 1) + ns + 2) != r->len)
		return -1;
	for (size_t i = 0; i < nodes; i++) {
		const unsigned char *v = b + off + i * vs, *bv = b + off + (nodes + i) * vs;
		double x, y = 0;
		if (v32) {
			uint32_t a, c;
			memcpy(&a, v, 4);
			memcpy(&c, bv, 4);
			x = a;
			y = c;
		} else {
			memcpy(&x, v, 8);
			memcpy(&y, bv, 8);
		}
		out[i].value = x * (double)scale;
		out[i].base = *diff ? y * (double)scale : 0;
		size_t at = off + nodes * vs * (*diff ? 2 : 1);
		int32_t nm;
		if (n16) {
			uint16_t u;
			memcpy(&u, b + at + i * 2, 2);
			nm = i ? u : -1;
		} else {
			memcpy(&nm, b + at + i * 4, 4);
		}
		uint16_t d;
		memcpy(&d, b + at + nodes * ns + i * 2, 2);
		out[i].depth = d;
		snprintf(out[i].name, sizeof(out[i].name), "%s", nm < 0 ? "(root)" : (size_t)nm < nn ? names[nm] : "?");
	}
	*n = nodes;
	return 0;
}

static int flame(const struct profile *p, struct frame *f, size_t max, size_t *n, bool *diff)
{
	struct report_options o;
	cprof__report_options_init(&o);
	struct webui_reply r = {0};
	char err[256];
	if (cprof__webui_data(p, &o, "flame", &r, err, sizeof(err)) < 0)
		return -1;
	int rc = decode(&r, f, max, n, diff);
	free(r.data);
	return rc;
}

#define CHECK_FRAME(f, nm, d, v)                                                \
	do {                                                                    \
		CHECK_EQ_STR((f).name, nm);                                     \
		CHECK_EQ_INT((f).depth, d);                                     \
		CHECK_EQ_INT((long long)(f).value, v);                          \
	} while (0)

static void test_flame_tree(void)
{
	/* Interleaved stacks, one repeated: the tree merges them whatever their order. */
	struct profile *p = folded("a;b;c 3\nx 1\na;b 2\na;d 6\na;b;c 4\n");
	struct frame f[16];
	size_t n = 0;
	bool diff = true;
	CHECK(p && flame(p, f, 16, &n, &diff) == 0);
	CHECK(!diff);
	CHECK_EQ_INT(n, 6);
	if (n == 6) {
		/* depth first, children by decreasing value: a(15) > x(1); b(9) > d(6) */
		CHECK_FRAME(f[0], "(root)", 0, 16);
		CHECK_FRAME(f[1], "a", 1, 15);
		CHECK_FRAME(f[2], "b", 2, 9);
		CHECK_FRAME(f[3], "c", 3, 7);
		CHECK_FRAME(f[4], "d", 2, 6);
		CHECK_FRAME(f[5], "x", 1, 1);
	}
	cprof__profile_free(p);
}

static void test_flame_tree_build(void)
{
	/* flamegraph.c's tree itself: parents, children, depths. */
	struct profile *p = folded("m;f;g 5\nm;h 2\nm;f 1\n");
	struct report_options o;
	cprof__report_options_init(&o);
	struct report r;
	char err[256];
	CHECK(p && cprof__report_init(&r, p, &o, err, sizeof(err)) == 0);
	struct flame_tree t;
	CHECK(cprof__flame_build(&r, &t) == 0);
	CHECK_EQ_INT(t.len, 5);
	CHECK_EQ_INT(t.n[0].value, 8);
	size_t m = t.n[0].child;
	CHECK(m != SIZE_MAX && t.n[m].next == SIZE_MAX);
	CHECK_EQ_INT(t.n[m].value, 8);
	CHECK_EQ_INT(t.n[m].depth, 0);
	int kids = 0;
	int64_t sum = 0;
	for (size_t c = t.n[m].child; c != SIZE_MAX; c = t.n[c].next) {
		kids++;
		sum += t.n[c].value;
		CHECK_EQ_INT(t.n[c].parent, m);
		CHECK_EQ_INT(t.n[c].depth, 1);
	}
	CHECK_EQ_INT(kids, 2);
	CHECK_EQ_INT(sum, 8); /* m has no self value */
	cprof__flame_release(&t);
	cprof__report_release(&r);
	cprof__profile_free(p);
}

static void test_flame_diff(void)
{
	struct profile *base = folded("a;b 4\na;gone 3\n");
	struct profile *now = folded("a;b 6\na;fresh 2\n");
	char err[256];
	struct profile *d = base && now ? cprof__report_merge_base(now, base, true, false, err, sizeof(err)) : NULL;
	struct frame f[16];
	size_t n = 0;
	bool diff = false;
	CHECK(d && flame(d, f, 16, &n, &diff) == 0);
	CHECK(diff);
	CHECK_EQ_INT(n, 5);
	if (n == 5) {
		/* widths from the newer profile; the base part beside it */
		CHECK_FRAME(f[0], "(root)", 0, 8);
		CHECK_EQ_INT((long long)f[0].base, 7);
		CHECK_FRAME(f[1], "a", 1, 8);
		CHECK_EQ_INT((long long)f[1].base, 7);
		CHECK_FRAME(f[2], "b", 2, 6);
		CHECK_EQ_INT((long long)f[2].base, 4);
		CHECK_FRAME(f[3], "fresh", 2, 2); /* appeared */
		CHECK_EQ_INT((long long)f[3].base, 0);
		CHECK_FRAME(f[4], "gone", 2, 0); /* vanished: no width, its base kept */
		CHECK_EQ_INT((long long)f[4].base, 3);
	}
	cprof__profile_free(base);
	cprof__profile_free(now);
	cprof__profile_free(d);
}

static void test_top_and_meta(void)
{
	struct profile *p = folded("a;b 3\na;c 1\n");
	struct report_options o;
	cprof__report_options_init(&o);
	struct webui_reply r = {0};
	char err[256];
	CHECK(p && cprof__webui_data(p, &o, "top", &r, err, sizeof(err)) == 0);
	char *s = r.data ? strndup(r.data, r.len) : NULL;
	CHECK(s && strstr(s, "{\"flat\":3,\"cum\":3,\"flatText\":\"3\",\"cumText\":\"3\",\"name\":\"b\""));
	CHECK(s && strstr(s, "{\"flat\":0,\"cum\":4,\"flatText\":\"0\",\"cumText\":\"4\",\"name\":\"a\""));
	CHECK(s && strstr(s, "\"total\":4,"));
	free(s);
	free(r.data);
	r = (struct webui_reply){0};
	CHECK(cprof__webui_data(p, &o, "meta", &r, err, sizeof(err)) == 0);
	s = r.data ? strndup(r.data, r.len) : NULL;
	CHECK_EQ_STR(s, "{\"types\":[{\"type\":\"samples\",\"unit\":\"count\"}],\"index\":0,\"diff\":false,"
			"\"file\":\"\",\"comments\":[]}");
	free(s);
	free(r.data);
	cprof__profile_free(p);
}

static void test_filters_and_errors(void)
{
	struct profile *p = folded("a;b 3\na;c 1\n");
	struct report_options o;
	cprof__report_options_init(&o);
	struct webui_reply r = {0};
	char err[256] = "";
	o.sample_index = "bogus";
	CHECK_EQ_INT(cprof__webui_data(p, &o, "top", &r, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "must be one of"));
	o.sample_index = NULL;
	CHECK_EQ_INT(cprof__webui_data(p, &o, "nothing", &r, err, sizeof(err)), -ENOENT);
	o.focus = "(";
	CHECK_EQ_INT(cprof__webui_data(p, &o, "flame", &r, err, sizeof(err)), -EINVAL);
	/* -ignore narrows the flame graph's tree */
	o.focus = NULL;
	o.ignore = "^c$";
	struct frame f[8];
	size_t n = 0;
	bool diff;
	CHECK(cprof__webui_data(p, &o, "flame", &r, err, sizeof(err)) == 0);
	CHECK(decode(&r, f, 8, &n, &diff) == 0);
	free(r.data);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT((long long)f[0].value, 3);
	/* the download: a gzipped profile.proto, as an attachment */
	r = (struct webui_reply){0};
	CHECK(cprof__webui_download(p, &o, &r, err, sizeof(err)) == 0);
	CHECK(r.len > 2 && (unsigned char)r.data[0] == 0x1f && (unsigned char)r.data[1] == 0x8b);
	CHECK(r.disposition && strstr(r.disposition, "profile.pb.gz"));
	free(r.data);
	cprof__profile_free(p);
}

int main(void)
{
	RUN(test_flame_tree);
	RUN(test_flame_tree_build);
	RUN(test_flame_diff);
	RUN(test_top_and_meta);
	RUN(test_filters_and_errors);
	return check_failed_total ? 1 : 0;
}
