/**
 * The real ONNX runtime for the tests: onnxruntime-web (Microsoft's ONNX Runtime compiled to
 * WebAssembly; in Node it loads its .wasm from node_modules, nothing to install or download).
 */
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1; // deterministic and light on a shared 2-core machine
ort.env.logLevel = 'error';

export { ort };

/** Run an ONNX model (bytes or path) on `count` MNIST images (bytes, 784 each): the "yhat" outputs, count x 10. */
export async function runOnnx(model: Uint8Array | string, images: Uint8Array, count: number): Promise<Float32Array> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const x = new Float32Array(count * 784);
    for (let i = 0; i < x.length; i++) x[i] = images[i] / 255;
    const r = await session.run({ image: new ort.Tensor('float32', x, [count, 1, 28, 28]) });
    return r.yhat.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** How far ONNX outputs are from the engine's: predictions that agree, largest output difference. */
export function compareOutputs(onnx: Float32Array, predictions: Uint8Array, outputs: Float64Array, labels?: Uint8Array) {
  const count = predictions.length;
  let agree = 0, maxDiff = 0, errors = 0;
  for (let i = 0; i < count; i++) {
    let best = 0;
    for (let j = 1; j < 10; j++) if (onnx[i * 10 + j] > onnx[i * 10 + best]) best = j;
    if (best === predictions[i]) agree++;
    if (labels && best !== labels[i]) errors++;
    for (let j = 0; j < 10; j++) maxDiff = Math.max(maxDiff, Math.abs(onnx[i * 10 + j] - outputs[i * 10 + j]));
  }
  return { count, agree, maxDiff, error: errors / count };
}
