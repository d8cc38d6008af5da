// Non-finite check of many tensors with one readback (shaders/nonfinite.wgsl): the training guard reads a few
// bytes per check instead of every parameter and optimiser moment.
import { Tensor } from '../graph/tensor.js';
import { rt, packParams, grid1d } from '../graph/runtime.js';
import { fill } from './fill.js';
import { live } from './check.js';

/** Values scanned by one invocation. On lavapipe, 28 M parameters and their Adam moments (ngf 64) take 0.12 s at 64
 * and 1.8 s at one value per invocation with a workgroup reduction. */
const PER = 64;

/** How many NaN / ±Inf values each tensor holds; all tensors are checked in the same submit. */
export async function countNonFinite(tensors: readonly Tensor[]): Promise<number[]> {
  live('countNonFinite', ...tensors);
  if (tensors.length === 0) return [];
  const counts = fill([tensors.length], 0); // 0.0 has the bits of 0u
  const r = rt();
  const pipeline = r.pipeline('nonfinite', { PER });
  tensors.forEach((t, slot) => r.dispatch(pipeline, [t.buffer, counts.buffer], packParams([t.size, slot]), grid1d(Math.ceil(t.size / PER))));
  const bits = await counts.data();
  counts.dispose();
  return [...new Uint32Array(bits.buffer, bits.byteOffset, bits.length)];
}
