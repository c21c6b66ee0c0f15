// trace_bench.mjs - the trace viewer's speed in the browser, for
// bench/trace_viewer_bench.sh:
//
//   node trace_bench.mjs URL ROUNDS
//
// Per round a fresh page on URL/trace/timeline. "first" is the page's
// performance.now() when the timeline is first drawn with data
// (milliseconds since navigation start: page load, the trace's summary,
// the first window query, drawing). "interactions" are the times from each
// key press or wheel turn to the timeline drawn with the data of its new
// view (the page's own marks; a fetch when the view left the data held):
// W x3, D x2, A, S x2, a wheel zoom at the middle, 0. Prints one JSON line
// per round.
import { launch, newPage } from './lib.mjs';

const [url, roundsArg] = process.argv.slice(2);
const rounds = +roundsArg || 3;
const browser = await launch();
for (let r = 0; r < rounds; r++) {
  const page = await newPage(browser);
  await page.goto(`${url}/trace/timeline`, { timeout: 600000 });
  await page.waitForFunction(() => window.cpFirstDraw, null, { timeout: 600000, polling: 10 });
  const out = { round: r, first: await page.evaluate(() => window.cpFirstDraw) };
  await page.focus('#tl');
  const box = await page.locator('#tl').boundingBox();
  for (const k of ['w', 'w', 'w', 'd', 'd', 'a', 's', 's', 'wheel', '0']) {
    const before = await page.evaluate(() => window.cpInteractions.length);
    if (k === 'wheel') {
      await page.mouse.move(box.x + box.width * 0.55, box.y + 30);
      await page.mouse.wheel(0, -400);
    } else {
      await page.keyboard.press(k);
    }
    await page.waitForFunction((n) => window.cpInteractions.length > n, before, { timeout: 60000, polling: 5 });
  }
  out.interactions = await page.evaluate(() => window.cpInteractions);
  out.draw = await page.evaluate(() => window.cpDrawMs);
  out.errors = page.errors.length;
  console.log(JSON.stringify(out));
  await page.context().close();
}
await browser.close();
