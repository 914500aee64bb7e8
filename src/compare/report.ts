/**
 * The comparison's page: one self-contained HTML file (Chart.js inlined, nothing fetched) with
 * the test (and validation) error per epoch of every combination, seeds averaged, overlaid, and
 * the table.
 */
import { writeFileAtomic } from '../io/atomic-write.js';
import { embed, pageHead } from '../report/html.js';
import { chartJsSource } from '../report/report.js';
import { TOOL } from '../version.js';
import type { Manifest } from './manifest.js';
import type { SummaryRow } from './summary.js';
import { showValue, type Value } from './grid.js';

export interface CompareReportInput {
  manifest: Manifest;
  rows: SummaryRow[];
  dir: string;
}

/** Mean of the runs' series per epoch (epochs some runs lack are averaged over those that have them). */
function meanCurve(series: (number | null)[][]): (number | null)[] {
  const n = Math.max(0, ...series.map((s) => s.length));
  return Array.from({ length: n }, (_, e) => {
    const xs = series.map((s) => s[e]).filter((x): x is number => x !== null && x !== undefined);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  });
}

export function compareReportData(r: CompareReportInput) {
  const { manifest, rows } = r;
  const label = (o: Record<string, Value>) => Object.entries(o).map(([k, v]) => `${k} ${showValue(v)}`).join(', ') || 'all runs';
  const curves = rows.map((row) => {
    const runs = manifest.runs.filter((x) => x.status === 'done' && x.result && JSON.stringify(x.options) === JSON.stringify(row.options));
    return {
      label: label(row.options),
      test: meanCurve(runs.map((x) => x.result!.history.map((h) => h.testError))),
      validation: meanCurve(runs.map((x) => x.result!.history.map((h) => h.validationError))),
      loss: meanCurve(runs.map((x) => x.result!.history.map((h) => h.loss))),
    };
  });
  const command = manifest.given.map((g) => (g.values === null ? g.flag : `${g.flag} ${g.values.join(',')}`)).join(' ');
  return { tool: TOOL, createdAt: new Date().toISOString(), command: `cnn-train compare ${command}`.trim(), axes: manifest.axes, rows: rows.map((row) => ({ ...row, shown: manifest.axes.map((a) => showValue(row.options[a])) })), curves, dir: r.dir };
}

export function renderCompareReport(d: ReturnType<typeof compareReportData>): string {
  return `${pageHead('cnn-train compare', 'compare')}
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
  h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
  .muted { color: #666; } code { background: #f4f4f4; padding: 1px 4px; }
  .chart { position: relative; height: 320px; width: 100%; }
  table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
  td, th { padding: 3px 12px; text-align: right; border-bottom: 1px solid #eee; } th { color: #555; }
  td.opt, th.opt { text-align: left; }
</style>
</head>
<body>
<h1>cnn-train compare</h1>
<p class="muted" id="subtitle"></p>
<p><code id="command"></code></p>
<h2>Test error per epoch (mean over seeds)</h2>
<div class="chart"><canvas id="test"></canvas></div>
<div class="chart" id="validation-box"><canvas id="validation"></canvas></div>
<h2>Training loss per epoch (mean over seeds)</h2>
<div class="chart"><canvas id="loss"></canvas></div>
<h2>Table (best first)</h2>
<table id="table"></table>
<script>${chartJsSource()}</script>
<script type="application/json" id="data">${embed(d)}</script>
<script>
(function () {
  const d = JSON.parse(document.getElementById('data').textContent);
  window.__charts = [];
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  document.getElementById('subtitle').textContent = d.tool + ' · ' + d.createdAt + ' · runs in ' + d.dir;
  document.getElementById('command').textContent = d.command;
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const epochs = Math.max(1, ...d.curves.map((c) => c.test.length));
  const chart = (id, key, title, percent) => {
    const sets = d.curves.map((c, i) => ({ label: c.label, data: c[key].map((v) => v === null ? null : percent ? 100 * v : v),
      borderColor: colours[i % colours.length], backgroundColor: colours[i % colours.length] }));
    if (!sets.some((s) => s.data.some((v) => v !== null))) return false;
    window.__charts.push(new Chart(document.getElementById(id), { type: 'line',
      data: { labels: Array.from({ length: epochs }, (_, i) => i + 1), datasets: sets },
      options: { maintainAspectRatio: false, animation: false, plugins: { title: { display: true, text: title } },
        scales: { x: { title: { display: true, text: 'epoch' } }, y: { type: 'logarithmic', title: { display: true, text: (percent ? '%' : 'loss') + ' (log scale)' } } } } }));
    return true;
  };
  chart('test', 'test', 'test error (%)', true);
  if (!chart('validation', 'validation', 'validation error (%)', true)) document.getElementById('validation-box').remove();
  chart('loss', 'loss', 'mean training loss', false);
  const pm = (m, s, dv) => (m === null ? (dv ? 'diverged' : '—') : (100 * m).toFixed(2) + (s === null ? '' : ' ± ' + (100 * s).toFixed(2)) + ' %' + (dv ? ' (' + dv + ' diverged)' : ''));
  const withValidation = d.rows.some((r) => r.validationErrorMean !== null);
  const table = document.getElementById('table'), head = el('tr');
  for (const a of d.axes) head.append(el('th', a, 'opt'));
  for (const h of ['runs', ...(withValidation ? ['validation error'] : []), 'test error', 's/epoch']) head.append(el('th', h));
  table.append(head);
  for (const r of d.rows) {
    const tr = el('tr');
    for (const v of r.shown) tr.append(el('td', v, 'opt'));
    tr.append(el('td', String(r.runs)));
    if (withValidation) tr.append(el('td', pm(r.validationErrorMean, r.validationErrorSd, r.diverged)));
    tr.append(el('td', pm(r.testErrorMean, r.testErrorSd, r.diverged)), el('td', r.runs > r.diverged ? r.secondsPerEpochMean.toFixed(1) : '—'));
    table.append(tr);
  }
  document.body.dataset.ready = 'true';
})();
</script>
</body>
</html>
`;
}

export async function writeCompareReport(path: string, r: CompareReportInput): Promise<void> {
  writeFileAtomic(path, renderCompareReport(compareReportData(r)));
}

