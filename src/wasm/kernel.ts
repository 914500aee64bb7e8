// AssemblyScript (compiled to WebAssembly by `asc` during the build; not compiled by tsc).
//
// The fast engine: the forward pass (eqs 4-13), backward pass (eqs 14-64) and update (eqs 65-70)
// in float32 with 128-bit SIMD (4 lanes), on raw linear memory, for every architecture of
// src/model/architecture.ts. Same equations and same parameter layout as the float64 reference in
// src/nn (the tests compare the two, whole and piece by piece); only the loop orders differ,
// chosen so that each loop body is a run of 4-wide multiply-adds on unaligned loads. Nothing is
// allocated: every buffer is a fixed region (layout.ts).
//
// Threads: the memory is shared (WebAssembly threads); each thread of an engine runs its own
// instance of this module, told its index by setThread(). Minibatches are split into fixed slices
// (one gradient slot each) and evaluation into fixed parts, each on its thread's workspace. Online
// SGD (batch 1) splits each image across the threads by feature map and by row (trainOnline),
// with a barrier between the layers; every value is computed by one thread with the operations
// of the single-thread kernel, so the parameters are the same bit for bit on any thread count.
//
// The architecture: the activation and the pooling are compiled into the loops (one copy of each
// loop per pair, chosen once per call below); the output and the loss are chosen per image (10
// values); the convolution is true convolution, and cross-correlation is served by storing the
// kernels rotated by 180° (src/engine/kernel-params.ts).
import {
  ACTIVATION_SIGMOID, ACTIVATION_RELU, ACTIVATION_TANH, POOL_MEAN, POOL_MAX, OUTPUT_SIGMOID, OUTPUT_SOFTMAX,
  LOSS_MSE, LOSS_CROSS_ENTROPY, CONV_CONVOLUTION, CONV_CORRELATION, CLASSES, PARAM_COUNT, C1_MAPS, S1_SIDE, C2_MAPS,
  C2_SIDE, S2_SIDE, KK, FEATURES, K1_OFFSET, B1_OFFSET, K2_OFFSET, B2_OFFSET, W_OFFSET, B_OFFSET,
} from "../model/dims";
import {
  NPP, MAX_SLICES as SLICES, MAX_THREADS as THREADS, STAGE_MAX as STAGE, PARAMS, SLOTS, V, SYNC_COUNT, SYNC_GEN,
  SYNC_SLEEPERS, SYNC_SLEEPS, SYNC_ABORT, ONE_WORD, SLICE_LOSS, SLICE_ERRORS, IMAGES, LABELS, PREDS, OUTPUTS, WS_BASE, WS_SIZE,
  X, C1, S1, C2, S2, F, Z, Y, DY, DF, DC2, DS1, DC1,
} from "./layout";
import { ld, st, fma, Sigmoid, Relu, Tanh, MeanPool, MaxPool } from "./simd";
import { loadImage, c1Forward, poolForward, c2Forward, vectorize, fcForward } from "./forward";
import {
  argmaxY, lossAndDelta, fcGradient, fcDelta, s2Backward, b2Gradient, k2Gradient, s1Delta, s1Backward, c1Backward,
} from "./backward";

export const MAX_SLICES: i32 = SLICES;
export const MAX_THREADS: i32 = THREADS;
export const STAGE_MAX: i32 = STAGE;
export const SLOT_FLOATS: i32 = NPP;
export const PARAMETERS: i32 = PARAM_COUNT; // checked by the loader against src/model/layout.ts

// ---- this instance's thread: its workspace ----
let WS: usize = WS_BASE;
export function setThread(t: i32): void {
  WS = WS_BASE + <usize>t * WS_SIZE;
  store<i32>(ONE_WORD, 1);
}

