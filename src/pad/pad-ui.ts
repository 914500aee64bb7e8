/**
 * The drawing pad in a web page: a canvas to draw on with the mouse, a pen or a finger (pointer
 * events), a clear button, and, live, what the network sees (28x28), the C1 and C2 maps, the ten
 * outputs as bars and the answer. The computing is classify-drawing.ts; this file is the DOM only.
 * Bundled by esbuild into dist/pad.js (an IIFE defining `CnnPad`), which the report and
 * `cnn-eval --draw` inline into their pages.
 */
import { describeArchitecture } from '../model/architecture.js';
import { C1_MAPS, C1_SIDE, C2_MAPS, C2_SIDE, CLASSES, IN } from '../model/dims.js';
import { classifyDrawing, padNetwork, type DrawingResult, type PadModel } from './classify-drawing.js';

/** The canvas, in its own pixels (what is read, and what a saved PNG holds). */
export const PAD_SIDE = 280;
/** Pen width in canvas pixels: a digit drawn across most of the pad gets MNIST-like strokes. */
export const STROKE_WIDTH = 18;

export interface PadController {
  /** A change is drawn but not yet classified. */
  pending: boolean;
  /** Classifications done so far. */
  updates: number;
  /** The last classification; null for an empty pad. */
  last: DrawingResult | null;
  canvas: HTMLCanvasElement;
  clear(): void;
  /** The viewport position of a point of the canvas (x, y in canvas pixels). */
  clientPoint(x: number, y: number): { x: number; y: number };
}

declare global {
  interface Window {
    /** Every pad of the page, in the order mounted (for scripts and tests). */
    cnnPads?: PadController[];
  }
}

const STYLE = `
.cnn-pad { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; font: 14px/1.45 system-ui, sans-serif; color: #222; }
.cnn-pad .pad-col { display: flex; flex-direction: column; gap: 8px; }
.cnn-pad .pad-left { width: ${PAD_SIDE + 2}px; }
.cnn-pad canvas.pad-draw { width: ${PAD_SIDE}px; height: ${PAD_SIDE}px; border: 1px solid #888; border-radius: 4px; touch-action: none; cursor: crosshair; background: #fff; }
.cnn-pad .pad-tools { display: flex; gap: 12px; align-items: center; }
.cnn-pad button { font: inherit; padding: 4px 14px; cursor: pointer; }
.cnn-pad .muted { color: #666; font-size: 12px; }
.cnn-pad canvas.pad-map { image-rendering: pixelated; border: 1px solid #ccc; display: block; background: #000; }
.cnn-pad .pad-answer { font-size: 56px; font-weight: 600; line-height: 1; min-height: 56px; }
.cnn-pad .pad-bars { display: grid; grid-template-columns: 14px 180px 52px; gap: 3px 8px; align-items: center; font-variant-numeric: tabular-nums; }
.cnn-pad .pad-bar { height: 14px; background: #9ab; border-radius: 2px; }
.cnn-pad .pad-bar.best { background: #2a7; }
.cnn-pad .pad-maps { display: flex; flex-direction: column; gap: 6px; flex-basis: 100%; }
.cnn-pad .pad-row { display: flex; flex-wrap: wrap; gap: 6px; }
`;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function mapCanvas(side: number, zoom: number): HTMLCanvasElement {
  const c = el('canvas', 'pad-map');
  c.width = side;
  c.height = side;
  c.style.width = c.style.height = `${side * zoom}px`;
  return c;
}

