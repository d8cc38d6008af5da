// In-place exponential moving average of a parameter (shaders/weight_average.wgsl); the averaging class that
// training uses is src/autograd/weight_average.ts.
import type { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { sameShape } from './check.js';

const WEIGHT_AVERAGE = defineKernel({
  shader: 'weight_average',
  params: { n: 'u32', decay: 'f32', oneMinusDecay: 'f32' },
  bindings: { param: 'read', avg: 'read_write' },
  entry: 'elementwise',
});

/** avg = decay · avg + (1 − decay) · param, in place; decay in [0, 1]. */
export function averageInto(avg: Tensor, param: Tensor, decay: number): void {
  sameShape('averageInto', avg, param);
  if (!(decay >= 0 && decay <= 1)) throw new Error(`averageInto: decay must be in [0, 1], got ${decay}`);
  rt().dispatch(WEIGHT_AVERAGE, { param: param.savedBuffer, avg: avg.buffer }, { n: avg.size, decay, oneMinusDecay: 1 - decay });
}
