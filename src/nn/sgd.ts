/**
 * Parameter update, §3 (eqs 65-70): θ ← θ − α·Δθ for all 3898 parameters at once, since they
 * share one contiguous buffer. `scale` is α, or α/B for a minibatch whose gradients were summed.
 */
export function sgdUpdate(params: Float64Array | Float32Array, grads: Float64Array | Float32Array, scale: number): void {
  for (let i = 0; i < params.length; i++) params[i] -= scale * grads[i];
}

/**
 * The same with momentum μ and weight decay λ, as torch.optim.SGD defines them, from the gradient
 * summed over a batch of b images:  g = Σ/b + λ·θ;  v ← μ·v + g;  θ ← θ − α·v  (v starts at 0;
 * with μ = 0, v is just g and is not kept).
 */
export function sgdMomentumUpdate(
  params: Float64Array, grads: Float64Array, velocity: Float64Array, lr: number, b: number, momentum: number, weightDecay: number,
): void {
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] * (1 / b) + weightDecay * params[i];
    const v = momentum === 0 ? g : momentum * velocity[i] + g;
    if (momentum !== 0) velocity[i] = v;
    params[i] -= lr * v;
  }
}
