// Opens the GPU once per test file; tolerances used across the oracle tests.
import { beforeAll } from 'vitest';
import { initGpu } from '../../src/graph/runtime.js';

/** max |ours − torch| / max |torch| for every kernel against PyTorch (issue 2). */
export const ORACLE_TOL = 1e-4;

export function useGpu(): void {
  beforeAll(async () => {
    await initGpu();
  });
}
