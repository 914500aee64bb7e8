/**
 * The ONNX export, proved in a real ONNX runtime (onnxruntime-web): for every architecture, a
 * model trained here on MNIST is exported and run on all 10 000 MNIST test images; every
 * prediction must equal the wasm engine's (what cnn-eval computes) and every output must lie
 * within 1e-5 of it. Trained parameters, because at random weights wrong layouts are hard to tell
 * apart; and negative controls: a file written without the kernel rotation, or with a row scan
 * instead of the column scan of eq 10, must fail the same comparison.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limit, loadMnist, type Dataset } from '../src/data/mnist.js';
import { createEngine } from '../src/engine/create-engine.js';
import type { ModelFile } from '../src/io/model-file.js';
import { allArchitectures, architectureFlags, PAPER, type Architecture } from '../src/model/architecture.js';
import { OFFSETS } from '../src/model/layout.js';
import { exportOnnx, IR_VERSION, OPSET, type NegativeControl } from '../src/onnx/export-onnx.js';
import { ProtoWriter } from '../src/onnx/protobuf.js';
import { train } from '../src/train/train.js';
import { compareOutputs, ort, runOnnx } from './helpers/onnx-runtime.js';
import { fieldsOf, intsOf, stringOf } from './helpers/protobuf-read.js';

const TRAIN_IMAGES = 6000;
const TOLERANCE = 1e-5;

/**
 * A learning rate that trains each architecture in one epoch on 6000 images (measured over 0.03,
 * 0.1, 0.3 and 1: ReLU and tanh diverge or die above 0.1 with some choices; cross-entropy after
 * sigmoid units wants 0.3).
 */
function learningRate(a: Architecture): number {
  if (a.activation !== 'sigmoid') return 0.03;
  return a.loss === 'cross-entropy' ? 0.3 : 1;
}

interface Trained {
  architecture: Architecture;
  model: ModelFile;
  predictions: Uint8Array;
  outputs: Float64Array;
}

const label = (a: Architecture) => architectureFlags(a) || "the paper's network";
let test: Dataset;
const trained = new Map<string, Trained>();
const figures: string[] = [];

beforeAll(async () => {
  const mnist = loadMnist();
  test = mnist.test;
  const trainSet = limit(mnist.train, TRAIN_IMAGES, 'train');
  for (const architecture of allArchitectures()) {
    const engine = await createEngine('wasm', 1, architecture);
    try {
      const r = await train({ epochs: 1, batchSize: 1, lr: learningRate(architecture), seed: 1, train: trainSet, engine });
      expect(r.status).toBe('completed');
      engine.setParams(r.model.parameters);
      const predictions = new Uint8Array(test.count), outputs = new Float64Array(test.count * 10);
      engine.predict(test, 0, test.count, predictions, outputs); // what cnn-eval computes
      trained.set(label(architecture), { architecture, model: r.model, predictions, outputs });
    } finally {
      await engine.close();
    }
  }
}, 600_000);

afterAll(() => {
  if (figures.length) console.log(`ONNX runtime vs the wasm engine on ${test.count} MNIST test images:\n${figures.join('\n')}`);
});

async function compare(t: Trained, negativeControl?: NegativeControl) {
  const onnx = await runOnnx(exportOnnx(t.model, { negativeControl }), test.images, test.count);
  const c = compareOutputs(onnx, t.predictions, t.outputs, test.labels);
  figures.push(`  ${(label(t.architecture) + (negativeControl ? ` [negative control: ${negativeControl}]` : '')).padEnd(110)} agree ${c.agree}/${c.count}  max |Δŷ| ${c.maxDiff.toExponential(2)}  error ${(100 * c.error).toFixed(2)} %`);
  return c;
}

describe('the exported file in onnxruntime-web gives cnn-eval\'s predictions on all 10 000 test images', () => {
  for (const a of allArchitectures()) {
    it(label(a), async () => {
      const t = trained.get(label(a))!;
      const c = await compare(t);
      expect(c.error, 'the model learned something').toBeLessThan(0.2);
      expect(c.agree).toBe(test.count);
      expect(c.maxDiff).toBeLessThan(TOLERANCE);
    });
  }
});

describe('negative controls: deliberately wrong layouts fail the same comparison', () => {
  it('a true convolution exported without rotating the kernels', async () => {
    const c = await compare(trained.get(label(PAPER))!, 'unrotated-kernels');
    expect(c.agree / c.count).toBeLessThan(0.5);
    expect(c.maxDiff).toBeGreaterThan(0.5);
  });
  it('the features scanned by rows instead of by columns (eq 10)', async () => {
    const c = await compare(trained.get(label(PAPER))!, 'row-scan');
    expect(c.agree / c.count).toBeLessThan(0.5);
    expect(c.maxDiff).toBeGreaterThan(0.5);
  });
  it('the row scan fails for the other architectures too (all five choices)', async () => {
    const all = allArchitectures().find((a) => a.conv === 'correlation' && a.pool === 'max' && a.activation === 'relu' && a.loss === 'cross-entropy')!;
    const c = await compare(trained.get(label(all))!, 'row-scan');
    expect(c.agree / c.count).toBeLessThan(0.5);
  });
});

