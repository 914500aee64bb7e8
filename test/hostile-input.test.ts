/**
 * Every kind of bad input through the real command line: one line on stderr saying what was
 * wrong, where, and what was expected; a non-zero exit; no stack trace; no file written.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { encodeIdxImages, encodeIdxLabels } from '../src/data/idx.js';
import { FORMAT, serializeModel, newModel } from '../src/io/model-file.js';
import { initParams } from '../src/model/init.js';
import { Rng } from '../src/model/rng.js';
import { craftPng } from './helpers/craft-png.js';
import { FIXTURE_DIR, ROOT } from './helpers/fixture.js';

const env = { ...process.env, NO_COLOR: '1', CI: 'true', npm_command: '' }; // (as a user runs it, not under npm)
const bin = (name: string) => join(ROOT, 'bin', `${name}.js`);
const trainImages = gunzipSync(readFileSync(join(FIXTURE_DIR, 'train-images-idx3-ubyte.gz')));
const trainLabels = gunzipSync(readFileSync(join(FIXTURE_DIR, 'train-labels-idx1-ubyte.gz')));

/** A data folder with the fixture's files, one of them replaced (or a folder / absent / a FIFO / a link to /dev/zero). */
function dataDir(name: string, content: Uint8Array | 'dir' | 'absent' | Special): string {
  const d = mkdtempSync(join(tmpdir(), 'cnn-bad-data-'));
  writeFileSync(join(d, 'train-images-idx3-ubyte'), trainImages);
  writeFileSync(join(d, 'train-labels-idx1-ubyte'), trainLabels);
  copyFileSync(join(FIXTURE_DIR, 't10k-images-idx3-ubyte'), join(d, 't10k-images-idx3-ubyte'));
  copyFileSync(join(FIXTURE_DIR, 't10k-labels-idx1-ubyte'), join(d, 't10k-labels-idx1-ubyte'));
  const p = join(d, name);
  writeFileSync(p, '');
  if (content === 'dir') {
    spawnSync('rm', [p]);
    mkdirSync(p);
  } else if (content === 'absent') {
    spawnSync('rm', [p]);
  } else if (typeof content === 'string') {
    spawnSync('rm', [p]);
    special(p, content);
  } else {
    writeFileSync(p, content);
  }
  return d;
}
/** Files that never end or never open: a FIFO nobody writes to, a symbolic link to /dev/zero. */
type Special = 'fifo' | 'zero';
function special(path: string, kind: Special): string {
  if (kind === 'fifo') expect(spawnSync('mkfifo', [path]).status).toBe(0);
  else symlinkSync('/dev/zero', path);
  return path;
}
const specialFile = (name: string, kind: Special) => special(join(mkdtempSync(join(tmpdir(), 'cnn-special-')), name), kind);
function header(words: number[]): Uint8Array {
  const b = new Uint8Array(4 * words.length);
  words.forEach((w, i) => new DataView(b.buffer).setUint32(4 * i, w));
  return b;
}
const goodModel = () => JSON.parse(serializeModel(newModel(initParams(new Rng(1)))));
function modelFile(content: string | ((m: any) => unknown)): string {
  const d = mkdtempSync(join(tmpdir(), 'cnn-bad-model-'));
  const text = typeof content === 'string' ? content : JSON.stringify(content(goodModel()));
  writeFileSync(join(d, 'model.json'), text);
  return join(d, 'model.json');
}

/** A model file where the number MARK, set by `edit`, is written as `literal` (a number JSON.stringify cannot write). */
const MARK = 0.123456789;
const modelWithLiteral = (edit: (m: any) => unknown, literal: string) => {
  const m = goodModel();
  edit(m);
  return modelFile(JSON.stringify(m).replace(String(MARK), literal));
};
const checkpointResume = () => ({ completedEpochs: 0, position: 10, epochRng: [1, 2, 3, 4], epochLoss: 1, epochErrors: 0, epochSeconds: 1, blockLoss: 1, curve: [] });

