/** cnn-train's programmatic API: the library under the two commands. */
export { CnnError } from './errors.js';
export { loadMnist, loadMnistSplit, loadSplit, limit, bundledMnistDir, type Dataset, type Mnist } from './data/mnist.js';
export { parseIdxImages, parseIdxLabels, readMaybeGzip } from './data/idx.js';
export { createEngine, ENGINES } from './engine/create-engine.js';
export type { Engine, EngineName, Images, StepStats } from './engine/engine.js';
export { ReferenceNetwork } from './nn/network.js';
export { initParams, INIT_BOUNDS } from './model/init.js';
export { Rng } from './model/rng.js';
export { PARAM_COUNT, OFFSETS, SHAPES, GROUPS, views, rotateKernels } from './model/layout.js';
export { layerTable } from './model/layer-table.js';
export {
  PAPER, CHOICES, ARCHITECTURE_KEYS, allArchitectures, checkArchitecture, describeArchitecture, isPaper, parseArchitecture,
  type Architecture, type Conv, type Pool, type Activation, type Output, type Loss,
} from './model/architecture.js';
export { train, type TrainOptions, type TrainResult, type Progress, type EpochEvent } from './train/train.js';
export { evaluate, type Evaluation } from './train/evaluate.js';
export { loadModel, saveModel, parseModel, serializeModel, newModel, modelVersion, FORMAT, type ModelFile } from './io/model-file.js';
export { gradcheck, type GradcheckResult } from './train/gradcheck.js';
export { exportOnnx } from './onnx/export-onnx.js';
