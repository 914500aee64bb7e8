/**
 * An independent, obviously-correct implementation of the paper's forward pass, written from the
 * equations with their own indexing (1-based maps, kernel offsets u,v in -2..2 as in eq 5), used
 * to check src/nn and the wasm engine. Slow and allocation-happy on purpose: clarity only.
 */
const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** eq 5 / eq 8 for one input map: valid true convolution with a 5x5 kernel given as k(u,v), u,v in -2..2. */
export function convValid(I: number[][], k: (u: number, v: number) => number): number[][] {
  const n = I.length, m = n - 4;
  const out: number[][] = [];
  for (let i = 1; i <= m; i++) {
    const row: number[] = [];
    for (let j = 1; j <= m; j++) {
      // centre of the window in 1-based input coordinates: (i+2, j+2)
      let s = 0;
      for (let u = -2; u <= 2; u++) for (let v = -2; v <= 2; v++) s += I[i + 2 - u - 1][j + 2 - v - 1] * k(u, v);
      row.push(s);
    }
    out.push(row);
  }
  return out;
}

/** eqs 6, 9: S(i,j) = ¼ Σ_{u,v∈{0,1}} C(2i-u, 2j-v), 1-based. */
export function meanPool(C: number[][]): number[][] {
  const out: number[][] = [];
  for (let i = 1; i <= C.length / 2; i++) {
    const row: number[] = [];
    for (let j = 1; j <= C.length / 2; j++) {
      let s = 0;
      for (let u = 0; u <= 1; u++) for (let v = 0; v <= 1; v++) s += C[2 * i - u - 1][2 * j - v - 1];
      row.push(s / 4);
    }
    out.push(row);
  }
  return out;
}

/** MATLAB's reshape(S, [], 1): columns one after another. */
export function columnScan(S: number[][]): number[] {
  const f: number[] = [];
  for (let c = 0; c < S[0].length; c++) for (let r = 0; r < S.length; r++) f.push(S[r][c]);
  return f;
}

/** Whole forward pass from the flat parameter buffer (layout of the model-file contract). Returns ŷ. */
export function naiveForward(params: Float64Array, image: number[][]): number[] {
  const k1 = (p: number) => (u: number, v: number) => params[p * 25 + (u + 2) * 5 + (v + 2)];
  const b1 = (p: number) => params[150 + p];
  const k2 = (p: number, q: number) => (u: number, v: number) => params[156 + (p * 12 + q) * 25 + (u + 2) * 5 + (v + 2)];
  const b2 = (q: number) => params[1956 + q];
  const S1: number[][][] = [];
  for (let p = 0; p < 6; p++) S1.push(meanPool(convValid(image, k1(p)).map((r) => r.map((z) => sig(z + b1(p))))));
  const f: number[] = [];
  for (let q = 0; q < 12; q++) {
    let Z = convValid(S1[0], k2(0, q));
    for (let p = 1; p < 6; p++) {
      const Zp = convValid(S1[p], k2(p, q));
      Z = Z.map((r, i) => r.map((z, j) => z + Zp[i][j]));
    }
    f.push(...columnScan(meanPool(Z.map((r) => r.map((z) => sig(z + b2(q)))))));
  }
  const y: number[] = [];
  for (let i = 0; i < 10; i++) {
    let s = params[3888 + i];
    for (let j = 0; j < 192; j++) s += params[1968 + i * 192 + j] * f[j];
    y.push(sig(s));
  }
  return y;
}

/** An MNIST image of the data set as 28x28 numbers in [0,1]. */
export function imageAt(images: Uint8Array, n: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < 28; r++) out.push(Array.from(images.subarray(n * 784 + r * 28, n * 784 + r * 28 + 28), (x) => x / 255));
  return out;
}
