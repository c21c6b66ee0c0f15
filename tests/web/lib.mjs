// lib.mjs - what the browser tests and benchmarks of the web UI share:
// Debian's chromium started headless through playwright-core, console
// error collection, and pixel statistics of screenshots and canvases
// (computed in the browser, so no image library is needed here).
import { chromium } from 'playwright-core';

export const executablePath = process.env.CPROF_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

// A page whose console errors and uncaught exceptions are collected.
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({
    viewport: { width: opts.width || 1280, height: opts.height || 800 },
    colorScheme: opts.colorScheme || 'light',
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

// Mean and standard deviation of the luminance of a PNG, decoded by the browser.
export async function pngStats(page, png) {
  const b64 = png.toString('base64');
  return page.evaluate(async (data) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + data;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const x = c.getContext('2d');
    x.drawImage(img, 0, 0);
    const d = x.getImageData(0, 0, c.width, c.height).data;
    let s = 0, s2 = 0, n = 0;
    for (let i = 0; i < d.length; i += 16) {
      const l = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      s += l; s2 += l * l; n++;
    }
    const mean = s / n;
    return { mean, sd: Math.sqrt(Math.max(0, s2 / n - mean * mean)) };
  }, b64);
}

// How many pixels of the flame graph canvas are close to rgb(r,g,b), and which colour family.
export async function canvasCount(page, pred) {
  return page.evaluate((src) => {
    const f = new Function('r', 'g', 'b', 'return ' + src);
    const c = document.getElementById('flame');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && f(d[i], d[i + 1], d[i + 2])) n++;
    return n;
  }, pred);
}

export async function waitReady(page) {
  await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 30000 });
  return page.evaluate(() => document.body.dataset.ready);
}
