import { Tensor, type Shape } from '../graph/tensor.js';
import { rt, packParams, grid1d } from '../graph/runtime.js';

/** A new tensor filled on the GPU (no upload). */
export function fill(shape: Shape, value: number): Tensor {
  const out = Tensor.empty(shape);
  fillInto(out, value);
  return out;
}

/** Overwrites every element of t with value. */
export function fillInto(t: Tensor, value: number): void {
  const r = rt();
  r.dispatch(r.pipeline('fill'), [t.buffer], packParams([t.size], [value]), grid1d(t.size));
}
