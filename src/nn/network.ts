/**
 * The whole network, reference implementation in float64: §1 forward (eqs 4-13) and §2 backward
 * (eqs 14-64) composed from one forward/backward pair per layer. Activations and errors live in a
 * workspace allocated once; nothing is allocated per image.
 */
import {
  C1_MAPS, C1_SIDE, C2_MAPS, C2_SIDE, CLASSES, FEATURES, IN, PARAM_COUNT, S1_SIDE, S2_SIDE, views,
  type ParamViews,
} from '../model/layout.js';
import { convBackward, convForward } from './conv.js';
import { fcBackward, fcForward } from './fc.js';
import { lossForwardBackward } from './loss.js';
import { poolBackward, poolForward } from './pool.js';
import { sigmoidBackward, sigmoidForward } from './sigmoid.js';
import { flattenBackward, flattenForward } from './vectorize.js';

export class ReferenceNetwork {
  readonly params: ParamViews<Float64Array>;
  readonly grads: ParamViews<Float64Array>;
  // activations
  readonly x = new Float64Array(IN * IN); //               I   [1][28][28]
  readonly c1 = new Float64Array(C1_MAPS * C1_SIDE * C1_SIDE); // C1  [6][24][24]
  readonly s1 = new Float64Array(C1_MAPS * S1_SIDE * S1_SIDE); // S1  [6][12][12]
  readonly c2 = new Float64Array(C2_MAPS * C2_SIDE * C2_SIDE); // C2  [12][8][8]
  readonly s2 = new Float64Array(C2_MAPS * S2_SIDE * S2_SIDE); // S2  [12][4][4]
  readonly f = new Float64Array(FEATURES); //                 f   [192]
  readonly yhat = new Float64Array(CLASSES); //               ŷ   [10]
  // errors (∂L/∂·)
  private readonly dyhat = new Float64Array(CLASSES);
  private readonly df = new Float64Array(FEATURES);
  private readonly ds2 = new Float64Array(this.s2.length);
  private readonly dc2 = new Float64Array(this.c2.length);
  private readonly ds1 = new Float64Array(this.s1.length);
  private readonly dc1 = new Float64Array(this.c1.length);

  constructor(params: Float64Array = new Float64Array(PARAM_COUNT)) {
    this.params = views(params);
    this.grads = views(new Float64Array(PARAM_COUNT));
  }

  /** Load an image of 784 bytes (row-major 28x28) scaled to [0,1]. */
  setInput(pixels: Uint8Array, offset = 0): void {
    for (let i = 0; i < IN * IN; i++) this.x[i] = pixels[offset + i] / 255;
  }

  /** Forward pass (eqs 4-12) on this.x; returns ŷ. */
  forward(): Float64Array {
    const P = this.params;
    convForward(this.c1, this.x, P.k1, P.b1, 1, C1_MAPS, IN, IN); //              eq 5
    sigmoidForward(this.c1, this.c1.length); //                                   eq 4
    poolForward(this.s1, this.c1, C1_MAPS, S1_SIDE); //                           eq 6
    convForward(this.c2, this.s1, P.k2, P.b2, C1_MAPS, C2_MAPS, S1_SIDE, S1_SIDE); // eq 8
    sigmoidForward(this.c2, this.c2.length); //                                   eq 7
    poolForward(this.s2, this.c2, C2_MAPS, S2_SIDE); //                           eq 9
    flattenForward(this.f, this.s2, C2_MAPS, S2_SIDE); //                         eq 10
    fcForward(this.yhat, P.W, this.f, P.b, CLASSES, FEATURES); //                 eq 12
    sigmoidForward(this.yhat, CLASSES);
    return this.yhat;
  }

  /**
   * Loss (eq 13) and backward pass (eqs 14-64) after forward(); ADDS this image's gradient to
   * this.grads. Returns L.
   */
  backward(label: number): number {
    const P = this.params, G = this.grads;
    const L = lossForwardBackward(this.dyhat, this.yhat, label, CLASSES); //         eq 15: ∂L/∂ŷ = ŷ − y
    sigmoidBackward(this.dyhat, this.yhat, CLASSES); //                              Δŷ, eq 17
    fcBackward(G.W, G.b, this.df, this.dyhat, P.W, this.f, CLASSES, FEATURES); //    eqs 19, 24, 30
    flattenBackward(this.ds2, this.df, C2_MAPS, S2_SIDE); //                         eq 31
    poolBackward(this.dc2, this.ds2, C2_MAPS, S2_SIDE); //                           eq 32
    sigmoidBackward(this.dc2, this.c2, this.dc2.length); //                          eq 37
    convBackward(G.k2, G.b2, this.ds1, this.dc2, this.s1, P.k2, C1_MAPS, C2_MAPS, S1_SIDE, S1_SIDE); // eqs 40, 45, 51
    poolBackward(this.dc1, this.ds1, C1_MAPS, S1_SIDE); //                           eq 52
    sigmoidBackward(this.dc1, this.c1, this.dc1.length); //                          eq 57
    convBackward(G.k1, G.b1, null /* no ΔI needed */, this.dc1, this.x, P.k1, 1, C1_MAPS, IN, IN); // eqs 59, 64
    return L;
  }

  /** Loss of the current parameters on this.x (forward only), for finite differences. */
  loss(label: number): number {
    return lossForwardBackward(this.dyhat, this.forward(), label, CLASSES);
  }
}
