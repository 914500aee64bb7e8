/**
 * The training command: options -> checks made before any work -> data -> train() -> files.
 * Everything that can be refused is refused before the data are loaded; nothing the user has is
 * overwritten unless it is a file of the kind being written (see src/io/output-paths.ts).
 */
import { existsSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { limit, loadMnistSplit } from '../data/mnist.js';
import { createEngine } from '../engine/create-engine.js';
import type { EngineName } from '../engine/engine.js';
import { CnnError } from '../errors.js';
import { ARCHITECTURE_KEYS, architectureFlags, checkArchitecture, CHOICES, describeArchitecture, isPaper, type Architecture } from '../model/architecture.js';
import { loadModel, saveModel, type DataOptions, type ModelFile } from '../io/model-file.js';
import { checkDistinct, checkOutputTarget, sameFile, type NamedPath } from '../io/output-paths.js';
import { writeReport } from '../report/report.js';
import { train, type TrainResult } from '../train/train.js';
import { ProgressView } from './progress-view.js';
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
  const hint = lr > 1 ? ` (--lr ${lr} saturates the units; try 1 or less)` : lr < 0.01 ? ` (--lr ${lr} is very small)` : '';
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
}

/** The files of this run, checked before any work. */
function planOutputs(o: TrainCliOptions, given: Given): { checkpoint: string; checkpointIsInput: boolean } {
  const checkpoint = o.checkpoint ?? defaultCheckpointPath(o.out);
  // resuming from a checkpoint keeps writing that checkpoint when no other is named
  const checkpointIsInput = o.resume !== undefined && !given('checkpoint') && sameFile(o.resume, checkpoint);
  const named: NamedPath[] = [{ option: '--out', path: o.out }];
  if (!checkpointIsInput) named.push({ option: given('checkpoint') ? '--checkpoint' : 'the checkpoint (default of --checkpoint)', path: checkpoint });
  if (o.report !== undefined) named.push({ option: '--report', path: o.report });
  if (o.resume !== undefined) named.push({ option: '--resume', path: o.resume });
  // --resume m.json --out m.json continues a model in place: meant
  checkDistinct(named, [['--resume', '--out']]);
  checkOutputTarget('--out', o.out, 'model');
  checkOutputTarget(given('checkpoint') ? '--checkpoint' : '--checkpoint (default)', checkpoint, 'model');
  if (o.report !== undefined) checkOutputTarget('--report', o.report, 'report');
  return { checkpoint, checkpointIsInput };
}

