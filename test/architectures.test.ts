/**
 * Every architecture end to end: the WebAssembly engine against the float64 reference, the
 * gradient check, determinism across threads, correlation as rotated convolution bit for bit, and
 * the paper's default run unchanged bit for bit.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/create-engine.js';
import type { Engine, EngineName } from '../src/engine/engine.js';
import { WasmEngine } from '../src/engine/wasm-engine.js';
import { allArchitectures, describeArchitecture, PAPER, type Architecture } from '../src/model/architecture.js';
import { initParams } from '../src/model/init.js';
import { OFFSETS, rotateKernels } from '../src/model/layout.js';
import { Rng } from '../src/model/rng.js';
import { ACTIVATION_LAYERS } from '../src/nn/activation.js';
import { gradcheck } from '../src/train/gradcheck.js';
import { train } from '../src/train/train.js';
import { fixtureTest, fixtureTrain } from './helpers/fixture.js';

const data = fixtureTrain();
const test = fixtureTest();
const engines: Engine[] = [];
afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
});
async function engine(name: EngineName, a: Architecture, threads = 1) {
  const e = await createEngine(name, threads, a);
  engines.push(e);
  return e;
}
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const hash = (a: Float64Array) => createHash('sha256').update(bits(a)).digest('hex');
const ARCHS = allArchitectures();

/** Random float32-representable parameters with non-zero biases. */
function randomParams(seed: number): Float64Array {
  const rng = new Rng(seed);
  const p = initParams(rng);
  for (const g of ['b1', 'b2', 'b'] as const) for (let i = 0; i < OFFSETS[g].length; i++) p[OFFSETS[g].offset + i] = 0.2 * (rng.nextFloat() - 0.5);
  return p.map(Math.fround);
}

it('there are 36 valid architectures (cross-entropy only with softmax)', () => {
  expect(ARCHS).toHaveLength(36);
  expect(ARCHS.some((a) => a.loss === 'cross-entropy' && a.output !== 'softmax')).toBe(false);
});

describe('wasm engine vs float64 reference, every architecture', () => {
  for (const a of ARCHS) {
    it(describeArchitecture(a), async () => {
      const params = randomParams(3);
      const w = await engine('wasm', a), r = await engine('reference', a);
      w.setParams(params);
      r.setParams(params);
      // forward: outputs and predictions on 100 test digits
      const ow = new Float64Array(1000), or = new Float64Array(1000), pw = new Uint8Array(100), pr = new Uint8Array(100);
      const lw = w.predict(test, 0, 100, pw, ow), lr = r.predict(test, 0, 100, pr, or);
      let d = 0;
      for (let i = 0; i < 1000; i++) d = Math.max(d, Math.abs(ow[i] - or[i]));
      expect(d).toBeLessThan(2e-5);
      expect(Math.abs(lw - lr) / lr).toBeLessThan(1e-5);
      // one minibatch step of 20 images: the updates agree
      const order = Uint32Array.from({ length: 20 }, (_, i) => (i * 37) % 1000);
      w.train(data, order, 0, 20, 20, 0.5);
      r.train(data, order, 0, 20, 20, 0.5);
      const gw = w.getParams().map((v, i) => v - params[i]), gr = r.getParams().map((v, i) => v - params[i]);
      let dd = 0, m = 0;
      for (let i = 0; i < gr.length; i++) {
        dd = Math.max(dd, Math.abs(gw[i] - gr[i]));
        m = Math.max(m, Math.abs(gr[i]));
      }
      expect(m).toBeGreaterThan(0);
      expect(dd / m).toBeLessThan(1e-3);
    });
  }
});

describe('gradient check (float64, central differences), every architecture', () => {
  for (const a of ARCHS) {
    it(describeArchitecture(a), () => {
      const r = gradcheck({ seed: 2, data: test, images: 2, entries: 10, architecture: a });
      for (const row of r.rows) {
        expect(row.checked, `${row.group}: all entries skipped`).toBeGreaterThan(0);
        expect(row.maxRelError, `${row.group}`).toBeLessThan(1e-6);
      }
      expect(r.pass).toBe(true);
      if (a.activation !== 'relu' && a.pool !== 'max') expect(r.rows.every((x) => x.skipped === 0)).toBe(true);
    });
  }

  it('fails on a wrong derivative: the check is not vacuous', () => {
    // tanh's backward replaced by the sigmoid's a(1 − a), the kind of slip a derivation can make
    const a: Architecture = { ...PAPER, activation: 'tanh' };
    expect(gradcheck({ seed: 2, data: test, images: 1, entries: 5, architecture: a }).pass).toBe(true);
    const right = ACTIVATION_LAYERS.tanh.backward;
    ACTIVATION_LAYERS.tanh.backward = ACTIVATION_LAYERS.sigmoid.backward;
    try {
      const bad = gradcheck({ seed: 2, data: test, images: 1, entries: 5, architecture: a });
      expect(bad.pass).toBe(false);
      expect(bad.rows.find((r) => r.group === 'k1')!.maxRelError).toBeGreaterThan(1e-2);
    } finally {
      ACTIVATION_LAYERS.tanh.backward = right;
    }
  });
});