export function paramsPtr(): usize { return PARAMS; }
export function velocityPtr(): usize { return V; }
export function slotPtr(s: i32): usize { return SLOTS + <usize>(s * NPP) * 4; }
export function imagesPtr(): usize { return IMAGES; }
export function labelsPtr(): usize { return LABELS; }
export function predsPtr(): usize { return PREDS; }
export function outputsPtr(): usize { return OUTPUTS; }
export function abortPtr(): usize { return SYNC_ABORT; }
// the workspace of one image (this thread's), for the tests of each piece
export function xPtr(): usize { return WS + X; }
export function c1Ptr(): usize { return WS + C1; }
export function s1Ptr(): usize { return WS + S1; }
export function c2Ptr(): usize { return WS + C2; }
export function s2Ptr(): usize { return WS + S2; }
export function fPtr(): usize { return WS + F; }
export function zPtr(): usize { return WS + Z; }
export function yPtr(): usize { return WS + Y; }
export function dyPtr(): usize { return WS + DY; }
export function dfPtr(): usize { return WS + DF; }
export function dc2Ptr(): usize { return WS + DC2; } // [12][8][16]: ΔC2[q][i][j] at [q][i][4 + j], the rest 0
export function ds1Ptr(): usize { return WS + DS1; }
export function dc1Ptr(): usize { return WS + DC1; }

// ---- the architecture of this instance (codes of src/model/dims.ts); every instance, on every
// thread, is set before use: the loader makes it a required argument ----
let ACT: i32 = -1;
let POOLING: i32 = -1;
let OUTPUT: i32 = -1;
let LOSS: i32 = -1;

// Returns 0 if the codes are known, else 1 (the loader refuses the kernel then).
export function setArchitecture(conv: i32, pool: i32, act: i32, output: i32, loss: i32): i32 {
  if (conv != CONV_CONVOLUTION && conv != CONV_CORRELATION) return 1;
  if (pool != POOL_MEAN && pool != POOL_MAX) return 1;
  if (act != ACTIVATION_SIGMOID && act != ACTIVATION_RELU && act != ACTIVATION_TANH) return 1;
  if (output != OUTPUT_SIGMOID && output != OUTPUT_SOFTMAX) return 1;
  if (loss != LOSS_MSE && loss != LOSS_CROSS_ENTROPY) return 1;
  if (loss == LOSS_CROSS_ENTROPY && output != OUTPUT_SOFTMAX) return 1;
  POOLING = pool;
  ACT = act;
  OUTPUT = output;
  LOSS = loss;
  return 0;
}

// ---- the update's settings (torch.optim.SGD's momentum and weight decay; 0 and 0: plain SGD) ----
let MOMENTUM: f32 = 0;
let WEIGHT_DECAY: f32 = 0;
export function setOptimizer(momentum: f32, weightDecay: f32): void {
  MOMENTUM = momentum;
  WEIGHT_DECAY = weightDecay;
}

let errors: i32 = 0;
// Misclassifications counted by the training passes since the last call.
export function takeErrors(): i32 { const e = errors; errors = 0; return e; }

// Part k of n things split into K contiguous parts starts at floor(k·n/K).
@inline function share(k: i32, K: i32, n: i32): i32 { return (k * n) / K; }

// ---- barrier between the threads of trainOnline/trainBatches ------------------------------------
// A counter and a generation in shared memory: the last thread to arrive resets the counter and
// bumps the generation; the others spin on the generation (a layer takes microseconds), then sleep
// in memory.atomic.wait32 (another job may have taken their partner's core). A thread that failed
// sets the abort word (from JS); everyone waiting then traps instead of hanging.
const SPINS: i32 = 20000;
function barrier(T: i32): void {
  if (T <= 1) return;
  const g = atomic.load<i32>(SYNC_GEN);
  if (atomic.add<i32>(SYNC_COUNT, 1) == T - 1) {
    atomic.store<i32>(SYNC_COUNT, 0);
    atomic.store<i32>(SYNC_GEN, g + 1);
    if (atomic.load<i32>(SYNC_SLEEPERS) != 0) atomic.notify(SYNC_GEN, T);
    return;
  }
  let n = 0;
  while (atomic.load<i32>(SYNC_GEN) == g) {
    if (atomic.load<i32>(SYNC_ABORT) != 0) unreachable();
    if (++n > SPINS) {
      atomic.add<i32>(SYNC_SLEEPS, 1);
      atomic.add<i32>(SYNC_SLEEPERS, 1);
      atomic.wait<i32>(SYNC_GEN, g, 10000000); // 10 ms at most, then look at the abort word again
      atomic.sub<i32>(SYNC_SLEEPERS, 1);
    }
  }
}

// Times a thread went to sleep at a barrier since the memory was made (diagnostics, bench).
export function barrierSleeps(): i32 { return atomic.load<i32>(SYNC_SLEEPS); }
// n barriers in a row, as thread tid of T (every thread calls it): the cost of one (bench).
export function barriers(tid: i32, T: i32, n: i32): void {
  for (let i = 0; i < n; i++) barrier(T);
}

