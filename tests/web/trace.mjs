// trace.mjs - browser tests of `cprof trace -http`, run by
// tests/e2e/trace_viewer.sh with a running server on a trace of
// tests/progs/trace_known_linked (producer/consumer over a condition
// variable, a task "transfer" across two threads, regions outer > inner,
// a 100 ms region "sleep"):
//
//   node trace.mjs ARTIFACT_DIR URL WAITS_URL
//
// WAITS_URL serves a trace of tests/progs/trace_blocking_linked (run with
// -blocksyscalls -cpuprofile), whose every wait blocks: a consumer woken
// by a producer's signal N times, a thread burning CPU in spin_work().
//
// The timeline draws (a canvas that is not blank, one track per thread of
// the trace), W/S and the wheel zoom, A/D pan, clicking a region, a
// wait and a CPU sample shows its details (a wait: its reason, the thread
// that released it, the wake-up latency, its stack; a sample: its weight and
// stack), search finds a region; every derived
// view loads; light and dark screenshots saved and checked to be non-blank.
// Prints PASS/FAIL lines; no timing is judged.
import { mkdirSync } from 'node:fs';
import { launch, newPage, pngStats, waitReady } from './lib.mjs';

const [dir, url, waitsUrl] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });
let failures = 0;
const pass = (n, w) => console.log(`PASS ${n}: ${w}`);
const fail = (n, w) => { failures++; console.log(`FAIL ${n}: ${w}`); };
const check = (ok, n, w) => (ok ? pass(n, w) : fail(n, w));

const browser = await launch();
const meta = await (await fetch(`${url}/trace/data/meta`)).json();

async function open(page, path, base) {
  page.errors.length = 0;
  await page.goto((base || url) + path);
  return waitReady(page);
}
// Wait until the page has the data for its current view.
async function settled(page) {
  await page.waitForFunction(() => !window.cpTrace.pending(), null, { timeout: 10000 });
}
const span = (v) => v.t1 - v.t0;

// ---- the timeline draws, in light and dark ----
for (const scheme of ['light', 'dark']) {
  const page = await newPage(browser, { colorScheme: scheme });
  const name = `trace_timeline_${scheme}`;
  try {
    const ready = await open(page, '/trace/timeline');
    await settled(page);
    const shot = await page.screenshot({ path: `${dir}/timeline_${scheme}.png` });
    const st = await pngStats(page, shot);
    // the timeline canvas itself: distinct colours drawn
    const colours = await page.evaluate(() => {
      const c = document.getElementById('tl');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < d.length; i += 16) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return seen.size;
    });
    const tracks = await page.evaluate(() => window.cpTrace.lanes());
    check(ready === '1' && page.errors.length === 0 && st.sd > 8 && colours > 8 && tracks === meta.threads.length, name,
      `ready=${ready}, console errors ${page.errors.length}${page.errors.length ? ' (' + page.errors[0] + ')' : ''}, ` +
      `screenshot luminance sd ${st.sd.toFixed(1)} (want > 8), ${colours} colours on the canvas, ` +
      `${tracks} thread tracks for ${meta.threads.length} threads`);
  } catch (e) {
    fail(name, e.message.split('\n')[0]);
  }
  await page.context().close();
}

const page = await newPage(browser);

// ---- zoom and pan: keys and the wheel change the visible range ----
{
  await open(page, '/trace/timeline');
  await settled(page);
  const v0 = await page.evaluate(() => window.cpTrace.view());
  await page.focus('#tl');
  for (let k = 0; k < 3; k++) await page.keyboard.press('w');
  await settled(page);
  const v1 = await page.evaluate(() => window.cpTrace.view());
  await page.keyboard.press('d');
  await settled(page);
  const v2 = await page.evaluate(() => window.cpTrace.view());
  await page.keyboard.press('s');
  await settled(page);
  const v3 = await page.evaluate(() => window.cpTrace.view());
  const box = await page.locator('#tl').boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + 20);
  await page.mouse.wheel(0, -300);
  await settled(page);
  const v4 = await page.evaluate(() => window.cpTrace.view());
  const r1 = span(v1) / span(v0), r3 = span(v3) / span(v1), r4 = span(v4) / span(v3);
  check(Math.abs(r1 - 0.512) < 0.01 && v2.t0 > v1.t0 && Math.abs(span(v2) - span(v1)) < 1 &&
        Math.abs(r3 - 1.25) < 0.01 && r4 < 0.9 && page.errors.length === 0, 'trace_zoom_pan',
  `W x3 scales the range by ${r1.toFixed(3)} (want 0.512), D moves it ${(v2.t0 - v1.t0).toFixed(0)} ns later, ` +
  `S scales by ${r3.toFixed(3)} (want 1.25), the wheel by ${r4.toFixed(3)} (want < 0.9); console errors ${page.errors.length}`);
}

