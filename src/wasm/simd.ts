// AssemblyScript. Vector helpers and the activations on 4 float32 lanes.
@inline export function ld(p: usize): v128 { return v128.load(p); }
@inline export function st(p: usize, v: v128): void { v128.store(p, v); }

// acc + a·b: one fused multiply-add where the module is built with relaxed SIMD (dist/kernel-fma.wasm),
// a multiply and an add otherwise (dist/kernel.wasm)
@inline export function fma(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  const t = f32x4.add(s, v128.shuffle<f32>(s, s, 1, 0, 3, 2));
  return f32x4.extract_lane(t, 0);
}

// σ(z) = 1/(1+e^-z) (eq 4) on 4 lanes. e^-z: -z = m·ln2 + r, |r| ≤ ln2/2, e^r by the Cephes expf
// polynomial (evaluated Estrin-style for a shorter dependency chain), 2^m built in the exponent
// bits. m is rounded by adding 1.5·2^23 (the float then holds m in its low mantissa bits), which
// avoids the slow float->int conversion; pmin/pmax are single instructions. Relative error of e^x
// ~2e-7 over the clamped range [-87, 88]. Applied where a layer's sums are stored, so that its
// latency overlaps the next sums.
@inline export function sigmoidv(z: v128): v128 {
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

// ---- the activation of C1 and C2, chosen at compile time: forward<A>/backward<A> are compiled
// once per marker class, and the tests below fold away (no branch in the inner loops) ----
export class Sigmoid {}
export class Relu {}
export class Tanh {}

// act(z) on 4 lanes
@inline export function actv<A>(z: v128): v128 {
  if (idof<A>() == idof<Relu>()) return f32x4.pmax(z, f32x4.splat(0)); // max(0, z); NaN stays NaN
  if (idof<A>() == idof<Tanh>()) {
    // tanh z = 2σ(2z) − 1
    return f32x4.sub(f32x4.mul(sigmoidv(f32x4.add(z, z)), f32x4.splat(2.0)), f32x4.splat(1.0));
  }
  return sigmoidv(z);
}

// g·act'(a) on one value, from the activation's output a; for the sigmoid (g·a)·(1 − a), the
// association of the paper's kernel
@inline export function dact<A>(g: f32, a: f32): f32 {
  if (idof<A>() == idof<Relu>()) return a > 0 ? g : 0;
  if (idof<A>() == idof<Tanh>()) return g * (1 - a * a);
  return g * a * (1 - a);
}

// dact on 4 lanes, lane by lane the same operations: for the sigmoid (g·a)·(1 − a)
@inline export function dact4<A>(g: v128, a: v128): v128 {
  if (idof<A>() == idof<Relu>()) return v128.and(g, f32x4.gt(a, f32x4.splat(0)));
  if (idof<A>() == idof<Tanh>()) return f32x4.mul(g, f32x4.sub(f32x4.splat(1.0), f32x4.mul(a, a)));
  return f32x4.mul(f32x4.mul(g, a), f32x4.sub(f32x4.splat(1.0), a));
}

// g·act'(a) on 4 lanes; for the sigmoid g·(a·(1 − a))
@inline export function dactv<A>(g: v128, a: v128): v128 {
  if (idof<A>() == idof<Relu>()) return v128.and(g, f32x4.gt(a, f32x4.splat(0)));
  if (idof<A>() == idof<Tanh>()) return f32x4.mul(g, f32x4.sub(f32x4.splat(1.0), f32x4.mul(a, a)));
  return f32x4.mul(g, f32x4.mul(a, f32x4.sub(f32x4.splat(1.0), a)));
}

// ---- pooling, chosen at compile time the same way ----
export class MeanPool {}
export class MaxPool {}
