/** Pick and start an engine. */
import { availableParallelism } from 'node:os';
import { CnnError } from '../errors.js';
import type { Engine, EngineName } from './engine.js';
import { ReferenceEngine } from './reference-engine.js';
import { WasmEngine } from './wasm-engine.js';

export const ENGINES: readonly EngineName[] = ['wasm', 'reference'];

export function defaultThreads(): number {
  return availableParallelism();
}

export async function createEngine(name: EngineName = 'wasm', threads = 1): Promise<Engine> {
  switch (name) {
    case 'wasm':
      return WasmEngine.create(threads);
    case 'reference':
      return new ReferenceEngine();
    default:
      throw new CnnError(`unknown engine ${JSON.stringify(name)}, expected one of ${ENGINES.join(', ')}`);
  }
}
