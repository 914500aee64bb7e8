import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine.js';
import { parseModel, serializeModel } from '../src/io/model-file.js';
import { train, type TrainOptions } from '../src/train/train.js';
import { engineKeeper } from './helpers/engines.js';
import { fixtureTest, fixtureTrain } from './helpers/fixture.js';

const data = fixtureTrain();
const test = fixtureTest();
const engine = engineKeeper();
const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const base = (e: Engine, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  epochs: 3, batchSize: 10, lr: 1, seed: 11, train: data, engine: e, progressEvery: 100, ...extra,
});

describe('training loop', () => {
  it('the same seed gives the same parameters, bit for bit; another seed does not', async () => {
    const a = await train(base(await engine('wasm')));
    const b = await train(base(await engine('wasm')));
    const c = await train(base(await engine('wasm'), { seed: 12 }));
    expect(bits(a.model.parameters).equals(bits(b.model.parameters))).toBe(true);
    expect(bits(a.model.parameters).equals(bits(c.model.parameters))).toBe(false);
  });

  it('learns: on the 1 000-image fixture, test error falls below 30 % in 3 epochs (chance is 90 %)', async () => {
    const r = await train(base(await engine('wasm'), { test, batchSize: 1 }));
    const h = r.model.training!.history;
    expect(h).toHaveLength(3);
    expect(h[2].testError!).toBeLessThan(0.3);
    expect(h[2].loss).toBeLessThan(h[0].loss);
    expect(h[0].curve).toHaveLength(1); // one learning-curve point per 1 000 images
  });

  for (const [name, batch] of [['wasm', 1], ['wasm', 10], ['reference', 10]] as const) {
    it(`an interrupted and resumed run ends where an uninterrupted one does (${name}, batch ${batch})`, async () => {
      const epochs = name === 'reference' ? 2 : 3; // the float64 loops are slow
      const whole = await train(base(await engine(name), { batchSize: batch, epochs }));
      const controller = new AbortController();
      let reports = 0;
      let at = 0;
      const first = await train(
        base(await engine(name), {
          batchSize: batch,
          epochs,
          signal: controller.signal,
          onProgress: (p) => {
            if (p.phase === 'train' && p.epoch === 2 && ++reports === 4) {
              at = p.done;
              controller.abort();
            }
          },
        }),
      );
      expect(first.status).toBe('interrupted');
      expect(at % batch).toBe(0);
      expect(at).toBeGreaterThan(0);
      expect(first.model.resume).toMatchObject({ completedEpochs: 1, position: at });
      // through the file format, as --resume does
      const checkpoint = parseModel(JSON.parse(serializeModel(first.model)), 'ckpt');
      const rest = await train(base(await engine(name), { batchSize: batch, epochs, resumeFrom: checkpoint }));
      expect(rest.status).toBe('completed');
      expect(bits(rest.model.parameters).equals(bits(whole.model.parameters))).toBe(true);
      const h1 = whole.model.training!.history, h2 = rest.model.training!.history;
      expect(h2.map((e) => e.loss)).toEqual(h1.map((e) => e.loss));
      expect(h2.map((e) => e.curve)).toEqual(h1.map((e) => e.curve));
    });
  }

  it('a finished model can be trained further and matches a longer run', async () => {
    const two = await train(base(await engine('wasm'), { epochs: 2 }));
    const more = await train(base(await engine('wasm'), { epochs: 3, resumeFrom: parseModel(JSON.parse(serializeModel(two.model)), 'm') }));
    const three = await train(base(await engine('wasm'), { epochs: 3 }));
    expect(bits(more.model.parameters).equals(bits(three.model.parameters))).toBe(true);
  });

  it('stops on divergence with the last finite parameters', async () => {
    // lr/B overflows float32 to Infinity on the first update: NaN parameters
    const r = await train(base(await engine('wasm'), { lr: 1e300, epochs: 1 }));
    expect(r.status).toBe('diverged');
    expect(r.divergence).toMatchObject({ epoch: 1 });
    expect(r.model.parameters.every(Number.isFinite)).toBe(true);
  });
});
