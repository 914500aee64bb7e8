/**
 * A fingerprint of a data set: SHA-256 of its image bytes followed by its label bytes (of the
 * images actually used, after --train-limit). A checkpoint records it, so that a run is never
 * resumed on other data of the same size (~30 ms for the 60 000 MNIST training images).
 */
import { createHash } from 'node:crypto';
import { PIXELS, type Dataset } from './mnist.js';

const cache = new WeakMap<Uint8Array, Map<number, string>>();

export function fingerprint(ds: Dataset): string {
  let byCount = cache.get(ds.images);
  if (!byCount) cache.set(ds.images, (byCount = new Map()));
  let f = byCount.get(ds.count);
  if (f === undefined) {
    const h = createHash('sha256');
    h.update(ds.images.subarray(0, ds.count * PIXELS));
    h.update(ds.labels.subarray(0, ds.count));
    f = `sha256:${h.digest('hex')}`;
    byCount.set(ds.count, f);
  }
  return f;
}
