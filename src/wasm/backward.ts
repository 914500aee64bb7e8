// AssemblyScript. The loss and the backward pass (eqs 14-64) in float32 SIMD, adding one image's
// gradient to a slot G (same layout as the parameters).
import {
  IN, K, KK, C1_MAPS, C1_SIDE, S1_SIDE, C2_MAPS, C2_SIDE, S2_SIDE, FEATURES, CLASSES,
  K1_OFFSET, B1_OFFSET, K2_OFFSET, B2_OFFSET, W_OFFSET, B_OFFSET, OUTPUT_SOFTMAX, LOSS_CROSS_ENTROPY,
} from "../model/dims";
import { X, C1, S1, C2, S2, F, Z, Y, DY, DF, DC2, DS1, DC1, C1_MAP, S1_MAP, C2_MAP, S2_MAP } from "./layout";
import { ld, st, fma, hsum, dact, dactv, MaxPool } from "./simd";

// The predicted class: the first largest output.
export function argmaxY(): i32 {
  let best = 0;
  let bestY = load<f32>(Y);
  for (let o = 1; o < CLASSES; o++) {
    const y = load<f32>(Y + <usize>o * 4);
    if (y > bestY) { bestY = y; best = o; }
  }
  return best;
}

// Loss of the staged label, and Δŷ = ∂L/∂z into DY (z = W f + b, the logits):
//   sigmoid, mse (eqs 13, 15, 17): L = ½Σ(ŷ−y)², Δŷ = (ŷ−y)·ŷ(1−ŷ)
//   softmax, mse:                  L = ½Σ(ŷ−y)², Δŷ_i = ŷ_i (e_i − Σ_j e_j ŷ_j), e = ŷ − y
//   softmax, cross-entropy:        L = log Σ_j e^{z_j − m} − (z_label − m), Δŷ = ŷ − y
export function lossAndDelta(label: i32, output: i32, loss: i32): f64 {
  let L: f64 = 0;
  if (loss == LOSS_CROSS_ENTROPY) {
    let m = load<f32>(Z);
    for (let o = 1; o < CLASSES; o++) m = max(m, load<f32>(Z + <usize>o * 4));
    let s: f64 = 0;
    for (let o = 0; o < CLASSES; o++) {
      s += Math.exp(<f64>(load<f32>(Z + <usize>o * 4) - m));
      store<f32>(DY + <usize>o * 4, load<f32>(Y + <usize>o * 4) - (o == label ? <f32>1 : <f32>0));
    }
    return Math.log(s) - <f64>(load<f32>(Z + <usize>label * 4) - m);
  }
  if (output == OUTPUT_SOFTMAX) {
    let g: f32 = 0;
    for (let o = 0; o < CLASSES; o++) {
      const y = load<f32>(Y + <usize>o * 4);
      const e = y - (o == label ? <f32>1 : <f32>0);
      L += 0.5 * <f64>e * <f64>e;
      g += e * y;
    }
    for (let o = 0; o < CLASSES; o++) {
      const y = load<f32>(Y + <usize>o * 4);
      store<f32>(DY + <usize>o * 4, y * (y - (o == label ? <f32>1 : <f32>0) - g));
    }
    return L;
  }
  for (let o = 0; o < CLASSES; o++) {
    const y = load<f32>(Y + <usize>o * 4);
    const e = y - (o == label ? <f32>1 : <f32>0);
    L += 0.5 * <f64>e * <f64>e;
    store<f32>(DY + <usize>o * 4, e * y * (1 - y));
  }
  return L;
}

