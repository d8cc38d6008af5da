import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { avgPool2x2 } from '../../src/kernels/avg_pool.js';

useGpu();

describe('avgPool2x2 against PyTorch', () => {
  for (const name of fixtureCases('avg_pool')) {
    it(name, async () => {
      const fx = loadFixture('avg_pool', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const y = avgPool2x2(x);
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad };
      });
      await expectMatches(fx, ours);
    });
  }
});

describe('avgPool2x2: finite differences', () => {
  it('odd sizes (a dropped row and column)', async () => {
    const shape = [2, 2, 5, 3];
    const r = await gradcheck(avgPool2x2, [{ data: inputData({ shape, seed: 3, scale: 1 }), shape }]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
});

describe('avgPool2x2: bad calls', () => {
  it('rejects a wrong rank and planes smaller than the window', () => {
    scope(() => {
      expect(() => avgPool2x2(Tensor.zeros([4, 4]))).toThrow(/avgPool2x2: input must have rank 4 \(N, C, H, W\), got \[4, 4\]/);
      expect(() => avgPool2x2(Tensor.zeros([1, 1, 4, 1]))).toThrow(/avgPool2x2: input height and width must be at least 2/);
    });
  });
});
