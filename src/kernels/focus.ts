// Per-tile sums of the classical focus measures (shaders/focus_tiles.wgsl): the GPU part of `comi focus`; the
// scores are formed from these sums in src/focus/. No gradient: nothing trains through a focus score.
import { Tensor } from '../graph/tensor.js';
import { rt, grid1d } from '../graph/runtime.js';
import { defineKernel } from '../graph/kernel.js';
import { rank, positiveInt } from './check.js';
import { reductionVariant } from './autotune.js';

const FOCUS_TILES = defineKernel({
  shader: 'focus_tiles',
  params: { H: 'u32', W: 'u32', tile: 'u32', tilesX: 'u32', tiles: 'u32' },
  bindings: { plane: 'read', sums: 'read_write' },
  entry: ['lid', 'wid', 'nwg'],
  reduction: 'f32',
});

/** The sums per tile, in this order (columns of focusTileSums' output). */
export const FOCUS_SUMS = ['intensity', 'laplacian', 'laplacianSq', 'tenengrad', 'brenner'] as const;

/**
 * x: [H, W] plane. Returns [tiles, 5]: for each tile (row-major, tile × tile pixels, cut at the right and bottom
 * edges) the sums named by FOCUS_SUMS over its pixels.
 */
export function focusTileSums(x: Tensor, tile: number): Tensor {
  rank('focusTileSums', x, 2, 'plane');
  positiveInt('focusTileSums', 'tile', tile);
  const [H, W] = x.shape;
  const tilesX = Math.ceil(W / tile);
  const tiles = tilesX * Math.ceil(H / tile);
  const out = Tensor.empty([tiles, FOCUS_SUMS.length]);
  rt().dispatch(FOCUS_TILES, { plane: x.binding, sums: out.binding }, { H, W, tile, tilesX, tiles }, {
    groups: grid1d(tiles, 1),
    reduction: reductionVariant(),
  });
  return out;
}
