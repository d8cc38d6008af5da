// Content losses for paired training that need no download: L1, MSE and SSIM between the corrected image and its
// in-focus target (MSE's minimiser is the conditional mean, what PSNR rewards; L1's is the median). VGG19 features (vgg19.ts) remain the paper's choice when ImageNet weights are present.
import { Tensor } from '../graph/tensor.js';
import { add, sub, mul, div } from '../kernels/binary.js';
import { scale } from '../kernels/unary.js';
import { mean } from '../kernels/reduce.js';
import { fill } from '../graph/fill.js';
import { conv2d } from '../kernels/conv2d.js';
import { l1Loss, mseLoss } from '../kernels/losses.js';

export const CONTENT_TERMS = ['vgg', 'l1', 'mse', 'ssim'] as const;
export type ContentTerm = (typeof CONTENT_TERMS)[number];
/** The content loss of a run without VGG19 weights: the best pixel terms in docs/results.md. */
export const RECOMMENDED_CONTENT: readonly ContentTerm[] = ['l1', 'ssim'];

/** a + b, where a may be absent (the first term of a sum of losses). */
export const addTerm = (a: Tensor | null, b: Tensor): Tensor => (a ? add(a, b) : b);

/** Wang et al.'s window: 11×11 Gaussian, σ = 1.5, normalised to sum 1. */
function gaussianWindow(size: number, sigma: number): Float32Array {
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - (size - 1) / 2) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  const w = new Float32Array(size * size);
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) w[i * size + j] = (g[i] * g[j]) / (s * s);
  return w;
}

/**
 * 1 − mean SSIM over the valid windows of every channel (Wang et al. 2004: Gaussian window, population
 * statistics), differentiable in both images. Images in [−1, 1] have data range 2.
 */
export class SsimLoss {
  private window: Tensor;

  constructor(readonly channels: number, readonly dataRange = 2, readonly size = 11, sigma = 1.5) {
    // Channel c sees only channel c: a diagonal C×C weight (C ≤ 3, so the zero taps cost little).
    const g = gaussianWindow(size, sigma);
    const w = new Float32Array(channels * channels * size * size);
    for (let c = 0; c < channels; c++) w.set(g, (c * channels + c) * size * size);
    this.window = Tensor.fromArray(w, [channels, channels, size, size]);
  }

  forward(x: Tensor, y: Tensor): Tensor {
    const blur = (t: Tensor) => conv2d(t, this.window, null);
    const c1 = (0.01 * this.dataRange) ** 2;
    const c2 = (0.03 * this.dataRange) ** 2;
    const muX = blur(x);
    const muY = blur(y);
    const muXY = mul(muX, muY);
    const muXX = mul(muX, muX);
    const muYY = mul(muY, muY);
    const sXY = sub(blur(mul(x, y)), muXY);
    const sXX = sub(blur(mul(x, x)), muXX);
    const sYY = sub(blur(mul(y, y)), muYY);
    const plus = (t: Tensor, c: number) => add(t, fill(t.shape, c));
    const num = mul(plus(scale(muXY, 2), c1), plus(scale(sXY, 2), c2));
    const den = mul(plus(add(muXX, muYY), c1), plus(add(sXX, sYY), c2));
    return sub(fill([1], 1), mean(div(num, den)));
  }

  dispose(): void {
    this.window.dispose();
  }
}

/** Sum of the chosen pixel terms ('l1', 'mse', 'ssim'); 'vgg' is computed by the caller from its features. */
export class PixelContentLoss {
  private ssim: SsimLoss | null;

  constructor(readonly terms: readonly ContentTerm[], channels: number) {
    this.ssim = terms.includes('ssim') ? new SsimLoss(channels) : null;
  }

  /** null when no pixel term is chosen. */
  forward(fake: Tensor, real: Tensor): Tensor | null {
    let loss: Tensor | null = null;
    if (this.terms.includes('l1')) loss = l1Loss(fake, real);
    if (this.terms.includes('mse')) loss = addTerm(loss, mseLoss(fake, real));
    if (this.ssim) loss = addTerm(loss, this.ssim.forward(fake, real));
    return loss;
  }

  dispose(): void {
    this.ssim?.dispose();
  }
}

/** Parses 'l1+ssim', 'vgg', 'vgg+l1', …: a non-empty set of known terms, each once. */
export function parseContentTerms(spec: string): ContentTerm[] {
  const parts = spec.split('+').map((s) => s.trim());
  const bad = parts.find((p) => !(CONTENT_TERMS as readonly string[]).includes(p));
  if (bad !== undefined) throw new Error(`unknown content term '${bad}' in '${spec}'; combine ${CONTENT_TERMS.join(', ')} with '+' (e.g. l1+ssim)`);
  if (new Set(parts).size !== parts.length) throw new Error(`content term repeated in '${spec}'`);
  return CONTENT_TERMS.filter((t) => parts.includes(t));
}
