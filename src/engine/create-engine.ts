/** Pick and start an engine. */
import { availableParallelism } from 'node:os';
import { CnnError } from '../errors.js';
import { PAPER, type Architecture } from '../model/architecture.js';
import type { Engine, EngineName } from './engine.js';
import { ReferenceEngine } from './reference-engine.js';
import { WasmEngine } from './wasm-engine.js';

export const ENGINES: readonly EngineName[] = ['wasm', 'reference'];

export function defaultThreads(): number {
  return availableParallelism();
}

/** An engine computing `architecture` (the paper's network by default). */
export async function createEngine(name: EngineName = 'wasm', threads = 1, architecture: Architecture = PAPER): Promise<Engine> {
  switch (name) {
    case 'wasm':
      return WasmEngine.create(threads, undefined, architecture);
    case 'reference':
      return new ReferenceEngine(architecture);
    default:
      throw new CnnError(`unknown engine ${JSON.stringify(name)}, expected one of ${ENGINES.join(', ')}`);
  }
}
