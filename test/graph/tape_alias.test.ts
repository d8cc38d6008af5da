import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { backward } from '../../src/autograd/tape.js';
import { add, mul } from '../../src/kernels/binary.js';
import { scale } from '../../src/kernels/unary.js';
import { sum } from '../../src/kernels/reduce.js';

useGpu();

describe('tape: gradients handed out as views', () => {
  // add's backward gives one gradient to both inputs as views of one buffer; a later contribution to one of them
  // must not change the other's pending gradient (it did, when gradients were accumulated in place).
  it('L = Σ(p + q) + Σ q² + Σ p·q with p = 2x, q = 3x: dL/dx = 5 + 18x + 12x', async () => {
    for (const order of ['pq', 'qp']) {
      const xs = [0.5, -1, 2, 0.25];
      const x = Tensor.fromArray(xs, [4]);
      x.requiresGrad = true;
      scope(() => {
        const p = scale(x, 2);
        const q = scale(x, 3);
        const s = order === 'pq' ? add(p, q) : add(q, p);
        const loss = add(add(sum(s), sum(mul(q, q))), sum(mul(p, q)));
        backward(loss);
        return loss;
      });
      const g = await x.grad!.data();
      xs.forEach((v, i) => expect(g[i], `${order}[${i}]`).toBeCloseTo(5 + 30 * v, 4));
    }
  });
});
