/**
 * Evaluation: test error, loss, per-class accuracy and the 10x10 confusion matrix
 * (rows: true label, columns: predicted).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Dataset } from '../data/mnist.js';
import type { Engine } from '../engine/engine.js';
import { CLASSES } from '../model/layout.js';

export interface Evaluation {
  count: number;
  errors: number;
  error: number;
  accuracy: number;
  /** Mean loss (eq 13). */
  loss: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  /** Accuracy per true class (NaN-free: null for a class with no examples). */
  perClass: (number | null)[];
  /** Predicted class of every image. */
  predictions: Uint8Array;
}

function summarize(data: Dataset, predictions: Uint8Array, lossSum: number, count: number): Evaluation {
  const confusion = Array.from({ length: CLASSES }, () => new Array<number>(CLASSES).fill(0));
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const t = data.labels[i];
    confusion[t][predictions[i]]++;
    if (predictions[i] !== t) errors++;
  }
  const perClass = confusion.map((row, t) => {
    const n = row.reduce((a, b) => a + b, 0);
    return n === 0 ? null : row[t] / n;
  });
  return { count, errors, error: errors / count, accuracy: 1 - errors / count, loss: lossSum / count, confusion, perClass, predictions };
}

/** Evaluate the engine's current parameters on a data set (in one call). */
export function evaluate(engine: Engine, data: Dataset, count = data.count): Evaluation {
  const predictions = new Uint8Array(count);
  const lossSum = engine.predict(data, 0, count, predictions);
  return summarize(data, predictions, lossSum, count);
}

export interface EvaluateOptions {
  /** Stop between two chunks when aborted; the result is then null. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Also keep the ten outputs of every image. */
  outputs?: Float64Array;
}

/**
 * The same evaluation in chunks of engine.callSize.predict images (about 50 ms), letting the
 * event loop run between them (signals, progress). Returns null if `signal` aborts it before the
 * last chunk.
 */
export async function evaluateInChunks(engine: Engine, data: Dataset, o: EvaluateOptions = {}): Promise<Evaluation | null> {
  const count = data.count;
  const predictions = new Uint8Array(count);
  const chunk = engine.callSize.predict;
  let lossSum = 0;
  for (let done = 0; done < count; ) {
    if (o.signal?.aborted) return null;
    const n = Math.min(chunk, count - done);
    const outputs = o.outputs?.subarray(done * CLASSES, (done + n) * CLASSES);
    const part = new Uint8Array(predictions.buffer, done, n);
    lossSum += engine.predict(data, done, n, part, outputs);
    done += n;
    o.onProgress?.(done, count);
    await yieldToEventLoop();
  }
  return summarize(data, predictions, lossSum, count);
}
