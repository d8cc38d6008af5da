import { describe, it, expect } from 'vitest';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputTensor, relError } from '../helpers/oracle.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { hashUniform } from '../../src/graph/random.js';
import { backward } from '../../src/autograd/tape.js';
import { ResnetBlock } from '../../src/model/resnet_block.js';

useGpu();

describe('ResnetBlock against PyTorch (same hash-RNG weights)', () => {
  for (const name of fixtureCases('resnet_block')) {
    it(name, async () => {
      const fx = loadFixture('resnet_block', name);
      const block = new ResnetBlock(fx.params.channels).initialize(fx.params.seed);
      const { y, dx } = scope(() => {
        const x = inputTensor(fx, 'x', true);
        const y = block.forward(x);
        backward(y, Tensor.fromArray(hashUniform(y.size, fx.params.gradSeed), y.shape));
        return { y, dx: x.grad! };
      });
      const errors: Record<string, number> = {
        y: relError(await y.data(), fx.outputs.y),
        dx: relError(await dx.data(), fx.outputs.dx),
      };
      for (const [pname, p] of block.namedParameters()) {
        const ref = fx.outputs[`d:${pname}`];
        // A conv bias before a non-affine instance norm has gradient exactly 0 (the norm removes per-channel
        // constants), so both sides are rounding noise: measure it against the same conv's weight gradient.
        const scale = pname.endsWith('.bias') ? fx.outputs[`d:${pname.replace(/bias$/, 'weight')}`].maxAbs : ref.maxAbs;
        errors[pname] = relError(await p.grad!.data(), { ...ref, maxAbs: scale });
      }
      for (const [k, e] of Object.entries(errors)) expect(e, `${name}.${k}`).toBeLessThanOrEqual(ORACLE_TOL);
      [y, dx, ...block.parameters().flatMap((p) => [p, p.grad])].forEach((t) => t?.dispose());
    });
  }
});

describe('ResnetBlock: interface', () => {
  it('lists its four parameters with PyTorch names and shapes', () => {
    const block = new ResnetBlock(5);
    expect(block.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['conv_block.1.weight', [5, 5, 3, 3]],
      ['conv_block.1.bias', [5]],
      ['conv_block.5.weight', [5, 5, 3, 3]],
      ['conv_block.5.bias', [5]],
    ]);
    expect(block.parameters()).toHaveLength(4);
    block.parameters().forEach((p) => p.dispose());
  });
  it('rejects inputs with the wrong rank or channel count', () => {
    const block = new ResnetBlock(4);
    scope(() => {
      expect(() => block.forward(Tensor.zeros([4, 8, 8]))).toThrow(/ResnetBlock: input must have rank 4/);
      expect(() => block.forward(Tensor.zeros([1, 3, 8, 8]))).toThrow(/ResnetBlock: input must have 4 channels, got tensor \[1, 3, 8, 8\]/);
    });
    expect(() => new ResnetBlock(0)).toThrow(/ResnetBlock: channels must be a positive integer, got 0/);
    block.parameters().forEach((p) => p.dispose());
  });
});
