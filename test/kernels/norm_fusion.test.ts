// Fused epilogues of instance/batch norm (activation, residual add) against the composition of the separate ops,
// which the PyTorch fixtures check: outputs and every gradient, plus finite differences of the fused forms.
import { describe, it, expect } from 'vitest';
import { useGpu, ORACLE_TOL } from '../helpers/gpu.js';
import { inputData } from '../helpers/oracle.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { gradcheck } from '../../src/autograd/gradcheck.js';
import { instanceNorm } from '../../src/kernels/instance_norm.js';
import { batchNorm } from '../../src/kernels/batch_norm.js';
import { relu, leakyRelu } from '../../src/kernels/unary.js';
import { add, mul } from '../../src/kernels/binary.js';
import { sum } from '../../src/kernels/reduce.js';
import type { NormOptions } from '../../src/kernels/norm.js';
import { f16Data, f16Round, f16Tensor, f16Ulp, skipWithoutF16 } from '../helpers/f16.js';

useGpu();

const SHAPE = [2, 3, 5, 6];
const param = (seed: number, shape: number[], scale = 1) => {
  const t = Tensor.fromArray(inputData({ shape, seed, scale }), shape);
  t.requiresGrad = true;
  return t;
};

type Norm = (x: Tensor, o?: NormOptions) => Tensor;
const cases: [string, (norm: Norm, x: Tensor, w: Tensor, b: Tensor, r: Tensor) => [Tensor, Tensor]][] = [
  ['relu', (n, x, w, b) => [n(x, { weight: w, bias: b, activation: 'relu' }), relu(n(x, { weight: w, bias: b }))]],
  ['leaky relu 0.2', (n, x, w, b) => [n(x, { weight: w, bias: b, activation: 'leakyRelu', slope: 0.2 }), leakyRelu(n(x, { weight: w, bias: b }), 0.2)]],
  ['residual', (n, x, w, b, r) => [n(x, { weight: w, bias: b, residual: r }), add(r, n(x, { weight: w, bias: b }))]],
];

async function maxRel(a: Tensor, b: Tensor): Promise<number> {
  const [u, v] = [await a.data(), await b.data()];
  const scale = Math.max(...v.map(Math.abs), 1e-30);
  return Math.max(...u.map((val, i) => Math.abs(val - v[i]))) / scale;
}

describe('fused norm epilogues equal the separate ops', () => {
  for (const [opName, norm] of [['instanceNorm', instanceNorm], ['batchNorm', batchNorm]] as [string, Norm][]) {
    for (const [name, build] of cases) {
      it(`${opName} + ${name}: output and gradients of x, weight, bias, residual`, async () => {
        const run = (fused: boolean) => scope(() => {
          const x = param(1, SHAPE);
          const w = param(2, [3], 1.5);
          const b = param(3, [3]);
          const r = param(4, SHAPE);
          const y = build(norm, x, w, b, r)[fused ? 0 : 1];
          // A weighted sum gives every element a distinct upstream gradient.
          backward(sum(mul(y, Tensor.fromArray(inputData({ shape: SHAPE, seed: 5, scale: 1 }), SHAPE))));
          return { y, dx: x.grad!, dw: w.grad!, db: b.grad!, dr: r.grad };
        });
        const fused = run(true);
        const plain = run(false);
        for (const k of ['y', 'dx', 'dw', 'db'] as const) expect(await maxRel(fused[k], plain[k]), k).toBeLessThanOrEqual(ORACLE_TOL);
        if (name === 'residual') expect(await maxRel(fused.dr!, plain.dr!)).toBeLessThanOrEqual(ORACLE_TOL);
        else expect(fused.dr).toBeNull();
      });
    }
  }
});

