// bench.mjs - the web UI's speed in the browser, for bench/webui_bench.sh:
//
//   node bench.mjs cprof|go URL ROUNDS [FRESH]
//
// cprof: per round a fresh page on URL/ui/flamegraph (round 0 with the
// query FRESH when given: options the server has no tree for yet); "first
// draw" is performance.now() when the flame graph's canvas is drawn
// (milliseconds since navigation start: server work, transfer, decoding
// and drawing), "zoom" the time from a click on a frame to its redraw
// (with the frames the page fetches when the zoom shows callees it was not
// sent: the page's own performance.now marks), over 6 clicks on frames at
// different depths then back to the root. go: go tool pprof -http's flame
// graph (Go 1.19: d3-flame-graph, SVG); first draw is performance.now()
// when its chart has frames. Prints one JSON line per round.
import { launch, newPage } from './lib.mjs';

const [kind, url, roundsArg, fresh] = process.argv.slice(2);
const rounds = +roundsArg || 3;
const browser = await launch();
for (let r = 0; r < rounds; r++) {
  const page = await newPage(browser);
  const out = { kind, round: r };
  if (kind === 'cprof') {
    // round 0 with FRESH (e.g. ?si=cpu): options whose tree the server has not built yet
    out.fresh = r === 0 && !!fresh;
    await page.goto(`${url}/ui/flamegraph${out.fresh ? fresh : ''}`, { timeout: 600000 });
    await page.waitForFunction(() => window.cpFirstDraw, null, { timeout: 600000, polling: 20 });
    out.first = await page.evaluate(() => window.cpFirstDraw);
    out.parts = await page.evaluate(() => window.cpTimes);
    const box = await page.locator('#flame').boundingBox();
    const zooms = [];
    for (const [x, row] of [[4, 3], [4, 6], [box.width / 2, 2], [4, 9], [box.width - 8, 4], [4, 0]]) {
      await page.evaluate(() => { window.cpLastInteraction = undefined; });
      await page.mouse.click(box.x + x, box.y + row * 18 + 9);
      // a zoom that needs frames the first answer left out fetches them: wait for it
      await page.waitForFunction(() => !window.cpBusy && window.cpLastInteraction !== undefined, null,
        { timeout: 600000, polling: 5 }).catch(() => {});
      const ms = await page.evaluate(() => window.cpLastInteraction);
      if (typeof ms === 'number') zooms.push(ms);
    }
    out.zoom = zooms;
  } else {
    await page.goto(`${url}/ui/flamegraph`, { timeout: 600000 });
    await page.waitForFunction(() => document.querySelectorAll('#chart svg rect').length > 0, null,
      { timeout: 600000, polling: 20 });
    out.first = await page.evaluate(() => performance.now());
  }
  out.errors = page.errors.length;
  console.log(JSON.stringify(out));
  await page.context().close();
}
await browser.close();
