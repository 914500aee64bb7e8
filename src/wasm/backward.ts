// AssemblyScript. The loss and the backward pass (eqs 14-64) in float32 SIMD, adding one image's
// gradient to a slot G (same layout as the parameters). As in forward.ts, every value is one
// fixed sequence of operations whatever the blocking and the thread: the functions take ranges
// (of classes, S1 maps p, C2 maps q) so that threads can share an image bit for bit.
import {
  IN, K, KK, C1_MAPS, C1_SIDE, S1_SIDE, C2_MAPS, C2_SIDE, S2_SIDE, FEATURES, CLASSES,
  K1_OFFSET, B1_OFFSET, K2_OFFSET, B2_OFFSET, W_OFFSET, B_OFFSET, OUTPUT_SOFTMAX, LOSS_CROSS_ENTROPY,
} from "../model/dims";
import { C1_MAP, S1_MAP, C2_MAP, S2_MAP, DC2_ROW, DC2_PMAP, ONE_WORD, dc2Row } from "./layout";
import { ld, st, fma, hsum, dact, dact4, dactv, MaxPool } from "./simd";

// @ts-ignore: AssemblyScript builtin
if (C1_MAPS % 3 != 0 || C2_MAPS % 6 != 0 || S1_SIDE != 12 || C2_SIDE != 8) ERROR("the backward loops need S1 maps in threes, C2 maps in sixes, 12x12 S1 and 8x8 C2 maps");

// Always true, but neither the compiler nor V8 can know it (a word of memory, set to 1 when an
// instance starts, written by nothing else): `if (SPLIT()) { … }` puts the code inside in a block
// of its own. V8 loads every operand of a block into a register before the block's arithmetic;
// splitting a loop body in two keeps the registers needed within the 15 it has, where unrolling
// would not. (Functions using it trap at their start if the word is not 1, rather than skip the
// code; an `else unreachable()` on each branch instead would let the compiler drop the branch.)
@inline function SPLIT(): bool { return load<i32>(ONE_WORD) == 1; }

// The predicted class: the first largest output.
export function argmaxY(y: usize): i32 {
  let best = 0;
  let bestY = load<f32>(y);
  for (let o = 1; o < CLASSES; o++) {
    const v = load<f32>(y + <usize>o * 4);
    if (v > bestY) { bestY = v; best = o; }
  }
  return best;
}

// Loss of the label, and Δŷ = ∂L/∂z into dy (z = W f + b, the logits):
//   sigmoid, mse (eqs 13, 15, 17): L = ½Σ(ŷ−y)², Δŷ = (ŷ−y)·ŷ(1−ŷ)
//   softmax, mse:                  L = ½Σ(ŷ−y)², Δŷ_i = ŷ_i (e_i − Σ_j e_j ŷ_j), e = ŷ − y
//   softmax, cross-entropy:        L = log Σ_j e^{z_j − m} − (z_label − m), Δŷ = ŷ − y
export function lossAndDelta(label: i32, output: i32, loss: i32, z: usize, y: usize, dy: usize): f64 {
  let L: f64 = 0;
  if (loss == LOSS_CROSS_ENTROPY) {
    let m = load<f32>(z);
    for (let o = 1; o < CLASSES; o++) m = max(m, load<f32>(z + <usize>o * 4));
    let s: f64 = 0;
    for (let o = 0; o < CLASSES; o++) {
      s += Math.exp(<f64>(load<f32>(z + <usize>o * 4) - m));
      store<f32>(dy + <usize>o * 4, load<f32>(y + <usize>o * 4) - (o == label ? <f32>1 : <f32>0));
    }
    return Math.log(s) - <f64>(load<f32>(z + <usize>label * 4) - m);
  }
  if (output == OUTPUT_SOFTMAX) {
    let g: f32 = 0;
    for (let o = 0; o < CLASSES; o++) {
      const v = load<f32>(y + <usize>o * 4);
      const e = v - (o == label ? <f32>1 : <f32>0);
      L += 0.5 * <f64>e * <f64>e;
      g += e * v;
    }
    for (let o = 0; o < CLASSES; o++) {
      const v = load<f32>(y + <usize>o * 4);
      store<f32>(dy + <usize>o * 4, v * (v - (o == label ? <f32>1 : <f32>0) - g));
    }
    return L;
  }
  for (let o = 0; o < CLASSES; o++) {
    const v = load<f32>(y + <usize>o * 4);
    const e = v - (o == label ? <f32>1 : <f32>0);
    L += 0.5 * <f64>e * <f64>e;
    store<f32>(dy + <usize>o * 4, e * v * (1 - v));
  }
  return L;
}

