import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/yield-between-tests.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // the accuracy runs use both cores; keep files from competing for them
    fileParallelism: false,
  },
});
