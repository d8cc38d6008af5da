// Fused in-place Adam update of one parameter (shaders/adam.wgsl); the optimizer class is src/autograd/adam.ts.
import type { Tensor } from '../graph/tensor.js';
import { rt, packParams, grid1d } from '../graph/runtime.js';
import { sameShape } from './check.js';

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step number t of this update (for the bias corrections 1−β^t). */
  step: number;
}

/** param, m and v updated in place from grad, as one step of torch.optim.Adam (weight_decay 0, amsgrad off). */
export function adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, h: AdamHyper): void {
  sameShape('adamUpdate', param, grad);
  sameShape('adamUpdate', param, m);
  sameShape('adamUpdate', param, v);
  // Double precision on the CPU, as torch computes these Python floats.
  const stepSize = h.lr / (1 - h.beta1 ** h.step);
  const bc2Sqrt = Math.sqrt(1 - h.beta2 ** h.step);
  const r = rt();
  r.dispatch(
    r.pipeline('adam'),
    [grad.buffer, param.buffer, m.buffer, v.buffer],
    packParams([param.size], [h.beta1, h.beta2, 1 - h.beta1, 1 - h.beta2, stepSize, bc2Sqrt, h.eps]),
    grid1d(param.size),
  );
}
