import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { correlate1d } from '../../src/kernels/correlate1d.js';

useGpu();

describe('correlate1d against PyTorch (conv2d with a K×1 / 1×K kernel)', () => {
  for (const name of fixtureCases('layout').filter((n) => n.startsWith('correlate1d_'))) {
    it(name, async () => {
      const fx = loadFixture('layout', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const y = correlate1d(x, caseInput(fx, 'taps', false), fx.params.dim);
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad };
      });
      await expectMatches(fx, ours);
    });
  }
});

describe('correlate1d: finite differences', () => {
  for (const dim of [2, 3] as const) {
    it(`along dim ${dim}, taps longer than the axis`, async () => {
      const shape = [1, 2, 3, 4];
      const taps = inputData({ shape: [7], seed: 5, scale: 1 });
      const r = await gradcheck((x) => correlate1d(x, Tensor.fromArray(taps, [7]), dim), [{ data: inputData({ shape, seed: 9, scale: 1 }), shape }]);
      expect(r.worst, r.detail).toBeLessThanOrEqual(1);
    });
  }
});

describe('correlate1d: bad calls', () => {
  it('rejects even taps, a wrong dim and taps that need a gradient', () => {
    scope(() => {
      const x = Tensor.zeros([1, 1, 4, 4]);
      expect(() => correlate1d(x, Tensor.zeros([4]), 3)).toThrow(/correlate1d: taps must be a vector of odd length, got \[4\]/);
      expect(() => correlate1d(x, Tensor.zeros([3]), 1 as 2)).toThrow(/correlate1d: dim must be 2 \(height\) or 3 \(width\), got 1/);
      const taps = Tensor.zeros([3]);
      taps.requiresGrad = true;
      expect(() => correlate1d(x, taps, 2)).toThrow(/correlate1d: the gradient of the taps is not supported/);
    });
  });
});
