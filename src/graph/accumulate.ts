// dst += src in place: how the tape sums the gradients of a tensor used more than once (not itself recorded).
import { Tensor, fmtShape } from './tensor.js';
import { rt } from './runtime.js';
import { defineKernel } from './kernel.js';

const ACCUMULATE = defineKernel({ shader: 'accumulate', params: { n: 'u32' }, bindings: { src: 'read', dst: 'read_write' }, entry: 'elementwise' });

export function accumulate(dst: Tensor, src: Tensor): void {
  for (const t of [dst, src]) t.assertLive('accumulate');
  if (dst.shape.length !== src.shape.length || dst.shape.some((d, i) => d !== src.shape[i])) {
    throw new Error(`accumulate: shapes must match, got ${fmtShape(dst.shape)} and ${fmtShape(src.shape)}`);
  }
  rt().dispatch(ACCUMULATE, { src: src.savedBinding, dst: dst.binding }, { n: dst.size });
}
