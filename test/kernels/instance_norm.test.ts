import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { instanceNorm } from '../../src/kernels/instance_norm.js';

useGpu();

describe('instanceNorm against PyTorch', () => {
  for (const name of fixtureCases('norm').filter((n) => n.startsWith('instance_norm'))) {
    it(name, async () => {
      const fx = loadFixture('norm', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const weight = fx.params.affine ? caseInput(fx, 'weight') : undefined;
        const bias = fx.params.affine ? caseInput(fx, 'bias') : undefined;
        const y = instanceNorm(x, { eps: fx.params.eps, weight, bias });
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad, dweight: weight?.grad ?? null, dbias: bias?.grad ?? null };
      });
      await expectMatches(fx, ours);
    });
  }
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
