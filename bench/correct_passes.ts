// The exact correction before layer-major (src/correct/layer_major.ts), kept as bench/correct.ts's baseline: tiles
// with margins as in 'tile' mode, whole-image statistics measured one normalisation layer per pass (pass k runs every
// tile up to layer k with layers < k fixed, summing layer k's input over the tile's core), the last pass applying
// all of them. Image sides must be multiples of 4.
import { Tensor, scope } from '../src/graph/tensor.js';
import { noGrad } from '../src/autograd/tape.js';
import { normalizeWithStats } from '../src/kernels/norm.js';
import type { ResnetGenerator } from '../src/model/generator.js';
import { planAxis, axisWeights, tileMargin, DEFAULT_RAMP, type TileSpan } from '../src/correct/tiling.js';

class StopAtLayer {
  constructor(readonly preNorm: Tensor) {}
}

/** 2 × multiply-adds of each conv of one forward over h × w pixels, in forward's order (conv k precedes norm k). */
function convFlops(gen: ResnetGenerator, h: number, w: number): number[] {
  const { inChannels, outChannels, ngf, blocks, upsampling } = gen.opts;
  const px = h * w;
  const c3 = (a: number, b: number, pixels: number) => 2 * a * b * 9 * pixels;
  return [
    2 * inChannels * ngf * 49 * px, c3(ngf, 2 * ngf, px / 4), c3(2 * ngf, 4 * ngf, px / 16),
    ...Array.from({ length: 2 * blocks }, () => c3(4 * ngf, 4 * ngf, px / 16)),
    // transposed: per input pixel; resize: per output pixel
    c3(4 * ngf, 2 * ngf, upsampling === 'transpose' ? px / 16 : px / 4), c3(2 * ngf, ngf, upsampling === 'transpose' ? px / 4 : px),
    2 * ngf * outChannels * 49 * px,
  ];
}

export const wholeForwardFlops = (gen: ResnetGenerator, h: number, w: number): number => convFlops(gen, h, w).reduce((a, b) => a + b, 0);

function tileGrid(gen: ResnetGenerator, height: number, width: number, tile: number): { ry: TileSpan; cx: TileSpan }[] {
  const margin = tileMargin(gen.opts.blocks);
  return planAxis(height, tile, margin, DEFAULT_RAMP).flatMap((ry) => planAxis(width, tile, margin, DEFAULT_RAMP).map((cx) => ({ ry, cx })));
}

/** 2 × multiply-adds of the convolutions correctByPasses executes: pass k runs convs 0..k of every tile, the last
 * pass all of them. */
export function passesFlops(gen: ResnetGenerator, height: number, width: number, tile: number): number {
  let flops = 0;
  for (const { ry, cx } of tileGrid(gen, height, width, tile)) {
    const perConv = convFlops(gen, ry.size, cx.size);
    for (let k = 0; k < gen.normLayers; k++) flops += perConv.slice(0, k + 1).reduce((a, b) => a + b, 0);
    flops += perConv.reduce((a, b) => a + b, 0);
  }
  return flops;
}

export async function correctByPasses(gen: ResnetGenerator, planes: Float32Array, channels: number, height: number, width: number, tile: number): Promise<Float32Array> {
  const margin = tileMargin(gen.opts.blocks);
  const grid = tileGrid(gen, height, width, tile);
  const layers = gen.normLayers;
  const stats: Tensor[] = [];
  const extract = (ry: TileSpan, cx: TileSpan) => {
    const out = new Float32Array(channels * ry.size * cx.size);
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < ry.size; y++) {
        const from = (c * height + ry.start + y) * width + cx.start;
        out.set(planes.subarray(from, from + cx.size), (c * ry.size + y) * cx.size);
      }
    }
    return Tensor.fromArray(out, [1, channels, ry.size, cx.size]);
  };
  const forward = async (ry: TileSpan, cx: TileSpan, stopAt: number | null) => {
    let layer = 0;
    let result: Tensor;
    try {
      result = scope(() => noGrad(() => gen.forward(extract(ry, cx), (t) => {
        const k = layer++;
        if (k === stopAt) throw new StopAtLayer(t.keep());
        return normalizeWithStats(t, stats[k]);
      })));
    } catch (err) {
      if (!(err instanceof StopAtLayer)) throw err;
      result = err.preNorm;
    }
    const data = await result.data();
    const shape = result.shape;
    result.dispose();
    return { data, shape };
  };
  try {
    for (let k = 0; k < layers; k++) {
      let s1: Float64Array | null = null;
      let s2: Float64Array | null = null;
      let count = 0;
      for (const { ry, cx } of grid) {
        const pre = await forward(ry, cx, k);
        const [, C, h, w] = pre.shape;
        const f = ry.size / h;
        s1 ??= new Float64Array(C);
        s2 ??= new Float64Array(C);
        const [y0, y1, x0, x1] = [(ry.coreStart - ry.start) / f, (ry.coreEnd - ry.start) / f, (cx.coreStart - cx.start) / f, (cx.coreEnd - cx.start) / f];
        for (let c = 0; c < C; c++) {
          for (let y = y0; y < y1; y++) {
            for (let x = x0, i = (c * h + y) * w + x0; x < x1; x++, i++) {
              s1[c] += pre.data[i];
              s2[c] += pre.data[i] * pre.data[i];
            }
          }
        }
        count += (y1 - y0) * (x1 - x0);
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
    const C = gen.opts.outChannels;
    const sum = new Float32Array(C * height * width);
    const weight = new Float32Array(height * width);
    for (const { ry, cx } of grid) {
      const out = (await forward(ry, cx, null)).data;
      const wy = axisWeights(ry, height, margin, DEFAULT_RAMP);
      const wx = axisWeights(cx, width, margin, DEFAULT_RAMP);
      for (let y = 0; y < ry.size; y++) {
        const row = (ry.start + y) * width + cx.start;
        for (let x = 0; x < cx.size; x++) {
          const w = wy[y] * wx[x];
          if (w === 0) continue;
          weight[row + x] += w;
          for (let c = 0; c < C; c++) sum[c * height * width + row + x] += w * out[(c * ry.size + y) * cx.size + x];
        }
      }
    }
    for (let c = 0; c < C; c++) for (let i = 0; i < height * width; i++) sum[c * height * width + i] /= weight[i];
    return sum;
  } finally {
    for (const s of stats) s.dispose();
  }
}
