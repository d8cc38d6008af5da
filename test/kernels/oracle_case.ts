// Shared steps of the norm / layout oracle tests: fixture inputs with their offset or quantisation, the fixed
// output gradient, and the comparison of every stored output and gradient.
import { expect } from 'vitest';
import { ORACLE_TOL } from '../helpers/gpu.js';
import { inputData, relError, type Fixture } from '../helpers/oracle.js';
import { Tensor } from '../../src/graph/tensor.js';
import { hashUniform } from '../../src/graph/random.js';

/** Input `name` as PyTorch saw it: hashed uniform values, plus the spec's offset, floored to params.quantum. */
export function caseInput(fx: Fixture, name: string, requiresGrad = true): Tensor {
  const spec = fx.inputs[name] as Fixture['inputs'][string] & { offset?: number };
  const q: number = fx.params.quantum ?? 0;
  const data = inputData(spec).map((v) => {
    const shifted = v + (spec.offset ?? 0);
    return q ? Math.floor(shifted / q) * q : shifted;
  });
  const t = Tensor.fromArray(data, spec.shape);
  t.requiresGrad = requiresGrad;
  return t;
}

/** The upstream gradient the fixture used: hashed uniform values of y's shape. */
export function caseGradOutput(fx: Fixture, y: Tensor): Tensor {
  return Tensor.fromArray(hashUniform(y.size, fx.params.gradSeed), y.shape);
}

/** Every output the fixture stores must be present in `ours` and within ORACLE_TOL; `ours` is disposed after. */
export async function expectMatches(fx: Fixture, ours: Record<string, Tensor | null>): Promise<void> {
  try {
    for (const key of Object.keys(fx.outputs)) {
      const t = ours[key];
      expect(t, `${fx.case}: no ${key}`).toBeTruthy();
      const err = relError(await t!.data(), fx.outputs[key]);
      expect(err, `${fx.case}.${key}`).toBeLessThanOrEqual(ORACLE_TOL);
    }
  } finally {
    Object.values(ours).forEach((t) => t?.dispose());
  }
}
