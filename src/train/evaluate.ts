/**
 * Evaluation: test error, loss, per-class accuracy and the 10x10 confusion matrix
 * (rows: true label, columns: predicted).
 */
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

/** Evaluate the engine's current parameters on a data set. */
export function evaluate(engine: Engine, data: Dataset, count = data.count): Evaluation {
  const predictions = new Uint8Array(count);
  const lossSum = engine.predict(data, 0, count, predictions);
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
