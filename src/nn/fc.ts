/**
 * Fully connected layer (eq 12, before σ): z = W × f + b.
 * W: [O][N], f: [N], b: [O] -> z: [O]
 */
export function fcForward(z: Float64Array, W: Float64Array, f: Float64Array, b: Float64Array, O: number, N: number): void {
  for (let i = 0; i < O; i++) {
    let s = b[i];
    for (let j = 0; j < N; j++) s += W[i * N + j] * f[j];
    z[i] = s;
  }
}

/**
 * Backward given dz = Δŷ (the error before σ): [O]
 *   dW += Δŷ × fᵀ (eq 19), db += Δŷ (eq 24), df = Wᵀ × Δŷ (eq 30, overwritten)
 */
export function fcBackward(
  dW: Float64Array, db: Float64Array, df: Float64Array,
  dz: Float64Array, W: Float64Array, f: Float64Array, O: number, N: number,
): void {
  df.fill(0, 0, N);
  for (let i = 0; i < O; i++) {
    const g = dz[i];
    db[i] += g;
    for (let j = 0; j < N; j++) {
      dW[i * N + j] += g * f[j];
      df[j] += W[i * N + j] * g;
    }
  }
}
