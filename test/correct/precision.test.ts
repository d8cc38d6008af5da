// Layer-major correction with the maps between layers stored as f16 (arithmetic in f32) against the same correction
// with f32 maps: same model, image and tiles. f16 keeps 11 significant bits, so every stored value is off by at most
// 2^-11 ≈ 4.9e-4 of itself; each of the 8–24 layers rounds its map once and normalisation rescales it by 1/σ (maps
// are stored less a per-channel shift so that a large mean does not scale that up). Measured on lavapipe (round to
// nearest) over these cases: max |f16 − f32| 1.9e-3 to 4.4e-3 on the [−1, 1] output, PSNR 68–89 dB (peak-to-peak 2).
// Bounds: 1e-2 (1.3 grey levels of 8 bits; 2× margin, as WGSL also lets an adapter round towards zero) and 60 dB. A
// misplaced or misread band is off by O(0.1–1); an f16 path that did not run, by < 1e-5 (the f32 corrector's bound).
import { describe, it, expect, afterAll } from 'vitest';
import { useGpu } from '../helpers/gpu.js';
import { correctPlanes } from '../../src/correct/tiled.js';
import type { ResnetGenerator } from '../../src/model/generator.js';
import { loadGenerator } from '../../src/train/run_folder.js';
import { correctWholeImage, runSettings } from '../../src/correct/core.js';
import { UnetGenerator } from '../../src/model/unet.js';
import { runConfig, testGenerator, testImage } from './helpers.js';
import { skipWithoutF16 } from '../helpers/f16.js';

useGpu();

const MAX_DIFF = 1e-2;
const MIN_PSNR = 60;

const report: string[] = [];
afterAll(() => console.log(`f16 vs f32 maps:\n  ${report.join('\n  ')}`));

function compare(a: Float32Array, b: Float32Array): { max: number; psnr: number } {
  let max = 0;
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    se += d * d;
  }
  return { max, psnr: 10 * Math.log10(4 / (se / a.length)) };
}

describe('f16 maps against f32 maps', () => {
  // [name, generator, channels, height, width, tiles, largest f16/f32 ratio of the maps' peak bytes, image]
  const cases: [string, () => Promise<ResnetGenerator>, number, number, number, number[], number, ((x: Float32Array) => Float32Array)?][] = [
    ['random RGB, transposed-conv upsampling, ngf 4, 1 block', async () => testGenerator({ ngf: 4, blocks: 1 }), 3, 150, 118, [36, 84], 0.85],
    ['random gray, resize upsampling, global residual, ngf 8, 4 blocks', async () => testGenerator({ ngf: 8, blocks: 4, inChannels: 1, outChannels: 1, upsampling: 'resize', globalResidual: true }), 1, 165, 141, [44, 124], 0.6],
    ['random RGB, ngf 16, 9 blocks', async () => testGenerator({ ngf: 16, blocks: 9 }), 3, 128, 96, [64], 0.6],
    ['pretrained:brightfield (ngf 16, 6 blocks)', async () => (await loadGenerator('pretrained:brightfield')).generator, 3, 160, 200, [64], 0.6],
    ['pretrained:fluorescence (ngf 16, 6 blocks)', async () => (await loadGenerator('pretrained:fluorescence')).generator, 1, 160, 200, [64], 0.6],
    // Channels far from zero relative to their spread (a bright field): stored without the shift, max |f16 − f32| 0.20.
    ['random RGB, ngf 16, 9 blocks, a bright low-contrast field', async () => testGenerator({ ngf: 16, blocks: 9 }), 3, 128, 96, [64], 0.6, (x) => x.map((v) => 0.8 + 0.02 * v)],
  ];
  for (const [name, make, C, H, W, tiles, ratio, image] of cases) {
    it(`${name}: ${W}×${H}, tiles ${tiles.join(', ')}`, async (ctx) => {
      skipWithoutF16(ctx);
      const gen = await make();
      const x = (image ?? ((v) => v))(testImage(C, H, W, 21));
      for (const tile of tiles) {
        const a = await correctPlanes(gen, x, C, H, W, { tile });
        const b = await correctPlanes(gen, x, C, H, W, { tile, precision: 'f16' });
        const d = compare(a.output, b.output);
        report.push(`${name}, tile ${tile}: max |f16 − f32| ${d.max.toExponential(2)}, PSNR ${d.psnr.toFixed(1)} dB, peak map bytes ${a.peakBytes} → ${b.peakBytes} (×${(b.peakBytes! / a.peakBytes!).toFixed(3)})`);
        expect(d.max).toBeGreaterThan(1e-5);
        expect(d.max).toBeLessThanOrEqual(MAX_DIFF);
        expect(d.psnr).toBeGreaterThanOrEqual(MIN_PSNR);
        expect(b.peakBytes! / a.peakBytes!).toBeLessThanOrEqual(ratio);
      }
      gen.dispose();
    });
  }

  it('is refused with per-tile statistics', async () => {
    const gen = testGenerator({ ngf: 2, blocks: 0 });
    await expect(correctPlanes(gen, testImage(3, 40, 40, 1), 3, 40, 40, { stats: 'tile', precision: 'f16' })).rejects.toThrow(/^f16 precision is not supported with per-tile statistics/);
    gen.dispose();
  });

  it('is refused for pix2pix (its U-Net corrects the whole image in one pass)', async () => {
    const gen = new UnetGenerator({ ngf: 2, downs: 5, inChannels: 1, outChannels: 1 });
    const img = { width: 32, height: 32, channels: 1, bitDepth: 8, data: new Uint8Array(32 * 32) } as const;
    await expect(correctWholeImage(gen, img, runSettings(runConfig({}), { precision: 'f16' }))).rejects.toThrow(/^f16 precision is not supported for pix2pix models/);
    gen.dispose();
  });
});
