/**
 * The architecture options through the real command line and the model file: every choice
 * trains, is saved as version 2 (the paper's stays version 1), is evaluated, predicted from
 * --image, summarised and gradient-checked; bad combinations and bad files are one-line errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { parseModelText, serializeModel, newModel } from '../src/io/model-file.js';
import { initParams } from '../src/model/init.js';
import { Rng } from '../src/model/rng.js';
import { FIXTURE_DIR, fixtureTest, ROOT } from './helpers/fixture.js';
import { expectOneLineError } from './helpers/one-line-error.js';

const TRAIN = join(ROOT, 'bin', 'cnn-train.js');
const EVAL = join(ROOT, 'bin', 'cnn-eval.js');
const env = { ...process.env, NO_COLOR: '1', CI: 'true', npm_command: '' }; // (as a user runs it, not under npm)
const run = (bin: string, args: string[], cwd: string) => spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8' });
const tmp = () => mkdtempSync(join(tmpdir(), 'cnn-arch-'));
const FIX = ['--data', FIXTURE_DIR];
const ALL = ['--conv', 'correlation', '--pool', 'max', '--activation', 'relu', '--output', 'softmax', '--loss', 'cross-entropy'];

describe('training with each choice, and all five together', () => {
  const runs: [string, string[]][] = [
    ['--conv correlation', ['--conv', 'correlation']],
    ['--pool max', ['--pool', 'max']],
    ['--activation relu', ['--activation', 'relu', '--lr', '0.1']],
    ['--activation tanh', ['--activation', 'tanh', '--lr', '0.3']],
    ['--output softmax', ['--output', 'softmax']],
    ['--output softmax --loss cross-entropy', ['--output', 'softmax', '--loss', 'cross-entropy', '--lr', '0.1']],
    ['all five', [...ALL, '--lr', '0.05']],
  ];
  for (const [label, args] of runs) {
    it(`${label}: trains, saves version 2 with its architecture, cnn-eval agrees with the recorded test error`, () => {
      const d = tmp();
      const r = run(TRAIN, [...FIX, '--epochs', '3', '--json', ...args], d);
      expect(r.status, r.stderr).toBe(0);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      const arch = events[0].architecture;
      const doc = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
      expect(doc.version).toBe(2);
      expect(doc.architecture).toEqual(arch);
      expect(Object.keys(doc.architecture).sort()).toEqual(['activation', 'conv', 'loss', 'output', 'pool']);
      for (let i = 0; i < args.length; i += 2) if (args[i] !== '--lr') expect(doc.architecture[args[i].slice(2)]).toBe(args[i + 1]);
      const last = events.filter((e) => e.event === 'epoch').pop();
      expect(last.testError).toBeLessThan(0.6); // learning (chance is 0.9)
      const ev = run(EVAL, ['model.json', ...FIX, '--json'], d);
      expect(ev.status, ev.stderr).toBe(0);
      const out = JSON.parse(ev.stdout);
      expect(out.architecture).toEqual(arch);
      expect(out.error).toBe(last.testError);
    });
  }

  it("the paper's network stays version 1 with no architecture key", () => {
    const d = tmp();
    expect(run(TRAIN, [...FIX, '--train-limit', '100', '--test-limit', '0', '-q'], d).status).toBe(0);
    const doc = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    expect(doc.version).toBe(1);
    expect('architecture' in doc).toBe(false);
    expect(Object.keys(doc)).toEqual(['format', 'version', 'parameters', 'training', 'resume']);
  });
});

describe('refusals', () => {
  it('--loss cross-entropy without --output softmax names both options', () => {
    expectOneLineError(run(TRAIN, [...FIX, '--loss', 'cross-entropy'], tmp()), /--loss cross-entropy needs --output softmax/);
  });
  it('an unknown value lists the choices', () => {
    expectOneLineError(run(TRAIN, [...FIX, '--pool', 'median'], tmp()), /option '--pool <name>' argument 'median' is invalid\. Allowed choices are mean, max/);
  });
  it('--resume with another architecture names the option', () => {
    const d = tmp();
    expect(run(TRAIN, [...FIX, '--train-limit', '100', '--test-limit', '0', '--pool', 'max', '-q'], d).status).toBe(0);
    expectOneLineError(run(TRAIN, [...FIX, '--resume', 'model.json', '--epochs', '2', '--pool', 'mean'], d), /--pool mean: model\.json was trained with --pool max; an architecture cannot change during a run/);
    // not given: taken from the file
    const ok = run(TRAIN, [...FIX, '--resume', 'model.json', '--epochs', '2', '--json'], d);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout.split('\n')[0]).architecture.pool).toBe('max');
  });
  const file = (f: (m: Record<string, unknown>) => unknown) => {
    const d = tmp();
    const m = JSON.parse(serializeModel(newModel(initParams(new Rng(1)))));
    writeFileSync(join(d, 'm.json'), JSON.stringify(f(m)));
    return d;
  };
  const bad: [string, (m: Record<string, unknown>) => unknown, RegExp][] = [
    ['version 2 without architecture', (m) => ({ ...m, version: 2 }), /m\.json: a version 2 file needs an "architecture" object/],
    ['an unknown key', (m) => ({ ...m, version: 2, architecture: { conv: 'convolution', pool: 'mean', activation: 'sigmoid', output: 'sigmoid', loss: 'mse', dropout: 0.5 } }), /m\.json: architecture has an unknown key "dropout"/],
    ['an unknown value', (m) => ({ ...m, version: 2, architecture: { conv: 'convolution', pool: 'mean', activation: 'swish', output: 'sigmoid', loss: 'mse' } }), /m\.json: architecture\.activation is "swish", expected one of sigmoid, relu, tanh/],
    ['a missing key', (m) => ({ ...m, version: 2, architecture: { conv: 'convolution', pool: 'mean', activation: 'relu', output: 'sigmoid' } }), /m\.json: architecture\.loss is missing, expected one of mse, cross-entropy/],
    ['cross-entropy with a sigmoid output', (m) => ({ ...m, version: 2, architecture: { conv: 'convolution', pool: 'mean', activation: 'relu', output: 'sigmoid', loss: 'cross-entropy' } }), /: architecture\.loss is "cross-entropy" but its output is "sigmoid"; cross-entropy needs "softmax"$/m],
    ['version 1 with an architecture', (m) => ({ ...m, architecture: { conv: 'correlation' } }), /a version 1 file is the paper's network and has no "architecture"; with one, "version" must be 2/],
    ['version 3', (m) => ({ ...m, version: 3 }), /"version" is 3, expected 1 or 2/],
  ];
  for (const [label, f, re] of bad) {
    it(`a model file with ${label}: one line`, () => expectOneLineError(run(EVAL, ['m.json', ...FIX], file(f)), re));
  }
  it('version 2 with the paper\'s architecture reads as the paper\'s network', () => {
    const m = JSON.parse(serializeModel(newModel(initParams(new Rng(1)))));
    const doc = { ...m, version: 2, architecture: { conv: 'convolution', pool: 'mean', activation: 'sigmoid', output: 'sigmoid', loss: 'mse' } };
    expect(parseModelText(JSON.stringify(doc), 'm').architecture).toEqual({ conv: 'convolution', pool: 'mean', activation: 'sigmoid', output: 'sigmoid', loss: 'mse' });
  });
});

describe('gradcheck, --summary and --image with the options', () => {
  it('gradcheck --activation relu --pool max skips kinks and says how many', () => {
    const r = run(TRAIN, ['gradcheck', ...FIX, '--activation', 'relu', '--pool', 'max', '--images', '2', '--entries', '20'], tmp());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/network: convolution, max pooling, relu, sigmoid output \+ mse;/);
    expect(r.stdout).toMatch(/h = 1e-4/);
    expect(r.stdout).toMatch(/^group\s+equation\s+checked\s+skipped/m);
    expect(r.stdout).toMatch(/all gradients agree .*; \d+ entries skipped at kinks/);
  });
  it('gradcheck --json with all five options', () => {
    const r = run(TRAIN, ['gradcheck', ...FIX, ...ALL, '--json', '--images', '1', '--entries', '8'], tmp());
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.architecture).toEqual({ conv: 'correlation', pool: 'max', activation: 'relu', output: 'softmax', loss: 'cross-entropy' });
    expect(j.pass).toBe(true);
  });
  it('--summary shows the chosen layers and what each choice computes', () => {
    const r = run(TRAIN, ['--summary', ...ALL], tmp());
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/C1 correlation 5x5, relu\s+6@24x24\s+156/);
    expect(r.stdout).toMatch(/S1 max pool 2x2\s+6@12x12/);
    expect(r.stdout).toMatch(/FC 10x192, softmax\s+10\s+1930/);
    expect(r.stdout).toMatch(/--loss cross-entropy: L = −Σ_i y_i log ŷ_i/);
    expect(r.stdout).toMatch(/initial weights are drawn as in the paper \(eqs 1-3/);
    expect(r.stdout).toMatch(/\ntotal\s+3898\n--conv correlation/);
    const paper = run(TRAIN, ['--summary'], tmp());
    expect(paper.stdout).toMatch(/C1 conv 5x5, sigmoid \(eqs 4-5\)\s+6@24x24\s+156/);
  });
  it('--help says that initialisation is eqs 1-3 whatever the choice', () => {
    expect(run(TRAIN, ['--help'], tmp()).stdout).toMatch(/Whatever the architecture, the initial weights are drawn as in the paper \(eqs 1-3/);
  });
  it('cnn-eval --image runs a version 2 model and names its output layer', () => {
    const d = tmp();
    expect(run(TRAIN, [...FIX, '--epochs', '3', '--test-limit', '0', ...ALL, '--lr', '0.05', '-q'], d).status).toBe(0);
    const t = fixtureTest();
    const png = new PNG({ width: 28, height: 28 });
    for (let i = 0; i < 784; i++) png.data.set([t.images[i], t.images[i], t.images[i], 255], 4 * i);
    writeFileSync(join(d, 'digit.png'), PNG.sync.write(png));
    const r = run(EVAL, ['model.json', '--image', 'digit.png', '--json'], d);
    expect(r.status, r.stderr).toBe(0);
    const [row] = JSON.parse(r.stdout);
    expect(row.outputs.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5); // a softmax
    const text = run(EVAL, ['model.json', '--image', 'digit.png'], d);
    expect(text.stdout).toMatch(/outputs ŷ \(softmax\):/);
  });
});
