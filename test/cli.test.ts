/** End to end: the built bins, run as a user runs them, in a temporary folder. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR, ROOT } from './helpers/fixture.js';

const TRAIN = join(ROOT, 'bin', 'cnn-train.js');
const EVAL = join(ROOT, 'bin', 'cnn-eval.js');
const env = { ...process.env, NO_COLOR: '1', CI: 'true', npm_command: '' }; // (as a user runs it, not under npm)
const run = (bin: string, args: string[], cwd: string) => spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8' });
const tmp = () => mkdtempSync(join(tmpdir(), 'cnn-cli-'));
const params = (file: string) => JSON.stringify(JSON.parse(readFileSync(file, 'utf8')).parameters);

describe('cnn-train and cnn-eval', () => {
  it('--version prints the version of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(run(TRAIN, ['--version'], tmp()).stdout.trim()).toBe(pkg.version);
    expect(run(EVAL, ['--version'], tmp()).stdout.trim()).toBe(pkg.version);
  });

  it('gradcheck passes and prints the table of the six gradient groups', () => {
    const r = run(TRAIN, ['gradcheck', '--data', FIXTURE_DIR, '--images', '1', '--entries', '10'], tmp());
    expect(r.status, r.stderr).toBe(0);
    for (const [g, eq] of [['k1', 59], ['b1', 64], ['k2', 40], ['b2', 45], ['W', 19], ['b', 24]]) {
      expect(r.stdout).toMatch(new RegExp(`^${g}\\s+eq ${eq}\\s+\\d+\\s+\\d\\.\\d\\de-\\d+ .* pass$`, 'm'));
    }
    expect(r.stdout).toMatch(/all gradients agree/);
  });

  it('--summary prints the layer table ending in its total, 3898, then the notes', () => {
    const r = run(TRAIN, ['--summary'], tmp());
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/C1 conv 5x5.*6@24x24\s+156/);
    expect(r.stdout).toMatch(/C2 conv 5x5.*12@8x8\s+1812/);
    // the total right under the table's last row (it used to come after the notes)
    expect(r.stdout).toMatch(/\nloss .*\s+0\ntotal\s+3898\n--conv convolution/);
  });

  it('trains on the fixture, writes model.json, and cnn-eval reads it back', () => {
    const d = tmp();
    const r = run(TRAIN, ['--data', FIXTURE_DIR, '--epochs', '2', '--seed', '3'], d);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/epoch 1\/2 .*test error/);
    expect(r.stdout).toMatch(/saved model\.json {2}test error \d+\.\d\d %/);
    expect(r.stdout).not.toMatch(/\x1b\[/); // NO_COLOR: no escape codes
    expect(readdirSync(d)).toEqual(['model.json']); // the checkpoint is removed after a finished run
    const ev = run(EVAL, ['model.json', '--data', FIXTURE_DIR, '--json'], d);
    expect(ev.status, ev.stderr).toBe(0);
    const out = JSON.parse(ev.stdout);
    expect(out.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(300);
    expect(out.error + out.accuracy).toBeCloseTo(1, 12);
    const model = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    // the test error cnn-train recorded is the one cnn-eval measures
    expect(out.error).toBe(model.training.history[1].testError);
    const table = run(EVAL, ['model.json', '--data', FIXTURE_DIR], d);
    expect(table.stdout).toMatch(/true\\pred\s+0\s+1\s+2/);
    expect(table.stdout).toMatch(/test error \d+\.\d\d %/);
  });

  it('--json prints one event per line: start, epoch..., done', () => {
    const d = tmp();
    const r = run(TRAIN, ['--data', FIXTURE_DIR, '--epochs', '2', '--batch-size', '50', '--json', '--out', 'm.json'], d);
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['start', 'epoch', 'epoch', 'done']);
    expect(events[1]).toMatchObject({ epoch: 1, loss: expect.any(Number), testError: expect.any(Number), seconds: expect.any(Number), imagesPerSecond: expect.any(Number) });
    expect(events[3]).toMatchObject({ out: 'm.json', epochs: 2 });
    expect(existsSync(join(d, 'm.json'))).toBe(true);
  });

  const badArgs: [string[], RegExp][] = [
    [['--epochs', '-1'], /option '-e, --epochs <n>' argument '-1' is invalid\. expected a whole number of at least 1/],
    [['--epochs', '1.5'], /argument '1\.5' is invalid\. expected a whole number/],
    [['--lr', 'abc'], /option '--lr <alpha>' argument 'abc' is invalid\. expected a decimal number from 1\.2e-38 to 3\.4e38/],
    [['--lr', '0'], /argument '0' is invalid\. expected a decimal number from 1\.2e-38/],
    [['--lr', '1e-320'], /argument '1e-320' is invalid\. expected a decimal number from 1\.2e-38 to 3\.4e38 \(a normal float32/],
    [['--lr', '0x10'], /argument '0x10' is invalid\. expected a decimal number/],
    [['--lr', '1e39'], /argument '1e39' is invalid\. expected a decimal number from 1\.2e-38 to 3\.4e38/],
    [['--batch-size', '0'], /--batch-size <n>' argument '0' is invalid/],
    [['--seed', '-3'], /expected a whole number from 0 to 4294967295/],
    [['--engine', 'gpu'], /argument 'gpu' is invalid\. Allowed choices are wasm, reference/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['--pol', 'max'], /^cnn-train: error: unknown option '--pol' \(Did you mean --pool\?\)$/m], // its hint on the same line
    [['compare', '--pool', 'mean,x'], /^cnn-train: error: option '--pool <name,…>' argument 'mean,x' is invalid/],
    [['--data', FIXTURE_DIR, '--train-limit', '5000'], /--train-limit 5000 is larger than the 1000 examples/],
    [['--data', '/no/such/dir'], /\/no\/such\/dir: data folder not found/],
    [['--resume', 'missing.json'], /missing\.json: cannot read model file \(ENOENT/],
  ];
  for (const [args, re] of badArgs) {
    it(`rejects ${args.join(' ')} with one line and a non-zero exit`, () => {
      const d = tmp();
      const r = run(TRAIN, args, d);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).toMatch(/^cnn-train: error: /); // the parser's errors too
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(readdirSync(d)).toEqual([]); // nothing written
    });
  }

  it('stops quietly when the reader of its output goes away (| head -1)', () => {
    const d = tmp();
    expect(run(TRAIN, ['--data', FIXTURE_DIR, '--epochs', '1', '-q'], d).status).toBe(0);
    // head exits after the first line; everything cnn-eval prints after that meets a closed pipe
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${EVAL}" model.json --data "${FIXTURE_DIR}" | head -1`], { cwd: d, env, encoding: 'utf8' });
    expect(r.stdout).toMatch(/^model\.json: 300 test images/);
    expect(r.stderr).toBe(''); // no EPIPE stack trace
    expect(r.status).toBe(0);
  });

  it('cnn-eval rejects a broken model file in one line', () => {
    const d = tmp();
    writeFileSync(join(d, 'bad.json'), '{"format":"cnn-train/zhang-2016","version":1,"parameters":{}}');
    const r = run(EVAL, ['bad.json', '--data', FIXTURE_DIR], d);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('cnn-eval: error: bad.json: parameters.k1 is missing (shape 6x5x5)');
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} writes a checkpoint, exits ${code}, and --resume ends exactly where an uninterrupted run ends`, async () => {
      const d = tmp();
      const args = ['--data', FIXTURE_DIR, '--epochs', '6', '--test-limit', '0', '--seed', '5'];
      const whole = run(TRAIN, [...args, '--out', 'whole.json'], d);
      expect(whole.status, whole.stderr).toBe(0);
      // interrupt a run once its first epoch is reported
      const child = spawn(process.execPath, [TRAIN, ...args, '--out', 'cut.json'], { cwd: d, env });
      let stdout = '', stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      await new Promise<void>((resolve) =>
        child.stdout.on('data', (b) => {
          stdout += b;
          if (/epoch 1\/6/.test(stdout)) resolve();
        }),
      );
      child.kill(signal);
      expect(await exit).toBe(code);
      expect(stderr).toMatch(/checkpoint written to cut\.ckpt\.json/);
      expect(stderr).toMatch(/resume with: cnn-train --resume cut\.ckpt\.json --epochs 6/);
      expect(existsSync(join(d, 'cut.json'))).toBe(false);
      const resumed = run(TRAIN, ['--data', FIXTURE_DIR, '--test-limit', '0', '--resume', 'cut.ckpt.json', '--epochs', '6', '--out', 'cut.json'], d);
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(params(join(d, 'cut.json'))).toBe(params(join(d, 'whole.json')));
    });
  }

  it('stops a diverging run with exit code 3, naming where, and keeps the last finite parameters', () => {
    // ReLU units are unbounded: with a huge rate, the sums overflow float32 and the loss becomes NaN
    const d = tmp();
    const r = run(TRAIN, ['--data', FIXTURE_DIR, '--epochs', '2', '--activation', 'relu', '--lr', '1e20'], d);
    expect(r.status).toBe(3);
    expect(r.stderr.trim()).toMatch(/^cnn-train: error: training diverged in epoch 1 by image \d+: the loss became NaN or infinite; try a smaller --lr \(it was 100000000000000000000\)\. The last finite parameters are in model\.ckpt\.json$/);
    expect(readdirSync(d)).toEqual(['model.ckpt.json']);
    const ckpt = JSON.parse(readFileSync(join(d, 'model.ckpt.json'), 'utf8'));
    expect(ckpt.parameters.W.flat().every(Number.isFinite)).toBe(true);
    expect(ckpt.architecture.activation).toBe('relu');
  });

  it('two Ctrl-C at once (as npx delivers one): the run stops once, exits 130 and leaves only whole files', async () => {
    const d = tmp();
    const child = spawn(process.execPath, [TRAIN, '--data', FIXTURE_DIR, '--epochs', '50', '--test-limit', '0'], { cwd: d, env });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c, s) => resolve(c ?? (s === 'SIGINT' ? 130 : null))));
    await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
    child.kill('SIGINT');
    child.kill('SIGINT');
    expect(await exit).toBe(130);
    expect(readdirSync(d)).toContain('model.ckpt.json'); // the echo did not cut the checkpoint
    for (const f of readdirSync(d)) {
      expect(f).toMatch(/^model\.ckpt\.json$/); // no model.json, no temporary files
      expect(() => JSON.parse(readFileSync(join(d, f), 'utf8'))).not.toThrow();
    }
  });
});
