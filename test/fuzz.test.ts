/**
 * Property tests of the parsers: thousands of random mutations of real files (seeded, so a
 * failure reproduces). Each input must either parse or be rejected with the project's own error
 * type, CnnError, with a one-line message; never another exception, never a hang.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeMaybeGzip, parseIdxImages, parseIdxLabels } from '../src/data/idx.js';
import { CnnError } from '../src/errors.js';
import { FORMAT, parseModelText, serializeModel, newModel } from '../src/io/model-file.js';
import { initParams } from '../src/model/init.js';
import { Rng } from '../src/model/rng.js';
import { FIXTURE_DIR } from './helpers/fixture.js';

type Outcome = 'parsed' | 'rejected';

function attempt(f: () => unknown): Outcome {
  try {
    f();
    return 'parsed';
  } catch (e) {
    if (!(e instanceof CnnError)) throw new Error(`not a CnnError: ${e instanceof Error ? e.stack : String(e)}`);
    if (e.message.includes('\n')) throw new Error(`multi-line message: ${e.message}`);
    return 'rejected';
  }
}

/** A random mutation of bytes: flips, overwrites, truncation, extension, header words. */
function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  let b = Uint8Array.from(src);
  const kind = rng.nextInt(6);
  if (kind === 0) {
    for (let n = 1 + rng.nextInt(8); n > 0; n--) b[rng.nextInt(b.length)] = rng.nextU32() & 255;
  } else if (kind === 1) {
    b = b.subarray(0, rng.nextInt(b.length));
  } else if (kind === 2) {
    const extra = new Uint8Array(1 + rng.nextInt(2000)).map(() => rng.nextU32() & 255);
    const c = new Uint8Array(b.length + extra.length);
    c.set(b);
    c.set(extra, b.length);
    b = c;
  } else if (kind === 3) {
    // a header word replaced by a random or extreme value
    const w = rng.nextInt(4);
    const vals = [0, 1, 28, 0xffffffff, 0x80000000, 65536, rng.nextU32()];
    if (b.length >= 4 * w + 4) new DataView(b.buffer).setUint32(4 * w, vals[rng.nextInt(vals.length)]);
  } else if (kind === 4) {
    for (let n = 1 + rng.nextInt(4); n > 0; n--) b[rng.nextInt(Math.min(16, b.length))] ^= 1 << rng.nextInt(8);
  } else {
    b = new Uint8Array(rng.nextInt(40)).map(() => rng.nextU32() & 255);
  }
  return b;
}

describe('fuzzing the IDX reader', () => {
  const images = gunzipSync(readFileSync(join(FIXTURE_DIR, 'train-images-idx3-ubyte.gz'))).subarray(0, 16 + 50 * 784);
  new DataView(images.buffer, images.byteOffset).setUint32(4, 50);
  const labels = readFileSync(join(FIXTURE_DIR, 't10k-labels-idx1-ubyte'));

  it('3 000 mutated image and label files: parsed or CnnError', () => {
    const rng = new Rng(2024);
    const seen = { parsed: 0, rejected: 0 };
    for (let i = 0; i < 1500; i++) {
      seen[attempt(() => parseIdxImages(mutate(rng, images), 'img'))]++;
      seen[attempt(() => parseIdxLabels(mutate(rng, labels), 'lab'))]++;
    }
    // both outcomes occur, so the generator exercises the parser both ways
    expect(seen.parsed).toBeGreaterThan(100);
    expect(seen.rejected).toBeGreaterThan(1000);
  });

  it('1 000 mutated gzip files: decoded and parsed, or CnnError', () => {
    const rng = new Rng(7);
    const gz = gzipSync(images);
    const seen = { parsed: 0, rejected: 0 };
    for (let i = 0; i < 1000; i++) {
      const m = mutate(rng, gz);
      seen[attempt(() => parseIdxImages(decodeMaybeGzip(m, 'g.gz'), 'g.gz'))]++;
    }
    expect(seen.rejected).toBeGreaterThan(500);
  });
});

describe('fuzzing the model parser', () => {
  const text = serializeModel(newModel(initParams(new Rng(1))));
  const doc = JSON.parse(text);

  it('2 000 texts with random edits: parsed or CnnError', () => {
    const rng = new Rng(99);
    const alphabet = '{}[],:"0123456789.-eE ntruefalsnul\\';
    const seen = { parsed: 0, rejected: 0 };
    for (let i = 0; i < 2000; i++) {
      let t = text;
      for (let n = 1 + rng.nextInt(3); n > 0; n--) {
        const at = rng.nextInt(t.length);
        const op = rng.nextInt(3);
        const ch = alphabet[rng.nextInt(alphabet.length)];
        t = op === 0 ? t.slice(0, at) + ch + t.slice(at + 1) : op === 1 ? t.slice(0, at) + t.slice(at + 1) : t.slice(0, at) + ch + t.slice(at);
      }
      seen[attempt(() => parseModelText(t, 'm.json'))]++;
    }
    expect(seen.parsed).toBeGreaterThan(50); // edits inside numbers often still parse
    expect(seen.rejected).toBeGreaterThan(500);
  });

  it('2 000 documents with a random value swapped for another type: parsed or CnnError', () => {
    const rng = new Rng(5);
    const junk = [null, true, 'x', '1', -1, 0, 1e309, [], {}, [[]], { k1: 1 }, NaN, 2, 'cnn-train/zhang-2016'];
    const seen = { parsed: 0, rejected: 0 };
    for (let i = 0; i < 2000; i++) {
      const d = structuredClone(doc);
      // walk a random path into the document and replace what is there
      let node: any = d;
      let key: string | number = ['format', 'version', 'parameters'][rng.nextInt(3)];
      for (let depth = rng.nextInt(5); depth > 0 && node[key] !== null && typeof node[key] === 'object'; depth--) {
        node = node[key];
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        key = Array.isArray(node) ? rng.nextInt(node.length) : keys[rng.nextInt(keys.length)];
      }
      if (rng.nextInt(4) === 0) delete node[key];
      else node[key] = junk[rng.nextInt(junk.length)];
      seen[attempt(() => parseModelText(JSON.stringify(d), 'm.json'))]++;
    }
    expect(seen.rejected).toBeGreaterThan(1500);
  });
});