// FC, classes [o0, o1): ΔW += Δŷ fᵀ (eq 19), Δb += Δŷ (eq 24)
export function fcGradient(G: usize, f: usize, dy: usize, o0: i32, o1: i32): void {
  for (let o = o0; o < o1; o++) {
    const d = load<f32>(dy + <usize>o * 4);
    store<f32>(G + <usize>(B_OFFSET + o) * 4, load<f32>(G + <usize>(B_OFFSET + o) * 4) + d);
    const dv = f32x4.splat(d);
    const gw = G + <usize>(W_OFFSET + o * FEATURES) * 4;
    for (let j = 0; j < FEATURES; j += 4) {
      const jo = <usize>j * 4;
      st(gw + jo, fma(ld(gw + jo), dv, ld(f + jo)));
    }
  }
}

// FC: Δf = Wᵀ Δŷ (eq 30), summed over the classes in order
export function fcDelta(P: usize, dy: usize, df: usize): void {
  for (let j = 0; j < FEATURES; j += 4) st(df + <usize>j * 4, f32x4.splat(0));
  for (let o = 0; o < CLASSES; o++) {
    const dv = f32x4.splat(load<f32>(dy + <usize>o * 4));
    const w = P + <usize>(W_OFFSET + o * FEATURES) * 4;
    for (let j = 0; j < FEATURES; j += 4) {
      const jo = <usize>j * 4;
      st(df + jo, fma(ld(df + jo), dv, ld(w + jo)));
    }
  }
}

// Which of the 4 entries of a pooling window (at a, rows `row` bytes apart) is the first maximum,
// in the order (0,0), (0,1), (1,0), (1,1): the first equal to the pooled value s.
@inline function firstMax(a: usize, row: usize, s: f32): i32 {
  if (load<f32>(a) == s) return 0;
  if (load<f32>(a + 4) == s) return 1;
  if (load<f32>(a + row) == s) return 2;
  return 3;
}

// Max-pooling backward of 4 windows side by side (columns 0..7 of two rows at a, `row` bytes
// apart; pooled values s, their deltas d), times act', into out (rows `row` bytes apart): the delta
// goes to the first entry equal to the pooled value in the order (0,0), (0,1), (1,0), and else to
// (1,1), 0 to the others — firstMax() on 4 windows at once, each entry then dact(g, a) as in the
// scalar loop (dact4: the same operations per lane).
@inline function maxWindows4<A>(a: usize, row: usize, s: v128, d: v128, out: usize): void {
  maxWindows4Out<A>(a, row, s, d, out, row);
}
@inline function maxWindows4Out<A>(a: usize, row: usize, s: v128, d: v128, out: usize, orow: usize): void {
  const odd = i32x4(0, -1, 0, -1);
  const sl = v128.shuffle<f32>(s, s, 0, 0, 1, 1), sh = v128.shuffle<f32>(s, s, 2, 2, 3, 3);
  const dl = v128.shuffle<f32>(d, d, 0, 0, 1, 1), dh = v128.shuffle<f32>(d, d, 2, 2, 3, 3);
  const t0 = ld(a), t1 = v128.load(a, 16), b0 = ld(a + row), b1 = v128.load(a + row, 16);
  // windows 0, 1 (lanes: left, right, left, right)
  let et = f32x4.eq(t0, sl), eb = f32x4.eq(b0, sl);
  let anyTop = v128.or(v128.shuffle<i32>(et, et, 0, 0, 2, 2), v128.shuffle<i32>(et, et, 1, 1, 3, 3));
  let top = v128.andnot(et, v128.and(v128.shuffle<i32>(et, et, 0, 0, 2, 2), odd)); // (0,0), or (0,1) if not (0,0)
  let bot = v128.bitselect(v128.not(v128.or(anyTop, v128.shuffle<i32>(eb, eb, 0, 0, 2, 2))), v128.andnot(eb, anyTop), odd);
  st(out, dact4<A>(v128.and(dl, top), t0));
  st(out + orow, dact4<A>(v128.and(dl, bot), b0));
  // windows 2, 3
  et = f32x4.eq(t1, sh); eb = f32x4.eq(b1, sh);
  anyTop = v128.or(v128.shuffle<i32>(et, et, 0, 0, 2, 2), v128.shuffle<i32>(et, et, 1, 1, 3, 3));
  top = v128.andnot(et, v128.and(v128.shuffle<i32>(et, et, 0, 0, 2, 2), odd));
  bot = v128.bitselect(v128.not(v128.or(anyTop, v128.shuffle<i32>(eb, eb, 0, 0, 2, 2))), v128.andnot(eb, anyTop), odd);
  v128.store(out, dact4<A>(v128.and(dh, top), t1), 16);
  v128.store(out + orow, dact4<A>(v128.and(dh, bot), b1), 16);
}

