/**
 * Each piece of the WebAssembly kernel alone against the float64 reference layer it implements,
 * for every activation, pooling, output and loss: random inputs are written into the kernel's
 * workspace, one piece runs (src/wasm/kernel.ts piece()), and its outputs are compared with the
 * reference function applied to the same (float32) inputs. Pooled maps are drawn from a few levels
 * so that max-pooling windows hold ties, which both sides must route to the same first maximum.
 */
import { describe, expect, it } from 'vitest';
import { Kernel, kernelModule } from '../src/engine/wasm-module.js';
import { allArchitectures, type Architecture } from '../src/model/architecture.js';
import * as D from '../src/model/dims.js';
import { views } from '../src/model/layout.js';
import { Rng } from '../src/model/rng.js';
import { ACTIVATION_LAYERS } from '../src/nn/activation.js';
import { convBackward, convForward } from '../src/nn/conv.js';
import { fcBackward, fcForward } from '../src/nn/fc.js';
import { lossAndDelta, OUTPUT_LAYERS } from '../src/nn/loss.js';
import { POOL_LAYERS } from '../src/nn/pool.js';
import { flattenBackward, flattenForward } from '../src/nn/vectorize.js';

const PIECE = { c1: 0, s1: 1, c2: 2, s2: 3, vectorize: 4, fc: 5, loss: 6, fcBack: 7, s2Back: 8, c2Back: 9, s1Back: 10, c1Back: 11 };
const C1N = D.C1_MAPS * D.C1_SIDE * D.C1_SIDE, S1N = D.C1_MAPS * D.S1_SIDE * D.S1_SIDE;
const C2N = D.C2_MAPS * D.C2_SIDE * D.C2_SIDE, S2N = D.C2_MAPS * D.S2_SIDE * D.S2_SIDE;
/** The kernel keeps ΔC2 with each row padded by 4 zeros on both sides: [12][8][16], ΔC2[q][i][j] at [q][i][4 + j]. */
const DC2_ROW = D.C2_SIDE + 8, DC2N = D.C2_MAPS * D.C2_SIDE * DC2_ROW;
const padded = (n: number) => Math.floor(n / D.C2_SIDE) * DC2_ROW + 4 + (n % D.C2_SIDE);
/** ΔC2 out of the kernel's padded layout, and whether the padding is all zeros. */
function unpadDc2(v: Float32Array): { dc2: Float64Array; zeroPadding: boolean } {
  const dc2 = new Float64Array(C2N);
  for (let n = 0; n < C2N; n++) dc2[n] = v[padded(n)];
  let zero = true;
  for (let i = 0; i < DC2N; i++) if (i % DC2_ROW < 4 || i % DC2_ROW >= 4 + D.C2_SIDE) zero &&= Object.is(v[i], 0);
  return { dc2, zeroPadding: zero };
}

/** Largest difference relative to the largest reference magnitude. */
function relDiff(got: Float32Array | Float64Array, want: Float64Array): number {
  let d = 0, m = 1e-30;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return d / m;
}

