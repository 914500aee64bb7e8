/**
 * Turning a picture of a digit into an MNIST input the way MNIST itself was made (LeCun et al.):
 * ink white on black, the digit cropped to its ink, scaled with anti-aliasing to fit a 20x20 box
 * keeping its aspect ratio, then placed in 28x28 so that its centre of mass is at the centre.
 * What is ink is decided against the picture's own background: opacity on a transparent canvas,
 * otherwise the distance from a smooth surface fitted to the paper and clamped to its local level
 * (background-fit.ts), so that uneven light and hard-edged shadows are not ink, and beyond the
 * paper's own noise. No Node APIs: this is bundled into a web page too.
 */
import { CnnError } from '../errors.js';
import { fitBackground, localBackground, type BackgroundRows } from './background-fit.js';
import type { GreyImage } from './grey-image.js';

export type Background = 'light' | 'dark' | 'transparent';

export interface Prepared {
  /** 784 bytes, row-major, 0 background .. 255 ink, like the MNIST files. */
  pixels: Uint8Array;
  /** Light paper (dark ink, inverted), dark paper (light ink), or a transparent canvas (ink is opacity). */
  background: Background;
  /** background === 'light'. */
  inverted: boolean;
  /** The ink's bounding box in the original picture. */
  box: { x: number; y: number; width: number; height: number };
}

/** The outermost ring of pixels (each once). */
function* border(w: number, h: number): Generator<number> {
  for (let x = 0; x < w; x++) {
    yield x;
    if (h > 1) yield (h - 1) * w + x;
  }
  for (let y = 1; y < h - 1; y++) {
    yield y * w;
    if (w > 1) yield y * w + w - 1;
  }
}

/** The levels of the outermost ring of pixels (those `keep` accepts, if any of them does). */
function borderLevels(values: Float64Array, w: number, h: number, keep?: (x: number, y: number) => boolean): Float64Array {
  const ring = [...border(w, h)], kept = keep ? ring.filter((i) => keep(i % w, Math.floor(i / w))) : ring;
  return Float64Array.from(kept.length > 0 ? kept : ring, (i) => values[i]);
}

/**
 * One level per pixel to find the ink in. Without transparency: the luma. On a canvas whose border
 * is mostly transparent (a drawing app's export), the opacity itself is the ink, whatever its
 * colour (white strokes on transparent are as common as black). With some transparency elsewhere
 * (rounded corners, soft strokes on paper): composited over the paper seen at the border, so that
 * transparent pixels look like that paper, not like white.
 */
function inkSource(img: GreyImage): { level: Float64Array; transparent: boolean } {
  const { width: w, height: h, grey, alpha } = img;
  if (!alpha) return { level: grey, transparent: false };
  let clear = 0, ring = 0, paper = 0, opacity = 0;
  for (const i of border(w, h)) {
    ring++;
    if (alpha[i] < 0.5) clear++;
    paper += alpha[i] * grey[i];
    opacity += alpha[i];
  }
  if (clear > ring / 2) return { level: alpha, transparent: true };
  const under = paper / opacity;
  const level = new Float64Array(w * h);
  for (let i = 0; i < level.length; i++) level[i] = alpha[i] * grey[i] + (1 - alpha[i]) * under;
  return { level, transparent: false };
}

/**
 * Area-averaging resize (each output pixel is the mean of the source area it covers, with
 * fractional edges): the anti-aliased downscaling that keeps thin strokes; for the occasional
 * upscale of a tiny digit it is a box filter.
 */
export function resizeArea(src: Float64Array, sw: number, sh: number, dw: number, dh: number): Float64Array {
  const out = new Float64Array(dw * dh);
  const fx = sw / dw, fy = sh / dh;
  for (let oy = 0; oy < dh; oy++) {
    const y0 = oy * fy, y1 = y0 + fy;
    for (let ox = 0; ox < dw; ox++) {
      const x0 = ox * fx, x1 = x0 + fx;
      let s = 0;
      for (let y = Math.floor(y0); y < Math.min(Math.ceil(y1), sh); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(Math.ceil(x1), sw); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          s += wy * wx * src[y * sw + x];
        }
      }
      out[oy * dw + ox] = s / (fx * fy);
    }
  }
  return out;
}

export function mnistify(img: GreyImage, source: string): Prepared {
  const { width: w, height: h } = img;
  // the background is fitted as a smooth surface (uneven light is not ink); the ink is what lies
  // away from it: below it on light paper (dark on light: inverted), above it on dark paper or a
  // transparent canvas. On light paper ink is measured relative to the paper's brightness there
  // (ink reflects a fraction of the light the paper does), elsewhere as the difference.
  const { level, transparent } = inkSource(img);
  const fit = fitBackground(level, w, h, borderLevels(level, w, h));
  const inverted = !transparent && fit.below > fit.above;
  const background: Background = transparent ? 'transparent' : inverted ? 'light' : 'dark';
  // a hard-edged shadow (a bright patch, for light ink) is paper, not ink: the surface is fitted
  // again without it, and clamped to the paper's local level (background-fit.ts); what lies within
  // the paper's noise of it is not ink either (in a shadow 7 times darker than the paper, measured
  // relative to the paper, noise is magnified 7 times)
  let surface = fit.rows, clamp: BackgroundRows | undefined, noise = 0;
  if (!transparent) {
    const local = localBackground(level, w, h, inverted);
    surface = local.refit(fit.rows, (keep) => borderLevels(level, w, h, keep));
    clamp = local.clamp;
    noise = local.noise;
  }
  const ink = new Float64Array(w * h);
  const bg = new Float64Array(w);
  let contrast = 0, max = 0;
  for (let y = 0; y < h; y++) {
    surface(y, bg);
    clamp?.(y, bg);
    for (let x = 0, i = y * w; x < w; x++, i++) {
      const away = inverted ? bg[x] - level[i] : level[i] - bg[x];
      if (away > contrast) contrast = away;
      ink[i] = away <= noise ? 0 : inverted ? away / Math.max(0.05, bg[x]) : away;
      if (ink[i] > max) max = ink[i];
    }
  }
  if (contrast < 0.15) throw new CnnError(`${source}: no digit found (the picture has no contrast against its background)`);
  if (max === 0) throw new CnnError(`${source}: no digit found (nothing stands out of the paper's noise)`);
  // stretch: the strongest ink is 1
  for (let i = 0; i < ink.length; i++) ink[i] = Math.min(1, Math.max(0, ink[i] / max));
  // crop to the ink (pixels above a small threshold, so that paper noise does not count)
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (ink[y * w + x] > 0.2) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) throw new CnnError(`${source}: no digit found`);
  const cw = x1 - x0 + 1, ch = y1 - y0 + 1;
  const crop = new Float64Array(cw * ch);
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) crop[y * cw + x] = ink[(y0 + y) * w + x0 + x];
  // fit into 20x20 keeping the aspect ratio
  const scale = 20 / Math.max(cw, ch);
  const dw = Math.max(1, Math.round(cw * scale)), dh = Math.max(1, Math.round(ch * scale));
  const small = resizeArea(crop, cw, ch, dw, dh);
  // centre of mass to the centre of the 28x28 field
  let m = 0, mx = 0, my = 0;
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const v = small[y * dw + x];
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const ox = Math.round(14 - mx / m), oy = Math.round(14 - my / m);
  const pixels = new Uint8Array(784);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const tx = x + ox, ty = y + oy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) pixels[ty * 28 + tx] = Math.round(255 * small[y * dw + x]);
    }
  }
  return { pixels, background, inverted, box: { x: x0, y: y0, width: cw, height: ch } };
}
