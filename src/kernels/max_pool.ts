// 2×2 max pooling with stride 2 (PyTorch MaxPool2d(2)): odd trailing rows/columns are dropped; the gradient goes
// to the first maximum of each window.
import { Tensor } from '../graph/tensor.js';
import { rt, packParams, grid1d } from '../graph/runtime.js';
import { record } from '../autograd/tape.js';
import { rank } from './check.js';

/** x [N, C, H, W] with H, W ≥ 2 → [N, C, ⌊H/2⌋, ⌊W/2⌋]. */
export function maxPool2x2(x: Tensor): Tensor {
  rank('maxPool2x2', x, 4);
  const [N, C, H, W] = x.shape;
  if (H < 2 || W < 2) throw new Error(`maxPool2x2: input height and width must be at least 2, got ${x.describe()}`);
  const OH = Math.floor(H / 2);
  const OW = Math.floor(W / 2);
  const y = Tensor.empty([N, C, OH, OW]);
  const r = rt();
  r.dispatch(r.pipeline('max_pool'), [x.buffer, y.buffer], packParams([H, W, OH, OW, y.size]), grid1d(y.size));
  return record('maxPool2x2', [x], y, [x], (dy) => {
    const dx = Tensor.empty(x.shape);
    r.dispatch(r.pipeline('max_pool_backward'), [x.savedBuffer, dy.savedBuffer, dx.buffer], packParams([H, W, OH, OW, x.size]), grid1d(x.size));
    return [dx];
  });
}