// F⁻¹ (eq 31), pooling backward (eq 32) and act' (eq 37), into the padded ΔC2 of workspace ws:
//   mean: ΔC2[q][i][j] = ¼ Δf[q*16 + (j/2)*4 + i/2] · act'(C2)
//   max:  Δf of the window to its first maximum, 0 to the other three, · act'(C2)
export function s2Backward<A, P>(c2: usize, s2: usize, df: usize, ws: usize): void {
  if (idof<P>() == idof<MaxPool>()) {
    const row: usize = <usize>C2_SIDE * 4;
    for (let q = 0; q < C2_MAPS; q++) {
      const m = df + <usize>(q * S2_MAP) * 4;
      const c0 = ld(m), c1 = v128.load(m, 16), c2v = v128.load(m, 32), c3 = v128.load(m, 48); // c_c[r] = Δf[q*16 + 4c + r]
      for (let r = 0; r < S2_SIDE; r++) {
        // the deltas of windows (r, 0..3): (c0[r], c1[r], c2[r], c3[r])
        let d: v128;
        if (r == 0) d = v128.shuffle<f32>(v128.shuffle<f32>(c0, c1, 0, 4, 0, 4), v128.shuffle<f32>(c2v, c3, 0, 4, 0, 4), 0, 1, 4, 5);
        else if (r == 1) d = v128.shuffle<f32>(v128.shuffle<f32>(c0, c1, 1, 5, 1, 5), v128.shuffle<f32>(c2v, c3, 1, 5, 1, 5), 0, 1, 4, 5);
        else if (r == 2) d = v128.shuffle<f32>(v128.shuffle<f32>(c0, c1, 2, 6, 2, 6), v128.shuffle<f32>(c2v, c3, 2, 6, 2, 6), 0, 1, 4, 5);
        else d = v128.shuffle<f32>(v128.shuffle<f32>(c0, c1, 3, 7, 3, 7), v128.shuffle<f32>(c2v, c3, 3, 7, 3, 7), 0, 1, 4, 5);
        const a = c2 + <usize>(q * C2_MAP + 2 * r * C2_SIDE) * 4;
        const sv = ld(s2 + <usize>(q * S2_MAP + r * S2_SIDE) * 4);
        // out: rows 2r, 2r+1 of the padded ΔC2 (DC2_ROW floats apart)
        maxWindows4Out<A>(a, row, sv, d, dc2Row(ws, q, 2 * r), <usize>DC2_ROW * 4);
      }
    }
    return;
  }
  // row i of map q: j = 0..3 takes Δf[q*16 + {0,0,4,4} + i/2], j = 4..7 takes Δf[q*16 + {8,8,12,12} + i/2]
  const quarter = f32x4.splat(0.25);
  for (let q = 0; q < C2_MAPS; q++) {
    const m = df + <usize>(q * S2_MAP) * 4;
    const c0 = ld(m), c1 = v128.load(m, 16), c2v = v128.load(m, 32), c3 = v128.load(m, 48); // c_c[r] = Δf[q*16 + 4c + r]
    for (let i = 0; i < C2_SIDE; i++) {
      const r = i >> 1;
      // lo = (c0[r], c0[r], c1[r], c1[r]), hi = (c2[r], c2[r], c3[r], c3[r]), each times ¼
      let lo: v128, hi: v128;
      if (r == 0) { lo = v128.shuffle<f32>(c0, c1, 0, 0, 4, 4); hi = v128.shuffle<f32>(c2v, c3, 0, 0, 4, 4); }
      else if (r == 1) { lo = v128.shuffle<f32>(c0, c1, 1, 1, 5, 5); hi = v128.shuffle<f32>(c2v, c3, 1, 1, 5, 5); }
      else if (r == 2) { lo = v128.shuffle<f32>(c0, c1, 2, 2, 6, 6); hi = v128.shuffle<f32>(c2v, c3, 2, 2, 6, 6); }
      else { lo = v128.shuffle<f32>(c0, c1, 3, 3, 7, 7); hi = v128.shuffle<f32>(c2v, c3, 3, 3, 7, 7); }
      const a = c2 + <usize>(q * C2_MAP + i * C2_SIDE) * 4;
      const o = dc2Row(ws, q, i);
      st(o, dact4<A>(f32x4.mul(quarter, lo), ld(a)));
      v128.store(o, dact4<A>(f32x4.mul(quarter, hi), v128.load(a, 16)), 16);
    }
  }
}