// FC: ΔW += Δŷ fᵀ (eq 19), Δb += Δŷ (eq 24), Δf = Wᵀ Δŷ (eq 30)
export function fcBackward(P: usize, G: usize): void {
  for (let j = 0; j < FEATURES; j += 4) st(DF + <usize>j * 4, f32x4.splat(0));
  for (let o = 0; o < CLASSES; o++) {
    const d = load<f32>(DY + <usize>o * 4);
    store<f32>(G + <usize>(B_OFFSET + o) * 4, load<f32>(G + <usize>(B_OFFSET + o) * 4) + d);
    const dv = f32x4.splat(d);
    const w = P + <usize>(W_OFFSET + o * FEATURES) * 4;
    const gw = G + <usize>(W_OFFSET + o * FEATURES) * 4;
    for (let j = 0; j < FEATURES; j += 4) {
      const jo = <usize>j * 4;
      st(gw + jo, fma(ld(gw + jo), dv, ld(F + jo)));
      st(DF + jo, fma(ld(DF + jo), dv, ld(w + jo)));
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

// F⁻¹ (eq 31), pooling backward (eq 32) and act' (eq 37):
//   mean: ΔC2[q][i][j] = ¼ Δf[q*16 + (j/2)*4 + i/2] · act'(C2)
//   max:  Δf of the window to its first maximum, 0 to the other three, · act'(C2)
export function s2Backward<A, P>(): void {
  if (idof<P>() == idof<MaxPool>()) {
    const row: usize = <usize>C2_SIDE * 4;
    for (let q = 0; q < C2_MAPS; q++) {
      for (let r = 0; r < S2_SIDE; r++) {
        for (let c = 0; c < S2_SIDE; c++) {
          const d = load<f32>(DF + <usize>(q * S2_MAP + c * S2_SIDE + r) * 4);
          const a = <usize>(q * C2_MAP + 2 * r * C2_SIDE + 2 * c) * 4;
          const w = firstMax(C2 + a, row, load<f32>(S2 + <usize>(q * S2_MAP + r * S2_SIDE + c) * 4));
          store<f32>(DC2 + a, dact<A>(w == 0 ? d : 0, load<f32>(C2 + a)));
          store<f32>(DC2 + a + 4, dact<A>(w == 1 ? d : 0, load<f32>(C2 + a + 4)));
          store<f32>(DC2 + a + row, dact<A>(w == 2 ? d : 0, load<f32>(C2 + a + row)));
          store<f32>(DC2 + a + row + 4, dact<A>(w == 3 ? d : 0, load<f32>(C2 + a + row + 4)));
        }
      }
    }
    return;
  }
  for (let q = 0; q < C2_MAPS; q++) {
    for (let i = 0; i < C2_SIDE; i++) {
      for (let j = 0; j < C2_SIDE; j++) {
        const a = <usize>(q * C2_MAP + i * C2_SIDE + j) * 4;
        const c = load<f32>(C2 + a);
        store<f32>(DC2 + a, dact<A>(0.25 * load<f32>(DF + <usize>(q * S2_MAP + (j >> 1) * S2_SIDE + (i >> 1)) * 4), c));
      }
    }
  }
}

// C2: Δb2 (eq 45), Δk2 = S1_rot180 * ΔC2 (eq 40), ΔS1 = Σ_q ΔC2 * k2_rot180, full (eq 51)
export function c2Backward(P: usize, G: usize): void {
  for (let i = 0; i < C1_MAPS * S1_MAP; i += 4) st(DS1 + <usize>i * 4, f32x4.splat(0));
  for (let q = 0; q < C2_MAPS; q++) {
    const dz = DC2 + <usize>(q * C2_MAP) * 4;
    let sb = f32x4.splat(0);
    for (let i = 0; i < C2_MAP; i += 4) sb = f32x4.add(sb, ld(dz + <usize>i * 4));
    store<f32>(G + <usize>(B2_OFFSET + q) * 4, load<f32>(G + <usize>(B2_OFFSET + q) * 4) + hsum(sb));
    for (let p = 0; p < C1_MAPS; p++) {
      const s1 = S1 + <usize>(p * S1_MAP) * 4;
      const kb = <usize>(K2_OFFSET + (p * C2_MAPS + q) * KK + KK - 1) * 4;
      const ds1 = DS1 + <usize>(p * S1_MAP) * 4;
      for (let u = 0; u < K; u++) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0);
        for (let i = 0; i < C2_SIDE; i++) {
          const d0 = ld(dz + <usize>(i * C2_SIDE) * 4);
          const d1 = ld(dz + <usize>(i * C2_SIDE + 4) * 4);
          const row = s1 + <usize>((i + u) * S1_SIDE) * 4;
          a0 = fma(fma(a0, d0, ld(row)), d1, ld(row + 16));
          a1 = fma(fma(a1, d0, ld(row + 4)), d1, ld(row + 20));
          a2 = fma(fma(a2, d0, ld(row + 8)), d1, ld(row + 24));
          a3 = fma(fma(a3, d0, ld(row + 12)), d1, ld(row + 28));
          a4 = fma(fma(a4, d0, ld(row + 16)), d1, ld(row + 32));
        }
        const gk = G + kb - <usize>(K * u) * 4;
        store<f32>(gk, load<f32>(gk) + hsum(a0));
        store<f32>(gk - 4, load<f32>(gk - 4) + hsum(a1));
        store<f32>(gk - 8, load<f32>(gk - 8) + hsum(a2));
        store<f32>(gk - 12, load<f32>(gk - 12) + hsum(a3));
        store<f32>(gk - 16, load<f32>(gk - 16) + hsum(a4));
        // ΔS1[p][i+u][j+v] += ΔC2[q][i][j] · k2[p][q][4-u][4-v]
        for (let v = 0; v < K; v++) {
          const k = v128.load32_splat(P + kb - <usize>(K * u + v) * 4);
          for (let i = 0; i < C2_SIDE; i++) {
            const o = ds1 + <usize>((i + u) * S1_SIDE + v) * 4;
            st(o, fma(ld(o), ld(dz + <usize>(i * C2_SIDE) * 4), k));
            st(o + 16, fma(ld(o + 16), ld(dz + <usize>(i * C2_SIDE + 4) * 4), k));
          }
        }
      }
    }
  }
}

// pooling backward (eq 52) and act' (eq 57):
//   mean: ΔC1[p][i][j] = ¼ ΔS1[p][i/2][j/2] · act'(C1)
//   max:  ΔS1 of the window to its first maximum, 0 to the other three, · act'(C1)
export function s1Backward<A, P>(): void {
  if (idof<P>() == idof<MaxPool>()) {
    const row: usize = <usize>C1_SIDE * 4;
    for (let p = 0; p < C1_MAPS; p++) {
      for (let r = 0; r < S1_SIDE; r++) {
        for (let c = 0; c < S1_SIDE; c++) {
          const s = <usize>(p * S1_MAP + r * S1_SIDE + c) * 4;
          const d = load<f32>(DS1 + s);
          const a = <usize>(p * C1_MAP + 2 * r * C1_SIDE + 2 * c) * 4;
          const w = firstMax(C1 + a, row, load<f32>(S1 + s));
          store<f32>(DC1 + a, dact<A>(w == 0 ? d : 0, load<f32>(C1 + a)));
          store<f32>(DC1 + a + 4, dact<A>(w == 1 ? d : 0, load<f32>(C1 + a + 4)));
          store<f32>(DC1 + a + row, dact<A>(w == 2 ? d : 0, load<f32>(C1 + a + row)));
          store<f32>(DC1 + a + row + 4, dact<A>(w == 3 ? d : 0, load<f32>(C1 + a + row + 4)));
        }
      }
    }
    return;
  }
  const quarter = f32x4.splat(0.25);
  for (let p = 0; p < C1_MAPS; p++) {
    for (let i = 0; i < C1_SIDE; i++) {
      const src = DS1 + <usize>(p * S1_MAP + (i >> 1) * S1_SIDE) * 4;
      const base = <usize>(p * C1_MAP + i * C1_SIDE) * 4;
      for (let j = 0; j < S1_SIDE; j += 4) {
        const d = f32x4.mul(ld(src + <usize>j * 4), quarter);
        const lo = v128.shuffle<f32>(d, d, 0, 0, 1, 1);
        const hi = v128.shuffle<f32>(d, d, 2, 2, 3, 3);
        const a = base + <usize>(2 * j) * 4;
        st(DC1 + a, dactv<A>(lo, ld(C1 + a)));
        st(DC1 + a + 16, dactv<A>(hi, ld(C1 + a + 16)));
      }
    }
  }
}

// C1: Δb1 (eq 64), Δk1 = I_rot180 * ΔC1 (eq 59)
export function c1Backward(G: usize): void {
  for (let p = 0; p < C1_MAPS; p++) {
    const dz = DC1 + <usize>(p * C1_MAP) * 4;
    let sb = f32x4.splat(0);
    for (let i = 0; i < C1_MAP; i += 4) sb = f32x4.add(sb, ld(dz + <usize>i * 4));
    store<f32>(G + <usize>(B1_OFFSET + p) * 4, load<f32>(G + <usize>(B1_OFFSET + p) * 4) + hsum(sb));
    for (let u = 0; u < K; u++) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0);
      for (let i = 0; i < C1_SIDE; i++) {
        const drow = dz + <usize>(i * C1_SIDE) * 4;
        const xrow = X + <usize>((i + u) * IN) * 4;
        for (let j = 0; j < C1_SIDE; j += 4) {
          const d = ld(drow + <usize>j * 4);
          const xp = xrow + <usize>j * 4;
          a0 = fma(a0, d, ld(xp));
          a1 = fma(a1, d, ld(xp + 4));
          a2 = fma(a2, d, ld(xp + 8));
          a3 = fma(a3, d, ld(xp + 12));
          a4 = fma(a4, d, ld(xp + 16));
        }
      }
      const gk = G + <usize>(K1_OFFSET + p * KK + KK - 1 - K * u) * 4;
      store<f32>(gk, load<f32>(gk) + hsum(a0));
      store<f32>(gk - 4, load<f32>(gk - 4) + hsum(a1));
      store<f32>(gk - 8, load<f32>(gk - 8) + hsum(a2));
      store<f32>(gk - 12, load<f32>(gk - 12) + hsum(a3));
      store<f32>(gk - 16, load<f32>(gk - 16) + hsum(a4));
    }
  }
}

// The whole backward pass (eqs 14-64) after forward and lossAndDelta; adds to slot G.
@inline export function backward<A, P>(Pm: usize, G: usize): void {
  fcBackward(Pm, G);
  s2Backward<A, P>();
  c2Backward(Pm, G);
  s1Backward<A, P>();
  c1Backward(G);
}
