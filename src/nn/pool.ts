/**
 * 2x2 mean pooling (eqs 6, 9): y[m][i][j] = ¼ Σ_{u,v∈{0,1}} x[m][2i+u][2j+v].
 * x: [M][2S][2S] -> y: [M][S][S]
 */
export function poolForward(y: Float64Array, x: Float64Array, M: number, S: number): void {
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
export function poolBackward(dx: Float64Array, dy: Float64Array, M: number, S: number): void {
  const X = 2 * S;
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < X; i++) {
      for (let j = 0; j < X; j++) {
        dx[(m * X + i) * X + j] = 0.25 * dy[(m * S + (i >> 1)) * S + (j >> 1)];
      }
    }
  }
}
