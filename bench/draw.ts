/**
 * Drawing on the pad of a page (cnn-eval --draw, or the report) in a real headless browser, as a
 * person would with a mouse: an MNIST digit is replayed as strokes, one per run of ink along each
 * of its rows, scaled up to the pad; or a sketched digit as one smooth stroke. Used by the tests
 * and to make docs/pad.png: `npm run screenshot:pad -- pad.html docs/pad.png [test digit index]`
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadMnistSplit } from '../src/data/mnist.js';
import { CHROMIUM } from './browser.js';

/** A pixel at least this dark (0..255 ink) is part of a stroke. */
const INK = 128;

export interface OpenPage {
  browser: Browser;
  page: Page;
  /** Console errors and uncaught exceptions. */
  errors: string[];
  /** Every URL the page asked for, the page itself included. */
  requests: string[];
}

export async function openPage(file: string, viewport = { width: 1200, height: 900 }, hasTouch = false): Promise<OpenPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM}: no chromium (apt-get install chromium, or set CHROMIUM_PATH)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport, hasTouch });
  const errors: string[] = [], requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(resolve(file)).href);
  await page.waitForFunction(() => (window.cnnPads?.length ?? 0) > 0, undefined, { timeout: 20_000 });
  return { browser, page, errors, requests };
}

/** The strokes of a 28x28 digit: per row, each run of ink pixels as [x0, x1, y] in MNIST pixels. */
export function strokes(pixels: ArrayLike<number>): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (pixels[y * 28 + x] < INK) continue;
      const x0 = x;
      while (x + 1 < 28 && pixels[y * 28 + x + 1] >= INK) x++;
      out.push([x0, x, y]);
    }
  }
  return out;
}

/** Clear pad `index` and draw the digit on it with the mouse; resolves when the pad has classified it. */
export async function drawDigit(page: Page, pixels: ArrayLike<number>, index = 0): Promise<void> {
  const box = await page.evaluate((i) => {
    const pad = window.cnnPads![i];
    pad.clear();
    pad.canvas.scrollIntoView({ block: 'center' });
    const r = pad.canvas.getBoundingClientRect();
    return { left: r.left + pad.canvas.clientLeft, top: r.top + pad.canvas.clientTop, scale: pad.canvas.clientWidth / pad.canvas.width, side: pad.canvas.width };
  }, index);
  const cell = box.side / 28;
  const at = (x: number, y: number) => [box.left + (x + 0.5) * cell * box.scale, box.top + (y + 0.5) * cell * box.scale] as const;
  for (const [x0, x1, y] of strokes(pixels)) {
    const [ax, ay] = at(x0, y), [bx, by] = at(x1, y);
    await page.mouse.move(ax, ay);
    await page.mouse.down();
    if (x1 > x0) await page.mouse.move(bx, by);
    await page.mouse.up();
  }
  await page.waitForFunction((i) => !window.cnnPads![i].pending, index);
}

/** A "2" as a person might draw it: one stroke through these points of the 280x280 pad, smoothed. */
export const SKETCH_TWO: [number, number][] = [[78, 98], [102, 62], [145, 50], [190, 70], [200, 112], [178, 156], [132, 196], [84, 232], [130, 228], [212, 226]];

/** Points along a Catmull-Rom spline through `p` (a smooth curve, as a hand moves). */
function smooth(p: [number, number][], per = 12): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < p.length; i++) {
    const a = p[Math.max(0, i - 1)], b = p[i], c = p[i + 1], d = p[Math.min(p.length - 1, i + 2)];
    for (let k = 0; k < per; k++) {
      const t = k / per, t2 = t * t, t3 = t2 * t;
      const f = (j: 0 | 1) => 0.5 * (2 * b[j] + (c[j] - a[j]) * t + (2 * a[j] - 5 * b[j] + 4 * c[j] - d[j]) * t2 + (3 * b[j] - a[j] - 3 * c[j] + d[j]) * t3);
      out.push([f(0), f(1)]);
    }
  }
  out.push(p[p.length - 1]);
  return out;
}

/** Clear pad `index` and draw one smooth mouse stroke through `points` (canvas pixels). */
export async function drawStroke(page: Page, points: [number, number][], index = 0): Promise<void> {
  await page.evaluate((i) => {
    window.cnnPads![i].clear();
    window.cnnPads![i].canvas.scrollIntoView({ block: 'center' });
  }, index);
  const path = await page.evaluate(([i, pts]) => pts.map(([x, y]) => window.cnnPads![i].clientPoint(x, y)), [index, smooth(points)] as const);
  await page.mouse.move(path[0].x, path[0].y);
  await page.mouse.down();
  for (const q of path.slice(1)) await page.mouse.move(q.x, q.y);
  await page.mouse.up();
  await page.waitForFunction((i) => !window.cnnPads![i].pending, index);
}

export interface PadReading {
  /** The 784 inputs the page computed, its 10 outputs and its answer. */
  pixels: number[];
  outputs: number[];
  prediction: number;
  /** The answer as shown on the page. */
  shown: string;
  /** The canvas as a PNG file. */
  png: Buffer;
}

export async function readPad(page: Page, index = 0): Promise<PadReading | null> {
  const r = await page.evaluate((i) => {
    const pad = window.cnnPads![i];
    if (!pad.last) return null;
    const root = pad.canvas.closest('.cnn-pad')!;
    return {
      pixels: Array.from(pad.last.pixels),
      outputs: Array.from(pad.last.outputs),
      prediction: pad.last.prediction,
      shown: root.querySelector('.pad-answer')!.textContent ?? '',
      png: pad.canvas.toDataURL('image/png'),
    };
  }, index);
  return r && { ...r, png: Buffer.from(r.png.slice(r.png.indexOf(',') + 1), 'base64') };
}

// as a script: node dist/bench/draw.js pad.html shot.png [index of an MNIST test digit]
// (without an index: the sketched "2" above, one smooth stroke)
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, png, which] = process.argv.slice(2);
  if (!file || !png) {
    console.error('usage: npm run screenshot:pad -- <pad.html> <screenshot.png> [test digit index]');
    process.exit(2);
  }
  const { browser, page, errors } = await openPage(file, { width: 1000, height: 720 });
  try {
    let drawn: Record<string, unknown>;
    if (which === undefined) {
      await drawStroke(page, SKETCH_TWO);
      drawn = { sketch: 2 };
    } else {
      const n = Number(which), test = loadMnistSplit('test');
      await drawDigit(page, test.images.subarray(n * 784, (n + 1) * 784));
      drawn = { digit: n, label: test.labels[n] };
    }
    const r = await readPad(page);
    await page.screenshot({ path: png, fullPage: true });
    console.log(JSON.stringify({ ...drawn, answer: r?.prediction ?? null, errors }));
  } finally {
    await browser.close();
  }
}
