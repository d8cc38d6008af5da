// Shared steps of the conv / norm / layout oracle tests: fixture inputs with their offset or quantisation, the fixed
// output gradient, and the comparison of every stored output and gradient.
import { expect, it } from 'vitest';
import { ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, inputData, loadFixture, relError, type Fixture } from '../helpers/oracle.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import type { NormOptions } from '../../src/kernels/norm.js';
import { conv2d } from '../../src/kernels/conv2d.js';
import { convTranspose2d } from '../../src/kernels/conv_transpose2d.js';
import { catBatch, sliceBatch } from '../../src/kernels/concat.js';
import { add } from '../../src/kernels/binary.js';
import { hashUniform } from '../../src/graph/random.js';
import { Adam } from '../../src/autograd/adam.js';

/** Values of input `name` as PyTorch saw them: hashed uniform values, plus the spec's offset, floored to
 * params.quantum. */
export function caseInputData(fx: Fixture, name: string): Float32Array {
  const spec = fx.inputs[name] as Fixture['inputs'][string] & { offset?: number };
  const q: number = fx.params.quantum ?? 0;
  return inputData(spec).map((v) => {
    const shifted = v + (spec.offset ?? 0);
    return q ? Math.floor(shifted / q) * q : shifted;
  });
}

export function caseInput(fx: Fixture, name: string, requiresGrad = true): Tensor {
  const t = Tensor.fromArray(caseInputData(fx, name), fx.inputs[name].shape);
  t.requiresGrad = requiresGrad;
  return t;
}

/** Values of the upstream gradient the fixture used: hashed uniform values of the output's size. */
export function caseGradOutputData(fx: Fixture, size: number): Float32Array {
  return hashUniform(size, fx.params.gradSeed);
}

export function caseGradOutput(fx: Fixture, y: Tensor): Tensor {
  return Tensor.fromArray(caseGradOutputData(fx, y.size), y.shape);
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

/** One test per `norm` fixture of `op` (instance_norm, batch_norm): output and the x, weight, bias gradients. */
export function normOracleTests(op: string, norm: (x: Tensor, opts: NormOptions) => Tensor): void {
  for (const name of fixtureCases('norm').filter((n) => n.startsWith(op))) {
    it(name, async () => {
      const fx = loadFixture('norm', name);
      const ours = scope(() => {
        const x = caseInput(fx, 'x');
        const weight = fx.params.affine ? caseInput(fx, 'weight') : undefined;
        const bias = fx.params.affine ? caseInput(fx, 'bias') : undefined;
        const y = norm(x, { eps: fx.params.eps, weight, bias });
        backward(y, caseGradOutput(fx, y));
        return { y, dx: x.grad, dweight: weight?.grad ?? null, dbias: bias?.grad ?? null };
      });
      await expectMatches(fx, ours);
    });
  }
}

/** One `conv` fixture (conv2d or convTranspose2d): output and the x, weight, bias gradients. 'itemwise' convolves
 * each batch item on its own, so the weight and bias gradients of later items are added inside the gradient kernels
 * to the earlier ones (BackwardFn's `into`), and x's to its slices' gradients. 'twice' convolves x twice and sums
 * both under half the output gradient (exact), so the second convolution's input gradient is added to the first's.
 * `inArena`: weight and bias belong to an optimizer, behind another parameter, so that every kernel binds them, and
 * writes their gradients, at an offset into its arenas. */
export async function convOracleCase(name: string, how: 'whole' | 'itemwise' | 'twice' = 'whole', inArena = false): Promise<void> {
  const fx = loadFixture('conv', name);
  let optimizer: Adam | null = null;
  const ours = scope(() => {
    const x = caseInput(fx, 'x');
    const w = caseInput(fx, 'weight');
    const b = fx.inputs.bias ? caseInput(fx, 'bias') : null;
    if (inArena) optimizer = new Adam([Tensor.zeros([1]), w, ...(b ? [b] : [])], { lr: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const p = fx.params;
    const conv = (xx: Tensor) => p.op === 'conv2d'
      ? conv2d(xx, w, b, { stride: p.stride, padding: p.padding, paddingMode: p.paddingMode })
      : convTranspose2d(xx, w, b, { stride: p.stride, padding: p.padding, outputPadding: p.outputPadding });
    const y = how === 'itemwise' ? catBatch(Array.from({ length: x.shape[0] }, (_, n) => conv(sliceBatch(x, n, 1)))) : conv(x);
    if (how === 'twice') {
      backward(add(y, conv(x)), Tensor.fromArray(caseGradOutputData(fx, y.size).map((v) => v / 2), y.shape));
    } else {
      backward(y, caseGradOutput(fx, y));
    }
    return { y, dx: x.grad, dweight: w.grad, dbias: b?.grad ?? null };
  });
  await expectMatches(fx, ours);
  (optimizer as Adam | null)?.dispose();
}
