/** `cnn-train gradcheck`: the paper's gradients against finite differences, as a table. */
import { loadMnistSplit } from '../data/mnist.js';
import { gradcheck } from '../train/gradcheck.js';
import { duration, out } from './style.js';

export interface GradcheckCliOptions {
  seed: number;
  data?: string;
  images: number;
  entries: number;
  json?: boolean;
}

export function runGradcheck(o: GradcheckCliOptions): number {
  const data = loadMnistSplit('test', o.data);
  const t0 = performance.now();
  const r = gradcheck({ seed: o.seed, data, images: o.images, entries: o.entries });
  const seconds = (performance.now() - t0) / 1000;
  if (o.json) {
    process.stdout.write(JSON.stringify({ ...r, seed: o.seed, data: data.source, seconds }) + '\n');
    return r.pass ? 0 : 1;
  }
  console.log(`Gradients of the loss (eq 13) summed over test digits ${r.images.join(', ')} of ${data.source}, at random weights and biases (seed ${o.seed}),`);
  console.log('analytic (§2 of the paper, float64) vs central finite differences (h = 1e-4):');
  console.log('');
  const head = ['group', 'equation', 'checked', 'max rel. error', 'worst: analytic', 'numeric', ''];
  const body = r.rows.map((x) => [
    x.group, x.equation, String(x.checked), x.maxRelError.toExponential(2),
    x.worst.analytic.toExponential(6), x.worst.numeric.toExponential(6), x.pass ? out.green('pass') : out.red('FAIL'),
  ]);
  const w = head.map((_, i) => Math.max(...[head, ...body].map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(out.bold(line(head)));
  for (const row of body) console.log(line(row));
  console.log('');
  console.log(r.pass ? `${out.green('all gradients agree')} (relative error < 1e-6) in ${duration(seconds)}` : out.red('gradient check FAILED'));
  return r.pass ? 0 : 1;
}
