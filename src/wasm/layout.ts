// AssemblyScript. The kernel's linear memory: one fixed region per buffer, every size derived
// from src/model/dims.ts (shared with the TypeScript side). Byte addresses; f32 unless noted.
import {
  PARAM_COUNT, PIXELS, C1_MAPS, C1_SIDE, S1_SIDE, C2_MAPS, C2_SIDE, S2_SIDE, FEATURES, CLASSES,
} from "../model/dims";

export const NPP: i32 = (PARAM_COUNT + 3) & ~3; // parameters padded to whole vectors
export const MAX_SLICES: i32 = 8; // gradient slots for the slices of a minibatch
export const STAGE_MAX: i32 = 4096; // images staged at once

export const C1_MAP: i32 = C1_SIDE * C1_SIDE; // floats per map
export const S1_MAP: i32 = S1_SIDE * S1_SIDE;
export const C2_MAP: i32 = C2_SIDE * C2_SIDE;
export const S2_MAP: i32 = S2_SIDE * S2_SIDE;
export const OUT_PAD: i32 = (CLASSES + 3) & ~3; // the 10 outputs padded to whole vectors

export const BASE: usize = 1024;
export const PARAMS: usize = BASE; //                                  [NPP]
export const SLOTS: usize = PARAMS + <usize>NPP * 4; //                 [MAX_SLICES][NPP]
export const V: usize = SLOTS + <usize>(MAX_SLICES * NPP) * 4; //       [NPP] momentum's velocity
export const X: usize = V + <usize>NPP * 4; //                          [28][28]
export const C1: usize = X + <usize>PIXELS * 4; //                      [6][24][24]
export const S1: usize = C1 + <usize>(C1_MAPS * C1_MAP) * 4; //         [6][12][12]
export const C2: usize = S1 + <usize>(C1_MAPS * S1_MAP) * 4; //         [12][8][8]
export const S2: usize = C2 + <usize>(C2_MAPS * C2_MAP) * 4; //         [12][4][4]
export const F: usize = S2 + <usize>(C2_MAPS * S2_MAP) * 4; //          [192]
export const Z: usize = F + <usize>FEATURES * 4; //                     [10] logits (+ pad)
export const Y: usize = Z + <usize>OUT_PAD * 4; //                      [10] outputs ŷ (+ pad)
export const DY: usize = Y + <usize>OUT_PAD * 4; //                     [10] Δŷ = ∂L/∂z (+ pad)
export const DF: usize = DY + <usize>OUT_PAD * 4; //                    [192]
export const DC2: usize = DF + <usize>FEATURES * 4; //                  [12][8][8]
export const DS1: usize = DC2 + <usize>(C2_MAPS * C2_MAP) * 4; //       [6][12][12]
export const DC1: usize = DS1 + <usize>(C1_MAPS * S1_MAP) * 4; //       [6][24][24]
export const IMAGES: usize = DC1 + <usize>(C1_MAPS * C1_MAP) * 4; //    u8 [STAGE_MAX][784]
export const LABELS: usize = IMAGES + <usize>STAGE_MAX * PIXELS; //     u8 [STAGE_MAX]
export const PREDS: usize = LABELS + <usize>STAGE_MAX; //               u8 [STAGE_MAX]
export const OUTPUTS: usize = PREDS + <usize>STAGE_MAX; //              [STAGE_MAX][10]
export const MEMORY_END: usize = OUTPUTS + <usize>(STAGE_MAX * CLASSES) * 4;

// the regions must end below the module's static data (asc --memoryBase, package.json)
// @ts-ignore: AssemblyScript builtin
if (MEMORY_END > 4194304) ERROR("the kernel's regions overlap --memoryBase (4 MiB): raise it in package.json");
