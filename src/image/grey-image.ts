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

/** Grey levels (ITU-R BT.601 luma) and, when some pixel is not opaque, the opacity of RGBA pixels. */
export function greyFromRgba(rgba: ArrayLike<number>, width: number, height: number): GreyImage {
  const grey = new Float64Array(width * height);
  let alpha: Float64Array | undefined;
  for (let i = 0; i < grey.length; i++) {
    const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2], a = rgba[4 * i + 3];
    grey[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255; // ITU-R BT.601 luma
    if (a !== 255) alpha ??= new Float64Array(grey.length).fill(1);
    if (alpha) alpha[i] = a / 255;
  }
  return alpha ? { width, height, grey, alpha } : { width, height, grey };
}
