// Instance normalisation (PyTorch InstanceNorm2d): each (n, c) plane normalised over H×W with its biased variance.
import { Tensor } from '../graph/tensor.js';
import { normalizeGroups, type NormOptions } from './norm.js';

export type { NormOptions };

/** x [N, C, H, W]; optional affine weight and bias [C]; eps default 1e-5. */
export function instanceNorm(x: Tensor, opts?: NormOptions): Tensor {
  return normalizeGroups('instance_norm', x, opts);
}
