import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { concat, catBatch, sliceBatch } from '../../src/kernels/concat.js';

useGpu();

describe('concat against PyTorch', () => {
  for (const name of fixtureCases('layout').filter((n) => n.startsWith('concat_'))) {
    it(name, async () => {
      const fx = loadFixture('layout', name);
      const ours = scope(() => {
        const xs = Array.from({ length: fx.params.count }, (_, k) => caseInput(fx, `x${k}`));
        const y = concat(xs);
        backward(y, caseGradOutput(fx, y));
        return { y, ...Object.fromEntries(xs.map((x, k) => [`dx${k}`, x.grad])) };
      });
      await expectMatches(fx, ours);
    });
  }
});

describe('concat: finite differences', () => {
  it('three inputs', async () => {
    const shapes = [[2, 1, 2, 3], [2, 3, 2, 3], [2, 2, 2, 3]];
    const r = await gradcheck((a, b, c) => concat([a, b, c]), shapes.map((shape, i) => ({ data: inputData({ shape, seed: 5 + i, scale: 1 }), shape })));
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
  it('routes gradients only to inputs that require them', () => {
    scope(() => {
      const a = Tensor.zeros([1, 1, 2, 2]);
      const b = Tensor.zeros([1, 2, 2, 2]);
      b.requiresGrad = true;
      backward(concat([a, b]), Tensor.fill([1, 3, 2, 2], 1));
      expect(a.grad).toBeNull();
      expect(b.grad?.shape).toEqual([1, 2, 2, 2]);
    });
  });
});

describe('batch concatenation and slices', () => {
  it('are exact copies (torch.cat(dim=0), x[start:start+count])', async () => {
    const a = inputData({ shape: [1, 2, 3, 2], seed: 1, scale: 1 });
    const b = inputData({ shape: [2, 2, 3, 2], seed: 2, scale: 1 });
    const [yt, st] = scope(() => {
      const y = catBatch([Tensor.fromArray(a, [1, 2, 3, 2]), Tensor.fromArray(b, [2, 2, 3, 2])]);
      return [y.keep(), sliceBatch(y, 1, 2).keep()];
    });
    const [y, s] = [await yt.data(), await st.data()];
    yt.dispose();
    st.dispose();
    expect(Array.from(y)).toEqual([...a, ...b]);
    expect(Array.from(s)).toEqual(Array.from(y.subarray(12)));
  });
  it('finite differences through a concatenation and two slices', async () => {
    const shapes = [[1, 2, 2, 3], [2, 2, 2, 3]];
    const r = await gradcheck(
      (a, b) => {
        const y = catBatch([a, b]);
        return concat([sliceBatch(y, 2, 1), sliceBatch(y, 0, 1)]);
      },
      shapes.map((shape, i) => ({ data: inputData({ shape, seed: 7 + i, scale: 1 }), shape })),
    );
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
  it('rejects mismatched items and slices outside the batch', () => {
    scope(() => {
      const x = Tensor.zeros([2, 3, 4, 4]);
      expect(() => catBatch([x, Tensor.zeros([1, 2, 4, 4])])).toThrow(/catBatch: tensors must match in C, H and W; tensor 0 is \[2, 3, 4, 4\], tensor 1 is \[1, 2, 4, 4\]/);
      expect(() => sliceBatch(x, 1, 2)).toThrow(/sliceBatch: items 1…2 are not within the batch of \[2, 3, 4, 4\]/);
    });
  });
});

describe('concat: bad calls', () => {
  it('rejects an empty list, a wrong rank and mismatched N, H or W', () => {
    scope(() => {
      const x = Tensor.zeros([2, 3, 4, 5]);
      expect(() => concat([])).toThrow(/concat: expected a non-empty list of tensors/);
      expect(() => concat([x, Tensor.zeros([2, 3, 4])])).toThrow(/concat: tensor 1 must have rank 4 \(N, C, H, W\), got \[2, 3, 4\]/);
      expect(() => concat([x, Tensor.zeros([1, 3, 4, 5])])).toThrow(/concat: tensors must match in N, H and W; tensor 0 is \[2, 3, 4, 5\], tensor 1 is \[1, 3, 4, 5\]/);
      expect(() => concat([x, Tensor.zeros([2, 1, 5, 5])])).toThrow(/tensor 1 is \[2, 1, 5, 5\]/);
      expect(() => concat([x, Tensor.zeros([2, 1, 4, 4])])).toThrow(/tensor 1 is \[2, 1, 4, 4\]/);
    });
  });
});