// The machine's multiply-add rate as this module gets it (bench): n rounds of 12 independent
// 4-lane multiply-adds on registers. Returns a sum of the results so that nothing is left out.
export function fmaLoop(n: i32, x: f32): f32 {
  const m = f32x4.splat(x), c = f32x4.splat(<f32>1e-7);
  let a0 = m, a1 = f32x4.add(m, c), a2 = f32x4.add(a1, c), a3 = f32x4.add(a2, c), a4 = f32x4.add(a3, c), a5 = f32x4.add(a4, c);
  let a6 = f32x4.add(a5, c), a7 = f32x4.add(a6, c), a8 = f32x4.add(a7, c), a9 = f32x4.add(a8, c), a10 = f32x4.add(a9, c), a11 = f32x4.add(a10, c);
  for (let i = 0; i < n; i++) {
    a0 = fma(c, a0, m); a1 = fma(c, a1, m); a2 = fma(c, a2, m); a3 = fma(c, a3, m);
    a4 = fma(c, a4, m); a5 = fma(c, a5, m); a6 = fma(c, a6, m); a7 = fma(c, a7, m);
    a8 = fma(c, a8, m); a9 = fma(c, a9, m); a10 = fma(c, a10, m); a11 = fma(c, a11, m);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  return f32x4.extract_lane(f32x4.add(s, f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))), 0);
}

// ---- training -----------------------------------------------------------------------------------
function zeroSlot(G: usize): void {
  zeroRange(G, 0, NPP);
}

// Entries [i0, i1) of the slot at G set to 0, and the rest of the vectors they share (only for a
// slot no other thread writes).
function zeroRange(G: usize, i0: i32, i1: i32): void {
  for (let i = i0 & ~3; i < i1; i += 4) st(G + <usize>i * 4, f32x4.splat(0));
}

// Lanes [l0, l1) of the vector v stored at p (0 ≤ l0 < l1 ≤ 4).
@inline function storeLanes(p: usize, v: v128, l0: i32, l1: i32): void {
  if (l0 == 0 && l1 == 4) { st(p, v); return; }
  if (l0 <= 0 && 0 < l1) store<f32>(p, f32x4.extract_lane(v, 0));
  if (l0 <= 1 && 1 < l1) store<f32>(p + 4, f32x4.extract_lane(v, 1));
  if (l0 <= 2 && 2 < l1) store<f32>(p + 8, f32x4.extract_lane(v, 2));
  if (l0 <= 3 && 3 < l1) store<f32>(p + 12, f32x4.extract_lane(v, 3));
}

// The update of parameters [i0, i1) from the summed gradient Σ of a batch of b images in G:
//   plain SGD (eqs 65-70):   θ ← θ − (lr/b)·Σ
//   momentum μ, decay λ:     g = Σ/b + λ·θ;  v ← μ·v + g;  θ ← θ − lr·v   (torch.optim.SGD; v starts at 0)
// Entry by entry: any split of the range gives the same values. Only entries in the range are
// written (another thread may own the rest of a vector).
function updateRange(G: usize, i0: i32, i1: i32, lr: f32, b: i32): void {
  const plain = MOMENTUM == 0 && WEIGHT_DECAY == 0;
  const a = plain ? f32x4.splat(lr / <f32>b) : f32x4.splat(lr);
  const inv = f32x4.splat(<f32>1 / <f32>b), mu = f32x4.splat(MOMENTUM), wd = f32x4.splat(WEIGHT_DECAY);
  for (let i = i0 & ~3; i < i1; i += 4) {
    const l0 = i < i0 ? i0 - i : 0, l1 = i + 4 > i1 ? i1 - i : 4;
    const p = PARAMS + <usize>i * 4, g = G + <usize>i * 4;
    if (plain) {
      storeLanes(p, f32x4.sub(ld(p), f32x4.mul(a, ld(g))), l0, l1);
      continue;
    }
    const v = V + <usize>i * 4;
    const theta = ld(p);
    const gg = fma(f32x4.mul(ld(g), inv), wd, theta); // Σ/b + λθ
    const vel = MOMENTUM == 0 ? gg : fma(gg, mu, ld(v)); // μv + g
    if (MOMENTUM != 0) storeLanes(v, vel, l0, l1);
    storeLanes(p, f32x4.sub(theta, f32x4.mul(a, vel)), l0, l1);
  }
}

