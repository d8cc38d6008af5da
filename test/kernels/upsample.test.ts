import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { upsampleNearest2x } from '../../src/kernels/upsample.js';

useGpu();

describe('upsampleNearest2x against PyTorch', () => {
  for (const name of fixtureCases('layout').filter((n) => n.startsWith('upsample_'))) {
    it(name, async () => {
      const fx = loadFixture('layout', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const y = upsampleNearest2x(x);
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad };
      });
      await expectMatches(fx, ours);
    });
  }
});

describe('upsampleNearest2x: finite differences', () => {
  it('small odd plane', async () => {
    const shape = [1, 2, 3, 2];
    const r = await gradcheck(upsampleNearest2x, [{ data: inputData({ shape, seed: 8, scale: 1 }), shape }]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
});

describe('upsampleNearest2x: bad calls', () => {
  it('rejects a wrong rank', () => {
    scope(() => {
      expect(() => upsampleNearest2x(Tensor.zeros([3, 4, 4]))).toThrow(/upsampleNearest2x: input must have rank 4 \(N, C, H, W\), got \[3, 4, 4\]/);
    });
  });
});
