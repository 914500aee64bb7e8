/**
 * Activations of C1 and C2 (and the sigmoid output of eq 12), applied in place to n values,
 * a = act(z); and the way back, from ∂L/∂a to ∂L/∂z, written with the activation's own output a:
 *   sigmoid (eq 4): σ(z) = 1/(1 + e^-z),   σ' = a(1 − a)      (eqs 17, 37, 57)
 *   relu:           max(0, z),              1 if a > 0, else 0 (ReLU'(0) = 0)
 *   tanh:           tanh(z),                1 − a²
 */
import type { Activation } from '../model/architecture.js';

export interface ActivationLayer {
  forward(a: Float64Array, n: number): void;
  /** da: [n] ∂L/∂a, overwritten with ∂L/∂z; a: [n] the activations. */
  backward(da: Float64Array, a: Float64Array, n: number): void;
}

export const ACTIVATION_LAYERS: Record<Activation, ActivationLayer> = {
  sigmoid: {
    forward(a, n) {
      for (let i = 0; i < n; i++) a[i] = 1 / (1 + Math.exp(-a[i]));
    },
    backward(da, a, n) {
      for (let i = 0; i < n; i++) da[i] *= a[i] * (1 - a[i]);
    },
  },
  relu: {
    forward(a, n) {
      for (let i = 0; i < n; i++) a[i] = Math.max(0, a[i]); // NaN stays NaN
    },
    backward(da, a, n) {
      for (let i = 0; i < n; i++) if (!(a[i] > 0)) da[i] = 0;
    },
  },
  tanh: {
    forward(a, n) {
      for (let i = 0; i < n; i++) a[i] = Math.tanh(a[i]);
    },
    backward(da, a, n) {
      for (let i = 0; i < n; i++) da[i] *= 1 - a[i] * a[i];
    },
  },
};
