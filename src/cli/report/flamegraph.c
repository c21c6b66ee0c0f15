/*
 * flamegraph.c - `-flamegraph`: a self-contained interactive SVG flame
 * graph of the report's samples (root at the bottom, callees above, widths
 * proportional to the value). The embedded script shows name, value and
 * percentage of the frame under the pointer, zooms into a frame on click,
 * and highlights frames matching a search. Colours are stable per function
 * name. No external resources: the file works offline and as a plain image.
 *
 * Frames are the report's nodes (view keys) at its granularity; sample
 * selection (-sample_index, -mean, filters) is the report engine's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report/report.h"

#define WIDTH 1200.0
#define PAD 10.0
#define ROW 16.0
#define TOP 60.0
#define BOTTOM 34.0

/* Append a child `name` to `parent`. SIZE_MAX on out of memory. */
static size_t tree_add(struct flame_tree *t, size_t parent, size_t name)
{
	if (t->len == t->cap) {
		size_t cap = t->cap * 2;
		struct flame_node *n = realloc(t->n, cap * sizeof(*n));
		if (!n)
			return SIZE_MAX;
		t->n = n;
		t->cap = cap;
	}
	size_t c = t->len++;
	t->n[c] = (struct flame_node){name, 0, 0, parent, SIZE_MAX, t->n[parent].child,
				      t->n[parent].depth + 1};
	t->n[parent].child = c;
	return c;
}

/* The samples' stacks as keys, root first, for sorting. */
struct stacks {
	size_t *key;  /* all stacks, one after another */
	size_t *off;  /* per sample: start in key, and off[s + 1] its end */
};

static int by_stack(const void *a, const void *b, void *arg)
{
	const struct stacks *st = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const size_t *kx = st->key + st->off[x], *ky = st->key + st->off[y];
	size_t nx = st->off[x + 1] - st->off[x], ny = st->off[y + 1] - st->off[y];
	for (size_t i = 0; i < nx && i < ny; i++)
		if (kx[i] != ky[i])
			return kx[i] < ky[i] ? -1 : 1;
	return nx < ny ? -1 : nx > ny ? 1 : (x < y ? -1 : x > y);
}

char *cprof__flame_name(const struct rnode_info *i)
{
	char *s;
	int n;
	if (i->name[0] && !i->file[0] && !i->address)
		n = asprintf(&s, "%s", i->name);
	else if (i->name[0] && i->lineno)
		n = asprintf(&s, "%s %s:%lld", i->name, i->file, (long long)i->lineno);
	else if (i->name[0] || i->file[0])
		n = asprintf(&s, "%s%s%s", i->name, i->name[0] && i->file[0] ? " " : "", i->file);
	else if (i->objfile[0])
		n = asprintf(&s, "[%s]", strrchr(i->objfile, '/') ? strrchr(i->objfile, '/') + 1 : i->objfile);
	else
		n = asprintf(&s, "%#llx", (unsigned long long)i->address);
	return n < 0 ? NULL : s;
}

void cprof__flame_release(struct flame_tree *t)
{
	free(t->n);
	*t = (struct flame_tree){0};
}

/*
 * The stacks are sorted (root first, key by key) so that stacks sharing
 * outer frames come together: each sample then shares a prefix of the
 * previous sample's path and adds new nodes below it, with no lookups.
 */
