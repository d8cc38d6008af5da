// Tiled correction against the whole image in one forward pass (same model, same reflection padding to the 4-pixel
// grid): layer-major ('image' statistics) equal within 1e-5 for every generator configuration and tile sizes that do
// not divide the image down to the smallest, with at most 1.1× the whole image's FLOPs at the default tile; per-tile
// statistics visibly seamed; the receptive radius the 'tile' layout relies on; the retry with smaller tiles when the
// adapter runs out of memory.
import { describe, it, expect, afterAll } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { Tensor, scope } from '../../src/graph/tensor.js';
import { rt } from '../../src/graph/runtime.js';
import { noGrad } from '../../src/autograd/tape.js';
import { reflectionPad2d } from '../../src/kernels/pad.js';
import { correctPlanes, type TileGenerator } from '../../src/correct/tiled.js';
import { planAxis, receptiveRadius, tileMargin, DEFAULT_RAMP } from '../../src/correct/tiling.js';
import type { ResnetGenerator } from '../../src/model/generator.js';
import { withGpuStrategy, strategyName } from '../helpers/strategy.js';
import type { ConvTiling } from '../../src/kernels/conv_gemm.js';
import { testGenerator, testImage } from './helpers.js';

useGpu();

/** Tiled output must equal the whole-image output within this (absolute, on the generator's [−1, 1] scale). */
const TOL = 1e-5;

/** Reference: one forward pass over the image reflection-padded at the bottom/right to multiples of 4, cropped. */
async function wholeImage(gen: ResnetGenerator, planes: Float32Array, channels: number, height: number, width: number): Promise<Float32Array> {
  const H = Math.ceil(height / 4) * 4;
  const W = Math.ceil(width / 4) * 4;
  const y = scope(() => noGrad(() => gen.forward(reflectionPad2d(Tensor.fromArray(planes, [1, channels, height, width]), [0, W - width, 0, H - height]))));
  const padded = await y.data();
  y.dispose();
  const C = gen.opts.outChannels;
  const out = new Float32Array(C * height * width);
  for (let c = 0; c < C; c++) for (let r = 0; r < height; r++) out.set(padded.subarray((c * H + r) * W, (c * H + r) * W + width), (c * height + r) * width);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest difference between the horizontal (and vertical) gradients of two C×H×W images at the given columns
 * (rows): a seam shows up as a jump in the tiled image's gradient that the whole image does not have. */
function seamScore(tiled: Float32Array, whole: Float32Array, C: number, H: number, W: number, cols: number[], rows: number[]): number {
  let worst = 0;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      for (const x of cols) {
        const i = (c * H + y) * W + x;
        worst = Math.max(worst, Math.abs(tiled[i] - tiled[i - 1] - (whole[i] - whole[i - 1])));
      }
    }
    for (const y of rows) {
      for (let x = 0; x < W; x++) {
        const i = (c * H + y) * W + x;
        worst = Math.max(worst, Math.abs(tiled[i] - tiled[i - W] - (whole[i] - whole[i - W])));
      }
    }
  }
  return worst;
}

/** Every column (row) where a tile starts, ends, or its blend ramp or core changes: where a seam would be. */
function tileEdges(n: number, tile: number, blocks: number): number[] {
  const m = tileMargin(blocks);
  const edges = new Set<number>();
  for (const s of planAxis(Math.ceil(n / 4) * 4, tile, m, DEFAULT_RAMP)) {
    for (const e of [s.start, s.start + m, s.start + m + DEFAULT_RAMP, s.start + s.size - m - DEFAULT_RAMP, s.start + s.size - m, s.coreStart]) {
      if (e > 0 && e < n) edges.add(e);
    }
  }
  return [...edges].sort((a, b) => a - b);
}

const report: string[] = [];
afterAll(() => console.log(`tiled vs whole image:\n  ${report.join('\n  ')}`));

