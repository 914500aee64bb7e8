/**
 * The training loop (the programmatic API under the CLI). It knows nothing of terminals: it
 * reports through callbacks and returns where it stopped. Order of randomness, fixed so that a
 * seed reproduces a run bit for bit: the PRNG seeded with `seed` draws the initial weights
 * (eqs 1-3), then one Fisher-Yates shuffle of the training indices per epoch.
 *
 * Beyond the paper (all off by default, so the default run is the paper's plain SGD): a held-out
 * validation set evaluated every epoch, keeping the best epoch, early stopping, a learning rate
 * decaying per epoch, momentum and weight decay. A checkpoint carries everything they need
 * (velocity, best epoch, epochs since it) so that a resumed run continues exactly.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fingerprint } from '../data/fingerprint.js';
import type { Dataset } from '../data/mnist.js';
import { PLAIN_SGD, type Engine, type Optimizer } from '../engine/engine.js';
import { CnnError } from '../errors.js';
import type { DataOptions, EpochRecord, ModelFile, ResumeState, TrainingInfo } from '../io/model-file.js';
import { FORMAT } from '../io/model-file.js';
import { ARCHITECTURE_KEYS, CHOICES, sameArchitecture } from '../model/architecture.js';
import { initParams } from '../model/init.js';
import { Rng } from '../model/rng.js';
import { TOOL } from '../version.js';
import { evaluateInChunks, type Evaluation } from './evaluate.js';

export interface TrainOptions {
  /** Total epochs to reach (a resumed run counts the epochs already done). */
  epochs: number;
  batchSize: number;
  /** α of the first epoch (eqs 65-70). */
  lr: number;
  seed: number;
  train: Dataset;
  /** Evaluated after every epoch when given. */
  test?: Dataset;
  /** Held-out images evaluated after every epoch (never trained on). */
  validation?: Dataset;
  /** 'best': the model returned is the epoch with the lowest validation error (needs validation). */
  keep?: 'last' | 'best';
  /** Stop after this many epochs without a lower validation error (needs validation). */
  earlyStop?: number;
  /** γ: the rate of epoch e is α·γ^(e−1) (default 1: constant). */
  lrDecay?: number;
  /** Momentum and weight decay (default: plain SGD). */
  optimizer?: Optimizer;
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
  /** Where the run writes (absolute), recorded so that --resume continues there. */
  paths?: { out: string; checkpoint: string };
  onProgress?: (p: Progress) => void;
  onEpoch?: (e: EpochEvent) => void;
}

export interface Progress {
  /** Training through the epoch, or testing (validation, test set) after it. */
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
  validation?: Evaluation;
  /** Whether this epoch is the best so far on the validation set. */
  best?: boolean;
  /** A snapshot to save as the end-of-epoch checkpoint. */
  snapshot: ModelFile;
}

export type TrainStatus = 'completed' | 'interrupted' | 'diverged';

export interface TrainResult {
  status: TrainStatus;
  /**
   * The model to keep: at the stop, or with keep 'best' the best epoch's parameters (without a
   * resume section: `last` is the state to continue from). For 'diverged': the last state whose
   * parameters were all finite.
   */
  model: ModelFile;
  /** Where training stands (resumable); the same as `model` unless keep is 'best'. */
  last: ModelFile;
  /** For 'diverged': where it happened. */
  divergence?: { epoch: number; image: number; what: string };
  /** Set when early stopping ended the run. */
  stoppedEarly?: { epoch: number };
  lastEvaluation?: Evaluation;
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** The learning rate of epoch e: α·γ^(e−1). */
export function epochRate(lr: number, lrDecay: number, epoch: number): number {
  return lrDecay === 1 ? lr : lr * lrDecay ** (epoch - 1);
}

/** Refuse to continue a run on other training data than it started with. */
function checkSameData(from: ModelFile, data: Dataset, print: string): void {
  const d = from.training?.data;
  if (!d) return;
  if (d.trainCount !== data.count) {
    throw new CnnError(`cannot resume: the run was trained on ${d.trainCount} images (${d.source}) but the training data now has ${data.count} (${data.source}); use the same --data, --train-limit and --validation`);
  }
  if (d.fingerprint !== undefined && d.fingerprint !== print) {
    throw new CnnError(
      `cannot resume: the run was trained on ${d.source} (${d.fingerprint.slice(0, 19)}…) but the training data now is ${data.source} (${print.slice(0, 19)}…): ` +
        'other images or labels of the same count; use the same --data and --train-limit',
    );
  }
}

function checkOptions(o: TrainOptions): void {
  if ((o.keep === 'best' || o.earlyStop !== undefined) && !o.validation) {
    throw new CnnError(`${o.keep === 'best' ? '--keep best' : '--early-stop'} needs --validation (held-out images to choose by)`);
  }
  const m = o.optimizer?.momentum ?? 0;
  if (!(m >= 0 && m < 1)) throw new CnnError(`--momentum ${m}: expected a number from 0 up to (not including) 1`);
  if (!((o.optimizer?.weightDecay ?? 0) >= 0)) throw new CnnError('--weight-decay must be 0 or more');
  if (!((o.lrDecay ?? 1) > 0)) throw new CnnError('--lr-decay must be greater than 0');
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  checkOptions(o);
  const { engine, batchSize } = o;
  const data = o.train;
  const N = data.count;
  const curveEvery = o.curveEvery ?? 1000;
  const lrDecay = o.lrDecay ?? 1;
  const optimizer = o.optimizer ?? PLAIN_SGD;
  const plain = optimizer.momentum === 0 && optimizer.weightDecay === 0 && lrDecay === 1;
  const keep = o.keep ?? 'last';
  const print = fingerprint(data);
  engine.setOptimizer(optimizer);
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
    engine.setVelocity(r.velocity ? Float64Array.from(r.velocity) : new Float64Array(o.resumeFrom.parameters.length));
    rng = new Rng(r.epochRng);
    resume = { ...r, curve: [...r.curve] };
    // a run that stopped early is judged again by this run's patience: it goes on if that allows
    if (resume.stoppedEarly && !(o.earlyStop !== undefined && (resume.sinceBest ?? 0) >= o.earlyStop)) delete resume.stoppedEarly;
    history = [...(o.resumeFrom.training?.history ?? [])];
  } else {
    rng = new Rng(o.seed);
    engine.setParams(initParams(rng)); // eqs 1-3
    engine.setVelocity(new Float64Array(engine.getParams().length));
    resume = { completedEpochs: 0, position: 0, epochRng: rng.state(), epochLoss: 0, epochErrors: 0, epochSeconds: 0, blockLoss: 0, curve: [] };
    history = [];
  }