int cprof__flame_build(const struct report *r, struct flame_tree *t)
{
	const struct profile *p = r->prof;
	*t = (struct flame_tree){0};
	struct stacks st = {NULL, NULL};
	size_t *order = NULL, *path = NULL, nkey = 0, cap = 1024, maxd = 0;
	int64_t *val = NULL;
	int rc = -ENOMEM;
	t->cap = 256;
	t->n = malloc(t->cap * sizeof(*t->n));
	st.key = malloc(cap * sizeof(size_t));
	st.off = malloc((p->nsample + 1) * sizeof(size_t));
	val = malloc((p->nsample + 1) * sizeof(int64_t));
	order = malloc((p->nsample + 1) * sizeof(size_t));
	if (!t->n || !st.key || !st.off || !val || !order)
		goto out;
	t->n[0] = (struct flame_node){SIZE_MAX, 0, 0, SIZE_MAX, SIZE_MAX, SIZE_MAX, -1};
	t->len = 1;
	size_t ns = 0;
	for (size_t s = 0; s < p->nsample; s++) {
		const struct pp_sample *sm = &p->sample[s];
		if ((size_t)r->value_index >= sm->nvalue)
			continue;
		int64_t v = sm->value[r->value_index];
		if (r->opt.mean && sm->value[0] != 0)
			v /= sm->value[0];
		if (v == 0)
			continue;
		st.off[ns] = nkey;
		for (size_t i = sm->nlocation; i-- > 0;) {
			const struct pp_location *loc = cprof__profile_location(p, sm->location_id[i]);
			if (!loc)
				continue;
			size_t n;
			const size_t *keys = cprof__rview_loc_keys(r->view, (size_t)(loc - p->location), &n);
			if (nkey + n > cap) {
				while (nkey + n > cap)
					cap *= 2;
				size_t *k = realloc(st.key, cap * sizeof(size_t));
				if (!k)
					goto out;
				st.key = k;
			}
			for (size_t j = n; j-- > 0;)
				st.key[nkey++] = keys[j];
		}
		if (nkey - st.off[ns] > maxd)
			maxd = nkey - st.off[ns];
		val[ns] = v;
		order[ns] = ns;
		ns++;
	}
	st.off[ns] = nkey;
	qsort_r(order, ns, sizeof(size_t), by_stack, &st);
	path = malloc((maxd + 1) * sizeof(size_t));
	if (!path)
		goto out;
	const size_t *prev = NULL;
	size_t plen = 0;
	for (size_t o = 0; o < ns; o++) {
		size_t s = order[o];
		const size_t *k = st.key + st.off[s];
		size_t n = st.off[s + 1] - st.off[s];
		int64_t v = val[s] < 0 ? -val[s] : val[s]; /* widths need magnitudes (diff profiles) */
		bool neg = val[s] < 0;
		size_t same = 0;
		while (same < n && same < plen && k[same] == prev[same])
			same++;
		t->n[0].value += v;
		if (neg)
			t->n[0].neg += v;
		for (size_t d = 0; d < n; d++) {
			if (d >= same) {
				size_t c = tree_add(t, d ? path[d - 1] : 0, k[d]);
				if (c == SIZE_MAX)
					goto out;
				path[d] = c;
			}
			t->n[path[d]].value += v;
			if (neg)
				t->n[path[d]].neg += v;
		}
		prev = k;
		plen = n;
	}
	rc = 0;
out:
	free(st.key);
	free(st.off);
	free(val);
	free(order);
	free(path);
	if (rc < 0)
		cprof__flame_release(t);
	return rc;
}

static void xml_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((unsigned char)*s < 0x20)
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

/* flamegraph.pl's "hot" palette, seeded by the name so colours are stable. */
static void color(const char *name, int *r, int *g, int *b)
{
	uint64_t h = cprof__report_fnv(name, strlen(name), REPORT_FNV_BASIS);
	double v1 = (double)(h & 0xffff) / 65535.0;
	double v2 = (double)((h >> 16) & 0xffff) / 65535.0;
	double v3 = (double)((h >> 32) & 0xffff) / 65535.0;
	*r = 205 + (int)(50 * v3);
	*g = (int)(230 * v1);
	*b = (int)(55 * v2);
}

