/**
 * Reading a whole input file (model, IDX data, image) with a hard byte limit. Only regular files
 * are read: a FIFO would block the reader until someone writes to it, a device such as /dev/zero
 * never ends. The path is checked before it is opened (opening a FIFO for reading blocks), opened
 * without blocking all the same (it may be replaced in between), checked again on the open
 * descriptor, and read to at most limit + 1 bytes whatever its size said, so that a file growing
 * under us, or one whose size is not known in advance (/proc), cannot exceed the limit.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { CnnError, describeError } from '../errors.js';

export interface FileKind {
  /** What the file should be, for messages: "a model JSON file". */
  expected: string;
  /** How an error of the system is introduced: "cannot read model file". */
  cannotRead: string;
  /** The largest size accepted, in bytes. */
  maxBytes: number;
  /** The message after "path: " for a file over the limit, given its size ("1073741824", or "more than 16777216"). */
  tooLarge: (size: string) => string;
}

/** "a FIFO", "a directory", ...; undefined for a regular file. */
export function notRegular(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** The bytes of the regular file at `path`; a one-line CnnError for anything else or anything larger. */
export function readRegularFile(path: string, kind: FileKind): Buffer {
  const refuse = (st: Stats) => {
    const what = notRegular(st);
    if (what) throw new CnnError(`${path}: is ${what}, expected ${kind.expected}`);
  };
  const tooLarge = (size: string) => new CnnError(`${path}: ${kind.tooLarge(size)}`);
  const wrap = (e: unknown) => (e instanceof CnnError ? e : new CnnError(`${path}: ${kind.cannotRead} (${describeError(e)})`));
  let fd: number;
  try {
    refuse(statSync(path));
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    throw wrap(e);
  }
  try {
    const st = fstatSync(fd);
    refuse(st);
    if (st.size > kind.maxBytes) throw tooLarge(String(st.size));
    let buf = Buffer.allocUnsafe(st.size + 1); // one byte more than announced: a file that grew shows it
    let length = 0;
    for (;;) {
      if (length === buf.length) {
        if (length > kind.maxBytes) throw tooLarge(`more than ${kind.maxBytes}`);
        const bigger = Buffer.allocUnsafe(Math.min(kind.maxBytes + 1, 2 * buf.length + 65536));
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
      }
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buf.subarray(0, length);
  } catch (e) {
    throw wrap(e);
  } finally {
    closeSync(fd);
  }
}
