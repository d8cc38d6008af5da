// Runs the generator over an image of any size, tile by tile, memory-bounded. Instance normalisation makes every
// output pixel depend on whole-plane statistics. 'image' mode (default) is exact: layer-major (layer_major.ts), each
// layer once over the whole image with whole-image statistics, the result equal to one whole-image forward.
// 'tile' mode is the fast approximation: one forward per overlapping tile with the tile's own statistics, blended.
import { Tensor, scope, type DType } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { noGrad } from '../autograd/tape.js';
import { correctLayerMajor, MapMemoryError, type LayerGenerator } from './layer_major.js';
import {
  planAxis, axisWeights, chooseTile, minTile, tileMargin, TILE_ALIGN, MIN_SIDE, DEFAULT_RAMP, DEFAULT_TILE_MEMORY, type TileSpan,
} from './tiling.js';

/** What tiling needs of a generator (ResnetGenerator, or a wrapper around one): its layers for 'image' mode,
 * forward for 'tile' mode. */
export interface TileGenerator extends LayerGenerator {
  forward(x: Tensor): Tensor;
}

export type StatsMode = 'image' | 'tile';

export interface TiledOptions {
  /** Tile edge in pixels, a multiple of 4 ('tile' mode: at least minTile); default: the largest the adapter's
   * limits allow. */
  tile?: number;
  /** Blend ramp width in pixels, a multiple of 4, ≥ 4 (default 8). */
  ramp?: number;
  stats?: StatsMode;
  /** Storage of the maps between layers ('image' mode only; f16 needs the adapter's shader-f16). Default f32. */
  precision?: DType;
  /** GPU bytes one tile may use when the tile size is chosen automatically. */
  memory?: number;
  /** 'image' mode: GPU bytes for the maps kept between layers; the bands beyond it wait in host memory (slower, same
   * result). Default: no limit until the adapter runs out of memory, then half of what the maps held. */
  mapMemory?: number;
  /** Called after every tile of every pass ('image' mode: of every layer). */
  onProgress?: (done: number, total: number) => void;
}

export interface TiledResult {
  /** C×H×W planes of the generator's output at the input's size. */
  output: Float32Array;
  /** Tile edge finally used (its height where tileWidth differs), tiles per pass, passes over the image ('image'
   * mode: one per conv layer), and how often the tile was halved after running out of memory. */
  tile: number;
  tileWidth: number;
  tiles: number;
  passes: number;
  retries: number;
  /** 'image' mode: 2 × multiply-adds of the convolutions executed, and of one whole-image forward. */
  flops?: number;
  wholeFlops?: number;
  /** 'image' mode: most bytes the maps between layers held at once on the GPU, their budget (Infinity: none),
   * and how often a band moved to host memory under it. */
  peakBytes?: number;
  mapMemory?: number;
  spills?: number;
}

/** The smallest GPU budget for the maps between layers that a retry after running out of memory tries. */
const MIN_MAP_MEMORY = 16 * 2 ** 20;

/** The adapter ran out of memory for a tile (a buffer above its limits, or a failed allocation). */
export class TileMemoryError extends Error {}

function isOutOfMemory(err: unknown): boolean {
  return err instanceof TileMemoryError || err instanceof MapMemoryError || /out of memory|binding limit/i.test((err as Error)?.message ?? '');
}

interface Padded {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** Reflection padding at the bottom and right up to multiples of 4 (PyTorch ReflectionPad2d: edge not repeated). */
function padToGrid(src: Float32Array, channels: number, height: number, width: number): Padded {
  const H = Math.ceil(height / TILE_ALIGN) * TILE_ALIGN;
  const W = Math.ceil(width / TILE_ALIGN) * TILE_ALIGN;
  if (H === height && W === width) return { data: src, channels, height, width };
  const data = new Float32Array(channels * H * W);
  const reflect = (i: number, n: number) => (i < n ? i : 2 * (n - 1) - i);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < H; y++) {
      const from = c * height * width + reflect(y, height) * width;
      const to = (c * H + y) * W;
      data.set(src.subarray(from, from + width), to);
      for (let x = width; x < W; x++) data[to + x] = src[from + reflect(x, width)];
    }
  }
  return { data, channels, height: H, width: W };
}