/** Paint side x side values (from `values` at `offset`) as grey levels 0..255 given by `grey`. */
function paint(c: HTMLCanvasElement, values: ArrayLike<number> | null, offset: number, grey: (v: number) => number): void {
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(c.width, c.height);
  for (let i = 0; i < c.width * c.height; i++) {
    const g = values ? Math.max(0, Math.min(255, Math.round(grey(values[offset + i])))) : 0;
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** Mount a pad for `model` into `root`. */
export function mountPad(root: HTMLElement, model: PadModel): PadController {
  const net = padNetwork(model);
  const a = net.architecture;
  if (!document.getElementById('cnn-pad-style')) {
    const style = el('style');
    style.id = 'cnn-pad-style';
    style.textContent = STYLE;
    document.head.append(style);
  }
  const pad = el('div', 'cnn-pad');
  // the drawing
  const left = el('div', 'pad-col pad-left');
  const canvas = el('canvas', 'pad-draw');
  canvas.width = canvas.height = PAD_SIDE;
  canvas.setAttribute('aria-label', 'drawing pad: draw a digit');
  const tools = el('div', 'pad-tools');
  const clearButton = el('button', 'pad-clear', 'clear');
  clearButton.type = 'button';
  tools.append(clearButton, el('span', 'muted', 'mouse, pen or finger'));
  left.append(canvas, tools, el('div', 'muted', describeArchitecture(a)), el('div', 'muted', model.source));
  // what the network sees, and the answer
  const middle = el('div', 'pad-col');
  const input = mapCanvas(IN, 5);
  const answer = el('div', 'pad-answer', '–');
  const status = el('div', 'muted pad-status', 'draw a digit');
  middle.append(el('div', 'muted', `what the network sees (${IN}x${IN})`), input, el('div', 'muted', 'answer'), answer, status);
  // the outputs
  const right = el('div', 'pad-col');
  const bars = el('div', 'pad-bars');
  const rows = Array.from({ length: CLASSES }, (_, i) => {
    const bar = el('div', 'pad-bar'), value = el('span', '', '');
    const track = el('div');
    track.append(bar);
    bars.append(el('span', '', String(i)), track, value);
    return { bar, value };
  });
  right.append(el('div', 'muted', `outputs ŷ (${a.output === 'sigmoid' ? 'σ, eq 12' : 'softmax'})`), bars);
  // the feature maps
  const act = { sigmoid: 'σ', relu: 'ReLU', tanh: 'tanh' }[a.activation];
  const maps = el('div', 'pad-maps');
  const c1 = Array.from({ length: C1_MAPS }, () => mapCanvas(C1_SIDE, 3));
  const c2 = Array.from({ length: C2_MAPS }, () => mapCanvas(C2_SIDE, 6));
  const c1Row = el('div', 'pad-row'), c2Row = el('div', 'pad-row');
  c1Row.append(...c1);
  c2Row.append(...c2);
  maps.append(el('div', 'muted', `C1: ${C1_MAPS} maps ${C1_SIDE}x${C1_SIDE} after ${act}`), c1Row, el('div', 'muted', `C2: ${C2_MAPS} maps ${C2_SIDE}x${C2_SIDE} after ${act}`), c2Row);
  pad.append(left, middle, right, maps);
  root.append(pad);

  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const blank = () => {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, PAD_SIDE, PAD_SIDE);
  };
  blank();
  ctx.fillStyle = ctx.strokeStyle = '#000';
  ctx.lineWidth = STROKE_WIDTH;
  ctx.lineCap = ctx.lineJoin = 'round';

  // activations as grey: σ in [0, 1]; tanh in [−1, 1]; ReLU up to each map's maximum
  const mapGrey = (values: Float64Array, offset: number, n: number): ((v: number) => number) => {
    if (a.activation === 'tanh') return (v) => 127.5 + 127.5 * v;
    if (a.activation === 'relu') {
      let m = 1e-12;
      for (let i = 0; i < n; i++) m = Math.max(m, values[offset + i]);
      return (v) => (255 * v) / m;
    }
    return (v) => 255 * v;
  };

  const controller: PadController = {
    pending: false,
    updates: 0,
    last: null,
    canvas,
    clear: () => {
      blank();
      ctx.fillStyle = '#000';
      schedule();
    },
    clientPoint: (x, y) => {
      const r = canvas.getBoundingClientRect();
      return { x: r.left + canvas.clientLeft + (x * canvas.clientWidth) / canvas.width, y: r.top + canvas.clientTop + (y * canvas.clientHeight) / canvas.height };
    },
  };

  function render(r: DrawingResult | null): void {
    paint(input, r ? r.pixels : null, 0, (v) => v);
    answer.textContent = r ? String(r.prediction) : '–';
    status.textContent = r ? `predicted ${r.prediction}` : 'draw a digit';
    rows.forEach(({ bar, value }, i) => {
      const y = r ? r.outputs[i] : 0;
      bar.style.width = `${Math.max(0, Math.min(1, y)) * 100}%`;
      bar.classList.toggle('best', r !== null && i === r.prediction);
      value.textContent = r ? y.toFixed(4) : '';
    });
    const s1 = C1_SIDE * C1_SIDE, s2 = C2_SIDE * C2_SIDE;
    c1.forEach((c, p) => paint(c, r ? r.c1 : null, p * s1, r ? mapGrey(r.c1, p * s1, s1) : () => 0));
    c2.forEach((c, q) => paint(c, r ? r.c2 : null, q * s2, r ? mapGrey(r.c2, q * s2, s2) : () => 0));
  }

  function update(): void {
    const img = ctx.getImageData(0, 0, PAD_SIDE, PAD_SIDE);
    const r = classifyDrawing(net, img.data, PAD_SIDE, PAD_SIDE);
    render(r);
    controller.last = r;
    controller.updates++;
    controller.pending = false;
  }

  function schedule(): void {
    if (controller.pending) return;
    controller.pending = true;
    requestAnimationFrame(update);
  }

  // drawing: one pointer at a time; a press alone leaves a dot
  let active = -1, lastX = 0, lastY = 0;
  const at = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left - canvas.clientLeft) * canvas.width) / canvas.clientWidth, ((e.clientY - r.top - canvas.clientTop) * canvas.height) / canvas.clientHeight];
  };
  canvas.addEventListener('pointerdown', (e) => {
    if (active !== -1 || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    active = e.pointerId;
    try {
      canvas.setPointerCapture(e.pointerId); // keep the stroke when the pointer leaves the pad
    } catch {
      /* a pointer that cannot be captured still draws */
    }
    [lastX, lastY] = at(e);
    ctx.beginPath();
    ctx.arc(lastX, lastY, STROKE_WIDTH / 2, 0, 2 * Math.PI);
    ctx.fill();
    schedule();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (e.pointerId !== active) return;
    e.preventDefault();
    const coalesced = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    ctx.beginPath();
    ctx.moveTo(lastX, lastY);
    for (const p of coalesced.length > 0 ? coalesced : [e]) {
      [lastX, lastY] = at(p);
      ctx.lineTo(lastX, lastY);
    }
    ctx.stroke();
    schedule();
  });
  const end = (e: PointerEvent) => {
    if (e.pointerId === active) active = -1;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('lostpointercapture', end);
  clearButton.addEventListener('click', () => controller.clear());

  render(null);
  (window.cnnPads ??= []).push(controller);
  return controller;
}
