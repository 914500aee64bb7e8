/** A worker thread of the wasm engine (see worker-protocol.ts): thread `index` of the kernel. */
import { parentPort, workerData } from 'node:worker_threads';
import { CTRL, MODE_PREDICT, PREDICT_PARTS, share, sharedViews, VALUES, waitChange, type WorkerInit } from './worker-protocol.js';
import { Kernel } from './wasm-module.js';

const { index, shared, module, memory, architecture } = workerData as WorkerInit;
const k = new Kernel(module, architecture, memory, index);
const { ctrl, values } = sharedViews(shared);

// read the generation before saying ready: the first step may be published right after
let gen = Atomics.load(ctrl, CTRL.GEN);
parentPort!.postMessage('ready');
for (;;) {
  waitChange(ctrl, CTRL.GEN, gen);
  gen = Atomics.load(ctrl, CTRL.GEN);
  if (Atomics.load(ctrl, CTRL.STOP)) break;
  try {
    if (ctrl[CTRL.MODE] === MODE_PREDICT) predict();
    else train();
  } catch {
    // the main thread reports it; never leave it waiting, in JS or at a barrier of the kernel
    Atomics.store(ctrl, CTRL.FAILED, 1);
    Atomics.store(k.abortWord, 0, 1);
  }
  Atomics.add(ctrl, CTRL.DONE, 1);
  Atomics.notify(ctrl, CTRL.DONE);
}

/** This thread's share of training on the staged images (the kernel splits the work by index). */
function train(): void {
  const from = ctrl[CTRL.FROM], to = ctrl[CTRL.TO], B = ctrl[CTRL.B], T = ctrl[CTRL.THREADS];
  k.ex.setOptimizer(values[VALUES.MOMENTUM], values[VALUES.WEIGHT_DECAY]);
  const lr = values[VALUES.LR];
  if (B === 1) k.ex.trainOnline(index, T, from, to, lr, 0);
  else k.ex.trainBatches(index, T, to, B, lr); // from = 0
}

/** Forward passes over this thread's parts of the staged images. */
function predict(): void {
  const n = ctrl[CTRL.TO], T = ctrl[CTRL.THREADS], withLoss = ctrl[CTRL.WITH_LOSS] === 1;
  for (let part = index; part < PREDICT_PARTS; part += T) {
    const [from, to] = share(part, PREDICT_PARTS, n);
    values[VALUES.PART_LOSS + part] = k.ex.predictStaged(from, to, withLoss);
  }
}
