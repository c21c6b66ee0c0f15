/*
 * flame.js - the flame graph view: the server's tree of calling contexts
 * drawn on a canvas. Icicle (root at the top) or flame (root at the bottom)
 * orientation; click zooms, search highlights and totals matches, pivot
 * (?p=RE) shows the callers of the matching functions above them and their
 * callees below; tooltips give self and total; colours are stable per
 * library and file; a right-click menu focuses, ignores, hides or shows
 * source. A profile with a base (-diff_base, -base) is drawn as a
 * differential flame graph: widths from the newer profile, red where it
 * grew, blue where it shrank, frames that appeared marked with a bar,
 * frames whose callees vanished with a notch.
 *
 * The page holds only what it can draw: the server (src/cli/webui_flame.c)
 * keeps the whole tree and sends the frames of a subtree wider than a
 * fraction of a pixel at the page's width, each saying how much of its
 * callees it left out. Zooming into a frame (or widening the window) that
 * would show frames left out fetches that subtree again at the new scale
 * and splices it in; search totals, pivots and the callers tree are
 * computed by the server on the whole tree.
 */
'use strict';
(function () {
  var ROW = 18, MIN_W = 0.35;

  /* ---- the tree ---- */

  /* Names by the server's index, filled as answers bring them. */
  var NAMES = {names: [], lib: [], file: []};
  function addNames(h) {
    for (var j = 0; j < h.ids.length; j++) {
      var k = h.ids[j];
      NAMES.names[k] = h.names[j]; NAMES.lib[k] = h.lib[j]; NAMES.file[k] = h.file[j];
    }
  }

  /*
   * Decode the server's binary (cprof__webui_flame_send): a JSON header,
   * then per frame in depth-first order value, base part (diffs only), the
   * value and base part of the callees left out, the widest callee left out
   * (f64), node number and name index (u32), depth (u16), flags (u8).
   */
  var FIELDS = ['val', 'neg', 'more', 'moreNeg', 'big', 'id', 'name', 'depth', 'flags'];
  function decode(buf) {
    var hl = new DataView(buf).getUint32(0, true);
    var h = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, hl)));
    var off = 4 + hl, n = h.n, c = {n: n, h: h};
    off += (8 - off % 8) % 8;
    function f64() { var a = new Float64Array(buf, off, n); off += 8 * n; return a; }
    c.val = f64();
    if (h.diff) c.neg = f64();
    c.more = f64();
    if (h.diff) c.moreNeg = f64();
    c.big = f64();
    c.id = new Uint32Array(buf, off, n); off += 4 * n;
    c.name = new Int32Array(new Uint32Array(buf, off, n)); off += 4 * n; /* the root's 2^32-1 is -1 */
    c.depth = new Uint16Array(buf, off, n); off += 2 * n;
    c.flags = new Uint8Array(buf, off, n);
    addNames(h);
    return c;
  }

  /* A tree of the page from the server's first answer for it (fv: '', 'up' or 'down'). */
  function newTree(c, fv) {
    var h = c.h, t = {n: c.n, names: NAMES.names, lib: NAMES.lib, file: NAMES.file, diff: h.diff,
      type: h.type, unit: h.unit, rootName: h.root, all: h.all, allBase: h.allBase, nnames: h.nnames, fv: fv};
    FIELDS.forEach(function (f) { if (c[f]) t[f] = c[f]; });
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
      if (d - t.depth[0] > maxd) maxd = d - t.depth[0];
    }
    while (sp > 0) end[stack[--sp]] = n;
    t.end = end;
    t.parent = parent;
    t.maxDepth = maxd;
  }

  /* Replace the subtree at i with the server's fuller copy c of it. */
  function splice(t, i, c) {
    var e = t.end[i], n = t.n - (e - i) + c.n;
    FIELDS.forEach(function (f) {
      if (!t[f]) return;
      var a = new t[f].constructor(n);
      a.set(t[f].subarray(0, i), 0);
      a.set(c[f], i);
      a.set(t[f].subarray(e), i + c.n);
      t[f] = a;
    });
    t.n = n;
    links(t);
    return c.n - (e - i);
  }

  /* A frame's own value: its value less its callees', those left out included. */
  function selfOf(t, i) {
    var s = t.val[i] - t.more[i], sn = t.neg ? t.neg[i] - t.moreNeg[i] : 0;
    for (var c = i + 1; c < t.end[i]; c = t.end[c]) {
      s -= t.val[c];
      if (t.neg) sn -= t.neg[c];
    }
    return [s, sn];
  }

  function funcName(k) {
    var n = NAMES.names[k], f = NAMES.file[k];
    return f && n.length > f.length && n.slice(-f.length - 1) === ' ' + f ? n.slice(0, -f.length - 1) : n;
  }

  function label(t, i) { return i === 0 ? (t.rootName || 'all') : NAMES.names[t.name[i]]; }

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
    var cache = dark ? colours.dark : colours.light, c = cache[k];
    if (c) return c;
    var group = (t.lib[k] || '') + '|' + pkg(t.names[k]), file = t.file[k] || '';
    var hue = (CP.hash(group) % 360 + (CP.hash(file) % 40) - 20 + 360) % 360;
    var light = (dark ? 36 : 70) + (CP.hash(file) >>> 9) % 10 - 5;
    return (cache[k] = 'hsl(' + hue + ',' + (dark ? 45 : 62) + '%,' + light + '%)');
  }
  /* A name's colour, once worked out, by name index. */
  var colours = {light: [], dark: []};

  /* ---- the view ---- */
  var V = {};
  CP.views.flamegraph = V;
  CP.flame = {names: NAMES, addNames: addNames, funcName: funcName};

  var parts, canvas, ctx, wrap, hits, orient, match = null, cur = null, total, info0;

  /*
   * The parts to draw: the tree, or with ?p=RE the pivot's callers (up)
   * and callees (down). fw: the page's width, so that the server leaves
   * out what would be narrower than a pixel.
   */
  function pageWidth() { return Math.max(document.documentElement.clientWidth || 0, 400); }
  function fetchParts() {
    var fw = pageWidth();
    if (!CP.params().get('p')) return Promise.all([CP.fetch('flame', 'bin', {fw: fw})]);
    return Promise.all([CP.fetch('flame', 'bin', {fv: 'up', fw: fw}), CP.fetch('flame', 'bin', {fv: 'down', fw: fw})]);
  }
  /* Fetched at once, while the page asks for the profile's description. */
  var prefetch = CP.view === 'flamegraph' ? fetchParts() : null;
  if (prefetch) prefetch.catch(function () {});

  /* Requests under way; the benchmark waits for none before it reads a time. */
  window.cpBusy = 0;
  function busy(d) { window.cpBusy += d; }

  V.show = function (main) {
    var t0 = 0; /* the fetch started with the page */
    orient = CP.params().get('orient') || localStorage.getItem('cprof.orient') || 'icicle';
    return (prefetch || fetchParts()).then(function (bufs) {
      var t1 = performance.now();
      var cs = bufs.map(decode), pv = CP.params().get('p');
      /* where the first draw's time goes, for bench/webui_bench.sh */
      window.cpTimes = {fetch: t1 - t0, decode: performance.now() - t1,
        bytes: bufs.reduce(function (s, b) { return s + b.byteLength; }, 0)};
      parts = pv ? [{t: newTree(cs[0], 'up'), zoom: 0, dir: -1, callers: true}, {t: newTree(cs[1], 'down'), zoom: 0, dir: 1}]
        : [{t: newTree(cs[0], ''), zoom: 0, dir: 1}];
      parts.forEach(function (p) { p.done = {}; });
      info0 = parts[0].t;
      total = info0.all;
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
      info.textContent = info0.type + ': ' + CP.format(total, info0.unit) + ' total';
      if (info0.diff) {
        info.textContent += ' (base ' + CP.format(info0.allBase, info0.unit) + ')  ';
        [['rgb(225,45,45)', 'grew'], ['rgb(45,95,225)', 'shrank'], ['', '\u25ae appeared  \u25e3 callees vanished']]
          .forEach(function (s) {
            if (s[0]) info.appendChild(CP.el('span', {'class': 'swatch', style: 'background:' + s[0]}));
            info.appendChild(document.createTextNode(' ' + s[1] + ' '));
          });
      }
      tools.appendChild(info);
      if (pv) {
        var un = CP.el('button', {id: 'unpivot'}, 'Unpivot');
        un.addEventListener('click', function () { CP.navigate({p: null}); });
        tools.appendChild(un);
        var down = parts[1].t;
        if (down.val[0] === 0 && down.n === 1) CP.details('pivot: nothing matches ' + pv);
      }
      main.appendChild(tools);
      wrap = CP.el('div', {id: 'flame-wrap'});
      canvas = CP.el('canvas', {id: 'flame', tabindex: '0', role: 'img',
        'aria-label': 'Flame graph. Arrow keys move between frames, Enter zooms, P pivots, Escape resets.'});
      wrap.appendChild(canvas);
      main.appendChild(wrap);
      ctx = canvas.getContext('2d');
      events();
      draw();
      window.cpFirstDraw = performance.now();
      window.cpTimes.draw = window.cpLastDraw;
      window.cpTimes.start = t0;
      window.cpFlameFetchDraw = window.cpFirstDraw - t0;
      if (typeof ResizeObserver !== 'undefined') new ResizeObserver(function () { draw(); }).observe(main);
    });
  };

  /*
   * A part whose drawing at this width would show frames the server left
   * out gets its zoomed subtree again at the current scale, spliced in
   * place; then the page is drawn again. Each (frame, width) is asked for
   * once, so a subtree whose left-out callees are all narrower than a pixel
   * is not asked for again and again.
   */
  function refill(pi, W) {
    var part = parts[pi], t = part.t, z = part.zoom, id = t.id[z], key = id + '@' + Math.round(W);
    if (part.done[key]) return false;
    part.done[key] = 1;
    busy(1);
    CP.fetch('flame', 'bin', {fv: t.fv, fz: id, fw: Math.round(W)}).then(function (buf) {
      var c = decode(buf), i = -1;
      t = part.t;
      /* the subtree's frame now (an earlier splice may have moved it) */
      for (var a = part.zoom; a >= 0 && i < 0; a = t.parent[a]) if (t.id[a] === id) i = a;
      for (var j = 0; j < t.n && i < 0; j++) if (t.id[j] === id) i = j;
      if (i < 0) return;
      var e = t.end[i], keep = cur && cur.pi === pi ? t.id[cur.i] : -1, zid = t.id[part.zoom];
      var grew = splice(t, i, c);
      if (part.zoom >= e) part.zoom += grew;
      else if (part.zoom > i) part.zoom = find(t, i, zid);
      if (keep >= 0) {
        if (cur.i >= e) cur.i += grew;
        else if (cur.i > i) cur.i = find(t, i, keep);
      }
    }).catch(function (e) { CP.details('could not fetch more of the flame graph: ' + (e.message || e)); })
      .then(function () {
        busy(-1);
        draw();
        if (!window.cpBusy && interaction) { window.cpLastInteraction = performance.now() - interaction; interaction = 0; }
      });
    return true;
  }
  /* Whether drawing part p at width W would show frames the server left out. */
  function needs(p, W) {
    var t = p.t, z = p.zoom, scale = W / (t.val[z] || 1), stack = [z];
    while (stack.length) {
      var i = stack.pop();
      if (t.big[i] * scale >= MIN_W) return true;
      for (var c = i + 1; c < t.end[i] && t.val[c] * scale >= MIN_W; c = t.end[c]) stack.push(c);
    }
    return false;
  }
  /* The frame numbered id in the subtree at i, else i. */
  function find(t, i, id) {
    for (var j = i; j < t.end[i]; j++) if (t.id[j] === id) return j;
    return i;
  }

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
          if ((t.flags[i] & 2) && w > 6) { /* a callee vanished */
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
        if (t.big[i] * scale >= MIN_W) part.need = true; /* the server left out a frame this wide */
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
    parts.forEach(function (part, pi) {
      if (part.need) refill(pi, W);
      part.need = false;
    });
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
    if (t.diff && (t.flags[i] & 2)) {
      var gone = [];
      for (var c = i + 1; c < t.end[i]; c = t.end[c])
        if (t.val[c] === 0 && t.neg[c] > 0) gone.push(label(t, c) + ' (' + CP.format(t.neg[c], t.unit) + ')');
      lines.push('vanished callees: ' + (gone.length ? gone.slice(0, 5).join(', ') : 'too small to list') +
        (gone.length > 5 || (t.flags[i] & 1) ? ', ...' : ''));
    }
    return lines.join('\n');
  }

  /* When the interaction under way started (its time is taken when its fetches are done). */
  var interaction = 0;
  function zoomTo(h) {
    var t0 = performance.now();
    if (!h) parts.forEach(function (p) { p.zoom = 0; });
    else parts[h.pi].zoom = h.i;
    cur = h;
    interaction = t0;
    /* what the zoom will show that the page does not hold is asked for before drawing */
    var W = wrap.clientWidth || 800, asked = false;
    parts.forEach(function (p, pi) { if (needs(p, W)) asked = refill(pi, W) || asked; });
    /* drawn when the frames come (refill draws), or now if they are slow to */
    if (asked) setTimeout(function () { if (interaction === t0) draw(); }, 150);
    else draw();
    if (!window.cpBusy) { window.cpLastInteraction = performance.now() - t0; interaction = 0; }
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
      CP.menu({name: t.names[t.name[h.i]], func: funcName(t.name[h.i]),
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
        CP.menu({name: t.names[t.name[i]], func: funcName(t.name[i]),
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

  /*
   * Search: the server matches the regexp (the syntax of every other
   * regexp here) against every frame's name and totals the outermost
   * matches over the whole tree; the page highlights the names it lists.
   */
  var searchSeq = 0;
  V.serverSearch = true;
  V.search = function (re, txt) {
    if (!parts) return;
    var t0 = performance.now(), seq = ++searchSeq, m = CP.$('matched');
    if (!txt) {
      match = null;
      m.textContent = '';
      draw();
      window.cpLastInteraction = performance.now() - t0;
      return;
    }
    busy(1);
    CP.fetch('flamesearch', 'json', {q: txt}).then(function (r) {
      if (seq !== searchSeq) return;
      match = new Uint8Array(info0.nnames);
      r.match.forEach(function (k) { match[k] = 1; });
      m.textContent = 'Matched: ' + CP.format(r.total, info0.unit) + ' (' + CP.pct(r.total, total) + ')';
      draw();
      window.cpLastInteraction = performance.now() - t0;
    }, function (e) {
      if (seq === searchSeq) m.textContent = String(e.message || e);
    }).then(function () { busy(-1); });
  };
  /* Enter in the search box pivots on the regexp, as pprof does. */
  V.enter = function (txt) { CP.navigate({p: txt}); };
  V.selection = function () {
    if (!cur || cur.i === 0) return '';
    var t = parts[cur.pi].t;
    return CP.quote(funcName(t.name[cur.i]));
  };
  addEventListener('resize', function () { if (canvas) draw(); });
})();
