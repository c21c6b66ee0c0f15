/*
 * flame.js - the flame graph view: the server's tree of calling contexts
 * (/ui/data/flame, typed arrays) drawn on a canvas. Icicle (root at the
 * top) or flame (root at the bottom) orientation; click zooms, search
 * highlights and totals matches, pivot (?p=RE) shows the callers of the
 * matching functions above them and their callees below; tooltips give
 * self and total; colours are stable per library and file; a right-click
 * menu focuses, ignores, hides or shows source. A profile with a base
 * (-diff_base, -base) is drawn as a differential flame graph: widths from
 * the newer profile, red where it grew, blue where it shrank, frames that
 * appeared marked with a bar, frames that vanished with a notch on their
 * caller.
 *
 * Drawing visits only what is visible: children come sorted by decreasing
 * width, so the walk stops at the first child narrower than a pixel; a
 * 100,000-stack profile draws in a few milliseconds.
 */
'use strict';
(function () {
  var ROW = 18, MIN_W = 0.35;

  /* ---- the tree ---- */

  /*
   * Decode the server's binary (see flame() in src/cli/webui_data.c): a
   * JSON header, then per node in depth-first order value and base part
   * (diffs only) in units of h.scale (u32 or f64), name (u16 or i32) and
   * depth (u16). Adds end (one past the subtree) and parent indices.
   */
  function values(buf, off, n, h) {
    var v = new Float64Array(n), src = h.v32 ? new Uint32Array(buf, off, n) : new Float64Array(buf, off, n);
    for (var i = 0; i < n; i++) v[i] = src[i] * h.scale;
    return v;
  }
  function decode(buf) {
    var hl = new DataView(buf).getUint32(0, true);
    var h = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, hl)));
    var off = 4 + hl, n = h.nodes, vs = h.v32 ? 4 : 8;
    off += (8 - off % 8) % 8;
    var t = {n: n, names: h.names, lib: h.lib, file: h.file, diff: h.diff, type: h.type, unit: h.unit};
    t.val = values(buf, off, n, h); off += vs * n;
    if (h.diff) { t.neg = values(buf, off, n, h); off += vs * n; }
    if (h.n16) {
      t.name = new Int32Array(new Uint16Array(buf, off, n));
      t.name[0] = -1;
      off += 2 * n;
    } else {
      t.name = new Int32Array(buf, off, n);
      off += 4 * n;
    }
    t.depth = new Uint16Array(buf, off, n);
    links(t);
    return t;
  }

  function links(t) {
    var n = t.n, end = new Int32Array(n), parent = new Int32Array(n), stack = new Int32Array(65537);
    var sp = 0, maxd = 0;
    for (var i = 0; i < n; i++) {
      var d = t.depth[i];
      while (sp > 0 && t.depth[stack[sp - 1]] >= d) end[stack[--sp]] = i;
      parent[i] = sp ? stack[sp - 1] : -1;
      stack[sp++] = i;
      if (d > maxd) maxd = d;
    }
    while (sp > 0) end[stack[--sp]] = n;
    t.end = end;
    t.parent = parent;
    t.maxDepth = maxd;
  }

  /*
   * A tree made of paths (pivot's callers and callees, the callers view):
   * node(parent, name) finds or adds a child; finish() orders it as the
   * server does (depth-first, children by decreasing width).
   */
  function Builder(src) {
    this.src = src;
    this.nm = [-1]; this.val = [0]; this.neg = [0]; this.kids = [null];
  }
  Builder.prototype.node = function (parent, name) {
    var k = this.kids[parent];
    if (!k) k = this.kids[parent] = new Map();
    var c = k.get(name);
    if (c === undefined) {
      c = this.nm.length;
      k.set(name, c);
      this.nm.push(name); this.val.push(0); this.neg.push(0); this.kids.push(null);
    }
    return c;
  };
  Builder.prototype.add = function (node, v, b) {
    this.val[node] += v;
    if (b) this.neg[node] += b;
  };
  Builder.prototype.finish = function (rootName) {
    var self = this, n = this.nm.length, src = this.src;
    var t = {n: n, names: src.names, lib: src.lib, file: src.file, diff: src.diff, type: src.type,
      unit: src.unit, rootName: rootName};
    t.val = new Float64Array(n); t.name = new Int32Array(n); t.depth = new Uint16Array(n);
    if (src.diff) t.neg = new Float64Array(n);
    var order = 0, stack = [[0, 0]];
    while (stack.length) {
      var top = stack.pop(), i = top[0], d = top[1];
      t.val[order] = self.val[i]; t.name[order] = self.nm[i]; t.depth[order] = Math.min(d, 65535);
      if (t.neg) t.neg[order] = self.neg[i];
      order++;
      var k = self.kids[i];
      if (!k) continue;
      var cs = Array.from(k.values());
      cs.sort(function (a, b) { return self.val[b] - self.val[a] || self.neg[b] - self.neg[a]; });
      for (var j = cs.length - 1; j >= 0; j--) stack.push([cs[j], d + 1]);
    }
    links(t);
    return t;
  };

  /* Which names a regexp matches (as pprof: the full name, file included). */
  function matchNames(t, re) {
    var m = new Uint8Array(t.names.length);
    for (var k = 0; k < t.names.length; k++) if (re.test(t.names[k])) m[k] = 1;
    return m;
  }

  /* The total of the outermost matching frames: no sample counted twice. */
  function matchedTotal(t, m) {
    var sum = 0, i = 1;
    while (i < t.n) {
      if (m[t.name[i]]) { sum += t.val[i]; i = t.end[i]; } else i++;
    }
    return sum;
  }

  /*
   * Pivot on the frames whose names match: their callers (paths up to the
   * root, reversed) and their callees (their subtrees merged), both rooted
   * at one node standing for all matches. Recursion counts once: only the
   * outermost match of each stack.
   */
  function pivot(t, m, label) {
    var up = new Builder(t), down = new Builder(t), i = 1;
    var dstack = [];
    while (i < t.n) {
      if (!m[t.name[i]]) { i++; continue; }
      var v = t.val[i], b = t.neg ? t.neg[i] : 0;
      up.add(0, v, b);
      down.add(0, v, b);
      var c = up.node(0, t.name[i]);
      up.add(c, v, b);
      for (var p = t.parent[i]; p > 0; p = t.parent[p]) {
        c = up.node(c, t.name[p]);
        up.add(c, v, b);
      }
      /* the subtree, merged under one node per matched name */
      var base = t.depth[i];
      dstack.length = 0;
      for (var j = i; j < t.end[i]; j++) {
        var d = t.depth[j] - base;
        var parent = d === 0 ? 0 : dstack[d - 1];
        var node = down.node(parent, t.name[j]);
        down.add(node, t.val[j], t.neg ? t.neg[j] : 0);
        dstack[d] = node;
      }
      i = t.end[i];
    }
    return {up: up.finish(label), down: down.finish(label)};
  }

  /* The callers (bottom-up) tree: each frame's self value charged up its stack. */
  function bottomUp(t) {
    var b = new Builder(t);
    for (var i = 1; i < t.n; i++) {
      var self = t.val[i], sneg = t.neg ? t.neg[i] : 0;
      for (var c = i + 1; c < t.end[i]; c = t.end[c]) {
        self -= t.val[c];
        if (t.neg) sneg -= t.neg[c];
      }
      if (self <= 0 && sneg <= 0) continue;
      b.add(0, self, sneg);
      var node = 0;
      for (var p = i; p > 0; p = t.parent[p]) {
        node = b.node(node, t.name[p]);
        b.add(node, self, sneg);
      }
    }
    return b.finish('all');
  }

  function selfOf(t, i) {
    var s = t.val[i], sn = t.neg ? t.neg[i] : 0;
    for (var c = i + 1; c < t.end[i]; c = t.end[c]) {
      s -= t.val[c];
      if (t.neg) sn -= t.neg[c];
    }
    return [s, sn];
  }

  function funcName(t, k) {
    var n = t.names[k], f = t.file[k];
    return f && n.length > f.length && n.slice(-f.length - 1) === ' ' + f ? n.slice(0, -f.length - 1) : n;
  }

  function label(t, i) { return i === 0 ? (t.rootName || 'all') : t.names[t.name[i]]; }

  /* ---- colours ---- */
  /* The package or namespace of a name: "crypto/sha256" of Go's "crypto/sha256.block", "std" of "std::sort". */
  function pkg(name) {
    var sp = name.indexOf(' ');
    if (sp > 0) name = name.slice(0, sp);
    name = name.replace(/\.(part|isra|constprop|cold|lto_priv|localalias)(\.\d+)*$/, '');
    var ns = name.indexOf('::');
    if (ns > 0) return name.slice(0, ns);
    var sl = name.lastIndexOf('/'), dot = name.indexOf('.', sl + 1);
    return dot > 0 ? name.slice(0, dot) : '';
  }
  function frameColour(t, i, dark) {
    if (i === 0) return dark ? '#5a5d66' : '#c9ccd3';
    var k = t.name[i];
    if (t.diff) {
      var nv = t.val[i], bv = t.neg[i], m = Math.max(nv, bv) || 1, d = (nv - bv) / m;
      var a = Math.min(1, Math.abs(d) * 0.9 + (d ? 0.1 : 0)); /* unchanged: grey */
      var g = dark ? 70 : 205, c = d >= 0 ? [225, 45, 45] : [45, 95, 225];
      return 'rgb(' + [0, 1, 2].map(function (j) { return Math.round(g + (c[j] - g) * a); }).join(',') + ')';
    }
    var group = (t.lib[k] || '') + '|' + pkg(t.names[k]), file = t.file[k] || '';
    var hue = (CP.hash(group) % 360 + (CP.hash(file) % 40) - 20 + 360) % 360;
    var light = (dark ? 36 : 70) + (CP.hash(file) >>> 9) % 10 - 5;
    return 'hsl(' + hue + ',' + (dark ? 45 : 62) + '%,' + light + '%)';
  }

  /* ---- the view ---- */
  var V = {};
  CP.views.flamegraph = V;
  CP.flame = {decode: decode, bottomUp: bottomUp, selfOf: selfOf, funcName: funcName, label: label,
    matchNames: matchNames, matchedTotal: matchedTotal};

  var tree, parts, canvas, ctx, wrap, hits, orient, match = null, cur = null, total;
  /* The tree is fetched at once, while the page asks for the profile's description. */
  var prefetch = CP.view === 'flamegraph' ? CP.fetch('flame', 'bin') : null;
  if (prefetch) prefetch.catch(function () {});

  V.show = function (main) {
    var t0 = 0; /* the fetch started with the page */
    orient = CP.params().get('orient') || localStorage.getItem('cprof.orient') || 'icicle';
    return (prefetch || CP.fetch('flame', 'bin')).then(function (buf) {
      var t1 = performance.now();
      tree = decode(buf);
      /* where the first draw's time goes, for bench/webui_bench.sh */
      window.cpTimes = {fetch: t1 - t0, decode: performance.now() - t1, bytes: buf.byteLength};
      total = tree.val[0];
      main.textContent = '';
      var tools = CP.el('div', {id: 'flame-tools'});
      var ob = CP.el('button', {id: 'orient', title: 'Switch between icicle (root at the top) and flame (root at the bottom)'},
        orient === 'icicle' ? 'Flame orientation' : 'Icicle orientation');
      ob.addEventListener('click', function () {
        orient = orient === 'icicle' ? 'flame' : 'icicle';
        localStorage.setItem('cprof.orient', orient);
        ob.textContent = orient === 'icicle' ? 'Flame orientation' : 'Icicle orientation';
        draw();
      });
      var reset = CP.el('button', {id: 'reset-zoom', title: 'Show the whole profile (Escape)'}, 'Reset zoom');
      reset.addEventListener('click', function () { zoomTo(null); });
      tools.appendChild(ob);
      tools.appendChild(reset);
      var info = CP.el('span', {'class': 'legend'});
      info.textContent = tree.type + ': ' + CP.format(total, tree.unit) + ' total';
      if (tree.diff) {
        info.textContent += ' (base ' + CP.format(tree.neg[0], tree.unit) + ')  ';
        [['rgb(225,45,45)', 'grew'], ['rgb(45,95,225)', 'shrank'], ['', '\u25ae appeared  \u25e3 callees vanished']]
          .forEach(function (s) {
            if (s[0]) info.appendChild(CP.el('span', {'class': 'swatch', style: 'background:' + s[0]}));
            info.appendChild(document.createTextNode(' ' + s[1] + ' '));
          });
      }
      tools.appendChild(info);
      var pv = CP.params().get('p');
      if (pv) {
        var un = CP.el('button', {id: 'unpivot'}, 'Unpivot');
        un.addEventListener('click', function () { CP.navigate({p: null}); });
        tools.appendChild(un);
      }
      main.appendChild(tools);
      wrap = CP.el('div', {id: 'flame-wrap'});
      canvas = CP.el('canvas', {id: 'flame', tabindex: '0', role: 'img',
        'aria-label': 'Flame graph. Arrow keys move between frames, Enter zooms, P pivots, Escape resets.'});
      wrap.appendChild(canvas);
      main.appendChild(wrap);
      ctx = canvas.getContext('2d');
      parts = [{t: tree, zoom: 0, dir: 1}];
      if (pv) {
        var re;
        try { re = new RegExp(pv); } catch (e) { throw new Error('bad pivot regexp: ' + pv); }
        var m = matchNames(tree, re), pt = pivot(tree, m, 'pivot: ' + pv);
        if (pt.down.val[0] === 0 && pt.down.n === 1) CP.details('pivot: nothing matches ' + pv);
        parts = [{t: pt.up, zoom: 0, dir: -1, callers: true}, {t: pt.down, zoom: 0, dir: 1}];
      }
      events();
      draw();
      window.cpFirstDraw = performance.now();
      window.cpTimes.draw = window.cpLastDraw;
      window.cpTimes.start = t0;
      window.cpFlameFetchDraw = window.cpFirstDraw - t0;
      if (typeof ResizeObserver !== 'undefined') new ResizeObserver(function () { draw(); }).observe(main);
    });
  };

  /* Row of depth d of part pi, top to bottom. */
  function layoutRows() {
    if (parts.length === 1) {
      var md = parts[0].t.maxDepth;
      parts[0].row0 = orient === 'icicle' ? 0 : md;
      parts[0].step = orient === 'icicle' ? 1 : -1;
      return md + 1;
    }
    var up = parts[0].t.maxDepth, down = parts[1].t.maxDepth;
    /* callers above the pivot row, callees below (mirrored in flame orientation) */
    if (orient === 'icicle') {
      parts[0].row0 = up; parts[0].step = -1;
      parts[1].row0 = up; parts[1].step = 1;
    } else {
      parts[1].row0 = down; parts[1].step = -1;
      parts[0].row0 = down; parts[0].step = 1;
    }
    return up + down + 1;
  }

  function draw() {
    if (!canvas) return;
    var t0 = performance.now();
    var rows = layoutRows(), dpr = window.devicePixelRatio || 1;
    var W = wrap.clientWidth || 800, H = rows * ROW;
    if (canvas.width !== Math.round(W * dpr) || canvas.height !== Math.round(H * dpr)) {
      canvas.width = Math.round(W * dpr);
      canvas.height = Math.round(H * dpr);
      canvas.style.height = H + 'px';
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    var dark = CP.dark();
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    var cw = ctx.measureText('abcdefghijklmnopqrstuvwxyz').width / 26 || 7;
    var fg = dark ? '#f0f0f0' : '#111', dim = dark ? 'rgba(0,0,0,.45)' : 'rgba(255,255,255,.55)';
    hits = [];
    for (var r = 0; r < rows; r++) hits.push([]);
    parts.forEach(function (part, pi) {
      var t = part.t, z = part.zoom, scale = W / (t.val[z] || 1);
      function rowOf(d) { return part.row0 + part.step * d; }
      function box(i, x, w, faded) {
        var row = rowOf(t.depth[i]);
        if (pi === 1 && i === 0) return; /* the pivot row is drawn once, by the callers part */
        var y = row * ROW;
        var hl = match && i > 0 && match[t.name[i]];
        ctx.fillStyle = hl ? (dark ? '#c03ac0' : '#ee66ee') : frameColour(t, i, dark);
        ctx.fillRect(x, y, Math.max(w - 1, 0.5), ROW - 1);
        if (faded) { ctx.fillStyle = dim; ctx.fillRect(x, y, Math.max(w - 1, 0.5), ROW - 1); }
        if (t.diff && i > 0) {
          if (t.neg[i] === 0 && t.val[i] > 0) { /* appeared */
            ctx.fillStyle = dark ? '#ffb0b0' : '#7a0000';
            ctx.fillRect(x, y, Math.min(3, w), ROW - 1);
          }
          var last = t.end[i] > i + 1 ? lastChild(t, i) : -1;
          if (last > 0 && t.val[last] === 0 && t.neg[last] > 0 && w > 6) { /* a callee vanished */
            ctx.fillStyle = dark ? '#9fc0ff' : '#0a2f9a';
            ctx.beginPath();
            ctx.moveTo(x + w - 1, y); ctx.lineTo(x + w - 1, y + ROW - 1); ctx.lineTo(x + w - 8, y + ROW - 1);
            ctx.fill();
          }
        }
        if (cur && cur.pi === pi && cur.i === i) {
          ctx.strokeStyle = dark ? '#fff' : '#000';
          ctx.lineWidth = 2;
          ctx.strokeRect(x + 1, y + 1, Math.max(w - 3, 1), ROW - 3);
        }
        if (w > 3 * cw + 6) {
          var s = label(t, i), n = Math.floor((w - 6) / cw);
          if (s.length > n) s = s.slice(0, Math.max(n - 2, 1)) + '..';
          ctx.fillStyle = fg;
          ctx.fillText(s, x + 3, y + ROW / 2);
        }
        hits[row].push([x, w, pi, i]);
      }
      /* the zoomed frame's callers, full width */
      for (var a = t.parent[z]; a >= 0; a = t.parent[a]) box(a, 0, W, true);
      /* the zoomed subtree: stop at the first child under a pixel (children are sorted) */
      var stack = [z, 0];
      while (stack.length) {
        var x = stack.pop(), i = stack.pop(), w = t.val[i] * scale;
        box(i, x, w, false);
        var cx = x, kids = [];
        for (var c = i + 1; c < t.end[i]; c = t.end[c]) {
          var cwid = t.val[c] * scale;
          if (cwid < MIN_W) break;
          kids.push(c, cx);
          cx += cwid;
        }
        for (var k = kids.length - 2; k >= 0; k -= 2) stack.push(kids[k], kids[k + 1]);
      }
    });
    hits.forEach(function (h) { h.sort(function (a, b) { return a[0] - b[0]; }); });
    window.cpLastDraw = performance.now() - t0;
  }

  function lastChild(t, i) {
    var last = -1;
    for (var c = i + 1; c < t.end[i]; c = t.end[c]) last = c;
    return last;
  }

  function hitAt(ev) {
    var r = canvas.getBoundingClientRect(), x = ev.clientX - r.left, row = Math.floor((ev.clientY - r.top) / ROW);
    var h = hits && hits[row];
    if (!h) return null;
    var lo = 0, hi = h.length - 1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (h[mid][0] > x) hi = mid - 1;
      else if (h[mid][0] + h[mid][1] < x) lo = mid + 1;
      else return {pi: h[mid][2], i: h[mid][3]};
    }
    return null;
  }

  function describe(pi, i) {
    var t = parts[pi].t, v = t.val[i], s = selfOf(t, i), k = t.name[i];
    var lines = [label(t, i)];
    if (i > 0 && t.lib[k]) lines.push(t.lib[k]);
    if (parts[pi].callers && i > 0) lines.push('(caller; values are the pivot\'s through this path)');
    if (t.diff) {
      var b = t.neg[i];
      lines.push('new ' + CP.format(v, t.unit) + '  base ' + CP.format(b, t.unit) + '  change ' +
        (v >= b ? '+' : '') + CP.format(v - b, t.unit) + (b ? ' (' + (v >= b ? '+' : '') + CP.pct(v - b, b) + ')' : ' (appeared)'));
      lines.push('self new ' + CP.format(s[0], t.unit) + '  base ' + CP.format(s[1], t.unit));
    } else {
      lines.push('total ' + CP.format(v, t.unit) + ' (' + CP.pct(v, total) + ')  \u2502  self ' +
        CP.format(s[0], t.unit) + ' (' + CP.pct(s[0], total) + ')');
    }
    if (t.diff) {
      var gone = [];
      for (var c = i + 1; c < t.end[i]; c = t.end[c])
        if (t.val[c] === 0 && t.neg[c] > 0) gone.push(label(t, c) + ' (' + CP.format(t.neg[c], t.unit) + ')');
      if (gone.length) lines.push('vanished callees: ' + gone.slice(0, 5).join(', ') + (gone.length > 5 ? ', ...' : ''));
    }
    return lines.join('\n');
  }

  function zoomTo(h) {
    var t0 = performance.now();
    if (!h) parts.forEach(function (p) { p.zoom = 0; });
    else parts[h.pi].zoom = h.i;
    cur = h;
    draw();
    window.cpLastInteraction = performance.now() - t0;
  }

  function pivotOn(h) {
    var t = parts[h.pi].t;
    if (h.i === 0) return;
    CP.navigate({p: CP.quote(t.names[t.name[h.i]])});
  }

  function events() {
    canvas.addEventListener('mousemove', function (e) {
      var h = hitAt(e);
      if (!h) { CP.tooltip(null); CP.details(''); return; }
      var d = describe(h.pi, h.i);
      CP.tooltip(d, e.clientX, e.clientY);
      CP.details(d.split('\n').join('  \u2502  '));
    });
    canvas.addEventListener('mouseleave', function () { CP.tooltip(null); });
    canvas.addEventListener('click', function (e) {
      var h = hitAt(e);
      if (h) zoomTo(h);
    });
    canvas.addEventListener('contextmenu', function (e) {
      var h = hitAt(e);
      if (!h || h.i === 0) return;
      e.preventDefault();
      CP.tooltip(null);
      var t = parts[h.pi].t;
      CP.menu({name: t.names[t.name[h.i]], func: funcName(t, t.name[h.i]),
        act: function (a) { if (a === 'zoom') zoomTo(h); else pivotOn(h); }}, e.clientX, e.clientY);
    });
    canvas.addEventListener('keydown', function (e) {
      var p = cur ? parts[cur.pi] : parts[parts.length - 1];
      var t = p.t, i = cur ? cur.i : p.zoom, pi = cur ? cur.pi : parts.length - 1, next = null;
      var visualDown = p.step > 0 ? 'ArrowDown' : 'ArrowUp', visualUp = p.step > 0 ? 'ArrowUp' : 'ArrowDown';
      if (e.key === visualDown) { if (i + 1 < t.end[i] && t.val[i + 1] > 0) next = i + 1; }
      else if (e.key === visualUp) { if (t.parent[i] >= 0) next = t.parent[i]; }
      else if (e.key === 'ArrowRight') { if (t.end[i] < t.n && t.parent[t.end[i]] === t.parent[i] && t.val[t.end[i]] > 0) next = t.end[i]; }
      else if (e.key === 'ArrowLeft') {
        var par = t.parent[i];
        if (par >= 0) for (var c = par + 1; c < i; c = t.end[c]) if (t.end[c] === i) next = c;
      } else if (e.key === 'Enter') { e.preventDefault(); zoomTo({pi: pi, i: i}); return; }
      else if (e.key === 'Escape') { zoomTo(null); return; }
      else if (e.key === 'p' || e.key === 'P') { pivotOn({pi: pi, i: i}); return; }
      else if (e.key === 'ContextMenu' || (e.shiftKey && e.key === 'F10')) {
        e.preventDefault();
        var r = canvas.getBoundingClientRect();
        CP.menu({name: t.names[t.name[i]], func: funcName(t, t.name[i]),
          act: function (a) { if (a === 'zoom') zoomTo({pi: pi, i: i}); else pivotOn({pi: pi, i: i}); }},
        r.left + 20, r.top + 20);
        return;
      } else return;
      e.preventDefault();
      if (next !== null) {
        cur = {pi: pi, i: next};
        draw();
        CP.details(describe(pi, next).split('\n').join('  \u2502  '));
      }
    });
  }

  V.search = function (re) {
    if (!tree) return;
    var t0 = performance.now();
    match = re ? matchNames(tree, re) : null;
    if (parts.length > 1) parts.forEach(function (p) { p.match = match; });
    var m = CP.$('matched');
    if (re) {
      var s = matchedTotal(tree, match);
      m.textContent = 'Matched: ' + CP.format(s, tree.unit) + ' (' + CP.pct(s, total) + ')';
    } else m.textContent = '';
    draw();
    window.cpLastInteraction = performance.now() - t0;
  };
  /* Enter in the search box pivots on the regexp, as pprof does. */
  V.enter = function (txt) { CP.navigate({p: txt}); };
  V.selection = function () {
    if (!cur || cur.i === 0) return '';
    var t = parts[cur.pi].t;
    return CP.quote(funcName(t, t.name[cur.i]));
  };
  addEventListener('resize', function () { if (canvas) draw(); });
})();
