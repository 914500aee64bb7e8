/**
 * The files a command will write, checked before any work starts, so that hours of training never
 * end in a write that fails or destroys something:
 *   - each is a file name (not empty, not an existing folder, not a FIFO or device);
 *   - its folder exists and accepts a new file;
 *   - an existing file there is one this tool writes (a model file, or a report), so nothing else
 *     is overwritten by surprise;
 *   - no two of them name the same file (after resolving ./, .. and symbolic links), except pairs
 *     that are meant (e.g. --resume m.json --out m.json).
 */
import { closeSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CnnError } from '../errors.js';
import { checkWritable, followLinks } from './atomic-write.js';
import { FORMAT, MAX_MODEL_BYTES } from './model-file.js';
import { PAGE_KIND_META, PAGE_KIND_NAME, type PageKind } from './page-kind.js';

export type OutputKind = 'model' | PageKind | 'onnx';

/**
 * The file a path names, as a canonical absolute path: symbolic links followed, also a link to a
 * file that does not exist yet (the write would create that file), and the folder resolved.
 */
export function canonicalPath(path: string): string {
  let p: string;
  try {
    p = followLinks(path);
  } catch {
    p = path;
  }
  try {
    return realpathSync(p);
  } catch {
    try {
      return join(realpathSync(dirname(p)), basename(p));
    } catch {
      return resolve(p);
    }
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * Whether two paths name the same file: the same canonical path, the same inode when both exist,
 * or (for files not there yet) the same name in the same folder reached two ways (a bind mount).
 */
export function sameFile(a: string, b: string): boolean {
  const ca = canonicalPath(a), cb = canonicalPath(b);
  if (ca === cb) return true;
  const sa = statOrNull(ca), sb = statOrNull(cb);
  if (sa !== null && sb !== null) return sa.dev === sb.dev && sa.ino === sb.ino;
  if (basename(ca) !== basename(cb)) return false;
  const da = statOrNull(dirname(ca)), db = statOrNull(dirname(cb));
  return da !== null && db !== null && da.dev === db.dev && da.ino === db.ino;
}

/** What a non-regular file is, in words. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The first bytes of a file, as text. */
function head(path: string, bytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** A model file: JSON whose top-level "format" is cnn-train's (read whole, it is at most 16 MB). */
function isModelFile(path: string, size: number): boolean {
  if (size > MAX_MODEL_BYTES) return false;
  try {
    const text = head(path, size).replace(/^\uFEFF/, '');
    const doc = JSON.parse(text);
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && doc.format === FORMAT;
  } catch {
    return false;
  }
}

/**
 * The kind of an HTML page of cnn-train's (cnn-train's generator tag in its head): its kind tag, or
 * 'any' for a page written before pages said their kind; null if the file is not such a page.
 */
function pageKindOf(path: string): PageKind | 'any' | null {
  try {
    const text = head(path, 4096);
    if (!/^\s*<!doctype html/i.test(text) || !/<meta name="generator" content="cnn-train">/.test(text)) return null;
    const m = new RegExp(`<meta name="${PAGE_KIND_META}" content="(\\w+)">`).exec(text);
    return m === null ? 'any' : m[1] in PAGE_KIND_NAME ? (m[1] as PageKind) : null;
  } catch {
    return null;
  }
}

const isPageOf = (kind: PageKind) => (path: string) => {
  const k = pageKindOf(path);
  return k === 'any' || k === kind;
};

/**
 * An ONNX file of cnn-train's: it starts with ir_version (field 1, varint: byte 0x08) and then
 * producer_name "cnn-train" (see src/onnx/onnx-messages.ts).
 */
function isOnnx(path: string): boolean {
  try {
    const t = head(path, 64);
    return t.charCodeAt(0) === 0x08 && t.includes('\u0012\u0009cnn-train');
  } catch {
    return false;
  }
}

/** Signatures of the files this tool writes: what may be replaced. */
const SIGNATURE: Record<OutputKind, { test: (path: string, size: number) => boolean; what: string; example: string }> = {
  model: { test: isModelFile, what: 'a cnn-train model file', example: 'model.json' },
  report: { test: isPageOf('report'), what: PAGE_KIND_NAME.report, example: 'report.html' },
  pad: { test: isPageOf('pad'), what: PAGE_KIND_NAME.pad, example: 'pad.html' },
  compare: { test: isPageOf('compare'), what: PAGE_KIND_NAME.compare, example: 'compare.html' },
  onnx: { test: isOnnx, what: 'an ONNX file written by cnn-train', example: 'model.onnx' },
};

/**
 * Check one output path before any work: `option` names it in messages (e.g. "--out").
 * An existing regular file is replaced only if it is of the kind this option writes.
 */
export function checkOutputTarget(option: string, path: string, kind: OutputKind): void {
  if (path === '') throw new CnnError(`${option}: expected a file name, got an empty string`);
  if (path.trim() === '') throw new CnnError(`${option}: expected a file name, got only blanks`);
  if (/[\\/]$/.test(path)) throw new CnnError(`${option} ${path}: ends with a slash, so it names a folder; expected a file name`);
  const st = statOrNull(path);
  if (st) {
    if (st.isDirectory()) {
      throw new CnnError(`${option} ${path}: is a folder; expected a file name, such as ${join(path, SIGNATURE[kind].example)}`);
    }
    if (!st.isFile()) throw new CnnError(`${option} ${path}: is ${fileKind(st)}; expected a regular file to write`);
    const sig = SIGNATURE[kind];
    if (!sig.test(path, st.size)) {
      const page = kind === 'model' || kind === 'onnx' ? null : pageKindOf(path);
      const is = page !== null && page !== 'any' ? `is ${PAGE_KIND_NAME[page]}, not ${sig.what}` : `exists and is not ${sig.what}`;
      throw new CnnError(`${option} ${path}: the file ${is}; not overwriting it (move it away or choose another name)`);
    }
  }
  checkWritable(path);
}

export interface NamedPath {
  /** How the message names it, e.g. "--out" or "the checkpoint (default of --checkpoint)". */
  option: string;
  path: string;
}

/**
 * Refuse any two paths that name the same file, unless the pair (by option) is in `allowed`.
 */
export function checkDistinct(paths: NamedPath[], allowed: [string, string][] = []): void {
  const ok = (a: string, b: string) => allowed.some(([x, y]) => (x === a && y === b) || (x === b && y === a));
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const a = paths[i], b = paths[j];
      if (ok(a.option, b.option)) continue;
      if (sameFile(a.path, b.path)) {
        throw new CnnError(`${a.option} ${a.path} and ${b.option} ${b.path} name the same file; give each its own file`);
      }
    }
  }
}
