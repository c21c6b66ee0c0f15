// webui.mjs - browser tests of `cprof pprof -http`, run by
// tests/e2e/webui_browser.sh with one running server per profile:
//
//   node webui.mjs ARTIFACT_DIR cpu=URL heap=URL diff=URL go=URL empty=URL wide=URL
//
// cpu: a C CPU profile of tests/progs/cpu_split (func_sixty, func_thirty,
// func_ten); heap: Go's heap profile (tests/data/go-heap.pb.gz); diff: a
// -diff_base of two collapsed-stack files (lex grew, render shrank, fresh
// appeared, gone vanished); go: Go's CPU profile (tests/data/go-cpu.pb.gz);
// empty: a profile whose only sample is zero; wide: one whose small frames
// are too narrow to draw until zoomed into (the server leaves them out).
// Every view of every profile loads without a console error and its
// screenshot is not blank; then the interactions. Prints PASS/FAIL lines.
import { mkdirSync } from 'node:fs';
import { launch, newPage, pngStats, canvasCount, waitReady } from './lib.mjs';

const [dir, ...pairs] = process.argv.slice(2);
const urls = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
mkdirSync(dir, { recursive: true });
const VIEWS = ['flamegraph', 'top', 'bottomup', 'graph', 'source', 'peek', 'disasm'];
const ROW = 18;
let failures = 0;
const pass = (n, w) => console.log(`PASS ${n}: ${w}`);
const fail = (n, w) => { failures++; console.log(`FAIL ${n}: ${w}`); };
const check = (ok, n, w) => (ok ? pass(n, w) : fail(n, w));

const browser = await launch();

async function open(page, url) {
  page.errors.length = 0;
  await page.goto(url);
  return waitReady(page);
}

// The details line when the pointer is at (x, row) of the flame canvas.
async function hover(page, x, row) {
  const box = await page.locator('#flame').boundingBox();
  const px = x < 0 ? box.x + box.width + x : box.x + x;
  await page.mouse.move(px, box.y + row * ROW + ROW / 2);
  return (await page.locator('#details').innerText()).split(/\s+\u2502\s+/)[0].trim();
}

async function rows(page) {
  const box = await page.locator('#flame').boundingBox();
  return Math.round(box.height / ROW);
}

// Units of the legend ("cpu: 1.23s total") back to numbers.
function parseValue(s) {
  const m = /([-0-9.]+)\s*(ns|us|ms|s|hrs|B|kB|MB|GB|TB)?\b/.exec(s);
  const k = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, hrs: 3600e9, B: 1, kB: 1024, MB: 1048576, GB: 1073741824, TB: 1099511627776 };
  return m ? parseFloat(m[1]) * (k[m[2]] || 1) : NaN;
}

// ---- every view of every profile ----
for (const [label, base] of Object.entries(urls)) {
  const page = await newPage(browser);
  for (const view of VIEWS) {
    const name = `webui_${label}_${view}`;
    let ready;
    try {
      ready = await open(page, `${base}/ui/${view}`);
    } catch (e) {
      fail(name, `did not load: ${e.message.split('\n')[0]}`);
      continue;
    }
    const shot = await page.screenshot({ path: `${dir}/${label}_${view}.png` });
    const st = await pngStats(page, shot);
    const text = (await page.locator('main').innerText()).slice(0, 80).replace(/\s+/g, ' ');
    check(ready === '1' && page.errors.length === 0 && st.sd > 8, name,
      `ready=${ready}, console errors ${page.errors.length}${page.errors.length ? ' (' + page.errors[0] + ')' : ''}, ` +
      `screenshot luminance sd ${st.sd.toFixed(1)} (want > 8): ${text}`);
  }
  await page.context().close();
}

const page = await newPage(browser);

// ---- flame graph: clicking a frame zooms into it ----
{
  await open(page, `${urls.cpu}/ui/flamegraph`);
  const n = await rows(page);
  let done = false;
  for (let r = 1; r < n && !done; r++) {
    const left = await hover(page, 4, r), right = await hover(page, -4, r);
    if (!left || left === right) continue;
    const box = await page.locator('#flame').boundingBox();
    await page.mouse.click(box.x + 4, box.y + r * ROW + ROW / 2);
    const after = await hover(page, -4, r);
    const ms = await page.evaluate(() => window.cpLastInteraction);
    check(after === left, 'webui_flame_click_zooms',
      `row ${r}: "${left}" spans the width after the click (right edge shows "${after}", was "${right}"), redraw ${ms.toFixed(1)} ms`);
    done = true;
  }
  if (!done) fail('webui_flame_click_zooms', 'no row with two frames to tell a zoom from no zoom');
}

