/**
 * Terminal styling: chalk with colour only when the stream is a terminal and NO_COLOR is unset
 * (FORCE_COLOR still wins, as chalk documents).
 */
import { Chalk, type ChalkInstance } from 'chalk';

export function chalkFor(stream: NodeJS.WriteStream): ChalkInstance {
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return new Chalk();
  const enabled = stream.isTTY === true && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
  return new Chalk({ level: enabled ? 1 : 0 });
}

export const out = chalkFor(process.stdout);
export const err = chalkFor(process.stderr);

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
