/*
 * timeline.js - the trace viewer's timeline: what its pages share (TV: URL,
 * fetching /trace/data/, time formatting, the side panel, colours), and the
 * timeline itself, drawn on a canvas: a time axis, counters as graphs, task
 * rows, and per thread a state lane (running, blocked by reason, in system
 * calls, log marks), CPU sample ticks and its regions by depth, with wake-up
 * arrows from the releasing thread to the resumed one.
 *
 * The server answers a time window at a resolution (spans under a pixel
 * merged), so the page holds only what is on screen plus half a screen
 * either side; panning inside that draws at once, anything else fetches.
 * Zoom and pan: wheel (at the pointer), drag, W/S/A/D as in Chrome's trace
 * viewer, 0 for everything. Click: details in the side panel (a merged
 * span zooms in instead). Search lists matches and outlines them.
 * tviews.js draws the derived views and picks the page's view.
 */
'use strict';
var TV = (function () {
  var TV = {};
  TV.view = (location.pathname.replace(/\/+$/, '').split('/').pop()) || 'timeline';
  TV.$ = function (id) { return document.getElementById(id); };
  TV.el = function (tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  };
  TV.get = function (what, params) {
    var q = params ? '?' + new URLSearchParams(params).toString() : '';
    return fetch('/trace/data/' + what + q).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t.trim() || r.statusText); });
      return r.json();
    });
  };
  TV.error = function (e) {
    var m = TV.$('main');
    m.textContent = '';
    m.appendChild(TV.el('div', {'class': 'error', role: 'alert'}, String(e.message || e)));
    document.body.dataset.ready = 'error';
  };
  /* ns as a short duration: 950ns, 12.5us, 3.21ms, 1.5s */
  TV.dur = function (ns) {
    var a = Math.abs(ns);
    if (a < 1e3) return Math.round(ns) + 'ns';
    if (a < 1e6) return +(ns / 1e3).toPrecision(3) + '\u00b5s';
    if (a < 1e9) return +(ns / 1e6).toPrecision(3) + 'ms';
    return +(ns / 1e9).toPrecision(4) + 's';
  };
  TV.bytes = function (b) {
    var u = ['B', 'kB', 'MB', 'GB', 'TB'], k = 0;
    while (k + 1 < u.length && Math.abs(b) >= 1024) { b /= 1024; k++; }
    return +b.toFixed(k ? 1 : 0) + u[k];
  };
  TV.hash = function (s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  };
  TV.dark = function () { return window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches; };
  TV.css = function (name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); };
  TV.REASON_VAR = ['', '--mutex', '--rwlock', '--rwlock', '--cond', '--sem', '--join', '--barrier', '--syscall'];
  TV.reasonColour = function (r) { return TV.css(TV.REASON_VAR[r] || '--mutex'); };
  TV.nameColour = function (name, light) {
    var h = TV.hash(name) % 360, dark = TV.dark();
    return 'hsl(' + h + ',' + (light ? 45 : 55) + '%,' + (dark ? (light ? 38 : 45) : (light ? 78 : 68)) + '%)';
  };
  TV.side = function (title, show) {
    TV.$('side').hidden = !show;
    if (title) TV.$('side-title').textContent = title;
  };
  TV.kv = function (pairs) {
    var dl = TV.el('dl', {'class': 'kv'});
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null || p[1] === '') return;
      dl.appendChild(TV.el('dt', null, p[0]));
      var dd = TV.el('dd');
      if (p[1] instanceof Node) dd.appendChild(p[1]); else dd.textContent = String(p[1]);
      dl.appendChild(dd);
    });
    return dl;
  };
  TV.stack = function (frames) {
    var ol = TV.el('ol', {'class': 'stack'});
    frames.forEach(function (f) {
      var li = TV.el('li', null, f.func || f.pc || '?');
      if (f.file) li.appendChild(TV.el('span', {'class': 'file'}, ' ' + f.file + (f.line ? ':' + f.line : '')));
      ol.appendChild(li);
    });
    return ol;
  };
  return TV;
})();

