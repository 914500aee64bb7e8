/** Engines for a test file, all closed when its tests are done (their worker threads would keep it alive). */
import { afterAll } from 'vitest';
import { createEngine } from '../../src/engine/create-engine.js';
import type { Engine, EngineName } from '../../src/engine/engine.js';

/** Call at the top of a test file: returns `engine(name, threads)`, closed after the file's tests. */
export function engineKeeper(): (name: EngineName, threads?: number) => Promise<Engine> {
  const engines: Engine[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });
  return async (name, threads = 1) => {
    const e = await createEngine(name, threads);
    engines.push(e);
    return e;
  };
}
