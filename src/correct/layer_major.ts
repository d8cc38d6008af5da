// Exact whole-image correction, layer-major: each conv layer of the generator runs once over the whole image, tile
// by tile, and its output map is kept (on the GPU, as row bands, one per tile row, so no binding exceeds the
// adapter's limit). A tile of a layer reads its input window plus halo from the previous layer's bands (reflection
// or zero padding only at the map's border), normalised with that map's whole-image instance-norm statistics on the
// way in; those statistics are accumulated per band while the map is produced (mean and M2, combined in f64). Only
// halo rows are read twice and nothing is recomputed (a transposed conv's window has one input row and column
// beyond its tile, whose products are counted though its outputs there are not computed), so the executed FLOPs stay
// close to one whole-image forward, which the result equals. By default a tile row spans the map's width; its conv
// output is then the band itself (f32 maps), not copied into one.
// With precision 'f16' the maps between layers (the memory) are stored as f16 while every tile is computed in f32:
// the tile's output is rounded when written to its band, and read back into f32 (normalised there). The statistics
// are those of the stored, rounded values, the values they normalise. The input and the head's output stay f32.
// Under a budget for the maps' GPU memory (mapMemory), the bands least recently used wait in host memory and return
// when a tile needs them; the result is the same, only slower.
import { Tensor, scope, type DType } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { noGrad } from '../autograd/tape.js';
import { conv2d } from '../kernels/conv2d.js';
import { convTranspose2d } from '../kernels/conv_transpose2d.js';
import { tanh } from '../kernels/unary.js';
import { add } from '../kernels/binary.js';
import { mapWindow, type Band } from '../kernels/map_window.js';
import { channelMoments, combineMoments } from '../kernels/moments.js';
import type { GeneratorLayers, GeneratorOptions } from '../model/generator.js';
import { TILE_ALIGN } from './tiling.js';

/** What layer-major correction needs of a generator: its options, layers and the eps of its instance norms. */
export interface LayerGenerator {
  readonly opts: GeneratorOptions;
  readonly layers: GeneratorLayers;
  readonly normEps: number;
}

/** One band of a map: on the GPU (tensor), or moved to host memory under the maps' budget (host, its bytes). */
interface Slot {
  start: number;
  shape: number[];
  dtype: DType;
  tensor: Tensor | null;
  host: ArrayBuffer | null;
  /** When a tile last needed it (a counter): the least recent moves out first. */
  used: number;
}

/** A layer's output map: C channels, height × width at its resolution, one band per tile row. */
interface FeatureMap {
  channels: number;
  height: number;
  width: number;
  bands: Slot[];
}

/** How the next layer reads a map: raw, or instance-normalised with whole-map statistics (then ReLU if relu). */
interface Activation {
  map: FeatureMap;
  stats: Tensor | null;
  relu: boolean;
}

/** Conv layer kinds by how an output tile's input window is placed: 'conv' stride 1 with reflection padding
 * (k − 1)/2; 'down' 3×3 stride 2, zero padding 1; 'transpose' 3×3 stride 2, padding 1, output padding 1; 'resize'
 * nearest ×2, reflection padding 1, 3×3. */
type Kind = 'conv' | 'down' | GeneratorOptions['upsampling'];

/** Input window [start, start + size) along one axis for output [o0, o0 + n), in the coordinates mapWindow takes
 * (the ×2 upsampled map for 'resize'). */
function window(kind: Kind, k: number, o0: number, n: number): { start: number; size: number } {
  switch (kind) {
    case 'conv': return { start: o0 - (k - 1) / 2, size: n + k - 1 };
    case 'down': return { start: 2 * o0 - 1, size: 2 * n + 1 };
    // Output rows 2i − 1 + ky come from input i: [o0, o0 + n) needs inputs [o0/2, (o0 + n)/2] (one past: zeros).
    case 'transpose': return { start: o0 / 2, size: n / 2 + 1 };
    case 'resize': return { start: o0 - 1, size: n + 2 };
  }
}

