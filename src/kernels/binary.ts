// Elementwise add, sub, mul, div over equal shapes.
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { sameShape } from './check.js';
import { scale } from './unary.js';

const OPS = { add: '+', sub: '-', mul: '*', div: '/' } as const;
type BinaryOp = keyof typeof OPS;

const BINARY = defineKernel({
  shader: 'binary',
  params: { n: 'u32' },
  bindings: { a: 'read', b: 'read', out: 'read_write' },
  consts: { OP: 'code' },
  entry: 'elementwise',
});

function dispatchBinary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const out = Tensor.empty(a.shape);
  rt().dispatch(BINARY, { a: a.savedBinding, b: b.savedBinding, out: out.binding }, { n: a.size }, { consts: { OP: OPS[op] } });
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  sameShape('add', a, b);
  return record('add', [a, b], dispatchBinary('add', a, b), [], (g) => [g.detach(), g.detach()]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  sameShape('sub', a, b);
  return record('sub', [a, b], dispatchBinary('sub', a, b), [], (g) => [g.detach(), scale(g, -1)]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape('mul', a, b);
  return record('mul', [a, b], dispatchBinary('mul', a, b), [a, b], (g) => [
    a.requiresGrad ? dispatchBinary('mul', g, b) : null,
    b.requiresGrad ? dispatchBinary('mul', g, a) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  sameShape('div', a, b);
  const y = dispatchBinary('div', a, b);
  // d(a/b)/db = −(g/b)·(a/b): reuses g/b and the output instead of dividing by b².
  return record('div', [a, b], y, [b, y], (g) => {
    const ga = dispatchBinary('div', g, b);
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      const t = dispatchBinary('mul', ga, y);
      gb = scale(t, -1);
      t.dispose();
    }
    if (a.requiresGrad) return [ga, gb];
    ga.dispose();
    return [null, gb];
  });
}
