// Runs the generator over an image of any size, tile by tile, memory-bounded. Instance normalisation makes every
// output pixel depend on whole-plane statistics, so tiles that each normalised with their own statistics would
// disagree with the whole image (and with each other: seams). In 'image' mode the statistics of every
// normalisation layer are first measured over the whole image, one layer per pass (pass k runs each tile up to
// layer k with layers < k already fixed and sums layer k's input over the tile's core); the last pass applies all
// of them. Away from tile edges every tile then computes exactly what the whole image would, and with tile extents
// kept inside the image that holds up to its border too. 'tile' mode is one pass with per-tile statistics.
import { Tensor, scope } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { noGrad } from '../autograd/tape.js';
import { normalizeWithStats } from '../kernels/norm.js';
import type { GeneratorOptions, NormFn } from '../model/generator.js';
import {
  planAxis, axisWeights, chooseTile, minTile, tileMargin, TILE_ALIGN, MIN_SIDE, DEFAULT_RAMP, DEFAULT_TILE_MEMORY, type TileSpan,
} from './tiling.js';

/** What tiling needs of a generator (ResnetGenerator, or a wrapper around one): its options, and the count and
 * eps of the normalisations that forward applies through `norm`. */
export interface TileGenerator {
  readonly opts: GeneratorOptions;
  readonly normLayers: number;
  readonly normEps: number;
  forward(x: Tensor, norm?: NormFn): Tensor;
}

export type StatsMode = 'image' | 'tile';

export interface TiledOptions {
  /** Tile edge in pixels, a multiple of 4; default: the largest the adapter's limits allow (chooseTile). */
  tile?: number;
  /** Blend ramp width in pixels, a multiple of 4, ≥ 4 (default 8). */
  ramp?: number;
  stats?: StatsMode;
  /** GPU bytes one tile may use when the tile size is chosen automatically. */
  memory?: number;
  /** Called after every tile of every pass. */
  onProgress?: (done: number, total: number) => void;
}

export interface TiledResult {
  /** C×H×W planes of the generator's output at the input's size. */
  output: Float32Array;
  /** Tile edge finally used, tiles per pass, passes, and how often the tile was halved after running out of memory. */
  tile: number;
  tiles: number;
  passes: number;
  retries: number;
}

/** The adapter ran out of memory for a tile (a buffer above its limits, or a failed allocation). */
export class TileMemoryError extends Error {}

function isOutOfMemory(err: unknown): boolean {
  return err instanceof TileMemoryError || /out of memory|binding limit/i.test((err as Error)?.message ?? '');
}

