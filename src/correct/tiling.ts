// Tile layout for correcting images larger than one forward pass: overlapping tiles whose offsets and sizes are
// multiples of 4 (the generator downsamples twice by 2, so every tile sees the same sampling grid as the whole
// image), unreliable margins at interior tile edges, and raised-cosine blend weights over the overlaps.

/** Offsets and sizes are multiples of this: two stride-2 downsamplings. */
export const TILE_ALIGN = 4;

/** Smallest padded image side the generator accepts: its 1/4-resolution maps need 2 pixels for reflection pad 1. */
export const MIN_SIDE = 8;

/** Default width of the blend ramp between two tiles, in pixels. */
export const DEFAULT_RAMP = 8;

const ceilTo = (v: number, m: number) => Math.ceil(v / m) * m;

/**
 * Receptive-field radius R of ResnetGenerator in input pixels: output pixel p depends only on input pixels x with
 * |x − p| ≤ R (given fixed normalisation statistics). Distances between pixel centres per layer: the 7×7 stem 3,
 * the stride-2 convs 1.5 and 3 (their outputs sit between input pixels), each 3×3 conv at 1/4 resolution 4,
 * the two ×2 upsamplings 3 and 1.5 (nearest + 3×3; transposed convs reach 3 pixels less in all), the 7×7 head 3:
 * 15 + 8 per block. test/correct/tiled.test.ts measures it with an impulse.
 */
export function receptiveRadius(blocks: number): number {
  if (!Number.isInteger(blocks) || blocks < 0) throw new Error(`receptiveRadius: blocks must be a non-negative integer, got ${blocks}`);
  return 15 + 8 * blocks;
}

/** Pixels next to an interior tile edge whose output differs from the whole image's: R rounded up to the grid. */
export function tileMargin(blocks: number): number {
  return ceilTo(receptiveRadius(blocks) + 1, TILE_ALIGN);
}

/** One tile along one axis: the extent [start, start + size) that is computed, and the core [coreStart, coreEnd)
 * it is responsible for (the cores partition the axis; used for whole-image statistics). */
export interface TileSpan {
  start: number;
  size: number;
  coreStart: number;
  coreEnd: number;
}

/**
 * Tiles along an axis of n pixels (a multiple of 4): all of size min(tile, n), evenly spaced, neighbours overlapping
 * by at least 2·margin + ramp so that each overlap holds `ramp` pixels that both tiles compute exactly.
 */
export function planAxis(n: number, tile: number, margin: number, ramp: number): TileSpan[] {
  for (const [what, v] of [['length', n], ['tile', tile], ['margin', margin], ['ramp', ramp]] as const) {
    if (!Number.isInteger(v) || v < 0 || v % TILE_ALIGN !== 0) throw new Error(`planAxis: ${what} must be a non-negative multiple of ${TILE_ALIGN}, got ${v}`);
  }
  if (n < MIN_SIDE) throw new Error(`planAxis: length must be at least ${MIN_SIDE}, got ${n}`);
  if (tile >= n) return [{ start: 0, size: n, coreStart: 0, coreEnd: n }];
  const stride = tile - 2 * margin - ramp;
  if (stride < TILE_ALIGN) {
    throw new Error(`tile ${tile} is too small for this model: tiles must exceed 2 × margin ${margin} + ramp ${ramp} = ${2 * margin + ramp} pixels`);
  }
  const count = 1 + Math.ceil((n - tile) / stride);
  const spacing = ceilTo((n - tile) / (count - 1), TILE_ALIGN);
  const starts = Array.from({ length: count }, (_, k) => Math.min(k * spacing, n - tile));
  // Core boundaries in the middle of each overlap, on the grid: at least margin + ramp/2 − 2 from either edge.
  const bounds = [0, ...starts.slice(1).map((s, k) => TILE_ALIGN * Math.round((s + starts[k] + tile) / (2 * TILE_ALIGN))), n];
  return starts.map((start, k) => ({ start, size: tile, coreStart: bounds[k], coreEnd: bounds[k + 1] }));
}

/**
 * Blend weight of each pixel of a tile along one axis: 0 within `margin` of an interior edge, then a raised cosine
 * rising to 1 over `ramp` pixels; edges on the image border get no ramp. Where two tiles overlap by exactly
 * 2·margin + ramp, their weights sum to 1.
 */
export function axisWeights(span: TileSpan, n: number, margin: number, ramp: number): Float64Array {
  const w = new Float64Array(span.size).fill(1);
  const rise = (d: number) => {
    const t = (d - margin) / ramp;
    return t <= 0 ? 0 : t >= 1 ? 1 : 0.5 - 0.5 * Math.cos(Math.PI * t);
  };
  for (let i = 0; i < span.size; i++) {
    if (span.start > 0) w[i] *= rise(i + 0.5);
    if (span.start + span.size < n) w[i] *= rise(span.size - i - 0.5);
  }
  return w;
}

export interface TileBudget {
  /** Largest single buffer the adapter binds (min of maxStorageBufferBindingSize and maxBufferSize). */
  maxBinding: number;
  /** Bytes all tensors of one tile's forward pass may occupy together. */
  memory: number;
}

/** GPU memory for one tile's forward pass when nothing else says otherwise (WebGPU does not report VRAM). */
export const DEFAULT_TILE_MEMORY = 2 * 1024 ** 3;
export const MAX_TILE = 2048;

/**
 * Largest tile edge (multiple of 4, ≤ MAX_TILE) whose forward pass fits the budget. The widest tensor is a
 * full-resolution ngf-channel map (half the binding limit leaves room for padding); the live total is about
 * (13 + blocks/4)·ngf floats per pixel, the generator's activations kept until the tile is done.
 */
export function chooseTile(ngf: number, blocks: number, budget: TileBudget): number {
  const widest = Math.sqrt(budget.maxBinding / 2 / (4 * ngf)) - 6;
  const total = Math.sqrt(budget.memory / (4 * ngf * (13 + blocks / 4)));
  const t = Math.floor(Math.min(widest, total, MAX_TILE) / TILE_ALIGN) * TILE_ALIGN;
  return Math.max(t, minTile(blocks));
}

/** Smallest tile that still advances: 2·margin + ramp + 4. */
export function minTile(blocks: number, ramp = DEFAULT_RAMP): number {
  return 2 * tileMargin(blocks) + ramp + TILE_ALIGN;
}