TV.timeline = function (meta) {
  var LABEL = 170, ROW = 14, STATE = 16, TICKS = 6, GAP = 6, COUNTER = 34, AXIS = 24;
  var str = meta.strings, total = Math.max(1, meta.duration);
  var main = TV.$('main');
  main.textContent = '';
  var legend = TV.el('div', {'class': 'legend-row'});
  [['running', '--run'], ['mutex', '--mutex'], ['rwlock', '--rwlock'], ['cond', '--cond'], ['sem', '--sem'],
    ['join', '--join'], ['barrier', '--barrier'], ['syscall', '--syscall'], ['log', '--log']].forEach(function (l) {
    var s = TV.el('span');
    var sw = TV.el('span', {'class': 'swatch-reason'});
    sw.style.background = 'var(' + l[1] + ')';
    s.appendChild(sw);
    s.appendChild(document.createTextNode(l[0]));
    legend.appendChild(s);
  });
  legend.appendChild(TV.el('span', null, 'W/S zoom \u00b7 A/D pan \u00b7 0 all \u00b7 wheel zooms at the pointer \u00b7 drag pans \u00b7 / search, N/P next/previous match'));
  main.appendChild(legend);
  var wrap = TV.el('div', {id: 'tl-wrap'});
  var axis = TV.el('canvas', {id: 'axis', height: AXIS});
  var cv = TV.el('canvas', {id: 'tl', tabindex: '0', role: 'img',
    'aria-label': 'Timeline: one track per thread; W and S zoom, A and D pan'});
  wrap.appendChild(axis);
  wrap.appendChild(cv);
  main.appendChild(wrap);

  /* ---- layout: a lane per row, top to bottom ---- */
  var lanes = [], y = 4, byTid = {};
  meta.counters.forEach(function (c, k) {
    lanes.push({kind: 'counter', k: k, y: y, h: COUNTER, label: c.name, counter: c});
    y += COUNTER + 2;
  });
  if (meta.counters.length) y += GAP;
  if (meta.task_rows) {
    for (var r = 0; r < meta.task_rows; r++) {
      lanes.push({kind: 'task', d: r, y: y, h: ROW, label: r ? '' : 'Tasks (' + meta.tasks + ')'});
      y += ROW + 1;
    }
    y += GAP;
  }
  var threads = meta.threads.slice().sort(function (a, b) {
    var wa = str[a.name] === 'cprof-trace', wb = str[b.name] === 'cprof-trace';
    return wa !== wb ? (wa ? 1 : -1) : a.start - b.start || a.tid - b.tid;
  });
  threads.forEach(function (t) {
    var tl = {tid: t.tid, t: t, regions: []};
    byTid[t.tid] = tl;
    tl.state = {kind: 'state', tid: t.tid, y: y, h: STATE, label: (str[t.name] || 'thread') + ' ' + t.tid, thread: t};
    lanes.push(tl.state);
    y += STATE + 1;
    if (t.samples) {
      tl.samples = {kind: 'samples', tid: t.tid, y: y, h: TICKS, label: ''};
      lanes.push(tl.samples);
      y += TICKS + 1;
    }
    for (var d = 0; d < t.depth; d++) {
      var l = {kind: 'region', tid: t.tid, d: d, y: y, h: ROW, label: d ? '' : 'regions'};
      tl.regions.push(l);
      lanes.push(l);
      y += ROW + 1;
    }
    y += GAP;
  });
  var height = y + 4;

  /* ---- state ---- */
  var mi = -1; /* the search match n/p last went to */
  var v0 = 0, v1 = total, win = null, inflight = null, seq = 0, hits = [], matches = [], sel = null;
  var pending = null, first = true, W = 0, dpr = window.devicePixelRatio || 1;
  var taskRows = [];
  window.cpInteractions = [];
  function x(t) { return LABEL + (t - v0) / (v1 - v0) * W; }
  function tAt(px) { return v0 + (px - LABEL) / W * (v1 - v0); }

  function size() {
    var w = wrap.clientWidth;
    W = Math.max(50, w - LABEL);
    [[cv, height], [axis, AXIS]].forEach(function (p) {
      p[0].width = Math.round(w * dpr);
      p[0].height = Math.round(p[1] * dpr);
      p[0].style.height = p[1] + 'px';
    });
  }

  function clamp() {
    var span = v1 - v0, min = 1000, slack = total * 0.05;
    if (span < min) { var c = (v0 + v1) / 2; v0 = c - min / 2; v1 = c + min / 2; span = min; }
    if (span > total + 2 * slack) { v0 = -slack; v1 = total + slack; return; }
    if (v0 < -slack) { v1 += -slack - v0; v0 = -slack; }
    if (v1 > total + slack) { v0 -= v1 - total - slack; v1 = total + slack; }
  }

  /* A window covering the view at its resolution, half a screen either side. */
  function need() {
    if (!win) return true;
    var res = (v1 - v0) / W;
    return v0 < win.t0 || v1 > win.t1 || win.res > res * 1.5 + 1 || win.res < res / 3;
  }
  function fetchWindow() {
    if (!need()) return;
    var span = v1 - v0, a = Math.floor(v0 - span / 2), b = Math.ceil(v1 + span / 2);
    if (inflight && inflight.a <= v0 && inflight.b >= v1 && Math.abs(inflight.span - span) < span * 0.2) return;
    var id = ++seq;
    inflight = {a: a, b: b, span: span};
    TV.get('window', {t0: a, t1: b, px: Math.round(W * 2)}).then(function (w) {
      if (id !== seq) return;
      inflight = null;
      var th = {};
      w.threads.forEach(function (t) { th[t.tid] = t; });
      w.byTid = th;
      win = w;
      draw();
      fetchWindow(); /* the view may have moved on while this one was on its way */
    }).catch(function (e) { inflight = null; TV.$('details').textContent = 'window: ' + e.message; });
  }

  /* ---- drawing ---- */
  /* Tick times 1-2-5 apart, about 110 px; out.step is the spacing. */
  function ticks(ctx, w) {
    var span = v1 - v0, target = span / (w / 110), step = 1;
    while (step * 10 <= target) step *= 10;
    if (step * 5 <= target) step *= 5; else if (step * 2 <= target) step *= 2;
    var out = [];
    for (var t = Math.ceil(v0 / step) * step; t <= v1; t += step) out.push(t);
    out.step = step;
    return out;
  }
  /* A tick's label in the unit of the times shown, with the decimals the spacing needs (at most 3; else the spacing's unit). */
  function tickLabel(t, step) {
    var units = [[1e9, 's'], [1e6, 'ms'], [1e3, '\u00b5s'], [1, 'ns']];
    var decimals = function (u) {
      var d = 0;
      while (d < 7 && Math.abs(Math.round(step / u * Math.pow(10, d)) - step / u * Math.pow(10, d)) > 1e-6) d++;
      return d;
    };
    var k = 0, big = Math.max(Math.abs(v0), Math.abs(v1));
    while (k < 3 && big < units[k][0]) k++;
    while (k < 3 && decimals(units[k][0]) > 3) k++;
    return (t / units[k][0]).toFixed(decimals(units[k][0])) + units[k][1];
  }

  function drawAxis(fg, muted, line) {
    var ctx = axis.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    var w = axis.width / dpr;
    ctx.clearRect(0, 0, w, AXIS);
    ctx.fillStyle = TV.css('--bar');
    ctx.fillRect(0, 0, w, AXIS);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = fg;
    ctx.textBaseline = 'middle';
    ctx.fillText(TV.dur(v1 - v0) + ' shown', 6, AXIS / 2);
    ctx.strokeStyle = line;
    var tk = ticks(ctx, W);
    tk.forEach(function (t) {
      var px = x(t);
      if (px < LABEL) return;
      ctx.beginPath();
      ctx.moveTo(px + 0.5, AXIS - 6);
      ctx.lineTo(px + 0.5, AXIS);
      ctx.stroke();
      ctx.fillStyle = muted;
      ctx.fillText(tickLabel(t, tk.step), px + 3, AXIS / 2);
    });
  }

  function rect(ctx, t0, t1, ly, lh, colour, minw) {
    var a = x(t0), b = x(t1);
    if (b < LABEL || a > LABEL + W) return null;
    if (a < LABEL) a = LABEL;
    if (b > LABEL + W) b = LABEL + W;
    if (b - a < (minw || 1)) b = a + (minw || 1);
    ctx.fillStyle = colour;
    ctx.fillRect(a, ly, b - a, lh);
    return [a, b];
  }

  function label(ctx, text, a, b, ly, lh, fg) {
    if (b - a < 24) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(a + 2, ly, b - a - 4, lh);
    ctx.clip();
    ctx.fillStyle = fg;
    ctx.fillText(text, a + 3, ly + lh / 2 + 0.5);
    ctx.restore();
  }

  function draw() {
    var t0 = performance.now();
    var ctx = cv.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    var w = cv.width / dpr;
    var fg = TV.css('--fg'), muted = TV.css('--muted'), line = TV.css('--line'), bg = TV.css('--bg');
    var run = TV.css('--run'), hl = TV.css('--hl');
    ctx.fillStyle = bg;
    ctx.fillRect(0, 0, w, height);
    drawAxis(fg, muted, line);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.strokeStyle = line;
    ticks(ctx, W).forEach(function (t) {
      var px = Math.round(x(t)) + 0.5;
      if (px < LABEL) return;
      ctx.globalAlpha = 0.35;
      ctx.beginPath();
      ctx.moveTo(px, 0);
      ctx.lineTo(px, height);
      ctx.stroke();
      ctx.globalAlpha = 1;
    });
    hits = [];
    var wt = win ? win.byTid : {};
    lanes.forEach(function (l) {
      var data = l.tid !== undefined ? wt[l.tid] : null;
      if (l.kind === 'state') {
        var t = l.thread;
        rect(ctx, t.start, t.end, l.y + 3, l.h - 6, run);
        if (data) data.state.forEach(function (s) {
          var ab = rect(ctx, s[0], s[1], l.y, l.h, TV.reasonColour(s[2]));
          if (ab) hits.push({a: ab[0], b: ab[1], y: l.y, h: l.h, k: 'state', tid: l.tid, i: s[3], n: s[4],
            t0: s[0], t1: s[1], name: (meta.reasons[s[2]] || 'blocked') + (s[4] > 1 ? ' \u00d7' + s[4] : '')});
        });
        if (data) data.logs.forEach(function (g) {
          var px = x(g[0]);
          if (px < LABEL || px > LABEL + W) return;
          ctx.fillStyle = TV.css('--log');
          ctx.beginPath();
          ctx.moveTo(px, l.y);
          ctx.lineTo(px + 4, l.y + 5);
          ctx.lineTo(px - 4, l.y + 5);
          ctx.fill();
          hits.push({a: px - 4, b: px + 4, y: l.y, h: 6, k: 'log', tid: l.tid, i: g[1], n: g[2], t0: g[0], t1: g[0],
            name: 'log' + (g[2] > 1 ? ' \u00d7' + g[2] : ''), top: true});
        });
      } else if (l.kind === 'samples') {
        if (data) {
          ctx.fillStyle = TV.css('--sample');
          data.samples.forEach(function (s) {
            var px = x(s[0]);
            if (px < LABEL || px > LABEL + W) return;
            ctx.fillRect(px, l.y, 1, l.h);
            // s[3]: the sampling periods the tick's samples stand for (a sample's weight: 1 + overruns)
            hits.push({a: px - 1, b: px + 2, y: l.y, h: l.h, k: 'sample', tid: l.tid, i: s[1], n: s[2], t0: s[0],
              t1: s[0], name: (s[2] > 1 ? s[2] + ' CPU samples' : 'CPU sample') +
                (s[3] > s[2] ? ', ' + s[3] + ' sampling periods' : '')});
          });
        }
      } else if (l.kind === 'region') {
        var rs = data && data.regions[l.d];
        if (rs) rs.forEach(function (s) {
          var name = str[s[2]] || '';
          var ab = rect(ctx, s[0], s[1], l.y, l.h, TV.nameColour(name, s[4] > 1));
          if (!ab) return;
          label(ctx, s[4] > 1 ? s[4] + ' regions' : name, ab[0], ab[1], l.y, l.h, fg);
          hits.push({a: ab[0], b: ab[1], y: l.y, h: l.h, k: 'region', tid: l.tid, d: l.d, i: s[3], n: s[4],
            t0: s[0], t1: s[1], name: s[4] > 1 ? s[4] + ' regions' : name});
        });
      } else if (l.kind === 'task') {
        var ts = win && win.tasks[l.d];
        if (ts) ts.forEach(function (s) {
          var name = str[s[2]] || '';
          var ab = rect(ctx, s[0], s[1], l.y, l.h, TV.nameColour(name, true));
          if (!ab) return;
          label(ctx, s[4] > 1 ? s[4] + ' tasks' : name, ab[0], ab[1], l.y, l.h, fg);
          hits.push({a: ab[0], b: ab[1], y: l.y, h: l.h, k: 'task', d: l.d, i: s[3], n: s[4], t0: s[0], t1: s[1],
            name: s[4] > 1 ? s[4] + ' tasks' : name});
        });
      } else if (l.kind === 'counter') {
        drawCounter(ctx, l, win && win.counters[l.k], fg, muted);
      }
    });
    drawArrows(ctx);
    /* search matches and the selection: outlined */
    ctx.lineWidth = 2;
    ctx.strokeStyle = hl;
    matches.forEach(function (m) { outline(ctx, m); });
    if (sel) { ctx.strokeStyle = fg; outline(ctx, sel); }
    ctx.lineWidth = 1;
    /* labels column */
    ctx.fillStyle = TV.css('--bar');
    ctx.fillRect(0, 0, LABEL - 4, height);
    ctx.fillStyle = fg;
    lanes.forEach(function (l) {
      if (!l.label) return;
      ctx.fillStyle = l.kind === 'state' ? fg : muted;
      ctx.font = (l.kind === 'state' ? '600 ' : '') + '11px system-ui, sans-serif';
      var text = l.label;
      while (text.length > 3 && ctx.measureText(text).width > LABEL - 12) text = text.slice(0, -2);
      ctx.fillText(text === l.label ? text : text + '\u2026', 6, l.y + l.h / 2);
    });
    var ms = performance.now() - t0;
    if (win) {
      if (first) {
        first = false;
        window.cpFirstDraw = performance.now();
        document.body.dataset.ready = '1';
      }
      if (pending !== null && !need()) {
        window.cpLastInteraction = performance.now() - pending;
        window.cpInteractions.push(window.cpLastInteraction);
        pending = null;
      }
    }
    window.cpDrawMs = ms;
    window.cpView = {t0: v0, t1: v1};
  }

  function laneOf(m) {
    var tl = byTid[m.tid];
    if (m.k === 'task') return lanes.filter(function (l) { return l.kind === 'task' && l.d === m.d; })[0];
    if (!tl) return null;
    if (m.k === 'region') return tl.regions[m.d];
    if (m.k === 'sample') return tl.samples;
    return tl.state;
  }
  function outline(ctx, m) {
    var l = laneOf(m);
    if (!l) return;
    var a = Math.max(LABEL, x(m.t0)), b = Math.min(LABEL + W, x(m.t1));
    if (b < LABEL || a > LABEL + W) return;
    if (b - a < 3) { a -= 1.5; b = a + 3; }
    ctx.strokeRect(a, l.y - 1, b - a, l.h + 2);
  }

  function drawCounter(ctx, l, pts, fg, muted) {
    var c = l.counter, rate = /_ns$|alloc_bytes$/.test(c.name);
    ctx.fillStyle = TV.css('--hover');
    ctx.fillRect(LABEL, l.y, W, l.h);
    if (!pts || !pts.length) return;
    var vals = [], mx = 0;
    for (var i = 0; i < pts.length; i++) {
      var v = pts[i][3];
      if (rate) v = i ? Math.max(0, (pts[i][1] - pts[i - 1][1]) / Math.max(1, pts[i][0] - pts[i - 1][0])) : 0;
      vals.push(v);
      if (v > mx) mx = v;
    }
    l.vals = vals;
    l.pts = pts;
    l.max = mx;
    ctx.fillStyle = TV.css('--accent');
    ctx.globalAlpha = 0.3;
    ctx.beginPath();
    ctx.moveTo(Math.max(LABEL, x(pts[0][0])), l.y + l.h);
    for (i = 0; i < pts.length; i++) {
      var px = Math.min(LABEL + W, Math.max(LABEL, x(pts[i][0])));
      var py = l.y + l.h - (mx ? vals[i] / mx : 0) * (l.h - 2);
      if (i) ctx.lineTo(px, l.y + l.h - (mx ? vals[i - 1] / mx : 0) * (l.h - 2));
      ctx.lineTo(px, py);
    }
    ctx.lineTo(Math.min(LABEL + W, x(pts[pts.length - 1][0])), l.y + l.h);
    ctx.closePath();
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.fillStyle = muted;
    ctx.fillText('max ' + counterValue(c.name, mx, rate), LABEL + W - 120, l.y + 8);
  }
  function counterValue(name, v, rate) {
    if (/_ns$/.test(name)) return rate ? v.toFixed(2) + ' CPUs' : TV.dur(v);
    if (/_bytes$/.test(name)) return TV.bytes(rate ? v * 1e9 : v) + (rate ? '/s' : '');
    return String(v);
  }

  function drawArrows(ctx) {
    if (!win) return;
    ctx.strokeStyle = ctx.fillStyle = TV.css('--arrow');
    ctx.globalAlpha = 0.8;
    win.arrows.forEach(function (a) {
      var from = byTid[a[1]], to = byTid[a[3]];
      if (!from || !to) return;
      var x0 = x(a[0]), x1 = x(a[2]);
      if ((x0 < LABEL && x1 < LABEL) || (x0 > LABEL + W && x1 > LABEL + W)) return;
      var y0 = from.state.y + STATE / 2, y1 = to.state.y + STATE / 2;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
      var ang = Math.atan2(y1 - y0, x1 - x0);
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x1 - 7 * Math.cos(ang - 0.4), y1 - 7 * Math.sin(ang - 0.4));
      ctx.lineTo(x1 - 7 * Math.cos(ang + 0.4), y1 - 7 * Math.sin(ang + 0.4));
      ctx.fill();
    });
    ctx.globalAlpha = 1;
    if (win.arrows_in_window > win.arrows.length && win.arrows.length === 0) {
      ctx.fillStyle = TV.css('--muted');
      ctx.fillText(win.arrows_in_window + ' wake-ups here: zoom in to see their arrows', LABEL + 8, 10);
    }
  }

  /* ---- interaction ---- */
  function setView(a, b) {
    v0 = a;
    v1 = b;
    clamp();
    draw();
    fetchWindow();
  }
  function mark() { pending = performance.now(); }
  function zoom(f, at) {
    var c = at === undefined ? (v0 + v1) / 2 : at;
    mark();
    setView(c - (c - v0) * f, c + (v1 - c) * f);
  }
  function pan(f) {
    var d = (v1 - v0) * f;
    mark();
    setView(v0 + d, v1 + d);
  }
  TV.zoomTo = function (a, b) {
    var m = Math.max((b - a) * 0.1, 500);
    mark();
    setView(a - m, b + m);
  };

  function hitAt(px, py) {
    var best = null;
    for (var i = hits.length - 1; i >= 0; i--) {
      var h = hits[i];
      if (px >= h.a - 1 && px <= h.b + 1 && py >= h.y && py <= h.y + h.h) {
        if (h.top) return h;
        if (!best) best = h;
      }
    }
    return best;
  }
  function pos(e) {
    var r = cv.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  var drag = null;
  cv.addEventListener('pointerdown', function (e) {
    if (e.button !== 0) return;
    drag = {x: e.clientX, y: e.clientY, v0: v0, v1: v1, top: wrap.scrollTop, moved: false};
    cv.setPointerCapture(e.pointerId);
  });
  cv.addEventListener('pointermove', function (e) {
    var p = pos(e);
    if (drag) {
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        cv.classList.add('dragging');
        var d = -dx / W * (drag.v1 - drag.v0);
        wrap.scrollTop = drag.top - dy;
        v0 = drag.v0 + d;
        v1 = drag.v1 + d;
        clamp();
        draw();
        fetchWindow();
      }
      return;
    }
    var h = hitAt(p[0], p[1]);
    var tip = TV.$('tooltip');
    if (h) {
      tip.textContent = h.name + (h.t1 > h.t0 ? '  ' + TV.dur(h.t1 - h.t0) : '') + '  at ' + TV.dur(h.t0);
      tip.hidden = false;
      tip.style.left = Math.min(e.clientX + 14, innerWidth - tip.offsetWidth - 4) + 'px';
      tip.style.top = (e.clientY + 16) + 'px';
    } else {
      var l = lanes.filter(function (q) { return q.kind === 'counter' && p[1] >= q.y && p[1] < q.y + q.h; })[0];
      if (l && l.pts && p[0] > LABEL) {
        var t = tAt(p[0]), k = 0;
        while (k + 1 < l.pts.length && l.pts[k + 1][0] <= t) k++;
        tip.textContent = l.label + ': ' + counterValue(l.label, l.vals[k], /_ns$|alloc_bytes$/.test(l.label)) + ' at ' + TV.dur(l.pts[k][0]);
        tip.hidden = false;
        tip.style.left = Math.min(e.clientX + 14, innerWidth - tip.offsetWidth - 4) + 'px';
        tip.style.top = (e.clientY + 16) + 'px';
      } else tip.hidden = true;
    }
    TV.$('details').textContent = p[0] > LABEL ? 'at ' + TV.dur(tAt(p[0])) : '\u00a0';
  });
  cv.addEventListener('pointerleave', function () { TV.$('tooltip').hidden = true; });
  cv.addEventListener('pointerup', function (e) {
    var d = drag;
    drag = null;
    cv.classList.remove('dragging');
    if (!d || d.moved) return;
    var p = pos(e), h = hitAt(p[0], p[1]);
    if (!h) return;
    if (h.n > 1) { TV.zoomTo(h.t0, h.t1); return; }
    select(h);
  });
  cv.addEventListener('wheel', function (e) {
    if (e.shiftKey) return; /* vertical scroll */
    e.preventDefault();
    var p = pos(e);
    var f = Math.pow(1.0015, e.deltaY * (e.deltaMode === 1 ? 30 : 1));
    zoom(f, p[0] > LABEL ? tAt(p[0]) : undefined);
  }, {passive: false});
  var hoverT;
  cv.addEventListener('mousemove', function (e) { var p = pos(e); hoverT = p[0] > LABEL ? tAt(p[0]) : undefined; });
  cv.addEventListener('mouseleave', function () { hoverT = undefined; });
  document.addEventListener('keydown', function (e) {
    var tag = (e.target.tagName || '').toLowerCase();
    if (tag === 'input' || tag === 'select' || tag === 'textarea' || e.ctrlKey || e.metaKey || e.altKey) return;
    var k = e.key.toLowerCase();
    if (k === 'w') zoom(0.8, hoverT);
    else if (k === 's') zoom(1.25, hoverT);
    else if (k === 'a') pan(-0.15);
    else if (k === 'd') pan(0.15);
    else if (k === '0' || k === 'home') { mark(); setView(0, total); }
    else if (k === 'escape') { sel = null; TV.side(null, false); draw(); }
    else if ((k === 'n' || k === 'p') && matches.length) {
      /* the next (previous) search match: zoom to it and show its details */
      mi = (mi + (k === 'n' ? 1 : matches.length - 1)) % matches.length;
      TV.zoomTo(matches[mi].t0, matches[mi].t1);
      select(matches[mi]);
    }
    else return;
    e.preventDefault();
  });
  TV.$('zoom-in').onclick = function () { zoom(0.5); };
  TV.$('zoom-out').onclick = function () { zoom(2); };
  TV.$('zoom-all').onclick = function () { mark(); setView(0, total); };
  TV.$('side-close').onclick = function () { sel = null; TV.side(null, false); draw(); };

  /* ---- details ---- */
  function select(h) {
    sel = {k: h.k, tid: h.tid, d: h.d || 0, i: h.i, t0: h.t0, t1: h.t1};
    draw();
    var q = {k: h.k, i: h.i};
    if (h.k !== 'task') q.tid = h.tid;
    if (h.k === 'region' || h.k === 'task') q.d = h.d;
    TV.get('item', q).then(showItem).catch(function (e) { TV.$('detail').textContent = e.message; TV.side('Details', true); });
  }
  TV.select = function (m) { select(m); };
  function showItem(it) {
    var det = TV.$('detail');
    det.textContent = '';
    var title = {state: it.reason === 'syscall' ? 'In a system call' : 'Blocked', region: 'Region', task: 'Task',
      sample: 'CPU sample', log: 'Log message'}[it.kind];
    var thr = function (tid, name) { return tid ? (name || 'thread') + ' (' + tid + ')' : null; };
    var rows = [['name', it.name], ['reason', it.reason], ['start', TV.dur(it.t0)]];
    if (it.t1 !== undefined) rows.push(['end', TV.dur(it.t1)], ['duration', TV.dur(it.t1 - it.t0)]);
    rows.push(['thread', thr(it.tid, it.tid_name)]);
    if (it.kind === 'task') rows.push(['id', it.id], ['parent task', it.parent || null], ['ended on', thr(it.end_tid, it.end_tid_name)],
      ['ended', it.ended ? 'yes' : 'not before the trace ended']);
    if (it.kind === 'region') rows.push(['depth', it.depth], ['task', it.task ? it.task_name + ' (' + it.task + ')' : null]);
    if (it.kind === 'log') rows.push(['message', it.message], ['task', it.task || null]);
    if (it.kind === 'sample') rows.push(['weight', it.weight + ' sampling period' + (it.weight === 1 ? '' : 's')]);
    if (it.kind === 'state') {
      rows.push(['released by', it.peer ? thr(it.peer, it.peer_name) : 'unknown']);
      if (it.wake >= 0) rows.push(['released at', TV.dur(it.wake)], ['wake-up latency', TV.dur(it.t1 - it.wake)]);
    }
    det.appendChild(TV.el('h3', {style: 'margin:4px 0;font-size:13px'}, title));
    det.appendChild(TV.kv(rows));
    if (it.stack && it.stack.length) {
      det.appendChild(TV.el('div', {'class': 'note', style: 'padding:0'}, 'stack (innermost first)'));
      det.appendChild(TV.stack(it.stack));
    } else if (it.kind === 'state' || it.kind === 'sample') {
      det.appendChild(TV.el('div', {'class': 'note', style: 'padding:0'}, 'no stack recorded'));
    }
    TV.side('Details', true);
  }

  /* ---- search ---- */
  function search(q) {
    var res = TV.$('results');
    if (!q) {
      matches = [];
      res.textContent = '';
      TV.$('matched').textContent = '';
      draw();
      return;
    }
    TV.get('search', {q: q, max: 1000}).then(function (r) {
      mi = -1;
      matches = r.matches.map(function (m) { return {k: m[0], tid: m[1], d: m[2], i: m[3], t0: m[4], t1: m[5], name: m[6]}; });
      TV.$('matched').textContent = r.total + ' match' + (r.total === 1 ? '' : 'es') + (r.total > matches.length ? ' (' + matches.length + ' listed)' : '');
      res.textContent = '';
      res.appendChild(TV.el('div', {'class': 'note', style: 'padding:0'}, 'Matches for /' + q + '/'));
      var ul = TV.el('ul', {'class': 'matches'});
      matches.slice(0, 300).forEach(function (m) {
        var li = TV.el('li', {tabindex: '0'});
        li.appendChild(TV.el('span', {'class': 'k'}, m.k === 'state' ? 'blocked' : m.k));
        li.appendChild(document.createTextNode(' ' + m.name + ' \u00b7 ' + TV.dur(m.t0) + (m.t1 > m.t0 ? ' (' + TV.dur(m.t1 - m.t0) + ')' : '')));
        li.onclick = li.onkeydown = function (e) {
          if (e.type === 'keydown' && e.key !== 'Enter') return;
          TV.zoomTo(m.t0, m.t1);
          select(m);
        };
        ul.appendChild(li);
      });
      res.appendChild(ul);
      TV.side(null, true);
      draw();
    }).catch(function (e) { TV.$('matched').textContent = e.message; });
  }
  var sbox = TV.$('search');
  sbox.addEventListener('change', function () { search(sbox.value.trim()); });
  sbox.addEventListener('keydown', function (e) { if (e.key === 'Enter') search(sbox.value.trim()); });
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== sbox) { e.preventDefault(); sbox.focus(); }
  });

  var lastW = 0;
  function resized() {
    if (wrap.clientWidth === lastW) return;
    lastW = wrap.clientWidth;
    size();
    draw();
    fetchWindow();
  }
  if (window.ResizeObserver) new ResizeObserver(resized).observe(wrap);
  window.addEventListener('resize', resized);
  lastW = wrap.clientWidth;
  size();
  clamp();
  draw();
  fetchWindow();
  var q0 = new URLSearchParams(location.search).get('q');
  if (q0) { sbox.value = q0; search(q0); }

  /* For tests and benchmarks: where an item of a kind is drawn, in page coordinates. */
  window.cpTrace = {
    find: function (kind, single, prefix) {
      var r = cv.getBoundingClientRect();
      for (var i = 0; i < hits.length; i++) {
        var h = hits[i];
        if (h.k === kind && (!single || h.n === 1) && h.b - h.a >= 3 && (!prefix || h.name.indexOf(prefix) === 0)) return {x: r.left + (h.a + h.b) / 2, y: r.top + h.y + h.h / 2, name: h.name, n: h.n};
      }
      return null;
    },
    lanes: function () { return lanes.filter(function (l) { return l.kind === 'state'; }).length; },
    view: function () { return {t0: v0, t1: v1}; },
    pending: function () { return pending !== null || !!inflight; }
  };
};
