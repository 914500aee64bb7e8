/**
 * The trained network as an ONNX inference graph (opset 13), for any architecture of the model
 * file. Input `image`: float32 [N, 1, 28, 28], pixels scaled to [0, 1] (x/255); output `yhat`:
 * float32 [N, 10], the network's outputs (sigmoid or softmax); N is symbolic.
 *
 *   image ─Conv k1,b1─▶ C1_z ─act─▶ C1 ─pool─▶ S1 ─Conv k2,b2─▶ C2_z ─act─▶ C2 ─pool─▶ S2
 *         ─Transpose [0,1,3,2]─▶ S2_T ─Flatten─▶ f ─Gemm W,b (transB)─▶ z ─output─▶ yhat
 *
 * ONNX's Conv is cross-correlation: true convolution (eqs 5, 8) is Conv with every kernel rotated
 * by 180°; --conv correlation uses the kernels as stored. k2 is stored [p (S1 map)][q (C2 map)],
 * ONNX wants [out][in] = [q][p]. The column scan of eq 10, f[q·16 + c·4 + r] = S2_q[r][c], is
 * a transpose of the last two axes followed by a row-major Flatten. The loss is not part of an
 * inference graph.
 */
import type { ModelFile } from '../io/model-file.js';
import { CHOICES, describeArchitecture, type Architecture } from '../model/architecture.js';
import { C1_MAPS, C2_MAPS, CLASSES, FEATURES, IN, K, KK, POOL } from '../model/dims.js';
import { OFFSETS } from '../model/layout.js';
import { PACKAGE_VERSION } from '../version.js';
import { encodeModel, type Model, type Node, type Tensor } from './onnx-messages.js';

export const OPSET = 13;
/** The IR version that goes with opset 13 (ONNX 1.8). */
export const IR_VERSION = 7;
export const PRODUCER = 'cnn-train';
export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'yhat';

/**
 * Deliberately wrong exports for the tests' negative controls (not offered on the command line):
 * the kernels of a true convolution left unrotated, or the features scanned by rows.
 */
export type NegativeControl = 'unrotated-kernels' | 'row-scan';

export interface ExportOptions {
  /** Where the parameters came from, recorded in the model's metadata. */
  source?: string;
  negativeControl?: NegativeControl;
}

const PAPER_TITLE = 'Zhifei Zhang, "Derivation of Backpropagation in Convolutional Neural Network" (2016)';

/** A group of the parameter buffer as float32. */
function group(params: Float64Array, g: keyof typeof OFFSETS): Float32Array {
  const { offset, length } = OFFSETS[g];
  return Float32Array.from(params.subarray(offset, offset + length));
}

/**
 * Kernels [P][Q][K][K] of the model file as ONNX Conv weights [Q][P][K][K], rotated by 180° when
 * `rotate` (k[r][c] goes to [K−1−r][K−1−c]).
 */
export function convWeights(k: Float32Array, P: number, Q: number, rotate: boolean): Float32Array {
  const out = new Float32Array(P * Q * KK);
  for (let p = 0; p < P; p++) {
    for (let q = 0; q < Q; q++) {
      for (let r = 0; r < K; r++) {
        for (let c = 0; c < K; c++) {
          const from = ((p * Q + q) * K + r) * K + c;
          const to = ((q * P + p) * K + (rotate ? K - 1 - r : r)) * K + (rotate ? K - 1 - c : c);
          out[to] = k[from];
        }
      }
    }
  }
  return out;
}

const ACTIVATION_OP: Record<Architecture['activation'], string> = { sigmoid: 'Sigmoid', relu: 'Relu', tanh: 'Tanh' };

/** The graph's doc string: the paper, the architecture, the contract of input and output. */
function docString(a: Architecture): string {
  const lines = (Object.keys(CHOICES) as (keyof Architecture)[])
    .filter((k) => k !== 'loss')
    .map((k) => `--${CHOICES[k].flag} ${a[k]}: ${(CHOICES[k].meaning as Record<string, string>)[a[k]]}`);
  return [
    `The two-convolution CNN of ${PAPER_TITLE}, trained by cnn-train.`,
    `Architecture: ${describeArchitecture(a)}.`,
    ...lines,
    `Trained with --loss ${a.loss} (not part of this inference graph).`,
    `Input "${INPUT_NAME}": float32 [N, 1, ${IN}, ${IN}], pixels scaled to [0, 1] (x/255), white ink on black as in MNIST.`,
    `Output "${OUTPUT_NAME}": float32 [N, ${CLASSES}], the ${a.output} outputs; the predicted digit is the argmax.`,
  ].join('\n');
}

