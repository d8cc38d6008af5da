// Richardson–Lucy deconvolution, the classical baseline for defocus correction: scikit-image 0.19's
// restoration.richardson_lucy on the GPU, with PSFs from the synthetic generator's optics, a file or a Gaussian,
// and a fit of the Gaussian's σ and the iteration count on training pairs.
import { readImage, checkImage, type Image } from '../data/image.js';
import { fitNormalization, normalize, DEFAULT_PERCENTILES, type Normalization } from '../data/normalize.js';
import { normalizationMode, toOutputImage, type NormalizationChoice } from '../correct/correct.js';
import type { OutputDtype } from '../correct/files.js';
import { defocusPsf, type Optics } from '../synth/psf.js';
import { initGpu } from '../graph/runtime.js';
import { Tensor, scope } from '../graph/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { conv2d } from '../kernels/conv2d.js';
import { add, div, mul } from '../kernels/binary.js';
import { fill } from '../graph/fill.js';
import { scoreNormalized, type ConventionOptions } from './convention.js';

/** A point spread function, row-major height×width (any size, centred as scipy.signal.convolve mode 'same'). */
export interface Psf {
  width: number;
  height: number;
  data: ArrayLike<number>;
}

/** Planar float images: `planes` independent planes of height×width (e.g. the channels of one image). */
export interface Planes {
  width: number;
  height: number;
  planes: number;
  data: Float32Array;
}

export interface RichardsonLucyOptions {
  /** num_iter. */
  iterations: number;
  /** Clip the result to [−1, 1] (scikit-image's default, true). */
  clip?: boolean;
  /** filter_epsilon: where the blurred estimate is below it, the ratio is 0 (default: off). */
  filterEpsilon?: number;
  onIteration?: (done: number, total: number) => void;
}

function checkPsf(psf: Psf): void {
  const { width, height, data } = psf;
  if (![width, height].every((v) => Number.isInteger(v) && v >= 1)) throw new Error(`PSF width and height must be positive integers, got ${width}×${height}`);
  if (data?.length !== width * height) throw new Error(`PSF has ${data?.length} values, expected ${width}×${height} = ${width * height}`);
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]) || data[i] < 0) throw new Error(`PSF values must be finite and non-negative, got ${data[i]} at ${i % width},${Math.floor(i / width)}`);
    sum += data[i];
  }
  if (!(sum > 0)) throw new Error('PSF is all zeros');
}

/**
 * conv2d correlates with a square odd kernel and symmetric zero padding. scipy's 'same' convolution with an
 * n-tap kernel h reads x[i + s − t]·h[t] with s = (n − 1) >> 1, i.e. correlation with weight W[c + s − t] = h[t]
 * around the centre c; an even or non-square h lands inside a square odd K×K with zeros around it.
 */
function correlationWeights(psf: Psf, mirrored: boolean): { weights: Float32Array; size: number } {
  const { width: nx, height: ny, data } = psf;
  const size = Math.max(nx | 1, ny | 1);
  const c = (size - 1) / 2;
  const sx = (nx - 1) >> 1;
  const sy = (ny - 1) >> 1;
  const weights = new Float32Array(size * size);
  for (let ty = 0; ty < ny; ty++) {
    for (let tx = 0; tx < nx; tx++) {
      const v = mirrored ? data[(ny - 1 - ty) * nx + (nx - 1 - tx)] : data[ty * nx + tx];
      weights[(c + sy - ty) * size + (c + sx - tx)] = v;
    }
  }
  return { weights, size };
}

/** Richardson–Lucy with results after several iteration counts from one run (`at`, ascending). */
async function richardsonLucyAt(image: Planes, psf: Psf, at: readonly number[], opts: Omit<RichardsonLucyOptions, 'iterations'>): Promise<Float32Array[]> {
  const { width, height, planes, data } = image;
  if (![width, height, planes].every((v) => Number.isInteger(v) && v >= 1) || data?.length !== width * height * planes) {
    throw new Error(`richardsonLucy: image needs width·height·planes values, got ${width}×${height}×${planes} and ${data?.length} values`);
  }
  checkPsf(psf);
  const total = at.at(-1)!;
  if (!at.every((n, i) => Number.isInteger(n) && n >= 0 && (i === 0 || n > at[i - 1]))) throw new Error(`richardsonLucy: iterations must be non-negative integers, got ${at.join(', ')}`);
  const fe = opts.filterEpsilon ?? 0;
  if (!(Number.isFinite(fe) && fe >= 0)) throw new Error(`richardsonLucy: filterEpsilon must be a non-negative number, got ${fe}`);
  await initGpu();
  const shape = [planes, 1, height, width];
  const forward = correlationWeights(psf, false);
  const mirror = correlationWeights(psf, true);
  const padding = (forward.size - 1) / 2;
  const w = Tensor.fromArray(forward.weights, [1, 1, forward.size, forward.size]);
  const wMirror = Tensor.fromArray(mirror.weights, [1, 1, mirror.size, mirror.size]);
  const ratio = new Float32Array(data.length);
  let ratioT = Tensor.empty(shape);
  const observed = Tensor.fromArray(data, shape);
  let u = Tensor.fill(shape, 0.5);
  const out: Float32Array[] = [];
  const keep = async () => {
    const v = await u.data();
    if (opts.clip !== false) for (let i = 0; i < v.length; i++) v[i] = Math.min(1, Math.max(-1, v[i]));
    out.push(v);
  };
  try {
    if (at[0] === 0) await keep();
    for (let it = 1; it <= total; it++) {
      if (fe) {
        // filter_epsilon zeroes the ratio where the estimate is dim: done here, one readback per iteration.
        const blurred = scope(() => noGrad(() => conv2d(u, w, null, { padding })));
        const conv = await blurred.data();
        blurred.dispose();
        for (let i = 0; i < ratio.length; i++) {
          const b = conv[i] + 1e-12;
          ratio[i] = b < fe ? 0 : data[i] / b;
        }
        ratioT.writeData(ratio);
      } else {
        const r = scope(() => noGrad(() => {
          const blurred = conv2d(u, w, null, { padding });
          return div(observed, add(blurred, fill(shape, 1e-12)));
        }));
        ratioT.dispose();
        ratioT = r;
      }
      const next = scope(() => noGrad(() => mul(u, conv2d(ratioT, wMirror, null, { padding }))));
      u.dispose();
      u = next;
      opts.onIteration?.(it, total);
      if (at.includes(it)) await keep();
    }
  } finally {
    for (const t of [w, wMirror, ratioT, u, observed]) t.dispose();
  }
  return out;
}