type Case = [label: string, bin: 'cnn-train' | 'cnn-eval', args: () => string[], expected: RegExp];
const T = 'train-images-idx3-ubyte', L = 'train-labels-idx1-ubyte';
const cases: Case[] = [
  // IDX files
  ['truncated image file', 'cnn-train', () => ['--data', dataDir(T, trainImages.subarray(0, 5000))], /train-images-idx3-ubyte: file is 5000 bytes but its header \(1000 images of 28x28\) requires 784016 bytes/],
  ['empty image file', 'cnn-train', () => ['--data', dataDir(T, new Uint8Array(0))], /train-images-idx3-ubyte: file is 0 bytes, too short for a 4-byte IDX header/],
  ['wrong magic', 'cnn-train', () => ['--data', dataDir(T, trainLabels)], /wrong IDX magic number 2049, expected 2051 \(an image file\)/],
  ['absurd dimensions', 'cnn-train', () => ['--data', dataDir(T, header([2051, 2 ** 31, 2 ** 16, 2 ** 16]))], /header \(2147483648 images of 65536x65536\) requires \d+ bytes/],
  ['images not 28x28', 'cnn-train', () => ['--data', dataDir(T, encodeIdxImages(new Uint8Array(1000 * 256), 1000, 16, 16))], /images are 16x16; this network needs 28x28 images/],
  ['count mismatch', 'cnn-train', () => ['--data', dataDir(L, encodeIdxLabels(trainLabels.subarray(8), 999))], /999 labels but .* has 1000 images; expected the same count/],
  ['label out of range', 'cnn-train', () => ['--data', dataDir(L, encodeIdxLabels(new Uint8Array(1000).fill(12), 1000))], /label 0 is 12, expected a digit 0-9/],
  ['a folder instead of a file', 'cnn-train', () => ['--data', dataDir(T, 'dir')], /train-images-idx3-ubyte: is a directory, expected an IDX file/],
  ['a missing file', 'cnn-train', () => ['--data', dataDir(L, 'absent')], /train-labels-idx1-ubyte: file not found \(expected train-labels-idx1-ubyte or train-labels-idx1-ubyte\.gz/],
  ['corrupt gzip', 'cnn-train', () => ['--data', dataDir(T, gzipSync(trainImages).subarray(0, 3000))], /train-images-idx3-ubyte: corrupt gzip data/],
  ['a bad test file for cnn-eval', 'cnn-eval', () => [modelFile((m) => m), '--data', dataDir('t10k-labels-idx1-ubyte', header([2049, 5]))], /t10k-labels-idx1-ubyte: file is 8 bytes but its header \(5 labels\) requires 13 bytes/],
  // model files
  ['a model that is not JSON', 'cnn-eval', () => [modelFile('not json at all')], /model\.json: not valid JSON/],
  ['a model of another format', 'cnn-eval', () => [modelFile((m) => ({ ...m, format: 'onnx' }))], /"format" is "onnx", expected "cnn-train\/zhang-2016"/],
  ['a model of another version', 'cnn-eval', () => [modelFile((m) => ({ ...m, version: '1' }))], /"version" is "1", expected 1/],
  ['a model missing a group', 'cnn-eval', () => [modelFile((m) => { delete m.parameters.W; return m; })], /parameters\.W is missing \(shape 10x192\)/],
  ['a model with an extra group', 'cnn-eval', () => [modelFile((m) => { m.parameters.k3 = [1]; return m; })], /unexpected key parameters\.k3, expected only k1, b1, k2, b2, W, b/],
  ['a model with a wrong shape', 'cnn-eval', () => [modelFile((m) => { m.parameters.k2 = m.parameters.k2[0]; return m; })], /parameters\.k2 is an array of 12, expected an array of 6 \(shape 6x12x5x5\)/],
  ['a model with a string for a number', 'cnn-eval', () => [modelFile((m) => { m.parameters.b1[2] = 'zero'; return m; })], /parameters\.b1\[2\] is "zero", expected a finite number/],
  ['a model with NaN', 'cnn-eval', () => [modelFile(JSON.stringify(goodModel()).replace('"b1":[0', '"b1":[NaN'))], /not valid JSON/],
  ['a model with 1e999', 'cnn-eval', () => [modelWithLiteral((m) => (m.parameters.k1[0][0][0] = MARK), '1e999')], /parameters\.k1\[0\]\[0\]\[0\] is not a finite number \(1e999 overflows\)$/],
  ['a model with -1e999', 'cnn-eval', () => [modelWithLiteral((m) => (m.parameters.b[9] = MARK), '-1e999')], /parameters\.b\[9\] is not a finite number \(-1e999 overflows\)$/],
  ['--resume from a checkpoint with -1E+999 as its loss', 'cnn-train', () => [
    '--data', FIXTURE_DIR, '--resume', modelWithLiteral((m) => (m.resume = { ...checkpointResume(), epochLoss: MARK }), '-1E+999'),
  ], /resume\.epochLoss is not a finite number \(-1E\+999 overflows\)$/],
  ['a 1 GB model file', 'cnn-eval', () => {
    const d = mkdtempSync(join(tmpdir(), 'cnn-big-'));
    const fd = openSync(join(d, 'huge.json'), 'w');
    ftruncateSync(fd, 2 ** 30); // sparse: takes no disk
    closeSync(fd);
    return [join(d, 'huge.json')];
  }, /huge\.json: file is 1073741824 bytes; a model file is about 80 kB/],
  ['--resume from a model of another tool', 'cnn-train', () => [
    '--data', FIXTURE_DIR, '--resume', modelFile((m) => ({ ...m, training: { by: 'PyTorch' } })),
  ], /has no "resume" section, so training cannot continue from it/],
  ['--resume from a checkpoint with a broken resume section', 'cnn-train', () => [
    '--data', FIXTURE_DIR, '--resume', modelFile((m) => ({ ...m, resume: { completedEpochs: -1 } })),
  ], /resume\.completedEpochs is -1, expected a non-negative integer/],
  // options
  ['a non-number', 'cnn-train', () => ['--batch-size', 'fifty'], /argument 'fifty' is invalid\. expected a whole number of at least 1/],
  ['a negative number', 'cnn-train', () => ['--train-limit', '-5'], /argument '-5' is invalid\. expected a whole number of at least 1/],
  ['zero', 'cnn-train', () => ['--threads', '0'], /argument '0' is invalid\. expected a whole number of at least 1/],
  ['a fraction', 'cnn-train', () => ['--batch-size', '2.5'], /argument '2\.5' is invalid\. expected a whole number of at least 1/],
  ['an infinite learning rate', 'cnn-train', () => ['--lr', 'Infinity'], /argument 'Infinity' is invalid\. expected a decimal number from 1\.2e-38 to 3\.4e38/],
  ['--train-limit beyond the data', 'cnn-train', () => ['--data', FIXTURE_DIR, '--train-limit', '1001'], /--train-limit 1001 is larger than the 1000 examples in .*train-images-idx3-ubyte\.gz/],
  ['--test-limit beyond the data', 'cnn-eval', () => [modelFile((m) => m), '--data', FIXTURE_DIR, '--test-limit', '301'], /--test-limit 301 is larger than the 300 examples/],
  ['--out in a missing folder', 'cnn-train', () => ['--data', FIXTURE_DIR, '--out', '/no/such/folder/m.json'], /\/no\/such\/folder\/m\.json: cannot write there \(the folder \/no\/such\/folder does not exist\)/],
  ['--out under a file', 'cnn-train', () => ['--data', FIXTURE_DIR, '--out', `${join(FIXTURE_DIR, 't10k-labels-idx1-ubyte')}/m.json`], /cannot write there/],
];

describe('hostile input through the CLI', () => {
  for (const [label, name, args, expected] of cases) {
    it(`${name}: ${label}`, () => {
      const cwd = mkdtempSync(join(tmpdir(), 'cnn-cwd-'));
      const r = spawnSync(process.execPath, [bin(name), ...args()], { cwd, env, encoding: 'utf8' });
      expect(r.status, r.stdout).not.toBe(0);
      expect(r.status).not.toBe(70); // 70 = internal error: a bug, not a handled input
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(expected);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(readdirSync(cwd)).toEqual([]); // nothing written where it ran
    });
  }
});

/** A file in a fresh temporary folder. */
function tmpFile(name: string, content: Uint8Array): string {
  const p = join(mkdtempSync(join(tmpdir(), 'cnn-costly-')), name);
  writeFileSync(p, content);
  return p;
}
/** A small real JPEG whose start-of-frame header is rewritten to declare width x height. */
function jpegDeclaring(width: number, height: number): Uint8Array {
  const buf = Buffer.from(jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(8 * 8 * 4, 128) }, 90).data);
  const sof = buf.indexOf(Buffer.from([0xff, 0xc0]));
  buf.writeUInt16BE(height, sof + 5);
  buf.writeUInt16BE(width, sof + 7);
  return buf;
}
/** A JPEG of SOI, a frame header declaring width x height with `components` colour components, and EOI. */
function jpegWithComponents(width: number, height: number, components: number): Uint8Array {
  const sof = Buffer.alloc(10 + 3 * components);
  sof.writeUInt16BE(0xffc0, 0);
  sof.writeUInt16BE(8 + 3 * components, 2);
  sof[4] = 8;
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  sof[9] = components;
  for (let i = 0; i < components; i++) sof.set([i + 1, 0x11, 0], 10 + 3 * i);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}
