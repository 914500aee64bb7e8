/**
 * One progress line per epoch on a terminal: epoch, bar, percentage, images, running loss, img/s
 * and ETA, redrawn in place at most 10 times a second. Drawn only on a terminal (in CI logs and
 * pipes the epoch lines say enough). The line always fits the terminal's width: the bar shrinks
 * first, then goes, then the image count; the loss, speed and ETA stay. stop() erases the line,
 * leaving the cursor at the start of an empty line, so nothing printed next (a message, the
 * shell's prompt) is merged with it.
 */
import type { Progress } from '../train/train.js';

const MIN_BAR = 10;
const MAX_BAR = 40;

/** Seconds as "42s", "3m05s", "1h02m". */
function eta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** The line for `p` in at most `width` columns. */
export function progressLine(p: Progress, width: number): string {
  const frac = p.total > 0 ? p.done / p.total : 0;
  const head = `epoch ${p.epoch}/${p.epochs}${p.phase === 'test' ? ' test' : ''}`;
  const percent = `${String(Math.floor(100 * frac)).padStart(3)}%`;
  const rate = p.imagesPerSecond;
  const tail = [
    ...(p.phase === 'train' ? [`loss ${p.loss.toFixed(4)}`] : []),
    `${Math.round(rate)} img/s`,
    `ETA ${eta((p.total - p.done) / rate)}`,
  ].join(' | ');
  const count = `${p.done}/${p.total} img`;
  const fit = (parts: string[]) => parts.join(' | ');
  // never reach the last columns: some terminals wrap there, and a Ctrl-C echoes "^C" after the
  // line, which must not wrap either (the line could then not be erased)
  const room = width - 4;
  // the most informative layout that fits: bar + count, bar, count, neither
  const withBar = (extra: string[]) => {
    const rest = fit([`${head} ${percent}`, ...extra, tail]);
    const w = Math.min(MAX_BAR, room - rest.length - 3);
    if (w < MIN_BAR) return null;
    const full = Math.round(frac * w);
    return fit([`${head} [${'#'.repeat(full)}${'-'.repeat(w - full)}] ${percent}`, ...extra, tail]);
  };
  const short = [`${Math.round(rate)} img/s`, `ETA ${eta((p.total - p.done) / rate)}`];
  const candidates = [
    withBar([count]), withBar([]), fit([`${head} ${percent}`, count, tail]), fit([`${head} ${percent}`, tail]),
    fit([`${head} ${percent}`, ...(p.phase === 'train' ? [`loss ${p.loss.toFixed(4)}`] : []), short[1]]),
    fit([`${head} ${percent}`, short[1]]), `${head} ${percent}`,
  ];
  for (const candidate of candidates) if (candidate !== null && candidate.length <= room) return candidate;
  return `${p.epoch}/${p.epochs} ${percent}`.slice(0, Math.max(0, room));
}

export class ProgressView {
  private drawn = false;
  private last = 0;
  private readonly enabled: boolean;
  private readonly stream: NodeJS.WriteStream;

  constructor(o: { enabled: boolean; stream: NodeJS.WriteStream }) {
    this.stream = o.stream;
    this.enabled = o.enabled && o.stream.isTTY === true && !process.env.CI;
  }

  update(p: Progress): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (this.drawn && now - this.last < 100 && p.done < p.total) return;
    this.last = now;
    const width = this.stream.columns || 80;
    this.stream.write(`\r${progressLine(p, width)}\x1b[K`);
    this.drawn = true;
  }

  /** Erase the line (the cursor stays at its start). */
  stop(): void {
    if (this.drawn) {
      this.stream.write('\r\x1b[K');
      this.drawn = false;
    }
  }
}
