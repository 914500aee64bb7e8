/** `cnn-train export <model> --onnx <file>`: the trained network as an ONNX file, for any runtime. */
import { writeFileAtomic } from '../io/atomic-write.js';
import { CnnError } from '../errors.js';
import { loadModel } from '../io/model-file.js';
import { checkOutputTarget, sameFile } from '../io/output-paths.js';
import { describeArchitecture } from '../model/architecture.js';
import { exportOnnx, INPUT_NAME, OPSET, OUTPUT_NAME } from '../onnx/export-onnx.js';
import { out } from './style.js';

export interface ExportCliOptions {
  onnx: string;
  json?: boolean;
}

export function runExport(modelPath: string, o: ExportCliOptions): number {
  // the target is checked before anything is read or computed
  if (sameFile(o.onnx, modelPath)) throw new CnnError(`--onnx ${o.onnx} names the model file ${modelPath}; give the ONNX file its own name`);
  checkOutputTarget('--onnx', o.onnx, 'onnx');
  const model = loadModel(modelPath);
  const bytes = exportOnnx(model, { source: modelPath });
  writeFileAtomic(o.onnx, bytes);
  if (o.json) {
    process.stdout.write(JSON.stringify({ model: modelPath, onnx: o.onnx, bytes: bytes.length, opset: OPSET, architecture: model.architecture, input: INPUT_NAME, output: OUTPUT_NAME }) + '\n');
    return 0;
  }
  console.log(`${out.green('wrote')} ${o.onnx}  (ONNX opset ${OPSET}, ${bytes.length} bytes): ${describeArchitecture(model.architecture)}`);
  console.log(out.dim(`input "${INPUT_NAME}": float32 [N, 1, 28, 28], pixels x/255 in [0, 1]; output "${OUTPUT_NAME}": float32 [N, 10], ${model.architecture.output} outputs`));
  return 0;
}
