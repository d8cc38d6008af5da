// Correction of one image in memory: normalisation as in training, the tiled generator, the output type. Shared by
// the CLI (./correct.ts, files) and the web app.
import { checkImage, type Image } from '../data/image_type.js';
import { fitNormalization, normalize, denormalize, DEFAULT_PERCENTILES, type Normalization, type NormalizationMode } from '../data/normalize.js';
import { checkFiniteImage, countNonFiniteValues } from '../data/finite.js';
import type { RunConfig } from '../train/run_folder.js';
import type { OutputDtype } from './files.js';
import { correctPlanes, type StatsMode, type TileGenerator } from './tiled.js';
import { symmetries, transformPlanes, type TtaCount } from './tta.js';
import { Tensor, type DType } from '../graph/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { reflectionPad2d } from '../kernels/pad.js';
import type { UnetGenerator } from '../model/unet.js';
import { deconvolveNormalized, type RlInput } from '../model/richardson_lucy.js';
import { binPlanes, binnedSize, unbinPlanes } from '../data/bin.js';
import { MIN_SIDE } from './tiling.js';

export type NormalizationChoice = NormalizationMode | 'auto';

export interface CorrectSettings {
  /** 'auto' as in training: 8-bit images /255, others by percentiles. */
  normalization: NormalizationChoice;
  percentiles: { pLow: number; pHigh: number };
  dtype: OutputDtype;
  /** Tile edge; undefined: chosen from the adapter's limits. */
  tile?: number;
  stats: StatsMode;
  /** Symmetries of the square whose corrections are averaged (tta.ts); 1: the plain correction. */
  tta: TtaCount;
  /** Storage of the feature maps between layers: f16 halves their memory (compute stays f32; needs shader-f16 and
   * whole-image statistics). */
  precision: DType;
  /** GPU bytes for the maps kept between layers ('image' statistics); the bands beyond wait in host memory (slower,
   * same result). Undefined: no limit until the adapter runs out of memory. */
  mapMemory?: number;
  /** The run's input stage (RunConfig.model.rlInput): the whole image deconvolved before the network. */
  rlInput?: RlInput;
  /** The run's binning (RunConfig.data.bin): the network (and the input stage) see the image binned n×n, and its
   *  output is upsampled back to the image's size. */
  bin?: number;
}

