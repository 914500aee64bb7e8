/**
 * What a PNG commits to before any of it is decoded: the IHDR chunk (always first) declares the
 * size, and the IDAT data must inflate to exactly what that size needs. Checked here, with
 * messages that say what is wrong with the file, because pngjs allocates for the declared size at
 * once (a 69-byte file declaring 30000x30000 costs gigabytes), spends time and memory on every row
 * (a 1x40000000 picture of 78 kB exhausts the heap), inflates interlaced data without a limit, and
 * reports damage in its own terms ("have should not go down", "read requests waitng on finished
 * stream").
 */
import { crc32, inflateSync } from 'node:zlib';
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

/** Bytes of filtered scanlines the picture needs (each row, of each pass when interlaced: a filter byte and its pixels). */
function scanlineBytes(h: PngHeader, bitsPerPixel: number): number {
  const rows = (pw: number, ph: number) => (pw > 0 && ph > 0 ? ph * (1 + Math.ceil((pw * bitsPerPixel) / 8)) : 0);
  if (!h.interlaced) return rows(h.width, h.height);
  let n = 0;
  for (const [x0, y0, dx, dy] of ADAM7) n += rows(Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy));
  return n;
}

/**
 * Walks the chunk list from IHDR to IEND, checking that each chunk lies within the file and
 * matches its CRC; returns the IDAT chunks' data, joined, and where IEND ends.
 */
function walkChunks(buf: Uint8Array, source: string): { idat: Buffer; end: number } {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const parts: Uint8Array[] = [];
  for (let at = 8; ; ) {
    if (at + 12 > buf.length) throw new CnnError(`${source}: the file ends early (a truncated PNG: no IEND chunk after byte ${at})`);
    const length = v.getUint32(at);
    const type = String.fromCharCode(buf[at + 4], buf[at + 5], buf[at + 6], buf[at + 7]);
    const name = /^[A-Za-z]{4}$/.test(type) ? type : 'with a bad type';
    if (at + 12 + length > buf.length) throw new CnnError(`${source}: the file ends early (a truncated PNG: chunk ${name} at byte ${at} declares ${length} bytes)`);
    if (crc32(buf.subarray(at + 4, at + 8 + length)) >>> 0 !== v.getUint32(at + 8 + length)) {
      throw new CnnError(`${source}: corrupt PNG (chunk ${name} at byte ${at} does not match its CRC)`);
    }
    if (type === 'IDAT') parts.push(buf.subarray(at + 8, at + 8 + length));
    at += 12 + length;
    if (type === 'IEND') return { idat: Buffer.concat(parts), end: at };
  }
}

export interface ImageLimits {
  maxPixels: number;
  maxSide: number;
}

/** One line for a picture over the limits (PNG and JPEG alike). */
export function checkSize(width: number, height: number, source: string, limits: ImageLimits): void {
  if (width > limits.maxSide || height > limits.maxSide) {
    throw new CnnError(`${source}: ${width}x${height} pixels, more than the limit of ${limits.maxSide} pixels a side`);
  }
  if (width * height > limits.maxPixels) throw new CnnError(`${source}: ${width}x${height} pixels, more than the limit of ${limits.maxPixels}`);
}

/**
 * Refuse, in one line, a PNG over the limits, truncated, damaged, or whose data inflates to more or
 * less than its size needs. Returns the file up to the end of IEND (what follows, which some tools
 * append and pngjs refuses, is ignored), or the file itself when its IHDR or colour type is not
 * one this check knows (pngjs then says what is wrong).
 */
export function precheckPng(buf: Uint8Array, source: string, limits: ImageLimits): Uint8Array {
  const h = readPngHeader(buf);
  if (!h) return buf;
  checkSize(h.width, h.height, source, limits);
  const channels = CHANNELS[h.colorType];
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(h.bitDepth)) return buf;
  const { idat, end } = walkChunks(buf, source);
  const bound = scanlineBytes(h, channels * h.bitDepth);
  let size: number;
  try {
    size = inflateSync(idat, { maxOutputLength: Math.max(1, bound) }).length;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CnnError(`${source}: image data inflates to more than the ${bound} bytes a ${h.width}x${h.height} picture needs`);
    }
    if (code === 'Z_BUF_ERROR') throw new CnnError(`${source}: corrupt PNG (its image data ends early)`);
    throw new CnnError(`${source}: corrupt PNG (its image data does not inflate: ${(e as Error).message})`);
  }
  if (size < bound) throw new CnnError(`${source}: corrupt PNG (its image data inflates to ${size} bytes, fewer than the ${bound} a ${h.width}x${h.height} picture needs)`);
  return buf.subarray(0, end);
}
