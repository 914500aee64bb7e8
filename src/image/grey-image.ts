/**
 * A picture as grey levels and opacity, the form mnistify.ts reads, and the one conversion to it
 * from 8-bit RGBA: used by decode.ts for PNG and JPEG files and by the drawing pad for its
 * canvas, so that a drawing and the same drawing saved as a PNG are read identically. No Node
 * APIs: this is bundled into a web page too.
 */

export interface GreyImage {
  width: number;
  height: number;
  /** Row-major luma of the colour in [0, 1] (0 black, 1 white), alpha not applied. */
  grey: Float64Array;
  /** Row-major opacity in [0, 1]; absent when every pixel is opaque. */
  alpha?: Float64Array;
}

/** Where each stored pixel goes in the upright picture: (x, y) to base + x·ax + y·ay, of width x height. */
export interface Orientation {
  width: number;
  height: number;
  base: number;
  ax: number;
  ay: number;
}

/**
 * Grey levels (ITU-R BT.601 luma) and, when some pixel is not opaque, the opacity of RGBA pixels;
 * turned upright on the way when an orientation is given (a JPEG's EXIF, jpeg-header.ts).
 */
export function greyFromRgba(rgba: ArrayLike<number>, width: number, height: number, o?: Orientation): GreyImage {
  const to = o ?? { width, height, base: 0, ax: 1, ay: width };
  const grey = new Float64Array(width * height);
  let alpha: Float64Array | undefined;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0, d = to.base + y * to.ay; x < width; x++, i++, d += to.ax) {
      const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2], a = rgba[4 * i + 3];
      grey[d] = (0.299 * r + 0.587 * g + 0.114 * b) / 255; // ITU-R BT.601 luma
      if (a !== 255) alpha ??= new Float64Array(grey.length).fill(1);
      if (alpha) alpha[d] = a / 255;
    }
  }
  return alpha ? { width: to.width, height: to.height, grey, alpha } : { width: to.width, height: to.height, grey };
}
