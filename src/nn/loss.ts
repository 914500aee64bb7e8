/**
 * Loss (eq 13): L = ½ Σ_i (ŷ(i) − y(i))² with one-hot y; returns L and writes ∂L/∂ŷ = ŷ − y.
 * yhat: [O], label in 0..O-1 -> dyhat: [O]
 */
export function lossForwardBackward(dyhat: Float64Array, yhat: Float64Array, label: number, O: number): number {
  let L = 0;
  for (let i = 0; i < O; i++) {
    const e = yhat[i] - (i === label ? 1 : 0);
    dyhat[i] = e;
    L += 0.5 * e * e;
  }
  return L;
}
