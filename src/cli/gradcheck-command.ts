/** `cnn-train gradcheck`: the paper's gradients against finite differences, as a table. */
import { loadMnistSplit } from '../data/mnist.js';
import { describeArchitecture, type Architecture } from '../model/architecture.js';
import { GRADIENT_FLOOR, gradcheck } from '../train/gradcheck.js';
import { duration, out } from './style.js';

export interface GradcheckCliOptions {
  seed: number;
  data?: string;
  images: number;
  entries: number;
  json?: boolean;
  architecture: Architecture;
}

export function runGradcheck(o: GradcheckCliOptions): number {
  const data = loadMnistSplit('test', o.data);
  const t0 = performance.now();
  const r = gradcheck({ seed: o.seed, data, images: o.images, entries: o.entries, architecture: o.architecture });
  const seconds = (performance.now() - t0) / 1000;
  if (o.json) {
    process.stdout.write(JSON.stringify({ ...r, seed: o.seed, data: data.source, seconds }) + '\n');
    return r.pass ? 0 : 1;
  }
  const skips = r.rows.some((x) => x.skipped > 0) || o.architecture.activation === 'relu' || o.architecture.pool === 'max';
  console.log(`Gradients of the loss summed over test digits ${r.images.join(', ')} of ${data.source}, at random weights and biases (seed ${o.seed}),`);
  console.log(`network: ${describeArchitecture(o.architecture)};`);
  console.log(`analytic (§2 of the paper, float64) vs central finite differences (h = ${r.h.toExponential(0)}):`);
  if (skips) console.log('entries with a ReLU kink or a max-pooling tie within ±2h are skipped (the difference quotient is not a derivative there).');
  console.log('');
  const head = ['group', 'equation', 'checked', ...(skips ? ['skipped'] : []), 'max rel. error', 'worst: analytic', 'numeric', ''];
  const body = r.rows.map((x) => [
    x.group, x.equation, String(x.checked), ...(skips ? [String(x.skipped)] : []), x.maxRelError.toExponential(2),
    x.worst.analytic.toExponential(6), x.worst.numeric.toExponential(6), x.pass ? out.green('pass') : out.red('FAIL'),
  ]);
  const w = head.map((_, i) => Math.max(...[head, ...body].map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(out.bold(line(head)));
  for (const row of body) console.log(line(row));
  console.log('');
  const skipped = r.rows.reduce((a, x) => a + x.skipped, 0);
  console.log(
    r.pass
      ? `${out.green('all gradients agree')} (relative error < ${r.tolerance.toExponential(0)}; under ${GRADIENT_FLOOR.toExponential(0)}, difference < ${(r.tolerance * GRADIENT_FLOOR).toExponential(0)})${skips ? `; ${skipped} entries skipped at kinks` : ''} in ${duration(seconds)}`
      : out.red('gradient check FAILED'),
  );
  return r.pass ? 0 : 1;
}
