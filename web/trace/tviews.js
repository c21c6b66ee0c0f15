/*
 * tviews.js - the trace viewer's derived views, as go tool trace has them,
 * from /trace/data/view: blocking profiles by reason (sync, syscall) with
 * their pprof downloads, wake-up latency (a histogram, and the latency per
 * stack), and task and region duration histograms by name. Also the page's
 * start: the summary line, the view menu, and which view the path names.
 */
'use strict';
(function () {
  var TITLES = {sync: 'Sync blocking profile', syscall: 'Syscall blocking profile', wakeup: 'Wake-up latency',
    tasks: 'Task durations', regions: 'Region durations'};

  function section(title, sub) {
    var d = TV.el('div', {'class': 'view'});
    d.appendChild(TV.el('h2', null, title));
    if (sub) d.appendChild(TV.el('div', {'class': 'sub'}, sub));
    return d;
  }

  /* A histogram of a trace_hist's non-empty buckets, as bars. */
  function hist(h) {
    var box = TV.el('div');
    if (!h.count) { box.appendChild(TV.el('div', {'class': 'note'}, 'nothing recorded')); return box; }
    box.appendChild(TV.kv([['count', h.count], ['total', TV.dur(h.sum)], ['min', TV.dur(h.min)], ['median', TV.dur(h.p50)],
      ['90th percentile', TV.dur(h.p90)], ['99th percentile', TV.dur(h.p99)], ['max', TV.dur(h.max)]]));
    /* every bucket from the first to the last that holds something, empty ones too (bounds 1-2-5 apart) */
    var all = [], have = {}, mx = 0;
    h.buckets.forEach(function (b) { have[b[0]] = b[1]; if (b[1] > mx) mx = b[1]; });
    var lo = h.buckets[0][0], hi = h.buckets[h.buckets.length - 1][0];
    for (var x = lo; x <= hi; x = x === 0 ? 1 : String(x)[0] === '2' ? x * 2.5 : x * 2) {
      all.push([x, have[x] || 0]);
      if (all.length > 64) break;
    }
    var bars = TV.el('div', {'class': 'hist', role: 'img', 'aria-label': 'duration histogram'});
    var labels = TV.el('div', {'class': 'hist-labels'});
    all.forEach(function (b) {
      var bar = TV.el('div', {'class': 'b', title: '\u2265 ' + TV.dur(b[0]) + ': ' + b[1]});
      bar.style.height = (b[1] ? Math.max(2, 100 * b[1] / mx) : 0) + '%';
      bars.appendChild(bar);
      labels.appendChild(TV.el('span', {title: TV.dur(b[0])}, TV.dur(b[0])));
    });
    box.appendChild(bars);
    box.appendChild(labels);
    return box;
  }

  /* A blocking profile; region (or null): only the waits inside regions of that name; names: the trace's region names. */
  function profile(v, kind, host, region, names) {
    var s = section(TITLES[kind] || 'Wake-up latency by stack',
      (kind === 'sched' ? 'Time from the release (unlock, signal, post) to the resume, per stack where the thread waited'
        : v.count + ' episodes, ' + TV.dur(v.ns) + ' blocked in all, ' + v.stacks + ' stacks') +
      (region ? ', only inside regions named ' + region : ''));
    if (names && names.length) {
      var lab = TV.el('label', {'class': 'menu'}, 'Only waits inside region ');
      var sel = TV.el('select', {id: 'region', 'aria-label': 'Only waits inside region'});
      sel.appendChild(TV.el('option', {value: ''}, '(anywhere)'));
      names.forEach(function (n) {
        var o = TV.el('option', {value: n}, n);
        if (n === region) o.selected = true;
        sel.appendChild(o);
      });
      sel.onchange = function () {
        location.href = '/trace/' + TV.view + (sel.value ? '?region=' + encodeURIComponent(sel.value) : '');
      };
      lab.appendChild(sel);
      s.appendChild(lab);
      s.appendChild(document.createTextNode(' '));
    }
    var q = 'kind=' + kind + (region ? '&region=' + encodeURIComponent(region) : '');
    var dl = TV.el('a', {href: '/trace/pprof?' + q, download: kind + '.pb.gz', 'class': 'dl'}, 'Download as a pprof profile');
    s.appendChild(dl);
    s.appendChild(TV.el('span', {'class': 'note'}, '(the same as cprof trace -pprof=' + kind +
      (region ? ' -region=' + region : '') + ' FILE)'));
    if (!v.rows.length) {
      s.appendChild(TV.el('div', {'class': 'note'}, kind === 'syscall' ? 'No system call waits in this trace (recorded when the program is run with syscall tracing on).'
        : 'No blocking episodes of this kind in this trace' + (region ? ' inside regions named ' + region : '') + '.'));
      host.appendChild(s);
      return;
    }
    var t = TV.el('table', {'class': 'report'});
    var hd = TV.el('tr');
    ['time', '%', 'count', 'reason', 'where (innermost frame)'].forEach(function (h, k) {
      hd.appendChild(TV.el('th', k === 4 ? {'class': 'name'} : null, h));
    });
    var thead = TV.el('thead');
    thead.appendChild(hd);
    t.appendChild(thead);
    var tb = TV.el('tbody');
    v.rows.forEach(function (r) {
      var tr = TV.el('tr');
      tr.appendChild(TV.el('td', null, TV.dur(r.ns)));
      var pct = TV.el('td');
      var bar = TV.el('span', {'class': 'bar'});
      bar.style.width = Math.round(60 * r.ns / Math.max(1, v.ns)) + 'px';
      pct.appendChild(bar);
      pct.appendChild(document.createTextNode(' ' + (100 * r.ns / Math.max(1, v.ns)).toFixed(1) + '%'));
      tr.appendChild(pct);
      tr.appendChild(TV.el('td', null, r.count));
      var rc = TV.el('td');
      var sw = TV.el('span', {'class': 'swatch-reason'});
      sw.style.background = TV.reasonColour(['', 'mutex', 'rwlock-read', 'rwlock-write', 'cond', 'sem', 'join', 'barrier', 'syscall'].indexOf(r.reason));
      rc.appendChild(sw);
      rc.appendChild(document.createTextNode(r.reason));
      tr.appendChild(rc);
      var where = TV.el('td', {'class': 'name'});
      if (r.stack.length) {
        var det = TV.el('details', {'class': 'stk'});
        var f = r.stack[0];
        det.appendChild(TV.el('summary', null, f.func + (f.file ? ' ' + f.file + ':' + f.line : '')));
        det.appendChild(TV.stack(r.stack));
        where.appendChild(det);
      } else where.textContent = '(no stack recorded)';
      tr.appendChild(where);
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    s.appendChild(t);
    if (v.stacks > v.rows.length) s.appendChild(TV.el('div', {'class': 'note'}, 'the ' + v.rows.length + ' largest of ' + v.stacks + ' stacks'));
    host.appendChild(s);
  }

  function names(v, host) {
    var kind = v.view, s = section(TITLES[kind], 'Completed instances by name; click a name to find them on the timeline');
    if (!v.names.length) s.appendChild(TV.el('div', {'class': 'note'}, 'No ' + kind + ' in this trace (annotate with cprof_' + (kind === 'tasks' ? 'task' : 'region') + '_begin/end).'));
    v.names.forEach(function (n) {
      var h = TV.el('h2');
      var a = TV.el('a', {href: '/trace/timeline?q=' + encodeURIComponent('^' + n.name.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&') + '$')}, n.name);
      h.appendChild(a);
      if (n.unfinished) h.appendChild(TV.el('span', {'class': 'note'}, n.unfinished + ' unfinished'));
      s.appendChild(h);
      s.appendChild(hist(n.hist));
    });
    host.appendChild(s);
  }

  function render(view, main) {
    main.textContent = '';
    var host = TV.el('div');
    main.appendChild(host);
    if (view === 'wakeup') {
      return Promise.all([TV.get('view', {name: 'wakeup'}), TV.get('view', {name: 'sched'})]).then(function (r) {
        var s = section(TITLES.wakeup, 'From the release of what a thread waited for to its resume, over every blocking episode whose releasing thread is known');
        s.appendChild(hist(r[0].hist));
        host.appendChild(s);
        profile(r[1], 'sched', host);
      });
    }
    if (view === 'tasks' || view === 'regions')
      return TV.get('view', {name: view}).then(function (v) { names(v, host); });
    var region = new URLSearchParams(location.search).get('region');
    var q = {name: view};
    if (region) q.region = region;
    return Promise.all([TV.get('view', q), TV.get('view', {name: 'regions'})]).then(function (r) {
      profile(r[0], view, host, region, r[1].names.map(function (n) { return n.name; }));
    });
  }

  var main = TV.$('main');
  [].forEach.call(document.querySelectorAll('#views a'), function (a) {
    if (a.dataset.view === TV.view) { a.classList.add('active'); a.setAttribute('aria-current', 'page'); }
  });
  TV.get('meta').then(function (meta) {
    var d = new Date(meta.wall_ns / 1e6);
    TV.$('summary').textContent = 'pid ' + meta.pid + ' \u00b7 ' + d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC \u00b7 ' +
      TV.dur(meta.duration) + ' \u00b7 ' + meta.events + ' events \u00b7 ' + meta.threads.length + ' threads' +
      (meta.flight ? ' \u00b7 a flight recorder snapshot: the last moments before it was written' : '') +
      (meta.dropped ? ' \u00b7 ' + meta.dropped + ' events dropped by the recorder' : '') +
      (meta.dropped_samples ? ' \u00b7 ' + meta.dropped_samples + ' CPU samples not recorded' : '') +
      (meta.truncated ? ' \u00b7 the file is cut short: shown up to its last whole chunk' : '');
    if (TV.view === 'timeline') {
      TV.timeline(meta);
      return;
    }
    TV.$('zoom-tools').hidden = true;
    var sbox = TV.$('search');
    sbox.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && sbox.value.trim()) location.href = '/trace/timeline?q=' + encodeURIComponent(sbox.value.trim());
    });
    document.title = (TITLES[TV.view] || 'cprof trace') + ' - cprof trace';
    return render(TV.view, main).then(function () { document.body.dataset.ready = '1'; });
  }).catch(TV.error);
})();
