import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { rt } from '../../src/graph/runtime.js';
import { backward, record, zeroGrad } from '../../src/autograd/tape.js';
import { Adam } from '../../src/autograd/adam.js';
import { add, mul } from '../../src/kernels/binary.js';
import { sum } from '../../src/kernels/reduce.js';
import { hashUniform } from '../../src/graph/random.js';

useGpu();

const HYPER = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
const align = () => rt().gpu.limits.minStorageBufferOffsetAlignment / 4;

describe('tensor slices (ranges of one buffer, bound with an offset)', () => {
  it('read, write and feed kernels at their offset', async () => {
    const a = align();
    const base = Tensor.fromArray(Array.from({ length: 3 * a }, (_, i) => i), [3 * a]);
    const s1 = base.slice(a, [2, 3]);
    const s2 = base.slice(2 * a, [6]);
    expect(Array.from(await s1.data())).toEqual([a, a + 1, a + 2, a + 3, a + 4, a + 5]);
    s2.writeData([10, 20, 30, 40, 50, 60]);
    const y = add(s1.view([6]), s2);
    expect(Array.from(await y.data())).toEqual([10 + a, 21 + a, 32 + a, 43 + a, 54 + a, 65 + a]);
    const all = await base.data();
    expect(Array.from(all.slice(0, a))).toEqual(Array.from({ length: a }, (_, i) => i));
    expect(Array.from(all.slice(2 * a, 2 * a + 6))).toEqual([10, 20, 30, 40, 50, 60]);
    [y, s1, s2, base].forEach((t) => t.dispose());
  });

  it('start only on the adapter alignment and inside the tensor', () => {
    const base = Tensor.zeros([4 * align()]);
    expect(() => base.slice(1, [4])).toThrow(/not a range that starts on a \d+-byte boundary/);
    expect(() => base.slice(3 * align(), [align() + 1])).toThrow(/not a range/);
    base.dispose();
  });

  it('moveInto keeps the tensor object and its values, and frees its old buffer', async () => {
    const arena = Tensor.zeros([2 * align()]);
    const p = Tensor.fromArray([1, 2, 3], [3]);
    const live = rt().pool.getStats().liveBuffers;
    p.moveInto(arena.slice(align(), [3]));
    expect(rt().pool.getStats().liveBuffers).toBe(live - 1);
    expect(Array.from(await p.data())).toEqual([1, 2, 3]);
    expect(Array.from((await arena.data()).slice(align(), align() + 3))).toEqual([1, 2, 3]);
    // The arena lives while a slice of it does.
    arena.dispose();
    expect(Array.from(await p.data())).toEqual([1, 2, 3]);
    const q = Tensor.fromArray([4], [1]);
    const view = q.view([1, 1]);
    const home = Tensor.zeros([1]);
    expect(() => q.moveInto(home)).toThrow(/shared with a view/);
    [p, q, view, home].forEach((t) => t.dispose());
  });
});

describe("Adam's arenas: parameters and gradients in one buffer each", () => {
  /** L = Σ(p·c) + Σ(p·p) + Σ(q·d): dL/dp = c + 2p, dL/dq = d. */
  const loss = (p: Tensor, q: Tensor, c: Tensor, d: Tensor) => add(add(sum(mul(p, c)), sum(mul(p, p))), sum(mul(q, d)));

  it('backward writes the gradients there, equal to those of plain tensors, and accumulates across calls', async () => {
    const [pv, qv, cv, dv] = [hashUniform(5, 1, 1), hashUniform(70, 2, 1), hashUniform(5, 3, 1), hashUniform(70, 4, 1)];
    const make = () => [Tensor.fromArray(pv, [5]), Tensor.fromArray(qv, [70])].map((t) => ((t.requiresGrad = true), t));
    const [c, d] = [Tensor.fromArray(cv, [5]), Tensor.fromArray(dv, [70])];
    const [p, q] = make();
    const [p2, q2] = make();
    const opt = new Adam([p, q], HYPER);
    const live = rt().pool.getStats().liveBuffers;
    scope(() => backward(loss(p, q, c, d)));
    // No buffer for the gradients: they are slices of the optimizer's arena.
    expect(rt().pool.getStats().liveBuffers).toBe(live);
    scope(() => backward(loss(p, q, c, d)));
    for (let k = 0; k < 2; k++) scope(() => backward(loss(p2, q2, c, d)));
    for (const [a, b] of [[p, p2], [q, q2]]) expect(Array.from(await a.grad!.data())).toEqual(Array.from(await b.grad!.data()));
    const g = await p.grad!.data();
    pv.forEach((v, i) => expect(g[i]).toBeCloseTo(2 * (cv[i] + 2 * v), 5));
    // zeroGrad of the tape (not the optimizer's): the next backward still starts from zeros.
    zeroGrad([p, q]);
    scope(() => backward(loss(p, q, c, d)));
    const once = await p.grad!.data();
    pv.forEach((v, i) => expect(once[i]).toBeCloseTo(cv[i] + 2 * v, 5));
    const before = rt().dispatchCount;
    opt.step();
    expect(rt().dispatchCount - before).toBe(1);
    opt.dispose();
    [p, q, p2, q2, c, d].forEach((t) => t.dispose());
  });

  it('an op that gives a parameter no gradient leaves .grad null, and Adam skips it', async () => {
    const p = Tensor.fromArray([1, 2], [2]);
    p.requiresGrad = true;
    const opt = new Adam([p], HYPER);
    scope(() => {
      const y = record('no gradient', [p], Tensor.fromArray([0], [1]), [], () => [null]);
      backward(y);
    });
    expect(p.grad).toBeNull();
    opt.step();
    expect(Array.from(await p.data())).toEqual([1, 2]);
    opt.dispose();
    p.dispose();
  });

  it('a parameter belongs to one optimizer at a time', () => {
    const p = Tensor.fromArray([1, 2], [2]);
    const first = new Adam([p], HYPER);
    expect(() => new Adam([p], HYPER)).toThrow(/already belongs to another optimizer/);
    first.dispose();
    const second = new Adam([p], HYPER);
    const r = Tensor.fromArray([3], [1]);
    expect(() => new Adam([r, r], HYPER)).toThrow(/listed twice/);
    second.dispose();
    [p, r].forEach((t) => t.dispose());
  });
});
