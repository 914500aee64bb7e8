// AssemblyScript (compiled to WebAssembly by `asc` during the build; not compiled by tsc).
//
// The fast engine: the paper's forward pass (eqs 4-13), backward pass (eqs 14-64) and update
// (eqs 65-70) in float32 with 128-bit SIMD (4 lanes), on raw linear memory. Same equations and
// same parameter layout as the float64 reference in src/nn (test/wasm-engine.test.ts compares
// the two); only the loop orders differ, chosen so that each loop body is a run of 4-wide
// multiply-adds on unaligned loads. Nothing is allocated: every buffer is a fixed region below.
//
// True convolution (eq 5): z[i][j] = Σ_{r,c} x[i+4-r][j+4-c]·k[r][c] = Σ_{u,v} x[i+u][j+v]·k[4-u][4-v],
// so with u,v the offset into the input window, the kernel is read at index 24 - (5u + v).

// ---- layout (bytes) -------------------------------------------------------------------------
const NP: i32 = 3898; // parameters
const NPP: i32 = 3904; // padded to a multiple of 4 floats
// parameter group offsets in floats (src/model/layout.ts)
const OK1: i32 = 0;
const OB1: i32 = 150;
const OK2: i32 = 156;
const OB2: i32 = 1956;
const OW: i32 = 1968;
const OB: i32 = 3888;

export const MAX_SLICES: i32 = 8; // gradient slots for the slices of a minibatch
export const STAGE_MAX: i32 = 4096; // images staged at once

const BASE: usize = 1024;
const PARAMS: usize = BASE;
const SLOTS: usize = PARAMS + <usize>NPP * 4; // MAX_SLICES slots of NPP floats
const X: usize = SLOTS + <usize>(MAX_SLICES * NPP) * 4; // [28][28]
const C1: usize = X + 784 * 4; //   [6][24][24]
const S1: usize = C1 + 3456 * 4; // [6][12][12]
const C2: usize = S1 + 864 * 4; //  [12][8][8]
const S2: usize = C2 + 768 * 4; //  [12][4][4]
const F: usize = S2 + 192 * 4; //   [192]
const Y: usize = F + 192 * 4; //    [10] (+2 pad)
const DY: usize = Y + 16 * 4; //    [10] (+2 pad)
const DF: usize = DY + 16 * 4; //   [192]
const DC2: usize = DF + 192 * 4; // [12][8][8]
const DS1: usize = DC2 + 768 * 4; // [6][12][12]
const DC1: usize = DS1 + 864 * 4; // [6][24][24]
const IMAGES: usize = DC1 + 3456 * 4; // STAGE_MAX x 784 bytes
const LABELS: usize = IMAGES + <usize>STAGE_MAX * 784;
const PREDS: usize = LABELS + <usize>STAGE_MAX;
const OUTPUTS: usize = PREDS + <usize>STAGE_MAX; // STAGE_MAX x 10 f32
export const MEMORY_END: usize = OUTPUTS + <usize>STAGE_MAX * 40;

export function paramsPtr(): usize { return PARAMS; }
export function slotPtr(s: i32): usize { return SLOTS + <usize>(s * NPP) * 4; }
export function imagesPtr(): usize { return IMAGES; }
export function labelsPtr(): usize { return LABELS; }
export function predsPtr(): usize { return PREDS; }
export function outputsPtr(): usize { return OUTPUTS; }
export function memoryEnd(): usize { return MEMORY_END; }

let errors: i32 = 0;
export function takeErrors(): i32 { const e = errors; errors = 0; return e; }