static const char script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"(function () {\n"
	"  var W = %g, PAD = %g, svg = document.documentElement;\n"
	"  var frames = [].slice.call(document.querySelectorAll('g.f'));\n"
	"  var details = document.getElementById('details');\n"
	"  var matched = document.getElementById('matched');\n"
	"  var total = +svg.getAttribute('data-total');\n"
	"  var unit = svg.getAttribute('data-unit');\n"
	"  function pct(v) { return total ? (100 * v / total).toFixed(2) + '%%' : '0%%'; }\n"
	"  function info(g) { return g.getAttribute('data-n') + ' (' + g.getAttribute('data-l') + ', ' + pct(+g.getAttribute('data-v')) + ')'; }\n"
	"  function fit(g) {\n"
	"    var r = g.querySelector('rect'), t = g.querySelector('text');\n"
	"    var w = +r.getAttribute('width'), n = g.getAttribute('data-n');\n"
	"    t.setAttribute('x', +r.getAttribute('x') + 3);\n"
	"    var c = Math.floor((w - 6) / 7);\n"
	"    t.textContent = c < 3 ? '' : (n.length <= c ? n : n.substring(0, c - 2) + '..');\n"
	"  }\n"
	"  function zoom(z) {\n"
	"    var zx = z ? +z.getAttribute('data-x') : 0, zw = z ? +z.getAttribute('data-v') : total;\n"
	"    var zd = z ? +z.getAttribute('data-d') : -1, scale = (W - 2 * PAD) / (zw || 1);\n"
	"    frames.forEach(function (g) {\n"
	"      var x = +g.getAttribute('data-x'), v = +g.getAttribute('data-v'), d = +g.getAttribute('data-d');\n"
	"      var r = g.querySelector('rect');\n"
	"      var inside = x >= zx && x + v <= zx + zw;\n"
	"      var below = d < zd && x <= zx && x + v >= zx + zw;\n"
	"      if (!inside && !below) { g.style.display = 'none'; return; }\n"
	"      g.style.display = '';\n"
	"      g.style.opacity = below ? 0.5 : 1;\n"
	"      var nx = below ? PAD : PAD + (x - zx) * scale, nw = below ? W - 2 * PAD : v * scale;\n"
	"      r.setAttribute('x', nx); r.setAttribute('width', Math.max(nw - 0.5, 0));\n"
	"      fit(g);\n"
	"    });\n"
	"    document.getElementById('unzoom').style.display = z ? '' : 'none';\n"
	"  }\n"
	"  frames.forEach(function (g) {\n"
	"    g.addEventListener('mouseover', function () { details.textContent = info(g); });\n"
	"    g.addEventListener('mouseout', function () { details.textContent = ' '; });\n"
	"    g.addEventListener('click', function () { zoom(g); });\n"
	"  });\n"
	"  document.getElementById('unzoom').addEventListener('click', function () { zoom(null); });\n"
	"  function search(re) {\n"
	"    var sum = 0, covered = [];\n"
	"    frames.forEach(function (g) {\n"
	"      var r = g.querySelector('rect'), hit = re && re.test(g.getAttribute('data-n'));\n"
	"      r.setAttribute('fill', hit ? 'rgb(230,0,230)' : g.getAttribute('data-c'));\n"
	"      if (!hit) return;\n"
	"      var x = +g.getAttribute('data-x'), v = +g.getAttribute('data-v');\n"
	"      for (var i = 0; i < covered.length; i++) if (x >= covered[i][0] && x + v <= covered[i][1]) return;\n"
	"      covered.push([x, x + v]); sum += v;\n"
	"    });\n"
	"    matched.textContent = re ? 'Matched: ' + pct(sum) : ' ';\n"
	"  }\n"
	"  document.getElementById('search').addEventListener('click', function () {\n"
	"    var term = window.prompt('Search for (regular expression):', '');\n"
	"    if (term === null) return;\n"
	"    try { search(term ? new RegExp(term) : null); } catch (e) { window.alert(e); }\n"
	"  });\n"
	"  window.addEventListener('keydown', function (e) {\n"
	"    if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); document.getElementById('search').dispatchEvent(new Event('click')); }\n"
	"  });\n"
	"  frames.forEach(fit);\n"
	"})();\n"
	"]]></script>\n";

