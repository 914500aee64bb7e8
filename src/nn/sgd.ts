/**
 * Parameter update, §3 (eqs 65-70): θ ← θ − α·Δθ for all 3898 parameters at once, since they
 * share one contiguous buffer. `scale` is α, or α/B for a minibatch whose gradients were summed.
 */
export function sgdUpdate(params: Float64Array | Float32Array, grads: Float64Array | Float32Array, scale: number): void {
  for (let i = 0; i < params.length; i++) params[i] -= scale * grads[i];
}