function extractTile(img: Padded, ry: TileSpan, cx: TileSpan): Float32Array {
  const out = new Float32Array(img.channels * ry.size * cx.size);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < ry.size; y++) {
      const from = (c * img.height + ry.start + y) * img.width + cx.start;
      out.set(img.data.subarray(from, from + cx.size), (c * ry.size + y) * cx.size);
    }
  }
  return out;
}

/** One tile's forward pass with its own statistics. Allocation failures inside surface as TileMemoryError. */
async function forwardTile(gen: TileGenerator, input: Float32Array, shape: number[]): Promise<Float32Array> {
  // A failed allocation makes every later use of that buffer a validation error; both are caught here (and not
  // printed by Dawn as uncaptured errors) so that the tile can be retried smaller.
  const device = rt().device;
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: Tensor | null = null;
  let failure: unknown = null;
  let out: Float32Array | null = null;
  try {
    result = scope(() => noGrad(() => gen.forward(Tensor.fromArray(input, shape))));
    out = await result.data();
  } catch (err) {
    failure = err;
  } finally {
    result?.dispose();
  }
  const invalid = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (oom) throw new TileMemoryError(`out of GPU memory: ${oom.message.split('\n')[0]}`);
  if (failure) throw failure;
  if (invalid) throw new Error(`WebGPU validation error: ${invalid.message}`);
  return out!;
}

/** After a failed tile: submit what its recording left behind (so its buffers return to the pool) and give every
 * idle buffer back, so that smaller tiles start from a clean pool. */
function releaseMemory(): void {
  rt().flush();
  rt().pool.trim();
}

/**
 * Runs gen over C×H×W planes (normalised input) of any size and returns its C×H×W output. On running out of
 * memory the tile edge is halved and the image started again (down to the smallest tile that still advances).
 */
export async function correctPlanes(gen: TileGenerator, planes: Float32Array, channels: number, height: number, width: number, opts: TiledOptions = {}): Promise<TiledResult> {
  const { inChannels, outChannels, ngf, blocks } = gen.opts;
  if (channels !== inChannels) throw new Error(`the model takes ${inChannels}-channel images, got ${channels} channels`);
  if (planes.length !== channels * height * width) throw new Error(`correctPlanes: ${planes.length} values for ${channels}×${height}×${width}`);
  if (height < MIN_SIDE || width < MIN_SIDE) throw new Error(`image is ${width}×${height} pixels; the generator needs at least ${MIN_SIDE}×${MIN_SIDE}`);
  const ramp = opts.ramp ?? DEFAULT_RAMP;
  if (!Number.isInteger(ramp) || ramp < TILE_ALIGN || ramp % TILE_ALIGN !== 0) throw new Error(`blend ramp must be a multiple of ${TILE_ALIGN} and at least ${TILE_ALIGN}, got ${ramp}`);
  const exact = (opts.stats ?? 'image') === 'image';
  const precision = opts.precision ?? 'f32';
  if (precision === 'f16') {
    if (!exact) throw new Error('f16 precision is not supported with per-tile statistics (--stats tile); use --stats image');
    rt().requireF16('f16 precision');
  }
  const smallest = exact ? TILE_ALIGN : minTile(blocks, ramp);
  const img = padToGrid(planes, channels, height, width);
  const maxBinding = Math.min(rt().gpu.limits.maxStorageBufferBindingSize, rt().gpu.limits.maxBufferSize);
  let tile = opts.tile ?? chooseTile(ngf, blocks, { maxBinding, memory: opts.memory ?? DEFAULT_TILE_MEMORY });
  // Layer-major's default tiles span the width (each conv's output is then its map's band, kept without a copy):
  // at most the square tile's area, and few enough rows that the widest window (a full-resolution map of the most
  // channels with a 7×7 layer's halo) fits one binding.
  let tileWidth = tile;
  if (exact && opts.tile === undefined) {
    const windowRows = Math.floor(maxBinding / (4 * Math.max(ngf, inChannels, outChannels) * (img.width + 6))) - 6;
    tile = Math.max(TILE_ALIGN, Math.min(img.height, Math.floor(Math.min(tile * tile / img.width, windowRows) / TILE_ALIGN) * TILE_ALIGN));
    // As many rows of tiles, of equal height where the grid allows (1728 rows: 4 of 432, not 3 of 448 and 384).
    tile = Math.ceil(img.height / Math.ceil(img.height / tile) / TILE_ALIGN) * TILE_ALIGN;
    tileWidth = img.width;
  }
  if (!Number.isInteger(tile) || tile % TILE_ALIGN !== 0 || tile < smallest) {
    throw new Error(exact
      ? `tile must be a multiple of ${TILE_ALIGN}, got ${tile}`
      : `tile must be a multiple of ${TILE_ALIGN} and at least ${smallest} for this model with per-tile statistics (2 × margin ${tileMargin(blocks)} + ramp ${ramp} + ${TILE_ALIGN}), got ${tile}`);
  }
  let retries = 0;
  let mapMemory = opts.mapMemory ?? Infinity;
  for (;;) {
    try {
      if (exact) {
        let done = 0;
        let total = 0;
        const r = await correctLayerMajor(gen, img.data, img.channels, img.height, img.width, { height: tile, width: tileWidth }, () => opts.onProgress?.(++done, total), (n) => (total = n), precision, mapMemory);
        return { output: crop(r.output, outChannels, img, height, width), tile, tileWidth, tiles: r.tiles, passes: r.layers, retries, flops: r.flops, wholeFlops: r.wholeFlops, peakBytes: r.peakBytes, mapMemory, spills: r.spills };
      }
      const { output, tiles } = await runTiles(gen, img, outChannels, tile, ramp, opts);
      return { output: crop(output, outChannels, img, height, width), tile, tileWidth: tile, tiles, passes: 1, retries };
    } catch (err) {
      if (!isOutOfMemory(err)) throw err;
      releaseMemory();
      const next = Math.max(smallest, Math.floor(Math.min(tile, Math.max(img.height, img.width)) / 2 / TILE_ALIGN) * TILE_ALIGN);
      // Layer-major maps are whole-image sized whatever the tile: half of what they held stays on the GPU.
      const budget = err instanceof MapMemoryError ? Math.floor(Math.min(mapMemory, err.mapBytes) / 2) : mapMemory;
      if (next >= tile && !(budget < mapMemory && budget >= MIN_MAP_MEMORY)) throw new Error(`${(err as Error).message} (even with the smallest tile, ${tile} pixels, for this model${budget < mapMemory ? ', and the maps in host memory' : ''})`);
      // Tiles that span the width keep it: fewer rows halve their memory as well.
      if (tileWidth !== img.width) tileWidth = next;
      tile = next;
      mapMemory = budget;
      retries++;
    }
  }
}

