/**
 * The paper's derivation checked numerically: every gradient group of §2 (eqs 19, 24, 40, 45,
 * 59, 64), computed analytically by the float64 reference layers, against central finite
 * differences of the loss (eq 13), at a random point (random weights and biases) on real digits.
 */
import { PIXELS, type Dataset } from '../data/mnist.js';
import { GROUPS, OFFSETS, type Group } from '../model/layout.js';
import { initParams } from '../model/init.js';
import { Rng } from '../model/rng.js';
import { ReferenceNetwork } from '../nn/network.js';

export const GRADIENT_EQUATIONS: Record<Group, string> = {
  k1: 'eq 59', b1: 'eq 64', k2: 'eq 40', b2: 'eq 45', W: 'eq 19', b: 'eq 24',
};

export interface GradcheckOptions {
  seed: number;
  data: Dataset;
  /** Digits the loss is summed over. */
  images?: number;
  /** Entries checked per group (all of a group when it is smaller). */
  entries?: number;
  /** Finite-difference step. */
  h?: number;
  tolerance?: number;
}

export interface GradcheckRow {
  group: Group;
  equation: string;
  checked: number;
  maxRelError: number;
  /** The entry with the largest error: analytic and numeric values. */
  worst: { index: number; analytic: number; numeric: number };
  pass: boolean;
}

export function gradcheck(o: GradcheckOptions): { rows: GradcheckRow[]; images: number[]; pass: boolean } {
  const rng = new Rng(o.seed);
  const params = initParams(rng);
  for (const g of ['b1', 'b2', 'b'] as const) {
    for (let i = 0; i < OFFSETS[g].length; i++) params[OFFSETS[g].offset + i] = rng.nextFloat() - 0.5;
  }
  const net = new ReferenceNetwork(params);
  const images = Array.from({ length: o.images ?? 3 }, () => rng.nextInt(o.data.count));
  const h = o.h ?? 1e-4; // balances truncation (~h²) against rounding (~1e-16·L/h)
  const tol = o.tolerance ?? 1e-6;
  const loss = () => {
    let L = 0;
    for (const n of images) {
      net.setInput(o.data.images, n * PIXELS);
      L += net.loss(o.data.labels[n]);
    }
    return L;
  };
  net.grads.all.fill(0);
  for (const n of images) {
    net.setInput(o.data.images, n * PIXELS);
    net.forward();
    net.backward(o.data.labels[n]);
  }
  const analytic = Float64Array.from(net.grads.all);
  const p = net.params.all;
  const rows = GROUPS.map((group): GradcheckRow => {
    const { offset, length } = OFFSETS[group];
    const n = Math.min(length, o.entries ?? 60);
    const idx = n === length ? [...Array(length).keys()] : Array.from({ length: n }, () => rng.nextInt(length));
    let worst = { index: -1, analytic: 0, numeric: 0 };
    let maxRel = 0;
    for (const i of idx) {
      const k = offset + i;
      const v = p[k];
      p[k] = v + h;
      const Lp = loss();
      p[k] = v - h;
      const Lm = loss();
      p[k] = v;
      const numeric = (Lp - Lm) / (2 * h);
      const a = analytic[k];
      // relative error, with an absolute floor for gradients that are ~0
      const rel = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 1e-6);
      if (rel >= maxRel) {
        maxRel = rel;
        worst = { index: i, analytic: a, numeric };
      }
    }
    return { group, equation: GRADIENT_EQUATIONS[group], checked: idx.length, maxRelError: maxRel, worst, pass: maxRel < tol };
  });
  return { rows, images, pass: rows.every((r) => r.pass) };
}
