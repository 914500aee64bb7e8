/**
 * What the training loop needs from a numeric engine. Two engines implement it:
 *   - ReferenceEngine: the literal float64 layers of src/nn (the specification, single thread);
 *   - WasmEngine: the same equations as one WebAssembly SIMD module in float32, optionally on
 *     worker threads (src/engine/wasm-engine.ts).
 * An engine computes one architecture (src/model/architecture.ts), fixed when it is created.
 */
import type { Dataset } from '../data/mnist.js';
import type { Architecture } from '../model/architecture.js';

/** Sums over the images of one train() call. */
export interface StepStats {
  loss: number;
  errors: number;
}

/** Images to run forward: a data set without labels will do (e.g. a user's pictures). */
export interface Images {
  count: number;
  /** count*784 bytes, image n at [n*784, (n+1)*784), row-major. */
  images: Uint8Array;
  /** When given, predict() also returns the summed loss. */
  labels?: Uint8Array;
}

export type EngineName = 'wasm' | 'reference';

/**
 * The update rule, as torch.optim.SGD defines it (no dampening, no Nesterov):
 *   g = ∇ + λ·θ;  v ← μ·v + g (v starts at 0);  θ ← θ − α·v
 * μ = λ = 0 is the paper's plain gradient descent (eqs 65-70), computed as θ ← θ − (α/B)·Σ∇.
 */
export interface Optimizer {
  momentum: number;
  weightDecay: number;
}
export const PLAIN_SGD: Optimizer = { momentum: 0, weightDecay: 0 };

export interface Engine {
  readonly name: EngineName;
  /** What runs, for messages and model metadata (e.g. "wasm f32x4 SIMD + FMA, 2 thread(s)"). */
  readonly detail: string;
  /** Number of threads doing the work (1 for the reference engine). */
  readonly threads: number;
  /** The network this engine computes. */
  readonly architecture: Architecture;
  /**
   * Images per call of train() and predict() that take roughly 50 ms here: the training loop
   * and the evaluation call the engine on chunks of this size and handle signals in between.
   * Fixed, not measured, so that sums over chunks are the same in every run. `batch`: the largest
   * batch one train() call takes; larger ones go through accumulate() in pieces of `train`.
   */
  readonly callSize: { train: number; predict: number; batch: number };
  /** A float64 copy of the 3898 parameters (layout of src/model/layout.ts). */
  getParams(): Float64Array;
  setParams(params: Float64Array): void;
  /** The update rule of train() (plain SGD until set). */
  readonly optimizer: Optimizer;
  setOptimizer(o: Optimizer): void;
  /** Momentum's velocity v, one per parameter (zeros until momentum is used); for checkpoints. */
  getVelocity(): Float64Array;
  setVelocity(v: Float64Array): void;
  /**
   * Minibatch gradient descent over images order[start .. start+count): consecutive groups of
   * `batchSize` images (the last may be smaller) each give one update
   *   θ ← θ − lr · (1/B) Σ_batch ∇L   (eqs 65-70; B = 1 is the paper's online SGD),
   * or the optimizer's rule with ∇ = (1/B) Σ_batch ∇L.
   * Returns the summed per-image losses and misclassifications, each taken from the forward pass
   * that precedes the image's own update.
   */
  train(data: Dataset, order: Uint32Array, start: number, count: number, batchSize: number, lr: number): StepStats;
  /**
   * A batch too large for one call, in pieces: images order[start .. start+count) are images
   * offset .. offset+count of a batch of b images, and their gradients are added to the batch's
   * (a fresh sum from offset 0). Summed exactly as train() sums the whole batch.
   */
  accumulate(data: Dataset, order: Uint32Array, start: number, count: number, offset: number, b: number): StepStats;
  /** The update of the batch of b images accumulated so far, as train() makes it. */
  applyBatch(b: number, lr: number): void;
  /**
   * Forward passes over images [start, start+count): writes the argmax class of each into
   * predictions[i] and, if given, the 10 outputs into outputs[10*i ..]. Returns the summed loss
   * when `data` has labels, NaN otherwise. Changes nothing in the engine.
   */
  predict(data: Images, start: number, count: number, predictions: Uint8Array, outputs?: Float64Array): number;
  /** Release threads and memory. */
  close(): Promise<void>;
}
