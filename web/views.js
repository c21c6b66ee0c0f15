/*
 * views.js - the web UI's views other than the flame graph: Top (a table
 * sortable by flat and cum), Callers (the bottom-up tree: where each
 * function's own cost is called from), Graph (Graphviz's SVG with pan,
 * zoom and selectable nodes), Source (annotated source with inlined calls
 * and assembly on demand), Peek and Disassembly (the text reports).
 * Selected rows or nodes are what the refine menu applies.
 */
'use strict';
(function () {
  var V = CP.views;

  /* ---- Top ---- */
  V.top = (function () {
    var data, sortKey, tbody, selected = {};
    function render() {
      var rows = data.rows.slice();
      rows.sort(function (a, b) { return b[sortKey] - a[sortKey] || (a.name < b.name ? -1 : 1); });
      tbody.textContent = '';
      var sum = 0, total = data.total;
      rows.forEach(function (r) {
        sum += r.flat;
        var tr = CP.el('tr', {tabindex: '0'});
        tr.dataset.func = r.func || r.name;
        if (selected[tr.dataset.func]) tr.classList.add('selected');
        [r.flatText, CP.pct(r.flat, total), CP.pct(sum, total), r.cumText, CP.pct(r.cum, total)]
          .forEach(function (s) { tr.appendChild(CP.el('td', null, s)); });
        tr.appendChild(CP.el('td', {'class': 'name'}, r.name + (r.inline ? ' (' + r.inline + ')' : '')));
        tbody.appendChild(tr);
      });
      [].forEach.call(document.querySelectorAll('table.report th'), function (th) {
        if (th.dataset.key === sortKey) th.setAttribute('aria-sort', 'descending');
        else th.removeAttribute('aria-sort');
      });
    }
    function toggle(tr) {
      var f = tr.dataset.func;
      if (selected[f]) delete selected[f]; else selected[f] = 1;
      tr.classList.toggle('selected');
      var n = Object.keys(selected).length;
      CP.details(n ? n + ' selected: the refine menu applies to them' : '');
    }
    return {
      show: function (main) {
        return CP.fetch('top', 'json').then(function (d) {
          data = d;
          sortKey = CP.params().get('sort') === 'cum' ? 'cum' : 'flat';
          main.textContent = '';
          main.appendChild(CP.el('pre', {'class': 'note'}, d.labels.trim()));
          var table = CP.el('table', {'class': 'report', id: 'top-table'});
          var head = CP.el('tr');
          [['Flat', 'flat'], ['Flat%'], ['Sum%'], ['Cum', 'cum'], ['Cum%'], ['Name']].forEach(function (h) {
            var th = CP.el('th', h[0] === 'Name' ? {'class': 'name'} : null, h[0]);
            if (h[1]) {
              th.dataset.key = h[1];
              th.tabIndex = 0;
              th.title = 'Sort by ' + h[1];
              var sort = function () {
                sortKey = h[1];
                var p = CP.params();
                if (sortKey === 'cum') p.set('sort', 'cum'); else p.delete('sort');
                history.replaceState(null, '', CP.url('top', p));
                render();
              };
              th.addEventListener('click', sort);
              th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
            }
            head.appendChild(th);
          });
          table.appendChild(CP.el('thead')).appendChild(head);
          tbody = table.appendChild(CP.el('tbody'));
          tbody.addEventListener('click', function (e) {
            var tr = e.target.closest('tr');
            if (tr) toggle(tr);
          });
          tbody.addEventListener('dblclick', function (e) {
            var tr = e.target.closest('tr');
            if (tr) CP.navigate({f: CP.quote(tr.dataset.func)}, 'source');
          });
          tbody.addEventListener('keydown', function (e) {
            var tr = e.target.closest('tr');
            if (!tr) return;
            if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); toggle(tr); }
            else if (e.key === 'ArrowDown' && tr.nextSibling) { e.preventDefault(); tr.nextSibling.focus(); }
            else if (e.key === 'ArrowUp' && tr.previousSibling) { e.preventDefault(); tr.previousSibling.focus(); }
          });
          tbody.addEventListener('contextmenu', function (e) {
            var tr = e.target.closest('tr');
            if (!tr) return;
            e.preventDefault();
            CP.menu({name: tr.dataset.func, func: tr.dataset.func, only: ['f', 'i', 'h', 'sf', 'source']},
              e.clientX, e.clientY);
          });
          main.appendChild(table);
          render();
        });
      },
      search: function (re) {
        if (!tbody) return;
        var n = 0;
        [].forEach.call(tbody.children, function (tr) {
          var hit = re && re.test(tr.lastChild.textContent);
          tr.style.fontWeight = hit ? '700' : '';
          if (hit) n++;
        });
        CP.$('matched').textContent = re ? n + ' rows match' : '';
      },
      selection: function () {
        var s = Object.keys(selected);
        return s.length ? s.map(CP.quote).join('|') : '';
      }
    };
  })();

  /* ---- Callers: the bottom-up tree ---- */
  /*
   * The server computes it on the whole tree, one level at a time: a row is
   * a path of name indices from a function with self cost outwards
   * (data-path "k.k2..."), and expanding it fetches the callers of that path.
   */
  V.bottomup = (function () {
    var total, unit, diff, box, re = null, names = CP.flame.names;
    function level(path) {
      return CP.fetch('callers', 'json', {path: path}).then(function (d) {
        CP.flame.addNames(d);
        total = d.all;
        unit = d.unit;
        diff = d.diff;
        return d;
      });
    }
    function row(r, path, depth) {
      var k = r[0], div = CP.el('div', {'class': 'row', tabindex: '0', role: 'treeitem', 'aria-expanded': 'false'});
      div.dataset.path = path === '' ? String(k) : path + '.' + k;
      div.dataset.k = k;
      div.style.paddingLeft = (depth * 16) + 'px';
      div.dataset.leaf = r[3] ? '' : '1';
      div.appendChild(CP.el('span', {'class': 'tw'}, r[3] ? '\u25b8' : ''));
      div.appendChild(CP.el('span', {'class': 'val'}, CP.format(r[1], unit)));
      div.appendChild(CP.el('span', {'class': 'pct'}, CP.pct(r[1], total)));
      if (diff) div.appendChild(CP.el('span', {'class': 'pct', title: 'base'}, CP.format(r[2], unit)));
      var name = CP.el('span', {'class': 'name'}, names.names[k]);
      if (re && re.test(names.names[k])) name.style.fontWeight = '700';
      div.appendChild(name);
      return div;
    }
    function depthOf(div) { return parseInt(div.style.paddingLeft, 10) / 16; }
    function expand(div, open) {
      var depth = depthOf(div);
      var isOpen = div.getAttribute('aria-expanded') === 'true';
      if (open === isOpen || div.dataset.leaf || div.dataset.loading) return;
      if (isOpen) {
        var n = div.nextSibling;
        while (n && depthOf(n) > depth) {
          var nx = n.nextSibling;
          n.remove();
          n = nx;
        }
        div.setAttribute('aria-expanded', 'false');
        div.firstChild.textContent = '\u25b8';
        return;
      }
      div.dataset.loading = '1';
      level(div.dataset.path).then(function (d) {
        var after = div;
        d.rows.slice(0, 200).forEach(function (r) {
          var e = row(r, div.dataset.path, depth + 1);
          after.after(e);
          after = e;
        });
        div.setAttribute('aria-expanded', 'true');
        div.firstChild.textContent = '\u25be';
      }).catch(CP.error).then(function () { delete div.dataset.loading; });
    }
    return {
      show: function (main) {
        return level('').then(function (d) {
          main.textContent = '';
          main.appendChild(CP.el('p', {'class': 'note'}, 'Callers: each function\'s own (self) ' + d.type +
            ', then who called it, and who called them. Click or press Right to expand.'));
          box = CP.el('div', {'class': 'tree', role: 'tree', id: 'callers'});
          box.addEventListener('click', function (e) {
            var r = e.target.closest('.row');
            if (r) expand(r, r.getAttribute('aria-expanded') !== 'true');
          });
          box.addEventListener('keydown', function (e) {
            var r = e.target.closest('.row');
            if (!r) return;
            if (e.key === 'ArrowRight') expand(r, true);
            else if (e.key === 'ArrowLeft') expand(r, false);
            else if (e.key === 'Enter' || e.key === ' ') expand(r, r.getAttribute('aria-expanded') !== 'true');
            else if (e.key === 'ArrowDown' && r.nextSibling) r.nextSibling.focus();
            else if (e.key === 'ArrowUp' && r.previousSibling) r.previousSibling.focus();
            else return;
            e.preventDefault();
          });
          box.addEventListener('contextmenu', function (e) {
            var r = e.target.closest('.row');
            if (!r) return;
            e.preventDefault();
            var k = +r.dataset.k;
            CP.menu({name: names.names[k], func: CP.flame.funcName(k), only: ['f', 'i', 'h', 'sf', 'source']},
              e.clientX, e.clientY);
          });
          main.appendChild(box);
          d.rows.slice(0, 2000).forEach(function (r) { box.appendChild(row(r, '', 0)); });
        });
      },
      search: function (r) {
        re = r;
        if (!box) return;
        var n = 0;
        [].forEach.call(box.children, function (d) {
          var hit = re && re.test(d.lastChild.textContent);
          d.lastChild.style.fontWeight = hit ? '700' : '';
          if (hit) n++;
        });
        CP.$('matched').textContent = re ? n + ' shown rows match' : '';
      }
    };
  })();

  /* ---- Graph ---- */
  V.graph = (function () {
    var svg, vb, selected = {};
    function nodeName(g) {
      var title = g.querySelector('title');
      if (!title || !/^N\d+$/.test(title.textContent)) return ''; /* the legend box */
      var a = g.querySelector('a');
      var t = a ? (a.getAttribute('xlink:title') || a.getAttribute('title') || '') : '';
      return t.replace(/\s*\([^()]*\)\s*$/, '').trim();
    }
    function setVB() { svg.setAttribute('viewBox', vb.join(' ')); }
    return {
      show: function (main) {
        return CP.fetch('graph', 'text').then(function (text) {
          var doc = new DOMParser().parseFromString(text, 'image/svg+xml');
          var root = doc.documentElement;
          if (root.nodeName !== 'svg') throw new Error('the graph is not SVG');
          main.textContent = '';
          main.appendChild(CP.el('p', {'class': 'note'},
            'Drag to pan, wheel to zoom, click nodes to select them for the refine menu, double-click for source.'));
          var box = CP.el('div', {id: 'graph', tabindex: '0'});
          main.appendChild(box);
          /* dot.c's pan/zoom script is for the file on its own: pan and zoom are done here */
          [].forEach.call(root.querySelectorAll('script'), function (s) { s.remove(); });
          svg = document.importNode(root, true);
          svg.removeAttribute('width');
          svg.removeAttribute('height');
          svg.setAttribute('preserveAspectRatio', 'xMidYMin meet');
          box.appendChild(svg);
          var bb = svg.getBBox();
          vb = [bb.x - 10, bb.y - 10, bb.width + 20, bb.height + 20];
          box.style.height = Math.max(300, innerHeight - box.getBoundingClientRect().top - 40) + 'px';
          [].forEach.call(svg.querySelectorAll('a'), function (a) {
            a.addEventListener('click', function (e) { e.preventDefault(); });
          });
          var drag = null;
          box.addEventListener('pointerdown', function (e) {
            drag = {x: e.clientX, y: e.clientY, vb: vb.slice(), moved: false};
          });
          box.addEventListener('pointermove', function (e) {
            if (!drag) return;
            var r = box.getBoundingClientRect(), k = Math.max(drag.vb[2] / r.width, drag.vb[3] / r.height);
            var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
            if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
            vb[0] = drag.vb[0] - dx * k;
            vb[1] = drag.vb[1] - dy * k;
            setVB();
          });
          box.addEventListener('pointerup', function (e) {
            var d = drag;
            drag = null;
            if (d && d.moved) return;
            var g = e.target.closest && e.target.closest('g.node');
            if (!g) return;
            var n = nodeName(g);
            if (!n) return;
            if (selected[n]) delete selected[n]; else selected[n] = 1;
            g.classList.toggle('selected');
            var c = Object.keys(selected).length;
            CP.details(c ? c + ' selected: ' + Object.keys(selected).join(', ') : '');
          });
          box.addEventListener('dblclick', function (e) {
            var g = e.target.closest && e.target.closest('g.node');
            if (g && nodeName(g)) CP.navigate({f: CP.quote(nodeName(g))}, 'source');
          });
          function zoom(f, cx, cy) {
            var nw = vb[2] * f, nh = vb[3] * f;
            vb[0] += (vb[2] - nw) * cx;
            vb[1] += (vb[3] - nh) * cy;
            vb[2] = nw;
            vb[3] = nh;
            setVB();
          }
          box.addEventListener('wheel', function (e) {
            e.preventDefault();
            var r = box.getBoundingClientRect();
            zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, (e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
          }, {passive: false});
          box.addEventListener('keydown', function (e) {
            var step = vb[2] / 10;
            if (e.key === '+' || e.key === '=') zoom(1 / 1.2, 0.5, 0.5);
            else if (e.key === '-') zoom(1.2, 0.5, 0.5);
            else if (e.key === 'ArrowLeft') { vb[0] -= step; setVB(); }
            else if (e.key === 'ArrowRight') { vb[0] += step; setVB(); }
            else if (e.key === 'ArrowUp') { vb[1] -= step; setVB(); }
            else if (e.key === 'ArrowDown') { vb[1] += step; setVB(); }
            else return;
            e.preventDefault();
          });
          setVB();
        });
      },
      search: function (re) {
        if (!svg) return;
        var n = 0;
        [].forEach.call(svg.querySelectorAll('g.node'), function (g) {
          var hit = re && re.test(nodeName(g));
          var p = g.querySelector('polygon');
          if (p) {
            if (hit) { p.style.fill = '#ee66ee'; n++; } else p.style.fill = '';
          }
        });
        CP.$('matched').textContent = re ? n + ' nodes match' : '';
      },
      selection: function () {
        var s = Object.keys(selected);
        return s.length ? s.map(CP.quote).join('|') : '';
      }
    };
  })();

  /* ---- Source, Peek, Disassembly ---- */
  function noteFor(what) {
    var f = CP.params().get('f');
    return f ? what + ' of the functions matching ' + f
      : what + ' of the ten functions with the most flat ' + (CP.meta.types[CP.meta.index] || {}).type +
        '; choose others with Focus or from a frame\'s menu.';
  }
  V.source = {
    show: function (main) {
      /* weblist.c's page, as is: lines expand to inlined calls and assembly on click */
      return CP.fetch('source', 'text').then(function (html) {
        main.textContent = '';
        main.appendChild(CP.el('p', {'class': 'note'}, noteFor('Annotated source')));
        var f = CP.el('iframe', {'class': 'source', title: 'Annotated source', id: 'source-frame'});
        f.srcdoc = html;
        f.style.height = Math.max(300, innerHeight - main.getBoundingClientRect().top - 70) + 'px';
        main.appendChild(f);
      });
    }
  };
  function textView(what, title) {
    var pre;
    return {
      show: function (main) {
        return CP.fetch(what, 'text').then(function (text) {
          main.textContent = '';
          main.appendChild(CP.el('p', {'class': 'note'}, noteFor(title)));
          pre = CP.el('pre', {'class': 'text', id: what + '-text'}, text);
          main.appendChild(pre);
        });
      },
      search: function (re) {
        if (!re || !pre) { CP.$('matched').textContent = ''; return; }
        var n = pre.textContent.split('\n').filter(function (l) { return re.test(l); }).length;
        CP.$('matched').textContent = n + ' lines match';
      }
    };
  }
  V.peek = textView('peek', 'Callers and callees');
  V.disasm = textView('disasm', 'Disassembly');
})();
