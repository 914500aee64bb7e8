/**
 * Vectorisation and concatenation F (eq 10) and its inverse F⁻¹ (eqs 11, 31):
 * each map is scanned by columns (MATLAB's column-major reshape), maps are concatenated.
 *   f[q·S² + c·S + r] = s[q][r][c]
 */
export function flattenForward(f: Float64Array, s: Float64Array, M: number, S: number): void {
  for (let q = 0; q < M; q++) {
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) f[q * S * S + c * S + r] = s[(q * S + r) * S + c];
    }
  }
}

/** F⁻¹ (eq 31): ds[q][r][c] = df[q·S² + c·S + r]. */
export function flattenBackward(ds: Float64Array, df: Float64Array, M: number, S: number): void {
  for (let q = 0; q < M; q++) {
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) ds[(q * S + r) * S + c] = df[q * S * S + c * S + r];
    }
  }
}
