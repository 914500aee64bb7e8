/**
 * The training report: one self-contained HTML file (Chart.js inlined, data embedded, no network
 * needed to view it) with the learning curves, the C1 and C2 kernels as images, the feature maps
 * of a few test digits, a drawing pad (src/pad), the confusion matrix as a heat map and the
 * worst-classified digits.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PIXELS, type Dataset } from '../data/mnist.js';
import type { Engine } from '../engine/engine.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { padHtml, padModel } from '../pad/pad-page.js';
import type { PadModel } from '../pad/classify-drawing.js';
import { embed, escapeHtml, pageHead } from './html.js';
import type { ModelFile } from '../io/model-file.js';
import { describeArchitecture, sameArchitecture, type Architecture } from '../model/architecture.js';
import { C1_MAPS, C1_SIDE, C2_MAPS, C2_SIDE, CLASSES, K, KK } from '../model/dims.js';
import { architectureLines } from '../model/layer-table.js';
import { OFFSETS } from '../model/layout.js';
import { argmax } from '../nn/argmax.js';
import { ReferenceNetwork } from '../nn/network.js';
import { evaluateInChunks, type Evaluation } from '../train/evaluate.js';
import { TOOL } from '../version.js';

export interface ReportInput {
  model: ModelFile;
  /** The test set the evaluation ran on. */
  test: Dataset;
  engine: Engine;
  title?: string;
  /** Where the model came from (shown under the drawing pad). */
  source?: string;
}