function setup(a: Architecture, seed: number) {
  const k = new Kernel(kernelModule().module, a);
  const rng = new Rng(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rng.nextFloat();
  const fill = (v: Float32Array, f: () => number) => {
    for (let i = 0; i < v.length; i++) v[i] = f();
    return Float64Array.from(v); // the float32 values, in float64
  };
  /** Activations of the chosen kind, on a few levels (ties) and exact zeros for ReLU. */
  const activations = (v: Float32Array) => {
    const z = fill(v, () => Math.round(uniform(-2, 2) * 4) / 4);
    ACTIVATION_LAYERS[a.activation].forward(z, z.length);
    v.set(z);
    return Float64Array.from(v);
  };
  const params = fill(k.params, () => uniform(-0.5, 0.5));
  const slot = () => {
    const g = k.slot(0);
    g.fill(0);
    return g;
  };
  const r = (name: string, n: number) => k.region(name, n);
  return { k, rng, uniform, fill, activations, params, P: views(params), slot, r };
}

for (const a of allArchitectures().filter((x) => x.conv === 'convolution')) {
  const name = `${a.pool} pooling, ${a.activation}, ${a.output} + ${a.loss}`;
  describe(`wasm kernel pieces vs float64 layers: ${name}`, () => {
    const act = ACTIVATION_LAYERS[a.activation], pool = POOL_LAYERS[a.pool];

    it('C1 forward (eqs 4-5) and S1 pooling (eq 6)', () => {
      const s = setup(a, 1);
      const x = s.fill(s.r('x', D.PIXELS), () => s.uniform(0, 1));
      s.k.ex.piece(PIECE.c1, 0);
      const c1 = new Float64Array(C1N);
      convForward(c1, x, s.P.k1, s.P.b1, 1, D.C1_MAPS, D.IN, D.IN);
      act.forward(c1, C1N);
      expect(relDiff(s.r('c1', C1N), c1)).toBeLessThan(2e-6);
      const c1in = s.activations(s.r('c1', C1N));
      s.k.ex.piece(PIECE.s1, 0);
      const s1 = new Float64Array(S1N);
      pool.forward(s1, c1in, D.C1_MAPS, D.S1_SIDE);
      expect(relDiff(s.r('s1', S1N), s1)).toBeLessThan(1e-7);
    });

    it('C2 forward (eqs 7-8), S2 pooling (eq 9), column scan (eq 10)', () => {
      const s = setup(a, 2);
      const s1 = s.activations(s.r('s1', S1N));
      s.k.ex.piece(PIECE.c2, 0);
      const c2 = new Float64Array(C2N);
      convForward(c2, s1, s.P.k2, s.P.b2, D.C1_MAPS, D.C2_MAPS, D.S1_SIDE, D.S1_SIDE);
      act.forward(c2, C2N);
      expect(relDiff(s.r('c2', C2N), c2)).toBeLessThan(2e-6);
      const c2in = s.activations(s.r('c2', C2N));
      s.k.ex.piece(PIECE.s2, 0);
      const s2 = new Float64Array(S2N);
      pool.forward(s2, c2in, D.C2_MAPS, D.S2_SIDE);
      expect(relDiff(s.r('s2', S2N), s2)).toBeLessThan(1e-7);
      s.k.ex.piece(PIECE.vectorize, 0);
      const f = new Float64Array(D.FEATURES);
      flattenForward(f, Float64Array.from(s.r('s2', S2N)), D.C2_MAPS, D.S2_SIDE);
      expect(Array.from(s.r('f', D.FEATURES))).toEqual(Array.from(f));
    });

    it(`FC (eq 12), ${a.output} output, ${a.loss} loss and Δŷ`, () => {
      const s = setup(a, 3);
      const f = s.fill(s.r('f', D.FEATURES), () => s.uniform(0, 1));
      s.k.ex.piece(PIECE.fc, 0);
      const z = new Float64Array(D.CLASSES), y = new Float64Array(D.CLASSES), dz = new Float64Array(D.CLASSES);
      fcForward(z, s.P.W, f, s.P.b, D.CLASSES, D.FEATURES);
      OUTPUT_LAYERS[a.output].forward(y, z, D.CLASSES);
      expect(relDiff(s.r('z', D.CLASSES), z)).toBeLessThan(1e-6);
      expect(relDiff(s.r('y', D.CLASSES), y)).toBeLessThan(2e-6);
      for (const label of [0, 7]) {
        const L = s.k.ex.piece(PIECE.loss, label);
        const want = lossAndDelta(a.output, a.loss, dz, Float64Array.from(s.r('y', D.CLASSES)), Float64Array.from(s.r('z', D.CLASSES)), label, D.CLASSES);
        expect(Math.abs(L - want) / Math.abs(want)).toBeLessThan(1e-6);
        expect(relDiff(s.r('dy', D.CLASSES), dz)).toBeLessThan(1e-6);
      }
    });

    it('FC backward (eqs 19, 24, 30)', () => {
      const s = setup(a, 4);
      const dy = s.fill(s.r('dy', D.CLASSES), () => s.uniform(-0.3, 0.3));
      const f = s.fill(s.r('f', D.FEATURES), () => s.uniform(0, 1));
      const g = s.slot();
      s.k.ex.piece(PIECE.fcBack, 0);
      const G = views(new Float64Array(D.PARAM_COUNT)), df = new Float64Array(D.FEATURES);
      fcBackward(G.W, G.b, df, dy, s.P.W, f, D.CLASSES, D.FEATURES);
      expect(relDiff(views(Float64Array.from(g.subarray(0, D.PARAM_COUNT))).W, G.W)).toBeLessThan(1e-6);
      expect(relDiff(views(Float64Array.from(g.subarray(0, D.PARAM_COUNT))).b, G.b)).toBeLessThan(1e-7);
      expect(relDiff(s.r('df', D.FEATURES), df)).toBeLessThan(1e-6);
    });

    it(`S2 backward: F⁻¹ (eq 31), ${a.pool} pooling (eq 32), ${a.activation}' (eq 37)`, () => {
      const s = setup(a, 5);
      const c2 = s.activations(s.r('c2', C2N));
      s.k.ex.piece(PIECE.s2, 0); // S2 from C2, as the forward pass leaves it
      const df = s.fill(s.r('df', D.FEATURES), () => s.uniform(-1, 1));
      s.k.ex.piece(PIECE.s2Back, 0);
      const ds2 = new Float64Array(S2N), dc2 = new Float64Array(C2N);
      flattenBackward(ds2, df, D.C2_MAPS, D.S2_SIDE);
      pool.backward(dc2, ds2, c2, D.C2_MAPS, D.S2_SIDE);
      act.backward(dc2, c2, C2N);
      const got = unpadDc2(s.r('dc2', DC2N));
      expect(relDiff(got.dc2, dc2)).toBeLessThan(1e-6);
      expect(got.zeroPadding).toBe(true);
    });

    it('C2 backward (eqs 40, 45, 51)', () => {
      const s = setup(a, 6);
      const dc2 = s.fill(new Float32Array(C2N), () => s.uniform(-0.1, 0.1));
      const region = s.r('dc2', DC2N);
      for (let n = 0; n < C2N; n++) region[padded(n)] = dc2[n];
      const s1 = s.activations(s.r('s1', S1N));
      const g = s.slot();
      s.k.ex.piece(PIECE.c2Back, 0);
      const G = views(new Float64Array(D.PARAM_COUNT)), ds1 = new Float64Array(S1N);
      convBackward(G.k2, G.b2, ds1, dc2, s1, s.P.k2, D.C1_MAPS, D.C2_MAPS, D.S1_SIDE, D.S1_SIDE);
      const got = views(Float64Array.from(g.subarray(0, D.PARAM_COUNT)));
      expect(relDiff(got.k2, G.k2)).toBeLessThan(2e-6);
      expect(relDiff(got.b2, G.b2)).toBeLessThan(2e-6);
      expect(relDiff(s.r('ds1', S1N), ds1)).toBeLessThan(2e-6);
    });

    it(`S1 backward: ${a.pool} pooling (eq 52), ${a.activation}' (eq 57)`, () => {
      const s = setup(a, 7);
      const c1 = s.activations(s.r('c1', C1N));
      s.k.ex.piece(PIECE.s1, 0);
      const ds1 = s.fill(s.r('ds1', S1N), () => s.uniform(-1, 1));
      s.k.ex.piece(PIECE.s1Back, 0);
      const dc1 = new Float64Array(C1N);
      pool.backward(dc1, ds1, c1, D.C1_MAPS, D.S1_SIDE);
      act.backward(dc1, c1, C1N);
      expect(relDiff(s.r('dc1', C1N), dc1)).toBeLessThan(1e-6);
    });

    it('C1 backward (eqs 59, 64)', () => {
      const s = setup(a, 8);
      const dc1 = s.fill(s.r('dc1', C1N), () => s.uniform(-0.1, 0.1));
      const x = s.fill(s.r('x', D.PIXELS), () => s.uniform(0, 1));
      const g = s.slot();
      s.k.ex.piece(PIECE.c1Back, 0);
      const G = views(new Float64Array(D.PARAM_COUNT));
      convBackward(G.k1, G.b1, null, dc1, x, s.P.k1, 1, D.C1_MAPS, D.IN, D.IN);
      const got = views(Float64Array.from(g.subarray(0, D.PARAM_COUNT)));
      expect(relDiff(got.k1, G.k1)).toBeLessThan(2e-6);
      expect(relDiff(got.b1, G.b1)).toBeLessThan(2e-6);
    });
  });
}
