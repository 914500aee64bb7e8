/**
 * Shared memory between the main thread and the gradient workers of the wasm engine.
 * One minibatch step: the main thread publishes parameters and the batch's staged images, bumps
 * GEN; each worker computes the gradients of its slices (slice k goes to thread k mod T, the
 * main thread being thread 0), writes them to grads[k], and increments DONE. The main thread
 * sums the slices in the fixed order 0..S-1, so the result does not depend on T.
 */
import type { Architecture } from '../model/architecture.js';
import { CLASSES, PIXELS } from '../model/dims.js';

export const CTRL = {
  GEN: 0, // bumped by the main thread for each step
  DONE: 1, // workers finished with the current step
  STOP: 2, // 1: workers exit
  B0: 3, // first staged image of the batch
  B: 4, // images in the batch
  THREADS: 5, // T
  FAILED: 6, // set by a worker whose step threw
  MODE: 7, // MODE_TRAIN: gradient slices of a batch; MODE_PREDICT: forward pass over a share of the stage
  WITH_LOSS: 8, // MODE_PREDICT: 1 if the staged labels are real (the loss is wanted)
  LENGTH: 9,
} as const;

export const MODE_TRAIN = 0;
export const MODE_PREDICT = 1;

/** Prediction splits the staged images into this many fixed parts; part k goes to thread k mod T. */
export const PREDICT_PARTS = 8;

/** Part k of n images split into K contiguous parts: [from, to). */
export function share(k: number, K: number, n: number): [number, number] {
  return [Math.floor((k * n) / K), Math.floor(((k + 1) * n) / K)];
}

export interface SharedBuffers {
  ctrl: SharedArrayBuffer; // Int32 [CTRL.LENGTH]
  params: SharedArrayBuffer; // Float32 [slotFloats]
  grads: SharedArrayBuffer; // Float32 [maxSlices][slotFloats]
  loss: SharedArrayBuffer; // Float64 [maxSlices]: per slice (train) or per thread (predict)
  errors: SharedArrayBuffer; // Int32 [maxSlices]
  images: SharedArrayBuffer; // Uint8 [stageMax*784]
  labels: SharedArrayBuffer; // Uint8 [stageMax]
  preds: SharedArrayBuffer; // Uint8 [stageMax]
  outputs: SharedArrayBuffer; // Float32 [stageMax*10]
}

export function allocShared(maxSlices: number, stageMax: number, slotFloats: number): SharedBuffers {
  return {
    ctrl: new SharedArrayBuffer(4 * CTRL.LENGTH),
    params: new SharedArrayBuffer(4 * slotFloats),
    grads: new SharedArrayBuffer(4 * slotFloats * maxSlices),
    loss: new SharedArrayBuffer(8 * maxSlices),
    errors: new SharedArrayBuffer(4 * maxSlices),
    images: new SharedArrayBuffer(stageMax * PIXELS),
    labels: new SharedArrayBuffer(stageMax),
    preds: new SharedArrayBuffer(stageMax),
    outputs: new SharedArrayBuffer(stageMax * CLASSES * 4),
  };
}

/** Typed views of the shared buffers. */
export function sharedViews(sh: SharedBuffers) {
  return {
    ctrl: new Int32Array(sh.ctrl),
    params: new Float32Array(sh.params),
    grads: new Float32Array(sh.grads),
    loss: new Float64Array(sh.loss),
    errors: new Int32Array(sh.errors),
    images: new Uint8Array(sh.images),
    labels: new Uint8Array(sh.labels),
    preds: new Uint8Array(sh.preds),
    outputs: new Float32Array(sh.outputs),
  };
}
export type SharedViews = ReturnType<typeof sharedViews>;

export interface WorkerInit {
  index: number; // 1..T-1
  shared: SharedBuffers;
  module: WebAssembly.Module;
  /** Required: a worker computing another network than the main thread would corrupt every sum. */
  architecture: Architecture;
}

/**
 * Wait until ctrl[index] != value: spin briefly first (a step is a few milliseconds, and waking a
 * sleeping thread costs tens of microseconds, more in a VM), then sleep on the futex.
 */
export function waitChange(ctrl: Int32Array, index: number, value: number, spins = 200000): void {
  for (let i = 0; i < spins; i++) if (Atomics.load(ctrl, index) !== value) return;
  Atomics.wait(ctrl, index, value);
}
