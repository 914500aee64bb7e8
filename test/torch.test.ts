/**
 * cnn-train against the project's own PyTorch implementation (pytorch/cnn_train_torch.py, written
 * independently from the equations, backward by autograd), as llm.c tests its C against
 * train_gpt2.py: from the same initial parameters (a model file) and the same order of images,
 * 500 steps of each engine end within 1e-5 of PyTorch (float64), for the paper's network, for each
 * design choice alone and for all five together. Needs Debian's python3-torch (CI installs it);
 * without it the tests are skipped, and their title says why.
 *
 * One exception, measured and not hidden: with max pooling, the float32 engine follows PyTorch's
 * float64 only until the first window whose two largest values are closer than float32 can tell
 * apart (relative gap below 2^-23; e.g. 0.41313940113 and 0.41313939890 at step 143 of the pooling
 * case). There the two precisions send the error to different entries, and the runs part. For
 * those cases the wasm engine is compared over the steps before that first near-tie (found along
 * its own trajectory with the float64 network), and the float64 engine over all 500.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/create-engine.js';
import type { Engine } from '../src/engine/engine.js';
import { newModel, parseModelText, saveModel } from '../src/io/model-file.js';
import { PAPER, type Architecture } from '../src/model/architecture.js';
import { initParams } from '../src/model/init.js';
import { train } from '../src/train/train.js';
import { Rng } from '../src/model/rng.js';
import { ReferenceNetwork } from '../src/nn/network.js';
import { C1_MAPS, C2_MAPS, PIXELS, S1_SIDE, S2_SIDE } from '../src/model/dims.js';
import { FIXTURE_DIR, fixtureTrain, ROOT } from './helpers/fixture.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(ROOT, 'pytorch', 'cnn_train_torch.py');
const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const hasTorch = probe.status === 0;
const why = hasTorch ? '' : ` — SKIPPED: ${PYTHON} cannot import torch (install Debian's python3-torch)`;

const data = fixtureTrain();
const engines: Engine[] = [];
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});

const STEPS = 500;
const NEAR_TIE = 2 ** -23; // float32's relative resolution: closer values may round to the same float32

/** Whether a max-pooling window of the image's forward pass holds two top values closer than NEAR_TIE (relative). */
function hasNearTie(net: ReferenceNetwork, image: number): boolean {
  net.setInput(data.images, image * PIXELS);
  net.forward();
  for (const [m, M, S] of [[net.c1, C1_MAPS, S1_SIDE], [net.c2, C2_MAPS, S2_SIDE]] as const) {
    const X = 2 * S;
    for (let q = 0; q < M; q++) for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) {
      const o = q * X * X + 2 * i * X + 2 * j;
      const v = [m[o], m[o + 1], m[o + X], m[o + X + 1]].sort((x, y) => y - x);
      if (v[0] !== v[1] && v[0] - v[1] < NEAR_TIE * Math.abs(v[0])) return true;
    }
  }
  return false;
}

/** Steps of the wasm engine's trajectory before the first batch holding a near-tie. */
async function stepsBeforeNearTie(a: Architecture, init: Float64Array, order: Uint32Array, batch: number, lr: number, optimizer?: { momentum: number; weightDecay: number }): Promise<number> {
  const e = await createEngine('wasm', 1, a);
  engines.push(e);
  if (optimizer) e.setOptimizer(optimizer);
  e.setParams(init);
  for (let t = 0; t * batch < order.length; t++) {
    const net = new ReferenceNetwork(e.getParams(), a);
    for (let k = t * batch; k < Math.min(order.length, (t + 1) * batch); k++) if (hasNearTie(net, order[k])) return t;
    e.train(data, order, t * batch, batch, batch, lr);
  }
  return order.length / batch;
}

/** PyTorch's parameters after training from `init` over `order`. */
function torchTrain(d: string, order: Uint32Array, batch: number, lr: number, name: string, extra: string[] = []): Float64Array {
  writeFileSync(join(d, `${name}.bin`), Buffer.from(order.buffer, order.byteOffset, order.byteLength));
  const t = spawnSync(PYTHON, [SCRIPT, 'train', '--init', join(d, 'init.json'), '--order', join(d, `${name}.bin`), '--data', FIXTURE_DIR,
    '--batch-size', String(batch), '--lr', String(lr), '--out', join(d, `${name}.json`), ...extra], { encoding: 'utf8' });
  expect(t.status, t.stderr).toBe(0);
  return parseModelText(readFileSync(join(d, `${name}.json`), 'utf8'), `${name}.json`).parameters;
}

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
type Case = [label: string, choices: Partial<Architecture>, lr: number, batch: number, optimizer?: { momentum: number; weightDecay: number }];
const cases: Case[] = [
  // label, choices, learning rate, batch size, optimizer
  ["the paper's network", {}, 1, 1],
  ['--conv correlation', { conv: 'correlation' }, 1, 1],
  ['--pool max', { pool: 'max' }, 1, 1],
  ['--activation relu', { activation: 'relu' }, 0.1, 1],
  ['--activation tanh', { activation: 'tanh' }, 0.3, 1],
  ['--output softmax', { output: 'softmax' }, 1, 1],
  ['--output softmax --loss cross-entropy', { output: 'softmax', loss: 'cross-entropy' }, 0.1, 1],
  ['all five together', { conv: 'correlation', pool: 'max', activation: 'relu', output: 'softmax', loss: 'cross-entropy' }, 0.05, 1],
  ['all five together, batch 10', { conv: 'correlation', pool: 'max', activation: 'relu', output: 'softmax', loss: 'cross-entropy' }, 0.1, 10],
  ['momentum 0.9, weight decay 1e-4', {}, 0.1, 1, { momentum: 0.9, weightDecay: 1e-4 }],
  ['momentum 0.9, weight decay 1e-4, batch 10', {}, 0.5, 10, { momentum: 0.9, weightDecay: 1e-4 }],
];

