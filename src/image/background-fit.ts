/**
 * The background of a picture as a smooth surface, so that uneven light (a photo of paper lit from
 * one side, a vignette) is not taken for ink: a quadratic in x and y, fitted by least squares to
 * the pixels that are not ink. Those are found iteratively: first the pixels whose level lies in
 * the range seen on the picture's border, then those within a few noise widths (median absolute
 * deviation) of the last fit, on either side. What is left out, and on which side, is the ink:
 * dark ink lies below the surface, light ink above. No Node APIs: bundled into a web page too.
 */

/** At most about this many pixels (on a regular grid) take part in the fit. */
const SAMPLES = 40_000;
const TERMS = 6; // 1, u, t, u², ut, t²
const MIN_SAMPLES = 4 * TERMS;

/** Fills `out` (one row, the picture's width) with the background level of row y. */
export type BackgroundRows = (y: number, out: Float64Array) => void;

export interface BackgroundFit {
  rows: BackgroundRows;
  /** How far, summed over the sampled pixels left out of the fit, they lie above and below it. */
  above: number;
  below: number;
}

/** Solve a x = b (n x n, row-major) by Gaussian elimination with partial pivoting; null if singular. */
function solve(a: Float64Array, b: Float64Array): Float64Array | null {
  const n = b.length;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]) > Math.abs(a[piv * n + col])) piv = r;
    if (Math.abs(a[piv * n + col]) < 1e-12) return null;
    if (piv !== col) {
      for (let c = 0; c < n; c++) [a[col * n + c], a[piv * n + c]] = [a[piv * n + c], a[col * n + c]];
      [b[col], b[piv]] = [b[piv], b[col]];
    }
    for (let r = col + 1; r < n; r++) {
      const f = a[r * n + col] / a[col * n + col];
      for (let c = col; c < n; c++) a[r * n + c] -= f * a[col * n + c];
      b[r] -= f * b[col];
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r];
    for (let c = r + 1; c < n; c++) s -= a[r * n + c] * x[c];
    x[r] = s / a[r * n + r];
  }
  return x;
}

/** The q-quantile (0..1) of some values. */
function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  const at = q * (s.length - 1), i = Math.floor(at);
  return i + 1 < s.length ? s[i] + (at - i) * (s[i + 1] - s[i]) : s[i];
}

const count = (mask: Uint8Array) => mask.reduce((s, x) => s + x, 0);

/** Too few pixels for a surface: the border's mean level everywhere. */
function flatFit(borderLevels: Float64Array, vs: Float64Array): BackgroundFit {
  const mean = borderLevels.reduce((s, v) => s + v, 0) / borderLevels.length;
  let above = 0, below = 0;
  for (const v of vs) {
    if (v > mean) above += v - mean;
    else below += mean - v;
  }
  return { rows: (_y, out) => void out.fill(mean), above, below };
}

/**
 * The background of `level` (w x h, row-major), and which way the ink lies from it. `borderLevels`
 * are the levels of the picture's outermost ring, taken to be background to start with.
 */
export function fitBackground(level: Float64Array, w: number, h: number, borderLevels: Float64Array): BackgroundFit {
  const step = Math.max(1, Math.ceil(Math.sqrt((w * h) / SAMPLES)));
  const nu = (x: number) => (w > 1 ? (2 * x) / (w - 1) - 1 : 0);
  const nt = (y: number) => (h > 1 ? (2 * y) / (h - 1) - 1 : 0);
  const n = Math.ceil(w / step) * Math.ceil(h / step);
  const us = new Float64Array(n), ts = new Float64Array(n), vs = new Float64Array(n);
  for (let y = 0, k = 0; y < h; y += step) {
    for (let x = 0; x < w; x += step, k++) {
      us[k] = nu(x);
      ts[k] = nt(y);
      vs[k] = level[y * w + x];
    }
  }
  if (n < MIN_SAMPLES) return flatFit(borderLevels, vs);
  // to start with: what lies within the range of the border's levels (a little widened)
  const lo0 = quantile(borderLevels, 0.02), hi0 = quantile(borderLevels, 0.98), margin = 0.02 + 0.1 * (hi0 - lo0);
  let background = Uint8Array.from(vs, (v) => (v >= lo0 - margin && v <= hi0 + margin ? 1 : 0));
  if (count(background) < MIN_SAMPLES) background.fill(1);
  let coef: Float64Array | null = null;
  const residuals = new Float64Array(n);
  for (let iter = 0; iter < 10; iter++) {
    const a = new Float64Array(TERMS * TERMS), b = new Float64Array(TERMS);
    for (let k = 0; k < n; k++) {
      if (!background[k]) continue;
      const u = us[k], t = ts[k], p = [1, u, t, u * u, u * t, t * t];
      for (let i = 0; i < TERMS; i++) {
        b[i] += p[i] * vs[k];
        for (let j = 0; j < TERMS; j++) a[i * TERMS + j] += p[i] * p[j];
      }
    }
    for (let i = 0; i < TERMS; i++) a[i * TERMS + i] += 1e-9 * n; // a whisker of ridge: a one-pixel-high picture has no t terms
    const c = solve(a, b);
    if (!c) break;
    coef = c;
    const kept: number[] = [];
    for (let k = 0; k < n; k++) {
      const u = us[k], t = ts[k];
      residuals[k] = vs[k] - (c[0] + c[1] * u + c[2] * t + c[3] * u * u + c[4] * u * t + c[5] * t * t);
      if (background[k]) kept.push(residuals[k]);
    }
    const med = quantile(kept, 0.5);
    const spread = Math.max(3 * 1.4826 * quantile(kept.map((r) => Math.abs(r - med)), 0.5), 0.02);
    const next = Uint8Array.from(residuals, (r) => (Math.abs(r - med) <= spread ? 1 : 0));
    if (next.every((x, k) => x === background[k]) || count(next) < MIN_SAMPLES) break;
    background = next;
  }
  if (!coef) return flatFit(borderLevels, vs);
  let above = 0, below = 0;
  let lo = Infinity, hi = -Infinity;
  for (let k = 0; k < n; k++) {
    if (background[k]) {
      lo = Math.min(lo, vs[k]);
      hi = Math.max(hi, vs[k]);
    } else if (residuals[k] > 0) above += residuals[k];
    else below -= residuals[k];
  }
  const c = coef;
  const rows: BackgroundRows = (y, out) => {
    // along a row the surface is a parabola in u, kept within the levels the background was seen
    // at (no wild extrapolation into corners)
    const t = nt(y), p = c[0] + c[2] * t + c[5] * t * t, q = c[1] + c[4] * t, r = c[3];
    for (let x = 0; x < out.length; x++) {
      const u = nu(x);
      out[x] = Math.min(hi, Math.max(lo, p + q * u + r * u * u));
    }
  };
  return { rows, above, below };
}
