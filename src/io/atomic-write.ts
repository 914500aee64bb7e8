/**
 * Atomic file replacement: write a temporary file in the same folder, fsync it, rename it over
 * the target, fsync the folder. A crash at any point leaves either the old file or the new one.
 */
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CnnError, describeError } from '../errors.js';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw new CnnError(`${path}: cannot write file (${describeError(e)}); any previous file there is unchanged`);
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* some file systems cannot fsync a directory; the rename itself is done */
  }
}

/**
 * Fail early, before hours of training, if `path` cannot be written: its folder must exist and
 * accept a new file (probed with a temporary file that is removed at once).
 */
export function checkWritable(path: string): void {
  const dir = dirname(path);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new CnnError(`${path}: cannot write there (the folder ${dir} does not exist)`);
  }
  if (!st.isDirectory()) throw new CnnError(`${path}: cannot write there (${dir} is not a folder)`);
  const probe = join(dir, `.${basename(path)}.${process.pid}.probe`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw new CnnError(`${path}: cannot write there (${describeError(e)})`);
  }
}
