/**
 * The model file: JSON, the contract other tools rely on.
 *   { "format": "cnn-train/zhang-2016", "version": 1,
 *     "parameters": { "k1": [6][5][5], "b1": [6], "k2": [6][12][5][5], "b2": [12], "W": [10][192], "b": [10] },
 *     "training": { ...hyper-parameters, seed, data, history... },
 *     "resume": { ...where training stands, so that --resume continues exactly... } }
 * Version 1 is the paper's network. Any other architecture is version 2, with all five choices:
 *     "version": 2, "architecture": { "conv", "pool", "activation", "output", "loss" }
 * (the parameters keep their layout; with correlation, k1 and k2 are the kernels of its formula).
 * A checkpoint is a model file whose "resume" points into the middle of an epoch.
 */
import { CnnError, describeError } from '../errors.js';
import { isPaper, PAPER, parseArchitecture, type Architecture } from '../model/architecture.js';
import { GROUPS, OFFSETS, PARAM_COUNT, SHAPES, type Group } from '../model/layout.js';
import type { RngState } from '../model/rng.js';
import { writeFileAtomic } from './atomic-write.js';
import { overflowingNumbers } from './json-overflow.js';
import { readRegularFile, type FileKind } from './read-file.js';

export const FORMAT = 'cnn-train/zhang-2016';
/** The file-format version: 1 for the paper's network (no "architecture" key), 2 for any other. */
export const PAPER_VERSION = 1;
export const ARCHITECTURE_VERSION = 2;

export function modelVersion(a: Architecture): number {
  return isPaper(a) ? PAPER_VERSION : ARCHITECTURE_VERSION;
}
/** A model file is ~80 kB; anything far larger is not one. */
export const MAX_MODEL_BYTES = 16 * 1024 * 1024;

export interface EpochRecord {
  epoch: number;
  /** Mean training loss (eq 13) over the epoch, each image's taken before its update. */
  loss: number;
  /** Running training error over the epoch (same forward passes as the loss). */
  trainError: number;
  /** Test error after the epoch, when evaluated. */
  testError?: number;
  testLoss?: number;
  /** Error and mean loss on the held-out validation images (--validation), when there are some. */
  validationError?: number;
  validationLoss?: number;
  /** The learning rate of this epoch, α·γ^(e−1) (--lr-decay). */
  lr?: number;
  seconds: number;
  imagesPerSecond: number;
  /** Mean training loss over each successive block of `curveEvery` images (learning curve). */
  curve?: number[];
}

/** How the data were chosen on the command line: --resume reuses them when they are not given again. */
export interface DataOptions {
  /** --data as an absolute path; null for the bundled MNIST. */
  dir: string | null;
  /** --train-limit and --test-limit (null: all). */
  trainLimit: number | null;
  testLimit: number | null;
}

export interface TrainingInfo {
  tool: string;
  /** What ran, in words (e.g. "wasm f32x4 SIMD + FMA, 2 thread(s)"). */
  engine: string;
  /** --engine ("wasm" or "reference"). */
  engineName?: string;
  threads: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  data: {
    source: string;
    trainCount: number;
    testCount: number;
    /** SHA-256 of the training images and labels used (src/data/fingerprint.ts). */
    fingerprint?: string;
  } & Partial<DataOptions>;
  curveEvery: number;
  /** Where the run writes its model and its checkpoint (absolute): --resume continues there. */
  paths?: { out: string; checkpoint: string };
  /** The update rule and schedule (absent: plain SGD, constant rate). */
  optimizer?: { momentum: number; weightDecay: number; lrDecay: number };
  /** --validation (held-out images, the last of the training file), --keep, --early-stop. */
  validation?: { count: number; keep: 'last' | 'best'; earlyStop: number | null };
  /** With --keep best: the epoch whose parameters these are. */
  kept?: { epoch: number; validationError: number };
  /** With --early-stop: the epoch after which training stopped. */
  stoppedEarly?: { epoch: number };
  history: EpochRecord[];
  createdAt: string;
}

/** Where training stands: enough to continue bit for bit. */
export interface ResumeState {
  /** Epochs fully done. */
  completedEpochs: number;
  /** Images of the next epoch already trained on (0 at an epoch boundary). */
  position: number;
  /** PRNG state at the start of that epoch, before its shuffle. */
  epochRng: RngState;
  /** Sums so far in that epoch (for its record). */
  epochLoss: number;
  epochErrors: number;
  epochSeconds: number;
  /** Loss summed over the unfinished learning-curve block. */
  blockLoss: number;
  curve: number[];
  /** Momentum's velocity, when momentum is used (flat, the parameter layout). */
  velocity?: number[];
  /** With --validation: the best epoch so far, its error (and with --keep best its parameters, flat), and epochs since. */
  best?: { epoch: number; validationError: number; parameters?: number[] };
  sinceBest?: number;
  /** Set when --early-stop ended the run: it is complete at fewer epochs than asked. */
  stoppedEarly?: boolean;
}

