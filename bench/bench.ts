/**
 * `npm run bench [-- --repeat 3] [-- --json] [-- --no-torch] [-- --images 10000]`
 * Training and evaluation throughput on the real MNIST, side by side with the project's own
 * PyTorch implementation (pytorch/cnn_train_torch.py bench, run by /usr/bin/python3 right after
 * cnn-train in each run, at its best settings: the fastest of eager, TorchScript script and trace
 * at batch 1, evaluation in batches of 100). Ratios are medians of the per-run ratios (this
 * machine is noisy; back-to-back runs are what can be compared). Then one line per design choice:
 * its online training speed against the paper's network in the same run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundledMnistDir, loadMnist, type Dataset } from '../src/data/mnist.js';
import { createEngine } from '../src/engine/create-engine.js';
import type { Engine, EngineName } from '../src/engine/engine.js';
import { packageRoot } from '../src/engine/wasm-module.js';
import { architectureFlags, PAPER, type Architecture } from '../src/model/architecture.js';
import { initParams } from '../src/model/init.js';
import { Rng } from '../src/model/rng.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '3' },
    images: { type: 'string', default: '10000' },
    'no-torch': { type: 'boolean', default: false },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const repeat = Math.max(1, Number(args.repeat));
const N = Number(args.images);
const threads = availableParallelism();
const mnist = loadMnist();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (s: string) => {
  if (!args.json) process.stderr.write(s + '\n');
};
const script = join(packageRoot(), 'pytorch', 'cnn_train_torch.py');
const torchOk = !args['no-torch'] && existsSync(args.python!) && spawnSync(args.python!, ['-c', 'import torch']).status === 0;
if (!args['no-torch'] && !torchOk) log(`PyTorch is not available (${args.python} cannot import torch; apt-get install python3-torch): cnn-train only`);

async function trainRate(name: EngineName, t: number, batch: number, n: number, a: Architecture = PAPER): Promise<number> {
  const e = await createEngine(name, t, a);
  try {
    e.setParams(initParams(new Rng(1)));
    const order = new Uint32Array(mnist.train.count).map((_, i) => i);
    new Rng(2).shuffle(order);
    const lr = a.activation === 'relu' || a.loss === 'cross-entropy' ? 0.05 : 1;
    e.train(mnist.train, order, 0, Math.min(5 * batch + 500, n), batch, lr); // warm-up
    const t0 = performance.now();
    e.train(mnist.train, order, 1000, n, batch, lr);
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await e.close();
  }
}

/** Steady-state evaluation throughput: one untimed pass over the test set, then the median of 3. */
async function evalRate(e: Engine, test: Dataset): Promise<number> {
  const preds = new Uint8Array(test.count);
  e.predict(test, 0, test.count, preds); // warm-up
  const rates: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    e.predict(test, 0, test.count, preds);
    rates.push(test.count / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

interface TorchBench {
  train_b1: number;
  train_b50: number;
  eval: number;
}
function torch(t: number, limit: number): TorchBench | undefined {
  if (!torchOk) return undefined;
  const r = spawnSync(args.python!, [script, 'bench', '--data', bundledMnistDir(), '--threads', String(t), '--limit', String(limit)], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchBench;
  } catch {
    log(`PyTorch bench failed: ${r.stderr.trim().split('\n').pop()}`);
    return undefined;
  }
}

interface Row {
  what: string;
  ours: number[];
  peer: number[];
}
const rows: Row[] = [
  { what: 'train, batch 1 (online SGD), 1 thread', ours: [], peer: [] },
  { what: 'train, batch 50, 1 thread', ours: [], peer: [] },
  { what: `train, batch 50, ${threads} threads`, ours: [], peer: [] },
  { what: `evaluate 10 000 test images, ${threads} threads`, ours: [], peer: [] },
  { what: 'train, batch 1, float64 reference engine', ours: [], peer: [] },
];
const OPTIONS: Partial<Architecture>[] = [
  { conv: 'correlation' }, { pool: 'max' }, { activation: 'relu' }, { activation: 'tanh' }, { output: 'softmax' },
  { output: 'softmax', loss: 'cross-entropy' },
  { conv: 'correlation', pool: 'max', activation: 'relu', output: 'softmax', loss: 'cross-entropy' },
];
const optionRows = OPTIONS.map((o) => ({ flags: architectureFlags({ ...PAPER, ...o }), a: { ...PAPER, ...o }, ratios: [] as number[], rates: [] as number[] }));

for (let r = 0; r < repeat; r++) {
  log(`run ${r + 1}/${repeat}`);
  rows[0].ours.push(await trainRate('wasm', 1, 1, N));
  rows[1].ours.push(await trainRate('wasm', 1, 50, N));
  const t1 = torch(1, Math.min(N, 3000));
  if (t1) {
    rows[0].peer.push(t1.train_b1);
    rows[1].peer.push(t1.train_b50);
  }
  rows[2].ours.push(await trainRate('wasm', threads, 50, N));
  const e = await createEngine('wasm', threads);
  e.setParams(initParams(new Rng(1)));
  rows[3].ours.push(await evalRate(e, mnist.test));
  await e.close();
  const tT = torch(threads, Math.min(N, 3000));
  if (tT) {
    rows[2].peer.push(tT.train_b50);
    rows[3].peer.push(tT.eval);
  }
  if (r === 0) rows[4].ours.push(await trainRate('reference', 1, 1, 1000));
  // each design choice against the paper's network, back to back
  for (const o of optionRows) {
    const base = await trainRate('wasm', 1, 1, N);
    const rate = await trainRate('wasm', 1, 1, N, o.a);
    o.rates.push(rate);
    o.ratios.push(rate / base);
  }
}

const fmt = (x: number | undefined) => (x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const ratios = (r: Row) => (r.peer.length === r.ours.length && r.peer.length > 0 ? r.ours.map((x, i) => x / r.peer[i]) : []);
const result = {
  threads,
  images: N,
  repeat,
  rows: rows.map((r) => ({ what: r.what, cnnTrain: median(r.ours), pytorch: r.peer.length ? median(r.peer) : null, ratio: ratios(r).length ? median(ratios(r)) : null })),
  options: optionRows.map((o) => ({ flags: o.flags, imagesPerSecond: median(o.rates), ratioToPaper: median(o.ratios) })),
};
if (!args.json) {
  const head = ['', 'cnn-train img/s', ...(torchOk ? ['PyTorch img/s', 'ratio', 'per-run ratios (min-max)'] : [])];
  const body = rows.map((r) => {
    const rs = ratios(r);
    const spread = rs.length ? `${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)}` : '—';
    return [r.what, fmt(median(r.ours)), ...(torchOk ? [fmt(r.peer.length ? median(r.peer) : undefined), rs.length ? `${median(rs).toFixed(2)}x` : '—', spread] : [])];
  });
  const table = (h: string[], b: string[][]) => {
    const w = h.map((_, i) => Math.max(...[h, ...b].map((x) => x[i].length)));
    for (const x of [h, ...b]) console.log(x.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
  };
  table(head, body);
  console.log(`(medians of ${repeat} runs over ${N} training images; ${threads} cores${torchOk ? '; PyTorch runs right after cnn-train in each run, ratio = median of the per-run ratios' : ''})`);
  console.log('');
  table(
    ['online SGD (batch 1, 1 thread) with', 'img/s', 'vs the paper\'s network', 'per-run (min-max)'],
    optionRows.map((o) => [o.flags, fmt(median(o.rates)), `${median(o.ratios).toFixed(2)}x`, `${Math.min(...o.ratios).toFixed(2)}-${Math.max(...o.ratios).toFixed(2)}`]),
  );
}
console.log(JSON.stringify(result));