/** Tile boundaries along an axis of n pixels (a multiple of 4): every `tile` pixels, the last tile shorter. */
export function tileBounds(n: number, tile: number): number[] {
  if (!Number.isInteger(tile) || tile < TILE_ALIGN || tile % TILE_ALIGN !== 0) throw new Error(`tile must be a multiple of ${TILE_ALIGN}, got ${tile}`);
  const bounds = [];
  for (let b = 0; b < n; b += tile) bounds.push(b);
  return [...bounds, n];
}

/** The adapter ran out of memory during layer-major correction, with `mapBytes` of maps on the GPU at most. */
export class MapMemoryError extends Error {
  constructor(message: string, readonly mapBytes: number) {
    super(message);
  }
}

/** A tile's extent in pixels: at most height × width (the last row and column of tiles shorter). */
export interface TileShape {
  height: number;
  width: number;
}

export interface LayerMajorResult {
  /** C×H×W planes of the generator's output. */
  output: Float32Array;
  tiles: number;
  /** Conv layers, each one sweep over the image. */
  layers: number;
  /** Multiply-adds × 2 of the convolutions executed, and of one whole-image forward. */
  flops: number;
  wholeFlops: number;
  /** Most bytes held at once on the GPU between tiles: the maps' bands and the statistics (not a tile's
   * temporaries). */
  peakBytes: number;
  /** Bands moved to host memory under the maps' budget (each move counted). */
  spills: number;
}

/**
 * Runs gen over C×H×W planes whose sides are multiples of 4, tiles of at most tile.height × tile.width pixels, keeping the maps
 * between layers in `precision`, at most `mapMemory` bytes of them on the GPU (beyond that in host memory; the bands
 * one tile needs stay on the GPU whatever the budget). `onTile` is called after every tile of every layer; `onStart`
 * first, with the number of those calls.
 */
