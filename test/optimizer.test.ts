/**
 * Momentum, weight decay and the learning-rate decay: a 3-step example worked by hand, on both
 * engines' update; the schedule; threads; and the training loop's new options (validation, keep
 * best, early stopping) resuming exactly.
 */
import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine.js';
import { Kernel, kernelModule } from '../src/engine/wasm-module.js';
import { splitTraining } from '../src/data/mnist.js';
import { parseModel, serializeModel } from '../src/io/model-file.js';
import { PAPER } from '../src/model/architecture.js';
import { PARAM_COUNT } from '../src/model/dims.js';
import { sgdMomentumUpdate } from '../src/nn/sgd.js';
import { epochRate, train, type TrainOptions } from '../src/train/train.js';
import { engineKeeper } from './helpers/engines.js';
import { fixtureTest, fixtureTrain } from './helpers/fixture.js';

const engine = engineKeeper();
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// θ0 = 1, μ = 0.9, λ = 0.1, α = 0.5 halved every step (γ = 0.5), gradients 0.2, −0.4, 0.1:
//   1: g = 0.2 + 0.1·1 = 0.3          v = 0.3                     θ = 1 − 0.5·0.3 = 0.85
//   2: g = −0.4 + 0.1·0.85 = −0.315   v = 0.9·0.3 − 0.315 = −0.045  θ = 0.85 + 0.25·0.045 = 0.86125
//   3: g = 0.1 + 0.1·0.86125 = 0.186125  v = −0.0405 + 0.186125 = 0.145625  θ = 0.86125 − 0.125·0.145625 = 0.843046875
const GRADS = [0.2, -0.4, 0.1];
const HAND = [
  { theta: 0.85, v: 0.3 },
  { theta: 0.86125, v: -0.045 },
  { theta: 0.843046875, v: 0.145625 },
];

describe('momentum, weight decay and decay, three steps worked by hand', () => {
  it('the schedule: α·γ^(e−1)', () => {
    expect([1, 2, 3].map((e) => epochRate(0.5, 0.5, e))).toEqual([0.5, 0.25, 0.125]);
    expect(epochRate(0.3, 1, 7)).toBe(0.3);
  });

  it('float64 update (the reference engine)', () => {
    const theta = Float64Array.of(1), v = Float64Array.of(0);
    GRADS.forEach((g, k) => {
      sgdMomentumUpdate(theta, Float64Array.of(g), v, epochRate(0.5, 0.5, k + 1), 1, 0.9, 0.1);
      expect(theta[0]).toBeCloseTo(HAND[k].theta, 15);
      expect(v[0]).toBeCloseTo(HAND[k].v, 15);
    });
  });

  it('the same with a batch of 2: the summed gradient is averaged first', () => {
    const theta = Float64Array.of(1), v = Float64Array.of(0);
    sgdMomentumUpdate(theta, Float64Array.of(0.4), v, 0.5, 2, 0.9, 0.1); // Σ = 0.4 over 2 images: mean 0.2
    expect(theta[0]).toBeCloseTo(0.85, 15);
  });

  it('float32 update in the WebAssembly kernel (applySlots)', () => {
    const k = new Kernel(kernelModule().module, PAPER);
    k.ex.setOptimizer(0.9, 0.1);
    k.params.fill(1);
    GRADS.forEach((g, step) => {
      k.slot(0).fill(g);
      k.ex.applySlots(1, epochRate(0.5, 0.5, step + 1), 1);
      expect(k.params[0]).toBeCloseTo(HAND[step].theta, 6);
      expect(k.params[PARAM_COUNT - 1]).toBeCloseTo(HAND[step].theta, 6);
      expect(k.velocity[0]).toBeCloseTo(HAND[step].v, 6);
    });
    // weight decay without momentum: v is not kept
    const k2 = new Kernel(kernelModule().module, PAPER);
    k2.ex.setOptimizer(0, 0.1);
    k2.params.fill(1);
    k2.slot(0).fill(0.2);
    k2.ex.applySlots(1, 0.5, 1);
    expect(k2.params[0]).toBeCloseTo(0.85, 6);
    expect(k2.velocity[0]).toBe(0);
  });
});

