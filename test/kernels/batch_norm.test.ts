import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { batchNorm } from '../../src/kernels/batch_norm.js';

useGpu();

describe('batchNorm (training mode) against PyTorch', () => {
  for (const name of fixtureCases('norm').filter((n) => n.startsWith('batch_norm'))) {
    it(name, async () => {
      const fx = loadFixture('norm', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const weight = fx.params.affine ? caseInput(fx, 'weight') : undefined;
        const bias = fx.params.affine ? caseInput(fx, 'bias') : undefined;
        const y = batchNorm(x, { eps: fx.params.eps, weight, bias });
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad, dweight: weight?.grad ?? null, dbias: bias?.grad ?? null };
      });
      await expectMatches(fx, ours);
    });
  }
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
