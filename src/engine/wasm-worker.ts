/** A gradient worker of the wasm engine (see worker-protocol.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { CLASSES, PARAM_COUNT, PIXELS } from '../model/dims.js';
import { CTRL, MODE_PREDICT, PREDICT_PARTS, share, sharedViews, waitChange, type WorkerInit } from './worker-protocol.js';
import { Kernel } from './wasm-module.js';

const { index, shared, module, architecture } = workerData as WorkerInit;
const k = new Kernel(module, architecture);
const { ctrl, params, grads, loss, errors, images, labels, preds, outputs } = sharedViews(shared);
const slots = Array.from({ length: k.maxSlices }, (_, s) => k.slot(s));

// read the generation before saying ready: the first step may be published right after
let gen = Atomics.load(ctrl, CTRL.GEN);
parentPort!.postMessage('ready');
for (;;) {
  waitChange(ctrl, CTRL.GEN, gen);
  gen = Atomics.load(ctrl, CTRL.GEN);
  if (Atomics.load(ctrl, CTRL.STOP)) break;
  try {
    if (ctrl[CTRL.MODE] === MODE_PREDICT) predict();
    else step();
  } catch {
    Atomics.store(ctrl, CTRL.FAILED, 1); // the main thread reports it; never leave it waiting
  }
  Atomics.add(ctrl, CTRL.DONE, 1);
  Atomics.notify(ctrl, CTRL.DONE);
}

function step(): void {
  const b0 = ctrl[CTRL.B0], b = ctrl[CTRL.B], T = ctrl[CTRL.THREADS];
  const S = Math.min(b, k.maxSlices);
  k.params.set(params.subarray(0, PARAM_COUNT));
  for (let s = index; s < S; s += T) {
    const s0 = b0 + k.ex.sliceStart(s, b), s1 = b0 + k.ex.sliceStart(s + 1, b);
    k.images.set(images.subarray(s0 * PIXELS, s1 * PIXELS), s0 * PIXELS);
    k.labels.set(labels.subarray(s0, s1), s0);
    loss[s] = k.ex.sliceGradient(s0, s1 - s0, s);
    errors[s] = k.ex.takeErrors();
    grads.set(slots[s], s * k.slotFloats);
  }
}

/** Forward passes over this thread's parts of the staged images (B0 = 0, B = count). */
function predict(): void {
  const n = ctrl[CTRL.B], T = ctrl[CTRL.THREADS], withLoss = ctrl[CTRL.WITH_LOSS] === 1;
  k.params.set(params.subarray(0, PARAM_COUNT));
  for (let part = index; part < PREDICT_PARTS; part += T) {
    const [from, to] = share(part, PREDICT_PARTS, n);
    k.images.set(images.subarray(from * PIXELS, to * PIXELS));
    if (withLoss) k.labels.set(labels.subarray(from, to));
    loss[part] = k.ex.predictStaged(to - from, withLoss);
    preds.set(k.preds.subarray(0, to - from), from);
    outputs.set(k.outputs.subarray(0, (to - from) * CLASSES), from * CLASSES);
  }
}
