/** readRegularFile: only regular files, never more than the limit, whatever the size said. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CnnError } from '../src/errors.js';
import { readRegularFile, type FileKind } from '../src/io/read-file.js';

const kind = (maxBytes: number): FileKind => ({
  expected: 'a test file',
  cannotRead: 'cannot read test file',
  maxBytes,
  tooLarge: (size) => `file is ${size} bytes, over ${maxBytes}`,
});
const message = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CnnError);
    return (e as Error).message;
  }
  throw new Error('did not throw');
};

describe('readRegularFile', () => {
  it('reads a file up to exactly the limit, and refuses one byte more by its size', () => {
    const d = mkdtempSync(join(tmpdir(), 'cnn-read-'));
    writeFileSync(join(d, 'ten'), '0123456789');
    expect(readRegularFile(join(d, 'ten'), kind(10)).toString()).toBe('0123456789');
    expect(message(() => readRegularFile(join(d, 'ten'), kind(9)))).toBe(`${join(d, 'ten')}: file is 10 bytes, over 9`);
    writeFileSync(join(d, 'empty'), '');
    expect(readRegularFile(join(d, 'empty'), kind(0))).toHaveLength(0);
  });

  it.runIf(process.platform === 'linux')('a file whose size is not known in advance (/proc, size 0) is read whole, and cut off past the limit', () => {
    const whole = readFileSync('/proc/self/mounts');
    expect(whole.length).toBeGreaterThan(20);
    expect(readRegularFile('/proc/self/mounts', kind(1 << 20)).toString()).toMatch(/^\S+ \/ /m); // the root mount: the whole content, not the 0 bytes stat announced
    expect(message(() => readRegularFile('/proc/self/mounts', kind(16)))).toBe('/proc/self/mounts: file is more than 16 bytes, over 16');
  });

  it('names what is not a regular file, without opening a FIFO or reading a device', () => {
    const d = mkdtempSync(join(tmpdir(), 'cnn-read-'));
    expect(spawnSync('mkfifo', [join(d, 'fifo')]).status).toBe(0);
    symlinkSync('/dev/zero', join(d, 'zero'));
    expect(message(() => readRegularFile(join(d, 'fifo'), kind(100)))).toBe(`${join(d, 'fifo')}: is a FIFO, expected a test file`);
    expect(message(() => readRegularFile(join(d, 'zero'), kind(100)))).toBe(`${join(d, 'zero')}: is a character device, expected a test file`);
    expect(message(() => readRegularFile(d, kind(100)))).toBe(`${d}: is a directory, expected a test file`);
    expect(message(() => readRegularFile(join(d, 'none'), kind(100)))).toMatch(/none: cannot read test file \(ENOENT/);
  });
});
