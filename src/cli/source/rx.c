/*
 * rx.c - the few regular expressions the legacy profile readers need,
 * matched with Go's (RE2's) leftmost-first semantics, so that a line
 * splits into the same groups as it does in pprof. POSIX regexec picks
 * the leftmost-longest match and its own subexpression rules, which differ
 * on inputs such as "12345 @ 0x1" against "(\d+) *(\d+) @": Go reads
 * delay 1234, count 5.
 *
 * The syntax is a subset of Go's: literals, '.', classes ("[...]", "[^...]",
 * ranges, "[:digit:]"-style names, \d \s \S \w inside or out), groups
 * "(...)" and "(?:...)", '|', greedy '*', '+', '?', and the anchors '^',
 * '$', "\A", "\z" (no multi-line mode: '$' is the end of the text). \s is Go's ASCII [\t\n\f\r ]. Matching works on
 * bytes: the classes used here accept every byte of a multi-byte character
 * or none, so the matches are Go's.
 *
 * A pattern compiles to a small program; a search explores the program in
 * priority order (backtracking) and remembers every (instruction, position)
 * already explored, as RE2's bit-state engine does, so a line costs at most
 * instructions x length steps. It owns nothing else: the formats live in
 * legacy.c and legacy_text.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/source/source.h"

enum op { O_CLASS, O_SPLIT, O_JMP, O_SAVE, O_BEGIN, O_END, O_MATCH };

struct inst {
	enum op op;
	int x, y;		/* SPLIT: preferred x, then y; JMP: x; SAVE: slot x */
	uint8_t set[32];	/* CLASS: the bytes it accepts */
};

enum node_kind { N_CLASS, N_CAT, N_ALT, N_STAR, N_PLUS, N_QUEST, N_GROUP, N_BEGIN, N_END, N_EMPTY };

struct node {
	enum node_kind kind;
	int a, b;		/* children (CAT, ALT: a then b); GROUP: a, capture index b (-1: none) */
	uint8_t set[32];
};

struct rx {
	struct inst *prog;
	int nprog;
	int ngroup; /* capturing groups, not counting the whole match */
};

struct parser {
	const char *s;
	struct node *nodes;
	int nnodes, cap;
	int ngroup;
	const char *err;
};

static void set_add(uint8_t *set, unsigned c)
{
	set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static bool set_has(const uint8_t *set, unsigned c)
{
	return set[c >> 3] >> (c & 7) & 1;
}

static void set_range(uint8_t *set, unsigned lo, unsigned hi)
{
	for (unsigned c = lo; c <= hi; c++)
		set_add(set, c);
}

static void set_invert(uint8_t *set)
{
	for (int i = 0; i < 32; i++)
		set[i] = (uint8_t)~set[i];
}

static int new_node(struct parser *ps, enum node_kind k, int a, int b)
{
	if (ps->nnodes == ps->cap) {
		int cap = ps->cap ? ps->cap * 2 : 64;
		struct node *n = realloc(ps->nodes, (size_t)cap * sizeof(*n));
		if (!n) {
			ps->err = "out of memory";
			return -1;
		}
		ps->nodes = n;
		ps->cap = cap;
	}
	struct node *n = &ps->nodes[ps->nnodes];
	memset(n, 0, sizeof(*n));
	n->kind = k;
	n->a = a;
	n->b = b;
	return ps->nnodes++;
}

/* Go's \s: [\t\n\f\r ]; \d: [0-9]. */
static void class_escape(char c, uint8_t *set)
{
	uint8_t t[32] = {0};
	switch (c) {
	case 'd':
	case 'D':
		set_range(t, '0', '9');
		break;
	case 's':
	case 'S':
		set_add(t, '\t'), set_add(t, '\n'), set_add(t, '\f'), set_add(t, '\r'), set_add(t, ' ');
		break;
	case 'w':
	case 'W':
		set_range(t, '0', '9'), set_range(t, 'A', 'Z'), set_range(t, 'a', 'z'), set_add(t, '_');
		break;
	}
	if (c == 'D' || c == 'S' || c == 'W')
		set_invert(t);
	for (int i = 0; i < 32; i++)
		set[i] |= t[i];
}

static bool named_class(struct parser *ps, uint8_t *set)
{
	static const struct {
		const char *name;
		const char *ranges; /* pairs */
	} names[] = {
		{"[:digit:]", "09"},
		{"[:xdigit:]", "09afAF"},
		{"[:alpha:]", "azAZ"},
		{"[:alnum:]", "09azAZ"},
		{"[:space:]", "\t\r  "},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i].name);
		if (strncmp(ps->s, names[i].name, n) == 0) {
			for (const char *r = names[i].ranges; *r; r += 2)
				set_range(set, (unsigned char)r[0], (unsigned char)r[1]);
			ps->s += n;
			return true;
		}
	}
	return false;
}

