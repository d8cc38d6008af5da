// Runs code with the kernel strategies only GPUs pick forced on whatever adapter runs the tests.
import { convTiling, setConvTiling, type ConvTiling } from '../../src/kernels/conv_gemm.js';
import { setReduction } from '../../src/kernels/autotune.js';

/** Every convolution forced to `t` and every workgroup reduction to the GPUs' 256-wide tree while `fn` runs; the
 * tiling found before and the adapter's own reduction are restored after. */
export async function withGpuStrategy<T>(t: ConvTiling, fn: () => Promise<T>): Promise<T> {
  const before = convTiling();
  setConvTiling(t);
  setReduction('tree');
  try {
    return await fn();
  } finally {
    setConvTiling(before);
    setReduction(null);
  }
}

/** A strategy in words, for test names: 'tiles 8×8, split-K', 'winograd F(4×4) 8×8, tiled GEMMs'. */
export function strategyName(t: ConvTiling): string {
  const winograd = t.strategy === 'winograd' ? ` F(${t.m ?? 2}×${t.m ?? 2})` : '';
  return `${t.strategy ?? 'registers'}${winograd} ${t.tm}×${t.tn}${t.splitK ? ', split-K' : ''}${t.tiledGemm ? ', tiled GEMMs' : ''}`;
}