// C2, the biases: Δb2[q] (eq 45) for q in [q0, q1)
export function b2Gradient(G: usize, ws: usize, q0: i32, q1: i32): void {
  for (let q = q0; q < q1; q++) {
    let sb = f32x4.splat(0);
    for (let i = 0; i < C2_SIDE; i++) {
      const d = dc2Row(ws, q, i);
      sb = f32x4.add(sb, ld(d));
      sb = f32x4.add(sb, v128.load(d, 16));
    }
    store<f32>(G + <usize>(B2_OFFSET + q) * 4, load<f32>(G + <usize>(B2_OFFSET + q) * 4) + hsum(sb));
  }
}

// C2, the kernels from S1 maps [p0, p1): Δk2[p][q] = S1_p rot180 * ΔC2_q (eq 40). Each value is
// a vector of 4 partial sums over the rows i (lane l: the products of columns l and l+4, in that
// order), then their sum. Two passes per kernel row u: taps v = 0..3 for two maps q (8
// accumulators), then v = 4 for six maps q.
export function k2Gradient(G: usize, s1: usize, ws: usize, p0: i32, p1: i32): void {
  if (!SPLIT()) unreachable();
  for (let p = p0; p < p1; p++) {
    const sp = s1 + <usize>(p * S1_MAP) * 4;
    for (let u = 0; u < K; u++) {
      const rows = sp + <usize>(u * S1_SIDE) * 4; // S1[p][i+u] at rows + i·48
      for (let q = 0; q < C2_MAPS; q += 2) {
        const dq = dc2Row(ws, q, 0);
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (let i = 0; i < C2_SIDE; i++) {
          // columns 0..3 of row i, then (in a block of its own: see SPLIT) columns 4..7
          const dd = dq + <usize>(i * DC2_ROW) * 4, x = rows + <usize>(i * S1_SIDE) * 4;
          let d = ld(dd), e = v128.load(dd, DC2_PMAP * 4);
          let x0 = ld(x), x1 = v128.load(x, 4), x2 = v128.load(x, 8), x3 = v128.load(x, 12);
          a0 = fma(a0, d, x0); a1 = fma(a1, d, x1); a2 = fma(a2, d, x2); a3 = fma(a3, d, x3);
          b0 = fma(b0, e, x0); b1 = fma(b1, e, x1); b2 = fma(b2, e, x2); b3 = fma(b3, e, x3);
          if (SPLIT()) {
            d = v128.load(dd, 16); e = v128.load(dd, DC2_PMAP * 4 + 16);
            x0 = v128.load(x, 16); x1 = v128.load(x, 20); x2 = v128.load(x, 24); x3 = v128.load(x, 28);
            a0 = fma(a0, d, x0); a1 = fma(a1, d, x1); a2 = fma(a2, d, x2); a3 = fma(a3, d, x3);
            b0 = fma(b0, e, x0); b1 = fma(b1, e, x1); b2 = fma(b2, e, x2); b3 = fma(b3, e, x3);
          }
        }
        const ga = G + <usize>(K2_OFFSET + (p * C2_MAPS + q) * KK + KK - 1 - K * u) * 4, gb = ga + <usize>KK * 4; // k2[p][q][4-u][4-v] at ga - 4v
        store<f32>(ga, load<f32>(ga) + hsum(a0));
        store<f32>(ga - 4, load<f32>(ga - 4) + hsum(a1));
        store<f32>(ga - 8, load<f32>(ga - 8) + hsum(a2));
        store<f32>(ga - 12, load<f32>(ga - 12) + hsum(a3));
        store<f32>(gb, load<f32>(gb) + hsum(b0));
        store<f32>(gb - 4, load<f32>(gb - 4) + hsum(b1));
        store<f32>(gb - 8, load<f32>(gb - 8) + hsum(b2));
        store<f32>(gb - 12, load<f32>(gb - 12) + hsum(b3));
      }
      for (let q = 0; q < C2_MAPS; q += 6) { // v = 4
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        const d0 = dc2Row(ws, q, 0);
        for (let i = 0; i < C2_SIDE; i++) {
          const dd = d0 + <usize>(i * DC2_ROW) * 4, x = rows + <usize>(i * S1_SIDE) * 4;
          let x4 = v128.load(x, 16);
          a0 = fma(a0, ld(dd), x4);
          a1 = fma(a1, v128.load(dd, DC2_PMAP * 4), x4);
          a2 = fma(a2, v128.load(dd, 2 * DC2_PMAP * 4), x4);
          a3 = fma(a3, v128.load(dd, 3 * DC2_PMAP * 4), x4);
          a4 = fma(a4, v128.load(dd, 4 * DC2_PMAP * 4), x4);
          a5 = fma(a5, v128.load(dd, 5 * DC2_PMAP * 4), x4);
          if (SPLIT()) {
            x4 = v128.load(x, 32);
            a0 = fma(a0, v128.load(dd, 16), x4);
            a1 = fma(a1, v128.load(dd, DC2_PMAP * 4 + 16), x4);
            a2 = fma(a2, v128.load(dd, 2 * DC2_PMAP * 4 + 16), x4);
            a3 = fma(a3, v128.load(dd, 3 * DC2_PMAP * 4 + 16), x4);
            a4 = fma(a4, v128.load(dd, 4 * DC2_PMAP * 4 + 16), x4);
            a5 = fma(a5, v128.load(dd, 5 * DC2_PMAP * 4 + 16), x4);
          }
        }
        const g = G + <usize>(K2_OFFSET + (p * C2_MAPS + q) * KK + KK - 1 - K * u - 4) * 4; // k2[p][q][4-u][0]
        store<f32>(g, load<f32>(g) + hsum(a0));
        store<f32>(g + KK * 4, load<f32>(g + KK * 4) + hsum(a1));
        store<f32>(g + 2 * KK * 4, load<f32>(g + 2 * KK * 4) + hsum(a2));
        store<f32>(g + 3 * KK * 4, load<f32>(g + 3 * KK * 4) + hsum(a3));
        store<f32>(g + 4 * KK * 4, load<f32>(g + 4 * KK * 4) + hsum(a4));
        store<f32>(g + 5 * KK * 4, load<f32>(g + 5 * KK * 4) + hsum(a5));
      }
    }
  }
}

