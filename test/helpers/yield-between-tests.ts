/**
 * Before each test, let the event loop run once: tests that compute synchronously back to back
 * (engines, spawnSync) would otherwise keep vitest's own messages to its worker waiting for over
 * a minute, and vitest reports that as an error ("Timeout calling onTaskUpdate").
 */
import { beforeEach } from 'vitest';

beforeEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
