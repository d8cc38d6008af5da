import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { hash32 } from '../../src/graph/random.js';
import { maxPool2x2 } from '../../src/kernels/max_pool.js';

useGpu();

describe('maxPool2x2 against PyTorch', () => {
  for (const name of fixtureCases('layout').filter((n) => n.startsWith('max_pool_'))) {
    it(name, async () => {
      const fx = loadFixture('layout', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const y = maxPool2x2(x);
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad };
      });
      await expectMatches(fx, ours);
    });
  }
});

describe('maxPool2x2: finite differences', () => {
  it('odd sizes, values 0.1 apart so no step crosses a window maximum', async () => {
    const shape = [1, 2, 5, 3];
    const n = 30;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => hash32(a, 17) - hash32(b, 17));
    const data = Float32Array.from(order, (k) => k * 0.1 - 1.5);
    const r = await gradcheck(maxPool2x2, [{ data, shape }]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
});

describe('maxPool2x2: bad calls', () => {
  it('rejects a wrong rank and planes smaller than the window', () => {
    scope(() => {
      expect(() => maxPool2x2(Tensor.zeros([4, 4]))).toThrow(/maxPool2x2: input must have rank 4 \(N, C, H, W\), got \[4, 4\]/);
      expect(() => maxPool2x2(Tensor.zeros([1, 1, 1, 4]))).toThrow(/maxPool2x2: input height and width must be at least 2/);
    });
  });
});