// ---- helpers -----------------------------------------------------------------------------------
@inline function ld(p: usize): v128 { return v128.load(p); }
@inline function st(p: usize, v: v128): void { v128.store(p, v); }
// acc + a·b: one fused multiply-add where the module is built with relaxed SIMD (dist/kernel-fma.wasm),
// a multiply and an add otherwise (dist/kernel.wasm)
@inline function fma(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

// One row of a true-convolution window: a + Σ_v x_v · k[4-v], with kr pointing at k[0] of the row.
@inline function taps5(a: v128, x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, kr: usize): v128 {
  a = fma(a, x0, v128.load32_splat(kr, 16));
  a = fma(a, x1, v128.load32_splat(kr, 12));
  a = fma(a, x2, v128.load32_splat(kr, 8));
  a = fma(a, x3, v128.load32_splat(kr, 4));
  return fma(a, x4, v128.load32_splat(kr, 0));
}

// σ(z) = 1/(1+e^-z) (eq 4) on 4 lanes. e^-z: -z = m·ln2 + r, |r| ≤ ln2/2, e^r by the Cephes expf
// polynomial (evaluated Estrin-style for a shorter dependency chain), 2^m built in the exponent
// bits. m is rounded by adding 1.5·2^23 (the float then holds m in its low mantissa bits), which
// avoids the slow float->int conversion; pmin/pmax are single instructions. Relative error of e^x
// ~2e-7 over the clamped range [-87, 88]. Applied where a layer's sums are stored, so that its
// latency overlaps the next sums.
@inline function sigmoidv(z: v128): v128 {
  const x = f32x4.pmax(f32x4.pmin(f32x4.neg(z), f32x4.splat(88.0)), f32x4.splat(-87.0));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(12582912.0));
  const m = f32x4.sub(t, f32x4.splat(12582912.0));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(m, f32x4.splat(0.693359375))), f32x4.mul(m, f32x4.splat(-2.12194440e-4)));
  // e^r ≈ 1 + r + r²·(c0 + c1 r + c2 r² + c3 r³ + c4 r⁴ + c5 r⁵)
  const r2 = f32x4.mul(r, r);
  const r4 = f32x4.mul(r2, r2);
  const p01 = fma(f32x4.splat(5.0000001201e-1), r, f32x4.splat(1.6666665459e-1));
  const p23 = fma(f32x4.splat(4.1665795894e-2), r, f32x4.splat(8.3334519073e-3));
  const p45 = fma(f32x4.splat(1.3981999507e-3), r, f32x4.splat(1.9875691500e-4));
  const p = fma(fma(p01, r2, p23), r4, p45);
  const er = f32x4.add(fma(r, r2, p), f32x4.splat(1.0));
  const e = f32x4.mul(er, i32x4.shl(i32x4.sub(t, i32x4.splat(0x4B3FFF81)), 23)); // (m + 127) << 23 = 2^m
  return f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), e));
}

// 2x2 mean pooling (eqs 6, 9): src [maps][2S][2S] -> dst [maps][S][S], S a multiple of 4.
function poolForward(dst: usize, src: usize, maps: i32, S: i32): void {
  const X2 = 2 * S;
  const q = f32x4.splat(0.25);
  for (let m = 0; m < maps; m++) {
    for (let i = 0; i < S; i++) {
      const a = src + <usize>((m * X2 + 2 * i) * X2) * 4;
      const b = a + <usize>X2 * 4;
      const o = dst + <usize>((m * S + i) * S) * 4;
      for (let j = 0; j < S; j += 4) {
        const s0 = f32x4.add(ld(a + <usize>(2 * j) * 4), ld(b + <usize>(2 * j) * 4));
        const s1 = f32x4.add(ld(a + <usize>(2 * j + 4) * 4), ld(b + <usize>(2 * j + 4) * 4));
        const ev = v128.shuffle<f32>(s0, s1, 0, 2, 4, 6);
        const od = v128.shuffle<f32>(s0, s1, 1, 3, 5, 7);
        st(o + <usize>j * 4, f32x4.mul(f32x4.add(ev, od), q));
      }
    }
  }
}

// Load image t of the stage into X, scaled to [0,1] (x/255).
function loadImage(t: i32): void {
  const src = IMAGES + <usize>t * 784;
  const d = f32x4.splat(255.0);
  for (let i = 0; i < 784; i += 4) {
    const b = v128.load32_zero(src + <usize>i);
    const w = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(b));
    st(X + <usize>i * 4, f32x4.div(f32x4.convert_i32x4_u(w), d));
  }
}

