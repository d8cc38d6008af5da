// Instance normalisation (PyTorch InstanceNorm2d): each (n, c) plane normalised over H×W with its biased variance.
import { Tensor } from '../graph/tensor.js';
import { normalize, type NormOptions } from './norm.js';

export type { NormOptions };

/** x [N, C, H, W]; optional affine weight and bias [C]; eps default 1e-5. */
export function instanceNorm(x: Tensor, opts?: NormOptions): Tensor {
  return normalize('instance_norm', x, opts);
}
