/**
 * The training loop (the programmatic API under the CLI). It knows nothing of terminals: it
 * reports through callbacks and returns where it stopped. Order of randomness, fixed so that a
 * seed reproduces a run bit for bit: the PRNG seeded with `seed` draws the initial weights
 * (eqs 1-3), then one Fisher-Yates shuffle of the training indices per epoch.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Dataset } from '../data/mnist.js';
import type { Engine } from '../engine/engine.js';
import { CnnError } from '../errors.js';
import type { DataOptions, EpochRecord, ModelFile, ResumeState, TrainingInfo } from '../io/model-file.js';
import { FORMAT } from '../io/model-file.js';
import { ARCHITECTURE_KEYS, CHOICES, sameArchitecture } from '../model/architecture.js';
import { initParams } from '../model/init.js';
import { Rng } from '../model/rng.js';
import { TOOL } from '../version.js';
import { evaluateInChunks, type Evaluation } from './evaluate.js';
import { fingerprint } from '../data/fingerprint.js';

export interface TrainOptions {
  /** Total epochs to reach (a resumed run counts the epochs already done). */
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  train: Dataset;
  /** Evaluated after every epoch when given. */
  test?: Dataset;
  engine: Engine;
  /** Continue from this model/checkpoint instead of initialising. */
  resumeFrom?: ModelFile;
  /** Learning-curve resolution: mean loss per block of this many images. */
  curveEvery?: number;
  /** Stop cleanly at the next batch boundary when aborted (Ctrl-C). */
  signal?: AbortSignal;
  /** At most this many images per engine call (between two progress reports and abort checks). */
  progressEvery?: number;
  /** How the data was chosen, recorded in the model file so that --resume can reuse it. */
  dataOptions?: DataOptions;
  onProgress?: (p: Progress) => void;
  onEpoch?: (e: EpochEvent) => void;
}

export interface Progress {
  /** Training through the epoch, or testing after it. */
  phase: 'train' | 'test';
  epoch: number;
  epochs: number;
  done: number;
  total: number;
  /** Mean loss over the epoch so far. */
  loss: number;
  imagesPerSecond: number;
}

export interface EpochEvent {
  record: EpochRecord;
  evaluation?: Evaluation;
  /** A snapshot to save as the end-of-epoch checkpoint. */
  snapshot: ModelFile;
}

export type TrainStatus = 'completed' | 'interrupted' | 'diverged';

