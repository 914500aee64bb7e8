/**
 * `cnn-train compare`: any training option with a comma-separated list of values; every
 * combination is run (side by side, each the real single command), and a table compares them,
 * seeds aggregated. The folder (--out) keeps every run's model and the manifest; Ctrl-C keeps the
 * finished runs and checkpoints the running ones; --resume <dir> finishes the grid.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { axesOf, gridRuns, showValue, type GivenOption, type GridRun, type Value } from '../compare/grid.js';
import {
  checkNewFolder, checkpointPath, finishedResult, loadManifest, modelPath, saveManifest, resultOf, MANIFEST_FORMAT, type Manifest, type ManifestRun,
} from '../compare/manifest.js';
import { writeCompareReport } from '../compare/report.js';
import { summarize, type SummaryRow } from '../compare/summary.js';
import { CnnError } from '../errors.js';
import { loadModel } from '../io/model-file.js';
import { checkOutputTarget } from '../io/output-paths.js';
import { existsSync, unlinkSync } from 'node:fs';
import { GRID_OPTIONS, longFlag, type OptionName } from './options.js';
import { runChild, pool } from './compare-runner.js';
import { checkValidationOptions } from './train-command.js';
import { Interrupts } from './signals.js';
import { err, out, pct } from './style.js';

/** Training options compare passes to every run as given (one value each). */
export const PASS_THROUGH = ['data', 'trainLimit', 'testLimit', 'validation', 'keep', 'earlyStop', 'engine'] as const satisfies readonly OptionName[];

export interface CompareCliOptions {
  out?: string;
  resume?: string;
  report?: string;
  parallel: number;
  json?: boolean;
  quiet?: boolean;
}

/** The training options as the user gave them on the command line, lists kept. */
function givenOptions(cmd: Command): GivenOption[] {
  const o = cmd.opts<Record<string, unknown>>();
  const given: GivenOption[] = [];
  for (const key of [...GRID_OPTIONS, ...PASS_THROUGH] as OptionName[]) {
    const src = cmd.getOptionValueSource(key);
    if (src === undefined || src === 'default') continue;
    const v = o[key];
    given.push({ key, flag: longFlag(key), values: Array.isArray(v) ? (v as Value[]) : [v as Value] });
  }
  return given;
}

const describeRun = (r: GridRun) => [...Object.entries(r.options).map(([k, v]) => `${longFlag(k as OptionName)} ${showValue(v)}`), `seed ${r.seed}`].join(' ');

/** A block of lines on a terminal, redrawn in place: the grid and each running run. */
class CompareView {
  private lines = 0;
  private last = 0;
  readonly enabled: boolean;
  constructor(enabled: boolean) {
    this.enabled = enabled && process.stderr.isTTY === true && !process.env.CI;
  }
  draw(text: string[], force = false): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.last < 150) return;
    this.last = now;
    const width = (process.stderr.columns || 80) - 2;
    this.erase();
    process.stderr.write(text.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l)).join('\n') + '\n');
    this.lines = text.length;
  }
  erase(): void {
    if (!this.enabled || this.lines === 0) return;
    process.stderr.write(`\x1b[${this.lines}A\x1b[J`);
    this.lines = 0;
  }
}

