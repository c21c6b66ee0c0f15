/*
 * test_webui.c - the web UI's data on profiles with known stacks (collapsed
 * stacks written to a temporary file): the flame graph's tree of calling
 * contexts and the pieces of it the browser gets (webui_flame.c:
 * depth-first order, children by decreasing width, frames too narrow to
 * draw left out with their value on their caller, the base part of a
 * diff; search totals, pivots, the callers tree), the top rows, the
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

/* The decoded /ui/data/flame: per frame sent in order, its name, depth, values. */
struct frame {
	char name[32];
	unsigned id, depth, flags;
	double value, base, more, more_base, big;
};

static int decode(const struct webui_reply *r, struct frame *out, size_t max, size_t *n, bool *diff)
{
	const unsigned char *b = (const unsigned char *)r->data;
	uint32_t hl = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
	char *h = strndup(r->data + 4, hl);
	if (!h)
		return -1;
	size_t nodes = 0;
	const char *s;
	if ((s = strstr(h, "{\"n\":")))
		nodes = strtoull(s + 5, NULL, 10);
	*diff = strstr(h, "\"diff\":true") != NULL;
	/* the names sent: "ids":[i,...] and "names":["a",...] (no escapes in these tests) */
	unsigned ids[16];
	char names[16][32];
	size_t nn = 0, ni = 0;
	s = strstr(h, "\"ids\":[");
	for (s = s ? s + 7 : ""; *s >= '0' && *s <= '9' && ni < 16; ni++) {
		char *e;
		ids[ni] = (unsigned)strtoul(s, &e, 10);
		s = e + (*e == ',');
	}
	s = strstr(h, "\"names\":[");
	for (s = s ? s + 9 : ""; *s == '"' && nn < 16; nn++) {
		const char *e = strchr(s + 1, '"');
		snprintf(names[nn], sizeof(names[nn]), "%.*s", (int)(e - s - 1), s + 1);
		s = e + 1 + (e[1] == ',');
	}
	free(h);
	if (nodes > max || nn != ni)
		return -1;
	size_t off = 4 + hl;
	off += (8 - off % 8) % 8;
	size_t nf = *diff ? 5 : 3;
	if (off + nodes * (nf * 8 + 4 + 4 + 2 + 1) != r->len)
		return -1;
	const unsigned char *u = b + off + nodes * nf * 8;
	for (size_t i = 0; i < nodes; i++) {
		double f[5] = {0};
		for (size_t k = 0; k < nf; k++)
			memcpy(&f[k], b + off + (k * nodes + i) * 8, 8);
		out[i].value = f[0];
		out[i].base = *diff ? f[1] : 0;
		out[i].more = *diff ? f[2] : f[1];
		out[i].more_base = *diff ? f[3] : 0;
		out[i].big = *diff ? f[4] : f[2];
		uint32_t id, nm;
		uint16_t d;
		memcpy(&id, u + i * 4, 4);
		memcpy(&nm, u + nodes * 4 + i * 4, 4);
		memcpy(&d, u + nodes * 8 + i * 2, 2);
		out[i].id = id;
		out[i].depth = d;
		out[i].flags = u[nodes * 10 + i];
		const char *name = nm == UINT32_MAX ? "(root)" : "?";
		for (size_t k = 0; k < nn; k++)
			if (ids[k] == nm)
				name = names[k];
		snprintf(out[i].name, sizeof(out[i].name), "%.31s", name);
	}
	*n = nodes;
	return 0;
}

/* The tree of p with o (NULL: the defaults), or its pivot (pivot "up"/"down" on re). */
static struct webui_flame *tree(const struct profile *p, const struct report_options *o,
				const char *pivot, const char *re)
{
	struct report_options def;
	cprof__report_options_init(&def);
	struct webui_flame *m = NULL, *pm = NULL;
	char err[256];
	if (!p || cprof__webui_flame_build(p, o ? o : &def, &m, err, sizeof(err)) < 0)
		return NULL;
	if (!pivot)
		return m;
	int rc = cprof__webui_flame_pivot(m, re, strcmp(pivot, "up") == 0, &pm, err, sizeof(err));
	cprof__webui_flame_free(m);
	return rc < 0 ? NULL : pm;
}

/* The frames of subtree z sent for a page width pixels wide. */
static int flame(const struct webui_flame *m, size_t z, double width, struct frame *f, size_t max,
		 size_t *n, bool *diff)
{
	struct webui_reply r = {0};
	if (!m || cprof__webui_flame_send(m, z, width, &r) < 0)
		return -1;
	int rc = decode(&r, f, max, n, diff);
	free(r.data);
	return rc;
}

