// AssemblyScript. The forward pass (eqs 4-12) in float32 SIMD, on the regions of layout.ts.
// True convolution (eq 5): z[i][j] = Σ_{r,c} x[i+4-r][j+4-c]·k[r][c] = Σ_{u,v} x[i+u][j+v]·k[4-u][4-v],
// so with u,v the offset into the input window, the kernel is read at index 24 - (5u + v).
// (Cross-correlation is this with the kernels rotated by 180°: the engine stores them rotated,
// src/engine/kernel-params.ts, so one code path serves both choices of --conv.)
import {
  IN, K, KK, C1_MAPS, C1_SIDE, S1_SIDE, C2_MAPS, C2_SIDE, S2_SIDE, FEATURES, CLASSES, PIXELS,
  K1_OFFSET, B1_OFFSET, K2_OFFSET, B2_OFFSET, W_OFFSET, B_OFFSET, OUTPUT_SOFTMAX,
} from "../model/dims";
import { X, C1, S1, C2, S2, F, Z, Y, IMAGES, C1_MAP, S1_MAP, C2_MAP, S2_MAP, OUT_PAD } from "./layout";
import { ld, st, fma, hsum, actv, sigmoidv, MaxPool } from "./simd";

// The loops below are unrolled for these sizes; other sizes must fail to compile, not run wrong.
// @ts-ignore: AssemblyScript builtin
if (K != 5 || C1_MAPS != 6 || C1_SIDE % 4 != 0 || C2_MAPS % 4 != 0 || C2_SIDE != 8 || S1_SIDE % 4 != 0 || S2_SIDE % 4 != 0 || FEATURES % 4 != 0) ERROR("the kernel's loops need K = 5, 6 C1 maps, C2 maps in fours, 8x8 C2 maps, pooled sides in fours");

const C1_MAP_BYTES: usize = <usize>C1_MAP * 4;
const KB: usize = <usize>KK * 4; // bytes per 5x5 kernel

// Load image t of the stage into X, scaled to [0,1] (x/255).
export function loadImage(t: i32): void {
  const src = IMAGES + <usize>t * PIXELS;
  const d = f32x4.splat(255.0);
  for (let i = 0; i < PIXELS; i += 4) {
    const b = v128.load32_zero(src + <usize>i);
    const w = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(b));
    st(X + <usize>i * 4, f32x4.div(f32x4.convert_i32x4_u(w), d));
  }
}

// One row of a true-convolution window: a + Σ_v x_v · k[4-v], with kr pointing at k[0] of the row.
@inline function taps5(a: v128, x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, kr: usize): v128 {
  a = fma(a, x0, v128.load32_splat(kr, 16));
  a = fma(a, x1, v128.load32_splat(kr, 12));
  a = fma(a, x2, v128.load32_splat(kr, 8));
  a = fma(a, x3, v128.load32_splat(kr, 4));
  return fma(a, x4, v128.load32_splat(kr, 0));
}

// C1 (eqs 4-5): [1][28][28] * k1 [6][5][5] -> act -> [6][24][24]; 6 maps at once, so that each of
// the 5 input vectors of a window row is loaded once for all 6 kernels.
export function c1Forward<A>(P: usize): void {
  for (let i = 0; i < C1_SIDE; i++) {
    for (let j = 0; j < C1_SIDE; j += 4) {
      let a0 = v128.load32_splat(P + <usize>(B1_OFFSET + 0) * 4);
      let a1 = v128.load32_splat(P + <usize>(B1_OFFSET + 1) * 4);
      let a2 = v128.load32_splat(P + <usize>(B1_OFFSET + 2) * 4);
      let a3 = v128.load32_splat(P + <usize>(B1_OFFSET + 3) * 4);
      let a4 = v128.load32_splat(P + <usize>(B1_OFFSET + 4) * 4);
      let a5 = v128.load32_splat(P + <usize>(B1_OFFSET + 5) * 4);
      for (let u = 0; u < K; u++) {
        const row = X + <usize>((i + u) * IN + j) * 4;
        const x0 = v128.load(row), x1 = v128.load(row, 4), x2 = v128.load(row, 8), x3 = v128.load(row, 12), x4 = v128.load(row, 16);
        const kr = P + <usize>(K1_OFFSET + K * (K - 1 - u)) * 4; // k1[p][4-u][0]; tap v reads k1[p][4-u][4-v]
        a0 = taps5(a0, x0, x1, x2, x3, x4, kr);
        a1 = taps5(a1, x0, x1, x2, x3, x4, kr + KB);
        a2 = taps5(a2, x0, x1, x2, x3, x4, kr + 2 * KB);
        a3 = taps5(a3, x0, x1, x2, x3, x4, kr + 3 * KB);
        a4 = taps5(a4, x0, x1, x2, x3, x4, kr + 4 * KB);
        a5 = taps5(a5, x0, x1, x2, x3, x4, kr + 5 * KB);
      }
      const o = C1 + <usize>(i * C1_SIDE + j) * 4; // act (eq 4)
      st(o, actv<A>(a0));
      st(o + C1_MAP_BYTES, actv<A>(a1));
      st(o + 2 * C1_MAP_BYTES, actv<A>(a2));
      st(o + 3 * C1_MAP_BYTES, actv<A>(a3));
      st(o + 4 * C1_MAP_BYTES, actv<A>(a4));
      st(o + 5 * C1_MAP_BYTES, actv<A>(a5));
    }
  }
}

