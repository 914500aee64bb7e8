/**
 * The fast engine: the WebAssembly SIMD kernel (float32) on 1..T threads (main + T-1 workers), all
 * running the kernel on one shared WebAssembly memory. Online SGD (batch 1) shares each image out
 * to the threads by feature map and row; minibatches are split into at most 8 fixed slices whose
 * gradients are summed in a fixed order; evaluation into 8 fixed parts. Whatever T, each value is
 * computed with the same operations in the same order: the same seed gives the same parameters,
 * bit for bit.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { Dataset } from '../data/mnist.js';
import { CnnError } from '../errors.js';
import { PAPER, type Architecture } from '../model/architecture.js';
import { CLASSES, PARAM_COUNT, PIXELS } from '../model/dims.js';
import { PLAIN_SGD, type Engine, type Images, type Optimizer, type StepStats } from './engine.js';
import { fromKernelLayout, toKernelLayout } from './kernel-params.js';
import { Kernel, kernelMemory, kernelModule, packageRoot, type KernelVariant } from './wasm-module.js';
import { allocShared, CTRL, MODE_PREDICT, MODE_TRAIN, PREDICT_PARTS, share, sharedViews, VALUES, waitChange, type SharedBuffers, type SharedViews, type WorkerInit } from './worker-protocol.js';

export class WasmEngine implements Engine {
  readonly name = 'wasm' as const;
  readonly threads: number;
  readonly variant: KernelVariant;
  readonly callSize = { train: 1024, predict: 4096, batch: 4096 }; // ~50 ms of online SGD, ~50 ms of evaluation; a batch of 4096 in ~0.2 s on 2 threads
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
    const memory = kernelMemory();
    const k = new Kernel(module, architecture, memory, 0);
    const T = Math.max(1, Math.min(threads, k.maxSlices, k.maxThreads));
    if (T === 1) return new WasmEngine(k, variant, 1, []);
    const shared = allocShared();
    const script = join(packageRoot(), 'dist', 'src', 'engine', 'wasm-worker.js');
    const workers: Worker[] = [];
    for (let i = 1; i < T; i++) {
      const w = new Worker(script, { workerData: { index: i, shared, module, memory, architecture } satisfies WorkerInit });
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
   * Copy images order[from .. from+n) (or from .. from+n when order is null) into the stage, with
   * their labels when the data have them.
   */
  private stage(data: Images, order: Uint32Array | null, from: number, n: number): void {
    const imgs = this.k.images;
    const labs = this.k.labels;
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
      this.stage(data, order, p0, n);
      if (this.workers.length === 0) {
        loss += this.k.ex.trainStaged(n, batchSize, lr);
      } else {
        loss += this.trainShared(n, batchSize, lr);
      }
      errors += this.k.ex.takeErrors();
    }
    return { loss, errors };
  }

  /**
   * Training over the n staged images on T threads or on this one, whichever has been faster
   * lately. Sharing one image out to the threads (online SGD) needs a barrier every ~10 µs, a
   * minibatch two per batch: on a quiet machine that is ~1.6x faster than one thread, but when
   * another program holds a core, the threads wait for each other at every barrier and it can be
   * twice slower than one thread. Both ways give the same parameters and the same loss, bit for
   * bit, so the way is chosen on measured speed (for online SGD and minibatches apart): the first
   * call runs on T threads as a warm-up, the next two measure each way, then the faster runs, and
   * the other is measured again every 8th call, every 16th, … every 128th while it stays slower;
   * the way in use changes at once when its own rate falls below the other's last one.
   */
  private trainShared(n: number, B: number, lr: number): number {
    const k = this.k, T = this.threads, o = this.ways[B === 1 ? 0 : 1];
    const c = o.calls++;
    const threaded = c <= 1 ? 1 : c === 2 ? 0 : c === o.probeAt ? 1 - o.best : o.best;
    const t0 = performance.now();
    let loss: number;
    if (threaded) {
      this.publish(MODE_TRAIN, 0, n, B, lr);
      loss = this.runHere(() => (B === 1 ? k.ex.trainOnline(0, T, 0, n, lr, 0) : k.ex.trainBatches(0, T, n, B, lr)));
    } else {
      loss = B === 1 ? k.ex.trainOnline(0, 1, 0, n, lr, 0) : k.ex.trainBatches(0, 1, n, B, lr);
    }
    const rate = n / Math.max(performance.now() - t0, 1e-3);
    if (c >= 1) o.rate[threaded] = o.rate[threaded] > 0 ? 0.5 * o.rate[threaded] + 0.5 * rate : rate;
    const best = o.rate[1] >= o.rate[0] ? 1 : 0;
    if (c === 2 || c === o.probeAt) {
      o.interval = c === 2 || best !== o.best ? 8 : Math.min(2 * o.interval, 128);
      o.best = best;
      o.probeAt = c + o.interval;
    } else if (c > 2 && best !== o.best) { // the way in use has slowed below the other's last rate
      o.best = best;
      o.interval = 8;
      o.probeAt = c + o.interval;
    }
    return loss;
  }

  /**
   * How online SGD [0] and minibatches [1] run: images per ms lately [on this thread alone, on all
   * T threads], the way in use, when to measure the other.
   */
  private readonly ways = [0, 1].map(() => ({ rate: [0, 0], calls: 0, best: 1, interval: 8, probeAt: -1 }));

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
        this.stage(data, order, start + (p0 - offset), n);
        loss += k.ex.sliceGradientAdd(0, n, s);
        errors += k.ex.takeErrors();
      }
    }
    return { loss, errors };
  }

  applyBatch(b: number, lr: number): void {
    this.k.ex.applySlots(Math.min(b, this.k.maxSlices), lr, b); // the update of every path (α/B in float32)
  }

  /**
   * This thread's share of a step published to the workers, then wait for them. If either side
   * fails, the kernel's abort word stops the others at their next barrier instead of leaving them
   * waiting for ever.
   */
  private runHere(work: () => number): number {
    let result: number;
    try {
      result = work();
    } catch (e) {
      Atomics.store(this.k.abortWord, 0, 1);
      try {
        this.awaitWorkers();
      } catch {
        /* reported below */
      }
      throw new CnnError(`the wasm engine failed: ${(e as Error).message}`);
    }
    this.awaitWorkers();
    return result;
  }

  /** Start one step on the workers (they wake on GEN). */
  private publish(mode: number, from: number, to: number, b: number, lr = 0, withLoss = false): void {
    const { ctrl, values } = this.shared!;
    ctrl[CTRL.MODE] = mode;
    ctrl[CTRL.WITH_LOSS] = withLoss ? 1 : 0;
    ctrl[CTRL.FROM] = from;
    ctrl[CTRL.TO] = to;
    ctrl[CTRL.B] = b;
    ctrl[CTRL.THREADS] = this.threads;
    values[VALUES.LR] = lr;
    values[VALUES.MOMENTUM] = this.optimizer.momentum;
    values[VALUES.WEIGHT_DECAY] = this.optimizer.weightDecay;
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
    if (Atomics.load(ctrl, CTRL.FAILED)) throw new CnnError('a worker thread of the wasm engine failed during a step');
  }

  /** Results of the staged images [from, to) into predictions/outputs at index at + from. */
  private collect(from: number, to: number, at: number, predictions: Uint8Array, outputs?: Float64Array): void {
    const k = this.k;
    predictions.set(k.preds.subarray(from, to), at + from);
    if (outputs) for (let i = from * CLASSES; i < to * CLASSES; i++) outputs[at * CLASSES + i] = k.outputs[i];
  }

  /**
   * Forward passes. Large sets go in chunks of the stage size, each split into PREDICT_PARTS
   * fixed parts (part k on thread k mod T) whose losses are added in order: the result does not
   * depend on T.
   */
  predict(data: Images, start: number, count: number, predictions: Uint8Array, outputs?: Float64Array): number {
    const k = this.k, T = this.threads;
    const withLoss = data.labels !== undefined;
    let loss = withLoss ? 0 : NaN;
    if (count < 64 * PREDICT_PARTS) {
      for (let p0 = 0; p0 < count; p0 += k.stageMax) {
        const n = Math.min(k.stageMax, count - p0);
        this.stage(data, null, start + p0, n);
        loss += k.ex.predictStaged(0, n, withLoss);
        this.collect(0, n, p0, predictions, outputs);
      }
      return loss;
    }
    const partLoss = new Float64Array(PREDICT_PARTS);
    for (let p0 = 0; p0 < count; p0 += k.stageMax) {
      const n = Math.min(k.stageMax, count - p0);
      this.stage(data, null, start + p0, n);
      if (this.shared) {
        this.publish(MODE_PREDICT, 0, n, 0, 0, withLoss);
        this.runHere(() => {
          for (let part = 0; part < PREDICT_PARTS; part += T) {
            const [from, to] = share(part, PREDICT_PARTS, n);
            partLoss[part] = k.ex.predictStaged(from, to, withLoss);
          }
          return 0;
        });
        const values = this.shared.values;
        for (let part = 0; part < PREDICT_PARTS; part++) if (part % T !== 0) partLoss[part] = values[VALUES.PART_LOSS + part];
      } else {
        for (let part = 0; part < PREDICT_PARTS; part++) {
          const [from, to] = share(part, PREDICT_PARTS, n);
          partLoss[part] = k.ex.predictStaged(from, to, withLoss);
        }
      }
      this.collect(0, n, p0, predictions, outputs);
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