// ---- frames too narrow to draw are left out, fetched when a zoom shows them ----
{
  await open(page, `${urls.wide}/ui/flamegraph`);
  const sent = await page.evaluate(() => window.cpTimes.bytes);
  await page.focus('#flame');
  for (const k of ['ArrowDown', 'ArrowDown', 'ArrowRight']) await page.keyboard.press(k);
  const small = await page.locator('#details').innerText();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !window.cpBusy, null, { timeout: 10000 });
  const left = await hover(page, 4, 3), right = await hover(page, -4, 3);
  check(/^small\b/.test(small) && /self 0 /.test(small) && left === 's1' && right === 's2' && page.errors.length === 0,
    'webui_flame_zoom_fetches',
    `selected "${small}" (self exact though its callees were left out of ${sent} bytes); zoomed into it, row 3 shows "${left}" .. "${right}"`);
}

// ---- search totals and pivots are exact with frames the page was not sent ----
{
  await open(page, `${urls.wide}/ui/flamegraph`);
  await page.fill('#search', '^s[12]$');
  await page.press('#search', 'Tab');
  await page.waitForFunction(() => document.getElementById('matched').textContent.startsWith('Matched'));
  const matched = await page.locator('#matched').innerText();
  await open(page, `${urls.wide}/ui/flamegraph?p=${encodeURIComponent('^s1$')}`);
  const n = await rows(page);
  let pivotRow = -1;
  for (let r = 0; r < n && pivotRow < 0; r++) if ((await hover(page, 4, r)).startsWith('pivot:')) pivotRow = r;
  const callers = [];
  for (let r = pivotRow - 1; r >= 0; r--) callers.push(await hover(page, 4, r));
  const legend = await page.locator('.legend').innerText();
  check(matched === 'Matched: 40 (0.04%)' && callers.join(' < ') === 's1 < small < m' && /: 100k total/.test(legend),
    'webui_flame_unsent_exact',
    `search "^s[12]$": "${matched}" (want 40 of 100,040); pivot on s1: ${callers.join(' < ')}; legend "${legend}"`);
}

// ---- the keyboard: arrows move between frames, Enter zooms, Escape resets ----
{
  await open(page, `${urls.go}/ui/flamegraph`);
  await page.focus('#flame');
  const seen = [];
  for (const k of ['ArrowDown', 'ArrowDown', 'ArrowDown', 'ArrowDown', 'ArrowDown']) {
    await page.keyboard.press(k);
    seen.push((await page.locator('#details').innerText()).split(/\s+\u2502\s+/)[0]);
  }
  await page.keyboard.press('Enter');
  const zoomed = await hover(page, -4, 5);
  await page.keyboard.press('Escape');
  const reset = await hover(page, -4, 5);
  check(seen.join(' > ') === 'runtime.main > main.main > main.burn > crypto/sha256.Sum256 > crypto/sha256.(*digest).Write' &&
        zoomed === 'crypto/sha256.(*digest).Write' && reset !== zoomed, 'webui_flame_keyboard',
  `ArrowDown x5: ${seen.join(' > ')}; Enter zooms (row 5 right edge "${zoomed}"), Escape resets ("${reset}")`);
}

// ---- search highlights and totals the matches ----
{
  await open(page, `${urls.cpu}/ui/flamegraph`);
  const before = await canvasCount(page, 'r === 238 && g === 102 && b === 238');
  await page.fill('#search', 'func_s');
  await page.press('#search', 'Tab');
  await page.waitForFunction(() => document.getElementById('matched').textContent.startsWith('Matched'));
  const matched = await page.locator('#matched').innerText();
  const after = await canvasCount(page, 'r === 238 && g === 102 && b === 238');
  const pct = parseFloat(/\(([0-9.]+)%\)/.exec(matched)?.[1]);
  // func_sixty is 60% of cpu_split's work: the match total says so within sampling noise
  check(before === 0 && after > 500 && pct >= 45 && pct <= 75, 'webui_flame_search_highlights',
    `"${matched}" (want 45-75%, about 2.7 sigma of ~80 samples), highlighted pixels ${before} -> ${after}`);
}

