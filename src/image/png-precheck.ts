/**
 * What a PNG commits to before any of it is decoded: the IHDR chunk (always first) declares the
 * size, and for an interlaced picture the IDAT data may inflate to no more than the size needs.
 * Checked here because pngjs allocates for the declared size at once (a 69-byte file declaring
 * 30000x30000 costs gigabytes) and inflates interlaced data without a limit.
 */
import { inflateSync } from 'node:zlib';
import { CnnError } from '../errors.js';

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlaced: boolean;
}

/** The IHDR fields, or undefined when the file does not start with one (pngjs then says why). */
export function readPngHeader(buf: Uint8Array): PngHeader | undefined {
  if (buf.length < 33) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (v.getUint32(8) !== 13 || String.fromCharCode(buf[12], buf[13], buf[14], buf[15]) !== 'IHDR') return undefined;
  return { width: v.getUint32(16), height: v.getUint32(20), bitDepth: buf[24], colorType: buf[25], interlaced: buf[28] === 1 };
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/** Bytes of filtered scanlines an interlaced picture needs (each row of each pass: a filter byte and its pixels). */
function interlacedBytes(h: PngHeader, bitsPerPixel: number): number {
  let n = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const pw = Math.ceil((h.width - x0) / dx), ph = Math.ceil((h.height - y0) / dy);
    if (pw > 0 && ph > 0) n += ph * (1 + Math.ceil((pw * bitsPerPixel) / 8));
  }
  return n;
}

/** The IDAT chunks' data, joined (walking the chunk list; a malformed list just ends the walk). */
function idatData(buf: Uint8Array): Buffer {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const parts: Uint8Array[] = [];
  for (let at = 8; at + 8 <= buf.length; ) {
    const length = v.getUint32(at);
    const type = String.fromCharCode(buf[at + 4], buf[at + 5], buf[at + 6], buf[at + 7]);
    if (type === 'IEND') break;
    if (type === 'IDAT') parts.push(buf.subarray(at + 8, Math.min(buf.length, at + 8 + length)));
    at += 12 + length;
  }
  return Buffer.concat(parts);
}

/** Refuse, in one line, a PNG that declares more than maxPixels or whose interlaced data inflates past its size. */
export function precheckPng(buf: Uint8Array, source: string, maxPixels: number): void {
  const h = readPngHeader(buf);
  if (!h) return;
  if (h.width * h.height > maxPixels) throw new CnnError(`${source}: ${h.width}x${h.height} pixels, more than the limit of ${maxPixels}`);
  const channels = CHANNELS[h.colorType];
  if (!h.interlaced || channels === undefined) return;
  const bound = interlacedBytes(h, channels * h.bitDepth);
  try {
    inflateSync(idatData(buf), { maxOutputLength: Math.max(1, bound) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CnnError(`${source}: image data inflates to more than the ${bound} bytes a ${h.width}x${h.height} picture needs`);
    }
    // any other fault in the data is pngjs's to report
  }
}