describe('receptive field', () => {
  for (const upsampling of ['transpose', 'resize'] as const) {
    for (const blocks of [0, 1, 2]) {
      it(`${upsampling} upsampling, ${blocks} block(s): an input pixel changes outputs within radius ${receptiveRadius(blocks)} only`, async () => {
        // Normalisations replaced by the identity: with fixed statistics the network is local, which is what tiling uses.
        const gen = testGenerator({ ngf: 2, blocks, inChannels: 1, outChannels: 1, upsampling });
        const S = 112;
        const base = testImage(1, S, S, 3);
        const run = async (x: Float32Array) => {
          const y = scope(() => noGrad(() => gen.forward(Tensor.fromArray(x, [1, 1, S, S]), (t) => t)));
          const d = await y.data();
          y.dispose();
          return d;
        };
        const a = await run(base);
        let reach = 0;
        for (let k = 0; k < 16; k++) { // every position relative to the 4-pixel grid
          const [py, px] = [S / 2 + (k >> 2), S / 2 + (k & 3)];
          const poked = base.slice();
          poked[py * S + px] += 1;
          const b = await run(poked);
          for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (a[y * S + x] !== b[y * S + x]) reach = Math.max(reach, Math.abs(y - py), Math.abs(x - px));
        }
        gen.dispose();
        report.push(`receptive radius, ${upsampling}, ${blocks} block(s): measured ${reach}, formula ${receptiveRadius(blocks)}`);
        expect(reach).toBeLessThanOrEqual(receptiveRadius(blocks));
        // the bound is reached with nearest upsampling; transposed convolutions reach 3 pixels less
        expect(reach).toBe(receptiveRadius(blocks) - (upsampling === 'transpose' ? 3 : 0));
      });
    }
  }
});

