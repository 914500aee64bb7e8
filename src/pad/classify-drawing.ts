/**
 * What the drawing pad computes from its canvas, with the project's own code and nothing else:
 * the canvas's RGBA pixels -> grey levels (grey-image.ts, as decode.ts reads a PNG) -> an MNIST
 * input (mnistify.ts, exactly as `cnn-eval --image`) -> the forward pass of the float64 layers
 * (ReferenceNetwork) with the model's architecture. No DOM and no Node APIs: bundled into the page,
 * and testable anywhere.
 */
import { CnnError } from '../errors.js';
import { greyFromRgba } from '../image/grey-image.js';
import { mnistify } from '../image/mnistify.js';
import { PARAM_COUNT } from '../model/dims.js';
import { parseArchitecture, type Architecture } from '../model/architecture.js';
import { argmax } from '../nn/argmax.js';
import { ReferenceNetwork } from '../nn/network.js';

/** What the page is given: the model's network and its 3898 parameters (the model file's layout). */
export interface PadModel {
  architecture: Architecture;
  parameters: number[];
  /** Where the parameters came from (shown on the page). */
  source: string;
}

export interface DrawingResult {
  /** The 784 input bytes the network sees (0 background .. 255 ink). */
  pixels: Uint8Array;
  /** ŷ, the ten outputs. */
  outputs: Float64Array;
  prediction: number;
  /** C1 [6][24][24] and C2 [12][8][8] after the activation. */
  c1: Float64Array;
  c2: Float64Array;
}

/** A network for a pad model (checked: the page may be given anything). */
export function padNetwork(m: PadModel): ReferenceNetwork {
  if (!Array.isArray(m.parameters) || m.parameters.length !== PARAM_COUNT || !m.parameters.every(Number.isFinite)) {
    throw new Error(`the pad needs ${PARAM_COUNT} finite parameters`);
  }
  return new ReferenceNetwork(Float64Array.from(m.parameters), parseArchitecture(m.architecture, 'architecture'));
}

/**
 * Classify the drawing in `rgba` (width x height, 8-bit RGBA as a canvas gives it). Null when there
 * is no digit to see (an empty or uniform canvas), as `--image` refuses such a picture.
 */
export function classifyDrawing(net: ReferenceNetwork, rgba: ArrayLike<number>, width: number, height: number): DrawingResult | null {
  let prepared;
  try {
    prepared = mnistify(greyFromRgba(rgba, width, height), 'drawing');
  } catch (e) {
    if (e instanceof CnnError) return null;
    throw e;
  }
  net.setInput(prepared.pixels);
  const y = net.forward();
  return { pixels: prepared.pixels, outputs: Float64Array.from(y), prediction: argmax(y), c1: Float64Array.from(net.c1), c2: Float64Array.from(net.c2) };
}
