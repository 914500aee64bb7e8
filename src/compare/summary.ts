/**
 * The comparison table: the finished runs grouped by the values of the listed options (seeds
 * aggregated), with mean and standard deviation of the test and validation errors and the mean
 * time per epoch, best first (by validation error where there is one: choosing on the test set
 * is what a validation set is for avoiding). A run that diverged is counted, not averaged.
 */
import type { Value } from './grid.js';

export interface RunResult {
  testError: number | null;
  validationError: number | null;
  /** Mean seconds per epoch. */
  secondsPerEpoch: number;
  epochs: number;
  history: { epoch: number; loss: number; validationError: number | null; testError: number | null }[];
}

export interface SummaryRow {
  options: Record<string, Value>;
  /** Runs of this combination, diverged ones included. */
  runs: number;
  /** Runs that diverged (their loss became NaN or infinite): no error to average. */
  diverged: number;
  testErrorMean: number | null;
  testErrorSd: number | null;
  validationErrorMean: number | null;
  validationErrorSd: number | null;
  secondsPerEpochMean: number;
}

function meanSd(xs: number[]): [number | null, number | null] {
  if (xs.length === 0) return [null, null];
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return [m, null]; // one run has no spread to show
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1); // sample standard deviation
  return [m, Math.sqrt(v)];
}

/** `result` null: the run diverged. */
export function summarize(runs: { options: Record<string, Value>; result: RunResult | null }[]): SummaryRow[] {
  const groups = new Map<string, { options: Record<string, Value>; results: RunResult[]; diverged: number }>();
  for (const r of runs) {
    const key = JSON.stringify(r.options);
    if (!groups.has(key)) groups.set(key, { options: r.options, results: [], diverged: 0 });
    const g = groups.get(key)!;
    if (r.result) g.results.push(r.result);
    else g.diverged++;
  }
  const rows = [...groups.values()].map(({ options, results, diverged }): SummaryRow => {
    const [tm, ts] = meanSd(results.map((r) => r.testError).filter((x): x is number => x !== null));
    const [vm, vs] = meanSd(results.map((r) => r.validationError).filter((x): x is number => x !== null));
    return {
      options,
      runs: results.length + diverged,
      diverged,
      testErrorMean: tm,
      testErrorSd: ts,
      validationErrorMean: vm,
      validationErrorSd: vs,
      secondsPerEpochMean: results.length ? results.reduce((a, r) => a + r.secondsPerEpoch, 0) / results.length : 0,
    };
  });
  // by validation error when every combination that has results has one; diverged ones last
  const byValidation = rows.every((r) => r.validationErrorMean !== null || (r.testErrorMean === null && r.diverged > 0));
  const key = (r: SummaryRow) => (byValidation ? r.validationErrorMean : r.testErrorMean) ?? Infinity;
  return rows.sort((a, b) => key(a) - key(b));
}
