/** σ(x) = 1 / (1 + e^-x) (eq 4), applied in place to n values: a = σ(z). */
export function sigmoidForward(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) a[i] = 1 / (1 + Math.exp(-a[i]));
}

/**
 * From ∂L/∂a to ∂L/∂z through a = σ(z), using σ' = a(1 - a) (eqs 17, 37, 57).
 * da: [n] (overwritten with dz), a: [n].
 */
export function sigmoidBackward(da: Float64Array, a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) da[i] *= a[i] * (1 - a[i]);
}