// ---- pivot shows the callers above the pivot ----
{
  await open(page, `${urls.go}/ui/flamegraph?p=${encodeURIComponent('^crypto/sha256\\.block$')}`);
  const n = await rows(page);
  let pivotRow = -1;
  for (let r = 0; r < n && pivotRow < 0; r++) if ((await hover(page, 4, r)).startsWith('pivot:')) pivotRow = r;
  const above = pivotRow > 0 ? await hover(page, 4, pivotRow - 1) : '';
  const above2 = pivotRow > 1 ? await hover(page, 4, pivotRow - 2) : '';
  check(pivotRow > 0 && above === 'crypto/sha256.block' && above2 === 'crypto/sha256.(*digest).Write',
    'webui_flame_pivot_callers',
    `pivot row ${pivotRow}; above it "${above}", then its caller "${above2}" (want crypto/sha256.(*digest).Write)`);
}

// ---- right-click menu focuses ----
{
  await open(page, `${urls.go}/ui/flamegraph`);
  const n = await rows(page);
  let r = n - 1, name = '';
  for (; r > 0 && !name; r--) name = await hover(page, 4, r);
  const box = await page.locator('#flame').boundingBox();
  await page.mouse.click(box.x + 4, box.y + (r + 1) * ROW + ROW / 2, { button: 'right' });
  const shown = await page.locator('#ctxmenu').isVisible();
  await Promise.all([page.waitForURL(/[?&]f=/), page.click('#ctxmenu li[data-act="f"]')]);
  await waitReady(page);
  const f = new URL(page.url()).searchParams.get('f');
  check(shown && f === '^' + name.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&') + '$', 'webui_flame_menu_focus',
    `menu shown ${shown}; Focus on "${name}" set f=${f}`);
}

// ---- differential flame graph ----
{
  await open(page, `${urls.diff}/ui/flamegraph`);
  const red = await canvasCount(page, 'r > 200 && g < 110 && b < 110');
  const blue = await canvasCount(page, 'b > 190 && b - r > 60 && b - g > 40');
  const legend = await page.locator('.legend').innerText();
  const seen = new Set();
  const box = await page.locator('#flame').boundingBox();
  for (let x = 3; x < box.width; x += 12) seen.add(await hover(page, x, 2) + ' ## ' + (await page.locator('#tooltip').innerText()));
  const texts = [...seen].join('\n');
  await hover(page, 4, 1);
  const mainTip = await page.locator('#tooltip').innerText();
  check(red > 200 && blue > 200 && /base/.test(legend) && /fresh[^\n]*##[\s\S]*?\(appeared\)/.test(texts) &&
        /vanished callees: gone/.test(mainTip), 'webui_diff_flame',
  `red px ${red}, blue px ${blue}, legend "${legend.replace(/\s+/g, ' ')}", fresh marked appeared: ${/\(appeared\)/.test(texts)}, ` +
  `main's tooltip names the vanished callee: ${/vanished callees: gone/.test(mainTip)}`);
}

// ---- the sample menu switches types ----
{
  await open(page, `${urls.heap}/ui/flamegraph`);
  const before = await page.locator('.legend').innerText();
  await Promise.all([page.waitForURL(/si=alloc_space/), page.selectOption('#sample', 'alloc_space')]);
  await waitReady(page);
  const after = await page.locator('.legend').innerText();
  check(before.startsWith('inuse_space:') && after.startsWith('alloc_space:') && page.errors.length === 0,
    'webui_sample_menu', `"${before}" -> "${after}"`);
}

