/**
 * `cnn-train compare`: the grid, the table's statistics, each run equal to the single command bit
 * for bit, Ctrl-C and --resume, refusals, and the report page in chromium.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, openReport } from '../bench/browser.js';
import { gridRuns, type GivenOption } from '../src/compare/grid.js';
import { summarize, type RunResult } from '../src/compare/summary.js';
import { FIXTURE_DIR, ROOT } from './helpers/fixture.js';
import { expectOneLineError } from './helpers/one-line-error.js';

const TRAIN = join(ROOT, 'bin', 'cnn-train.js');
const env = { ...process.env, NO_COLOR: '1', CI: 'true', npm_command: '' }; // (as a user runs it, not under npm)
const run = (args: string[], cwd: string) => spawnSync(process.execPath, [TRAIN, ...args], { cwd, env, encoding: 'utf8' });
const tmp = () => mkdtempSync(join(tmpdir(), 'cnn-compare-'));
const params = (file: string) => JSON.stringify(JSON.parse(readFileSync(file, 'utf8')).parameters);
const FIX = ['--data', FIXTURE_DIR];
const events = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('the grid and the table', () => {
  const given: GivenOption[] = [
    { key: 'pool', flag: '--pool', values: ['mean', 'max'] },
    { key: 'activation', flag: '--activation', values: ['sigmoid', 'relu'] },
    { key: 'seed', flag: '--seed', values: [1, 2, 3] },
    { key: 'lr', flag: '--lr', values: [0.1] },
    { key: 'data', flag: '--data', values: ['d'] },
  ];
  it('every combination of the lists, seeds fastest; each run is the single command with one value of each', () => {
    const runs = gridRuns(given);
    expect(runs).toHaveLength(12);
    expect(runs[0]).toMatchObject({ id: 'pool-mean.activation-sigmoid.seed-1', options: { pool: 'mean', activation: 'sigmoid' }, seed: 1 });
    expect(runs[0].args).toEqual(['--pool', 'mean', '--activation', 'sigmoid', '--seed', '1', '--lr', '0.1', '--data', 'd']);
    expect(runs[5]).toMatchObject({ id: 'pool-mean.activation-relu.seed-3', seed: 3 });
    expect(runs[11].args).toEqual(['--pool', 'max', '--activation', 'relu', '--seed', '3', '--lr', '0.1', '--data', 'd']);
  });
  it('mean and sample standard deviation per combination, best first', () => {
    const res = (t: number, v: number | null = null): RunResult => ({ testError: t, validationError: v, secondsPerEpoch: 2, epochs: 1, history: [] });
    const rows = summarize([
      { options: { pool: 'mean' }, result: res(0.02) },
      { options: { pool: 'mean' }, result: res(0.04) },
      { options: { pool: 'max' }, result: res(0.01) },
      { options: { pool: 'max' }, result: res(0.02) },
      { options: { pool: 'max' }, result: res(0.03) },
    ]);
    expect(rows.map((r) => r.options.pool)).toEqual(['max', 'mean']);
    expect(rows[0].runs).toBe(3);
    expect(rows[0].testErrorMean).toBeCloseTo(0.02, 15);
    expect(rows[0].testErrorSd).toBeCloseTo(0.01, 15);
    expect(rows[1].testErrorSd).toBeCloseTo(Math.SQRT2 * 0.01, 15);
  });
  it('sorted by validation error when every row has one', () => {
    const res = (t: number, v: number): RunResult => ({ testError: t, validationError: v, secondsPerEpoch: 1, epochs: 1, history: [] });
    const rows = summarize([{ options: { a: 1 }, result: res(0.01, 0.05) }, { options: { a: 2 }, result: res(0.02, 0.03) }]);
    expect(rows.map((r) => r.options.a)).toEqual([2, 1]);
  });
});

describe('cnn-train compare on the 1 000-image fixture', () => {
  it('prints the runs and the summary as JSON; each run is bit for bit the single cnn-train command', () => {
    const d = tmp();
    const r = run(['compare', ...FIX, '--pool', 'mean,max', '--seed', '1,2', '--epochs', '2', '--validation', '100', '--json', '--out', 'cmp'], d);
    expect(r.status, r.stderr).toBe(0);
    const ev = events(r.stdout);
    expect(ev.filter((e) => e.event === 'run')).toHaveLength(4);
    for (const e of ev.filter((x) => x.event === 'run')) {
      expect(Object.keys(e).sort()).toEqual(['event', 'id', 'options', 'seconds', 'seed', 'testError', 'validationError']);
      expect(e.testError).toBeGreaterThanOrEqual(0);
      expect(e.validationError).toBeGreaterThanOrEqual(0);
    }
    const summary = ev.pop();
    expect(summary.event).toBe('summary');
    expect(summary.rows.map((x: { runs: number }) => x.runs)).toEqual([2, 2]);
    expect(summary.rows[0]).toMatchObject({ options: { pool: expect.any(String) }, testErrorMean: expect.any(Number), testErrorSd: expect.any(Number) });
    for (const [pool, seed] of [['mean', 1], ['max', 2]] as const) {
      const single = run([...FIX, '--pool', pool, '--seed', String(seed), '--epochs', '2', '--validation', '100', '--out', `single-${pool}-${seed}.json`, '-q'], d);
      expect(single.status, single.stderr).toBe(0);
      expect(params(join(d, 'cmp', `pool-${pool}.seed-${seed}.json`))).toBe(params(join(d, `single-${pool}-${seed}.json`)));
    }
    expect(readdirSync(join(d, 'cmp')).sort()).toEqual(['compare.json', 'pool-max.seed-1.json', 'pool-max.seed-2.json', 'pool-mean.seed-1.json', 'pool-mean.seed-2.json']);
  });

  it('the text table, and the report page in chromium', async () => {
    const d = tmp();
    const r = run(['compare', ...FIX, '--activation', 'sigmoid,tanh', '--lr', '0.5', '--seed', '1,2', '--epochs', '2', '--report', 'cmp.html', '-q'], d);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^activation\s+runs\s+test error\s+s\/epoch$/m);
    expect(r.stdout).toMatch(/^(sigmoid|tanh)\s+2\s+\d+\.\d\d ± \d+\.\d\d %\s+\d+\.\d$/m);
    expect(existsSync(join(d, 'compare', 'compare.json'))).toBe(true);
    if (!existsSync(CHROMIUM) && !process.env.CI) return;
    const page = await openReport(join(d, 'cmp.html'));
    expect(page.errors).toEqual([]);
    expect(page.charts).toBe(2); // test error and training loss (no validation set here)
  });

  it('Ctrl-C keeps the finished runs and checkpoints the running one; --resume finishes the grid, each run as the single command', async () => {
    const d = tmp();
    // the float64 engine, one run at a time: slow enough to interrupt the second run mid-way
    const args = ['compare', ...FIX, '--engine', 'reference', '--train-limit', '400', '--test-limit', '50', '--seed', '1,2,3', '--epochs', '3', '--parallel', '1', '--json', '--out', 'cmp'];
    const child = spawn(process.execPath, [TRAIN, ...args], { cwd: d, env });
    let stdout = '';
    const exit = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    await new Promise<void>((resolve) => child.stdout.on('data', (b) => {
      stdout += b;
      if (/"event":"run"/.test(stdout)) resolve();
    }));
    await new Promise((r) => setTimeout(r, 1500)); // into the second run
    child.kill('SIGINT');
    expect(await exit).toBe(130);
    const manifest = JSON.parse(readFileSync(join(d, 'cmp', 'compare.json'), 'utf8'));
    expect(manifest.runs.map((r: { status: string }) => r.status)).toEqual(['done', 'interrupted', 'pending']);
    expect(existsSync(join(d, 'cmp', 'seed-2.ckpt.json'))).toBe(true);
    const resumed = run(['compare', '--resume', 'cmp', '--json'], d);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(events(resumed.stdout).filter((e) => e.event === 'run').map((e) => e.seed)).toEqual([2, 3]);
    for (const seed of [1, 2, 3]) {
      const single = run([...FIX, '--engine', 'reference', '--train-limit', '400', '--test-limit', '50', '--seed', String(seed), '--epochs', '3', '--out', `s${seed}.json`, '-q'], d);
      expect(single.status, single.stderr).toBe(0);
      expect(params(join(d, 'cmp', `seed-${seed}.json`))).toBe(params(join(d, `s${seed}.json`)));
    }
    expect(readdirSync(join(d, 'cmp')).sort()).toEqual(['compare.json', 'seed-1.json', 'seed-2.json', 'seed-3.json']);
  });
});

describe('a run that diverges is a result, not a failure', () => {
  it('the grid goes on; the table says diverged, sorted last; --json says so; --resume does not run it again', () => {
    const d = tmp();
    const r = run(['compare', ...FIX, '--train-limit', '200', '--test-limit', '50', '--activation', 'relu', '--lr', '1e20,0.01', '--out', 'cmp'], d);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^diverged --lr 1e\+20 seed 1 in epoch 1 by image 200$/m);
    const table = r.stdout.split('\n').filter((l) => /^(lr|0\.01|1e\+20) /.test(l));
    expect(table[0]).toMatch(/^lr +runs +test error +s\/epoch$/);
    expect(table[1]).toMatch(/^0\.01 +1 +\d+\.\d\d % +\d+\.\d$/); // one run: no ± (a sample sd needs two)
    expect(table[2]).toMatch(/^1e\+20 +1 +diverged +—$/);
    const again = run(['compare', '--resume', 'cmp', '--json'], d);
    expect(again.status, again.stderr).toBe(0);
    const ev = events(again.stdout);
    expect(ev.filter((e) => e.event === 'run')).toHaveLength(0);
    expect(ev[0].rows.map((x: { diverged: number; testErrorSd: number | null }) => [x.diverged, x.testErrorSd])).toEqual([[0, null], [1, null]]);
    const j = run(['compare', ...FIX, '--train-limit', '200', '--test-limit', '50', '--activation', 'relu', '--lr', '1e20', '--seed', '1,2', '--out', 'j', '--json'], d);
    expect(j.status, j.stderr).toBe(0);
    const runs = events(j.stdout).filter((e) => e.event === 'run');
    expect(runs.map((e) => [e.diverged, e.testError])).toEqual([[true, null], [true, null]]);
    expect(runs[0].error).toMatch(/^training diverged in epoch 1 by image 200/);
  });
  it('compare --help: --out is a folder with its own default; --quiet prints the table', () => {
    const h = run(['compare', '--help'], tmp()).stdout.replace(/\s+/g, ' ');
    expect(h).toMatch(/-o, --out <folder> folder for the comparison: every run's model and the manifest \(default: compare; it must be new or empty\) --resume <folder> finish/);
    expect(h).not.toMatch(/model\.json/);
    expect(h).toMatch(/-q, --quiet print only the table/);
    expect(h).not.toMatch(/the total to reach/);
  });
});

describe('compare refuses', () => {
  it('a bad value in a list, naming it', () => expectOneLineError(run(['compare', ...FIX, '--pool', 'mean,median'], tmp()), /'--pool <name,…>' argument 'mean,median' is invalid\. "median" is not one of mean, max/));
  it('a grid with cross-entropy and a sigmoid output', () => expectOneLineError(run(['compare', ...FIX, '--loss', 'mse,cross-entropy'], tmp()), /--loss cross-entropy needs --output softmax/));
  it('a folder that is not empty', () => {
    const d = tmp();
    mkdirSync(join(d, 'cmp'));
    writeFileSync(join(d, 'cmp', 'mine.txt'), 'x');
    expectOneLineError(run(['compare', ...FIX, '--seed', '1,2', '--out', 'cmp'], d), /--out cmp: the folder is not empty/);
  });
  it('what a run would refuse, before the folder is made (--keep best or --early-stop without --validation; nothing to compare)', () => {
    const d = tmp();
    expectOneLineError(run(['compare', ...FIX, '--keep', 'best', '--out', 'x'], d), /--keep best needs --validation <n>/);
    expectOneLineError(run(['compare', ...FIX, '--early-stop', '2', '--out', 'x'], d), /--early-stop needs --validation <n>/);
    expectOneLineError(run(['compare', ...FIX, '--test-limit', '0', '--pool', 'mean,max', '--out', 'x'], d), /--test-limit 0 and no --validation: the runs would have no error to compare/);
    expect(existsSync(join(d, 'x'))).toBe(false);
  });
  it('--resume with other training options; a finished comparison is said to be finished', () => {
    const d = tmp();
    expect(run(['compare', ...FIX, '--train-limit', '100', '--test-limit', '10', '--seed', '1,2', '--out', 'cmp', '-q'], d).status).toBe(0);
    expectOneLineError(run(['compare', ...FIX, '--seed', '1,2', '--out', 'cmp'], d), /--out cmp: holds a finished comparison; choose another folder \(--resume cmp rewrites its table and report\)/);
    expectOneLineError(run(['compare', '--resume', 'cmp', '--seed', '3'], d), /--resume cmp finishes that comparison as it was set; give no other training options \(--seed was given\)/);
    expectOneLineError(run(['compare', '--resume', 'nowhere'], d), /nowhere: no compare\.json here/);
  });
});