describe('tiled equals whole-image correction', () => {
  const configs = [
    // A tile wider than the image (120, 144) makes rows of tiles as wide as it, whose conv outputs are kept as bands.
    { name: 'RGB, transposed-conv upsampling', gen: { ngf: 4, blocks: 1 }, channels: 3, height: 150, width: 118, tiles: [4, 36, 84, 100, 120] },
    { name: 'gray, resize upsampling, global residual, 2 blocks', gen: { ngf: 2, blocks: 2, inChannels: 1, outChannels: 1, upsampling: 'resize', globalResidual: true }, channels: 1, height: 165, width: 141, tiles: [8, 44, 124, 144] },
    { name: 'RGB, no blocks, resize upsampling', gen: { ngf: 3, blocks: 0, upsampling: 'resize' }, channels: 3, height: 42, width: 58, tiles: [4, 12] },
    { name: 'RGB, no blocks, transposed, global residual', gen: { ngf: 3, blocks: 0, globalResidual: true }, channels: 3, height: 42, width: 58, tiles: [4, 20] },
  ] as const;
  for (const cfg of configs) {
    it(`${cfg.name}: ${cfg.width}×${cfg.height}, tiles ${cfg.tiles.join(', ')}`, async () => {
      const gen = testGenerator(cfg.gen);
      const x = testImage(cfg.channels, cfg.height, cfg.width, 21);
      const whole = await wholeImage(gen, x, cfg.channels, cfg.height, cfg.width);
      for (const tile of cfg.tiles) {
        let ticks = 0;
        const r = await correctPlanes(gen, x, cfg.channels, cfg.height, cfg.width, { tile, onProgress: () => ticks++ });
        expect(r.tiles).toBeGreaterThan(1);
        expect(cfg.height % tile).not.toBe(0);
        expect(cfg.width % tile).not.toBe(0);
        expect(ticks).toBe(r.tiles * r.passes);
        const d = maxAbsDiff(r.output, whole);
        report.push(`${cfg.name}, tile ${tile}: ${r.tiles} tiles × ${r.passes} layers, FLOPs ${(r.flops! / r.wholeFlops!).toFixed(3)}× whole, max |tiled − whole| ${d.toExponential(2)}`);
        expect(d).toBeLessThanOrEqual(TOL);
      }
      gen.dispose();
    });
  }

  // What only GPUs pick, forced for every layer of both: the workgroup-memory tiles (the transposed upsampling by
  // phases), Winograd on the 3×3 layers with its GEMMs in workgroup-memory tiles; the 256-wide tree reductions.
  // F(4×4)'s own rounding is larger than the direct sums' (the whole image through it is 7e-6 from the direct result
  // here), and tiled and whole image, whose inputs differ by the statistics' rounding, each carry their own: their
  // difference is held to twice F(4×4)'s distance from the direct result (two independent errors: about √2 of it).
  const strategies: [ConvTiling, 'direct' | 'own error'][] = [
    [{ strategy: 'tiles', tm: 8, tn: 8, splitK: 'auto' }, 'direct'],
    [{ strategy: 'winograd', tm: 8, tn: 8, tiledGemm: true }, 'direct'],
    [{ strategy: 'winograd', tm: 8, tn: 8, m: 4, tiledGemm: true }, 'own error'],
  ];
  for (const [t, bound] of strategies) {
    it(`RGB, transposed-conv upsampling, on the GPUs' strategies (${strategyName(t)}, tree reductions)`, async () => {
      const gen = testGenerator({ ngf: 4, blocks: 1 });
      const [C, H, W] = [3, 150, 118];
      const x = testImage(C, H, W, 21);
      const direct = await wholeImage(gen, x, C, H, W);
      await withGpuStrategy(t, async () => {
        const whole = await wholeImage(gen, x, C, H, W);
        const ownError = maxAbsDiff(whole, direct);
        const limit = bound === 'direct' ? TOL : 2 * ownError;
        for (const tile of [36, 100]) {
          const r = await correctPlanes(gen, x, C, H, W, { tile });
          expect(r.tiles).toBeGreaterThan(1);
          const d = maxAbsDiff(r.output, whole);
          report.push(`${strategyName(t)}, tile ${tile}: max |tiled − whole| ${d.toExponential(2)} (whole image ${ownError.toExponential(2)} from the direct sums)`);
          expect(d).toBeLessThanOrEqual(limit);
        }
      });
      gen.dispose();
    });
  }

  it('by default tiles rows as wide as the image, within the square tile\'s area', async () => {
    const gen = testGenerator({ ngf: 4, blocks: 1 });
    const [C, H, W] = [3, 150, 118];
    const x = testImage(C, H, W, 21);
    const whole = await wholeImage(gen, x, C, H, W);
    // A 1-byte budget gives the smallest square tile (2 × margin + ramp + 4 = 60 for one block): rows of 60² / 120
    // = 30 pixels, 28 on the grid of 4, of the padded 152 × 120 image.
    const r = await correctPlanes(gen, x, C, H, W, { memory: 1 });
    expect([r.tile, r.tileWidth, r.tiles]).toEqual([28, 120, 6]);
    expect(maxAbsDiff(r.output, whole)).toBeLessThanOrEqual(TOL);
    expect(r.flops! / r.wholeFlops!).toBeLessThanOrEqual(1.1);
    gen.dispose();
  });

  it('executes at most 1.1× the FLOPs of one whole-image forward with 64-pixel tiles', async () => {
    const gen = testGenerator({ ngf: 4, blocks: 1 });
    const [C, H, W] = [3, 150, 118];
    const x = testImage(C, H, W, 21);
    // The corrector's own count of what it ran and of one whole-image forward, each checked against the runtime's
    // count of the convolutions dispatched (itself checked against PyTorch in test/train/train_step.test.ts).
    let before = rt().convFlops;
    const r = await correctPlanes(gen, x, C, H, W, { tile: 64 });
    expect(r.flops).toBe(rt().convFlops - before);
    before = rt().convFlops;
    await wholeImage(gen, x, C, H, W);
    expect(r.wholeFlops).toBe(rt().convFlops - before);
    expect(r.tiles).toBe(6);
    expect(r.flops! / r.wholeFlops!).toBeLessThanOrEqual(1.1);
    gen.dispose();
  });

  it('the seam test catches per-tile statistics: one pass with each tile normalised on its own differs visibly', async () => {
    const gen = testGenerator({ ngf: 4, blocks: 1 });
    const [C, H, W] = [3, 150, 118];
    const x = testImage(C, H, W, 21);
    const whole = await wholeImage(gen, x, C, H, W);
    const r = await correctPlanes(gen, x, C, H, W, { tile: 84, stats: 'tile' });
    expect(r.passes).toBe(1);
    const seam = seamScore(r.output, whole, C, H, W, tileEdges(W, 84, 1), tileEdges(H, 84, 1));
    report.push(`per-tile statistics, tile 84: max |tiled − whole| ${maxAbsDiff(r.output, whole).toExponential(2)}, seam score ${seam.toExponential(2)}`);
    expect(seam).toBeGreaterThan(1e-2);
    gen.dispose();
  });
});