export interface ModelFile {
  format: typeof FORMAT;
  /** The network (the file's version follows from it). */
  architecture: Architecture;
  parameters: Float64Array;
  training?: TrainingInfo;
  resume?: ResumeState;
}

/** Nested arrays of the contract from the flat buffer. */
function nest(flat: Float64Array, shape: readonly number[]): unknown {
  if (shape.length === 1) return Array.from(flat.subarray(0, shape[0]));
  const stride = flat.length / shape[0];
  const out: unknown[] = [];
  for (let i = 0; i < shape[0]; i++) out.push(nest(flat.subarray(i * stride, (i + 1) * stride), shape.slice(1)));
  return out;
}

export function serializeModel(m: ModelFile): string {
  const parameters: Record<string, unknown> = {};
  for (const g of GROUPS) {
    const { offset, length } = OFFSETS[g];
    parameters[g] = nest(m.parameters.subarray(offset, offset + length), SHAPES[g]);
  }
  const doc: Record<string, unknown> = { format: m.format, version: modelVersion(m.architecture) };
  if (!isPaper(m.architecture)) doc.architecture = m.architecture;
  doc.parameters = parameters;
  if (m.training) doc.training = m.training;
  if (m.resume) doc.resume = m.resume;
  return JSON.stringify(doc) + '\n';
}

/** A model of the given parameters and architecture, with no training metadata. */
export function newModel(parameters: Float64Array, architecture: Architecture = PAPER): ModelFile {
  return { format: FORMAT, architecture, parameters };
}

export function saveModel(path: string, m: ModelFile): void {
  writeFileAtomic(path, serializeModel(m));
}

/** The literal in the source text at a path, when it is known (see overflowingNumbers). */
export type LiteralAt = (where: string) => string | undefined;

/** How a value that should be a finite number is described: the literal of an overflow, else the value. */
function notFinite(v: unknown, where: string, literalAt: LiteralAt | undefined, expected: string): string {
  const literal = typeof v === 'number' ? literalAt?.(where) : undefined;
  if (literal !== undefined) return `${where} is not a finite number (${literal} overflows)`;
  return `${where} is ${typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v))}, expected ${expected}`;
}