/** Thrown by the norm hook to end a forward pass at the layer whose statistics are being measured. */
class StopAtLayer {
  constructor(readonly preNorm: Tensor) {}
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

/**
 * One tile's forward pass. stats[k] normalises layer k (none: the generator's own instanceNorm); with stopAt the
 * pass ends at that layer and returns its input instead. Allocation failures inside surface as TileMemoryError.
 */
async function forwardTile(gen: TileGenerator, input: Float32Array, shape: number[], stats: Tensor[], stopAt: number | null): Promise<{ data: Float32Array; shape: readonly number[] }> {
  let layer = 0;
  const norm: NormFn | undefined = stats.length === 0 && stopAt === null ? undefined : (t) => {
    const k = layer++;
    if (k === stopAt) throw new StopAtLayer(t.keep());
    if (!stats[k]) throw new Error(`internal: the generator applied more than ${stats.length} normalisations`);
    return normalizeWithStats(t, stats[k]);
  };
  // A failed allocation makes every later use of that buffer a validation error; both are caught here (and not
  // printed by Dawn as uncaptured errors) so that the tile can be retried smaller.
  const device = rt().device;
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: Tensor | null = null;
  let failure: unknown = null;
  let out: { data: Float32Array; shape: readonly number[] } | null = null;
  try {
    try {
      result = scope(() => noGrad(() => gen.forward(Tensor.fromArray(input, shape), norm)));
    } catch (err) {
      if (!(err instanceof StopAtLayer)) throw err;
      result = err.preNorm;
    }
    if (stopAt === null && stats.length > 0 && layer !== stats.length) {
      throw new Error(`internal: the generator applied ${layer} normalisations, expected ${stats.length}`);
    }
    out = { data: await result.data(), shape: result.shape };
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
  const smallest = minTile(blocks, ramp);
  let tile = opts.tile ?? chooseTile(ngf, blocks, {
    maxBinding: Math.min(rt().gpu.limits.maxStorageBufferBindingSize, rt().gpu.limits.maxBufferSize),
    memory: opts.memory ?? DEFAULT_TILE_MEMORY,
  });
  if (!Number.isInteger(tile) || tile % TILE_ALIGN !== 0 || tile < smallest) {
    throw new Error(`tile must be a multiple of ${TILE_ALIGN} and at least ${smallest} for this model (2 × margin ${tileMargin(blocks)} + ramp ${ramp} + ${TILE_ALIGN}), got ${tile}`);
  }
  const img = padToGrid(planes, channels, height, width);
  let retries = 0;
  for (;;) {
    try {
      const { output, tiles, passes } = await runTiles(gen, img, outChannels, tile, ramp, opts);
      return { output: crop(output, outChannels, img, height, width), tile, tiles, passes, retries };
    } catch (err) {
      if (!isOutOfMemory(err)) throw err;
      releaseMemory();
      const next = Math.max(smallest, Math.floor(Math.min(tile, Math.max(img.height, img.width)) / 2 / TILE_ALIGN) * TILE_ALIGN);
      if (next >= tile) throw new Error(`${(err as Error).message} (even with the smallest tile, ${tile} pixels, for this model)`);
      tile = next;
      retries++;
    }
  }
}

async function runTiles(gen: TileGenerator, img: Padded, outChannels: number, tile: number, ramp: number, opts: TiledOptions) {
  const margin = tileMargin(gen.opts.blocks);
  const rows = planAxis(img.height, tile, margin, ramp);
  const cols = planAxis(img.width, tile, margin, ramp);
  const grid = rows.flatMap((ry) => cols.map((cx) => ({ ry, cx })));
  // One tile is the whole image: its own statistics are the whole image's.
  const layers = grid.length > 1 && (opts.stats ?? 'image') === 'image' ? gen.normLayers : 0;
  const passes = layers + 1;
  const total = passes * grid.length;
  let done = 0;
  const tick = () => opts.onProgress?.(++done, total);
  const shape = (ry: TileSpan, cx: TileSpan) => [1, img.channels, ry.size, cx.size];
  const stats: Tensor[] = [];
  try {
    for (let k = 0; k < layers; k++) {
      let s1: Float64Array | null = null;
      let s2: Float64Array | null = null;
      let count = 0;
      for (const { ry, cx } of grid) {
        const pre = await forwardTile(gen, extractTile(img, ry, cx), shape(ry, cx), stats, k);
        const [, C, h, w] = pre.shape;
        const f = ry.size / h;
        s1 ??= new Float64Array(C);
        s2 ??= new Float64Array(C);
        const y0 = (ry.coreStart - ry.start) / f;
        const y1 = (ry.coreEnd - ry.start) / f;
        const x0 = (cx.coreStart - cx.start) / f;
        const x1 = (cx.coreEnd - cx.start) / f;
        for (let c = 0; c < C; c++) {
          let a = 0;
          let b = 0;
          for (let y = y0; y < y1; y++) {
            for (let x = x0, i = (c * h + y) * w + x0; x < x1; x++, i++) {
              const v = pre.data[i];
              a += v;
              b += v * v;
            }
          }
          s1[c] += a;
          s2[c] += b;
        }
        count += (y1 - y0) * (x1 - x0);
        tick();
      }
      const C = s1!.length;
      const st = new Float32Array(2 * C);
      for (let c = 0; c < C; c++) {
        const mean = s1![c] / count;
        st[c] = mean;
        st[C + c] = 1 / Math.sqrt(Math.max(0, s2![c] / count - mean * mean) + gen.normEps);
      }
      stats.push(Tensor.fromArray(st, [2 * C]).keep());
    }

    const sum = new Float32Array(outChannels * img.height * img.width);
    const weight = new Float32Array(img.height * img.width);
    for (const { ry, cx } of grid) {
      const out = await forwardTile(gen, extractTile(img, ry, cx), shape(ry, cx), stats, null);
      const wy = axisWeights(ry, img.height, margin, ramp);
      const wx = axisWeights(cx, img.width, margin, ramp);
      for (let y = 0; y < ry.size; y++) {
        const row = (ry.start + y) * img.width + cx.start;
        for (let x = 0; x < cx.size; x++) {
          const w = wy[y] * wx[x];
          if (w === 0) continue;
          weight[row + x] += w;
          for (let c = 0; c < outChannels; c++) sum[c * img.height * img.width + row + x] += w * out.data[(c * ry.size + y) * cx.size + x];
        }
      }
      tick();
    }
    const plane = img.height * img.width;
    for (let c = 0; c < outChannels; c++) for (let i = 0; i < plane; i++) sum[c * plane + i] /= weight[i];
    return { output: sum, tiles: grid.length, passes };
  } finally {
    for (const s of stats) s.dispose();
  }
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