// ---- forward (eqs 4-12) ----------------------------------------------------------------------
function forward(P: usize): void {
  // C1 (eq 5): [1][28][28] * k1 [6][5][5] -> [6][24][24]; 6 maps at once, so that each of the
  // 5 input vectors of a window row is loaded once for all 6 kernels
  for (let i = 0; i < 24; i++) {
    for (let j = 0; j < 24; j += 4) {
      let a0 = v128.load32_splat(P + (OB1 + 0) * 4);
      let a1 = v128.load32_splat(P + (OB1 + 1) * 4);
      let a2 = v128.load32_splat(P + (OB1 + 2) * 4);
      let a3 = v128.load32_splat(P + (OB1 + 3) * 4);
      let a4 = v128.load32_splat(P + (OB1 + 4) * 4);
      let a5 = v128.load32_splat(P + (OB1 + 5) * 4);
      for (let u = 0; u < 5; u++) {
        const row = X + <usize>((i + u) * 28 + j) * 4;
        const x0 = v128.load(row), x1 = v128.load(row, 4), x2 = v128.load(row, 8), x3 = v128.load(row, 12), x4 = v128.load(row, 16);
        const kr = P + <usize>(OK1 + 20 - 5 * u) * 4; // k1[p][4-u][0]; tap v reads k1[p][4-u][4-v]
        a0 = taps5(a0, x0, x1, x2, x3, x4, kr);
        a1 = taps5(a1, x0, x1, x2, x3, x4, kr + 100);
        a2 = taps5(a2, x0, x1, x2, x3, x4, kr + 200);
        a3 = taps5(a3, x0, x1, x2, x3, x4, kr + 300);
        a4 = taps5(a4, x0, x1, x2, x3, x4, kr + 400);
        a5 = taps5(a5, x0, x1, x2, x3, x4, kr + 500);
      }
      const o = C1 + <usize>(i * 24 + j) * 4; // σ (eq 4)
      st(o, sigmoidv(a0));
      st(o + 2304, sigmoidv(a1));
      st(o + 4608, sigmoidv(a2));
      st(o + 6912, sigmoidv(a3));
      st(o + 9216, sigmoidv(a4));
      st(o + 11520, sigmoidv(a5));
    }
  }
  poolForward(S1, C1, 6, 12); // eq 6
  // C2 (eq 8): Σ_p S1_p [12][12] * k2[p][q] -> [12][8][8]. One output row of 4 maps at a time:
  // 8 independent accumulators (a chain of 150 dependent adds per accumulator would otherwise
  // leave the CPU waiting on add latency), each input vector loaded once for the 4 kernels.
  for (let q = 0; q < 12; q += 4) {
    for (let i = 0; i < 8; i++) {
      let a0 = v128.load32_splat(P + <usize>(OB2 + q) * 4), a1 = a0;
      let b0 = v128.load32_splat(P + <usize>(OB2 + q + 1) * 4), b1 = b0;
      let c0 = v128.load32_splat(P + <usize>(OB2 + q + 2) * 4), c1 = c0;
      let d0 = v128.load32_splat(P + <usize>(OB2 + q + 3) * 4), d1 = d0;
      for (let p = 0; p < 6; p++) {
        // k2[p][q..q+3][4-u][4-v]: maps q+1.. are 25 floats (100 bytes) apart
        const kb = P + <usize>(OK2 + (p * 12 + q) * 25 + 24) * 4;
        for (let u = 0; u < 5; u++) {
          const row = S1 + <usize>(p * 144 + (i + u) * 12) * 4;
          for (let v = 0; v < 5; v++) {
            const x0 = ld(row + <usize>v * 4), x1 = ld(row + <usize>(v + 4) * 4);
            const k = kb - <usize>(5 * u + v) * 4;
            const ka = v128.load32_splat(k), kb1 = v128.load32_splat(k, 100), kc = v128.load32_splat(k, 200), kd = v128.load32_splat(k, 300);
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
      const o = C2 + <usize>(q * 64 + i * 8) * 4; // σ (eq 7)
      st(o, sigmoidv(a0));
      st(o + 16, sigmoidv(a1));
      st(o + 256, sigmoidv(b0));
      st(o + 272, sigmoidv(b1));
      st(o + 512, sigmoidv(c0));
      st(o + 528, sigmoidv(c1));
      st(o + 768, sigmoidv(d0));
      st(o + 784, sigmoidv(d1));
    }
  }
  poolForward(S2, C2, 12, 4); // eq 9
  // F (eq 10): column scan, f[q*16 + c*4 + r] = S2[q][r][c]
  for (let q = 0; q < 12; q++) {
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) store<f32>(F + <usize>(q * 16 + c * 4 + r) * 4, load<f32>(S2 + <usize>(q * 16 + r * 4 + c) * 4));
    }
  }
  // FC (eq 12): ŷ = σ(W f + b)
  for (let o = 0; o < 10; o++) {
    let acc = f32x4.splat(0);
    const w = P + <usize>(OW + o * 192) * 4;
    for (let j = 0; j < 192; j += 4) acc = fma(acc, ld(w + <usize>j * 4), ld(F + <usize>j * 4));
    store<f32>(Y + <usize>o * 4, hsum(acc) + load<f32>(P + <usize>(OB + o) * 4));
  }
  store<f32>(Y + 40, 0);
  store<f32>(Y + 44, 0);
  for (let o = 0; o < 12; o += 4) st(Y + <usize>o * 4, sigmoidv(ld(Y + <usize>o * 4)));
}

// Loss (eq 13) of the staged label, Δŷ (eq 17) into DY, and the misclassification count.
function lossAndDelta(label: i32): f64 {
  let L: f64 = 0;
  let best = 0;
  let bestY = load<f32>(Y);
  for (let o = 0; o < 10; o++) {
    const y = load<f32>(Y + <usize>o * 4);
    if (y > bestY) { bestY = y; best = o; }
    const e = y - (o == label ? <f32>1 : <f32>0);
    L += 0.5 * <f64>e * <f64>e;
    store<f32>(DY + <usize>o * 4, e * y * (1 - y));
  }
  if (best != label) errors++;
  return L;
}

// ---- backward (eqs 14-64), adding this image's gradient to slot G --------------------------
function backward(P: usize, G: usize): void {
  // FC: ΔW += Δŷ fᵀ (eq 19), Δb += Δŷ (eq 24), Δf = Wᵀ Δŷ (eq 30)
  for (let j = 0; j < 192; j += 4) st(DF + <usize>j * 4, f32x4.splat(0));
  for (let o = 0; o < 10; o++) {
    const d = load<f32>(DY + <usize>o * 4);
    store<f32>(G + <usize>(OB + o) * 4, load<f32>(G + <usize>(OB + o) * 4) + d);
    const dv = f32x4.splat(d);
    const w = P + <usize>(OW + o * 192) * 4;
    const gw = G + <usize>(OW + o * 192) * 4;
    for (let j = 0; j < 192; j += 4) {
      const jo = <usize>j * 4;
      st(gw + jo, fma(ld(gw + jo), dv, ld(F + jo)));
      st(DF + jo, fma(ld(DF + jo), dv, ld(w + jo)));
    }
  }
  // F⁻¹ (eq 31), upsampling (eq 32) and σ' (eq 37): ΔC2σ[q][i][j] = ¼ Δf[q*16 + (j/2)*4 + i/2] · C2(1-C2)
  for (let q = 0; q < 12; q++) {
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        const a = <usize>(q * 64 + i * 8 + j) * 4;
        const c = load<f32>(C2 + a);
        store<f32>(DC2 + a, 0.25 * load<f32>(DF + <usize>(q * 16 + (j >> 1) * 4 + (i >> 1)) * 4) * c * (1 - c));
      }
    }
  }
  // C2: Δb2 (eq 45), Δk2 = S1_rot180 * ΔC2σ (eq 40), ΔS1 = Σ_q ΔC2σ * k2_rot180, full (eq 51)
  for (let i = 0; i < 864; i += 4) st(DS1 + <usize>i * 4, f32x4.splat(0));
  for (let q = 0; q < 12; q++) {
    const dz = DC2 + <usize>(q * 64) * 4;
    let sb = f32x4.splat(0);
    for (let i = 0; i < 64; i += 4) sb = f32x4.add(sb, ld(dz + <usize>i * 4));
    store<f32>(G + <usize>(OB2 + q) * 4, load<f32>(G + <usize>(OB2 + q) * 4) + hsum(sb));
    for (let p = 0; p < 6; p++) {
      const s1 = S1 + <usize>(p * 144) * 4;
      const kb = <usize>(OK2 + (p * 12 + q) * 25 + 24) * 4;
      const ds1 = DS1 + <usize>(p * 144) * 4;
      for (let u = 0; u < 5; u++) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0);
        for (let i = 0; i < 8; i++) {
          const d0 = ld(dz + <usize>(i * 8) * 4);
          const d1 = ld(dz + <usize>(i * 8 + 4) * 4);
          const row = s1 + <usize>((i + u) * 12) * 4;
          a0 = fma(fma(a0, d0, ld(row)), d1, ld(row + 16));
          a1 = fma(fma(a1, d0, ld(row + 4)), d1, ld(row + 20));
          a2 = fma(fma(a2, d0, ld(row + 8)), d1, ld(row + 24));
          a3 = fma(fma(a3, d0, ld(row + 12)), d1, ld(row + 28));
          a4 = fma(fma(a4, d0, ld(row + 16)), d1, ld(row + 32));
        }
        const gk = G + kb - <usize>(5 * u) * 4;
        store<f32>(gk, load<f32>(gk) + hsum(a0));
        store<f32>(gk - 4, load<f32>(gk - 4) + hsum(a1));
        store<f32>(gk - 8, load<f32>(gk - 8) + hsum(a2));
        store<f32>(gk - 12, load<f32>(gk - 12) + hsum(a3));
        store<f32>(gk - 16, load<f32>(gk - 16) + hsum(a4));
        // ΔS1[p][i+u][j+v] += ΔC2σ[q][i][j] · k2[p][q][4-u][4-v]
        for (let v = 0; v < 5; v++) {
          const k = v128.load32_splat(P + kb - <usize>(5 * u + v) * 4);
          for (let i = 0; i < 8; i++) {
            const o = ds1 + <usize>((i + u) * 12 + v) * 4;
            st(o, fma(ld(o), ld(dz + <usize>(i * 8) * 4), k));
            st(o + 16, fma(ld(o + 16), ld(dz + <usize>(i * 8 + 4) * 4), k));
          }
        }
      }
    }
  }
  // upsampling (eq 52) and σ' (eq 57): ΔC1σ[p][i][j] = ¼ ΔS1[p][i/2][j/2] · C1(1-C1)
  const quarter = f32x4.splat(0.25);
  const one = f32x4.splat(1.0);
  for (let p = 0; p < 6; p++) {
    for (let i = 0; i < 24; i++) {
      const src = DS1 + <usize>(p * 144 + (i >> 1) * 12) * 4;
      const base = <usize>(p * 576 + i * 24) * 4;
      for (let j = 0; j < 12; j += 4) {
        const d = f32x4.mul(ld(src + <usize>j * 4), quarter);
        const lo = v128.shuffle<f32>(d, d, 0, 0, 1, 1);
        const hi = v128.shuffle<f32>(d, d, 2, 2, 3, 3);
        const a = base + <usize>(2 * j) * 4;
        const c0 = ld(C1 + a), c1 = ld(C1 + a + 16);
        st(DC1 + a, f32x4.mul(lo, f32x4.mul(c0, f32x4.sub(one, c0))));
        st(DC1 + a + 16, f32x4.mul(hi, f32x4.mul(c1, f32x4.sub(one, c1))));
      }
    }
  }
  // C1: Δb1 (eq 64), Δk1 = I_rot180 * ΔC1σ (eq 59)
  for (let p = 0; p < 6; p++) {
    const dz = DC1 + <usize>(p * 576) * 4;
    let sb = f32x4.splat(0);
    for (let i = 0; i < 576; i += 4) sb = f32x4.add(sb, ld(dz + <usize>i * 4));
    store<f32>(G + <usize>(OB1 + p) * 4, load<f32>(G + <usize>(OB1 + p) * 4) + hsum(sb));
    for (let u = 0; u < 5; u++) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0);
      for (let i = 0; i < 24; i++) {
        const drow = dz + <usize>(i * 24) * 4;
        const xrow = X + <usize>((i + u) * 28) * 4;
        for (let j = 0; j < 24; j += 4) {
          const d = ld(drow + <usize>j * 4);
          const xp = xrow + <usize>j * 4;
          a0 = fma(a0, d, ld(xp));
          a1 = fma(a1, d, ld(xp + 4));
          a2 = fma(a2, d, ld(xp + 8));
          a3 = fma(a3, d, ld(xp + 12));
          a4 = fma(a4, d, ld(xp + 16));
        }
      }
      const gk = G + <usize>(OK1 + p * 25 + 24 - 5 * u) * 4;
      store<f32>(gk, load<f32>(gk) + hsum(a0));
      store<f32>(gk - 4, load<f32>(gk - 4) + hsum(a1));
      store<f32>(gk - 8, load<f32>(gk - 8) + hsum(a2));
      store<f32>(gk - 12, load<f32>(gk - 12) + hsum(a3));
      store<f32>(gk - 16, load<f32>(gk - 16) + hsum(a4));
    }
  }
}

