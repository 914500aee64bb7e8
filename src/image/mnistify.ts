/**
 * Turning a picture of a digit into an MNIST input the way MNIST itself was made (LeCun et al.):
 * ink white on black, the digit cropped to its ink, scaled with anti-aliasing to fit a 20x20 box
 * keeping its aspect ratio, then placed in 28x28 so that its centre of mass is at the centre.
 */
import { CnnError } from '../errors.js';
import type { GreyImage } from './decode.js';

export interface Prepared {
  /** 784 bytes, row-major, 0 background .. 255 ink, like the MNIST files. */
  pixels: Uint8Array;
  inverted: boolean;
  /** The ink's bounding box in the original picture. */
  box: { x: number; y: number; width: number; height: number };
}

/** Mean of the outermost ring of pixels: the background's grey level. */
function borderMean(img: GreyImage): number {
  const { width: w, height: h, grey } = img;
  let s = 0, n = 0;
  for (let x = 0; x < w; x++) {
    s += grey[x] + grey[(h - 1) * w + x];
    n += 2;
  }
  for (let y = 1; y < h - 1; y++) {
    s += grey[y * w] + grey[y * w + w - 1];
    n += 2;
  }
  return s / n;
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
  // ink in [0, 1]: dark-on-light pictures (a light border) are inverted
  const bg = borderMean(img);
  const inverted = bg > 0.5;
  const ink = new Float64Array(w * h);
  for (let i = 0; i < ink.length; i++) ink[i] = inverted ? 1 - img.grey[i] : img.grey[i];
  // stretch contrast between the background level and the darkest ink
  const bgInk = inverted ? 1 - bg : bg;
  let max = 0;
  for (const v of ink) if (v > max) max = v;
  if (max - bgInk < 0.15) throw new CnnError(`${source}: no digit found (the picture has no contrast against its background)`);
  for (let i = 0; i < ink.length; i++) ink[i] = Math.min(1, Math.max(0, (ink[i] - bgInk) / (max - bgInk)));
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
  return { pixels, inverted, box: { x: x0, y: y0, width: cw, height: ch } };
}
