import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { Tensor } from '../../src/graph/tensor.js';
import { countNonFinite } from '../../src/kernels/nonfinite.js';

useGpu();

describe('countNonFinite', () => {
  it('counts NaN and ±Inf per tensor, across workgroups and the 2-D grid, in one readback', async () => {
    const big = new Float32Array(70_000 * 256 + 3).fill(1); // more than 65535 workgroups: a 2-D grid
    for (const i of [0, 255, 256, 123_457, big.length - 1]) big[i] = NaN;
    const huge = new Float32Array(10).fill(3.4e38); // finite, however large
    const mixed = Float32Array.from([0, -0, Infinity, -Infinity, NaN, 1e-45, -3.4e38]);
    const ts = [big, huge, mixed, new Float32Array(5)].map((a) => Tensor.fromArray(a, [a.length]));
    expect(await countNonFinite(ts)).toEqual([5, 0, 3, 0]);
    ts.forEach((t) => t.dispose());
    expect(await countNonFinite([])).toEqual([]);
  });

  it('refuses a disposed tensor', async () => {
    const t = Tensor.fromArray([1], [1]);
    t.dispose();
    await expect(countNonFinite([t])).rejects.toThrow(/disposed/);
  });
});
