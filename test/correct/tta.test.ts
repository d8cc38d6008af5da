// Test-time augmentation: the eight symmetries of the square against numpy's flip/rot90 conventions, their inverses,
// and a corrected image that is exactly the mean of the corrections of its transformed copies.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useGpu } from '../helpers/gpu.js';
import { symmetries, transformPlanes, type Symmetry } from '../../src/correct/tta.js';
import { correctImage, runSettings } from '../../src/correct/correct.js';
import { loadGenerator } from '../../src/train/run_folder.js';
import { hash32 } from '../../src/graph/random.js';
import type { Image } from '../../src/data/image.js';
import { runConfig, writeTestRun } from './helpers.js';

// [[1, 2, 3], [4, 5, 6]] under each symmetry, as numpy writes it: np.rot90(a[:, ::-1] if flip else a, turns).
const EXPECTED: [Symmetry, number[][]][] = [
  [{ flip: false, turns: 0 }, [[1, 2, 3], [4, 5, 6]]],
  [{ flip: true, turns: 0 }, [[3, 2, 1], [6, 5, 4]]],
  [{ flip: false, turns: 1 }, [[3, 6], [2, 5], [1, 4]]],
  [{ flip: false, turns: 2 }, [[6, 5, 4], [3, 2, 1]]],
  [{ flip: false, turns: 3 }, [[4, 1], [5, 2], [6, 3]]],
  [{ flip: true, turns: 1 }, [[1, 4], [2, 5], [3, 6]]],
  [{ flip: true, turns: 2 }, [[4, 5, 6], [1, 2, 3]]],
  [{ flip: true, turns: 3 }, [[6, 3], [5, 2], [4, 1]]],
];

describe('symmetries of the square', () => {
  it.each(EXPECTED)('%o moves pixels as numpy does, in every channel', (s, rows) => {
    const one = [1, 2, 3, 4, 5, 6];
    const planes = Float32Array.from([...one, ...one.map((v) => v * 10)]);
    const t = transformPlanes(planes, 2, 2, 3, s);
    expect([t.height, t.width]).toEqual([rows.length, rows[0].length]);
    expect(Array.from(t.data)).toEqual([...rows.flat(), ...rows.flat().map((v) => v * 10)]);
  });

  it('each inverse restores the original plane, for a non-square odd-sized image', () => {
    const planes = Float32Array.from({ length: 3 * 5 * 7 }, (_, i) => hash32(i, 3) / 2 ** 32);
    for (const s of symmetries(8)) {
      const t = transformPlanes(planes, 3, 5, 7, s);
      expect(Array.from(transformPlanes(t.data, 3, 5, 7, s, true).data)).toEqual(Array.from(planes));
    }
  });

  it('1, 2, 4 and 8 views are nested and distinct; other counts are refused', () => {
    const planes = Float32Array.from({ length: 12 }, (_, i) => i);
    const seen = symmetries(8).map((s) => Array.from(transformPlanes(planes, 1, 3, 4, s).data).join());
    expect(new Set(seen).size).toBe(8);
    expect(symmetries(4)).toEqual(symmetries(8).slice(0, 4));
    expect(() => symmetries(3 as never)).toThrow(/1, 2, 4, 8 symmetries, not 3/);
  });
});

describe('correction with test-time augmentation', () => {
  useGpu();
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'comi-tta-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--tta 4 is the mean of the corrections of the four mirrored / half-turned copies (relative error ≤ 5e-7, four float32 ulps)', async () => {
    const run = join(dir, 'run');
    (await writeTestRun(run, runConfig({ channels: 1, ngf: 2, blocks: 1 }))).dispose();
    const { generator, config } = await loadGenerator(run);
    const [w, h] = [44, 28];
    const img: Image = { width: w, height: h, channels: 1, bitDepth: 16, data: Uint16Array.from({ length: w * h }, (_, i) => 3000 + 2000 * Math.sin(i / 7) + (hash32(i, 1) % 500)) };
    // Percentiles see the same pixels in every view, so each view is normalised alike.
    const settings = runSettings(config, { dtype: 'float32', normalization: 'percentile', stats: 'tile', tile: 64 });
    const averaged = (await correctImage(generator, img, { ...settings, tta: 4 })).image.data;
    const plain = (await correctImage(generator, img, settings)).image.data;
    const expected = new Float64Array(w * h);
    for (const s of symmetries(4)) {
      const t = transformPlanes(Float32Array.from(img.data), 1, h, w, s);
      const view: Image = { ...img, width: t.width, height: t.height, data: Uint16Array.from(t.data) };
      const corrected = (await correctImage(generator, view, settings)).image.data as Float32Array;
      const back = transformPlanes(corrected, 1, h, w, s, true).data;
      for (let i = 0; i < back.length; i++) expected[i] += back[i] / 4;
    }
    generator.dispose();
    let worst = 0;
    let fromPlain = 0;
    for (let i = 0; i < expected.length; i++) {
      worst = Math.max(worst, Math.abs(averaged[i] - expected[i]) / Math.abs(expected[i]));
      fromPlain = Math.max(fromPlain, Math.abs(averaged[i] - plain[i]));
    }
    // Outputs are float32 counts near 5000: the two orders of averaging and denormalising round differently.
    expect(worst).toBeLessThanOrEqual(5e-7);
    expect(fromPlain).toBeGreaterThan(1e-4); // the random network is not symmetric, so the views differ
  });
});