static int parse_class(struct parser *ps)
{
	int id = new_node(ps, N_CLASS, 0, 0);
	if (id < 0)
		return -1;
	uint8_t set[32] = {0};
	bool neg = *ps->s == '^';
	if (neg)
		ps->s++;
	bool first = true;
	while (*ps->s && (*ps->s != ']' || first)) {
		first = false;
		if (named_class(ps, set))
			continue;
		unsigned lo = (unsigned char)*ps->s++;
		if (lo == '\\') {
			char e = *ps->s++;
			if (strchr("dDsSwW", e) && e) {
				class_escape(e, set);
				continue;
			}
			if (!e) {
				ps->err = "trailing backslash";
				return -1;
			}
			lo = (unsigned char)e;
		}
		unsigned hi = lo;
		if (ps->s[0] == '-' && ps->s[1] && ps->s[1] != ']') {
			hi = (unsigned char)ps->s[1];
			ps->s += 2;
			if (hi == '\\') {
				hi = (unsigned char)*ps->s++;
			}
			if (hi < lo) {
				ps->err = "bad class range";
				return -1;
			}
		}
		set_range(set, lo, hi);
	}
	if (*ps->s != ']') {
		ps->err = "missing ]";
		return -1;
	}
	ps->s++;
	if (neg)
		set_invert(set);
	memcpy(ps->nodes[id].set, set, sizeof(set));
	return id;
}

static int parse_alt(struct parser *ps);

static int parse_atom(struct parser *ps)
{
	char c = *ps->s++;
	int id;
	switch (c) {
	case '(': {
		int cap = -1;
		if (strncmp(ps->s, "?:", 2) == 0)
			ps->s += 2;
		else
			cap = ++ps->ngroup;
		int in = parse_alt(ps);
		if (in < 0)
			return -1;
		if (*ps->s != ')') {
			ps->err = "missing )";
			return -1;
		}
		ps->s++;
		return new_node(ps, N_GROUP, in, cap);
	}
	case '[':
		return parse_class(ps);
	case '^':
		return new_node(ps, N_BEGIN, 0, 0);
	case '$':
		return new_node(ps, N_END, 0, 0);
	case '.':
		id = new_node(ps, N_CLASS, 0, 0);
		if (id >= 0) {
			memset(ps->nodes[id].set, 0xff, 32);
			ps->nodes[id].set['\n' >> 3] &= (uint8_t)~(1u << ('\n' & 7));
		}
		return id;
	case '\\': {
		char e = *ps->s++;
		if (e == 'A')
			return new_node(ps, N_BEGIN, 0, 0);
		if (e == 'z')
			return new_node(ps, N_END, 0, 0);
		if (!e) {
			ps->err = "trailing backslash";
			return -1;
		}
		id = new_node(ps, N_CLASS, 0, 0);
		if (id < 0)
			return -1;
		if (strchr("dDsSwW", e))
			class_escape(e, ps->nodes[id].set);
		else
			set_add(ps->nodes[id].set, (unsigned char)e);
		return id;
	}
	default:
		id = new_node(ps, N_CLASS, 0, 0);
		if (id >= 0)
			set_add(ps->nodes[id].set, (unsigned char)c);
		return id;
	}
}

static int parse_repeat(struct parser *ps)
{
	int id = parse_atom(ps);
	while (id >= 0 && (*ps->s == '*' || *ps->s == '+' || *ps->s == '?')) {
		char q = *ps->s++;
		id = new_node(ps, q == '*' ? N_STAR : q == '+' ? N_PLUS : N_QUEST, id, 0);
	}
	return id;
}

