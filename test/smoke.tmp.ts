import { loadMnist, limit } from '../src/data/mnist.js';
import { ReferenceEngine } from '../src/engine/reference-engine.js';
import { train } from '../src/train/train.js';
const m = loadMnist();
const t0 = performance.now();
const r = await train({ epochs: 1, batchSize: 1, lr: 1, seed: 1, train: limit(m.train, 5000, 'x'), test: limit(m.test, 2000, 'y'), engine: new ReferenceEngine(),
  onEpoch: (e) => console.log(JSON.stringify({...e.record, curve: e.record.curve?.length})) });
console.log(r.status, (performance.now()-t0)/1000);
