import { describe, it, expect } from 'vitest';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { fixtureCases, loadFixture, inputTensor, inputData, relError } from '../helpers/oracle.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { relu, leakyRelu, tanh, sigmoid, scale } from '../../src/kernels/unary.js';
import { add, sub, mul, div } from '../../src/kernels/binary.js';
import { sum, mean } from '../../src/kernels/reduce.js';
import { hashUniform } from '../../src/graph/random.js';

useGpu();

const UNARY: Record<string, (x: Tensor) => Tensor> = {
  relu,
  leaky_relu: (x) => leakyRelu(x, 0.2),
  tanh,
  sigmoid,
  scale: (x) => scale(x, -1.5),
};
const BINARY: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  add,
  sub,
  mul,
  // The fixture divides by b + 3, keeping the divisor in [1, 5].
  div: (a, b) => div(a, add(b, Tensor.fill(b.shape, 3))),
};
const REDUCE: Record<string, (x: Tensor) => Tensor> = { sum, mean };

describe('pointwise ops against PyTorch', () => {
  for (const name of fixtureCases('pointwise')) {
    it(name, async () => {
      const fx = loadFixture('pointwise', name);
      const op = fx.params.op as string;
      const errors: Record<string, number> = {};
      if (op in UNARY) {
        const x = inputTensor(fx, 'x', true);
        const y = UNARY[op](x);
        const gy = Tensor.fromArray(hashUniform(y.size, fx.params.gradSeed), y.shape);
        backward(y, gy);
        errors.y = relError(await y.data(), fx.outputs.y);
        errors.dx = relError(await x.grad!.data(), fx.outputs.dx);
      } else if (op in BINARY) {
        const a = inputTensor(fx, 'a', true);
        const b = inputTensor(fx, 'b', true);
        const y = BINARY[op](a, b);
        backward(y, Tensor.fromArray(hashUniform(y.size, fx.params.gradSeed), y.shape));
        errors.y = relError(await y.data(), fx.outputs.y);
        errors.da = relError(await a.grad!.data(), fx.outputs.da);
        errors.db = relError(await b.grad!.data(), fx.outputs.db);
      } else {
        const x = inputTensor(fx, 'x', true);
        const y = REDUCE[op](x);
        backward(y, Tensor.fill([1], fx.params.grad));
        errors.y = relError(await y.data(), fx.outputs.y);
        errors.dx = relError(await x.grad!.data(), fx.outputs.dx);
      }
      for (const [k, e] of Object.entries(errors)) expect(e, `${name}.${k}`).toBeLessThanOrEqual(ORACLE_TOL);
    });
  }
});

describe('pointwise ops: finite differences', () => {
  // Inputs kept away from 0 where relu / leaky relu have their kink.
  const awayFromZero = (n: number, seed: number) => hashUniform(n, seed, 1).map((v) => v + Math.sign(v) * 0.2);
  const shape = [2, 3, 2, 3];
  for (const [name, f] of Object.entries(UNARY)) {
    it(name, async () => {
      const r = await gradcheck(f, [{ data: awayFromZero(36, 5), shape }]);
      expect(r.worst, r.detail).toBeLessThanOrEqual(1);
    });
  }
  for (const [name, f] of Object.entries({ ...BINARY, ...REDUCE })) {
    it(name, async () => {
      const inputs = Array.from({ length: f.length }, (_, i) => ({ data: inputData({ shape, seed: 9 + i, scale: 1 }), shape }));
      const r = await gradcheck(f as (...t: Tensor[]) => Tensor, inputs);
      expect(r.worst, r.detail).toBeLessThanOrEqual(1);
    });
  }
});
