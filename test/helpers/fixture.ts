import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnistSplit } from '../../src/data/mnist.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURE_DIR = join(ROOT, 'data', 'mnist-mini');
export const fixtureTrain = () => loadMnistSplit('train', FIXTURE_DIR);
export const fixtureTest = () => loadMnistSplit('test', FIXTURE_DIR);