// One row y of ΔS1 for maps p .. p+2 (three maps share each ΔC2 vector): the full convolution
// ΔS1[p][y][x] = Σ_q Σ_u Σ_v ΔC2[q][y-u][x-v]·k2[p][q][4-u][4-v] (eq 51) in that order, over the
// rows y-u of ΔC2 that exist. Columns x in 3 vectors; the lanes whose x-v falls outside 0..7 read
// the zero padding of ΔC2 (adding a zero product), a vector with none inside (tap 0: x = 8..11;
// tap 4: x = 0..3) is skipped. One tap v per block: 9 accumulators, 3 ΔC2 vectors and 3 kernel
// values, within the 15 vector registers V8 allocates.
@inline function ds1Row3(P: usize, ws: usize, ds1: usize, p: i32, y: i32): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0; // map p, x = 0..3, 4..7, 8..11
  let b0 = a0, b1 = a0, b2 = a0; //             map p+1
  let c0 = a0, c1 = a0, c2 = a0; //             map p+2
  const uLo = y > C2_SIDE - 1 ? y - (C2_SIDE - 1) : 0, uHi = y < K - 1 ? y : K - 1;
  for (let q = 0; q < C2_MAPS; q++) {
    const kq = P + <usize>(K2_OFFSET + (p * C2_MAPS + q) * KK + KK - 1) * 4; // k2[p][q][4][4]
    for (let u = uLo; u <= uHi; u++) {
      const d = dc2Row(ws, q, y - u);
      const ku = kq - <usize>(K * u) * 4; // k2[p][q][4-u][4-v] at ku - 4v; maps p+1, p+2 are 12 kernels on
      const K1O: usize = <usize>(C2_MAPS * KK * 4), K2O: usize = 2 * K1O; // maps p+1, p+2
      { // v = 0: x-v = x, vector 2 (x = 8..11) is all padding
        const x0 = ld(d), x1 = v128.load(d, 16);
        const k = v128.load32_splat(ku), l = v128.load32_splat(ku, K1O), m = v128.load32_splat(ku, K2O);
        a0 = fma(a0, x0, k); b0 = fma(b0, x0, l); c0 = fma(c0, x0, m);
        a1 = fma(a1, x1, k); b1 = fma(b1, x1, l); c1 = fma(c1, x1, m);
      }
      for (let v = 1; v < K - 1; v++) {
        const dv = d - <usize>v * 4, kv = ku - <usize>v * 4;
        const x0 = ld(dv), x1 = v128.load(dv, 16), x2 = v128.load(dv, 32);
        const k = v128.load32_splat(kv), l = v128.load32_splat(kv, K1O), m = v128.load32_splat(kv, K2O);
        a0 = fma(a0, x0, k); b0 = fma(b0, x0, l); c0 = fma(c0, x0, m);
        a1 = fma(a1, x1, k); b1 = fma(b1, x1, l); c1 = fma(c1, x1, m);
        a2 = fma(a2, x2, k); b2 = fma(b2, x2, l); c2 = fma(c2, x2, m);
      }
      { // v = 4: vector 0 (x - 4 = -4..-1) is all padding
        const kv = ku - 16;
        const x1 = ld(d), x2 = v128.load(d, 16);
        const k = v128.load32_splat(kv), l = v128.load32_splat(kv, K1O), m = v128.load32_splat(kv, K2O);
        a1 = fma(a1, x1, k); b1 = fma(b1, x1, l); c1 = fma(c1, x1, m);
        a2 = fma(a2, x2, k); b2 = fma(b2, x2, l); c2 = fma(c2, x2, m);
      }
    }
  }
  const o = ds1 + <usize>(p * S1_MAP + y * S1_SIDE) * 4, M: usize = <usize>S1_MAP * 4;
  st(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32);
  st(o + M, b0); v128.store(o + M, b1, 16); v128.store(o + M, b2, 32);
  st(o + 2 * M, c0); v128.store(o + 2 * M, c1, 16); v128.store(o + 2 * M, c2, 32);
}

