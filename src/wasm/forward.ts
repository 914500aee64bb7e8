// AssemblyScript. The forward pass (eqs 4-12) in float32 SIMD, on a workspace (layout.ts).
// True convolution (eq 5): z[i][j] = Σ_{r,c} x[i+4-r][j+4-c]·k[r][c] = Σ_{u,v} x[i+u][j+v]·k[4-u][4-v],
// so with u,v the offset into the input window, the kernel is read at index 24 - (5u + v).
// (Cross-correlation is this with the kernels rotated by 180°: the engine stores them rotated,
// src/engine/kernel-params.ts, so one code path serves both choices of --conv.)
//
// Every output value is one fixed sequence of operations — the bias, then the products in the
// order (u, v) (C2: (p, u, v)) — whatever the blocking of the loops around it and whichever
// thread computes it; the functions take ranges of maps or rows so that threads can share an
// image (kernel.ts trainOnline) without changing a bit.
import {
  IN, K, KK, C1_MAPS, C1_SIDE, S1_SIDE, C2_MAPS, C2_SIDE, S2_SIDE, FEATURES, CLASSES, PIXELS,
  K1_OFFSET, B1_OFFSET, K2_OFFSET, B2_OFFSET, W_OFFSET, B_OFFSET, OUTPUT_SOFTMAX,
} from "../model/dims";
import { IMAGES, C1_MAP, S1_MAP, C2_MAP, S2_MAP, OUT_PAD } from "./layout";
import { ld, st, fma, hsum, actv, sigmoidv, MaxPool } from "./simd";

// The loops below are unrolled for these sizes; other sizes must fail to compile, not run wrong.
// @ts-ignore: AssemblyScript builtin
if (K != 5 || C1_SIDE != 24 || C2_MAPS % 2 != 0 || C2_SIDE != 8 || S1_SIDE % 4 != 0 || S2_SIDE % 4 != 0 || FEATURES % 4 != 0) ERROR("the kernel's loops need K = 5, 24x24 C1 maps, C2 maps in twos, 8x8 C2 maps, pooled sides in fours");

const C1_MAP_BYTES: usize = <usize>C1_MAP * 4;
const KB: usize = <usize>KK * 4; // bytes per 5x5 kernel

// Load image t of the stage into x, scaled to [0,1] (x/255).
export function loadImage(t: i32, x: usize): void {
  const src = IMAGES + <usize>t * PIXELS;
  const d = f32x4.splat(255.0);
  for (let i = 0; i < PIXELS; i += 4) {
    const b = v128.load32_zero(src + <usize>i);
    const w = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(b));
    st(x + <usize>i * 4, f32x4.div(f32x4.convert_i32x4_u(w), d));
  }
}

