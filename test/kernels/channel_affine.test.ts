import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { channelAffine } from '../../src/kernels/channel_affine.js';

useGpu();

describe('channelAffine against PyTorch', () => {
  for (const name of fixtureCases('vgg').filter((n) => n.startsWith('affine_'))) {
    it(name, async () => {
      const fx = loadFixture('vgg', name);
      const { src, scale, shift } = fx.params;
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const y = channelAffine(x, src, scale, shift);
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad };
      });
      await expectMatches(fx, ours);
    });
  }
});

describe('channelAffine: finite differences', () => {
  it('gray to three channels (each input element feeds three outputs)', async () => {
    const shape = [2, 1, 3, 4];
    const r = await gradcheck((x) => channelAffine(x, [0, 0, 0], [1.5, -0.5, 2], [0.1, 0.2, 0.3]), [{ data: inputData({ shape, seed: 71, scale: 1 }), shape }]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
});

describe('channelAffine: bad calls', () => {
  it('names the wrong argument', () => {
    scope(() => {
      const x = Tensor.zeros([1, 3, 2, 2]);
      expect(() => channelAffine(Tensor.zeros([3, 2, 2]), [0], [1], [0])).toThrow(/channelAffine: input must have rank 4 \(N, C, H, W\), got \[3, 2, 2\]/);
      expect(() => channelAffine(x, [], [], [])).toThrow('channelAffine: 1 to 4 output channels, got 0');
      expect(() => channelAffine(x, [0, 1, 2, 0, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0])).toThrow('channelAffine: 1 to 4 output channels, got 5');
      expect(() => channelAffine(x, [0, 1], [1], [0, 0])).toThrow('channelAffine: src, scale and shift need one entry per output channel, got 2, 1 and 2');
      expect(() => channelAffine(x, [0, 3], [1, 1], [0, 0])).toThrow('channelAffine: src entries must be input channels 0…2 of tensor [1, 3, 2, 2], got 3');
      expect(() => channelAffine(x, [0], [NaN], [0])).toThrow('channelAffine: scale and shift must be finite numbers');
    });
  });
});