describe('fused norm epilogues: finite differences', () => {
  const input = (seed: number, s: number[], scale = 1) => ({ data: inputData({ shape: s, seed, scale }), shape: s });
  it('instanceNorm + leaky relu', async () => {
    const r = await gradcheck((x, w, b) => instanceNorm(x, { weight: w, bias: b, eps: 1e-3, activation: 'leakyRelu', slope: 0.3 }), [input(6, [1, 2, 4, 3]), input(7, [2], 1.5), input(8, [2])]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
  it('instanceNorm + residual', async () => {
    const r = await gradcheck((x, res) => instanceNorm(x, { eps: 1e-3, residual: res }), [input(9, [1, 2, 4, 3]), input(10, [1, 2, 4, 3])]);
    expect(r.worst, r.detail).toBeLessThanOrEqual(1);
  });
});

describe('fused norm epilogues: bad calls', () => {
  it('names the problem', () => {
    scope(() => {
      const x = Tensor.zeros([1, 2, 3, 3]);
      expect(() => instanceNorm(x, { activation: 'gelu' as 'relu' })).toThrow(/instance_norm: activation must be 'relu' or 'leakyRelu', got "gelu"/);
      expect(() => instanceNorm(x, { activation: 'relu', residual: x })).toThrow(/instance_norm: a residual cannot be combined with an activation/);
      expect(() => instanceNorm(x, { residual: Tensor.zeros([1, 2, 3, 4]) })).toThrow(/instance_norm/);
      expect(() => batchNorm(x, { activation: 'leakyRelu', slope: -1 })).toThrow(/batch_norm: slope must be a non-negative number, got -1/);
    });
  });
});

describe('fused norm epilogues with f16 storage (training\'s f16 maps)', () => {
  // x and the residual read from f16 maps are exactly their rounded values (the f32 run gets those values); y is
  // computed in f32 and rounded when written: each value one of the two f16 neighbours of the f32 norm's (WGSL lets
  // either be chosen). The backward reads f16 y only for the activation's sign, which rounding keeps (no output here
  // lies within f16's underflow of zero), so every gradient equals the f32 norm's bit for bit.
  for (const [opName, norm] of [['instanceNorm', instanceNorm], ['batchNorm', batchNorm]] as [string, Norm][]) {
    for (const name of ['relu', 'leaky relu 0.2', 'residual'] as const) {
      it(`${opName} + ${name}: f16 x and y, y within one f16 step, gradients of x, weight, bias, residual equal`, async (ctx) => {
        skipWithoutF16(ctx);
        const rValues = Float32Array.from(inputData({ shape: SHAPE, seed: 4, scale: 1 }), f16Round);
        const xValues = Float32Array.from(inputData({ shape: SHAPE, seed: 1, scale: 1 }), f16Round);
        const run = async (storage: 'f32' | 'f16') => {
          const x = storage === 'f16' ? f16Tensor(xValues, SHAPE) : Tensor.fromArray(xValues, SHAPE);
          x.requiresGrad = true;
          const w = param(2, [3], 1.5);
          const b = param(3, [3]);
          const r = storage === 'f16' ? f16Tensor(rValues, SHAPE) : Tensor.fromArray(rValues, SHAPE);
          r.requiresGrad = true;
          const epilogue: NormOptions = name === 'relu' ? { activation: 'relu' } : name === 'residual' ? { residual: r } : { activation: 'leakyRelu', slope: 0.2 };
          const y = norm(x, { weight: w, bias: b, ...epilogue, storage });
          const values = storage === 'f16' ? Array.from(await f16Data(y)) : Array.from(await y.data());
          backward(y, Tensor.fromArray(inputData({ shape: SHAPE, seed: 5, scale: 1 }), SHAPE));
          const grads = [x.grad!, w.grad!, b.grad!, ...(name === 'residual' ? [r.grad!] : [])];
          const out = { y: values, grads: await Promise.all(grads.map(async (g) => Array.from(await g.data()))) };
          for (const t of [x, w, b, r, ...grads]) t.dispose();
          return out;
        };
        const f32 = await run('f32');
        const f16 = await run('f16');
        const far = f16.y.filter((v, i) => !(Math.abs(v - f32.y[i]) < f16Ulp(f32.y[i])));
        expect(far, 'y values beyond one f16 step').toEqual([]);
        expect(f32.y.filter((v) => v !== 0 && Math.abs(v) <= 2 ** -24), 'outputs that would round to zero').toEqual([]);
        f32.grads.forEach((g, i) => expect(f16.grads[i], ['dx', 'dweight', 'dbias', 'dresidual'][i]).toEqual(g));
      });
    }
  }
});
