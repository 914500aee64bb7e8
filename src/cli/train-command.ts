/**
 * The training command: options -> checks made before any work -> data -> train() -> files.
 * Everything that can be refused is refused before the data are loaded; nothing the user has is
 * overwritten unless it is a file of the kind being written (see src/io/output-paths.ts).
 */
import { existsSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { limit, loadMnistSplit, splitTraining } from '../data/mnist.js';
import { createEngine } from '../engine/create-engine.js';
import type { EngineName } from '../engine/engine.js';
import { CnnError } from '../errors.js';
import { ARCHITECTURE_KEYS, architectureFlags, checkArchitecture, CHOICES, describeArchitecture, isPaper, type Architecture } from '../model/architecture.js';
import { loadModel, saveModel, type DataOptions, type ModelFile } from '../io/model-file.js';
import { checkDistinct, checkOutputTarget, sameFile, type NamedPath } from '../io/output-paths.js';
import { lockFiles } from '../io/run-lock.js';
import { writeReport } from '../report/report.js';
import { evaluate } from '../train/evaluate.js';
import { train, type TrainResult } from '../train/train.js';
import { ProgressView } from './progress-view.js';
import { oneLine } from './run-cli.js';
import { Interrupts } from './signals.js';
import { duration, err, out, pct } from './style.js';
import { confusionTable, sparkline } from './tables.js';

export interface TrainCliOptions extends Architecture {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  data?: string;
  trainLimit?: number;
  testLimit?: number;
  validation?: number;
  keep: 'last' | 'best';
  earlyStop?: number;
  lrDecay: number;
  momentum: number;
  weightDecay: number;
  out: string;
  resume?: string;
  checkpoint?: string;
  report?: string;
  engine: EngineName;
  threads: number;
  json?: boolean;
  quiet?: boolean;
}

/** Which options the user gave (as opposed to defaults). */
export type Given = (key: keyof TrainCliOptions) => boolean;

export function defaultCheckpointPath(outPath: string): string {
  const ext = extname(outPath);
  const stem = ext === '.json' ? basename(outPath, ext) : basename(outPath);
  return join(dirname(outPath), `${stem}.ckpt.json`);
}

/** A path as a shell word (quoted when it has to be). */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * An epoch's training error at or above this is "at chance" (1 in 10 right is 90 % error), once the
 * run has seen enough images to have learned something (the paper's net is near 10 % error after
 * 3 000 images).
 */
const CHANCE_ERROR = 0.85;
const CHANCE_AFTER_IMAGES = 3000;

function chanceNote(trainError: number, imagesSeen: number, lr: number): string | null {
  if (trainError < CHANCE_ERROR || imagesSeen < CHANCE_AFTER_IMAGES) return null;
  const hint = lr > 1 ? ` (--lr ${lr} may saturate the units; try 1 or less)` : lr < 0.01 ? ` (--lr ${lr} is very small)` : '';
  return `not learning: training error at chance${hint}`;
}

/**
 * A resumed run takes the settings it started with unless they are given again: batch size, lr,
 * seed, engine, and the data (--data, --train-limit, --test-limit). Its architecture is the file's;
 * an architecture option given again must agree with it.
 */
function applyResumeDefaults(o: TrainCliOptions, given: Given, from: ModelFile, path: string): void {
  for (const k of ARCHITECTURE_KEYS) {
    if (given(k) && o[k] !== from.architecture[k]) {
      throw new CnnError(`--${CHOICES[k].flag} ${o[k]}: ${path} was trained with --${CHOICES[k].flag} ${from.architecture[k]}; an architecture cannot change during a run`);
    }
    (o as unknown as Record<string, string>)[k] = from.architecture[k];
  }
  const t = from.training;
  if (!t) return;
  if (!given('batchSize')) o.batchSize = t.batchSize;
  if (!given('lr')) o.lr = t.lr;
  if (!given('seed')) o.seed = t.seed;
  if (!given('engine') && (t.engineName === 'wasm' || t.engineName === 'reference')) o.engine = t.engineName;
  const d = t.data;
  if (!given('data') && typeof d.dir === 'string') o.data = d.dir;
  if (!given('trainLimit') && typeof d.trainLimit === 'number') o.trainLimit = d.trainLimit;
  if (!given('testLimit') && typeof d.testLimit === 'number') o.testLimit = d.testLimit;
  if (t.optimizer) {
    if (!given('momentum')) o.momentum = t.optimizer.momentum;
    if (!given('weightDecay')) o.weightDecay = t.optimizer.weightDecay;
    if (!given('lrDecay')) o.lrDecay = t.optimizer.lrDecay;
  }
  if (t.validation) {
    if (!given('validation')) o.validation = t.validation.count;
    if (!given('keep')) o.keep = t.validation.keep;
    if (!given('earlyStop') && t.validation.earlyStop !== null) o.earlyStop = t.validation.earlyStop;
  }
  // where the run writes: a checkpoint continues into the model file it was for (recorded, or
  // its name without .ckpt); a model file is continued in place
  if (!given('out')) {
    const ckpt = path.endsWith('.ckpt.json') || (t.paths !== undefined && sameFile(path, t.paths.checkpoint));
    o.out = !ckpt ? path : t.paths?.out ?? `${path.slice(0, -'.ckpt.json'.length)}.json`;
  }
}

/**
 * Where an unfinished run stands, if the file at `path` holds one: a checkpoint of an interrupted
 * run, or a model file that took its state when a checkpoint could not be written. Not a finished
 * run (all its epochs, or stopped early: a new run may replace it, as it replaces a model), nor a
 * checkpoint before any training (the initial parameters, made again from the seed).
 */
function unfinishedRun(path: string): string | null {
  if (!existsSync(path)) return null;
  let m: ModelFile;
  try {
    m = loadModel(path);
  } catch {
    return null; // not a model file: checkOutputTarget refuses it in its own words
  }
  const r = m.resume, target = m.training?.epochs;
  if (!r || r.stoppedEarly || (r.completedEpochs === 0 && r.position === 0)) return null;
  if (r.position > 0) return `interrupted in epoch ${r.completedEpochs + 1} at image ${r.position}`;
  if (target === undefined || r.completedEpochs >= target) return null;
  return `${r.completedEpochs} of ${target} epochs done`;
}

/** --keep best and --early-stop choose by the validation error: they need --validation. */
export function checkValidationOptions(o: { keep?: string; earlyStop?: number; validation?: number }): void {
  if ((o.keep === 'best' || (o.earlyStop ?? 0) > 0) && o.validation === undefined) {
    throw new CnnError(`${o.keep === 'best' ? '--keep best' : '--early-stop'} needs --validation <n> (held-out images to choose by)`);
  }
}

/** The files of this run, checked before any work. */
function planOutputs(o: TrainCliOptions, given: Given, resumeFrom?: ModelFile): { checkpoint: string; checkpointIsInput: boolean } {
  // resuming from a checkpoint keeps writing that checkpoint when no other is named
  const resumingCheckpoint = o.resume !== undefined && !given('checkpoint') && !sameFile(o.resume, o.out);
  const checkpoint = o.checkpoint ?? (resumingCheckpoint ? o.resume! : defaultCheckpointPath(o.out));
  const checkpointIsInput = o.resume !== undefined && !given('checkpoint') && sameFile(o.resume, checkpoint);
  void resumeFrom;
  const named: NamedPath[] = [{ option: '--out', path: o.out }];
  if (!checkpointIsInput) named.push({ option: given('checkpoint') ? '--checkpoint' : 'the checkpoint (default of --checkpoint)', path: checkpoint });
  if (o.report !== undefined) named.push({ option: '--report', path: o.report });
  if (o.resume !== undefined) named.push({ option: '--resume', path: o.resume });
  // --resume m.json --out m.json continues a model in place: meant
  checkDistinct(named, [['--resume', '--out']]);
  // the state of an unfinished run is never overwritten by another run: neither its checkpoint
  // nor a model file holding it (only this run's own input is continued)
  const checkpointOption = given('checkpoint') ? '--checkpoint' : 'the checkpoint (default of --checkpoint)';
  for (const [option, path] of [['--out', o.out], [checkpointOption, checkpoint]] as const) {
    if (o.resume !== undefined && sameFile(o.resume, path)) continue;
    const what = unfinishedRun(path);
    if (what !== null) {
      const instead = option === '--out' ? 'choose another --out' : 'give this run another --checkpoint';
      throw new CnnError(`${option} ${path}: holds an unfinished run (${what}); resume it with --resume ${path}, or move it away, or ${instead}`);
    }
  }

  checkOutputTarget('--out', o.out, 'model');
  checkOutputTarget(given('checkpoint') ? '--checkpoint' : '--checkpoint (default)', checkpoint, 'model');
  if (o.report !== undefined) checkOutputTarget('--report', o.report, 'report');
  return { checkpoint, checkpointIsInput };
}

export async function runTraining(o: TrainCliOptions, given: Given): Promise<number> {
  const json = !!o.json;
  const quiet = !!o.quiet;
  const emit = (obj: Record<string, unknown>) => process.stdout.write(JSON.stringify(obj) + '\n');

  if (o.earlyStop === 0) o.earlyStop = undefined; // --early-stop 0: none (also to train on a run that stopped early)
  let resumeFrom: ModelFile | undefined;
  if (o.resume !== undefined) {
    resumeFrom = loadModel(o.resume);
    if (!resumeFrom.resume) {
      const k = resumeFrom.training?.kept;
      if (k) throw new CnnError(`${o.resume}: holds epoch ${k.epoch} of its run (--keep best), not where the run stands; resume from the run's checkpoint (<out>.ckpt.json)`);
      throw new CnnError(`${o.resume}: has no "resume" section, so training cannot continue from it`);
    }
    applyResumeDefaults(o, given, resumeFrom, o.resume);
    if (resumeFrom.resume.completedEpochs >= o.epochs) {
      throw new CnnError(`${o.resume}: already has ${resumeFrom.resume.completedEpochs} epochs; pass --epochs larger than that to train more`);
    }
    const r = resumeFrom.resume;
    if (r.stoppedEarly && o.earlyStop !== undefined && (r.sinceBest ?? 0) >= o.earlyStop) {
      throw new CnnError(
        `${o.resume}: its run stopped early after epoch ${r.completedEpochs} (no lower validation error for ${r.sinceBest} epochs); ` +
          `to train on, give --early-stop more than ${r.sinceBest}, or --early-stop 0 for none`,
      );
    }
  }
  const architecture = checkArchitecture({ conv: o.conv, pool: o.pool, activation: o.activation, output: o.output, loss: o.loss });
  const { checkpoint, checkpointIsInput } = planOutputs(o, given, resumeFrom);
  const unlock = lockFiles([{ option: '--out', path: o.out }, { option: '--checkpoint', path: checkpoint }]);

  checkValidationOptions(o);
  // the engine's worker threads start up (~50 ms) while this thread reads the data
  const starting = createEngine(o.engine, o.threads, architecture);
  let data;
  try {
    data = {
      ...splitTraining(loadMnistSplit('train', o.data), o.trainLimit, o.validation),
      test: o.testLimit === 0 ? undefined : limit(loadMnistSplit('test', o.data), o.testLimit, '--test-limit'),
    };
  } catch (e) {
    await starting.then((x) => x.close(), () => undefined); // the data's error is the one to report
    throw e;
  }
  const { train: trainSet, validation: validationSet, test: testSet } = data;
  const dataOptions: DataOptions = { dir: o.data === undefined ? null : resolve(o.data), trainLimit: o.trainLimit ?? null, testLimit: o.testLimit ?? null };
  const engine = await starting;
  const view = new ProgressView({ enabled: !json && !quiet, stream: process.stderr });
  const interrupts = new Interrupts({
    onFirst: (sig) => {
      view.stop();
      if (!json) process.stderr.write(err.yellow(`${sig}: stopping after the current step (again to quit at once)\n`));
    },
    beforeExit: () => view.stop(),
  });
  /** The command that continues this run, as printed after an interruption. */
  const resumeHint = (from: string) =>
    [process.env.npm_command === 'exec' ? 'npx cnn-train' : 'cnn-train', '--resume', shellWord(from), '--epochs', String(o.epochs), ...(given('out') ? ['--out', shellWord(o.out)] : []), ...(o.report ? ['--report', shellWord(o.report)] : [])].join(' ');

  if (json) {
    emit({
      event: 'start', epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, architecture, engine: engine.name, threads: engine.threads,
      trainCount: trainSet.count, validationCount: validationSet?.count ?? 0, testCount: testSet?.count ?? 0, resumedFrom: o.resume ?? null,
      optimizer: { momentum: o.momentum, weightDecay: o.weightDecay, lrDecay: o.lrDecay }, keep: o.keep, earlyStop: o.earlyStop ?? null,
    });
  } else if (!quiet) {
    console.log(
      out.dim(
        `${resumeFrom ? `resuming ${o.resume} at epoch ${resumeFrom.resume!.completedEpochs + 1}, ` : ''}training on ${trainSet.count} images` +
          `${validationSet ? `, validating on ${validationSet.count}` : ''}${testSet ? `, testing on ${testSet.count}` : ''}: batch ${o.batchSize}, lr ${o.lr}` +
          `${o.lrDecay !== 1 ? ` × ${o.lrDecay}^(epoch−1)` : ''}${o.momentum ? `, momentum ${o.momentum}` : ''}${o.weightDecay ? `, weight decay ${o.weightDecay}` : ''}` +
          `, seed ${o.seed}, ${engine.detail}` +
          (isPaper(architecture) ? '' : `\nnetwork: ${describeArchitecture(architecture)}`),
      ),
    );
  }
  /**
   * The end-of-epoch checkpoint. If it cannot be written (a full disk), the state goes to --out
   * instead when that can be written, and the run stops either way, saying where its work is.
   */
  const saveCheckpoint = (m: ModelFile) => {
    try {
      saveModel(checkpoint, m);
    } catch (e) {
      if (!(e instanceof CnnError)) throw e;
      try {
        saveModel(o.out, m);
      } catch {
        throw new CnnError(`${e.message}; nor could --out ${o.out} be written: the work of this run since its last checkpoint is lost`);
      }
      throw new CnnError(`${e.message}; the run stopped, and its state after epoch ${m.resume?.completedEpochs} is in ${o.out} instead (resume from it)`);
    }
  };
  const progressEvents = process.env.CNN_TRAIN_PROGRESS_EVENTS === '1';
  let lastProgress = 0;
  let result: TrainResult;
  try {
    result = await train({
      epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, train: trainSet, test: testSet, engine, resumeFrom, dataOptions,
      validation: validationSet, keep: o.keep, earlyStop: o.earlyStop, lrDecay: o.lrDecay,
      paths: { out: resolve(o.out), checkpoint: resolve(checkpoint) },
      optimizer: { momentum: o.momentum, weightDecay: o.weightDecay },
      signal: interrupts.controller.signal,
      onProgress: (p) => {
        view.update(p);
        if (json && progressEvents) {
          // for `cnn-train compare`, which runs this command as a child and draws its progress
          const now = performance.now();
          if (now - lastProgress > 250) {
            lastProgress = now;
            emit({ event: 'progress', phase: p.phase, epoch: p.epoch, epochs: p.epochs, done: p.done, total: p.total });
          }
        }
      },
      onEpoch: (e) => {
        view.stop();
        saveCheckpoint(e.snapshot);
        const r = e.record;
        const note = chanceNote(r.trainError, r.epoch * trainSet.count, o.lr);
        if (json) {
          emit({ event: 'epoch', epoch: r.epoch, loss: r.loss, trainError: r.trainError, validationError: r.validationError ?? null,
            validationLoss: r.validationLoss ?? null, testError: r.testError ?? null, testLoss: r.testLoss ?? null, lr: r.lr ?? o.lr,
            best: validationSet ? e.best === true : null, seconds: r.seconds, imagesPerSecond: r.imagesPerSecond, atChance: note !== null });
        } else if (!quiet) {
          console.log(
            `epoch ${String(r.epoch).padStart(String(o.epochs).length)}/${o.epochs}  loss ${r.loss.toFixed(4)}  train error ${pct(r.trainError)}` +
              `${r.validationError === undefined ? '' : `  validation error ${pct(r.validationError)}${e.best ? out.green(' *') : '  '}`}` +
              `${r.testError === undefined ? '' : `  test error ${out.bold(pct(r.testError))}`}${r.lr !== undefined ? `  lr ${r.lr.toPrecision(3)}` : ''}` +
              `  ${duration(r.seconds)}  ${Math.round(r.imagesPerSecond)} img/s` +
              (note ? `  ${out.yellow(note)}` : ''),
          );
        }
      },
    });
  } catch (e) {
    view.stop();
    interrupts.dispose();
    await engine.close();
    unlock();
    throw e;
  }
  view.stop();
  try {
    const history = result.model.training?.history ?? [];
    if (result.status === 'interrupted') {
      saveModel(checkpoint, result.model);
      const at = result.model.resume!;
      const how = resumeHint(checkpoint);
      const where = at.position === trainSet.count ? 'while testing after epoch' : 'in epoch';
      if (json) emit({ event: 'interrupted', checkpoint, epoch: at.completedEpochs + 1, position: at.position, resume: how, outputLost: interrupts.outputLost });
      else process.stderr.write(`${interrupts.outputLost ? 'the output went away: ' : ''}interrupted ${where} ${at.completedEpochs + 1} at image ${at.position}; checkpoint written to ${checkpoint}\nresume with: ${how}\n`);
      return interrupts.exitCode;
    }
    if (result.status === 'diverged') {
      saveModel(checkpoint, result.model);
      const d = result.divergence!;
      if (json) emit({ event: 'diverged', ...d, checkpoint });
      throw new CnnError(`training diverged in epoch ${d.epoch} by image ${d.image}: ${d.what}; try a smaller --lr (it was ${o.lr}). The last finite parameters are in ${checkpoint}`, 3);
    }
    try {
      saveModel(o.out, result.model);
    } catch (e) {
      if (e instanceof CnnError) throw new CnnError(`${e.message}; the trained model is safe in the checkpoint ${checkpoint} (copy it, or resume from it)`);
      throw e;
    }
    // the model file holds the resume state now; a checkpoint that was the input stays; with
    // --keep best the model is the best epoch, and the checkpoint holds the last (to resume from)
    const kept = result.model.training?.kept;
    const lastKept = kept !== undefined && kept.epoch !== history.length;
    if (lastKept) saveModel(checkpoint, result.last);
    else if (!checkpointIsInput && existsSync(checkpoint)) unlinkSync(checkpoint);
    // the final evaluation is of the model saved
    let finalEvaluation = result.lastEvaluation;
    if (lastKept && testSet) {
      const saved = engine.getParams();
      engine.setParams(result.model.parameters);
      finalEvaluation = evaluate(engine, testSet);
      engine.setParams(saved);
    }
    let reportWritten = false;
    if (o.report && !interrupts.aborted) {
      try {
        reportWritten = await writeReport(o.report, { model: result.model, test: testSet ?? loadMnistSplit('test', o.data), engine, source: o.out }, interrupts.controller.signal);
      } catch (e) {
        if (e instanceof CnnError) throw new CnnError(`${e.message} (the model is saved in ${o.out})`);
        throw e;
      }
    }
    if (interrupts.aborted) {
      const msg = `interrupted after training: saved ${o.out}${o.report ? `; the report ${o.report} was not written` : ''}`;
      if (json) emit({ event: 'interrupted', out: o.out, report: reportWritten ? o.report : null });
      else process.stderr.write(msg + '\n');
      return interrupts.exitCode;
    }
    const last = kept ? history[kept.epoch - 1] : history[history.length - 1];
    const early = result.stoppedEarly;
    if (json) {
      emit({ event: 'done', out: o.out, report: o.report ?? null, epochs: history.length, testError: finalEvaluation?.error ?? last?.testError ?? null, loss: last?.loss ?? null,
        kept: kept ?? null, stoppedEarly: early ?? null, checkpoint: lastKept ? checkpoint : null,
        history: history.map((h) => ({ epoch: h.epoch, loss: h.loss, validationError: h.validationError ?? null, testError: h.testError ?? null })) });
    } else {
      if (!quiet && early) console.log(out.dim(`stopped early after epoch ${early.epoch}: no lower validation error for ${o.earlyStop} epoch(s)`));
      const errs = history.map((h) => h.testError).filter((x): x is number => x !== undefined);
      if (!quiet && errs.length > 1) console.log(`test error by epoch ${sparkline(errs)}  ${pct(errs[0])} → ${pct(errs[errs.length - 1])}`);
      if (!quiet && finalEvaluation) console.log(confusionTable(finalEvaluation.confusion, out));
      const what = kept ? `  (epoch ${kept.epoch} of ${history.length}: the lowest validation error, ${pct(kept.validationError)})` : '';
      console.log(`${out.green('saved')} ${oneLine(o.out)}${finalEvaluation ? `  test error ${pct(finalEvaluation.error)}` : ''}${what}`);
      if (lastKept || early) {
        const from = lastKept ? checkpoint : o.out;
        const more = [process.env.npm_command === 'exec' ? 'npx cnn-train' : 'cnn-train', '--resume', shellWord(from), '--epochs', String(early ? o.epochs : o.epochs + 1), ...(early ? ['--early-stop', '0'] : [])].join(' ');
        console.log(out.dim(`${lastKept ? `the last epoch is in ${checkpoint}; ` : ''}to train on: ${more}`));
      }
      if (o.report) console.log(`${out.green('report')} ${o.report}`);
    }
    return 0;
  } finally {
    interrupts.dispose();
    await engine.close();
    unlock();
  }
}
