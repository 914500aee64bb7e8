/**
 * What a JPEG says about itself before its pixels: the frame header (size, components and their
 * sampling factors: what decoding will cost) and the EXIF orientation (how a viewer turns the
 * stored pixels upright). Read by walking the marker segments up to the first scan, with every
 * length checked against the file; a malformed EXIF block means no orientation, not an error
 * (viewers show such files as stored, and the pixels themselves are fine). No Node APIs.
 */

export interface JpegComponent {
  /** Horizontal and vertical sampling factors (1-4 in valid files). */
  h: number;
  v: number;
}

export interface JpegHeader {
  width: number;
  height: number;
  components: JpegComponent[];
  /** EXIF Orientation 1-8 (1: as stored), from the first APP1 "Exif" segment; 1 when absent or malformed. */
  orientation: number;
}

/** SOFn markers (frame headers): C0-CF except C4 (DHT), C8 (JPG extension) and CC (DAC). */
const isFrameMarker = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
/** Markers without a length: TEM, RST0-7 (and SOI, not expected here). */
const isStandalone = (m: number) => m === 0x01 || (m >= 0xd0 && m <= 0xd8);

/**
 * The first frame header and the first EXIF orientation, walking the segments from SOI to the
 * first scan (SOS) or the first malformed segment; undefined when no frame header is found on the
 * way (the decoder then says what is wrong).
 */
export function readJpegHeader(buf: Uint8Array): JpegHeader | undefined {
  let frame: Omit<JpegHeader, 'orientation'> | undefined;
  let orientation: number | undefined;
  for (let at = 2; at + 4 <= buf.length; ) { // after SOI
    if (buf[at] !== 0xff) break;
    const m = buf[at + 1];
    if (m === 0xff) {
      at++; // fill byte
      continue;
    }
    if (isStandalone(m)) {
      at += 2;
      continue;
    }
    if (m === 0xda || m === 0xd9) break; // the first scan (or the end)
    const length = (buf[at + 2] << 8) | buf[at + 3];
    if (length < 2 || at + 2 + length > buf.length) break;
    const data = buf.subarray(at + 4, at + 2 + length);
    if (m === 0xe1 && orientation === undefined && isExif(data)) orientation = exifOrientation(data.subarray(6));
    if (isFrameMarker(m) && !frame && data.length >= 6 && data.length >= 6 + 3 * data[5]) {
      const components: JpegComponent[] = [];
      for (let i = 0; i < data[5]; i++) components.push({ h: data[6 + 3 * i + 1] >> 4, v: data[6 + 3 * i + 1] & 15 });
      frame = { height: (data[1] << 8) | data[2], width: (data[3] << 8) | data[4], components };
    }
    at += 2 + length;
  }
  return frame && { ...frame, orientation: orientation ?? 1 };
}

/** "Exif\0\0": the APP1 segment holding EXIF (others, such as XMP's, are not read). */
const isExif = (d: Uint8Array) => d.length >= 6 && d[0] === 0x45 && d[1] === 0x78 && d[2] === 0x69 && d[3] === 0x66 && d[4] === 0 && d[5] === 0;

const ORIENTATION_TAG = 0x0112;
const SHORT = 3;

/**
 * The Orientation tag (0x0112) of IFD0 in an EXIF TIFF structure ("II" or "MM", 42, the offset of
 * IFD0, then the IFD: a count and 12-byte entries of tag, type, count, value). 1 when the block is
 * malformed, the tag absent, not one SHORT, or not 1-8. Entries are read as far as they lie within
 * the block, as browsers do: an entry count running past its end does not hide an Orientation
 * entry before it.
 */
export function exifOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1;
  const v = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (v.getUint16(2, little) !== 42) return 1;
  const ifd = v.getUint32(4, little);
  if (ifd < 8 || ifd + 2 > tiff.length) return 1;
  const entries = v.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const e = ifd + 2 + 12 * i;
    if (e + 12 > tiff.length) return 1;
    if (v.getUint16(e, little) !== ORIENTATION_TAG) continue;
    if (v.getUint16(e + 2, little) !== SHORT || v.getUint32(e + 4, little) !== 1) return 1;
    const o = v.getUint16(e + 8, little); // a single SHORT sits in the first two bytes of the value field
    return o >= 1 && o <= 8 ? o : 1;
  }
  return 1;
}

/**
 * Where stored pixel (x, y) of a w x h picture goes when the picture is shown upright under EXIF
 * orientation o: index base + x * ax + y * ay of the upright picture, which is width x height
 * (w and h swapped for 5-8). From the TIFF 6.0 definitions, o says which side of the upright
 * picture the stored picture's first row and first column are:
 *   1 top, left   2 top, right   3 bottom, right   4 bottom, left
 *   5 left, top   6 right, top   7 right, bottom   8 left, bottom
 */
export function orientationMap(o: number, w: number, h: number): { width: number; height: number; base: number; ax: number; ay: number } {
  switch (o) {
    case 2: return { width: w, height: h, base: w - 1, ax: -1, ay: w };
    case 3: return { width: w, height: h, base: w * h - 1, ax: -1, ay: -w };
    case 4: return { width: w, height: h, base: (h - 1) * w, ax: 1, ay: -w };
    case 5: return { width: h, height: w, base: 0, ax: h, ay: 1 }; // upright (y, x)
    case 6: return { width: h, height: w, base: h - 1, ax: h, ay: -1 }; // upright (h-1-y, x): a quarter turn clockwise
    case 7: return { width: h, height: w, base: w * h - 1, ax: -h, ay: -1 }; // upright (h-1-y, w-1-x)
    case 8: return { width: h, height: w, base: (w - 1) * h, ax: -h, ay: 1 }; // upright (y, w-1-x): a quarter turn anticlockwise
    default: return { width: w, height: h, base: 0, ax: 1, ay: w };
  }
}

/**
 * The bytes jpeg-js asks for to decode a frame (the quantity its maxMemoryUsageInMB limits): for
 * each component, its 8x8 blocks padded to whole MCUs, 64 32-bit coefficients each, and its
 * decoded samples; then the interleaved samples and the RGBA output. About 22 bytes a pixel for
 * colour without subsampling, 14 with 4:2:0; more components (CMYK: 4; up to 255 can be declared)
 * cost more. NaN for sampling factors of 0 (the decoder refuses those).
 */
export function jpegDecodeBytes(h: JpegHeader): number {
  const maxH = Math.max(0, ...h.components.map((c) => c.h)), maxV = Math.max(0, ...h.components.map((c) => c.v));
  if (h.components.some((c) => c.h === 0 || c.v === 0)) return NaN;
  const mcusX = Math.ceil(h.width / 8 / maxH), mcusY = Math.ceil(h.height / 8 / maxV);
  let bytes = h.width * h.height * (h.components.length + 4);
  for (const c of h.components) {
    bytes += mcusX * c.h * mcusY * c.v * 256; // coefficient blocks
    bytes += Math.ceil((Math.ceil(h.width / 8) * c.h) / maxH) * 8 * Math.ceil((Math.ceil(h.height / 8) * c.v) / maxV) * 8; // samples
  }
  return bytes;
}