// The update of one batch of b images from its n gradient slots, summed in order 0, 1, …, n-1
// into slot 0 (Σ = the summed gradient), for parameters [i0, i1) (multiples of 4).
function applySlotsRange(n: i32, lr: f32, b: i32, i0: i32, i1: i32): void {
  const G = SLOTS;
  for (let s = 1; s < n; s++) {
    const H = SLOTS + <usize>(s * NPP) * 4;
    for (let i = i0; i < i1; i += 4) st(G + <usize>i * 4, f32x4.add(ld(G + <usize>i * 4), ld(H + <usize>i * 4)));
  }
  updateRange(G, i0, i1, lr, b);
}

export function applySlots(n: i32, lr: f32, b: i32): void {
  applySlotsRange(n, lr, b, 0, NPP);
}

// The forward pass of staged image t on this thread's workspace.
@inline function forwardOf<A, P>(t: i32): void {
  const ws = WS;
  loadImage(t, ws + X);
  c1Forward<A>(PARAMS, ws + X, ws + C1, 0, C1_MAPS);
  poolForward<P>(ws + S1, ws + C1, S1_SIDE, 0, C1_MAPS, 0, S1_SIDE); // eq 6
  c2Forward<A>(PARAMS, ws + S1, ws + C2, 0, C2_SIDE);
  poolForward<P>(ws + S2, ws + C2, S2_SIDE, 0, C2_MAPS, 0, S2_SIDE); // eq 9
  vectorize(ws + S2, ws + F);
  fcForward(PARAMS, ws + F, ws + Z, ws + Y, OUTPUT);
}

// Forward, loss and backward of staged images [start, start+n), their gradients added to G.
function gradientOf<A, P>(start: i32, n: i32, G: usize): f64 {
  const ws = WS;
  let L: f64 = 0;
  for (let t = start; t < start + n; t++) {
    const label = <i32>load<u8>(LABELS + <usize>t);
    forwardOf<A, P>(t);
    L += lossAndDelta(label, OUTPUT, LOSS, ws + Z, ws + Y, ws + DY);
    if (argmaxY(ws + Y) != label) errors++;
    fcGradient(G, ws + F, ws + DY, 0, CLASSES);
    fcDelta(PARAMS, ws + DY, ws + DF);
    s2Backward<A, P>(ws + C2, ws + S2, ws + DF, ws);
    b2Gradient(G, ws, 0, C2_MAPS);
    k2Gradient(G, ws + S1, ws, 0, C1_MAPS);
    s1Delta(PARAMS, ws, ws + DS1, 0, C1_MAPS);
    s1Backward<A, P>(ws + C1, ws + S1, ws + DS1, ws + DC1, 0, C1_MAPS);
    c1Backward(G, ws + X, ws + DC1, 0, C1_MAPS);
  }
  return L;
}

// The gradient of staged images [start, start+n) added to what slot s holds. Returns Σ L.
export function sliceGradientAdd(start: i32, n: i32, s: i32): f64 {
  const G = SLOTS + <usize>(s * NPP) * 4;
  if (ACT == ACTIVATION_RELU) return POOLING == POOL_MAX ? gradientOf<Relu, MaxPool>(start, n, G) : gradientOf<Relu, MeanPool>(start, n, G);
  if (ACT == ACTIVATION_TANH) return POOLING == POOL_MAX ? gradientOf<Tanh, MaxPool>(start, n, G) : gradientOf<Tanh, MeanPool>(start, n, G);
  if (ACT == ACTIVATION_SIGMOID) return POOLING == POOL_MAX ? gradientOf<Sigmoid, MaxPool>(start, n, G) : gradientOf<Sigmoid, MeanPool>(start, n, G);
  unreachable(); // setArchitecture was not called
  return 0;
}

// The same into slot s zeroed first.
export function sliceGradient(start: i32, n: i32, s: i32): f64 {
  zeroSlot(SLOTS + <usize>(s * NPP) * 4);
  return sliceGradientAdd(start, n, s);
}

