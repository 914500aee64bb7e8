/**
 * Open an HTML file in a real headless browser (Debian's chromium, driven by playwright-core,
 * which downloads no browser of its own) and report what a person would see: console errors,
 * charts drawn, and optionally a screenshot.
 * `npm run screenshot -- report.html docs/report.png`
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface PageCheck {
  errors: string[];
  charts: number;
  chartCanvases: { width: number; height: number }[];
  pixelCanvases: number;
  title: string;
}

export async function openReport(file: string, screenshot?: string): Promise<PageCheck> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM}: no chromium (apt-get install chromium, or set CHROMIUM_PATH)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) errors.push(`network request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(resolve(file)).href);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
    const check = await page.evaluate(() => {
      // the report has charts; a page with only the drawing pad has none
      const w = window as unknown as { __charts?: { canvas: HTMLCanvasElement }[] };
      const charts = w.__charts ?? [];
      return {
        charts: charts.length,
        chartCanvases: charts.map((c) => ({ width: c.canvas.width, height: c.canvas.height })),
        pixelCanvases: document.querySelectorAll('canvas.px').length,
        title: document.title,
      };
    });
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { errors, ...check };
  } finally {
    await browser.close();
  }
}

// as a script: node dist/bench/browser.js report.html out.png
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, png] = process.argv.slice(2);
  if (!file) {
    console.error('usage: npm run screenshot -- <report.html> [<screenshot.png>]');
    process.exit(2);
  }
  const r = await openReport(file, png);
  console.log(JSON.stringify(r));
  process.exit(r.errors.length ? 1 : 0);
}