// ---- refine narrows the profile ----
{
  await open(page, `${urls.cpu}/ui/flamegraph`);
  const before = parseValue(await page.locator('.legend').innerText());
  await page.fill('#search', 'func_ten');
  await Promise.all([page.waitForURL(/[?&]i=func_ten/), page.click('#refine button[data-refine="i"]')]);
  await waitReady(page);
  const after = parseValue(await page.locator('.legend').innerText());
  await page.fill('#search', 'func_ten');
  await page.press('#search', 'Tab');
  await page.waitForFunction(() => document.getElementById('matched').textContent.startsWith('Matched'));
  const left = await page.locator('#matched').innerText();
  const top = await page.evaluate(() => fetch('/ui/data/top' + location.search).then((r) => r.json()));
  const names = top.rows.map((r) => r.name);
  check(after < before && after > 0.7 * before && /Matched: 0[a-z]* /.test(left) && !names.includes('func_ten') &&
        names.includes('func_sixty'), 'webui_refine_ignore',
  `total ${before / 1e6} ms -> ${after / 1e6} ms (func_ten is ~10%), search after: "${left}", top rows: ${names.slice(0, 4).join(', ')}`);
}

// ---- saved configurations: saved under a name, listed, brought back ----
{
  await open(page, `${urls.cpu}/ui/top?sort=cum&f=func_`);
  page.once('dialog', (d) => d.accept('by cum'));
  await Promise.all([page.waitForEvent('load'), page.click('#config-save')]);
  await waitReady(page);
  await open(page, `${urls.cpu}/ui/flamegraph`);
  const options = await page.locator('#config option').allInnerTexts();
  await Promise.all([page.waitForURL(/\/ui\/top\?sort=cum&f=func_/), page.selectOption('#config', 'by cum')]);
  await waitReady(page);
  check(options.includes('by cum') && /\/ui\/top\?sort=cum&f=func_$/.test(page.url()), 'webui_saved_config',
    `options ${JSON.stringify(options)}; choosing it opened ${page.url().replace(urls.cpu, '')}`);
}

// ---- top: sortable by flat and cum ----
{
  await open(page, `${urls.cpu}/ui/top`);
  const first = async () => page.locator('#top-table tbody tr:first-child td.name').innerText();
  const byFlat = await first();
  await page.click('#top-table th[data-key="cum"]');
  const byCum = await first();
  const cums = await page.locator('#top-table tbody tr td:nth-child(4)').allInnerTexts();
  check(byFlat !== byCum && parseValue(cums[0]) >= Math.max(...cums.map(parseValue)) && /sort=cum/.test(page.url()), 'webui_top_sort',
    `first row by flat "${byFlat}", by cum "${byCum}"`);
}

// ---- graph renders SVG, nodes selectable ----
{
  await open(page, `${urls.cpu}/ui/graph`);
  const nodes = await page.locator('#graph svg g.node').count();
  const node = page.locator('#graph svg g.node', { hasText: 'func_sixty' }).first();
  await node.click();
  const sel = await page.locator('#graph svg g.node.selected').count();
  const details = await page.locator('#details').innerText();
  check(nodes >= 4 && sel === 1 && /func_sixty/.test(details), 'webui_graph_svg',
    `${nodes} nodes in the SVG, ${sel} selected: "${details}"`);
}

// ---- callers (bottom-up) tree ----
{
  await open(page, `${urls.go}/ui/bottomup`);
  const firstRow = page.locator('#callers .row').first();
  const name = await firstRow.locator('.name').innerText();
  await firstRow.click();
  await page.waitForFunction(() => document.querySelector('#callers .row[aria-expanded="true"]'), null, { timeout: 10000 })
    .catch(() => {});
  const child = await page.locator('#callers .row').nth(1).locator('.name').innerText();
  check(name === 'crypto/sha256.block' && child === 'crypto/sha256.(*digest).Write', 'webui_callers_tree',
    `top self "${name}", its caller "${child}"`);
}

// ---- dark scheme ----
{
  const dark = await newPage(browser, { colorScheme: 'dark' });
  await open(dark, `${urls.cpu}/ui/flamegraph`);
  const shot = await dark.screenshot({ path: `${dir}/cpu_flamegraph_dark.png` });
  const st = await pngStats(dark, shot);
  check(st.mean < 90 && st.sd > 8 && dark.errors.length === 0, 'webui_dark_scheme',
    `mean luminance ${st.mean.toFixed(0)} (want < 90), sd ${st.sd.toFixed(1)}`);
  await dark.context().close();
}

await browser.close();
process.exit(failures ? 1 : 0);