/** skimage.restoration.richardson_lucy(image, psf, num_iter, clip, filter_epsilon) of each plane: estimate
 *  initialised to 0.5, 'same' convolutions with zero padding, the PSF used as given (not normalised). */
export async function richardsonLucy(image: Planes, psf: Psf, opts: RichardsonLucyOptions): Promise<Float32Array> {
  return (await richardsonLucyAt(image, psf, [opts.iterations], opts))[0];
}

// ---- PSFs ----

const normalized = (width: number, height: number, data: ArrayLike<number>): Psf => {
  const psf = { width, height, data: Float64Array.from(data) };
  checkPsf(psf);
  const sum = psf.data.reduce((a, b) => a + b, 0);
  for (let i = 0; i < psf.data.length; i++) psf.data[i] /= sum;
  return psf;
};

/** A Gaussian of standard deviation sigma pixels, truncated at ±3σ (odd size 2·ceil(3σ) + 1), sum 1. */
export function gaussianPsf(sigma: number): Psf {
  if (!(Number.isFinite(sigma) && sigma > 0 && sigma <= 100)) throw new Error(`Gaussian PSF: sigma must be a number of pixels in (0, 100], got ${sigma}`);
  const r = Math.ceil(3 * sigma);
  const size = 2 * r + 1;
  const data = new Float64Array(size * size);
  for (let y = -r; y <= r; y++) for (let x = -r; x <= r; x++) data[(y + r) * size + x + r] = Math.exp(-(x * x + y * y) / (2 * sigma * sigma));
  return normalized(size, size, data);
}

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
    return normalized(img.width, img.height, img.data);
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
  const data = normalize(img, norm);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, (data[i] + 1) / 2);
  return { planes: { width: img.width, height: img.height, planes: img.channels, data }, norm };
}

/** numpy.pad mode 'reflect' index, repeated for pads wider than the image. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  const k = ((i % period) + period) % period;
  return k < n ? k : period - k;
}

/**
 * richardsonLucy of images whose scene continues beyond the field: each plane is mirror-padded by the PSF's size
 * and cropped after. RL on the bare field answers the zeros of the 'same' convolution with a dark, ringing border
 * band up to the PSF's size wide.
 */
async function richardsonLucyPadded(p: Planes, psf: Psf, at: readonly number[], opts: Omit<RichardsonLucyOptions, 'iterations'>): Promise<Float32Array[]> {
  const { width, height, planes } = p;
  const px = psf.width;
  const py = psf.height;
  const W = width + 2 * px;
  const H = height + 2 * py;
  const padded = new Float32Array(planes * W * H);
  for (let c = 0; c < planes; c++) {
    for (let y = 0; y < H; y++) {
      const src = (c * height + reflect(y - py, height)) * width;
      for (let x = 0; x < W; x++) padded[(c * H + y) * W + x] = p.data[src + reflect(x - px, width)];
    }
  }
  const outs = await richardsonLucyAt({ width: W, height: H, planes, data: padded }, psf, at, opts);
  return outs.map((u) => {
    const out = new Float32Array(p.data.length);
    for (let c = 0; c < planes; c++) {
      for (let y = 0; y < height; y++) out.set(u.subarray((c * H + y + py) * W + px, (c * H + y + py) * W + px + width), (c * height + y) * width);
    }
    return out;
  });
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

export interface FitOptions extends ConventionOptions {
  /** Iteration counts to choose from (default 5, 10, 20, 30). */
  iterations?: number[];
  /** σ search interval in pixels (default 0.5 … 8). */
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
  const iters = [...(opts.iterations ?? [5, 10, 20, 30])].sort((a, b) => a - b);
  if (!iters.every((n, i) => Number.isInteger(n) && n >= 1 && (i === 0 || n > iters[i - 1]))) throw new Error(`fitRichardsonLucy: iterations must be distinct positive integers, got ${iters.join(', ')}`);
  const [lo, hi] = opts.sigmaRange ?? [0.5, 8];
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
  const trial = async (sigma: number): Promise<number> => {
    const psf = gaussianPsf(sigma);
    const sums = new Float64Array(iters.length);
    for (const [i, planes] of inputs.entries()) {
      const outs = await richardsonLucyPadded(planes, psf, iters, { clip: false });
      outs.forEach((u, k) => { sums[k] += scoreNormalized(interleave(u, planes.width * planes.height, planes.planes), pairs[i].target, opts).psnr; });
    }
    const k = sums.indexOf(Math.max(...sums));
    const fit = { sigma, iterations: iters[k], psnr: sums[k] / inputs.length };
    if (fit.psnr > best.psnr) best = fit;
    opts.onTrial?.(++trials, grid.length + 2 + REFINE_STEPS, best);
    return fit.psnr;
  };
  for (const s of grid) await trial(s);
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
  return best;
}