// The fixed split of a batch of b images into min(b, MAX_SLICES) slices: slice k starts at
// floor(k·b/S). The same whatever the threads, so results never depend on them.
export function sliceStart(k: i32, b: i32): i32 {
  const S = b < SLICES ? b : SLICES;
  return <i32>((<i64>k * <i64>b) / <i64>S);
}

// Minibatch gradient descent over staged images [0, n) in batches of B > 1, as thread tid of T
// (every thread calls it with the same n, B, lr). The slices of a batch are shared out in runs
// (thread t: slices [tS/T, (t+1)S/T), as many images on each thread as can be); then each thread
// sums the slots and updates a range of the parameters. Every value is computed as on one thread
// (slot k holds slice k, the slots are summed in order), so T changes nothing. Returns Σ L on
// thread 0 (in slice order).
export function trainBatches(tid: i32, T: i32, n: i32, B: i32, lr: f32): f64 {
  let L: f64 = 0;
  const i0 = share(tid, T, NPP / 4) * 4, i1 = share(tid + 1, T, NPP / 4) * 4;
  for (let b0 = 0; b0 < n; b0 += B) {
    const b = n - b0 < B ? n - b0 : B;
    const S = b < SLICES ? b : SLICES;
    for (let k = share(tid, T, S); k < share(tid + 1, T, S); k++) {
      const s0 = sliceStart(k, b), s1 = sliceStart(k + 1, b);
      store<f64>(SLICE_LOSS + <usize>k * 8, sliceGradient(b0 + s0, s1 - s0, k));
      store<i32>(SLICE_ERRORS + <usize>k * 4, takeErrors());
    }
    barrier(T);
    if (tid == 0) {
      for (let k = 0; k < S; k++) {
        L += load<f64>(SLICE_LOSS + <usize>k * 8);
        errors += load<i32>(SLICE_ERRORS + <usize>k * 4);
      }
    }
    applySlotsRange(S, lr, b, i0, i1);
    barrier(T);
  }
  return L;
}