// ---- clicking a region shows its details; a merged group zooms in ----
{
  await open(page, '/trace/timeline');
  await settled(page);
  let hit = null;
  for (let k = 0; k < 40 && !hit; k++) {
    hit = await page.evaluate(() => window.cpTrace.find('region', true));
    if (!hit) {
      // zoom in on the main thread's regions, which start early
      await page.focus('#tl');
      await page.keyboard.press('w');
      await settled(page);
    }
  }
  if (!hit) {
    fail('trace_click_details', 'no region drawn wide enough to click');
  } else {
    await page.mouse.click(hit.x, hit.y);
    await page.waitForFunction(() => !document.getElementById('side').hidden &&
      document.getElementById('detail').textContent.includes('Region'), null, { timeout: 5000 }).catch(() => {});
    const text = await page.locator('#detail').innerText();
    await page.screenshot({ path: `${dir}/timeline_details.png` });
    check(text.includes('Region') && text.includes(hit.name) && /duration/.test(text) && /thread/.test(text),
      'trace_click_details', `clicked "${hit.name}": side panel says ${JSON.stringify(text.slice(0, 160))}`);
  }
}

// ---- a wait: found by its call, clicked on the timeline: reason, releaser, latency, stack ----
{
  await open(page, '/trace/timeline', waitsUrl);
  await settled(page);
  await page.fill('#search', '^pthread_cond_wait$');
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => /match/.test(document.getElementById('matched').textContent), null, { timeout: 5000 });
  const matched = await page.locator('#matched').innerText();
  let hit = null;
  if ((await page.locator('#results li').count()) > 0) {
    await page.locator('#results li').first().click();
    await settled(page);
    hit = await page.evaluate(() => window.cpTrace.find('state', true, 'cond'));
  }
  if (!hit) {
    fail('trace_click_wait', `search says "${matched}": no condition wait drawn to click`);
  } else {
    await page.evaluate(() => { document.getElementById('detail').textContent = ''; });
    await page.mouse.click(hit.x, hit.y);
    await page.waitForFunction(() => /Blocked/.test(document.getElementById('detail').textContent), null,
      { timeout: 5000 }).catch(() => {});
    const text = await page.locator('#detail').innerText();
    await page.screenshot({ path: `${dir}/timeline_wait.png` });
    check(/Blocked/.test(text) && /reason\s+cond/.test(text) && /released by\s+producer/.test(text) &&
          /wake-up latency/.test(text) && /consumer\s/.test(text) && page.errors.length === 0,
    'trace_click_wait', `"${matched}" (5 expected); clicked "${hit.name}": ${JSON.stringify(text.slice(0, 300))}`);
  }
}

// ---- a CPU sample: its stack ----
{
  await open(page, '/trace/timeline', waitsUrl);
  await settled(page);
  await page.fill('#search', '^spin_work$');
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => /match/.test(document.getElementById('matched').textContent), null, { timeout: 5000 });
  const matched = await page.locator('#matched').innerText();
  let text = '';
  if ((await page.locator('#results li').count()) > 0) {
    await page.locator('#results li').first().click();
    await page.waitForFunction(() => /CPU sample/.test(document.getElementById('detail').textContent), null,
      { timeout: 5000 }).catch(() => {});
    text = await page.locator('#detail').innerText();
  }
  check(/CPU sample/.test(text) && /spin_work/.test(text) && /spinner/.test(text) &&
        /weight\s*\d+ sampling periods?/.test(text) && page.errors.length === 0,
    'trace_cpu_sample', `"${matched}"; the first: ${JSON.stringify(text.slice(0, 200))}`);
}

