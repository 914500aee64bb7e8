/**
 * Convolution layer, "valid" TRUE convolution as in eqs 5 and 8 (the kernel is rotated 180°
 * relative to cross-correlation; MATLAB convn(x, k, 'valid')), summed over the input maps.
 * Written literally, for clarity: this is the specification the fast engine is tested against.
 *
 * With 0-based kernel indices r,c in 0..4 (the paper's u = r-2, v = c-2):
 *   z[q][i][j] = b[q] + Σ_p Σ_r Σ_c x[p][i+4-r][j+4-c] · k[p][q][r][c]
 */
import { K as KERNEL } from '../model/layout.js';

// a module-local binding: loops must not read an imported binding (some loaders turn it into a getter)
const K = KERNEL;

/**
 * Forward (eqs 5, 8, before σ).
 * x: [P][H][W], k: [P][Q][5][5], b: [Q] -> z: [Q][H-4][W-4]
 */
export function convForward(
  z: Float64Array, x: Float64Array, k: Float64Array, b: Float64Array,
  P: number, Q: number, H: number, W: number,
): void {
  const Ho = H - K + 1, Wo = W - K + 1;
  for (let q = 0; q < Q; q++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        let s = b[q];
        for (let p = 0; p < P; p++) {
          const kb = (p * Q + q) * K * K, xb = p * H * W;
          for (let r = 0; r < K; r++) {
            for (let c = 0; c < K; c++) {
              s += x[xb + (i + K - 1 - r) * W + (j + K - 1 - c)] * k[kb + r * K + c];
            }
          }
        }
        z[(q * Ho + i) * Wo + j] = s;
      }
    }
  }
}

/**
 * Backward, given dz = ∂L/∂z (the error before σ, eqs 37 and 57): [Q][H-4][W-4].
 *   dk[p][q] += x_p,rot180 * dz_q   (eqs 39-40, 58-59)   dk: [P][Q][5][5] (accumulated)
 *   db[q]    += Σ dz_q               (eqs 45, 64)         db: [Q] (accumulated)
 *   dx[p]     = Σ_q full-conv(dz_q, k_pq,rot180)  (eqs 49-51), overwritten; skipped when dx is null
 */
export function convBackward(
  dk: Float64Array, db: Float64Array, dx: Float64Array | null,
  dz: Float64Array, x: Float64Array, k: Float64Array,
  P: number, Q: number, H: number, W: number,
): void {
  const Ho = H - K + 1, Wo = W - K + 1;
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
              dk[kb + r * K + c] += g * x[xi];
              if (dx) dx[xi] += g * k[kb + r * K + c];
            }
          }
        }
      }
    }
  }
}