/** A gzip file of `members` members, each 16 MiB of zeros (16 kB compressed): gunzip reads them one after the other. */
const gzipBomb = (members: number) => Buffer.concat(Array(members).fill(gzipSync(Buffer.alloc(16 << 20))));

// input that would cost minutes or gigabytes if it were read before being checked: each case
// runs under a hard timeout (a hang or a runaway allocation fails instead of stalling the suite)
// and must be refused in one line within a few seconds
const costly: [...Case, maxMs?: number][] = [
  ['a 69-byte PNG declaring 30000x30000 pixels', 'cnn-eval', () => [modelFile((m) => m), '--image', tmpFile('bomb.png', craftPng({ width: 30000, height: 30000, raw: new Uint8Array(1) }))],
    /bomb\.png: 30000x30000 pixels, more than the limit of 16384 pixels a side$/],
  ['a JPEG declaring 30000x30000 pixels', 'cnn-eval', () => [modelFile((m) => m), '--image', tmpFile('bomb.jpg', jpegDeclaring(30000, 30000))],
    /bomb\.jpg: 30000x30000 pixels, more than the limit of 16384 pixels a side$/],
  // pngjs's work and memory grow with the rows: this 78 kB file of 40 M pixels cost 80-112 s and exhausted a 4 GB heap
  ['a 78 kB PNG of one column of 40 million rows', 'cnn-eval', () => [modelFile((m) => m), '--image', tmpFile('tall.png', craftPng({ width: 1, height: 40_000_000, raw: new Uint8Array(2 * 40_000_000) }))],
    /tall\.png: 1x40000000 pixels, more than the limit of 16384 pixels a side$/, 2000],
  // each side allowed, not their product: refused from the header (a real 1 MB 6000x6000 JPEG cost 11 s and 1.5 GB)
  ['a JPEG declaring 6000x6000 pixels', 'cnn-eval', () => [modelFile((m) => m), '--image', tmpFile('big.jpg', jpegDeclaring(6000, 6000))],
    /big\.jpg: 6000x6000 pixels, more than the limit of 25000000$/],
  ['a JPEG declaring 255 colour components', 'cnn-eval', () => [modelFile((m) => m), '--image', tmpFile('many.jpg', jpegWithComponents(2000, 2000, 255))],
    /many\.jpg: decoding this JPEG needs more than the 600 MiB allowed \(too many pixels or colour components\)$/],
  ['an interlaced 1x1 PNG whose data inflates to 64 MB', 'cnn-eval', () => [modelFile((m) => m), '--image', tmpFile('zip.png', craftPng({ width: 1, height: 1, interlace: 1, raw: new Uint8Array(64 << 20) }))],
    /zip\.png: image data inflates to more than the 2 bytes a 1x1 picture needs$/],
  // pngjs said "cannot decode PNG (ERR_ASSERTION: have should not go down)"
  ['a 1x1 PNG, not interlaced, whose data inflates to 64 MB', 'cnn-eval', () => [modelFile((m) => m), '--image', tmpFile('zip.png', craftPng({ width: 1, height: 1, raw: new Uint8Array(64 << 20) }))],
    /zip\.png: image data inflates to more than the 2 bytes a 1x1 picture needs$/],
  // the message was "corrupt gzip data (ERR_BUFFER_TOO_LARGE: ...)"
  ['a 539 kB gzip IDX file that decompresses to 553 MB', 'cnn-train', () => ['--data', dataDir(T, gzipBomb(33))],
    /train-images-idx3-ubyte: gzip data decompresses to more than the 536870912-byte limit for IDX files$/],
  // files that are not regular files: a FIFO blocks the reader forever, /dev/zero never ends
  ['a model file that is a FIFO', 'cnn-eval', () => [specialFile('model.json', 'fifo')], /model\.json: is a FIFO, expected a model JSON file$/],
  ['a model file that is a link to /dev/zero', 'cnn-eval', () => [specialFile('model.json', 'zero')], /model\.json: is a character device, expected a model JSON file$/],
  ['--resume from a FIFO', 'cnn-train', () => ['--data', FIXTURE_DIR, '--resume', specialFile('model.ckpt.json', 'fifo')], /model\.ckpt\.json: is a FIFO, expected a model JSON file$/],
  ['an IDX file that is a FIFO', 'cnn-train', () => ['--data', dataDir(T, 'fifo')], /train-images-idx3-ubyte: is a FIFO, expected an IDX file$/],
  ['an IDX file that is a link to /dev/zero', 'cnn-train', () => ['--data', dataDir(T, 'zero')], /train-images-idx3-ubyte: is a character device, expected an IDX file$/],
  ['a test IDX file that is a FIFO, for cnn-eval', 'cnn-eval', () => [modelFile((m) => m), '--data', dataDir('t10k-labels-idx1-ubyte', 'fifo')], /t10k-labels-idx1-ubyte: is a FIFO, expected an IDX file$/],
  ['a data folder that is a FIFO', 'cnn-train', () => ['--data', specialFile('mnist', 'fifo')], /mnist: is a FIFO, expected a folder with the MNIST IDX files$/],
  ['an image that is a FIFO', 'cnn-eval', () => [modelFile((m) => m), '--image', specialFile('digit.png', 'fifo')], /digit\.png: is a FIFO, expected a PNG or JPEG image$/],
  ['an image that is a link to /dev/zero', 'cnn-eval', () => [modelFile((m) => m), '--image', specialFile('digit.png', 'zero')], /digit\.png: is a character device, expected a PNG or JPEG image$/],
];

