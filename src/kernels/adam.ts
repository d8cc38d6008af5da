// Fused in-place Adam update of one parameter (shaders/adam.wgsl); the optimizer class is src/autograd/adam.ts.
import type { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { sameShape } from './check.js';

const ADAM = defineKernel({
  shader: 'adam',
  params: { n: 'u32', beta1: 'f32', beta2: 'f32', oneMinusBeta1: 'f32', oneMinusBeta2: 'f32', stepSize: 'f32', bc2Sqrt: 'f32', eps: 'f32' },
  bindings: { grad: 'read', param: 'read_write', m: 'read_write', v: 'read_write' },
  entry: 'elementwise',
});

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
  rt().dispatch(
    ADAM,
    { grad: grad.buffer, param: param.buffer, m: m.buffer, v: v.buffer },
    { n: param.size, beta1: h.beta1, beta2: h.beta2, oneMinusBeta1: 1 - h.beta1, oneMinusBeta2: 1 - h.beta2, stepSize, bc2Sqrt, eps: h.eps },
  );
}