// 2x2 pooling (eqs 6, 9): src [maps][2S][2S] -> dst [maps][S][S], S a multiple of 4.
// Mean: ¼ of the window's sum; max: its largest value.
export function poolForward<P>(dst: usize, src: usize, maps: i32, S: i32): void {
  const X2 = 2 * S;
  const q = f32x4.splat(0.25);
  for (let m = 0; m < maps; m++) {
    for (let i = 0; i < S; i++) {
      const a = src + <usize>((m * X2 + 2 * i) * X2) * 4;
      const b = a + <usize>X2 * 4;
      const o = dst + <usize>((m * S + i) * S) * 4;
      for (let j = 0; j < S; j += 4) {
        if (idof<P>() == idof<MaxPool>()) {
          const s0 = f32x4.max(ld(a + <usize>(2 * j) * 4), ld(b + <usize>(2 * j) * 4));
          const s1 = f32x4.max(ld(a + <usize>(2 * j + 4) * 4), ld(b + <usize>(2 * j + 4) * 4));
          st(o + <usize>j * 4, f32x4.max(v128.shuffle<f32>(s0, s1, 0, 2, 4, 6), v128.shuffle<f32>(s0, s1, 1, 3, 5, 7)));
        } else {
          const s0 = f32x4.add(ld(a + <usize>(2 * j) * 4), ld(b + <usize>(2 * j) * 4));
          const s1 = f32x4.add(ld(a + <usize>(2 * j + 4) * 4), ld(b + <usize>(2 * j + 4) * 4));
          const ev = v128.shuffle<f32>(s0, s1, 0, 2, 4, 6);
          const od = v128.shuffle<f32>(s0, s1, 1, 3, 5, 7);
          st(o + <usize>j * 4, f32x4.mul(f32x4.add(ev, od), q));
        }
      }
    }
  }
}

