/** `cnn-eval <model.json>`: test error, per-class accuracy and the confusion matrix of a saved model. */
import { Command } from 'commander';
import { limit, loadMnistSplit } from '../data/mnist.js';
import { createEngine } from '../engine/create-engine.js';
import type { EngineName } from '../engine/engine.js';
import { checkOutputTarget, sameFile } from '../io/output-paths.js';
import { CnnError } from '../errors.js';
import { loadModel } from '../io/model-file.js';
import { writeReport } from '../report/report.js';
import { evaluate } from '../train/evaluate.js';
import { VERSION } from '../version.js';
import { addOptions } from './options.js';
import { out, pct } from './style.js';
import { confusionTable } from './tables.js';
import { drawDigit, outputBars } from './digit-view.js';
import { readImage } from '../image/decode.js';
import { mnistify } from '../image/mnistify.js';

interface EvalCliOptions {
  image?: string[];
  report?: string;
  data?: string;
  testLimit?: number;
  json?: boolean;
  engine: EngineName;
  threads: number;
  debug?: boolean;
}

export function buildEvalProgram(): Command {
  const program = new Command('cnn-eval')
    .description('Evaluate a model saved by cnn-train (or any tool writing the same JSON) on the MNIST test set.')
    .version(VERSION)
    .argument('<model>', 'model JSON file');
  return addOptions(program, [
    'image', 'data',
    ['testLimit', { help: 'evaluate on the first n test images only (default: all)' }],
    ['json', { help: 'print one JSON object with error, accuracy, confusion, perClass' }],
    ['report', { help: 'also write a self-contained HTML report (kernels, feature maps, confusion matrix, worst digits, learning curve)' }],
    'engine', ['threads', { help: 'threads for the evaluation; the result does not depend on it' }], 'debug',
  ]);
}

export async function evalMain(argv: string[]): Promise<number> {
  const program = buildEvalProgram();
  program.parse(argv);
  const o = program.opts<EvalCliOptions>();
  const modelPath = program.args[0];
  const model = loadModel(modelPath);
  if (o.image) return classifyImages(model.parameters, o.image, o);
  if (o.report !== undefined && sameFile(o.report, modelPath)) throw new CnnError(`--report ${o.report} names the model file ${modelPath}; give the report its own file`);
  if (o.report !== undefined) checkOutputTarget('--report', o.report, 'report');
  const test = limit(loadMnistSplit('test', o.data), o.testLimit, '--test-limit');
  const engine = await createEngine(o.engine, o.threads);
  try {
    engine.setParams(model.parameters);
    const t0 = performance.now();
    const ev = evaluate(engine, test);
    const seconds = (performance.now() - t0) / 1000;
    if (o.report) await writeReport(o.report, { model, test, engine, title: `cnn-eval report: ${modelPath}` });
    if (o.json) {
      const { predictions: _p, ...rest } = ev;
      process.stdout.write(JSON.stringify({ model: modelPath, engine: engine.detail, ...rest, seconds }) + '\n');
      return 0;
    }
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

/** `--image`: preprocess each picture as MNIST was made, show what the network sees and what it says. */
async function classifyImages(params: Float64Array, files: string[], o: EvalCliOptions): Promise<number> {
  const prepared = files.map((f) => ({ file: f, ...mnistify(readImage(f), f) }));
  const engine = await createEngine(o.engine, 1);
  try {
    engine.setParams(params);
    const results = prepared.map((p) => {
      const outputs = new Float64Array(10);
      const pred = new Uint8Array(1);
      engine.predict({ count: 1, images: p.pixels, labels: new Uint8Array(1), source: p.file }, 0, 1, pred, outputs);
      return { ...p, prediction: pred[0], outputs };
    });
    if (o.json) {
      const rows = results.map((r) => ({ file: r.file, prediction: r.prediction, outputs: Array.from(r.outputs), inverted: r.inverted, box: r.box, input: Array.from(r.pixels) }));
      process.stdout.write(JSON.stringify(rows) + '\n');
      return 0;
    }
    for (const r of results) {
      console.log(`${out.bold(r.file)}: ${out.bold.green(`predicted ${r.prediction}`)}  (${r.inverted ? 'dark on light, inverted' : 'light on dark'}; ink box ${r.box.width}x${r.box.height} at ${r.box.x},${r.box.y})`);
      console.log(out.dim('what the network sees (28x28):'));
      console.log(drawDigit(r.pixels, out));
      console.log(out.dim('outputs ŷ (eq 12):'));
      console.log(outputBars(r.outputs, r.prediction, out));
      console.log('');
    }
    return 0;
  } finally {
    await engine.close();
  }
}
