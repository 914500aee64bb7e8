/**
 * Initialisation, §1.1: biases zero, weights uniform in ±sqrt(6 / ((fan_in + fan_out)·k²)).
 */
import { C1_MAPS, C2_MAPS, CLASSES, FEATURES, K, PARAM_COUNT, views } from './layout.js';
import { Rng } from './rng.js';

export const INIT_BOUNDS = {
  k1: Math.sqrt(6 / ((1 + C1_MAPS) * K * K)), // eq 1
  k2: Math.sqrt(6 / ((C1_MAPS + C2_MAPS) * K * K)), // eq 2
  W: Math.sqrt(6 / (FEATURES + CLASSES)), // eq 3
};

/** A fresh parameter buffer drawn from `rng` in the order k1, k2, W (each row-major). */
export function initParams(rng: Rng): Float64Array {
  const all = new Float64Array(PARAM_COUNT); // biases stay 0
  const p = views(all);
  const fill = (a: Float64Array, bound: number) => {
    for (let i = 0; i < a.length; i++) a[i] = (2 * rng.nextFloat() - 1) * bound;
  };
  fill(p.k1, INIT_BOUNDS.k1);
  fill(p.k2, INIT_BOUNDS.k2);
  fill(p.W, INIT_BOUNDS.W);
  return all;
}