function zeroSlot(G: usize): void {
  for (let i = 0; i < NPP; i += 4) st(G + <usize>i * 4, f32x4.splat(0));
}

// θ ← θ − scale·Σ_s slot_s (eqs 65-70), slots summed in order 0, 1, …, n-1 into slot 0.
export function applySlots(n: i32, scale: f32): void {
  const G = SLOTS;
  for (let s = 1; s < n; s++) {
    const H = SLOTS + <usize>(s * NPP) * 4;
    for (let i = 0; i < NPP; i += 4) st(G + <usize>i * 4, f32x4.add(ld(G + <usize>i * 4), ld(H + <usize>i * 4)));
  }
  const a = f32x4.splat(scale);
  for (let i = 0; i < NPP; i += 4) {
    const p = PARAMS + <usize>i * 4;
    st(p, f32x4.sub(ld(p), f32x4.mul(a, ld(G + <usize>i * 4))));
  }
}

// Gradient of staged images [start, start+n) summed into slot s (zeroed first). Returns Σ L.
export function sliceGradient(start: i32, n: i32, s: i32): f64 {
  zeroSlot(SLOTS + <usize>(s * NPP) * 4);
  return sliceGradientAdd(start, n, s);
}

// The same, adding to what slot s holds (a slice larger than the stage, in pieces).
export function sliceGradientAdd(start: i32, n: i32, s: i32): f64 {
  const G = SLOTS + <usize>(s * NPP) * 4;
  let L: f64 = 0;
  for (let t = start; t < start + n; t++) {
    loadImage(t);
    forward(PARAMS);
    L += lossAndDelta(<i32>load<u8>(LABELS + <usize>t));
    backward(PARAMS, G);
  }
  return L;
}

