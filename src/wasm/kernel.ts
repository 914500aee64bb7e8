// AssemblyScript (compiled to WebAssembly by `asc` during the build; not compiled by tsc).
//
// The fast engine: the forward pass (eqs 4-13), backward pass (eqs 14-64) and update (eqs 65-70)
// in float32 with 128-bit SIMD (4 lanes), on raw linear memory, for every architecture of
// src/model/architecture.ts. Same equations and same parameter layout as the float64 reference in
// src/nn (the tests compare the two, whole and piece by piece); only the loop orders differ,
// chosen so that each loop body is a run of 4-wide multiply-adds on unaligned loads. Nothing is
// allocated: every buffer is a fixed region (layout.ts).
//
// The architecture: the activation and the pooling are compiled into the loops (forward<A, P> and
// backward<A, P>, one copy per pair, chosen once per call below); the output and the loss are
// chosen per image (10 values); the convolution is true convolution, and cross-correlation is
// served by storing the kernels rotated by 180° (src/engine/kernel-params.ts).
import {
  ACTIVATION_SIGMOID, ACTIVATION_RELU, ACTIVATION_TANH, POOL_MEAN, POOL_MAX, OUTPUT_SIGMOID, OUTPUT_SOFTMAX,
  LOSS_MSE, LOSS_CROSS_ENTROPY, CONV_CONVOLUTION, CONV_CORRELATION, CLASSES, PARAM_COUNT, C1_MAPS, S1_SIDE, C2_MAPS, S2_SIDE,
} from "../model/dims";
import {
  NPP, MAX_SLICES as SLICES, STAGE_MAX as STAGE, PARAMS, SLOTS, V, X, C1, S1, C2, S2, F, Z, Y, DY, DF, DC2, DS1, DC1,
  IMAGES, LABELS, PREDS, OUTPUTS,
} from "./layout";
import { ld, st, fma, Sigmoid, Relu, Tanh, MeanPool, MaxPool } from "./simd";
import { loadImage, forward, c1Forward, poolForward, c2Forward, vectorize, fcForward } from "./forward";
import { argmaxY, lossAndDelta, backward, fcBackward, s2Backward, c2Backward, s1Backward, c1Backward } from "./backward";

export const MAX_SLICES: i32 = SLICES;
export const STAGE_MAX: i32 = STAGE;
export const SLOT_FLOATS: i32 = NPP;
export const PARAMETERS: i32 = PARAM_COUNT; // checked by the loader against src/model/layout.ts

export function paramsPtr(): usize { return PARAMS; }
export function velocityPtr(): usize { return V; }
export function slotPtr(s: i32): usize { return SLOTS + <usize>(s * NPP) * 4; }
export function imagesPtr(): usize { return IMAGES; }
export function labelsPtr(): usize { return LABELS; }
export function predsPtr(): usize { return PREDS; }
export function outputsPtr(): usize { return OUTPUTS; }
// the workspace of one image, for the tests of each piece
export function xPtr(): usize { return X; }
export function c1Ptr(): usize { return C1; }
export function s1Ptr(): usize { return S1; }
export function c2Ptr(): usize { return C2; }
export function s2Ptr(): usize { return S2; }
export function fPtr(): usize { return F; }
export function zPtr(): usize { return Z; }
export function yPtr(): usize { return Y; }
export function dyPtr(): usize { return DY; }
export function dfPtr(): usize { return DF; }
export function dc2Ptr(): usize { return DC2; }
export function ds1Ptr(): usize { return DS1; }
export function dc1Ptr(): usize { return DC1; }

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

// ---- training -----------------------------------------------------------------------------------
function zeroSlot(G: usize): void {
  for (let i = 0; i < NPP; i += 4) st(G + <usize>i * 4, f32x4.splat(0));
}

// The update of one batch of b images from its n gradient slots, summed in order 0, 1, …, n-1
// into slot 0: Σ = the summed gradient.
//   plain SGD (eqs 65-70):   θ ← θ − (lr/b)·Σ
//   momentum μ, decay λ:     g = Σ/b + λ·θ;  v ← μ·v + g;  θ ← θ − lr·v   (torch.optim.SGD; v starts at 0)
export function applySlots(n: i32, lr: f32, b: i32): void {
  const G = SLOTS;
  for (let s = 1; s < n; s++) {
    const H = SLOTS + <usize>(s * NPP) * 4;
    for (let i = 0; i < NPP; i += 4) st(G + <usize>i * 4, f32x4.add(ld(G + <usize>i * 4), ld(H + <usize>i * 4)));
  }
  if (MOMENTUM == 0 && WEIGHT_DECAY == 0) {
    const a = f32x4.splat(lr / <f32>b);
    for (let i = 0; i < NPP; i += 4) {
      const p = PARAMS + <usize>i * 4;
      st(p, f32x4.sub(ld(p), f32x4.mul(a, ld(G + <usize>i * 4))));
    }
    return;
  }
  const inv = f32x4.splat(<f32>1 / <f32>b), mu = f32x4.splat(MOMENTUM), wd = f32x4.splat(WEIGHT_DECAY), a = f32x4.splat(lr);
  for (let i = 0; i < NPP; i += 4) {
    const p = PARAMS + <usize>i * 4, v = V + <usize>i * 4;
    const theta = ld(p);
    const g = fma(f32x4.mul(ld(G + <usize>i * 4), inv), wd, theta); // Σ/b + λθ
    const vel = MOMENTUM == 0 ? g : fma(g, mu, ld(v)); // μv + g
    if (MOMENTUM != 0) st(v, vel);
    st(p, f32x4.sub(theta, f32x4.mul(a, vel)));
  }
}