describe("maps beyond their GPU budget wait in host memory", () => {
  const cases = [
    { name: 'gray, resize upsampling, global residual, 2 blocks', gen: { ngf: 2, blocks: 2, inChannels: 1, outChannels: 1, upsampling: 'resize', globalResidual: true }, channels: 1, height: 165, width: 141, tile: 44 },
    { name: 'RGB, transposed-conv upsampling', gen: { ngf: 4, blocks: 1 }, channels: 3, height: 150, width: 118, tile: 36 },
  ] as const;
  for (const cfg of cases) {
    it(`${cfg.name}: the same output bit for bit, f32 and f16 maps, with every band moved out but a tile's`, async () => {
      const gen = testGenerator(cfg.gen);
      const x = testImage(cfg.channels, cfg.height, cfg.width, 21);
      for (const precision of rt().gpu.features.has('shader-f16') ? (['f32', 'f16'] as const) : (['f32'] as const)) {
        const free = await correctPlanes(gen, x, cfg.channels, cfg.height, cfg.width, { tile: cfg.tile, precision });
        const tight = await correctPlanes(gen, x, cfg.channels, cfg.height, cfg.width, { tile: cfg.tile, precision, mapMemory: 1 });
        const half = await correctPlanes(gen, x, cfg.channels, cfg.height, cfg.width, { tile: cfg.tile, precision, mapMemory: free.peakBytes! / 2 });
        expect(free.spills).toBe(0);
        expect(tight.spills).toBeGreaterThan(0);
        expect(half.spills).toBeGreaterThan(0);
        expect(half.spills).toBeLessThan(tight.spills!);
        expect(maxAbsDiff(tight.output, free.output), precision).toBe(0);
        expect(maxAbsDiff(half.output, free.output), precision).toBe(0);
        // The budget holds but for the bands one tile needs at once: what a 1-byte budget keeps (everything else out).
        expect(half.peakBytes!).toBeLessThanOrEqual(free.peakBytes! / 2 + tight.peakBytes!);
        expect(tight.peakBytes!).toBeLessThanOrEqual(half.peakBytes!);
        expect(half.peakBytes!).toBeLessThan(free.peakBytes!);
        report.push(`${cfg.name}, ${precision}: peak map bytes ${free.peakBytes} → ${half.peakBytes} (budget half, ${half.spills} moves) → ${tight.peakBytes} (budget 1 byte, ${tight.spills} moves)`);
      }
      await expect(correctPlanes(gen, x, cfg.channels, cfg.height, cfg.width, { tile: cfg.tile, mapMemory: 0 })).rejects.toThrow(/positive number of bytes, got 0/);
      gen.dispose();
    });
  }
});

describe('running out of memory', () => {
  it('halves the tile and starts the image again until it fits, with the same result', async () => {
    const gen = testGenerator({ ngf: 4, blocks: 1 });
    const [C, H, W] = [3, 150, 118];
    const x = testImage(C, H, W, 21);
    // Tiles above 100 pixels ask the engine for a tensor beyond the adapter's binding limit, as a large tile would.
    const tooBig = Math.floor(rt().gpu.limits.maxStorageBufferBindingSize / 4) + 1;
    const limited: TileGenerator = {
      opts: gen.opts,
      layers: gen.layers,
      normEps: gen.normEps,
      forward(t) {
        if (t.shape[2] > 100 || t.shape[3] > 100) Tensor.empty([tooBig]);
        return gen.forward(t);
      },
    };
    const r = await correctPlanes(limited, x, C, H, W, { tile: 400, stats: 'tile' });
    expect(r.retries).toBe(1);
    expect(r.tile).toBe(76); // half the image's longer padded side (152): a tile larger than the image is no use
    expect(maxAbsDiff(r.output, (await correctPlanes(gen, x, C, H, W, { tile: 76, stats: 'tile' })).output)).toBe(0);
    await expect(correctPlanes({ ...limited, forward: () => Tensor.empty([tooBig]) }, x, C, H, W, { tile: 400, stats: 'tile' }))
      .rejects.toThrow(/binding limit.*even with the smallest tile, 60 pixels/);
    gen.dispose();
  });
});
