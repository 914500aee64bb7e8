/**
 * The second adversarial pass: ways to lose work that the first fixes missed (links to files not
 * there yet, a checkpoint of another run, two runs on one file, an output stream that goes away,
 * huge batches and Ctrl-C), and smaller ones. All through the real command line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { progressLine } from '../src/cli/progress-view.js';
import { FIXTURE_DIR, ROOT } from './helpers/fixture.js';

const TRAIN = join(ROOT, 'bin', 'cnn-train.js');
const EVAL = join(ROOT, 'bin', 'cnn-eval.js');
const env = { ...process.env, NO_COLOR: '1', CI: 'true', npm_command: '' };
const run = (args: string[], cwd: string, extraEnv: Record<string, string> = {}) =>
  spawnSync(process.execPath, [TRAIN, ...args], { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8' });
const tmp = () => mkdtempSync(join(tmpdir(), 'cnn-rel2-'));
const SMALL = ['--data', FIXTURE_DIR, '--train-limit', '200', '--test-limit', '50'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function refused(r: ReturnType<typeof run>, re: RegExp): void {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(re);
}

function start(args: string[], cwd: string) {
  const child = spawn(process.execPath, [TRAIN, ...args], { cwd, env });
  let stdout = '', stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  const exit = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const printed = (re: RegExp) => new Promise<void>((resolve, reject) => {
    const check = () => (re.test(stdout) ? resolve() : undefined);
    child.stdout.on('data', check);
    child.on('exit', () => reject(new Error(`exited before printing ${re}: ${stdout} ${stderr}`)));
  });
  return { child, exit, printed };
}

describe('links to files that are not there yet, and bind mounts', () => {
  it('--out through a dangling link to the checkpoint is refused (the model would be deleted as the checkpoint)', () => {
    const d = tmp();
    symlinkSync('t.json', join(d, 'a.json'));
    refused(run([...SMALL, '--out', 'a.json', '--checkpoint', 't.json'], d), /--out a\.json and --checkpoint t\.json name the same file/);
    symlinkSync('t.json', join(d, 'b.html'));
    refused(run([...SMALL, '--out', 'a.json', '--report', 'b.html'], d), /--out a\.json and --report b\.html name the same file/);
  });
  it('the same file through a bind mount is refused (needs root)', (ctx) => {
    const d = tmp();
    mkdirSync(join(d, 'small'));
    mkdirSync(join(d, 'bind'));
    if (spawnSync('mount', ['--bind', join(d, 'small'), join(d, 'bind')]).status !== 0) ctx.skip();
    try {
      refused(run([...SMALL, '--out', join(d, 'small', 'm.json'), '--checkpoint', join(d, 'bind', 'm.json')], d), /name the same file/);
    } finally {
      spawnSync('umount', [join(d, 'bind')]);
    }
  });
});

describe("another run's files are never touched", () => {
  it('a new run refuses to overwrite the checkpoint of an interrupted one, and says how to resume it', async () => {
    const d = tmp();
    const p = start(['--data', FIXTURE_DIR, '--epochs', '30', '--test-limit', '0'], d);
    await p.printed(/epoch +2\/30/);
    p.child.kill('SIGINT');
    expect((await p.exit).code).toBe(130);
    const before = readFileSync(join(d, 'model.ckpt.json'), 'utf8');
    refused(run(SMALL, d), /model\.ckpt\.json: holds the checkpoint of another run \(at epoch \d+(, image \d+)?\); resume it with --resume model\.ckpt\.json, or move it away, or give this run another --checkpoint/);
    expect(readFileSync(join(d, 'model.ckpt.json'), 'utf8')).toBe(before);
  });

  it('--resume without --out continues that model in place, not ./model.json', () => {
    const d = tmp();
    mkdirSync(join(d, 'runs'));
    expect(run([...SMALL, '--seed', '5', '-q'], d).status).toBe(0);
    const mine = readFileSync(join(d, 'model.json'), 'utf8');
    expect(run([...SMALL, '--seed', '9', '-q', '--out', 'runs/b.json'], d).status).toBe(0);
    const r = run(['--resume', 'runs/b.json', '--epochs', '2', '-q'], d);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/saved runs\/b\.json/);
    expect(readFileSync(join(d, 'model.json'), 'utf8')).toBe(mine);
    expect(JSON.parse(readFileSync(join(d, 'runs', 'b.json'), 'utf8')).training.history).toHaveLength(2);
  });

  it('a checkpoint given with --checkpoint is where the resumed run goes on writing, and its model where it was', async () => {
    const d = tmp();
    mkdirSync(join(d, 'ck'));
    const p = start(['--data', FIXTURE_DIR, '--epochs', '4', '--test-limit', '0', '--checkpoint', 'ck/c.json', '--out', 'm.json'], d);
    await p.printed(/epoch +1\/4/);
    p.child.kill('SIGINT');
    const e = await p.exit;
    expect(e.code).toBe(130);
    const hint = e.stderr.match(/^resume with: (.*)$/m)![1];
    const r = run(hint.split(' ').slice(1), d);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(d, 'm.json'))).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['ck', 'm.json']);
  });

  it('a second run on the same --out is refused while the first runs', async () => {
    const d = tmp();
    const p = start(['--train-limit', '20000', '--test-limit', '100', '--epochs', '3', '--out', 'same.json'], d);
    await p.printed(/training on/);
    refused(run([...SMALL, '--out', 'same.json'], d), /same\.json: another cnn-train \(process \d+\) is writing it/);
    p.child.kill('SIGINT');
    await p.exit;
  });

  it('notes that quote the model format, or an HTML page that mentions cnn-train, are not overwritten', () => {
    const d = tmp();
    writeFileSync(join(d, 'notes.md'), '# My notes\nThe model file says "format": "cnn-train/zhang-2016".\n');
    refused(run([...SMALL, '--out', 'notes.md'], d), /--out notes\.md: the file exists and is not a cnn-train model file/);
    writeFileSync(join(d, 'thesis.html'), '<!DOCTYPE html><title>Compared cnn-train with PyTorch</title>');
    refused(run([...SMALL, '--out', 'm.json', '--report', 'thesis.html'], d), /--report thesis\.html: the file exists and is not a cnn-train report/);
  });

  it('a replaced model keeps its permissions', () => {
    const d = tmp();
    expect(run([...SMALL, '-q'], d).status).toBe(0);
    chmodSync(join(d, 'model.json'), 0o600);
    expect(run([...SMALL, '-q', '--seed', '2'], d).status).toBe(0);
    expect(statSync(join(d, 'model.json')).mode & 0o777).toBe(0o600);
  });
});

describe('the output goes away', () => {
  it('| head: the run stops, keeps its checkpoint and exits non-zero (141)', () => {
    const d = tmp();
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${TRAIN}" --data "${FIXTURE_DIR}" --json --epochs 6 --test-limit 0 --out p.json | head -2; exit \${PIPESTATUS[0]}`], { cwd: d, env, encoding: 'utf8' });
    expect(r.status).toBe(141);
    expect(existsSync(join(d, 'p.ckpt.json'))).toBe(true);
    expect(existsSync(join(d, 'p.json'))).toBe(false);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
  it('stdout on a full device: no stack trace, the checkpoint is kept', () => {
    const d = tmp();
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${TRAIN}" --data "${FIXTURE_DIR}" --epochs 3 --test-limit 0 --out f.json > /dev/full`], { cwd: d, env, encoding: 'utf8' });
    expect(r.status).toBe(141);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(d, 'f.ckpt.json'))).toBe(true);
  });
});

describe('huge batches and Ctrl-C', () => {
  it('with a 20 000-image batch on the float64 engine, Ctrl-C is heard and a second one quits at once', async () => {
    const d = tmp();
    const p = start(['--engine', 'reference', '--batch-size', '20000', '--train-limit', '20000', '--test-limit', '100', '--json'], d);
    await p.printed(/"event":"start"/);
    await sleep(1000);
    p.child.kill('SIGINT');
    await sleep(700);
    const t0 = performance.now();
    p.child.kill('SIGINT');
    const e = await p.exit;
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(e.code).toBe(130);
  });
});

describe('smaller cases', () => {
  it('options before a subcommand are refused, not ignored', () => {
    refused(run(['--data', '/nonexistent', '--seed', '3', 'gradcheck', '--images', '1'], tmp()), /--(data|seed) comes before `gradcheck`, where it would be ignored/);
  });
  it('gradcheck --images has a bound', () => {
    refused(run(['gradcheck', '--images', '300000000'], tmp()), /argument '300000000' is invalid\. expected a whole number from 1 to 100/);
  });
  it('cnn-eval --test-limit 0 is refused (there would be nothing to evaluate)', () => {
    const d = tmp();
    expect(run([...SMALL, '-q'], d).status).toBe(0);
    const r = spawnSync(process.execPath, [EVAL, 'model.json', '--data', FIXTURE_DIR, '--test-limit', '0'], { cwd: d, env, encoding: 'utf8' });
    refused(r, /--test-limit 0 leaves nothing to evaluate/);
  });
  it('a model nested thousands of levels deep is refused when it is read, before any training', () => {
    const d = tmp();
    expect(run([...SMALL, '-q'], d).status).toBe(0);
    const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    m.training.history[0].extra = '__DEEP__';
    writeFileSync(join(d, 'deep.json'), JSON.stringify(m).replace('"__DEEP__"', '['.repeat(20000) + ']'.repeat(20000)));
    refused(run(['--resume', 'deep.json', '--epochs', '2', '--out', 'x.json'], d), /deep\.json: JSON nested more than 640 levels deep; a model file needs at most 5/);
  });
  it('a hand-edited learning rate outside float32 is refused on resume', () => {
    const d = tmp();
    expect(run([...SMALL, '-q'], d).status).toBe(0);
    const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    m.training.lr = 1e-320;
    writeFileSync(join(d, 'm.json'), JSON.stringify(m));
    refused(run(['--resume', 'm.json', '--epochs', '2'], d), /has a "resume" section but training\.lr is not a normal float32/);
  });
  it('a file name too long for the file system (with the temporary suffix) is refused before training', () => {
    const d = tmp();
    refused(run([...SMALL, '--out', 'm'.repeat(236)], d), /cannot write there \(ENAMETOOLONG/);
    refused(run([...SMALL, '--out', 'x.json/'], d), /--out x\.json\/: ends with a slash/);
  });
  it('a path with a newline is shown escaped: the error stays one line', () => {
    refused(run([...SMALL, '--out', 'a\nb/m.json'], tmp()), /a\\nb\/m\.json: cannot write there/);
  });
  it('under npx, the printed resume command starts with npx', async () => {
    const d = tmp();
    const child = spawn(process.execPath, [TRAIN, '--data', FIXTURE_DIR, '--epochs', '20', '--test-limit', '0'], { cwd: d, env: { ...env, npm_command: 'exec' } });
    let out = '', errs = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (errs += b));
    await new Promise<void>((resolve) => child.stdout.on('data', () => (/epoch +1\/20/.test(out) ? resolve() : undefined)));
    child.kill('SIGINT');
    await new Promise((r) => child.on('exit', r));
    expect(errs).toMatch(/^resume with: npx cnn-train --resume model\.ckpt\.json --epochs 20$/m);
  });
  it('the progress line leaves room for the "^C" a terminal echoes, at every width', () => {
    for (let w = 20; w <= 140; w++) {
      for (const phase of ['train', 'test'] as const) {
        const line = progressLine({ phase, epoch: 12, epochs: 100, done: 12345, total: 60000, loss: 0.1234, imagesPerSecond: 15000 }, w);
        expect(line.length, `${w}: ${line}`).toBeLessThanOrEqual(w - 4);
        if (/ETA/.test(line)) expect(line).toMatch(/ETA (\d+s|\d+m\d\ds|\d+h\d\dm|\?)$/); // never cut inside the ETA
      }
    }
  });
});
