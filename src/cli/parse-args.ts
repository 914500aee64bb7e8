/** Option-value parsers for commander: each rejects bad input with a message naming what was expected. */
import { InvalidArgumentError } from 'commander';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number from 1 to 9007199254740991.');
  return n;
}

/** A whole number from 1 to max. */
export function intUpTo(max: number): (value: string) => number {
  return (value: string) => {
    const n = positiveInt(value);
    if (n > max) throw new InvalidArgumentError(`expected a whole number from 1 to ${max}.`);
    return n;
  };
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number of at least 0.');
  return n;
}

/** A plain decimal number ("0.5", "1e-3"): no hex, binary, octal, "Infinity" or empty string, which Number() accepts. */
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a decimal number greater than 0.');
  return n;
}

/** The engines step in float32: a rate must be a normal float32 (no subnormal, no overflow). */
export const LR_MIN = 1.1754943508222875e-38; // 2^-126
export const LR_MAX = 3.4028234663852886e38;

export function learningRate(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n) || n < LR_MIN || n > LR_MAX) {
    throw new InvalidArgumentError('expected a decimal number from 1.2e-38 to 3.4e38 (a normal float32 greater than 0).');
  }
  return n;
}

export function seedInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n > 0xffffffff) {
    throw new InvalidArgumentError('expected a whole number from 0 to 4294967295.');
  }
  return n;
}

/** A decimal number from 0 up to (not including) 1: momentum. */
export function unitInterval(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a decimal number from 0 up to (not including) 1.');
  return n;
}

/** A decimal number of 0 or more: weight decay. */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!DECIMAL.test(value) || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a decimal number of 0 or more.');
  return n;
}