describe('the new training options', () => {
  const data = fixtureTrain();
  const test = fixtureTest();
  const { train: trainPart, validation } = splitTraining(data, undefined, 200);
  const base = (e: Engine, extra: Partial<TrainOptions> = {}): TrainOptions => ({
    epochs: 4, batchSize: 5, lr: 0.1, seed: 3, train: trainPart, validation, test, engine: e, progressEvery: 100,
    optimizer: { momentum: 0.9, weightDecay: 1e-3 }, lrDecay: 0.7, ...extra,
  });

  it('--validation holds out the last n images of the file: the same every epoch, never trained on', () => {
    expect(trainPart.count).toBe(800);
    expect(validation!.count).toBe(200);
    expect(validation!.images.byteOffset - data.images.byteOffset).toBe(800 * 784);
    expect(() => splitTraining(data, 900, 200)).toThrow(/--train-limit 900 reaches into the 200 validation images .*; at most 800/);
    expect(() => splitTraining(data, undefined, 1000)).toThrow(/--validation 1000 leaves no training images/);
  });

  it('records the validation error and the epoch rate every epoch', async () => {
    const r = await train(base(await engine('wasm'), { batchSize: 1 }));
    const h = r.model.training!.history;
    expect(h.map((e) => e.lr)).toEqual([0.1, 0.1 * 0.7, 0.1 * 0.7 ** 2, 0.1 * 0.7 ** 3]);
    for (const e of h) expect(e.validationError).toBeGreaterThanOrEqual(0);
    expect(h[3].validationError!).toBeLessThan(0.5);
    expect(r.model.training!.optimizer).toEqual({ momentum: 0.9, weightDecay: 1e-3, lrDecay: 0.7 });
  });

  it('keep best: the model is the epoch with the lowest validation error, bit for bit that epoch\'s parameters', async () => {
    const r = await train(base(await engine('wasm'), { keep: 'best', epochs: 6, lr: 1.5 }));
    const h = r.model.training!.history;
    const errs = h.map((e) => e.validationError!);
    const bestEpoch = errs.indexOf(Math.min(...errs)) + 1;
    expect(r.model.training!.kept).toEqual({ epoch: bestEpoch, validationError: errs[bestEpoch - 1] });
    // here the best epoch is the last: the model is then also where the run stands, and resumable
    // (an earlier best has no resume section: test/reliability-more.test.ts)
    expect(bestEpoch).toBe(6);
    expect(r.model.resume!.completedEpochs).toBe(6);
    expect(r.last.resume!.completedEpochs).toBe(6);
    const upTo = await train(base(await engine('wasm'), { epochs: bestEpoch, lr: 1.5 }));
    expect(bits(r.model.parameters).equals(bits(upTo.model.parameters))).toBe(true);
  });

  it('early stopping ends after k epochs without a lower validation error', async () => {
    const r = await train(base(await engine('wasm'), { earlyStop: 1, epochs: 30, lr: 2 }));
    const errs = r.model.training!.history.map((e) => e.validationError!);
    const n = errs.length;
    expect(n).toBeLessThan(30);
    expect(r.stoppedEarly).toEqual({ epoch: n });
    expect(errs[n - 1]).toBeGreaterThanOrEqual(Math.min(...errs.slice(0, n - 1)));
    for (let i = 1; i < n - 1; i++) expect(errs[i]).toBeLessThan(Math.min(...errs.slice(0, i))); // it went on while improving
  });

  for (const name of ['wasm', 'reference'] as const) {
    it(`${name}: interrupted and resumed with momentum, decay, validation and keep best equals the uninterrupted run, bit for bit`, async () => {
      const epochs = name === 'reference' ? 2 : 4;
      const whole = await train(base(await engine(name), { epochs, keep: 'best' }));
      const controller = new AbortController();
      let n = 0;
      const first = await train(base(await engine(name), { epochs, keep: 'best', signal: controller.signal, onProgress: (p) => {
        if (p.phase === 'train' && p.epoch === 2 && ++n === 3) controller.abort();
      } }));
      expect(first.status).toBe('interrupted');
      expect(first.last.resume!.velocity).toHaveLength(PARAM_COUNT);
      const checkpoint = parseModel(JSON.parse(serializeModel(first.last)), 'ckpt');
      const rest = await train(base(await engine(name), { epochs, keep: 'best', resumeFrom: checkpoint }));
      expect(bits(rest.last.parameters).equals(bits(whole.last.parameters))).toBe(true);
      expect(bits(rest.model.parameters).equals(bits(whole.model.parameters))).toBe(true);
      expect(rest.last.resume!.velocity).toEqual(whole.last.resume!.velocity);
    });
  }

  it('momentum and weight decay give the same parameters on 1, 2 and 3 threads', async () => {
    const out: Buffer[] = [];
    for (const t of [1, 2, 3]) out.push(bits((await train(base(await engine('wasm', t), { epochs: 2, batchSize: 10 }))).last.parameters));
    expect(out[1].equals(out[0])).toBe(true);
    expect(out[2].equals(out[0])).toBe(true);
  });

  it('momentum and weight decay in online SGD (batch 1, each image shared out to the threads): the same parameters on 1, 2 and 3 threads', async () => {
    const out: Buffer[] = [];
    for (const t of [1, 2, 3]) out.push(bits((await train(base(await engine('wasm', t), { epochs: 2, batchSize: 1, lr: 0.05 }))).last.parameters));
    expect(out[1].equals(out[0])).toBe(true);
    expect(out[2].equals(out[0])).toBe(true);
  });
});