// C2 (eqs 7-8): Σ_p S1_p [12][12] * k2[p][q] -> act -> [12][8][8]. One output row of 4 maps at a
// time: 8 independent accumulators (a chain of 150 dependent adds per accumulator would otherwise
// leave the CPU waiting on add latency), each input vector loaded once for the 4 kernels.
export function c2Forward<A>(P: usize): void {
  for (let q = 0; q < C2_MAPS; q += 4) {
    for (let i = 0; i < C2_SIDE; i++) {
      let a0 = v128.load32_splat(P + <usize>(B2_OFFSET + q) * 4), a1 = a0;
      let b0 = v128.load32_splat(P + <usize>(B2_OFFSET + q + 1) * 4), b1 = b0;
      let c0 = v128.load32_splat(P + <usize>(B2_OFFSET + q + 2) * 4), c1 = c0;
      let d0 = v128.load32_splat(P + <usize>(B2_OFFSET + q + 3) * 4), d1 = d0;
      for (let p = 0; p < C1_MAPS; p++) {
        // k2[p][q..q+3][4-u][4-v]: maps q+1.. are one kernel (KB bytes) apart
        const kb = P + <usize>(K2_OFFSET + (p * C2_MAPS + q) * KK + KK - 1) * 4;
        for (let u = 0; u < K; u++) {
          const row = S1 + <usize>(p * S1_MAP + (i + u) * S1_SIDE) * 4;
          for (let v = 0; v < K; v++) {
            const x0 = ld(row + <usize>v * 4), x1 = ld(row + <usize>(v + 4) * 4);
            const k = kb - <usize>(K * u + v) * 4;
            const ka = v128.load32_splat(k), kb1 = v128.load32_splat(k, KB), kc = v128.load32_splat(k, 2 * KB), kd = v128.load32_splat(k, 3 * KB);
            a0 = fma(a0, x0, ka);
            a1 = fma(a1, x1, ka);
            b0 = fma(b0, x0, kb1);
            b1 = fma(b1, x1, kb1);
            c0 = fma(c0, x0, kc);
            c1 = fma(c1, x1, kc);
            d0 = fma(d0, x0, kd);
            d1 = fma(d1, x1, kd);
          }
        }
      }
      const o = C2 + <usize>(q * C2_MAP + i * C2_SIDE) * 4; // act (eq 7)
      const M: usize = <usize>C2_MAP * 4;
      st(o, actv<A>(a0));
      st(o + 16, actv<A>(a1));
      st(o + M, actv<A>(b0));
      st(o + M + 16, actv<A>(b1));
      st(o + 2 * M, actv<A>(c0));
      st(o + 2 * M + 16, actv<A>(c1));
      st(o + 3 * M, actv<A>(d0));
      st(o + 3 * M + 16, actv<A>(d1));
    }
  }
}

// F (eq 10): column scan, f[q*16 + c*4 + r] = S2[q][r][c]
export function vectorize(): void {
  for (let q = 0; q < C2_MAPS; q++) {
    for (let r = 0; r < S2_SIDE; r++) {
      for (let c = 0; c < S2_SIDE; c++) {
        store<f32>(F + <usize>(q * S2_MAP + c * S2_SIDE + r) * 4, load<f32>(S2 + <usize>(q * S2_MAP + r * S2_SIDE + c) * 4));
      }
    }
  }
}

// FC (eq 12): z = W f + b into Z, then ŷ = σ(z) (the paper) or softmax(z) into Y.
export function fcForward(P: usize, output: i32): void {
  for (let o = 0; o < CLASSES; o++) {
    let acc = f32x4.splat(0);
    const w = P + <usize>(W_OFFSET + o * FEATURES) * 4;
    for (let j = 0; j < FEATURES; j += 4) acc = fma(acc, ld(w + <usize>j * 4), ld(F + <usize>j * 4));
    store<f32>(Z + <usize>o * 4, hsum(acc) + load<f32>(P + <usize>(B_OFFSET + o) * 4));
  }
  for (let o = CLASSES; o < OUT_PAD; o++) store<f32>(Z + <usize>o * 4, 0);
  if (output == OUTPUT_SOFTMAX) {
    let m = load<f32>(Z);
    for (let o = 1; o < CLASSES; o++) m = max(m, load<f32>(Z + <usize>o * 4));
    let s: f32 = 0;
    for (let o = 0; o < CLASSES; o++) {
      const e = Mathf.exp(load<f32>(Z + <usize>o * 4) - m);
      store<f32>(Y + <usize>o * 4, e);
      s += e;
    }
    for (let o = 0; o < CLASSES; o++) store<f32>(Y + <usize>o * 4, load<f32>(Y + <usize>o * 4) / s);
    for (let o = CLASSES; o < OUT_PAD; o++) store<f32>(Y + <usize>o * 4, 0);
  } else {
    for (let o = 0; o < OUT_PAD; o += 4) st(Y + <usize>o * 4, sigmoidv(ld(Z + <usize>o * 4)));
  }
}

// The whole forward pass (eqs 4-12) of the image in X.
@inline export function forward<A, P>(Pm: usize, output: i32): void {
  c1Forward<A>(Pm);
  poolForward<P>(S1, C1, C1_MAPS, S1_SIDE); // eq 6
  c2Forward<A>(Pm);
  poolForward<P>(S2, C2, C2_MAPS, S2_SIDE); // eq 9
  vectorize();
  fcForward(Pm, output);
}
