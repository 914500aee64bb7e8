/** What every refusal of the command line looks like to a test. */
import type { SpawnSyncReturns } from 'node:child_process';
import { expect } from 'vitest';

/** Exit status 1 and exactly one line on stderr, matching `re`. */
export function expectOneLineError(r: SpawnSyncReturns<string>, re: RegExp): void {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(re);
}
