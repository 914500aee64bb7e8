/**
 * Terminal styling: chalk's own detection of what the terminal supports (TTY, TERM, COLORTERM,
 * FORCE_COLOR, CI), switched off when NO_COLOR is set (https://no-color.org).
 */
import { Chalk, chalkStderr, default as chalkStdout, type ChalkInstance } from 'chalk';

function withNoColor(c: ChalkInstance): ChalkInstance {
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  return new Chalk({ level: noColor ? 0 : c.level });
}

export const out = withNoColor(chalkStdout);
export const err = withNoColor(chalkStderr);

/** Percent with two decimals: 0.0213 -> "2.13 %". */
export function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

/** Seconds as "12.3 s" or "4 min 05 s". */
export function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, '0')} s`;
}
