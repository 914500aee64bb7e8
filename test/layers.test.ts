import { describe, expect, it } from 'vitest';
import { convBackward, convForward } from '../src/nn/conv.js';
import { ReferenceNetwork } from '../src/nn/network.js';
import { meanPoolBackward as poolBackward, meanPoolForward as poolForward } from '../src/nn/pool.js';
import { flattenBackward, flattenForward } from '../src/nn/vectorize.js';
import { initParams } from '../src/model/init.js';
import { Rng } from '../src/model/rng.js';
import { fixtureTest } from './helpers/fixture.js';
import { imageAt, naiveForward } from './helpers/naive.js';

const range = (n: number, f: (i: number) => number = (i) => i) => Float64Array.from({ length: n }, (_, i) => f(i));

describe('convolution is TRUE convolution (eq 5), worked by hand', () => {
  // 6x6 input x[i][j] = 10 i + j, so every output names the input it came from
  const x = range(36, (t) => 10 * Math.floor(t / 6) + (t % 6));
  const z = new Float64Array(4);
  const kernelWithOne = (r: number, c: number) => range(25, (t) => (t === r * 5 + c ? 1 : 0));

  it('a 1 at k[0][0] picks x[i+4][j+4] (the kernel is flipped; cross-correlation would pick x[i][j])', () => {
    convForward(z, x, kernelWithOne(0, 0), new Float64Array([0]), 1, 1, 6, 6);
    expect(Array.from(z)).toEqual([44, 45, 54, 55]);
  });
  it('a 1 at k[4][4] picks x[i][j], a 1 at k[0][4] picks x[i+4][j]', () => {
    convForward(z, x, kernelWithOne(4, 4), new Float64Array([0]), 1, 1, 6, 6);
    expect(Array.from(z)).toEqual([0, 1, 10, 11]);
    convForward(z, x, kernelWithOne(0, 4), new Float64Array([0]), 1, 1, 6, 6);
    expect(Array.from(z)).toEqual([40, 41, 50, 51]);
  });
  it('all-ones kernel sums the 5x5 window, plus the bias', () => {
    convForward(z, x, range(25, () => 1), new Float64Array([0.5]), 1, 1, 6, 6);
    // window at (0,0): Σ_{i<5,j<5} (10i + j) = 5·(10·10) + 5·10 = 550
    expect(Array.from(z)).toEqual([550.5, 575.5, 800.5, 825.5]);
  });
  it('sums over input maps (eq 8): two maps with the same delta kernel add up', () => {
    const x2 = new Float64Array(72);
    x2.set(x, 0);
    x2.set(x, 36);
    const k = new Float64Array(50);
    k.set(kernelWithOne(4, 4), 0); // k[p=0][q=0]
    k.set(kernelWithOne(4, 4), 25); // k[p=1][q=0]
    convForward(z, x2, k, new Float64Array([1]), 2, 1, 6, 6);
    expect(Array.from(z)).toEqual([1, 3, 21, 23]);
  });
  it('backward of a delta kernel routes the error back to the input it came from (full convolution, eq 51)', () => {
    const dk = new Float64Array(25), db = new Float64Array(1), dx = new Float64Array(36);
    convBackward(dk, db, dx, new Float64Array([1, 0, 0, 0]), x, kernelWithOne(0, 0), 1, 1, 6, 6);
    expect(dx[4 * 6 + 4]).toBe(1);
    expect(Array.from(dx).reduce((a, b) => a + b)).toBe(1);
    expect(db[0]).toBe(1);
    // Δk(r,c) = x[4-r][4-c] for an error of 1 at output (0,0) (eq 39)
    expect(dk[0]).toBe(44);
    expect(dk[24]).toBe(0);
    expect(dk[1 * 5 + 2]).toBe(32);
  });
});

describe('pooling and vectorisation, worked by hand', () => {
  it('2x2 mean pooling (eq 6) and its upsampling (eq 32)', () => {
    const c = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const s = new Float64Array(4);
    poolForward(s, c, 1, 2);
    expect(Array.from(s)).toEqual([3.5, 5.5, 11.5, 13.5]);
    const dc = new Float64Array(16);
    poolBackward(dc, Float64Array.from([4, 8, 12, 16]), 1, 2);
    expect(Array.from(dc)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });
  it('column scan (eq 10): [[1,2],[3,4]] becomes [1,3,2,4], and F⁻¹ undoes it (eq 31)', () => {
    const f = new Float64Array(8);
    flattenForward(f, Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 2, 2);
    expect(Array.from(f)).toEqual([1, 3, 2, 4, 5, 7, 6, 8]);
    const s = new Float64Array(8);
    flattenBackward(s, f, 2, 2);
    expect(Array.from(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('the whole forward pass against an independent implementation of eqs 4-12', () => {
  it('agrees to 1e-12 on real digits with random parameters and biases', () => {
    const rng = new Rng(7);
    const params = initParams(rng);
    for (let i = 150; i < 156; i++) params[i] = rng.nextFloat() - 0.5;
    for (let i = 1956; i < 1968; i++) params[i] = rng.nextFloat() - 0.5;
    for (let i = 3888; i < 3898; i++) params[i] = rng.nextFloat() - 0.5;
    const net = new ReferenceNetwork(params);
    const test = fixtureTest();
    for (const n of [0, 1, 2, 17]) {
      net.setInput(test.images, n * 784);
      const got = Array.from(net.forward());
      const want = naiveForward(params, imageAt(test.images, n));
      for (let i = 0; i < 10; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-12);
    }
  });
});
