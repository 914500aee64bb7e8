/**
 * The HTML report: its content, that it is self-contained, and that it loads without errors in a
 * real headless browser (Debian's chromium via playwright-core) with its charts drawn.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM, openReport } from '../bench/browser.js';
import { createEngine } from '../src/engine/create-engine.js';
import type { Engine } from '../src/engine/engine.js';
import { loadModel } from '../src/io/model-file.js';
import { reportData } from '../src/report/report.js';
import { FIXTURE_DIR, fixtureTest, ROOT } from './helpers/fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'cnn-report-'));
const env = { ...process.env, NO_COLOR: '1' };
const engines: Engine[] = [];
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

// train a small model on the fixture through the CLI, with --report
const trained = spawnSync(process.execPath, [join(ROOT, 'bin', 'cnn-train.js'), '--data', FIXTURE_DIR, '--epochs', '3', '--out', 'm.json', '--report', 'train.html'], { cwd: dir, env, encoding: 'utf8' });

describe('training report', () => {
  it('cnn-train --report and cnn-eval --report write the file', () => {
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/report train\.html/);
    const ev = spawnSync(process.execPath, [join(ROOT, 'bin', 'cnn-eval.js'), 'm.json', '--data', FIXTURE_DIR, '--report', 'eval.html'], { cwd: dir, env, encoding: 'utf8' });
    expect(ev.status, ev.stderr).toBe(0);
    expect(existsSync(join(dir, 'eval.html'))).toBe(true);
  });

  it('holds the kernels, feature maps, confusion matrix and the worst digits of the model', async () => {
    const engine = await createEngine('wasm', 1);
    engines.push(engine);
    const model = loadModel(join(dir, 'm.json'));
    const test = fixtureTest();
    const d = (await reportData({ model, test, engine }))!;
    expect(d.k1).toHaveLength(6);
    expect(d.k1[2][7]).toBeCloseTo(model.parameters[2 * 25 + 7], 4);
    expect(d.k2.map((r) => r.length)).toEqual([12, 12, 12, 12, 12, 12]);
    expect(d.maps).toHaveLength(4);
    expect(d.maps[0].c1.map((m) => m.length)).toEqual([576, 576, 576, 576, 576, 576]);
    expect(d.maps[0].c2).toHaveLength(12);
    expect(d.evaluation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(300);
    expect(d.worst.length).toBe(Math.min(24, d.evaluation.errors));
    for (const w of d.worst) expect(w.prediction).not.toBe(w.label);
    for (let i = 1; i < d.worst.length; i++) expect(d.worst[i].confidence).toBeGreaterThanOrEqual(d.worst[i - 1].confidence);
    expect(d.training?.history).toHaveLength(3);
  });

  it('is self-contained: no external scripts, styles or images', () => {
    const html = readFileSync(join(dir, 'train.html'), 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
    expect(html).toMatch(/Chart\.js v4/); // the library is inlined
  });

  const hasBrowser = existsSync(CHROMIUM);
  it.skipIf(!hasBrowser && !process.env.CI)('loads in headless chromium without console errors, with its charts drawn', async () => {
    const r = await openReport(join(dir, 'train.html'), join(dir, 'train.png'));
    expect(r.errors).toEqual([]);
    expect(r.charts).toBe(2);
    for (const c of r.chartCanvases) {
      expect(c.width).toBeGreaterThan(300);
      expect(c.height).toBeGreaterThan(100);
    }
    // 6 C1 + 72 C2 kernels, 4 digits x (1 + 6 + 12) maps, and the worst digits
    const worst = (await reportData({ model: loadModel(join(dir, 'm.json')), test: fixtureTest(), engine: engines[0] }))!.worst.length;
    expect(r.pixelCanvases).toBe(6 + 72 + 4 * 19 + worst);
    expect(readFileSync(join(dir, 'train.png')).subarray(1, 4).toString()).toBe('PNG');
  });
});
