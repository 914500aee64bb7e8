/**
 * Convolution layer, "valid", summed over the input maps. Written literally, for clarity: this is
 * the specification the fast engine is tested against. With 0-based kernel indices r,c in 0..4
 * (the paper's u = r-2, v = c-2):
 *   convolution (eqs 5, 8; MATLAB convn(x, k, 'valid')):
 *     z[q][i][j] = b[q] + Σ_p Σ_r Σ_c x[p][i+4-r][j+4-c] · k[p][q][r][c]
 *   correlation:
 *     z[q][i][j] = b[q] + Σ_p Σ_r Σ_c x[p][i+r][j+c] · k[p][q][r][c]
 *              = b[q] + Σ_p Σ_r Σ_c x[p][i+4-r][j+4-c] · k[p][q][4-r][4-c]
 * Both are computed as the second line: the same products in the same order, only the kernel
 * entry read differs (`kernelIndex`). So correlation with k is convolution with k rotated by 180°,
 * bit for bit, and the gradients follow by the same index.
 */
import type { Conv } from '../model/architecture.js';
import { K as KERNEL } from '../model/layout.js';

// a module-local binding: loops must not read an imported binding (some loaders turn it into a getter)
const KERNEL_SIDE = KERNEL;

/**
 * The entry of a K x K kernel multiplying x[i+K-1-r][j+K-1-c]: k[r][c] (convolution) or
 * k[K-1-r][K-1-c] (correlation).
 */
export function kernelIndex(conv: Conv, K: number): (r: number, c: number) => number {
  return conv === 'convolution' ? (r, c) => r * K + c : (r, c) => (K - 1 - r) * K + (K - 1 - c);
}

/**
 * Forward (eqs 5, 8, before the activation).
 * x: [P][H][W], k: [P][Q][K][K], b: [Q] -> z: [Q][H-K+1][W-K+1]; K is 5 in this network.
 */
export function convForward(
  z: Float64Array, x: Float64Array, k: Float64Array, b: Float64Array,
  P: number, Q: number, H: number, W: number, conv: Conv = 'convolution', K: number = KERNEL_SIDE,
): void {
  const Ho = H - K + 1, Wo = W - K + 1;
  const at = kernelIndex(conv, K);
  for (let q = 0; q < Q; q++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        let s = b[q];
        for (let p = 0; p < P; p++) {
          const kb = (p * Q + q) * K * K, xb = p * H * W;
          for (let r = 0; r < K; r++) {
            for (let c = 0; c < K; c++) {
              s += x[xb + (i + K - 1 - r) * W + (j + K - 1 - c)] * k[kb + at(r, c)];
            }
          }
        }
        z[(q * Ho + i) * Wo + j] = s;
      }
    }
  }
}

/**
 * Backward, given dz = ∂L/∂z (the error before the activation, eqs 37 and 57): [Q][H-K+1][W-K+1].
 *   dk[p][q] += x_p,rot180 * dz_q   (eqs 39-40, 58-59)   dk: [P][Q][K][K] (accumulated)
 *   db[q]    += Σ dz_q               (eqs 45, 64)         db: [Q] (accumulated)
 *   dx[p]     = Σ_q full-conv(dz_q, k_pq,rot180)  (eqs 49-51), overwritten; skipped when dx is null
 */
export function convBackward(
  dk: Float64Array, db: Float64Array, dx: Float64Array | null,
  dz: Float64Array, x: Float64Array, k: Float64Array,
  P: number, Q: number, H: number, W: number, conv: Conv = 'convolution', K: number = KERNEL_SIDE,
): void {
  const Ho = H - K + 1, Wo = W - K + 1;
  const at = kernelIndex(conv, K);
  if (dx) dx.fill(0, 0, P * H * W);
  for (let q = 0; q < Q; q++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const g = dz[(q * Ho + i) * Wo + j];
        db[q] += g;
        for (let p = 0; p < P; p++) {
          const kb = (p * Q + q) * K * K, xb = p * H * W;
          for (let r = 0; r < K; r++) {
            for (let c = 0; c < K; c++) {
              const xi = xb + (i + K - 1 - r) * W + (j + K - 1 - c);
              const ki = kb + at(r, c);
              dk[ki] += g * x[xi];
              if (dx) dx[xi] += g * k[ki];
            }
          }
        }
      }
    }
  }
}