export interface ReportData {
  title: string;
  tool: string;
  architecture: Architecture;
  /** The network in words, and what each choice computes. */
  network: string;
  networkLines: string[];
  captions: Captions;
  createdAt: string;
  training: ModelFile['training'] | null;
  evaluation: Pick<Evaluation, 'count' | 'errors' | 'error' | 'loss' | 'confusion' | 'perClass'>;
  k1: number[][]; // 6 kernels of 25
  k2: number[][][]; // [p][q] 25
  maps: { label: number; prediction: number; input: number[]; c1: number[][]; c2: number[][] }[];
  worst: { index: number; label: number; prediction: number; confidence: number; input: number[] }[];
  /** The model for the drawing pad (all parameters, full precision). */
  pad: PadModel;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

const INIT_TEXT = 'Initial weights as in the paper whatever the choices (eqs 1-3).';

/** The texts of the page that depend on the architecture; mapScale: how activations become grey. */
export interface Captions {
  k1: string;
  k1Note: string;
  k2: string;
  maps: string;
  /** unit: σ in [0, 1], black 0, white 1; signed: tanh in [−1, 1], black −1, white 1; max: ReLU, black 0, white the map's maximum */
  mapScale: 'unit' | 'signed' | 'max';
}

function captions(a: Architecture): Captions {
  const conv = a.conv === 'convolution';
  const act = { sigmoid: 'σ', relu: 'ReLU', tanh: 'tanh' }[a.activation];
  const scale = { sigmoid: 'unit', relu: 'max', tanh: 'signed' } as const;
  const grey = { sigmoid: 'black 0, white 1', relu: 'black 0, white the largest value of each map', tanh: 'black −1, mid-grey 0, white 1' }[a.activation];
  return {
    k1: `C1 kernels (${C1_MAPS} of ${K}x${K}, ${conv ? 'true convolution, eq 5' : 'cross-correlation'})`,
    k1Note: conv
      ? 'Shown as stored, k1[p][r][c]; the convolution uses them rotated by 180°.'
      : 'Shown as stored, k1[p][r][c]; cross-correlation uses them as they are.',
    k2: `C2 kernels (${C1_MAPS} x ${C2_MAPS} of ${K}x${K}, ${conv ? 'eq 8' : 'cross-correlation'})`,
    maps: `Input, the ${C1_MAPS} C1 maps (${C1_SIDE}x${C1_SIDE}, after ${act}) and the ${C2_MAPS} C2 maps (${C2_SIDE}x${C2_SIDE}, after ${act}); ${grey}.`,
    mapScale: scale[a.activation],
  };
}

/**
 * Everything the page shows, computed from the model and the test set (in chunks, letting signals
 * in: null if `signal` aborts it).
 */
export async function reportData(r: ReportInput, signal?: AbortSignal): Promise<ReportData | null> {
  const { model, test, engine } = r;
  const a = model.architecture;
  if (!sameArchitecture(engine.architecture, a)) throw new Error('reportData: the engine computes another architecture than the model');
  // the engine's own parameters are put back afterwards: the report changes nothing
  const saved = engine.getParams();
  engine.setParams(model.parameters);
  const outputs = new Float64Array(test.count * CLASSES);
  let ev;
  try {
    ev = await evaluateInChunks(engine, test, { signal, outputs });
  } finally {
    engine.setParams(saved);
  }
  if (!ev) return null;
  const P = model.parameters;
  const kernel = (o: number) => Array.from(P.subarray(o, o + KK), round);
  const k1 = Array.from({ length: C1_MAPS }, (_, p) => kernel(OFFSETS.k1.offset + KK * p));
  const k2 = Array.from({ length: C1_MAPS }, (_, p) => Array.from({ length: C2_MAPS }, (_, q) => kernel(OFFSETS.k2.offset + (p * C2_MAPS + q) * KK)));
  const net = new ReferenceNetwork(Float64Array.from(P), a);
  const maps = [];
  const c1Size = C1_SIDE * C1_SIDE, c2Size = C2_SIDE * C2_SIDE;
  for (let n = 0; n < Math.min(4, test.count); n++) {
    net.setInput(test.images, n * PIXELS);
    const y = net.forward();
    maps.push({
      label: test.labels[n],
      prediction: argmax(y),
      input: Array.from(test.images.subarray(n * PIXELS, (n + 1) * PIXELS)),
      c1: Array.from({ length: C1_MAPS }, (_, p) => Array.from(net.c1.subarray(p * c1Size, (p + 1) * c1Size), round)),
      c2: Array.from({ length: C2_MAPS }, (_, q) => Array.from(net.c2.subarray(q * c2Size, (q + 1) * c2Size), round)),
    });
  }
  // most confidently wrong: misclassified digits with the lowest output for their true class
  const wrong: { index: number; label: number; prediction: number; confidence: number }[] = [];
  for (let i = 0; i < test.count; i++) {
    const label = test.labels[i], pred = ev.predictions[i];
    if (pred !== label) wrong.push({ index: i, label, prediction: pred, confidence: outputs[i * CLASSES + label] });
  }
  wrong.sort((a, b) => a.confidence - b.confidence);
  const worst = wrong.slice(0, 24).map((w) => ({
    ...w,
    confidence: round(w.confidence),
    input: Array.from(test.images.subarray(w.index * PIXELS, (w.index + 1) * PIXELS)),
  }));
  return {
    title: r.title ?? 'cnn-train report',
    tool: TOOL,
    architecture: a,
    network: describeArchitecture(a),
    networkLines: [...architectureLines(a), INIT_TEXT],
    captions: captions(a),
    createdAt: new Date().toISOString(),
    training: model.training ?? null,
    evaluation: { count: ev.count, errors: ev.errors, error: ev.error, loss: ev.loss, confusion: ev.confusion, perClass: ev.perClass },
    k1,
    k2,
    maps,
    worst,
    pad: padModel(model, r.source ?? 'the model of this report'),
  };
}

export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  return readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}


