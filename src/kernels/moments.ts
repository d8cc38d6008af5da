// Per-channel mean and M2 (sum of squared deviations) of a map band: partial instance-norm statistics that
// layer-major correction combines across bands (src/correct/layer_major.ts). Inference only (not recorded).
import { Tensor } from '../graph/tensor.js';
import { rt, grid1d } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { rank } from './check.js';
import { reductionVariant } from './autotune.js';

const MOMENTS = defineKernel({
  shader: 'channel_moments',
  params: { C: 'u32', L: 'u32', slot: 'u32' },
  bindings: { x: { access: 'read', type: 'array<SRC>' }, m: 'read_write' },
  consts: { SRC: 'float' },
  includes: ['welford'],
  entry: ['lid', 'wid', 'nwg'],
  reduction: 'f32',
});

/** Writes (mean, M2) of each channel plane of x [1, C, H, W] (f32 or f16) to out [slots, C, 2] at `slot`. */
export function channelMoments(x: Tensor, out: Tensor, slot: number): void {
  rank('channelMoments', x, 4);
  const [N, C, H, W] = x.shape;
  rank('channelMoments', out, 3);
  if (N !== 1 || out.shape[1] !== C || out.shape[2] !== 2 || !(Number.isInteger(slot) && slot >= 0 && slot < out.shape[0])) {
    throw new Error(`channelMoments: input ${x.describe()} (one image) and slot ${slot} do not fit moments ${out.describe()}`);
  }
  rt().dispatch(MOMENTS, { x: x.storageBinding, m: out.binding }, { C, L: H * W, slot }, { reduction: reductionVariant(), groups: grid1d(C, 1), consts: { SRC: x.dtype } });
}

/** Combines per-band moments [bands, C, 2] of bands holding counts[k] values per channel into instance-norm
 * statistics [mean[0..C), rstd[0..C)] (f64, Chan et al.'s parallel variance). */
export function combineMoments(m: Float32Array, counts: readonly number[], eps: number): Float32Array {
  const C = m.length / 2 / counts.length;
  const total = counts.reduce((a, b) => a + b, 0);
  const out = new Float32Array(2 * C);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let k = 0; k < counts.length; k++) mean += counts[k] * m[2 * (k * C + c)];
    mean /= total;
    let m2 = 0;
    for (let k = 0; k < counts.length; k++) {
      const d = m[2 * (k * C + c)] - mean;
      m2 += m[2 * (k * C + c) + 1] + counts[k] * d * d;
    }
    out[c] = mean;
    out[C + c] = 1 / Math.sqrt(m2 / total + eps);
  }
  return out;
}
