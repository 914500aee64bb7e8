// AssemblyScript. The kernel's linear memory: one fixed region per buffer, every size derived
// from src/model/dims.ts (shared with the TypeScript side). Byte addresses; f32 unless noted.
//
// The memory is shared by every thread of an engine (WebAssembly threads: one `shared` memory
// imported by one instance of the kernel per thread). The parameters, gradient slots, staged
// images and results are one region each; the activations and deltas of one image (the
// workspace) exist once per thread, at WS_BASE + t·WS_SIZE, and each function is told which
// workspace to use. In online SGD split across threads (kernel.ts trainOnline) the maps that
// several threads read (C1, S1, C2, S2) are taken from thread 0's workspace.
import {
  PARAM_COUNT, PIXELS, C1_MAPS, C1_SIDE, S1_SIDE, C2_MAPS, C2_SIDE, S2_SIDE, FEATURES, CLASSES,
} from "../model/dims";

export const NPP: i32 = (PARAM_COUNT + 3) & ~3; // parameters padded to whole vectors
export const MAX_SLICES: i32 = 8; // gradient slots for the slices of a minibatch
export const MAX_THREADS: i32 = 8; // workspaces (threads of one engine)
export const STAGE_MAX: i32 = 4096; // images staged at once

export const C1_MAP: i32 = C1_SIDE * C1_SIDE; // floats per map
export const S1_MAP: i32 = S1_SIDE * S1_SIDE;
export const C2_MAP: i32 = C2_SIDE * C2_SIDE;
export const S2_MAP: i32 = S2_SIDE * S2_SIDE;
export const OUT_PAD: i32 = (CLASSES + 3) & ~3; // the 10 outputs padded to whole vectors

// ΔC2's rows are kept zero-padded by 4 on each side (16 floats per row; the padding stays 0): the
// full convolution of ΔS1 (eq 51) then reads whole vectors without testing its edges.
export const DC2_PAD: i32 = 4;
export const DC2_ROW: i32 = C2_SIDE + 2 * DC2_PAD; // 16 floats
export const DC2_PMAP: i32 = C2_SIDE * DC2_ROW; // 128 floats per padded map

export const BASE: usize = 1024;
export const PARAMS: usize = BASE; //                                  [NPP]
export const SLOTS: usize = PARAMS + <usize>NPP * 4; //                 [MAX_SLICES][NPP]
export const V: usize = SLOTS + <usize>(MAX_SLICES * NPP) * 4; //       [NPP] momentum's velocity
export const SYNC: usize = (V + <usize>NPP * 4 + 63) & ~63; //         i32 words of the barrier, one cache line each
export const SYNC_COUNT: usize = SYNC; //                               threads arrived at the barrier
export const SYNC_GEN: usize = SYNC + 64; //                            barriers passed
export const SYNC_SLEEPERS: usize = SYNC + 128; //                      threads asleep in memory.atomic.wait32
export const SYNC_ABORT: usize = SYNC + 192; //                         set when a thread failed: the others stop
export const SYNC_SLEEPS: usize = SYNC + 200; //                        times a thread went to sleep at a barrier (diagnostics)
export const ONE_WORD: usize = SYNC + 204; //                           i32 1, written by every instance (backward.ts SPLIT)
export const SLICE_LOSS: usize = SYNC + 256; //                         f64 [MAX_SLICES] loss of each slice of a batch
export const SLICE_ERRORS: usize = SLICE_LOSS + <usize>MAX_SLICES * 8; // i32 [MAX_SLICES] its misclassifications
export const IMAGES: usize = (SLICE_ERRORS + <usize>MAX_SLICES * 4 + 63) & ~63; // u8 [STAGE_MAX][784]
export const LABELS: usize = IMAGES + <usize>STAGE_MAX * PIXELS; //     u8 [STAGE_MAX]
export const PREDS: usize = LABELS + <usize>STAGE_MAX; //               u8 [STAGE_MAX]
export const OUTPUTS: usize = PREDS + <usize>STAGE_MAX; //              [STAGE_MAX][10]

// ---- one workspace: byte offsets from its base ----
export const X: usize = 0; //                                          [28][28]
export const C1: usize = X + <usize>PIXELS * 4; //                      [6][24][24]
export const S1: usize = C1 + <usize>(C1_MAPS * C1_MAP) * 4; //         [6][12][12]
export const C2: usize = S1 + <usize>(C1_MAPS * S1_MAP) * 4; //         [12][8][8]
export const S2: usize = C2 + <usize>(C2_MAPS * C2_MAP) * 4; //         [12][4][4]
export const F: usize = S2 + <usize>(C2_MAPS * S2_MAP) * 4; //          [192]
export const Z: usize = F + <usize>FEATURES * 4; //                     [10] logits (+ pad)
export const Y: usize = Z + <usize>OUT_PAD * 4; //                      [10] outputs ŷ (+ pad)
export const DY: usize = Y + <usize>OUT_PAD * 4; //                     [10] Δŷ = ∂L/∂z (+ pad)
export const DF: usize = DY + <usize>OUT_PAD * 4; //                    [192]
export const DC2: usize = DF + <usize>FEATURES * 4; //                  [12][8][16], ΔC2[q][i][j] at [q][i][4+j]
export const DS1: usize = DC2 + <usize>(C2_MAPS * DC2_PMAP) * 4; //     [6][12][12]
export const DC1: usize = DS1 + <usize>(C1_MAPS * S1_MAP) * 4; //       [6][24][24]
export const WS_SIZE: usize = (DC1 + <usize>(C1_MAPS * C1_MAP) * 4 + 64 + 63) & ~63; // (+ a line apart)
export const WS_BASE: usize = (OUTPUTS + <usize>(STAGE_MAX * CLASSES) * 4 + 63) & ~63;
export const MEMORY_END: usize = WS_BASE + <usize>MAX_THREADS * WS_SIZE;

// the regions must end below the module's static data (asc --memoryBase, package.json)
// @ts-ignore: AssemblyScript builtin
if (MEMORY_END > 4194304) ERROR("the kernel's regions overlap --memoryBase (4 MiB): raise it in package.json");

// The address of ΔC2[q][i][0] in the workspace at ws (j = −4..−1 and 8..11 of the row: the zeros).
@inline export function dc2Row(ws: usize, q: i32, i: i32): usize {
  return ws + DC2 + <usize>(q * DC2_PMAP + i * DC2_ROW + DC2_PAD) * 4;
}
