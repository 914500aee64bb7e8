/** cnn-train's programmatic API: the library under the two commands. */
export { CnnError } from './errors.js';
export { loadMnist, loadMnistSplit, loadSplit, limit, bundledMnistDir, type Dataset, type Mnist } from './data/mnist.js';
export { parseIdxImages, parseIdxLabels, readMaybeGzip } from './data/idx.js';
export { createEngine, ENGINES } from './engine/create-engine.js';
export type { Engine, EngineName, StepStats } from './engine/engine.js';
export { ReferenceNetwork } from './nn/network.js';
export { initParams, INIT_BOUNDS } from './model/init.js';
export { Rng } from './model/rng.js';
export { PARAM_COUNT, OFFSETS, SHAPES, GROUPS, LAYER_TABLE, views } from './model/layout.js';
export { train, type TrainOptions, type TrainResult, type Progress, type EpochEvent } from './train/train.js';
export { evaluate, type Evaluation } from './train/evaluate.js';
export { loadModel, saveModel, parseModel, serializeModel, FORMAT, VERSION, type ModelFile } from './io/model-file.js';