  const info = (extra: Partial<TrainingInfo> = {}): TrainingInfo => ({
    tool: TOOL,
    engine: engine.detail,
    engineName: engine.name,
    threads: engine.threads,
    epochs: o.epochs,
    batchSize,
    lr: o.lr,
    seed: o.seed,
    data: {
      source: data.source,
      trainCount: N,
      testCount: o.test?.count ?? 0,
      fingerprint: print,
      ...(o.dataOptions ?? {}),
    },
    curveEvery,
    ...(o.paths ? { paths: o.paths } : {}),
    ...(plain ? {} : { optimizer: { momentum: optimizer.momentum, weightDecay: optimizer.weightDecay, lrDecay } }),
    ...(o.validation ? { validation: { count: o.validation.count, keep, earlyStop: o.earlyStop ?? null } } : {}),
    ...extra,
    history: [...history],
    createdAt: new Date().toISOString(),
  });
  /** The state now, with the engine's parameters and velocity (for checkpoints). */
  const snapshot = (params: Float64Array, state: ResumeState): ModelFile => ({
    format: FORMAT,
    architecture: engine.architecture,
    parameters: params,
    training: info(state.stoppedEarly ? { stoppedEarly: { epoch: state.completedEpochs } } : {}),
    resume: {
      ...state,
      curve: [...state.curve],
      ...(optimizer.momentum !== 0 ? { velocity: Array.from(engine.getVelocity()) } : {}),
    },
  });

  // Images per engine call: whole batches, about 50 ms of work (signals are handled between
  // calls), at most progressEvery; fixed, so that the loss sums are the same in every run.
  const chunk = Math.max(1, Math.floor(Math.min(engine.callSize.train, o.progressEvery ?? Infinity) / batchSize)) * batchSize;
  // curve blocks hold whole batches, so every block ends on a batch boundary
  const curveBlock = Math.max(1, Math.ceil(curveEvery / batchSize)) * batchSize;
  const order = new Uint32Array(N);
  let lastGood = snapshot(engine.getParams(), resume);
  let lastEvaluation: Evaluation | undefined;
  const result = (status: TrainStatus, last: ModelFile, extra: Partial<TrainResult> = {}): TrainResult => {
    let model = last;
    if (status === 'completed' && keep === 'best' && last.resume?.best?.parameters) {
      const b = last.resume.best as Required<NonNullable<ResumeState['best']>>;
      const kept = { epoch: b.epoch, validationError: b.validationError };
      // the best epoch is the last: the model is where the run stands, and can be resumed
      model = b.epoch === last.resume.completedEpochs
        ? { ...last, training: { ...last.training!, kept } }
        : { format: FORMAT, architecture: last.architecture, parameters: Float64Array.from(b.parameters), training: { ...last.training!, kept } };
    }
    return { status, model, last, lastEvaluation, ...(resume.stoppedEarly ? { stoppedEarly: { epoch: resume.completedEpochs } } : {}), ...extra };
  };
  const interrupted = (): TrainResult => result('interrupted', snapshot(engine.getParams(), resume));
  const evaluateSet = async (set: Dataset, epoch: number, loss: number) => {
    const t1 = performance.now();
    return evaluateInChunks(engine, set, {
      signal: o.signal,
      onProgress: (done, total) =>
        o.onProgress?.({ phase: 'test', epoch, epochs: o.epochs, done, total, loss, imagesPerSecond: done / Math.max((performance.now() - t1) / 1000, 1e-9) }),
    });
  };