/* A JSON answer (search, callers) as a string. */
static char *answer(int rc, struct webui_reply *r)
{
	char *s = rc == 0 && r->data ? strndup(r->data, r->len) : NULL;
	free(r->data);
	*r = (struct webui_reply){0};
	return s;
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
	struct webui_flame *m = tree(p, NULL, NULL, NULL);
	struct frame f[16];
	size_t n = 0;
	bool diff = true;
	CHECK(flame(m, 0, 1000, f, 16, &n, &diff) == 0);
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
		for (size_t i = 0; i < n; i++) { /* nothing left out */
			CHECK_EQ_INT(f[i].flags, 0);
			CHECK_EQ_INT((long long)f[i].more, 0);
		}
		/* the tree kept: a's subtree is a, b, c, d; d's caller is a */
		CHECK(m && m->end[f[1].id] - f[1].id == 4);
		CHECK(m && m->parent[f[4].id] == f[1].id && m->depth[f[4].id] == 2);
	}
	cprof__webui_flame_free(m);
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

static void test_flame_partial(void)
{
	/*
	 * 100,040 in all on a page 1,000 pixels wide: frames under 30 (0.3 px)
	 * are left out, their value on their caller.
	 */
	struct profile *p = folded("m;big 100000\nm;small;s1 20\nm;small;s2 20\n");
	struct webui_flame *m = tree(p, NULL, NULL, NULL);
	struct frame f[16];
	size_t n = 0;
	bool diff;
	CHECK(flame(m, 0, 1000, f, 16, &n, &diff) == 0);
	CHECK_EQ_INT(n, 4);
	if (n == 4) {
		CHECK_FRAME(f[0], "(root)", 0, 100040);
		CHECK_FRAME(f[1], "m", 1, 100040);
		CHECK_FRAME(f[2], "big", 2, 100000);
		CHECK_FRAME(f[3], "small", 2, 40);
		CHECK_EQ_INT(f[3].flags, 1);
		CHECK_EQ_INT((long long)f[3].more, 40); /* its self value is 40 - 40: exact */
		CHECK_EQ_INT((long long)f[3].big, 20);  /* the widest left out */
		CHECK_EQ_INT(f[2].flags, 0);
	}
	/* zoomed into small: its callees are wide enough now */
	size_t z = n == 4 ? f[3].id : 0;
	CHECK(flame(m, z, 1000, f, 16, &n, &diff) == 0);
	CHECK_EQ_INT(n, 3);
	if (n == 3) {
		CHECK_FRAME(f[0], "small", 2, 40);
		CHECK_EQ_INT(f[0].flags, 0);
		CHECK_FRAME(f[1], "s1", 3, 20);
		CHECK_FRAME(f[2], "s2", 3, 20);
	}
	struct webui_reply r = {0};
	CHECK_EQ_INT(m ? cprof__webui_flame_send(m, 99, 1000, &r) : 0, -ENOENT);
	cprof__webui_flame_free(m);
	cprof__profile_free(p);
}

static void test_flame_search_and_pivot(void)
{
	/* r under itself counts once; r as a root too */
	struct profile *p = folded("a;r;r;x 5\na;y 3\nr 2\n");
	struct webui_flame *m = tree(p, NULL, NULL, NULL);
	struct webui_reply r = {0};
	char err[256] = "";
	char *s = m ? answer(cprof__webui_flame_search(m, "^r$", &r, err, sizeof(err)), &r) : NULL;
	CHECK(s && strncmp(s, "{\"total\":7,\"base\":0,\"match\":[", 29) == 0);
	free(s);
	s = m ? answer(cprof__webui_flame_search(m, "^(x|y)$", &r, err, sizeof(err)), &r) : NULL;
	CHECK(s && strncmp(s, "{\"total\":8,", 11) == 0);
	free(s);
	CHECK_EQ_INT(m ? cprof__webui_flame_search(m, "(", &r, err, sizeof(err)) : 0, -EINVAL);
	CHECK(strstr(err, "bad regexp"));
	cprof__webui_flame_free(m);
	/* callers above the pivot: r's callers are a (5) and nothing (the root's 2) */
	struct webui_flame *up = tree(p, NULL, "up", "^r$");
	struct frame f[16];
	size_t n = 0;
	bool diff;
	CHECK(flame(up, 0, 1000, f, 16, &n, &diff) == 0);
	CHECK_EQ_INT(n, 3);
	if (n == 3) {
		CHECK_FRAME(f[0], "(root)", 0, 7);
		CHECK_FRAME(f[1], "r", 1, 7);
		CHECK_FRAME(f[2], "a", 2, 5);
	}
	CHECK(up && up->root && strcmp(up->root, "pivot: ^r$") == 0 && up->all == 10);
	cprof__webui_flame_free(up);
	/* callees below: the subtrees of the outermost r merged */
	struct webui_flame *down = tree(p, NULL, "down", "^r$");
	CHECK(flame(down, 0, 1000, f, 16, &n, &diff) == 0);
	CHECK_EQ_INT(n, 4);
	if (n == 4) {
		CHECK_FRAME(f[0], "(root)", 0, 7);
		CHECK_FRAME(f[1], "r", 1, 7);
		CHECK_FRAME(f[2], "r", 2, 5);
		CHECK_FRAME(f[3], "x", 3, 5);
	}
	cprof__webui_flame_free(down);
	cprof__profile_free(p);
}