/** Copy a nested array of the given shape into flat[offset..], checking shape and finiteness. */
function flatten(v: unknown, shape: readonly number[], flat: Float64Array, offset: number, where: string, source: string, literalAt?: LiteralAt): number {
  const dims = shape.map(String).join('x');
  if (!Array.isArray(v) || v.length !== shape[0]) {
    const got = Array.isArray(v) ? `an array of ${v.length}` : typeof v === 'object' ? (v === null ? 'null' : 'an object') : `a ${typeof v}`;
    throw new CnnError(`${source}: ${where} is ${got}, expected an array of ${shape[0]} (shape ${dims})`);
  }
  for (let i = 0; i < shape[0]; i++) {
    const e = v[i];
    if (shape.length === 1) {
      if (typeof e !== 'number' || !Number.isFinite(e)) throw new CnnError(`${source}: ${notFinite(e, `${where}[${i}]`, literalAt, 'a finite number')}`);
      flat[offset++] = e;
    } else {
      offset = flatten(e, shape.slice(1), flat, offset, `${where}[${i}]`, source, literalAt);
    }
  }
  return offset;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validate a parsed document as a model file; every failure is a one-line CnnError. `literalAt`
 * gives the source text of a number that parsed to ±Infinity, for the message.
 */
export function parseModel(doc: unknown, source: string, literalAt?: LiteralAt): ModelFile {
  if (!isObject(doc)) throw new CnnError(`${source}: expected a JSON object with "format": "${FORMAT}"`);
  if (doc.format !== FORMAT) {
    throw new CnnError(`${source}: "format" is ${JSON.stringify(doc.format) ?? 'missing'}, expected "${FORMAT}"`);
  }
  let architecture: Architecture;
  if (doc.version === PAPER_VERSION) {
    if (doc.architecture !== undefined) {
      throw new CnnError(`${source}: a version ${PAPER_VERSION} file is the paper's network and has no "architecture"; with one, "version" must be ${ARCHITECTURE_VERSION}`);
    }
    architecture = PAPER;
  } else if (doc.version === ARCHITECTURE_VERSION) {
    if (doc.architecture === undefined) throw new CnnError(`${source}: a version ${ARCHITECTURE_VERSION} file needs an "architecture" object`);
    architecture = parseArchitecture(doc.architecture, `${source}: architecture`);
  } else {
    throw new CnnError(`${source}: "version" is ${JSON.stringify(doc.version) ?? 'missing'}, expected ${PAPER_VERSION} or ${ARCHITECTURE_VERSION}`);
  }
  const P = doc.parameters;
  if (!isObject(P)) throw new CnnError(`${source}: "parameters" is missing or not an object`);
  for (const k of Object.keys(P)) {
    if (!(GROUPS as readonly string[]).includes(k)) {
      throw new CnnError(`${source}: unexpected key parameters.${k}, expected only ${GROUPS.join(', ')}`);
    }
  }
  const flat = new Float64Array(PARAM_COUNT);
  for (const g of GROUPS) {
    if (P[g] === undefined) throw new CnnError(`${source}: parameters.${g} is missing (shape ${SHAPES[g].join('x')})`);
    flatten(P[g], SHAPES[g], flat, OFFSETS[g as Group].offset, `parameters.${g}`, source, literalAt);
  }
  const m: ModelFile = { format: FORMAT, architecture, parameters: flat };
  // "training" is free-form metadata (other tools write their own); it is typed only when it is
  // cnn-train's, and a file that asks to be resumed must carry cnn-train's
  const problem = trainingProblem(doc.training);
  if (problem === null) m.training = doc.training as unknown as TrainingInfo;
  if (doc.resume !== undefined) {
    m.resume = parseResume(doc.resume, source, literalAt);
    if (problem !== null) throw new CnnError(`${source}: has a "resume" section but ${problem}`);
  }
  return m;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Why `t` is not cnn-train's training section (null when it is). */
function trainingProblem(t: unknown): string | null {
  if (!isObject(t)) return 'no "training" object';
  if (!isInt(t.epochs, 1)) return 'training.epochs is not a whole number of at least 1';
  if (!isInt(t.batchSize, 1)) return 'training.batchSize is not a whole number of at least 1';
  if (!isNum(t.lr) || t.lr <= 0) return 'training.lr is not a positive number';
  if (!isInt(t.seed, 0, 0xffffffff)) return 'training.seed is not a 32-bit unsigned integer';
  if (!isInt(t.curveEvery, 1)) return 'training.curveEvery is not a whole number of at least 1';
  if (!isObject(t.data) || !isInt(t.data.trainCount) || !isInt(t.data.testCount)) return 'training.data lacks trainCount/testCount';
  const d = t.data;
  if (d.fingerprint !== undefined && (typeof d.fingerprint !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d.fingerprint))) return 'training.data.fingerprint is not "sha256:" and 64 hex digits';
  if (d.dir !== undefined && d.dir !== null && typeof d.dir !== 'string') return 'training.data.dir is not a string or null';
  for (const k of ['trainLimit', 'testLimit'] as const) {
    if (d[k] !== undefined && d[k] !== null && !isInt(d[k], k === 'trainLimit' ? 1 : 0)) return `training.data.${k} is not a whole number ${k === 'trainLimit' ? 'of at least 1' : ''} or null`;
  }
  if (t.engineName !== undefined && t.engineName !== 'wasm' && t.engineName !== 'reference') return 'training.engineName is not "wasm" or "reference"';
  if (t.paths !== undefined && (!isObject(t.paths) || typeof t.paths.out !== 'string' || typeof t.paths.checkpoint !== 'string')) {
    return 'training.paths is not { out, checkpoint } file names';
  }
  if (!(t.lr >= 1.1754943508222875e-38 && t.lr <= 3.4028234663852886e38)) return 'training.lr is not a normal float32 greater than 0 (1.2e-38 to 3.4e38)';
  if (t.optimizer !== undefined) {
    const o = t.optimizer;
    if (!isObject(o) || !isNum(o.momentum) || o.momentum < 0 || o.momentum >= 1 || !isNum(o.weightDecay) || o.weightDecay < 0 || !isNum(o.lrDecay) || o.lrDecay <= 0) {
      return 'training.optimizer is not { momentum in [0, 1), weightDecay ≥ 0, lrDecay > 0 }';
    }
  }
  if (t.validation !== undefined) {
    const v = t.validation;
    if (!isObject(v) || !isInt(v.count, 1) || (v.keep !== 'last' && v.keep !== 'best') || (v.earlyStop !== null && !isInt(v.earlyStop, 1))) {
      return 'training.validation is not { count ≥ 1, keep "last"|"best", earlyStop ≥ 1 or null }';
    }
  }
  if (!Array.isArray(t.history)) return 'training.history is not an array';
  for (const [i, h] of t.history.entries()) {
    const ok = isObject(h) && isInt(h.epoch, 1) && isNum(h.loss) && isNum(h.trainError) && isNum(h.seconds) && isNum(h.imagesPerSecond) &&
      (h.testError === undefined || isNum(h.testError)) && (h.curve === undefined || (Array.isArray(h.curve) && h.curve.every(isNum)));
    if (!ok) return `training.history[${i}] is not an epoch record`;
  }
  return null;
}

function parseResume(r: unknown, source: string, literalAt?: LiteralAt): ResumeState {
  const bad = (what: string) => new CnnError(`${source}: resume.${what}`);
  const badNumber = (k: string, v: unknown, expected: string) => new CnnError(`${source}: ${notFinite(v, `resume.${k}`, literalAt, expected)}`);
  if (!isObject(r)) throw bad('must be an object');
  const int = (k: string) => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badNumber(k, v, 'a non-negative integer');
    return v;
  };
  const num = (k: string) => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw badNumber(k, v, 'a finite number');
    return v;
  };
  const completedEpochs = int('completedEpochs');
  const position = int('position');
  const rng = r.epochRng;
  if (!Array.isArray(rng) || rng.length !== 4 || !rng.every((x) => isInt(x, 0, 0xffffffff)) || rng.every((x) => x === 0)) {
    throw bad('epochRng must be 4 unsigned 32-bit integers, not all zero');
  }
  const state = {
    completedEpochs,
    position,
    epochRng: rng as RngState,
    epochLoss: num('epochLoss'),
    epochErrors: int('epochErrors'),
    epochSeconds: num('epochSeconds'),
    blockLoss: num('blockLoss'),
    curve: r.curve ?? [],
  };
  if (!Array.isArray(state.curve) || !state.curve.every(isNum)) throw bad('curve must be an array of numbers');
  const out = state as ResumeState;
  const floats = (v: unknown) => Array.isArray(v) && v.length === PARAM_COUNT && v.every(isNum);
  if (r.velocity !== undefined) {
    if (!floats(r.velocity)) throw bad(`velocity must be ${PARAM_COUNT} finite numbers`);
    out.velocity = r.velocity as number[];
  }
  if (r.best !== undefined) {
    const b = r.best;
    if (!isObject(b) || !isInt(b.epoch, 1) || !isNum(b.validationError) || (b.parameters !== undefined && !floats(b.parameters))) {
      throw bad(`best must hold epoch, validationError and, when given, ${PARAM_COUNT} parameters`);
    }
    out.best = { epoch: b.epoch, validationError: b.validationError, ...(b.parameters !== undefined ? { parameters: b.parameters as number[] } : {}) };
  }
  if (r.sinceBest !== undefined) out.sinceBest = int('sinceBest');
  if (r.stoppedEarly !== undefined) {
    if (typeof r.stoppedEarly !== 'boolean') throw bad('stoppedEarly must be true or false');
    out.stoppedEarly = r.stoppedEarly;
  }
  return out;
}

