import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { inputData } from '../helpers/oracle.js';
import { normOracleTests } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { batchNorm } from '../../src/kernels/batch_norm.js';

useGpu();

describe('batchNorm (training mode) against PyTorch', () => {
  normOracleTests('batch_norm', batchNorm);
});

describe('batchNorm: finite differences', () => {
  const input = (seed: number, shape: number[], scale = 1) => ({ data: inputData({ shape, seed, scale }), shape });
  it('affine, gradients of x, weight and bias', async () => {
    const r = await gradcheck((x, w, b) => batchNorm(x, { weight: w, bias: b }), [input(1, [3, 2, 2, 3]), input(2, [2], 1.5), input(3, [2])]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
  it('without affine', async () => {
    const r = await gradcheck((x) => batchNorm(x, { eps: 1e-3 }), [input(4, [2, 3, 3, 2])]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
});

describe('batchNorm: bad calls', () => {
  it('rejects a wrong rank, weights of the wrong length and a single value per channel', () => {
    scope(() => {
      expect(() => batchNorm(Tensor.zeros([2, 3]))).toThrow(/batch_norm: input must have rank 4 \(N, C, H, W\), got \[2, 3\]/);
      expect(() => batchNorm(Tensor.zeros([2, 3, 2, 2]), { weight: Tensor.zeros([2]) })).toThrow(/weight must have shape \[3\], got \[2\]/);
      expect(() => batchNorm(Tensor.zeros([1, 3, 1, 1]))).toThrow(/more than one value per channel/);
    });
  });
});
