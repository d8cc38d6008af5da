// Richardson–Lucy deconvolution on the GPU (scikit-image 0.19's restoration.richardson_lucy), below the trainer and
// the corrector: a corrector may deconvolve its input before its network (RunConfig.model.rlInput), and the
// classical baseline (src/eval/deconvolve.ts) is the same code.
import { initGpu } from '../graph/runtime.js';
import { Tensor, scope } from '../graph/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { conv2d } from '../kernels/conv2d.js';
import { correlate1d } from '../kernels/correlate1d.js';
import { add, div, mul } from '../kernels/binary.js';
import { fill } from '../graph/fill.js';

/** A point spread function, row-major height×width (any size, centred as scipy.signal.convolve mode 'same'). */
export interface Psf {
  width: number;
  height: number;
  data: ArrayLike<number>;
  /** data[y·width + x] = columns[y]·rows[x], both of odd length: RL then blurs by two 1-D passes (K taps each
   *  instead of K², ≈ 40× less work for a 20 px Gaussian). */
  separable?: { rows: ArrayLike<number>; columns: ArrayLike<number> };
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

/** u ↦ u ⊛ psf ('same', zero padding) and u ↦ u ⊛ mirrored psf, as RL applies them to [planes, 1, H, W] tensors.
 *  Constant tensors they hold are released by the returned dispose. */
function psfBlurs(psf: Psf): { blur: (u: Tensor) => Tensor; blurMirrored: (u: Tensor) => Tensor; dispose: () => void } {
  const sep = psf.separable;
  if (sep) {
    if (sep.rows.length !== psf.width || sep.columns.length !== psf.height || psf.width % 2 === 0 || psf.height % 2 === 0) {
      throw new Error(`separable PSF: ${sep.columns.length}×${sep.rows.length} factors for a ${psf.height}×${psf.width} PSF (both must match it and be odd)`);
    }
    // Convolution is correlation with the reversed taps; the mirrored PSF's factors are the taps as given.
    const taps = (v: ArrayLike<number>, reversed: boolean) => {
      const a = Float32Array.from(v);
      return Tensor.fromArray(reversed ? a.reverse() : a, [a.length]);
    };
    const [rx, ry, mx, my] = [taps(sep.rows, true), taps(sep.columns, true), taps(sep.rows, false), taps(sep.columns, false)];
    return {
      blur: (u) => correlate1d(correlate1d(u, rx, 3), ry, 2),
      blurMirrored: (u) => correlate1d(correlate1d(u, mx, 3), my, 2),
      dispose: () => [rx, ry, mx, my].forEach((t) => t.dispose()),
    };
  }
  const forward = correlationWeights(psf, false);
  const mirror = correlationWeights(psf, true);
  const padding = (forward.size - 1) / 2;
  const w = Tensor.fromArray(forward.weights, [1, 1, forward.size, forward.size]);
  const wMirror = Tensor.fromArray(mirror.weights, [1, 1, mirror.size, mirror.size]);
  return {
    blur: (u) => conv2d(u, w, null, { padding }),
    blurMirrored: (u) => conv2d(u, wMirror, null, { padding }),
    dispose: () => [w, wMirror].forEach((t) => t.dispose()),
  };
}

/** Richardson–Lucy with results after several iteration counts from one run (`at`, ascending). */
export async function richardsonLucyAt(image: Planes, psf: Psf, at: readonly number[], opts: Omit<RichardsonLucyOptions, 'iterations'>): Promise<Float32Array[]> {
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
  const { blur, blurMirrored, dispose } = psfBlurs(psf);
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
        const blurred = scope(() => noGrad(() => blur(u)));
        const conv = await blurred.data();
        blurred.dispose();
        for (let i = 0; i < ratio.length; i++) {
          const b = conv[i] + 1e-12;
          ratio[i] = b < fe ? 0 : data[i] / b;
        }
        ratioT.writeData(ratio);
      } else {
        const r = scope(() => noGrad(() => {
          const blurred = blur(u);
          return div(observed, add(blurred, fill(shape, 1e-12)));
        }));
        ratioT.dispose();
        ratioT = r;
      }
      const next = scope(() => noGrad(() => mul(u, blurMirrored(ratioT))));
      u.dispose();
      u = next;
      opts.onIteration?.(it, total);
      if (at.includes(it)) await keep();
    }
  } finally {
    for (const t of [ratioT, u, observed]) t.dispose();
    dispose();
  }
  return out;
}

/** skimage.restoration.richardson_lucy(image, psf, num_iter, clip, filter_epsilon) of each plane: estimate
 *  initialised to 0.5, 'same' convolutions with zero padding, the PSF used as given (not normalised). */
export async function richardsonLucy(image: Planes, psf: Psf, opts: RichardsonLucyOptions): Promise<Float32Array> {
  return (await richardsonLucyAt(image, psf, [opts.iterations], opts))[0];
}

// ---- PSFs ----

/** A PSF from values, checked and scaled to sum 1. */
export const normalizedPsf = (width: number, height: number, data: ArrayLike<number>): Psf => {
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
  const taps = new Float64Array(size);
  for (let x = -r; x <= r; x++) taps[x + r] = Math.exp(-(x * x) / (2 * sigma * sigma));
  const sum = taps.reduce((a, b) => a + b, 0);
  for (let i = 0; i < size; i++) taps[i] /= sum;
  const data = new Float64Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = taps[y] * taps[x];
  return { ...normalizedPsf(size, size, data), separable: { rows: taps, columns: taps } };
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
export async function richardsonLucyPadded(p: Planes, psf: Psf, at: readonly number[], opts: Omit<RichardsonLucyOptions, 'iterations'>): Promise<Float32Array[]> {
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

/** A corrector's input stage: RL with a Gaussian PSF of sigma pixels, `iterations` times. */
export interface RlInput { sigma: number; iterations: number }

/** Normalised planar data ([−1, 1] scale, as the generator sees it) → unit planes for RL: negatives, below the low
 *  percentile, to 0, as RL models non-negative counts. */
export function toUnitPlanes(normalized: Float32Array, channels: number, width: number, height: number): Planes {
  const data = new Float32Array(normalized.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, (normalized[i] + 1) / 2);
  return { width, height, planes: channels, data };
}

/** Normalised planar data deconvolved (mirror-padded, unclipped) and returned on the same scale. */
export async function deconvolveNormalized(normalized: Float32Array, channels: number, width: number, height: number, rl: RlInput): Promise<Float32Array> {
  const [u] = await richardsonLucyPadded(toUnitPlanes(normalized, channels, width, height), gaussianPsf(rl.sigma), [rl.iterations], { clip: false });
  for (let i = 0; i < u.length; i++) u[i] = 2 * u[i] - 1;
  return u;
}