export async function runCompare(cmd: Command, o: CompareCliOptions): Promise<number> {
  const json = !!o.json, quiet = !!o.quiet;
  const emit = (e: Record<string, unknown>) => process.stdout.write(JSON.stringify(e) + '\n');
  let dir: string;
  let manifest: Manifest;
  const given = givenOptions(cmd);
  if (o.resume !== undefined) {
    if (given.length > 0) throw new CnnError(`--resume ${o.resume} finishes that comparison as it was set; give no other training options (${given[0].flag} was given)`);
    if (o.out !== undefined) throw new CnnError('--resume and --out cannot both be given: the comparison stays in its folder');
    dir = o.resume;
    manifest = loadManifest(dir);
  } else {
    dir = o.out ?? 'compare';
    checkNewFolder(dir);
    const runs = gridRuns(given);
    // what a run would refuse is refused here, before the folder is made
    const passed = (key: string) => given.find((g) => g.key === key)?.values?.[0];
    checkValidationOptions({ keep: passed('keep') as string | undefined, earlyStop: passed('earlyStop') as number | undefined, validation: passed('validation') as number | undefined });
    if (passed('testLimit') === 0 && passed('validation') === undefined) {
      throw new CnnError('--test-limit 0 and no --validation: the runs would have no error to compare; give --validation <n>, or test on some images');
    }
    for (const r of runs) {
      const loss = r.options.loss ?? given.find((g) => g.key === 'loss')?.values?.[0];
      const output = r.options.output ?? given.find((g) => g.key === 'output')?.values?.[0] ?? 'sigmoid';
      if (loss === 'cross-entropy' && output !== 'softmax') throw new CnnError(`--loss cross-entropy needs --output softmax: the grid has a run with --output ${output}`);
    }
    manifest = { format: MANIFEST_FORMAT, version: 1, given, axes: axesOf(given), runs: runs.map((r) => ({ ...r, status: 'pending' })), createdAt: new Date().toISOString() };
  }
  if (o.report !== undefined) checkOutputTarget('--report', o.report, 'compare');
  mkdirSync(dir, { recursive: true });
  // what is already finished (a resumed comparison)
  for (const r of manifest.runs) {
    if (r.status === 'done' || r.status === 'diverged') continue;
    const res = finishedResult(dir, r);
    if (res) Object.assign(r, { status: 'done', result: res });
  }
  saveManifest(dir, manifest);

  const todo = manifest.runs.filter((r) => r.status !== 'done' && r.status !== 'diverged');
  const running = new Map<string, { child: ChildProcess; text: string }>();
  const view = new CompareView(!json && !quiet);
  const interrupts = new Interrupts({
    onFirst: (sig) => {
      view.erase();
      if (!json) process.stderr.write(err.yellow(`${sig}: the running runs write their checkpoints (again to quit at once)\n`));
      for (const r of running.values()) r.child.kill(sig);
    },
    beforeExit: (sig) => {
      view.erase();
      for (const r of running.values()) r.child.kill(sig);
    },
  });
  const header = () => {
    const done = manifest.runs.filter((r) => r.status === 'done').length;
    return `compare: ${manifest.runs.length} runs of ${manifest.axes.length ? manifest.axes.map((a) => longFlag(a as OptionName)).join(' × ') : 'one setting'} (${done} done, ${running.size} running, ${manifest.runs.length - done - running.size} to go) in ${dir}`;
  };
  const redraw = (force = false) => view.draw([header(), ...[...running.values()].map((r) => `  ${r.text}`)], force);
  let failure: string | null = null;

  const job = (r: ManifestRun) => async () => {
    const model = modelPath(dir, r.id), ckpt = checkpointPath(dir, r.id);
    // an interrupted run continues from its checkpoint (it remembers its settings), exactly
    const args = existsSync(ckpt) ? ['--resume', ckpt, '--epochs', String(r.epochs), '--out', model] : [...r.args, '--out', model];
    const label = describeRun(r);
    const res = await runChild(
      args,
      {
        onProgress: (p) => {
          running.get(r.id)!.text = `${label}: epoch ${p.epoch}/${p.epochs} ${p.phase === 'test' ? 'testing' : 'training'} ${Math.floor((100 * p.done) / p.total)}%`;
          redraw();
        },
        onEpoch: (e) => {
          running.get(r.id)!.text = `${label}: epoch ${e.epoch}/${r.epochs} done${typeof e.testError === 'number' ? `, test error ${pct(e.testError)}` : ''}`;
          redraw();
        },
      },
      (child) => {
        running.set(r.id, { child, text: `${label}: starting` });
        redraw(true);
      },
    );
    running.delete(r.id);
    if (res.code === 0) {
      r.status = 'done';
      r.result = resultOf(loadModel(model));
      if (existsSync(ckpt)) unlinkSync(ckpt); // a resumed run keeps the checkpoint it came from: the model has it all now
      delete r.error;
      const x = r.result;
      if (json) emit({ event: 'run', id: r.id, options: r.options, seed: r.seed, testError: x.testError, validationError: x.validationError, seconds: x.secondsPerEpoch * x.epochs });
      else if (!quiet) {
        view.erase();
        console.log(`done ${label}: ${x.testError === null ? '' : `test error ${pct(x.testError)}`}${x.validationError === null ? '' : `  validation error ${pct(x.validationError)}`}  (${x.epochs} epochs, ${x.secondsPerEpoch.toFixed(1)} s/epoch)`);
      }
    } else if (res.code === 3) {
      // diverged: a result of the comparison (a learning rate too large), not a failure of it
      r.status = 'diverged';
      r.error = res.error.replace(/^cnn-train: (internal )?error: /, '');
      const what = /^training diverged (in epoch \d+ by image \d+)/.exec(r.error)?.[1] ?? '';
      if (json) emit({ event: 'run', id: r.id, options: r.options, seed: r.seed, diverged: true, testError: null, validationError: null, error: r.error });
      else if (!quiet) {
        view.erase();
        console.log(`diverged ${label}${what ? ` ${what}` : ''}`);
      }
    } else if (res.code === 129 || res.code === 130 || res.code === 143) {
      r.status = 'interrupted';
    } else {
      r.status = 'failed';
      r.error = res.error.replace(/^cnn-train: (internal )?error: /, '');
      failure ??= `${label}: ${r.error}`;
    }
    saveManifest(dir, manifest);
    redraw(true);
  };

  try {
    redraw(true);
    await pool(todo.map(job), o.parallel, () => interrupts.aborted || failure !== null);
  } finally {
    view.erase();
    interrupts.dispose();
  }
  const finished = manifest.runs.filter((r) => (r.status === 'done' && r.result) || r.status === 'diverged');
  const rows = summarize(finished.map((r) => ({ options: r.options, result: r.status === 'diverged' ? null : r.result! })));
  if (failure) {
    throw new CnnError(`a run failed, the comparison stopped: ${failure} (${finished.length} of ${manifest.runs.length} runs done; fix and finish with --resume ${dir})`);
  }
  if (interrupts.aborted) {
    const how = `cnn-train compare --resume ${dir}`;
    if (json) emit({ event: 'interrupted', done: finished.length, runs: manifest.runs.length, resume: how });
    else process.stderr.write(`interrupted: ${finished.length} of ${manifest.runs.length} runs done, the others checkpointed in ${dir}\nfinish with: ${how}\n`);
    return interrupts.exitCode;
  }
  if (o.report) await writeCompareReport(o.report, { manifest, rows, dir });
  if (json) {
    emit({ event: 'summary', rows });
  } else {
    console.log(compareTable(manifest.axes, rows));
    if (!quiet) console.log(out.dim(`${finished.length} runs in ${dir}${o.report ? `; report ${o.report}` : ''}`));
  }
  return 0;
}

