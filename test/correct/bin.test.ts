// Correction of a run trained with --bin: the network sees the normalised image binned, its output comes back
// upsampled to the image's size and mapped back to its units.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { correctImage, runSettings, toOutputImage } from '../../src/correct/correct.js';
import { correctPlanes } from '../../src/correct/tiled.js';
import { binPlanes, unbinPlanes } from '../../src/data/bin.js';
import { normalize } from '../../src/data/normalize.js';
import { loadGenerator } from '../../src/train/run_folder.js';
import { hash32 } from '../../src/graph/random.js';
import type { Image } from '../../src/data/image.js';
import { runConfig, writeTestRun } from './helpers.js';

describe('correction of a binned run', () => {
  useGpu();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'comi-bin-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // 45×30 is not a multiple of 2: the last binned column holds one image column.
  const [w, h] = [45, 30];
  const img: Image = { width: w, height: h, channels: 1, bitDepth: 16, data: Uint16Array.from({ length: w * h }, (_, i) => 3000 + 2000 * Math.sin(i / 7) + (hash32(i, 1) % 500)) };

  it('bins the normalised image, corrects it and upsamples the output back (float32 rounding: ≤ 1e-6 relative)', async () => {
    const run = join(dir, 'run');
    (await writeTestRun(run, runConfig({ channels: 1, ngf: 2, blocks: 1 }, { bin: 2 }))).dispose();
    const { generator, config } = await loadGenerator(run);
    const settings = runSettings(config, { dtype: 'float32', normalization: 'percentile' });
    expect(settings.bin).toBe(2);
    const got = await correctImage(generator, img, settings);
    expect([got.image.width, got.image.height]).toEqual([w, h]);
    const binned = binPlanes(normalize(img, got.normalization), 1, w, h, 2);
    const net = await correctPlanes(generator, binned, 1, 15, 23);
    const expected = toOutputImage(unbinPlanes(net.output, 1, w, h, 2), got.normalization, img, 'float32').data;
    const plain = (await correctImage(generator, img, { ...settings, bin: 1 })).image.data;
    generator.dispose();
    let worst = 0;
    let fromPlain = 0;
    for (let i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(got.image.data[i] - expected[i]) / Math.abs(expected[i]));
      fromPlain = Math.max(fromPlain, Math.abs(got.image.data[i] - plain[i]));
    }
    expect(worst).toBeLessThanOrEqual(1e-6);
    expect(fromPlain).toBeGreaterThan(1); // the unbinned correction is another image
  });

  it('an image too small once binned gets one line that says so', async () => {
    const run = join(dir, 'run4');
    (await writeTestRun(run, runConfig({ channels: 1, ngf: 2, blocks: 1 }, { bin: 4 }))).dispose();
    const { generator, config } = await loadGenerator(run);
    const small: Image = { width: 24, height: 40, channels: 1, bitDepth: 8, data: new Uint8Array(24 * 40).fill(9) };
    await expect(correctImage(generator, small, runSettings(config))).rejects.toThrow(/^image is 24×40 pixels, 6×10 binned 4×4 as the model was trained; the generator needs at least 8×8$/);
    generator.dispose();
  });
});
