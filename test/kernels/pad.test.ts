import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { reflectionPad2d, zeroPad2d, type Pad2d } from '../../src/kernels/pad.js';

useGpu();

const PADS: Record<string, (x: Tensor, pad: Pad2d) => Tensor> = { reflectionPad2d, zeroPad2d };

describe('reflectionPad2d / zeroPad2d against PyTorch', () => {
  for (const name of fixtureCases('layout').filter((n) => n.startsWith('pad_'))) {
    it(name, async () => {
      const fx = loadFixture('layout', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const y = PADS[fx.params.op](x, fx.params.pad);
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad };
      });
      await expectMatches(fx, ours);
    });
  }
});

describe('pads: finite differences', () => {
  const shape = [1, 2, 4, 5];
  for (const [name, f] of Object.entries(PADS)) {
    it(name, async () => {
      const r = await gradcheck((x) => f(x, [2, 1, 3, 0]), [{ data: inputData({ shape, seed: 3, scale: 1 }), shape }]);
      expect(r.worst, r.detail).toBeLessThanOrEqual(1);
    });
  }
});

describe('pads: bad calls', () => {
  it('rejects a wrong rank, pads not smaller than the dimension, and malformed pads', () => {
    scope(() => {
      const x = Tensor.zeros([1, 2, 3, 4]);
      expect(() => reflectionPad2d(Tensor.zeros([2, 3, 4]), 1)).toThrow(/reflectionPad2d: input must have rank 4 \(N, C, H, W\), got \[2, 3, 4\]/);
      expect(() => reflectionPad2d(x, 3)).toThrow(/reflectionPad2d: padding must be less than the input height 3, got pad top 3/);
      expect(() => reflectionPad2d(x, [0, 4, 0, 0])).toThrow(/less than the input width 4, got pad right 4/);
      expect(() => zeroPad2d(x, -1)).toThrow(/zeroPad2d: pad left must be a non-negative integer, got -1/);
      expect(() => zeroPad2d(x, [1, 2] as unknown as Pad2d)).toThrow(/pad must be a number or \[left, right, top, bottom\]/);
    });
  });
  it('zero padding accepts pads larger than the input', async () => {
    const y = zeroPad2d(Tensor.fill([1, 1, 1, 1], 2), 3);
    expect(y.shape).toEqual([1, 1, 7, 7]);
    expect((await y.data()).reduce((a, b) => a + b, 0)).toBe(2);
  });
});
