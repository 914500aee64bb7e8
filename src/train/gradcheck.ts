/**
 * The derivation checked numerically: every gradient group of §2 (eqs 19, 24, 40, 45, 59, 64),
 * computed analytically by the float64 reference layers of the chosen architecture, against
 * central finite differences of the loss, at a random point (random weights and biases) on real
 * digits. With ReLU or max pooling the loss has kinks; an entry whose ±2h neighbourhood crosses one
 * (a ReLU unit switching, a max-pool winner changing) is skipped and counted, since a difference
 * quotient across a kink says nothing about the derivative.
 */
import { PIXELS, type Dataset } from '../data/mnist.js';
import { PAPER, type Architecture } from '../model/architecture.js';
import { GROUPS, OFFSETS, type Group } from '../model/layout.js';
import { initParams } from '../model/init.js';
import { Rng } from '../model/rng.js';
import { ReferenceNetwork } from '../nn/network.js';

export const GRADIENT_EQUATIONS: Record<Group, string> = {
  k1: 'eq 59', b1: 'eq 64', k2: 'eq 40', b2: 'eq 45', W: 'eq 19', b: 'eq 24',
};

/**
 * The finite-difference step of an architecture: it balances truncation (~h²·L''') against
 * rounding (~1e-16·L/h). 1e-4 suits every choice so far: with ReLU a smaller step would meet fewer
 * kinks, but 1e-5 already lets rounding reach 1e-6 of small gradients (measured); kinks are
 * skipped instead. A choice with a larger third derivative may need its own step here.
 */
export function defaultStep(_a: Architecture): number {
  return 1e-4;
}

/**
 * Below this size a gradient is compared absolutely: |analytic − numeric| / FLOOR. Central
 * differences of a float64 loss carry rounding of ~1e-16·L/h ≈ 1e-12 to 1e-11 (h = 1e-4, more
 * with many summed terms), so a pure relative error fails correct gradients of ~1e-7 (measured:
 * ReLU k1 entries of 1.75e-7 off by 2.7e-12). With this floor a gradient of any size passes at
 * 1e-6 only if it is right to 1e-10 absolutely, far below what a wrong formula gives.
 */
export const GRADIENT_FLOOR = 1e-4;

/** The error gradcheck measures: relative, with an absolute floor for small gradients. */
export function gradientError(analytic: number, numeric: number): number {
  return Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), GRADIENT_FLOOR);
}

export interface GradcheckOptions {
  seed: number;
  data: Dataset;
  architecture?: Architecture;
  /** Digits the loss is summed over. */
  images?: number;
  /** Entries checked per group (all of a group when it is smaller). */
  entries?: number;
  /** Finite-difference step (default: defaultStep). */
  h?: number;
  tolerance?: number;
}

export interface GradcheckRow {
  group: Group;
  equation: string;
  checked: number;
  /** Entries skipped because a kink (ReLU, max-pool tie) lies within ±2h. */
  skipped: number;
  maxRelError: number;
  /** The entry with the largest error: analytic and numeric values. */
  worst: { index: number; analytic: number; numeric: number };
  pass: boolean;
}

export interface GradcheckResult {
  rows: GradcheckRow[];
  images: number[];
  architecture: Architecture;
  h: number;
  tolerance: number;
  pass: boolean;
}

export function gradcheck(o: GradcheckOptions): GradcheckResult {
  const architecture = o.architecture ?? PAPER;
  const rng = new Rng(o.seed);
  const params = initParams(rng);
  for (const g of ['b1', 'b2', 'b'] as const) {
    for (let i = 0; i < OFFSETS[g].length; i++) params[OFFSETS[g].offset + i] = rng.nextFloat() - 0.5;
  }
  const net = new ReferenceNetwork(params, architecture);
  const images = Array.from({ length: o.images ?? 3 }, () => rng.nextInt(o.data.count));
  const h = o.h ?? defaultStep(architecture);
  const tol = o.tolerance ?? 1e-6;
  const smooth = architecture.activation !== 'relu' && architecture.pool !== 'max';
  /** The loss summed over the digits, and the pattern of kinks it went through. */
  const evaluate = () => {
    let L = 0;
    let pattern = 0;
    for (const n of images) {
      net.setInput(o.data.images, n * PIXELS);
      L += net.loss(o.data.labels[n]);
      if (!smooth) pattern = (Math.imul(pattern, 31) + net.pattern()) >>> 0;
    }
    return { L, pattern };
  };
  net.grads.all.fill(0);
  for (const n of images) {
    net.setInput(o.data.images, n * PIXELS);
    net.forward();
    net.backward(o.data.labels[n]);
  }
  const analytic = Float64Array.from(net.grads.all);
  const p = net.params.all;
  const base = smooth ? 0 : evaluate().pattern;
  const rows = GROUPS.map((group): GradcheckRow => {
    const { offset, length } = OFFSETS[group];
    const n = Math.min(length, o.entries ?? 60);
    const idx = n === length ? [...Array(length).keys()] : Array.from({ length: n }, () => rng.nextInt(length));
    let worst = { index: -1, analytic: 0, numeric: 0 };
    let maxRel = 0;
    let checked = 0;
    let skipped = 0;
    for (const i of idx) {
      const k = offset + i;
      const v = p[k];
      const at = (d: number) => {
        p[k] = v + d;
        return evaluate();
      };
      const plus = at(h), minus = at(-h);
      const kink = !smooth && [plus, minus, at(2 * h), at(-2 * h)].some((e) => e.pattern !== base);
      p[k] = v;
      if (kink) {
        skipped++;
        continue;
      }
      checked++;
      const numeric = (plus.L - minus.L) / (2 * h);
      const a = analytic[k];
      const rel = gradientError(a, numeric);
      if (rel >= maxRel) {
        maxRel = rel;
        worst = { index: i, analytic: a, numeric };
      }
    }
    return { group, equation: GRADIENT_EQUATIONS[group], checked, skipped, maxRelError: maxRel, worst, pass: checked > 0 && maxRel < tol };
  });
  return { rows, images, architecture, h, tolerance: tol, pass: rows.every((r) => r.pass) };
}
