// The field's scoring convention for microscopy (CSBDeep / CARE, used by ZeroCostDL4Mic): the ground truth
// percentile-normalised (0.1 / 99.9 → [0, 1]), each compared image mapped onto it by the least-squares affine fit
// (CSBDeep's normalize_minmse), then PSNR / SSIM with data range 1 and PCC. Scores no longer depend on the camera's
// offset, gain or bit depth: raw 16-bit scores with range 65535 are ~75 dB for any dim image. CPU, float64 except
// where CSBDeep works in float32.
import type { Image } from '../data/image.js';
import { percentiles, DEFAULT_PERCENTILES } from '../data/normalize.js';
import { psnr, ssim, pcc, type MetricImage } from './metrics.js';

export interface NormalizedScores {
  psnr: number;
  /** scikit-image defaults (7×7 uniform window, sample covariance), data range 1. */
  ssim: number;
  /** Wang et al. 2004 (Gaussian σ 1.5, population covariance), data range 1; ZeroCostDL4Mic reports this one. */
  ssimWang: number;
  pcc: number;
}

export interface ConventionOptions {
  /** Percentiles of the ground truth mapped to 0 and 1 (default 0.1 and 99.9). */
  pLow?: number;
  pHigh?: number;
}

/** One line naming the convention, for table notes. */
export const normalizedConventionNote = (o: ConventionOptions = {}): string =>
  `normalized: ground truth ${o.pLow ?? DEFAULT_PERCENTILES.pLow}/${o.pHigh ?? DEFAULT_PERCENTILES.pHigh} percentiles → [0, 1], `
  + 'each image mapped onto it by the least-squares scale and offset (CSBDeep normalize_minmse), data range 1';

/** csbdeep.utils.normalize(truth, pLow, pHigh, clip=False): (x − lo) / (hi − lo + 1e-20) in float32, percentiles
 *  over all pixels and channels. */
export function normalizeTruth(truth: Image, opts: ConventionOptions = {}): Float32Array {
  const pLow = opts.pLow ?? DEFAULT_PERCENTILES.pLow;
  const pHigh = opts.pHigh ?? DEFAULT_PERCENTILES.pHigh;
  const [lo, hi] = percentiles(truth, [pLow, pHigh]).map(Math.fround);
  if (!(hi > lo)) throw new Error(`normalizeTruth: the ground truth is flat between its ${pLow} and ${pHigh} percentiles (${lo}): nothing to normalise against`);
  const den = Math.fround(Math.fround(hi - lo) + 1e-20);
  const out = new Float32Array(truth.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(truth.data[i] - lo) / den;
  return out;
}

/** csbdeep.utils.normalize_minmse(x, target): α·x + β with α = cov(x, t) / (var(x) + 1e-10) (n − 1 in both, as
 *  np.cov) and β = mean(t) − α·mean(x), the affine map of x closest to target in mean squared error. */
export function normalizeMinMse(x: ArrayLike<number>, target: ArrayLike<number>): Float32Array {
  const n = x.length;
  if (target.length !== n) throw new Error(`normalizeMinMse: x has ${n} values, target ${target.length}`);
  if (n < 2) throw new Error(`normalizeMinMse: need at least 2 values, got ${n}`);
  let mx = 0;
  let mt = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    mt += target[i];
  }
  mx /= n;
  mt /= n;
  let sxx = 0;
  let sxt = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    sxx += dx * dx;
    sxt += dx * (target[i] - mt);
  }
  const alpha = sxt / (n - 1) / (sxx / (n - 1) + 1e-10);
  const beta = mt - alpha * mx;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = alpha * x[i] + beta;
  return out;
}

const asImage = (like: MetricImage, data: ArrayLike<number>): MetricImage => ({ width: like.width, height: like.height, channels: like.channels, data });

/** Scores of pred against truth in the normalized convention. pred: an image of truth's size, or its pixels
 *  interleaved H×W×C as Image.data (e.g. a float prediction in any units). */
export function scoreNormalized(pred: Float32Array | MetricImage, truth: Image, opts: ConventionOptions = {}): NormalizedScores {
  const data = pred instanceof Float32Array ? pred : pred.data;
  if (!(pred instanceof Float32Array) && (pred.width !== truth.width || pred.height !== truth.height || pred.channels !== truth.channels)) {
    throw new Error(`scoreNormalized: image sizes differ: pred ${pred.width}×${pred.height}×${pred.channels}, truth ${truth.width}×${truth.height}×${truth.channels}`);
  }
  if (data.length !== truth.data.length) throw new Error(`scoreNormalized: pred has ${data.length} values, the ground truth ${truth.width}×${truth.height}×${truth.channels} = ${truth.data.length}`);
  const t = asImage(truth, normalizeTruth(truth, opts));
  const p = asImage(truth, normalizeMinMse(data, t.data));
  return {
    psnr: psnr(p, t, { dataRange: 1 }),
    ssim: ssim(p, t, { dataRange: 1, convention: 'skimage' }),
    ssimWang: ssim(p, t, { dataRange: 1, convention: 'wang' }),
    pcc: pcc(p, t),
  };
}
