/**
 * The parameters as the WebAssembly kernel holds them. The kernel computes true convolution only;
 * cross-correlation with a kernel k is true convolution with k rotated by 180° (the same products
 * in the same order: src/nn/conv.ts), so for --conv correlation the kernels are stored rotated and
 * rotated back when read. The gradient slots are then rotated alike, and the update θ ← θ − α·g
 * works entry by entry, so training in the rotated layout gives exactly the rotated parameters.
 */
import type { Architecture } from '../model/architecture.js';
import { rotateKernels } from '../model/layout.js';

/** The user's parameters (model-file layout) into the kernel's layout, in place. */
export function toKernelLayout<T extends Float32Array | Float64Array>(params: T, a: Architecture): T {
  return a.conv === 'correlation' ? rotateKernels(params) : params;
}

/** The kernel's layout back to the user's parameters, in place (a rotation is its own inverse). */
export function fromKernelLayout<T extends Float32Array | Float64Array>(params: T, a: Architecture): T {
  return a.conv === 'correlation' ? rotateKernels(params) : params;
}
