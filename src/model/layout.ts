/**
 * Where each parameter lives: all 3898 parameters in one contiguous buffer, each group a named view
 * at a fixed offset, in the layout of the model-file contract (sizes and offsets: dims.ts).
 *   k1[p][r][c]      p<6,          r,c<5
 *   b1[p]
 *   k2[p][q][r][c]   p<6 (S1 map), q<12 (C2 map)
 *   b2[q]
 *   W[i][j]          i<10, j<192   (W[i][j] multiplies f[j])
 *   b[i]
 */
import * as D from './dims.js';

export { C1_MAPS, C1_SIDE, C2_MAPS, C2_SIDE, CLASSES, FEATURES, IN, K, PARAM_COUNT, S1_SIDE, S2_SIDE } from './dims.js';

export const GROUPS = ['k1', 'b1', 'k2', 'b2', 'W', 'b'] as const;
export type Group = (typeof GROUPS)[number];

/** Shape of each group as nested-array dimensions (the model-file contract). */
export const SHAPES: Record<Group, readonly number[]> = {
  k1: [D.C1_MAPS, D.K, D.K],
  b1: [D.C1_MAPS],
  k2: [D.C1_MAPS, D.C2_MAPS, D.K, D.K],
  b2: [D.C2_MAPS],
  W: [D.CLASSES, D.FEATURES],
  b: [D.CLASSES],
};

/** Offset and length of each group in the parameter buffer. */
export const OFFSETS: Record<Group, { offset: number; length: number }> = {
  k1: { offset: D.K1_OFFSET, length: D.K1_LENGTH },
  b1: { offset: D.B1_OFFSET, length: D.B1_LENGTH },
  k2: { offset: D.K2_OFFSET, length: D.K2_LENGTH },
  b2: { offset: D.B2_OFFSET, length: D.B2_LENGTH },
  W: { offset: D.W_OFFSET, length: D.W_LENGTH },
  b: { offset: D.B_OFFSET, length: D.B_LENGTH },
};

// the groups follow each other in GROUPS order and fill the buffer, each as large as its shape
{
  let o = 0;
  for (const g of GROUPS) {
    const size = SHAPES[g].reduce((a, d) => a * d, 1);
    if (OFFSETS[g].offset !== o || OFFSETS[g].length !== size) throw new Error(`dims.ts: group ${g} is not at ${o} with ${size} entries`);
    o += size;
  }
  if (o !== D.PARAM_COUNT) throw new Error(`dims.ts: PARAM_COUNT is ${D.PARAM_COUNT}, the groups hold ${o}`);
}

/** Named views of one parameter (or gradient) buffer. */
export interface ParamViews<T extends Float32Array | Float64Array> {
  all: T;
  k1: T;
  b1: T;
  k2: T;
  b2: T;
  W: T;
  b: T;
}

export function views<T extends Float32Array | Float64Array>(all: T): ParamViews<T> {
  if (all.length !== D.PARAM_COUNT) throw new Error(`parameter buffer has ${all.length} entries, expected ${D.PARAM_COUNT}`);
  const v = (g: Group) => all.subarray(OFFSETS[g].offset, OFFSETS[g].offset + OFFSETS[g].length) as T;
  return { all, k1: v('k1'), b1: v('b1'), k2: v('k2'), b2: v('b2'), W: v('W'), b: v('b') };
}

/**
 * The kernels rotated by 180° in place: k[r][c] <-> k[4−r][4−c] for every 5x5 kernel of k1 and k2.
 * Cross-correlation with k is true convolution with k rotated, so rotating maps the parameters of
 * one choice of --conv onto the other exactly.
 */
export function rotateKernels<T extends Float32Array | Float64Array>(params: T): T {
  for (const g of ['k1', 'k2'] as const) {
    const { offset, length } = OFFSETS[g];
    for (let k = offset; k < offset + length; k += D.KK) {
      for (let i = 0; i < (D.KK - 1) / 2; i++) {
        const a = params[k + i];
        params[k + i] = params[k + D.KK - 1 - i];
        params[k + D.KK - 1 - i] = a;
      }
    }
  }
  return params;
}
