#!/usr/bin/env node
/**
 * Cross-check of cnn-train's engines against pytorch/cnn_train_torch.py (default architecture).
 *
 *   npm run build && node pytorch/compare-engines.mjs [--images 500] [--data data/mnist-mini]
 *                                                     [--python /usr/bin/python3] [--keep DIR]
 *
 * Initial parameters from initParams(new Rng(1)) and a random order of `--images` fixture indices
 * (Rng(2)) are saved as init.json and order.bin; each engine trains over that order
 * (engine.train(data, order, 0, n, batchSize, lr)) and so does `cnn_train_torch.py train`, from
 * the same files; the table gives the largest absolute parameter difference. A last case runs
 * cnn-train's whole training loop (train(), 2 epochs, a batch size that does not divide the
 * epoch) against `train --epoch-size`, with the order rebuilt from the seed as train() draws it.
 * Prints one JSON line per comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const api = await import(join(root, 'dist/src/index.js'));
const { initParams, Rng, createEngine, train, loadMnistSplit, saveModel, FORMAT, VERSION, GROUPS } = api;

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '500' },
    data: { type: 'string', default: join(root, 'data/mnist-mini') },
    python: { type: 'string', default: '/usr/bin/python3' },
    keep: { type: 'string' },
  },
});
const nImages = Number(args.images);
const dir = args.keep ?? mkdtempSync(join(tmpdir(), 'cnn-torch-compare-'));
const script = join(root, 'pytorch/cnn_train_torch.py');
const data = loadMnistSplit('train', args.data);

function writeOrder(path, order) {
  const buf = Buffer.alloc(4 * order.length);
  order.forEach((v, i) => buf.writeUInt32LE(v, 4 * i));
  writeFileSync(path, buf);
}

/** n indices: successive shuffles of 0..count-1 (Rng(seed)), cut to n. */
function randomOrder(n, count, seed) {
  const rng = new Rng(seed);
  const out = new Uint32Array(n);
  for (let filled = 0; filled < n; ) {
    const pass = Uint32Array.from({ length: count }, (_, i) => i);
    rng.shuffle(pass);
    const take = Math.min(count, n - filled);
    out.set(pass.subarray(0, take), filled);
    filled += take;
  }
  return out;
}

/** The torch side: train from init.json over order.bin; returns {loss, steps, params (flat)}. */
function torchTrain(name, extra) {
  const out = join(dir, `torch-${name}.json`);
  const r = spawnSync(args.python, [script, 'train', '--init', join(dir, 'init.json'), '--order', join(dir, 'order.bin'),
    '--data', args.data, '--out', out, '--threads', '1', ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cnn_train_torch.py failed: ${r.stderr.trim()}`);
  const line = JSON.parse(r.stdout.trim().split('\n').pop());
  const model = JSON.parse(readFileSync(out, 'utf8'));
  const params = GROUPS.flatMap((g) => [model.parameters[g]].flat(Infinity));
  return { ...line, params: Float64Array.from(params) };
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function report(row) {
  console.log(JSON.stringify(row));
}

// --- engine.train over one order -------------------------------------------------------------
const init = initParams(new Rng(1));
saveModel(join(dir, 'init.json'), { format: FORMAT, version: VERSION, parameters: init });
const order = randomOrder(nImages, data.count, 2);
writeOrder(join(dir, 'order.bin'), order);

for (const [batchSize, lr] of [[1, 1], [10, 0.3]]) {
  const torch64 = torchTrain(`b${batchSize}-f64`, ['--batch-size', String(batchSize), '--lr', String(lr), '--dtype', 'float64']);
  const torch32 = torchTrain(`b${batchSize}-f32`, ['--batch-size', String(batchSize), '--lr', String(lr), '--dtype', 'float32']);
  for (const engineName of ['reference', 'wasm']) {
    const engine = await createEngine(engineName, 1);
    engine.setParams(init);
    const s = engine.train(data, order, 0, order.length, batchSize, lr);
    const params = engine.getParams();
    await engine.close();
    for (const [dtype, t] of [['float64', torch64], ['float32', torch32]]) {
      report({
        engine: engine.detail, torch: dtype, images: order.length, batchSize, lr, steps: t.steps,
        maxAbsParamDiff: maxAbsDiff(params, t.params), lossEngine: s.loss, lossTorch: t.loss,
        maxAbsParamChange: maxAbsDiff(params, init),
      });
    }
  }
}

// --- the whole training loop: 2 epochs, batch 7 (1000 = 142·7 + 6: a smaller last batch per epoch) ---
{
  const seed = 3, epochs = 2, batchSize = 7, lr = 0.5;
  const rng = new Rng(seed);
  const start = initParams(rng); // what train() draws first (eqs 1-3) ...
  const full = new Uint32Array(epochs * data.count);
  for (let e = 0; e < epochs; e++) { // ... then one shuffle per epoch from the same stream
    const pass = Uint32Array.from({ length: data.count }, (_, i) => i);
    rng.shuffle(pass);
    full.set(pass, e * data.count);
  }
  saveModel(join(dir, 'init.json'), { format: FORMAT, version: VERSION, parameters: start });
  writeOrder(join(dir, 'order.bin'), full);
  const engine = await createEngine('reference', 1);
  const result = await train({ epochs, batchSize, lr, seed, train: data, engine });
  await engine.close();
  const t = torchTrain('loop', ['--batch-size', String(batchSize), '--lr', String(lr), '--epoch-size', String(data.count)]);
  const loss = result.model.training.history.reduce((a, h) => a + h.loss * data.count, 0);
  report({
    engine: 'train() loop, ' + engine.detail, torch: 'float64', images: full.length, batchSize, lr, epochs, steps: t.steps,
    maxAbsParamDiff: maxAbsDiff(result.model.parameters, t.params), lossEngine: loss, lossTorch: t.loss,
  });
}

if (!args.keep) rmSync(dir, { recursive: true, force: true });