// Online SGD (batch 1, the paper's setting) over staged images [from, to), as thread tid of T
// (every thread calls it with the same arguments). Each image is shared out:
//   C1, S1 and the whole backward pass below S2: by S1 map p (thread tid has p in [p0, p1)),
//   C2 and S2: by rows, FC gradient: by class, Δb2: by C2 map;
// the few values every thread needs afterwards (f, ŷ, Δŷ, Δf, ΔC2: ~4 000 multiply-adds) are
// computed by each thread in its own workspace, so that two barriers per image suffice. The maps
// read by several threads (C1, S1, C2, S2) are thread 0's. Each thread updates the parameters
// whose gradients it computed (its own slot) as soon as the image no longer reads them; W and b,
// which every thread reads in the FC layer, one phase later, after the next image's first barrier.
// Returns L0 + Σ L on thread 0, the losses added in image order (so that a run split into several
// calls, each given the sum so far, adds exactly as one call).
function onlineOf<A, P>(tid: i32, T: i32, from: i32, to: i32, lr: f32, L0: f64): f64 {
  const ws = WS_BASE + <usize>tid * WS_SIZE, sh = WS_BASE;
  const G = SLOTS + <usize>(tid * NPP) * 4;
  const p0 = share(tid, T, C1_MAPS), p1 = share(tid + 1, T, C1_MAPS);
  const r0 = share(tid, T, S2_SIDE), r1 = share(tid + 1, T, S2_SIDE);
  const o0 = share(tid, T, CLASSES), o1 = share(tid + 1, T, CLASSES);
  const q0 = share(tid, T, C2_MAPS), q1 = share(tid + 1, T, C2_MAPS);
  let L = L0;
  for (let t = from; t < to; t++) {
    loadImage(t, ws + X);
    c1Forward<A>(PARAMS, ws + X, sh + C1, p0, p1);
    poolForward<P>(sh + S1, sh + C1, S1_SIDE, p0, p1, 0, S1_SIDE); // eq 6
    barrier(T);
    if (t > from) { // the previous image's FC update
      updateRange(G, W_OFFSET + o0 * FEATURES, W_OFFSET + o1 * FEATURES, lr, 1);
      updateRange(G, B_OFFSET + o0, B_OFFSET + o1, lr, 1);
    }
    c2Forward<A>(PARAMS, sh + S1, sh + C2, 2 * r0, 2 * r1);
    poolForward<P>(sh + S2, sh + C2, S2_SIDE, 0, C2_MAPS, r0, r1); // eq 9
    barrier(T);
    // this thread's slot: the entries it will compute, from 0
    zeroRange(G, K1_OFFSET + p0 * KK, K1_OFFSET + p1 * KK);
    zeroRange(G, B1_OFFSET + p0, B1_OFFSET + p1);
    zeroRange(G, K2_OFFSET + p0 * C2_MAPS * KK, K2_OFFSET + p1 * C2_MAPS * KK);
    zeroRange(G, B2_OFFSET + q0, B2_OFFSET + q1);
    zeroRange(G, W_OFFSET + o0 * FEATURES, W_OFFSET + o1 * FEATURES);
    zeroRange(G, B_OFFSET + o0, B_OFFSET + o1);
    vectorize(sh + S2, ws + F);
    fcForward(PARAMS, ws + F, ws + Z, ws + Y, OUTPUT);
    const label = <i32>load<u8>(LABELS + <usize>t);
    const l = lossAndDelta(label, OUTPUT, LOSS, ws + Z, ws + Y, ws + DY);
    if (tid == 0) {
      L += l;
      if (argmaxY(ws + Y) != label) errors++;
    }
    fcGradient(G, ws + F, ws + DY, o0, o1);
    fcDelta(PARAMS, ws + DY, ws + DF);
    s2Backward<A, P>(sh + C2, sh + S2, ws + DF, ws);
    b2Gradient(G, ws, q0, q1);
    k2Gradient(G, sh + S1, ws, p0, p1);
    s1Delta(PARAMS, ws, ws + DS1, p0, p1);
    // k2[p0..p1) and b2[q0..q1) are read by no one else before the next image's C2
    updateRange(G, K2_OFFSET + p0 * C2_MAPS * KK, K2_OFFSET + p1 * C2_MAPS * KK, lr, 1);
    updateRange(G, B2_OFFSET + q0, B2_OFFSET + q1, lr, 1);
    s1Backward<A, P>(sh + C1, sh + S1, ws + DS1, ws + DC1, p0, p1);
    c1Backward(G, ws + X, ws + DC1, p0, p1);
    // k1[p0..p1), b1[p0..p1): read only by this thread's C1
    updateRange(G, K1_OFFSET + p0 * KK, K1_OFFSET + p1 * KK, lr, 1);
    updateRange(G, B1_OFFSET + p0, B1_OFFSET + p1, lr, 1);
  }
  if (to > from) { // the last image's FC update, once every thread is past its FC layer
    barrier(T);
    updateRange(G, W_OFFSET + o0 * FEATURES, W_OFFSET + o1 * FEATURES, lr, 1);
    updateRange(G, B_OFFSET + o0, B_OFFSET + o1, lr, 1);
  }
  return L;
}

export function trainOnline(tid: i32, T: i32, from: i32, to: i32, lr: f32, L0: f64): f64 {
  if (ACT == ACTIVATION_RELU) return POOLING == POOL_MAX ? onlineOf<Relu, MaxPool>(tid, T, from, to, lr, L0) : onlineOf<Relu, MeanPool>(tid, T, from, to, lr, L0);
  if (ACT == ACTIVATION_TANH) return POOLING == POOL_MAX ? onlineOf<Tanh, MaxPool>(tid, T, from, to, lr, L0) : onlineOf<Tanh, MeanPool>(tid, T, from, to, lr, L0);
  if (ACT == ACTIVATION_SIGMOID) return POOLING == POOL_MAX ? onlineOf<Sigmoid, MaxPool>(tid, T, from, to, lr, L0) : onlineOf<Sigmoid, MeanPool>(tid, T, from, to, lr, L0);
  unreachable();
  return 0;
}

// Minibatch gradient descent over staged images [0, n) in batches of B on this thread alone.
// B = 1 is the paper's online SGD (one update per image). Returns Σ L.
export function trainStaged(n: i32, B: i32, lr: f32): f64 {
  return B == 1 ? trainOnline(0, 1, 0, n, lr, 0) : trainBatches(0, 1, n, B, lr);
}

