// Full reductions (sum, mean) to a one-element tensor, and segmented sums used by other kernels' backward passes.
import { Tensor, type Shape } from '../graph/tensor.js';
import { rt, grid1d } from '../graph/runtime.js';
import { defineKernel, type Reduction } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { live } from './check.js';

/** Above this many elements a full sum runs in two passes so no workgroup loops over the whole tensor. */
const SINGLE_PASS_LIMIT = 65536;

const SEGMENT_SUM = defineKernel({
  shader: 'reduce_sum',
  params: { len: 'u32', segments: 'u32', n: 'u32', alpha: 'f32' },
  bindings: { input: 'read', out: 'read_write' },
  entry: ['lid', 'wid', 'nwg'],
  includes: ['segment_total'],
  reduction: 'f32',
});
const BROADCAST_SCALAR = defineKernel({
  shader: 'broadcast_scalar',
  params: { n: 'u32', alpha: 'f32' },
  bindings: { g: 'read', out: 'read_write' },
  entry: 'elementwise',
});

/** Full sums' reduction: the tree of 256 on every adapter (reduce_sum.wgsl, losses.wgsl). */
export const FULL_SUM_REDUCTION: Reduction = { kind: 'tree', wg: 256 };

/** out[s] = alpha · sum of segment s: `segments` contiguous runs of `len` elements, the last one cut at `n`. */
export function segmentSum(buffer: GPUBufferBinding, len: number, segments: number, alpha = 1, n = len * segments): Tensor {
  const out = Tensor.empty([segments]);
  rt().dispatch(SEGMENT_SUM, { input: buffer, out: out.binding }, { len, segments, n, alpha }, {
    groups: grid1d(segments, 1),
    reduction: FULL_SUM_REDUCTION,
  });
  return out;
}

/** The segments of a full sum of n elements: one, or ~1024 whose sums a second pass adds. */
export function sumSegments(n: number): { len: number; segments: number } {
  if (n <= SINGLE_PASS_LIMIT) return { len: n, segments: 1 };
  const len = Math.ceil(n / 1024);
  return { len, segments: Math.ceil(n / len) };
}

/** alpha · sum of all elements of x as a one-element tensor (not recorded on the tape). */
export function sumAll(x: Tensor, alpha: number): Tensor {
  const { len, segments } = sumSegments(x.size);
  if (segments === 1) return segmentSum(x.binding, x.size, 1, alpha);
  const partials = segmentSum(x.binding, len, segments, 1, x.size);
  const out = segmentSum(partials.binding, segments, 1, alpha);
  partials.dispose();
  return out;
}

/** out[i] = alpha · g[0] for a tensor of the given shape. */
export function broadcastScalar(g: Tensor, shape: Shape, alpha: number): Tensor {
  const out = Tensor.empty(shape);
  rt().dispatch(BROADCAST_SCALAR, { g: g.savedBinding, out: out.binding }, { n: out.size, alpha });
  return out;
}

function reduceAll(op: string, x: Tensor, alpha: number): Tensor {
  live(op, x);
  const out = sumAll(x, alpha);
  return record(op, [x], out, [], (g) => [broadcastScalar(g, x.shape, alpha)]);
}

export const sum = (x: Tensor): Tensor => reduceAll('sum', x, 1);
export const mean = (x: Tensor): Tensor => reduceAll('mean', x, 1 / x.size);
