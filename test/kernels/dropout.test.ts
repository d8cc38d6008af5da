import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData } from '../helpers/oracle.js';
import { caseInput, caseGradOutput, expectMatches } from './oracle_case.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { hashUniform } from '../../src/graph/random.js';
import { dropout } from '../../src/kernels/dropout.js';

useGpu();

describe('dropout against PyTorch with the same hash mask', () => {
  for (const name of fixtureCases('layout').filter((n) => n.startsWith('dropout_'))) {
    it(name, async () => {
      const fx = loadFixture('layout', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const y = dropout(x, fx.params.p, fx.params.seed);
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad };
      });
      await expectMatches(fx, ours);
    });
  }
});

describe('dropout: semantics', () => {
  it('is reproducible per seed, differs across seeds, and drops about p of the values', async () => {
    const n = 20000;
    const x = Tensor.fromArray(hashUniform(n, 1, 1).map((v) => v + 2), [n]);
    const a = await dropout(x, 0.3, 42).data();
    const b = await dropout(x, 0.3, 42).data();
    const c = await dropout(x, 0.3, 43).data();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const dropped = a.filter((v) => v === 0).length / n;
    expect(Math.abs(dropped - 0.3)).toBeLessThan(0.02);
  });
  it('p = 0 returns the input values unchanged', async () => {
    const data = hashUniform(64, 2, 3);
    expect(await dropout(Tensor.fromArray(data, [4, 16]), 0, 9).data()).toEqual(data);
  });
});

describe('dropout: finite differences', () => {
  it('p = 0.3', async () => {
    const shape = [2, 3, 4];
    const r = await gradcheck((x) => dropout(x, 0.3, 9), [{ data: inputData({ shape, seed: 4, scale: 1 }), shape }]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
});

describe('dropout: bad calls', () => {
  it('rejects p outside [0, 1) and a bad seed', () => {
    scope(() => {
      const x = Tensor.zeros([2, 2]);
      expect(() => dropout(x, 1, 0)).toThrow(/dropout: p must be in \[0, 1\), got 1/);
      expect(() => dropout(x, -0.1, 0)).toThrow(/got -0.1/);
      expect(() => dropout(x, NaN, 0)).toThrow(/got NaN/);
      expect(() => dropout(x, 0.5, 1.5)).toThrow(/dropout: seed must be an integer in \[0, 2\^32\), got 1.5/);
    });
  });
});