// The same for one map p.
@inline function ds1Row1(P: usize, ws: usize, ds1: usize, p: i32, y: i32): void {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0;
  const uLo = y > C2_SIDE - 1 ? y - (C2_SIDE - 1) : 0, uHi = y < K - 1 ? y : K - 1;
  for (let q = 0; q < C2_MAPS; q++) {
    const kq = P + <usize>(K2_OFFSET + (p * C2_MAPS + q) * KK + KK - 1) * 4;
    for (let u = uLo; u <= uHi; u++) {
      const d = dc2Row(ws, q, y - u);
      const ku = kq - <usize>(K * u) * 4;
      for (let v = 0; v < K; v++) {
        const dv = d - <usize>v * 4;
        const k = v128.load32_splat(ku - <usize>v * 4);
        a0 = fma(a0, ld(dv), k);
        a1 = fma(a1, v128.load(dv, 16), k);
        a2 = fma(a2, v128.load(dv, 32), k);
      }
    }
  }
  const o = ds1 + <usize>(p * S1_MAP + y * S1_SIDE) * 4;
  st(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32);
}

// ΔS1 = Σ_q ΔC2_q * k2[p][q] rot180, full (eq 51), for S1 maps [p0, p1)
export function s1Delta(P: usize, ws: usize, ds1: usize, p0: i32, p1: i32): void {
  let p = p0;
  for (; p + 3 <= p1; p += 3) for (let y = 0; y < S1_SIDE; y++) ds1Row3(P, ws, ds1, p, y);
  for (; p < p1; p++) for (let y = 0; y < S1_SIDE; y++) ds1Row1(P, ws, ds1, p, y);
}

