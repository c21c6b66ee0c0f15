// trace_screenshot.mjs - a picture of a running `cprof trace -http` timeline,
// for the README (docs/img/trace-timeline.png is made from a trace of
// tests/progs/trace_blocking_linked):
//
//   build/bin/cprof run -trace=t.trace -blocksyscalls -cpuprofile=c.prof -- build/tests/progs/trace_blocking_linked
//   build/bin/cprof trace -http=127.0.0.1:0 -no_browser t.trace &
//   node tests/web/trace_screenshot.mjs http://127.0.0.1:PORT docs/img/trace-timeline.png [SEARCH [CLICK]]
//
// SEARCH: a search whose first match the view zooms to; CLICK: the name a
// drawn wait starts with ("cond", "mutex", ...), clicked so its details show.
import { launch, newPage, waitReady } from './lib.mjs';

const [url, out, search, click] = process.argv.slice(2);
const browser = await launch();
const page = await newPage(browser, { width: 1280, height: 600 });
await page.goto(`${url}/trace/timeline`);
if ((await waitReady(page)) !== '1') throw new Error('page did not load');
const settled = () => page.waitForFunction(() => !window.cpTrace.pending(), null, { timeout: 10000 });
await settled();
if (search) {
  await page.fill('#search', search);
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#results li').length > 0, null, { timeout: 5000 });
  await page.locator('#results li').first().click();
  await settled();
  await page.focus('#tl');
  for (let k = 0; k < 4; k++) await page.keyboard.press('s');
  await settled();
}
if (click) {
  const h = await page.evaluate((p) => window.cpTrace.find('state', true, p), click);
  if (h) {
    await page.mouse.click(h.x, h.y);
    await page.waitForFunction(() => /Blocked|system call/.test(document.getElementById('detail').textContent), null, { timeout: 5000 });
  }
  await page.mouse.move(2, 2);
}
await page.waitForTimeout(200);
await page.screenshot({ path: out });
if (page.errors.length) throw new Error('console errors: ' + page.errors.join('; '));
await browser.close();
