/**
 * Decoding a user's picture (PNG or JPEG, any size, colour or grey, with or without alpha) to
 * grey levels in [0, 1] (0 black, 1 white) and, when some pixel is not opaque, the opacity: what
 * transparency means (a transparent canvas, paper showing through) is decided in mnistify.ts.
 * The RGBA -> grey conversion itself is grey-image.ts, shared with the drawing pad.
 * PNG by pngjs, JPEG by jpeg-js: pure JavaScript decoders, nothing to compile.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { CnnError, describeError } from '../errors.js';
import { readRegularFile, type FileKind } from '../io/read-file.js';
import { greyFromRgba, type GreyImage } from './grey-image.js';
import { precheckPng } from './png-precheck.js';

export type { GreyImage } from './grey-image.js';

/** Larger pictures are refused rather than decoded into gigabytes. */
export const MAX_IMAGE_BYTES = 50 * 1024 * 1024;
export const MAX_IMAGE_PIXELS = 40_000_000;

const IMAGE_FILE: FileKind = {
  expected: 'a PNG or JPEG image',
  cannotRead: 'cannot read image',
  maxBytes: MAX_IMAGE_BYTES,
  tooLarge: (size) => `file is ${size} bytes, more than the ${MAX_IMAGE_BYTES}-byte limit for images`,
};

export function readImage(path: string): GreyImage {
  return decodeImage(readRegularFile(path, IMAGE_FILE), path);
}

export function decodeImage(buf: Uint8Array, source: string): GreyImage {
  const isPng = buf.length > 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47;
  const isJpeg = buf.length > 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  if (!isPng && !isJpeg) throw new CnnError(`${source}: not a PNG or JPEG image (unrecognised first bytes)`);
  if (isPng) precheckPng(buf, source, MAX_IMAGE_PIXELS);
  let width: number, height: number, rgba: Uint8Array;
  try {
    if (isPng) {
      const png = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
      ({ width, height } = png);
      rgba = png.data;
    } else {
      const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
      ({ width, height } = img);
      rgba = img.data;
    }
  } catch (e) {
    throw new CnnError(`${source}: cannot decode ${isPng ? 'PNG' : 'JPEG'} (${describeError(e)})`);
  }
  if (width * height > MAX_IMAGE_PIXELS) throw new CnnError(`${source}: ${width}x${height} pixels, more than the limit of ${MAX_IMAGE_PIXELS}`);
  return greyFromRgba(rgba, width, height);
}
