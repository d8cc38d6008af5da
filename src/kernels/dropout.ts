// Seeded dropout: the keep mask is hash32(index, seed) ≥ ⌊p·2³²⌋, computed in the shader, so a (seed, p) pair gives
// the same mask in forward, backward, and the Python fixtures; kept values are scaled by 1/(1 − p).
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { record } from '../autograd/tape.js';
import { live } from './check.js';

const TWO_POW_32 = 4294967296;

const DROPOUT = defineKernel({
  shader: 'dropout',
  params: { n: 'u32', seed: 'u32', threshold: 'u32', scale: 'f32' },
  bindings: { x: 'read', y: 'read_write' },
  entry: 'elementwise',
});

function masked(src: GPUBufferBinding, shape: readonly number[], seed: number, threshold: number, scale: number): Tensor {
  const out = Tensor.empty(shape);
  rt().dispatch(DROPOUT, { x: src, y: out.binding }, { n: out.size, seed, threshold, scale });
  return out;
}

/** p in [0, 1): probability of zeroing an element; seed an integer in [0, 2³²). p = 0 gives a copy of x. */
export function dropout(x: Tensor, p: number, seed: number): Tensor {
  live('dropout', x);
  if (!(typeof p === 'number' && p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) {
    throw new Error(`dropout: seed must be an integer in [0, 2^32), got ${seed}`);
  }
  const threshold = Math.floor(p * TWO_POW_32);
  const scale = 1 / (1 - p);
  const y = masked(x.binding, x.shape, seed, threshold, scale);
  return record('dropout', [x], y, [], (dy) => [masked(dy.savedBinding, x.shape, seed, threshold, scale)]);
}
