// Batch normalisation in training mode (PyTorch BatchNorm2d.train()): each channel normalised with the mean and
// biased variance of its N×H×W values. No running statistics are kept.
import { Tensor } from '../graph/tensor.js';
import { normalizeGroups, type NormOptions } from './norm.js';

export type { NormOptions };

/** x [N, C, H, W]; optional affine weight and bias [C]; eps default 1e-5. */
export function batchNorm(x: Tensor, opts?: NormOptions): Tensor {
  return normalizeGroups('batch_norm', x, opts);
}