describe(`cnn-train vs its PyTorch implementation, ${STEPS} steps from the same start${why}`, () => {
  for (const [label, choices, lr, batch, optimizer] of cases) {
    it.skipIf(!hasTorch)(`${label} (lr ${lr}, batch ${batch}): both engines within 1e-5 of PyTorch`, async () => {
      const a: Architecture = { ...PAPER, ...choices };
      const d = mkdtempSync(join(tmpdir(), 'cnn-torch-'));
      const init = initParams(new Rng(1));
      saveModel(join(d, 'init.json'), newModel(init, a));
      const rng = new Rng(2);
      const order = Uint32Array.from({ length: STEPS * batch }, () => rng.nextInt(data.count));
      const opt = optimizer ? ['--momentum', String(optimizer.momentum), '--weight-decay', String(optimizer.weightDecay)] : [];
      const torch = torchTrain(d, order, batch, lr, 'all', opt);
      expect(parseModelText(readFileSync(join(d, 'all.json'), 'utf8'), 'all.json').architecture).toEqual(a);
      const moved = maxDiff(torch, init);
      expect(moved).toBeGreaterThan(0.01); // it trained
      const run = async (name: 'reference' | 'wasm', steps: number) => {
        const e = await createEngine(name, 1, a);
        engines.push(e);
        if (optimizer) e.setOptimizer(optimizer);
        e.setParams(init);
        e.train(data, order, 0, steps * batch, batch, lr);
        return e.getParams();
      };
      const ref = maxDiff(await run('reference', STEPS), torch);
      console.log(`${label}, reference engine, ${STEPS} steps: max |θ − θ_torch| = ${ref.toExponential(2)} (parameters moved up to ${moved.toFixed(3)})`);
      expect(ref).toBeLessThan(1e-9);
      // the float32 engine: all steps, or those before the first max-pooling near-tie
      const steps = a.pool === 'max' ? await stepsBeforeNearTie(a, init, order, batch, lr, optimizer) : STEPS;
      const want = steps === STEPS ? torch : torchTrain(d, order.subarray(0, steps * batch), batch, lr, 'before', opt);
      const wasm = maxDiff(await run('wasm', steps), want);
      console.log(`${label}, wasm engine, ${steps} steps${steps < STEPS ? ' (then a max-pooling near-tie)' : ''}: max |θ − θ_torch| = ${wasm.toExponential(2)}`);
      expect(steps).toBeGreaterThanOrEqual(50);
      expect(wasm).toBeLessThan(1e-5);
    });
  }

  it.skipIf(!hasTorch)('the whole training loop with --lr-decay 0.5, momentum 0.9 and weight decay 1e-4: 2 epochs of the fixture, batch 7, on both engines', async () => {
    const d = mkdtempSync(join(tmpdir(), 'cnn-torch-'));
    const seed = 3, epochs = 2, batch = 7, lr = 0.1;
    // the order train() draws: the initial weights, then one shuffle per epoch, from one PRNG
    const rng = new Rng(seed);
    const init = initParams(rng);
    saveModel(join(d, 'init.json'), newModel(init));
    const order = new Uint32Array(epochs * data.count);
    for (let e = 0; e < epochs; e++) {
      const o = Uint32Array.from({ length: data.count }, (_, i) => i);
      rng.shuffle(o);
      order.set(o, e * data.count);
    }
    const torch = torchTrain(d, order, batch, lr, 'loop', ['--momentum', '0.9', '--weight-decay', '1e-4', '--lr-decay', '0.5', '--epoch-size', String(data.count)]);
    for (const name of ['reference', 'wasm'] as const) {
      const e = await createEngine(name, 1);
      engines.push(e);
      const r = await train({ epochs, batchSize: batch, lr, seed, train: data, engine: e, lrDecay: 0.5, optimizer: { momentum: 0.9, weightDecay: 1e-4 } });
      const diff = maxDiff(r.model.parameters, torch);
      console.log(`training loop with decay, ${name} engine: max |θ − θ_torch| = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(name === 'reference' ? 1e-9 : 1e-5);
    }
  });
});