describe('costly input is refused before it is read', () => {
  for (const [label, name, args, expected, maxMs = 3000] of costly) {
    it(`${name}: ${label}`, () => {
      const cwd = mkdtempSync(join(tmpdir(), 'cnn-cwd-'));
      const argv = args();
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [bin(name), ...argv], { cwd, env, encoding: 'utf8', timeout: 6000, killSignal: 'SIGKILL' });
      const ms = performance.now() - t0;
      expect(r.signal, 'killed by the timeout').toBeNull();
      expect(ms).toBeLessThan(maxMs);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(expected);
      expect(readdirSync(cwd)).toEqual([]);
    });
  }
});

describe('odd but valid input is accepted', () => {
  it('a model file starting with a UTF-8 byte-order mark evaluates as without it', () => {
    const plain = modelFile((m) => m);
    const bom = join(mkdtempSync(join(tmpdir(), 'cnn-bom-')), 'model.json');
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(plain)]));
    const evaluate = (model: string) => spawnSync(process.execPath, [bin('cnn-eval'), model, '--data', FIXTURE_DIR, '--json'], { env, encoding: 'utf8' });
    const a = evaluate(plain), b = evaluate(bom);
    expect(b.stderr).toBe('');
    expect(b.status).toBe(0);
    const { seconds: _a, model: _ma, ...ra } = JSON.parse(a.stdout);
    const { seconds: _b, model: _mb, ...rb } = JSON.parse(b.stdout);
    expect(rb).toEqual(ra);
  });
});

