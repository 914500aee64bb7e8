/**
 * Never lose the user's model, never hang: output paths that collide or are folders, resume as
 * printed, resume on other data, subcommand options, signals. All through the real command line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR, ROOT } from './helpers/fixture.js';

const TRAIN = join(ROOT, 'bin', 'cnn-train.js');
const EVAL = join(ROOT, 'bin', 'cnn-eval.js');
const env = { ...process.env, NO_COLOR: '1', CI: 'true', npm_command: '' }; // (as a user runs it, not under npm)
const run = (bin: string, args: string[], cwd: string) => spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8' });
const tmp = () => mkdtempSync(join(tmpdir(), 'cnn-rel-'));
const params = (file: string) => JSON.stringify(JSON.parse(readFileSync(file, 'utf8')).parameters);
const FIX = ['--data', FIXTURE_DIR];
/** A short run on the fixture (a few hundred images). */
const SMALL = [...FIX, '--train-limit', '200', '--test-limit', '50'];

/** A trained model file in folder d (named name). */
function trained(d: string, name: string, extra: string[] = []): string {
  const r = run(TRAIN, [...SMALL, '--out', name, '-q', ...extra], d);
  expect(r.status, r.stderr).toBe(0);
  return join(d, name);
}

/** Start cnn-train; resolves once `ready` matches what it printed; returns the exit. */
function start(args: string[], cwd: string, ready: RegExp) {
  const child = spawn(process.execPath, [TRAIN, ...args], { cwd, env });
  let stdout = '', stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const seen = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (ready.test(stdout)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before printing ${ready}: ${stdout}${stderr}`)));
  });
  return { child, exit, seen };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function expectRefused(r: ReturnType<typeof run>, re: RegExp): void {
  expect(r.status, r.stdout).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(re);
  expect(r.stdout).not.toMatch(/epoch 1/); // refused before any training
}

describe('output paths that collide are refused before anything runs', () => {
  it('--report model.json (the default --out) is refused; nothing is written', () => {
    const d = tmp();
    expectRefused(run(TRAIN, [...SMALL, '--report', 'model.json'], d), /--out model\.json and --report model\.json name the same file/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('--out m.json --checkpoint m.json is refused', () => {
    const d = tmp();
    expectRefused(run(TRAIN, [...SMALL, '--out', 'm.json', '--checkpoint', 'm.json'], d), /--out m\.json and --checkpoint m\.json name the same file/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('./m.json and m.json are the same file; so is a symbolic link to it', () => {
    const d = tmp();
    expectRefused(run(TRAIN, [...SMALL, '--out', './m.json', '--report', 'm.json'], d), /--out \.\/m\.json and --report m\.json name the same file/);
    trained(d, 'm.json');
    symlinkSync('m.json', join(d, 'link.json'));
    expectRefused(run(TRAIN, [...SMALL, '--out', 'link.json', '--checkpoint', join(d, 'm.json')], d), /--out link\.json and --checkpoint .*m\.json name the same file/);
    expectRefused(run(TRAIN, [...SMALL, '--out', 'x.json', '--checkpoint', 'sub/../m.json', '--report', 'm.json'], d), /name the same file/);
  });

  it('--resume k.json --checkpoint k.json --out k2.json is refused and k.json stays as it was', () => {
    const d = tmp();
    const k = trained(d, 'k.json');
    const before = readFileSync(k, 'utf8');
    expectRefused(run(TRAIN, [...SMALL, '--resume', 'k.json', '--checkpoint', 'k.json', '--out', 'k2.json', '--epochs', '2'], d), /--checkpoint k\.json and --resume k\.json name the same file/);
    expect(readFileSync(k, 'utf8')).toBe(before);
    expect(readdirSync(d).sort()).toEqual(['k.json']);
  });

  it('--resume m.json --out m.json is meant: the model is continued in place', () => {
    const d = tmp();
    trained(d, 'm.json');
    const r = run(TRAIN, [...SMALL, '--resume', 'm.json', '--out', 'm.json', '--epochs', '2', '-q'], d);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(d, 'm.json'), 'utf8')).training.history).toHaveLength(2);
    expect(readdirSync(d)).toEqual(['m.json']);
  });

  it('an existing file that is not a model (or not a report) is never overwritten', () => {
    const d = tmp();
    writeFileSync(join(d, 'notes.txt'), 'my notes');
    expectRefused(run(TRAIN, [...SMALL, '--out', 'notes.txt'], d), /--out notes\.txt: the file exists and is not a cnn-train model file; not overwriting it/);
    const m = trained(d, 'old.json');
    const before = readFileSync(m, 'utf8');
    expectRefused(run(TRAIN, [...SMALL, '--out', 'new.json', '--report', 'old.json'], d), /--report old\.json: the file exists and is not a cnn-train report/);
    const ev = run(EVAL, ['old.json', ...FIX, '--report', 'old.json'], d);
    expect(ev.status).toBe(1);
    expect(ev.stderr.trim()).toMatch(/--report old\.json names the model file old\.json/);
    expect(readFileSync(join(d, 'notes.txt'), 'utf8')).toBe('my notes');
    expect(readFileSync(m, 'utf8')).toBe(before);
  });
});

describe('folders and empty names are refused before training', () => {
  for (const opt of ['--out', '--report', '--checkpoint']) {
    it(`${opt} naming an existing folder`, () => {
      const d = tmp();
      mkdirSync(join(d, 'models'));
      const t0 = performance.now();
      expectRefused(run(TRAIN, [...FIX, opt, 'models'], d), new RegExp(`${opt}( \\(default\\))? models: is a folder; expected a file name, such as models/`));
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(readdirSync(join(d, 'models'))).toEqual([]);
    });
    it(`${opt} ''`, () => {
      const d = tmp();
      expectRefused(run(TRAIN, [...FIX, opt, ''], d), new RegExp(`${opt}: expected a file name, got an empty string`));
      expect(readdirSync(d)).toEqual([]);
    });
  }

  it('when the final write fails, the message says where the trained model is', async () => {
    const d = tmp();
    mkdirSync(join(d, 'out'));
    const p = start([...SMALL, '--epochs', '3', '--out', 'out/m.json', '--checkpoint', 'm.ckpt.json'], d, /epoch 1\/3/);
    await p.seen;
    rmSync(join(d, 'out'), { recursive: true }); // the folder of --out disappears during training
    const r = await p.exit;
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^cnn-train: error: out\/m\.json: cannot write file \(ENOENT.*; the trained model is safe in the checkpoint m\.ckpt\.json \(copy it, or resume from it\)$/);
    const ckpt = JSON.parse(readFileSync(join(d, 'm.ckpt.json'), 'utf8'));
    expect(ckpt.resume.completedEpochs).toBe(3);
  });
});

describe('resume', () => {
  it('the printed "resume with:" command works as printed (the checkpoint remembers the data options)', async () => {
    const d = tmp();
    const args = [...FIX, '--train-limit', '500', '--test-limit', '100', '--epochs', '3', '--seed', '4'];
    const whole = run(TRAIN, [...args, '--out', 'whole.json', '-q'], d);
    expect(whole.status, whole.stderr).toBe(0);
    const p = start([...args, '--out', 'cut.json'], d, /epoch 1\/3/);
    await p.seen;
    p.child.kill('SIGINT');
    const r = await p.exit;
    expect(r.code).toBe(130);
    const hint = r.stderr.match(/^resume with: (.*)$/m)![1];
    expect(hint).toBe('cnn-train --resume cut.ckpt.json --epochs 3 --out cut.json');
    const resumed = run(TRAIN, hint.split(' ').slice(1), d); // exactly as printed
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/training on 500 images, testing on 100/);
    expect(params(join(d, 'cut.json'))).toBe(params(join(d, 'whole.json')));
    // the checkpoint it resumed from was the input: kept
    expect(existsSync(join(d, 'cut.ckpt.json'))).toBe(true);
  });

  it('refuses other training data of the same size, naming both sources', () => {
    const d = tmp();
    trained(d, 'm.json', ['--train-limit', '1000']);
    // the fixture with one label changed: same count, other data
    const other = join(d, 'other');
    mkdirSync(other);
    for (const f of readdirSync(FIXTURE_DIR)) copyFileSync(join(FIXTURE_DIR, f), join(other, f));
    const labels = gunzipSync(readFileSync(join(FIXTURE_DIR, 'train-labels-idx1-ubyte.gz')));
    labels[8 + 500] = (labels[8 + 500] + 1) % 10;
    writeFileSync(join(other, 'train-labels-idx1-ubyte.gz'), gzipSync(labels));
    const r = run(TRAIN, ['--resume', 'm.json', '--epochs', '2', '--data', other, '--train-limit', '1000'], d);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /cannot resume: the run was trained on .*mnist-mini\/train-images-idx3-ubyte\.gz \(sha256:[0-9a-f]{12}…\) but the training data now is .*other\/train-images-idx3-ubyte\.gz \(sha256:[0-9a-f]{12}…\): other images or labels of the same count/,
    );
    // the same data resumes
    expect(run(TRAIN, ['--resume', 'm.json', '--epochs', '2', '-q'], d).status).toBe(0);
  });
});

describe('options of a subcommand take effect (positional options)', () => {
  const gc = (args: string[]) => run(TRAIN, ['gradcheck', ...args], tmp());
  it('--json', () => {
    const r = gc([...FIX, '--json', '--images', '1', '--entries', '3']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ pass: true, seed: 1 });
  });
  it('--seed', () => {
    const a = JSON.parse(gc([...FIX, '--json', '--images', '1', '--entries', '3', '--seed', '3']).stdout);
    const b = JSON.parse(gc([...FIX, '--json', '--images', '1', '--entries', '3', '--seed', '1']).stdout);
    expect(a.seed).toBe(3);
    expect(a.images).not.toEqual(b.images);
  });
  it('--data', () => {
    const r = JSON.parse(gc(['--data', FIXTURE_DIR, '--json', '--images', '1', '--entries', '3']).stdout);
    expect(r.data).toMatch(/mnist-mini\/t10k-images-idx3-ubyte$/);
    expect(r.images.every((i: number) => i < 300)).toBe(true);
  });
  it('--images and --entries', () => {
    const r = JSON.parse(gc([...FIX, '--json', '--images', '2', '--entries', '4']).stdout);
    expect(r.images).toHaveLength(2);
    expect(r.rows.find((x: { group: string }) => x.group === 'W').checked).toBe(4);
  });
});

describe('signals', () => {
  it('SIGHUP (terminal closed) checkpoints like SIGTERM and exits 129', async () => {
    const d = tmp();
    const p = start([...FIX, '--epochs', '20', '--test-limit', '0'], d, /epoch +1\/20/);
    await p.seen;
    p.child.kill('SIGHUP');
    const r = await p.exit;
    expect(r.code).toBe(129);
    expect(JSON.parse(readFileSync(join(d, 'model.ckpt.json'), 'utf8')).resume.completedEpochs).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(d, 'model.json'))).toBe(false);
  });

  it('Ctrl-C during the evaluation after an epoch is honoured; resuming finishes that evaluation', async () => {
    const d = tmp();
    // 20 training images, then 10 000 test images on the float64 engine (a few seconds)
    const args = ['--train-limit', '20', '--engine', 'reference', '--json'];
    const p = start(args, d, /"event":"start"/);
    await p.seen;
    await sleep(800);
    p.child.kill('SIGINT');
    const r = await p.exit;
    expect(r.code).toBe(130);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['start', 'interrupted']);
    expect(events[1]).toMatchObject({ checkpoint: 'model.ckpt.json', epoch: 1, position: 20 });
    expect(existsSync(join(d, 'model.json'))).toBe(false);
    const resumed = run(TRAIN, ['--resume', 'model.ckpt.json', '--epochs', '1', '--json'], d);
    expect(resumed.status, resumed.stderr).toBe(0);
    const whole = run(TRAIN, [...args, '--out', 'whole.json'], d);
    const done = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'done');
    expect(done(resumed.stdout).testError).toBe(done(whole.stdout).testError);
    expect(params(join(d, 'model.json'))).toBe(params(join(d, 'whole.json')));
  });

  it('Ctrl-C while the report is written: the model is saved, the report is not, exit 130', async () => {
    const d = tmp();
    const p = start(['--train-limit', '20', '--test-limit', '0', '--engine', 'reference', '--report', 'r.html', '--json'], d, /"event":"epoch"/);
    await p.seen;
    await sleep(500);
    p.child.kill('SIGINT');
    const r = await p.exit;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/"event":"interrupted","out":"model\.json","report":null/);
    expect(readdirSync(d)).toEqual(['model.json']);
  });

  it('a second Ctrl-C exits at once on the float64 engine too', async () => {
    const d = tmp();
    // before: one engine call was 2 000 images, 2.6 s of float64 work, and both signals waited for it
    const p = start(['--train-limit', '10000', '--engine', 'reference', '--test-limit', '0', '--json'], d, /"event":"start"/);
    await p.seen;
    await sleep(300);
    const t0 = performance.now();
    p.child.kill('SIGINT');
    await sleep(50);
    p.child.kill('SIGINT');
    const r = await p.exit;
    // 130 from the process, or killed by the second SIGINT while Node tears itself down (its
    // handlers are gone then): a shell reports 130 for both, and the checkpoint is written first
    expect(r.code === 130 || r.signal === 'SIGINT', `code ${r.code}, signal ${r.signal}`).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(existsSync(join(d, 'model.ckpt.json'))).toBe(true);
  });
});

describe('smaller cases', () => {
  it('a learning rate that saturates the units is flagged in the epoch line', () => {
    const args = ['--train-limit', '5000', '--test-limit', '100', '--out', 'm.json'];
    const r = run(TRAIN, [...args, '--lr', '1e6'], tmp());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^epoch 1\/1 .*train error (8[5-9]|9\d)\.\d\d %.*not learning: training error at chance \(--lr 1000000 may saturate the units; try 1 or less\)$/m);
    const ok = run(TRAIN, args, tmp());
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).not.toMatch(/not learning/);
    // too few images to judge: no flag
    expect(run(TRAIN, [...SMALL, '--lr', '1e6', '--out', 'm.json'], tmp()).stdout).not.toMatch(/not learning/);
  });

  it('batches larger than the wasm stage (4096) train: full-batch gradient descent', () => {
    const r = run(TRAIN, ['--train-limit', '5000', '--test-limit', '100', '--batch-size', '5000', '--epochs', '2', '--lr', '3', '--json', '--threads', '2'], tmp());
    expect(r.status, r.stderr).toBe(0);
    const epochs = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'epoch');
    expect(epochs).toHaveLength(2);
    expect(epochs[1].loss).toBeLessThan(epochs[0].loss);
  });

  it('with a raw and a .gz copy side by side, the raw file is read', () => {
    const d = tmp();
    for (const f of readdirSync(FIXTURE_DIR)) copyFileSync(join(FIXTURE_DIR, f), join(d, f));
    // raw: the fixture's first 100 images; .gz: all 1000
    const images = gunzipSync(readFileSync(join(FIXTURE_DIR, 'train-images-idx3-ubyte.gz')));
    const labels = gunzipSync(readFileSync(join(FIXTURE_DIR, 'train-labels-idx1-ubyte.gz')));
    images.writeUInt32BE(100, 4);
    labels.writeUInt32BE(100, 4);
    writeFileSync(join(d, 'train-images-idx3-ubyte'), images.subarray(0, 16 + 100 * 784));
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), labels.subarray(0, 8 + 100));
    const r = run(TRAIN, ['--data', d, '--test-limit', '10', '--out', join(d, 'm.json')], d);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/training on 100 images/);
  });
});
