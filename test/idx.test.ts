import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeIdxImages, encodeIdxLabels, parseIdxImages, parseIdxLabels, readMaybeGzip } from '../src/data/idx.js';
import { limit, loadMnistSplit, loadSplit } from '../src/data/mnist.js';
import { CnnError } from '../src/errors.js';
import { FIXTURE_DIR } from './helpers/fixture.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'cnn-idx-'));

describe('IDX reader on the real fixture', () => {
  it('reads the gzip training files and the raw test files', () => {
    const train = loadMnistSplit('train', FIXTURE_DIR);
    const test = loadMnistSplit('test', FIXTURE_DIR);
    expect(train.count).toBe(1000);
    expect(test.count).toBe(300);
    expect(train.images.length).toBe(1000 * 784);
    // the first MNIST training labels are 5 0 4 1 9 2 1 3 1 4; the first test labels 7 2 1 0 4 1 4 9 5 9
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    // pixels are bytes with real ink: the first image has values 0..255
    const first = train.images.subarray(0, 784);
    expect(Math.max(...first)).toBe(255);
    expect(Math.min(...first)).toBe(0);
  });

  it('gives the same bytes for a file raw and gzip-compressed', () => {
    const raw = gunzipSync(readFileSync(join(FIXTURE_DIR, 'train-images-idx3-ubyte.gz')));
    const d = tmp();
    writeFileSync(join(d, 'raw'), raw);
    writeFileSync(join(d, 'packed'), gzipSync(raw));
    const a = parseIdxImages(readMaybeGzip(join(d, 'raw')), 'raw');
    const b = parseIdxImages(readMaybeGzip(join(d, 'packed')), 'packed');
    expect(b.count).toBe(a.count);
    expect(Buffer.from(b.pixels).equals(Buffer.from(a.pixels))).toBe(true);
  });

  it('round-trips through the encoder', () => {
    const px = new Uint8Array(2 * 784).map((_, i) => i % 256);
    const img = parseIdxImages(encodeIdxImages(px, 2, 28, 28), 'x');
    expect(img).toMatchObject({ count: 2, rows: 28, cols: 28 });
    expect(Array.from(img.pixels)).toEqual(Array.from(px));
    const lab = parseIdxLabels(encodeIdxLabels(new Uint8Array([3, 9]), 2), 'y');
    expect(Array.from(lab.labels)).toEqual([3, 9]);
  });

  it('takes a prefix with limit() and rejects a limit beyond the data', () => {
    const test = loadMnistSplit('test', FIXTURE_DIR);
    expect(limit(test, 10, '--test-limit').count).toBe(10);
    expect(() => limit(test, 301, '--test-limit')).toThrow(/--test-limit 301 is larger than the 300 examples/);
  });
});

describe('IDX reader on broken files', () => {
  const images = encodeIdxImages(new Uint8Array(3 * 784), 3, 28, 28);
  const labels = encodeIdxLabels(new Uint8Array([1, 2, 3]), 3);
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(CnnError);
      const m = (e as Error).message;
      expect(m).not.toContain('\n');
      return m;
    }
    throw new Error('expected an error');
  };

  it('rejects a truncated image file, naming the file and the expected size', () => {
    expect(err(() => parseIdxImages(images.subarray(0, images.length - 1), 'a.idx'))).toMatch(
      /^a\.idx: file is 2367 bytes but its header \(3 images of 28x28\) requires 2368 bytes$/,
    );
  });
  it('rejects a file shorter than its header', () => {
    expect(err(() => parseIdxImages(images.subarray(0, 10), 'a'))).toMatch(/too short for a 16-byte IDX header/);
    expect(err(() => parseIdxLabels(new Uint8Array(0), 'e'))).toMatch(/^e: file is 0 bytes, too short/);
  });
  it('rejects the wrong magic number', () => {
    expect(err(() => parseIdxImages(labels, 'l'))).toMatch(/wrong IDX magic number 2049, expected 2051/);
    expect(err(() => parseIdxLabels(images, 'i'))).toMatch(/wrong IDX magic number 2051, expected 2049/);
  });
  it('rejects labels outside 0-9', () => {
    const bad = encodeIdxLabels(new Uint8Array([1, 10, 3]), 3);
    expect(err(() => parseIdxLabels(bad, 'lab'))).toMatch(/^lab: label 1 is 10, expected a digit 0-9$/);
  });
  it('rejects an absurd header without allocating for it', () => {
    const h = new Uint8Array(16);
    new DataView(h.buffer).setUint32(0, 2051);
    new DataView(h.buffer).setUint32(4, 2 ** 31);
    new DataView(h.buffer).setUint32(8, 2 ** 16);
    new DataView(h.buffer).setUint32(12, 2 ** 16);
    expect(err(() => parseIdxImages(h, 'huge'))).toMatch(/header \(2147483648 images of 65536x65536\) requires/);
  });
  it('rejects images of another size than 28x28, and counts that disagree', () => {
    const d = tmp();
    writeFileSync(join(d, 'img'), encodeIdxImages(new Uint8Array(3 * 100), 3, 10, 10));
    writeFileSync(join(d, 'lab'), labels);
    expect(err(() => loadSplit(join(d, 'img'), join(d, 'lab')))).toMatch(/images are 10x10; this network needs 28x28 images/);
    writeFileSync(join(d, 'img28'), images);
    writeFileSync(join(d, 'lab2'), encodeIdxLabels(new Uint8Array([1, 2]), 2));
    expect(err(() => loadSplit(join(d, 'img28'), join(d, 'lab2')))).toMatch(/2 labels but .*img28 has 3 images; expected the same count/);
  });
  it('rejects missing files, folders and corrupt gzip', () => {
    const d = tmp();
    expect(err(() => readMaybeGzip(join(d, 'nope')))).toMatch(/nope: cannot read file \(ENOENT/);
    mkdirSync(join(d, 'dir'));
    expect(err(() => readMaybeGzip(join(d, 'dir')))).toMatch(/dir: is a directory, expected an IDX file/);
    const gz = gzipSync(images);
    writeFileSync(join(d, 'bad.gz'), gz.subarray(0, gz.length - 20));
    expect(err(() => readMaybeGzip(join(d, 'bad.gz')))).toMatch(/bad\.gz: corrupt gzip data/);
    expect(err(() => loadMnistSplit('train', join(d, 'no-such-folder')))).toMatch(/no-such-folder: data folder not found/);
    expect(err(() => loadMnistSplit('train', d))).toMatch(/train-images-idx3-ubyte: file not found \(expected train-images-idx3-ubyte or train-images-idx3-ubyte\.gz/);
  });
});
