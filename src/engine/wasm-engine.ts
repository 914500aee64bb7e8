/**
 * The fast engine: the WebAssembly SIMD kernel (float32). Online SGD (batch 1) runs on the main
 * thread, a whole staged chunk per call into wasm. Minibatches are split into at most 8 fixed
 * slices whose gradients are summed in a fixed order, on 1..T threads (main + T-1 workers
 * sharing memory through SharedArrayBuffers): the same seed gives the same parameters, bit for
 * bit, whatever T.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { Dataset } from '../data/mnist.js';
import { CnnError } from '../errors.js';
import { PAPER, type Architecture } from '../model/architecture.js';
import { CLASSES, PARAM_COUNT, PIXELS } from '../model/dims.js';
import { PLAIN_SGD, type Engine, type Images, type Optimizer, type StepStats } from './engine.js';
import { fromKernelLayout, toKernelLayout } from './kernel-params.js';
import { Kernel, kernelModule, packageRoot, type KernelVariant } from './wasm-module.js';
import { allocShared, CTRL, MODE_PREDICT, MODE_TRAIN, PREDICT_PARTS, share, sharedViews, waitChange, type SharedBuffers, type SharedViews, type WorkerInit } from './worker-protocol.js';

export class WasmEngine implements Engine {
  readonly name = 'wasm' as const;
  readonly threads: number;
  readonly variant: KernelVariant;
  readonly callSize = { train: 1024, predict: 4096, batch: 4096 }; // ~16 000 and ~80 000 images/s; a batch of 4096 in ~0.2 s on 2 threads
  optimizer: Optimizer = { ...PLAIN_SGD };
  private readonly k: Kernel;
  private readonly workers: Worker[];
  private readonly shared?: SharedViews;
  private readonly slots: Float32Array[];

  private constructor(k: Kernel, variant: KernelVariant, threads: number, workers: Worker[], shared?: SharedBuffers) {
    this.k = k;
    this.variant = variant;
    this.threads = threads;
    this.workers = workers;
    this.shared = shared && sharedViews(shared);
    this.slots = Array.from({ length: k.maxSlices }, (_, s) => k.slot(s));
  }

  static async create(threads = 1, kernel?: KernelVariant, architecture: Architecture = PAPER): Promise<WasmEngine> {
    const { module, variant } = kernelModule(kernel);
    const k = new Kernel(module, architecture);
    const T = Math.max(1, Math.min(threads, k.maxSlices));
    if (T === 1) return new WasmEngine(k, variant, 1, []);
    const shared = allocShared(k.maxSlices, k.stageMax, k.slotFloats);
    const script = join(packageRoot(), 'dist', 'src', 'engine', 'wasm-worker.js');
    const workers: Worker[] = [];
    for (let i = 1; i < T; i++) {
      const w = new Worker(script, { workerData: { index: i, shared, module, architecture } satisfies WorkerInit });
      workers.push(w);
    }
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', (e) => reject(new CnnError(`worker thread failed to start: ${e.message}`)));
          }),
      ),
    );
    for (const w of workers) w.unref();
    return new WasmEngine(k, variant, T, workers, shared);
  }

  get architecture(): Architecture {
    return this.k.architecture;
  }

  get detail(): string {
    return `wasm ${this.variant === 'fma' ? 'f32x4 SIMD + FMA' : 'f32x4 SIMD'}, ${this.threads} thread(s)`;
  }

  getParams(): Float64Array {
    return fromKernelLayout(Float64Array.from(this.k.params), this.architecture);
  }

  setParams(params: Float64Array): void {
    if (params.length !== PARAM_COUNT) throw new Error(`expected ${PARAM_COUNT} parameters, got ${params.length}`);
    this.k.params.set(toKernelLayout(Float64Array.from(params), this.architecture)); // rounds to float32
  }

  setOptimizer(o: Optimizer): void {
    this.optimizer = { ...o };
    this.k.ex.setOptimizer(o.momentum, o.weightDecay);
  }

  getVelocity(): Float64Array {
    return fromKernelLayout(Float64Array.from(this.k.velocity), this.architecture);
  }

  setVelocity(v: Float64Array): void {
    if (v.length !== PARAM_COUNT) throw new Error(`expected ${PARAM_COUNT} velocities, got ${v.length}`);
    this.k.velocity.set(toKernelLayout(Float64Array.from(v), this.architecture));
  }

  /**
   * Copy images order[from .. from+n) (or from .. from+n when order is null) into the stage(s),
   * with their labels when the data have them.
   */
  private stage(data: Images, order: Uint32Array | null, from: number, n: number, shared: boolean): void {
    const imgs = shared ? this.shared!.images : this.k.images;
    const labs = shared ? this.shared!.labels : this.k.labels;
    if (!order) {
      imgs.set(data.images.subarray(from * PIXELS, (from + n) * PIXELS));
      if (data.labels) labs.set(data.labels.subarray(from, from + n));
      return;
    }
    for (let t = 0; t < n; t++) {
      const idx = order[from + t];
      imgs.set(data.images.subarray(idx * PIXELS, idx * PIXELS + PIXELS), t * PIXELS);
      labs[t] = data.labels![idx];
    }
  }

  train(data: Dataset, order: Uint32Array, start: number, count: number, batchSize: number, lr: number): StepStats {
    const stageMax = this.k.stageMax;
    if (batchSize > stageMax) return this.trainLargeBatches(data, order, start, count, batchSize, lr);
    const piece = Math.floor(stageMax / batchSize) * batchSize;
    let loss = 0;
    let errors = 0;
    for (let p0 = start; p0 < start + count; p0 += piece) {
      const n = Math.min(piece, start + count - p0);
      if (this.workers.length === 0 || batchSize === 1) {
        this.stage(data, order, p0, n, false);
        loss += this.k.ex.trainStaged(n, batchSize, lr);
        errors += this.k.ex.takeErrors();
      } else {
        this.stage(data, order, p0, n, true);
        const s = this.trainThreaded(n, batchSize, lr);
        loss += s.loss;
        errors += s.errors;
      }
    }
    return { loss, errors };
  }

  /**
   * Batches larger than the stage (up to full-batch gradient descent), on this thread: each of the
   * batch's fixed slices is summed in pieces, in image order, so the sums are those of a stage
   * large enough for the batch.
   */
  private trainLargeBatches(data: Dataset, order: Uint32Array, start: number, count: number, B: number, lr: number): StepStats {
    let loss = 0;
    let errors = 0;
    for (let b0 = start; b0 < start + count; b0 += B) {
      const b = Math.min(B, start + count - b0);
      const s = this.accumulate(data, order, b0, b, 0, b);
      loss += s.loss;
      errors += s.errors;
      this.applyBatch(b, lr);
    }
    return { loss, errors };
  }

  accumulate(data: Dataset, order: Uint32Array, start: number, count: number, offset: number, b: number): StepStats {
    const k = this.k, stageMax = k.stageMax;
    const S = Math.min(b, k.maxSlices);
    let loss = 0;
    let errors = 0;
    // images offset .. offset+count of the batch, slice by slice (slice s: sliceStart(s, b) ..)
    for (let s = 0; s < S; s++) {
      const s0 = k.ex.sliceStart(s, b), s1 = k.ex.sliceStart(s + 1, b);
      const from = Math.max(s0, offset), to = Math.min(s1, offset + count);
      if (from >= to) continue;
      if (from === s0) this.slots[s].fill(0); // the slice's first image: a fresh sum
      for (let p0 = from; p0 < to; p0 += stageMax) {
        const n = Math.min(stageMax, to - p0);
        this.stage(data, order, start + (p0 - offset), n, false);
        loss += k.ex.sliceGradientAdd(0, n, s);
        errors += k.ex.takeErrors();
      }
    }
    return { loss, errors };
  }

  applyBatch(b: number, lr: number): void {
    this.k.ex.applySlots(Math.min(b, this.k.maxSlices), lr, b); // the update of every path (α/B in float32)
  }

  private trainThreaded(n: number, B: number, lr: number): StepStats {
    const { params: sParams, grads: sGrads, loss: sLoss, errors: sErr, images: sImages, labels: sLabels } = this.shared!;
    const k = this.k, T = this.threads;
    const lossBySlice = new Float64Array(k.maxSlices);
    let loss = 0;
    let errors = 0;
    for (let b0 = 0; b0 < n; b0 += B) {
      const b = Math.min(B, n - b0);
      const S = Math.min(b, k.maxSlices);
      sParams.set(k.params);
      this.publish(MODE_TRAIN, b0, b);
      for (let s = 0; s < S; s += T) {
        const s0 = b0 + k.ex.sliceStart(s, b), s1 = b0 + k.ex.sliceStart(s + 1, b);
        k.images.set(sImages.subarray(s0 * PIXELS, s1 * PIXELS), s0 * PIXELS);
        k.labels.set(sLabels.subarray(s0, s1), s0);
        lossBySlice[s] = k.ex.sliceGradient(s0, s1 - s0, s);
        errors += k.ex.takeErrors();
      }
      this.awaitWorkers();
      for (let s = 0; s < S; s++) {
        if (s % T === 0) continue;
        this.slots[s].set(sGrads.subarray(s * k.slotFloats, (s + 1) * k.slotFloats));
        lossBySlice[s] = sLoss[s];
        errors += sErr[s];
      }
      for (let s = 0; s < S; s++) loss += lossBySlice[s];
      k.ex.applySlots(S, lr, b); // the update of every path, whatever the threads (α/B in float32)
    }
    return { loss, errors };
  }

  /** Start one step on the workers (they wake on GEN). */
  private publish(mode: number, b0: number, b: number, withLoss = false): void {
    const ctrl = this.shared!.ctrl;
    ctrl[CTRL.MODE] = mode;
    ctrl[CTRL.WITH_LOSS] = withLoss ? 1 : 0;
    ctrl[CTRL.B0] = b0;
    ctrl[CTRL.B] = b;
    ctrl[CTRL.THREADS] = this.threads;
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
  }

  /** Block until every worker has finished the current step. */
  private awaitWorkers(): void {
    const ctrl = this.shared!.ctrl;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done === this.threads - 1) break;
      waitChange(ctrl, CTRL.DONE, done);
    }
    if (Atomics.load(ctrl, CTRL.FAILED)) throw new Error('a worker thread failed during a step');
  }

  /** Forward passes on this thread over images [first, first+n) of data; results at index `at`. */
  private predictHere(data: Images, first: number, n: number, at: number, predictions: Uint8Array, outputs?: Float64Array): number {
    const k = this.k;
    this.stage(data, null, first, n, false);
    const loss = k.ex.predictStaged(n, data.labels !== undefined);
    predictions.set(k.preds.subarray(0, n), at);
    if (outputs) for (let i = 0; i < n * CLASSES; i++) outputs[at * CLASSES + i] = k.outputs[i];
    return loss;
  }

  /**
   * Forward passes. Large sets go in chunks of the stage size, each split into PREDICT_PARTS
   * fixed parts (part k on thread k mod T) whose losses are added in order: the result does not
   * depend on T.
   */
  predict(data: Images, start: number, count: number, predictions: Uint8Array, outputs?: Float64Array): number {
    const k = this.k, T = this.threads;
    const withLoss = data.labels !== undefined;
    if (count < 64 * PREDICT_PARTS) {
      let loss = withLoss ? 0 : NaN;
      for (let p0 = 0; p0 < count; p0 += k.stageMax) loss += this.predictHere(data, start + p0, Math.min(k.stageMax, count - p0), p0, predictions, outputs);
      return loss;
    }
    let loss = withLoss ? 0 : NaN;
    const partLoss = new Float64Array(PREDICT_PARTS);
    for (let p0 = 0; p0 < count; p0 += k.stageMax) {
      const n = Math.min(k.stageMax, count - p0);
      const sh = this.shared;
      if (sh) {
        this.stage(data, null, start + p0, n, true);
        sh.params.set(k.params);
        this.publish(MODE_PREDICT, 0, n, withLoss);
      }
      for (let part = 0; part < PREDICT_PARTS; part += T) {
        const [from, to] = share(part, PREDICT_PARTS, n);
        partLoss[part] = this.predictHere(data, start + p0 + from, to - from, p0 + from, predictions, outputs);
      }
      if (sh) {
        this.awaitWorkers();
        const { loss: sLoss, preds: sPreds, outputs: sOut } = sh;
        for (let part = 0; part < PREDICT_PARTS; part++) {
          if (part % T === 0) continue;
          const [from, to] = share(part, PREDICT_PARTS, n);
          partLoss[part] = sLoss[part];
          predictions.set(sPreds.subarray(from, to), p0 + from);
          if (outputs) for (let i = from * CLASSES; i < to * CLASSES; i++) outputs[p0 * CLASSES + i] = sOut[i];
        }
      }
      for (let part = 0; part < PREDICT_PARTS; part++) loss += partLoss[part];
    }
    return loss;
  }

  async close(): Promise<void> {
    if (this.shared && this.workers.length) {
      const ctrl = this.shared.ctrl;
      Atomics.store(ctrl, CTRL.STOP, 1);
      Atomics.add(ctrl, CTRL.GEN, 1);
      Atomics.notify(ctrl, CTRL.GEN);
      await Promise.all(this.workers.map((w) => w.terminate()));
      this.workers.length = 0;
    }
  }
}
