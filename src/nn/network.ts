/**
 * The whole network, reference implementation in float64: §1 forward (eqs 4-13) and §2 backward
 * (eqs 14-64) composed from one forward/backward pair per layer, each layer chosen by the
 * architecture (the paper's by default). Activations and errors live in a workspace allocated
 * once; nothing is allocated per image.
 */
import { PAPER, type Architecture } from '../model/architecture.js';
import {
  C1_MAPS, C1_SIDE, C2_MAPS, C2_SIDE, CLASSES, FEATURES, IN, PARAM_COUNT, S1_SIDE, S2_SIDE, views,
  type ParamViews,
} from '../model/layout.js';
import { ACTIVATION_LAYERS } from './activation.js';
import { convBackward, convForward } from './conv.js';
import { fcBackward, fcForward } from './fc.js';
import { lossAndDelta, lossOnly, OUTPUT_LAYERS } from './loss.js';
import { firstMax, POOL_LAYERS } from './pool.js';
import { flattenBackward, flattenForward } from './vectorize.js';

export class ReferenceNetwork {
  readonly architecture: Architecture;
  readonly params: ParamViews<Float64Array>;
  readonly grads: ParamViews<Float64Array>;
  // activations
  readonly x = new Float64Array(IN * IN); //               I   [1][28][28]
  readonly c1 = new Float64Array(C1_MAPS * C1_SIDE * C1_SIDE); // C1  [6][24][24]
  readonly s1 = new Float64Array(C1_MAPS * S1_SIDE * S1_SIDE); // S1  [6][12][12]
  readonly c2 = new Float64Array(C2_MAPS * C2_SIDE * C2_SIDE); // C2  [12][8][8]
  readonly s2 = new Float64Array(C2_MAPS * S2_SIDE * S2_SIDE); // S2  [12][4][4]
  readonly f = new Float64Array(FEATURES); //                 f   [192]
  readonly z = new Float64Array(CLASSES); //                  z = W f + b, the logits [10]
  readonly yhat = new Float64Array(CLASSES); //               ŷ   [10]
  // errors (∂L/∂·)
  private readonly dz = new Float64Array(CLASSES);
  private readonly df = new Float64Array(FEATURES);
  private readonly ds2 = new Float64Array(this.s2.length);
  private readonly dc2 = new Float64Array(this.c2.length);
  private readonly ds1 = new Float64Array(this.s1.length);
  private readonly dc1 = new Float64Array(this.c1.length);
  // the chosen layers
  private readonly act;
  private readonly pool;
  private readonly out;

  constructor(params: Float64Array = new Float64Array(PARAM_COUNT), architecture: Architecture = PAPER) {
    this.architecture = architecture;
    this.params = views(params);
    this.grads = views(new Float64Array(PARAM_COUNT));
    this.act = ACTIVATION_LAYERS[architecture.activation];
    this.pool = POOL_LAYERS[architecture.pool];
    this.out = OUTPUT_LAYERS[architecture.output];
  }

  /** Load an image of 784 bytes (row-major 28x28) scaled to [0,1]. */
  setInput(pixels: Uint8Array, offset = 0): void {
    for (let i = 0; i < IN * IN; i++) this.x[i] = pixels[offset + i] / 255;
  }

  /** Forward pass (eqs 4-12) on this.x; returns ŷ. */
  forward(): Float64Array {
    const P = this.params, conv = this.architecture.conv;
    convForward(this.c1, this.x, P.k1, P.b1, 1, C1_MAPS, IN, IN, conv); //               eq 5
    this.act.forward(this.c1, this.c1.length); //                                        eq 4
    this.pool.forward(this.s1, this.c1, C1_MAPS, S1_SIDE); //                            eq 6
    convForward(this.c2, this.s1, P.k2, P.b2, C1_MAPS, C2_MAPS, S1_SIDE, S1_SIDE, conv); // eq 8
    this.act.forward(this.c2, this.c2.length); //                                        eq 7
    this.pool.forward(this.s2, this.c2, C2_MAPS, S2_SIDE); //                            eq 9
    flattenForward(this.f, this.s2, C2_MAPS, S2_SIDE); //                                eq 10
    fcForward(this.z, P.W, this.f, P.b, CLASSES, FEATURES); //                           eq 12
    this.out.forward(this.yhat, this.z, CLASSES);
    return this.yhat;
  }

  /**
   * Loss (eq 13) and backward pass (eqs 14-64) after forward(); ADDS this image's gradient to
   * this.grads. Returns L.
   */
  backward(label: number): number {
    const P = this.params, G = this.grads, a = this.architecture;
    const L = lossAndDelta(a.output, a.loss, this.dz, this.yhat, this.z, label, CLASSES); // eqs 15, 17: Δŷ
    fcBackward(G.W, G.b, this.df, this.dz, P.W, this.f, CLASSES, FEATURES); //             eqs 19, 24, 30
    flattenBackward(this.ds2, this.df, C2_MAPS, S2_SIDE); //                                eq 31
    this.pool.backward(this.dc2, this.ds2, this.c2, C2_MAPS, S2_SIDE); //                   eq 32
    this.act.backward(this.dc2, this.c2, this.dc2.length); //                               eq 37
    convBackward(G.k2, G.b2, this.ds1, this.dc2, this.s1, P.k2, C1_MAPS, C2_MAPS, S1_SIDE, S1_SIDE, a.conv); // eqs 40, 45, 51
    this.pool.backward(this.dc1, this.ds1, this.c1, C1_MAPS, S1_SIDE); //                   eq 52
    this.act.backward(this.dc1, this.c1, this.dc1.length); //                               eq 57
    convBackward(G.k1, G.b1, null /* no ΔI needed */, this.dc1, this.x, P.k1, 1, C1_MAPS, IN, IN, a.conv); // eqs 59, 64
    return L;
  }

  /** Loss of the current parameters on this.x (forward only), for finite differences. */
  loss(label: number): number {
    this.forward();
    return lossOnly(this.architecture.loss, this.yhat, this.z, label, CLASSES);
  }

  /**
   * The discrete decisions of the last forward pass, as a number: which ReLU units are active and
   * which entry of each max-pooling window wins. Where it changes between two nearby parameter
   * values, the loss has a kink between them (finite differences are not valid there).
   */
  pattern(): number {
    let h = 0x811c9dc5;
    const mix = (v: number) => {
      h = Math.imul(h ^ v, 0x01000193) >>> 0;
    };
    if (this.architecture.activation === 'relu') {
      for (const m of [this.c1, this.c2]) for (let i = 0; i < m.length; i++) mix(m[i] > 0 ? 1 : 0);
    }
    if (this.architecture.pool === 'max') {
      for (const [m, M, S] of [[this.c1, C1_MAPS, S1_SIDE], [this.c2, C2_MAPS, S2_SIDE]] as const) {
        for (let q = 0; q < M; q++) for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) mix(firstMax(m, q, i, j, S));
      }
    }
    return h;
  }
}
