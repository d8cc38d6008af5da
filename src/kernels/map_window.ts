// Windows of a feature map stored as row bands (layer-major correction, src/correct/layer_major.ts): a layer's
// input tile plus halo, padded at the map's border, optionally upsampled ×2 and normalised + ReLU'd on the way; the
// same copy writes a layer's output tile into its band, or adds a normalised map to another in place. Bands and
// destination may be f16 (storage only: values are normalised in f32). Inference only (not recorded).
import { Tensor } from '../graph/tensor.js';
import { rt } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { rank } from './check.js';

/** Columns per workgroup (one row of one channel). */
const WINDOW_WG = 64;

const WINDOW = defineKernel({
  shader: 'map_window',
  includes: ['reflect'],
  params: {
    C: 'u32', W: 'u32', VH: 'u32', VW: 'u32', y0: 'i32', x0: 'i32', w: 'u32',
    s0: 'u32', s1: 'u32', s2: 'u32', s3: 'u32', dH: 'u32', dW: 'u32', dx0: 'u32', reflect: 'u32', hasStats: 'u32', relu: 'u32',
  },
  bindings: {
    a: { access: 'read', type: 'array<SRC>' }, b: { access: 'read', type: 'array<SRC>' }, c: { access: 'read', type: 'array<SRC>' },
    stats: 'read', y: { access: 'read_write', type: 'array<DST>' },
  },
  consts: { SRC: 'float', DST: 'float', UP: 'u32', ACC: 'bool' },
  entry: ['gid'],
  workgroup: WINDOW_WG,
});

/** One band of a map: [1, C, rows, W] holding the map's rows [start, start + rows). */
export interface Band {
  tensor: Tensor;
  start: number;
}

export interface WindowSpec {
  /** Consecutive bands (1 to 3) that hold every row the window reads. */
  bands: readonly Band[];
  /** The map's height (its width is the bands'). */
  height: number;
  /** Window origin and size in the map upsampled by `up` (1 or 2, nearest); the origin may lie outside it. */
  y0: number;
  x0: number;
  h: number;
  w: number;
  up?: 1 | 2;
  /** Outside the (upsampled) map: mirrored without repeating the edge, or zeros. */
  pad: 'reflect' | 'zero';
  /** [mean[0..C), rstd[0..C)] applied to every value read (instance normalisation), then ReLU if `relu`. */
  stats?: Tensor;
  relu?: boolean;
  /** Write into this [1, C, h, dW] tensor (f32 or f16) from column dx0 instead of a new f32 [1, C, h, w] one; with
   * `add`, added to its values (a ResNet block's residual, in place). */
  into?: { tensor: Tensor; dx0: number; add?: boolean };
}

export function mapWindow(s: WindowSpec): Tensor {
  const { bands, height, y0, x0, h, w, up = 1, stats } = s;
  if (bands.length < 1 || bands.length > 3) throw new Error(`mapWindow: 1 to 3 bands, got ${bands.length}`);
  for (const b of bands) rank('mapWindow', b.tensor, 4);
  const [, C, , W] = bands[0].tensor.shape;
  const SRC = bands[0].tensor.dtype;
  const bounds = [bands[0].start];
  for (const b of bands) {
    if (b.tensor.shape[1] !== C || b.tensor.shape[3] !== W || b.tensor.dtype !== SRC || b.start !== bounds[bounds.length - 1]) {
      throw new Error(`mapWindow: bands must be consecutive with ${C} channels, width ${W} and one dtype, got ${b.tensor.describe()} at row ${b.start}`);
    }
    bounds.push(b.start + b.tensor.shape[2]);
  }
  if (stats && stats.size !== 2 * C) throw new Error(`mapWindow: statistics for ${stats.size / 2} channels given, map has ${C}`);
  const VH = height * up;
  const VW = W * up;
  // Rows the window reads must lie in the bands (the caller picks the bands around the tile).
  const reach = (v: number) => Math.floor((s.pad === 'reflect' ? (v < 0 ? -v : v >= VH ? 2 * (VH - 1) - v : v) : Math.min(Math.max(v, 0), VH - 1)) / up);
  for (const v of [y0, y0 + h - 1]) {
    const row = reach(v);
    if (row < bounds[0] || row >= bounds[bounds.length - 1]) throw new Error(`internal: mapWindow reads row ${row} outside bands [${bounds[0]}, ${bounds[bounds.length - 1]})`);
  }
  const [A, B = A, Cb = B] = bands.map((b) => b.tensor);
  // With fewer than three bands the missing ones stand in for the last and are never reached (empty ranges).
  const [s0, s1, s2 = s1, s3 = s2] = bounds;
  const y = s.into?.tensor ?? Tensor.empty([1, C, h, w]);
  const dW = y.shape[3];
  const dx0 = s.into?.dx0 ?? 0;
  if (y.shape[1] !== C || y.shape[2] !== h || dx0 + w > dW) throw new Error(`mapWindow: a ${C}×${h}×${w} window does not fit ${y.describe()} at column ${dx0}`);
  rt().dispatch(WINDOW, { a: A.storageBinding, b: B.storageBinding, c: Cb.storageBinding, stats: (stats ?? A).storageBinding, y: y.storageBinding }, {
    C, W, VH, VW, y0, x0, w, s0, s1, s2, s3, dH: h, dW, dx0,
    reflect: s.pad === 'reflect' ? 1 : 0, hasStats: stats ? 1 : 0, relu: s.relu ? 1 : 0,
  }, { consts: { SRC, DST: y.dtype, UP: up, ACC: s.into?.add ?? false }, groups: [Math.ceil(w / WINDOW_WG), h, C] });
  return y;
}