export function renderReport(d: ReportData): string {
  return `${pageHead(d.title, 'report')}
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
  h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
  .muted { color: #666; } .grid { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
  .cell { text-align: center; font-size: 12px; color: #555; }
  canvas.px { image-rendering: pixelated; border: 1px solid #ccc; display: block; }
  .chart { position: relative; height: 280px; width: 100%; }
  table.cm { border-collapse: collapse; font-variant-numeric: tabular-nums; }
  table.cm td, table.cm th { width: 44px; height: 26px; text-align: center; font-size: 12px; }
  table.cm th { color: #666; font-weight: normal; }
  .summary td { padding: 2px 12px 2px 0; }
  .k2 { display: grid; grid-template-columns: repeat(${C2_MAPS}, 32px); gap: 4px; }
</style>
</head>
<body>
<h1>${escapeHtml(d.title)}</h1>
<div class="muted" id="subtitle"></div>
<table class="summary" id="summary"></table>

<h2>Learning curve</h2>
<div class="chart"><canvas id="epochs"></canvas></div>
<div class="chart"><canvas id="curve"></canvas></div>

<h2>Network</h2>
<ul class="muted" id="network"></ul>

<h2 id="k1-title"></h2>
<p class="muted"><span id="k1-note"></span> Grey is 0, white positive, black negative (each kernel scaled to its largest magnitude).</p>
<div class="grid" id="k1"></div>

<h2 id="k2-title"></h2>
<p class="muted">Row p: input map S1<sub>p</sub>; column q: output map C2<sub>q</sub>.</p>
<div class="k2" id="k2"></div>

<h2>Feature maps of test digits</h2>
<p class="muted" id="maps-caption"></p>
<div id="maps"></div>

<h2>Draw a digit</h2>
<p class="muted">With the mouse, a pen or a finger. The drawing is prepared exactly as <code>cnn-eval --image</code> prepares a picture, and the forward pass runs in this page, live.</p>
${padHtml(d.pad)}

<h2>Confusion matrix</h2>
<p class="muted">Rows: true label; columns: predicted. Off-diagonal cells are shaded by count.</p>
<table class="cm" id="confusion"></table>

<h2>Worst-classified test digits</h2>
<p class="muted">Misclassified digits with the lowest output for their true class.</p>
<div class="grid" id="worst"></div>

<script>${chartJsSource()}</script>
<script type="application/json" id="data">${embed({ ...d, pad: undefined })}</script>
<script>
(function () {
  const d = JSON.parse(document.getElementById('data').textContent);
  window.__charts = [];
  const el = (tag, attrs, text) => { const e = document.createElement(tag); Object.assign(e, attrs || {}); if (text !== undefined) e.textContent = text; return e; };
  const pct = (x) => (100 * x).toFixed(2) + ' %';

  // grey image of an array: values mapped by f to 0..255
  function image(values, w, h, zoom, f) {
    const c = el('canvas', { width: w, height: h, className: 'px' });
    c.style.width = w * zoom + 'px'; c.style.height = h * zoom + 'px';
    const ctx = c.getContext('2d'), img = ctx.createImageData(w, h);
    values.forEach((v, i) => { const g = Math.max(0, Math.min(255, Math.round(f(v)))); img.data.set([g, g, g, 255], 4 * i); });
    ctx.putImageData(img, 0, 0);
    return c;
  }
  const kernel = (k, zoom) => { const m = Math.max(1e-12, ...k.map(Math.abs)); return image(k, 5, 5, zoom, (v) => 127.5 + 127.5 * v / m); };
  const unit = (values, w, h, zoom) => image(values, w, h, zoom, (v) => 255 * v);
  // an activation map as grey, by the activation's range
  const activation = (values, w, h, zoom) => {
    if (d.captions.mapScale === 'signed') return image(values, w, h, zoom, (v) => 127.5 + 127.5 * v);
    if (d.captions.mapScale === 'max') { const m = Math.max(1e-12, ...values); return image(values, w, h, zoom, (v) => 255 * v / m); }
    return unit(values, w, h, zoom);
  };
  const labelled = (canvas, text) => { const cell = el('div', { className: 'cell' }); cell.append(canvas, el('div', {}, text)); return cell; };

  const t = d.training;
  for (const line of [d.network, ...d.networkLines]) document.getElementById('network').append(el('li', {}, line));
  document.getElementById('k1-title').textContent = d.captions.k1;
  document.getElementById('k1-note').textContent = d.captions.k1Note;
  document.getElementById('k2-title').textContent = d.captions.k2;
  document.getElementById('maps-caption').textContent = d.captions.maps;
  document.getElementById('subtitle').textContent = d.tool + ' · ' + d.createdAt + (t ? ' · ' + t.engine + ' engine' : '');
  const rows = [
    ['test error', pct(d.evaluation.error) + ' (' + d.evaluation.errors + ' of ' + d.evaluation.count + ')'],
    ['mean test loss' + (d.architecture.loss === 'mse' ? ' (eq 13)' : ' (cross-entropy)'), d.evaluation.loss.toFixed(5)],
  ];
  if (t) rows.push(['training', t.history.length + ' epoch(s), batch ' + t.batchSize + ', α ' + t.lr + ', seed ' + t.seed + ', ' + t.data.trainCount + ' images']);
  for (const [k, v] of rows) { const tr = el('tr'); tr.append(el('td', {}, k), el('td', {}, v)); document.getElementById('summary').append(tr); }

  // learning curves
  const history = t ? t.history : [];
  const epochs = history.map((h) => h.epoch);
  window.__charts.push(new Chart(document.getElementById('epochs'), {
    type: 'line',
    data: { labels: epochs, datasets: [
      { label: 'mean training loss', data: history.map((h) => h.loss), yAxisID: 'loss', borderColor: '#1f77b4', backgroundColor: '#1f77b4' },
      { label: 'test error (%)', data: history.map((h) => h.testError === undefined ? null : 100 * h.testError), yAxisID: 'err', borderColor: '#d62728', backgroundColor: '#d62728' },
    ] },
    options: { maintainAspectRatio: false, animation: false, plugins: { title: { display: true, text: 'Per epoch' } },
      scales: { x: { title: { display: true, text: 'epoch' } }, loss: { position: 'left', title: { display: true, text: 'loss' } },
        err: { position: 'right', title: { display: true, text: 'test error (%)' }, grid: { drawOnChartArea: false } } } },
  }));
  const every = t ? t.curveEvery : 1000;
  const points = [];
  history.forEach((h, e) => (h.curve || []).forEach((v, i) => points.push({ x: e * (t ? t.data.trainCount : 0) + (i + 1) * every, y: v })));
  window.__charts.push(new Chart(document.getElementById('curve'), {
    type: 'line',
    data: { datasets: [{ label: 'mean training loss per ' + every + ' images', data: points, borderColor: '#2ca02c', backgroundColor: '#2ca02c', pointRadius: 0, borderWidth: 1.5 }] },
    options: { maintainAspectRatio: false, animation: false, parsing: false, plugins: { title: { display: true, text: 'During training' } },
      scales: { x: { type: 'linear', title: { display: true, text: 'images seen' } }, y: { type: 'logarithmic', title: { display: true, text: 'loss (log scale)' } } } },
  }));

  // kernels
  d.k1.forEach((k, p) => document.getElementById('k1').append(labelled(kernel(k, 12), 'p=' + (p + 1))));
  d.k2.forEach((row) => row.forEach((k) => document.getElementById('k2').append(kernel(k, 6))));

  // feature maps
  for (const m of d.maps) {
    const g = el('div', { className: 'grid' });
    g.append(labelled(unit(m.input.map((v) => v / 255), 28, 28, 3), 'label ' + m.label + ', predicted ' + m.prediction));
    m.c1.forEach((c, p) => g.append(labelled(activation(c, ${C1_SIDE}, ${C1_SIDE}, 3), 'C1 ' + (p + 1))));
    m.c2.forEach((c, q) => g.append(labelled(activation(c, ${C2_SIDE}, ${C2_SIDE}, 6), 'C2 ' + (q + 1))));
    document.getElementById('maps').append(g, el('br'));
  }

  // confusion heat map
  const cm = d.evaluation.confusion, table = document.getElementById('confusion');
  const off = Math.max(1, ...cm.flatMap((r, i) => r.filter((_, j) => j !== i)));
  const head = el('tr'); head.append(el('th', {}, 'true \\\\ pred'));
  for (let j = 0; j < 10; j++) head.append(el('th', {}, String(j)));
  head.append(el('th', {}, 'accuracy'));
  table.append(head);
  cm.forEach((r, i) => {
    const tr = el('tr'); tr.append(el('th', {}, String(i)));
    r.forEach((v, j) => {
      const td = el('td', {}, String(v));
      if (i === j) { td.style.background = '#cfe8cf'; td.style.fontWeight = 'bold'; }
      else if (v > 0) { const a = Math.sqrt(v / off); td.style.background = 'rgba(214, 39, 40, ' + (0.08 + 0.8 * a).toFixed(3) + ')'; if (a > 0.6) td.style.color = '#fff'; }
      tr.append(td);
    });
    const acc = d.evaluation.perClass[i];
    tr.append(el('td', {}, acc === null ? '-' : pct(acc)));
    table.append(tr);
  });

  // worst digits
  for (const w of d.worst) document.getElementById('worst').append(labelled(unit(w.input.map((v) => v / 255), 28, 28, 3), '#' + w.index + ': ' + w.label + ' → ' + w.prediction + ' (ŷ' + w.label + '=' + w.confidence.toFixed(3) + ')'));
  document.body.dataset.ready = 'true';
})();
</script>
</body>
</html>
`;
}

/** Compute and write the report (atomically). False if `signal` stopped it: nothing is written then. */
export async function writeReport(path: string, r: ReportInput, signal?: AbortSignal): Promise<boolean> {
  const d = await reportData(r, signal);
  if (!d || signal?.aborted) return false;
  writeFileAtomic(path, renderReport(d));
  return true;
}