export interface TrainResult {
  status: TrainStatus;
  /** The model at the stop (for 'diverged': the last state whose parameters were all finite). */
  model: ModelFile;
  /** For 'diverged': where it happened. */
  divergence?: { epoch: number; image: number; what: string };
  lastEvaluation?: Evaluation;
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Refuse to continue a run on other training data than it started with. */
function checkSameData(from: ModelFile, data: Dataset, print: string): void {
  const d = from.training?.data;
  if (!d) return;
  if (d.trainCount !== data.count) {
    throw new CnnError(`cannot resume: the run was trained on ${d.trainCount} images (${d.source}) but the training data now has ${data.count} (${data.source}); use the same --data and --train-limit`);
  }
  if (d.fingerprint !== undefined && d.fingerprint !== print) {
    throw new CnnError(
      `cannot resume: the run was trained on ${d.source} (${d.fingerprint.slice(0, 19)}…) but the training data now is ${data.source} (${print.slice(0, 19)}…): ` +
        'other images or labels of the same count; use the same --data and --train-limit',
    );
  }
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const { engine, batchSize, lr } = o;
  const data = o.train;
  const N = data.count;
  const curveEvery = o.curveEvery ?? 1000;
  const print = fingerprint(data);
  let rng: Rng;
  let resume: ResumeState;
  let history: EpochRecord[];
  if (o.resumeFrom) {
    const r = o.resumeFrom.resume;
    if (!r) throw new CnnError('the model to resume from has no "resume" section; it was not written by cnn-train');
    const was = o.resumeFrom.architecture;
    if (!sameArchitecture(was, engine.architecture)) {
      const k = ARCHITECTURE_KEYS.find((key) => was[key] !== engine.architecture[key])!;
      throw new CnnError(`cannot resume: the run was trained with --${CHOICES[k].flag} ${was[k]}, not ${engine.architecture[k]}; an architecture cannot change during a run`);
    }
    checkSameData(o.resumeFrom, data, print);
    if (r.position > N) throw new CnnError(`the checkpoint is at image ${r.position} of its epoch, but the training set has only ${N} images`);
    engine.setParams(o.resumeFrom.parameters);
    rng = new Rng(r.epochRng);
    resume = { ...r, curve: [...r.curve] };
    history = [...(o.resumeFrom.training?.history ?? [])];
  } else {
    rng = new Rng(o.seed);
    engine.setParams(initParams(rng)); // eqs 1-3
    resume = { completedEpochs: 0, position: 0, epochRng: rng.state(), epochLoss: 0, epochErrors: 0, epochSeconds: 0, blockLoss: 0, curve: [] };
    history = [];
  }

  const info = (): TrainingInfo => ({
    tool: TOOL,
    engine: engine.detail,
    engineName: engine.name,
    threads: engine.threads,
    epochs: o.epochs,
    batchSize,
    lr,
    seed: o.seed,
    data: {
      source: data.source,
      trainCount: N,
      testCount: o.test?.count ?? 0,
      fingerprint: print,
      ...(o.dataOptions ?? {}),
    },
    curveEvery,
    history: [...history],
    createdAt: new Date().toISOString(),
  });
  const snapshot = (params: Float64Array, state: ResumeState): ModelFile => ({
    format: FORMAT,
    architecture: engine.architecture,
    parameters: params,
    training: info(),
    resume: { ...state, curve: [...state.curve] },
  });

  // Images per engine call: whole batches, about 50 ms of work (signals are handled between
  // calls), at most progressEvery; fixed, so that the loss sums are the same in every run.
  const chunk = Math.max(1, Math.floor(Math.min(engine.callSize.train, o.progressEvery ?? Infinity) / batchSize)) * batchSize;
  // curve blocks hold whole batches, so every block ends on a batch boundary
  const curveBlock = Math.max(1, Math.ceil(curveEvery / batchSize)) * batchSize;
  const order = new Uint32Array(N);
  let lastGood = snapshot(engine.getParams(), resume);
  let lastEvaluation: Evaluation | undefined;
  const interrupted = (): TrainResult => ({ status: 'interrupted', model: snapshot(engine.getParams(), resume), lastEvaluation });

  while (resume.completedEpochs < o.epochs) {
    const epoch = resume.completedEpochs + 1;
    // Per-epoch shuffle from the PRNG state at the epoch's start (stored in checkpoints).
    rng = new Rng(resume.epochRng);
    for (let i = 0; i < N; i++) order[i] = i;
    rng.shuffle(order);
    const t0 = performance.now() - resume.epochSeconds * 1000;
    while (resume.position < N) {
      if (o.signal?.aborted) return interrupted();
      // stop each call at a curve-block boundary too, so the curve is exact
      const toBlock = curveBlock - (resume.position % curveBlock);
      const n = Math.min(chunk, N - resume.position, toBlock);
      const s = engine.train(data, order, resume.position, n, batchSize, lr);
      const params = engine.getParams();
      if (!Number.isFinite(s.loss) || !allFinite(params)) {
        return {
          status: 'diverged',
          model: lastGood,
          divergence: {
            epoch,
            image: resume.position + n,
            what: Number.isFinite(s.loss) ? 'a parameter became NaN or infinite' : 'the loss became NaN or infinite',
          },
          lastEvaluation,
        };
      }
      resume.position += n;
      resume.epochLoss += s.loss;
      resume.epochErrors += s.errors;
      resume.epochSeconds = (performance.now() - t0) / 1000;
      resume.blockLoss += s.loss;
      const inBlock = resume.position % curveBlock;
      if (inBlock === 0 || resume.position === N) {
        resume.curve.push(resume.blockLoss / (inBlock === 0 ? curveBlock : inBlock));
        resume.blockLoss = 0;
      }
      lastGood = snapshot(params, resume);
      o.onProgress?.({
        phase: 'train',
        epoch,
        epochs: o.epochs,
        done: resume.position,
        total: N,
        loss: resume.epochLoss / resume.position,
        imagesPerSecond: resume.position / Math.max(resume.epochSeconds, 1e-9),
      });
      await yieldToEventLoop(); // let signals and rendering run
    }
    const trainSeconds = resume.epochSeconds;
    const record: EpochRecord = {
      epoch,
      loss: resume.epochLoss / N,
      trainError: resume.epochErrors / N,
      seconds: 0,
      imagesPerSecond: N / trainSeconds,
      curve: resume.curve,
    };
    if (o.test) {
      // interruptible: a checkpoint taken here resumes with this evaluation (position = N)
      const t1 = performance.now();
      const ev = await evaluateInChunks(engine, o.test, {
        signal: o.signal,
        onProgress: (done, total) =>
          o.onProgress?.({ phase: 'test', epoch, epochs: o.epochs, done, total, loss: record.loss, imagesPerSecond: done / Math.max((performance.now() - t1) / 1000, 1e-9) }),
      });
      if (!ev) return interrupted();
      lastEvaluation = ev;
      record.testError = ev.error;
      record.testLoss = ev.loss;
    }
    record.seconds = (performance.now() - t0) / 1000;
    history.push(record);
    resume = { completedEpochs: epoch, position: 0, epochRng: rng.state(), epochLoss: 0, epochErrors: 0, epochSeconds: 0, blockLoss: 0, curve: [] };
    lastGood = snapshot(engine.getParams(), resume);
    o.onEpoch?.({ record, evaluation: lastEvaluation, snapshot: lastGood });
  }
  return { status: 'completed', model: snapshot(engine.getParams(), resume), lastEvaluation };
}