const MODEL_FILE: FileKind = {
  expected: 'a model JSON file',
  cannotRead: 'cannot read model file',
  maxBytes: MAX_MODEL_BYTES,
  tooLarge: (size) => `file is ${size} bytes; a model file is about 80 kB (limit ${MAX_MODEL_BYTES} bytes)`,
};

/** Read and validate a model file. */
export function loadModel(path: string): ModelFile {
  return parseModelText(readRegularFile(path, MODEL_FILE).toString('utf8'), path);
}

/** Deeper nesting than this is refused: a model file needs 5 levels; other tools' metadata a few more. */
export const MAX_NESTING = 64;

/** How deeply a parsed JSON value nests (iteratively: a hostile file cannot overflow the stack here). */
function nesting(doc: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[doc, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > 10 * MAX_NESTING) return max;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (typeof x === 'object' && x !== null) stack.push([x, d + 1]);
  }
  return max;
}

/** Parse and validate the text of a model file (a leading UTF-8 byte-order mark is allowed). */
export function parseModelText(text: string, source: string): ModelFile {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new CnnError(`${source}: not valid JSON (${describeError(e)})`);
  }
  const depth = nesting(doc);
  if (depth > MAX_NESTING) throw new CnnError(`${source}: JSON nested ${depth > 10 * MAX_NESTING ? `more than ${10 * MAX_NESTING}` : depth} levels deep; a model file needs at most 5 (limit ${MAX_NESTING})`);
  let overflows: Map<string, string> | undefined;
  return parseModel(doc, source, (where) => (overflows ??= overflowingNumbers(json)).get(where));
}