// Forward, loss and backward of staged images [start, start+n), their gradients added to G.
function gradientOf<A, P>(start: i32, n: i32, G: usize): f64 {
  let L: f64 = 0;
  for (let t = start; t < start + n; t++) {
    const label = <i32>load<u8>(LABELS + <usize>t);
    loadImage(t);
    forward<A, P>(PARAMS, OUTPUT);
    L += lossAndDelta(label, OUTPUT, LOSS);
    if (argmaxY() != label) errors++;
    backward<A, P>(PARAMS, G);
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
// floor(k·b/S). The same rule is used by the worker pool, so results never depend on threads.
export function sliceStart(k: i32, b: i32): i32 {
  const S = b < SLICES ? b : SLICES;
  return <i32>((<i64>k * <i64>b) / <i64>S);
}

// Minibatch gradient descent over staged images [0, n) in batches of B, single thread.
// B = 1 is the paper's online SGD (one update per image). Returns Σ L.
export function trainStaged(n: i32, B: i32, lr: f32): f64 {
  let L: f64 = 0;
  for (let b0 = 0; b0 < n; b0 += B) {
    const b = n - b0 < B ? n - b0 : B;
    const S = b < SLICES ? b : SLICES;
    for (let k = 0; k < S; k++) {
      const s0 = sliceStart(k, b), s1 = sliceStart(k + 1, b);
      L += sliceGradient(b0 + s0, s1 - s0, k);
    }
    applySlots(S, lr, b);
  }
  return L;
}

// ---- prediction ---------------------------------------------------------------------------------
function predictOf<A, P>(n: i32, withLoss: bool): f64 {
  let L: f64 = 0;
  for (let t = 0; t < n; t++) {
    loadImage(t);
    forward<A, P>(PARAMS, OUTPUT);
    if (withLoss) L += lossAndDelta(<i32>load<u8>(LABELS + <usize>t), OUTPUT, LOSS);
    for (let o = 0; o < CLASSES; o++) store<f32>(OUTPUTS + <usize>(t * CLASSES + o) * 4, load<f32>(Y + <usize>o * 4));
    store<u8>(PREDS + <usize>t, <u8>argmaxY());
  }
  return L;
}

// Forward pass over staged images [0, n): outputs [n][10] and predicted classes; with withLoss,
// the staged labels are read and Σ L returned (0 otherwise).
export function predictStaged(n: i32, withLoss: bool): f64 {
  if (ACT == ACTIVATION_RELU) return POOLING == POOL_MAX ? predictOf<Relu, MaxPool>(n, withLoss) : predictOf<Relu, MeanPool>(n, withLoss);
  if (ACT == ACTIVATION_TANH) return POOLING == POOL_MAX ? predictOf<Tanh, MaxPool>(n, withLoss) : predictOf<Tanh, MeanPool>(n, withLoss);
  if (ACT == ACTIVATION_SIGMOID) return POOLING == POOL_MAX ? predictOf<Sigmoid, MaxPool>(n, withLoss) : predictOf<Sigmoid, MeanPool>(n, withLoss);
  unreachable();
  return 0;
}

// ---- each piece alone, on the workspace (for the tests: src/engine/kernel-pieces.ts) ------------
function pieceOf<A, P>(which: i32, label: i32): f64 {
  const G = SLOTS;
  switch (which) {
    case 0: c1Forward<A>(PARAMS); break;
    case 1: poolForward<P>(S1, C1, C1_MAPS, S1_SIDE); break;
    case 2: c2Forward<A>(PARAMS); break;
    case 3: poolForward<P>(S2, C2, C2_MAPS, S2_SIDE); break;
    case 4: vectorize(); break;
    case 5: fcForward(PARAMS, OUTPUT); break;
    case 6: return lossAndDelta(label, OUTPUT, LOSS);
    case 7: fcBackward(PARAMS, G); break;
    case 8: s2Backward<A, P>(); break;
    case 9: c2Backward(PARAMS, G); break;
    case 10: s1Backward<A, P>(); break;
    case 11: c1Backward(G); break;
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
