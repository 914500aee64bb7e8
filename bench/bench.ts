/**
 * `npm run bench [-- --json] [-- --repeat 3] [-- --peers ../shared/peers]`
 * Training and evaluation throughput on the real MNIST, medians over --repeat runs. With --peers,
 * the PyTorch replica (../shared/peers/zhang_torch.py, run by /usr/bin/python3) is measured in
 * the same run, alternating with cnn-train, and the table shows the ratios.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundledMnistDir, loadMnist, type Dataset } from '../src/data/mnist.js';
import { createEngine } from '../src/engine/create-engine.js';
import type { Engine, EngineName } from '../src/engine/engine.js';
import { initParams } from '../src/model/init.js';
import { Rng } from '../src/model/rng.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '3' },
    images: { type: 'string', default: '10000' },
    peers: { type: 'string' },
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

async function trainRate(name: EngineName, t: number, batch: number, n: number): Promise<number> {
  const e = await createEngine(name, t);
  try {
    e.setParams(initParams(new Rng(1)));
    const order = new Uint32Array(mnist.train.count).map((_, i) => i);
    new Rng(2).shuffle(order);
    e.train(mnist.train, order, 0, Math.min(5 * batch + 500, n), batch, 1); // warm-up
    const t0 = performance.now();
    e.train(mnist.train, order, 1000, n, batch, 1);
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

function torch(mode: string[], key: string): number | undefined {
  if (!args.peers) return undefined;
  const script = resolve(args.peers, 'zhang_torch.py');
  const r = spawnSync(args.python!, [script, '--data', bundledMnistDir(), '--mode', 'bench', ...mode], { encoding: 'utf8' });
  const m = new RegExp(`${key}=([0-9.]+)`).exec(r.stdout);
  if (!m) {
    log(`peer failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
    return undefined;
  }
  return Number(m[1]);
}

interface Row {
  what: string;
  ours: number[];
  peer: number[];
}
const rows: Row[] = [
  { what: `train, batch 1 (online SGD), 1 thread`, ours: [], peer: [] },
  { what: `train, batch 50, 1 thread`, ours: [], peer: [] },
  { what: `train, batch 50, ${threads} threads`, ours: [], peer: [] },
  { what: `evaluate 10 000 test images`, ours: [], peer: [] },
  { what: `train, batch 1, float64 reference engine`, ours: [], peer: [] },
];
if (args.peers && !existsSync(join(args.peers, 'zhang_torch.py'))) throw new Error(`${args.peers}: no zhang_torch.py there`);

for (let r = 0; r < repeat; r++) {
  log(`run ${r + 1}/${repeat}`);
  rows[0].ours.push(await trainRate('wasm', 1, 1, N));
  const p0 = torch(['--batch', '1', '--threads', '1', '--limit', String(Math.min(N, 3000))], 'train_img_per_s');
  if (p0) rows[0].peer.push(p0);
  rows[1].ours.push(await trainRate('wasm', 1, 50, N));
  const p1 = torch(['--batch', '50', '--threads', '1', '--limit', String(N)], 'train_img_per_s');
  if (p1) rows[1].peer.push(p1);
  rows[2].ours.push(await trainRate('wasm', threads, 50, N));
  const p2out = args.peers
    ? spawnSync(args.python!, [resolve(args.peers, 'zhang_torch.py'), '--data', bundledMnistDir(), '--mode', 'bench', '--batch', '50', '--threads', String(threads), '--limit', String(N), '--eval-batch', '100'], { encoding: 'utf8' }).stdout
    : '';
  const tr = /train_img_per_s=([0-9.]+)/.exec(p2out), ev = /eval_img_per_s=([0-9.]+)/.exec(p2out);
  if (tr) rows[2].peer.push(Number(tr[1]));
  if (ev) rows[3].peer.push(Number(ev[1]));
  const e = await createEngine('wasm', threads);
  e.setParams(initParams(new Rng(1)));
  rows[3].ours.push(await evalRate(e, mnist.test));
  await e.close();
  if (r === 0) rows[4].ours.push(await trainRate('reference', 1, 1, 1000));
}

const fmt = (x: number | undefined) => (x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
const ratio = (r: Row) => (args.peers && r.peer.length === r.ours.length ? median(r.ours.map((x, i) => x / r.peer[i])) : null);
const result = {
  threads,
  images: N,
  repeat,
  trainOnlineImagesPerSecond: median(rows[0].ours),
  trainBatch50OneThreadImagesPerSecond: median(rows[1].ours),
  trainBatch50ImagesPerSecond: median(rows[2].ours),
  evalImagesPerSecond: median(rows[3].ours),
  referenceOnlineImagesPerSecond: median(rows[4].ours),
  pytorch: args.peers
    ? {
        trainOnlineImagesPerSecond: rows[0].peer.length ? median(rows[0].peer) : null,
        trainBatch50OneThreadImagesPerSecond: rows[1].peer.length ? median(rows[1].peer) : null,
        trainBatch50ImagesPerSecond: rows[2].peer.length ? median(rows[2].peer) : null,
        evalImagesPerSecond: rows[3].peer.length ? median(rows[3].peer) : null,
      }
    : null,
  ratios: args.peers
    ? { trainOnline: ratio(rows[0]), trainBatch50OneThread: ratio(rows[1]), trainBatch50: ratio(rows[2]), eval: ratio(rows[3]) }
    : null,
};
if (!args.json) {
  const head = ['', 'cnn-train img/s', ...(args.peers ? ['PyTorch img/s', 'ratio', 'per-run ratios (min-max)'] : [])];
  const body = rows.map((r) => {
    const o = median(r.ours), p = r.peer.length ? median(r.peer) : undefined;
    const ratios = r.peer.length === r.ours.length ? r.ours.map((x, i) => x / r.peer[i]) : [];
    const spread = ratios.length ? `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}` : '—';
    return [r.what, fmt(o), ...(args.peers ? [fmt(p), ratios.length ? `${median(ratios).toFixed(2)}x` : '—', spread] : [])];
  });
  const w = head.map((_, i) => Math.max(...[head, ...body].map((r) => r[i].length)));
  for (const r of [head, ...body]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
  console.log(`(medians of ${repeat} runs over ${N} training images; ${threads} cores${args.peers ? '; the PyTorch peer runs right after cnn-train in each run, and ratio is the median of the per-run ratios' : ''})`);
}
console.log(JSON.stringify(result));