static int parse_cat(struct parser *ps)
{
	int id = -1;
	while (*ps->s && *ps->s != '|' && *ps->s != ')') {
		int r = parse_repeat(ps);
		if (r < 0)
			return -1;
		id = id < 0 ? r : new_node(ps, N_CAT, id, r);
		if (id < 0)
			return -1;
	}
	return id < 0 ? new_node(ps, N_EMPTY, 0, 0) : id;
}

static int parse_alt(struct parser *ps)
{
	int id = parse_cat(ps);
	while (id >= 0 && *ps->s == '|') {
		ps->s++;
		int r = parse_cat(ps);
		if (r < 0)
			return -1;
		id = new_node(ps, N_ALT, id, r);
	}
	return id;
}

struct emitter {
	struct inst *prog;
	int n, cap;
};

static int emit(struct emitter *e, enum op op, int x, int y)
{
	if (e->n == e->cap) {
		int cap = e->cap ? e->cap * 2 : 64;
		struct inst *p = realloc(e->prog, (size_t)cap * sizeof(*p));
		if (!p)
			return -1;
		e->prog = p;
		e->cap = cap;
	}
	memset(&e->prog[e->n], 0, sizeof(e->prog[e->n]));
	e->prog[e->n].op = op;
	e->prog[e->n].x = x;
	e->prog[e->n].y = y;
	return e->n++;
}

static int compile(struct emitter *e, const struct node *nodes, int id)
{
	const struct node *n = &nodes[id];
	int at, j;
	switch (n->kind) {
	case N_CLASS:
		if ((at = emit(e, O_CLASS, 0, 0)) < 0)
			return -1;
		memcpy(e->prog[at].set, n->set, 32);
		return 0;
	case N_CAT:
		return compile(e, nodes, n->a) < 0 ? -1 : compile(e, nodes, n->b);
	case N_ALT:
		if ((at = emit(e, O_SPLIT, 0, 0)) < 0 || compile(e, nodes, n->a) < 0 ||
		    (j = emit(e, O_JMP, 0, 0)) < 0)
			return -1;
		e->prog[at].x = at + 1;
		e->prog[at].y = e->n;
		if (compile(e, nodes, n->b) < 0)
			return -1;
		e->prog[j].x = e->n;
		return 0;
	case N_STAR:
		if ((at = emit(e, O_SPLIT, 0, 0)) < 0 || compile(e, nodes, n->a) < 0 ||
		    emit(e, O_JMP, at, 0) < 0)
			return -1;
		e->prog[at].x = at + 1;
		e->prog[at].y = e->n;
		return 0;
	case N_PLUS:
		at = e->n;
		if (compile(e, nodes, n->a) < 0 || emit(e, O_SPLIT, at, e->n + 1) < 0)
			return -1;
		return 0;
	case N_QUEST:
		if ((at = emit(e, O_SPLIT, 0, 0)) < 0 || compile(e, nodes, n->a) < 0)
			return -1;
		e->prog[at].x = at + 1;
		e->prog[at].y = e->n;
		return 0;
	case N_GROUP:
		if (n->b >= 0 && emit(e, O_SAVE, 2 * n->b, 0) < 0)
			return -1;
		if (compile(e, nodes, n->a) < 0)
			return -1;
		if (n->b >= 0 && emit(e, O_SAVE, 2 * n->b + 1, 0) < 0)
			return -1;
		return 0;
	case N_BEGIN:
		return emit(e, O_BEGIN, 0, 0) < 0 ? -1 : 0;
	case N_END:
		return emit(e, O_END, 0, 0) < 0 ? -1 : 0;
	case N_EMPTY:
		return 0;
	}
	return -1;
}

struct rx *cprof__rx_new(const char *pattern)
{
	struct parser ps = {.s = pattern};
	int root = parse_alt(&ps);
	struct rx *r = NULL;
	struct emitter e = {0};
	if (root >= 0 && *ps.s == '\0' && emit(&e, O_SAVE, 0, 0) >= 0 && compile(&e, ps.nodes, root) == 0 &&
	    emit(&e, O_SAVE, 1, 0) >= 0 && emit(&e, O_MATCH, 0, 0) >= 0)
		r = malloc(sizeof(*r));
	free(ps.nodes);
	if (!r) {
		free(e.prog);
		return NULL;
	}
	r->prog = e.prog;
	r->nprog = e.n;
	r->ngroup = ps.ngroup;
	return r;
}

