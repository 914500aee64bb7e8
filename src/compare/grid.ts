/**
 * The grid of `cnn-train compare`: every combination of the options given as comma-separated
 * lists, each run being exactly the single `cnn-train` command with one value of each list.
 * Pure data: no files, no processes.
 */
import { CnnError } from '../errors.js';

export type Value = string | number;

/** One option as given to compare: its long flag and its value(s). */
export interface GivenOption {
  /** The option's key (e.g. "batchSize") and long flag (e.g. "--batch-size"). */
  key: string;
  flag: string;
  /** One value, several (an axis of the grid), or null for a flag without a value. */
  values: Value[] | null;
}

export interface GridRun {
  /** A name that says what the run is, usable as a file name: "pool-max.activation-relu.seed-2". */
  id: string;
  /** The values of the listed options, seed excepted (the row of the comparison table). */
  options: Record<string, Value>;
  seed: number;
  epochs: number;
  /** The arguments of the single cnn-train command (without --out, --json, --threads). */
  args: string[];
}

/** At most this many runs in one comparison: a larger grid is almost surely a typo. */
export const MAX_RUNS = 1000;

const fileSafe = (v: Value) => String(v).replace(/[^\w.+-]/g, '_');

/** A value as a person reads it: 1e+20 rather than 100000000000000000000. */
export function showValue(v: Value): string {
  return typeof v === 'number' && v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4) ? v.toExponential() : String(v);
}

/**
 * The runs of the grid, in a fixed order: the first listed option varies slowest, the seed
 * fastest (so the seeds of one combination run side by side).
 */
export function gridRuns(given: GivenOption[]): GridRun[] {
  const axes = given.filter((g) => g.values !== null && g.values.length > 1 && g.key !== 'seed');
  const seedOpt = given.find((g) => g.key === 'seed');
  const seeds = (seedOpt?.values ?? [1]) as number[];
  const epochsOpt = given.find((g) => g.key === 'epochs');
  for (const g of given) {
    if (g.values && new Set(g.values.map(String)).size !== g.values.length) throw new CnnError(`${g.flag} lists a value twice`);
  }
  const total = axes.reduce((n, a) => n * a.values!.length, 1) * seeds.length;
  if (total > MAX_RUNS) throw new CnnError(`the grid has ${total} runs; at most ${MAX_RUNS} (check the lists)`);
  const runs: GridRun[] = [];
  const combos: Record<string, Value>[] = [{}];
  for (const a of axes) {
    const next: Record<string, Value>[] = [];
    for (const c of combos) for (const v of a.values!) next.push({ ...c, [a.key]: v });
    combos.splice(0, combos.length, ...next);
  }
  for (const combo of combos) {
    for (const seed of seeds) {
      const args: string[] = [];
      for (const g of given) {
        if (g.values === null) {
          args.push(g.flag);
          continue;
        }
        const v = g.key === 'seed' ? seed : g.key in combo ? combo[g.key] : g.values[0];
        args.push(g.flag, String(v));
      }
      const epochs = Number(combo.epochs ?? epochsOpt?.values?.[0] ?? 1);
      const parts = [...Object.entries(combo).map(([k, v]) => `${k}-${fileSafe(v)}`), `seed-${seed}`];
      runs.push({ id: parts.join('.'), options: combo, seed, epochs, args });
    }
  }
  return runs;
}

/** The listed options (the axes), seed excepted: the columns of the comparison table. */
export function axesOf(given: GivenOption[]): string[] {
  return given.filter((g) => g.values !== null && g.values.length > 1 && g.key !== 'seed').map((g) => g.key);
}
