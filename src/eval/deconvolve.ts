// Richardson–Lucy deconvolution, the classical baseline for defocus correction: scikit-image 0.19's
// restoration.richardson_lucy on the GPU, with PSFs from the synthetic generator's optics, a file or a Gaussian,
// and a fit of the Gaussian's σ and the iteration count on training pairs.
import { readImage, checkImage, type Image } from '../data/image.js';
import { fitNormalization, normalize, DEFAULT_PERCENTILES, type Normalization } from '../data/normalize.js';
import { normalizationMode, toOutputImage, type NormalizationChoice } from '../correct/correct.js';
import type { OutputDtype } from '../correct/files.js';
import { defocusPsf, type Optics } from '../synth/psf.js';
import {
  gaussianPsf, normalizedPsf, richardsonLucyPadded, toUnitPlanes, type Planes, type Psf, type RichardsonLucyOptions,
} from '../model/richardson_lucy.js';
import { scoreNormalized, type ConventionOptions } from './convention.js';

export { richardsonLucy, gaussianPsf, type Planes, type Psf, type RichardsonLucyOptions } from '../model/richardson_lucy.js';

/** The synthetic generator's defocus PSF (src/synth/psf.ts) at z µm from focus. */
export function opticsPsf(optics: Optics, z: number): Psf {
  const k = defocusPsf(optics, z);
  return { width: k.size, height: k.size, data: k.data };
}

/** A PSF image (one channel, any bit depth), normalised to sum 1. */
export async function readPsf(path: string): Promise<Psf> {
  const img = await readImage(path);
  if (img.channels !== 1) throw new Error(`PSF ${path} has ${img.channels} channels; give a single-channel image`);
  try {
    return normalizedPsf(img.width, img.height, img.data);
  } catch (err) {
    throw new Error(`PSF ${path}: ${(err as Error).message}`);
  }
}

// ---- images ----

export interface DeconvolveOptions extends RichardsonLucyOptions {
  /** Default false, unlike richardsonLucy: normalised images exceed 1 in their brightest pixels and RL raises peaks. */
  clip?: boolean;
  /** Intensity mapping to [0, 1] before RL (as comi correct: 'auto' = 8-bit /255, others by percentiles). */
  normalization?: NormalizationChoice;
  percentiles?: { pLow: number; pHigh: number };
  /** Output type (as comi correct; default 'same': the input's bit depth). */
  dtype?: OutputDtype;
}

/** The image's planes mapped to [0, 1] (negatives, below the low percentile, to 0: RL models non-negative counts). */
function unitPlanes(img: Image, normalization: NormalizationChoice, percentiles: { pLow: number; pHigh: number }): { planes: Planes; norm: Normalization } {
  checkImage(img, 'deconvolve');
  const norm = fitNormalization(img, normalizationMode(img, normalization), percentiles);
  return { planes: toUnitPlanes(normalize(img, norm), img.channels, img.width, img.height), norm };
}

/** Deconvolves an image (mirror-padded, see richardsonLucyPadded): same size and channels; the intensity mapping is
 *  undone on output. */
export async function deconvolveImage(img: Image, psf: Psf, opts: DeconvolveOptions): Promise<Image> {
  const { planes, norm } = unitPlanes(img, opts.normalization ?? 'auto', opts.percentiles ?? DEFAULT_PERCENTILES);
  const [u] = await richardsonLucyPadded(planes, psf, [opts.iterations], { ...opts, clip: opts.clip ?? false });
  for (let i = 0; i < u.length; i++) u[i] = 2 * u[i] - 1;
  return toOutputImage(u, norm, img, opts.dtype ?? 'same');
}

// ---- fit on training pairs ----

/** Golden-section steps after the grid: σ within about ±3 % of the bracket's optimum. */
const REFINE_STEPS = 5;
/** The default σ search interval, and how far the grid goes on past its top while the best σ sits there. */
const DEFAULT_SIGMA_RANGE: [number, number] = [0.5, 8];
const EXTENDED_SIGMA_MAX = 32;
/** The default iteration counts, and how far they go on (doubling) while the best count is their top. */
export const DEFAULT_ITERATIONS: readonly number[] = [5, 10, 20, 30];
export const EXTENDED_ITERATIONS_MAX = 240;

export interface FitOptions extends ConventionOptions {
  /** Iteration counts to choose from. Default 5, 10, 20, 30, extended at the fitted σ (doubling, up to 240) while
   * the best count is the top: a wide blur with little noise (BBBC006's z00 plane) keeps gaining past 30. A given
   * list is kept as it is. */
  iterations?: number[];
  /** σ search interval in pixels. Default 0.5 … 8, extended (√2 steps, up to 32 px) while the best σ is its top:
   * strong defocus, as BBBC006's z00 plane, blurs wider than 8 px. A given interval is kept as it is. */
  sigmaRange?: [number, number];
  normalization?: NormalizationChoice;
  percentiles?: { pLow: number; pHigh: number };
  /** After each σ tried: the count so far, the count the search takes and the best so far. */
  onTrial?: (trials: number, total: number, best: RichardsonLucyFit) => void;
}

