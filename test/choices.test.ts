/**
 * The seeds' design choices, layer by layer, on the small examples the seeds work by hand:
 * true convolution and cross-correlation (forward, kernel gradient, input gradient), max pooling
 * with the error routed to the first maximum, softmax with cross-entropy; and the activations.
 */
import { describe, expect, it } from 'vitest';
import { ACTIVATION_LAYERS } from '../src/nn/activation.js';
import { convBackward, convForward } from '../src/nn/conv.js';
import { crossEntropy, lossAndDelta, OUTPUT_LAYERS } from '../src/nn/loss.js';
import { maxPoolBackward, maxPoolForward } from '../src/nn/pool.js';
import type { Conv } from '../src/model/architecture.js';

const f64 = (rows: number[][]) => Float64Array.from(rows.flat());
const grid = (a: Float64Array, w: number) => Array.from({ length: a.length / w }, (_, i) => Array.from(a.subarray(i * w, i * w + w)));

describe('convolution and correlation: X 3x3, kernel 2x2, output error 2x2 (the seeds\' example)', () => {
  const X = f64([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  const k = f64([[1, 2], [3, 4]]);
  const dz = f64([[1, -1], [2, 3]]);
  const cases: [Conv, number[][], number[][], number[][]][] = [
    ['convolution', [[23, 33], [53, 63]], [[42, 37], [27, 22]], [[4, -1, -3], [10, 17, 8], [4, 8, 3]]],
    ['correlation', [[37, 47], [67, 77]], [[22, 27], [37, 42]], [[1, 1, -2], [5, 8, 2], [6, 17, 12]]],
  ];
  for (const [conv, out, dk, dx] of cases) {
    it(`${conv}: output ${JSON.stringify(out)}, kernel gradient ${JSON.stringify(dk)}, input gradient ${JSON.stringify(dx)}`, () => {
      const z = new Float64Array(4);
      convForward(z, X, k, new Float64Array([0]), 1, 1, 3, 3, conv, 2);
      expect(grid(z, 2)).toEqual(out);
      const gk = new Float64Array(4), gb = new Float64Array(1), gx = new Float64Array(9);
      convBackward(gk, gb, gx, dz, X, k, 1, 1, 3, 3, conv, 2);
      expect(grid(gk, 2)).toEqual(dk);
      expect(grid(gx, 3)).toEqual(dx);
      expect(gb[0]).toBe(1 - 1 + 2 + 3);
    });
  }
});

describe('max pooling: the error goes to the first maximum of each window', () => {
  it('[[1,5,2,0],[3,2,7,7],[0,-1,4,6],[9,2,3,8]] pools to [[5,7],[9,8]]; [[1,2],[3,4]] goes back to the winners', () => {
    const c = f64([[1, 5, 2, 0], [3, 2, 7, 7], [0, -1, 4, 6], [9, 2, 3, 8]]);
    const s = new Float64Array(4);
    maxPoolForward(s, c, 1, 2);
    expect(grid(s, 2)).toEqual([[5, 7], [9, 8]]);
    const dc = new Float64Array(16).fill(99); // overwritten entirely
    maxPoolBackward(dc, f64([[1, 2], [3, 4]]), c, 1, 2);
    // window (0,1) holds 7 twice, at (1,0) and (1,1) of the window: the first in the order gets it
    expect(grid(dc, 4)).toEqual([[0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0], [3, 0, 0, 4]]);
  });
  it('a window of four equal values sends the error to (0,0)', () => {
    const dc = new Float64Array(4);
    maxPoolBackward(dc, f64([[5]]), f64([[0, 0], [0, 0]]), 1, 1);
    expect(Array.from(dc)).toEqual([5, 0, 0, 0]);
  });
});

describe('softmax and cross-entropy', () => {
  it('all-zero logits, label 3: loss ln 10, ∂L/∂z = 0.1 except −0.9 at the label', () => {
    const z = new Float64Array(10), y = new Float64Array(10), dz = new Float64Array(10);
    OUTPUT_LAYERS.softmax.forward(y, z, 10);
    expect(Array.from(y)).toEqual(new Array(10).fill(0.1));
    const L = lossAndDelta('softmax', 'cross-entropy', dz, y, z, 3, 10);
    expect(L).toBeCloseTo(Math.log(10), 15);
    for (let i = 0; i < 10; i++) expect(dz[i]).toBeCloseTo(i === 3 ? -0.9 : 0.1, 15);
  });
  it('stays finite when the label\'s probability underflows (logits 0 and 1000)', () => {
    const z = new Float64Array(10);
    z[0] = 1000;
    expect(crossEntropy(z, 3, 10)).toBe(1000);
    const y = new Float64Array(10), dz = new Float64Array(10);
    OUTPUT_LAYERS.softmax.forward(y, z, 10);
    lossAndDelta('softmax', 'cross-entropy', dz, y, z, 3, 10);
    expect(Array.from(dz)).toEqual([1, 0, 0, -1, 0, 0, 0, 0, 0, 0]);
  });
  it('softmax with mse: ∂L/∂z is the Jacobian of softmax applied to ŷ − y (checked by finite differences)', () => {
    const z = Float64Array.from({ length: 10 }, (_, i) => Math.sin(i + 1));
    const y = new Float64Array(10), dz = new Float64Array(10);
    OUTPUT_LAYERS.softmax.forward(y, z, 10);
    lossAndDelta('softmax', 'mse', dz, y, z, 4, 10);
    const L = (zz: Float64Array) => {
      const yy = new Float64Array(10);
      OUTPUT_LAYERS.softmax.forward(yy, zz, 10);
      return yy.reduce((a, v, i) => a + 0.5 * (v - (i === 4 ? 1 : 0)) ** 2, 0);
    };
    for (let i = 0; i < 10; i++) {
      const p = Float64Array.from(z), m = Float64Array.from(z);
      p[i] += 1e-6;
      m[i] -= 1e-6;
      expect(dz[i]).toBeCloseTo((L(p) - L(m)) / 2e-6, 9);
    }
  });
});

describe('activations', () => {
  it("ReLU: max(0, z); ReLU'(0) = 0", () => {
    const a = Float64Array.from([-2, 0, 3]);
    ACTIVATION_LAYERS.relu.forward(a, 3);
    expect(Array.from(a)).toEqual([0, 0, 3]);
    const d = Float64Array.from([1, 1, 1]);
    ACTIVATION_LAYERS.relu.backward(d, a, 3);
    expect(Array.from(d)).toEqual([0, 0, 1]);
  });
  it("tanh: tanh'(z) = 1 − tanh²(z)", () => {
    const a = Float64Array.from([0.3]);
    ACTIVATION_LAYERS.tanh.forward(a, 1);
    const d = Float64Array.from([1]);
    ACTIVATION_LAYERS.tanh.backward(d, a, 1);
    expect(d[0]).toBeCloseTo((Math.tanh(0.3 + 1e-7) - Math.tanh(0.3 - 1e-7)) / 2e-7, 8);
  });
  it('ReLU keeps NaN (a diverging run is noticed)', () => {
    const a = Float64Array.from([NaN]);
    ACTIVATION_LAYERS.relu.forward(a, 1);
    expect(a[0]).toBeNaN();
  });
});
