import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CnnError } from '../src/errors.js';
import { FORMAT, loadModel, parseModel, saveModel, serializeModel, newModel, type ModelFile } from '../src/io/model-file.js';
import { initParams } from '../src/model/init.js';
import { allArchitectures } from '../src/model/architecture.js';
import { layerTable } from '../src/model/layer-table.js';
import { PARAM_COUNT } from '../src/model/layout.js';
import { Rng } from '../src/model/rng.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'cnn-model-'));
const model = (seed = 1): ModelFile => newModel(initParams(new Rng(seed)));

describe('parameters', () => {
  it('number 3898, and the layer table of every architecture adds up to it', () => {
    expect(PARAM_COUNT).toBe(3898);
    for (const a of allArchitectures()) expect(layerTable(a).reduce((s, r) => s + r.params, 0)).toBe(3898);
  });
  it('the same seed gives the same initial parameters; another seed other ones; bounds of eqs 1-3', () => {
    const a = initParams(new Rng(42)), b = initParams(new Rng(42)), c = initParams(new Rng(43));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const max = (lo: number, hi: number) => Math.max(...Array.from(a.subarray(lo, hi), Math.abs));
    expect(max(0, 150)).toBeLessThanOrEqual(Math.sqrt(6 / (7 * 25)));
    expect(max(0, 150)).toBeGreaterThan(0.9 * Math.sqrt(6 / (7 * 25)));
    expect(max(156, 1956)).toBeLessThanOrEqual(Math.sqrt(6 / (18 * 25)));
    expect(max(1968, 3888)).toBeLessThanOrEqual(Math.sqrt(6 / 202));
    expect(max(150, 156) + max(1956, 1968) + max(3888, 3898)).toBe(0); // biases start at zero
  });
});

describe('model file', () => {
  it('round-trips exactly through JSON', () => {
    const m = model();
    const back = parseModel(JSON.parse(serializeModel(m)), 'mem');
    expect(Buffer.from(back.parameters.buffer).equals(Buffer.from(m.parameters.buffer))).toBe(true);
  });
  it('follows the contract: nested shapes and index order', () => {
    const m = model();
    const doc = JSON.parse(serializeModel(m));
    expect(doc.format).toBe('cnn-train/zhang-2016');
    expect(doc.version).toBe(1);
    const P = doc.parameters;
    expect([P.k1.length, P.k1[0].length, P.k1[0][0].length]).toEqual([6, 5, 5]);
    expect([P.k2.length, P.k2[0].length, P.k2[0][0].length, P.k2[0][0][0].length]).toEqual([6, 12, 5, 5]);
    expect([P.W.length, P.W[0].length, P.b.length, P.b1.length, P.b2.length]).toEqual([10, 192, 10, 6, 12]);
    expect(P.k1[2][3][4]).toBe(m.parameters[2 * 25 + 3 * 5 + 4]);
    expect(P.k2[5][11][0][1]).toBe(m.parameters[156 + (5 * 12 + 11) * 25 + 1]);
    expect(P.W[9][191]).toBe(m.parameters[1968 + 9 * 192 + 191]);
  });
  it('is written atomically: no temporary file is left, and a failed write keeps the old file', () => {
    const d = tmp();
    const path = join(d, 'model.json');
    saveModel(path, model(1));
    const before = readFileSync(path, 'utf8');
    expect(readdirSync(d)).toEqual(['model.json']);
    expect(() => saveModel(join(d, 'missing-folder', 'model.json'), model(2))).toThrow(CnnError);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(readdirSync(d)).toEqual(['model.json']);
  });

  const bad: [string, (doc: any) => unknown, RegExp][] = [
    ['wrong format', (d) => ({ ...d, format: 'keras' }), /"format" is "keras", expected "cnn-train\/zhang-2016"/],
    ['wrong version', (d) => ({ ...d, version: 7 }), /"version" is 7, expected 1 or 2/],
    ['version 2 without its architecture', (d) => ({ ...d, version: 2 }), /a version 2 file needs an "architecture" object/],
    ['missing parameters', (d) => ({ ...d, parameters: undefined }), /"parameters" is missing or not an object/],
    ['missing group', (d) => ({ ...d, parameters: { ...d.parameters, b2: undefined } }), /parameters\.b2 is missing \(shape 12\)/],
    ['extra key', (d) => ({ ...d, parameters: { ...d.parameters, k3: [] } }), /unexpected key parameters\.k3/],
    ['wrong shape', (d) => ({ ...d, parameters: { ...d.parameters, k1: d.parameters.k1.slice(1) } }), /parameters\.k1 is an array of 5, expected an array of 6 \(shape 6x5x5\)/],
    ['wrong inner shape', (d) => { d.parameters.W[3] = d.parameters.W[3].slice(0, 191); return d; }, /parameters\.W\[3\] is an array of 191, expected an array of 192/],
    ['string number', (d) => { d.parameters.b[4] = '0.5'; return d; }, /parameters\.b\[4\] is "0\.5", expected a finite number/],
    ['null number', (d) => { d.parameters.k2[0][1][2][3] = null; return d; }, /parameters\.k2\[0\]\[1\]\[2\]\[3\] is null, expected a finite number/],
    ['not an object', () => [1, 2], /expected a JSON object/],
  ];
  for (const [name, mutate, re] of bad) {
    it(`rejects a model with ${name}, in one line`, () => {
      const doc = mutate(JSON.parse(serializeModel(model())));
      let msg = '';
      try {
        parseModel(doc, 'm.json');
      } catch (e) {
        expect(e).toBeInstanceOf(CnnError);
        msg = (e as Error).message;
      }
      expect(msg).toMatch(re);
      expect(msg.startsWith('m.json: ')).toBe(true);
      expect(msg).not.toContain('\n');
    });
  }
  it('rejects NaN/Infinity in the file, non-JSON text and oversize files', () => {
    const d = tmp();
    const text = serializeModel(model()).replace(/("b":\[)[^,\]]+/, '$1NaN');
    writeFileSync(join(d, 'nan.json'), text);
    expect(() => loadModel(join(d, 'nan.json'))).toThrow(/nan\.json: not valid JSON/);
    writeFileSync(join(d, 'text.json'), 'hello');
    expect(() => loadModel(join(d, 'text.json'))).toThrow(/text\.json: not valid JSON/);
    writeFileSync(join(d, 'big.json'), Buffer.alloc(17 * 1024 * 1024, 32));
    expect(() => loadModel(join(d, 'big.json'))).toThrow(/big\.json: file is 17825792 bytes; a model file is about 80 kB/);
    expect(() => loadModel(join(d, 'none.json'))).toThrow(/none\.json: cannot read model file \(ENOENT/);
    expect(() => loadModel(d)).toThrow(/is a directory, expected a model JSON file/);
  });
});