export interface RichardsonLucyFit {
  sigma: number;
  iterations: number;
  /** Mean PSNR over the pairs in the normalized convention (convention.ts) at that σ and iteration count. */
  psnr: number;
}

const interleave = (p: Float32Array, plane: number, channels: number): Float32Array => {
  if (channels === 1) return p;
  const out = new Float32Array(p.length);
  for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) out[i * channels + c] = p[c * plane + i];
  return out;
};

/**
 * The Gaussian PSF σ and iteration count that maximise the mean PSNR of RL(source) against target over the pairs,
 * scored in the normalized convention. σ: a log-spaced grid (ratio √2) over sigmaRange, then a golden-section
 * search between the best grid point's neighbours; every σ tried runs RL once to the largest iteration count.
 */
export async function fitRichardsonLucy(pairs: { source: Image; target: Image }[], opts: FitOptions = {}): Promise<RichardsonLucyFit> {
  if (!Array.isArray(pairs) || pairs.length === 0) throw new Error('fitRichardsonLucy: no image pairs given');
  const iters = [...(opts.iterations ?? DEFAULT_ITERATIONS)].sort((a, b) => a - b);
  if (!iters.every((n, i) => Number.isInteger(n) && n >= 1 && (i === 0 || n > iters[i - 1]))) throw new Error(`fitRichardsonLucy: iterations must be distinct positive integers, got ${iters.join(', ')}`);
  const [lo, hi] = opts.sigmaRange ?? DEFAULT_SIGMA_RANGE;
  if (!(lo > 0 && hi > lo && hi <= 100)) throw new Error(`fitRichardsonLucy: sigmaRange must be 0 < min < max ≤ 100, got ${lo}, ${hi}`);
  const inputs = pairs.map(({ source, target }, i) => {
    checkImage(source, `pair ${i} source`);
    checkImage(target, `pair ${i} target`);
    if (source.width !== target.width || source.height !== target.height || source.channels !== target.channels) {
      throw new Error(`fitRichardsonLucy: pair ${i}: source is ${source.width}×${source.height}×${source.channels}, target ${target.width}×${target.height}×${target.channels}`);
    }
    return unitPlanes(source, opts.normalization ?? 'auto', opts.percentiles ?? DEFAULT_PERCENTILES).planes;
  });
  let trials = 0;
  const grid: number[] = [];
  for (let s = lo; s < hi * 1.0001; s *= Math.SQRT2) grid.push(s);
  let best: RichardsonLucyFit = { sigma: NaN, iterations: 0, psnr: -Infinity };
  let extraTrials = 0;
  const trial = async (sigma: number, counts = iters): Promise<number> => {
    const psf = gaussianPsf(sigma);
    const sums = new Float64Array(counts.length);
    for (const [i, planes] of inputs.entries()) {
      const outs = await richardsonLucyPadded(planes, psf, counts, { clip: false });
      outs.forEach((u, k) => { sums[k] += scoreNormalized(interleave(u, planes.width * planes.height, planes.planes), pairs[i].target, opts).psnr; });
    }
    const k = sums.indexOf(Math.max(...sums));
    const fit = { sigma, iterations: counts[k], psnr: sums[k] / inputs.length };
    if (fit.psnr > best.psnr) best = fit;
    opts.onTrial?.(++trials, grid.length + 2 + REFINE_STEPS + extraTrials, best);
    return fit.psnr;
  };
  for (const s of grid) await trial(s);
  while (!opts.sigmaRange && best.sigma === grid[grid.length - 1] && best.sigma * Math.SQRT2 <= EXTENDED_SIGMA_MAX * 1.0001) {
    grid.push(best.sigma * Math.SQRT2);
    await trial(grid[grid.length - 1]);
  }
  const at = grid.indexOf(best.sigma);
  let a = Math.log(grid[Math.max(0, at - 1)]);
  let b = Math.log(grid[Math.min(grid.length - 1, at + 1)]);
  const g = (Math.sqrt(5) - 1) / 2;
  let x1 = b - g * (b - a);
  let x2 = a + g * (b - a);
  let f1 = await trial(Math.exp(x1));
  let f2 = await trial(Math.exp(x2));
  for (let k = 0; k < REFINE_STEPS; k++) {
    if (f1 >= f2) {
      b = x2; x2 = x1; f2 = f1; x1 = b - g * (b - a); f1 = await trial(Math.exp(x1));
    } else {
      a = x1; x1 = x2; f1 = f2; x2 = a + g * (b - a); f2 = await trial(Math.exp(x2));
    }
  }
  const top = iters[iters.length - 1];
  if (!opts.iterations && best.iterations === top) {
    const counts = [top];
    while (counts[counts.length - 1] * 2 <= EXTENDED_ITERATIONS_MAX) counts.push(counts[counts.length - 1] * 2);
    extraTrials = 1;
    await trial(best.sigma, counts);
  }
  return best;
}
