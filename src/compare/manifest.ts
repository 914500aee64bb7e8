/**
 * A comparison's folder: compare.json (the grid, the command that made it, each run's state and
 * result) beside each run's model file <id>.json and, while it runs or after an interruption, its
 * checkpoint <id>.ckpt.json. `compare --resume <dir>` reads it to finish the grid.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CnnError, describeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { loadModel, type ModelFile } from '../io/model-file.js';
import { readRegularFile } from '../io/read-file.js';
import type { GivenOption, GridRun } from './grid.js';
import type { RunResult } from './summary.js';

export const MANIFEST = 'compare.json';
export const MANIFEST_FORMAT = 'cnn-train/compare';

export type RunStatus = 'pending' | 'done' | 'diverged' | 'interrupted' | 'failed';

export interface ManifestRun extends GridRun {
  status: RunStatus;
  result?: RunResult;
  error?: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  /** The options as given (lists included), to show and to rebuild the table. */
  given: GivenOption[];
  axes: string[];
  runs: ManifestRun[];
  createdAt: string;
}

const MANIFEST_FILE = {
  expected: 'a cnn-train compare manifest',
  cannotRead: 'cannot read the manifest',
  maxBytes: 64 * 1024 * 1024,
  tooLarge: (size: string) => `file is ${size} bytes, too large for a compare manifest`,
};

export const modelPath = (dir: string, id: string) => join(dir, `${id}.json`);
export const checkpointPath = (dir: string, id: string) => join(dir, `${id}.ckpt.json`);

export function saveManifest(dir: string, m: Manifest): void {
  writeFileAtomic(join(dir, MANIFEST), JSON.stringify(m, null, 1) + '\n');
}

export function loadManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) throw new CnnError(`${dir}: no ${MANIFEST} here, so it is not a folder written by cnn-train compare`);
  let m: Manifest;
  try {
    m = JSON.parse(readRegularFile(path, MANIFEST_FILE).toString('utf8'));
  } catch (e) {
    if (e instanceof CnnError) throw e;
    throw new CnnError(`${path}: not valid JSON (${describeError(e)})`);
  }
  if (m?.format !== MANIFEST_FORMAT || m.version !== 1 || !Array.isArray(m.runs) || !Array.isArray(m.given)) {
    throw new CnnError(`${path}: not a cnn-train compare manifest (expected "format": "${MANIFEST_FORMAT}", "version": 1)`);
  }
  for (const r of m.runs) {
    if (typeof r.id !== 'string' || !/^[\w.+-]+$/.test(r.id) || !Array.isArray(r.args) || !r.args.every((a) => typeof a === 'string')) {
      throw new CnnError(`${path}: a run has a bad id or arguments`);
    }
  }
  return m;
}

/** A folder for a new comparison: absent (it is made) or empty. */
export function checkNewFolder(dir: string): void {
  if (!existsSync(dir)) return;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    throw new CnnError(`--out ${dir}: cannot use it as a folder (${describeError(e)})`);
  }
  if (entries.includes(MANIFEST)) {
    let finished = false;
    try {
      finished = loadManifest(dir).runs.every((r) => r.status === 'done' || r.status === 'diverged');
    } catch {
      /* unreadable: said as unfinished */
    }
    throw new CnnError(
      finished
        ? `--out ${dir}: holds a finished comparison; choose another folder (--resume ${dir} rewrites its table and report)`
        : `--out ${dir}: holds a comparison already; finish it with --resume ${dir}, or choose another folder`,
    );
  }
  if (entries.length > 0) throw new CnnError(`--out ${dir}: the folder is not empty; choose a new or empty folder (nothing in it is overwritten)`);
}

/** What a run's finished model file says, for the table. */
export function resultOf(m: ModelFile): RunResult {
  const h = m.training?.history ?? [];
  const kept = m.training?.kept;
  const at = kept ? h[kept.epoch - 1] : h[h.length - 1];
  return {
    testError: at?.testError ?? null,
    validationError: at?.validationError ?? null,
    secondsPerEpoch: h.length ? h.reduce((a, e) => a + e.seconds, 0) / h.length : 0,
    epochs: h.length,
    history: h.map((e) => ({ epoch: e.epoch, loss: e.loss, validationError: e.validationError ?? null, testError: e.testError ?? null })),
  };
}

/** The result of a run whose model file is complete, or null. */
export function finishedResult(dir: string, run: GridRun): RunResult | null {
  const path = modelPath(dir, run.id);
  if (!existsSync(path)) return null;
  const m = loadModel(path);
  const done = m.training && (m.training.history.length >= run.epochs || m.training.stoppedEarly || m.resume?.stoppedEarly);
  return done ? resultOf(m) : null;
}
