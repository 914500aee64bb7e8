/**
 * The fast engine (WebAssembly, float32) against the float64 reference: forward outputs, the
 * gradient of a minibatch, SGD steps, and bit-for-bit independence from the thread count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceEngine } from '../src/engine/reference-engine.js';
import { WasmEngine } from '../src/engine/wasm-engine.js';
import type { KernelVariant } from '../src/engine/wasm-module.js';
import { GROUPS, OFFSETS, PARAM_COUNT } from '../src/model/layout.js';
import { initParams } from '../src/model/init.js';
import { Rng } from '../src/model/rng.js';
import { ReferenceNetwork } from '../src/nn/network.js';
import { fixtureTest, fixtureTrain } from './helpers/fixture.js';

const train = fixtureTrain();
const test = fixtureTest();
const engines: WasmEngine[] = [];
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});
let variant: KernelVariant = 'fma';
async function wasm(threads = 1) {
  const e = await WasmEngine.create(threads, variant);
  engines.push(e);
  return e;
}
function randomParams(seed: number): Float64Array {
  const rng = new Rng(seed);
  const p = initParams(rng);
  for (const g of ['b1', 'b2', 'b'] as const) for (let i = 0; i < OFFSETS[g].length; i++) p[OFFSETS[g].offset + i] = rng.nextFloat() - 0.5;
  // float32-representable, so both engines start from identical values
  return p.map(Math.fround);
}
/** The wasm engine and the float64 reference, both set to the same random parameters. */
async function pairAt(seed: number) {
  const params = randomParams(seed);
  const w = await wasm();
  const r = new ReferenceEngine();
  w.setParams(params);
  r.setParams(params);
  return { params, w, r };
}