/** mean ± sample sd (no sd for one run); diverged runs said. */
export function errorCell(m: number | null, sd: number | null, diverged = 0): string {
  const v = m === null ? (diverged > 0 ? 'diverged' : '—') : sd === null ? `${(100 * m).toFixed(2)} %` : `${(100 * m).toFixed(2)} ± ${(100 * sd).toFixed(2)} %`;
  return m !== null && diverged > 0 ? `${v} (${diverged} diverged)` : v;
}

/** The table: one row per combination of the listed options, best first. */
export function compareTable(axes: string[], rows: SummaryRow[]): string {
  const withValidation = rows.some((r) => r.validationErrorMean !== null);
  const head = [...axes.map((a) => longFlag(a as OptionName).slice(2)), 'runs', ...(withValidation ? ['validation error'] : []), 'test error', 's/epoch'];
  const body = rows.map((r) => [
    ...axes.map((a) => showValue(r.options[a])),
    String(r.runs),
    ...(withValidation ? [errorCell(r.validationErrorMean, r.validationErrorSd, r.diverged)] : []),
    errorCell(r.testErrorMean, r.testErrorSd, r.diverged),
    r.runs > r.diverged ? r.secondsPerEpochMean.toFixed(1) : '—',
  ]);
  const w = head.map((_, i) => Math.max(...[head, ...body].map((x) => x[i].length)));
  const line = (x: string[]) => x.map((c, i) => (i < axes.length ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [out.bold(line(head)), ...body.map(line)].join('\n');
}