/** The intensity mapping the run was trained with, unless overridden. */
export function runSettings(config: RunConfig, overrides: Partial<CorrectSettings> = {}): CorrectSettings {
  return {
    normalization: config.data.normalization,
    percentiles: config.data.percentiles ?? DEFAULT_PERCENTILES,
    dtype: 'same',
    stats: 'image',
    tta: 1,
    precision: 'f32',
    ...(config.model.rlInput ? { rlInput: config.model.rlInput } : {}),
    ...(config.data.bin ? { bin: config.data.bin } : {}),
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
}

/** The mode applied to one image ('auto' resolved the way src/data/dataset.ts resolves it for training). */
export function normalizationMode(img: Image, choice: NormalizationChoice): NormalizationMode {
  return choice !== 'auto' ? choice : img.bitDepth === 8 ? '8bit' : 'percentile';
}

/**
 * Generator output (planar, [−1, 1] scale) → an image of the requested type. 'same' and 'float32' invert the
 * input's mapping (float32 unclipped, in the input's units); uint8/uint16 from an integer image rescale the
 * input's full range to the new one (16 → 8 bit: ×255/65535), from a float image map [−1, 1] to the full range.
 */
export function toOutputImage(planar: Float32Array, n: Normalization, input: Image, dtype: OutputDtype): Image {
  const { width, height, channels } = input;
  const bitDepth = dtype === 'same' ? input.bitDepth : dtype === 'uint8' ? 8 : dtype === 'uint16' ? 16 : 32;
  let mapping = n;
  if (dtype === 'uint8' || dtype === 'uint16') {
    const max = bitDepth === 8 ? 255 : 65535;
    if (input.bitDepth === 32) mapping = { kind: 'range', min: 0, max };
    else {
      const k = max / (input.bitDepth === 8 ? 255 : 65535);
      mapping = n.kind === 'range' ? { ...n, min: n.min * k, max: n.max * k } : { ...n, low: n.low * k, high: n.high * k };
    }
  }
  return { width, height, channels, bitDepth, data: denormalize(planar, mapping, bitDepth, channels) };
}

export interface CorrectedImage {
  image: Image;
  normalization: Normalization;
  /** Tile height × width in pixels (pix2pix: the whole image). */
  tile: number;
  tileWidth: number;
  tiles: number;
  passes: number;
  retries: number;
  /** Map bands moved to host memory under the maps' GPU budget (0 when they all stayed on the GPU). */
  spills: number;
}

function checkInput(img: Image, where: string): void {
  checkImage(img, where);
  checkFiniteImage(img, 'the image', 'correction needs finite pixel values');
}

/** What the network sees: the image in the settings' intensity mapping, planar, binned when the run is, and
 *  deconvolved when the run has an input stage (the whole image at once, as in training). */
export async function networkInput(img: Image, s: CorrectSettings): Promise<{ normalization: Normalization; planes: Float32Array; width: number; height: number }> {
  const normalization = fitNormalization(img, normalizationMode(img, s.normalization), s.percentiles);
  const n = s.bin ?? 1;
  const { width, height } = binnedSize(img.width, img.height, n);
  if (n > 1 && Math.min(width, height) < MIN_SIDE) {
    throw new Error(`image is ${img.width}×${img.height} pixels, ${width}×${height} binned ${n}×${n} as the model was trained; the generator needs at least ${MIN_SIDE}×${MIN_SIDE}`);
  }
  const planes = binPlanes(normalize(img, normalization), img.channels, img.width, img.height, n);
  return { normalization, width, height, planes: s.rlInput ? await deconvolveNormalized(planes, img.channels, width, height, s.rlInput) : planes };
}

/** Generator output (planar) as the requested image, refused if not finite. */
function outputImage(out: Float32Array, normalization: Normalization, img: Image, s: CorrectSettings): Image {
  // Inputs and weights are finite (checked); activations that clamp (tanh, max) may still hide an overflow on one
  // adapter and not on another.
  const bad = countNonFiniteValues(out);
  if (bad > 0) throw new Error(`the generator produced ${bad} NaN/Inf value(s) for this image; nothing was written`);
  return toOutputImage(out, normalization, img, s.dtype);
}

/**
 * Corrects one image with the same size and channel count. A 1-channel model corrects each channel of an RGB image
 * on its own; a 3-channel model needs RGB input.
 */
export async function correctImage(gen: TileGenerator, img: Image, s: CorrectSettings, onProgress?: (done: number, total: number) => void): Promise<CorrectedImage> {
  checkInput(img, 'correctImage');
  const modelChannels = gen.opts.inChannels;
  if (modelChannels !== 1 && modelChannels !== img.channels) {
    throw new Error(`the model corrects ${modelChannels}-channel (RGB) images; this image has ${img.channels} channel`);
  }
  const { normalization, planes, width, height } = await networkInput(img, s);
  const plane = width * height;
  const out = new Float32Array(planes.length);
  const runs = modelChannels === img.channels ? 1 : img.channels;
  const views = symmetries(s.tta);
  let last = { tile: 0, tileWidth: 0, tiles: 0, passes: 0, retries: 0, spills: 0, mapMemory: s.mapMemory };
  for (let c = 0; c < runs; c++) {
    const part = runs === 1 ? planes : planes.subarray(c * plane, (c + 1) * plane);
    const sum = runs === 1 ? out : out.subarray(c * plane, (c + 1) * plane);
    for (const [v, view] of views.entries()) {
      const seen = transformPlanes(part, modelChannels, height, width, view);
      const r = await correctPlanes(gen, seen.data, modelChannels, seen.height, seen.width, {
        // A tile halved (as a square of its height), or a maps' budget lowered, after running out of memory stays so.
        tile: last.retries > 0 ? last.tile : s.tile, stats: s.stats, precision: s.precision, mapMemory: last.mapMemory,
        onProgress: onProgress && ((done, total) => onProgress((c * views.length + v) * total + done, runs * views.length * total)),
      });
      const back = transformPlanes(r.output, modelChannels, height, width, view, true).data;
      for (let i = 0; i < back.length; i++) sum[i] += back[i] / views.length;
      last = { tile: r.tile, tileWidth: r.tileWidth, tiles: r.tiles, passes: r.passes, retries: last.retries + r.retries, spills: last.spills + (r.spills ?? 0), mapMemory: r.mapMemory };
    }
  }
  const full = unbinPlanes(out, img.channels, img.width, img.height, s.bin ?? 1);
  const { tile, tileWidth, tiles, passes, retries, spills } = last;
  return { image: outputImage(full, normalization, img, s), normalization, tile, tileWidth, tiles, passes, retries, spills };
}

/** pix2pix's U-Net, which cannot be tiled exactly (BatchNorm over the whole input): the whole image in one pass,
 * reflect-padded on the right and bottom to a multiple of 2^downs and cropped back; no dropout. */
export async function correctWholeImage(gen: UnetGenerator, img: Image, s: CorrectSettings): Promise<CorrectedImage> {
  checkInput(img, 'correctWholeImage');
  if (s.precision === 'f16') throw new Error('f16 precision is not supported for pix2pix models (whole-image U-Net); use f32');
  const C = gen.opts.inChannels;
  if (C !== img.channels) throw new Error(`a pix2pix model corrects ${C}-channel images; this image has ${img.channels}: not supported`);
  if ((s.bin ?? 1) > 1) throw new Error('binning is not supported for pix2pix models (whole-image U-Net)');
  const { width: W, height: H } = img;
  const m = gen.multiple;
  const padW = Math.ceil(W / m) * m - W;
  const padH = Math.ceil(H / m) * m - H;
  if (padW >= W || padH >= H) throw new Error(`a pix2pix model needs images of at least ${m}×${m} pixels (its U-Net halves them ${gen.opts.downs} times), got ${W}×${H}`);
  const { normalization, planes } = await networkInput(img, s);
  const x = Tensor.fromArray(planes, [1, C, H, W]);
  const y = noGrad(() => gen.forward(reflectionPad2d(x, [0, padW, 0, padH])));
  const padded = await y.data();
  x.dispose();
  y.dispose();
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) for (let r = 0; r < H; r++) out.set(padded.subarray((c * (H + padH) + r) * (W + padW), (c * (H + padH) + r) * (W + padW) + W), (c * H + r) * W);
  return { image: outputImage(out, normalization, img, s), normalization, tile: H, tileWidth: W, tiles: 1, passes: 1, retries: 0, spills: 0 };
}