  while (resume.completedEpochs < o.epochs && !resume.stoppedEarly) {
    const epoch = resume.completedEpochs + 1;
    const lr = epochRate(o.lr, lrDecay, epoch);
    // Per-epoch shuffle from the PRNG state at the epoch's start (stored in checkpoints).
    rng = new Rng(resume.epochRng);
    for (let i = 0; i < N; i++) order[i] = i;
    rng.shuffle(order);
    const t0 = performance.now() - resume.epochSeconds * 1000;
    while (resume.position < N) {
      if (o.signal?.aborted) return interrupted();
      // stop each call at a curve-block boundary too, so the curve is exact
      const toBlock = curveBlock - (resume.position % curveBlock);
      let n: number, s: { loss: number; errors: number };
      if (batchSize <= engine.callSize.batch) {
        n = Math.min(chunk, N - resume.position, toBlock);
        s = engine.train(data, order, resume.position, n, batchSize, lr);
      } else {
        // a batch larger than one engine call: summed in pieces, with the event loop running
        // between them (a second Ctrl-C quits at once); the run stops only between batches
        n = Math.min(batchSize, N - resume.position);
        s = { loss: 0, errors: 0 };
        for (let offset = 0; offset < n; offset += engine.callSize.train) {
          const m = Math.min(engine.callSize.train, n - offset);
          const p = engine.accumulate(data, order, resume.position + offset, m, offset, n);
          s.loss += p.loss;
          s.errors += p.errors;
          o.onProgress?.({ phase: 'train', epoch, epochs: o.epochs, done: resume.position + offset + m, total: N,
            loss: (resume.epochLoss + s.loss) / (resume.position + offset + m), imagesPerSecond: (resume.position + offset + m) / Math.max((performance.now() - t0) / 1000, 1e-9) });
          await yieldToEventLoop();
        }
        engine.applyBatch(n, lr);
      }
      const params = engine.getParams();
      if (!Number.isFinite(s.loss) || !allFinite(params)) {
        return result('diverged', lastGood, {
          model: lastGood,
          divergence: {
            epoch,
            image: resume.position + n,
            what: Number.isFinite(s.loss) ? 'a parameter became NaN or infinite' : 'the loss became NaN or infinite',
          },
        });
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
      imagesPerSecond: trainSeconds > 0 ? N / trainSeconds : 0,
      curve: resume.curve,
      ...(lrDecay !== 1 ? { lr } : {}),
    };
    // interruptible: a checkpoint taken here resumes with these evaluations (position = N)
    let validation: Evaluation | undefined;
    if (o.validation) {
      const ev = await evaluateSet(o.validation, epoch, record.loss);
      if (!ev) return interrupted();
      validation = ev;
      record.validationError = ev.error;
      record.validationLoss = ev.loss;
    }
    if (o.test) {
      const ev = await evaluateSet(o.test, epoch, record.loss);
      if (!ev) return interrupted();
      lastEvaluation = ev;
      record.testError = ev.error;
      record.testLoss = ev.loss;
    }
    record.seconds = (performance.now() - t0) / 1000;
    history.push(record);
    // the best epoch so far (lowest validation error; the earlier wins a tie) and early stopping
    let best = resume.best, sinceBest = resume.sinceBest ?? 0, isBest = false;
    if (validation) {
      isBest = !best || validation.error < best.validationError;
      if (isBest) {
        best = { epoch, validationError: validation.error, ...(keep === 'best' ? { parameters: Array.from(engine.getParams()) } : {}) };
        sinceBest = 0;
      } else {
        sinceBest++;
      }
    }
    const stoppedEarly = o.earlyStop !== undefined && sinceBest >= o.earlyStop && epoch < o.epochs;
    resume = {
      completedEpochs: epoch, position: 0, epochRng: rng.state(), epochLoss: 0, epochErrors: 0, epochSeconds: 0, blockLoss: 0, curve: [],
      ...(validation ? { best, sinceBest } : {}),
      ...(stoppedEarly ? { stoppedEarly: true } : {}),
    };
    lastGood = snapshot(engine.getParams(), resume);
    o.onEpoch?.({ record, evaluation: lastEvaluation, validation, best: isBest, snapshot: lastGood });
  }
  return result('completed', snapshot(engine.getParams(), resume));
}
