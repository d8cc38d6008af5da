// Concatenation of NCHW tensors along channels (dim 1) or along the batch (dim 0), and batch slices; each backward
// moves the gradient back into its inputs. Along the batch every input is one contiguous range of the output: those
// moves are buffer copies, not dispatches.
import { Tensor, fmtShape } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { fill } from '../graph/fill.js';
import { rank } from './check.js';

const PARAMS = { n: 'u32', block: 'u32', outBlock: 'u32', offset: 'u32' } as const;
const FORWARD = defineKernel({ shader: 'concat', params: PARAMS, bindings: { x: 'read', y: 'read_write' }, consts: { ACC: 'bool' }, entry: 'elementwise' });
const BACKWARD = defineKernel({ shader: 'concat_backward', params: PARAMS, bindings: { dy: 'read', dx: 'read_write' }, entry: 'elementwise' });

/** Tensors [N, C_k, H, W] with equal N, H, W → [N, ΣC_k, H, W]. */
export function concat(tensors: Tensor[]): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('concat: expected a non-empty list of tensors');
  tensors.forEach((t, k) => rank('concat', t, 4, `tensor ${k}`));
  const [N, , H, W] = tensors[0].shape;
  tensors.forEach((t, k) => {
    if (t.shape[0] !== N || t.shape[2] !== H || t.shape[3] !== W) {
      throw new Error(`concat: tensors must match in N, H and W; tensor 0 is ${fmtShape(tensors[0].shape)}, tensor ${k} is ${fmtShape(t.shape)}`);
    }
  });
  const L = H * W;
  const C = tensors.reduce((a, t) => a + t.shape[1], 0);
  const y = Tensor.empty([N, C, H, W]);
  const r = rt();
  // Element offset of each input's channel slice inside one batch item of the output.
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    offsets.push(offset);
    r.dispatch(FORWARD, { x: t.binding, y: y.binding }, { n: t.size, block: t.shape[1] * L, outBlock: C * L, offset }, { consts: { ACC: false } });
    offset += t.shape[1] * L;
  }
  return record('concat', tensors, y, [], (dy) =>
    tensors.map((t, k) => {
      if (!t.requiresGrad) return null;
      const dx = Tensor.empty(t.shape);
      r.dispatch(BACKWARD, { dy: dy.savedBinding, dx: dx.binding }, { n: t.size, block: t.shape[1] * L, outBlock: C * L, offset: offsets[k] });
      return dx;
    }),
  );
}

/** Tensors [N_k, C, H, W] with equal C, H, W → [ΣN_k, C, H, W]: one batch for two calls of a network (its weight
 * gradients then sum inside each kernel instead of in one accumulation per parameter). */
export function catBatch(tensors: Tensor[]): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('catBatch: expected a non-empty list of tensors');
  tensors.forEach((t, k) => rank('catBatch', t, 4, `tensor ${k}`));
  const [, C, H, W] = tensors[0].shape;
  tensors.forEach((t, k) => {
    if (t.shape[1] !== C || t.shape[2] !== H || t.shape[3] !== W) {
      throw new Error(`catBatch: tensors must match in C, H and W; tensor 0 is ${fmtShape(tensors[0].shape)}, tensor ${k} is ${fmtShape(t.shape)}`);
    }
  });
  const total = tensors.reduce((a, t) => a + t.size, 0);
  const y = Tensor.empty([total / (C * H * W), C, H, W]);
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    offsets.push(offset);
    copyElements(t.binding, 0, y.binding, offset, t.size);
    offset += t.size;
  }
  return record('catBatch', tensors, y, [], (dy) =>
    tensors.map((t, k) => {
      if (!t.requiresGrad) return null;
      const dx = Tensor.empty(t.shape);
      copyElements(dy.savedBinding, offsets[k], dx.binding, 0, t.size);
      return dx;
    }),
  );
}

/** Items start … start + count − 1 of x [N, C, H, W] (a copy); backward writes dy into zeros of x's shape, or adds it
 * to x's earlier gradient when the tape offers one. */
export function sliceBatch(x: Tensor, start: number, count: number): Tensor {
  rank('sliceBatch', x, 4);
  const N = x.shape[0];
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > N) {
    throw new Error(`sliceBatch: items ${start}…${start + count - 1} are not within the batch of ${fmtShape(x.shape)}`);
  }
  const item = x.size / N;
  const y = Tensor.empty([count, ...x.shape.slice(1)]);
  const r = rt();
  const at = { n: y.size, block: y.size, outBlock: x.size, offset: start * item };
  copyElements(x.binding, at.offset, y.binding, 0, y.size);
  return record('sliceBatch', [x], y, [], (dy, into) => {
    const dx = into[0] ?? fill(x.shape, 0);
    r.dispatch(FORWARD, { x: dy.savedBinding, y: dx.binding }, at, { consts: { ACC: into[0] !== null } });
    return [dx];
  });
}

/** `elements` f32 values from element `from` of src to element `to` of dst (a buffer copy). */
function copyElements(src: GPUBufferBinding, from: number, dst: GPUBufferBinding, to: number, elements: number): void {
  rt().copy(src.buffer, (src.offset ?? 0) + from * 4, dst.buffer, (dst.offset ?? 0) + to * 4, elements * 4);
}