// C1 (eqs 4-5): [1][28][28] * k1 [p0, p1) -> act -> c1 [p0, p1)[24][24]. Two maps at a time, in
// blocks of 2 rows x 8 columns: 8 independent accumulators, each input vector loaded once for
// both kernels and each tap once for the 4 vectors. (V8 loads every operand of an iteration into
// a register before its multiply-adds; 8 accumulators and 6 loads fit the 15 registers it uses.)
export function c1Forward<A>(P: usize, x: usize, c1: usize, p0: i32, p1: i32): void {
  let p = p0;
  for (; p + 2 <= p1; p += 2) {
    const bp = v128.load32_splat(P + <usize>(B1_OFFSET + p) * 4), bq = v128.load32_splat(P + <usize>(B1_OFFSET + p + 1) * 4);
    const kp = P + <usize>(K1_OFFSET + p * KK + KK - 1) * 4; // k1[p][4][4]; tap (u, v) at kp - (5u + v)·4; map p+1 at + KB
    const out = c1 + <usize>p * C1_MAP_BYTES;
    for (let i = 0; i < C1_SIDE; i += 2) {
      for (let j = 0; j < C1_SIDE; j += 8) {
        let a0 = bp, a1 = bp, a2 = bp, a3 = bp; // map p: (i, j), (i, j+4), (i+1, j), (i+1, j+4)
        let b0 = bq, b1 = bq, b2 = bq, b3 = bq; // map p+1
        for (let u = 0; u < K; u++) {
          const r = x + <usize>((i + u) * IN + j) * 4;
          const ku = kp - <usize>(K * u) * 4;
          for (let v = 0; v < K; v++) {
            const xv = r + <usize>v * 4;
            const x0 = ld(xv), x1 = v128.load(xv, 16), x2 = v128.load(xv, IN * 4), x3 = v128.load(xv, IN * 4 + 16);
            const k = ku - <usize>v * 4;
            const kA = v128.load32_splat(k), kB = v128.load32_splat(k, KB);
            a0 = fma(a0, x0, kA);
            a1 = fma(a1, x1, kA);
            a2 = fma(a2, x2, kA);
            a3 = fma(a3, x3, kA);
            b0 = fma(b0, x0, kB);
            b1 = fma(b1, x1, kB);
            b2 = fma(b2, x2, kB);
            b3 = fma(b3, x3, kB);
          }
        }
        const o = out + <usize>(i * C1_SIDE + j) * 4; // act (eq 4)
        st(o, actv<A>(a0));
        v128.store(o, actv<A>(a1), 16);
        v128.store(o, actv<A>(a2), C1_SIDE * 4);
        v128.store(o, actv<A>(a3), C1_SIDE * 4 + 16);
        st(o + C1_MAP_BYTES, actv<A>(b0));
        v128.store(o + C1_MAP_BYTES, actv<A>(b1), 16);
        v128.store(o + C1_MAP_BYTES, actv<A>(b2), C1_SIDE * 4);
        v128.store(o + C1_MAP_BYTES, actv<A>(b3), C1_SIDE * 4 + 16);
      }
    }
  }
  for (; p < p1; p++) { // one map: blocks of 2 rows x 12 columns
    const bp = v128.load32_splat(P + <usize>(B1_OFFSET + p) * 4);
    const kp = P + <usize>(K1_OFFSET + p * KK + KK - 1) * 4;
    const out = c1 + <usize>p * C1_MAP_BYTES;
    for (let i = 0; i < C1_SIDE; i += 2) {
      for (let j = 0; j < C1_SIDE; j += 12) {
        let a0 = bp, a1 = bp, a2 = bp, a3 = bp, a4 = bp, a5 = bp;
        for (let u = 0; u < K; u++) {
          const r = x + <usize>((i + u) * IN + j) * 4;
          const ku = kp - <usize>(K * u) * 4;
          for (let v = 0; v < K; v++) {
            const xv = r + <usize>v * 4;
            const k = v128.load32_splat(ku - <usize>v * 4);
            a0 = fma(a0, ld(xv), k);
            a1 = fma(a1, v128.load(xv, 16), k);
            a2 = fma(a2, v128.load(xv, 32), k);
            a3 = fma(a3, v128.load(xv, IN * 4), k);
            a4 = fma(a4, v128.load(xv, IN * 4 + 16), k);
            a5 = fma(a5, v128.load(xv, IN * 4 + 32), k);
          }
        }
        const o = out + <usize>(i * C1_SIDE + j) * 4;
        st(o, actv<A>(a0));
        v128.store(o, actv<A>(a1), 16);
        v128.store(o, actv<A>(a2), 32);
        v128.store(o, actv<A>(a3), C1_SIDE * 4);
        v128.store(o, actv<A>(a4), C1_SIDE * 4 + 16);
        v128.store(o, actv<A>(a5), C1_SIDE * 4 + 32);
      }
    }
  }
}

