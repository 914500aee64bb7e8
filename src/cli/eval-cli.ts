/** `cnn-eval <model.json>`: test error, per-class accuracy and the confusion matrix of a saved model. */
import { Command } from 'commander';
import { limit, loadMnistSplit } from '../data/mnist.js';
import { createEngine } from '../engine/create-engine.js';
import type { EngineName } from '../engine/engine.js';
import { checkOutputTarget, sameFile } from '../io/output-paths.js';
import { CnnError } from '../errors.js';
import { loadModel, type ModelFile } from '../io/model-file.js';
import { describeArchitecture, isPaper } from '../model/architecture.js';
import { writeReport } from '../report/report.js';
import { evaluate } from '../train/evaluate.js';
import { PACKAGE_VERSION } from '../version.js';
import { addOptions, namedErrors } from './options.js';
import { positiveInt } from './parse-args.js';
import { out, pct } from './style.js';
import { confusionTable } from './tables.js';
import { drawDigit, outputBars } from './digit-view.js';
import { readImage } from '../image/decode.js';
import { mnistify, type Background, type Prepared } from '../image/mnistify.js';
import { writePadPage } from '../pad/pad-page.js';

interface EvalCliOptions {
  image?: string[];
  draw?: string;
  report?: string;
  data?: string;
  testLimit?: number;
  json?: boolean;
  engine: EngineName;
  threads: number;
  debug?: boolean;
}

export function buildEvalProgram(): Command {
  const program = namedErrors(new Command('cnn-eval'))
    .description('Evaluate a model saved by cnn-train (or any tool writing the same JSON) on the MNIST test set.')
    .version(PACKAGE_VERSION)
    .argument('<model>', 'model JSON file');
  return addOptions(program, [
    'image', 'draw', 'data',
    ['testLimit', { help: 'evaluate on the first n test images only (default: all)', parse: positiveInt }],
    ['json', { help: 'print one JSON object with error, accuracy, confusion, perClass' }],
    ['report', { help: 'also write a self-contained HTML report (kernels, feature maps, a drawing pad, confusion matrix, worst digits, learning curve)' }],
    'engine', ['threads', { help: 'threads for the evaluation; the result does not depend on it' }], 'debug',
  ]);
}

export async function evalMain(argv: string[]): Promise<number> {
  const program = buildEvalProgram();
  program.parse(argv);
  const o = program.opts<EvalCliOptions>();
  const modelPath = program.args[0];
  if (o.draw !== undefined) return drawPage(modelPath, o);
  if (o.image && o.report) throw new CnnError('--report cannot be combined with --image (the report is about the MNIST test set; run cnn-eval once for each)');
  if (o.image && (o.data !== undefined || o.testLimit !== undefined)) {
    throw new CnnError(`${o.data !== undefined ? '--data' : '--test-limit'} cannot be combined with --image (--image classifies your pictures, not the test set)`);
  }
  const model = loadModel(modelPath);
  if (o.image) return classifyImages(model, o.image, o);
  if (o.report !== undefined && sameFile(o.report, modelPath)) throw new CnnError(`--report ${o.report} names the model file ${modelPath}; give the report its own file`);
  if (o.report !== undefined) checkOutputTarget('--report', o.report, 'report');
  const test = limit(loadMnistSplit('test', o.data), o.testLimit, '--test-limit');
  const engine = await createEngine(o.engine, o.threads, model.architecture);
  try {
    engine.setParams(model.parameters);
    const t0 = performance.now();
    const ev = evaluate(engine, test);
    const seconds = (performance.now() - t0) / 1000;
    if (o.report) await writeReport(o.report, { model, test, engine, title: `cnn-eval report: ${modelPath}`, source: modelPath });
    if (o.json) {
      const { predictions: _p, ...rest } = ev;
      process.stdout.write(JSON.stringify({ model: modelPath, architecture: model.architecture, engine: engine.detail, ...rest, seconds }) + '\n');
      return 0;
    }
    if (!isPaper(model.architecture)) console.log(out.dim(`network: ${describeArchitecture(model.architecture)}`));
    console.log(`${modelPath}: ${test.count} test images, ${ev.errors} misclassified`);
    console.log(`test error ${out.bold(pct(ev.error))}  accuracy ${pct(ev.accuracy)}  mean loss ${ev.loss.toFixed(5)}  (${Math.round(test.count / seconds)} img/s)`);
    console.log('');
    console.log(confusionTable(ev.confusion, out));
    if (o.report) console.log(`${out.green('report')} ${o.report}`);
    return 0;
  } finally {
    await engine.close();
  }
}