void cprof__rx_free(struct rx *r)
{
	if (r) {
		free(r->prog);
		free(r);
	}
}

int cprof__rx_groups(const struct rx *r)
{
	return r->ngroup;
}

/* A job of the explicit stack: explore (pc, pos), or put a slot back. */
struct job {
	int pc;       /* >= 0: explore; < 0: restore slot -pc-1 to pos */
	long pos;
};

struct search {
	const struct rx *r;
	const uint8_t *s;
	size_t n;
	uint64_t *visited;
	struct job *stack;
	size_t nstack, capstack;
	long *slot;
};

static int push(struct search *st, int pc, long pos)
{
	if (st->nstack == st->capstack) {
		size_t cap = st->capstack ? st->capstack * 2 : 256;
		struct job *j = realloc(st->stack, cap * sizeof(*j));
		if (!j)
			return -1;
		st->stack = j;
		st->capstack = cap;
	}
	st->stack[st->nstack++] = (struct job){pc, pos};
	return 0;
}

/* 1 matched (slots set), 0 not from this start, -1 out of memory. */
static int try_at(struct search *st, long start)
{
	const struct inst *prog = st->r->prog;
	size_t width = st->n + 1;
	st->nstack = 0;
	if (push(st, 0, start) < 0)
		return -1;
	while (st->nstack > 0) {
		struct job j = st->stack[--st->nstack];
		if (j.pc < 0) {
			st->slot[-j.pc - 1] = j.pos;
			continue;
		}
		int pc = j.pc;
		long pos = j.pos;
		for (;;) {
			size_t bit = (size_t)pc * width + (size_t)pos;
			if (st->visited[bit >> 6] >> (bit & 63) & 1)
				break;
			st->visited[bit >> 6] |= (uint64_t)1 << (bit & 63);
			const struct inst *in = &prog[pc];
			if (in->op == O_MATCH)
				return 1;
			if (in->op == O_CLASS) {
				if ((size_t)pos >= st->n || !set_has(in->set, st->s[pos]))
					break;
				pos++, pc++;
			} else if (in->op == O_SPLIT) {
				if (push(st, in->y, pos) < 0)
					return -1;
				pc = in->x;
			} else if (in->op == O_JMP) {
				pc = in->x;
			} else if (in->op == O_SAVE) {
				if (push(st, -in->x - 1, st->slot[in->x]) < 0)
					return -1;
				st->slot[in->x] = pos;
				pc++;
			} else if (in->op == O_BEGIN) {
				if (pos != 0)
					break;
				pc++;
			} else { /* O_END */
				if ((size_t)pos != st->n)
					break;
				pc++;
			}
		}
	}
	return 0;
}

int cprof__rx_find(const struct rx *r, const char *s, size_t n, struct rx_group *g)
{
	struct search st = {.r = r, .s = (const uint8_t *)s, .n = n};
	size_t bits = (size_t)r->nprog * (n + 1);
	int nslot = 2 * (r->ngroup + 1);
	st.visited = calloc(bits / 64 + 1, sizeof(uint64_t));
	st.slot = malloc((size_t)nslot * sizeof(long));
	int rc = -ENOMEM;
	if (!st.visited || !st.slot)
		goto out;
	rc = 0;
	for (long start = 0; start <= (long)n && rc == 0; start++) {
		for (int i = 0; i < nslot; i++)
			st.slot[i] = -1;
		rc = try_at(&st, start);
		if (rc < 0)
			rc = -ENOMEM;
		/* an anchored program cannot match from a later start */
		if (r->nprog > 1 && r->prog[1].op == O_BEGIN)
			break;
	}
	if (rc == 1 && g) {
		for (int i = 0; i <= r->ngroup; i++) {
			long a = st.slot[2 * i], b = st.slot[2 * i + 1];
			g[i].matched = a >= 0 && b >= 0;
			g[i].s = g[i].matched ? s + a : s;
			g[i].n = g[i].matched ? (size_t)(b - a) : 0;
		}
	}
out:
	free(st.visited);
	free(st.slot);
	free(st.stack);
	return rc;
}