export async function runTraining(o: TrainCliOptions, given: Given): Promise<number> {
  const json = !!o.json;
  const quiet = !!o.quiet;
  const emit = (obj: Record<string, unknown>) => process.stdout.write(JSON.stringify(obj) + '\n');

  let resumeFrom: ModelFile | undefined;
  if (o.resume !== undefined) {
    resumeFrom = loadModel(o.resume);
    if (!resumeFrom.resume) throw new CnnError(`${o.resume}: has no "resume" section, so training cannot continue from it`);
    applyResumeDefaults(o, given, resumeFrom, o.resume);
    if (resumeFrom.resume.completedEpochs >= o.epochs) {
      throw new CnnError(`${o.resume}: already has ${resumeFrom.resume.completedEpochs} epochs; pass --epochs larger than that to train more`);
    }
  }
  const architecture = checkArchitecture({ conv: o.conv, pool: o.pool, activation: o.activation, output: o.output, loss: o.loss });
  const { checkpoint, checkpointIsInput } = planOutputs(o, given);

  const trainSet = limit(loadMnistSplit('train', o.data), o.trainLimit, '--train-limit');
  const testSet = o.testLimit === 0 ? undefined : limit(loadMnistSplit('test', o.data), o.testLimit, '--test-limit');
  const dataOptions: DataOptions = { dir: o.data === undefined ? null : resolve(o.data), trainLimit: o.trainLimit ?? null, testLimit: o.testLimit ?? null };
  const engine = await createEngine(o.engine, o.threads, architecture);
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
    ['cnn-train', '--resume', shellWord(from), '--epochs', String(o.epochs), ...(given('out') ? ['--out', shellWord(o.out)] : []), ...(o.report ? ['--report', shellWord(o.report)] : [])].join(' ');

  if (json) {
    emit({
      event: 'start', epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, architecture, engine: engine.name, threads: engine.threads,
      trainCount: trainSet.count, testCount: testSet?.count ?? 0, resumedFrom: o.resume ?? null,
    });
  } else if (!quiet) {
    console.log(
      out.dim(
        `${resumeFrom ? `resuming ${o.resume} at epoch ${resumeFrom.resume!.completedEpochs + 1}, ` : ''}training on ${trainSet.count} images` +
          `${testSet ? `, testing on ${testSet.count}` : ''}: batch ${o.batchSize}, lr ${o.lr}, seed ${o.seed}, ${engine.detail}` +
          (isPaper(architecture) ? '' : `\nnetwork: ${describeArchitecture(architecture)}`),
      ),
    );
  }
  let result: TrainResult;
  try {
    result = await train({
      epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, train: trainSet, test: testSet, engine, resumeFrom, dataOptions,
      signal: interrupts.controller.signal,
      onProgress: (p) => view.update(p),
      onEpoch: (e) => {
        view.stop();
        saveModel(checkpoint, e.snapshot);
        const r = e.record;
        const note = chanceNote(r.trainError, r.epoch * trainSet.count, o.lr);
        if (json) {
          emit({ event: 'epoch', epoch: r.epoch, loss: r.loss, trainError: r.trainError, testError: r.testError ?? null,
            testLoss: r.testLoss ?? null, seconds: r.seconds, imagesPerSecond: r.imagesPerSecond, atChance: note !== null });
        } else if (!quiet) {
          console.log(
            `epoch ${String(r.epoch).padStart(String(o.epochs).length)}/${o.epochs}  loss ${r.loss.toFixed(4)}  train error ${pct(r.trainError)}` +
              `${r.testError === undefined ? '' : `  test error ${out.bold(pct(r.testError))}`}  ${duration(r.seconds)}  ${Math.round(r.imagesPerSecond)} img/s` +
              (note ? `  ${out.yellow(note)}` : ''),
          );
        }
      },
    });
  } catch (e) {
    view.stop();
    interrupts.dispose();
    await engine.close();
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
      if (json) emit({ event: 'interrupted', checkpoint, epoch: at.completedEpochs + 1, position: at.position, resume: how });
      else process.stderr.write(`interrupted ${where} ${at.completedEpochs + 1} at image ${at.position}; checkpoint written to ${checkpoint}\nresume with: ${how}\n`);
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
    // the model file holds the resume state now; a checkpoint that was the input stays
    if (!checkpointIsInput && existsSync(checkpoint)) unlinkSync(checkpoint);
    let reportWritten = false;
    if (o.report && !interrupts.aborted) {
      reportWritten = await writeReport(o.report, { model: result.model, test: testSet ?? loadMnistSplit('test', o.data), engine, source: o.out }, interrupts.controller.signal);
    }
    if (interrupts.aborted) {
      const msg = `interrupted after training: saved ${o.out}${o.report ? `; the report ${o.report} was not written` : ''}`;
      if (json) emit({ event: 'interrupted', out: o.out, report: reportWritten ? o.report : null });
      else process.stderr.write(msg + '\n');
      return interrupts.exitCode;
    }
    const last = history[history.length - 1];
    if (json) {
      emit({ event: 'done', out: o.out, report: o.report ?? null, epochs: history.length, testError: last?.testError ?? null, loss: last?.loss ?? null,
        history: history.map((h) => ({ epoch: h.epoch, loss: h.loss, testError: h.testError ?? null })) });
    } else {
      const errs = history.map((h) => h.testError).filter((x): x is number => x !== undefined);
      if (!quiet && errs.length > 1) console.log(`test error by epoch ${sparkline(errs)}  ${pct(errs[0])} → ${pct(errs[errs.length - 1])}`);
      if (!quiet && result.lastEvaluation) console.log(confusionTable(result.lastEvaluation.confusion, out));
      console.log(`${out.green('saved')} ${o.out}${last?.testError !== undefined ? `  test error ${pct(last.testError)}` : ''}`);
      if (o.report) console.log(`${out.green('report')} ${o.report}`);
    }
    return 0;
  } finally {
    interrupts.dispose();
    await engine.close();
  }
}
