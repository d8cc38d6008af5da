// 2×2 max pooling with stride 2 (PyTorch MaxPool2d(2)): odd trailing rows/columns are dropped; the gradient goes
// to the first maximum of each window.
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { pool2x2Geometry } from './check.js';

const PARAMS = { H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', n: 'u32' } as const;
const WINDOW = ['pool_window'];
const FORWARD = defineKernel({ shader: 'max_pool', params: PARAMS, includes: WINDOW, bindings: { x: 'read', y: 'read_write' }, entry: 'elementwise' });
const BACKWARD = defineKernel({ shader: 'max_pool_backward', params: PARAMS, includes: WINDOW, bindings: { x: 'read', dy: 'read', dx: 'read_write' }, entry: 'elementwise' });

/** x [N, C, H, W] with H, W ≥ 2 → [N, C, ⌊H/2⌋, ⌊W/2⌋]. */
export function maxPool2x2(x: Tensor): Tensor {
  const { H, W, OH, OW, out } = pool2x2Geometry('maxPool2x2', x);
  const y = Tensor.empty(out);
  const r = rt();
  r.dispatch(FORWARD, { x: x.binding, y: y.binding }, { H, W, OH, OW, n: y.size });
  return record('maxPool2x2', [x], y, [x], (dy) => {
    const dx = Tensor.empty(x.shape);
    r.dispatch(BACKWARD, { x: x.savedBinding, dy: dy.savedBinding, dx: dx.binding }, { H, W, OH, OW, n: x.size });
    return [dx];
  });
}
