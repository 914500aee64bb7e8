/**
 * 2x2 pooling, x: [M][2S][2S] -> y: [M][S][S], and the way back of the error (dy -> dx).
 *   mean (eqs 6, 9):  y[m][i][j] = ¼ Σ_{u,v∈{0,1}} x[m][2i+u][2j+v];  dx = ¼ dy spread over the window (eqs 32, 52)
 *   max:              y[m][i][j] = max of the window;  dx = dy at the window's FIRST maximum in the order
 *                     (0,0), (0,1), (1,0), (1,1) as (row, column) offsets, 0 at the other three
 */
import type { Pool } from '../model/architecture.js';

/** Mean pooling (eqs 6, 9). */
export function meanPoolForward(y: Float64Array, x: Float64Array, M: number, S: number): void {
  const X = 2 * S;
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const o = m * X * X + 2 * i * X + 2 * j;
        y[(m * S + i) * S + j] = 0.25 * (x[o] + x[o + 1] + x[o + X] + x[o + X + 1]);
      }
    }
  }
}

/**
 * Upsampling of the error (eqs 32, 52): dx[m][i][j] = ¼ dy[m][⌊i/2⌋][⌊j/2⌋]
 * (the paper's ⌈i/2⌉ with 1-based indices). dy: [M][S][S] -> dx: [M][2S][2S] (overwritten)
 */
export function meanPoolBackward(dx: Float64Array, dy: Float64Array, M: number, S: number): void {
  const X = 2 * S;
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < X; i++) {
      for (let j = 0; j < X; j++) {
        dx[(m * X + i) * X + j] = 0.25 * dy[(m * S + (i >> 1)) * S + (j >> 1)];
      }
    }
  }
}

/** Offset in x of the first maximum of window (i, j) of map m, scanning (0,0), (0,1), (1,0), (1,1). */
export function firstMax(x: Float64Array, m: number, i: number, j: number, S: number): number {
  const X = 2 * S;
  const o = m * X * X + 2 * i * X + 2 * j;
  let best = o;
  for (const k of [o + 1, o + X, o + X + 1]) if (x[k] > x[best]) best = k;
  return best;
}

/** Max pooling. */
export function maxPoolForward(y: Float64Array, x: Float64Array, M: number, S: number): void {
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) y[(m * S + i) * S + j] = x[firstMax(x, m, i, j, S)];
    }
  }
}

/** The error of each window to its first maximum in x (the pooled input); dx overwritten. */
export function maxPoolBackward(dx: Float64Array, dy: Float64Array, x: Float64Array, M: number, S: number): void {
  dx.fill(0, 0, M * 4 * S * S);
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) dx[firstMax(x, m, i, j, S)] = dy[(m * S + i) * S + j];
    }
  }
}

export interface PoolLayer {
  forward(y: Float64Array, x: Float64Array, M: number, S: number): void;
  /** x: the layer's input (the map before pooling), for max pooling's routing. */
  backward(dx: Float64Array, dy: Float64Array, x: Float64Array, M: number, S: number): void;
}

export const POOL_LAYERS: Record<Pool, PoolLayer> = {
  mean: { forward: meanPoolForward, backward: (dx, dy, _x, M, S) => meanPoolBackward(dx, dy, M, S) },
  max: { forward: maxPoolForward, backward: maxPoolBackward },
};
