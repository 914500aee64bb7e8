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
import { checkWritable } from './atomic-write.js';

export type OutputKind = 'model' | 'report' | 'page' | 'onnx';

/** The file a path names, as a canonical absolute path (symbolic links resolved where they exist). */
export function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return resolve(path);
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

/** Whether two paths name the same file (same canonical path, or the same inode when both exist). */
export function sameFile(a: string, b: string): boolean {
  if (canonicalPath(a) === canonicalPath(b)) return true;
  const sa = statOrNull(a), sb = statOrNull(b);
  return sa !== null && sb !== null && sa.dev === sb.dev && sa.ino === sb.ino;
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

const HEAD_BYTES = 64 * 1024;

function head(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Signatures of the files this tool writes: what may be replaced. */
const cnnTrainPage = (t: string) => /^\s*<!doctype html/i.test(t) && /cnn-(train|eval)/.test(t);
const SIGNATURE: Record<OutputKind, { test: (text: string) => boolean; what: string; example: string }> = {
  model: { test: (t) => /"format"\s*:\s*"cnn-train\/zhang-2016"/.test(t), what: 'a cnn-train model file', example: 'model.json' },
  report: { test: cnnTrainPage, what: 'a cnn-train report', example: 'report.html' },
  // the drawing pad (cnn-eval --draw): an HTML page of cnn-train's, as the report is
  page: { test: cnnTrainPage, what: 'a cnn-train HTML page', example: 'pad.html' },
  // an ONNX file of cnn-train's starts with ir_version (field 1, varint: byte 0x08) and then
  // producer_name "cnn-train" (see src/onnx/onnx-messages.ts)
  onnx: { test: (t) => t.charCodeAt(0) === 0x08 && t.slice(0, 64).includes('\u0012\u0009cnn-train'), what: 'an ONNX file written by cnn-train', example: 'model.onnx' },
};

/**
 * Check one output path before any work: `option` names it in messages (e.g. "--out").
 * An existing regular file is replaced only if it is of the kind this option writes.
 */
export function checkOutputTarget(option: string, path: string, kind: OutputKind): void {
  if (path.trim() === '') throw new CnnError(`${option}: expected a file name, got an empty string`);
  const st = statOrNull(path);
  if (st) {
    if (st.isDirectory()) {
      throw new CnnError(`${option} ${path}: is a folder; expected a file name, such as ${join(path, SIGNATURE[kind].example)}`);
    }
    if (!st.isFile()) throw new CnnError(`${option} ${path}: is ${fileKind(st)}; expected a regular file to write`);
    const sig = SIGNATURE[kind];
    let text = '';
    try {
      text = head(path);
    } catch {
      /* unreadable: checkWritable below says what is wrong */
    }
    if (!sig.test(text)) {
      throw new CnnError(`${option} ${path}: the file exists and is not ${sig.what}; not overwriting it (move it away or choose another name)`);
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