// pooling backward (eq 52) and act' (eq 57) for maps [p0, p1):
//   mean: ΔC1[p][i][j] = ¼ ΔS1[p][i/2][j/2] · act'(C1)
//   max:  ΔS1 of the window to its first maximum, 0 to the other three, · act'(C1)
export function s1Backward<A, P>(c1: usize, s1: usize, ds1: usize, dc1: usize, p0: i32, p1: i32): void {
  if (idof<P>() == idof<MaxPool>()) {
    const row: usize = <usize>C1_SIDE * 4;
    for (let p = p0; p < p1; p++) {
      for (let r = 0; r < S1_SIDE; r++) {
        const a = c1 + <usize>(p * C1_MAP + 2 * r * C1_SIDE) * 4, o = dc1 + <usize>(p * C1_MAP + 2 * r * C1_SIDE) * 4;
        const sr = s1 + <usize>(p * S1_MAP + r * S1_SIDE) * 4, dr = ds1 + <usize>(p * S1_MAP + r * S1_SIDE) * 4;
        for (let c = 0; c < S1_SIDE; c += 4) { // windows c..c+3: columns 2c..2c+7 of rows 2r, 2r+1
          maxWindows4<A>(a + <usize>(2 * c) * 4, row, ld(sr + <usize>c * 4), ld(dr + <usize>c * 4), o + <usize>(2 * c) * 4);
        }
      }
    }
    return;
  }
  const quarter = f32x4.splat(0.25);
  for (let p = p0; p < p1; p++) {
    for (let i = 0; i < C1_SIDE; i++) {
      const src = ds1 + <usize>(p * S1_MAP + (i >> 1) * S1_SIDE) * 4;
      const base = <usize>(p * C1_MAP + i * C1_SIDE) * 4;
      for (let j = 0; j < S1_SIDE; j += 4) {
        const d = f32x4.mul(ld(src + <usize>j * 4), quarter);
        const lo = v128.shuffle<f32>(d, d, 0, 0, 1, 1);
        const hi = v128.shuffle<f32>(d, d, 2, 2, 3, 3);
        const a = base + <usize>(2 * j) * 4;
        st(dc1 + a, dactv<A>(lo, ld(c1 + a)));
        st(dc1 + a + 16, dactv<A>(hi, ld(c1 + a + 16)));
      }
    }
  }
}