int cprof__report_flamegraph(struct report *r, FILE *out)
{
	size_t nk = cprof__rview_nkeys(r->view);
	struct flame_tree t = {0};
	char **names = calloc(nk + 1, sizeof(char *));
	size_t *order = NULL, *stack = NULL;
	int rc = -ENOMEM;
	if (!names)
		goto out;
	for (size_t k = 0; k < nk; k++)
		if (!(names[k] = cprof__flame_name(cprof__rview_key_info(r->view, k))))
			goto out;
	if (cprof__flame_build(r, &t) < 0)
		goto out;
	int maxdepth = 0;
	for (size_t i = 0; i < t.len; i++)
		if (t.n[i].depth > maxdepth)
			maxdepth = t.n[i].depth;
	double height = TOP + (maxdepth + 1) * ROW + BOTTOM;
	int64_t total = t.n[0].value;
	double scale = total ? (WIDTH - 2 * PAD) / (double)total : 0;
	char tot[128];
	cprof__report_format(r, tot, sizeof(tot), total);

	fprintf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
		"xmlns=\"http://www.w3.org/2000/svg\" data-total=\"%lld\" data-unit=\"",
		WIDTH, height, WIDTH, height, (long long)total);
	xml_escape(out, r->sample_unit);
	fputs("\">\n<style type=\"text/css\">\n"
	      "text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }\n"
	      "g.f { cursor: pointer; } g.f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
	      "#title { font-size: 17px; } .button { fill: #447; cursor: pointer; }\n"
	      "</style>\n", out);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%g\" height=\"%g\" fill=\"#f8f8f8\"/>\n", WIDTH, height);
	fprintf(out, "<text id=\"title\" x=\"%g\" y=\"24\" text-anchor=\"middle\">Flame Graph: ", WIDTH / 2);
	xml_escape(out, r->sample_type);
	fprintf(out, " (total %s)</text>\n", tot);
	fprintf(out, "<text id=\"unzoom\" class=\"button\" x=\"%g\" y=\"24\" style=\"display:none\">Reset Zoom</text>\n", PAD);
	fprintf(out, "<text id=\"search\" class=\"button\" x=\"%g\" y=\"24\" text-anchor=\"end\">Search</text>\n", WIDTH - PAD);
	fprintf(out, "<text id=\"matched\" x=\"%g\" y=\"%g\" text-anchor=\"end\"> </text>\n", WIDTH - PAD, height - 12);
	fprintf(out, "<text id=\"details\" x=\"%g\" y=\"%g\"> </text>\n", PAD, height - 12);

	/* Depth-first, children in name order, so that the layout is stable. */
	order = malloc(t.len * sizeof(size_t));
	stack = malloc(t.len * sizeof(size_t));
	double *xs = malloc(t.len * sizeof(double));
	if (!order || !stack || !xs) {
		free(xs);
		goto out;
	}
	size_t sp = 0;
	xs[0] = 0;
	stack[sp++] = 0;
	while (sp > 0) {
		size_t cur = stack[--sp];
		/* collect and sort children by name */
		size_t nc = 0;
		for (size_t c = t.n[cur].child; c != SIZE_MAX; c = t.n[c].next)
			order[nc++] = c;
		for (size_t a = 1; a < nc; a++)
			for (size_t b = a; b > 0 && strcmp(names[t.n[order[b]].name], names[t.n[order[b - 1]].name]) < 0; b--) {
				size_t x = order[b];
				order[b] = order[b - 1];
				order[b - 1] = x;
			}
		double x = xs[cur];
		for (size_t a = 0; a < nc; a++) {
			xs[order[a]] = x;
			x += (double)t.n[order[a]].value;
		}
		for (size_t a = nc; a-- > 0;)
			stack[sp++] = order[a];
		if (cur == 0)
			continue;
		const struct flame_node *f = &t.n[cur];
		double w = (double)f->value * scale;
		if (w < 0.1)
			continue;
		const char *name = names[f->name];
		int cr, cg, cb;
		color(name, &cr, &cg, &cb);
		char val[128];
		cprof__report_format(r, val, sizeof(val), f->value);
		double px = PAD + xs[cur] * scale;
		double py = height - BOTTOM - (f->depth + 1) * ROW;
		fputs("<g class=\"f\" data-n=\"", out);
		xml_escape(out, name);
		fprintf(out, "\" data-v=\"%lld\" data-x=\"%.0f\" data-d=\"%d\" data-l=\"%s\" "
			"data-c=\"rgb(%d,%d,%d)\"><title>", (long long)f->value, xs[cur], f->depth, val,
			cr, cg, cb);
		xml_escape(out, name);
		char pct[32];
		cprof__units_percentage(pct, sizeof(pct), f->value, total);
		fprintf(out, " (%s, %s)</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
			"rx=\"2\" fill=\"rgb(%d,%d,%d)\"/><text x=\"%.2f\" y=\"%.1f\">", val,
			pct + strspn(pct, " "),
			px, py, w > 0.5 ? w - 0.5 : w, ROW - 1, cr, cg, cb, px + 3, py + 11.5);
		size_t fitc = w > 6 ? (size_t)((w - 6) / 7) : 0;
		if (fitc >= 3) {
			if (strlen(name) <= fitc) {
				xml_escape(out, name);
			} else {
				size_t cl = fitc - 2;
				while (cl > 0 && ((unsigned char)name[cl] & 0xc0) == 0x80)
					cl--; /* not inside a UTF-8 sequence */
				char *cut = strndup(name, cl);
				if (cut) {
					xml_escape(out, cut);
					fputs("..", out);
				}
				free(cut);
			}
		}
		fputs("</text></g>\n", out);
	}
	free(xs);
	fprintf(out, script, WIDTH, PAD);
	fputs("</svg>\n", out);
	rc = ferror(out) ? -EIO : 0;
out:
	if (names)
		for (size_t k = 0; k < nk; k++)
			free(names[k]);
	free(names);
	free(order);
	free(stack);
	cprof__flame_release(&t);
	return rc;
}
