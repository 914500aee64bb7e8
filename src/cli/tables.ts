/** Text renderings of results: confusion matrix, per-class accuracy, sparkline. */
import type { ChalkInstance } from 'chalk';

/** Confusion matrix (rows: true label, columns: predicted) with per-class accuracy on the right. */
export function confusionTable(confusion: number[][], c: ChalkInstance): string {
  const w = Math.max(4, ...confusion.flat().map((n) => String(n).length)) + 1;
  const lines: string[] = [];
  lines.push(c.dim('true\\pred') + confusion.map((_, j) => String(j).padStart(w)).join('') + '   accuracy');
  confusion.forEach((row, t) => {
    const n = row.reduce((a, b) => a + b, 0);
    const cells = row.map((v, p) => {
      const s = String(v).padStart(w);
      if (p === t) return c.green(s);
      return v === 0 ? c.dim(s) : c.red(s);
    });
    const acc = n === 0 ? '      -' : `${(100 * row[t] / n).toFixed(2).padStart(7)} %`;
    lines.push(String(t).padStart(9) + cells.join('') + '  ' + acc);
  });
  return lines.join('\n');
}

const TICKS = '▁▂▃▄▅▆▇█';

/** A one-line chart of a series (higher value, taller tick). */
export function sparkline(xs: number[]): string {
  const lo = Math.min(...xs), hi = Math.max(...xs);
  return xs.map((x) => TICKS[hi === lo ? 0 : Math.round(((x - lo) / (hi - lo)) * (TICKS.length - 1))]).join('');
}
