// Fused in-place Adam update of a range of an optimizer's arenas (shaders/adam.wgsl): parameters, gradients and
// both moments share one layout, so one dispatch updates every parameter. The optimizer class is
// src/autograd/adam.ts.
import type { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { sameShape } from './check.js';

const ADAM = defineKernel({
  shader: 'adam',
  params: {
    n: 'u32', base: 'u32',
    beta1: 'f32', beta2: 'f32', oneMinusBeta1: 'f32', oneMinusBeta2: 'f32', stepSize: 'f32', bc2Sqrt: 'f32', eps: 'f32',
  },
  bindings: { weights: 'read_write', grads: 'read', m: 'read_write', v: 'read_write' },
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

/** One step of torch.optim.Adam (weight_decay 0, amsgrad off) for elements start … end − 1 of weights, with grads
 * and the moments m and v laid out alike, in place. */
export function adamUpdate(weights: Tensor, grads: Tensor, m: Tensor, v: Tensor, start: number, end: number, h: AdamHyper): void {
  for (const t of [grads, m, v]) sameShape('adamUpdate', weights, t);
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= weights.size)) {
    throw new Error(`adamUpdate: elements ${start}…${end - 1} are not a range of ${weights.describe()}`);
  }
  // Double precision on the CPU, as torch computes these Python floats.
  const stepSize = h.lr / (1 - h.beta1 ** h.step);
  const bc2Sqrt = Math.sqrt(1 - h.beta2 ** h.step);
  rt().dispatch(
    ADAM,
    { weights: weights.binding, grads: grads.binding, m: m.binding, v: v.binding },
    { n: end - start, base: start, beta1: h.beta1, beta2: h.beta2, oneMinusBeta1: 1 - h.beta1, oneMinusBeta2: 1 - h.beta2, stepSize, bc2Sqrt, eps: h.eps },
  );
}
