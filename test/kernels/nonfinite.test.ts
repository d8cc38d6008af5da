import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { Tensor } from '../../src/graph/tensor.js';
import { countNonFinite } from '../../src/kernels/nonfinite.js';
import { hash32 } from '../../src/graph/random.js';

useGpu();

describe('countNonFinite', () => {
  it('counts NaN and ±Inf per tensor, across invocations and workgroups, in one readback', async () => {
    const big = new Float32Array(64 * 256 * 3 + 5).fill(1); // 3 workgroups of 64-value scans, and a short last one
    for (const i of [0, 63, 64, 64 * 256, 40_000, big.length - 1]) big[i] = NaN;
    const huge = new Float32Array(10).fill(3.4e38); // finite, however large
    const mixed = Float32Array.from([0, -0, Infinity, -Infinity, NaN, 1e-45, -3.4e38]);
    const ts = [big, huge, mixed, new Float32Array(5)].map((a) => Tensor.fromArray(a, [a.length]));
    expect(await countNonFinite(ts)).toEqual([6, 0, 3, 0]);
    ts.forEach((t) => t.dispose());
    expect(await countNonFinite([])).toEqual([]);
  });

  it('equals a CPU count over many tensors of odd sizes with values of every kind', async () => {
    const specials = [NaN, Infinity, -Infinity, 3.4e38, -0, 1e-40];
    const arrays = Array.from({ length: 40 }, (_, k) => {
      const a = new Float32Array(1 + ((k * 7919) % 5000));
      for (let i = 0; i < a.length; i++) a[i] = hash32(i, k) % 11 === 0 ? specials[hash32(i, k + 100) % specials.length] : i;
      return a;
    });
    const cpu = arrays.map((a) => a.filter((v) => !Number.isFinite(v)).length);
    const ts = arrays.map((a) => Tensor.fromArray(a, [a.length]));
    expect(await countNonFinite(ts)).toEqual(cpu);
    expect(cpu.reduce((x, y) => x + y)).toBeGreaterThan(1000);
    ts.forEach((t) => t.dispose());
  });

  it('refuses a disposed tensor', async () => {
    const t = Tensor.fromArray([1], [1]);
    t.dispose();
    await expect(countNonFinite([t])).rejects.toThrow(/disposed/);
  });
});
