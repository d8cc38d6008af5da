// Focus scores of images, per image and per tile, from the per-tile sums computed on the GPU (src/kernels/focus.ts).
// Each measure is divided by the squared mean intensity, so a gain or exposure change leaves it unchanged and
// 8-bit, 16-bit and float images share one threshold.
import { readImage, type Image } from '../data/image.js';
import { Tensor } from '../graph/tensor.js';
import { initGpu } from '../graph/runtime.js';
import { focusTileSums, FOCUS_SUMS } from '../kernels/focus.js';
import { avgPool2x2 } from '../kernels/avg_pool.js';

export const FOCUS_MEASURES = ['nvl', 'tenengrad', 'brenner'] as const;
export type FocusMeasure = (typeof FOCUS_MEASURES)[number];

/** Default tile edge of the per-tile scores, in input pixels. */
export const DEFAULT_FOCUS_TILE = 256;
/** Default binning: measured at ¼ resolution, the score follows the blur rather than noise and JPEG artefacts
 * (docs/focus.md has the calibration). */
export const DEFAULT_FOCUS_BIN = 4;
/** The measure behind the needs-correction flag: it ranked the wafer series best (docs/focus.md). */
export const DEFAULT_FOCUS_MEASURE: FocusMeasure = 'tenengrad';
/**
 * Below these (at bin 4) an image needs correction: the geometric mean of the highest defocused (z00) and the
 * lowest in-focus (z10) score on the BBBC006 sample (docs/focus.md). Brenner's ranges overlap there.
 */
export const FOCUS_THRESHOLDS: Record<FocusMeasure, number> = { nvl: 9.7e-3, tenengrad: 1.14, brenner: 3.1e-2 };

export type FocusScores = Record<FocusMeasure, number>;

export interface TileFocus extends FocusScores {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ImageFocus extends FocusScores {
  width: number;
  height: number;
  tiles: TileFocus[];
}

/** Intensity plane of an image: the channel mean of an RGB image, as float. */
export function grayPlane(img: Image): Float32Array {
  const n = img.width * img.height;
  const c = img.channels;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < c; k++) s += img.data[i * c + k];
    out[i] = s / c;
  }
  return out;
}

/** Scores from the sums over n pixels (FOCUS_SUMS order). A blank region (mean 0) scores 0. */
function scores(s: ArrayLike<number>, n: number): FocusScores {
  const mean = s[0] / n;
  const norm = mean > 0 ? 1 / (mean * mean) : 0;
  const lapMean = s[1] / n;
  return {
    nvl: Math.max(0, s[2] / n - lapMean * lapMean) * norm,
    tenengrad: (s[3] / n) * norm,
    brenner: (s[4] / n) * norm,
  };
}

export interface FocusOptions {
  /** Tile edge in pixels of the input image. */
  tile?: number;
  /** Pixels averaged (bin × bin, a power of two) before measuring: noise and compression artefacts then weigh less
   * than the blur, which spans many pixels. */
  bin?: number;
}

/** Focus scores of an image and of each of its tiles (row-major; edge tiles cut), in input pixels. */
export async function imageFocus(img: Image, opts: FocusOptions = {}): Promise<ImageFocus> {
  const { tile = DEFAULT_FOCUS_TILE, bin = DEFAULT_FOCUS_BIN } = opts;
  const { width, height } = img;
  const levels = Math.log2(bin);
  if (!Number.isInteger(levels) || levels < 0) throw new Error(`focus: bin must be a power of two, got ${bin}`);
  if (tile % bin !== 0) throw new Error(`focus: tile ${tile} must be a multiple of bin ${bin}`);
  if (width < 3 * bin || height < 3 * bin) throw new Error(`focus: image ${width}×${height} is too small for bin ${bin} (needs ${3 * bin} px)`);
  await initGpu();
  let x = Tensor.fromArray(grayPlane(img), [1, 1, height, width]);
  for (let l = 0; l < levels; l++) {
    const y = avgPool2x2(x);
    x.dispose();
    x = y;
  }
  const plane = x.view([x.shape[2], x.shape[3]]);
  const out = focusTileSums(plane, tile / bin);
  x.dispose();
  plane.dispose();
  const sums = await out.data();
  out.dispose();
  const [bw, bh] = [Math.floor(width / bin), Math.floor(height / bin)];
  const bt = tile / bin;
  const k = FOCUS_SUMS.length;
  const total = new Float64Array(k);
  const tilesX = Math.ceil(bw / bt);
  const tiles: TileFocus[] = [];
  for (let t = 0; t < sums.length / k; t++) {
    const [tx, ty] = [(t % tilesX) * bt, Math.floor(t / tilesX) * bt];
    const s = sums.subarray(t * k, (t + 1) * k);
    for (let m = 0; m < k; m++) total[m] += s[m];
    const measured = Math.min(bt, bw - tx) * Math.min(bt, bh - ty);
    tiles.push({ x: tx * bin, y: ty * bin, width: Math.min(tile, width - tx * bin), height: Math.min(tile, height - ty * bin), ...scores(s, measured) });
  }
  return { width, height, tiles, ...scores(total, bw * bh) };
}

export const fileFocus = async (path: string, opts?: FocusOptions): Promise<ImageFocus> => imageFocus(await readImage(path), opts);
