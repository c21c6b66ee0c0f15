/*
 * common.js - what every view of the cprof web UI shares: the URL (pprof's
 * parameters f, i, h, s, si, ...), value formatting, fetching data from
 * /ui/data/, the menus (views, sample type, refine, saved configurations,
 * download), the search box, tooltips, the context menu and keyboard
 * shortcuts. Views register themselves in CP.views (flame.js, views.js).
 */
'use strict';
var CP = (function () {
  var CP = {views: {}};
  var FILTERS = ['f', 'i', 'h', 's', 'sf', 'prunefrom', 'tf', 'ti', 'ts', 'th'];

  CP.view = (location.pathname.replace(/\/+$/, '').split('/').pop()) || 'flamegraph';
  CP.params = function () { return new URLSearchParams(location.search); };
  CP.url = function (view, params) {
    var q = params.toString();
    return '/ui/' + view + (q ? '?' + q : '');
  };
  /* Load the page with some parameters changed (null deletes one). */
  CP.navigate = function (changes, view) {
    var p = CP.params();
    Object.keys(changes).forEach(function (k) {
      if (changes[k] === null || changes[k] === '') p.delete(k); else p.set(k, changes[k]);
    });
    location.href = CP.url(view || CP.view, p);
  };
  CP.$ = function (id) { return document.getElementById(id); };
  CP.el = function (tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  };
  /* A Go-like regexp quoting of a literal name, anchored. */
  CP.quote = function (s) { return '^' + s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&') + '$'; };

  /* ---- values ---- */
  var SCALES = {
    nanoseconds: [[1, 'ns'], [1e3, 'us'], [1e6, 'ms'], [1e9, 's'], [3600e9, 'hrs']],
    microseconds: [[1, 'us'], [1e3, 'ms'], [1e6, 's']],
    milliseconds: [[1, 'ms'], [1e3, 's']],
    seconds: [[1, 's']],
    bytes: [[1, 'B'], [1024, 'kB'], [1048576, 'MB'], [1073741824, 'GB'], [1099511627776, 'TB']]
  };
  CP.format = function (v, unit) {
    var sc = SCALES[unit], neg = v < 0, a = Math.abs(v), s;
    if (!sc) {
      s = a >= 1e9 ? (a / 1e9).toFixed(2) + 'G' : a >= 1e6 ? (a / 1e6).toFixed(2) + 'M'
        : a >= 1e4 ? (a / 1e3).toFixed(1) + 'k' : String(Math.round(a));
      s = s.replace(/\.0+([a-zA-Z])$/, '$1') + (unit && unit !== 'count' ? ' ' + unit : '');
    } else {
      var k = 0;
      while (k + 1 < sc.length && a >= sc[k + 1][0]) k++;
      s = (a / sc[k][0]).toFixed(2).replace(/\.?0+$/, '') + sc[k][1];
    }
    return (neg ? '-' : '') + s;
  };
  CP.pct = function (v, total) {
    if (!total) return '0%';
    var p = 100 * v / total;
    return (Math.abs(p) >= 10 ? p.toFixed(1) : p.toFixed(2)) + '%';
  };
  /* FNV-1a: stable colours per library and file, the same on every load. */
  CP.hash = function (s) {
    var h = 2166136261;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  };
  CP.dark = function () {
    return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
  };

  /* ---- data ---- */
  /* /ui/data/WHAT with the page's parameters, and extra ones (null or '' leave one out). */
  CP.fetch = function (what, kind, extra) {
    var p = CP.params();
    if (extra) Object.keys(extra).forEach(function (k) {
      if (extra[k] !== null && extra[k] !== undefined && extra[k] !== '') p.set(k, extra[k]);
    });
    var q = p.toString();
    return fetch('/ui/data/' + what + (q ? '?' + q : '')).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t.trim() || r.statusText); });
      if (r.headers.get('X-Cprof-Note')) {
        return r.text().then(function (t) { var e = new Error(t.trim()); e.note = true; throw e; });
      }
      return kind === 'json' ? r.json() : kind === 'bin' ? r.arrayBuffer() : r.text();
    });
  };
  CP.error = function (e) {
    var m = CP.$('main');
    m.textContent = '';
    m.appendChild(CP.el('div', {'class': e.note ? 'note' : 'error', role: e.note ? 'status' : 'alert'},
      String(e.message || e)));
  };
  CP.details = function (text) { CP.$('details').textContent = text || '\u00a0'; };

  /* ---- tooltip and context menu ---- */
  CP.tooltip = function (text, x, y) {
    var t = CP.$('tooltip');
    if (!text) { t.hidden = true; return; }
    t.textContent = text;
    t.hidden = false;
    var w = t.offsetWidth, h = t.offsetHeight;
    t.style.left = Math.max(0, Math.min(x + 14, innerWidth - w - 4)) + 'px';
    t.style.top = (y + 16 + h > innerHeight ? y - h - 8 : y + 16) + 'px';
  };
  var menuTarget = null;
  CP.menu = function (target, x, y) {
    var m = CP.$('ctxmenu');
    menuTarget = target;
    if (!target) { m.hidden = true; return; }
    [].forEach.call(m.children, function (li) {
      li.hidden = !!(target.only && target.only.indexOf(li.dataset.act) < 0);
    });
    m.hidden = false;
    m.style.left = Math.min(x, innerWidth - m.offsetWidth - 4) + 'px';
    m.style.top = Math.min(y, innerHeight - m.offsetHeight - 4) + 'px';
    var first = m.querySelector('li:not([hidden])');
    if (first) first.focus();
  };
  function menuAct(act) {
    var t = menuTarget;
    CP.menu(null);
    if (!t) return;
    if (act === 'source') CP.navigate({f: CP.quote(t.func || t.name)}, 'source');
    else if (act === 'zoom' || act === 'pivot') t.act(act);
    else CP.navigate(obj(act, CP.quote(t.name)));
  }
  function obj(k, v) { var o = {}; o[k] = v; return o; }

  /* ---- menus ---- */
  function setupMenus(meta) {
    var q = location.search;
    [].forEach.call(document.querySelectorAll('#views a'), function (a) {
      a.href = '/ui/' + a.dataset.view + q;
      if (a.dataset.view === CP.view) { a.classList.add('active'); a.setAttribute('aria-current', 'page'); }
    });
    CP.$('download').href = '/ui/download' + q;
    var sel = CP.$('sample');
    meta.types.forEach(function (t, i) {
      var o = CP.el('option', {value: t.type}, t.type + (t.unit && t.unit !== 'count' ? ' (' + t.unit + ')' : ''));
      if (i === meta.index) o.selected = true;
      sel.appendChild(o);
    });
    sel.addEventListener('change', function () { CP.navigate({si: sel.value}); });
    [].forEach.call(document.querySelectorAll('#refine button'), function (b) {
      b.addEventListener('click', function () {
        var k = b.dataset.refine;
        if (k === 'reset') {
          var c = {};
          FILTERS.forEach(function (f) { c[f] = null; });
          c.p = null;
          return CP.navigate(c);
        }
        var re = CP.selection() || CP.$('search').value.trim();
        if (!re) {
          CP.details('Type a regexp in the search box (or select frames) first, then ' + b.textContent + '.');
          CP.$('search').focus();
          return;
        }
        CP.navigate(obj(k, re));
      });
    });
    var p = CP.params(), names = {f: 'focus', i: 'ignore', h: 'hide', s: 'show', sf: 'show_from',
      prunefrom: 'prune_from', tf: 'tagfocus', ti: 'tagignore', ts: 'tagshow', th: 'taghide', p: 'pivot'};
    var active = Object.keys(names).filter(function (k) { return p.get(k); })
      .map(function (k) { return names[k] + '=' + p.get(k); });
    var fl = CP.$('filters');
    fl.textContent = (meta.file ? meta.file + '  ' : '') + (meta.diff ? '[difference from base]  ' : '') +
      (active.length ? 'Active filters: ' + active.join('  ') : '');
    setupConfigs();
  }

  /* Saved configurations live in the browser (localStorage), per server origin. */
  var KEY = 'cprof.configs';
  function configs() {
    try { return JSON.parse(localStorage.getItem(KEY) || '{}'); } catch (e) { return {}; }
  }
  function setupConfigs() {
    var sel = CP.$('config'), all = configs();
    Object.keys(all).sort().forEach(function (n) {
      var o = CP.el('option', {value: n}, n);
      if (all[n].view === CP.view && all[n].query === location.search) o.textContent = n + ' \u2713';
      sel.appendChild(o);
    });
    sel.addEventListener('change', function () {
      var c = configs()[sel.value];
      if (c) location.href = '/ui/' + c.view + c.query;
    });
    CP.$('config-save').addEventListener('click', function () {
      var name = window.prompt('Save this view and its filters as:', '');
      if (!name) return;
      CP.saveConfig(name);
      location.reload();
    });
    CP.$('config-delete').addEventListener('click', function () {
      var n = sel.value;
      if (!n) { CP.details('Choose a configuration to delete first.'); return; }
      var all2 = configs();
      delete all2[n];
      localStorage.setItem(KEY, JSON.stringify(all2));
      location.reload();
    });
  }
  CP.saveConfig = function (name) {
    var all = configs();
    all[name] = {view: CP.view, query: location.search};
    localStorage.setItem(KEY, JSON.stringify(all));
  };

  /* What the refine menu applies when something is selected (graph nodes, table rows). */
  CP.selection = function () {
    var v = CP.views[CP.view];
    return v && v.selection ? v.selection() : '';
  };

  function setupSearch() {
    var s = CP.$('search'), timer = 0;
    var p = CP.params();
    if (p.get('q')) s.value = p.get('q');
    function run() {
      var v = CP.views[CP.view], re = null, txt = s.value.trim();
      if (txt) {
        /* a view that searches on the server takes its syntax (Go's (?i), \Q...\E) */
        try { re = new RegExp(txt); s.setCustomValidity(''); } catch (e) {
          if (!(v && v.serverSearch)) { s.setCustomValidity('bad regexp'); return; }
        }
      }
      if (v && v.search) v.search(re, txt);
    }
    s.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(run, 120); });
    s.addEventListener('keydown', function (e) {
      if (e.key === 'Enter') {
        clearTimeout(timer);
        run();
        var v = CP.views[CP.view];
        if (v && v.enter && s.value.trim()) v.enter(s.value.trim());
      } else if (e.key === 'Escape') {
        s.value = '';
        run();
        s.blur();
      }
    });
    CP.runSearch = run;
  }

  document.addEventListener('keydown', function (e) {
    var tag = (e.target.tagName || '').toLowerCase();
    if (e.key === '/' && tag !== 'input' && tag !== 'select') {
      e.preventDefault();
      CP.$('search').focus();
    } else if (e.key === 'Escape') {
      CP.menu(null);
      CP.tooltip(null);
    }
  });
  document.addEventListener('click', function (e) {
    if (!CP.$('ctxmenu').contains(e.target)) CP.menu(null);
  });
  CP.$('ctxmenu').addEventListener('click', function (e) {
    if (e.target.dataset.act) menuAct(e.target.dataset.act);
  });
  CP.$('ctxmenu').addEventListener('keydown', function (e) {
    var items = [].filter.call(CP.$('ctxmenu').children, function (li) { return !li.hidden; });
    var i = items.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); items[(i + 1) % items.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); items[(i + items.length - 1) % items.length].focus(); }
    else if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); menuAct(document.activeElement.dataset.act); }
  });

  CP.start = function () {
    CP.fetch('meta', 'json').then(function (meta) {
      CP.meta = meta;
      setupMenus(meta);
      setupSearch();
      var v = CP.views[CP.view];
      if (!v) throw new Error('no view named ' + CP.view);
      document.title = 'cprof: ' + (meta.file || 'profile') + ' ' + CP.view;
      var t0 = performance.now();
      return Promise.resolve(v.show(CP.$('main'), meta)).then(function () {
        CP.loadTime = performance.now() - t0;
        document.body.dataset.ready = '1';
        if (CP.$('search').value) CP.runSearch();
      });
    }).catch(function (e) {
      CP.error(e);
      document.body.dataset.ready = e.note ? '1' : 'error';
    });
  };
  return CP;
})();
window.addEventListener('DOMContentLoaded', function () { CP.start(); });
