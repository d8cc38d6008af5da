// Nearest-neighbour 2× upsampling (PyTorch Upsample(scale_factor=2, mode='nearest')).
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { rank } from './check.js';

const PARAMS = { H: 'u32', W: 'u32', n: 'u32' } as const;
const FORWARD = defineKernel({ shader: 'upsample', params: PARAMS, bindings: { x: 'read', y: 'read_write' }, entry: 'elementwise' });
const BACKWARD = defineKernel({ shader: 'upsample_backward', params: PARAMS, bindings: { dy: 'read', dx: 'read_write' }, entry: 'elementwise' });

/** x [N, C, H, W] → [N, C, 2H, 2W]. */
export function upsampleNearest2x(x: Tensor): Tensor {
  rank('upsampleNearest2x', x, 4);
  const [N, C, H, W] = x.shape;
  const y = Tensor.empty([N, C, 2 * H, 2 * W]);
  const r = rt();
  r.dispatch(FORWARD, { x: x.binding, y: y.binding }, { H, W, n: y.size });
  return record('upsampleNearest2x', [x], y, [], (dy) => {
    const dx = Tensor.empty(x.shape);
    r.dispatch(BACKWARD, { dy: dy.savedBinding, dx: dx.binding }, { H, W, n: x.size });
    return [dx];
  });
}