static void test_flame_callers(void)
{
	struct profile *p = folded("a;b;c 3\nd;c 2\na;b 4\n");
	struct webui_flame *m = tree(p, NULL, NULL, NULL);
	struct webui_reply r = {0};
	char err[256] = "";
	/* names are numbered in order of first use in the sorted stacks: a 0, b 1, c 2, d 3 */
	char *s = m ? answer(cprof__webui_flame_callers(m, "", &r, err, sizeof(err)), &r) : NULL;
	CHECK(s && strstr(s, "\"rows\":[[2,5,0,1],[1,4,0,1]]"));
	free(s);
	s = m ? answer(cprof__webui_flame_callers(m, "2", &r, err, sizeof(err)), &r) : NULL;
	CHECK(s && strstr(s, "\"rows\":[[1,3,0,1],[3,2,0,0]]"));
	free(s);
	s = m ? answer(cprof__webui_flame_callers(m, "2.1", &r, err, sizeof(err)), &r) : NULL;
	CHECK(s && strstr(s, "\"rows\":[[0,3,0,0]]"));
	free(s);
	CHECK_EQ_INT(m ? cprof__webui_flame_callers(m, "2.x", &r, err, sizeof(err)) : 0, -EINVAL);
	cprof__webui_flame_free(m);
	cprof__profile_free(p);
}

static void test_flame_diff(void)
{
	struct profile *base = folded("a;b 4\na;gone 3\n");
	struct profile *now = folded("a;b 6\na;fresh 2\n");
	char err[256];
	struct profile *d = base && now ? cprof__report_merge_base(now, base, true, false, err, sizeof(err)) : NULL;
	struct webui_flame *m = tree(d, NULL, NULL, NULL);
	struct frame f[16];
	size_t n = 0;
	bool diff = false;
	CHECK(flame(m, 0, 1000, f, 16, &n, &diff) == 0);
	CHECK(diff);
	CHECK_EQ_INT(n, 5);
	if (n == 5) {
		/* widths from the newer profile; the base part beside it */
		CHECK_FRAME(f[0], "(root)", 0, 8);
		CHECK_EQ_INT((long long)f[0].base, 7);
		CHECK_FRAME(f[1], "a", 1, 8);
		CHECK_EQ_INT((long long)f[1].base, 7);
		CHECK_EQ_INT(f[1].flags, 2); /* a callee vanished */
		CHECK_FRAME(f[2], "b", 2, 6);
		CHECK_EQ_INT((long long)f[2].base, 4);
		CHECK_FRAME(f[3], "fresh", 2, 2); /* appeared */
		CHECK_EQ_INT((long long)f[3].base, 0);
		CHECK_FRAME(f[4], "gone", 2, 0); /* vanished: no width, its base kept */
		CHECK_EQ_INT((long long)f[4].base, 3);
	}
	cprof__webui_flame_free(m);
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

static void test_json_escape(void)
{
	char esc[7];
	CHECK_EQ_INT(cprof__webui_json_run("ab\"c", esc), 2);
	CHECK_EQ_STR(esc, "\\\"");
	CHECK_EQ_INT(cprof__webui_json_run("\\", esc), 0);
	CHECK_EQ_STR(esc, "\\\\");
	CHECK_EQ_INT(cprof__webui_json_run("x\ny", esc), 1);
	CHECK_EQ_STR(esc, "\\u000a");
	CHECK_EQ_INT(cprof__webui_json_run("caf\xc3\xa9", esc), 5); /* UTF-8 goes as is */
	CHECK_EQ_STR(esc, "");
	/* in an answer: a name with a quote and a tab */
	struct profile *p = folded("a\"b;t\tx 2\n");
	struct webui_flame *m = tree(p, NULL, NULL, NULL);
	struct webui_reply r = {0};
	char err[256];
	char *s = m ? answer(cprof__webui_flame_callers(m, "", &r, err, sizeof(err)), &r) : NULL;
	CHECK(s && strstr(s, "\"names\":[\"t\\u0009x\"]"));
	free(s);
	s = m ? answer(cprof__webui_flame_search(m, "^a", &r, err, sizeof(err)), &r) : NULL;
	CHECK(s && strncmp(s, "{\"total\":2,", 11) == 0);
	free(s);
	cprof__webui_flame_free(m);
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
	struct webui_flame *m = NULL;
	CHECK_EQ_INT(cprof__webui_flame_build(p, &o, &m, err, sizeof(err)), -EINVAL);
	/* -ignore narrows the flame graph's tree */
	o.focus = NULL;
	o.ignore = "^c$";
	struct frame f[8];
	size_t n = 0;
	bool diff;
	m = tree(p, &o, NULL, NULL);
	CHECK(flame(m, 0, 1000, f, 8, &n, &diff) == 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT((long long)f[0].value, 3);
	cprof__webui_flame_free(m);
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
	RUN(test_flame_partial);
	RUN(test_flame_search_and_pivot);
	RUN(test_flame_callers);
	RUN(test_flame_diff);
	RUN(test_top_and_meta);
	RUN(test_json_escape);
	RUN(test_filters_and_errors);
	return check_failed_total ? 1 : 0;
}