// ---- search finds a region, lists it, and clicking the match selects it ----
{
  await open(page, '/trace/timeline');
  await settled(page);
  await page.fill('#search', '^inner$');
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => /match/.test(document.getElementById('matched').textContent), null, { timeout: 5000 });
  const matched = await page.locator('#matched').innerText();
  const items = await page.locator('#results li').allInnerTexts();
  await page.locator('#results li').first().click();
  await page.waitForFunction(() => document.getElementById('detail').textContent.includes('inner'), null, { timeout: 5000 }).catch(() => {});
  await settled(page);
  const text = await page.locator('#detail').innerText();
  const v = await page.evaluate(() => window.cpTrace.view());
  await page.screenshot({ path: `${dir}/timeline_search.png` });
  check(matched.startsWith('1 match') && items.length === 1 && /region\s+inner/.test(items[0]) && text.includes('inner') &&
        span(v) < meta.duration / 10 && page.errors.length === 0, 'trace_search',
  `"${matched}", listed ${JSON.stringify(items)}, click zooms to ${(span(v) / 1e6).toFixed(3)} ms and shows ${JSON.stringify(text.slice(0, 80))}`);
}

// ---- N and P step through the matches of a search, each zoomed to and detailed ----
{
  await open(page, '/trace/timeline');
  await settled(page);
  await page.fill('#search', '^produce$');
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => /match/.test(document.getElementById('matched').textContent), null, { timeout: 5000 });
  await page.focus('#tl');
  const starts = [];
  for (const k of ['n', 'n', 'n', 'p']) {
    await page.keyboard.press(k);
    await page.waitForFunction(() => document.getElementById('detail').textContent.includes('produce'), null, { timeout: 5000 });
    await settled(page);
    starts.push((await page.evaluate(() => window.cpTrace.view())));
  }
  const mid = starts.map((v) => (v.t0 + v.t1) / 2);
  check(mid[0] < mid[1] && mid[1] < mid[2] && Math.abs(mid[3] - mid[1]) < 1 && page.errors.length === 0, 'trace_search_keys',
    `N N N P centre the view on ${mid.map((m) => (m / 1e6).toFixed(3) + ' ms').join(', ')} (want increasing, then back to the second)`);
}

// ---- the syscall profile narrowed to a region: the 100 ms nanosleep inside "sleep" ----
{
  await open(page, '/trace/syscall', waitsUrl);
  await page.selectOption('#region', 'sleep');
  await page.waitForURL(/region=sleep/);
  await waitReady(page);
  const text = await page.locator('main').innerText();
  const href = await page.locator('a.dl').getAttribute('href');
  check(/^1 episodes/m.test(text) && /sleep_100ms/.test(text) && href === '/trace/pprof?kind=syscall&region=sleep' &&
        page.errors.length === 0, 'trace_view_region',
  `download ${href}: ${JSON.stringify(text.slice(0, 200))}`);
}

// ---- every derived view loads ----
const expect = { sync: /blocking profile/i, syscall: /blocking profile/i, wakeup: /Wake-up latency/, tasks: /transfer/, regions: /outer/ };
for (const view of Object.keys(expect)) {
  const name = `trace_view_${view}`;
  try {
    const ready = await open(page, `/trace/${view}`);
    const shot = await page.screenshot({ path: `${dir}/view_${view}.png` });
    const st = await pngStats(page, shot);
    const text = await page.locator('main').innerText();
    check(ready === '1' && page.errors.length === 0 && st.sd > 8 && expect[view].test(text), name,
      `ready=${ready}, console errors ${page.errors.length}${page.errors.length ? ' (' + page.errors[0] + ')' : ''}, ` +
      `luminance sd ${st.sd.toFixed(1)}: ${JSON.stringify(text.slice(0, 100))}`);
  } catch (e) {
    fail(name, e.message.split('\n')[0]);
  }
}

await browser.close();
process.exit(failures ? 1 : 0);
