/**
 * Decoding a user's picture (PNG or JPEG, colour or grey, with or without alpha) to grey levels in
 * [0, 1] (0 black, 1 white) and, when some pixel is not opaque, the opacity: what transparency
 * means (a transparent canvas, paper showing through) is decided in mnistify.ts. A JPEG is turned
 * upright as its EXIF orientation says (a phone's portrait photo is stored on its side), as
 * viewers show it. The RGBA -> grey conversion itself is grey-image.ts, shared with the drawing pad.
 * PNG by pngjs, JPEG by jpeg-js: pure JavaScript decoders, nothing to compile.
 *
 * Size limits, checked from the header before any decoding. Decoding costs about 40 bytes of
 * memory a pixel at its peak (jpeg-js keeps each 8x8 block of coefficients as its own array: 455
 * MB resident for a 12 MP colour JPEG, of which the grey levels kept afterwards are 96 MB), and
 * pngjs spends time and memory on every row whatever its width. A digit needs far less: MNIST's
 * are 20x20 in a 28x28 field, and a digit a few hundred pixels high is plenty. So:
 * - 25 megapixels: more than any phone's default photo (12 MP, 4032x3024) and the common camera
 *   sizes up to 24 MP (6000x4000, 6016x4016); a 48-50 MP "high resolution" photo is refused,
 *   with its size in the message, and is better scaled down. About 1 GB at the peak.
 * - 16384 pixels a side: no camera's side is longer (the 200 MP phone sensors are 16320 wide),
 *   and it keeps a tiny file declaring one column of 40 million rows from costing minutes and
 *   gigabytes in pngjs's per-row work.
 * - 600 MiB for jpeg-js's own accounting of a decode (jpegDecodeBytes): a 25 MP colour JPEG
 *   without subsampling needs 525, so only pictures with more than three components (CMYK, or a
 *   file declaring 255) hit it.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { CnnError, describeError } from '../errors.js';
import { readRegularFile, type FileKind } from '../io/read-file.js';
import { greyFromRgba, type GreyImage } from './grey-image.js';
import { jpegDecodeBytes, orientationMap, readJpegHeader } from './jpeg-header.js';
import { checkSize, precheckPng, type ImageLimits } from './png-precheck.js';

export type { GreyImage } from './grey-image.js';

/** Larger pictures are refused rather than decoded into gigabytes (see above for the numbers). */
export const MAX_IMAGE_BYTES = 50 * 1024 * 1024;
export const MAX_IMAGE_PIXELS = 25_000_000;
export const MAX_IMAGE_SIDE = 16_384;
export const MAX_JPEG_DECODE_MB = 600;
const LIMITS: ImageLimits = { maxPixels: MAX_IMAGE_PIXELS, maxSide: MAX_IMAGE_SIDE };

const IMAGE_FILE: FileKind = {
  expected: 'a PNG or JPEG image',
  cannotRead: 'cannot read image',
  maxBytes: MAX_IMAGE_BYTES,
  tooLarge: (size) => `file is ${size} bytes, more than the ${MAX_IMAGE_BYTES}-byte limit for images`,
};

export function readImage(path: string): GreyImage {
  return decodeImage(readRegularFile(path, IMAGE_FILE), path);
}

const tooMuchMemory = (source: string) => new CnnError(`${source}: decoding this JPEG needs more than the ${MAX_JPEG_DECODE_MB} MiB allowed (too many pixels or colour components)`);

export function decodeImage(buf: Uint8Array, source: string): GreyImage {
  const isPng = buf.length > 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47;
  const isJpeg = buf.length > 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  if (!isPng && !isJpeg) throw new CnnError(`${source}: not a PNG or JPEG image (unrecognised first bytes)`);
  let orientation = 1;
  if (isPng) {
    buf = precheckPng(buf, source, LIMITS);
  } else {
    const h = readJpegHeader(buf);
    if (h) {
      checkSize(h.width, h.height, source, LIMITS);
      if (jpegDecodeBytes(h) > MAX_JPEG_DECODE_MB * 2 ** 20) throw tooMuchMemory(source);
      orientation = h.orientation;
    }
  }
  let width: number, height: number, rgba: Uint8Array;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
      ({ width, height } = png);
      rgba = png.data;
    } else {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: MAX_JPEG_DECODE_MB });
      ({ width, height } = img);
      rgba = img.data;
    }
  } catch (e) {
    // the header checks above come first; these are for a file that declares a second frame
    const message = describeError(e);
    if (/maxMemoryUsageInMB/.test(message)) throw tooMuchMemory(source);
    if (/maxResolutionInMP/.test(message)) throw new CnnError(`${source}: a frame of more than the limit of ${MAX_IMAGE_PIXELS} pixels`);
    throw new CnnError(`${source}: cannot decode ${isPng ? 'PNG' : 'JPEG'} (${message})`);
  }
  checkSize(width, height, source, LIMITS);
  // to the upright picture: stored pixel (x, y) goes to base + x * ax + y * ay
  return greyFromRgba(rgba, width, height, orientationMap(orientation, width, height));
}
