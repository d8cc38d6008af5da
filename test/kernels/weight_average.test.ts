import { describe, it, expect } from 'vitest';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputTensor, relError } from '../helpers/oracle.js';
import { Tensor } from '../../src/graph/tensor.js';
import { hashUniform } from '../../src/graph/random.js';
import { WeightAverage } from '../../src/autograd/weight_average.js';
import { averageInto } from '../../src/kernels/weight_average.js';

useGpu();

describe(`weight average against torch AveragedModel with the ramped EMA (max relative error ≤ ${ORACLE_TOL})`, () => {
  for (const name of fixtureCases('weight_average')) {
    it(`${name}: parameters set to new values and folded in at each step`, async () => {
      const fx = loadFixture('weight_average', name);
      const params = Array.from({ length: fx.params.params }, (_, k) => inputTensor(fx, `p${k}`));
      const average = new WeightAverage(params, fx.params.decay);
      for (let s = 1; s <= fx.params.steps; s++) {
        params.forEach((p, k) => p.writeData(hashUniform(p.size, 2000 * s + k, 0.5)));
        average.update();
      }
      expect(average.updates).toBe(fx.params.steps);
      for (let k = 0; k < params.length; k++) {
        expect(relError(await average.averages[k].data(), fx.outputs[`avg${k}`]), `${name}.avg${k}`).toBeLessThanOrEqual(ORACLE_TOL);
      }
      average.dispose();
      params.forEach((p) => p.dispose());
    });
  }
});

describe('weight average', () => {
  it('averageInto: decay 1 keeps the average, decay 0 takes the parameter', async () => {
    const a = Tensor.fromArray([1, 2, 3], [3]);
    const p = Tensor.fromArray([5, 6, 7], [3]);
    averageInto(a, p, 1);
    expect([...(await a.data())]).toEqual([1, 2, 3]);
    averageInto(a, p, 0);
    expect([...(await a.data())]).toEqual([5, 6, 7]);
    expect(() => averageInto(a, p, 1.5)).toThrow(/decay must be in \[0, 1\]/);
    expect(() => averageInto(a, Tensor.fromArray([1, 2], [2]), 0.5)).toThrow(/shapes must match/);
  });

  it('withAverage puts the averaged values in the parameters for its callback only; state round-trips', async () => {
    const p = Tensor.fromArray([0, 0], [2]);
    const average = new WeightAverage([p], 0.5);
    p.writeData([10, 20]);
    average.update(); // t = 1: decay min(0.5, 2/11)
    const d = 2 / 11;
    const expected = [10 * (1 - d), 20 * (1 - d)];
    const inside = await average.withAverage(() => p.data());
    expect([...inside].map((v, i) => v - expected[i]).every((e) => Math.abs(e) < 1e-5)).toBe(true);
    expect([...(await p.data())]).toEqual([10, 20]);
    const state = await average.state();
    const other = new WeightAverage([Tensor.fromArray([0, 0], [2])], 0.5);
    other.loadState(state);
    expect(other.updates).toBe(1);
    expect([...(await other.averages[0].data())]).toEqual([...state.values[0]]);
    expect(() => other.loadState({ updates: 1, values: [new Float32Array(3)] })).toThrow(/do not match/);
    expect(() => new WeightAverage([p], 1)).toThrow(/decay must be in \(0, 1\)/);
  });
});