// both builds of the kernel: with fused multiply-add (relaxed SIMD) and without
const variants: KernelVariant[] = ['fma', 'plain'];
describe.each(variants)('%s kernel', (v) => {
  beforeAll(() => {
    variant = v;
  });
describe('wasm engine vs float64 reference', () => {
  it('forward: the 10 outputs agree within 2e-6 on 300 test digits, and the predictions agree', async () => {
    const { params, w, r } = await pairAt(3);
    const ow = new Float64Array(300 * 10), or = new Float64Array(300 * 10);
    const pw = new Uint8Array(300), pr = new Uint8Array(300);
    const lw = w.predict(test, 0, 300, pw, ow);
    const lr = r.predict(test, 0, 300, pr, or);
    let maxDiff = 0;
    for (let i = 0; i < ow.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ow[i] - or[i]));
    expect(maxDiff).toBeLessThan(2e-6);
    expect(Math.abs(lw - lr) / lr).toBeLessThan(1e-5);
    let same = 0;
    for (let i = 0; i < 300; i++) if (pw[i] === pr[i]) same++;
    expect(same).toBeGreaterThanOrEqual(299); // a near-tie may flip in float32
  });

  it('one minibatch step: every parameter group moves as the reference moves (relative error < 1e-4)', async () => {
    const { params, w, r } = await pairAt(4);
    const order = Uint32Array.from({ length: 1000 }, (_, i) => i);
    const lr = 1;
    const sw = w.train(train, order, 0, 20, 20, lr);
    const sr = r.train(train, order, 0, 20, 20, lr);
    expect(sw.errors).toBe(sr.errors);
    expect(Math.abs(sw.loss - sr.loss) / sr.loss).toBeLessThan(1e-5);
    // the update is lr · mean gradient: compare the steps group by group
    const dw = w.getParams().map((v, i) => v - params[i]);
    const dr = r.getParams().map((v, i) => v - params[i]);
    for (const g of GROUPS) {
      const { offset, length } = OFFSETS[g];
      let num = 0, den = 0;
      for (let i = offset; i < offset + length; i++) {
        num += (dw[i] - dr[i]) ** 2;
        den += dr[i] ** 2;
      }
      expect(Math.sqrt(num / den), g).toBeLessThan(1e-4);
    }
  });

  it('online SGD (batch 1) over 200 images stays with the reference (parameters within 1e-4)', async () => {
    const { params, w, r } = await pairAt(5);
    const order = Uint32Array.from({ length: 1000 }, (_, i) => (i * 7) % 1000);
    w.train(train, order, 0, 200, 1, 1);
    r.train(train, order, 0, 200, 1, 1);
    const a = w.getParams(), b = r.getParams();
    let maxDiff = 0;
    for (let i = 0; i < PARAM_COUNT; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(maxDiff).toBeGreaterThan(0); // different arithmetic, so not bit-identical: the comparison is real
  });

  it('the reference network is what ReferenceEngine runs', () => {
    const params = randomParams(6);
    const r = new ReferenceEngine();
    r.setParams(params);
    const net = new ReferenceNetwork(Float64Array.from(params));
    net.setInput(test.images, 5 * 784);
    const out = new Float64Array(10);
    r.predict(test, 5, 1, new Uint8Array(1), out);
    expect(Array.from(out)).toEqual(Array.from(net.forward()));
  });
});

describe('determinism', () => {
  it('minibatch training gives the same parameters, bit for bit, on 1, 2 and 3 threads', async () => {
    const params = randomParams(8);
    const order = Uint32Array.from({ length: 1000 }, (_, i) => (i * 13) % 1000);
    const results: Float64Array[] = [];
    const losses: number[] = [];
    for (const t of [1, 2, 3]) {
      const e = await wasm(t);
      expect(e.threads).toBe(t);
      e.setParams(params);
      // batch 50 (8 slices of 6-7 images), then a ragged last batch of 37
      losses.push(e.train(train, order, 0, 1000, 50, 1).loss + e.train(train, order, 0, 37, 37, 0.5).loss);
      results.push(e.getParams());
    }
    expect(Buffer.from(results[1].buffer).equals(Buffer.from(results[0].buffer))).toBe(true);
    expect(Buffer.from(results[2].buffer).equals(Buffer.from(results[0].buffer))).toBe(true);
    expect(losses[1]).toBe(losses[0]);
    expect(losses[2]).toBe(losses[0]);
    expect(results[0].some((v, i) => v !== params[i])).toBe(true);
  });

  it('online SGD (batch 1: each image shared out to the threads by feature map and row) gives the same parameters, loss and errors, bit for bit, on 1, 2, 3, 4, 6 and 8 threads', async () => {
    const params = randomParams(12);
    const order = Uint32Array.from({ length: 1000 }, (_, i) => (i * 11) % 1000);
    const results: Buffer[] = [];
    const stats: { loss: number; errors: number }[] = [];
    for (const t of [1, 2, 3, 4, 6, 8]) {
      const e = await wasm(t);
      expect(e.threads).toBe(t);
      e.setParams(params);
      // two calls of different lengths, and a rate that is not a power of two
      const a = e.train(train, order, 0, 700, 1, 0.7);
      const b = e.train(train, order, 700, 300, 1, 0.3);
      stats.push({ loss: a.loss + b.loss, errors: a.errors + b.errors });
      results.push(Buffer.from(e.getParams().buffer));
    }
    for (let i = 1; i < results.length; i++) {
      expect(results[i].equals(results[0]), `thread count #${i}`).toBe(true);
      expect(stats[i]).toEqual(stats[0]);
    }
    expect(stats[0].errors).toBeGreaterThan(0);
  });

  it('online SGD and minibatches in many calls, the engine choosing one thread or all by measured speed as it goes: the same parameters and loss as on one thread', async () => {
    const params = randomParams(13);
    const order = Uint32Array.from({ length: 1000 }, (_, i) => (i * 3) % 1000);
    const one = await wasm(1), two = await wasm(2);
    const losses: number[][] = [[], []];
    for (const [k, e] of [one, two].entries()) {
      e.setParams(params);
      // 40 calls per batch size: warm-up, one measure each way, then probes of the slower way
      for (let c = 0; c < 40; c++) losses[k].push(e.train(train, order, (c * 25) % 1000, 25, 1, 0.5).loss);
      for (let c = 0; c < 40; c++) losses[k].push(e.train(train, order, (c * 50) % 1000, 50, 10, 0.5).loss);
    }
    expect(Buffer.from(two.getParams().buffer).equals(Buffer.from(one.getParams().buffer))).toBe(true);
    expect(losses[1]).toEqual(losses[0]);
    // both ways ran on the two-thread engine
    const ways = (two as unknown as { ways: { rate: number[] }[] }).ways;
    for (const w of ways) expect(w.rate[0] > 0 && w.rate[1] > 0).toBe(true);
  });

  it('α/B is the same float32 on every path: lr 0.3 and 0.7 with batches 10 and 7 give the same parameters on 1, 2 and 3 threads', async () => {
    // (lr 1 and 0.5 divided by a power of two hide a float32/float64 difference in α/B)
    const params = randomParams(10);
    const order = Uint32Array.from({ length: 700 }, (_, i) => (i * 17) % 1000);
    const results: Buffer[] = [];
    for (const t of [1, 2, 3]) {
      const e = await wasm(t);
      e.setParams(params);
      e.train(train, order, 0, 700, 10, 0.3);
      e.train(train, order, 0, 700, 7, 0.7);
      results.push(Buffer.from(e.getParams().buffer));
    }
    expect(results[1].equals(results[0])).toBe(true);
    expect(results[2].equals(results[0])).toBe(true);
  });

  it('a batch larger than the stage is summed as if staged at once (the large-batch path equals the usual one, bit for bit)', async () => {
    const params = randomParams(11);
    const order = Uint32Array.from({ length: 1000 }, (_, i) => (i * 7) % 1000);
    const usual = await wasm(1);
    usual.setParams(params);
    const a = usual.train(train, order, 0, 1000, 500, 0.3);
    const large = await wasm(1);
    large.setParams(params);
    // the path used for batches over 4096 images, here on batches of 500 so that both can run
    const b = (large as unknown as { trainLargeBatches: WasmEngine['train'] }).trainLargeBatches(train, order, 0, 1000, 500, 0.3);
    expect(Buffer.from(large.getParams().buffer).equals(Buffer.from(usual.getParams().buffer))).toBe(true);
    expect(b.errors).toBe(a.errors);
    expect(b.loss).toBeCloseTo(a.loss, 9);
  });

  it('evaluation gives the same outputs, predictions and loss on 1, 2 and 3 threads', async () => {
    const params = randomParams(9);
    const runs: { loss: number; preds: Uint8Array; out: Float64Array }[] = [];
    for (const t of [1, 2, 3]) {
      const e = await wasm(t);
      e.setParams(params);
      const preds = new Uint8Array(1000), out = new Float64Array(10000);
      runs.push({ loss: e.predict(train, 0, 1000, preds, out), preds, out });
    }
    for (const r of runs.slice(1)) {
      expect(r.loss).toBe(runs[0].loss);
      expect(Buffer.from(r.preds).equals(Buffer.from(runs[0].preds))).toBe(true);
      expect(Buffer.from(r.out.buffer).equals(Buffer.from(runs[0].out.buffer))).toBe(true);
    }
    // and they are the single-thread forward pass of each image
    const one = new Float64Array(10);
    (await wasm(1)).setParams(params);
    engines[engines.length - 1].predict(train, 999, 1, new Uint8Array(1), one);
    expect(Array.from(runs[2].out.subarray(9990))).toEqual(Array.from(one));
  });
});
});
