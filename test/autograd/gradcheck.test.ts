// gradcheck must fail whenever the tape's gradient or the finite difference is not a finite number.
import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { inputData } from '../helpers/oracle.js';
import { Tensor } from '../../src/graph/tensor.js';
import { fill } from '../../src/graph/fill.js';
import { record } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { scale } from '../../src/kernels/unary.js';

useGpu();

const input = { data: inputData({ shape: [2, 3], seed: 1, scale: 1 }), shape: [2, 3] };

/** y = 2x, recorded with its true backward (2·dy) or with one that returns `bad` everywhere. */
function double(bad?: number) {
  return (x: Tensor) => record('double', [x], scale(x.detach(), 2), [], (g) => [bad === undefined ? scale(g, 2) : fill(x.shape, bad)]);
}

describe('gradcheck', () => {
  it('passes a correct gradient', async () => {
    const r = await gradcheck(double(), [input]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });

  it('fails on a NaN or infinite gradient', async () => {
    for (const bad of [NaN, Infinity]) {
      const r = await gradcheck(double(bad), [input]);
      expect(r.worst).toBe(Infinity);
      expect(r.detail).toMatch(/input 0 element 0: analytic (NaN|Infinity)/);
    }
  });

  it('fails when the function itself is not finite (numeric NaN)', async () => {
    const r = await gradcheck((x) => scale(x, NaN), [input]);
    expect(r.worst).toBe(Infinity);
  });
});
