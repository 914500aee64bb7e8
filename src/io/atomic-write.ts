/**
 * Atomic file replacement: write a temporary file in the same folder, fsync it, rename it over
 * the target, fsync the folder. A crash at any point leaves either the old file or the new one.
 * A path that is a symbolic link is written through: the file it points to is replaced (in that
 * file's folder) and the link stays, as a plain write to the link would do.
 */
import { closeSync, fchmodSync, fsyncSync, lstatSync, openSync, readlinkSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CnnError, describeError } from '../errors.js';

/** The file `path` names: itself, or the end of its chain of symbolic links (which need not exist yet). */
export function followLinks(path: string): string {
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return p; // nothing there (yet): the write says why if it cannot create it
    }
    if (!st.isSymbolicLink()) return p;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw Object.assign(new Error('too many levels of symbolic links'), { code: 'ELOOP' });
}

/**
 * The temporary file a write of `target` goes through: in the same folder (so that the rename is
 * atomic), hidden, unique. The early check probes a name of the same length, so a name the file
 * system finds too long is found before the work, not after.
 */
export function tempPath(target: string, stamp = Date.now()): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${String(stamp).padStart(13, '0')}.tmp`);
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  let target = path;
  let tmp: string | undefined;
  let fd: number | undefined;
  try {
    target = followLinks(path);
    tmp = tempPath(target);
    // a replaced file keeps its permissions (a model kept private stays private)
    let mode: number | undefined;
    try {
      mode = statSync(target).mode & 0o7777;
    } catch {
      /* a new file: the usual 0644 less the umask */
    }
    fd = openSync(tmp, 'wx', mode ?? 0o644);
    if (mode !== undefined) fchmodSync(fd, mode); // exactly as it was, whatever the umask
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      if (tmp !== undefined) unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw new CnnError(`${path}: cannot write file (${withoutTempName(e)}); any previous file there is unchanged`);
  }
  try {
    const dfd = openSync(dirname(target), 'r');
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
 * A file-system error without the system call and the temporary file's name that Node appends
 * ("ENOENT: no such file or directory, open '/proc/.x.json.123.0.tmp'"): the user never named it.
 */
function withoutTempName(e: unknown): string {
  return describeError(e).replace(/, \w+ '[^']*\.tmp'( -> '[^']*')?$/, '');
}

/**
 * Fail early, before hours of training, if `path` cannot be written: its folder must exist and
 * accept a new file (probed with a temporary file that is removed at once).
 */
export function checkWritable(path: string): void {
  let target: string;
  try {
    target = followLinks(path);
  } catch (e) {
    throw new CnnError(`${path}: cannot write there (${describeError(e)})`);
  }
  const dir = dirname(target);
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new CnnError(`${path}: cannot write there (the folder ${dir} does not exist)`);
  }
  if (!st.isDirectory()) throw new CnnError(`${path}: cannot write there (${dir} is not a folder)`);
  const probe = tempPath(target, 0); // as long as the real temporary file's name
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw new CnnError(`${path}: cannot write there (cannot create a file in ${dir}: ${withoutTempName(e)})`);
  }
}
