/**
 * `npm run bench [-- --repeat 3] [-- --json] [-- --no-torch] [-- --images 10000]`
 * Training and evaluation throughput on the real MNIST, side by side with the project's own
 * PyTorch implementation (pytorch/cnn_train_torch.py bench, run by /usr/bin/python3 right after
 * cnn-train in each run, at its best settings: the fastest of eager, TorchScript script and trace
 * at batch 1, evaluation in batches of 100, and of 1 or all threads). Ratios are medians of the
 * per-run ratios (this machine is noisy; back-to-back runs are what can be compared). Then the
 * arithmetic rate against the machine's 128-bit SIMD peak, and one line per design choice: its
 * online training speed against the paper's network in the same run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundledMnistDir, loadMnist, type Dataset } from '../src/data/mnist.js';
import { createEngine } from '../src/engine/create-engine.js';
import type { Engine, EngineName } from '../src/engine/engine.js';
import { Kernel, kernelModule, packageRoot } from '../src/engine/wasm-module.js';
import { architectureFlags, PAPER, type Architecture } from '../src/model/architecture.js';
import { C1_MAPS, C1_SIDE, C2_MAPS, C2_SIDE, CLASSES, FEATURES, KK } from '../src/model/dims.js';
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

// ---- the arithmetic of one image, counted from the layer sizes (src/model/dims.ts) ----
// multiply-adds: C1 6·24²·25, C2 12·8²·(6·25), FC 10·192; backward: ΔW and Δf 2·10·192, Δk2 and
// ΔS1 (eqs 40, 51) 2·115 200, Δk1 (eq 59) 86 400. Activations, pooling, biases, the loss and the
// update are left out (no multiply-adds, or a few thousand).
const MAC_C1 = C1_MAPS * C1_SIDE * C1_SIDE * KK;
const MAC_C2 = C2_MAPS * C2_SIDE * C2_SIDE * C1_MAPS * KK;
const MAC_FC = CLASSES * FEATURES;
const FORWARD_FLOP = 2 * (MAC_C1 + MAC_C2 + MAC_FC);
const TRAIN_FLOP = FORWARD_FLOP + 2 * (2 * MAC_FC + 2 * MAC_C2 + MAC_C1);

// ---- the peak: cores x GHz x 2 FMA pipes x 4 lanes x 2 flops, the clock read from /proc/cpuinfo ----
function cpuInfo(): { model: string; mhz: number } {
  try {
    const t = readFileSync('/proc/cpuinfo', 'utf8');
    return { model: /model name\s*:\s*(.*)/.exec(t)?.[1] ?? '?', mhz: Number(/cpu MHz\s*:\s*([\d.]+)/.exec(t)?.[1] ?? NaN) };
  } catch {
    return { model: '?', mhz: NaN };
  }
}
const cpu = cpuInfo();
const FMA_PIPES = 2; // assumed: two 128-bit FMA pipes per core (AMD Zen 2-4, Intel since Haswell)
const peakPerCore = (cpu.mhz / 1000) * FMA_PIPES * 4 * 2; // GFLOP/s
/** This module's own multiply-add rate on one core (12 independent chains on registers): the peak as V8 reaches it. */
function measuredPeak(): number {
  const k = new Kernel(kernelModule().module, PAPER);
  const rates: number[] = [];
  for (let r = 0; r < 5; r++) {
    const n = 5e6;
    const t0 = performance.now();
    k.ex.fmaLoop(n, 0.5);
    rates.push((n * 12 * 8) / ((performance.now() - t0) / 1000) / 1e9);
  }
  return Math.max(...rates);
}

