// 1-D correlation along the height or width of every plane (scipy.ndimage.correlate1d, mode 'constant', odd taps):
// a separable filter, such as Richardson–Lucy's Gaussian PSF, as two passes of K taps instead of one of K².
import { Tensor, fmtShape } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { rank } from './check.js';

const KERNEL = defineKernel({
  shader: 'correlate1d',
  params: { len: 'u32', step: 'u32', K: 'u32', blocks: 'u32', n: 'u32' },
  bindings: { x: 'read', taps: 'read', y: 'read_write' },
  consts: { FLIP: 'bool' },
  entry: 'elementwise',
});

/** x [N, C, H, W], taps [K] (K odd), dim 2 (along H) or 3 (along W) → x's shape. Gradient for x only. */
export function correlate1d(x: Tensor, taps: Tensor, dim: 2 | 3): Tensor {
  const op = 'correlate1d';
  rank(op, x, 4);
  if (dim !== 2 && dim !== 3) throw new Error(`${op}: dim must be 2 (height) or 3 (width), got ${dim}`);
  if (taps.shape.length !== 1 || taps.size % 2 !== 1) throw new Error(`${op}: taps must be a vector of odd length, got ${fmtShape(taps.shape)}`);
  if (taps.requiresGrad) throw new Error(`${op}: the gradient of the taps is not supported`);
  const [, , H, W] = x.shape;
  const len = dim === 2 ? H : W;
  const blocks = Math.ceil(len / 4);
  const geometry = { len, step: dim === 2 ? W : 1, K: taps.size, blocks, n: (x.size / len) * blocks };
  const r = rt();
  const y = Tensor.empty(x.shape);
  r.dispatch(KERNEL, { x: x.binding, taps: taps.binding, y: y.binding }, geometry, { consts: { FLIP: false } });
  return record(op, [x, taps], y, [taps], (dy) => {
    const dx = Tensor.empty(x.shape);
    r.dispatch(KERNEL, { x: dy.savedBinding, taps: taps.savedBinding, y: dx.binding }, geometry, { consts: { FLIP: true } });
    return [dx, null];
  });
}
