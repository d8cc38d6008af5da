// Nearest-neighbour 2× upsampling (PyTorch Upsample(scale_factor=2, mode='nearest')).
import { Tensor } from '../graph/tensor.js';
import { rt, packParams, grid1d } from '../graph/runtime.js';
import { record } from '../autograd/tape.js';
import { rank } from './check.js';

/** x [N, C, H, W] → [N, C, 2H, 2W]. */
export function upsampleNearest2x(x: Tensor): Tensor {
  rank('upsampleNearest2x', x, 4);
  const [N, C, H, W] = x.shape;
  const y = Tensor.empty([N, C, 2 * H, 2 * W]);
  const r = rt();
  r.dispatch(r.pipeline('upsample'), [x.buffer, y.buffer], packParams([H, W, y.size]), grid1d(y.size));
  return record('upsampleNearest2x', [x], y, [], (dy) => {
    const dx = Tensor.empty(x.shape);
    r.dispatch(r.pipeline('upsample_backward'), [dy.savedBuffer, dx.buffer], packParams([H, W, x.size]), grid1d(x.size));
    return [dx];
  });
}