describe('the file', () => {
  it('declares image [N,1,28,28] and yhat [N,10] with a symbolic batch, and runs with any N', async () => {
    const t = trained.get(label(PAPER))!;
    const session = await ort.InferenceSession.create(exportOnnx(t.model));
    expect(session.inputMetadata).toEqual([{ name: 'image', isTensor: true, type: 'float32', shape: ['N', 1, 28, 28] }]);
    expect(session.outputMetadata).toEqual([{ name: 'yhat', isTensor: true, type: 'float32', shape: ['N', 10] }]);
    await session.release();
    const one = await runOnnx(exportOnnx(t.model), test.images.subarray(784 * 7), 1);
    expect(one).toHaveLength(10);
    for (let j = 0; j < 10; j++) expect(Math.abs(one[j] - t.outputs[70 + j])).toBeLessThan(TOLERANCE);
  });

  it('names its nodes and initializers after the layers and parameters, and says which paper and architecture', () => {
    const all = allArchitectures().find((a) => a.conv === 'correlation' && a.pool === 'max' && a.activation === 'relu' && a.loss === 'cross-entropy')!;
    for (const [a, ops] of [
      [PAPER, ['Conv', 'Sigmoid', 'AveragePool', 'Conv', 'Sigmoid', 'AveragePool', 'Transpose', 'Flatten', 'Gemm', 'Sigmoid']],
      [all, ['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Transpose', 'Flatten', 'Gemm', 'Softmax']],
    ] as const) {
      const bytes = exportOnnx(trained.get(label(a))!.model);
      // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8
      expect(intsOf(bytes, 1)).toEqual([IR_VERSION]);
      expect(stringOf(bytes, 2)).toEqual(['cnn-train']);
      const opset = fieldsOf(bytes, 8)[0].bytes!;
      expect(stringOf(opset, 1)).toEqual(['']);
      expect(intsOf(opset, 2)).toEqual([OPSET]);
      const graph = fieldsOf(bytes, 7)[0].bytes!;
      // GraphProto: node 1, initializer 5, doc_string 10; NodeProto: name 3, op_type 4; TensorProto: dims 1, name 8
      const nodes = fieldsOf(graph, 1).map((f) => f.bytes!);
      expect(nodes.map((n) => stringOf(n, 4)[0])).toEqual(ops);
      expect(nodes.map((n) => stringOf(n, 3)[0])).toEqual([
        'C1', `C1_${a.activation}`, 'S1', 'C2', `C2_${a.activation}`, 'S2', 'F_transpose', 'F', 'FC', `output_${a.output}`,
      ]);
      const inits = fieldsOf(graph, 5).map((f) => f.bytes!);
      expect(inits.map((t) => [stringOf(t, 8)[0], intsOf(t, 1)])).toEqual([
        ['k1', [6, 1, 5, 5]], ['b1', [6]], ['k2', [12, 6, 5, 5]], ['b2', [12]], ['W', [10, 192]], ['b', [10]],
      ]);
      const doc = stringOf(graph, 10)[0];
      expect(doc).toMatch(/Zhifei Zhang, "Derivation of Backpropagation in Convolutional Neural Network" \(2016\)/);
      expect(doc).toMatch(a === PAPER ? /the paper's network/ : /correlation, max pooling, relu, softmax output \+ cross-entropy/);
    }
  });

  it('stores the kernels of a true convolution rotated and transposed to [out][in], those of a correlation as they are', () => {
    const paper = trained.get(label(PAPER))!.model;
    const corr = trained.get(label({ ...PAPER, conv: 'correlation' }))!.model;
    const k2 = (m: ModelFile) => {
      const graph = fieldsOf(exportOnnx(m), 7)[0].bytes!;
      const t = fieldsOf(graph, 5).map((f) => f.bytes!).find((x) => stringOf(x, 8)[0] === 'k2')!;
      const raw = fieldsOf(t, 9)[0].bytes!; // raw_data, little-endian float32
      return new Float32Array(raw.slice().buffer);
    };
    const at = (p: number, q: number, r: number, c: number) => OFFSETS.k2.offset + ((p * 12 + q) * 5 + r) * 5 + c; // k2 in the parameter buffer
    // ONNX k2[q][p][r][c]: q = 7, p = 2, r = 1, c = 3
    expect(k2(paper)[((7 * 6 + 2) * 5 + 1) * 5 + 3]).toBe(Math.fround(paper.parameters[at(2, 7, 3, 1)]));
    expect(k2(corr)[((7 * 6 + 2) * 5 + 1) * 5 + 3]).toBe(Math.fround(corr.parameters[at(2, 7, 1, 3)]));
  });
});

describe('the protobuf writer', () => {
  it('writes varints low bits first, negative int64 as ten bytes, floats little-endian', () => {
    expect(Array.from(new ProtoWriter().int(1, 300).finish())).toEqual([0x08, 0xac, 0x02]);
    expect(Array.from(new ProtoWriter().int(2, -1).finish())).toEqual([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(Array.from(new ProtoWriter().int(3, 2 ** 35).finish())).toEqual([0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(Array.from(new ProtoWriter().float(2, 1).finish())).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    expect(Array.from(new ProtoWriter().string(1, 'é').message(2, new ProtoWriter().int(1, 1)).finish())).toEqual([0x0a, 0x02, 0xc3, 0xa9, 0x12, 0x02, 0x08, 0x01]);
  });
});
