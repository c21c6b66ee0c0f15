// screenshot.mjs - a picture of a running `cprof pprof -http` page, for the
// README (docs/img/flamegraph.png is made from `make demo`'s profile):
//
//   build/bin/cprof pprof -http=127.0.0.1:0 -no_browser build/demo/cpu.prof &
//   node tests/web/screenshot.mjs http://127.0.0.1:PORT/ui/flamegraph docs/img/flamegraph.png [regexp]
//
// With a regexp, the page's search box gets it first (matches highlighted).
// The pointer rests on a frame of the seventh row, so the tooltip shows.
import { launch, newPage, waitReady } from './lib.mjs';

const [url, out, search] = process.argv.slice(2);
const browser = await launch();
const page = await newPage(browser, { width: 1200, height: 560 });
await page.goto(url);
if ((await waitReady(page)) !== '1') throw new Error('page did not load: ' + (await page.locator('main').innerText()));
if (search) {
  await page.fill('#search', search);
  await page.press('#search', 'Tab');
  await page.waitForFunction(() => document.getElementById('matched').textContent !== '');
}
const box = await page.locator('#flame').boundingBox();
if (box) await page.mouse.move(box.x + box.width * 0.12, box.y + 18 * 6 + 9);
await page.screenshot({ path: out });
if (page.errors.length) throw new Error('console errors: ' + page.errors.join('; '));
await browser.close();
