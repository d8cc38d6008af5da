import { defineConfig } from 'vitest/config';

// One GPU device per worker process; lavapipe shares 2 cores, so tests run in a single fork, files in sequence.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/generate.ts'],
    setupFiles: ['test/helpers/node-platform.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Kernel variants stay at their defaults (src/kernels/autotune.ts): no timing trials inside tests.
    env: { COMI_AUTOTUNE: '0' },
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
