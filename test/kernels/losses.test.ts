import { describe, it, expect } from 'vitest';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData, relError } from '../helpers/oracle.js';
import { caseInput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { mseLoss, l1Loss, bceWithLogitsLoss } from '../../src/kernels/losses.js';

useGpu();

const LOSSES: Record<string, (x: Tensor, t: Tensor | number) => Tensor> = { mse: mseLoss, l1: l1Loss, bce: bceWithLogitsLoss };

describe(`losses against PyTorch (max relative error ≤ ${ORACLE_TOL})`, () => {
  for (const name of fixtureCases('losses')) {
    it(name, async () => {
      const fx = loadFixture('losses', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const target = fx.params.target === 'tensor' ? caseInput(fx, 'target') : (fx.params.target as number);
        const y = LOSSES[fx.params.loss](x, target);
        expect(y.shape).toEqual([1]);
        backward(y, Tensor.fill([1], fx.params.grad));
        return { y, dx: x.grad, dtarget: target instanceof Tensor ? target.grad : null };
      });
      await expectMatches(fx, ours);
    });
  }

  it(`gradient reaches only the arguments that require grad (target only, ≤ ${ORACLE_TOL})`, async () => {
    const fx = loadFixture('losses', 'bce_tensor_odd');
    const { x, target } = scope(() => {
      const x = caseInput(fx, 'x', false);
      const target = caseInput(fx, 'target', true);
      backward(bceWithLogitsLoss(x, target), Tensor.fill([1], fx.params.grad));
      return { x, target };
    });
    expect(x.grad).toBeNull();
    expect(relError(await target.grad!.data(), fx.outputs.dtarget)).toBeLessThanOrEqual(ORACLE_TOL);
  });

  it('a constant target: value and gradient by hand', async () => {
    const x = Tensor.fromArray([0.5, -2, 3], [3]);
    x.requiresGrad = true;
    const y = mseLoss(x, 1);
    backward(y);
    expect(await y.item()).toBeCloseTo((0.25 + 9 + 4) / 3, 6);
    const dx = await x.grad!.data();
    [-1 / 3, -2, 4 / 3].forEach((v, i) => expect(dx[i]).toBeCloseTo(v, 6));
  });
});

describe('losses: finite differences', () => {
  const shape = [2, 3, 2, 3];
  const n = 36;
  // Away from x = t, where L1 has its kink.
  const x = inputData({ shape, seed: 3, scale: 2 }).map((v) => v + Math.sign(v) * 0.3);
  const t = inputData({ shape, seed: 4, scale: 0.2 });
  const prob = inputData({ shape, seed: 5, scale: 0.5 }).map((v) => v + 0.5);
  const cases: [string, (x: Tensor, t: Tensor | number) => Tensor, Float32Array][] = [
    ['mse', mseLoss, t],
    ['l1', l1Loss, t],
    ['bce', bceWithLogitsLoss, prob],
  ];
  for (const [name, f, target] of cases) {
    it(`${name}: input and tensor target`, async () => {
      const r = await gradcheck(f, [{ data: x, shape }, { data: target, shape }]);
      expect(r.worst, r.detail).toBeLessThanOrEqual(1);
    });
    it(`${name}: constant target`, async () => {
      const r = await gradcheck((a) => f(a, 0.25), [{ data: x, shape }]);
      expect(r.worst, r.detail).toBeLessThanOrEqual(1);
    });
  }
  it('bce stays finite for logits of ±80', async () => {
    const big = Float32Array.from({ length: n }, (_, i) => (i % 2 ? 80 : -80));
    const logits = Tensor.fromArray(big, shape);
    const y = bceWithLogitsLoss(logits, 1);
    // Half the elements contribute 80 (x = −80, t = 1), half ≈ 0.
    expect(await y.item()).toBeCloseTo(40, 4);
  });
});