// ---- prediction ---------------------------------------------------------------------------------
function predictOf<A, P>(from: i32, to: i32, withLoss: bool): f64 {
  const ws = WS;
  let L: f64 = 0;
  for (let t = from; t < to; t++) {
    forwardOf<A, P>(t);
    if (withLoss) L += lossAndDelta(<i32>load<u8>(LABELS + <usize>t), OUTPUT, LOSS, ws + Z, ws + Y, ws + DY);
    for (let o = 0; o < CLASSES; o++) store<f32>(OUTPUTS + <usize>(t * CLASSES + o) * 4, load<f32>(ws + Y + <usize>o * 4));
    store<u8>(PREDS + <usize>t, <u8>argmaxY(ws + Y));
  }
  return L;
}

// Forward pass over staged images [from, to) on this thread's workspace: outputs [t][10] and
// predicted classes at their index t; with withLoss, the staged labels are read and Σ L returned
// (0 otherwise).
export function predictStaged(from: i32, to: i32, withLoss: bool): f64 {
  if (ACT == ACTIVATION_RELU) return POOLING == POOL_MAX ? predictOf<Relu, MaxPool>(from, to, withLoss) : predictOf<Relu, MeanPool>(from, to, withLoss);
  if (ACT == ACTIVATION_TANH) return POOLING == POOL_MAX ? predictOf<Tanh, MaxPool>(from, to, withLoss) : predictOf<Tanh, MeanPool>(from, to, withLoss);
  if (ACT == ACTIVATION_SIGMOID) return POOLING == POOL_MAX ? predictOf<Sigmoid, MaxPool>(from, to, withLoss) : predictOf<Sigmoid, MeanPool>(from, to, withLoss);
  unreachable();
  return 0;
}

// ---- each piece alone, on the workspace (for the tests: test/kernel-pieces.test.ts) -------------
function pieceOf<A, P>(which: i32, label: i32): f64 {
  const G = SLOTS, ws = WS;
  switch (which) {
    case 0: c1Forward<A>(PARAMS, ws + X, ws + C1, 0, C1_MAPS); break;
    case 1: poolForward<P>(ws + S1, ws + C1, S1_SIDE, 0, C1_MAPS, 0, S1_SIDE); break;
    case 2: c2Forward<A>(PARAMS, ws + S1, ws + C2, 0, C2_SIDE); break;
    case 3: poolForward<P>(ws + S2, ws + C2, S2_SIDE, 0, C2_MAPS, 0, S2_SIDE); break;
    case 4: vectorize(ws + S2, ws + F); break;
    case 5: fcForward(PARAMS, ws + F, ws + Z, ws + Y, OUTPUT); break;
    case 6: return lossAndDelta(label, OUTPUT, LOSS, ws + Z, ws + Y, ws + DY);
    case 7: fcGradient(G, ws + F, ws + DY, 0, CLASSES); fcDelta(PARAMS, ws + DY, ws + DF); break;
    case 8: s2Backward<A, P>(ws + C2, ws + S2, ws + DF, ws); break;
    case 9: b2Gradient(G, ws, 0, C2_MAPS); k2Gradient(G, ws + S1, ws, 0, C1_MAPS); s1Delta(PARAMS, ws, ws + DS1, 0, C1_MAPS); break;
    case 10: s1Backward<A, P>(ws + C1, ws + S1, ws + DS1, ws + DC1, 0, C1_MAPS); break;
    case 11: c1Backward(G, ws + X, ws + DC1, 0, C1_MAPS); break;
    case 12: k2Gradient(G, ws + S1, ws, 0, C1_MAPS); break; // parts of 9, for timing them
    case 13: s1Delta(PARAMS, ws, ws + DS1, 0, C1_MAPS); break;
    default: unreachable();
  }
  return 0;
}

export function piece(which: i32, label: i32): f64 {
  if (ACT == ACTIVATION_RELU) return POOLING == POOL_MAX ? pieceOf<Relu, MaxPool>(which, label) : pieceOf<Relu, MeanPool>(which, label);
  if (ACT == ACTIVATION_TANH) return POOLING == POOL_MAX ? pieceOf<Tanh, MaxPool>(which, label) : pieceOf<Tanh, MeanPool>(which, label);
  if (ACT == ACTIVATION_SIGMOID) return POOLING == POOL_MAX ? pieceOf<Sigmoid, MaxPool>(which, label) : pieceOf<Sigmoid, MeanPool>(which, label);
  unreachable();
  return 0;
}