export async function correctLayerMajor(
  gen: LayerGenerator, planes: Float32Array, channels: number, height: number, width: number, tile: TileShape,
  onTile?: () => void, onStart?: (calls: number) => void, precision: DType = 'f32', mapMemory = Infinity,
): Promise<LayerMajorResult> {
  if (!(mapMemory > 0)) throw new Error(`the maps' GPU memory must be a positive number of bytes, got ${mapMemory}`);
  const { stem, down, blocks, up, head } = gen.layers;
  const { globalResidual } = gen.opts;
  const rows = tileBounds(height, tile.height);
  const cols = tileBounds(width, tile.width);
  const tiles = (rows.length - 1) * (cols.length - 1);
  onStart?.(tiles * (2 + down.length + up.length + 2 * blocks.length));
  let flops = 0;
  let wholeFlops = 0;
  let layers = 0;
  const live: Tensor[] = [];
  let liveBytes = 0;
  let peakBytes = 0;
  const own = <T extends Tensor>(t: T): T => {
    live.push(t.keep());
    liveBytes += t.bytes;
    peakBytes = Math.max(peakBytes, liveBytes);
    return t;
  };
  const free = (...ts: (Tensor | null)[]) => {
    for (const t of ts) {
      if (!t) continue;
      t.dispose();
      live.splice(live.indexOf(t), 1);
      liveBytes -= t.bytes;
    }
  };
  const freeMap = (m: FeatureMap) => {
    for (const b of m.bands) {
      free(b.tensor);
      slots.delete(b);
    }
  };

  // The maps' bands under the budget: every slot alive, and a clock for their last use.
  const slots = new Set<Slot>();
  let clock = 0;
  let spills = 0;
  const slotBytes = (b: Slot) => b.shape.reduce((a, d) => a * d, 1) * (b.dtype === 'f16' ? 2 : 4);
  /** Moves the least recently used bands (not those in keep) to host memory until `bytes` more fit the budget. */
  async function makeRoom(bytes: number, keep: readonly Slot[]): Promise<void> {
    while (liveBytes + bytes > mapMemory) {
      let victim: Slot | null = null;
      for (const b of slots) if (b.tensor && !keep.includes(b) && (!victim || b.used < victim.used)) victim = b;
      if (!victim) return;
      victim.host = await rt().read(victim.tensor!.storageBinding, victim.tensor!.bytes);
      free(victim.tensor);
      victim.tensor = null;
      spills++;
    }
  }
  /** Brings these bands to the GPU (they are what a tile reads or writes) and marks them used. */
  async function onGpu(bands: readonly Slot[]): Promise<void> {
    for (const b of bands) {
      if (b.tensor) continue;
      await makeRoom(slotBytes(b), bands);
      const t = own(Tensor.empty(b.shape, b.dtype));
      rt().flush(); // the write must land after the work recorded so far, which may still read this buffer's last tensor
      rt().write(t.storageBinding, new Uint8Array(b.host!));
      b.tensor = t;
      b.host = null;
    }
    clock++;
    for (const b of bands) b.used = clock;
  }
  /** A new band of a map, on the GPU (made by `make` once there is room for it beside keep). */
  async function newSlot(start: number, shape: number[], dtype: DType, keep: readonly Slot[], make: () => Tensor): Promise<Slot> {
    const b: Slot = { start, shape, dtype, tensor: null, host: null, used: ++clock };
    await makeRoom(slotBytes(b), keep);
    b.tensor = own(make());
    slots.add(b);
    return b;
  }
  const bandOf = (b: Slot): Band => ({ tensor: b.tensor!, start: b.start });

  // Bands at a resolution 1/f of the input's: tile row r covers rows [rows[r] / f, rows[r + 1] / f).
  const bandRows = (f: number, r: number) => [rows[r] / f, rows[r + 1] / f] as const;

  const input: FeatureMap = { channels, height, width, bands: [] };
  /** The input's bands, uploaded while they fit the budget and kept in host memory beyond it. */
  async function loadInput(): Promise<void> {
    for (let r = 0; r + 1 < rows.length; r++) {
      const [y0, y1] = bandRows(1, r);
      const shape = [1, channels, y1 - y0, width];
      const data = new Float32Array(channels * (y1 - y0) * width);
      for (let c = 0; c < channels; c++) data.set(planes.subarray((c * height + y0) * width, (c * height + y1) * width), c * (y1 - y0) * width);
      if (liveBytes + data.byteLength <= mapMemory) {
        input.bands.push(await newSlot(y0, shape, 'f32', [], () => Tensor.fromArray(data, shape)));
      } else {
        const b: Slot = { start: y0, shape, dtype: 'f32', tensor: null, host: data.buffer, used: 0 };
        slots.add(b);
        input.bands.push(b);
      }
    }
  }

  /**
   * One conv layer over every tile: reads `src` through its window, writes its output map at resolution 1/f, and
   * with `norm` returns that map's instance-norm statistics. `epilogue` maps a tile's output before it is stored
   * (the head's tanh and global residual; it gets the tile's output rows and columns at full resolution). Maps
   * that are normalised are stored in `precision`; the head's (no norm, read back) in f32. `alsoReads(r)`: other
   * bands the epilogue of tile row r reads.
   */
  async function layer(src: Activation, f: number, kind: Kind, weight: Tensor, bias: Tensor | null, norm: boolean, epilogue?: (t: Tensor, r: number, c: number) => Tensor, alsoReads: (r: number) => Slot[] = () => []): Promise<{ map: FeatureMap; stats: Tensor | null }> {
    const [outC, inC, k] = kind === 'transpose' ? [weight.shape[1], weight.shape[0], weight.shape[2]] : [weight.shape[0], weight.shape[1], weight.shape[2]];
    const H = height / f;
    const W = width / f;
    const map: FeatureMap = { channels: outC, height: H, width: W, bands: [] };
    const moments = norm ? own(Tensor.empty([rows.length - 1, outC, 2])) : null;
    let shift: Tensor | null = null;
    const perPixel = 2 * inC * outC * k * k;
    wholeFlops += perPixel * (kind === 'transpose' ? src.map.height * src.map.width : H * W);
    for (let r = 0; r + 1 < rows.length; r++) {
      const [y0, y1] = bandRows(f, r);
      const reads = [...src.map.bands.slice(Math.max(0, r - 1), r + 2), ...alsoReads(r)];
      await onGpu(reads);
      const shape = [1, outC, y1 - y0, W];
      const dtype = norm ? precision : 'f32';
      // A tile as wide as the map, stored in f32, is its band: the conv's output is kept instead of copied.
      const adopt = cols.length === 2 && dtype === 'f32';
      let slot = adopt ? null : await newSlot(y0, shape, dtype, reads, () => Tensor.empty(shape, dtype));
      for (let c = 0; c + 1 < cols.length; c++) {
        const [x0, x1] = [cols[c] / f, cols[c + 1] / f];
        // Not recorded: a kept output's grad node would hold its input window as long as the band.
        const out = scope(() => noGrad(() => {
          const wy = window(kind, k, y0, y1 - y0);
          const wx = window(kind, k, x0, x1 - x0);
          const x = mapWindow({
            bands: src.map.bands.slice(Math.max(0, r - 1), r + 2).map(bandOf), height: src.map.height,
            y0: wy.start, x0: wx.start, h: wy.size, w: wx.size, up: kind === 'resize' ? 2 : 1,
            pad: kind === 'conv' || kind === 'resize' ? 'reflect' : 'zero', stats: src.stats ?? undefined, relu: src.relu,
          });
          flops += perPixel * (kind === 'transpose' ? wy.size * wx.size : (y1 - y0) * (x1 - x0));
          const y = kind === 'transpose'
            // Its window's last row and column make one output row and column more than the tile's: not computed.
            ? convTranspose2d(x, weight, bias, { stride: 2, padding: 1, outputPadding: 0, crop: [y1 - y0, x1 - x0] })
            : conv2d(x, weight, bias, { stride: kind === 'down' ? 2 : 1, padding: 0 });
          return epilogue ? epilogue(y, r, c) : y;
        }));
        if (adopt) {
          try {
            slot = await newSlot(y0, shape, dtype, reads, () => out);
          } catch (err) {
            out.dispose();
            throw err;
          }
        } else {
          try {
            // f16 keeps 11 significant bits of a value: a channel far from zero relative to its spread (the stem over
            // a bright, low-contrast field) would lose its variation. Normalised f16 maps are therefore stored less a
            // per-channel shift, the first tile's mean; normalisation does not see it (statistics of the stored values).
            if (dtype === 'f16' && !shift) shift = own(await tileShift(out));
            mapWindow({ bands: [{ tensor: out, start: 0 }], height: out.shape[2], y0: 0, x0: 0, h: y1 - y0, w: x1 - x0, pad: 'zero', stats: shift ?? undefined, into: { tensor: slot!.tensor!, dx0: x0 } });
          } finally {
            out.dispose();
          }
        }
        // Submitted tile by tile, so each tile's temporaries return to the pool for the next.
        rt().flush();
        onTile?.();
      }
      map.bands.push(slot!);
      if (moments) channelMoments(slot!.tensor!, moments, r);
    }
    layers++;
    if (!moments) return { map, stats: null };
    const counts = map.bands.map((b) => b.shape[2] * W);
    const stats = own(Tensor.fromArray(combineMoments(await moments.data(), counts, gen.normEps), [2 * outC]));
    free(moments, shift);
    return { map, stats };
  }

  /** [mean[0..C), 1 …] of a tile's channels: the shift subtracted from an f16 map, in mapWindow's stats layout. */
  async function tileShift(t: Tensor): Promise<Tensor> {
    const C = t.shape[1];
    const m = Tensor.empty([1, C, 2]);
    channelMoments(t, m, 0);
    const d = await m.data();
    m.dispose();
    const s = new Float32Array(2 * C).fill(1);
    for (let c = 0; c < C; c++) s[c] = d[2 * c];
    return Tensor.fromArray(s, [2 * C]);
  }

  /** Band r of a map (on the GPU) in f32, read through its activation. */
  function readBand(a: Activation, r: number): Tensor {
    const b = a.map.bands[r];
    if (!a.stats && !a.relu && b.dtype === 'f32') return b.tensor!;
    return mapWindow({ bands: [bandOf(b)], height: a.map.height, y0: b.start, x0: 0, h: b.shape[2], w: a.map.width, pad: 'zero', stats: a.stats ?? undefined, relu: a.relu });
  }

  /** x + IN(e) band by band, x itself read through its activation: a ResNet block's output, kept raw in
   * `precision`. Where x is kept so (every block's but the first), IN(e) is added to x's bands in place (x is not
   * read again) and x's map is returned. */
  async function residual(x: Activation, e: { map: FeatureMap; stats: Tensor | null }): Promise<FeatureMap> {
    if (!x.stats && !x.relu && x.map.bands.every((b) => b.dtype === precision)) {
      for (let r = 0; r < x.map.bands.length; r++) {
        const [xb, eb] = [x.map.bands[r], e.map.bands[r]];
        await onGpu([xb, eb]);
        const [, , h, w] = xb.shape;
        mapWindow({ bands: [bandOf(eb)], height: e.map.height, y0: eb.start, x0: 0, h, w, pad: 'zero', stats: e.stats ?? undefined, into: { tensor: xb.tensor!, dx0: 0, add: true } });
      }
      return x.map;
    }
    const bands: Slot[] = [];
    for (let r = 0; r < x.map.bands.length; r++) {
      const reads = [x.map.bands[r], e.map.bands[r]];
      await onGpu(reads);
      bands.push(await newSlot(reads[0].start, reads[0].shape, precision, reads, () => scope(() => {
        const sum = add(readBand(x, r), readBand({ map: e.map, stats: e.stats, relu: false }, r));
        if (precision === 'f32') return sum;
        const [, , h, w] = sum.shape;
        return mapWindow({ bands: [{ tensor: sum, start: 0 }], height: h, y0: 0, x0: 0, h, w, pad: 'zero', into: { tensor: Tensor.empty(sum.shape, precision), dx0: 0 } });
      })));
    }
    return { ...e.map, bands };
  }

  try {
    const device = rt().device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let output: Float32Array | null = null;
    let failure: unknown = null;
    try {
      output = await run();
    } catch (err) {
      failure = err;
    }
    const invalid = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (oom) throw new MapMemoryError(`out of GPU memory: ${oom.message.split('\n')[0]}`, peakBytes);
    if (failure) throw failure;
    if (invalid) throw new Error(`WebGPU validation error: ${invalid.message}`);
    return { output: output!, tiles, layers, flops, wholeFlops, peakBytes, spills };
  } finally {
    for (const t of live) t.dispose();
  }

  async function run(): Promise<Float32Array> {
    const plain = (map: FeatureMap): Activation => ({ map, stats: null, relu: false });
    const normed = (l: { map: FeatureMap; stats: Tensor | null }): Activation => ({ map: l.map, stats: l.stats, relu: true });
    await loadInput();
    let h = normed(await layer(plain(input), 1, 'conv', stem.weight, stem.bias, true));
    for (let i = 0; i < down.length; i++) {
      const next = normed(await layer(h, 2 ** (i + 1), 'down', down[i].weight, down[i].bias, true));
      freeMap(h.map);
      free(h.stats);
      h = next;
    }
    for (const b of blocks) {
      const c1 = await layer(h, 4, 'conv', b.weight1, b.bias1, true);
      const c2 = await layer(normed(c1), 4, 'conv', b.weight2, b.bias2, true);
      freeMap(c1.map);
      free(c1.stats);
      const next = plain(await residual(h, c2));
      if (next.map !== h.map) freeMap(h.map);
      freeMap(c2.map);
      free(h.stats, c2.stats);
      h = next;
    }
    for (let i = 0; i < up.length; i++) {
      const u = up[i];
      const next = normed(await layer(h, 2 ** (1 - i), gen.opts.upsampling, u.weight, u.bias, true));
      freeMap(h.map);
      free(h.stats);
      h = next;
    }
    const out = await layer(h, 1, 'conv', head.weight, head.bias, false, (t, r, c) => {
      const y = tanh(t);
      if (!globalResidual) return y;
      const [y0, y1, x0, x1] = [rows[r], rows[r + 1], cols[c], cols[c + 1]];
      return add(y, mapWindow({ bands: [bandOf(input.bands[r])], height, y0, x0, h: y1 - y0, w: x1 - x0, pad: 'zero' }));
    }, (r) => (globalResidual ? [input.bands[r]] : []));
    freeMap(h.map);
    free(h.stats);
    const C = out.map.channels;
    const result = new Float32Array(C * height * width);
    for (const b of out.map.bands) {
      const data = b.tensor ? await b.tensor.data() : new Float32Array(b.host!);
      const n = b.shape[2] * width;
      for (let c = 0; c < C; c++) result.set(data.subarray(c * n, (c + 1) * n), (c * height + b.start) * width);
    }
    return result;
  }
}