async function trainRate(name: EngineName, t: number, batch: number, n: number, a: Architecture = PAPER): Promise<number> {
  const e = await createEngine(name, t, a);
  try {
    e.setParams(initParams(new Rng(1)));
    const order = new Uint32Array(mnist.train.count).map((_, i) => i);
    new Rng(2).shuffle(order);
    const lr = a.activation === 'relu' || a.loss === 'cross-entropy' ? 0.05 : 1;
    // in calls of the size the training loop makes (src/train/train.ts); the warm-up is three
    // calls, in which an engine on T threads also measures its two ways of running (one thread or
    // all: wasm-engine.ts trainShared)
    const chunk = Math.max(1, Math.floor(e.callSize.train / batch)) * batch;
    const warm = name === 'wasm' ? 3 * chunk : Math.min(200, n);
    for (let s = 0; s < warm; s += chunk) e.train(mnist.train, order, s, Math.min(chunk, warm - s), batch, lr);
    const t0 = performance.now();
    for (let s = 0; s < n; s += chunk) e.train(mnist.train, order, warm + s, Math.min(chunk, n - s), batch, lr);
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
  /** FLOP per image and threads, for the rate against the peak. */
  flop: number;
  threads: number;
}
const rows: Row[] = [
  { what: 'train, batch 1 (online SGD), 1 thread', ours: [], peer: [], flop: TRAIN_FLOP, threads: 1 },
  { what: `train, batch 1 (online SGD), ${threads} threads`, ours: [], peer: [], flop: TRAIN_FLOP, threads },
  { what: 'train, batch 50, 1 thread', ours: [], peer: [], flop: TRAIN_FLOP, threads: 1 },
  { what: `train, batch 50, ${threads} threads`, ours: [], peer: [], flop: TRAIN_FLOP, threads },
  { what: `evaluate 10 000 test images, ${threads} threads`, ours: [], peer: [], flop: FORWARD_FLOP, threads },
  { what: 'train, batch 1, float64 reference engine', ours: [], peer: [], flop: TRAIN_FLOP, threads: 1 },
];
const OPTIONS: Partial<Architecture>[] = [
  { conv: 'correlation' }, { pool: 'max' }, { activation: 'relu' }, { activation: 'tanh' }, { output: 'softmax' },
  { output: 'softmax', loss: 'cross-entropy' },
  { conv: 'correlation', pool: 'max', activation: 'relu', output: 'softmax', loss: 'cross-entropy' },
];
const optionRows = OPTIONS.map((o) => ({ flags: architectureFlags({ ...PAPER, ...o }), a: { ...PAPER, ...o }, ratios: [] as number[], rates: [] as number[] }));
const scaling: number[] = []; // per run: online SGD on all threads / on one
const loads: number[] = [];
const peak = measuredPeak();

for (let r = 0; r < repeat; r++) {
  log(`run ${r + 1}/${repeat} (load average ${loadavg()[0].toFixed(2)})`);
  loads.push(loadavg()[0]);
  rows[0].ours.push(await trainRate('wasm', 1, 1, N));
  rows[2].ours.push(await trainRate('wasm', 1, 50, N));
  const t1 = torch(1, Math.min(N, 3000));
  rows[1].ours.push(await trainRate('wasm', threads, 1, N));
  rows[3].ours.push(await trainRate('wasm', threads, 50, N));
  const e = await createEngine('wasm', threads);
  e.setParams(initParams(new Rng(1)));
  rows[4].ours.push(await evalRate(e, mnist.test));
  await e.close();
  const tT = threads > 1 ? torch(threads, Math.min(N, 3000)) : t1;
  scaling.push(rows[1].ours[r] / rows[0].ours[r]);
  // PyTorch at its best: 1 or all threads, whichever was faster in this run
  if (t1 && tT) {
    rows[0].peer.push(t1.train_b1);
    rows[1].peer.push(Math.max(t1.train_b1, tT.train_b1));
    rows[2].peer.push(t1.train_b50);
    rows[3].peer.push(Math.max(t1.train_b50, tT.train_b50));
    rows[4].peer.push(Math.max(t1.eval, tT.eval));
  }
  if (r === 0) rows[5].ours.push(await trainRate('reference', 1, 1, 1000));
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
const gflops = (r: Row) => (median(r.ours) * r.flop) / 1e9;
const result = {
  threads,
  images: N,
  repeat,
  loadAverage: loads,
  flopPerImage: { train: TRAIN_FLOP, forward: FORWARD_FLOP },
  peak: { cpu: cpu.model, mhz: cpu.mhz, fmaPipes: FMA_PIPES, nominalPerCore: peakPerCore, measuredPerCore: peak },
  rows: rows.map((r) => ({
    what: r.what, cnnTrain: median(r.ours), pytorch: r.peer.length ? median(r.peer) : null, ratio: ratios(r).length ? median(ratios(r)) : null,
    ratioMin: ratios(r).length ? Math.min(...ratios(r)) : null, ratioMax: ratios(r).length ? Math.max(...ratios(r)) : null,
    gflops: gflops(r), ofMeasuredPeak: gflops(r) / (peak * r.threads),
  })),
  onlineScaling: { median: median(scaling), min: Math.min(...scaling), max: Math.max(...scaling) },
  options: optionRows.map((o) => ({ flags: o.flags, imagesPerSecond: median(o.rates), ratioToPaper: median(o.ratios), min: Math.min(...o.ratios), max: Math.max(...o.ratios) })),
};
if (!args.json) {
  const head = ['', 'cnn-train img/s', ...(torchOk ? ['PyTorch img/s', 'ratio', 'per-run ratios (min-max)'] : []), 'GFLOP/s', 'of peak'];
  const body = rows.map((r) => {
    const rs = ratios(r);
    const spread = rs.length ? `${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)}` : '—';
    return [r.what, fmt(median(r.ours)), ...(torchOk ? [fmt(r.peer.length ? median(r.peer) : undefined), rs.length ? `${median(rs).toFixed(2)}x` : '—', spread] : []),
      gflops(r).toFixed(1), `${((100 * gflops(r)) / (peak * r.threads)).toFixed(0)} %`];
  });
  const table = (h: string[], b: string[][]) => {
    const w = h.map((_, i) => Math.max(...[h, ...b].map((x) => x[i].length)));
    for (const x of [h, ...b]) console.log(x.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
  };
  table(head, body);
  console.log(`(medians of ${repeat} runs over ${N} training images; ${threads} cores; load average at the start of each run ${loads.map((l) => l.toFixed(2)).join(', ')}` +
    `${torchOk ? '; PyTorch runs right after cnn-train in each run, at the faster of 1 and all threads; ratio = median of the per-run ratios' : ''})`);
  console.log(`online SGD on ${threads} threads / on 1 thread: ${median(scaling).toFixed(2)}x (per run ${scaling.map((x) => x.toFixed(2)).join(', ')})`);
  console.log(
    `GFLOP/s: images/s x ${(TRAIN_FLOP / 1e6).toFixed(3)} MFLOP per training image (${(FORWARD_FLOP / 1e6).toFixed(3)} per evaluated image): the multiply-adds of the ` +
      `layers counted from src/model/dims.ts, 2 flops each. Peak: ${cpu.model}, ${cpu.mhz} MHz in /proc/cpuinfo x ${FMA_PIPES} FMA pipes (assumed) x 4 lanes x 2 flops = ` +
      `${peakPerCore.toFixed(1)} GFLOP/s per core nominal; this kernel's own multiply-add loop reaches ${peak.toFixed(1)} GFLOP/s on one core ` +
      `(the clock runs at ~${((peak / (FMA_PIPES * 8)) * 1000).toFixed(0)} MHz), which is the peak used above (per thread used).`,
  );
  console.log('');
  table(
    ['online SGD (batch 1, 1 thread) with', 'img/s', 'vs the paper\'s network', 'per-run (min-max)'],
    optionRows.map((o) => [o.flags, fmt(median(o.rates)), `${median(o.ratios).toFixed(2)}x`, `${Math.min(...o.ratios).toFixed(2)}-${Math.max(...o.ratios).toFixed(2)}`]),
  );
}
console.log(JSON.stringify(result));