// C1, maps [p0, p1): Δb1 (eq 64), Δk1 = I_rot180 * ΔC1 (eq 59). Each Δk1 value is a vector of 4
// partial sums over the rows and column blocks of ΔC1 (lane l: columns ≡ l mod 4), then their
// sum. Two maps at a time where there are two: taps v = 0..3 of one kernel row (8 accumulators,
// each image vector loaded once for both maps), then tap 4 of three and of two kernel rows;
// a map alone: one kernel row at a time (5 accumulators).
export function c1Backward(G: usize, x: usize, dc1: usize, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
    const dz = dc1 + <usize>(p * C1_MAP) * 4;
    let sb = f32x4.splat(0);
    for (let i = 0; i < C1_MAP; i += 4) sb = f32x4.add(sb, ld(dz + <usize>i * 4));
    store<f32>(G + <usize>(B1_OFFSET + p) * 4, load<f32>(G + <usize>(B1_OFFSET + p) * 4) + hsum(sb));
  }
  let p = p0;
  for (; p + 2 <= p1; p += 2) {
    const dz = dc1 + <usize>(p * C1_MAP) * 4; // map p+1 at + C1_MAP·4
    const ga = G + <usize>(K1_OFFSET + p * KK + KK - 1) * 4, gb = ga + <usize>KK * 4; // k1[p][4-u][4-v] at ga - 4(5u + v)
    for (let u = 0; u < K; u++) {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0; // map p, taps v = 0..3
      let b0 = a0, b1 = a0, b2 = a0, b3 = a0; //             map p+1
      for (let i = 0; i < C1_SIDE; i++) {
        const drow = dz + <usize>(i * C1_SIDE) * 4;
        const xrow = x + <usize>((i + u) * IN) * 4;
        for (let j = 0; j < C1_SIDE; j += 4) {
          const dp = drow + <usize>j * 4, xp = xrow + <usize>j * 4;
          const d = ld(dp), e = v128.load(dp, C1_MAP * 4);
          const x0 = ld(xp), x1 = v128.load(xp, 4), x2 = v128.load(xp, 8), x3 = v128.load(xp, 12);
          a0 = fma(a0, d, x0); a1 = fma(a1, d, x1); a2 = fma(a2, d, x2); a3 = fma(a3, d, x3);
          b0 = fma(b0, e, x0); b1 = fma(b1, e, x1); b2 = fma(b2, e, x2); b3 = fma(b3, e, x3);
        }
      }
      const g = ga - <usize>(K * u) * 4, h = gb - <usize>(K * u) * 4;
      store<f32>(g, load<f32>(g) + hsum(a0));
      store<f32>(g - 4, load<f32>(g - 4) + hsum(a1));
      store<f32>(g - 8, load<f32>(g - 8) + hsum(a2));
      store<f32>(g - 12, load<f32>(g - 12) + hsum(a3));
      store<f32>(h, load<f32>(h) + hsum(b0));
      store<f32>(h - 4, load<f32>(h - 4) + hsum(b1));
      store<f32>(h - 8, load<f32>(h - 8) + hsum(b2));
      store<f32>(h - 12, load<f32>(h - 12) + hsum(b3));
    }
    for (let u = 0; u < K; u += 3) { // tap v = 4 of kernel rows u .. u+2 (u+1, u+2 where they exist)
      const three = u + 2 < K;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0; // map p, rows u, u+1, u+2
      let b0 = a0, b1 = a0, b2 = a0; //             map p+1
      for (let i = 0; i < C1_SIDE; i++) {
        const drow = dz + <usize>(i * C1_SIDE) * 4;
        const xrow = x + <usize>((i + u) * IN + 4) * 4;
        for (let j = 0; j < C1_SIDE; j += 4) {
          const dp = drow + <usize>j * 4, xp = xrow + <usize>j * 4;
          const d = ld(dp), e = v128.load(dp, C1_MAP * 4);
          const x0 = ld(xp), x1 = v128.load(xp, IN * 4);
          a0 = fma(a0, d, x0); a1 = fma(a1, d, x1);
          b0 = fma(b0, e, x0); b1 = fma(b1, e, x1);
          if (three) {
            const x2 = v128.load(xp, 2 * IN * 4);
            a2 = fma(a2, d, x2); b2 = fma(b2, e, x2);
          }
        }
      }
      const g = ga - <usize>(K * u + 4) * 4, h = gb - <usize>(K * u + 4) * 4; // k1[·][4-u][0]; row u+1 20 bytes before
      store<f32>(g, load<f32>(g) + hsum(a0));
      store<f32>(g - 20, load<f32>(g - 20) + hsum(a1));
      store<f32>(h, load<f32>(h) + hsum(b0));
      store<f32>(h - 20, load<f32>(h - 20) + hsum(b1));
      if (three) {
        store<f32>(g - 40, load<f32>(g - 40) + hsum(a2));
        store<f32>(h - 40, load<f32>(h - 40) + hsum(b2));
      }
    }
  }
  for (; p < p1; p++) {
    const dz = dc1 + <usize>(p * C1_MAP) * 4;
    for (let u = 0; u < K; u++) {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0;
      for (let i = 0; i < C1_SIDE; i++) {
        const drow = dz + <usize>(i * C1_SIDE) * 4;
        const xrow = x + <usize>((i + u) * IN) * 4;
        for (let j = 0; j < C1_SIDE; j += 4) {
          const d = ld(drow + <usize>j * 4);
          const xp = xrow + <usize>j * 4;
          a0 = fma(a0, d, ld(xp));
          a1 = fma(a1, d, v128.load(xp, 4));
          a2 = fma(a2, d, v128.load(xp, 8));
          a3 = fma(a3, d, v128.load(xp, 12));
          a4 = fma(a4, d, v128.load(xp, 16));
        }
      }
      const gk = G + <usize>(K1_OFFSET + p * KK + KK - 1 - K * u) * 4; // k1[p][4-u][4-v] at gk - 4v
      store<f32>(gk, load<f32>(gk) + hsum(a0));
      store<f32>(gk - 4, load<f32>(gk - 4) + hsum(a1));
      store<f32>(gk - 8, load<f32>(gk - 8) + hsum(a2));
      store<f32>(gk - 12, load<f32>(gk - 12) + hsum(a3));
      store<f32>(gk - 16, load<f32>(gk - 16) + hsum(a4));
    }
  }
}
