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
import { expectOneLineError } from './helpers/one-line-error.js';

const TRAIN = join(ROOT, 'bin', 'cnn-train.js');
const EVAL = join(ROOT, 'bin', 'cnn-eval.js');
const env = { ...process.env, NO_COLOR: '1', CI: 'true', npm_command: '' };
const run = (args: string[], cwd: string, extraEnv: Record<string, string> = {}) =>
  spawnSync(process.execPath, [TRAIN, ...args], { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8' });
const tmp = () => mkdtempSync(join(tmpdir(), 'cnn-rel2-'));
const SMALL = ['--data', FIXTURE_DIR, '--train-limit', '200', '--test-limit', '50'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    expectOneLineError(run([...SMALL, '--out', 'a.json', '--checkpoint', 't.json'], d), /--out a\.json and --checkpoint t\.json name the same file/);
    symlinkSync('t.json', join(d, 'b.html'));
    expectOneLineError(run([...SMALL, '--out', 'a.json', '--report', 'b.html'], d), /--out a\.json and --report b\.html name the same file/);
  });
  it('the same file through a bind mount is refused (needs root)', (ctx) => {
    const d = tmp();
    mkdirSync(join(d, 'small'));
    mkdirSync(join(d, 'bind'));
    if (spawnSync('mount', ['--bind', join(d, 'small'), join(d, 'bind')]).status !== 0) ctx.skip();
    try {
      expectOneLineError(run([...SMALL, '--out', join(d, 'small', 'm.json'), '--checkpoint', join(d, 'bind', 'm.json')], d), /name the same file/);
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
    expectOneLineError(run(SMALL, d), /model\.ckpt\.json: holds an unfinished run \((interrupted in epoch \d+ at image \d+|\d+ of 30 epochs done)\); resume it with --resume model\.ckpt\.json, or move it away, or give this run another --checkpoint/);
    expect(readFileSync(join(d, 'model.ckpt.json'), 'utf8')).toBe(before);
    // nor through --out, directly or through a link (found by the third pass: --out wrote over it)
    expectOneLineError(run([...SMALL, '--out', 'model.ckpt.json'], d), /--out model\.ckpt\.json: holds an unfinished run \(.*\); resume it with --resume model\.ckpt\.json, or move it away, or choose another --out/);
    symlinkSync('model.ckpt.json', join(d, 'link.json'));
    expectOneLineError(run([...SMALL, '--out', 'link.json'], d), /--out link\.json: holds an unfinished run/);
    expect(readFileSync(join(d, 'model.ckpt.json'), 'utf8')).toBe(before);
    // once resumed to its end, its checkpoint (kept: it was the input) holds a finished run: a new run may replace it
    const at = JSON.parse(before).resume.completedEpochs as number;
    const r = run(['--resume', 'model.ckpt.json', '--epochs', String(at + 1), '-q'], d);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(d, 'model.ckpt.json'))).toBe(true);
    const fresh = run([...SMALL, '-q'], d);
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(existsSync(join(d, 'model.ckpt.json'))).toBe(false);
  });

  it('a checkpoint before any training (a run that diverged in its first epoch) does not block the next run', () => {
    const d = tmp();
    const div = run([...SMALL, '-q', '--lr', '1e30', '--activation', 'relu'], d);
    expect(div.status, div.stderr).toBe(3);
    expect(existsSync(join(d, 'model.ckpt.json'))).toBe(true);
    const next = run([...SMALL, '-q', '--activation', 'relu', '--lr', '0.01'], d);
    expect(next.status, next.stderr).toBe(0);
  });

  it('a run that stopped early trains on as its last line says; its patience is judged again on resume', () => {
    const d = tmp();
    // momentum 0.9 at lr 1 does not learn here: the validation error never improves after epoch 1
    const args = [...SMALL, '--validation', '100', '--keep', 'best', '--early-stop', '1', '--epochs', '6', '--lr', '1', '--momentum', '0.9'];
    const first = run(args, d);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/stopped early after epoch 2: no lower validation error for 1 epoch/);
    const hint = first.stdout.match(/to train on: (cnn-train .*)$/m)![1];
    expect(hint).toBe('cnn-train --resume model.ckpt.json --epochs 6 --early-stop 0');
    expect(JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')).resume).toBeUndefined(); // epoch 1, not where the run stands
    // the same patience again stops at once: refused, saying how to go on (it used to "train" nothing and exit 0)
    expectOneLineError(run(['--resume', 'model.ckpt.json', '--epochs', '6'], d), /model\.ckpt\.json: its run stopped early after epoch 2 \(no lower validation error for 1 epochs\); to train on, give --early-stop more than 1, or --early-stop 0 for none/);
    const more = run([...hint.split(' ').slice(1), '--json'], d);
    expect(more.status, more.stderr).toBe(0);
    const done = JSON.parse(more.stdout.trim().split('\n').pop()!);
    expect(done.epochs).toBe(6);
    expect(done.stoppedEarly).toBe(null);
    // a larger patience is judged against the epochs since the best: 1 so far, so it goes on too
    const d2 = tmp();
    expect(run(args, d2).status).toBe(0);
    const patient = run(['--resume', 'model.ckpt.json', '--epochs', '6', '--early-stop', '3', '--json'], d2);
    expect(patient.status, patient.stderr).toBe(0);
    const ev = patient.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(ev.filter((e) => e.event === 'epoch').map((e) => e.epoch)).toEqual([3, 4]);
    expect(ev.pop().stoppedEarly).toEqual({ epoch: 4 });
  });

  it('with --keep best and the best epoch last, the model itself can be resumed', () => {
    const d = tmp();
    const r = run([...SMALL, '--validation', '100', '--keep', 'best', '--epochs', '2', '-q', '--lr', '0.5'], d);
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    expect(m.training.kept.epoch).toBe(2);
    expect(existsSync(join(d, 'model.ckpt.json'))).toBe(false);
    const more = run(['--resume', 'model.json', '--epochs', '3', '-q'], d);
    expect(more.status, more.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')).training.history).toHaveLength(3);
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
    expectOneLineError(run([...SMALL, '--out', 'same.json'], d), /same\.json: another cnn-train \(process \d+\) is writing it; wait for it, or choose another --out/);
    expectOneLineError(run([...SMALL, '--out', 'other.json', '--checkpoint', 'same.json'], d), /same\.json: another cnn-train \(process \d+\) is writing it; wait for it, or choose another --checkpoint/);
    p.child.kill('SIGINT');
    await p.exit;
  });

  it('notes that quote the model format, or an HTML page that mentions cnn-train, are not overwritten', () => {
    const d = tmp();
    writeFileSync(join(d, 'notes.md'), '# My notes\nThe model file says "format": "cnn-train/zhang-2016".\n');
    expectOneLineError(run([...SMALL, '--out', 'notes.md'], d), /--out notes\.md: the file exists and is not a cnn-train model file/);
    writeFileSync(join(d, 'thesis.html'), '<!DOCTYPE html><title>Compared cnn-train with PyTorch</title>');
    expectOneLineError(run([...SMALL, '--out', 'm.json', '--report', 'thesis.html'], d), /--report thesis\.html: the file exists and is not a cnn-train report/);
  });

  it('a page replaces only a page of its kind: --draw never replaces a report, --report never a pad or compare page', () => {
    const d = tmp();
    expect(run([...SMALL, '-q', '--report', 'r.html'], d).status).toBe(0);
    const report = readFileSync(join(d, 'r.html'), 'utf8');
    const evalRun = (args: string[]) => spawnSync(process.execPath, [EVAL, ...args], { cwd: d, env, encoding: 'utf8' });
    expectOneLineError(evalRun(['model.json', '--draw', 'r.html']), /--draw r\.html: the file is a cnn-train report, not a cnn-train drawing pad; not overwriting it/);
    expect(readFileSync(join(d, 'r.html'), 'utf8')).toBe(report);
    expect(evalRun(['model.json', '--draw', 'p.html']).status).toBe(0);
    expectOneLineError(evalRun(['model.json', '--data', FIXTURE_DIR, '--report', 'p.html']), /--report p\.html: the file is a cnn-train drawing pad, not a cnn-train report/);
    expectOneLineError(run(['compare', ...SMALL, '--seed', '1,2', '--report', 'r.html'], d), /--report r\.html: the file is a cnn-train report, not a cnn-train compare page/);
    // each kind replaces its own
    expect(evalRun(['model.json', '--draw', 'p.html']).status).toBe(0);
    expect(evalRun(['model.json', '--data', FIXTURE_DIR, '--test-limit', '50', '--report', 'r.html']).status).toBe(0);
    // a page from before pages said their kind (the generator tag only) is replaced by any kind, as it was
    writeFileSync(join(d, 'old.html'), '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="generator" content="cnn-train">\n<title>t</title>');
    expect(evalRun(['model.json', '--draw', 'old.html']).status).toBe(0);
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
    expectOneLineError(run(['--data', '/nonexistent', '--seed', '3', 'gradcheck', '--images', '1'], tmp()), /--(data|seed) comes before `gradcheck`, where it would be ignored/);
  });
  it('a folder where no file can be made is named, not our temporary file (/proc)', () => {
    const r = run([...SMALL, '--out', '/proc/x.json'], tmp());
    expectOneLineError(r, /^cnn-train: error: \/proc\/x\.json: cannot write there \(cannot create a file in \/proc: ENOENT: no such file or directory\)$/m);
    expect(r.stderr).not.toMatch(/\.tmp/);
  });
  it('gradcheck --images has a bound', () => {
    expectOneLineError(run(['gradcheck', '--images', '300000000'], tmp()), /argument '300000000' is invalid\. expected a whole number from 1 to 100/);
  });
  it('cnn-eval --test-limit 0 is refused (there would be nothing to evaluate), with the same bound as -1', () => {
    const d = tmp();
    expect(run([...SMALL, '-q'], d).status).toBe(0);
    for (const n of ['0', '-1']) {
      const r = spawnSync(process.execPath, [EVAL, 'model.json', '--data', FIXTURE_DIR, '--test-limit', n], { cwd: d, env, encoding: 'utf8' });
      expectOneLineError(r, new RegExp(`^cnn-eval: error: option '--test-limit <n>' argument '${n}' is invalid\\. expected a whole number of at least 1\\.$`, 'm'));
    }
  });
  it('a model nested thousands of levels deep is refused when it is read, before any training', () => {
    const d = tmp();
    expect(run([...SMALL, '-q'], d).status).toBe(0);
    const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    m.training.history[0].extra = '__DEEP__';
    writeFileSync(join(d, 'deep.json'), JSON.stringify(m).replace('"__DEEP__"', '['.repeat(20000) + ']'.repeat(20000)));
    expectOneLineError(run(['--resume', 'deep.json', '--epochs', '2', '--out', 'x.json'], d), /deep\.json: JSON nested more than 640 levels deep; a model file needs at most 5/);
  });
  it('a hand-edited learning rate outside float32 is refused on resume', () => {
    const d = tmp();
    expect(run([...SMALL, '-q'], d).status).toBe(0);
    const m = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    m.training.lr = 1e-320;
    writeFileSync(join(d, 'm.json'), JSON.stringify(m));
    expectOneLineError(run(['--resume', 'm.json', '--epochs', '2'], d), /has a "resume" section but training\.lr is not a normal float32/);
  });
  it('a file name too long for the file system (with the temporary suffix) is refused before training', () => {
    const d = tmp();
    expectOneLineError(run([...SMALL, '--out', 'm'.repeat(236)], d), /cannot write there \(.*ENAMETOOLONG/);
    expectOneLineError(run([...SMALL, '--out', 'x.json/'], d), /--out x\.json\/: ends with a slash/);
  });
  it('a path with a newline is shown escaped: the error stays one line', () => {
    expectOneLineError(run([...SMALL, '--out', 'a\nb/m.json'], tmp()), /a\\nb\/m\.json: cannot write there/);
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
