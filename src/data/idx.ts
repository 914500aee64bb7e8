/**
 * IDX reader (the format of the MNIST files): big-endian header, then unsigned bytes.
 *   images: magic 2051, n, rows, cols, then n*rows*cols bytes
 *   labels: magic 2049, n, then n bytes
 * Files may be raw or gzip-compressed (detected by the gzip magic bytes 1f 8b, whatever the name).
 * Everything is validated before any allocation proportional to the header: a header that lies
 * about its size is rejected by comparing it with the actual file length.
 */
import { gunzipSync } from 'node:zlib';
import { CnnError, describeError } from '../errors.js';
import { readRegularFile, type FileKind } from '../io/read-file.js';

export const IMAGES_MAGIC = 2051;
export const LABELS_MAGIC = 2049;
/** Largest decompressed IDX file accepted (the MNIST training images are 47 MB). */
export const MAX_IDX_BYTES = 512 * 1024 * 1024;

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count*rows*cols bytes, row-major per image: pixels[n*rows*cols + r*cols + c]. */
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  labels: Uint8Array;
}

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

const IDX_FILE: FileKind = {
  expected: 'an IDX file',
  cannotRead: 'cannot read file',
  maxBytes: MAX_IDX_BYTES,
  tooLarge: (size) => `file is ${size} bytes, larger than the ${MAX_IDX_BYTES}-byte limit for IDX files`,
};

/** Read a file into memory, gunzipping it if it is gzip; one-line CnnError on any failure. */
export function readMaybeGzip(path: string): Uint8Array {
  return decodeMaybeGzip(readRegularFile(path, IDX_FILE), path);
}

/** The bytes themselves, or their gunzipped content when they start with the gzip magic. */
export function decodeMaybeGzip(raw: Uint8Array, source: string): Uint8Array {
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: MAX_IDX_BYTES });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CnnError(`${source}: gzip data decompresses to more than the ${MAX_IDX_BYTES}-byte limit for IDX files`);
    }
    throw new CnnError(`${source}: corrupt gzip data (${describeError(e)})`);
  }
}

function header(buf: Uint8Array, source: string, words: number): number[] {
  if (buf.length < 4 * words) {
    throw new CnnError(`${source}: file is ${buf.length} bytes, too short for a ${4 * words}-byte IDX header`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: number[] = [];
  for (let i = 0; i < words; i++) out.push(view.getUint32(4 * i, false));
  return out;
}

/** Parse an IDX image file (magic 2051). `source` names the file in error messages. */
export function parseIdxImages(buf: Uint8Array, source: string): IdxImages {
  const [magic] = header(buf, source, 1);
  if (magic !== IMAGES_MAGIC) {
    throw new CnnError(`${source}: wrong IDX magic number ${magic}, expected ${IMAGES_MAGIC} (an image file)`);
  }
  const [, count, rows, cols] = header(buf, source, 4);
  if (rows === 0 || cols === 0) throw new CnnError(`${source}: header says images are ${rows}x${cols}, expected positive dimensions`);
  const expected = 16n + BigInt(count) * BigInt(rows) * BigInt(cols); // exact for any header
  if (BigInt(buf.length) !== expected) {
    throw new CnnError(
      `${source}: file is ${buf.length} bytes but its header (${count} images of ${rows}x${cols}) requires ${expected} bytes`,
    );
  }
  return { count, rows, cols, pixels: buf.subarray(16) };
}

/** Parse an IDX label file (magic 2049); labels must be digits 0-9. */
export function parseIdxLabels(buf: Uint8Array, source: string): IdxLabels {
  const [magic] = header(buf, source, 1);
  if (magic !== LABELS_MAGIC) {
    throw new CnnError(`${source}: wrong IDX magic number ${magic}, expected ${LABELS_MAGIC} (a label file)`);
  }
  const [, count] = header(buf, source, 2);
  const expected = 8 + count;
  if (buf.length !== expected) {
    throw new CnnError(`${source}: file is ${buf.length} bytes but its header (${count} labels) requires ${expected} bytes`);
  }
  const labels = buf.subarray(8);
  for (let i = 0; i < count; i++) {
    if (labels[i] > 9) throw new CnnError(`${source}: label ${i} is ${labels[i]}, expected a digit 0-9`);
  }
  return { count, labels };
}

/** Serialise images to IDX bytes (used to cut fixtures and in tests). */
export function encodeIdxImages(pixels: Uint8Array, count: number, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(16 + count * rows * cols);
  const v = new DataView(out.buffer);
  v.setUint32(0, IMAGES_MAGIC);
  v.setUint32(4, count);
  v.setUint32(8, rows);
  v.setUint32(12, cols);
  out.set(pixels.subarray(0, count * rows * cols), 16);
  return out;
}

/** Serialise labels to IDX bytes. */
export function encodeIdxLabels(labels: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(8 + count);
  const v = new DataView(out.buffer);
  v.setUint32(0, LABELS_MAGIC);
  v.setUint32(4, count);
  out.set(labels.subarray(0, count), 8);
  return out;
}
