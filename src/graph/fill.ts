// Fills a tensor with one value on the GPU (no upload): the tape's seed gradient, optimiser state.
import { Tensor, type Shape } from './tensor.js';
import { rt } from './runtime.js';
import { defineKernel } from './kernel.js';

const FILL = defineKernel({ shader: 'fill', params: { n: 'u32', value: 'f32' }, bindings: { out: 'read_write' }, entry: 'elementwise' });

/** A new tensor filled on the GPU (no upload). */
export function fill(shape: Shape, value: number): Tensor {
  const out = Tensor.empty(shape);
  fillInto(out, value);
  return out;
}

/** Overwrites every element of t with value. */
export function fillInto(t: Tensor, value: number): void {
  rt().dispatch(FILL, { out: t.binding }, { n: t.size, value });
}