/** The ONNX model of a model file (as messages; encode with encodeModel, or call exportOnnx). */
export function onnxModel(model: ModelFile, options: ExportOptions = {}): Model {
  const a = model.architecture;
  const P = model.parameters;
  const rotate = a.conv === 'convolution' && options.negativeControl !== 'unrotated-kernels';
  const columnScan = options.negativeControl !== 'row-scan';
  const convWord = a.conv === 'convolution' ? 'true convolution' : 'cross-correlation';
  const kernelDoc = rotate ? 'rotated by 180° (ONNX Conv is cross-correlation)' : 'as stored';

  const initializers: Tensor[] = [
    { name: 'k1', dims: [C1_MAPS, 1, K, K], values: convWeights(group(P, 'k1'), 1, C1_MAPS, rotate), docString: `C1 kernels k1[p][r][c] ${kernelDoc}, [out][in][kh][kw]` },
    { name: 'b1', dims: [C1_MAPS], values: group(P, 'b1'), docString: 'C1 biases' },
    { name: 'k2', dims: [C2_MAPS, C1_MAPS, K, K], values: convWeights(group(P, 'k2'), C1_MAPS, C2_MAPS, rotate), docString: `C2 kernels k2[p][q][r][c] as [q][p][kh][kw], ${kernelDoc}` },
    { name: 'b2', dims: [C2_MAPS], values: group(P, 'b2'), docString: 'C2 biases' },
    { name: 'W', dims: [CLASSES, FEATURES], values: group(P, 'W'), docString: 'FC weights W[i][j], multiplying f[j]' },
    { name: 'b', dims: [CLASSES], values: group(P, 'b'), docString: 'FC biases' },
  ];

  const conv = (name: string, x: string, k: string, bias: string, eq: string): Node => ({
    name, opType: 'Conv', inputs: [x, k, bias], outputs: [`${name}_z`],
    attributes: [{ name: 'kernel_shape', ints: [K, K] }, { name: 'strides', ints: [1, 1] }, { name: 'pads', ints: [0, 0, 0, 0] }],
    docString: `${name}: ${convWord}, valid (${eq})`,
  });
  const activation = (name: string, eq: string): Node => ({
    name: `${name}_${a.activation}`, opType: ACTIVATION_OP[a.activation], inputs: [`${name}_z`], outputs: [name],
    docString: `${name}: ${a.activation}${a.activation === 'sigmoid' ? ` (${eq})` : ''}`,
  });
  const pool = (name: string, x: string, eq: string): Node => ({
    name, opType: a.pool === 'mean' ? 'AveragePool' : 'MaxPool', inputs: [x], outputs: [name],
    attributes: [{ name: 'kernel_shape', ints: [POOL, POOL] }, { name: 'strides', ints: [POOL, POOL] }],
    docString: `${name}: ${a.pool} pooling ${POOL}x${POOL}${a.pool === 'mean' ? ` (${eq})` : ''}`,
  });

  const nodes: Node[] = [
    conv('C1', INPUT_NAME, 'k1', 'b1', 'eq 5'),
    activation('C1', 'eq 4'),
    pool('S1', 'C1', 'eq 6'),
    conv('C2', 'S1', 'k2', 'b2', 'eq 8'),
    activation('C2', 'eq 7'),
    pool('S2', 'C2', 'eq 9'),
  ];
  if (columnScan) {
    nodes.push(
      { name: 'F_transpose', opType: 'Transpose', inputs: ['S2'], outputs: ['S2_T'], attributes: [{ name: 'perm', ints: [0, 1, 3, 2] }], docString: 'S2_q[r][c] -> S2_q[c][r], so that the row-major Flatten scans each map by columns (eq 10)' },
      { name: 'F', opType: 'Flatten', inputs: ['S2_T'], outputs: ['f'], attributes: [{ name: 'axis', int: 1 }], docString: 'f[q·16 + c·4 + r] = S2_q[r][c] (eq 10)' },
    );
  } else {
    nodes.push({ name: 'F_row_scan', opType: 'Flatten', inputs: ['S2'], outputs: ['f'], attributes: [{ name: 'axis', int: 1 }], docString: 'NEGATIVE CONTROL: maps scanned by rows, not as eq 10' });
  }
  nodes.push(
    { name: 'FC', opType: 'Gemm', inputs: ['f', 'W', 'b'], outputs: ['z'], attributes: [{ name: 'transB', int: 1 }], docString: 'z = W f + b (eq 12, before the output function)' },
    a.output === 'sigmoid'
      ? { name: 'output_sigmoid', opType: 'Sigmoid', inputs: ['z'], outputs: [OUTPUT_NAME], docString: 'ŷ = σ(z) (eq 12)' }
      : { name: 'output_softmax', opType: 'Softmax', inputs: ['z'], outputs: [OUTPUT_NAME], attributes: [{ name: 'axis', int: 1 }], docString: 'ŷ = softmax(z)' },
  );

  const metadata: Record<string, string> = { architecture: JSON.stringify(a), paper: PAPER_TITLE };
  if (options.source !== undefined) metadata.source = options.source;
  if (options.negativeControl) metadata.negative_control = options.negativeControl;
  return {
    irVersion: IR_VERSION,
    opset: OPSET,
    producerName: PRODUCER,
    producerVersion: PACKAGE_VERSION,
    docString: `Zhang (2016) CNN: ${describeArchitecture(a)}`,
    metadata,
    graph: {
      name: 'zhang_2016_cnn',
      docString: docString(a),
      nodes,
      initializers,
      inputs: [{ name: INPUT_NAME, shape: ['N', 1, IN, IN], docString: 'pixels x/255 in [0, 1], row-major 28x28' }],
      outputs: [{ name: OUTPUT_NAME, shape: ['N', CLASSES], docString: `${a.output} outputs ŷ` }],
    },
  };
}

/** The bytes of the .onnx file of a model. */
export function exportOnnx(model: ModelFile, options: ExportOptions = {}): Uint8Array {
  return encodeModel(onnxModel(model, options));
}
