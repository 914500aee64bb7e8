/**
 * How the main thread starts a step on the worker threads of the wasm engine. Every thread runs an
 * instance of the kernel on one shared WebAssembly memory (parameters, gradient slots, staged
 * images and results live there; each thread has its own workspace), so nothing is copied: the
 * main thread stages the images, writes the step into `ctrl` and bumps GEN; each worker runs its
 * share of the step in the kernel and increments DONE. Inside a training step the threads meet
 * at barriers in the kernel itself (src/wasm/kernel.ts trainOnline, trainBatches); what each
 * thread computes is fixed by its index, so the result does not depend on T.
 */
import type { Architecture } from '../model/architecture.js';

export const CTRL = {
  GEN: 0, // bumped by the main thread for each step
  DONE: 1, // workers finished with the current step
  STOP: 2, // 1: workers exit
  FROM: 3, // the step is about staged images [FROM, TO)
  TO: 9,
  B: 4, // batch size (MODE_TRAIN)
  THREADS: 5, // T
  FAILED: 6, // set by a worker whose step threw
  MODE: 7, // MODE_TRAIN or MODE_PREDICT
  WITH_LOSS: 8, // MODE_PREDICT: 1 if the staged labels are real (the loss is wanted)
  LENGTH: 10,
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
  /** Float64 [VALUES.LENGTH]: the step's rate and optimizer, the losses of the prediction parts. */
  values: SharedArrayBuffer;
}

export const VALUES = {
  LR: 0, // MODE_TRAIN: the learning rate
  MOMENTUM: 1, // MODE_TRAIN: the optimizer (every thread updates the parameters it computed)
  WEIGHT_DECAY: 2,
  PART_LOSS: 3, // MODE_PREDICT: [PREDICT_PARTS] the loss of each part
  LENGTH: 3 + PREDICT_PARTS,
} as const;

export function allocShared(): SharedBuffers {
  return { ctrl: new SharedArrayBuffer(4 * CTRL.LENGTH), values: new SharedArrayBuffer(8 * VALUES.LENGTH) };
}

/** Typed views of the shared buffers. */
export function sharedViews(sh: SharedBuffers) {
  return { ctrl: new Int32Array(sh.ctrl), values: new Float64Array(sh.values) };
}
export type SharedViews = ReturnType<typeof sharedViews>;

export interface WorkerInit {
  index: number; // 1..T-1
  shared: SharedBuffers;
  module: WebAssembly.Module;
  /** The kernel's memory, shared by every thread of the engine. */
  memory: WebAssembly.Memory;
  /** Required: a worker computing another network than the main thread would corrupt every sum. */
  architecture: Architecture;
}

/**
 * Wait until ctrl[index] != value: spin for up to `spinMs` first, then sleep on the futex. Between
 * two training calls the main thread spends ~1-2 ms in the training loop (staging the next images,
 * the progress report); waking a sleeping thread costs about 1 ms on this kind of VM, which is 5 %
 * of a call of online SGD on 2 threads, so a worker keeps spinning a little longer than that.
 */
export function waitChange(ctrl: Int32Array, index: number, value: number, spinMs = 3): void {
  const until = performance.now() + spinMs;
  for (let i = 1; ; i++) {
    if (Atomics.load(ctrl, index) !== value) return;
    if ((i & 1023) === 0 && performance.now() > until) break;
  }
  Atomics.wait(ctrl, index, value);
}
