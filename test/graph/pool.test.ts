// Memory behaviour of the engine: buffers are reused across identical training steps, and the tape frees what it
// saved; plus the gradient bookkeeping (accumulation, zeroGrad, noGrad, detach).
import { describe, it, expect } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { rt } from '../../src/graph/runtime.js';
import { hashUniform } from '../../src/graph/random.js';
import { backward, noGrad, zeroGrad } from '../../src/autograd/tape.js';
import { Adam } from '../../src/autograd/adam.js';
import { add, mul } from '../../src/kernels/binary.js';
import { tanh } from '../../src/kernels/unary.js';
import { sum } from '../../src/kernels/reduce.js';
import { mseLoss, l1Loss } from '../../src/kernels/losses.js';
import { ResnetBlock } from '../../src/model/resnet_block.js';

useGpu();

const stats = () => rt().pool.getStats();

function param(shape: number[], seed: number, scale = 0.5): Tensor {
  const t = Tensor.fromArray(hashUniform(shape.reduce((a, b) => a * b, 1), seed, scale), shape);
  t.requiresGrad = true;
  return t;
}

describe('buffer pool across training steps', () => {
  it('50 forward + backward + Adam steps: live buffers and bytes and buffers created flat from the first step', async () => {
    const before = stats().liveBuffers;
    const shape = [2, 3, 9, 7];
    const n = 2 * 3 * 9 * 7;
    const x = Tensor.fromArray(hashUniform(n, 1, 2), shape);
    const target = Tensor.fromArray(hashUniform(n, 2, 0.5), shape);
    const [w1, w2, b] = [param(shape, 3), param(shape, 4), param(shape, 5, 0.1)];
    const opt = new Adam([w1, w2, b], { lr: 1e-2, beta1: 0.5, beta2: 0.99, eps: 1e-8 });
    const losses: number[] = [];
    const after: ReturnType<typeof stats>[] = [];
    for (let iter = 0; iter < 50; iter++) {
      const loss = scope(() => {
        const h = tanh(mul(x, w1));
        const y = tanh(add(mul(h, w2), b));
        const l = add(mseLoss(y, 0.25), l1Loss(y, target));
        backward(l);
        opt.step();
        opt.zeroGrad();
        return l;
      });
      losses.push(await loss.item()); // the readback submits the step
      loss.dispose();
      after.push(stats());
    }
    after.forEach((s, iter) => {
      expect(s.liveBuffers, `iteration ${iter}: live buffers`).toBe(after[0].liveBuffers);
      expect(s.liveBytes, `iteration ${iter}: live bytes`).toBe(after[0].liveBytes);
    });
    // Nothing is created after the first iteration: every buffer of a step is reused by the next.
    after.forEach((s, iter) => expect(s.created, `iteration ${iter}: buffers created`).toBe(after[0].created));
    // Live after a step: x, target and Adam's four arenas (the 3 params live in the first, their gradients in the
    // second); nothing else survives the scope.
    expect(after[0].liveBuffers - before).toBe(6);
    expect(losses[49]).toBeLessThan(losses[0]);
    opt.dispose();
    [x, target, w1, w2, b].forEach((t) => t.dispose());
  });
});

describe('buffer pool with convolutions and instance norm', () => {
  it('50 forward + backward passes of a residual block neither grow live memory nor create buffers', async () => {
    const block = new ResnetBlock(8);
    block.initialize(1);
    const x = param([2, 8, 12, 10], 6, 1);
    const after: ReturnType<typeof stats>[] = [];
    for (let iter = 0; iter < 50; iter++) {
      const loss = scope(() => {
        const l = mseLoss(block.forward(x), 0.5);
        backward(l);
        zeroGrad([...block.parameters(), x]);
        return l;
      });
      await loss.item();
      loss.dispose();
      after.push(stats());
    }
    after.forEach((s, iter) => {
      expect(s.liveBuffers, `iteration ${iter}: live buffers`).toBe(after[0].liveBuffers);
      expect(s.liveBytes, `iteration ${iter}: live bytes`).toBe(after[0].liveBytes);
      expect(s.created, `iteration ${iter}: buffers created`).toBe(after[0].created);
    });
    block.dispose();
    x.dispose();
  });
});

