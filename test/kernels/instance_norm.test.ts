import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { inputData } from '../helpers/oracle.js';
import { normOracleTests } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { instanceNorm } from '../../src/kernels/instance_norm.js';

useGpu();

describe('instanceNorm against PyTorch', () => {
  normOracleTests('instance_norm', instanceNorm);
});

describe('instanceNorm: finite differences', () => {
  const shape = [2, 3, 3, 4];
  const input = (seed: number, s: number[], scale = 1) => ({ data: inputData({ shape: s, seed, scale }), shape: s });
  it('affine, gradients of x, weight and bias', async () => {
    const r = await gradcheck((x, w, b) => instanceNorm(x, { weight: w, bias: b, eps: 1e-3 }), [input(1, shape), input(2, [3], 1.5), input(3, [3])]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
  it('without affine', async () => {
    const r = await gradcheck((x) => instanceNorm(x), [input(4, [1, 2, 5, 3])]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
});

describe('instanceNorm: bad calls', () => {
  it('rejects a wrong rank, weights of the wrong length and a bad eps', () => {
    scope(() => {
      const x = Tensor.zeros([1, 3, 4, 4]);
      expect(() => instanceNorm(Tensor.zeros([3, 4, 4]))).toThrow(/instance_norm: input must have rank 4 \(N, C, H, W\), got \[3, 4, 4\]/);
      expect(() => instanceNorm(x, { weight: Tensor.zeros([4]) })).toThrow(/instance_norm: weight must have shape \[3\], got \[4\]/);
      expect(() => instanceNorm(x, { bias: Tensor.zeros([1, 3]) })).toThrow(/instance_norm: bias must have shape \[3\], got \[1, 3\]/);
      expect(() => instanceNorm(x, { eps: 0 })).toThrow(/eps must be a positive number, got 0/);
    });
  });
});
