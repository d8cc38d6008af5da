// 2×2 average pooling with stride 2 (PyTorch AvgPool2d(2)): odd trailing rows/columns are dropped; each input of a
// window gets a quarter of its gradient.
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { pool2x2Geometry } from './check.js';

const PARAMS = { H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', n: 'u32' } as const;
const WINDOW = ['pool_window'];
const FORWARD = defineKernel({ shader: 'avg_pool', params: PARAMS, includes: WINDOW, bindings: { x: 'read', y: 'read_write' }, entry: 'elementwise' });
const BACKWARD = defineKernel({ shader: 'avg_pool_backward', params: PARAMS, includes: WINDOW, bindings: { dy: 'read', dx: 'read_write' }, entry: 'elementwise' });

/** x [N, C, H, W] with H, W ≥ 2 → [N, C, ⌊H/2⌋, ⌊W/2⌋]. */
export function avgPool2x2(x: Tensor): Tensor {
  const { H, W, OH, OW, out } = pool2x2Geometry('avgPool2x2', x);
  const y = Tensor.empty(out);
  const r = rt();
  r.dispatch(FORWARD, { x: x.binding, y: y.binding }, { H, W, OH, OW, n: y.size });
  return record('avgPool2x2', [x], y, [], (dy) => {
    const dx = Tensor.empty(x.shape);
    r.dispatch(BACKWARD, { dy: dy.savedBinding, dx: dx.binding }, { H, W, OH, OW, n: x.size });
    return [dx];
  });
}