describe('repeated steps bind the same buffers', () => {
  it('from the fourth step of a residual block with Adam, every dispatch but the Adam update reuses a bind group', async () => {
    const block = new ResnetBlock(8);
    block.initialize(2);
    const x = param([1, 8, 10, 12], 11, 1);
    const opt = new Adam(block.parameters(), { lr: 1e-3, beta1: 0.5, beta2: 0.999, eps: 1e-8 });
    const r = rt();
    const counts: { dispatches: number; made: number }[] = [];
    for (let iter = 0; iter < 6; iter++) {
      const [d0, m0] = [r.dispatchCount, r.bindGroupMisses];
      const loss = scope(() => {
        const l = mseLoss(block.forward(x), 0.5);
        opt.minimize(l);
        return l;
      });
      await loss.item();
      loss.dispose();
      counts.push({ dispatches: r.dispatchCount - d0, made: r.bindGroupMisses - m0 });
    }
    // Adam's parameter block holds the step's bias corrections, so its one dispatch gets a new uniform buffer each
    // step (its bind group is new); every other dispatch, from the fourth step on, finds the buffers of an earlier
    // step.
    for (const [iter, c] of counts.entries()) if (iter >= 3) expect(c.made, `iteration ${iter}: bind groups made of ${c.dispatches}`).toBe(1);
    opt.dispose();
    block.dispose();
    x.dispose();
  });
});

describe('tape bookkeeping', () => {
  const c = Float32Array.from([0.5, -1, 2, 0.25]);

  it('leaf .grad accumulates across two backward calls; zeroGrad clears it', async () => {
    const w = param([4], 7);
    const cT = Tensor.fromArray(c, [4]);
    for (let k = 0; k < 2; k++) scope(() => backward(sum(mul(w, cT))));
    // d/dw sum(w·c) = c, twice.
    expect(Array.from(await w.grad!.data())).toEqual(Array.from(c, (v) => 2 * v));
    zeroGrad([w]);
    expect(w.grad).toBeNull();
    scope(() => backward(sum(mul(w, cT))));
    expect(Array.from(await w.grad!.data())).toEqual(Array.from(c));
    const opt = new Adam([w], { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    opt.zeroGrad();
    expect(w.grad).toBeNull();
    opt.dispose();
    [w, cT].forEach((t) => t.dispose());
  });

  it('noGrad records nothing and keeps nothing alive', () => {
    const w = param([4], 8);
    const before = stats().liveBuffers;
    const y = noGrad(() => scope(() => tanh(mul(w, w))));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    // Only y itself (the mul temporary is gone: nothing saved it).
    expect(stats().liveBuffers).toBe(before + 1);
    expect(() => backward(sum(y))).toThrow(/does not require grad/);
    y.dispose();
    w.dispose();
  });

  it('detach cuts the graph: gradient flows only through the attached path', async () => {
    const wData = Float32Array.from([0.3, -0.7, 1.2, 0.05]);
    const w = Tensor.fromArray(wData, [4]);
    w.requiresGrad = true;
    scope(() => {
      const d = tanh(w).detach();
      expect(d.requiresGrad).toBe(false);
      expect(d.node).toBeNull();
      backward(sum(mul(d, w)));
    });
    // d/dw sum(stop(tanh w) · w) = tanh(w); without the detach it would add w·(1 − tanh²w).
    const g = await w.grad!.data();
    wData.forEach((v, i) => expect(g[i]).toBeCloseTo(Math.tanh(v), 6));
    zeroGrad([w]);
    w.dispose();
  });

  it('saved activations are freed after backward, and with the loss when backward never runs', () => {
    const x = Tensor.fromArray(hashUniform(60, 9), [3, 4, 5]);
    const w = param([3, 4, 5], 10);
    const before = stats().liveBuffers;
    const forward = () => {
      const xw = mul(x, w);
      const h = tanh(xw);
      const loss = mseLoss(h, 0);
      // The user lets go of the activations; the tape still holds h (tanh saves its output) and mul's inputs.
      xw.dispose();
      h.dispose();
      return loss;
    };
    const loss = forward();
    expect(stats().liveBuffers).toBeGreaterThan(before + 1);
    backward(loss);
    loss.dispose();
    zeroGrad([w]);
    expect(stats().liveBuffers).toBe(before);

    forward().dispose();
    expect(stats().liveBuffers).toBe(before);
    [x, w].forEach((t) => t.dispose());
  });
});

describe('buffer pool: reuse within a recording', () => {
  it('a buffer released while its reader is unsubmitted takes a later GPU output at once, never a host upload', async () => {
    const n = 1237; // a size no other test allocates: the released buffer is the only free one of it
    const a = Tensor.fromArray(new Float32Array(n).fill(2), [n]);
    await a.data(); // submitted: nothing recorded now
    const y = add(a, a); // recorded, not submitted: reads a
    const released = a.binding.buffer;
    a.dispose();
    // A queue write lands before the unsubmitted add: it must not go into a's buffer.
    const b = Tensor.fromArray(new Float32Array(n).fill(7), [n]);
    expect(b.binding.buffer).not.toBe(released);
    // A dispatch's output runs after the add: it may, and does, take the buffer at once.
    const c = add(y, y);
    expect(c.binding.buffer).toBe(released);
    expect(Array.from(await y.data()).every((v) => v === 4)).toBe(true);
    expect(Array.from(await c.data()).every((v) => v === 8)).toBe(true);
    expect(Array.from(await b.data()).every((v) => v === 7)).toBe(true);
    for (const t of [y, b, c]) t.dispose();
  });
});
