/**
 * One run per output file: a lock file `.<name>.lock` beside each file a run writes (its model and
 * its checkpoint), made with O_EXCL and holding the process id. A second run on the same files is
 * refused while the first lives; a lock left by a process that died is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CnnError, describeError } from '../errors.js';
import { canonicalPath } from './output-paths.js';

const lockPath = (file: string) => {
  const c = canonicalPath(file);
  return join(dirname(c), `.${basename(c)}.lock`);
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, another user's
  }
}

function take(lock: string, file: string, option: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CnnError(`${file}: cannot lock it for this run (${describeError(e)})`);
    }
    let pid = NaN;
    try {
      pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    } catch {
      /* vanished in between: try again */
    }
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
      throw new CnnError(`${file}: another cnn-train (process ${pid}) is writing it; wait for it, or choose another ${option}`);
    }
    try {
      unlinkSync(lock); // left by a process that is gone
    } catch {
      /* taken by someone else meanwhile: the next attempt says */
    }
  }
  throw new CnnError(`${file}: cannot lock it for this run (${lockPath(file)} keeps coming back)`);
}

/** Lock the files of a run; returns the release (also done when the process exits). */
export function lockFiles(files: { option: string; path: string }[]): () => void {
  const locks: string[] = [];
  const release = () => {
    for (const l of locks.splice(0)) {
      try {
        unlinkSync(l);
      } catch {
        /* already gone */
      }
    }
    process.off('exit', release);
  };
  process.on('exit', release);
  try {
    for (const { option, path } of files) {
      const l = lockPath(path);
      if (locks.includes(l)) continue;
      take(l, path, option);
      locks.push(l);
    }
  } catch (e) {
    release();
    throw e;
  }
  return release;
}
