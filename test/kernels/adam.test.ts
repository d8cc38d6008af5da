import { describe, it, expect } from 'vitest';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputData, inputTensor, relError, type Fixture } from '../helpers/oracle.js';
import { Tensor } from '../../src/graph/tensor.js';
import { hashUniform } from '../../src/graph/random.js';
import { Adam } from '../../src/autograd/adam.js';
import { rt } from '../../src/graph/runtime.js';

useGpu();

function makeParams(fx: Fixture): Tensor[] {
  return Array.from({ length: fx.params.params }, (_, k) => inputTensor(fx, `p${k}`, true));
}

/** Steps from..to (1-based, inclusive) with the fixture's per-step gradients (seed 1000·step + k) and lrs. */
function runSteps(fx: Fixture, opt: Adam, params: Tensor[], from: number, to: number): void {
  for (let s = from; s <= to; s++) {
    opt.lr = fx.params.lrs[s - 1];
    params.forEach((p, k) => {
      p.grad = Tensor.fromArray(hashUniform(p.size, 1000 * s + k, fx.params.gradScales[k]), p.shape);
    });
    opt.step();
    opt.zeroGrad();
  }
}

async function compare(fx: Fixture, opt: Adam, params: Tensor[]): Promise<void> {
  const state = await opt.state();
  expect(state.step).toBe(fx.params.steps);
  for (let k = 0; k < params.length; k++) {
    const p = await params[k].data();
    const initial = inputData(fx.inputs[`p${k}`]);
    const dp = p.map((v, i) => v - initial[i]);
    const errors = {
      p: relError(p, fx.outputs[`p${k}`]),
      // The change alone: the parameters move by ~lr per step, far below their own magnitude.
      dp: relError(dp, fx.outputs[`dp${k}`]),
      m: relError(state.m[k], fx.outputs[`m${k}`]),
      v: relError(state.v[k], fx.outputs[`v${k}`]),
    };
    for (const [name, e] of Object.entries(errors)) expect(e, `${fx.case}.${name}${k}`).toBeLessThanOrEqual(ORACLE_TOL);
  }
}

function dispose(opt: Adam, params: Tensor[]): void {
  opt.dispose();
  params.forEach((p) => p.dispose());
}

describe(`Adam against torch.optim.Adam (params, their change, m, v: max relative error ≤ ${ORACLE_TOL})`, () => {
  for (const name of fixtureCases('adam')) {
    it(`${name}: 5 steps`, async () => {
      const fx = loadFixture('adam', name);
      const params = makeParams(fx);
      const opt = new Adam(params, { lr: fx.params.lrs[0], beta1: fx.params.beta1, beta2: fx.params.beta2, eps: fx.params.eps });
      runSteps(fx, opt, params, 1, fx.params.steps);
      await compare(fx, opt, params);
      dispose(opt, params);
    });
  }

  it(`resume: 3 steps, state() into a new optimizer via loadState, 2 more steps (≤ ${ORACLE_TOL})`, async () => {
    const fx = loadFixture('adam', 'default');
    const params = makeParams(fx);
    const hyper = { lr: fx.params.lrs[0], beta1: fx.params.beta1, beta2: fx.params.beta2, eps: fx.params.eps };
    const first = new Adam(params, hyper);
    runSteps(fx, first, params, 1, 3);
    const saved = await first.state();
    first.dispose();
    const second = new Adam(params, hyper);
    second.loadState(saved);
    expect(second.stepCount).toBe(3);
    runSteps(fx, second, params, 4, 5);
    await compare(fx, second, params);
    dispose(second, params);
  });
});

describe('Adam bookkeeping', () => {
  it('skips parameters without a gradient and counts steps', async () => {
    const a = Tensor.fromArray([1, 2, 3], [3]);
    const b = Tensor.fromArray([4, 5], [2]);
    const opt = new Adam([a, b], { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    a.grad = Tensor.fromArray([1, -1, 0], [3]);
    opt.step();
    expect(opt.stepCount).toBe(1);
    // First step: m̂ = g, v̂ = g², so each element moves by lr·sign(g) (0 where g = 0).
    const av = await a.data();
    [0.9, 2.1, 3].forEach((v, i) => expect(av[i]).toBeCloseTo(v, 6));
    expect(Array.from(await b.data())).toEqual([4, 5]);
    const s = await opt.state();
    expect(Array.from(s.m[1])).toEqual([0, 0]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('updates the parameters around one without a gradient in two dispatches, the others in one', async () => {
    const sizes = [3, 1, 5, 2, 4, 7, 1, 6, 2, 3];
    const params = sizes.map((n, k) => Tensor.fromArray(hashUniform(n, k, 1), [n]));
    const opt = new Adam(params, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const grads = sizes.map((n, k) => hashUniform(n, 100 + k, 1));
    params.forEach((p, k) => (p.grad = k === 3 ? null : Tensor.fromArray(grads[k], [sizes[k]])));
    const before = rt().dispatchCount;
    opt.step();
    expect(rt().dispatchCount - before).toBe(2);
    // First step: each element moves by lr·sign(g) (to within eps and float32); m = (1 − β1)·g; the parameter without a gradient keeps m = 0.
    const s = await opt.state();
    for (let k = 0; k < sizes.length; k++) {
      const p = await params[k].data();
      const p0 = hashUniform(sizes[k], k, 1);
      for (let i = 0; i < sizes[k]; i++) {
        const g = k === 3 ? 0 : grads[k][i];
        expect(p[i], `param ${k}[${i}]`).toBeCloseTo(p0[i] - 0.1 * Math.sign(g), 5);
        expect(s.m[k][i], `m ${k}[${i}]`).toBeCloseTo(0.1 * g, 7);
      }
    }
    params.forEach((p, k) => (p.grad = Tensor.fromArray(grads[k], [sizes[k]])));
    const again = rt().dispatchCount;
    opt.step();
    expect(rt().dispatchCount - again).toBe(1);
    opt.zeroGrad();
    opt.dispose();
    params.forEach((p) => p.dispose());
  });

  it('loadState rejects a state of another parameter list', () => {
    const a = Tensor.fromArray([1, 2, 3], [3]);
    const opt = new Adam([a], { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    expect(() => opt.loadState({ step: 1, m: [], v: [] })).toThrow(/expected 1 m arrays \(one per parameter\), got 0/);
    expect(() => opt.loadState({ step: 1, m: [new Float32Array(2)], v: [new Float32Array(3)] })).toThrow(
      /m\[0\] has 2 values, expected 3 for parameter \[3\]/,
    );
    opt.dispose();
    a.dispose();
  });
});
