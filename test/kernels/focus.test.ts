import { describe, it, expect } from 'vitest';
import { ORACLE_TOL, useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, relError } from '../helpers/oracle.js';
import { caseInput } from './oracle_case.js';
import { Tensor } from '../../src/graph/tensor.js';
import { focusTileSums, FOCUS_SUMS } from '../../src/kernels/focus.js';

useGpu();

describe('focusTileSums against scipy.ndimage', () => {
  for (const name of fixtureCases('focus')) {
    it(name, async () => {
      const fx = loadFixture('focus', name);
      const x = caseInput(fx, 'x', false);
      const out = focusTileSums(x, fx.params.tile);
      const sums = await out.data();
      x.dispose();
      out.dispose();
      const k = FOCUS_SUMS.length;
      FOCUS_SUMS.forEach((m, c) => {
        const column = sums.filter((_, i) => i % k === c);
        // A single tile's Laplacian sums to exactly 0 (edges repeated): there the error is absolute (pixels are O(1)).
        const ref = fx.outputs[m];
        expect(relError(column, { ...ref, maxAbs: Math.max(ref.maxAbs, 1) }), `${name}.${m}`).toBeLessThanOrEqual(ORACLE_TOL);
      });
    });
  }
});

describe('focusTileSums: bad calls', () => {
  it('rejects a plane that is not 2-D and a tile that is not a positive integer', () => {
    const x = Tensor.zeros([1, 4, 4]);
    expect(() => focusTileSums(x, 2)).toThrow(/focusTileSums: plane must have rank 2, got \[1, 4, 4\]/);
    const y = Tensor.zeros([4, 4]);
    expect(() => focusTileSums(y, 0)).toThrow(/focusTileSums: tile must be a positive integer, got 0/);
    x.dispose();
    y.dispose();
  });
});
