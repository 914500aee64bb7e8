/**
 * The network of Zhang (2016), Fig. 1, and where each parameter lives.
 *
 *   I   1@28x28 --C1 (6 kernels 5x5, true conv, sigmoid)--> 6@24x24 --S1 (2x2 mean)--> 6@12x12
 *       --C2 (6x12 kernels 5x5, summed over the 6 inputs, sigmoid)--> 12@8x8 --S2 (2x2 mean)--> 12@4x4
 *       --F (column scan, eq 10)--> f 192 --FC (W 10x192, b 10, sigmoid)--> ŷ 10
 *
 * All 3898 parameters live in one contiguous buffer; each group is a named view at a fixed offset.
 * Layouts (row-major, last index fastest), identical to the model-file contract:
 *   k1[p][r][c]      p<6,          r,c<5
 *   b1[p]
 *   k2[p][q][r][c]   p<6 (S1 map), q<12 (C2 map)
 *   b2[q]
 *   W[i][j]          i<10, j<192   (W[i][j] multiplies f[j])
 *   b[i]
 */
export const K = 5; // kernel side
export const IN = 28; // input side
export const C1_MAPS = 6;
export const C1_SIDE = IN - K + 1; // 24
export const S1_SIDE = C1_SIDE / 2; // 12
export const C2_MAPS = 12;
export const C2_SIDE = S1_SIDE - K + 1; // 8
export const S2_SIDE = C2_SIDE / 2; // 4
export const FEATURES = C2_MAPS * S2_SIDE * S2_SIDE; // 192
export const CLASSES = 10;

export const GROUPS = ['k1', 'b1', 'k2', 'b2', 'W', 'b'] as const;
export type Group = (typeof GROUPS)[number];

/** Shape of each group as nested-array dimensions (the model-file contract). */
export const SHAPES: Record<Group, readonly number[]> = {
  k1: [C1_MAPS, K, K],
  b1: [C1_MAPS],
  k2: [C1_MAPS, C2_MAPS, K, K],
  b2: [C2_MAPS],
  W: [CLASSES, FEATURES],
  b: [CLASSES],
};

const size = (g: Group) => SHAPES[g].reduce((a, d) => a * d, 1);

/** Offset and length of each group in the parameter buffer. */
export const OFFSETS: Record<Group, { offset: number; length: number }> = (() => {
  const out = {} as Record<Group, { offset: number; length: number }>;
  let o = 0;
  for (const g of GROUPS) {
    out[g] = { offset: o, length: size(g) };
    o += size(g);
  }
  return out;
})();

/** (5*5+1)*6 + (5*5*6+1)*12 + 10*192 + 10 = 3898, as counted below eq 3. */
export const PARAM_COUNT = GROUPS.reduce((a, g) => a + size(g), 0);

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
  if (all.length !== PARAM_COUNT) throw new Error(`parameter buffer has ${all.length} entries, expected ${PARAM_COUNT}`);
  const v = (g: Group) => all.subarray(OFFSETS[g].offset, OFFSETS[g].offset + OFFSETS[g].length) as T;
  return { all, k1: v('k1'), b1: v('b1'), k2: v('k2'), b2: v('b2'), W: v('W'), b: v('b') };
}

/** Rows of the `--summary` table. */
export const LAYER_TABLE: { layer: string; output: string; params: number }[] = [
  { layer: 'input', output: '1@28x28', params: 0 },
  { layer: 'C1 conv 5x5, sigmoid (eqs 4-5)', output: '6@24x24', params: OFFSETS.k1.length + OFFSETS.b1.length },
  { layer: 'S1 mean pool 2x2 (eq 6)', output: '6@12x12', params: 0 },
  { layer: 'C2 conv 5x5, sigmoid (eqs 7-8)', output: '12@8x8', params: OFFSETS.k2.length + OFFSETS.b2.length },
  { layer: 'S2 mean pool 2x2 (eq 9)', output: '12@4x4', params: 0 },
  { layer: 'F column-scan vector (eq 10)', output: '192', params: 0 },
  { layer: 'FC 10x192, sigmoid (eq 12)', output: '10', params: OFFSETS.W.length + OFFSETS.b.length },
];
