/**
 * `cnn-train export <model> --onnx <file>` through the real command line: the file it writes runs
 * in onnxruntime-web with the engine's predictions; bad input is one line, the target is checked
 * before the model is read, and nothing but cnn-train's own ONNX files is overwritten.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/create-engine.js';
import { loadModel } from '../src/io/model-file.js';
import { FIXTURE_DIR, fixtureTest, ROOT } from './helpers/fixture.js';
import { compareOutputs, runOnnx } from './helpers/onnx-runtime.js';
import { expectOneLineError } from './helpers/one-line-error.js';

const TRAIN = join(ROOT, 'bin', 'cnn-train.js');
const env = { ...process.env, NO_COLOR: '1', CI: 'true' };
const run = (args: string[], cwd: string) => spawnSync(process.execPath, [TRAIN, ...args], { cwd, env, encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'cnn-export-'));

beforeAll(() => {
  const t = run(['--data', FIXTURE_DIR, '--epochs', '2', '--test-limit', '0', '--pool', 'max', '--activation', 'tanh', '--output', 'softmax', '--lr', '0.1', '-q'], dir);
  expect(t.status, t.stderr).toBe(0);
});

describe('cnn-train export', () => {
  it('writes an ONNX file that onnxruntime-web runs with the engine\'s predictions', async () => {
    const r = run(['export', 'model.json', '--onnx', 'model.onnx'], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote model\.onnx {2}\(ONNX opset 13, \d+ bytes\): convolution, max pooling, tanh, softmax output \+ mse$/m);
    expect(r.stdout).toMatch(/input "image": float32 \[N, 1, 28, 28\], pixels x\/255 in \[0, 1\]; output "yhat": float32 \[N, 10\], softmax outputs/);
    const model = loadModel(join(dir, 'model.json'));
    const test = fixtureTest();
    const engine = await createEngine('wasm', 1, model.architecture);
    const predictions = new Uint8Array(test.count), outputs = new Float64Array(test.count * 10);
    try {
      engine.setParams(model.parameters);
      engine.predict(test, 0, test.count, predictions, outputs);
    } finally {
      await engine.close();
    }
    const c = compareOutputs(await runOnnx(join(dir, 'model.onnx'), test.images, test.count), predictions, outputs);
    expect(c.agree).toBe(test.count);
    expect(c.maxDiff).toBeLessThan(1e-5);
  });

  it('--json prints one object; an export replaces its own earlier file', () => {
    const r = run(['export', 'model.json', '--onnx', 'model.onnx', '--json'], dir);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ model: 'model.json', onnx: 'model.onnx', opset: 13, input: 'image', output: 'yhat', architecture: { pool: 'max', activation: 'tanh', output: 'softmax' } });
    expect(j.bytes).toBe(readFileSync(join(dir, 'model.onnx')).length);
  });

  it('is listed in --help', () => {
    expect(run(['--help'], dir).stdout).toMatch(/export \[options\] <model>\s+write a trained model as an ONNX file/);
  });
});

describe('refusals, one line each, before any work', () => {
  it('without --onnx', () => expectOneLineError(run(['export', 'model.json'], dir), /required option '--onnx <file>' not specified/));
  it('a model file that does not exist', () => expectOneLineError(run(['export', 'missing.json', '--onnx', 'x.onnx'], dir), /missing\.json: cannot read model file \(ENOENT/));
  it('a file that is not a model', () => {
    writeFileSync(join(dir, 'bad.json'), '{"format": "cnn-train/zhang-2016", "version": 1, "parameters": {}}');
    expectOneLineError(run(['export', 'bad.json', '--onnx', 'bad.onnx'], dir), /bad\.json: parameters\.k1 is missing \(shape 6x5x5\)/);
    expect(existsSync(join(dir, 'bad.onnx'))).toBe(false);
  });
  it('--onnx naming the model file', () => {
    expectOneLineError(run(['export', 'model.json', '--onnx', './model.json'], dir), /--onnx \.\/model\.json names the model file model\.json/);
    expect(loadModel(join(dir, 'model.json')).architecture.pool).toBe('max');
  });
  it('--onnx naming a file that is not cnn-train\'s ONNX: not overwritten, and checked before the model is read', () => {
    writeFileSync(join(dir, 'notes.onnx'), 'my notes');
    expectOneLineError(run(['export', 'missing.json', '--onnx', 'notes.onnx'], dir), /--onnx notes\.onnx: the file exists and is not an ONNX file written by cnn-train; not overwriting it/);
    expect(readFileSync(join(dir, 'notes.onnx'), 'utf8')).toBe('my notes');
  });
  it('--onnx naming a folder, or a folder that does not exist', () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    expectOneLineError(run(['export', 'model.json', '--onnx', 'sub'], dir), /--onnx sub: is a folder; expected a file name, such as sub\/model\.onnx/);
    expectOneLineError(run(['export', 'model.json', '--onnx', 'nowhere/m.onnx'], dir), /nowhere\/m\.onnx: cannot write there \(the folder .*nowhere does not exist\)/);
  });
});
