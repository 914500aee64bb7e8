/**
 * Every gradient group of §2 (eqs 19, 24, 40, 45, 59, 64) against central finite differences of
 * the loss (eq 13) in float64.
 */
import { describe, expect, it } from 'vitest';
import { GROUPS, OFFSETS } from '../src/model/layout.js';
import { initParams } from '../src/model/init.js';
import { Rng } from '../src/model/rng.js';
import { ReferenceNetwork } from '../src/nn/network.js';
import { fixtureTrain } from './helpers/fixture.js';
import { gradcheck, gradientError } from '../src/train/gradcheck.js';
import { loadMnistSplit } from '../src/data/mnist.js';
import { PAPER } from '../src/model/architecture.js';

function setup(seed: number) {
  const rng = new Rng(seed);
  const params = initParams(rng);
  // non-zero biases, so that their gradients are taken at a generic point
  for (const g of ['b1', 'b2', 'b'] as const) {
    for (let i = 0; i < OFFSETS[g].length; i++) params[OFFSETS[g].offset + i] = rng.nextFloat() - 0.5;
  }
  return { rng, net: new ReferenceNetwork(params) };
}

describe('analytic gradients (eqs 14-64) match central finite differences', () => {
  const data = fixtureTrain();
  const images = [0, 1, 7]; // a 5, a 0 and a 3
  const lossOver = (net: ReferenceNetwork) => {
    let L = 0;
    for (const n of images) {
      net.setInput(data.images, n * 784);
      L += net.loss(data.labels[n]);
    }
    return L;
  };

  for (const seed of [1, 2]) {
    it(`every parameter group, seed ${seed}: relative error < 1e-6`, () => {
      const { rng, net } = setup(seed);
      net.grads.all.fill(0);
      for (const n of images) {
        net.setInput(data.images, n * 784);
        net.forward();
        net.backward(data.labels[n]);
      }
      const analytic = Float64Array.from(net.grads.all);
      const p = net.params.all;
      // h = 1e-4 balances truncation (~h²) against rounding (~1e-16·L/h) for these gradient sizes (1e-5..1e-1)
      const h = 1e-4;
      const report: Record<string, { checked: number; maxRel: number }> = {};
      for (const g of GROUPS) {
        const { offset, length } = OFFSETS[g];
        // every entry of the small groups, 250 random entries of k2 and W
        const idx = length <= 200 ? [...Array(length).keys()] : Array.from({ length: 250 }, () => rng.nextInt(length));
        let maxRel = 0;
        for (const i of idx) {
          const k = offset + i;
          const v = p[k];
          p[k] = v + h;
          const Lp = lossOver(net);
          p[k] = v - h;
          const Lm = lossOver(net);
          p[k] = v;
          const num = (Lp - Lm) / (2 * h);
          const a = analytic[k];
          // relative error, with an absolute floor for gradients that are ~0
          const rel = Math.abs(a - num) / Math.max(Math.abs(a), Math.abs(num), 1e-6);
          maxRel = Math.max(maxRel, rel);
        }
        report[g] = { checked: idx.length, maxRel };
      }
      for (const g of GROUPS) expect(report[g].maxRel, `${g}: ${JSON.stringify(report[g])}`).toBeLessThan(1e-6);
      expect(Object.values(report).reduce((a, r) => a + r.checked, 0)).toBe(150 + 6 + 250 + 12 + 250 + 10);
    });
  }
});

describe('gradcheck() (the `cnn-train gradcheck` command)', () => {
  it('passes on real digits, for every group, and reports the worst entry', () => {
    const r = gradcheck({ seed: 3, data: fixtureTrain(), images: 2, entries: 40 });
    expect(r.rows.map((x) => x.group)).toEqual(['k1', 'b1', 'k2', 'b2', 'W', 'b']);
    expect(r.rows.map((x) => x.equation)).toEqual(['eq 59', 'eq 64', 'eq 40', 'eq 45', 'eq 19', 'eq 24']);
    for (const row of r.rows) {
      expect(row.maxRelError).toBeLessThan(1e-6);
      expect(Math.abs(row.worst.analytic - row.worst.numeric)).toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(row.worst.analytic), 1e-6));
    }
    expect(r.pass).toBe(true);
  });
  it('a tiny correct gradient passes (rounding is absolute), a wrong one of any size fails', () => {
    // found by a new-user pass: ReLU, one image, 2 000 entries; k1 entry 1.751359e-7 vs 1.751332e-7
    // failed (relative error 2.6e-6 against a floor of 1e-6) although the two agree to 2.7e-12
    expect(gradientError(1.751359e-7, 1.751332e-7)).toBeLessThan(1e-6);
    expect(gradientError(1.75e-7, 1.6e-7)).toBeGreaterThan(1e-6); // 9 % off: fails
    expect(gradientError(1.75e-7, 1.74e-7)).toBeGreaterThan(1e-6); // 0.6 % off: fails
    expect(gradientError(0.3, 0.3 * (1 + 2e-6))).toBeGreaterThan(1e-6); // large ones stay relative
    // the same check as `cnn-train gradcheck --activation relu --images 1 --entries 2000` (the test digits)
    const r = gradcheck({ seed: 1, data: loadMnistSplit('test'), architecture: { ...PAPER, activation: 'relu' }, images: 1, entries: 2000 });
    expect(r.rows.find((x) => x.group === 'k1')!.checked).toBe(150);
    expect(r.pass, JSON.stringify(r.rows.map((x) => [x.group, x.maxRelError, x.worst]))).toBe(true);
  }, 60_000);
  it('fails when the tolerance is below what finite differences can resolve', () => {
    const r = gradcheck({ seed: 3, data: fixtureTrain(), images: 1, entries: 20, tolerance: 1e-13 });
    expect(r.pass).toBe(false);
  });
});