// The fixed split of a batch of b images into min(b, MAX_SLICES) slices: slice k starts at
// floor(k·b/S). The same rule is used by the worker pool, so results never depend on threads.
export function sliceStart(k: i32, b: i32): i32 {
  const S = b < MAX_SLICES ? b : MAX_SLICES;
  return <i32>((<i64>k * <i64>b) / <i64>S);
}

// Minibatch gradient descent over staged images [0, n) in batches of B, single thread.
// B = 1 is the paper's online SGD (one update per image). Returns Σ L.
export function trainStaged(n: i32, B: i32, lr: f32): f64 {
  let L: f64 = 0;
  for (let b0 = 0; b0 < n; b0 += B) {
    const b = n - b0 < B ? n - b0 : B;
    const S = b < MAX_SLICES ? b : MAX_SLICES;
    for (let k = 0; k < S; k++) {
      const s0 = sliceStart(k, b), s1 = sliceStart(k + 1, b);
      L += sliceGradient(b0 + s0, s1 - s0, k);
    }
    applySlots(S, lr / <f32>b);
  }
  return L;
}

// Forward pass over staged images [0, n): outputs [n][10] and predicted classes. Returns Σ L.
export function predictStaged(n: i32): f64 {
  let L: f64 = 0;
  for (let t = 0; t < n; t++) {
    loadImage(t);
    forward(PARAMS);
    L += lossAndDelta(<i32>load<u8>(LABELS + <usize>t));
    let best = 0;
    let bestY = load<f32>(Y);
    for (let o = 0; o < 10; o++) {
      const y = load<f32>(Y + <usize>o * 4);
      store<f32>(OUTPUTS + <usize>(t * 10 + o) * 4, y);
      if (y > bestY) { bestY = y; best = o; }
    }
    store<u8>(PREDS + <usize>t, <u8>best);
  }
  return L;
}