// 2x2 pooling (eqs 6, 9): src [maps][2S][2S] -> dst [maps][S][S], S a multiple of 4, for maps
// [m0, m1) and output rows [r0, r1). Mean: ¼ of the window's sum; max: its largest value.
export function poolForward<P>(dst: usize, src: usize, S: i32, m0: i32, m1: i32, r0: i32, r1: i32): void {
  const X2 = 2 * S;
  const q = f32x4.splat(0.25);
  for (let m = m0; m < m1; m++) {
    for (let i = r0; i < r1; i++) {
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

// C2 (eqs 7-8): Σ_p S1_p [12][12] * k2[p][q] -> act -> c2 [12][8][8], output rows [i0, i1) (even
// bounds). Two rows of 2 maps at a time: 8 independent accumulators (a chain of 150 dependent
// adds per accumulator would otherwise leave the CPU waiting on add latency), each input vector
// loaded once for the 2 kernels and each kernel tap once for the 2 rows.
export function c2Forward<A>(P: usize, s1: usize, c2: usize, i0: i32, i1: i32): void {
  const M: usize = <usize>C2_MAP * 4;
  for (let q = 0; q < C2_MAPS; q += 2) {
    for (let i = i0; i < i1; i += 2) {
      let a0 = v128.load32_splat(P + <usize>(B2_OFFSET + q) * 4), a1 = a0, a2 = a0, a3 = a0;
      let b0 = v128.load32_splat(P + <usize>(B2_OFFSET + q + 1) * 4), b1 = b0, b2 = b0, b3 = b0;
      for (let p = 0; p < C1_MAPS; p++) {
        // k2[p][q..q+1][4-u][4-v]: map q+1 is one kernel (KB bytes) on
        const kb = P + <usize>(K2_OFFSET + (p * C2_MAPS + q) * KK + KK - 1) * 4;
        for (let u = 0; u < K; u++) {
          const row = s1 + <usize>(p * S1_MAP + (i + u) * S1_SIDE) * 4; // rows i+u and i+1+u
          const ku = kb - <usize>(K * u) * 4;
          for (let v = 0; v < K; v++) {
            const r = row + <usize>v * 4;
            const x0 = ld(r), x1 = v128.load(r, 16), x2 = v128.load(r, S1_SIDE * 4), x3 = v128.load(r, S1_SIDE * 4 + 16);
            const k = ku - <usize>v * 4;
            const ka = v128.load32_splat(k), kb1 = v128.load32_splat(k, KB);
            a0 = fma(a0, x0, ka);
            a1 = fma(a1, x1, ka);
            a2 = fma(a2, x2, ka);
            a3 = fma(a3, x3, ka);
            b0 = fma(b0, x0, kb1);
            b1 = fma(b1, x1, kb1);
            b2 = fma(b2, x2, kb1);
            b3 = fma(b3, x3, kb1);
          }
        }
      }
      const o = c2 + <usize>(q * C2_MAP + i * C2_SIDE) * 4; // act (eq 7); row i+1 is 32 bytes on
      st(o, actv<A>(a0));
      v128.store(o, actv<A>(a1), 16);
      v128.store(o, actv<A>(a2), 32);
      v128.store(o, actv<A>(a3), 48);
      st(o + M, actv<A>(b0));
      v128.store(o + M, actv<A>(b1), 16);
      v128.store(o + M, actv<A>(b2), 32);
      v128.store(o + M, actv<A>(b3), 48);
    }
  }
}

// F (eq 10): column scan, f[q*16 + c*4 + r] = S2[q][r][c]
export function vectorize(s2: usize, f: usize): void {
  for (let q = 0; q < C2_MAPS; q++) {
    for (let r = 0; r < S2_SIDE; r++) {
      for (let c = 0; c < S2_SIDE; c++) {
        store<f32>(f + <usize>(q * S2_MAP + c * S2_SIDE + r) * 4, load<f32>(s2 + <usize>(q * S2_MAP + r * S2_SIDE + c) * 4));
      }
    }
  }
}

// FC (eq 12): z = W f + b, then ŷ = σ(z) (the paper) or softmax(z).
export function fcForward(P: usize, f: usize, z: usize, y: usize, output: i32): void {
  for (let o = 0; o < CLASSES; o++) {
    let acc = f32x4.splat(0);
    const w = P + <usize>(W_OFFSET + o * FEATURES) * 4;
    for (let j = 0; j < FEATURES; j += 4) acc = fma(acc, ld(w + <usize>j * 4), ld(f + <usize>j * 4));
    store<f32>(z + <usize>o * 4, hsum(acc) + load<f32>(P + <usize>(B_OFFSET + o) * 4));
  }
  for (let o = CLASSES; o < OUT_PAD; o++) store<f32>(z + <usize>o * 4, 0);
  if (output == OUTPUT_SOFTMAX) {
    let m = load<f32>(z);
    for (let o = 1; o < CLASSES; o++) m = max(m, load<f32>(z + <usize>o * 4));
    let s: f32 = 0;
    for (let o = 0; o < CLASSES; o++) {
      const e = Mathf.exp(load<f32>(z + <usize>o * 4) - m);
      store<f32>(y + <usize>o * 4, e);
      s += e;
    }
    for (let o = 0; o < CLASSES; o++) store<f32>(y + <usize>o * 4, load<f32>(y + <usize>o * 4) / s);
    for (let o = CLASSES; o < OUT_PAD; o++) store<f32>(y + <usize>o * 4, 0);
  } else {
    for (let o = 0; o < OUT_PAD; o += 4) st(y + <usize>o * 4, sigmoidv(ld(z + <usize>o * 4)));
  }
}
