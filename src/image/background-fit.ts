/**
 * The background of a picture as a smooth surface, so that uneven light (a photo of paper lit from
 * one side, a vignette) is not taken for ink: a quadratic in x and y, fitted by least squares to
 * the pixels that are not ink. Those are found iteratively: first the pixels whose level lies in
 * the range seen on the picture's border, then those within a few noise widths (median absolute
 * deviation) of the last fit, on either side. What is left out, and on which side, is the ink:
 * dark ink lies below the surface, light ink above. What a smooth surface cannot follow, the hard
 * edge of a shadow, is handled by a local estimate of the paper (localBackground, below) that the
 * surface is fitted around and clamped to. No Node APIs: bundled into a web page too.
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
 * are the levels of the picture's outermost ring, taken to be background to start with. Only the
 * pixels `keep` accepts, if given, take part.
 */
export function fitBackground(level: Float64Array, w: number, h: number, borderLevels: Float64Array, keep?: (x: number, y: number) => boolean): BackgroundFit {
  const step = Math.max(1, Math.ceil(Math.sqrt((w * h) / SAMPLES)));
  const nu = (x: number) => (w > 1 ? (2 * x) / (w - 1) - 1 : 0);
  const nt = (y: number) => (h > 1 ? (2 * y) / (h - 1) - 1 : 0);
  const grid = Math.ceil(w / step) * Math.ceil(h / step);
  const us = new Float64Array(grid), ts = new Float64Array(grid), vs = new Float64Array(grid);
  let n = 0;
  for (let y = 0; y < h; y += step) {
    for (let x = 0; x < w; x += step) {
      if (keep && !keep(x, y)) continue;
      us[n] = nu(x);
      ts[n] = nt(y);
      vs[n++] = level[y * w + x];
    }
  }
  if (n < MIN_SAMPLES) return flatFit(borderLevels, vs.subarray(0, n));
  // to start with: what lies within the range of the border's levels (a little widened)
  const lo0 = quantile(borderLevels, 0.02), hi0 = quantile(borderLevels, 0.98), margin = 0.02 + 0.1 * (hi0 - lo0);
  let background = Uint8Array.from(vs.subarray(0, n), (v) => (v >= lo0 - margin && v <= hi0 + margin ? 1 : 0));
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

/** The coarse grid of the local estimate has about this many cells across the picture's shorter side. */
const CELLS = 48;
/** Dark areas narrower than this many cells (a third of the shorter side) are ink; wider ones, paper. */
const PAPER_CELLS = 17;
/** Levels this much above a cell's paper level still count as that paper (noise, JPEG ringing at an edge). */
const TOLERANCE = 0.03;
/** Neighbouring cells whose paper differs by more than this are on either side of a hard edge (a shadow's). */
const EDGE = 0.1;
/** Noise reaches this many standard deviations from the paper's level (in any of millions of pixels). */
const NOISE_SIGMAS = 6;

/** Running maximum (or minimum) over a window of radius r along one axis of a gw x gh grid. */
function extreme(src: Float64Array, gw: number, gh: number, r: number, alongX: boolean, max: boolean): Float64Array {
  const out = new Float64Array(src.length);
  const n = alongX ? gw : gh, lines = alongX ? gh : gw;
  for (let l = 0; l < lines; l++) {
    const at = (i: number) => (alongX ? l * gw + i : i * gw + l);
    for (let i = 0; i < n; i++) {
      let e = src[at(i)];
      for (let j = Math.max(0, i - r); j <= Math.min(n - 1, i + r); j++) e = max ? Math.max(e, src[at(j)]) : Math.min(e, src[at(j)]);
      out[at(i)] = e;
    }
  }
  return out;
}
const square = (src: Float64Array, gw: number, gh: number, r: number, max: boolean) => extreme(extreme(src, gw, gh, r, true, max), gw, gh, r, false, max);

export interface LocalBackground {
  /** Clamps a row of a smooth surface to the local level of the paper: never above it for dark ink, never below it for light ink. */
  clamp: BackgroundRows;
  /**
   * The smooth surface fitted again (with fitBackground, from the levels of the border that `keep`
   * accepts) without the paper on the ink's side of hard edges (a shadow the surface would be bent
   * across); `first` as it is if there is no hard edge.
   */
  refit(first: BackgroundRows, border: (keep: (x: number, y: number) => boolean) => Float64Array): BackgroundRows;
  /** The paper's pixels lie within this of its level (NOISE_SIGMAS standard deviations of the levels in a cell of clear paper): nearer is noise, not ink. */
  noise: number;
}

/**
 * The paper's level where a smooth surface cannot follow it: a hard-edged shadow (or, for light
 * ink, a bright patch) is wider than any stroke, so it survives a morphological closing (for dark
 * ink: a local maximum, then a local minimum, over a square a third of the shorter side wide)
 * that removes the strokes. Computed on a coarse grid: the maximum (for light ink the minimum) of
 * each cell, closed, is the paper's upper envelope; the paper's level lies below it by the median
 * over cells of how far their mean does. At an edge a cell and its neighbours disagree; each pixel
 * takes, of the envelopes of its cell and the 8 around it, the one nearest above its own level
 * (below, for light ink): the shadow's side of the edge gets the shadow's, the lit side the
 * paper's, without the blur an interpolation would put across the edge. Used only to clamp the
 * smooth surface (which stays as it is where there is no such edge), after that is fitted again
 * without the shadow. Work: one pass over the pixels to build the grid, one per row to clamp.
 */
export function localBackground(level: Float64Array, w: number, h: number, darkInk: boolean): LocalBackground {
  const cell = Math.max(1, Math.ceil(Math.min(w, h) / CELLS));
  const gw = Math.ceil(w / cell), gh = Math.ceil(h / cell);
  const sign = darkInk ? 1 : -1; // work on sign * level: the ink lies below the paper
  const column = Int32Array.from({ length: w }, (_, x) => Math.floor(x / cell));
  const coarse = new Float64Array(gw * gh).fill(-Infinity), sums = new Float64Array(gw * gh), squares = new Float64Array(gw * gh);
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / cell) * gw;
    for (let x = 0, i = y * w; x < w; x++, i++) {
      const k = row + column[x], v = sign * level[i];
      if (v > coarse[k]) coarse[k] = v;
      sums[k] += v;
      squares[k] += v * v;
    }
  }
  const r = Math.floor(PAPER_CELLS / 2);
  const paper = square(square(coarse, gw, gh, r, true), gw, gh, r, false);
  // the paper's pixels lie below its upper envelope by `below` on average (the median over cells:
  // most cells are paper), and spread by `sigma` (the lower quartile over cells: a digit cropped
  // tightly may leave fewer than half of them clear of its strokes' edges)
  const gaps = new Float64Array(gw * gh), spreads = new Float64Array(gw * gh);
  for (let k = 0; k < gw * gh; k++) {
    const cx = k % gw, cy = Math.floor(k / gw);
    const n = (Math.min(w, (cx + 1) * cell) - cx * cell) * (Math.min(h, (cy + 1) * cell) - cy * cell), mean = sums[k] / n;
    gaps[k] = paper[k] - mean;
    spreads[k] = Math.sqrt(Math.max(0, squares[k] / n - mean * mean));
  }
  const below = quantile(gaps, 0.5), sigma = quantile(spreads, 0.25);
  // each cell's candidates: the levels of the 3x3 cells around it, ascending
  const candidates = new Float64Array(9 * gw * gh), counts = new Uint8Array(gw * gh);
  for (let cy = 0; cy < gh; cy++) {
    for (let cx = 0; cx < gw; cx++) {
      const k = cy * gw + cx, list: number[] = [];
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) if (cx + dx >= 0 && cx + dx < gw && cy + dy >= 0 && cy + dy < gh) list.push(paper[(cy + dy) * gw + cx + dx]);
      }
      list.sort((a, b) => a - b);
      candidates.set(list, 9 * k);
      counts[k] = list.length;
    }
  }
  const clamp: BackgroundRows = (y, out) => {
    const row = Math.floor(y / cell) * gw;
    for (let x = 0, i = y * w; x < out.length; x++, i++) {
      const k = row + column[x], v = sign * level[i] - TOLERANCE;
      let at = 9 * k;
      const last = at + counts[k] - 1;
      while (at < last && candidates[at] < v) at++;
      const local = sign * (candidates[at] - below);
      out[x] = darkInk ? Math.min(out[x], local) : Math.max(out[x], local);
    }
  };
  const refit: LocalBackground['refit'] = (first, border) => {
    // a hard edge: neighbouring cells whose paper differs by more than EDGE; the shadow is what
    // lies below (on the ink's side of) the middle of its edges
    const middles: number[] = [];
    for (let cy = 0; cy < gh; cy++) {
      for (let cx = 0; cx < gw; cx++) {
        const k = cy * gw + cx;
        for (const j of [cx + 1 < gw ? k + 1 : -1, cy + 1 < gh ? k + gw : -1]) {
          if (j >= 0 && Math.abs(paper[k] - paper[j]) > EDGE) middles.push((paper[k] + paper[j]) / 2);
        }
      }
    }
    if (middles.length === 0) return first;
    const threshold = quantile(middles, 0.5);
    const lit = (x: number, y: number) => paper[Math.floor(y / cell) * gw + Math.floor(x / cell)] >= threshold;
    return fitBackground(level, w, h, border(lit), lit).rows;
  };
  return { clamp, refit, noise: NOISE_SIGMAS * sigma };
}
