/**
 * Every size, offset and option code of the network, as plain integer constants. This one file is
 * compiled twice: by tsc for the TypeScript side (src/model/layout.ts builds the named views on
 * it) and by AssemblyScript for the WebAssembly kernel (src/wasm/kernel.ts imports it), so the two
 * can never disagree. Keep it to `export const NAME = <integer expression>`: that is what both
 * compilers accept.
 *
 *   I   1@28x28 --C1 (6 kernels 5x5)--> 6@24x24 --S1 (2x2)--> 6@12x12
 *       --C2 (6x12 kernels 5x5, summed over the 6 inputs)--> 12@8x8 --S2 (2x2)--> 12@4x4
 *       --F (column scan, eq 10)--> f 192 --FC (W 10x192, b 10)--> ŷ 10
 */

// ---- shapes (Fig. 1 of the paper) ----
export const IN = 28; // input side
export const PIXELS = IN * IN;
export const K = 5; // kernel side
export const KK = K * K;
export const C1_MAPS = 6;
export const C1_SIDE = IN - K + 1; // 24
export const POOL = 2; // pooling window side
export const S1_SIDE = C1_SIDE / POOL; // 12
export const C2_MAPS = 12;
export const C2_SIDE = S1_SIDE - K + 1; // 8
export const S2_SIDE = C2_SIDE / POOL; // 4
export const FEATURES = C2_MAPS * S2_SIDE * S2_SIDE; // 192
export const CLASSES = 10;

// ---- the parameter buffer: groups in this order, row-major (the model-file contract) ----
export const K1_OFFSET = 0; //                      k1[p][r][c]     p < 6
export const K1_LENGTH = C1_MAPS * KK;
export const B1_OFFSET = K1_OFFSET + K1_LENGTH; //  b1[p]
export const B1_LENGTH = C1_MAPS;
export const K2_OFFSET = B1_OFFSET + B1_LENGTH; //  k2[p][q][r][c]  p < 6 (S1 map), q < 12 (C2 map)
export const K2_LENGTH = C1_MAPS * C2_MAPS * KK;
export const B2_OFFSET = K2_OFFSET + K2_LENGTH; //  b2[q]
export const B2_LENGTH = C2_MAPS;
export const W_OFFSET = B2_OFFSET + B2_LENGTH; //   W[i][j]         i < 10, j < 192 (W[i][j] multiplies f[j])
export const W_LENGTH = CLASSES * FEATURES;
export const B_OFFSET = W_OFFSET + W_LENGTH; //     b[i]
export const B_LENGTH = CLASSES;
/** (5*5+1)*6 + (5*5*6+1)*12 + 10*192 + 10 = 3898, as counted below eq 3. */
export const PARAM_COUNT = B_OFFSET + B_LENGTH;

// ---- option codes: the index of each value in src/model/architecture.ts (checked there at load) ----
export const CONV_CONVOLUTION = 0;
export const CONV_CORRELATION = 1;
export const POOL_MEAN = 0;
export const POOL_MAX = 1;
export const ACTIVATION_SIGMOID = 0;
export const ACTIVATION_RELU = 1;
export const ACTIVATION_TANH = 2;
export const OUTPUT_SIGMOID = 0;
export const OUTPUT_SOFTMAX = 1;
export const LOSS_MSE = 0;
export const LOSS_CROSS_ENTROPY = 1;
