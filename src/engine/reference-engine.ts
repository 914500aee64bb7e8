/** The float64 reference engine: src/nn's literal layers, one image at a time. */
import type { Dataset } from '../data/mnist.js';
import { PIXELS } from '../data/mnist.js';
import { PAPER, type Architecture } from '../model/architecture.js';
import { CLASSES, PARAM_COUNT } from '../model/layout.js';
import { argmax } from '../nn/argmax.js';
import { ReferenceNetwork } from '../nn/network.js';
import { sgdMomentumUpdate, sgdUpdate } from '../nn/sgd.js';
import { PLAIN_SGD, type Engine, type Images, type Optimizer, type StepStats } from './engine.js';

export class ReferenceEngine implements Engine {
  readonly name = 'reference' as const;
  readonly threads = 1;
  readonly detail = 'reference float64, 1 thread';
  readonly callSize = { train: 32, predict: 128, batch: 32 }; // ~700 and ~2 400 images/s
  readonly net: ReferenceNetwork;
  optimizer: Optimizer = { ...PLAIN_SGD };
  private velocity = new Float64Array(PARAM_COUNT);

  constructor(readonly architecture: Architecture = PAPER) {
    this.net = new ReferenceNetwork(undefined, architecture);
  }

  getParams(): Float64Array {
    return Float64Array.from(this.net.params.all);
  }

  setParams(params: Float64Array): void {
    if (params.length !== PARAM_COUNT) throw new Error(`expected ${PARAM_COUNT} parameters, got ${params.length}`);
    this.net.params.all.set(params);
  }

  setOptimizer(o: Optimizer): void {
    this.optimizer = { ...o };
  }

  getVelocity(): Float64Array {
    return Float64Array.from(this.velocity);
  }

  setVelocity(v: Float64Array): void {
    if (v.length !== PARAM_COUNT) throw new Error(`expected ${PARAM_COUNT} velocities, got ${v.length}`);
    this.velocity.set(v);
  }

  train(data: Dataset, order: Uint32Array, start: number, count: number, batchSize: number, lr: number): StepStats {
    let lossSum = 0;
    let errors = 0;
    for (let b0 = start; b0 < start + count; b0 += batchSize) {
      const n = Math.min(batchSize, start + count - b0);
      const s = this.accumulate(data, order, b0, n, 0, n);
      lossSum += s.loss;
      errors += s.errors;
      this.applyBatch(n, lr);
    }
    return { loss: lossSum, errors };
  }

  accumulate(data: Dataset, order: Uint32Array, start: number, count: number, offset: number, _b: number): StepStats {
    const net = this.net;
    if (offset === 0) net.grads.all.fill(0);
    let loss = 0;
    let errors = 0;
    for (let t = start; t < start + count; t++) {
      const idx = order[t];
      net.setInput(data.images, idx * PIXELS);
      const label = data.labels[idx];
      if (argmax(net.forward()) !== label) errors++;
      loss += net.backward(label);
    }
    return { loss, errors };
  }

  applyBatch(b: number, lr: number): void {
    const net = this.net;
    const { momentum, weightDecay } = this.optimizer;
    if (momentum === 0 && weightDecay === 0) sgdUpdate(net.params.all, net.grads.all, lr / b); // eqs 65-70
    else sgdMomentumUpdate(net.params.all, net.grads.all, this.velocity, lr, b, momentum, weightDecay);
  }

  predict(data: Images, start: number, count: number, predictions: Uint8Array, outputs?: Float64Array): number {
    let lossSum = data.labels ? 0 : NaN;
    for (let t = 0; t < count; t++) {
      const idx = start + t;
      this.net.setInput(data.images, idx * PIXELS);
      if (data.labels) lossSum += this.net.loss(data.labels[idx]);
      else this.net.forward();
      predictions[t] = argmax(this.net.yhat);
      if (outputs) outputs.set(this.net.yhat, t * CLASSES);
    }
    return lossSum;
  }

  async close(): Promise<void> {}
}