describe('a full disk', () => {
  it('gives a clear error and leaves the old model file intact (needs root to mount a 128 kB tmpfs)', (ctx) => {
    const mnt = mkdtempSync(join(tmpdir(), 'cnn-full-'));
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) ctx.skip(); // not root, or no mount in this sandbox
    try {
      const old = serializeModel(newModel(initParams(new Rng(1))));
      writeFileSync(join(mnt, 'model.json'), old);
      const r = spawnSync(process.execPath, [bin('cnn-train'), '--data', FIXTURE_DIR, '--epochs', '1', '--out', join(mnt, 'model.json')], { env, encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toMatch(/^cnn-train: error: .*model\.ckpt\.json: cannot write file \(ENOSPC: no space left on device, write\); any previous file there is unchanged; nor could --out .*model\.json be written: the work of this run since its last checkpoint is lost$/);
      expect(readFileSync(join(mnt, 'model.json'), 'utf8')).toBe(old);
      expect(readdirSync(mnt)).toEqual(['model.json']); // no temporary file left behind
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('when only the checkpoint cannot be written, the state goes to --out and the message says so', (ctx) => {
    const mnt = mkdtempSync(join(tmpdir(), 'cnn-full-'));
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) ctx.skip();
    try {
      const d = mkdtempSync(join(tmpdir(), 'cnn-out-'));
      const r = spawnSync(process.execPath, [bin('cnn-train'), '--data', FIXTURE_DIR, '--epochs', '2', '--out', join(d, 'm.json'), '--checkpoint', join(mnt, 'c.json')], { env, encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toMatch(/c\.json: cannot write file \(ENOSPC.*; the run stopped, and its state after epoch 1 is in .*m\.json instead \(resume from it\)$/);
      expect(JSON.parse(readFileSync(join(d, 'm.json'), 'utf8')).resume.completedEpochs).toBe(1);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
