/** Hand-made PNG files (signature, chunks with correct CRCs) for tests of hostile images. */
import { crc32, deflateSync } from 'node:zlib';

/** One chunk: length, type, data, CRC-32 of type and data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG whose IHDR declares width x height (8-bit grey unless told) and whose IDAT holds `raw`, deflated. */
export function craftPng(o: { width: number; height: number; raw: Uint8Array; colorType?: number; interlace?: 0 | 1 }): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(o.width, 0);
  ihdr.writeUInt32BE(o.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = o.colorType ?? 0;
  ihdr[12] = o.interlace ?? 0;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(o.raw)), pngChunk('IEND', new Uint8Array(0))]);
}

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/** The interlaced (Adam7) scanlines of an 8-bit RGBA picture, filter 0 on every row: what an IDAT inflates to. */
export function adam7Rgba(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const rows: number[] = [];
  for (const [x0, y0, dx, dy] of ADAM7) {
    if (x0 >= width) continue;
    for (let y = y0; y < height; y += dy) {
      rows.push(0);
      for (let x = x0; x < width; x += dx) for (let c = 0; c < 4; c++) rows.push(rgba[4 * (y * width + x) + c]);
    }
  }
  return Uint8Array.from(rows);
}
