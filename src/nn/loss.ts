/**
 * The output layer and the loss, with one-hot y (label in 0..O-1). Each pair gives L and Δŷ, the
 * error before the output nonlinearity (∂L/∂z with z = W f + b; eq 17 for the paper's pair).
 *   sigmoid output, mse (eqs 12, 13, 15, 17):  L = ½ Σ (ŷ − y)²,  Δŷ = (ŷ − y) ŷ (1 − ŷ)
 *   softmax output, mse:                       L = ½ Σ (ŷ − y)²,  Δŷ_i = ŷ_i (e_i − Σ_j e_j ŷ_j), e = ŷ − y
 *   softmax output, cross-entropy:             L = −log ŷ_label = log Σ_j e^{z_j} − z_label (from the logits,
 *                                              finite when ŷ_label underflows),  Δŷ = ŷ − y
 */
import type { Loss, Output } from '../model/architecture.js';
import { ACTIVATION_LAYERS } from './activation.js';

export interface OutputLayer {
  /** ŷ from the logits z (z is kept: cross-entropy reads it). */
  forward(yhat: Float64Array, z: Float64Array, O: number): void;
  /** From ∂L/∂ŷ (in d) to ∂L/∂z (in d), through the output's Jacobian. */
  backward(d: Float64Array, yhat: Float64Array, O: number): void;
}

export const OUTPUT_LAYERS: Record<Output, OutputLayer> = {
  sigmoid: {
    forward(yhat, z, O) {
      yhat.set(z.subarray(0, O));
      ACTIVATION_LAYERS.sigmoid.forward(yhat, O); // eq 12
    },
    backward: (d, yhat, O) => ACTIVATION_LAYERS.sigmoid.backward(d, yhat, O), // eq 17
  },
  softmax: {
    forward(yhat, z, O) {
      let m = -Infinity;
      for (let i = 0; i < O; i++) if (z[i] > m) m = z[i];
      let s = 0;
      for (let i = 0; i < O; i++) s += yhat[i] = Math.exp(z[i] - m);
      for (let i = 0; i < O; i++) yhat[i] /= s;
    },
    backward(d, yhat, O) {
      let g = 0;
      for (let i = 0; i < O; i++) g += d[i] * yhat[i];
      for (let i = 0; i < O; i++) d[i] = yhat[i] * (d[i] - g);
    },
  },
};

/** ½ Σ (ŷ − y)² (eq 13); writes ∂L/∂ŷ = ŷ − y (eq 15). */
export function mse(dyhat: Float64Array, yhat: Float64Array, label: number, O: number): number {
  let L = 0;
  for (let i = 0; i < O; i++) {
    const e = yhat[i] - (i === label ? 1 : 0);
    dyhat[i] = e;
    L += 0.5 * e * e;
  }
  return L;
}

/** −log ŷ_label of a softmax output, from its logits: log Σ_j e^{z_j − m} − (z_label − m). */
export function crossEntropy(z: Float64Array, label: number, O: number): number {
  let m = -Infinity;
  for (let i = 0; i < O; i++) if (z[i] > m) m = z[i];
  let s = 0;
  for (let i = 0; i < O; i++) s += Math.exp(z[i] - m);
  return Math.log(s) - (z[label] - m);
}

/**
 * L of one image and, in dz, Δŷ (∂L/∂z). `yhat` and `z` from the forward pass. Cross-entropy
 * through a softmax is the fused ŷ − y: −y/ŷ through the Jacobian would divide by an ŷ_label that
 * may underflow to 0.
 */
export function lossAndDelta(output: Output, loss: Loss, dz: Float64Array, yhat: Float64Array, z: Float64Array, label: number, O: number): number {
  if (loss === 'cross-entropy') {
    if (output !== 'softmax') throw new Error('cross-entropy needs a softmax output');
    for (let i = 0; i < O; i++) dz[i] = yhat[i] - (i === label ? 1 : 0);
    return crossEntropy(z, label, O);
  }
  const L = mse(dz, yhat, label, O); // dz holds ∂L/∂ŷ here (eq 15)
  OUTPUT_LAYERS[output].backward(dz, yhat, O);
  return L;
}

/** L only (forward). */
export function lossOnly(loss: Loss, yhat: Float64Array, z: Float64Array, label: number, O: number): number {
  if (loss === 'cross-entropy') return crossEntropy(z, label, O);
  let L = 0;
  for (let i = 0; i < O; i++) {
    const e = yhat[i] - (i === label ? 1 : 0);
    L += 0.5 * e * e;
  }
  return L;
}