describe('determinism: the same parameters on 1, 2 and 3 threads, every architecture', () => {
  for (const a of ARCHS) {
    it(describeArchitecture(a), async () => {
      const params = randomParams(4);
      const order = Uint32Array.from({ length: 300 }, (_, i) => (i * 13) % 1000);
      const out: Buffer[] = [];
      for (const t of [1, 2, 3]) {
        const e = await engine('wasm', a, t);
        e.setParams(params);
        e.train(data, order, 0, 300, 10, 0.3);
        e.train(data, order, 0, 77, 7, 0.1);
        e.train(data, order, 0, 150, 1, 0.05); // online SGD: each image shared out to the threads
        out.push(bits(e.getParams()));
      }
      expect(out[1].equals(out[0])).toBe(true);
      expect(out[2].equals(out[0])).toBe(true);
    });
  }
});

describe('cross-correlation is true convolution with the kernels rotated by 180°', () => {
  const pairs: [Architecture, Architecture][] = [
    [PAPER, { ...PAPER, conv: 'correlation' }],
    [{ conv: 'convolution', pool: 'max', activation: 'relu', output: 'softmax', loss: 'cross-entropy' }, { conv: 'correlation', pool: 'max', activation: 'relu', output: 'softmax', loss: 'cross-entropy' }],
  ];
  for (const name of ['wasm', 'reference'] as const) {
    for (const [conv, corr] of pairs) {
      for (const batch of [1, 10]) {
        it(`${name}, ${describeArchitecture(corr)}, batch ${batch}: 1 000 steps from rotated kernels give the rotated parameters, bit for bit`, async () => {
          const steps = name === 'wasm' ? 1000 : batch === 1 ? 200 : 40; // the float64 loops are slow
          const params = randomParams(5);
          const order = Uint32Array.from({ length: steps * batch }, (_, i) => (i * 7) % 1000);
          const a = await engine(name, conv), b = await engine(name, corr);
          a.setParams(params);
          b.setParams(rotateKernels(Float64Array.from(params)));
          const lr = conv.loss === 'mse' ? 0.5 : 0.05;
          const sa = a.train(data, order, 0, steps * batch, batch, lr);
          const sb = b.train(data, order, 0, steps * batch, batch, lr);
          const pa = a.getParams(), pb = rotateKernels(b.getParams());
          expect(bits(pb).equals(bits(pa))).toBe(true);
          expect(sb.loss).toBe(sa.loss);
          expect(pa.some((v, i) => v !== params[i])).toBe(true);
        });
      }
    }
  }
});

describe("the paper's default run is unchanged, bit for bit", () => {
  // SHA-256 of the parameters after one epoch of online SGD (batch 1, α 1, seed 1) on the
  // 1 000-image fixture, as computed by cnn-train before the architecture options existed
  // (commit 3ccb7e3); the wasm figures are for each build of the kernel.
  const golden: Record<string, string> = {
    'wasm-fma': 'ebe2dcff2867c2601a5f06b09ff2743a94ad0eea6c497216fe99244480f88794',
    'wasm-plain': '3e8264f3ad097640651808b60992e215a9c87a64073c38baaac9a341da6d5ffb',
    reference: 'c5a2e194f0a4ccaa891649f7e5517fac633ff1e64981bc7a77cdcd0f42e75254',
  };
  for (const [name, make] of [
    ['wasm-fma', () => WasmEngine.create(1, 'fma')],
    ['wasm-plain', () => WasmEngine.create(1, 'plain')],
    ['reference', () => createEngine('reference', 1)],
  ] as const) {
    it(name, async () => {
      const e = await make();
      engines.push(e);
      const r = await train({ epochs: 1, batchSize: 1, lr: 1, seed: 1, train: data, engine: e });
      expect(hash(r.model.parameters)).toBe(golden[name]);
    });
  }
});