/** 'tile' mode: one forward per overlapping tile, each with its own statistics, blended over the overlaps. */
async function runTiles(gen: TileGenerator, img: Padded, outChannels: number, tile: number, ramp: number, opts: TiledOptions) {
  const margin = tileMargin(gen.opts.blocks);
  const rows = planAxis(img.height, tile, margin, ramp);
  const cols = planAxis(img.width, tile, margin, ramp);
  const grid = rows.flatMap((ry) => cols.map((cx) => ({ ry, cx })));
  let done = 0;
  const sum = new Float32Array(outChannels * img.height * img.width);
  const weight = new Float32Array(img.height * img.width);
  for (const { ry, cx } of grid) {
    const out = await forwardTile(gen, extractTile(img, ry, cx), [1, img.channels, ry.size, cx.size]);
    const wy = axisWeights(ry, img.height, margin, ramp);
    const wx = axisWeights(cx, img.width, margin, ramp);
    for (let y = 0; y < ry.size; y++) {
      const row = (ry.start + y) * img.width + cx.start;
      for (let x = 0; x < cx.size; x++) {
        const w = wy[y] * wx[x];
        if (w === 0) continue;
        weight[row + x] += w;
        for (let c = 0; c < outChannels; c++) sum[c * img.height * img.width + row + x] += w * out[(c * ry.size + y) * cx.size + x];
      }
    }
    opts.onProgress?.(++done, grid.length);
  }
  const plane = img.height * img.width;
  for (let c = 0; c < outChannels; c++) for (let i = 0; i < plane; i++) sum[c * plane + i] /= weight[i];
  return { output: sum, tiles: grid.length };
}

function crop(data: Float32Array, channels: number, img: Padded, height: number, width: number): Float32Array {
  if (img.height === height && img.width === width) return data;
  const out = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const from = (c * img.height + y) * img.width;
      out.set(data.subarray(from, from + width), (c * height + y) * width);
    }
  }
  return out;
}
