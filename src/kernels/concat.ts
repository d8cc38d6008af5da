// Concatenation of NCHW tensors along channels (dim 1); backward splits the gradient back into the inputs.
import { Tensor, fmtShape } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { rank } from './check.js';

const PARAMS = { n: 'u32', block: 'u32', outBlock: 'u32', offset: 'u32' } as const;
const FORWARD = defineKernel({ shader: 'concat', params: PARAMS, bindings: { x: 'read', y: 'read_write' }, entry: 'elementwise' });
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
    r.dispatch(FORWARD, { x: t.buffer, y: y.buffer }, { n: t.size, block: t.shape[1] * L, outBlock: C * L, offset });
    offset += t.shape[1] * L;
  }
  return record('concat', tensors, y, [], (dy) =>
    tensors.map((t, k) => {
      if (!t.requiresGrad) return null;
      const dx = Tensor.empty(t.shape);
      r.dispatch(BACKWARD, { dy: dy.savedBuffer, dx: dx.buffer }, { n: t.size, block: t.shape[1] * L, outBlock: C * L, offset: offsets[k] });
      return dx;
    }),
  );
}