/** `--draw`: a page with only the drawing pad, for this model (no test set needed). */
function drawPage(modelPath: string, o: EvalCliOptions): number {
  const other = ([['--image', o.image], ['--report', o.report], ['--data', o.data], ['--test-limit', o.testLimit]] as const).find(([, v]) => v !== undefined);
  if (other) throw new CnnError(`--draw cannot be combined with ${other[0]} (--draw writes a page with only the drawing pad; run cnn-eval once for each)`);
  if (sameFile(o.draw!, modelPath)) throw new CnnError(`--draw ${o.draw} names the model file ${modelPath}; give the page its own file`);
  checkOutputTarget('--draw', o.draw!, 'pad');
  const model = loadModel(modelPath);
  writePadPage(o.draw!, model, modelPath);
  if (o.json) process.stdout.write(JSON.stringify({ model: modelPath, draw: o.draw, architecture: model.architecture }) + '\n');
  else console.log(`${out.green('wrote')} ${o.draw}: a drawing pad for ${modelPath} (${describeArchitecture(model.architecture)}); open it in a browser`);
  return 0;
}

/** `--image`: preprocess each picture as MNIST was made, show what the network sees and what it says. */
async function classifyImages(model: ModelFile, files: string[], o: EvalCliOptions): Promise<number> {
  // a file that cannot be used does not stop the others: they are shown, then the bad ones named
  const items = files.map((file): { file: string; prepared?: Prepared; error?: CnnError } => {
    try {
      return { file, prepared: mnistify(readImage(file), file) };
    } catch (e) {
      if (!(e instanceof CnnError)) throw e;
      if (files.length === 1) throw e;
      return { file, error: e };
    }
  });
  const failed = items.filter((it) => it.error);
  const engine = failed.length < items.length ? await createEngine(o.engine, 1, model.architecture) : undefined;
  try {
    engine?.setParams(model.parameters);
    const results = items.map((it) => {
      if (!engine || !it.prepared) return { file: it.file, error: it.error };
      const outputs = new Float64Array(10);
      const pred = new Uint8Array(1);
      engine.predict({ count: 1, images: it.prepared.pixels }, 0, 1, pred, outputs);
      return { file: it.file, ...it.prepared, prediction: pred[0], outputs };
    });
    if (o.json) {
      const rows = results.map((r) =>
        'prediction' in r
          ? { file: r.file, prediction: r.prediction, outputs: Array.from(r.outputs), background: r.background, inverted: r.inverted, box: r.box, input: Array.from(r.pixels) }
          : { file: r.file, error: withoutPrefix(r.error!.message, r.file) },
      );
      process.stdout.write(JSON.stringify(rows) + '\n');
    } else {
      for (const r of results) {
        if (!('prediction' in r)) continue;
        console.log(`${out.bold(r.file)}: ${out.bold.green(`predicted ${r.prediction}`)}  (${BACKGROUND[r.background]}; ink box ${r.box.width}x${r.box.height} at ${r.box.x},${r.box.y})`);
        console.log(out.dim('what the network sees (28x28):'));
        console.log(drawDigit(r.pixels, out));
        console.log(out.dim(`outputs ŷ (${model.architecture.output === 'sigmoid' ? 'eq 12' : 'softmax'}):`));
        console.log(outputBars(r.outputs, r.prediction, out));
        console.log('');
      }
    }
    if (failed.length > 0) {
      throw new CnnError(`${failed.length} of ${files.length} images could not be classified: ${failed.map((f) => f.error!.message).join('; ')}`);
    }
    return 0;
  } finally {
    await engine?.close();
  }
}

/** How each kind of picture was read, for the line under its name. */
const BACKGROUND: Record<Background, string> = {
  light: 'dark on light, inverted',
  dark: 'light on dark',
  transparent: 'on a transparent canvas, ink from opacity',
};

/** A message without the "file: " it starts with (the JSON row names the file already). */
function withoutPrefix(message: string, file: string): string {
  return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
}
